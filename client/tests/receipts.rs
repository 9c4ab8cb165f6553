//! Receipts verified by the one rule set every client uses
//! (`receipt::verify_receipt`): a valid receipt with each check it ran, and
//! each broken part rejected with its own error, evidence inside. The log is
//! built in memory from fixed seeds and timestamps, so every receipt here is
//! the same bytes on every run.

use gazette_client::Hash;
use gazette_client::checkpoint::{Checkpoint, CheckpointError};
use gazette_client::cosignature::Cosignature;
use gazette_client::merkle::{self, prove_inclusion, stored_hashes_for_leaf};
use gazette_client::note::{KeyType, Signer};
use gazette_client::policy::{Policy, PolicyError};
use gazette_client::receipt::{
    AgencyCheck, AgencySignature, DocumentCheck, MalformedReceipt, ReceiptError, VerifiedReceipt,
    verify_receipt,
};
use gazette_client::record::{Record, RecordError, SignedRecord};
use gazette_client::tlog_proof::TlogProof;

const ORIGIN: &str = "receipts.test/log";
const ISSUER: &str = "land.test";

fn signer(name: &str, key_type: KeyType, seed: u8) -> Signer {
    Signer::from_seed(name, key_type, [seed; 32]).unwrap()
}

fn agency() -> Signer {
    signer(ISSUER, KeyType::Ed25519, 4)
}

fn digest(i: u64) -> [u8; 32] {
    [i as u8 + 1; 32]
}

/// A log of 20 records with two witnesses, both required by the policy.
struct TestLog {
    log: Signer,
    witnesses: [Signer; 2],
    records: Vec<SignedRecord>,
    stored: Vec<Hash>,
}

impl TestLog {
    fn new() -> TestLog {
        let mut log = TestLog {
            log: signer(ORIGIN, KeyType::Ed25519, 1),
            witnesses: [
                signer("w1.test", KeyType::Cosignature, 2),
                signer("w2.test", KeyType::Cosignature, 3),
            ],
            records: Vec::new(),
            stored: Vec::new(),
        };
        for i in 0..20 {
            let record = Record::new(
                ISSUER,
                "property-registration",
                &format!("deed-{i}"),
                digest(i),
                "2026-11-24T09:00:00Z",
            );
            let signed = record.sign(&agency()).unwrap();
            let new = stored_hashes_for_leaf(i, signed.leaf_hash(), &log.stored).unwrap();
            log.stored.extend(new);
            log.records.push(signed);
        }
        log
    }

    fn size(&self) -> u64 {
        self.records.len() as u64
    }

    /// The checkpoint of the whole tree signed by `log_key` and cosigned by
    /// the first `cosigners` witnesses.
    fn checkpoint_by(&self, log_key: &Signer, cosigners: usize) -> String {
        let checkpoint = Checkpoint {
            origin: ORIGIN.to_owned(),
            size: self.size(),
            root: merkle::tree_hash(self.size(), &self.stored).unwrap(),
            extensions: Vec::new(),
        };
        let mut note = checkpoint.sign(log_key).unwrap();
        for witness in &self.witnesses[..cosigners] {
            let cosignature = Cosignature::sign(witness, &checkpoint.to_text(), 1_764_000_000);
            note.push_str(&cosignature.unwrap().to_line());
        }
        note
    }

    fn policy(&self) -> Policy {
        let [w1, w2] = &self.witnesses;
        let text = format!(
            "log {}\nwitness w1 {}\nwitness w2 {}\ngroup both 2 w1 w2\nquorum both\n",
            self.log.verifier(),
            w1.verifier(),
            w2.verifier()
        );
        Policy::parse(text.as_bytes()).unwrap()
    }

    /// The valid receipt of entry `index`, as a value to break.
    fn receipt(&self, index: u64) -> TlogProof {
        TlogProof {
            extra: Some(self.records[index as usize].bytes.clone()),
            index,
            proof: prove_inclusion(index, self.size(), &self.stored).unwrap(),
            checkpoint: self.checkpoint_by(&self.log, 2),
        }
    }

