//! Known-answer tests for signed notes, checkpoints and cosignatures:
//! `signed_note.json`, `checkpoints.json` and `cosignatures.json`.

mod common;

use common::{
    array_of, as_str, b64_bytes, field, hex_bytes, load, seed, sha256_hex, str_of, to_hex, u64_of,
};
use gazette_client::checkpoint::{Checkpoint, CheckpointError};
use gazette_client::cosignature::{self, Cosignature};
use gazette_client::note::{self, KeyType, NoteError, NoteSignature, Signer, Verifier};
use serde_json::Value;

fn signed_note() -> Value {
    load("signed_note.json")
}

fn parse_key_id(hex: &str) -> u32 {
    u32::from_str_radix(hex, 16).unwrap_or_else(|e| panic!("bad key id {hex}: {e}"))
}

fn verifiers(case: &Value) -> Vec<Verifier> {
    array_of(case, "known_vkeys")
        .iter()
        .map(|k| Verifier::parse(as_str(k)).unwrap_or_else(|e| panic!("{k}: {e}")))
        .collect()
}

fn labels(sigs: &[NoteSignature]) -> Vec<String> {
    sigs.iter().map(NoteSignature::key_label).collect()
}

fn string_list(values: &[Value]) -> Vec<String> {
    values.iter().map(|v| as_str(v).to_owned()).collect()
}

/// The vector's name for an error of `note::open`.
fn error_kind(err: &NoteError) -> &'static str {
    match err {
        NoteError::Malformed { .. } => "malformed",
        NoteError::Ambiguous { .. } => "ambiguous",
        NoteError::InvalidSignature { .. } => "invalid_signature",
        NoteError::Unverified { .. } => "unverified",
        _ => "other",
    }
}

#[test]
fn peter_skey_and_vkey_parse_and_round_trip() {
    let v = signed_note();
    let peter = field(&v, "peter");
    let (skey, vkey) = (str_of(peter, "skey"), str_of(peter, "vkey"));
    let key_id = parse_key_id(str_of(peter, "key_id"));

    let signer = Signer::parse(skey).unwrap();
    assert_eq!(signer.name(), str_of(peter, "name"));
    assert_eq!(signer.key_id(), key_id);
    assert_eq!(signer.key_type(), KeyType::Ed25519);
    assert_eq!(signer.to_skey(), skey);
    assert_eq!(signer.verifier().to_string(), vkey);

    let from_seed = Signer::from_seed(
        str_of(peter, "name"),
        KeyType::Ed25519,
        seed(str_of(peter, "seed_hex")),
    )
    .unwrap();
    assert_eq!(from_seed.to_skey(), skey);

    let verifier = Verifier::parse(vkey).unwrap();
    assert_eq!(verifier.name(), "PeterNeumann");
    assert_eq!(verifier.key_id(), key_id);
    assert_eq!(verifier.key_type(), KeyType::Ed25519);
    assert_eq!(
        to_hex(&verifier.public_key()),
        str_of(peter, "public_key_hex")
    );
    assert_eq!(verifier.to_string(), vkey);
    assert_eq!(verifier, signer.verifier());
}

#[test]
fn key_id_worked_example() {
    let v = signed_note();
    let ex = field(&v, "key_id_worked_example");
    let name = str_of(ex, "name");
    let public = hex_bytes(str_of(ex, "public_key_hex"));
    assert_eq!(str_of(ex, "type_byte"), "01");

    let mut input = name.as_bytes().to_vec();
    input.push(b'\n');
    input.push(0x01);
    input.extend_from_slice(&public);
    assert_eq!(to_hex(&input), str_of(ex, "sha256_input_hex"));
    let digest = sha256_hex(&input);
    assert_eq!(digest, str_of(ex, "sha256_hex"));
    assert_eq!(&digest[..8], str_of(ex, "key_id_hex"));

    assert_eq!(
        note::key_id(name, KeyType::Ed25519, &public),
        parse_key_id(str_of(ex, "key_id_hex"))
    );
}

