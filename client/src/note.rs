//! c2sp.org/signed-note: notes, Ed25519 signer and verifier keys, key IDs.
//!
//! A note is UTF-8 text (every line ending in `\n`), a blank line, then one
//! or more signature lines `— <key name> <base64(key ID || signature)>`.
//! Opening a note follows Go's `sumdb/note.Open`: signatures by unknown keys
//! are kept as unverified, a known key whose signature fails makes the whole
//! note invalid, and a note needs at least one verified signature.
//!
//! ```
//! use gazette_client::note::{Signer, KeyType, open, sign};
//! let signer = Signer::from_seed("example.com/log", KeyType::Ed25519, [7; 32]).unwrap();
//! let note = sign("hello\n", &[&signer]).unwrap();
//! let opened = open(note.as_bytes(), &[signer.verifier()]).unwrap();
//! assert_eq!(opened.text, "hello\n");
//! ```

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::encoding::{b64_decode, b64_decode_signature, b64_encode};
use crate::signature_type::{verify_cosignature, verify_ed25519};

/// Largest note we parse.
pub const MAX_NOTE_SIZE: usize = 1 << 20;
/// Most signature lines a note may carry (Go and azul use the same cap).
pub const MAX_SIGNATURES: usize = 100;
/// Longest key name we accept.
pub const MAX_NAME_LEN: usize = 255;

/// The signature-line prefix: U+2014 EM DASH and a space.
pub const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// The signature algorithms we implement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// `0x01`: Ed25519 over the note text (logs, agencies).
    Ed25519,
    /// `0x04`: Ed25519 timestamped cosignature, `cosignature/v1` (witnesses).
    Cosignature,
}

impl KeyType {
    /// The signature type byte.
    pub fn type_byte(self) -> u8 {
        match self {
            KeyType::Ed25519 => 0x01,
            KeyType::Cosignature => 0x04,
        }
    }

    fn from_type_byte(byte: u8) -> Result<KeyType, NoteError> {
        match byte {
            0x01 => Ok(KeyType::Ed25519),
            0x04 => Ok(KeyType::Cosignature),
            other => Err(NoteError::UnsupportedKeyType { type_byte: other }),
        }
    }
}

/// Why a note or key was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// The note breaks the signed-note syntax.
    #[error("malformed note: {reason}")]
    Malformed {
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// A signature line by a trusted key does not verify.
    #[error("invalid signature by {name}+{key_id:08x}")]
    InvalidSignature {
        /// Key name on the line.
        name: String,
        /// Key ID on the line.
        key_id: u32,
    },
    /// No signature line is by a trusted key.
    #[error("note has no signature by a trusted key (signed by: {})", .signers.join(", "))]
    Unverified {
        /// `name+keyid` of every signature line, all by unknown keys.
        signers: Vec<String>,
    },
    /// Two trusted keys share a name and key ID.
    #[error("ambiguous key {name}+{key_id:08x}: two trusted keys share it")]
    Ambiguous {
        /// The shared name.
        name: String,
        /// The shared key ID.
        key_id: u32,
    },
    /// A verifier key string does not parse.
    #[error("invalid verifier key: {reason}")]
    InvalidVerifierKey {
        /// What is wrong.
        reason: &'static str,
    },
    /// A signer key string does not parse.
    #[error("invalid signer key: {reason}")]
    InvalidSignerKey {
        /// What is wrong.
        reason: &'static str,
    },
    /// A key name is empty, too long, or has white space or `+`.
    #[error("invalid key name {name:?}")]
    InvalidKeyName {
        /// The name.
        name: String,
    },
    /// A key type byte we do not implement.
    #[error("unsupported key type 0x{type_byte:02x}")]
    UnsupportedKeyType {
        /// The type byte.
        type_byte: u8,
    },
    /// The key cannot make this kind of signature.
    #[error("key {name} is a {key_type:?} key, which cannot sign this")]
    WrongKeyType {
        /// Key name.
        name: String,
        /// Its type.
        key_type: KeyType,
    },
}

fn malformed(reason: &'static str) -> NoteError {
    NoteError::Malformed { reason }
}

/// Whether `name` is a valid key name: non-empty, at most
/// [`MAX_NAME_LEN`] bytes, no Unicode white space, no `+`.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

/// The recommended key ID: the first four bytes, big-endian, of
/// `SHA-256(name || "\n" || type_byte || public_key)`.
pub fn key_id(name: &str, key_type: KeyType, public_key: &[u8]) -> u32 {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([key_type.type_byte()]);
    hasher.update(public_key);
    let digest = hasher.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// A public key that verifies signatures: a `vkey` string
/// `<name>+<hex key ID>+<base64(type || key)>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    key_id: u32,
    key_type: KeyType,
    key: VerifyingKey,
}

