//! The static read path of c2sp.org/tlog-tiles: `/checkpoint`, hash tiles
//! and entry bundles. Only tiles the committed tree implies are served;
//! anything else is a 4xx. Entry bundles go gzip-encoded to clients that
//! accept it (the spec's SHOULD), compressed once per bundle held in the
//! tile cache.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use gazette_client::tiles::{HEIGHT, Tile, TileLevel};
use gazette_kit::fast_lane::{FastLane, LaneAnswer, LaneBody, LaneRequest};

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

/// `GET /tile/...`: a hash tile or an entry bundle; a bundle gzip-encoded
/// when the client accepts it, and `Vary: Accept-Encoding` either way.
/// (Most tile requests are answered before the router, by [`TileLane`],
/// the same way.)
pub async fn tile(
    State(log): State<Arc<Log>>,
    AcceptsGzip(accepts_gzip): AcceptsGzip,
    Path(rest): Path<String>,
) -> Result<Response, ApiError> {
    let answer = answer_tile(&log, &format!("tile/{rest}"), accepts_gzip, false)?;
    let data = match answer.body {
        LaneBody::Memory(data) => data,
        LaneBody::File(..) => unreachable!("asked for no file"),
    };
    let mut response = (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE)),
        ],
        data,
    )
        .into_response();
    if answer.bundle {
        let headers = response.headers_mut();
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        if answer.gzipped {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
    }
    Ok(response)
}

/// A tile to send (its bytes, or its file), whether it is an entry
/// bundle, and gzip-encoded.
struct TileAnswer {
    body: LaneBody,
    bundle: bool,
    gzipped: bool,
}

/// The tile at `path` (`tile/...`) as the client gets it: from the tile
/// cache, else its file on local storage when `files` says the caller can
/// send one, else read from the storage (and cached).
fn answer_tile(
    log: &Log,
    path: &str,
    accepts_gzip: bool,
    files: bool,
) -> Result<TileAnswer, ApiError> {
    let tile = Tile::parse_path(path).map_err(|e| ApiError::Malformed(e.to_string()))?;
    let size = log.committed().size;
    if !implied_by(&tile, size) {
        return Err(ApiError::NotFound(format!(
            "{path} is beyond the tree of size {size}"
        )));
    }
    let bundle = tile.level == TileLevel::Entries;
    if bundle && accepts_gzip {
        let (data, gzipped) = gzip_or_stored(log, &tile, path)?;
        return Ok(TileAnswer {
            body: LaneBody::Memory(data),
            bundle,
            gzipped,
        });
    }
    let body = match log.tiles.get(tile.level, path) {
        Some(data) => LaneBody::Memory(data),
        None => match files.then(|| stored_file(log, path)).flatten() {
            Some((file, len)) => LaneBody::File(file, len),
            None => LaneBody::Memory(stored(log, &tile, path)?),
        },
    };
    Ok(TileAnswer {
        body,
        bundle,
        gzipped: false,
    })
}

/// The file of the tile at `path` and its length, if the storage is a
/// local directory that holds it. Sent from the page cache, the file is
/// not read into the tile cache: on local disk the page cache is the
/// cache.
fn stored_file(log: &Log, path: &str) -> Option<(std::fs::File, u64)> {
    let file = std::fs::File::open(log.storage.local_path(path)?).ok()?;
    let len = file.metadata().ok()?.len();
    Some((file, len))
}

/// Tile requests answered before the router (gazette_kit's `fast_lane`):
/// a tile the committed tree implies, with the router's headers, its
/// body sent from the tile cache or with `sendfile` from its file; any
/// other request, and any error, is left to the router.
pub struct TileLane {
    /// The log served now (it changes once, when a takeover completes).
    current: Box<dyn Fn() -> Option<Arc<Log>> + Send + Sync>,
    /// The router's per-route metrics for a tile answered (looked up once).
    counted: super::ops::Counted,
}

impl TileLane {
    /// A lane serving the tiles of whichever log `current` gives.
    pub fn new(current: impl Fn() -> Option<Arc<Log>> + Send + Sync + 'static) -> TileLane {
        TileLane {
            current: Box::new(current),
            counted: super::ops::Counted::new("/tile/{*rest}", "200"),
        }
    }
}

