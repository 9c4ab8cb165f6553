//! Gazette records: build, sign, parse, verify against agency keys,
//! revocations, and every must-reject rule of DESIGN.md §Records.

use gazette_client::note::{KeyType, Note, Signer};
use gazette_client::record::{MAX_RECORD_SIZE, Record, RecordError, SignedRecord, is_rfc3339_utc};

const ISSUER: &str = "land-registry.example.gov";

fn agency() -> Signer {
    Signer::from_seed(ISSUER, KeyType::Ed25519, [3; 32]).unwrap()
}

fn deed() -> Record {
    let mut record = Record::new(
        ISSUER,
        "property-registration",
        "PR-2026/0001",
        [0xab; 32],
        "2026-11-24T09:00:00Z",
    );
    record
        .fields
        .push(("parcel".to_owned(), "12-34-567 north district".to_owned()));
    record
}

#[test]
fn signed_record_has_the_documented_text_and_verifies() {
    let signed = deed().sign(&agency()).unwrap();
    let text = std::str::from_utf8(&signed.bytes).unwrap();
    let expected_text = format!(
        "gazette.record/v1\nissuer {ISSUER}\nkind property-registration\nid PR-2026/0001\ndigest sha256:{}\nissued 2026-11-24T09:00:00Z\nparcel 12-34-567 north district\n\n",
        "ab".repeat(32)
    );
    assert!(text.starts_with(&expected_text), "{text}");
    let checked = SignedRecord::verify(&signed.bytes, &[agency().verifier()]).unwrap();
    assert_eq!(checked.record, deed());
    assert_eq!(
        checked.leaf_hash(),
        gazette_client::merkle::leaf_hash(&signed.bytes)
    );
}

#[test]
fn record_from_an_unregistered_key_is_unknown_issuer() {
    let signed = deed().sign(&agency()).unwrap();
    let other = Signer::from_seed(ISSUER, KeyType::Ed25519, [4; 32]).unwrap();
    assert!(matches!(
        SignedRecord::verify(&signed.bytes, &[other.verifier()]),
        Err(RecordError::UnknownIssuer { .. })
    ));
    assert!(matches!(
        SignedRecord::verify(&signed.bytes, &[]),
        Err(RecordError::UnknownIssuer { .. })
    ));
}

#[test]
fn tampered_record_fails_its_signature() {
    let signed = deed().sign(&agency()).unwrap();
    let tampered = String::from_utf8(signed.bytes)
        .unwrap()
        .replace("PR-2026/0001", "PR-2026/0002");
    assert_eq!(
        SignedRecord::verify(tampered.as_bytes(), &[agency().verifier()]),
        Err(RecordError::BadSignature {
            issuer: ISSUER.to_owned()
        })
    );
}

#[test]
fn record_signed_by_a_key_of_another_name_is_rejected() {
    let other = Signer::from_seed("tax.example.gov", KeyType::Ed25519, [3; 32]).unwrap();
    assert!(matches!(
        deed().sign(&other),
        Err(RecordError::IssuerMismatch { .. })
    ));
    // Hand-made: issuer line says one agency, signature line another.
    let text = deed().to_text().unwrap();
    let note = Note {
        text: text.clone(),
        signatures: vec![other.sign_text(&text).unwrap()],
    };
    assert!(matches!(
        SignedRecord::parse(&note.to_bytes()),
        Err(RecordError::IssuerMismatch { .. })
    ));
}

#[test]
fn record_with_two_signatures_is_rejected() {
    let text = deed().to_text().unwrap();
    let sig = agency().sign_text(&text).unwrap();
    let note = Note {
        text,
        signatures: vec![sig.clone(), sig],
    };
    assert_eq!(
        SignedRecord::parse(&note.to_bytes()),
        Err(RecordError::SignatureCount { count: 2 })
    );
}

#[test]
fn revocation_round_trips_and_supersedes_only_its_target() {
    let revocation = Record::revocation(
        ISSUER,
        "REV-1",
        [1; 32],
        "2026-11-25T10:00:00.5Z",
        "property-registration",
        "PR-2026/0001",
    );
    let signed = revocation.sign(&agency()).unwrap();
    let parsed = SignedRecord::verify(&signed.bytes, &[agency().verifier()]).unwrap();
    assert_eq!(
        parsed.record.revokes,
        Some((
            "property-registration".to_owned(),
            "PR-2026/0001".to_owned()
        ))
    );
    assert!(deed().is_revoked_by(&parsed.record));
    let mut other_issuer = parsed.record.clone();
    other_issuer.issuer = "tax.example.gov".to_owned();
    assert!(!deed().is_revoked_by(&other_issuer));
    let mut other_id = deed();
    other_id.id = "PR-2026/0002".to_owned();
    assert!(!other_id.is_revoked_by(&parsed.record));
}