#[test]
fn peter_signature_is_rederived_byte_for_byte() {
    let v = signed_note();
    let peter = field(&v, "peter");
    let signer = Signer::parse(str_of(peter, "skey")).unwrap();
    let text = str_of(peter, "text");

    assert_eq!(
        signer.sign_text(text).unwrap().to_line(),
        str_of(peter, "signature_line")
    );
    let note_text = note::sign(text, &[&signer]).unwrap();
    assert_eq!(note_text, str_of(peter, "signed_note"));

    let opened = note::open(note_text.as_bytes(), &[signer.verifier()]).unwrap();
    assert_eq!(opened.text, text);
    assert_eq!(labels(&opened.verified), ["PeterNeumann+c74f20a3"]);
    assert!(opened.unverified.is_empty());
}

#[test]
fn enoch_signature_verifies_under_his_vkey() {
    let v = signed_note();
    let peter = field(&v, "peter");
    let enoch = field(&v, "enoch");
    let msg = format!(
        "{}\n{}",
        str_of(peter, "text"),
        str_of(enoch, "signature_line")
    );
    let verifier = Verifier::parse(str_of(enoch, "vkey")).unwrap();
    let opened = note::open(msg.as_bytes(), &[verifier]).unwrap();
    assert_eq!(labels(&opened.verified), ["EnochRoot+af0cfe78"]);
}

