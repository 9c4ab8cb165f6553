//! The command line's one HTTP stack: one async reqwest client, on the one
//! tokio runtime `main` builds, for every command that reaches a log. Bulk
//! upload needs many requests in flight; the online commands await the
//! same client one request at a time. Timeouts, URL joining, query
//! escaping and the exit code of a failed request live here once.

use std::time::Duration;

use serde_json::Value;

use gazette_client::tiles::Tile;

use super::{Exit, Failure};

/// How long one read may take (a checkpoint, a proof, a tile, a lookup).
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one upload may take: the log answers a batch only once it is
/// committed.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(120);
/// The longest `Retry-After` obeyed, so a confused log cannot park a run.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

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
        if !reply.status.is_success() {
            return Err(Failure::new(
                Exit::Network,
                format!(
                    "{}{path}: {}: {}",
                    self.base,
                    reply.status,
                    String::from_utf8_lossy(&reply.body).trim()
                ),
            ));
        }
        Ok(reply.body)
    }

    /// GETs `path`: the reply whatever its status (for callers that decide
    /// by it), or a network failure naming the URL.
    pub async fn get_reply(&self, path: &str) -> Result<Reply, Failure> {
        let url = format!("{}{path}", self.base);
        let network = |e: reqwest::Error| Failure::new(Exit::Network, format!("{url}: {e}"));
        let reply = self
            .client
            .get(&url)
            .timeout(READ_TIMEOUT)
            .send()
            .await
            .map_err(network)?;
        let status = reply.status();
        let retry_after = retry_after(&reply);
        let body = reply.bytes().await.map_err(network)?.to_vec();
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
            data.push(self.get(&format!("/{}", tile.path())).await?);
        }
        Ok(data)
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
