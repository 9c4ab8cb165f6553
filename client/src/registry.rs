//! The agency registry (`gazette.agency/v1`): which keys an agency signs
//! with, and from when to when, as entries of the log itself. The log's
//! operator registers, retires and declares compromised agency keys by
//! logging signed registry entries; every verifier folds an agency's
//! entries into its [`AgencyHistory`] and accepts a record only under a
//! key whose window covers the record's index. So the keys are public
//! history, proven by the verifiable index (`docs/INDEX.md`, the agency
//! key), not the log's word of the moment.
//!
//! An entry is a signed note (c2sp.org/signed-note) whose text is exactly
//!
//! ```text
//! gazette.agency/v1
//! log <the log's origin>
//! agency <agency name>
//! <register | retire | compromised> <the agency key's vkey>
//! [from <index>]
//! time <RFC 3339 UTC>
//! ```
//!
//! signed by the log's own key (named as the origin, the key every
//! verifier's policy already names), and, where [`AgencyHistory::apply`]
//! says so, also by one of the agency's current keys. The rules, for an
//! entry logged at index `j`:
//!
//! - **register** `K`: `K` is named as the agency, Ed25519, never
//!   registered to it before, and its key ID differs from the agency's
//!   other keys'. Records signed with `K` are valid from index `j` on (or
//!   from `from`, at most `j`: a log from before the registry logs its
//!   agencies with the size they were registered at). When the agency
//!   still has a current key, one of those keys must sign it too: a
//!   rotation is the agency's decision. `from` is a migration's only: it is
//!   allowed, without a co-signature, while the agency's history holds
//!   nothing but registrations with `from`, and refused otherwise.
//! - **retire** `K`: `K` is current; one of the agency's current keys
//!   (`K` itself, say) signs too. Records under `K` are valid only below
//!   `from` (default `j`).
//! - **compromised** `K`: `K` is registered; the log's signature suffices
//!   (the agency may have lost every key). Records under `K` are valid
//!   only below `from` (default `j`), which may reach back before `j` and
//!   before a retirement: records logged before it stay valid.
//!
//! `from`, when present, is at most `j`. An entry breaking a rule is
//! refused by the log and, in a list a log serves, ignored and reported
//! ([`AgencyHistory::problems`]).

use std::collections::BTreeMap;

use crate::encoding::parse_decimal;
use crate::note::{KeyType, Note, NoteSignature, Signer, Verifier, is_valid_key_name};
use crate::record::{SignedRecord, is_rfc3339_utc};

/// The first line of a registry entry.
pub const HEADER: &str = "gazette.agency/v1";
/// Largest registry entry.
pub const MAX_REGISTRY_ENTRY_SIZE: usize = 16 * 1024;
/// Most signature lines on a registry entry.
pub const MAX_REGISTRY_SIGNATURES: usize = 8;

/// What an entry does to a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// The agency signs records with the key from now (or `from`) on.
    Register,
    /// The agency stopped using the key.
    Retire,
    /// Someone else may hold the key.
    Compromised,
}

impl Action {
    /// The word on the entry's action line.
    pub fn word(self) -> &'static str {
        match self {
            Action::Register => "register",
            Action::Retire => "retire",
            Action::Compromised => "compromised",
        }
    }

    fn from_word(word: &str) -> Option<Action> {
        [Action::Register, Action::Retire, Action::Compromised]
            .into_iter()
            .find(|a| a.word() == word)
    }
}

/// A registry entry's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryEntry {
    /// The origin of the log it belongs to.
    pub log: String,
    /// The agency (its keys' name).
    pub agency: String,
    /// What it does.
    pub action: Action,
    /// The agency key it concerns.
    pub key: Verifier,
    /// The first index the change applies to, when not the entry's own.
    pub from: Option<u64>,
    /// When it was written, as its signers say.
    pub time: String,
}

