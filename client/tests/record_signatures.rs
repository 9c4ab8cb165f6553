//! Record signatures follow the ZIP-215 rules (cofactored Ed25519), the
//! rules under which batch and single verification agree exactly. These
//! tests pin the edge cases where Ed25519 verifiers differ, and show that
//! `SignedRecord::verify_many` (one batch equation, halved where it fails)
//! gives exactly `SignedRecord::verify`'s answer for every record.
//!
//! History: bulk verification once used ed25519-dalek's batch equation while
//! single verification was strict, and a nonce with a torsion component
//! passed the one and failed the other. Now one rule serves both.

use base64::Engine as _;
use curve25519_dalek::EdwardsPoint;
use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::scalar::Scalar;
use gazette_client::note::{self, KeyType, NoteError, Signer, Verifier};
use gazette_client::record::{Record, RecordError, SignedRecord};
use proptest::prelude::*;
use sha2::{Digest, Sha512};

const ISSUER: &str = "agency.example";
const SEED: [u8; 32] = [3; 32];
/// The group order ℓ, little-endian.
const ELL: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

fn agency() -> Signer {
    Signer::from_seed(ISSUER, KeyType::Ed25519, SEED).unwrap()
}

fn record_text(n: u64) -> String {
    Record::new(
        ISSUER,
        "evidence",
        &format!("ID-{n}"),
        [0xab; 32],
        "2026-01-01T00:00:00Z",
    )
    .to_text()
    .unwrap()
}

/// An Ed25519 signature by the key from `SEED` over `text`, made by hand so
/// the nonce point can carry the torsion component `t` and `s` can be
/// written out non-reduced: what only a key holder can make.
fn raw_signature(text: &str, nonce: u64, t: EdwardsPoint, s_plus_ell: bool) -> [u8; 64] {
    let expanded = Sha512::digest(SEED);
    let mut secret = [0u8; 32];
    secret.copy_from_slice(&expanded[..32]);
    secret[0] &= 248;
    secret[31] &= 127;
    secret[31] |= 64;
    let a = Scalar::from_bytes_mod_order(secret);
    let public = (a * ED25519_BASEPOINT_POINT).compress();
    let r = Scalar::from(1000 + nonce);
    let big_r = (r * ED25519_BASEPOINT_POINT + t).compress();
    let mut h = Sha512::new();
    h.update(big_r.as_bytes());
    h.update(public.as_bytes());
    h.update(text.as_bytes());
    let k = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
    let mut s = (r + k * a).to_bytes();
    if s_plus_ell {
        let mut carry = 0u16;
        for (byte, add) in s.iter_mut().zip(ELL) {
            let sum = *byte as u16 + add as u16 + carry;
            *byte = sum as u8;
            carry = sum >> 8;
        }
        assert_eq!(carry, 0);
    }
    let mut signature = [0u8; 64];
    signature[..32].copy_from_slice(big_r.as_bytes());
    signature[32..].copy_from_slice(&s);
    signature
}

fn note_with(text: &str, key: &Verifier, signature: &[u8]) -> Vec<u8> {
    let mut payload = key.key_id().to_be_bytes().to_vec();
    payload.extend_from_slice(signature);
    let line = base64::engine::general_purpose::STANDARD.encode(&payload);
    format!("{text}\n\u{2014} {ISSUER} {line}\n").into_bytes()
}

/// The kinds of record a batch is made of.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Honest,
    /// Nonce shifted by a torsion point of order 2, 4 or 8 (valid under ZIP-215).
    Torsioned(usize),
    /// One bit of the signature flipped.
    Flipped(usize),
    /// `s + ℓ` instead of `s`.
    NonCanonicalS,
    /// Signed by another key with the issuer's name.
    OtherKey,
    /// Not a record at all.
    Garbage,
}

