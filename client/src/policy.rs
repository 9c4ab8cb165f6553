//! c2sp.org/tlog-policy: which logs are trusted and which witnesses must
//! cosign, as a small text file, and its evaluation against a checkpoint.
//!
//! ```text
//! log <vkey> [<url>]
//! witness <name> <vkey> [<url>]
//! group <name> <k|any|all> <member>...
//! quorum <name|none>
//! ```
//!
//! Fields are separated by runs of spaces or tabs; blank lines and lines
//! whose first field starts with `#` are ignored (whole-line comments only).
//! Names are defined before use, witnesses and groups share one namespace,
//! `none` is reserved, a name is a member at most once in the whole file,
//! and exactly one `quorum` line names a witness or group defined above it
//! (lines may follow it). Octets 0x80-0xFF may appear in comments; names
//! and URLs must be UTF-8 here, a narrowing of the spec, where they are
//! opaque octets.
//!
//! ```
//! use gazette_client::policy::Policy;
//! let policy = Policy::parse(b"quorum none\n").unwrap();
//! assert!(policy.quorum_met(&[]));
//! ```

use std::collections::HashSet;

use crate::checkpoint::{Checkpoint, CheckpointError, VerifiedCheckpoint};
use crate::cosignature::Cosignature;
use crate::encoding::parse_decimal;
use crate::note::{self, KeyType, Note, NoteError, Verifier};

/// Largest policy file we parse.
pub const MAX_POLICY_SIZE: usize = 64 * 1024;

/// Why a policy was rejected, or a checkpoint does not satisfy it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// A line breaks the policy grammar (1-based line number).
    #[error("policy line {line}: {reason}")]
    Syntax {
        /// Line number, from 1.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The file as a whole is invalid.
    #[error("policy: {reason}")]
    Invalid {
        /// What is wrong.
        reason: String,
    },
    /// The checkpoint's origin is not a log of the policy.
    #[error("no log in the policy has origin {origin:?}")]
    UnknownLog {
        /// Origin of the checkpoint.
        origin: String,
    },
    /// The checkpoint is malformed or its log signature is bad.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// Too few witnesses cosigned.
    #[error("quorum not met for {origin} size {size}: cosigned by [{}]", .cosigned_by.join(", "))]
    QuorumNotMet {
        /// Origin of the checkpoint.
        origin: String,
        /// Tree size of the checkpoint.
        size: u64,
        /// Policy names of the witnesses whose cosignatures verified.
        cosigned_by: Vec<String>,
    },
}

/// A trusted log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyLog {
    /// The log's key; its name is the log's origin.
    pub verifier: Verifier,
    /// Where the log can be reached, if given.
    pub url: Option<String>,
}

/// A witness of the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyWitness {
    /// The witness's name in this policy.
    pub name: String,
    /// Its cosigner (`0x04`) key.
    pub verifier: Verifier,
    /// Its submission prefix, if given.
    pub url: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Member {
    Witness(usize),
    Group(usize),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Group {
    name: String,
    threshold: usize,
    members: Vec<Member>,
}

/// A parsed policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    logs: Vec<PolicyLog>,
    witnesses: Vec<PolicyWitness>,
    groups: Vec<Group>,
    /// `None` is `quorum none`.
    quorum: Option<Member>,
}

fn syntax(line: usize, reason: impl Into<String>) -> PolicyError {
    PolicyError::Syntax {
        line,
        reason: reason.into(),
    }
}

#[derive(Default)]
struct Builder {
    logs: Vec<PolicyLog>,
    witnesses: Vec<PolicyWitness>,
    groups: Vec<Group>,
    quorum: Option<Option<Member>>,
    used_members: HashSet<String>,
}

impl Builder {
    fn lookup(&self, name: &str) -> Option<Member> {
        if let Some(i) = self.witnesses.iter().position(|w| w.name == name) {
            return Some(Member::Witness(i));
        }
        self.groups
            .iter()
            .position(|g| g.name == name)
            .map(Member::Group)
    }

    fn check_new_name(&self, line: usize, name: &str) -> Result<(), PolicyError> {
        if name == "none" {
            return Err(syntax(line, "the name none is reserved"));
        }
        if self.lookup(name).is_some() {
            return Err(syntax(line, format!("name {name:?} is already defined")));
        }
        Ok(())
    }