    fn verify(
        &self,
        receipt: &TlogProof,
        agency: AgencyCheck<'_>,
        document: Option<&[u8; 32]>,
    ) -> Result<VerifiedReceipt, ReceiptError> {
        verify_receipt(
            receipt.to_text().as_bytes(),
            &self.policy(),
            agency,
            document,
        )
    }
}

#[test]
fn valid_receipt_verifies_and_names_every_check_that_ran() {
    let log = TestLog::new();
    let keys = [agency().verifier()];
    let verified = log
        .verify(&log.receipt(7), AgencyCheck::Keys(&keys), Some(&digest(7)))
        .unwrap();
    assert_eq!(verified.index, 7);
    assert_eq!(verified.record, log.records[7]);
    assert_eq!(verified.record.record.id, "deed-7");
    assert_eq!(verified.checkpoint.checkpoint.origin, ORIGIN);
    assert_eq!(verified.checkpoint.checkpoint.size, 20);
    let witnesses: Vec<&str> = verified.checkpoint.witness_names();
    assert_eq!(witnesses, ["w1", "w2"]);
    assert_eq!(verified.proof, log.receipt(7).proof);
    assert_eq!(
        verified.agency,
        AgencySignature::Verified {
            key: Box::new(agency().verifier())
        }
    );
    assert_eq!(verified.document, DocumentCheck::Matches);
}

#[test]
fn without_agency_key_or_document_the_receipt_says_they_were_not_checked() {
    let log = TestLog::new();
    let verified = log
        .verify(&log.receipt(0), AgencyCheck::Skip, None)
        .unwrap();
    assert_eq!(verified.agency, AgencySignature::NotChecked);
    assert_eq!(verified.document, DocumentCheck::NotChecked);
}

#[test]
fn checkpoint_signed_by_another_log_key_is_untrusted() {
    let log = TestLog::new();
    let mut receipt = log.receipt(3);
    // Same origin, another key: the policy's log key has no signature.
    receipt.checkpoint = log.checkpoint_by(&signer(ORIGIN, KeyType::Ed25519, 99), 2);
    let e = log.verify(&receipt, AgencyCheck::Skip, None).unwrap_err();
    assert!(
        matches!(
            e,
            ReceiptError::Untrusted(PolicyError::Checkpoint(CheckpointError::Note(_)))
        ),
        "{e:?}"
    );
}

#[test]
fn checkpoint_one_witness_short_of_the_quorum_is_untrusted_naming_who_cosigned() {
    let log = TestLog::new();
    let mut receipt = log.receipt(3);
    receipt.checkpoint = log.checkpoint_by(&log.log, 1);
    let e = log.verify(&receipt, AgencyCheck::Skip, None).unwrap_err();
    let ReceiptError::Untrusted(PolicyError::QuorumNotMet {
        origin,
        size,
        cosigned_by,
    }) = e
    else {
        panic!("{e:?}");
    };
    assert_eq!((origin.as_str(), size), (ORIGIN, 20));
    assert_eq!(cosigned_by, ["w1"]);
}