fn make(kind: Kind, n: u64) -> Vec<u8> {
    let key = agency().verifier();
    let text = record_text(n);
    let identity = EdwardsPoint::default();
    match kind {
        Kind::Honest => note_with(&text, &key, &raw_signature(&text, n, identity, false)),
        Kind::Torsioned(i) => note_with(
            &text,
            &key,
            &raw_signature(&text, n, EIGHT_TORSION[i], false),
        ),
        Kind::Flipped(bit) => {
            let mut sig = raw_signature(&text, n, identity, false);
            sig[bit / 8 % 64] ^= 1 << (bit % 8);
            note_with(&text, &key, &sig)
        }
        Kind::NonCanonicalS => note_with(&text, &key, &raw_signature(&text, n, identity, true)),
        Kind::OtherKey => {
            Record::new(ISSUER, "evidence", "other", [1; 32], "2026-01-01T00:00:00Z")
                .sign(&Signer::from_seed(ISSUER, KeyType::Ed25519, [9; 32]).unwrap())
                .unwrap()
                .bytes
        }
        Kind::Garbage => b"not a record".to_vec(),
    }
}

fn keys() -> Vec<Verifier> {
    vec![agency().verifier()]
}

#[test]
fn the_hand_made_signature_is_the_standard_one() {
    // Guards the test's own signer: with no torsion it matches RFC 8032 signing.
    let text = record_text(7);
    let honest = make(Kind::Honest, 7);
    assert!(SignedRecord::verify(&honest, &keys()).is_ok());
    let signed = SignedRecord::parse(&honest).unwrap();
    assert_eq!(signed.record.id, "ID-7");
    assert!(note::open(&honest, &keys()).is_ok(), "{text}");
}

#[test]
fn torsioned_nonces_are_accepted_by_single_and_batch_alike() {
    for i in 1..8 {
        let bytes = make(Kind::Torsioned(i), i as u64);
        assert!(SignedRecord::verify(&bytes, &keys()).is_ok(), "torsion {i}");
        assert!(SignedRecord::verify_many(&[bytes.as_slice()], &keys())[0].is_ok());
        // Notes (checkpoints, cosignatures) keep Go's cofactorless rule.
        assert!(matches!(
            note::open(&bytes, &keys()),
            Err(NoteError::InvalidSignature { .. })
        ));
    }
    let many: Vec<Vec<u8>> = (0..40)
        .map(|n| make(Kind::Torsioned(1 + n % 7), n as u64))
        .collect();
    let refs: Vec<&[u8]> = many.iter().map(Vec::as_slice).collect();
    assert!(
        SignedRecord::verify_many(&refs, &keys())
            .iter()
            .all(Result::is_ok)
    );
}

#[test]
fn non_canonical_s_and_flipped_bits_are_rejected() {
    for kind in [Kind::NonCanonicalS, Kind::Flipped(300), Kind::Flipped(3)] {
        let bytes = make(kind, 1);
        let single = SignedRecord::verify(&bytes, &keys());
        assert!(
            matches!(single, Err(RecordError::BadSignature { .. })),
            "{kind:?}: {single:?}"
        );
        assert_eq!(
            SignedRecord::verify_many(&[bytes.as_slice()], &keys())[0],
            single
        );
    }
}

fn kind_strategy() -> impl Strategy<Value = Kind> {
    prop_oneof![
        8 => Just(Kind::Honest),
        1 => (1usize..8).prop_map(Kind::Torsioned),
        1 => (0usize..512).prop_map(Kind::Flipped),
        1 => Just(Kind::NonCanonicalS),
        1 => Just(Kind::OtherKey),
        1 => Just(Kind::Garbage),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Any mix, at any positions: the batch names exactly the records that
    /// single verification rejects, with the same error.
    #[test]
    fn batch_answers_exactly_as_single_verification(kinds in prop::collection::vec(kind_strategy(), 0..80)) {
        let records: Vec<Vec<u8>> = kinds.iter().enumerate().map(|(n, k)| make(*k, n as u64)).collect();
        let refs: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
        let batch = SignedRecord::verify_many(&refs, &keys());
        prop_assert_eq!(batch.len(), records.len());
        for (got, bytes) in batch.iter().zip(&records) {
            prop_assert_eq!(got, &SignedRecord::verify(bytes, &keys()));
        }
    }
}