#[test]
fn invalid_records_are_refused_before_signing() {
    let cases: Vec<(&str, Record)> = vec![
        (
            "uppercase kind",
            Record {
                kind: "Deed".into(),
                ..deed()
            },
        ),
        (
            "empty id",
            Record {
                id: String::new(),
                ..deed()
            },
        ),
        (
            "id with a space",
            Record {
                id: "PR 1".into(),
                ..deed()
            },
        ),
        (
            "issuer with +",
            Record {
                issuer: "a+b".into(),
                ..deed()
            },
        ),
        (
            "local time",
            Record {
                issued: "2026-11-24T09:00:00+08:00".into(),
                ..deed()
            },
        ),
        (
            "30 February",
            Record {
                issued: "2026-02-30T09:00:00Z".into(),
                ..deed()
            },
        ),
        (
            "hour 24",
            Record {
                issued: "2026-02-03T24:00:00Z".into(),
                ..deed()
            },
        ),
        (
            "revocation without target",
            Record {
                kind: "revocation".into(),
                ..deed()
            },
        ),
        (
            "revokes on a non-revocation",
            Record {
                revokes: Some(("a".into(), "b".into())),
                ..deed()
            },
        ),
        (
            "reserved field key",
            Record {
                fields: vec![("digest".into(), "x".into())],
                ..deed()
            },
        ),
        (
            "repeated field key",
            Record {
                fields: vec![("a".into(), "x".into()), ("a".into(), "y".into())],
                ..deed()
            },
        ),
        (
            "untrimmed field value",
            Record {
                fields: vec![("a".into(), " x".into())],
                ..deed()
            },
        ),
        (
            "empty field value",
            Record {
                fields: vec![("a".into(), String::new())],
                ..deed()
            },
        ),
    ];
    for (why, record) in cases {
        assert!(
            matches!(record.sign(&agency()), Err(RecordError::Malformed { .. })),
            "{why}"
        );
    }
}

#[test]
fn malformed_record_texts_are_rejected() {
    let good = deed().to_text().unwrap();
    let bad_texts = [
        good.replace("gazette.record/v1", "gazette.record/v2"),
        good.replace("digest sha256:", "digest sha512:"),
        good.replace(&"ab".repeat(32), &"AB".repeat(32)),
        good.replace(&"ab".repeat(32), &"ab".repeat(31)),
        good.replace("issuer ", "issuer  "),
        good.replace("kind property-registration\n", ""),
        good.replace("parcel 12-34-567 north district\n", "parcel\n"),
        good.trim_end().to_owned(),
    ];
    for text in bad_texts {
        assert!(Record::parse_text(&text).is_err(), "accepted {text:?}");
    }
    assert_eq!(Record::parse_text(&good).unwrap(), deed());
}

#[test]
fn oversized_record_is_too_large() {
    let mut record = deed();
    for i in 0..40 {
        record.fields.push((format!("note{i}"), "x".repeat(1000)));
    }
    assert!(matches!(
        record.sign(&agency()),
        Err(RecordError::TooLarge { .. })
    ));
    let huge = vec![b'a'; MAX_RECORD_SIZE + 1];
    assert!(matches!(
        SignedRecord::parse(&huge),
        Err(RecordError::TooLarge { .. })
    ));
}

#[test]
fn rfc3339_validation_knows_the_calendar() {
    for good in [
        "2024-02-29T00:00:00Z",
        "1999-12-31T23:59:59Z",
        "2026-11-24T09:00:00.123456Z",
    ] {
        assert!(is_rfc3339_utc(good), "{good}");
    }
    for bad in [
        "2023-02-29T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-11-24 09:00:00Z",
        "2026-11-24T09:00:00.Z",
        "2026-11-24T09:00:60Z",
        "2026-11-24T09:00:00z",
    ] {
        assert!(!is_rfc3339_utc(bad), "{bad}");
    }
}

#[test]
fn batch_verification_gives_the_single_verdict_for_every_record() {
    use gazette_client::record::SignedRecord;
    let agency = agency();
    let stranger = Signer::from_seed("tax.example.gov", KeyType::Ed25519, [8; 32]).unwrap();
    let mut records: Vec<Vec<u8>> = (0..300)
        .map(|i| {
            Record::new(
                ISSUER,
                "evidence",
                &format!("E-{i}"),
                [i as u8; 32],
                "2026-11-24T09:00:00Z",
            )
            .sign(&agency)
            .unwrap()
            .bytes
        })
        .collect();
    // A tampered record in one chunk, an unknown issuer and garbage in another.
    records[5] = String::from_utf8(records[5].clone())
        .unwrap()
        .replace("E-5", "E-X")
        .into_bytes();
    records[200] = Record::new(
        "tax.example.gov",
        "e-invoice",
        "T-1",
        [1; 32],
        "2026-11-24T09:00:00Z",
    )
    .sign(&stranger)
    .unwrap()
    .bytes;
    records[250] = b"not a record".to_vec();
    let refs: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
    let keys = [agency.verifier()];
    let batch = SignedRecord::verify_many(&refs, &keys);
    assert_eq!(batch.len(), records.len());
    for (i, (got, bytes)) in batch.iter().zip(&records).enumerate() {
        assert_eq!(*got, SignedRecord::verify(bytes, &keys), "record {i}");
    }
    assert!(batch[5].is_err() && batch[200].is_err() && batch[250].is_err());
    assert_eq!(batch.iter().filter(|r| r.is_ok()).count(), 297);
    let signed = batch[0].as_ref().unwrap();
    assert!(signed.bytes.starts_with(signed.text_bytes()));
    assert_eq!(
        signed.text_bytes(),
        signed.record.to_text().unwrap().as_bytes()
    );
}
