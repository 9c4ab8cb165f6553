//! Hashing a document in the browser, in chunks, so a large file is read
//! piece by piece and never leaves the machine.

use gazette_client::encoding::hex_encode;
use sha2::{Digest, Sha256};
use wasm_bindgen::prelude::*;

/// SHA-256 of a document fed in chunks; `finish` gives the record's
/// `sha256:<hex>` digest.
#[wasm_bindgen]
#[derive(Default)]
pub struct DocumentHasher {
    state: Sha256,
}

#[wasm_bindgen]
impl DocumentHasher {
    /// A hasher with nothing fed yet.
    #[wasm_bindgen(constructor)]
    pub fn new() -> DocumentHasher {
        DocumentHasher::default()
    }

    /// Feeds the next chunk of the document.
    pub fn update(&mut self, chunk: &[u8]) {
        self.state.update(chunk);
    }

    /// The digest, as in a record: `sha256:<64 lowercase hex>`.
    pub fn finish(self) -> String {
        format!("sha256:{}", hex_encode(&self.state.finalize()))
    }
}
