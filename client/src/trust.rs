//! Advancing a trusted checkpoint: the one rule every Gazette client keeps
//! so that none accepts a rollback or a fork. A client stores the last
//! checkpoint it verified; a newer one replaces it only with a consistency
//! proof, and any failure comes back with the evidence (both signed
//! checkpoints and the proof) so it can be kept and shown.

use crate::checkpoint::VerifiedCheckpoint;
use crate::merkle::{self, Hash, MerkleError};

/// Evidence that a log misbehaved, or a plain mismatch of logs.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The two checkpoints are from different logs.
    #[error("checkpoint origin {offered:?} is not the trusted origin {trusted:?}")]
    OriginMismatch {
        /// The trusted origin.
        trusted: String,
        /// The offered origin.
        offered: String,
    },
    /// The offered checkpoint is older than the trusted one.
    #[error("rollback: offered size {offered_size} is below trusted size {trusted_size}")]
    Rollback {
        /// Size of the trusted checkpoint.
        trusted_size: u64,
        /// Size of the offered checkpoint.
        offered_size: u64,
        /// The trusted signed checkpoint.
        trusted_note: String,
        /// The offered signed checkpoint.
        offered_note: String,
    },
    /// Both checkpoints are validly signed and they contradict each other.
    #[error("fork: checkpoint of size {} is not an extension of trusted size {}: {reason}", .offered.checkpoint.size, .trusted.checkpoint.size)]
    Fork {
        /// The trusted checkpoint (signed note inside).
        trusted: Box<VerifiedCheckpoint>,
        /// The contradicting checkpoint (signed note inside).
        offered: Box<VerifiedCheckpoint>,
        /// The consistency proof that failed.
        proof: Vec<Hash>,
        /// Why it failed.
        reason: MerkleError,
    },
}

impl TrustError {
    /// A plain-text evidence file: both signed checkpoints and the proof.
    pub fn evidence(&self) -> String {
        match self {
            TrustError::Fork {
                trusted,
                offered,
                proof,
                reason,
            } => {
                let mut out = format!(
                    "gazette fork evidence\nreason: {reason}\n\ntrusted checkpoint:\n{}\noffered checkpoint:\n{}\nconsistency proof:\n",
                    trusted.note, offered.note
                );
                for hash in proof {
                    out.push_str(&hash.to_base64());
                    out.push('\n');
                }
                out
            }
            TrustError::Rollback {
                trusted_note,
                offered_note,
                ..
            } => format!(
                "gazette rollback evidence\n\ntrusted checkpoint:\n{trusted_note}\noffered checkpoint:\n{offered_note}"
            ),
            TrustError::OriginMismatch { .. } => self.to_string(),
        }
    }
}

/// Checks that `offered` may replace `trusted`: same origin, not smaller,
/// and `proof` proves consistency (empty with equal roots at equal size).
pub fn check_advance(
    trusted: &VerifiedCheckpoint,
    offered: &VerifiedCheckpoint,
    proof: &[Hash],
) -> Result<(), TrustError> {
    let (old, new) = (&trusted.checkpoint, &offered.checkpoint);
    if old.origin != new.origin {
        return Err(TrustError::OriginMismatch {
            trusted: old.origin.clone(),
            offered: new.origin.clone(),
        });
    }
    if new.size < old.size {
        return Err(TrustError::Rollback {
            trusted_size: old.size,
            offered_size: new.size,
            trusted_note: trusted.note.clone(),
            offered_note: offered.note.clone(),
        });
    }
    if old.size == 0 {
        // The empty tree is a prefix of every tree; only its root is fixed.
        if old.root == merkle::empty_root()
            && (new.size > 0 || new.root == old.root)
            && proof.is_empty()
        {
            return Ok(());
        }
    }
    merkle::verify_consistency(old.size, new.size, &old.root, &new.root, proof).map_err(|reason| {
        TrustError::Fork {
            trusted: Box::new(trusted.clone()),
            offered: Box::new(offered.clone()),
            proof: proof.to_vec(),
            reason,
        }
    })
}
