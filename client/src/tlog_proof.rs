//! c2sp.org/tlog-proof@v1: an offline receipt that one entry is in a log.
//!
//! ```text
//! c2sp.org/tlog-proof@v1\n
//! [extra <base64 opaque data>\n]
//! index <leaf index, canonical decimal>\n
//! <base64 hash>\n ...           inclusion path, leaf's sibling first
//! \n
//! <signed checkpoint note, verbatim>
//! ```
//!
//! Gazette puts the signed record itself in `extra`, so one file proves who
//! issued the record and that the log holds it, with no network.

use crate::checkpoint::VerifiedCheckpoint;
use crate::encoding::{b64_decode, b64_encode, parse_decimal};
use crate::merkle::{self, Hash, MerkleError};
use crate::policy::{Policy, PolicyError};

/// The first line of every proof.
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";
/// Largest proof file we parse.
pub const MAX_PROOF_SIZE: usize = 1 << 20;
/// Longest inclusion path (a 64-bit tree has at most 64 levels).
pub const MAX_PROOF_HASHES: usize = 64;

/// Why a receipt was rejected.
#[derive(Debug, thiserror::Error)]
pub enum TlogProofError {
    /// The file breaks the tlog-proof format.
    #[error("malformed tlog-proof: {reason}")]
    Malformed {
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// The checkpoint is not trusted under the policy.
    #[error("receipt checkpoint: {0}")]
    Checkpoint(#[from] PolicyError),
    /// The inclusion path does not bind the leaf to the checkpoint.
    #[error("receipt inclusion proof for index {index} in size {size}: {source}")]
    Inclusion {
        /// The leaf index.
        index: u64,
        /// The checkpoint size.
        size: u64,
        /// What failed.
        #[source]
        source: MerkleError,
    },
}

fn malformed(reason: &'static str) -> TlogProofError {
    TlogProofError::Malformed { reason }
}

/// A parsed receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlogProof {
    /// Application data (Gazette: the signed record), unauthenticated by
    /// the proof itself.
    pub extra: Option<Vec<u8>>,
    /// The leaf index.
    pub index: u64,
    /// The inclusion path, leaf's sibling first.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: String,
}

impl TlogProof {
    /// Parses a receipt strictly.
    pub fn parse(bytes: &[u8]) -> Result<TlogProof, TlogProofError> {
        if bytes.len() > MAX_PROOF_SIZE {
            return Err(malformed("larger than 1 MiB"));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| malformed("not UTF-8"))?;
        let mut rest = text
            .strip_prefix(HEADER)
            .and_then(|r| r.strip_prefix('\n'))
            .ok_or_else(|| malformed("first line is not c2sp.org/tlog-proof@v1"))?;
        let next_line = |rest: &mut &str| -> Result<String, TlogProofError> {
            let (line, tail) = rest
                .split_once('\n')
                .ok_or_else(|| malformed("truncated"))?;
            *rest = tail;
            Ok(line.to_owned())
        };
        let mut line = next_line(&mut rest)?;
        let mut extra = None;
        if let Some(data) = line.strip_prefix("extra ") {
            extra = Some(b64_decode(data).ok_or_else(|| malformed("extra is not padded base64"))?);
            line = next_line(&mut rest)?;
        }
        let index = line
            .strip_prefix("index ")
            .and_then(parse_decimal)
            .ok_or_else(|| malformed("no canonical index line"))?;
        let mut proof = Vec::new();
        loop {
            let line = next_line(&mut rest)?;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_HASHES {
                return Err(malformed("more than 64 proof hashes"));
            }
            proof.push(
                Hash::from_base64(&line)
                    .ok_or_else(|| malformed("proof line is not base64 of 32 bytes"))?,
            );
        }
        if rest.is_empty() {
            return Err(malformed("no checkpoint"));
        }
        Ok(TlogProof {
            extra,
            index,
            proof,
            checkpoint: rest.to_owned(),
        })
    }

    /// The receipt file's bytes.
    pub fn to_text(&self) -> String {
        let mut out = format!("{HEADER}\n");
        if let Some(extra) = &self.extra {
            out.push_str(&format!("extra {}\n", b64_encode(extra)));
        }
        out.push_str(&format!("index {}\n", self.index));
        for hash in &self.proof {
            out.push_str(&hash.to_base64());
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint);
        out
    }

    /// Verifies the receipt offline for the leaf with hash `leaf`: the
    /// checkpoint satisfies `policy` and the path binds leaf, index and root.
    pub fn verify(
        &self,
        leaf: &Hash,
        policy: &Policy,
    ) -> Result<VerifiedCheckpoint, TlogProofError> {
        let verified = policy.verify_checkpoint(self.checkpoint.as_bytes())?;
        let size = verified.checkpoint.size;
        merkle::verify_inclusion(
            leaf,
            self.index,
            size,
            &self.proof,
            &verified.checkpoint.root,
        )
        .map_err(|source| TlogProofError::Inclusion {
            index: self.index,
            size,
            source,
        })?;
        Ok(verified)
    }
}
