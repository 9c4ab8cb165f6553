//! The agency registry (`gazette.agency/v1`, `client/src/registry.rs`):
//! the entry's one text form (known answers, round trips, must-reject
//! inputs with the line they fail on), the rules an entry must keep to
//! change an agency's history, the windows that history gives its keys,
//! folding a proven lookup's list, and a property test of the rules
//! against a naive model.

use std::collections::{BTreeMap, HashMap};

use gazette_client::Hash;
use gazette_client::encoding::b64_encode;
use gazette_client::index::commitment::{IndexCommitment, Segment};
use gazette_client::index::lookup::{
    ListedEntry, LookupError, LookupKey, LookupProof, verify_lookup,
};
use gazette_client::index::tree::{Position, StoredNode, prove, update};
use gazette_client::index::{ListValue, Lists, agency_key, file_entry, keys_of_entry};
use gazette_client::merkle::{leaf_hash, prove_inclusion, stored_hashes_for_leaf, tree_hash};
use gazette_client::note::{KeyType, Note, NoteSignature, Signer, Verifier, key_id};
use gazette_client::record::{Record, SignedRecord};
use gazette_client::registry::{
    Action, AgencyHistory, Cutoff, KeyError, MAX_REGISTRY_ENTRY_SIZE, MAX_REGISTRY_SIGNATURES,
    Registry, RegistryEntry, RegistryEntryError, RegistryError, SignedRegistryEntry, TrustedKeys,
    Untrusted,
};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

const LOG: &str = "gazette.example.gov/log";
const AGENCY: &str = "land-registry.example.gov";
const CITY: &str = "city.example.gov";
const TIME: &str = "2026-11-24T09:00:00Z";

/// Two seeds whose keys, named [`AGENCY`], share the key ID `243ce7fd`
/// (found by searching seeds `[i as u32 BE, 0x5a; 28]`).
const COLLIDING_SEEDS: [u32; 2] = [72_307, 129_507];

fn log_key() -> Signer {
    Signer::from_seed(LOG, KeyType::Ed25519, [0x4c; 32]).unwrap()
}

/// Agency key `n` of [`AGENCY`].
fn agency(n: u8) -> Signer {
    Signer::from_seed(AGENCY, KeyType::Ed25519, [0x20 + n; 32]).unwrap()
}

fn colliding(i: usize) -> Signer {
    let mut seed = [0x5a; 32];
    seed[..4].copy_from_slice(&COLLIDING_SEEDS[i].to_be_bytes());
    Signer::from_seed(AGENCY, KeyType::Ed25519, seed).unwrap()
}

fn city() -> Signer {
    Signer::from_seed(CITY, KeyType::Ed25519, [0x30; 32]).unwrap()
}

fn label(key: &Signer) -> String {
    format!("{}+{:08x}", key.name(), key.key_id())
}

fn entry(action: Action, key: &Signer, from: Option<u64>) -> RegistryEntry {
    RegistryEntry {
        log: LOG.to_owned(),
        agency: key.name().to_owned(),
        action,
        key: key.verifier(),
        from,
        time: TIME.to_owned(),
    }
}

fn signed(
    action: Action,
    key: &Signer,
    from: Option<u64>,
    signers: &[&Signer],
) -> SignedRegistryEntry {
    entry(action, key, from).sign(signers).unwrap()
}

fn register(key: &Signer, signers: &[&Signer]) -> SignedRegistryEntry {
    signed(Action::Register, key, None, signers)
}

/// A note of `text` with `signatures`, byte for byte.
fn note(text: &str, signatures: Vec<NoteSignature>) -> Vec<u8> {
    Note {
        text: text.to_owned(),
        signatures,
    }
    .to_bytes()
}

fn record(key: &Signer, id: &str) -> SignedRecord {
    Record::new(key.name(), "property-registration", id, [0xab; 32], TIME)
        .sign(key)
        .unwrap()
}

/// A history built by applying `(index, entry)` in order, each of which
/// must be accepted.
fn history(entries: &[(u64, SignedRegistryEntry)]) -> AgencyHistory {
    let mut h = AgencyHistory::default();
    for (index, e) in entries {
        h.apply(&log_key().verifier(), *index, e)
            .unwrap_or_else(|err| panic!("entry at {index} refused: {err}"));
    }
    h
}

/// Applies `e` at `index`, which must be refused with `expected`, and
/// checks that it left the history as it was and that `check` agrees.
fn refused(h: &mut AgencyHistory, index: u64, e: &SignedRegistryEntry, expected: RegistryError) {
    let before = h.clone();
    let log = log_key().verifier();
    assert_eq!(h.check(&log, index, e), Err(expected.clone()));
    assert_eq!(h.apply(&log, index, e), Err(expected));
    assert_eq!(*h, before, "a refused entry changed the history");
}

// ---------------------------------------------------------------- the text

#[test]
fn entry_text_is_the_documented_known_answer() {
    let with_from = entry(Action::Register, &agency(1), Some(41));
    assert_eq!(
        with_from.to_text().unwrap(),
        "gazette.agency/v1\n\
         log gazette.example.gov/log\n\
         agency land-registry.example.gov\n\
         register land-registry.example.gov+407e736d+AYhLiFf06qFhPGFQTbNNS+rzRlF6DjHePN3U2bQgHZ0L\n\
         from 41\n\
         time 2026-11-24T09:00:00Z\n"
    );
    let compromised = entry(Action::Compromised, &agency(1), None);
    assert_eq!(
        compromised.to_text().unwrap(),
        "gazette.agency/v1\n\
         log gazette.example.gov/log\n\
         agency land-registry.example.gov\n\
         compromised land-registry.example.gov+407e736d+AYhLiFf06qFhPGFQTbNNS+rzRlF6DjHePN3U2bQgHZ0L\n\
         time 2026-11-24T09:00:00Z\n"
    );
}

/// The vkey and both signatures were recomputed independently with
/// Python's `cryptography` (Ed25519 from the same seeds).
#[test]
fn signed_entry_is_the_known_answer_note_and_parses_back() {
    let s = signed(
        Action::Register,
        &agency(1),
        Some(41),
        &[&log_key(), &agency(1)],
    );
    let text = entry(Action::Register, &agency(1), Some(41))
        .to_text()
        .unwrap();
    assert_eq!(
        String::from_utf8(s.bytes.clone()).unwrap(),
        format!(
            "{text}\n\
             \u{2014} gazette.example.gov/log nKxYyRa0w3rwpPKNUmwDTFjTbvL5n9dcZqU6vgJHyeGXhmFNRonwRbkrnkXaCDN1+GJYH6lnGeEIUWfbrobCCt00ngg=\n\
             \u{2014} land-registry.example.gov QH5zbd05INu6U+cL+4ezaw8pp4RUtYHJWTCYqx/hika8Ro5Cz43WwQc62/ur8UI04TmwWX4xFfFKNhl0eI4OjHzMdwI=\n"
        )
    );
    let parsed = SignedRegistryEntry::parse(&s.bytes).unwrap();
    assert_eq!(parsed, s);
    assert_eq!(parsed.text, text);
    assert_eq!(parsed.entry, entry(Action::Register, &agency(1), Some(41)));
    assert!(parsed.signed_by(&log_key().verifier()));
    assert!(parsed.signed_by(&agency(1).verifier()));
    assert!(!parsed.signed_by(&agency(2).verifier()));
}

#[test]
fn every_action_round_trips_through_text_and_signature_with_and_without_from() {
    let unicode = Signer::from_seed("土地登记.example", KeyType::Ed25519, [9; 32]).unwrap();
    for key in [agency(1), unicode] {
        for action in [Action::Register, Action::Retire, Action::Compromised] {
            for from in [None, Some(0), Some(1), Some(u64::MAX)] {
                for time in [TIME, "2024-02-29T23:59:59.123456789Z"] {
                    let e = RegistryEntry {
                        time: time.to_owned(),
                        ..entry(action, &key, from)
                    };
                    let text = e.to_text().unwrap();
                    assert_eq!(RegistryEntry::parse_text(&text), Ok(e.clone()), "{text}");
                    assert_eq!(text.contains("\nfrom "), from.is_some());
                    let s = e.sign(&[&log_key()]).unwrap();
                    let parsed = SignedRegistryEntry::parse(&s.bytes).unwrap();
                    assert_eq!(parsed.entry, e);
                    assert_eq!(parsed.text, text);
                    assert_eq!(parsed.signatures.len(), 1);
                    assert!(parsed.signed_by(&log_key().verifier()));
                }
            }
        }
    }
}

#[test]
fn with_signature_adds_each_key_once_and_at_most_eight() {
    let s = register(&agency(1), &[&log_key()]);
    assert!(!s.signed_by(&agency(1).verifier()));
    let cosigned = s
        .with_signature(agency(1).sign_text(&s.text).unwrap())
        .unwrap();
    assert!(cosigned.signed_by(&agency(1).verifier()));
    assert!(cosigned.signed_by(&log_key().verifier()));
    assert_eq!(cosigned.entry, s.entry);
    assert_eq!(
        cosigned.bytes,
        register(&agency(1), &[&log_key(), &agency(1)]).bytes
    );
    // The same key again, even with another signature: refused.
    let again = NoteSignature {
        signature: vec![0; 64],
        ..agency(1).sign_text(&s.text).unwrap()
    };
    assert_eq!(cosigned.with_signature(again), None);
    // Up to eight signatures in all.
    let mut full = s.clone();
    for n in 1..MAX_REGISTRY_SIGNATURES as u8 {
        full = full
            .with_signature(agency(n).sign_text(&s.text).unwrap())
            .unwrap();
    }
    assert_eq!(full.signatures.len(), MAX_REGISTRY_SIGNATURES);
    assert_eq!(
        full.with_signature(agency(100).sign_text(&s.text).unwrap()),
        None
    );
}