/// The fields the router's answer to a tile request carries (its CORS
/// layer's included); `api::tests` checks both give the same.
const TILE_FIELDS: &str = concat!(
    "content-type: application/octet-stream\r\n",
    "cache-control: public, max-age=31536000, immutable\r\n",
    "access-control-allow-origin: *\r\n",
    "access-control-expose-headers: retry-after,x-request-id\r\n",
    "vary: origin, access-control-request-method, access-control-request-headers\r\n",
);
const BUNDLE_FIELDS: &str = concat!(
    "content-type: application/octet-stream\r\n",
    "cache-control: public, max-age=31536000, immutable\r\n",
    "vary: accept-encoding\r\n",
    "access-control-allow-origin: *\r\n",
    "access-control-expose-headers: retry-after,x-request-id\r\n",
    "vary: origin, access-control-request-method, access-control-request-headers\r\n",
);
const GZIP_BUNDLE_FIELDS: &str = concat!(
    "content-type: application/octet-stream\r\n",
    "cache-control: public, max-age=31536000, immutable\r\n",
    "vary: accept-encoding\r\n",
    "content-encoding: gzip\r\n",
    "access-control-allow-origin: *\r\n",
    "access-control-expose-headers: retry-after,x-request-id\r\n",
    "vary: origin, access-control-request-method, access-control-request-headers\r\n",
);

impl FastLane for TileLane {
    fn answer(&self, request: &LaneRequest<'_>) -> Option<LaneAnswer> {
        let started = Instant::now();
        // The router decodes percent-escapes and ignores a query: such
        // requests (never a tile client's) are left to it.
        let path = request.path.strip_prefix('/')?;
        if !path.starts_with("tile/") || path.contains(['%', '?', '#']) {
            return None;
        }
        let log = (self.current)()?;
        let gzip = accepts_gzip(request.values("accept-encoding"));
        let answer = answer_tile(&log, path, gzip, true).ok()?;
        let fields = match (answer.bundle, answer.gzipped) {
            (false, _) => TILE_FIELDS,
            (true, false) => BUNDLE_FIELDS,
            (true, true) => GZIP_BUNDLE_FIELDS,
        };
        self.counted.count(started);
        Some(LaneAnswer {
            fields,
            body: answer.body,
        })
    }
}

/// The tile at `path` as stored: the copy the tile cache holds,
/// else read from the storage (and kept).
fn stored(log: &Log, tile: &Tile, path: &str) -> Result<Bytes, ApiError> {
    if let Some(data) = log.tiles.get(tile.level, path) {
        return Ok(data);
    }
    let data = read_stored(log, tile, path)?;
    log.tiles.insert(tile.level, path, data.clone());
    Ok(data)
}

/// The entry bundle at `path` gzip-encoded (`true`): the copy the tile
/// cache holds, else the stored bundle compressed now and kept there. As
/// stored (`false`) when the cache could not keep it, so that no bundle is
/// compressed per request.
///
/// Compressing a full bundle of typical records takes about 0.25 ms
/// (docs/BENCHMARKS.md), once per bundle while it stays cached: it runs
/// here, on the request's thread, like the read. With no await between
/// the cache's look-up and its insert, first requests arriving together
/// compress one bundle at most once per worker thread; on the blocking
/// pool, each of them would.
fn gzip_or_stored(log: &Log, tile: &Tile, path: &str) -> Result<(Bytes, bool), ApiError> {
    if let Some(data) = log.tiles.gzip_bundle(path) {
        return Ok((data, true));
    }
    // The stored copy only serves to compress: held already, or read and
    // let go (a client that accepts gzip asks for the compressed copy).
    let stored = match log.tiles.get(TileLevel::Entries, path) {
        Some(data) => data,
        None => read_stored(log, tile, path)?,
    };
    Ok(match log.tiles.compress_bundle(path, &stored) {
        Some(data) => (data, true),
        None => (stored, false),
    })
}

/// The tile at `path` read from the storage: a partial tile removed since
/// its full tile was written is cut from that one (`stored::read_tile`),
/// so the log serves every tile its committed tree implies.
fn read_stored(log: &Log, tile: &Tile, path: &str) -> Result<Bytes, ApiError> {
    // Tiles are small (≤ 8 KiB of hashes, bundles of tens of KiB) and hot
    // in the page cache: read them right here. A hop to the blocking pool
    // per tile made serving 1.5 times as expensive as nginx's, and
    // `block_in_place` worse still (docs/BENCHMARKS.md).
    let data = crate::stored::read_tile(log.storage.as_ref(), tile)
        .map_err(|e| ApiError::Internal(format!("reading {path}: {e}")))?
        // A partial tile no published checkpoint needed (a batch wrote a
        // wider one at once), and whose full tile does not exist yet.
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "{path} is not stored: no checkpoint of this log needs it"
            ))
        })?;
    Ok(Bytes::from(data))
}