/// Why a registry entry does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryEntryError {
    /// Larger than [`MAX_REGISTRY_ENTRY_SIZE`].
    #[error("registry entry of {size} bytes exceeds {MAX_REGISTRY_ENTRY_SIZE}")]
    TooLarge {
        /// Its size.
        size: usize,
    },
    /// Not a signed note, or too many signatures.
    #[error("registry entry: {0}")]
    Note(String),
    /// The text breaks the format (1-based line number, 0 = whole).
    #[error("malformed registry entry (line {line}): {reason}")]
    Malformed {
        /// The line, from 1; 0 for the text as a whole.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

fn malformed(line: usize, reason: impl Into<String>) -> RegistryEntryError {
    RegistryEntryError::Malformed {
        line,
        reason: reason.into(),
    }
}

impl RegistryEntry {
    /// Checks every field against the format.
    pub fn validate(&self) -> Result<(), RegistryEntryError> {
        if !is_valid_key_name(&self.log) {
            return Err(malformed(2, "log is not a valid key name"));
        }
        if !is_valid_key_name(&self.agency) {
            return Err(malformed(3, "agency is not a valid key name"));
        }
        if self.key.name() != self.agency {
            return Err(malformed(
                4,
                format!("the key is named {}, not {}", self.key.name(), self.agency),
            ));
        }
        if self.key.key_type() != KeyType::Ed25519 || self.key.is_weak() {
            return Err(malformed(
                4,
                "an agency key is an Ed25519 key of full order",
            ));
        }
        if !self.key.is_canonical() {
            return Err(malformed(4, "the key is not in its canonical encoding"));
        }
        if !is_rfc3339_utc(&self.time) {
            let line = if self.from.is_some() { 6 } else { 5 };
            return Err(malformed(line, "time is not an RFC 3339 UTC time"));
        }
        Ok(())
    }

    /// The entry's text (validated), to be signed.
    pub fn to_text(&self) -> Result<String, RegistryEntryError> {
        self.validate()?;
        let mut text = format!(
            "{HEADER}\nlog {}\nagency {}\n{} {}\n",
            self.log,
            self.agency,
            self.action.word(),
            self.key
        );
        if let Some(from) = self.from {
            text.push_str(&format!("from {from}\n"));
        }
        text.push_str(&format!("time {}\n", self.time));
        Ok(text)
    }

    /// The entry signed by `signers` (the log's key, and an agency key
    /// where the rules want one).
    pub fn sign(&self, signers: &[&Signer]) -> Result<SignedRegistryEntry, RegistryEntryError> {
        let text = self.to_text()?;
        let note = crate::note::sign(&text, signers)
            .map_err(|e| RegistryEntryError::Note(e.to_string()))?;
        SignedRegistryEntry::parse(note.as_bytes())
    }

    /// Parses an entry's text strictly: the lines in their order, nothing
    /// else.
    pub fn parse_text(text: &str) -> Result<RegistryEntry, RegistryEntryError> {
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| malformed(0, "text does not end with a newline"))?;
        let lines: Vec<&str> = body.split('\n').collect();
        if lines.first() != Some(&HEADER) {
            return Err(malformed(1, "first line is not gazette.agency/v1"));
        }
        let field = |n: usize, key: &str| -> Result<&str, RegistryEntryError> {
            lines
                .get(n)
                .and_then(|line| line.strip_prefix(key))
                .and_then(|rest| rest.strip_prefix(' '))
                .ok_or_else(|| malformed(n + 1, format!("expected `{key} <value>`")))
        };
        let log = field(1, "log")?;
        let agency = field(2, "agency")?;
        let (word, vkey) = lines
            .get(3)
            .and_then(|line| line.split_once(' '))
            .ok_or_else(|| malformed(4, "expected `register|retire|compromised <vkey>`"))?;
        let action = Action::from_word(word).ok_or_else(|| {
            malformed(
                4,
                format!("{word:?} is not register, retire or compromised"),
            )
        })?;
        let key = Verifier::parse(vkey).map_err(|e| malformed(4, e.to_string()))?;
        let (from, time_line) = match lines.get(4).and_then(|l| l.strip_prefix("from ")) {
            Some(n) => (
                Some(parse_decimal(n).ok_or_else(|| malformed(5, "from is not a decimal index"))?),
                5,
            ),
            None => (None, 4),
        };
        let time = field(time_line, "time")?;
        if lines.len() != time_line + 1 {
            return Err(malformed(time_line + 2, "unexpected line after time"));
        }
        let entry = RegistryEntry {
            log: log.to_owned(),
            agency: agency.to_owned(),
            action,
            key,
            from,
            time: time.to_owned(),
        };
        entry.validate()?;
        Ok(entry)
    }
}

