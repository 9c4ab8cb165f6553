//! Entry bundles gzip-encoded for the clients that accept them
//! (c2sp.org/tlog-tiles SHOULD), from the real binary behind its whole
//! HTTP stack: the encoded bytes decompress to exactly the bundle served
//! to everyone else, repeated requests get the same bytes from the tile
//! cache (the bundle is compressed once), clients that refuse gzip or say
//! nothing get the bundle as stored, and hash tiles are never encoded.

mod common;

use std::io::Read;
use std::path::Path;

use common::*;
use gazette_client::tiles::{Tile, parse_entry_bundle};
use gazette_tests::process::Server;
use reqwest::header::{ACCEPT_ENCODING, HeaderMap};

fn gazette_log() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_gazette-log"))
}

/// A client that never decompresses, whatever features another crate
/// gives reqwest, so the test sees the bytes on the wire.
fn raw_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_gzip()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

/// An answer: status, headers, body.
struct Answer {
    status: reqwest::StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    fn gzip_encoded(&self) -> bool {
        self.header("content-encoding") == Some("gzip")
    }

    fn varies_by_encoding(&self) -> bool {
        self.headers.get_all("vary").iter().any(|v| {
            v.to_str()
                .unwrap()
                .split(',')
                .any(|name| name.trim().eq_ignore_ascii_case("accept-encoding"))
        })
    }
}

/// GETs `path` with each `Accept-Encoding` field in `accept`.
async fn fetch(client: &reqwest::Client, url: &str, path: &str, accept: &[&str]) -> Answer {
    let mut request = client.get(format!("{url}/{path}"));
    for value in accept {
        request = request.header(ACCEPT_ENCODING, *value);
    }
    let reply = request.send().await.unwrap();
    Answer {
        status: reply.status(),
        headers: reply.headers().clone(),
        body: reply.bytes().await.unwrap().to_vec(),
    }
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .expect("a gzip stream");
    out
}

async fn add_batch(client: &reqwest::Client, url: &str, records: &[Vec<u8>]) {
    let reply = client
        .post(format!("{url}/add-batch"))
        .header("content-type", "application/json")
        .body(batch_body(records))
        .send()
        .await
        .unwrap();
    assert!(reply.status().is_success(), "{}", reply.status());
}

/// Checks every answer for the bundle `path` and returns it as stored.
async fn check_bundle(client: &reqwest::Client, url: &str, path: &str) -> Vec<u8> {
    let stored = fetch(client, url, path, &[]).await;
    assert_eq!(stored.status, 200, "{path}");
    assert!(!stored.gzip_encoded(), "{path}: encoded unasked");
    assert!(stored.varies_by_encoding(), "{path}: no Vary");
    let tile = Tile::parse_path(path).unwrap();
    parse_entry_bundle(&tile, &stored.body).unwrap_or_else(|e| panic!("{path}: {e}"));

    let gzip = fetch(client, url, path, &["gzip"]).await;
    assert_eq!(gzip.status, 200, "{path}");
    assert!(gzip.gzip_encoded(), "{path}: not encoded");
    assert!(gzip.varies_by_encoding(), "{path}: no Vary");
    assert_eq!(
        gzip.header("content-type"),
        Some("application/octet-stream")
    );
    assert!(gzip.header("cache-control").unwrap().contains("immutable"));
    assert_eq!(
        gzip.header("content-length"),
        Some(gzip.body.len().to_string().as_str())
    );
    assert!(gunzip(&gzip.body) == stored.body, "{path}: decoded differs");
    assert!(gzip.body.len() < stored.body.len(), "{path}: no smaller");
    println!(
        "{path}: {} bytes as stored, {} gzip-encoded ({:.3})",
        stored.body.len(),
        gzip.body.len(),
        gzip.body.len() as f64 / stored.body.len() as f64
    );

    // The same bytes again, however gzip is accepted.
    for accept in [
        &["gzip"][..],
        &["br;q=1.0, GZIP;q=0.5, *;q=0"],
        &["deflate", "x-gzip"],
        &["*"],
    ] {
        let again = fetch(client, url, path, accept).await;
        assert!(again.gzip_encoded(), "{path} {accept:?}");
        assert!(again.body == gzip.body, "{path} {accept:?}: other bytes");
    }
    // As stored to whoever refuses gzip or does not name it.
    for accept in [
        &["gzip;q=0"][..],
        &["*, gzip;q=0"],
        &["gzip", "gzip;q=0.000"],
        &["identity"],
        &["br, deflate"],
        &["*;q=0"],
        &["gzip;q=2"],
        &[""],
    ] {
        let plain = fetch(client, url, path, accept).await;
        assert_eq!(plain.status, 200, "{path} {accept:?}");
        assert!(!plain.gzip_encoded(), "{path} {accept:?}: encoded");
        assert!(plain.varies_by_encoding(), "{path} {accept:?}: no Vary");
        assert!(plain.body == stored.body, "{path} {accept:?}: other bytes");
    }
    stored.body
}

