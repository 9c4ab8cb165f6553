//! Gazette records (`gazette.record/v1`): what an agency appends.
//!
//! A record is a signed note whose text is
//!
//! ```text
//! gazette.record/v1
//! issuer <agency key name>
//! kind <token>
//! id <the agency's identifier, unique per issuer and kind>
//! digest sha256:<64 lowercase hex of the document>
//! issued <RFC 3339 UTC time>
//! [revokes <kind> <id>]          only, and always, in kind `revocation`
//! [<key> <value>]...             agency-defined
//! ```
//!
//! signed by exactly one key, the agency's Ed25519 key named `issuer`. The
//! log leaf is exactly those signed bytes, so anyone can check who issued a
//! record and the log cannot forge one. Only the digest of a document is
//! ever in the log.
//!
//! ```
//! use gazette_client::note::{KeyType, Signer};
//! use gazette_client::record::{Record, SignedRecord};
//! let agency = Signer::from_seed("land-registry.example.gov", KeyType::Ed25519, [3; 32]).unwrap();
//! let record = Record::new("land-registry.example.gov", "property-registration", "PR-2026-0001",
//!     [0xab; 32], "2026-11-24T09:00:00Z");
//! let signed = record.sign(&agency).unwrap();
//! let checked = SignedRecord::verify(&signed.bytes, &[agency.verifier()]).unwrap();
//! assert_eq!(checked.record.id, "PR-2026-0001");
//! ```

use crate::encoding::{hex_decode_lower, hex_encode};
use crate::merkle::{Hash, leaf_hash};
use crate::note::{KeyType, Note, NoteError, NoteSignature, Signer, Verifier, is_valid_key_name};

/// First line of every record.
pub const HEADER: &str = "gazette.record/v1";
/// The kind of a revocation record.
pub const REVOCATION: &str = "revocation";
/// Largest signed record (well under the 65 535-byte entry-bundle limit).
pub const MAX_RECORD_SIZE: usize = 16 * 1024;
/// Longest `id` or field value.
pub const MAX_VALUE_LEN: usize = 1024;

const RESERVED_KEYS: [&str; 6] = ["issuer", "kind", "id", "digest", "issued", "revokes"];

/// Why a record was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The record text breaks the format (1-based line number, 0 = whole).
    #[error("malformed record (line {line}): {reason}")]
    Malformed {
        /// Line number, from 1; 0 for the record as a whole.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The signed record exceeds [`MAX_RECORD_SIZE`].
    #[error("record of {size} bytes exceeds {MAX_RECORD_SIZE}")]
    TooLarge {
        /// Its size.
        size: usize,
    },
    /// The note around the record is malformed.
    #[error("record note: {0}")]
    Note(NoteError),
    /// A record carries exactly one signature.
    #[error("record has {count} signatures, expected exactly one")]
    SignatureCount {
        /// Signature lines present.
        count: usize,
    },
    /// The signature's key name is not the issuer.
    #[error("record issued by {issuer:?} is signed by key {key_name:?}")]
    IssuerMismatch {
        /// The record's issuer.
        issuer: String,
        /// The signing key's name.
        key_name: String,
    },
    /// No registered agency key matches the issuer and key ID.
    #[error("unknown issuer key {issuer}+{key_id:08x}")]
    UnknownIssuer {
        /// The record's issuer.
        issuer: String,
        /// The key ID on the signature.
        key_id: u32,
    },
    /// The agency's signature does not verify.
    #[error("signature by {issuer} does not verify")]
    BadSignature {
        /// The record's issuer.
        issuer: String,
    },
}

fn malformed(line: usize, reason: impl Into<String>) -> RecordError {
    RecordError::Malformed {
        line,
        reason: reason.into(),
    }
}

/// A record's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The agency's key name.
    pub issuer: String,
    /// What kind of record (a token such as `e-certificate`).
    pub kind: String,
    /// The agency's identifier, unique per issuer and kind.
    pub id: String,
    /// SHA-256 of the document.
    pub digest: [u8; 32],
    /// RFC 3339 UTC time of issue, e.g. `2026-11-24T09:00:00Z`.
    pub issued: String,
    /// For revocations: the `(kind, id)` revoked.
    pub revokes: Option<(String, String)>,
    /// Agency-defined `key value` lines, in order.
    pub fields: Vec<(String, String)>,
}