/// A registry entry with its signatures: the exact bytes of a log entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedRegistryEntry {
    /// The entry.
    pub entry: RegistryEntry,
    /// The signed note bytes (the leaf).
    pub bytes: Vec<u8>,
    /// The signed text.
    pub text: String,
    /// Its signature lines.
    pub signatures: Vec<NoteSignature>,
}

impl SignedRegistryEntry {
    /// Parses a signed registry entry without verifying any signature: the
    /// size, the note syntax with 1 to [`MAX_REGISTRY_SIGNATURES`]
    /// signatures, the text's format.
    pub fn parse(bytes: &[u8]) -> Result<SignedRegistryEntry, RegistryEntryError> {
        if bytes.len() > MAX_REGISTRY_ENTRY_SIZE {
            return Err(RegistryEntryError::TooLarge { size: bytes.len() });
        }
        let note = Note::parse(bytes).map_err(|e| RegistryEntryError::Note(e.to_string()))?;
        if note.signatures.len() > MAX_REGISTRY_SIGNATURES {
            return Err(RegistryEntryError::Note(format!(
                "{} signatures, at most {MAX_REGISTRY_SIGNATURES}",
                note.signatures.len()
            )));
        }
        let entry = RegistryEntry::parse_text(&note.text)?;
        Ok(SignedRegistryEntry {
            entry,
            bytes: bytes.to_vec(),
            text: note.text,
            signatures: note.signatures,
        })
    }

    /// Whether `key` signed the entry.
    pub fn signed_by(&self, key: &Verifier) -> bool {
        self.signatures.iter().any(|s| {
            s.name == key.name()
                && s.key_id == key.key_id()
                && key.verify(self.text.as_bytes(), &s.signature)
        })
    }

    /// The entry with `signature` added (a co-signature), or `None` when
    /// that key signed already.
    pub fn with_signature(&self, signature: NoteSignature) -> Option<SignedRegistryEntry> {
        if self
            .signatures
            .iter()
            .any(|s| s.name == signature.name && s.key_id == signature.key_id)
        {
            return None;
        }
        let mut signatures = self.signatures.clone();
        signatures.push(signature);
        let note = Note {
            text: self.text.clone(),
            signatures,
        };
        SignedRegistryEntry::parse(&note.to_bytes()).ok()
    }
}

/// How a key's window ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cutoff {
    /// The index of the entry that ended it.
    pub at: u64,
    /// Records from this index on are not valid under the key.
    pub from: u64,
    /// Declared compromised (else retired).
    pub compromised: bool,
    /// The entry's time.
    pub time: String,
}

/// One key of an agency, with its window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisteredKey {
    /// The key.
    pub key: Verifier,
    /// The index of its registration.
    pub registered_at: u64,
    /// Records from this index on are valid under it (until a cut-off).
    pub valid_from: u64,
    /// The registration's time.
    pub time: String,
    /// The agency key that co-signed its registration (`name+keyid`), if one did.
    pub cosigned_by: Option<String>,
    /// The registration's `from`, if it had one (a migrated key).
    pub declared_from: Option<u64>,
    /// Its retirement or compromise, if any (the earliest `from` wins).
    pub cutoff: Option<Cutoff>,
}

impl RegisteredKey {
    /// Whether records at `index` are valid under the key.
    pub fn covers(&self, index: u64) -> bool {
        index >= self.valid_from && self.cutoff.as_ref().is_none_or(|c| index < c.from)
    }

    /// Whether the key is neither retired nor compromised.
    pub fn is_current(&self) -> bool {
        self.cutoff.is_none()
    }
}

