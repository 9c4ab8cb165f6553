//! Verifying a Gazette receipt offline: the one rule set every client uses
//! (the `gazette verify` command, the page through `gazette-wasm`), so the
//! same receipt gets the same verdict, for the same reason, everywhere.
//!
//! A receipt is a c2sp.org/tlog-proof@v1 ([`crate::tlog_proof`]) whose
//! `extra` is the signed record ([`crate::record`]). [`verify_receipt`]
//! checks, in this order, stopping at the first failure:
//!
//! 1. the receipt and the record it carries parse strictly
//!    ([`ReceiptError::Malformed`]);
//! 2. with [`AgencyCheck::Keys`], the record's ZIP-215 signature verifies
//!    with the registered key of its issuer ([`ReceiptError::BadSignature`]).
//!    This comes before the proof: a forged record also fails the proof, and
//!    "not signed by the agency" is the precise reason;
//! 3. the checkpoint satisfies the policy: the log's signature and the
//!    witnesses' quorum ([`ReceiptError::Untrusted`]);
//! 4. the inclusion path binds the record's leaf hash, at the receipt's
//!    index, to the checkpoint's root ([`ReceiptError::NotIncluded`]);
//! 5. when a document's digest is given, it is the record's
//!    ([`ReceiptError::WrongDocument`]).
//!
//! Nothing here does I/O: the caller reads the receipt, hashes the
//! document and says which keys it trusts.
//!
//! ```
//! use gazette_client::receipt::{AgencyCheck, AgencySignature, ReceiptError, verify_receipt};
//! # use gazette_client::{checkpoint::Checkpoint, merkle, note::{KeyType, Signer}};
//! # use gazette_client::{policy::Policy, record::Record, tlog_proof::TlogProof};
//! # let log = Signer::from_seed("example.com/log", KeyType::Ed25519, [1; 32]).unwrap();
//! # let agency = Signer::from_seed("agency.example", KeyType::Ed25519, [2; 32]).unwrap();
//! # let signed = Record::new("agency.example", "deed", "D-1", [9; 32], "2026-11-24T09:00:00Z")
//! #     .sign(&agency).unwrap();
//! # let root = signed.leaf_hash();
//! # let checkpoint = Checkpoint { origin: "example.com/log".into(), size: 1, root, extensions: vec![] };
//! # let receipt = TlogProof { extra: Some(signed.bytes.clone()), index: 0, proof: vec![],
//! #     checkpoint: checkpoint.sign(&log).unwrap() }.to_text();
//! let policy = Policy::parse(format!("log {}\nquorum none\n", log.verifier()).as_bytes()).unwrap();
//! let agencies = [agency.verifier()];
//! let verified = verify_receipt(receipt.as_bytes(), &policy, AgencyCheck::Keys(&agencies), Some(&[9; 32])).unwrap();
//! assert_eq!(verified.record.record.id, "D-1");
//! assert_eq!(verified.agency, AgencySignature::Verified { key: Box::new(agency.verifier()) });
//! let wrong = verify_receipt(receipt.as_bytes(), &policy, AgencyCheck::Skip, Some(&[8; 32]));
//! assert!(matches!(wrong, Err(ReceiptError::WrongDocument { .. })));
//! ```

use crate::checkpoint::VerifiedCheckpoint;
use crate::encoding::hex_encode;
use crate::merkle::{Hash, MerkleError};
use crate::note::Verifier;
use crate::policy::{Policy, PolicyError};
use crate::record::{RecordError, SignedRecord};
use crate::tlog_proof::{TlogProof, TlogProofError};

/// Whether, and with which keys, the record's agency signature is checked.
#[derive(Clone, Copy, Debug)]
pub enum AgencyCheck<'a> {
    /// Check it with these registered agency keys: a record whose issuer
    /// key is not among them fails ([`ReceiptError::BadSignature`]), so an
    /// empty list accepts no record.
    Keys(&'a [Verifier]),
    /// Do not check it: only the log vouches for the issuer.
    Skip,
}

/// What was established about the record's agency signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgencySignature {
    /// It verified with `key`, the registered key of the record's issuer.
    Verified {
        /// The agency key that verified it (boxed: a verifier key holds
        /// its decompressed point, far larger than the other variant).
        key: Box<Verifier>,
    },
    /// It was not checked ([`AgencyCheck::Skip`]).
    NotChecked,
}

/// What was established about the document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentCheck {
    /// The given document's digest is the record's.
    Matches,
    /// No document was given.
    NotChecked,
}

