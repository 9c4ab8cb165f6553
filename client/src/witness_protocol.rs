//! c2sp.org/tlog-witness `add-checkpoint`: the request a log sends a
//! witness, and the checks a witness makes before it cosigns, in the spec's
//! order with the spec's status codes.
//!
//! ```text
//! old <size the witness last cosigned>\n
//! <base64 consistency-proof hash>\n ...   (0 to 63)
//! \n
//! <signed checkpoint note>
//! ```
//!
//! A witness parses the request ([`AddCheckpointRequest::parse`], 400),
//! authenticates it against the log's keys ([`AddCheckpointRequest::authenticate`],
//! 404/403), and then, holding its per-log lock, checks it against its stored
//! state ([`AddCheckpointRequest::check_against`], 400/409/422) before it
//! persists the returned state and cosigns.

use crate::checkpoint::Checkpoint;
use crate::encoding::parse_decimal;
use crate::merkle::{self, Hash, MerkleError};
use crate::note::{self, Note, NoteError, Verifier};

/// Largest request body a witness reads.
pub const MAX_REQUEST_SIZE: usize = 64 * 1024;
/// Most consistency-proof lines in a request.
pub const MAX_PROOF_LINES: usize = 63;
/// Media type of a 409 body.
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// Why a witness refuses to cosign, each with its HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum AddCheckpointError {
    /// 400: the body does not parse.
    #[error("malformed add-checkpoint request: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// 404: the witness does not know this origin.
    #[error("unknown log origin {origin:?}")]
    UnknownLog {
        /// The checkpoint's origin.
        origin: String,
    },
    /// 403: no trusted log signature verifies, or one fails.
    #[error("checkpoint is not signed by the log: {0}")]
    BadSignature(NoteError),
    /// 400: `old` is larger than the checkpoint's size.
    #[error("old size {old_size} exceeds checkpoint size {size}")]
    OldBeyondCheckpoint {
        /// The request's old size.
        old_size: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// 409: `old` is not the size the witness last cosigned.
    #[error("old size {old_size} does not match the witness's size {stored_size}")]
    StaleOldSize {
        /// The request's old size.
        old_size: u64,
        /// The size the witness holds; the 409 body.
        stored_size: u64,
    },
    /// 422: a size-0 checkpoint whose root is not the empty-tree hash.
    #[error("empty tree with root {root}")]
    EmptyTreeRoot {
        /// The claimed root.
        root: Hash,
    },
    /// 422: a proof was sent from the empty tree.
    #[error("consistency proof from size 0 must be empty, got {count} hashes")]
    ProofFromEmptyTree {
        /// Number of hashes sent.
        count: usize,
    },
    /// 422: the consistency proof fails (a fork or a broken log).
    #[error("consistency proof from {old_size} to {size} fails: {source}")]
    Inconsistent {
        /// The witness's size.
        old_size: u64,
        /// The checkpoint's size.
        size: u64,
        /// The root the witness holds.
        old_root: Hash,
        /// The checkpoint's root.
        root: Hash,
        /// What failed.
        source: Box<MerkleError>,
    },
}

impl AddCheckpointError {
    /// The HTTP status c2sp.org/tlog-witness gives this refusal.
    pub fn status(&self) -> u16 {
        match self {
            AddCheckpointError::Malformed { .. }
            | AddCheckpointError::OldBeyondCheckpoint { .. } => 400,
            AddCheckpointError::BadSignature(_) => 403,
            AddCheckpointError::UnknownLog { .. } => 404,
            AddCheckpointError::StaleOldSize { .. } => 409,
            AddCheckpointError::EmptyTreeRoot { .. }
            | AddCheckpointError::ProofFromEmptyTree { .. }
            | AddCheckpointError::Inconsistent { .. } => 422,
        }
    }
}

fn malformed(reason: impl Into<String>) -> AddCheckpointError {
    AddCheckpointError::Malformed {
        reason: reason.into(),
    }
}

/// What a witness stores per log: the latest tree it cosigned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WitnessState {
    /// Size of the cosigned tree (0 before the first).
    pub size: u64,
    /// Its root.
    pub root: Hash,
}

impl WitnessState {
    /// The state of a log never cosigned: the empty tree.
    pub fn empty() -> WitnessState {
        WitnessState {
            size: 0,
            root: merkle::empty_root(),
        }
    }
}