/// Why a registry entry is refused: what the log answers and what a
/// verifier reports for an entry a log should never have logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The entry names another log.
    #[error("the entry is for log {found}, not {expected}")]
    WrongLog {
        /// This log's origin.
        expected: String,
        /// The entry's.
        found: String,
    },
    /// The log's key did not sign it.
    #[error("the entry is not signed by the log's key {log}")]
    NotSignedByLog {
        /// The log key's name.
        log: String,
    },
    /// `from` is past the entry's own index.
    #[error("from {from} is past the entry's own index {index}")]
    FromAhead {
        /// The entry's `from`.
        from: u64,
        /// Its index.
        index: u64,
    },
    /// The key was registered to the agency before (a key is registered once).
    #[error("{key} was registered to {agency} at index {at}")]
    AlreadyRegistered {
        /// The agency.
        agency: String,
        /// The key (`name+keyid`).
        key: String,
        /// Its registration.
        at: u64,
    },
    /// Another key of the agency has the same key ID.
    #[error("{agency} has another key with key ID {key_id:08x}")]
    KeyIdTaken {
        /// The agency.
        agency: String,
        /// The key ID.
        key_id: u32,
    },
    /// None of the agency's current keys signed a change that needs one.
    #[error("a {action} for {agency} must also be signed by one of its current keys ({current})")]
    NotCosigned {
        /// The agency.
        agency: String,
        /// The action's word.
        action: &'static str,
        /// The current keys, `name+keyid`, comma separated.
        current: String,
    },
    /// A registration with `from` outside a migration.
    #[error(
        "a registration with from (a backdated key) is a migration's, and {agency}'s history holds more than migrated registrations"
    )]
    Backdated {
        /// The agency.
        agency: String,
    },
    /// The key is not registered to the agency.
    #[error("{key} is not registered to {agency}")]
    NotRegistered {
        /// The agency.
        agency: String,
        /// The key (`name+keyid`).
        key: String,
    },
    /// The key's window already ends at or before this one would.
    #[error("{key} is already cut off from index {from} (entry {at})")]
    AlreadyCutOff {
        /// The key (`name+keyid`).
        key: String,
        /// Where its window ends.
        from: u64,
        /// The entry that ended it.
        at: u64,
    },
}

/// Why a record is not valid under an agency's history.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// No key of the issuer with the signature's key ID was ever registered.
    #[error("{issuer} has no registered key with key ID {key_id:08x}")]
    Unregistered {
        /// The record's issuer.
        issuer: String,
        /// The signature's key ID.
        key_id: u32,
    },
    /// The record was logged before its key's window opened.
    #[error(
        "{key} signs records from index {valid_from} (registered at {registered_at}), not at {index}"
    )]
    NotYetRegistered {
        /// The key (`name+keyid`).
        key: String,
        /// The record's index.
        index: u64,
        /// Where the window opens.
        valid_from: u64,
        /// The registration's index.
        registered_at: u64,
    },
    /// The record was logged at or after its key's cut-off.
    #[error("{key} was {} from index {} (entry {}); the record is at {index}", if .cutoff.compromised { "declared compromised" } else { "retired" }, .cutoff.from, .cutoff.at)]
    CutOff {
        /// The key (`name+keyid`).
        key: String,
        /// The record's index.
        index: u64,
        /// The cut-off.
        cutoff: Cutoff,
    },
    /// The signature does not verify under the registered key.
    #[error("the signature of {issuer} does not verify under {key}")]
    BadSignature {
        /// The record's issuer.
        issuer: String,
        /// The key (`name+keyid`).
        key: String,
    },
}

fn label(key: &Verifier) -> String {
    format!("{}+{:08x}", key.name(), key.key_id())
}

/// One agency's keys, folded from its registry entries in index order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgencyHistory {
    /// Its keys, in registration order.
    pub keys: Vec<RegisteredKey>,
    /// Every change applied: `(index, action, key)`.
    pub changes: Vec<(u64, Action, Verifier)>,
    /// Entries that broke a rule, with why (a log that serves them misbehaved).
    pub problems: Vec<(u64, RegistryError)>,
}

