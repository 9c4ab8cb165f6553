//! c2sp.org/tlog-checkpoint: the signed statement of a log's size and root.
//!
//! ```text
//! <origin>\n
//! <tree size, canonical decimal>\n
//! <root hash, padded base64>\n
//! [<extension line>\n ...]
//! ```
//!
//! ```
//! use gazette_client::checkpoint::Checkpoint;
//! let text = "example.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";
//! let checkpoint = Checkpoint::parse(text).unwrap();
//! assert_eq!(checkpoint.size, 0);
//! assert_eq!(checkpoint.to_text(), text);
//! ```

use crate::cosignature::Cosignature;
use crate::encoding::parse_decimal;
use crate::merkle::Hash;
use crate::note::{self, NoteError, Signer, Verifier};

/// Why a checkpoint was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The text breaks the checkpoint format.
    #[error("malformed checkpoint: {reason}")]
    Malformed {
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// The note around it is malformed or not signed by the log.
    #[error("checkpoint note: {0}")]
    Note(#[from] NoteError),
    /// The checkpoint's origin is not the log key's name.
    #[error("checkpoint origin {origin:?} is not the log key name {key_name:?}")]
    OriginMismatch {
        /// Origin line of the checkpoint.
        origin: String,
        /// Name of the log key.
        key_name: String,
    },
}

/// A checkpoint's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin, e.g. `gazette.example.gov/records`.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// RFC 6962 root of the tree.
    pub root: Hash,
    /// Extension lines, each non-empty.
    pub extensions: Vec<String>,
}

fn malformed(reason: &'static str) -> CheckpointError {
    CheckpointError::Malformed { reason }
}

impl Checkpoint {
    /// Parses a checkpoint text strictly: three or more `\n`-terminated
    /// lines, a non-empty origin, a canonical decimal size that fits in
    /// 64 bits, a padded base64 root of 32 bytes, non-empty extension lines.
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        if text.len() > note::MAX_NOTE_SIZE {
            return Err(malformed("checkpoint exceeds 1 MiB"));
        }
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| malformed("text does not end with a newline"))?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(malformed("fewer than three lines"));
        };
        if origin.is_empty() {
            return Err(malformed("empty origin"));
        }
        if crate::note::has_control_character(text) {
            return Err(malformed("control character"));
        }
        let size =
            parse_decimal(size).ok_or_else(|| malformed("size is not a canonical decimal u64"))?;
        let root = Hash::from_base64(root)
            .ok_or_else(|| malformed("root is not padded base64 of 32 bytes"))?;
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(malformed("empty extension line"));
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// The checkpoint text.
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        );
        for line in &self.extensions {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// Signs the checkpoint as the log: the key's name must be the origin.
    pub fn sign(&self, log: &Signer) -> Result<String, CheckpointError> {
        if log.name() != self.origin {
            return Err(CheckpointError::OriginMismatch {
                origin: self.origin.clone(),
                key_name: log.name().to_owned(),
            });
        }
        Ok(note::sign(&self.to_text(), &[log])?)
    }
}

/// A checkpoint whose log signature verified, with the cosignatures of the
/// witnesses that were checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// The signed note exactly as received: the evidence.
    pub note: String,
    /// Verified witness cosignatures, with the witness's name in the policy
    /// (or its key name when verified without a policy).
    pub cosignatures: Vec<(String, Cosignature)>,
}

impl VerifiedCheckpoint {
    /// The names of the witnesses whose cosignatures verified, in order.
    pub fn witness_names(&self) -> Vec<&str> {
        self.cosignatures
            .iter()
            .map(|(name, _)| name.as_str())
            .collect()
    }
}

/// Opens a signed checkpoint with the log's key alone (cosignatures by
/// unknown keys are ignored): the log's signature must verify and the origin
/// must be the key's name.
pub fn open_checkpoint(
    note_bytes: &[u8],
    log: &Verifier,
) -> Result<VerifiedCheckpoint, CheckpointError> {
    let opened = note::open(note_bytes, std::slice::from_ref(log))?;
    let checkpoint = Checkpoint::parse(&opened.text)?;
    if checkpoint.origin != log.name() {
        return Err(CheckpointError::OriginMismatch {
            origin: checkpoint.origin,
            key_name: log.name().to_owned(),
        });
    }
    Ok(VerifiedCheckpoint {
        checkpoint,
        note: String::from_utf8_lossy(note_bytes).into_owned(),
        cosignatures: Vec::new(),
    })
}