/// A parsed `add-checkpoint` request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddCheckpointRequest {
    /// The size the log believes the witness holds.
    pub old_size: u64,
    /// Consistency proof from `old_size` to the checkpoint.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, verbatim.
    pub note: String,
    /// The checkpoint inside the note.
    pub checkpoint: Checkpoint,
}

impl AddCheckpointRequest {
    /// Parses a request body strictly (any failure is a 400).
    pub fn parse(body: &[u8]) -> Result<AddCheckpointRequest, AddCheckpointError> {
        if body.len() > MAX_REQUEST_SIZE {
            return Err(malformed(format!("body exceeds {MAX_REQUEST_SIZE} bytes")));
        }
        let text = std::str::from_utf8(body).map_err(|_| malformed("body is not UTF-8"))?;
        let (old_line, mut rest) = text
            .split_once('\n')
            .ok_or_else(|| malformed("no old line"))?;
        let old_size = old_line
            .strip_prefix("old ")
            .and_then(parse_decimal)
            .ok_or_else(|| malformed("first line is not old <canonical decimal>"))?;
        let mut proof = Vec::new();
        loop {
            let (line, tail) = rest
                .split_once('\n')
                .ok_or_else(|| malformed("no blank line before the checkpoint"))?;
            rest = tail;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err(malformed("more than 63 proof lines"));
            }
            let hash = Hash::from_base64(line)
                .ok_or_else(|| malformed("proof line is not base64 of 32 bytes"))?;
            proof.push(hash);
        }
        let note = Note::parse(rest.as_bytes()).map_err(|e| malformed(e.to_string()))?;
        let checkpoint = Checkpoint::parse(&note.text).map_err(|e| malformed(e.to_string()))?;
        Ok(AddCheckpointRequest {
            old_size,
            proof,
            note: rest.to_owned(),
            checkpoint,
        })
    }

    /// The request body.
    pub fn to_body(&self) -> String {
        let mut out = format!("old {}\n", self.old_size);
        for hash in &self.proof {
            out.push_str(&hash.to_base64());
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.note);
        out
    }

    /// Checks the log's signature with the keys the witness trusts for the
    /// checkpoint's origin (`None`: the origin is unknown, 404).
    pub fn authenticate(&self, log_keys: Option<&[Verifier]>) -> Result<(), AddCheckpointError> {
        let keys = log_keys.ok_or_else(|| AddCheckpointError::UnknownLog {
            origin: self.checkpoint.origin.clone(),
        })?;
        let keys: Vec<Verifier> = keys
            .iter()
            .filter(|k| k.name() == self.checkpoint.origin)
            .cloned()
            .collect();
        note::open(self.note.as_bytes(), &keys).map_err(AddCheckpointError::BadSignature)?;
        Ok(())
    }

    /// Checks the request against the witness's stored state; on success
    /// returns the state to persist before cosigning. Never accepts a
    /// smaller size, a different root for the same size, or a tree that is
    /// not an extension of the stored one.
    pub fn check_against(&self, stored: &WitnessState) -> Result<WitnessState, AddCheckpointError> {
        let size = self.checkpoint.size;
        let root = self.checkpoint.root;
        if self.old_size > size {
            return Err(AddCheckpointError::OldBeyondCheckpoint {
                old_size: self.old_size,
                size,
            });
        }
        if self.old_size != stored.size {
            return Err(AddCheckpointError::StaleOldSize {
                old_size: self.old_size,
                stored_size: stored.size,
            });
        }
        if size == 0 && root != merkle::empty_root() {
            return Err(AddCheckpointError::EmptyTreeRoot { root });
        }
        if self.old_size == 0 {
            if !self.proof.is_empty() {
                return Err(AddCheckpointError::ProofFromEmptyTree {
                    count: self.proof.len(),
                });
            }
        } else {
            merkle::verify_consistency(self.old_size, size, &stored.root, &root, &self.proof)
                .map_err(|source| AddCheckpointError::Inconsistent {
                    old_size: self.old_size,
                    size,
                    old_root: stored.root,
                    root,
                    source: Box::new(source),
                })?;
        }
        Ok(WitnessState { size, root })
    }
}