#[test]
fn all_25_open_cases() {
    let v = signed_note();
    let cases = array_of(&v, "open_cases");
    assert_eq!(cases.len(), 25);
    let mut failures = Vec::new();
    for case in cases {
        let desc = str_of(case, "desc");
        let msg = b64_bytes(str_of(case, "note_base64"));
        let expect = field(case, "expect");
        let result = note::open(&msg, &verifiers(case));
        match (str_of(expect, "result"), &result) {
            ("ok", Ok(opened)) => {
                let verified = string_list(array_of(expect, "verified"));
                let unverified = string_list(array_of(expect, "unverified"));
                if labels(&opened.verified) != verified || labels(&opened.unverified) != unverified
                {
                    failures.push(format!(
                        "{desc}: verified {:?} unverified {:?}, expected {verified:?} {unverified:?}",
                        labels(&opened.verified),
                        labels(&opened.unverified)
                    ));
                }
            }
            ("error", Err(err)) if error_kind(err) == str_of(expect, "error") => {}
            (want, got) => failures.push(format!("{desc}: expected {want} {expect}, got {got:?}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Non-zero padding bits in the last base64 character: Go accepts, strict
/// Rust decoders call it malformed. Our decision is Go's behaviour, so that
/// a witness answers 403 (invalid signature), not 400, like Go witnesses.
#[test]
fn implementation_dependent_non_canonical_base64_follows_go() {
    let v = signed_note();
    let cases = array_of(&v, "implementation_dependent");
    assert_eq!(cases.len(), 1);
    for case in cases {
        assert!(str_of(case, "go_x_mod_note").starts_with("ok"));
        let opened = note::open(str_of(case, "note_utf8").as_bytes(), &verifiers(case))
            .unwrap_or_else(|e| panic!("{}: expected ok (Go), got {e}", str_of(case, "desc")));
        assert_eq!(labels(&opened.verified), ["PeterNeumann+c74f20a3"]);
    }
}

#[test]
fn bad_vkeys_are_rejected() {
    let v = signed_note();
    let cases = array_of(&v, "bad_vkeys");
    assert_eq!(cases.len(), 2);
    for case in cases {
        let vkey = str_of(case, "vkey");
        let err = Verifier::parse(vkey).expect_err(vkey);
        if str_of(case, "go_error") == "unknown verifier algorithm" {
            assert_eq!(err, NoteError::UnsupportedKeyType { type_byte: 0x65 });
        } else {
            assert!(
                matches!(err, NoteError::InvalidVerifierKey { .. }),
                "{vkey}: {err}"
            );
        }
    }
}

/// Every proper substring of `key` and every copy with one byte incremented
/// (Go's TestNewVerifier / TestNewSigner manglings).
fn manglings(key: &str) -> Vec<String> {
    let bytes = key.as_bytes();
    let mut out = Vec::new();
    for i in 0..=bytes.len() {
        for j in i + 1..=bytes.len() {
            if i != 0 || j != bytes.len() {
                out.push(String::from_utf8(bytes[i..j].to_vec()).unwrap());
            }
        }
    }
    for i in 0..bytes.len() {
        let mut copy = bytes.to_vec();
        copy[i] += 1;
        out.push(String::from_utf8(copy).unwrap());
    }
    out
}

#[test]
fn bad_vkey_rule_every_mangled_peter_vkey_and_skey_is_rejected() {
    let v = signed_note();
    assert!(str_of(&v, "bad_vkey_rule").contains("every proper substring"));
    let peter = field(&v, "peter");
    let (vkey, skey) = (str_of(peter, "vkey"), str_of(peter, "skey"));
    assert!(Verifier::parse(vkey).is_ok());
    assert!(Signer::parse(skey).is_ok());

    let bad_vkeys = manglings(vkey);
    // 66 characters: 66·67/2 − 1 substrings + 66 increments (the README's 2 276).
    assert_eq!(bad_vkeys.len(), 2276);
    let accepted: Vec<&String> = bad_vkeys
        .iter()
        .filter(|k| Verifier::parse(k).is_ok())
        .collect();
    assert!(accepted.is_empty(), "accepted mangled vkeys: {accepted:?}");

    let bad_skeys = manglings(skey);
    // 78 characters: 78·79/2 − 1 substrings + 78 increments.
    assert_eq!(bad_skeys.len(), 3158);
    let accepted: Vec<&String> = bad_skeys
        .iter()
        .filter(|k| Signer::parse(k).is_ok())
        .collect();
    assert!(accepted.is_empty(), "accepted mangled skeys: {accepted:?}");
}

#[test]
fn sumdb_test_key_with_plus_in_base64() {
    let v = signed_note();
    let key = field(&v, "sumdb_test_key");
    let vkey = str_of(key, "vkey");
    let verifier = Verifier::parse(vkey).unwrap();
    assert_eq!(verifier.name(), "localhost.localdev/sumdb");
    assert_eq!(verifier.key_id(), 0x0000_0c67);
    assert_eq!(
        to_hex(&verifier.public_key()),
        str_of(key, "public_key_hex")
    );
    assert_eq!(verifier.to_string(), vkey);

    let signer = Signer::parse(str_of(key, "skey")).unwrap();
    assert_eq!(signer.to_skey(), str_of(key, "skey"));
    assert_eq!(signer.verifier(), verifier);
    let signed = note::sign("hello\n", &[&signer]).unwrap();
    note::open(signed.as_bytes(), &[verifier]).unwrap();
}

#[test]
fn sum_golang_org_vkey() {
    let v = signed_note();
    let key = field(&v, "sum_golang_org");
    let vkey = str_of(key, "vkey");
    let verifier = Verifier::parse(vkey).unwrap();
    assert_eq!(verifier.name(), "sum.golang.org");
    assert_eq!(verifier.key_id(), parse_key_id(str_of(key, "key_id")));
    assert_eq!(
        to_hex(&verifier.public_key()),
        str_of(key, "public_key_hex")
    );
    assert_eq!(
        note::key_id("sum.golang.org", KeyType::Ed25519, &verifier.public_key()),
        verifier.key_id()
    );
    assert_eq!(verifier.to_string(), vkey);
}

#[test]
fn c2sp_signed_note_example_verifies() {
    let v = signed_note();
    let ex = field(&v, "c2sp_example");
    assert_eq!(field(ex, "verifies"), &Value::Bool(true));
    let verifier = Verifier::parse(str_of(ex, "vkey")).unwrap();
    let opened = note::open(str_of(ex, "note").as_bytes(), &[verifier]).unwrap();
    assert_eq!(opened.text, "This is an example message.\n");
    assert_eq!(labels(&opened.verified), ["example.com/foo+530d903a"]);
}

#[test]
fn formats_witness_keys_0x01_and_0x04_from_the_same_seed() {
    let v = signed_note();
    let keys = array_of(&v, "formats_witness_keys");
    assert_eq!(keys.len(), 3);
    for key in keys {
        let skey = str_of(key, "skey");
        let signer = Signer::parse(skey).unwrap();
        let name = signer.name().to_owned();
        let seed = seed(str_of(key, "seed_hex"));

        let ed = Signer::from_seed(&name, KeyType::Ed25519, seed).unwrap();
        assert_eq!(ed.to_skey(), skey);
        assert_eq!(ed.verifier().to_string(), str_of(key, "vkey_ed25519_0x01"));

        let cosigner = Signer::from_seed(&name, KeyType::Cosignature, seed).unwrap();
        let vkey04 = str_of(key, "vkey_cosignature_0x04_same_name");
        assert_eq!(cosigner.verifier().to_string(), vkey04);

        let v01 = Verifier::parse(str_of(key, "vkey_ed25519_0x01")).unwrap();
        let v04 = Verifier::parse(vkey04).unwrap();
        assert_eq!(v04.key_type(), KeyType::Cosignature);
        assert_eq!(to_hex(&v01.public_key()), str_of(key, "public_key_hex"));
        assert_eq!(v01.public_key(), v04.public_key());
        assert_ne!(
            v01.key_id(),
            v04.key_id(),
            "{name}: type byte is in the key ID"
        );
    }
}

#[test]
fn all_21_checkpoints_parse_strictly_and_round_trip() {
    let v = load("checkpoints.json");
    let cases = array_of(&v, "cases");
    assert_eq!(cases.len(), 21);
    let mut failures = Vec::new();
    for case in cases {
        let (text, desc) = (str_of(case, "text"), str_of(case, "desc"));
        match (str_of(case, "strict_c2sp"), Checkpoint::parse(text)) {
            ("ok", Ok(checkpoint)) => {
                if checkpoint.to_text() != text {
                    failures.push(format!(
                        "{desc}: round trip gave {:?}",
                        checkpoint.to_text()
                    ));
                }
            }
            ("error", Err(CheckpointError::Malformed { .. })) => {}
            (want, got) => failures.push(format!("{desc}: expected {want}, got {got:?}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    let ok = cases
        .iter()
        .filter(|c| str_of(c, "strict_c2sp") == "ok")
        .count();
    assert_eq!(ok, 5);
}

fn cosignatures() -> Value {
    load("cosignatures.json")
}

#[test]
fn c2sp_cosignature_example_decodes() {
    let v = cosignatures();
    let ex = field(&v, "c2sp_example");
    let text = str_of(ex, "checkpoint_text");
    let checkpoint = Checkpoint::parse(text).unwrap();
    assert_eq!(checkpoint.origin, "example.com/behind-the-sofa");
    assert_eq!(checkpoint.size, 20_852_163);

    let line = str_of(ex, "cosignature_line");
    let cosig = Cosignature::parse_line(line).unwrap();
    assert_eq!(cosig.name, "witness.example.com/w1");
    assert_eq!(cosig.key_id, parse_key_id(str_of(ex, "decoded_key_id")));
    assert_eq!(cosig.timestamp, u64_of(ex, "decoded_timestamp"));
    assert_eq!(cosig.to_line(), line);
    assert_eq!(
        cosignature::signed_message(text, cosig.timestamp),
        str_of(ex, "signed_message")
    );

    let log_line = str_of(ex, "log_signature_line");
    let log_sig = NoteSignature::parse_line(log_line.strip_suffix('\n').unwrap()).unwrap();
    assert_eq!(log_sig.name, "example.com/behind-the-sofa");
    assert_eq!(log_sig.signature.len(), 64);
    assert_eq!(log_sig.to_line(), log_line);
}

fn check_computed_cosignature(
    signer: &Signer,
    verifier: &Verifier,
    case: &Value,
    expected_key_id: u32,
) {
    let text = str_of(case, "checkpoint_text");
    let timestamp = u64_of(case, "timestamp");
    let line = str_of(case, "cosignature_line");
    assert_eq!(
        cosignature::signed_message(text, timestamp),
        str_of(case, "signed_message")
    );
    let cosig = Cosignature::sign(signer, text, timestamp).unwrap();
    assert_eq!(cosig.to_line(), line, "re-derived cosignature");
    assert_eq!(cosig.key_id, expected_key_id);

    let parsed = Cosignature::parse_line(line).unwrap();
    assert_eq!(parsed, cosig);
    parsed.verify(verifier, text).unwrap();

    let opened = note::open(
        format!("{text}\n{line}").as_bytes(),
        std::slice::from_ref(verifier),
    )
    .unwrap();
    assert_eq!(labels(&opened.verified), [verifier_label(verifier)]);
}

fn verifier_label(v: &Verifier) -> String {
    format!("{}+{:08x}", v.name(), v.key_id())
}

#[test]
fn computed_cosignatures_are_rederived_and_verify() {
    let v = cosignatures();
    let c = field(&v, "computed");
    let name = str_of(c, "witness_name");
    let seed = seed(str_of(c, "seed_hex"));

    let cosigner = Signer::from_seed(name, KeyType::Cosignature, seed).unwrap();
    let v04 = Verifier::parse(str_of(c, "vkey_0x04")).unwrap();
    assert_eq!(cosigner.verifier(), v04);
    assert_eq!(to_hex(&v04.public_key()), str_of(c, "public_key_hex"));
    let id04 = parse_key_id(str_of(c, "key_id_0x04"));
    assert_eq!(v04.key_id(), id04);

    let ed = Signer::from_seed(name, KeyType::Ed25519, seed).unwrap();
    assert_eq!(
        ed.verifier().to_string(),
        str_of(c, "vkey_0x01_same_key_for_contrast")
    );
    assert_eq!(ed.key_id(), parse_key_id(str_of(c, "key_id_0x01")));

    check_computed_cosignature(&cosigner, &v04, c, id04);
    check_computed_cosignature(&cosigner, &v04, field(c, "with_extension"), id04);

    // The extension line is covered: the with-extension cosignature does
    // not verify over the plain text.
    let ext = field(c, "with_extension");
    let ext_cosig = Cosignature::parse_line(str_of(ext, "cosignature_line")).unwrap();
    assert!(matches!(
        ext_cosig.verify(&v04, str_of(c, "checkpoint_text")),
        Err(cosignature::CosignatureError::InvalidSignature { .. })
    ));
    // A 0x01 key is not a cosigner key.
    assert!(
        ext_cosig
            .verify(&ed.verifier(), str_of(ext, "checkpoint_text"))
            .is_err()
    );
}

#[test]
fn all_4_cosignature_must_reject_notes() {
    let v = cosignatures();
    let c = field(&v, "computed");
    let cases = array_of(c, "must_reject");
    assert_eq!(cases.len(), 4);
    let mut failures = Vec::new();
    for case in cases {
        let desc = str_of(case, "desc");
        let vkey = case
            .get("vkey")
            .map(as_str)
            .unwrap_or_else(|| str_of(c, "vkey_0x04"));
        let verifier = Verifier::parse(vkey).unwrap();
        let result = note::open(str_of(case, "note").as_bytes(), &[verifier]);
        let want = str_of(case, "expect");
        match &result {
            Err(err) if error_kind(err) == want => {}
            other => failures.push(format!("{desc}: expected {want}, got {other:?}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