/// Whether the request accepts a gzip-encoded answer, from its
/// `Accept-Encoding` fields, read in place (extracting the `HeaderMap`
/// would copy every header of every tile request).
pub struct AcceptsGzip(pub bool);

impl<S: Send + Sync> FromRequestParts<S> for AcceptsGzip {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        let values = parts.headers.get_all(header::ACCEPT_ENCODING);
        Ok(AcceptsGzip(accepts_gzip(
            values.iter().map(|v| v.as_bytes()),
        )))
    }
}

/// The most codings one request's `Accept-Encoding` fields may list, empty
/// ones included; a request that lists more gets no gzip. Real clients
/// list a handful: this bounds the work a hostile header causes to one
/// pass over its first few elements.
const MAX_CODINGS: usize = 32;

/// Whether the `Accept-Encoding` fields `fields` (RFC 9110 §12.5.3)
/// accept gzip: `gzip` (or
/// its alias `x-gzip`) listed with a weight above 0, or, when it is not
/// listed, `*` with a weight above 0. Names are case-insensitive. In doubt,
/// no gzip (identity is always understood): a coding listed twice counts
/// with its lower weight, and with weight 0 when its weight does not parse.
/// No field, an empty one, or one listing only other codings: no gzip.
fn accepts_gzip<'a>(fields: impl Iterator<Item = &'a [u8]>) -> bool {
    let (mut gzip, mut any) = (None::<u16>, None::<u16>);
    let elements = fields.flat_map(|value| value.split(|&b| b == b','));
    for (n, element) in elements.enumerate() {
        if n == MAX_CODINGS {
            return false;
        }
        let Some((coding, q)) = coding_and_weight(element) else {
            continue;
        };
        let lower = |seen: Option<u16>| Some(seen.map_or(q, |s| s.min(q)));
        if coding.eq_ignore_ascii_case(b"gzip") || coding.eq_ignore_ascii_case(b"x-gzip") {
            gzip = lower(gzip);
        } else if coding == b"*" {
            any = lower(any);
        }
    }
    gzip.or(any).is_some_and(|q| q > 0)
}

/// An element `coding [ OWS ";" OWS "q=" qvalue ]`: its coding, `None` if
/// it is no token (an empty element included), and its weight in
/// thousandths: 1000 when none is given, 0 when anything follows the
/// coding but a weight that parses.
fn coding_and_weight(element: &[u8]) -> Option<(&[u8], u16)> {
    let mut parts = element.split(|&b| b == b';');
    let coding = parts.next()?.trim_ascii();
    let token = |b: &u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b);
    if coding.is_empty() || !coding.iter().all(token) {
        return None;
    }
    let q = match (parts.next(), parts.next()) {
        (None, _) => 1000,
        (Some(weight), None) => weight_of(weight).unwrap_or(0),
        (Some(_), Some(_)) => 0,
    };
    Some((coding, q))
}

/// `q=qvalue` (spaces around `=` tolerated), in thousandths.
fn weight_of(param: &[u8]) -> Option<u16> {
    let eq = param.iter().position(|&b| b == b'=')?;
    let (name, value) = (param[..eq].trim_ascii(), param[eq + 1..].trim_ascii());
    match name.eq_ignore_ascii_case(b"q") {
        true => qvalue(value),
        false => None,
    }
}

