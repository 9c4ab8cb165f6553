//! c2sp.org/tlog-cosignature: Ed25519 timestamped cosignatures
//! (`cosignature/v1`, signature type `0x04`).
//!
//! A witness signs `cosignature/v1\ntime <T>\n` followed by the whole
//! checkpoint text (extension lines included). The signature line carries
//! `key ID (4) || timestamp u64 big-endian (8) || Ed25519 signature (64)`.
//!
//! ```
//! use gazette_client::cosignature::Cosignature;
//! use gazette_client::note::{KeyType, Signer};
//! let witness = Signer::from_seed("witness.example", KeyType::Cosignature, [1; 32]).unwrap();
//! let text = "example.com/log\n1\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\n";
//! let cosig = Cosignature::sign(&witness, text, 1_700_000_000).unwrap();
//! cosig.verify(&witness.verifier(), text).unwrap();
//! ```

use crate::note::{KeyType, NoteError, NoteSignature, Signer, Verifier};
use crate::signature_type::split_cosignature;

/// Bytes after the key ID: timestamp (8) and Ed25519 signature (64).
pub use crate::signature_type::COSIGNATURE_PAYLOAD_LEN as PAYLOAD_LEN;
/// The message a witness signs for a checkpoint text at a timestamp.
pub use crate::signature_type::cosigned_message as signed_message;

/// Why a cosignature was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CosignatureError {
    /// The payload after the key ID is not 72 bytes.
    #[error("cosignature by {name} has {got} payload bytes, expected 72")]
    WrongLength {
        /// Key name on the line.
        name: String,
        /// Payload bytes after the key ID.
        got: usize,
    },
    /// Timestamps must be below 2^63 (and not 0 when signing).
    #[error("cosignature timestamp {timestamp} is out of range")]
    BadTimestamp {
        /// The timestamp.
        timestamp: u64,
    },
    /// The line does not parse as a signature line.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The key is not the witness's cosigner key (name, ID or type differ).
    #[error("cosignature by {name}+{key_id:08x} is not by key {expected}")]
    WrongKey {
        /// Name on the line.
        name: String,
        /// Key ID on the line.
        key_id: u32,
        /// The vkey it was checked against.
        expected: String,
    },
    /// The signature does not verify over this checkpoint and timestamp.
    #[error("cosignature by {name} does not verify")]
    InvalidSignature {
        /// Key name.
        name: String,
    },
}

/// A witness's cosignature on one checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cosignature {
    /// The witness's key name.
    pub name: String,
    /// The witness's `0x04` key ID.
    pub key_id: u32,
    /// Seconds since the Unix epoch when the witness signed.
    pub timestamp: u64,
    /// The Ed25519 signature.
    pub signature: [u8; 64],
}

impl Cosignature {
    /// Cosigns `checkpoint_text` at `timestamp` (1 ≤ timestamp < 2^63) with
    /// a cosigner (`0x04`) key.
    pub fn sign(
        signer: &Signer,
        checkpoint_text: &str,
        timestamp: u64,
    ) -> Result<Cosignature, CosignatureError> {
        if signer.key_type() != KeyType::Cosignature {
            return Err(NoteError::WrongKeyType {
                name: signer.name().to_owned(),
                key_type: signer.key_type(),
            }
            .into());
        }
        if timestamp == 0 || timestamp >= 1 << 63 {
            return Err(CosignatureError::BadTimestamp { timestamp });
        }
        Ok(Cosignature {
            name: signer.name().to_owned(),
            key_id: signer.key_id(),
            timestamp,
            signature: signer.sign_raw(signed_message(checkpoint_text, timestamp).as_bytes()),
        })
    }

    /// Reads a cosignature from a note signature line already parsed.
    pub fn from_note_signature(sig: &NoteSignature) -> Result<Cosignature, CosignatureError> {
        let (timestamp, signature) =
            split_cosignature(&sig.signature).ok_or_else(|| CosignatureError::WrongLength {
                name: sig.name.clone(),
                got: sig.signature.len(),
            })?;
        if timestamp >= 1 << 63 {
            return Err(CosignatureError::BadTimestamp { timestamp });
        }
        Ok(Cosignature {
            name: sig.name.clone(),
            key_id: sig.key_id,
            timestamp,
            signature: *signature,
        })
    }

    /// Parses one cosignature line (with or without its final `\n`).
    pub fn parse_line(line: &str) -> Result<Cosignature, CosignatureError> {
        let line = line.strip_suffix('\n').unwrap_or(line);
        if line.contains('\n') {
            return Err(NoteError::Malformed {
                reason: "more than one line",
            }
            .into());
        }
        Cosignature::from_note_signature(&NoteSignature::parse_line(line)?)
    }

    /// As a note signature line entry.
    pub fn to_note_signature(&self) -> NoteSignature {
        let mut signature = self.timestamp.to_be_bytes().to_vec();
        signature.extend_from_slice(&self.signature);
        NoteSignature {
            name: self.name.clone(),
            key_id: self.key_id,
            signature,
        }
    }

    /// The signature line, ending in `\n`.
    pub fn to_line(&self) -> String {
        self.to_note_signature().to_line()
    }

    /// Checks this is `witness`'s valid cosignature of `checkpoint_text`.
    pub fn verify(
        &self,
        witness: &Verifier,
        checkpoint_text: &str,
    ) -> Result<(), CosignatureError> {
        if witness.key_type() != KeyType::Cosignature
            || witness.name() != self.name
            || witness.key_id() != self.key_id
        {
            return Err(CosignatureError::WrongKey {
                name: self.name.clone(),
                key_id: self.key_id,
                expected: witness.to_string(),
            });
        }
        let sig = self.to_note_signature();
        if witness.verify(checkpoint_text.as_bytes(), &sig.signature) {
            Ok(())
        } else {
            Err(CosignatureError::InvalidSignature {
                name: self.name.clone(),
            })
        }
    }
}
