//! What a record's status is (`docs/INDEX.md`, section 7), from its name's
//! list: revoked by a revocation of its issuer wherever it sits, never by
//! another issuer's, never by a forged entry; two documents under one name
//! are the log's fault.

use gazette_client::index::lookup::ProvenList;
use gazette_client::index::status::{Status, StatusError, proven_status, status};
use gazette_client::note::{KeyType, Signer};
use gazette_client::record::{Record, SignedRecord};

fn land() -> Signer {
    Signer::from_seed("land-registry.example.gov", KeyType::Ed25519, [1; 32]).unwrap()
}

fn deed() -> Record {
    Record::new(
        land().name(),
        "property-registration",
        "PR-1",
        [0xaa; 32],
        "2026-10-01T10:00:00Z",
    )
}

fn revocation(issuer: &Signer, id: &str) -> SignedRecord {
    Record::revocation(
        issuer.name(),
        id,
        [0xaa; 32],
        "2026-10-15T14:05:00Z",
        "property-registration",
        "PR-1",
    )
    .sign(issuer)
    .unwrap()
}

fn list(records: Vec<(u64, SignedRecord)>) -> ProvenList {
    ProvenList {
        size: 100,
        records,
        registry: Vec::new(),
    }
}

#[test]
fn a_revocation_before_or_after_the_record_revokes_it_and_the_lowest_index_names_it() {
    let signed = deed().sign(&land()).unwrap();
    let keys = [land().verifier()];
    let after = list(vec![(3, signed.clone()), (7, revocation(&land(), "R1"))]);
    assert_eq!(
        proven_status(&after, 3, &keys),
        Ok(Status::Revoked { by: 7 })
    );
    let before = list(vec![
        (1, revocation(&land(), "R0")),
        (3, signed.clone()),
        (9, revocation(&land(), "R2")),
    ]);
    assert_eq!(
        proven_status(&before, 3, &keys),
        Ok(Status::Revoked { by: 1 })
    );
    let alone = list(vec![(3, signed)]);
    assert_eq!(proven_status(&alone, 3, &keys), Ok(Status::Valid));
    assert_eq!(
        proven_status(&alone, 4, &keys),
        Err(StatusError::NotOnList { index: 4 })
    );
}

#[test]
fn another_issuers_revocation_revokes_nothing() {
    let city = Signer::from_seed("city.example.gov", KeyType::Ed25519, [2; 32]).unwrap();
    let r = deed();
    let theirs = revocation(&city, "R9").record;
    assert_eq!(status(&r, 3, [(3, &r), (5, &theirs)]), Ok(Status::Valid));
}

#[test]
fn a_forged_revocation_is_reported_not_counted() {
    // Signed with a key of the issuer's name that the verifier does not trust.
    let forger = Signer::from_seed("land-registry.example.gov", KeyType::Ed25519, [9; 32]).unwrap();
    let signed = deed().sign(&land()).unwrap();
    let forged = list(vec![(3, signed), (5, revocation(&forger, "R1"))]);
    match proven_status(&forged, 3, &[land().verifier()]) {
        Err(StatusError::Forged { index: 5, .. }) => {}
        other => panic!("a forged revocation was not reported: {other:?}"),
    }
}

#[test]
fn two_documents_under_one_name_are_the_logs_fault_and_a_revocation_has_no_status() {
    let r = deed();
    let mut other = deed();
    other.digest = [0xbb; 32];
    assert_eq!(
        status(&r, 8, [(2, &other), (8, &r)]),
        Err(StatusError::Conflict {
            first: 2,
            second: 8
        })
    );
    let rev = revocation(&land(), "R1").record;
    assert_eq!(status(&rev, 1, [(1, &rev)]), Err(StatusError::IsRevocation));
}
