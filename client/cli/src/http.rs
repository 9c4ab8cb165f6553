//! The command line's one HTTP stack: one async reqwest client, on the one
//! tokio runtime `main` builds, for every command that reaches a log. Bulk
//! upload needs many requests in flight; the online commands await the
//! same client one request at a time. Timeouts, URL joining, query
//! escaping, gzip-decoding within a bound, and the exit code of a failed
//! request live here once.

use std::time::Duration;

use serde_json::Value;

use gazette_client::tiles::{Tile, partial_from_full};

use super::{Exit, Failure};

/// How long one read may take (a checkpoint, a proof, a tile, a lookup).
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one upload may take: the log answers a batch only once it is
/// committed.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(120);
/// The longest `Retry-After` obeyed, so a confused log cannot park a run.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);
/// The most bytes one read's answer may decode to, well above the largest
/// honest ones (an entry bundle: 256 entries of at most 64 KiB; an
/// `/index/lookup`: at most 1 000 records of 16 KiB with their proofs).
/// Answers are gzip-decoded: without a bound, a few KiB from a hostile
/// log could decode to gigabytes.
const MAX_ANSWER: usize = 64 << 20;

/// A log's HTTP API at one base URL. Clones share the connection pool.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    base: String,
}

/// An answer, whatever its status: for callers that decide by the status
/// (uploads retry 429 and 503).
pub struct Reply {
    /// The HTTP status.
    pub status: reqwest::StatusCode,
    /// The `Retry-After` in seconds, capped, when the log sent one.
    pub retry_after: Option<Duration>,
    /// The body.
    pub body: Vec<u8>,
}

impl Http {
    /// A client for the log at `base` (a trailing `/` is ignored).
    pub fn new(base: &str) -> Result<Http, Failure> {
        let client = reqwest::Client::builder()
            // Asks for gzip and decodes it: the log sends entry bundles
            // gzip-encoded then, at about 0.4 of their size.
            .gzip(true)
            .build()
            .map_err(|e| Failure::new(Exit::Usage, format!("HTTP client: {e}")))?;
        Ok(Http {
            client,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    /// GETs `path`; a success gives the body, anything else a network
    /// failure naming the URL, the status and what the log said.
    pub async fn get(&self, path: &str) -> Result<Vec<u8>, Failure> {
        let reply = self.get_reply(path).await?;
        match reply.status.is_success() {
            true => Ok(reply.body),
            false => Err(self.refused(path, &reply)),
        }
    }

    /// A network failure naming the URL, the status and what the log said.
    fn refused(&self, path: &str, reply: &Reply) -> Failure {
        Failure::new(
            Exit::Network,
            format!(
                "{}{path}: {}: {}",
                self.base,
                reply.status,
                String::from_utf8_lossy(&reply.body).trim()
            ),
        )
    }

    /// GETs `path`: the reply whatever its status (for callers that decide
    /// by it), or a network failure naming the URL.
    pub async fn get_reply(&self, path: &str) -> Result<Reply, Failure> {
        let url = format!("{}{path}", self.base);
        let network = |e: reqwest::Error| Failure::new(Exit::Network, format!("{url}: {e}"));
        let mut reply = self
            .client
            .get(&url)
            .timeout(READ_TIMEOUT)
            .send()
            .await
            .map_err(network)?;
        let status = reply.status();
        let retry_after = retry_after(&reply);
        let mut body = Vec::new();
        while let Some(chunk) = reply.chunk().await.map_err(network)? {
            if body.len() + chunk.len() > MAX_ANSWER {
                return Err(Failure::new(
                    Exit::Malformed,
                    format!("{url}: an answer of more than {MAX_ANSWER} bytes"),
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Reply {
            status,
            retry_after,
            body,
        })
    }

    /// GETs `path` and parses its JSON.
    pub async fn get_json(&self, path: &str) -> Result<Value, Failure> {
        serde_json::from_slice(&self.get(path).await?)
            .map_err(|e| Failure::new(Exit::Malformed, format!("{path}: not JSON: {e}")))
    }

    /// GETs each tile, in order.
    pub async fn tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, Failure> {
        let mut data = Vec::with_capacity(tiles.len());
        for tile in tiles {
            data.push(self.tile(tile).await?);
        }
        Ok(data)
    }

    /// GETs a tile. A partial tile the log no longer has (404: removed once
    /// the full tile at its position was written, as c2sp.org/tlog-tiles
    /// allows) is cut from that full tile. Unauthenticated: callers check
    /// tiles against a root.
    pub async fn tile(&self, tile: &Tile) -> Result<Vec<u8>, Failure> {
        let path = format!("/{}", tile.path());
        let reply = self.get_reply(&path).await?;
        if reply.status == reqwest::StatusCode::NOT_FOUND && !tile.is_full() {
            let full = self
                .get(&format!("/{}", tile.at_full_width().path()))
                .await?;
            return partial_from_full(tile, &full).map_err(|e| {
                Failure::new(
                    Exit::Malformed,
                    format!("{}{path} from the full tile: {e}", self.base),
                )
            });
        }
        match reply.status.is_success() {
            true => Ok(reply.body),
            false => Err(self.refused(&path, &reply)),
        }
    }

    /// POSTs `body` as JSON to `path`: the reply whatever its status, or
    /// the transport failure.
    pub async fn post_json(&self, path: &str, body: &Value) -> Result<Reply, reqwest::Error> {
        let reply = self
            .client
            .post(format!("{}{path}", self.base))
            .timeout(UPLOAD_TIMEOUT)
            .json(body)
            .send()
            .await?;
        let status = reply.status();
        let retry_after = retry_after(&reply);
        let body = reply.bytes().await?.to_vec();
        Ok(Reply {
            status,
            retry_after,
            body,
        })
    }
}

/// The `Retry-After` of a reply, in whole seconds, if it has one.
fn retry_after(reply: &reqwest::Response) -> Option<Duration> {
    let seconds: u64 = reply
        .headers()
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

/// Percent-encodes a query value.
pub fn escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;

    /// A server on loopback (a thread) answering every request with
    /// `body`, gzip-encoded; its base URL.
    fn serving_gzip(body: &[u8]) -> String {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(body).unwrap();
        let encoded = encoder.finish().unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for mut socket in listener.incoming().map_while(Result::ok) {
                let mut request = Vec::new();
                let mut buf = [0; 1024];
                while !request.ends_with(b"\r\n\r\n") {
                    match socket.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: {}\r\n\r\n",
                    encoded.len()
                );
                let _ = socket.write_all(head.as_bytes());
                let _ = socket.write_all(&encoded);
            }
        });
        url
    }

    #[tokio::test]
    async fn gzip_answers_are_decoded_up_to_the_limit_and_refused_past_it() {
        let bundle: Vec<u8> = (0..1_000_000u32).map(|n| (n % 251) as u8).collect();
        let http = Http::new(&serving_gzip(&bundle)).unwrap();
        assert!(http.get("/tile/entries/000").await.unwrap() == bundle);

        // 64 MiB and one byte of zeros: 65 KB on the wire.
        let http = Http::new(&serving_gzip(&vec![0; MAX_ANSWER + 1])).unwrap();
        let failure = http.get("/tile/entries/000").await.unwrap_err();
        assert_eq!(failure.exit, Exit::Malformed);
        assert!(failure.reason.contains("more than"), "{}", failure.reason);
    }
}
