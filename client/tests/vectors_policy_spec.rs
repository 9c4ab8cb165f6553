//! c2sp.org/tlog-policy against the spec's own text
//! (`tlog_policy_spec_examples.json`, made by
//! `make_policy_spec_vectors.py`): the spec's example policy over all 64
//! subsets of its six witnesses, parse cases for each rule the spec states,
//! quorum evaluation, and whole checkpoint verifications.

mod common;

use common::{array_of, as_str, b64_bytes, bool_of, field, load, str_of};
use gazette_client::checkpoint::CheckpointError;
use gazette_client::note::NoteError;
use gazette_client::policy::{Policy, PolicyError};
use serde_json::Value;

fn vectors() -> Value {
    load("tlog_policy_spec_examples.json")
}

/// The policy bytes of a case: `policy`, or `policy_base64` when they are
/// not UTF-8.
fn policy_bytes(case: &Value) -> Vec<u8> {
    match case.get("policy_base64") {
        Some(b64) => b64_bytes(as_str(b64)),
        None => str_of(case, "policy").as_bytes().to_vec(),
    }
}

fn strings(values: &[Value]) -> Vec<&str> {
    values.iter().map(as_str).collect()
}

/// Names with non-ASCII escaped, so that `K` and the Kelvin sign read
/// differently in a failure message.
fn shown(names: &[&str]) -> Vec<String> {
    names
        .iter()
        .map(|n| n.escape_default().to_string())
        .collect()
}

/// Checks `ok`/`error` parse cases, returning one line per mismatch.
fn parse_mismatches(cases: &[Value]) -> Vec<String> {
    let mut failures = Vec::new();
    for case in cases {
        let desc = str_of(case, "desc");
        let want = str_of(case, "expect");
        let result = Policy::parse(&policy_bytes(case));
        let as_expected = matches!(
            (want, &result),
            ("ok", Ok(_))
                | (
                    "error",
                    Err(PolicyError::Syntax { .. } | PolicyError::Invalid { .. })
                )
        );
        if !as_expected {
            let got = match result {
                Ok(_) => "accepted".to_owned(),
                Err(e) => format!("rejected: {e}"),
            };
            failures.push(format!(
                "{desc}: expected {want}, {got} (spec: {})",
                str_of(case, "spec")
            ));
        }
    }
    failures
}

#[test]
fn spec_example_policy_lists_one_log_and_six_named_witnesses() {
    let v = vectors();
    let example = field(&v, "example");
    let policy = Policy::parse(str_of(example, "policy").as_bytes()).unwrap();
    let log = str_of(field(field(&v, "keys"), "log"), "origin");
    let logs: Vec<&str> = policy.logs().iter().map(|l| l.verifier.name()).collect();
    assert_eq!(logs, [log]);
    let names: Vec<&str> = policy.witnesses().iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["X1", "X2", "X3", "Y1", "Y2", "Y3"]);
    for (witness, key) in policy
        .witnesses()
        .iter()
        .zip(array_of(field(&v, "keys"), "witnesses"))
    {
        assert_eq!(witness.verifier.name(), str_of(key, "key_name"));
    }
    assert!(policy.requires_witnesses());
}