impl Verifier {
    /// Parses a vkey strictly: valid name, 8 lowercase hex digits matching
    /// the recomputed key ID, a known type and a 32-byte Ed25519 key.
    pub fn parse(vkey: &str) -> Result<Verifier, NoteError> {
        let bad = |reason| NoteError::InvalidVerifierKey { reason };
        if vkey.len() > MAX_NAME_LEN + 128 {
            return Err(bad("too long"));
        }
        // The base64 part may itself contain '+': split on the first two only.
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("expected name+keyid+key"));
        };
        if !is_valid_key_name(name) {
            return Err(bad("invalid key name"));
        }
        let id =
            parse_key_id_hex(id_hex).ok_or_else(|| bad("key ID is not 8 lowercase hex digits"))?;
        let key = b64_decode(key_b64).ok_or_else(|| bad("key is not base64"))?;
        let (&type_byte, public) = key.split_first().ok_or_else(|| bad("empty key"))?;
        let key_type = KeyType::from_type_byte(type_byte)?;
        let public: [u8; 32] = public
            .try_into()
            .map_err(|_| bad("Ed25519 key is not 32 bytes"))?;
        if key_id(name, key_type, &public) != id {
            return Err(bad("key ID does not match the key"));
        }
        let key = VerifyingKey::from_bytes(&public).map_err(|_| bad("not an Ed25519 point"))?;
        Ok(Verifier {
            name: name.to_owned(),
            key_id: id,
            key_type,
            key,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The signature algorithm.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The raw Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Whether the key is a point of small order, for which signatures
    /// prove nothing (anyone can make some that verify).
    pub fn is_weak(&self) -> bool {
        self.key.is_weak()
    }

    /// Whether the key's 32 bytes are the one (canonical) encoding of its
    /// point: a decoder following RFC 8032 strictly refuses the others.
    pub fn is_canonical(&self) -> bool {
        self.key.to_edwards().compress().to_bytes() == self.public_key()
    }

    /// Whether `signature` (the bytes after the key ID) signs the note text
    /// `msg` under this key. Cosignature keys check `cosignature/v1`.
    pub fn verify(&self, msg: &[u8], signature: &[u8]) -> bool {
        match self.key_type {
            KeyType::Ed25519 => verify_ed25519(&self.key, msg, signature),
            KeyType::Cosignature => verify_cosignature(&self.key, msg, signature),
        }
    }
}

fn parse_key_id_hex(text: &str) -> Option<u32> {
    if text.len() != 8 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}

impl std::fmt::Display for Verifier {
    /// The vkey string.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut key = vec![self.key_type.type_byte()];
        key.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.key_id, b64_encode(&key))
    }
}

/// A private key that signs: an `skey` string
/// `PRIVATE+KEY+<name>+<hex key ID>+<base64(type || seed)>` (Go's form).
#[derive(Clone)]
pub struct Signer {
    name: String,
    key_id: u32,
    key_type: KeyType,
    key: SigningKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Signer({}+{:08x}, private key elided)",
            self.name, self.key_id
        )
    }
}

impl Signer {
    /// A signer from a 32-byte Ed25519 seed.
    pub fn from_seed(name: &str, key_type: KeyType, seed: [u8; 32]) -> Result<Signer, NoteError> {
        if !is_valid_key_name(name) {
            return Err(NoteError::InvalidKeyName {
                name: name.to_owned(),
            });
        }
        let key = SigningKey::from_bytes(&seed);
        Ok(Signer {
            name: name.to_owned(),
            key_id: key_id(name, key_type, key.verifying_key().as_bytes()),
            key_type,
            key,
        })
    }

    /// A fresh signer; the caller supplies the randomness.
    pub fn generate(
        name: &str,
        key_type: KeyType,
        rng: &mut impl rand_core::CryptoRngCore,
    ) -> Result<Signer, NoteError> {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        Signer::from_seed(name, key_type, seed)
    }