/// Whether `s` is a token: 1–64 bytes of `[a-z0-9._-]`, starting with a
/// letter or digit.
pub fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_VALUE_LEN
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn is_field_value(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_VALUE_LEN && !s.chars().any(char::is_control) && s.trim() == s
}

/// Whether `s` is an RFC 3339 UTC timestamp `YYYY-MM-DDTHH:MM:SS[.frac]Z`
/// naming a real calendar date.
pub fn is_rfc3339_utc(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 || b.len() > 30 || b[b.len() - 1] != b'Z' {
        return false;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(range)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let punct = b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[13] == b':' && b[16] == b':';
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        num(0..4),
        num(5..7),
        num(8..10),
        num(11..13),
        num(14..16),
        num(17..19),
    ) else {
        return false;
    };
    let fraction = &b[19..b.len() - 1];
    let fraction_ok = fraction.is_empty()
        || (fraction.len() >= 2
            && fraction[0] == b'.'
            && fraction[1..].iter().all(u8::is_ascii_digit));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    punct
        && fraction_ok
        && (1..=days_in_month).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60
}

impl Record {
    /// A record with no revocation and no extra fields.
    pub fn new(issuer: &str, kind: &str, id: &str, digest: [u8; 32], issued: &str) -> Record {
        Record {
            issuer: issuer.to_owned(),
            kind: kind.to_owned(),
            id: id.to_owned(),
            digest,
            issued: issued.to_owned(),
            revokes: None,
            fields: Vec::new(),
        }
    }

    /// A revocation by `issuer` of its record `(kind, id)`.
    pub fn revocation(
        issuer: &str,
        id: &str,
        digest: [u8; 32],
        issued: &str,
        revokes_kind: &str,
        revokes_id: &str,
    ) -> Record {
        Record {
            revokes: Some((revokes_kind.to_owned(), revokes_id.to_owned())),
            ..Record::new(issuer, REVOCATION, id, digest, issued)
        }
    }

    /// Checks every field against the format.
    pub fn validate(&self) -> Result<(), RecordError> {
        if !is_valid_key_name(&self.issuer) {
            return Err(malformed(2, "issuer is not a valid key name"));
        }
        if !is_token(&self.kind) {
            return Err(malformed(3, "kind is not a token of [a-z0-9._-]"));
        }
        if !is_identifier(&self.id) {
            return Err(malformed(4, "id is empty, too long or has white space"));
        }
        if !is_rfc3339_utc(&self.issued) {
            return Err(malformed(6, "issued is not an RFC 3339 UTC time"));
        }
        match (&self.revokes, self.kind == REVOCATION) {
            (None, true) => return Err(malformed(0, "a revocation needs a revokes line")),
            (Some(_), false) => return Err(malformed(7, "only a revocation has a revokes line")),
            (Some((kind, id)), true) => {
                if !is_token(kind) || kind == REVOCATION || !is_identifier(id) {
                    return Err(malformed(
                        7,
                        "revokes needs the kind and id of a non-revocation record",
                    ));
                }
            }
            (None, false) => {}
        }
        let mut seen: Vec<&str> = Vec::new();
        for (key, value) in &self.fields {
            if !is_token(key)
                || RESERVED_KEYS.contains(&key.as_str())
                || seen.contains(&key.as_str())
            {
                return Err(malformed(
                    0,
                    format!("field key {key:?} is not a new, unreserved token"),
                ));
            }
            if !is_field_value(value) {
                return Err(malformed(
                    0,
                    format!("field {key} has an empty, untrimmed or too long value"),
                ));
            }
            seen.push(key);
        }
        Ok(())
    }

    /// The record text (validated).
    pub fn to_text(&self) -> Result<String, RecordError> {
        self.validate()?;
        let mut text = format!(
            "{HEADER}\nissuer {}\nkind {}\nid {}\ndigest sha256:{}\nissued {}\n",
            self.issuer,
            self.kind,
            self.id,
            hex_encode(&self.digest),
            self.issued
        );
        if let Some((kind, id)) = &self.revokes {
            text.push_str(&format!("revokes {kind} {id}\n"));
        }
        for (key, value) in &self.fields {
            text.push_str(&format!("{key} {value}\n"));
        }
        Ok(text)
    }

