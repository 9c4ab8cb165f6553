//! Small strict encoders and decoders shared by every format module.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Standard base64 (RFC 4648 §4) with mandatory canonical padding and
/// canonical trailing bits: every value has exactly one text form, so texts
/// that carry hashes, keys or data round-trip byte for byte.
const STANDARD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// As [`STANDARD`], but tolerating non-zero trailing bits in the last
/// character, exactly as Go's `base64.StdEncoding` does. Used only for the
/// signature bytes of note signature lines: a Go witness answers 403
/// "invalid signature" (not 400 "malformed") to a line so encoded, and the
/// shared vectors (`witness_add_checkpoint_session.json` step 1,
/// `signed_note.json › implementation_dependent`) follow Go.
const STANDARD_LENIENT_BITS: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical)
        .with_decode_allow_trailing_bits(true),
);

/// Encodes with standard base64 and padding.
pub fn b64_encode(data: &[u8]) -> String {
    STANDARD.encode(data)
}

/// Decodes canonical standard padded base64; `None` on any deviation.
pub fn b64_decode(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text).ok()
}

/// Decodes signature bytes the way Go does (see [`STANDARD_LENIENT_BITS`]).
pub fn b64_decode_signature(text: &str) -> Option<Vec<u8>> {
    STANDARD_LENIENT_BITS.decode(text).ok()
}

/// Parses a canonical decimal `u64`: ASCII digits only, no sign, no leading
/// zeros (but `0` itself), no overflow.
pub fn parse_decimal(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes.len() > 20 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if bytes.len() > 1 && bytes[0] == b'0' {
        return None;
    }
    text.parse().ok()
}

/// Lowercase hex of `data`.
pub fn hex_encode(data: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(data.len() * 2);
    for byte in data {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 0x0f)] as char);
    }
    out
}

/// Decodes lowercase hex only (the canonical form in our formats).
pub fn hex_decode_lower(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    // Sized once: collecting into `Option<Vec>` cannot know the length
    // and grew the vector from nothing (a digest is decoded per record).
    let mut decoded = Vec::with_capacity(bytes.len() / 2);
    for pair in bytes.chunks_exact(2) {
        decoded.push((digit(pair[0])? << 4) | digit(pair[1])?);
    }
    Some(decoded)
}

/// A Unix time as RFC 3339 UTC, to the second.
pub fn rfc3339_utc(unix: u64) -> String {
    let (days, secs) = (unix / 86_400, unix % 86_400);
    // Howard Hinnant's civil_from_days, for days since 1970-01-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_rejects_non_canonical_forms() {
        for bad in [
            "",
            "01",
            "+1",
            "-1",
            " 1",
            "1 ",
            "0x1",
            "18446744073709551616",
            "1a",
        ] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
        assert_eq!(parse_decimal("0"), Some(0));
        assert_eq!(parse_decimal("18446744073709551615"), Some(u64::MAX));
    }

    #[test]
    fn base64_is_canonical_except_for_signature_trailing_bits() {
        assert_eq!(b64_decode("YQ=="), Some(b"a".to_vec()));
        assert_eq!(b64_decode("YR=="), None);
        assert_eq!(b64_decode_signature("YR=="), Some(b"a".to_vec()));
        for decode in [b64_decode, b64_decode_signature] {
            assert_eq!(decode("YQ"), None);
            assert_eq!(decode("YQ="), None);
        }
    }

    #[test]
    fn hex_round_trips_and_rejects_uppercase() {
        assert_eq!(hex_encode(&[0x00, 0xab, 0xff]), "00abff");
        assert_eq!(hex_decode_lower("00abff"), Some(vec![0x00, 0xab, 0xff]));
        assert_eq!(hex_decode_lower("00ABFF"), None);
        assert_eq!(hex_decode_lower("0"), None);
    }
}