impl AgencyHistory {
    /// The agency's current keys (neither retired nor compromised).
    pub fn current(&self) -> impl Iterator<Item = &RegisteredKey> {
        self.keys.iter().filter(|k| k.is_current())
    }

    fn find(&self, key: &Verifier) -> Option<&RegisteredKey> {
        self.keys.iter().find(|k| &k.key == key)
    }

    /// Why `signed`, logged at `index` in the log whose key is `log`,
    /// cannot change this history, if it cannot. Checks everything
    /// [`AgencyHistory::apply`] does, changing nothing.
    pub fn check(
        &self,
        log: &Verifier,
        index: u64,
        signed: &SignedRegistryEntry,
    ) -> Result<(), RegistryError> {
        let e = &signed.entry;
        if e.log != log.name() {
            return Err(RegistryError::WrongLog {
                expected: log.name().to_owned(),
                found: e.log.clone(),
            });
        }
        if !signed.signed_by(log) {
            return Err(RegistryError::NotSignedByLog { log: label(log) });
        }
        if let Some(from) = e.from.filter(|&from| from > index) {
            return Err(RegistryError::FromAhead { from, index });
        }
        let cosigned = || self.current().any(|k| signed.signed_by(&k.key));
        let not_cosigned = || RegistryError::NotCosigned {
            agency: e.agency.clone(),
            action: e.action.word(),
            current: self
                .current()
                .map(|k| label(&k.key))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let existing = self.find(&e.key);
        match e.action {
            Action::Register => {
                if let Some(k) = existing {
                    return Err(RegistryError::AlreadyRegistered {
                        agency: e.agency.clone(),
                        key: label(&e.key),
                        at: k.registered_at,
                    });
                }
                if self.keys.iter().any(|k| k.key.key_id() == e.key.key_id()) {
                    return Err(RegistryError::KeyIdTaken {
                        agency: e.agency.clone(),
                        key_id: e.key.key_id(),
                    });
                }
                // A migration (a log from before the registry logging its
                // agencies file): the agency's history is nothing but
                // registrations with `from`.
                let migrating = self.changes.iter().all(|(_, a, _)| *a == Action::Register)
                    && self.keys.iter().all(|k| k.declared_from.is_some());
                // A `from` (a window opening before the entry) only in a
                // migration: otherwise the log could make valid, by
                // backdating a key, entries it never should have taken.
                if e.from.is_some() && !migrating {
                    return Err(RegistryError::Backdated {
                        agency: e.agency.clone(),
                    });
                }
                if e.from.is_none() && self.current().next().is_some() && !cosigned() {
                    return Err(not_cosigned());
                }
            }
            Action::Retire | Action::Compromised => {
                let k = existing.ok_or_else(|| RegistryError::NotRegistered {
                    agency: e.agency.clone(),
                    key: label(&e.key),
                })?;
                let from = e.from.unwrap_or(index);
                if let Some(c) = &k.cutoff
                    && (e.action == Action::Retire || c.from <= from)
                {
                    return Err(RegistryError::AlreadyCutOff {
                        key: label(&e.key),
                        from: c.from,
                        at: c.at,
                    });
                }
                if e.action == Action::Retire && !cosigned() {
                    return Err(not_cosigned());
                }
            }
        }
        Ok(())
    }

    /// Applies `signed`, logged at `index`, if it keeps the rules (see the
    /// module); otherwise changes nothing and says why.
    pub fn apply(
        &mut self,
        log: &Verifier,
        index: u64,
        signed: &SignedRegistryEntry,
    ) -> Result<(), RegistryError> {
        self.check(log, index, signed)?;
        let e = &signed.entry;
        let from = e.from.unwrap_or(index);
        match e.action {
            Action::Register => {
                let cosigned_by = self
                    .current()
                    .find(|k| signed.signed_by(&k.key))
                    .map(|k| label(&k.key));
                self.keys.push(RegisteredKey {
                    key: e.key.clone(),
                    registered_at: index,
                    valid_from: from,
                    time: e.time.clone(),
                    cosigned_by,
                    declared_from: e.from,
                    cutoff: None,
                });
            }
            Action::Retire | Action::Compromised => {
                let k = self
                    .keys
                    .iter_mut()
                    .find(|k| k.key == e.key)
                    .expect("checked: the key is registered");
                k.cutoff = Some(Cutoff {
                    at: index,
                    from,
                    compromised: e.action == Action::Compromised,
                    time: e.time.clone(),
                });
            }
        }
        self.changes.push((index, e.action, e.key.clone()));
        Ok(())
    }

    /// The agency's history from its registry entries `(index, bytes)` in
    /// index order (a proven lookup's list): entries breaking a rule, or
    /// not registry entries of `agency`, are left out and reported in
    /// [`AgencyHistory::problems`].
    pub fn fold<'a>(
        log: &Verifier,
        agency: &str,
        entries: impl IntoIterator<Item = (u64, &'a [u8])>,
    ) -> AgencyHistory {
        let mut history = AgencyHistory::default();
        for (index, bytes) in entries {
            let Ok(signed) = SignedRegistryEntry::parse(bytes) else {
                continue;
            };
            if signed.entry.agency != agency {
                continue;
            }
            if let Err(e) = history.apply(log, index, &signed) {
                history.problems.push((index, e));
            }
        }
        history
    }

    /// The key under which `signed`, logged at `index`, is valid: one the
    /// agency registered, whose window covers `index`, and under which the
    /// signature verifies (ZIP-215, as the log checks).
    pub fn verify_record(
        &self,
        signed: &SignedRecord,
        index: u64,
    ) -> Result<&RegisteredKey, KeyError> {
        let k = self.key_for(&signed.record.issuer, signed.signature.key_id, index)?;
        signed
            .verify_signature(std::slice::from_ref(&k.key))
            .map_err(|_| KeyError::BadSignature {
                issuer: signed.record.issuer.clone(),
                key: label(&k.key),
            })?;
        Ok(k)
    }

    /// The registered key of `issuer` with `key_id` whose window covers
    /// `index` (the signature is not checked).
    pub fn key_for(
        &self,
        issuer: &str,
        key_id: u32,
        index: u64,
    ) -> Result<&RegisteredKey, KeyError> {
        let k = self
            .keys
            .iter()
            .find(|k| k.key.name() == issuer && k.key.key_id() == key_id)
            .ok_or_else(|| KeyError::Unregistered {
                issuer: issuer.to_owned(),
                key_id,
            })?;
        if index < k.valid_from {
            return Err(KeyError::NotYetRegistered {
                key: label(&k.key),
                index,
                valid_from: k.valid_from,
                registered_at: k.registered_at,
            });
        }
        if let Some(c) = k.cutoff.as_ref().filter(|c| index >= c.from) {
            return Err(KeyError::CutOff {
                key: label(&k.key),
                index,
                cutoff: c.clone(),
            });
        }
        Ok(k)
    }
}

/// Every agency's history: what a log keeps to admit records, folded
/// from all its registry entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registry {
    /// The log's key (registry entries must carry its signature).
    pub log: Verifier,
    /// Each agency's history, by name.
    pub agencies: BTreeMap<String, AgencyHistory>,
}