    /// Parses a record text strictly.
    pub fn parse_text(text: &str) -> Result<Record, RecordError> {
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| malformed(0, "text does not end with a newline"))?;
        let lines: Vec<&str> = body.split('\n').collect();
        if lines.first() != Some(&HEADER) {
            return Err(malformed(1, "first line is not gazette.record/v1"));
        }
        let fixed = |n: usize, key: &str| -> Result<&str, RecordError> {
            lines
                .get(n - 1)
                .and_then(|l| l.strip_prefix(key))
                .and_then(|l| l.strip_prefix(' '))
                .ok_or_else(|| malformed(n, format!("expected a {key} line")))
        };
        let issuer = fixed(2, "issuer")?;
        let kind = fixed(3, "kind")?;
        let id = fixed(4, "id")?;
        let digest_hex = fixed(5, "digest")?
            .strip_prefix("sha256:")
            .ok_or_else(|| malformed(5, "digest is not sha256:<hex>"))?;
        let digest: [u8; 32] = hex_decode_lower(digest_hex)
            .and_then(|d| d.try_into().ok())
            .ok_or_else(|| malformed(5, "digest is not 64 lowercase hex digits"))?;
        let issued = fixed(6, "issued")?;
        let mut rest = 6;
        let mut revokes = None;
        if kind == REVOCATION {
            let value = fixed(7, "revokes")?;
            let (kind, id) = value
                .split_once(' ')
                .ok_or_else(|| malformed(7, "revokes needs <kind> <id>"))?;
            revokes = Some((kind.to_owned(), id.to_owned()));
            rest = 7;
        }
        let mut fields = Vec::new();
        for (i, line) in lines.iter().enumerate().skip(rest) {
            let (key, value) = line
                .split_once(' ')
                .ok_or_else(|| malformed(i + 1, "field line is not <key> <value>"))?;
            fields.push((key.to_owned(), value.to_owned()));
        }
        let record = Record {
            issuer: issuer.to_owned(),
            kind: kind.to_owned(),
            id: id.to_owned(),
            digest,
            issued: issued.to_owned(),
            revokes,
            fields,
        };
        record.validate()?;
        Ok(record)
    }

    /// Signs the record with the agency's key, which must be named `issuer`.
    pub fn sign(&self, agency: &Signer) -> Result<SignedRecord, RecordError> {
        let text = self.to_text()?;
        if agency.name() != self.issuer {
            return Err(RecordError::IssuerMismatch {
                issuer: self.issuer.clone(),
                key_name: agency.name().to_owned(),
            });
        }
        let signature = agency.sign_text(&text).map_err(RecordError::Note)?;
        let bytes = Note {
            text,
            signatures: vec![signature.clone()],
        }
        .to_bytes();
        if bytes.len() > MAX_RECORD_SIZE {
            return Err(RecordError::TooLarge { size: bytes.len() });
        }
        Ok(SignedRecord {
            record: self.clone(),
            bytes,
            signature,
        })
    }

    /// Whether `revocation` is a revocation of this record by its issuer.
    pub fn is_revoked_by(&self, revocation: &Record) -> bool {
        revocation.kind == REVOCATION
            && revocation.issuer == self.issuer
            && revocation.revokes.as_ref() == Some(&(self.kind.clone(), self.id.clone()))
    }
}

/// A record with its signature: the exact bytes of a log leaf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedRecord {
    /// The record.
    pub record: Record,
    /// The signed note bytes (the leaf).
    pub bytes: Vec<u8>,
    /// The agency's signature.
    pub signature: NoteSignature,
}

impl SignedRecord {
    /// Parses a signed record without verifying its signature: the format,
    /// the size, exactly one signature line, by a key named as the issuer.
    pub fn parse(bytes: &[u8]) -> Result<SignedRecord, RecordError> {
        if bytes.len() > MAX_RECORD_SIZE {
            return Err(RecordError::TooLarge { size: bytes.len() });
        }
        SignedRecord::parse_owned(bytes.to_vec())
    }

    /// [`SignedRecord::parse`], keeping `bytes` rather than a copy (a big
    /// batch is not held twice).
    pub fn parse_owned(bytes: Vec<u8>) -> Result<SignedRecord, RecordError> {
        if bytes.len() > MAX_RECORD_SIZE {
            return Err(RecordError::TooLarge { size: bytes.len() });
        }
        let note = Note::parse(&bytes).map_err(RecordError::Note)?;
        let record = Record::parse_text(&note.text)?;
        let [signature] = <[NoteSignature; 1]>::try_from(note.signatures)
            .map_err(|sigs| RecordError::SignatureCount { count: sigs.len() })?;
        if signature.name != record.issuer {
            return Err(RecordError::IssuerMismatch {
                issuer: record.issuer,
                key_name: signature.name,
            });
        }
        Ok(SignedRecord {
            record,
            bytes,
            signature,
        })
    }