/// The text of a valid entry, with `from`, as lines to break.
fn good_lines() -> Vec<String> {
    entry(Action::Register, &agency(1), Some(41))
        .to_text()
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn join(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// A vkey named `name` for the raw Ed25519 `public` key of type `key_type`.
fn vkey(name: &str, key_type: KeyType, public: &[u8; 32]) -> String {
    let mut key = vec![key_type.type_byte()];
    key.extend_from_slice(public);
    format!(
        "{name}+{:08x}+{}",
        key_id(name, key_type, public),
        b64_encode(&key)
    )
}

/// The point with y = 3 (of full order), encoded canonically or as
/// y = 3 + p (p = 2^255 - 19), which decoders that reduce y accept.
fn y3(canonical: bool) -> [u8; 32] {
    let mut y = [0u8; 32];
    if canonical {
        y[0] = 3;
    } else {
        y = [0xff; 32];
        y[0] = 0xf0;
        y[31] = 0x7f;
    }
    y
}

/// An [`AGENCY`] vkey whose 32 bytes are not the canonical encoding of its
/// point (y = 3 + p): it parses as a vkey, but is no agency key.
fn non_canonical_vkey() -> String {
    let vkey = vkey(AGENCY, KeyType::Ed25519, &y3(false));
    let key = Verifier::parse(&vkey).unwrap();
    assert!(!key.is_canonical() && !key.is_weak());
    vkey
}

/// Malformed entry texts, each with the line it must fail on.
fn malformed_texts() -> Vec<(&'static str, String, usize)> {
    let good = good_lines();
    let with = |n: usize, line: &str| {
        let mut l = good.clone();
        l[n] = line.to_owned();
        join(&l)
    };
    let without = |n: usize| {
        let mut l = good.clone();
        l.remove(n);
        join(&l)
    };
    let swapped = |a: usize, b: usize| {
        let mut l = good.clone();
        l.swap(a, b);
        join(&l)
    };
    let key = agency(1).verifier().to_string();
    let other_name = Signer::from_seed("tax.example.gov", KeyType::Ed25519, [0x21; 32])
        .unwrap()
        .verifier()
        .to_string();
    let cosignature = Signer::from_seed(AGENCY, KeyType::Cosignature, [0x21; 32])
        .unwrap()
        .verifier()
        .to_string();
    // The identity point: a valid encoding of small order.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let weak = vkey(AGENCY, KeyType::Ed25519, &identity);
    assert!(Verifier::parse(&weak).unwrap().is_weak());
    let (_, key_b64) = key.rsplit_once('+').unwrap();
    let wrong_id = format!("{AGENCY}+{:08x}+{key_b64}", agency(1).key_id() ^ 1);
    let non_canonical = non_canonical_vkey();
    let no_from: Vec<String> = good
        .iter()
        .filter(|l| !l.starts_with("from "))
        .cloned()
        .collect();
    let without_from = |n: usize, line: &str| {
        let mut l = no_from.clone();
        l[n] = line.to_owned();
        join(&l)
    };
    vec![
        ("another version", with(0, "gazette.agency/v2"), 1),
        ("a record's header", with(0, "gazette.record/v1"), 1),
        ("an empty text", "\n".to_owned(), 1),
        ("the header missing", without(0), 1),
        ("a carriage return", good.join("\r\n") + "\r\n", 1),
        ("the log line missing", without(1), 2),
        ("log and agency swapped", swapped(1, 2), 2),
        (
            "a log that is no key name",
            with(1, "log gazette example"),
            2,
        ),
        ("an empty log", with(1, "log "), 2),
        ("the agency line missing", without(2), 3),
        (
            "an agency that is no key name",
            with(2, "agency land registry"),
            3,
        ),
        ("an agency with a plus", with(2, "agency land+registry"), 3),
        ("the action line missing", without(3), 4),
        ("an unknown action", with(3, &format!("revoke {key}")), 4),
        (
            "an action in capitals",
            with(3, &format!("Register {key}")),
            4,
        ),
        ("an action without a key", with(3, "register"), 4),
        (
            "two spaces before the key",
            with(3, &format!("register  {key}")),
            4,
        ),
        (
            "a space after the key",
            with(3, &format!("register {key} ")),
            4,
        ),
        (
            "a key named for another agency",
            with(3, &format!("register {other_name}")),
            4,
        ),
        (
            "a cosignature key",
            with(3, &format!("register {cosignature}")),
            4,
        ),
        ("a small-order key", with(3, &format!("register {weak}")), 4),
        (
            "a key not in its canonical encoding",
            with(3, &format!("register {non_canonical}")),
            4,
        ),
        (
            "a key ID not the key's",
            with(3, &format!("register {wrong_id}")),
            4,
        ),
        ("from with a leading zero", with(4, "from 041"), 5),
        ("from with a plus sign", with(4, "from +41"), 5),
        ("from negative", with(4, "from -41"), 5),
        ("from past u64", with(4, "from 18446744073709551616"), 5),
        ("from empty", with(4, "from "), 5),
        ("from in hex", with(4, "from 0x29"), 5),
        ("from with a trailing space", with(4, "from 41 "), 5),
        ("from in Arabic-Indic digits", with(4, "from ٤١"), 5),
        ("the time missing", without(5), 6),
        ("the time missing, no from", join(&no_from[..4]), 5),
        ("time before from", swapped(4, 5), 6),
        ("from twice", with(5, "from 41"), 6),
        ("a line after the time", good.join("\n") + "\nextra\n", 7),
        ("a blank line after the time", good.join("\n") + "\n\n", 7),
        (
            "a line after the time, no from",
            join(&no_from) + "note x\n",
            6,
        ),
        ("an untimed time line", with(5, "time"), 6),
        (
            "a non-UTC time",
            with(5, "time 2026-11-24T09:00:00+01:00"),
            6,
        ),
        ("no such day", with(5, "time 2026-02-29T09:00:00Z"), 6),
        ("a space for T", with(5, "time 2026-11-24 09:00:00Z"), 6),
        (
            "an empty fraction",
            with(5, "time 2026-11-24T09:00:00.Z"),
            6,
        ),
        (
            "a non-UTC time, no from",
            without_from(4, "time 2026-11-24T09:00:00+01:00"),
            5,
        ),
        (
            "no such day, no from",
            without_from(4, "time 2026-02-29T09:00:00Z"),
            5,
        ),
        ("a time in words, no from", without_from(4, "time today"), 5),
        ("no final newline", good.join("\n"), 0),
    ]
}

#[test]
fn malformed_texts_are_rejected_at_their_line() {
    for (why, text, line) in malformed_texts() {
        match RegistryEntry::parse_text(&text) {
            Err(RegistryEntryError::Malformed { line: got, reason }) => {
                assert_eq!(got, line, "{why}: {reason}\n{text}")
            }
            other => panic!("{why}: {other:?}\n{text}"),
        }
    }
}

#[test]
fn malformed_signed_entries_are_rejected_as_their_text_is() {
    for (why, text, line) in malformed_texts() {
        // Control characters and a missing final newline are the note's.
        let expected = if text.contains('\r') || !text.ends_with('\n') {
            None
        } else {
            Some(line)
        };
        let bytes = note(
            &text,
            vec![log_key().sign_text(&join(&good_lines())).unwrap()],
        );
        match (SignedRegistryEntry::parse(&bytes), expected) {
            (Err(RegistryEntryError::Malformed { line: got, .. }), Some(line)) => {
                assert_eq!(got, line, "{why}")
            }
            (Err(RegistryEntryError::Note(_)), None) => {}
            (other, _) => panic!("{why}: {other:?}"),
        }
    }
}

#[test]
fn a_key_not_in_its_canonical_encoding_is_refused_and_its_canonical_twin_is_not() {
    let refusal = RegistryEntryError::Malformed {
        line: 4,
        reason: "the key is not in its canonical encoding".to_owned(),
    };
    let twin = vkey(AGENCY, KeyType::Ed25519, &y3(true));
    let (bad, good) = (
        Verifier::parse(&non_canonical_vkey()).unwrap(),
        Verifier::parse(&twin).unwrap(),
    );
    assert!(good.is_canonical() && !good.is_weak());
    for action in [Action::Register, Action::Retire, Action::Compromised] {
        for from in [None, Some(41)] {
            let e = RegistryEntry {
                key: bad.clone(),
                ..entry(action, &agency(1), from)
            };
            assert_eq!(e.validate(), Err(refusal.clone()));
            assert_eq!(e.to_text(), Err(refusal.clone()));
            assert_eq!(e.sign(&[&log_key()]), Err(refusal.clone()));
            let twin_entry = RegistryEntry {
                key: good.clone(),
                ..entry(action, &agency(1), from)
            };
            let text = twin_entry.to_text().unwrap();
            assert_eq!(RegistryEntry::parse_text(&text), Ok(twin_entry));
            // The same text with the other encoding of the point.
            let text = text.replace(&twin, &non_canonical_vkey());
            assert_eq!(RegistryEntry::parse_text(&text), Err(refusal.clone()));
            let bytes = note(&text, vec![log_key().sign_text(&text).unwrap()]);
            assert_eq!(SignedRegistryEntry::parse(&bytes), Err(refusal.clone()));
            assert_eq!(keys_of_entry(&bytes), vec![]);
        }
    }
}

#[test]
fn sign_refuses_an_invalid_entry_before_signing() {
    let other = Signer::from_seed("tax.example.gov", KeyType::Ed25519, [0x21; 32]).unwrap();
    let cosignature = Signer::from_seed(AGENCY, KeyType::Cosignature, [0x21; 32]).unwrap();
    let non_canonical = Verifier::parse(&non_canonical_vkey()).unwrap();
    let cases = [
        (
            RegistryEntry {
                agency: AGENCY.to_owned(),
                ..entry(Action::Register, &other, None)
            },
            4,
        ),
        (entry(Action::Register, &cosignature, None), 4),
        (
            RegistryEntry {
                log: "a log".to_owned(),
                ..entry(Action::Register, &agency(1), None)
            },
            2,
        ),
        (
            RegistryEntry {
                key: non_canonical,
                ..entry(Action::Register, &agency(1), None)
            },
            4,
        ),
        (
            RegistryEntry {
                time: "yesterday".to_owned(),
                ..entry(Action::Retire, &agency(1), None)
            },
            5,
        ),
        (
            RegistryEntry {
                time: "2026-11-24T09:00:00+01:00".to_owned(),
                ..entry(Action::Compromised, &agency(1), Some(3))
            },
            6,
        ),
    ];
    for (e, line) in cases {
        assert!(
            matches!(e.sign(&[&log_key()]), Err(RegistryEntryError::Malformed { line: l, .. }) if l == line),
            "{e:?}"
        );
        assert!(e.to_text().is_err());
    }
}

#[test]
fn an_oversized_entry_is_too_large_before_anything_else() {
    let junk = vec![b'x'; MAX_REGISTRY_ENTRY_SIZE + 1];
    assert_eq!(
        SignedRegistryEntry::parse(&junk),
        Err(RegistryEntryError::TooLarge {
            size: MAX_REGISTRY_ENTRY_SIZE + 1
        })
    );
    // At the limit it is no longer "too large", just not a note.
    assert!(matches!(
        SignedRegistryEntry::parse(&junk[1..]),
        Err(RegistryEntryError::Note(_))
    ));
    // A valid entry with 60 signature lines by long names: too large
    // (before its signature count is looked at).
    let s = register(&agency(1), &[&log_key()]);
    let long = "n".repeat(255);
    let sigs = (0..60u32)
        .map(|i| NoteSignature {
            name: long.clone(),
            key_id: i,
            signature: vec![1; 64],
        })
        .collect();
    let bytes = note(&s.text, sigs);
    assert!(bytes.len() > MAX_REGISTRY_ENTRY_SIZE);
    assert_eq!(
        SignedRegistryEntry::parse(&bytes),
        Err(RegistryEntryError::TooLarge { size: bytes.len() })
    );
}

#[test]
fn more_than_eight_signatures_are_refused_and_eight_are_not() {
    let s = register(&agency(1), &[&log_key()]);
    let sigs = |n: u32| -> Vec<NoteSignature> {
        (0..n)
            .map(|i| NoteSignature {
                name: format!("witness-{i}.example"),
                key_id: i,
                signature: vec![2; 64],
            })
            .collect()
    };
    let eight = note(&s.text, sigs(MAX_REGISTRY_SIGNATURES as u32));
    assert_eq!(
        SignedRegistryEntry::parse(&eight).unwrap().signatures.len(),
        8
    );
    let nine = note(&s.text, sigs(MAX_REGISTRY_SIGNATURES as u32 + 1));
    match SignedRegistryEntry::parse(&nine) {
        Err(RegistryEntryError::Note(reason)) => {
            assert!(reason.contains("9 signatures"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_entry_without_signatures_is_not_a_signed_note() {
    let s = register(&agency(1), &[&log_key()]);
    for bytes in [format!("{}\n", s.text), s.text.clone(), String::new()] {
        assert!(
            matches!(
                SignedRegistryEntry::parse(bytes.as_bytes()),
                Err(RegistryEntryError::Note(_))
            ),
            "{bytes:?}"
        );
    }
}

// ---------------------------------------------------------------- the rules

#[test]
fn a_first_registration_needs_only_the_log_key() {
    let h = history(&[(7, register(&agency(1), &[&log_key()]))]);
    assert_eq!(h.keys.len(), 1);
    let k = &h.keys[0];
    assert_eq!(k.key, agency(1).verifier());
    assert_eq!((k.registered_at, k.valid_from), (7, 7));
    assert_eq!(k.cosigned_by, None);
    assert_eq!(k.declared_from, None);
    assert_eq!(k.cutoff, None);
    assert_eq!(k.time, TIME);
    assert_eq!(h.changes, vec![(7, Action::Register, agency(1).verifier())]);
    assert!(h.problems.is_empty());
}

#[test]
fn an_entry_without_the_log_signature_is_refused() {
    let log = format!("{LOG}+{:08x}", log_key().key_id());
    let impostor = Signer::from_seed(LOG, KeyType::Ed25519, [0x4d; 32]).unwrap();
    let mut h = AgencyHistory::default();
    for e in [
        register(&agency(1), &[&agency(1)]),
        register(&agency(1), &[&impostor]),
    ] {
        refused(
            &mut h,
            0,
            &e,
            RegistryError::NotSignedByLog { log: log.clone() },
        );
    }
    // The log's key ID on a signature that is not the log's.
    let mut forged = register(&agency(1), &[&log_key()]);
    forged.signatures[0].signature[0] ^= 1;
    refused(
        &mut h,
        0,
        &forged,
        RegistryError::NotSignedByLog { log: log.clone() },
    );
    // The log's signature over another text.
    let other = register(&agency(2), &[&log_key()]);
    let moved = SignedRegistryEntry::parse(&note(
        &register(&agency(1), &[&log_key()]).text,
        other.signatures.clone(),
    ))
    .unwrap();
    refused(&mut h, 0, &moved, RegistryError::NotSignedByLog { log });
}

#[test]
fn an_entry_for_another_log_is_refused() {
    let other_log = Signer::from_seed("other.example/log", KeyType::Ed25519, [0x4c; 32]).unwrap();
    let e = RegistryEntry {
        log: "other.example/log".to_owned(),
        ..entry(Action::Register, &agency(1), None)
    }
    .sign(&[&log_key(), &other_log])
    .unwrap();
    refused(
        &mut AgencyHistory::default(),
        0,
        &e,
        RegistryError::WrongLog {
            expected: LOG.to_owned(),
            found: "other.example/log".to_owned(),
        },
    );
}

#[test]
fn a_rotation_needs_a_cosignature_by_a_current_key() {
    let mut h = history(&[(0, register(&agency(1), &[&log_key()]))]);
    let not_cosigned = RegistryError::NotCosigned {
        agency: AGENCY.to_owned(),
        action: "register",
        current: label(&agency(1)),
    };
    // By the log alone, by the new key itself, by a stranger of the name.
    for signers in [
        vec![log_key()],
        vec![log_key(), agency(2)],
        vec![log_key(), agency(3)],
    ] {
        let refs: Vec<&Signer> = signers.iter().collect();
        refused(
            &mut h,
            5,
            &register(&agency(2), &refs),
            not_cosigned.clone(),
        );
    }
    h.apply(
        &log_key().verifier(),
        5,
        &register(&agency(2), &[&log_key(), &agency(1)]),
    )
    .unwrap();
    assert_eq!(h.keys[1].cosigned_by, Some(label(&agency(1))));
    assert_eq!(h.keys[1].valid_from, 5);
    assert_eq!(h.current().count(), 2);
}

#[test]
fn a_key_cut_off_cannot_cosign_a_rotation() {
    let mut h = history(&[
        (0, register(&agency(1), &[&log_key()])),
        (1, register(&agency(2), &[&log_key(), &agency(1)])),
        (
            2,
            signed(Action::Retire, &agency(1), None, &[&log_key(), &agency(1)]),
        ),
    ]);
    refused(
        &mut h,
        3,
        &register(&agency(3), &[&log_key(), &agency(1)]),
        RegistryError::NotCosigned {
            agency: AGENCY.to_owned(),
            action: "register",
            current: label(&agency(2)),
        },
    );
    // Once every key is cut off, the log alone registers the next one (the
    // agency may have lost them all).
    let mut h = history(&[
        (0, register(&agency(1), &[&log_key()])),
        (
            1,
            signed(Action::Compromised, &agency(1), None, &[&log_key()]),
        ),
    ]);
    h.apply(
        &log_key().verifier(),
        2,
        &register(&agency(2), &[&log_key()]),
    )
    .unwrap();
    assert_eq!(h.keys[1].cosigned_by, None);
}

/// A migration: an old log's agencies file, logged as registrations with
/// `from`, each by the log's key alone. An empty history is migrating.
#[test]
fn while_migrating_a_backdated_registration_needs_no_cosignature() {
    let mut h = history(&[(
        10,
        signed(Action::Register, &agency(1), Some(0), &[&log_key()]),
    )]);
    for (index, from, key) in [(20, 3, agency(2)), (30, 30, agency(3))] {
        h.apply(
            &log_key().verifier(),
            index,
            &signed(Action::Register, &key, Some(from), &[&log_key()]),
        )
        .unwrap();
        let k = h.keys.last().unwrap();
        assert_eq!(
            (k.registered_at, k.valid_from, k.declared_from),
            (index, from, Some(from))
        );
        assert_eq!(k.cosigned_by, None);
    }
    // With a co-signature anyway, it is recorded.
    h.apply(
        &log_key().verifier(),
        40,
        &signed(
            Action::Register,
            &agency(4),
            Some(0),
            &[&log_key(), &agency(1)],
        ),
    )
    .unwrap();
    assert_eq!(h.keys[3].cosigned_by, Some(label(&agency(1))));
    assert_eq!(h.keys[3].declared_from, Some(0));
}

/// While migrating, a registration without `from` is a rotation like any
/// other (the migrated keys are current: one must co-sign it); refused, it
/// is no part of the history and does not end the migration.
#[test]
fn a_refused_entry_does_not_end_a_migration() {
    let log = log_key();
    let migrated = |n: u8| signed(Action::Register, &agency(n), Some(0), &[&log]);
    let entries: Vec<(u64, Vec<u8>)> = vec![
        (10, migrated(1).bytes),
        (11, register(&agency(2), &[&log]).bytes),
        (12, signed(Action::Retire, &agency(1), None, &[&log]).bytes),
        (13, migrated(3).bytes),
    ];
    let h = AgencyHistory::fold(
        &log.verifier(),
        AGENCY,
        entries.iter().map(|(i, b)| (*i, b.as_slice())),
    );
    let not_cosigned = |action| RegistryError::NotCosigned {
        agency: AGENCY.to_owned(),
        action,
        current: label(&agency(1)),
    };
    assert_eq!(
        h.problems,
        vec![(11, not_cosigned("register")), (12, not_cosigned("retire"))]
    );
    assert_eq!(
        h.keys
            .iter()
            .map(|k| (k.key.clone(), k.registered_at, k.declared_from))
            .collect::<Vec<_>>(),
        vec![
            (agency(1).verifier(), 10, Some(0)),
            (agency(3).verifier(), 13, Some(0))
        ]
    );
}

/// Outside a migration `from` is refused outright, whoever co-signs it
/// and whatever it says (even the entry's own index): a backdated key
/// would make valid, after the fact, records the log should have refused.
#[test]
fn outside_a_migration_a_backdated_registration_is_refused_even_cosigned() {
    let (log, a1, a2) = (log_key(), agency(1), agency(2));
    let entries = [
        (10, register(&a1, &[&log])),
        (11, register(&a2, &[&log, &a1])),
    ];
    let mut h = history(&entries);
    let mut r = Registry::new(log.verifier());
    for (index, e) in &entries {
        r.apply(*index, e).unwrap();
    }
    let backdated = RegistryError::Backdated {
        agency: AGENCY.to_owned(),
    };
    for (from, signers) in [
        (5, vec![&log, &a1]),
        (0, vec![&log, &a2]),
        (20, vec![&log, &a1, &a2]),
        (11, vec![&log]),
    ] {
        let e = signed(Action::Register, &agency(3), Some(from), &signers);
        // `refused` checks the history is unchanged.
        refused(&mut h, 20, &e, backdated.clone());
        let before = r.clone();
        assert_eq!(r.check(20, &e), Err(backdated.clone()));
        assert_eq!(r.apply(20, &e), Err(backdated.clone()));
        assert_eq!(r, before, "a refused entry changed the registry");
    }
    // The same key, without `from` and co-signed, is a rotation.
    h.apply(&log.verifier(), 20, &register(&agency(3), &[&log, &a1]))
        .unwrap();
    let k = h.keys.last().unwrap();
    assert_eq!(
        (k.registered_at, k.valid_from, k.declared_from),
        (20, 20, None)
    );
    assert_eq!(k.cosigned_by, Some(label(&a1)));
}

/// Once an agency's history holds anything but registrations with `from`
/// (a registration without it, a retirement, a compromise), the migration
/// is over: a registration with `from` is refused, co-signed by a current
/// key or a cut-off one or not at all, and even with no current key left.
/// Without `from`, it needs a current key's co-signature if there is one.
#[test]
fn after_the_migration_a_backdated_registration_is_refused() {
    let log = || log_key();
    let migrated = |n: u8| signed(Action::Register, &agency(n), Some(0), &[&log()]);
    let histories = [
        // A registration without `from` first...
        (vec![(10, register(&agency(1), &[&log()]))], vec![agency(1)]),
        // ...or after migrated ones (co-signed, as it must be).
        (
            vec![
                (10, migrated(1)),
                (11, register(&agency(2), &[&log(), &agency(1)])),
            ],
            vec![agency(1), agency(2)],
        ),
        // A retirement of a migrated key.
        (
            vec![
                (10, migrated(1)),
                (11, migrated(2)),
                (
                    12,
                    signed(Action::Retire, &agency(1), None, &[&log(), &agency(1)]),
                ),
            ],
            vec![agency(2)],
        ),
        // A compromise of one, backdated before both registrations.
        (
            vec![
                (10, migrated(1)),
                (11, migrated(2)),
                (
                    12,
                    signed(Action::Compromised, &agency(2), Some(0), &[&log()]),
                ),
            ],
            vec![agency(1)],
        ),
        // Every key cut off, migrated or not: no current key is left.
        (
            vec![
                (0, register(&agency(1), &[&log()])),
                (
                    1,
                    signed(Action::Compromised, &agency(1), Some(0), &[&log()]),
                ),
            ],
            vec![],
        ),
        (
            vec![
                (0, migrated(1)),
                (1, signed(Action::Compromised, &agency(1), None, &[&log()])),
            ],
            vec![],
        ),
    ];
    let backdated = RegistryError::Backdated {
        agency: AGENCY.to_owned(),
    };
    for (entries, current) in histories {
        let mut h = history(&entries);
        assert_eq!(
            h.current().map(|k| k.key.clone()).collect::<Vec<_>>(),
            current.iter().map(Signer::verifier).collect::<Vec<_>>()
        );
        // By the log alone, or co-signed by any key registered, current or not.
        let registered: Vec<Signer> = pool()
            .into_iter()
            .filter(|s| h.keys.iter().any(|k| k.key == s.verifier()))
            .collect();
        let mut signer_sets = vec![vec![log()]];
        signer_sets.extend(registered.iter().map(|s| vec![log(), s.clone()]));
        for signers in &signer_sets {
            let refs: Vec<&Signer> = signers.iter().collect();
            refused(
                &mut h,
                20,
                &signed(Action::Register, &agency(3), Some(5), &refs),
                backdated.clone(),
            );
        }
        // Without `from`: the log alone only when no key is current.
        if !current.is_empty() {
            refused(
                &mut h,
                20,
                &register(&agency(3), &[&log()]),
                RegistryError::NotCosigned {
                    agency: AGENCY.to_owned(),
                    action: "register",
                    current: current.iter().map(label).collect::<Vec<_>>().join(", "),
                },
            );
        }
        let mut signers = vec![log()];
        signers.extend(current.first().cloned());
        let refs: Vec<&Signer> = signers.iter().collect();
        h.apply(&log().verifier(), 20, &register(&agency(3), &refs))
            .unwrap();
        let k = h.keys.last().unwrap();
        assert_eq!(
            (k.registered_at, k.valid_from, k.declared_from),
            (20, 20, None)
        );
        assert_eq!(k.cosigned_by, current.first().map(label));
    }
}

#[test]
fn from_past_the_entry_index_is_refused() {
    let mut h = history(&[(0, register(&agency(1), &[&log_key()]))]);
    let both = [&log_key(), &agency(1)];
    for (action, key) in [
        (Action::Register, agency(2)),
        (Action::Retire, agency(1)),
        (Action::Compromised, agency(1)),
    ] {
        refused(
            &mut h,
            9,
            &signed(action, &key, Some(10), &both),
            RegistryError::FromAhead { from: 10, index: 9 },
        );
        refused(
            &mut h,
            9,
            &signed(action, &key, Some(u64::MAX), &both),
            RegistryError::FromAhead {
                from: u64::MAX,
                index: 9,
            },
        );
    }
}

#[test]
fn a_key_is_registered_once_even_after_its_retirement() {
    let mut h = history(&[(3, register(&agency(1), &[&log_key()]))]);
    let again = RegistryError::AlreadyRegistered {
        agency: AGENCY.to_owned(),
        key: label(&agency(1)),
        at: 3,
    };
    refused(
        &mut h,
        4,
        &register(&agency(1), &[&log_key(), &agency(1)]),
        again.clone(),
    );
    h.apply(
        &log_key().verifier(),
        5,
        &signed(Action::Retire, &agency(1), None, &[&log_key(), &agency(1)]),
    )
    .unwrap();
    refused(
        &mut h,
        6,
        &register(&agency(1), &[&log_key()]),
        again.clone(),
    );
    refused(
        &mut h,
        6,
        &signed(Action::Register, &agency(1), Some(0), &[&log_key()]),
        again,
    );
}

#[test]
fn two_keys_with_one_key_id_cannot_both_be_registered() {
    let (a, b) = (colliding(0), colliding(1));
    assert_eq!(a.key_id(), b.key_id());
    assert_eq!(a.key_id(), 0x243c_e7fd);
    assert_ne!(a.verifier(), b.verifier());
    let mut h = history(&[(0, register(&a, &[&log_key()]))]);
    let taken = RegistryError::KeyIdTaken {
        agency: AGENCY.to_owned(),
        key_id: 0x243c_e7fd,
    };
    refused(&mut h, 1, &register(&b, &[&log_key(), &a]), taken.clone());
    // Still taken once the first is retired: key IDs name keys for good.
    h.apply(
        &log_key().verifier(),
        2,
        &signed(Action::Retire, &a, None, &[&log_key(), &a]),
    )
    .unwrap();
    refused(&mut h, 3, &register(&b, &[&log_key()]), taken);
}

#[test]
fn a_retirement_needs_a_cosignature_by_a_current_key() {
    let setup = || {
        history(&[
            (0, register(&agency(1), &[&log_key()])),
            (1, register(&agency(2), &[&log_key(), &agency(1)])),
        ])
    };
    let mut h = setup();
    let not_cosigned = RegistryError::NotCosigned {
        agency: AGENCY.to_owned(),
        action: "retire",
        current: format!("{}, {}", label(&agency(1)), label(&agency(2))),
    };
    for signers in [vec![log_key()], vec![log_key(), agency(3)]] {
        let refs: Vec<&Signer> = signers.iter().collect();
        refused(
            &mut h,
            2,
            &signed(Action::Retire, &agency(1), None, &refs),
            not_cosigned.clone(),
        );
    }
    // By the retired key itself, or by another current key.
    for cosigner in [agency(1), agency(2)] {
        let mut h = setup();
        h.apply(
            &log_key().verifier(),
            2,
            &signed(Action::Retire, &agency(1), None, &[&log_key(), &cosigner]),
        )
        .unwrap();
        assert_eq!(
            h.keys[0].cutoff,
            Some(Cutoff {
                at: 2,
                from: 2,
                compromised: false,
                time: TIME.to_owned()
            })
        );
        assert_eq!(
            h.current().map(|k| k.key.clone()).collect::<Vec<_>>(),
            vec![agency(2).verifier()]
        );
    }
    // The last key retires itself.
    let mut h = history(&[(0, register(&agency(1), &[&log_key()]))]);
    h.apply(
        &log_key().verifier(),
        9,
        &signed(
            Action::Retire,
            &agency(1),
            Some(4),
            &[&log_key(), &agency(1)],
        ),
    )
    .unwrap();
    assert_eq!(
        h.keys[0].cutoff.as_ref().map(|c| (c.at, c.from)),
        Some((9, 4))
    );
    assert_eq!(h.current().count(), 0);
}

#[test]
fn a_compromise_needs_only_the_log_key() {
    let mut h = history(&[(0, register(&agency(1), &[&log_key()]))]);
    h.apply(
        &log_key().verifier(),
        5,
        &signed(Action::Compromised, &agency(1), Some(2), &[&log_key()]),
    )
    .unwrap();
    assert_eq!(
        h.keys[0].cutoff,
        Some(Cutoff {
            at: 5,
            from: 2,
            compromised: true,
            time: TIME.to_owned()
        })
    );
}

#[test]
fn retiring_or_compromising_an_unregistered_key_is_refused() {
    let mut h = history(&[(0, register(&agency(1), &[&log_key()]))]);
    for action in [Action::Retire, Action::Compromised] {
        refused(
            &mut h,
            1,
            &signed(
                action,
                &agency(2),
                None,
                &[&log_key(), &agency(1), &agency(2)],
            ),
            RegistryError::NotRegistered {
                agency: AGENCY.to_owned(),
                key: label(&agency(2)),
            },
        );
    }
}

#[test]
fn retiring_a_key_already_cut_off_is_refused() {
    for first in [Action::Retire, Action::Compromised] {
        let mut h = history(&[
            (0, register(&agency(1), &[&log_key()])),
            (1, register(&agency(2), &[&log_key(), &agency(1)])),
            (
                4,
                signed(first, &agency(1), None, &[&log_key(), &agency(1)]),
            ),
        ]);
        // Even with an earlier `from`: a retirement never moves a cut-off.
        for from in [None, Some(2)] {
            refused(
                &mut h,
                6,
                &signed(Action::Retire, &agency(1), from, &[&log_key(), &agency(2)]),
                RegistryError::AlreadyCutOff {
                    key: label(&agency(1)),
                    from: 4,
                    at: 4,
                },
            );
        }
    }
}

#[test]
fn a_compromise_after_a_retirement_only_moves_the_cutoff_earlier() {
    let mut h = history(&[
        (0, register(&agency(1), &[&log_key()])),
        (
            10,
            signed(Action::Retire, &agency(1), None, &[&log_key(), &agency(1)]),
        ),
    ]);
    let cut = |from, at| RegistryError::AlreadyCutOff {
        key: label(&agency(1)),
        from,
        at,
    };
    for from in [None, Some(10), Some(12)] {
        refused(
            &mut h,
            20,
            &signed(Action::Compromised, &agency(1), from, &[&log_key()]),
            cut(10, 10),
        );
    }
    h.apply(
        &log_key().verifier(),
        20,
        &signed(Action::Compromised, &agency(1), Some(5), &[&log_key()]),
    )
    .unwrap();
    assert_eq!(
        h.keys[0].cutoff,
        Some(Cutoff {
            at: 20,
            from: 5,
            compromised: true,
            time: TIME.to_owned()
        })
    );
    for from in [Some(5), Some(7)] {
        refused(
            &mut h,
            30,
            &signed(Action::Compromised, &agency(1), from, &[&log_key()]),
            cut(5, 20),
        );
    }
    h.apply(
        &log_key().verifier(),
        30,
        &signed(Action::Compromised, &agency(1), Some(3), &[&log_key()]),
    )
    .unwrap();
    assert_eq!(
        h.keys[0].cutoff.as_ref().map(|c| (c.at, c.from)),
        Some((30, 3))
    );
    assert_eq!(h.changes.len(), 4);
}

#[test]
fn the_registry_keeps_agencies_apart_and_refuses_as_their_history_does() {
    let mut r = Registry::new(log_key().verifier());
    r.apply(0, &register(&agency(1), &[&log_key()])).unwrap();
    // Another agency's first key needs no co-signature by this one's.
    r.apply(1, &register(&city(), &[&log_key()])).unwrap();
    let rotation = register(&agency(2), &[&log_key()]);
    let before = r.clone();
    let expected = RegistryError::NotCosigned {
        agency: AGENCY.to_owned(),
        action: "register",
        current: label(&agency(1)),
    };
    assert_eq!(r.check(2, &rotation), Err(expected.clone()));
    assert_eq!(r.apply(2, &rotation), Err(expected));
    assert_eq!(r, before);
    // A city key cannot co-sign the land registry's rotation.
    let by_city = register(&agency(2), &[&log_key(), &city()]);
    assert!(matches!(
        r.apply(2, &by_city),
        Err(RegistryError::NotCosigned { .. })
    ));
    assert_eq!(r, before);
    assert_eq!(r.agencies.len(), 2);
    // A refused first entry of a new agency does not create it.
    let tax = Signer::from_seed("tax.example.gov", KeyType::Ed25519, [1; 32]).unwrap();
    assert!(matches!(
        r.apply(2, &register(&tax, &[&tax])),
        Err(RegistryError::NotSignedByLog { .. })
    ));
    assert_eq!(r, before);
}

// ---------------------------------------------------------------- windows

fn key_error_at(h: &AgencyHistory, key: &Signer, index: u64) -> Result<Verifier, KeyError> {
    h.verify_record(&record(key, &format!("PR-{index}")), index)
        .map(|k| k.key.clone())
}

#[test]
fn a_record_is_valid_only_inside_its_key_window() {
    let h = history(&[
        (10, register(&agency(1), &[&log_key()])),
        (
            20,
            signed(Action::Retire, &agency(1), None, &[&log_key(), &agency(1)]),
        ),
    ]);
    let k = label(&agency(1));
    assert_eq!(
        key_error_at(&h, &agency(1), 9),
        Err(KeyError::NotYetRegistered {
            key: k.clone(),
            index: 9,
            valid_from: 10,
            registered_at: 10
        })
    );
    for index in [10, 15, 19] {
        assert_eq!(
            key_error_at(&h, &agency(1), index),
            Ok(agency(1).verifier())
        );
    }
    let cutoff = Cutoff {
        at: 20,
        from: 20,
        compromised: false,
        time: TIME.to_owned(),
    };
    for index in [20, 21, u64::MAX] {
        assert_eq!(
            key_error_at(&h, &agency(1), index),
            Err(KeyError::CutOff {
                key: k.clone(),
                index,
                cutoff: cutoff.clone()
            })
        );
    }
}

#[test]
fn records_before_a_compromise_from_stay_valid() {
    let h = history(&[
        (0, register(&agency(1), &[&log_key()])),
        (
            30,
            signed(Action::Compromised, &agency(1), Some(15), &[&log_key()]),
        ),
    ]);
    assert!(key_error_at(&h, &agency(1), 14).is_ok());
    match key_error_at(&h, &agency(1), 15) {
        Err(KeyError::CutOff {
            cutoff, index: 15, ..
        }) => {
            assert!(cutoff.compromised);
            assert_eq!((cutoff.at, cutoff.from), (30, 15));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_backdated_registration_opens_the_window_at_from() {
    let h = history(&[(
        100,
        signed(Action::Register, &agency(1), Some(40), &[&log_key()]),
    )]);
    assert!(matches!(
        key_error_at(&h, &agency(1), 39),
        Err(KeyError::NotYetRegistered {
            valid_from: 40,
            registered_at: 100,
            ..
        })
    ));
    assert!(key_error_at(&h, &agency(1), 40).is_ok());
}

#[test]
fn a_rotation_keeps_records_under_the_old_and_the_new_key_valid() {
    let h = history(&[
        (0, register(&agency(1), &[&log_key()])),
        (10, register(&agency(2), &[&log_key(), &agency(1)])),
        (
            20,
            signed(Action::Retire, &agency(1), None, &[&log_key(), &agency(2)]),
        ),
    ]);
    for index in [0, 5, 10, 19] {
        assert_eq!(
            key_error_at(&h, &agency(1), index),
            Ok(agency(1).verifier())
        );
    }
    assert!(matches!(
        key_error_at(&h, &agency(1), 20),
        Err(KeyError::CutOff { .. })
    ));
    for index in [10, 15, 20, 1000] {
        assert_eq!(
            key_error_at(&h, &agency(2), index),
            Ok(agency(2).verifier())
        );
    }
    assert!(matches!(
        key_error_at(&h, &agency(2), 9),
        Err(KeyError::NotYetRegistered { .. })
    ));
}

#[test]
fn a_record_signed_by_a_key_the_agency_did_not_register_is_refused() {
    let h = history(&[(0, register(&agency(1), &[&log_key()]))]);
    // A key of the same name, never registered.
    assert_eq!(
        key_error_at(&h, &agency(9), 5),
        Err(KeyError::Unregistered {
            issuer: AGENCY.to_owned(),
            key_id: agency(9).key_id()
        })
    );
    // The registered key's ID on another key's signature.
    let good = record(&agency(1), "PR-1");
    let text = std::str::from_utf8(good.text_bytes()).unwrap();
    let forged = NoteSignature {
        key_id: agency(1).key_id(),
        ..agency(9).sign_text(text).unwrap()
    };
    let forged = SignedRecord::parse(&note(text, vec![forged])).unwrap();
    let bad = Err(KeyError::BadSignature {
        issuer: AGENCY.to_owned(),
        key: label(&agency(1)),
    });
    assert_eq!(h.verify_record(&forged, 5).map(|k| k.key.clone()), bad);
    // A record altered after signing.
    let altered = String::from_utf8(good.bytes.clone())
        .unwrap()
        .replace("PR-1", "PR-2");
    let altered = SignedRecord::parse(altered.as_bytes()).unwrap();
    assert_eq!(h.verify_record(&altered, 5).map(|k| k.key.clone()), bad);
    // Another agency's record.
    assert!(matches!(
        h.verify_record(&record(&city(), "C-1"), 5),
        Err(KeyError::Unregistered { .. })
    ));
}

#[test]
fn the_current_keys_are_exactly_the_keys_not_cut_off() {
    let mut r = Registry::new(log_key().verifier());
    let entries = [
        register(&agency(1), &[&log_key()]),
        register(&agency(2), &[&log_key(), &agency(1)]),
        register(&agency(3), &[&log_key(), &agency(1)]),
        register(&city(), &[&log_key()]),
        signed(Action::Retire, &agency(1), None, &[&log_key(), &agency(1)]),
        signed(Action::Compromised, &agency(3), None, &[&log_key()]),
    ];
    for (index, e) in entries.iter().enumerate() {
        r.apply(index as u64, e).unwrap();
    }
    let mut current = r.current_keys();
    current.sort_by_key(|k| k.to_string());
    let mut expected = vec![agency(2).verifier(), city().verifier()];
    expected.sort_by_key(|k| k.to_string());
    assert_eq!(current, expected);
    // The registry answers windows by issuer.
    assert!(r.key_for(AGENCY, agency(1).key_id(), 3).is_ok());
    assert!(matches!(
        r.key_for(AGENCY, agency(1).key_id(), 4),
        Err(KeyError::CutOff { .. })
    ));
    assert!(matches!(
        r.key_for("tax.example.gov", 1, 4),
        Err(KeyError::Unregistered { .. })
    ));
}

// ---------------------------------------------------------------- trusted keys

/// The land registry's proven history: key 1 from 0, key 2 from 10 (a
/// rotation), key 1 retired at 20.
fn rotated() -> BTreeMap<String, AgencyHistory> {
    BTreeMap::from([(
        AGENCY.to_owned(),
        history(&[
            (0, register(&agency(1), &[&log_key()])),
            (10, register(&agency(2), &[&log_key(), &agency(1)])),
            (
                20,
                signed(Action::Retire, &agency(1), None, &[&log_key(), &agency(1)]),
            ),
        ]),
    )])
}

/// Why the pins refuse `r` (what `NotPinned` and a pins-only `Invalid` say).
fn unpinned(r: &SignedRecord, pinned: &[Verifier]) -> String {
    r.verify_signature(pinned).unwrap_err().to_string()
}

/// Why the history refuses `r` at `index`.
fn outside(h: &BTreeMap<String, AgencyHistory>, r: &SignedRecord, index: u64) -> String {
    h[AGENCY].verify_record(r, index).unwrap_err().to_string()
}

/// `r` with its text altered after signing.
fn altered(r: &SignedRecord) -> SignedRecord {
    let text = String::from_utf8(r.bytes.clone())
        .unwrap()
        .replace("PR-", "PX-");
    SignedRecord::parse(text.as_bytes()).unwrap()
}

#[test]
fn trusted_keys_with_neither_pins_nor_histories_trust_nothing() {
    let none = TrustedKeys::default();
    assert_eq!(
        none.check(&record(&agency(1), "PR-1"), 5),
        Err(Untrusted::Invalid("no key to check it with".into()))
    );
}

/// Pins alone know no windows: a record is its issuer's under a pinned
/// key at any index, and under any other key a forgery.
#[test]
fn with_pins_only_a_record_not_under_a_pinned_key_is_invalid() {
    let pinned = [agency(1).verifier()];
    let trusted = TrustedKeys {
        pinned: &pinned,
        histories: None,
    };
    let r1 = record(&agency(1), "PR-1");
    for index in [0, 25, u64::MAX] {
        assert_eq!(trusted.check(&r1, index), Ok(()));
    }
    for r in [
        record(&agency(2), "PR-2"),
        record(&agency(9), "PR-9"),
        record(&city(), "C-1"),
        altered(&r1),
    ] {
        assert_eq!(
            trusted.check(&r, 15),
            Err(Untrusted::Invalid(unpinned(&r, &pinned)))
        );
    }
}

/// Histories alone: a record is its issuer's inside its key's window;
/// past a cut-off it is outside the window (a log may hold it honestly);
/// before its key's window, under a key never registered, or with a bad
/// signature, it is a forgery.
#[test]
fn with_histories_only_a_record_is_judged_by_its_key_window() {
    let histories = rotated();
    let trusted = TrustedKeys {
        pinned: &[],
        histories: Some(&histories),
    };
    let (r1, r2) = (record(&agency(1), "PR-1"), record(&agency(2), "PR-2"));
    assert_eq!(trusted.check(&r1, 5), Ok(()));
    assert_eq!(trusted.check(&r2, 25), Ok(()));
    assert_eq!(
        trusted.check(&r1, 20),
        Err(Untrusted::OutsideWindow(outside(&histories, &r1, 20)))
    );
    for (r, index) in [
        (r2.clone(), 9),
        (record(&agency(9), "PR-9"), 5),
        (altered(&r2), 15),
    ] {
        assert_eq!(
            trusted.check(&r, index),
            Err(Untrusted::Invalid(outside(&histories, &r, index)))
        );
    }
    // An agency with no history at all.
    let c = record(&city(), "C-1");
    assert_eq!(
        trusted.check(&c, 5),
        Err(Untrusted::Invalid(
            KeyError::Unregistered {
                issuer: CITY.to_owned(),
                key_id: city().key_id()
            }
            .to_string()
        ))
    );
}

/// Pins and histories: the history judges first (a forgery or a record
/// outside its window stays one, pinned or not); a record the history
/// vouches for under a key not pinned is `NotPinned`, not a forgery.
#[test]
fn with_pins_and_histories_a_valid_record_under_an_unpinned_key_is_not_pinned() {
    let histories = rotated();
    let (r1, r2) = (record(&agency(1), "PR-1"), record(&agency(2), "PR-2"));
    let with = |pinned: &[Verifier], r: &SignedRecord, index: u64| {
        TrustedKeys {
            pinned,
            histories: Some(&histories),
        }
        .check(r, index)
    };
    let pin1 = [agency(1).verifier()];
    let pin2 = [agency(2).verifier()];
    let both = [agency(1).verifier(), agency(2).verifier()];
    let pin_city = [city().verifier()];
    // Under a pinned key, inside its window.
    assert_eq!(with(&pin1, &r1, 5), Ok(()));
    assert_eq!(with(&pin2, &r2, 15), Ok(()));
    assert_eq!(with(&both, &r1, 15), Ok(()));
    // Inside its window, under a key not pinned (or pins of another agency).
    for (pinned, r, index) in [
        (&pin1[..], &r2, 15),
        (&pin1[..], &r2, u64::MAX),
        (&pin2[..], &r1, 5),
        (&pin_city[..], &r1, 19),
    ] {
        assert_eq!(
            with(pinned, r, index),
            Err(Untrusted::NotPinned(unpinned(r, pinned))),
            "{pinned:?} at {index}"
        );
    }
    // Past its key's cut-off, pinned or not.
    for pinned in [&pin1[..], &pin2[..]] {
        assert_eq!(
            with(pinned, &r1, 20),
            Err(Untrusted::OutsideWindow(outside(&histories, &r1, 20)))
        );
    }
    // Forgeries under the history, pinned or not: before its key's window,
    // under a key never registered (though pinned), altered after signing.
    let r9 = record(&agency(9), "PR-9");
    let pin9 = [agency(9).verifier()];
    for (pinned, r, index) in [
        (&pin1[..], r2.clone(), 9),
        (&pin2[..], r2.clone(), 9),
        (&pin9[..], r9.clone(), 5),
        (&pin1[..], r9, 5),
        (&pin1[..], altered(&r2), 15),
        (&pin2[..], altered(&r2), 15),
    ] {
        assert_eq!(
            with(pinned, &r, index),
            Err(Untrusted::Invalid(outside(&histories, &r, index))),
            "{pinned:?} at {index}"
        );
    }
    // A pinned key of an agency the histories do not hold vouches for nothing.
    assert!(matches!(
        with(&pin_city, &record(&city(), "C-1"), 5),
        Err(Untrusted::Invalid(_))
    ));
}

// ---------------------------------------------------------------- fold

#[test]
fn fold_skips_other_agencies_and_non_registry_entries_and_reports_broken_ones() {
    let other_log = RegistryEntry {
        log: "other.example/log".to_owned(),
        ..entry(Action::Register, &agency(3), None)
    }
    .sign(&[&log_key(), &agency(1)])
    .unwrap();
    let entries: Vec<(u64, Vec<u8>)> = vec![
        (0, register(&agency(1), &[&log_key()]).bytes),
        (1, record(&agency(1), "PR-1").bytes),
        (2, register(&city(), &[&log_key()]).bytes),
        (3, b"not an entry\n".to_vec()),
        (4, register(&agency(2), &[&log_key()]).bytes),
        (5, register(&agency(2), &[&log_key(), &agency(1)]).bytes),
        (6, other_log.bytes),
        (
            7,
            signed(Action::Retire, &city(), None, &[&log_key(), &city()]).bytes,
        ),
    ];
    let h = AgencyHistory::fold(
        &log_key().verifier(),
        AGENCY,
        entries.iter().map(|(i, b)| (*i, b.as_slice())),
    );
    assert_eq!(
        h.keys
            .iter()
            .map(|k| (k.key.clone(), k.registered_at))
            .collect::<Vec<_>>(),
        vec![(agency(1).verifier(), 0), (agency(2).verifier(), 5)]
    );
    assert_eq!(
        h.problems,
        vec![
            (
                4,
                RegistryError::NotCosigned {
                    agency: AGENCY.to_owned(),
                    action: "register",
                    current: label(&agency(1)),
                }
            ),
            (
                6,
                RegistryError::WrongLog {
                    expected: LOG.to_owned(),
                    found: "other.example/log".to_owned()
                }
            ),
        ]
    );
    assert_eq!(h.changes.len(), 2);
    let city_history = AgencyHistory::fold(
        &log_key().verifier(),
        CITY,
        entries.iter().map(|(i, b)| (*i, b.as_slice())),
    );
    assert_eq!(city_history.keys.len(), 1);
    assert!(city_history.problems.is_empty());
    assert!(city_history.keys[0].cutoff.is_some());
}

// ---------------------------------------------------------------- the index

#[test]
fn the_agency_key_is_the_domain_separated_hash_of_the_name() {
    let mut h = Sha256::new();
    h.update(b"gazette.index/v1 agency land-registry.example.gov");
    assert_eq!(agency_key(AGENCY), Hash(h.finalize().into()));
    assert_ne!(agency_key(AGENCY), agency_key(CITY));
}

#[test]
fn a_registry_entry_is_filed_under_its_agency_key_only() {
    for e in [
        register(&agency(1), &[&log_key()]),
        signed(
            Action::Compromised,
            &agency(1),
            Some(0),
            &[&log_key(), &agency(1)],
        ),
    ] {
        assert_eq!(keys_of_entry(&e.bytes), vec![agency_key(AGENCY)]);
    }
    // Unchecked signatures: a registry entry the log never signed is
    // still filed (the map is a function of the bytes alone)...
    assert_eq!(
        keys_of_entry(&register(&city(), &[&city()]).bytes),
        vec![agency_key(CITY)]
    );
    // ...but a broken one is filed nowhere.
    let good = register(&agency(1), &[&log_key()]);
    let broken = String::from_utf8(good.bytes)
        .unwrap()
        .replace("register ", "revoke ");
    assert_eq!(keys_of_entry(broken.as_bytes()), vec![]);
}

#[test]
fn a_record_is_never_filed_under_an_agency_key() {
    let r = record(&agency(1), "PR-1");
    let revocation = Record::revocation(
        AGENCY,
        "R-1",
        [1; 32],
        TIME,
        "property-registration",
        "PR-1",
    )
    .sign(&agency(1))
    .unwrap();
    for bytes in [r.bytes, revocation.bytes] {
        let keys = keys_of_entry(&bytes);
        assert!(!keys.is_empty());
        assert!(!keys.contains(&agency_key(AGENCY)));
    }
}

/// A small committed log: every entry of `body`, one segment, and the
/// commitment; with its RFC 6962 stored hashes and its segment's tree.
struct CommittedLog {
    entries: Vec<Vec<u8>>,
    stored: Vec<Hash>,
    map: HashMap<Position, StoredNode>,
}

impl CommittedLog {
    fn new(body: Vec<Vec<u8>>) -> CommittedLog {
        let mut lists = Lists::new();
        for (i, e) in body.iter().enumerate() {
            file_entry(&mut lists, i as u64, e);
        }
        let mut pairs: Vec<(Hash, ListValue)> = lists
            .iter()
            .map(|(k, list)| (*k, ListValue::of(list.iter().map(|(i, h)| (*i, h)))))
            .collect();
        let mut map = HashMap::new();
        let (root, writes) = update(&map, &mut pairs).unwrap();
        map.extend(writes);
        let size = body.len() as u64;
        let commitment = IndexCommitment {
            size,
            segments: vec![Segment {
                start: 0,
                end: size,
                root,
            }],
        };
        let mut entries = body;
        entries.push(commitment.to_bytes());
        let mut stored = Vec::new();
        for (n, e) in entries.iter().enumerate() {
            let hashes = stored_hashes_for_leaf(n as u64, leaf_hash(e), &stored).unwrap();
            stored.extend(hashes);
        }
        CommittedLog {
            entries,
            stored,
            map,
        }
    }

    fn size(&self) -> u64 {
        self.entries.len() as u64
    }

    fn root(&self) -> Hash {
        tree_hash(self.size(), &self.stored).unwrap()
    }

    fn listed(&self, index: u64) -> ListedEntry {
        ListedEntry {
            index,
            bytes: self.entries[index as usize].clone(),
            inclusion: prove_inclusion(index, self.size(), &self.stored).unwrap(),
        }
    }

    /// The log's answer for `key`, listing the entries `indexes`.
    fn proof(&self, key: &LookupKey, indexes: &[u64]) -> LookupProof {
        LookupProof {
            commitment: self.listed(self.size() - 1),
            entries: indexes.iter().map(|i| self.listed(*i)).collect(),
            map_proofs: vec![prove(&self.map, &key.key()).unwrap()],
        }
    }
}

fn registry_log() -> CommittedLog {
    CommittedLog::new(vec![
        register(&agency(1), &[&log_key()]).bytes,
        record(&agency(1), "PR-1").bytes,
        register(&city(), &[&log_key()]).bytes,
        register(&agency(2), &[&log_key(), &agency(1)]).bytes,
        record(&agency(2), "PR-2").bytes,
        signed(Action::Retire, &agency(1), None, &[&log_key(), &agency(2)]).bytes,
        record(&agency(1), "PR-3").bytes,
    ])
}

#[test]
fn a_proven_agency_lookup_gives_the_history_that_judges_its_records() {
    let log = registry_log();
    let key = LookupKey::Agency(AGENCY.to_owned());
    let proven =
        verify_lookup(&key, &log.proof(&key, &[0, 3, 5]), log.size(), &log.root()).unwrap();
    assert!(proven.records.is_empty());
    assert_eq!(
        proven
            .registry
            .iter()
            .map(|(i, e)| (*i, e.entry.action))
            .collect::<Vec<_>>(),
        vec![
            (0, Action::Register),
            (3, Action::Register),
            (5, Action::Retire)
        ]
    );
    let h = AgencyHistory::fold(
        &log_key().verifier(),
        AGENCY,
        proven
            .registry
            .iter()
            .map(|(i, e)| (*i, e.bytes.as_slice())),
    );
    assert!(h.problems.is_empty());
    let at = |i: usize| SignedRecord::parse(&log.entries[i]).unwrap();
    assert!(h.verify_record(&at(1), 1).is_ok());
    assert!(h.verify_record(&at(4), 4).is_ok());
    assert!(matches!(
        h.verify_record(&at(6), 6),
        Err(KeyError::CutOff { .. })
    ));
    // The city's list, and an agency with none.
    let city_key = LookupKey::Agency(CITY.to_owned());
    let city = verify_lookup(
        &city_key,
        &log.proof(&city_key, &[2]),
        log.size(),
        &log.root(),
    )
    .unwrap();
    assert_eq!(city.registry.len(), 1);
    let none = LookupKey::Agency("tax.example.gov".to_owned());
    let empty = verify_lookup(&none, &log.proof(&none, &[]), log.size(), &log.root()).unwrap();
    assert!(empty.registry.is_empty() && empty.records.is_empty());
}

#[test]
fn an_agency_lookup_with_a_foreign_or_missing_entry_is_refused() {
    let log = registry_log();
    let key = LookupKey::Agency(AGENCY.to_owned());
    let check =
        |indexes: &[u64]| verify_lookup(&key, &log.proof(&key, indexes), log.size(), &log.root());
    // A record, or the city's entry, listed under the land registry.
    for (indexes, bad) in [(&[0, 1, 3, 5][..], 1), (&[0, 2, 3, 5][..], 2)] {
        assert!(
            matches!(check(indexes), Err(LookupError::NotFiled { index }) if index == bad),
            "{indexes:?}"
        );
    }
    // The retirement withheld: the map proof catches it.
    assert!(matches!(check(&[0, 3]), Err(LookupError::Map { .. })));
    // A registry entry listed under a name's key.
    let name = LookupKey::Name {
        issuer: AGENCY.to_owned(),
        kind: "property-registration".to_owned(),
        id: "PR-1".to_owned(),
    };
    assert!(matches!(
        verify_lookup(&name, &log.proof(&name, &[0, 1]), log.size(), &log.root()),
        Err(LookupError::NotFiled { index: 0 })
    ));
}

// ---------------------------------------------------------------- the model

/// One step of a random history: the action, the key (index into
/// [`pool`]), `from`, the co-signers (a bit per pool key), whether the
/// log signs, and the gap to the previous entry's index.
#[derive(Clone, Debug)]
struct Step {
    action: Action,
    key: usize,
    from: Option<FromChoice>,
    cosigners: u8,
    log_signs: bool,
    gap: u64,
}

#[derive(Clone, Copy, Debug)]
enum FromChoice {
    /// This many below the entry's index (at least 0).
    Back(u64),
    /// This index (past the entry's own, sometimes).
    At(u64),
    /// One past the entry's index.
    Ahead,
}

impl FromChoice {
    fn at(self, index: u64) -> u64 {
        match self {
            FromChoice::Back(b) => index.saturating_sub(b),
            FromChoice::At(at) => at,
            FromChoice::Ahead => index + 1,
        }
    }
}

/// Three keys of the agency and the two that share a key ID.
fn pool() -> Vec<Signer> {
    vec![agency(1), agency(2), agency(3), colliding(0), colliding(1)]
}

fn step() -> impl Strategy<Value = Step> {
    let action = prop_oneof![
        3 => Just(Action::Register),
        2 => Just(Action::Retire),
        2 => Just(Action::Compromised),
    ];
    let from = prop_oneof![
        3 => Just(None),
        2 => (0u64..6).prop_map(|b| Some(FromChoice::Back(b))),
        2 => (0u64..12).prop_map(|at| Some(FromChoice::At(at))),
        1 => Just(Some(FromChoice::Ahead)),
    ];
    (
        action,
        0usize..5,
        from,
        0u8..32,
        prop::bool::weighted(0.9),
        1u64..4,
    )
        .prop_map(|(action, key, from, cosigners, log_signs, gap)| Step {
            action,
            key,
            from,
            cosigners,
            log_signs,
            gap,
        })
}

/// The naive model: per pool key, its window, written from the module's
/// rules without looking at how `AgencyHistory` keeps them.
#[derive(Clone, Debug, Default)]
struct ModelKey {
    registered_at: u64,
    valid_from: u64,
    /// The registration's `from`.
    declared_from: Option<u64>,
    /// `(from, compromised)`.
    cut: Option<(u64, bool)>,
}

#[derive(Default)]
struct Model {
    keys: HashMap<usize, ModelKey>,
    /// Some change other than a registration with `from` was applied: the
    /// history is no longer a migrated agencies file, and `from` on a
    /// registration is refused.
    settled: bool,
}

impl Model {
    fn is_current(&self, k: usize) -> bool {
        self.keys.get(&k).is_some_and(|m| m.cut.is_none())
    }

    /// The rule an entry breaks, by name, or `Ok` after applying it.
    fn apply(&mut self, pool: &[Signer], index: u64, s: &Step) -> Result<(), &'static str> {
        if !s.log_signs {
            return Err("NotSignedByLog");
        }
        let from = s.from.map(|f| f.at(index));
        if from.is_some_and(|from| from > index) {
            return Err("FromAhead");
        }
        let cosigned = (0..pool.len()).any(|k| s.cosigners & (1 << k) != 0 && self.is_current(k));
        let any_current = (0..pool.len()).any(|k| self.is_current(k));
        let cut_from = from.unwrap_or(index);
        match s.action {
            Action::Register => {
                if self.keys.contains_key(&s.key) {
                    return Err("AlreadyRegistered");
                }
                let id = pool[s.key].key_id();
                if self.keys.keys().any(|&k| pool[k].key_id() == id) {
                    return Err("KeyIdTaken");
                }
                // `from` only while migrating, and then no co-signature
                // is needed; without it, a current key must co-sign.
                match from {
                    Some(_) if self.settled => return Err("Backdated"),
                    Some(_) => {}
                    None if any_current && !cosigned => return Err("NotCosigned"),
                    None => {}
                }
                self.keys.insert(
                    s.key,
                    ModelKey {
                        registered_at: index,
                        valid_from: cut_from,
                        declared_from: from,
                        cut: None,
                    },
                );
            }
            Action::Retire => {
                let Some(m) = self.keys.get(&s.key) else {
                    return Err("NotRegistered");
                };
                if m.cut.is_some() {
                    return Err("AlreadyCutOff");
                }
                if !cosigned {
                    return Err("NotCosigned");
                }
                self.keys.get_mut(&s.key).unwrap().cut = Some((cut_from, false));
            }
            Action::Compromised => {
                let Some(m) = self.keys.get_mut(&s.key) else {
                    return Err("NotRegistered");
                };
                if m.cut.is_some_and(|(f, _)| f <= cut_from) {
                    return Err("AlreadyCutOff");
                }
                m.cut = Some((cut_from, true));
            }
        }
        self.settled |= s.action != Action::Register || from.is_none();
        Ok(())
    }

    /// `Ok(pool key)` or the `KeyError` variant's name, for a record of
    /// key ID `key_id` at `index`.
    fn key_for(
        &self,
        pool: &[Signer],
        key_id: u32,
        index: u64,
    ) -> Result<usize, (&'static str, bool)> {
        let Some((&k, m)) = self.keys.iter().find(|(k, _)| pool[**k].key_id() == key_id) else {
            return Err(("Unregistered", false));
        };
        if index < m.valid_from {
            return Err(("NotYetRegistered", false));
        }
        match m.cut {
            Some((from, compromised)) if index >= from => Err(("CutOff", compromised)),
            _ => Ok(k),
        }
    }
}

fn error_name(e: &RegistryError) -> &'static str {
    match e {
        RegistryError::WrongLog { .. } => "WrongLog",
        RegistryError::NotSignedByLog { .. } => "NotSignedByLog",
        RegistryError::FromAhead { .. } => "FromAhead",
        RegistryError::AlreadyRegistered { .. } => "AlreadyRegistered",
        RegistryError::KeyIdTaken { .. } => "KeyIdTaken",
        RegistryError::NotCosigned { .. } => "NotCosigned",
        RegistryError::Backdated { .. } => "Backdated",
        RegistryError::NotRegistered { .. } => "NotRegistered",
        RegistryError::AlreadyCutOff { .. } => "AlreadyCutOff",
    }
}

fn key_error_name(e: &KeyError) -> (&'static str, bool) {
    match e {
        KeyError::Unregistered { .. } => ("Unregistered", false),
        KeyError::NotYetRegistered { .. } => ("NotYetRegistered", false),
        KeyError::CutOff { cutoff, .. } => ("CutOff", cutoff.compromised),
        KeyError::BadSignature { .. } => ("BadSignature", false),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn apply_and_key_for_agree_with_a_naive_model(steps in prop::collection::vec(step(), 1..24)) {
        let pool = pool();
        let log = log_key();
        let impostor = Signer::from_seed(LOG, KeyType::Ed25519, [0x4d; 32]).unwrap();
        let mut model = Model::default();
        let mut history = AgencyHistory::default();
        let mut registry = Registry::new(log.verifier());
        let mut index = 0u64;
        for s in &steps {
            index += s.gap;
            let from = s.from.map(|f| f.at(index));
            let mut signers = vec![if s.log_signs { &log } else { &impostor }];
            signers.extend((0..pool.len()).filter(|k| s.cosigners & (1 << k) != 0).map(|k| &pool[k]));
            let e = signed(s.action, &pool[s.key], from, &signers);
            let before = history.clone();
            let got = history.apply(&log.verifier(), index, &e);
            let want = model.apply(&pool, index, s);
            prop_assert_eq!(got.as_ref().map(|_| ()).map_err(error_name), want, "step {:?} at {}", s, index);
            if got.is_err() {
                prop_assert_eq!(&history, &before);
            }
            prop_assert_eq!(registry.apply(index, &e), got);
        }
        let current: Vec<Verifier> = history.current().map(|k| k.key.clone()).collect();
        let mut model_current: Vec<Verifier> = (0..pool.len())
            .filter(|&k| model.is_current(k))
            .map(|k| pool[k].verifier())
            .collect();
        let mut sorted = current.clone();
        sorted.sort_by_key(|k| k.to_string());
        model_current.sort_by_key(|k| k.to_string());
        prop_assert_eq!(sorted, model_current);
        prop_assert_eq!(registry.current_keys(), current);
        for (k, signer) in pool.iter().enumerate() {
            for i in 0..=index + 2 {
                let got = history
                    .key_for(AGENCY, signer.key_id(), i)
                    .map(|r| r.key.clone())
                    .map_err(|e| key_error_name(&e));
                let want = model
                    .key_for(&pool, signer.key_id(), i)
                    .map(|m| pool[m].verifier());
                prop_assert_eq!(&got, &want, "key {} at {}", k, i);
                if let Some(m) = model.keys.get(&k) {
                    let r = history.keys.iter().find(|r| r.key == signer.verifier()).unwrap();
                    prop_assert_eq!(r.registered_at, m.registered_at);
                    prop_assert_eq!(r.declared_from, m.declared_from);
                }
            }
        }
    }
}