impl Registry {
    /// An empty registry of the log whose key is `log`.
    pub fn new(log: Verifier) -> Registry {
        Registry {
            log,
            agencies: BTreeMap::new(),
        }
    }

    /// The registry of the log whose key is `log`, folded from registry
    /// entries `(index, bytes)` in index order; an entry that does not
    /// parse or breaks a rule is left out, and returned with why.
    pub fn fold<'a>(
        log: &Verifier,
        entries: impl IntoIterator<Item = (u64, &'a [u8])>,
    ) -> (Registry, Vec<(u64, String)>) {
        let mut registry = Registry::new(log.clone());
        let mut left_out = Vec::new();
        for (index, bytes) in entries {
            let applied = SignedRegistryEntry::parse(bytes)
                .map_err(|e| e.to_string())
                .and_then(|signed| registry.apply(index, &signed).map_err(|e| e.to_string()));
            if let Err(why) = applied {
                left_out.push((index, why));
            }
        }
        (registry, left_out)
    }

    /// Why `signed`, at `index`, cannot be applied, if it cannot.
    pub fn check(&self, index: u64, signed: &SignedRegistryEntry) -> Result<(), RegistryError> {
        let empty = AgencyHistory::default();
        let history = self.agencies.get(&signed.entry.agency).unwrap_or(&empty);
        history.check(&self.log, index, signed)
    }

