//! The command line's one HTTP stack: one async reqwest client, on the one
//! tokio runtime `main` builds, for every command that reaches a log. Bulk
//! upload needs many requests in flight; the online commands await the
//! same client one request at a time. The log URL's checks, connect and
//! request timeouts, bounded retries (a log that cannot be reached is
//! tried [`ATTEMPTS`] times, then the command exits 11 naming the URL and
//! the reason), URL joining, query escaping, gzip-decoding within a bound,
//! and the exit code of a failed request live here once.

use std::time::Duration;

use serde_json::Value;

use gazette_client::tiles::{Tile, partial_from_full};

use super::{Exit, Failure};

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one read may take (a checkpoint, a proof, a tile, a lookup).
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one upload may take: the log answers a batch only once it is
/// committed.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(120);
/// How often a request is tried when the log cannot be reached (or, for a
/// read, answers 429 or 503) before the command gives up with exit 11.
pub const ATTEMPTS: u32 = 3;
/// The pause after the first failed attempt; it doubles after each.
const FIRST_PAUSE: Duration = Duration::from_millis(500);
/// The longest pause between attempts, and the longest `Retry-After`
/// obeyed, so a confused log cannot park a run.
pub const MAX_PAUSE: Duration = Duration::from_secs(30);
/// The most bytes one read's answer may decode to, well above the largest
/// honest ones (an entry bundle: 256 entries of at most 64 KiB; an
/// `/index/lookup`: at most 1 000 records of 16 KiB with their proofs).
/// Answers are gzip-decoded: without a bound, a few KiB from a hostile
/// log could decode to gigabytes.
const MAX_ANSWER: usize = 64 << 20;

/// A log's URL, checked when the command line is read: `http://` with a
/// host, nothing after the path. This build's HTTP client has no TLS, so
/// `https://` is refused at once, saying so, rather than failing later.
#[derive(Clone, Debug)]
pub struct LogUrl(String);

impl LogUrl {
    /// The URL without a trailing `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for LogUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for LogUrl {
    type Err = String;

    fn from_str(text: &str) -> Result<LogUrl, String> {
        let text = text.trim();
        if !text.contains("://") {
            return Err(format!(
                "{text:?} has no scheme: a log's URL starts with http://, e.g. http://{}",
                if text.is_empty() {
                    "127.0.0.1:8080"
                } else {
                    text
                }
            ));
        }
        let url = reqwest::Url::parse(text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
        match url.scheme() {
            "http" => {}
            "https" => {
                return Err(format!(
                    "{text}: this gazette is built without TLS and speaks http:// only; \
                     reach a log served over HTTPS through a local TLS proxy, or on loopback"
                ));
            }
            other => {
                return Err(format!(
                    "{text}: the scheme {other}:// is not one a log is reached by (http://)"
                ));
            }
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(format!("{text}: no host"));
        }
        if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
            return Err(format!(
                "{text}: a log's URL has no query, fragment or user name"
            ));
        }
        Ok(LogUrl(url.as_str().trim_end_matches('/').to_owned()))
    }
}

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

/// One attempt's failure.
enum Attempt {
    /// The log could not be reached, or the exchange broke: worth another try.
    Transport(reqwest::Error),
    /// Any other failure: final.
    Final(Failure),
}

/// The pause before attempt `next` (2, 3, ...): doubling from
/// [`FIRST_PAUSE`], at most [`MAX_PAUSE`].
pub fn backoff(next: u32) -> Duration {
    (FIRST_PAUSE * 2u32.saturating_pow(next.saturating_sub(2))).min(MAX_PAUSE)
}

/// What went wrong in a transport failure, in words: reqwest's own
/// message names only the request, the cause is at the end of its chain.
pub fn reason(e: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(source) = cause.source() {
        cause = source;
    }
    if e.is_timeout() {
        "no answer in time (timed out)".to_owned()
    } else if e.is_connect() {
        format!("cannot connect: {cause}")
    } else {
        cause.to_string()
    }
}