    /// Parses an skey; the key ID must match the derived public key.
    pub fn parse(skey: &str) -> Result<Signer, NoteError> {
        let bad = |reason| NoteError::InvalidSignerKey { reason };
        if skey.len() > MAX_NAME_LEN + 160 {
            return Err(bad("too long"));
        }
        let rest = skey
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| bad("missing PRIVATE+KEY+ prefix"))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("expected PRIVATE+KEY+name+keyid+key"));
        };
        if !is_valid_key_name(name) {
            return Err(bad("invalid key name"));
        }
        let id =
            parse_key_id_hex(id_hex).ok_or_else(|| bad("key ID is not 8 lowercase hex digits"))?;
        let key = b64_decode(key_b64).ok_or_else(|| bad("key is not base64"))?;
        let (&type_byte, seed) = key.split_first().ok_or_else(|| bad("empty key"))?;
        let key_type = KeyType::from_type_byte(type_byte)?;
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| bad("Ed25519 seed is not 32 bytes"))?;
        let signer = Signer::from_seed(name, key_type, seed)?;
        if signer.key_id != id {
            return Err(bad("key ID does not match the key"));
        }
        Ok(signer)
    }

    /// The skey string. It holds the private key: write it only to files
    /// readable by its owner.
    pub fn to_skey(&self) -> String {
        let mut key = vec![self.key_type.type_byte()];
        key.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.key_id,
            b64_encode(&key)
        )
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The signature algorithm.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The matching verifier.
    pub fn verifier(&self) -> Verifier {
        Verifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key_type: self.key_type,
            key: self.key.verifying_key(),
        }
    }

    /// Signs a note text with an Ed25519 (`0x01`) key.
    pub fn sign_text(&self, text: &str) -> Result<NoteSignature, NoteError> {
        if self.key_type != KeyType::Ed25519 {
            return Err(NoteError::WrongKeyType {
                name: self.name.clone(),
                key_type: self.key_type,
            });
        }
        check_text(text)?;
        Ok(NoteSignature {
            name: self.name.clone(),
            key_id: self.key_id,
            signature: self.key.sign(text.as_bytes()).to_bytes().to_vec(),
        })
    }

    /// Raw Ed25519 signature of `msg` (for formats built on notes).
    pub(crate) fn sign_raw(&self, msg: &[u8]) -> [u8; 64] {
        self.key.sign(msg).to_bytes()
    }
}

/// One signature line: key name, key ID and the algorithm's signature bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// Key name.
    pub name: String,
    /// Key ID.
    pub key_id: u32,
    /// The signature bytes after the key ID.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The line `— <name> <base64(key ID || signature)>\n`.
    pub fn to_line(&self) -> String {
        let mut payload = self.key_id.to_be_bytes().to_vec();
        payload.extend_from_slice(&self.signature);
        format!("{SIGNATURE_PREFIX}{} {}\n", self.name, b64_encode(&payload))
    }

    /// The length of [`NoteSignature::to_line`], without writing it.
    pub fn line_len(&self) -> usize {
        let payload = 4 + self.signature.len();
        SIGNATURE_PREFIX.len() + self.name.len() + 1 + payload.div_ceil(3) * 4 + 1
    }

    /// `name+keyid`, how people tell keys apart.
    pub fn key_label(&self) -> String {
        format!("{}+{:08x}", self.name, self.key_id)
    }

    /// Parses one signature line without its `\n`.
    pub fn parse_line(line: &str) -> Result<NoteSignature, NoteError> {
        let rest = line.strip_prefix(SIGNATURE_PREFIX).ok_or_else(|| {
            malformed("signature line does not start with an em dash and a space")
        })?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or_else(|| malformed("signature line has no space after the key name"))?;
        if !is_valid_key_name(name) {
            return Err(malformed("invalid key name on a signature line"));
        }
        let payload =
            b64_decode_signature(b64).ok_or_else(|| malformed("signature is not padded base64"))?;
        if payload.len() < 5 {
            return Err(malformed("signature shorter than a key ID and one byte"));
        }
        let (id, signature) = payload.split_at(4);
        Ok(NoteSignature {
            name: name.to_owned(),
            key_id: u32::from_be_bytes([id[0], id[1], id[2], id[3]]),
            signature: signature.to_vec(),
        })
    }
}

/// A parsed (not yet verified) note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The signed text, including its final `\n`.
    pub text: String,
    /// Signature lines in order, duplicates included.
    pub signatures: Vec<NoteSignature>,
}

/// Whether `text` holds a control character other than `\n`. By bytes:
/// those characters are ASCII, and every byte of a multi-byte UTF-8
/// character is 0x80 or above (decoding each character cost as much as the
/// rest of a record's parsing).
pub(crate) fn has_control_character(text: &str) -> bool {
    text.bytes().any(|b| b < 0x20 && b != b'\n')
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(malformed("text does not end with a newline"));
    }
    if has_control_character(text) {
        return Err(malformed("text has a control character"));
    }
    Ok(())
}

