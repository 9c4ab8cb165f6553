//! Regression: bulk verification must not accept what strict single
//! verification rejects (it once used an unguarded Ed25519 batch equation). A signer holding the agency key can put a torsion
//! component in `R` (`R = rB + T`, `T` of order 2); the batch equation
//! without cofactor then holds for about half of its random coefficients,
//! while `verify_strict` always fails. `SignedRecord::verify_many` must
//! reject every such record, as `SignedRecord::verify` does.

use base64::Engine as _;
use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::scalar::Scalar;
use gazette_client::note::{KeyType, Signer};
use gazette_client::record::{Record, SignedRecord};
use sha2::{Digest, Sha512};

const ISSUER: &str = "agency.example";

/// Signs `text` with the key from `seed`, but with the nonce point shifted
/// by the torsion point `t`: a valid-looking signature only a key holder
/// can make, which strict verification rejects.
fn torsioned_signature(
    seed: [u8; 32],
    public: [u8; 32],
    text: &str,
    nonce: u64,
    t: curve25519_dalek::EdwardsPoint,
) -> Vec<u8> {
    let expanded = Sha512::digest(seed);
    let mut secret = [0u8; 32];
    secret.copy_from_slice(&expanded[..32]);
    secret[0] &= 248;
    secret[31] &= 127;
    secret[31] |= 64;
    let a = Scalar::from_bytes_mod_order(secret);
    let r = Scalar::from(1000 + nonce);
    let big_r = (r * ED25519_BASEPOINT_POINT + t).compress();
    let mut h = Sha512::new();
    h.update(big_r.as_bytes());
    h.update(public);
    h.update(text.as_bytes());
    let k = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
    let s = r + k * a;
    let mut signature = big_r.as_bytes().to_vec();
    signature.extend_from_slice(s.as_bytes());
    signature
}

#[test]
fn batch_verification_rejects_signatures_with_a_torsioned_nonce() {
    let seed = [3u8; 32];
    let agency = Signer::from_seed(ISSUER, KeyType::Ed25519, seed).unwrap();
    let key = agency.verifier();
    // The point of order 2: y = -1.
    let mut minus_one = [0xffu8; 32];
    minus_one[0] = 0xec;
    minus_one[31] = 0x7f;
    let t = CompressedEdwardsY(minus_one).decompress().unwrap();
    assert!(t.is_small_order() && t != curve25519_dalek::EdwardsPoint::default());

    let notes: Vec<Vec<u8>> = (0..64u64)
        .map(|n| {
            let text = Record::new(
                ISSUER,
                "evidence",
                &format!("ID-{n}"),
                [0xab; 32],
                "2026-01-01T00:00:00Z",
            )
            .to_text()
            .unwrap();
            let mut payload = key.key_id().to_be_bytes().to_vec();
            payload.extend(torsioned_signature(seed, key.public_key(), &text, n, t));
            let line = base64::engine::general_purpose::STANDARD.encode(&payload);
            format!("{text}\n\u{2014} {ISSUER} {line}\n").into_bytes()
        })
        .collect();
    for note in &notes {
        assert!(
            SignedRecord::verify(note, std::slice::from_ref(&key)).is_err(),
            "strict accepts a torsioned R"
        );
        let one = SignedRecord::verify_many(&[note.as_slice()], std::slice::from_ref(&key));
        assert!(one[0].is_err(), "batch of one accepts what strict rejects");
    }
    let refs: Vec<&[u8]> = notes.iter().map(Vec::as_slice).collect();
    let many = SignedRecord::verify_many(&refs, std::slice::from_ref(&key));
    assert_eq!(many.iter().filter(|r| r.is_ok()).count(), 0);

    // Honest signatures by the same key still pass through the batch path.
    let honest = Record::new(ISSUER, "evidence", "OK-1", [1; 32], "2026-01-01T00:00:00Z")
        .sign(&agency)
        .unwrap();
    assert!(SignedRecord::verify_many(&[honest.bytes.as_slice()], &[key])[0].is_ok());
}