/// Whether a status asks the client to come back later.
pub fn busy(status: reqwest::StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 503)
}

impl Http {
    /// A client for the log at `base`.
    pub fn new(base: &LogUrl) -> Result<Http, Failure> {
        let client = reqwest::Client::builder()
            // Asks for gzip and decodes it: the log sends entry bundles
            // gzip-encoded then, at about 0.4 of their size.
            .gzip(true)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| Failure::new(Exit::Usage, format!("HTTP client: {e}")))?;
        Ok(Http {
            client,
            base: base.as_str().to_owned(),
        })
    }

    /// The log's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// GETs `path`; a success gives the body, anything else a network
    /// failure naming the URL, the status and what the log said. A log
    /// that cannot be reached, or answers 429 or 503, is asked again
    /// ([`ATTEMPTS`] times in all).
    pub async fn get(&self, path: &str) -> Result<Vec<u8>, Failure> {
        let reply = self.fetch(path, true).await?;
        match reply.status.is_success() {
            true => Ok(reply.body),
            false => Err(self.refused(path, &reply)),
        }
    }

    /// A network failure naming the URL, the status and what the log said.
    fn refused(&self, path: &str, reply: &Reply) -> Failure {
        let tries = match busy(reply.status) {
            true => format!(" (after {ATTEMPTS} attempts)"),
            false => String::new(),
        };
        Failure::new(
            Exit::Network,
            format!(
                "{}{path}: {}{tries}: {}",
                self.base,
                reply.status,
                String::from_utf8_lossy(&reply.body).trim()
            ),
        )
    }

    /// GETs `path`: the reply whatever its status (for callers that decide
    /// by it), or, once the log could not be reached [`ATTEMPTS`] times, a
    /// network failure naming the URL and the reason.
    pub async fn get_reply(&self, path: &str) -> Result<Reply, Failure> {
        self.fetch(path, false).await
    }

    /// GETs `path`, trying again (at most [`ATTEMPTS`] in all) while the
    /// log cannot be reached and, when `retry_busy`, while it answers 429
    /// or 503 (after its `Retry-After`, capped).
    async fn fetch(&self, path: &str, retry_busy: bool) -> Result<Reply, Failure> {
        let url = format!("{}{path}", self.base);
        let mut attempt = 1;
        loop {
            let pause = match self.get_once(&url).await {
                Ok(reply) if retry_busy && busy(reply.status) && attempt < ATTEMPTS => reply
                    .retry_after
                    .unwrap_or_else(|| backoff(attempt + 1))
                    .min(MAX_PAUSE),
                Ok(reply) => return Ok(reply),
                Err(Attempt::Final(failure)) => return Err(failure),
                Err(Attempt::Transport(e)) if attempt < ATTEMPTS && !e.is_builder() => {
                    backoff(attempt + 1)
                }
                Err(Attempt::Transport(e)) => {
                    return Err(unreachable(&url, &e, attempt));
                }
            };
            tokio::time::sleep(pause).await;
            attempt += 1;
        }
    }

    /// One GET of `url`, its body read within [`MAX_ANSWER`].
    async fn get_once(&self, url: &str) -> Result<Reply, Attempt> {
        let mut reply = self
            .client
            .get(url)
            .timeout(READ_TIMEOUT)
            .send()
            .await
            .map_err(Attempt::Transport)?;
        let status = reply.status();
        let retry_after = retry_after(&reply);
        let mut body = Vec::new();
        while let Some(chunk) = reply.chunk().await.map_err(Attempt::Transport)? {
            if body.len() + chunk.len() > MAX_ANSWER {
                return Err(Attempt::Final(Failure::new(
                    Exit::Malformed,
                    format!("{url}: an answer of more than {MAX_ANSWER} bytes"),
                )));
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
        let reply = self.fetch(&path, true).await?;
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

    /// POSTs `body` as JSON to `path`: the reply whatever its status, or,
    /// once the log could not be reached [`ATTEMPTS`] times, a network
    /// failure naming the URL and the reason. Sending again is safe: the
    /// log answers a record it holds with the index it has.
    pub async fn post_json(&self, path: &str, body: &Value) -> Result<Reply, Failure> {
        let url = format!("{}{path}", self.base);
        let mut attempt = 1;
        loop {
            match self.post_once(&url, body).await {
                Ok(reply) => return Ok(reply),
                Err(e) if attempt < ATTEMPTS && !e.is_builder() => {
                    attempt += 1;
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(e) => return Err(unreachable(&url, &e, attempt)),
            }
        }
    }

    async fn post_once(&self, url: &str, body: &Value) -> Result<Reply, reqwest::Error> {
        let reply = self
            .client
            .post(url)
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

/// The failure of a log that could not be reached in `attempts` tries.
fn unreachable(url: &str, e: &reqwest::Error, attempts: u32) -> Failure {
    let tries = match attempts {
        1 => "1 attempt".to_owned(),
        n => format!("{n} attempts"),
    };
    Failure::new(
        Exit::Network,
        format!(
            "{url}: the log could not be reached ({tries}): {}",
            reason(e)
        ),
    )
}

/// The `Retry-After` of a reply, in whole seconds, capped, if it has one.
fn retry_after(reply: &reqwest::Response) -> Option<Duration> {
    let seconds: u64 = reply
        .headers()
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds).min(MAX_PAUSE))
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
        let http = Http::new(&serving_gzip(&bundle).parse().unwrap()).unwrap();
        assert!(http.get("/tile/entries/000").await.unwrap() == bundle);

        // 64 MiB and one byte of zeros: 65 KB on the wire.
        let http = Http::new(&serving_gzip(&vec![0; MAX_ANSWER + 1]).parse().unwrap()).unwrap();
        let failure = http.get("/tile/entries/000").await.unwrap_err();
        assert_eq!(failure.exit, Exit::Malformed);
        assert!(failure.reason.contains("more than"), "{}", failure.reason);
    }

    #[test]
    fn log_urls_are_http_with_a_host_and_https_is_refused_saying_why() {
        let url = |t: &str| t.parse::<LogUrl>().map(|u| u.as_str().to_owned());
        assert_eq!(
            url("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            url("http://log.example/g/").unwrap(),
            "http://log.example/g"
        );
        let no_scheme = url("127.0.0.1:8080").unwrap_err();
        assert!(no_scheme.contains("no scheme"), "{no_scheme}");
        assert!(no_scheme.contains("http://127.0.0.1:8080"), "{no_scheme}");
        assert!(url("localhost:8080").unwrap_err().contains("no scheme"));
        let tls = url("https://log.example").unwrap_err();
        assert!(tls.contains("without TLS"), "{tls}");
        for bad in [
            "ftp://x/",
            "http://x/?a=1",
            "http://x/#f",
            "http://u@x/",
            "http://",
        ] {
            assert!(url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pauses_double_up_to_the_cap() {
        assert_eq!(backoff(2), FIRST_PAUSE);
        assert_eq!(backoff(3), FIRST_PAUSE * 2);
        assert_eq!(backoff(40), MAX_PAUSE);
    }

    #[tokio::test]
    async fn a_log_that_cannot_be_reached_is_a_network_failure_naming_it() {
        // A port nothing listens on: bound, then closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url: LogUrl = format!("http://127.0.0.1:{port}").parse().unwrap();
        let failure = Http::new(&url)
            .unwrap()
            .get("/checkpoint")
            .await
            .unwrap_err();
        assert_eq!(failure.exit, Exit::Network);
        assert!(
            failure
                .reason
                .contains(&format!("127.0.0.1:{port}/checkpoint"))
                && failure.reason.contains("3 attempts")
                && failure.reason.contains("cannot connect"),
            "{}",
            failure.reason
        );
    }
}
