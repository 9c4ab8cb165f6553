//! The static read path of c2sp.org/tlog-tiles: `/checkpoint`, hash tiles
//! and entry bundles. Only tiles the committed tree implies are served;
//! anything else is a 4xx.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use gazette_client::tiles::{HEIGHT, Tile, TileLevel};

use super::error::ApiError;
use crate::log::Log;

pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `GET /checkpoint`: the newest published checkpoint (witnessed as the
/// policy requires), never cached.
pub async fn checkpoint(State(log): State<Arc<Log>>) -> Response {
    let published = log.published();
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        published.note.clone(),
    )
        .into_response()
}

/// Whether a tree of `size` leaves has all of `tile`.
fn implied_by(tile: &Tile, size: u64) -> bool {
    let level = match tile.level {
        TileLevel::Hashes(level) => u32::from(level),
        TileLevel::Entries => 0,
    };
    let available = size.checked_shr(level * u32::from(HEIGHT)).unwrap_or(0);
    tile.index
        .checked_mul(1 << HEIGHT)
        .and_then(|start| start.checked_add(u64::from(tile.width)))
        .is_some_and(|end| end <= available)
}

/// `GET /tile/...`: a hash tile or an entry bundle.
pub async fn tile(
    State(log): State<Arc<Log>>,
    Path(rest): Path<String>,
) -> Result<Response, ApiError> {
    let path = format!("tile/{rest}");
    let tile = Tile::parse_path(&path).map_err(|e| ApiError::Malformed(e.to_string()))?;
    let size = log.committed().size;
    if !implied_by(&tile, size) {
        return Err(ApiError::NotFound(format!(
            "{path} is beyond the tree of size {size}"
        )));
    }
    let data = match log.tiles.get(tile.level, &path) {
        Some(data) => data,
        None => {
            // Tiles are small (≤ 8 KiB of hashes, bundles of tens of KiB)
            // and hot in the page cache: read them right here. A hop to the
            // blocking pool per tile made serving 1.5 times as expensive as
            // nginx's, and `block_in_place` worse still (docs/BENCHMARKS.md).
            let data = log
                .storage
                .read(&path)
                .map_err(|e| ApiError::Internal(format!("reading {path}: {e}")))?
                // A partial tile may be gone once its full tile exists.
                .ok_or_else(|| {
                    ApiError::NotFound(format!("{path} is no longer stored; fetch the full tile"))
                })?;
            let data = Bytes::from(data);
            log.tiles.insert(tile.level, &path, data.clone());
            data
        }
    };
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE)),
        ],
        data,
    )
        .into_response())
}

/// `GET /healthz`: 200 while the log accepts writes; 503 while its data
/// directory is read-only, or once a storage failure stopped writes (until
/// a restart recovers); 503 or 507 while the storage refuses commits.
pub async fn healthz(State(log): State<Arc<Log>>) -> Result<&'static str, ApiError> {
    if log.read_only.is_some() {
        return Err(ApiError::read_only(&log, "only reads are served"));
    }
    if let Some(reason) = log.sequencer.failure() {
        return Err(ApiError::Overloaded {
            message: reason,
            retry_after: 60,
        });
    }
    match log.sequencer.storage_trouble() {
        None => Ok("ok\n"),
        Some(trouble) => Err(super::error::trouble_error(
            &trouble,
            format!(
                "the storage refuses commits, retrying (writes resume by themselves once it works): {}",
                trouble.message
            ),
        )),
    }
}
