//! Display names for the page: the operator's names file (format:
//! [`gazette_client::names`]) read by the one parser the CLI uses too.

use gazette_client::names::{DisplayNames, Named};
use wasm_bindgen::prelude::*;

use crate::failure::{Code, fail};
use crate::objects::{self, object};

/// Parses a names file: `{agency: {<key name>: {en, 'zh-CN'}}, kind:
/// {<token>: {en, 'zh-CN'}}}`, each language present only when the file
/// gives it, the core's built-in kind names beneath the file's (so an empty
/// file gives those alone: the page has no kind table of its own). A bad file throws an `Error` with code `malformed` whose
/// message names the line and why (`line 3: "fr": the languages are en
/// and zh-CN`).
#[wasm_bindgen(js_name = parseNames)]
pub fn parse_names(bytes: &[u8]) -> Result<JsValue, JsValue> {
    let names = DisplayNames::parse(bytes)
        .map_err(|e| fail(Code::Malformed, e))?
        .over_built_in();
    let (agency, kind) = (object(), object());
    for (named, token, language, name) in names.iter() {
        let table = match named {
            Named::Agency => &agency,
            Named::Kind => &kind,
        };
        let key = JsValue::from_str(token);
        let entry = match js_sys::Reflect::get(table, &key) {
            Ok(existing) if existing.is_object() => existing,
            _ => {
                let fresh = object();
                objects::set(table, token, fresh.clone());
                fresh
            }
        };
        objects::set(&entry, language.tag(), name);
    }
    let out = object();
    objects::set(&out, "agency", agency);
    objects::set(&out, "kind", kind);
    Ok(out)
}