/// A qvalue, `0[.ddd]` or `1[.000]`, in thousandths.
fn qvalue(value: &[u8]) -> Option<u16> {
    let (whole, fraction) = match value.iter().position(|&b| b == b'.') {
        Some(dot) => (&value[..dot], &value[dot + 1..]),
        None => (value, &b""[..]),
    };
    if fraction.len() > 3 || !fraction.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let thousandths = fraction
        .iter()
        .zip([100, 10, 1])
        .map(|(d, scale)| u16::from(d - b'0') * scale)
        .sum::<u16>();
    match whole {
        b"0" => Some(thousandths),
        b"1" if thousandths == 0 => Some(1000),
        _ => None,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether a request with these `Accept-Encoding` fields gets gzip.
    fn gzip_for(fields: &[&[u8]]) -> bool {
        accepts_gzip(fields.iter().copied())
    }

    #[test]
    fn gzip_is_accepted_when_named_or_covered_by_a_star_with_a_weight_above_zero() {
        for fields in [
            &[&b"gzip"[..]][..],
            &[b"GZip"],
            &[b"x-gzip"],
            &[b"gzip, deflate, br, zstd"],
            &[b"br;q=1.0, gzip;q=0.8, *;q=0.1"],
            &[b"gzip;q=0.001"],
            &[b"gzip;q=1"],
            &[b"gzip;q=1."],
            &[b"gzip;q=1.000"],
            &[b"gzip;q=0.5"],
            &[b"gzip ; Q=0.5"],
            &[b"gzip;q = 0.5"],
            &[b"*"],
            &[b"deflate, *;q=0.3"],
            &[b"identity;q=0, *"],
            &[b"deflate", b"gzip"],
            &[b",, gzip ,"],
            &[b"gzip;q=0.5, *;q=0"],
            &[b"\"gzip\", gzip"],
        ] {
            assert!(gzip_for(fields), "{fields:?}");
        }
    }

    #[test]
    fn gzip_is_refused_when_weighted_zero_unnamed_or_in_doubt() {
        for fields in [
            &[][..],
            &[&b""[..]],
            &[b" "],
            &[b","],
            &[b"identity"],
            &[b"deflate, br"],
            &[b"gzip;q=0"],
            &[b"GZIP;Q=0"],
            &[b"gzip;q=0."],
            &[b"gzip;q=0.000"],
            &[b"x-gzip;q=0"],
            &[b"*;q=0"],
            // Named, gzip's own weight wins over the star's.
            &[b"*, gzip;q=0"],
            &[b"gzip;q=0, *"],
            // Named twice: the lower weight.
            &[b"gzip, gzip;q=0"],
            &[b"gzip", b"gzip;q=0"],
            &[b"x-gzip;q=0, gzip"],
            // Weights that do not parse count as 0.
            &[b"gzip;q=2"],
            &[b"gzip;q=1.001"],
            &[b"gzip;q=0.0001"],
            &[b"gzip;q=-1"],
            &[b"gzip;q=+1"],
            &[b"gzip;q=.5"],
            &[b"gzip;q="],
            &[b"gzip;q"],
            &[b"gzip;"],
            &[b"gzip;level=9"],
            &[b"gzip;q=1;q=1"],
            &[b"gzip;q=1e0"],
            &[b"gzip;q=0x1"],
            &[b"gzip;q=1\xff"],
            &[b"*;q=zero"],
            // Not codings at all.
            &[b"gzip deflate"],
            &[b"\"gzip\""],
            &[b"gzip/1"],
            &[b"gzip\xff"],
            &[b"gzi"],
            &[b"gzipp"],
            &[b"gzip-x"],
        ] {
            assert!(!gzip_for(fields), "{fields:?}");
        }
    }

    #[test]
    fn hostile_accept_encoding_fields_get_no_gzip_after_a_bounded_look() {
        // The most codings looked at, the last one gzip: accepted.
        let listed = "deflate, ".repeat(MAX_CODINGS - 1) + "gzip";
        assert!(gzip_for(&[listed.as_bytes()]));
        // One more: refused, without reading on.
        let listed = "deflate, ".repeat(MAX_CODINGS) + "gzip";
        assert!(!gzip_for(&[listed.as_bytes()]));
        let commas = ",".repeat(1 << 20) + "gzip";
        assert!(!gzip_for(&[commas.as_bytes()]));
        let fields = vec![&b"br"[..]; 1000];
        assert!(!gzip_for(&fields));
        // A long element is one element: read once, not a token of ours.
        let long = "a".repeat(1 << 20) + ", gzip";
        assert!(gzip_for(&[long.as_bytes()]));
        let semicolons = "gzip".to_owned() + &";".repeat(1 << 20);
        assert!(!gzip_for(&[semicolons.as_bytes()]));
    }

    #[test]
    fn qvalues_follow_the_grammar_in_thousandths() {
        for (value, q) in [
            (&b"0"[..], Some(0)),
            (b"0.", Some(0)),
            (b"0.5", Some(500)),
            (b"0.05", Some(50)),
            (b"0.123", Some(123)),
            (b"1", Some(1000)),
            (b"1.0", Some(1000)),
            (b"1.000", Some(1000)),
            (b"1.5", None),
            (b"0.1234", None),
            (b"", None),
            (b".", None),
            (b"00", None),
            (b"01", None),
            (b"2", None),
            (b"0.a", None),
            (b" 1", None),
        ] {
            assert_eq!(qvalue(value), q, "{:?}", String::from_utf8_lossy(value));
        }
    }
}