#[tokio::test]
async fn bundles_are_gzip_encoded_once_for_clients_that_accept_it() {
    let dir = new_log_dir();
    let server = Server::start(gazette_log(), dir.path(), "127.0.0.1:0");
    let (client, url) = (raw_client(), server.url.clone());

    // 100 records and their batch's commitment: one partial bundle.
    add_batch(&client, &url, &(0..100).map(body).collect::<Vec<_>>()).await;
    let partial = check_bundle(&client, &url, "tile/entries/000.p/101").await;
    // 200 more and a commitment: a full bundle and a partial one.
    add_batch(&client, &url, &(100..300).map(body).collect::<Vec<_>>()).await;
    let full = check_bundle(&client, &url, "tile/entries/000").await;
    assert!(full.starts_with(&partial));
    check_bundle(&client, &url, "tile/entries/001.p/46").await;

    // From a page on another origin: CORS's own Vary keeps ours.
    let reply = client
        .get(format!("{url}/tile/entries/000"))
        .header(ACCEPT_ENCODING, "gzip")
        .header("origin", "https://page.example")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.headers()["access-control-allow-origin"], "*");
    assert_eq!(reply.headers()["content-encoding"], "gzip");
    let vary: Vec<&str> = reply
        .headers()
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        vary.iter().any(|v| v.contains("accept-encoding")),
        "{vary:?}"
    );
    assert!(vary.iter().any(|v| v.contains("origin")), "{vary:?}");

    // Hash tiles are random hashes: never encoded, never varying.
    for path in ["tile/0/000", "tile/0/001.p/46", "tile/1/000.p/1"] {
        let tile = fetch(&client, &url, path, &["gzip"]).await;
        assert_eq!(tile.status, 200, "{path}");
        assert!(!tile.gzip_encoded(), "{path}");
        assert!(!tile.varies_by_encoding(), "{path}");
    }
}

#[tokio::test]
async fn a_bundle_is_compressed_once_and_served_from_the_tile_cache() {
    let dir = new_log_dir();
    let server = Server::start(gazette_log(), dir.path(), "127.0.0.1:0");
    let (client, url) = (raw_client(), server.url.clone());
    add_batch(&client, &url, &(0..300).map(body).collect::<Vec<_>>()).await;

    // Asked gzip-encoded first, so the cache holds only its encoding.
    let path = "tile/entries/000";
    let first = fetch(&client, &url, path, &["gzip"]).await;
    assert!(first.gzip_encoded());
    let file = dir.path().join(path);
    let stored = std::fs::read(&file).expect("the bundle's file");
    assert!(gunzip(&first.body) == stored);
    // With the stored bundle gone there is nothing to compress: the same
    // bytes can only come from the copy compressed for the first request.
    std::fs::remove_file(&file).unwrap();
    for _ in 0..3 {
        let again = fetch(&client, &url, path, &["gzip"]).await;
        assert_eq!(again.status, 200);
        assert!(again.body == first.body);
    }
    // No .gz file was written beside the tiles.
    let written: Vec<String> = files_under(dir.path())
        .into_iter()
        .filter(|f| f.ends_with(".gz"))
        .collect();
    assert!(written.is_empty(), "{written:?}");
}

#[tokio::test]
async fn without_a_tile_cache_bundles_are_served_as_stored_not_compressed_per_request() {
    let dir = new_log_dir();
    set_config(dir.path(), "tile_cache_mib", "0");
    let server = Server::start(gazette_log(), dir.path(), "127.0.0.1:0");
    let (client, url) = (raw_client(), server.url.clone());
    add_batch(&client, &url, &(0..300).map(body).collect::<Vec<_>>()).await;
    let path = "tile/entries/000";
    let stored = std::fs::read(dir.path().join(path)).unwrap();
    for _ in 0..2 {
        let answer = fetch(&client, &url, path, &["gzip"]).await;
        assert_eq!(answer.status, 200);
        assert!(!answer.gzip_encoded());
        assert!(answer.varies_by_encoding());
        assert!(answer.body == stored);
    }
}