    fn line(&mut self, n: usize, fields: &[&str]) -> Result<(), PolicyError> {
        match fields {
            ["log", vkey, rest @ ..] if rest.len() <= 1 => {
                let verifier = parse_key(n, vkey, KeyType::Ed25519)?;
                if self
                    .logs
                    .iter()
                    .any(|l| l.verifier.public_key() == verifier.public_key())
                {
                    return Err(syntax(n, "duplicate log key"));
                }
                self.logs.push(PolicyLog {
                    verifier,
                    url: rest.first().map(|u| (*u).to_owned()),
                });
            }
            ["witness", name, vkey, rest @ ..] if rest.len() <= 1 => {
                self.check_new_name(n, name)?;
                let verifier = parse_key(n, vkey, KeyType::Cosignature)?;
                if self
                    .witnesses
                    .iter()
                    .any(|w| w.verifier.public_key() == verifier.public_key())
                {
                    return Err(syntax(n, "the same witness key is listed twice"));
                }
                self.witnesses.push(PolicyWitness {
                    name: (*name).to_owned(),
                    verifier,
                    url: rest.first().map(|u| (*u).to_owned()),
                });
            }
            ["group", name, threshold, members @ ..] if !members.is_empty() => {
                self.check_new_name(n, name)?;
                let mut resolved = Vec::with_capacity(members.len());
                for member in members {
                    if *member == "none" {
                        return Err(syntax(n, "none cannot be a group member"));
                    }
                    let found = self.lookup(member).ok_or_else(|| {
                        syntax(n, format!("member {member:?} is not defined above"))
                    })?;
                    if !self.used_members.insert((*member).to_owned()) {
                        return Err(syntax(
                            n,
                            format!("{member:?} is already a member of a group"),
                        ));
                    }
                    resolved.push(found);
                }
                let threshold = match *threshold {
                    "any" => 1,
                    "all" => resolved.len(),
                    k => match parse_decimal(k) {
                        Some(k) if k >= 1 && k as usize <= resolved.len() => k as usize,
                        _ => {
                            return Err(syntax(
                                n,
                                format!(
                                    "threshold {k:?} is not any, all or 1..={}",
                                    resolved.len()
                                ),
                            ));
                        }
                    },
                };
                self.groups.push(Group {
                    name: (*name).to_owned(),
                    threshold,
                    members: resolved,
                });
            }
            ["quorum", name] => {
                if self.quorum.is_some() {
                    return Err(syntax(n, "a second quorum line"));
                }
                let quorum = if *name == "none" {
                    None
                } else {
                    Some(self.lookup(name).ok_or_else(|| {
                        syntax(n, format!("quorum {name:?} is not defined above"))
                    })?)
                };
                self.quorum = Some(quorum);
            }
            [keyword, ..] if matches!(*keyword, "log" | "witness" | "group" | "quorum") => {
                return Err(syntax(n, format!("wrong number of fields for {keyword}")));
            }
            [keyword, ..] => return Err(syntax(n, format!("unknown keyword {keyword:?}"))),
            [] => return Err(syntax(n, "empty line")),
        }
        Ok(())
    }
}

fn parse_key(line: usize, vkey: &str, want: KeyType) -> Result<Verifier, PolicyError> {
    let verifier = Verifier::parse(vkey).map_err(|e| syntax(line, e.to_string()))?;
    if verifier.key_type() != want {
        return Err(syntax(
            line,
            format!(
                "{} has key type {:?}, expected {want:?}",
                verifier.name(),
                verifier.key_type()
            ),
        ));
    }
    Ok(verifier)
}

impl Policy {
    /// Parses a policy file strictly.
    pub fn parse(text: &[u8]) -> Result<Policy, PolicyError> {
        if text.len() > MAX_POLICY_SIZE {
            return Err(PolicyError::Invalid {
                reason: format!("larger than {MAX_POLICY_SIZE} bytes"),
            });
        }
        let mut builder = Builder::default();
        for (i, line) in text.split(|&b| b == b'\n').enumerate() {
            let n = i + 1;
            if let Some(bad) = line
                .iter()
                .find(|&&b| !(b == b'\t' || (0x20..=0x7e).contains(&b) || b >= 0x80))
            {
                return Err(syntax(n, format!("disallowed byte 0x{bad:02x}")));
            }
            // Blank and comment lines are skipped before the UTF-8 check:
            // the spec lets comments carry any octet 0x80-0xFF.
            if line
                .iter()
                .find(|&&b| b != b' ' && b != b'\t')
                .is_none_or(|&b| b == b'#')
            {
                continue;
            }
            let line = std::str::from_utf8(line).map_err(|_| syntax(n, "not UTF-8"))?;
            let fields: Vec<&str> = line.split([' ', '\t']).filter(|f| !f.is_empty()).collect();
            builder.line(n, &fields)?;
        }
        let quorum = builder.quorum.ok_or_else(|| PolicyError::Invalid {
            reason: "no quorum line".to_owned(),
        })?;
        Ok(Policy {
            logs: builder.logs,
            witnesses: builder.witnesses,
            groups: builder.groups,
            quorum,
        })
    }

