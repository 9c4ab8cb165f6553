#![cfg(target_arch = "wasm32")]
//! `parseNames` and `qrSvg` in a real browser: the page's display names come
//! out as the plain object the page reads, a bad file throws the core's
//! precise reason with code `malformed`, and a QR code is one SVG path.

use gazette_wasm::{parse_names, qr_svg};
use js_sys::Reflect;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// `value[a][b][c]` as a string, or None when a step is missing.
fn path(value: &JsValue, keys: &[&str]) -> Option<String> {
    let mut at = value.clone();
    for key in keys {
        at = Reflect::get(&at, &JsValue::from_str(key)).ok()?;
        if at.is_undefined() {
            return None;
        }
    }
    at.as_string()
}

#[wasm_bindgen_test]
fn names_come_out_per_agency_and_kind_and_language() {
    let text = "# names\n\
        agency land.example.gov en Land Registry\n\
        agency land.example.gov zh-CN 土地登记局\n\
        kind title-deed zh-CN 不动产权证书\n";
    let names = parse_names(text.as_bytes()).unwrap();
    assert_eq!(
        path(&names, &["agency", "land.example.gov", "en"]).as_deref(),
        Some("Land Registry")
    );
    assert_eq!(
        path(&names, &["agency", "land.example.gov", "zh-CN"]).as_deref(),
        Some("土地登记局")
    );
    assert_eq!(
        path(&names, &["kind", "title-deed", "zh-CN"]).as_deref(),
        Some("不动产权证书")
    );
    assert_eq!(path(&names, &["kind", "title-deed", "en"]), None);
    // The core's built-in kind names come beneath the file's.
    assert_eq!(
        path(&names, &["kind", "e-invoice", "zh-CN"]).as_deref(),
        Some("电子发票")
    );
    // An empty file names no agency, and the built-in kinds alone.
    let empty = parse_names(b"").unwrap();
    assert_eq!(
        js_sys::Object::keys(&Reflect::get(&empty, &"agency".into()).unwrap().into()).length(),
        0
    );
    assert_eq!(
        path(&empty, &["kind", "revocation", "en"]).as_deref(),
        Some("Revocation notice")
    );
    let own = parse_names(b"kind e-invoice en Tax invoice\n").unwrap();
    assert_eq!(
        path(&own, &["kind", "e-invoice", "en"]).as_deref(),
        Some("Tax invoice")
    );
}

#[wasm_bindgen_test]
fn a_bad_names_file_throws_its_line_and_reason_as_malformed() {
    let error = parse_names(b"kind deed en Deed\nkind deed fr Acte\n").unwrap_err();
    assert_eq!(path(&error, &["code"]).as_deref(), Some("malformed"));
    let message = path(&error, &["message"]).unwrap();
    assert!(
        message.starts_with("line 2:") && message.contains("zh-CN"),
        "{message}"
    );
    let error = parse_names(&[0xff, 0xfe]).unwrap_err();
    assert_eq!(
        path(&error, &["message"]).as_deref(),
        Some("names file is not UTF-8")
    );
}

#[wasm_bindgen_test]
fn a_qr_code_is_one_svg_path_and_too_long_a_text_has_none() {
    let svg = qr_svg("http://127.0.0.1:8080/#receipt=YzJzcC5vcmc").unwrap();
    assert!(
        svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 "),
        "{svg}"
    );
    assert_eq!(svg.matches("<path").count(), 1);
    assert!(qr_svg(&"x".repeat(3_000)).is_none());
}