/// The spec: valid iff at least two X witnesses and at least one Y witness
/// cosigned. Every subset is checked through `verify_checkpoint` (with the
/// cosignature lines in policy order and reversed) and `quorum_met`.
#[test]
fn spec_example_verdicts_for_all_64_cosigner_subsets() {
    let v = vectors();
    let example = field(&v, "example");
    let policy = Policy::parse(str_of(example, "policy").as_bytes()).unwrap();
    let signed = str_of(example, "signed_note");
    let lines = field(example, "cosignature_lines");
    let subsets = array_of(example, "subsets");
    assert_eq!(subsets.len(), 64);
    let mut failures = Vec::new();
    for subset in subsets {
        let who = strings(array_of(subset, "cosigners"));
        let want = bool_of(subset, "expect_valid");
        let desc = format!("cosigned by {:?}", shown(&who));
        if policy.quorum_met(&who) != want {
            failures.push(format!("{desc}: quorum_met is {}, spec says {want}", !want));
        }
        let in_order: String = who.iter().map(|n| str_of(lines, n)).collect();
        let reversed: String = who.iter().rev().map(|n| str_of(lines, n)).collect();
        for (order, cosignatures) in [("in order", in_order), ("reversed", reversed)] {
            let note = format!("{signed}{cosignatures}");
            match (want, policy.verify_checkpoint(note.as_bytes())) {
                (true, Ok(verified)) if verified.witness_names() == who => {
                    assert_eq!(verified.checkpoint.size, 42, "{desc}");
                }
                (false, Err(PolicyError::QuorumNotMet { cosigned_by, .. }))
                    if cosigned_by == who => {}
                (_, got) => failures.push(format!(
                    "{desc} ({order}): spec says {}, got {got:?}",
                    if want { "valid" } else { "quorum not met" }
                )),
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    let valid = subsets
        .iter()
        .filter(|s| bool_of(s, "expect_valid"))
        .count();
    assert_eq!(valid, 28);
}

/// The spec lets an application that knows its log from context accept a
/// policy without logs. We parse one and evaluate its quorum, but
/// `verify_checkpoint` has no such context: no listed log, no valid
/// checkpoint (the spec's "signed by any one of the listed logs").
#[test]
fn spec_example_without_its_log_parses_and_verifies_no_checkpoint() {
    let v = vectors();
    let example = field(&v, "example");
    let policy = Policy::parse(str_of(example, "policy_without_log").as_bytes()).unwrap();
    assert!(policy.logs().is_empty());
    for subset in array_of(example, "subsets") {
        let who = strings(array_of(subset, "cosigners"));
        assert_eq!(
            policy.quorum_met(&who),
            bool_of(subset, "expect_valid"),
            "{:?}",
            shown(&who)
        );
    }
    let lines = field(example, "cosignature_lines");
    let all: String = ["X1", "X2", "X3", "Y1", "Y2", "Y3"]
        .iter()
        .map(|n| str_of(lines, n))
        .collect();
    let note = format!("{}{all}", str_of(example, "signed_note"));
    assert!(matches!(
        policy.verify_checkpoint(note.as_bytes()),
        Err(PolicyError::UnknownLog { .. })
    ));
}

#[test]
fn all_35_spec_parse_cases() {
    let v = vectors();
    let cases = array_of(&v, "parse_cases");
    assert_eq!(cases.len(), 35);
    let failures = parse_mismatches(cases);
    assert!(failures.is_empty(), "{failures:#?}");
    let ok = cases.iter().filter(|c| str_of(c, "expect") == "ok").count();
    assert_eq!((ok, cases.len() - ok), (15, 20));
}

/// The spec: octets 0x80-0xFF are opaque in names, URLs and comments, UTF-8
/// or not. Comments are taken as the spec says. Names and URLs must be
/// UTF-8 here, a deliberate narrowing (`gazette_client::policy`'s module
/// documentation): names are shown to people and carried in JSON, and a
/// witness's key name in its cosignatures is UTF-8 anyway. A policy that
/// uses such a name or URL is refused with the line, never misread.
#[test]
fn non_utf8_octets_in_comments_are_opaque_and_in_names_and_urls_refused() {
    let v = vectors();
    let cases = array_of(&v, "non_utf8_parse_cases");
    assert_eq!(cases.len(), 6);
    for case in cases {
        assert!(
            std::str::from_utf8(&policy_bytes(case)).is_err(),
            "{}",
            str_of(case, "desc")
        );
    }
    let (comments, names): (Vec<Value>, Vec<Value>) = cases
        .iter()
        .cloned()
        .partition(|c| str_of(c, "desc").contains("comment"));
    assert_eq!(comments.len(), 1);
    let failures = parse_mismatches(&comments);
    assert!(failures.is_empty(), "{failures:#?}");
    for case in &names {
        match Policy::parse(&policy_bytes(case)) {
            Err(PolicyError::Syntax { reason, .. }) => {
                assert_eq!(reason, "not UTF-8", "{}", str_of(case, "desc"))
            }
            other => panic!("{}: {other:?}", str_of(case, "desc")),
        }
    }
}

/// `any` is 1, `all` is n, a numeric k is at least k, a single witness must
/// cosign itself, `none` needs nobody, and names compare as octets.
#[test]
fn all_8_quorum_cases_over_every_listed_subset() {
    let v = vectors();
    let cases = array_of(&v, "quorum_cases");
    assert_eq!(cases.len(), 8);
    let mut failures = Vec::new();
    for case in cases {
        let desc = str_of(case, "desc");
        let policy = Policy::parse(str_of(case, "policy").as_bytes())
            .unwrap_or_else(|e| panic!("{desc}: {e}"));
        for subset in array_of(case, "subsets") {
            let who = strings(array_of(subset, "cosigners"));
            let want = bool_of(subset, "expect_met");
            if policy.quorum_met(&who) != want {
                failures.push(format!(
                    "{desc}, cosigned by {:?}: spec says {want}",
                    shown(&who)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn all_11_verify_cases() {
    let v = vectors();
    let cases = array_of(&v, "verify_cases");
    assert_eq!(cases.len(), 11);
    let mut failures = Vec::new();
    for case in cases {
        let desc = str_of(case, "desc");
        let policy = Policy::parse(str_of(case, "policy").as_bytes())
            .unwrap_or_else(|e| panic!("{desc}: {e}"));
        if policy.requires_witnesses() != bool_of(case, "requires_witnesses") {
            failures.push(format!("{desc}: requires_witnesses is wrong"));
        }
        let cosigned = strings(array_of(case, "cosigned_by"));
        let got = policy.verify_checkpoint(str_of(case, "note").as_bytes());
        let ok = match (str_of(case, "expect"), &got) {
            ("valid", Ok(verified)) => verified.witness_names() == cosigned,
            ("quorum_not_met", Err(PolicyError::QuorumNotMet { cosigned_by, .. })) => {
                *cosigned_by == cosigned
            }
            ("unknown_log", Err(PolicyError::UnknownLog { .. })) => true,
            (
                "not_signed_by_log",
                Err(PolicyError::Checkpoint(CheckpointError::Note(NoteError::Unverified {
                    ..
                }))),
            ) => true,
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{desc}: expected {} cosigned by {:?}, got {got:?}",
                str_of(case, "expect"),
                shown(&cosigned)
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
