//! The fast lane's head parser (`gazette_kit::fast_lane::parse_head`) on
//! untrusted bytes: no panic, nothing read past the input or the lane's
//! limit, and a request taken for the lane only when the bytes begin with
//! a whole plain `GET` head (after any empty lines) whose path and request id are as it says.

use gazette_kit::fast_lane::{Head, MAX_HEAD, parse_head, room_for_fields};

pub fn fast_lane_head(data: &[u8]) {
    let mut fields = room_for_fields();
    match parse_head(data, &mut fields) {
        Head::Get { len, request, id } => {
            assert!(len <= data.len() && len <= MAX_HEAD, "length {len}");
            let head = &data[..len];
            // Empty lines before the request line are skipped (RFC 9112 §2.2).
            let line = head.trim_ascii_start();
            assert!(line.starts_with(b"GET /"), "{head:?}");
            assert!(
                head.ends_with(b"\n\n") || head.ends_with(b"\n\r\n"),
                "{head:?}"
            );
            assert!(request.path.starts_with('/'));
            if let Some(id) = id {
                assert!(id.len() <= 128);
                assert!(
                    gazette_kit::serve::plain_request_id(id.as_bytes()),
                    "{id:?}"
                );
            }
        }
        Head::Partial => assert!(data.len() < MAX_HEAD, "{} bytes partial", data.len()),
        Head::Router => {}
    }
}