    /// Applies `signed`, logged at `index` (see [`AgencyHistory::apply`]).
    pub fn apply(&mut self, index: u64, signed: &SignedRegistryEntry) -> Result<(), RegistryError> {
        self.check(index, signed)?;
        self.agencies
            .entry(signed.entry.agency.clone())
            .or_default()
            .apply(&self.log, index, signed)
    }

    /// The key of `issuer` with `key_id` whose window covers `index`.
    pub fn key_for(
        &self,
        issuer: &str,
        key_id: u32,
        index: u64,
    ) -> Result<&RegisteredKey, KeyError> {
        self.agencies
            .get(issuer)
            .ok_or_else(|| KeyError::Unregistered {
                issuer: issuer.to_owned(),
                key_id,
            })?
            .key_for(issuer, key_id, index)
    }

    /// Every current key of every agency: those that may sign new records.
    pub fn current_keys(&self) -> Vec<Verifier> {
        self.agencies
            .values()
            .flat_map(|h| h.current().map(|k| k.key.clone()))
            .collect()
    }
}

/// The keys a verifier checks an agency's records with: keys it pins
/// itself, the agencies' histories a log proved, or both (then a record
/// must be under a pinned key, inside that key's window).
#[derive(Clone, Copy, Debug, Default)]
pub struct TrustedKeys<'a> {
    /// Keys the verifier pins (`--agency`, a page's `agencies` file).
    pub pinned: &'a [Verifier],
    /// Agencies' histories, by name, folded from proven registry lookups.
    pub histories: Option<&'a BTreeMap<String, AgencyHistory>>,
}

/// Why a record is not counted as its issuer's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Untrusted {
    /// Its signature does not verify under a key the verifier trusts for
    /// it (or its key was never registered): not the agency's record; a
    /// log holding it holds a forgery.
    #[error("{0}")]
    Invalid(String),
    /// It was signed under a key since cut off (retired or declared
    /// compromised from before its index): it counts for nothing, but a
    /// log may hold it honestly (it was valid when logged).
    #[error("{0}")]
    OutsideWindow(String),
    /// It is its issuer's record under the agency's proven history, but
    /// under a key the verifier does not pin: it counts for nothing here,
    /// and is no sign of a dishonest log.
    #[error("{0}")]
    NotPinned(String),
}

impl TrustedKeys<'_> {
    /// Why `signed`, logged at `index`, is not its issuer's record under
    /// these keys, if it is not.
    pub fn check(&self, signed: &SignedRecord, index: u64) -> Result<(), Untrusted> {
        if self.pinned.is_empty() && self.histories.is_none() {
            return Err(Untrusted::Invalid("no key to check it with".into()));
        }
        let pinned = match self.pinned.is_empty() {
            true => Ok(()),
            false => signed
                .verify_signature(self.pinned)
                .map(|_| ())
                .map_err(|e| e.to_string()),
        };
        if let Some(histories) = self.histories {
            let issuer = &signed.record.issuer;
            let unregistered = || KeyError::Unregistered {
                issuer: issuer.clone(),
                key_id: signed.signature.key_id,
            };
            let checked = histories
                .get(issuer)
                .ok_or_else(unregistered)
                .and_then(|history| history.verify_record(signed, index).map(|_| ()));
            match checked {
                // The history vouches for it; the pins may not.
                Ok(()) => return pinned.map_err(Untrusted::NotPinned),
                Err(e @ KeyError::CutOff { .. }) => {
                    return Err(Untrusted::OutsideWindow(e.to_string()));
                }
                Err(e) => return Err(Untrusted::Invalid(e.to_string())),
            }
        }
        pinned.map_err(Untrusted::Invalid)
    }
}