impl Note {
    /// Parses the note syntax: size, UTF-8, no control characters but
    /// `\n`, the last blank line splitting text from signature lines, at most
    /// [`MAX_SIGNATURES`] lines, each well formed.
    pub fn parse(msg: &[u8]) -> Result<Note, NoteError> {
        if msg.len() > MAX_NOTE_SIZE {
            return Err(malformed("note exceeds 1 MiB"));
        }
        let msg = std::str::from_utf8(msg).map_err(|_| malformed("note is not UTF-8"))?;
        if has_control_character(msg) {
            return Err(malformed("note has a control character"));
        }
        let split = msg
            .rfind("\n\n")
            .ok_or_else(|| malformed("no blank line before the signatures"))?;
        let (text, sigs) = (&msg[..split + 1], &msg[split + 2..]);
        if sigs.is_empty() || !sigs.ends_with('\n') {
            return Err(malformed(
                "signature block is empty or lacks its final newline",
            ));
        }
        let lines: Vec<&str> = sigs[..sigs.len() - 1].split('\n').collect();
        if lines.len() > MAX_SIGNATURES {
            return Err(malformed("more than 100 signature lines"));
        }
        let signatures = lines
            .into_iter()
            .map(NoteSignature::parse_line)
            .collect::<Result<_, _>>()?;
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The note bytes: text, blank line, signature lines.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.text.clone();
        out.push('\n');
        for sig in &self.signatures {
            out.push_str(&sig.to_line());
        }
        out.into_bytes()
    }
}

/// Signs `text` with every signer (Ed25519 keys) into a note.
pub fn sign(text: &str, signers: &[&Signer]) -> Result<String, NoteError> {
    let mut out = String::from(text);
    check_text(text)?;
    out.push('\n');
    for signer in signers {
        out.push_str(&signer.sign_text(text)?.to_line());
    }
    Ok(out)
}

/// A note whose signatures were checked against trusted keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenedNote {
    /// The signed text.
    pub text: String,
    /// Signatures by trusted keys, each verified (one per key).
    pub verified: Vec<NoteSignature>,
    /// Signatures by unknown keys, identical lines collapsed.
    pub unverified: Vec<NoteSignature>,
}

/// Finds the one trusted key with this name and ID.
fn lookup<'a>(
    known: &'a [Verifier],
    name: &str,
    id: u32,
) -> Result<Option<&'a Verifier>, NoteError> {
    let mut matches = known.iter().filter(|v| v.name == name && v.key_id == id);
    let first = matches.next();
    if first.is_some() && matches.next().is_some() {
        return Err(NoteError::Ambiguous {
            name: name.to_owned(),
            key_id: id,
        });
    }
    Ok(first)
}

/// Parses `msg` and verifies its signatures against `known` keys, with the
/// semantics of Go's `note.Open`.
pub fn open(msg: &[u8], known: &[Verifier]) -> Result<OpenedNote, NoteError> {
    let note = Note::parse(msg)?;
    let mut verified: Vec<NoteSignature> = Vec::new();
    let mut unverified: Vec<NoteSignature> = Vec::new();
    for sig in note.signatures {
        match lookup(known, &sig.name, sig.key_id)? {
            None => {
                if !unverified.contains(&sig) {
                    unverified.push(sig);
                }
            }
            Some(verifier) => {
                // One signature per key counts; later ones by the same key
                // are ignored, as Go does.
                if verified
                    .iter()
                    .any(|v| v.name == sig.name && v.key_id == sig.key_id)
                {
                    continue;
                }
                if !verifier.verify(note.text.as_bytes(), &sig.signature) {
                    return Err(NoteError::InvalidSignature {
                        name: sig.name,
                        key_id: sig.key_id,
                    });
                }
                verified.push(sig);
            }
        }
    }
    if verified.is_empty() {
        return Err(NoteError::Unverified {
            signers: unverified.iter().map(NoteSignature::key_label).collect(),
        });
    }
    Ok(OpenedNote {
        text: note.text,
        verified,
        unverified,
    })
}

#[cfg(test)]
mod tests {
    use proptest::strategy::Strategy;

    use super::NoteSignature;

    proptest::proptest! {
        #[test]
        fn control_characters_are_found_by_byte_as_by_character(
            chars in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::prelude::any::<char>(),
                    (0u8..0x80).prop_map(char::from),
                ],
                0..6,
            )
        ) {
            let text: String = chars.into_iter().collect();
            proptest::prop_assert_eq!(
                super::has_control_character(&text),
                text.chars().any(|c| c < '\u{20}' && c != '\n')
            );
        }
    }

    #[test]
    fn line_len_is_the_length_of_the_line_for_every_payload_size() {
        for name in ["a", "gazette.example/log", "agency-ü"] {
            for len in 1..=100 {
                let signature = NoteSignature {
                    name: name.to_owned(),
                    key_id: 0xdead_beef,
                    signature: vec![0xa5; len],
                };
                assert_eq!(
                    signature.line_len(),
                    signature.to_line().len(),
                    "{name} {len}"
                );
            }
        }
    }
}