    /// Parses and verifies a signed record against registered agency keys.
    ///
    /// The signature is checked with the ZIP-215 rules (cofactored), the
    /// rules under which [`SignedRecord::verify_many`]'s batch equation and
    /// single verification agree exactly, so the log and every client accept
    /// the same records. Every signature Go's `crypto/ed25519` accepts is
    /// accepted; beyond that only signatures their key holder deliberately
    /// made with small-order components, which prove nothing less: forging
    /// still needs the agency's key.
    pub fn verify(bytes: &[u8], agencies: &[Verifier]) -> Result<SignedRecord, RecordError> {
        let signed = SignedRecord::parse(bytes)?;
        signed.verify_signature(agencies)?;
        Ok(signed)
    }

    /// [`SignedRecord::verify`] for a record already parsed: checks its
    /// signature with the ZIP-215 rules and returns the registered key
    /// that made it.
    pub fn verify_signature<'a>(
        &self,
        agencies: &'a [Verifier],
    ) -> Result<&'a Verifier, RecordError> {
        let key = self.agency_key(agencies)?;
        let signature = self.ed25519_signature()?;
        ed25519_zebra::VerificationKey::try_from(key.public_key())
            .and_then(|zebra| zebra.verify(&signature, self.text_bytes()))
            .map(|()| key)
            .map_err(|_| self.bad_signature())
    }

    /// Verifies many signed records with one batch equation (about four
    /// times faster than one by one when few agencies sign many records),
    /// with exactly [`SignedRecord::verify`]'s result for each record: when a
    /// batch fails it is split in halves until the bad records are named.
    pub fn verify_many(
        records: &[&[u8]],
        agencies: &[Verifier],
    ) -> Vec<Result<SignedRecord, RecordError>> {
        SignedRecord::verify_parsed(records.iter().map(|r| SignedRecord::parse(r)), agencies)
    }

    /// Drops the parsed extra fields, which stay in [`SignedRecord::bytes`]:
    /// a log sequences and indexes a record by its reserved keys alone, and
    /// a batch of field-heavy records would otherwise be held twice.
    pub fn forget_fields(&mut self) {
        self.record.fields = Vec::new();
    }

    /// [`SignedRecord::verify_many`] of records it takes, each kept rather
    /// than copied.
    pub fn verify_many_owned(
        records: Vec<Vec<u8>>,
        agencies: &[Verifier],
    ) -> Vec<Result<SignedRecord, RecordError>> {
        SignedRecord::verify_parsed(records.into_iter().map(SignedRecord::parse_owned), agencies)
    }

    fn verify_parsed(
        parsed: impl ExactSizeIterator<Item = Result<SignedRecord, RecordError>>,
        agencies: &[Verifier],
    ) -> Vec<Result<SignedRecord, RecordError>> {
        let mut results: Vec<Result<SignedRecord, RecordError>> = Vec::with_capacity(parsed.len());
        let mut signed: Vec<(usize, SignedRecord, ed25519_zebra::batch::Item)> = Vec::new();
        for (slot, parsed) in parsed.enumerate() {
            let prepared = parsed.and_then(|record| {
                let key = record.agency_key(agencies)?.public_key();
                let signature = record.ed25519_signature()?;
                let item = ed25519_zebra::batch::Item::from((
                    ed25519_zebra::VerificationKeyBytes::from(key),
                    signature,
                    record.text_bytes(),
                ));
                Ok((record, item))
            });
            match prepared {
                Ok((record, item)) => {
                    // A placeholder, replaced once the batch has spoken.
                    results.push(Err(record.bad_signature()));
                    signed.push((slot, record, item));
                }
                Err(e) => results.push(Err(e)),
            }
        }
        let items: Vec<&ed25519_zebra::batch::Item> = signed.iter().map(|(_, _, i)| i).collect();
        let mut valid = vec![false; items.len()];
        verify_batch_or_split(&items, &mut valid);
        for ((slot, record, _), ok) in signed.into_iter().zip(valid) {
            if ok {
                results[slot] = Ok(record);
            }
        }
        results
    }

    /// The registered key that must have signed this record.
    fn agency_key<'a>(&self, agencies: &'a [Verifier]) -> Result<&'a Verifier, RecordError> {
        agencies
            .iter()
            .find(|k| {
                k.key_type() == KeyType::Ed25519
                    && k.name() == self.record.issuer
                    && k.key_id() == self.signature.key_id
            })
            .ok_or_else(|| RecordError::UnknownIssuer {
                issuer: self.record.issuer.clone(),
                key_id: self.signature.key_id,
            })
    }

    /// The signature as an Ed25519 signature (64 bytes).
    fn ed25519_signature(&self) -> Result<ed25519_zebra::Signature, RecordError> {
        let bytes: [u8; 64] = self
            .signature
            .signature
            .as_slice()
            .try_into()
            .map_err(|_| self.bad_signature())?;
        Ok(ed25519_zebra::Signature::from_bytes(&bytes))
    }

    fn bad_signature(&self) -> RecordError {
        RecordError::BadSignature {
            issuer: self.record.issuer.clone(),
        }
    }

    /// The signed text: the record's note without its signature line.
    pub fn text_bytes(&self) -> &[u8] {
        let len = self.bytes.len() - self.signature.line_len() - 1;
        &self.bytes[..len]
    }

    /// The RFC 6962 leaf hash of the record.
    pub fn leaf_hash(&self) -> Hash {
        leaf_hash(&self.bytes)
    }
}