/// A receipt that verified, with what it proves and which checks ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedReceipt {
    /// The signed record the receipt carries (the log entry).
    pub record: SignedRecord,
    /// The record's index in the log.
    pub index: u64,
    /// The inclusion path, leaf's sibling first.
    pub proof: Vec<Hash>,
    /// The checkpoint, verified under the policy, that includes the record.
    pub checkpoint: VerifiedCheckpoint,
    /// Whether the agency's signature was checked, and with which key.
    pub agency: AgencySignature,
    /// Whether the document was checked.
    pub document: DocumentCheck,
}

/// Why a receipt was rejected. Each variant is one verdict, with its own
/// exit code in the CLI and its own failure `code` in the page.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    /// The receipt, or the record it carries, breaks its format.
    #[error(transparent)]
    Malformed(#[from] MalformedReceipt),
    /// The checkpoint does not satisfy the policy: the log's signature or
    /// the witnesses' quorum is missing.
    #[error("the checkpoint is not trusted: {0}")]
    Untrusted(#[source] PolicyError),
    /// The inclusion path does not bind the record to the checkpoint.
    #[error("receipt inclusion proof for index {index} in size {size}: {source}")]
    NotIncluded {
        /// The receipt's leaf index.
        index: u64,
        /// The checkpoint's size.
        size: u64,
        /// What failed.
        #[source]
        source: MerkleError,
    },
    /// The record is not signed by a registered key of its issuer
    /// ([`RecordError::UnknownIssuer`] or [`RecordError::BadSignature`]).
    #[error("the record's signature: {0}")]
    BadSignature(#[source] RecordError),
    /// The document's digest is not the record's.
    #[error(
        "the document has digest sha256:{}, the record is of sha256:{}",
        hex_encode(.document),
        hex_encode(.record)
    )]
    WrongDocument {
        /// SHA-256 of the document given.
        document: [u8; 32],
        /// The digest the record names.
        record: [u8; 32],
    },
}

/// How a receipt breaks its format.
#[derive(Debug, thiserror::Error)]
pub enum MalformedReceipt {
    /// The file is not a c2sp.org/tlog-proof@v1.
    #[error(transparent)]
    Proof(TlogProofError),
    /// The receipt has no `extra` line, so no record.
    #[error("the receipt carries no record (no extra line)")]
    NoRecord,
    /// The `extra` is not a well-formed signed record.
    #[error("the receipt's record: {0}")]
    Record(#[source] RecordError),
}

/// Verifies a receipt offline under `policy`: see the [module](self) for
/// the checks and their order. `document` is the SHA-256 of the document
/// the record should be of, when there is one to check.
pub fn verify_receipt(
    bytes: &[u8],
    policy: &Policy,
    agency: AgencyCheck<'_>,
    document: Option<&[u8; 32]>,
) -> Result<VerifiedReceipt, ReceiptError> {
    let receipt = TlogProof::parse(bytes).map_err(MalformedReceipt::Proof)?;
    let record_bytes = receipt.extra.as_deref().ok_or(MalformedReceipt::NoRecord)?;
    let record = SignedRecord::parse(record_bytes).map_err(MalformedReceipt::Record)?;
    let agency = match agency {
        AgencyCheck::Keys(keys) => {
            let key = record
                .verify_signature(keys)
                .map_err(ReceiptError::BadSignature)?;
            AgencySignature::Verified {
                key: Box::new(key.clone()),
            }
        }
        AgencyCheck::Skip => AgencySignature::NotChecked,
    };
    let checkpoint = receipt
        .verify(&record.leaf_hash(), policy)
        .map_err(|e| match e {
            TlogProofError::Checkpoint(e) => ReceiptError::Untrusted(e),
            TlogProofError::Inclusion {
                index,
                size,
                source,
            } => ReceiptError::NotIncluded {
                index,
                size,
                source,
            },
            // Parsing, done above, is the only source of this one.
            e @ TlogProofError::Malformed { .. } => MalformedReceipt::Proof(e).into(),
        })?;
    let verified = VerifiedReceipt {
        record,
        index: receipt.index,
        proof: receipt.proof,
        checkpoint,
        agency,
        document: DocumentCheck::NotChecked,
    };
    match document {
        Some(digest) => verified.check_document(digest),
        None => Ok(verified),
    }
}

impl VerifiedReceipt {
    /// The last check, on its own: the document whose SHA-256 is `digest`
    /// is the one the record names. A caller that must read a large
    /// document to hash it can verify the receipt first and hash only
    /// once the receipt is known to be good.
    pub fn check_document(mut self, digest: &[u8; 32]) -> Result<VerifiedReceipt, ReceiptError> {
        if *digest != self.record.record.digest {
            return Err(ReceiptError::WrongDocument {
                document: *digest,
                record: self.record.record.digest,
            });
        }
        self.document = DocumentCheck::Matches;
        Ok(self)
    }
}
