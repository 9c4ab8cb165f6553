//! What a record's status is (`docs/INDEX.md`, section 7), from its name's
//! list: revoked by a revocation of its issuer wherever it sits, never by
//! another issuer's, never by a forged entry; two documents under one name
//! are the log's fault. Under the agencies' proven histories, a record
//! past its key's cut-off or under a key the verifier does not pin is
//! skipped, not counted and not a forgery.

use std::collections::BTreeMap;

use gazette_client::index::lookup::ProvenList;
use gazette_client::index::status::{
    Status, StatusError, proven_status, proven_status_under, signed_under, status,
};
use gazette_client::note::{KeyType, Signer, Verifier};
use gazette_client::record::{Record, SignedRecord};
use gazette_client::registry::{
    Action, AgencyHistory, RegistryEntry, SignedRegistryEntry, TrustedKeys,
};

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

// ------------------------------------------- under the agencies' histories

fn log_key() -> Signer {
    Signer::from_seed("gazette.example.gov/log", KeyType::Ed25519, [0x4c; 32]).unwrap()
}

/// The land registry's second key.
fn land2() -> Signer {
    Signer::from_seed("land-registry.example.gov", KeyType::Ed25519, [3; 32]).unwrap()
}

fn registry_entry(action: Action, key: &Signer, signers: &[&Signer]) -> SignedRegistryEntry {
    RegistryEntry {
        log: log_key().name().to_owned(),
        agency: key.name().to_owned(),
        action,
        key: key.verifier(),
        from: None,
        time: "2026-09-01T00:00:00Z".to_owned(),
    }
    .sign(signers)
    .unwrap()
}

/// The land registry's proven history: its first key from 0, the second
/// from 1 (co-signed), the first retired at 10.
fn histories() -> BTreeMap<String, AgencyHistory> {
    let (log, land, land2) = (log_key(), land(), land2());
    let mut h = AgencyHistory::default();
    for (index, e) in [
        (0, registry_entry(Action::Register, &land, &[&log])),
        (1, registry_entry(Action::Register, &land2, &[&log, &land])),
        (10, registry_entry(Action::Retire, &land, &[&log, &land])),
    ] {
        h.apply(&log.verifier(), index, &e).unwrap();
    }
    BTreeMap::from([(land.name().to_owned(), h)])
}

fn under<'a>(
    pinned: &'a [Verifier],
    histories: &'a BTreeMap<String, AgencyHistory>,
) -> TrustedKeys<'a> {
    TrustedKeys {
        pinned,
        histories: Some(histories),
    }
}

fn indexes(list: &ProvenList, trusted: &TrustedKeys) -> Result<Vec<u64>, StatusError> {
    signed_under(list, trusted).map(|counted| counted.iter().map(|(i, _)| *i).collect())
}

/// A revocation the agency's history vouches for, under a key the verifier
/// does not pin, counts for nothing here and is no forgery; pinned (or
/// with no pins), it revokes; with pins alone, it is a forgery.
#[test]
fn a_revocation_under_a_registered_but_unpinned_key_is_skipped_not_forged() {
    let histories = histories();
    let deed = deed().sign(&land()).unwrap();
    let by_land2 = list(vec![(3, deed), (5, revocation(&land2(), "R1"))]);
    let under = |pinned| under(pinned, &histories);
    let pin_land = [land().verifier()];
    let pin_both = [land().verifier(), land2().verifier()];
    assert_eq!(indexes(&by_land2, &under(&pin_land)), Ok(vec![3]));
    assert_eq!(
        proven_status_under(&by_land2, 3, &under(&pin_land)),
        Ok(Status::Valid)
    );
    for pinned in [&[][..], &pin_both[..]] {
        assert_eq!(indexes(&by_land2, &under(pinned)), Ok(vec![3, 5]));
        assert_eq!(
            proven_status_under(&by_land2, 3, &under(pinned)),
            Ok(Status::Revoked { by: 5 })
        );
    }
    // Pins alone know nothing of the history: an unpinned key forges.
    assert!(matches!(
        proven_status(&by_land2, 3, &pin_land),
        Err(StatusError::Forged { index: 5, .. })
    ));
}

/// With pins and histories, what is not pinned and what is past its key's
/// cut-off are skipped alike, but a forgery is still reported.
#[test]
fn unpinned_and_cut_off_revocations_are_skipped_and_a_forged_one_still_reported() {
    let histories = histories();
    let pinned = [land2().verifier()];
    let trusted = under(&pinned, &histories);
    let deed = deed().sign(&land2()).unwrap();
    // Revocations under the first key (not pinned): inside its window,
    // and past its retirement.
    let skipped = list(vec![
        (2, revocation(&land(), "R0")),
        (3, deed.clone()),
        (12, revocation(&land(), "R2")),
    ]);
    assert_eq!(indexes(&skipped, &trusted), Ok(vec![3]));
    assert_eq!(
        proven_status_under(&skipped, 3, &trusted),
        Ok(Status::Valid)
    );
    // One under the second key (pinned) before its window opened.
    let early = list(vec![(0, revocation(&land2(), "R0")), (3, deed.clone())]);
    assert!(matches!(
        proven_status_under(&early, 3, &trusted),
        Err(StatusError::Forged { index: 0, .. })
    ));
    let forger = Signer::from_seed("land-registry.example.gov", KeyType::Ed25519, [9; 32]).unwrap();
    let forged = list(vec![
        (3, deed),
        (7, revocation(&forger, "R1")),
        (8, revocation(&land2(), "R2")),
    ]);
    for pinned in [&[][..], &pinned[..]] {
        assert!(matches!(
            proven_status_under(&forged, 3, &under(pinned, &histories)),
            Err(StatusError::Forged { index: 7, .. })
        ));
    }
}