/// Batches at most this small are checked one signature at a time when
/// their batch fails: halving further costs more than it saves.
const SINGLE_BELOW: usize = 8;

/// The batch equation's random coefficients (16 bytes per signature,
/// unknown to whoever signed), asked of the OS in one call per batch: the
/// verifier asks its generator once per signature, and a system call each
/// was 3–4 % of the server's verification time.
struct BatchRandomness {
    bytes: Vec<u8>,
    at: usize,
}

impl BatchRandomness {
    fn for_signatures(count: usize) -> BatchRandomness {
        let mut bytes = vec![0u8; count.saturating_mul(16)];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
        BatchRandomness { bytes, at: 0 }
    }
}

impl rand_core::RngCore for BatchRandomness {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }

    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }

    /// The next bytes fetched, each used once; from the OS directly once
    /// they run out.
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        match self.bytes.get(self.at..self.at + dest.len()) {
            Some(fetched) => {
                dest.copy_from_slice(fetched);
                self.at += dest.len();
            }
            None => rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, dest),
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core::CryptoRng for BatchRandomness {}

/// Sets `valid[i]` for each item whose signature verifies: one batch
/// equation for all, halved recursively where it fails.
fn verify_batch_or_split(items: &[&ed25519_zebra::batch::Item], valid: &mut [bool]) {
    if items.is_empty() {
        return;
    }
    if items.len() < SINGLE_BELOW {
        for (item, ok) in items.iter().zip(valid.iter_mut()) {
            *ok = (*item).clone().verify_single().is_ok();
        }
        return;
    }
    let mut batch = ed25519_zebra::batch::Verifier::new();
    for item in items {
        batch.queue((*item).clone());
    }
    if batch
        .verify(BatchRandomness::for_signatures(items.len()))
        .is_ok()
    {
        valid.fill(true);
        return;
    }
    let half = items.len() / 2;
    let (left_valid, right_valid) = valid.split_at_mut(half);
    verify_batch_or_split(&items[..half], left_valid);
    verify_batch_or_split(&items[half..], right_valid);
}

#[cfg(test)]
mod tests {
    use rand_core::RngCore;

    use super::BatchRandomness;

    #[test]
    fn each_fetched_byte_is_handed_out_once_then_the_os_takes_over() {
        let mut rng = BatchRandomness::for_signatures(2);
        let fetched = rng.bytes.clone();
        let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
        rng.fill_bytes(&mut a);
        rng.fill_bytes(&mut b);
        assert_eq!([a, b].concat(), fetched);
        assert_ne!(a, b);
        let mut c = [0u8; 16];
        rng.fill_bytes(&mut c);
        assert_ne!(c, a);
        assert_ne!(c, b);
        assert_eq!(rng.at, 32);
    }
}