    /// The trusted logs.
    pub fn logs(&self) -> &[PolicyLog] {
        &self.logs
    }

    /// The witnesses.
    pub fn witnesses(&self) -> &[PolicyWitness] {
        &self.witnesses
    }

    fn member_met(&self, member: Member, cosigned: &[bool]) -> bool {
        match member {
            Member::Witness(i) => cosigned[i],
            Member::Group(g) => {
                let group = &self.groups[g];
                let met = group
                    .members
                    .iter()
                    .filter(|m| self.member_met(**m, cosigned))
                    .count();
                met >= group.threshold
            }
        }
    }

    /// Whether a checkpoint needs any cosignature under this policy (not
    /// so with `quorum none`, or a quorum no witness is needed for).
    pub fn requires_witnesses(&self) -> bool {
        !self.quorum_met(&[])
    }

    /// Whether the witnesses named (by their policy names) satisfy the
    /// quorum.
    pub fn quorum_met(&self, witness_names: &[&str]) -> bool {
        let cosigned: Vec<bool> = self
            .witnesses
            .iter()
            .map(|w| witness_names.contains(&w.name.as_str()))
            .collect();
        match self.quorum {
            None => true,
            Some(member) => self.member_met(member, &cosigned),
        }
    }

    /// Verifies a signed checkpoint: signed by a listed log whose key name
    /// is the origin, with cosignatures satisfying the quorum. Signatures by
    /// unknown keys are ignored; a bad signature by a known key fails.
    pub fn verify_checkpoint(&self, note_bytes: &[u8]) -> Result<VerifiedCheckpoint, PolicyError> {
        let parsed = Note::parse(note_bytes).map_err(CheckpointError::from)?;
        let checkpoint = Checkpoint::parse(&parsed.text)?;
        let mut known: Vec<Verifier> = self
            .logs
            .iter()
            .filter(|l| l.verifier.name() == checkpoint.origin)
            .map(|l| l.verifier.clone())
            .collect();
        if known.is_empty() {
            return Err(PolicyError::UnknownLog {
                origin: checkpoint.origin,
            });
        }
        let log_count = known.len();
        known.extend(self.witnesses.iter().map(|w| w.verifier.clone()));
        let opened = note::open(note_bytes, &known).map_err(CheckpointError::from)?;
        let signed_by = |v: &Verifier| {
            opened
                .verified
                .iter()
                .any(|s| s.name == v.name() && s.key_id == v.key_id())
        };
        if !known[..log_count].iter().any(signed_by) {
            return Err(CheckpointError::Note(NoteError::Unverified {
                signers: opened.verified.iter().map(|s| s.key_label()).collect(),
            })
            .into());
        }
        let mut cosignatures = Vec::new();
        for witness in &self.witnesses {
            if let Some(sig) = opened.verified.iter().find(|s| {
                s.name == witness.verifier.name() && s.key_id == witness.verifier.key_id()
            }) {
                let cosig = Cosignature::from_note_signature(sig).map_err(|_| {
                    CheckpointError::Note(NoteError::InvalidSignature {
                        name: sig.name.clone(),
                        key_id: sig.key_id,
                    })
                })?;
                cosignatures.push((witness.name.clone(), cosig));
            }
        }
        let names: Vec<&str> = cosignatures.iter().map(|(n, _)| n.as_str()).collect();
        if !self.quorum_met(&names) {
            return Err(PolicyError::QuorumNotMet {
                origin: checkpoint.origin,
                size: checkpoint.size,
                cosigned_by: names.iter().map(|n| (*n).to_owned()).collect(),
            });
        }
        Ok(VerifiedCheckpoint {
            checkpoint,
            note: String::from_utf8_lossy(note_bytes).into_owned(),
            cosignatures,
        })
    }
}