#[test]
fn another_entrys_proof_is_not_included_naming_index_and_size() {
    let log = TestLog::new();
    let mut receipt = log.receipt(5);
    receipt.proof = log.receipt(6).proof;
    let keys = [agency().verifier()];
    let e = log
        .verify(&receipt, AgencyCheck::Keys(&keys), None)
        .unwrap_err();
    assert!(
        matches!(
            e,
            ReceiptError::NotIncluded {
                index: 5,
                size: 20,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn record_with_a_damaged_signature_is_a_bad_signature() {
    let log = TestLog::new();
    let mut receipt = log.receipt(2);
    let mut signed = log.records[2].clone();
    signed.signature.signature[10] ^= 1;
    let mut bytes = signed.text_bytes().to_vec();
    bytes.push(b'\n');
    bytes.extend_from_slice(signed.signature.to_line().as_bytes());
    receipt.extra = Some(bytes);
    let keys = [agency().verifier()];
    let e = log
        .verify(&receipt, AgencyCheck::Keys(&keys), None)
        .unwrap_err();
    assert!(
        matches!(&e, ReceiptError::BadSignature(RecordError::BadSignature { issuer }) if issuer == ISSUER),
        "{e:?}"
    );
}

#[test]
fn record_checked_with_another_agency_key_is_a_bad_signature() {
    let log = TestLog::new();
    let other = [signer(ISSUER, KeyType::Ed25519, 5).verifier()];
    let e = log
        .verify(&log.receipt(2), AgencyCheck::Keys(&other), None)
        .unwrap_err();
    assert!(
        matches!(&e, ReceiptError::BadSignature(RecordError::UnknownIssuer { issuer, .. }) if issuer == ISSUER),
        "{e:?}"
    );
    // No registered agency at all accepts no record.
    let e = log
        .verify(&log.receipt(2), AgencyCheck::Keys(&[]), None)
        .unwrap_err();
    assert!(matches!(e, ReceiptError::BadSignature(_)), "{e:?}");
}

#[test]
fn forged_record_is_a_bad_signature_when_checked_and_not_included_otherwise() {
    let log = TestLog::new();
    let forged = Record::new(ISSUER, "e-invoice", "x", [1; 32], "2026-11-24T09:00:00Z")
        .sign(&signer(ISSUER, KeyType::Ed25519, 9))
        .unwrap();
    let mut receipt = log.receipt(5);
    receipt.extra = Some(forged.bytes);
    let keys = [agency().verifier()];
    // The signature comes first: it names the fault, the proof only its effect.
    let e = log
        .verify(&receipt, AgencyCheck::Keys(&keys), None)
        .unwrap_err();
    assert!(matches!(e, ReceiptError::BadSignature(_)), "{e:?}");
    let e = log.verify(&receipt, AgencyCheck::Skip, None).unwrap_err();
    assert!(matches!(e, ReceiptError::NotIncluded { .. }), "{e:?}");
}

#[test]
fn another_documents_digest_is_a_wrong_document_with_both_digests() {
    let log = TestLog::new();
    let e = log
        .verify(&log.receipt(4), AgencyCheck::Skip, Some(&[0xee; 32]))
        .unwrap_err();
    let ReceiptError::WrongDocument { document, record } = e else {
        panic!("{e:?}");
    };
    assert_eq!((document, record), ([0xee; 32], digest(4)));
    assert_eq!(
        ReceiptError::WrongDocument { document, record }.to_string(),
        format!(
            "the document has digest sha256:{}, the record is of sha256:{}",
            "ee".repeat(32),
            "05".repeat(32)
        )
    );
}

#[test]
fn malformed_receipts_and_records_are_malformed_before_any_other_check() {
    let log = TestLog::new();
    let policy = log.policy();
    let keys = [agency().verifier()];
    let e = verify_receipt(b"not a receipt", &policy, AgencyCheck::Keys(&keys), None).unwrap_err();
    assert!(
        matches!(e, ReceiptError::Malformed(MalformedReceipt::Proof(_))),
        "{e:?}"
    );
    let mut receipt = log.receipt(1);
    receipt.extra = None;
    let e = log
        .verify(&receipt, AgencyCheck::Keys(&keys), None)
        .unwrap_err();
    assert!(
        matches!(e, ReceiptError::Malformed(MalformedReceipt::NoRecord)),
        "{e:?}"
    );
    // A record that does not parse, in a receipt whose checkpoint would
    // not be trusted either: the format is checked first.
    receipt.extra = Some(b"gazette.record/v1\n".to_vec());
    receipt.checkpoint = log.checkpoint_by(&log.log, 0);
    let e = log
        .verify(&receipt, AgencyCheck::Keys(&keys), None)
        .unwrap_err();
    assert!(
        matches!(e, ReceiptError::Malformed(MalformedReceipt::Record(_))),
        "{e:?}"
    );
}
