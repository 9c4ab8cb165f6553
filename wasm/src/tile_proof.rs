//! Proofs the browser computes itself from the log's tiles.

use gazette_client::Hash;
use gazette_client::tiles::TileProof;
use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;

use crate::failure::{Code, count, fail, tree_root};

/// An inclusion or consistency proof to compute from tiles: fetch each of
/// `tilePaths()` from the log, then `proof(root, tiles)` authenticates
/// them against the trusted root and returns the proof (base64 hashes).
#[wasm_bindgen]
pub struct TileProofPlan {
    plan: TileProof,
}

#[wasm_bindgen]
impl TileProofPlan {
    /// The plan for the inclusion proof of leaf `index` in tree `size`.
    pub fn inclusion(index: f64, size: f64) -> Result<TileProofPlan, JsValue> {
        let (index, size) = (count(index, "index")?, count(size, "size")?);
        TileProof::inclusion(index, size)
            .map(|plan| TileProofPlan { plan })
            .map_err(|e| fail(Code::Usage, e))
    }

    /// The plan for the consistency proof from tree `old` to tree `size`.
    pub fn consistency(old: f64, size: f64) -> Result<TileProofPlan, JsValue> {
        let (old, size) = (count(old, "old size")?, count(size, "size")?);
        TileProof::consistency(old, size)
            .map(|plan| TileProofPlan { plan })
            .map_err(|e| fail(Code::Usage, e))
    }

    /// The tile paths to fetch (relative to the log's URL), in order.
    #[wasm_bindgen(js_name = tilePaths)]
    pub fn tile_paths(&self) -> Vec<String> {
        self.plan.tiles().iter().map(|t| t.path()).collect()
    }

    /// The proof from the fetched tiles (in `tilePaths` order), after
    /// checking they hash to `root` (base64).
    pub fn proof(&self, root: &str, tiles: Vec<Uint8Array>) -> Result<Vec<String>, JsValue> {
        let root = tree_root(root)?;
        let data: Vec<Vec<u8>> = tiles.iter().map(Uint8Array::to_vec).collect();
        let proof = self
            .plan
            .proof(&root, &data)
            .map_err(|e| fail(Code::BadTiles, e))?;
        Ok(proof.iter().map(Hash::to_base64).collect())
    }
}
