//! A fast lane for the plainest requests on a connection, before hyper:
//! a `GET` the daemon can answer with a fixed head and a body from memory
//! or from a file, sent with `sendfile` (the page cache straight to the
//! socket, as nginx does) and no router, tower layer or allocation per
//! request beyond the head. Everything else, and every error, goes to the
//! router as before: the first request the lane does not take hands the
//! connection, with the bytes already read, to hyper for good.
//!
//! The lane keeps the limits hyper keeps: each request's head within
//! [`Lanes::header_timeout`] (idle time between requests included), at
//! most [`MAX_HEAD`] bytes of it (beyond, hyper answers), and adds one
//! hyper lacks: an answer must be taken by the client within
//! [`Lanes::write_timeout`]. It answers as the router would: the same
//! headers (the daemon gives them), an `x-request-id` (the client's, or a
//! new UUID), a `date`, and the one access-log line per request.

use std::io::{self, IoSlice};
use std::os::fd::AsFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use axum::body::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, Interest, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;

/// The most bytes of a request's head the lane reads; a longer head goes
/// to hyper, whose own limit answers it.
pub const MAX_HEAD: usize = 8 * 1024;
/// The most header fields of a request the lane reads; more go to hyper.
pub const MAX_FIELDS: usize = 32;
/// The longest client-chosen `x-request-id` the lane echoes; a longer one
/// goes to hyper (which echoes any).
const MAX_REQUEST_ID: usize = 128;

/// Counter: answers sent in the lane (the router counts them all, these
/// included, by route).
pub const ANSWERS: &str = "gazette_http_fast_lane_answers_total";

/// What a daemon answers in the lane.
pub trait FastLane: Send + Sync + 'static {
    /// The answer to `request`, or `None` to leave it (and the rest of the
    /// connection) to the router. Called on the connection's task: it
    /// must not block for long (reading a small file is fine).
    fn answer(&self, request: &LaneRequest<'_>) -> Option<LaneAnswer>;
}

/// A `GET` request the lane may answer: HTTP/1.1, no body, kept alive.
pub struct LaneRequest<'a> {
    /// The request target as sent (origin form, starting with `/`).
    pub path: &'a str,
    fields: &'a [httparse::Header<'a>],
}

impl<'a> LaneRequest<'a> {
    /// The values of the header field `name` (lowercase), in order.
    pub fn values(&self, name: &'static str) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        self.fields
            .iter()
            .filter(move |field| field.name.eq_ignore_ascii_case(name))
            .map(|field| field.value)
    }
}

/// A `200 OK` answer.
pub struct LaneAnswer {
    /// Header lines, each ending in `\r\n` (`content-length`, `date` and
    /// `x-request-id` are added).
    pub fields: &'static str,
    /// The body.
    pub body: LaneBody,
}

/// Where an answer's body comes from.
pub enum LaneBody {
    /// Bytes held in memory.
    Memory(Bytes),
    /// A whole file, `len` bytes long, sent with `sendfile`.
    File(std::fs::File, u64),
}

/// The lane's timeouts, from `[connections]`.
#[derive(Clone, Copy)]
pub struct Lanes {
    /// Time for a request's head, idle time before it included.
    pub header_timeout: Duration,
    /// Time for an answer to be taken by the client.
    pub write_timeout: Duration,
}

/// What is left of a connection once the lane is done with it.
pub enum Rest {
    /// Closed: by the client, a timeout, an error or shutdown.
    Closed,
    /// For the router: the stream and the bytes already read from it.
    Router(Prefixed),
}

/// Serves the requests of `stream` the lane answers, until one it does
/// not (the rest goes to the router), the client goes, or `stopping`.
pub async fn serve(
    mut stream: TcpStream,
    lane: Arc<dyn FastLane>,
    lanes: Lanes,
    stopping: &mut watch::Receiver<bool>,
) -> Rest {
    let mut read = Vec::with_capacity(MAX_HEAD);
    let answers = metrics::counter!(ANSWERS);
    loop {
        let deadline = tokio::time::Instant::now() + lanes.header_timeout;
        // How much of `read` holds no end of a head: a head sent a byte at
        // a time is parsed once, not once per byte.
        let mut scanned = 0;
        let (head_len, path, answer, started, id) = loop {
            let mut fields = room_for_fields();
            let whole = read.len() >= MAX_HEAD || holds_head_end(&read, scanned);
            scanned = read.len();
            match whole.then(|| parse_head(&read, &mut fields)) {
                Some(Head::Get { len, request, id }) => {
                    let started = Instant::now();
                    let Some(answer) = lane.answer(&request) else {
                        return Rest::Router(Prefixed::new(read, stream));
                    };
                    let id = id.map_or_else(new_request_id, str::to_owned);
                    break (len, request.path.to_owned(), answer, started, id);
                }
                None | Some(Head::Partial) => {}
                Some(Head::Router) => return Rest::Router(Prefixed::new(read, stream)),
            }
            let got = tokio::select! {
                got = tokio::time::timeout_at(deadline, stream.read_buf(&mut read)) => got,
                _ = stopping.wait_for(|stop| *stop) => return Rest::Closed,
            };
            match got {
                Ok(Ok(n)) if n > 0 => {}
                _ => return Rest::Closed,
            }
        };
        let head = response_head(&answer, &id);
        // Logged as the router logs: the time until the answer was ready.
        let latency = started.elapsed();
        let sent = tokio::time::timeout(lanes.write_timeout, send(&mut stream, &head, answer.body));
        if !matches!(sent.await, Ok(Ok(()))) {
            return Rest::Closed;
        }
        answers.increment(1);
        let path = path.split('?').next().unwrap_or_default();
        crate::serve::log_answer("GET", path, &id, 200, latency);
        read.drain(..head_len);
        if *stopping.borrow() {
            return Rest::Closed;
        }
    }
}

/// Room for the fields of one head, for [`parse_head`].
pub fn room_for_fields<'a>() -> [httparse::Header<'a>; MAX_FIELDS] {
    [httparse::EMPTY_HEADER; MAX_FIELDS]
}

/// Whether `read` holds an empty line (the end of a head) that ends past
/// its first `scanned` bytes.
fn holds_head_end(read: &[u8], scanned: usize) -> bool {
    let from = scanned.saturating_sub(2);
    read[from..].iter().enumerate().any(|(i, &b)| {
        b == b'\n' && (read[..from + i].ends_with(b"\n") || read[..from + i].ends_with(b"\n\r"))
    })
}

/// What the bytes read from a connection begin with.
pub enum Head<'a> {
    /// Part of a head: more is to be read.
    Partial,
    /// A whole head of a request the lane may take (see [`parse_head`]):
    /// its length, the request, and the client's request id if it sent one.
    Get {
        len: usize,
        request: LaneRequest<'a>,
        id: Option<&'a str>,
    },
    /// Anything else: for the router.
    Router,
}

/// Reads the head at the start of `read` (untrusted bytes), with room for
/// `fields`. A request the lane may take is a `GET` over HTTP/1.1 in
/// origin form with no body, no upgrade or `Expect`, kept alive, and a
/// request id (if any) that is a plain token of at most 128 bytes. A head
/// longer than [`MAX_HEAD`], malformed, or with more fields than
/// `fields`, is the router's (hyper answers it).
pub fn parse_head<'a>(read: &'a [u8], fields: &'a mut [httparse::Header<'a>]) -> Head<'a> {
    let mut request = httparse::Request::new(fields);
    let len = match request.parse(read) {
        Ok(httparse::Status::Complete(len)) if len <= MAX_HEAD => len,
        Ok(httparse::Status::Partial) if read.len() < MAX_HEAD => return Head::Partial,
        _ => return Head::Router,
    };
    let (Some("GET"), Some(path), Some(1)) = (request.method, request.path, request.version) else {
        return Head::Router;
    };
    if !path.starts_with('/') {
        return Head::Router;
    }
    let fields: &'a [httparse::Header<'a>] = request.headers;
    let mut id = None;
    for field in fields {
        let is = |other: &str| field.name.eq_ignore_ascii_case(other);
        let refused = (is("content-length") && field.value != b"0")
            || is("transfer-encoding")
            || is("upgrade")
            || is("expect")
            || (is("connection") && !field.value.eq_ignore_ascii_case(b"keep-alive"));
        if refused {
            return Head::Router;
        }
        if is("x-request-id") {
            let plain =
                crate::serve::plain_request_id(field.value) && field.value.len() <= MAX_REQUEST_ID;
            match (id, plain, std::str::from_utf8(field.value)) {
                (None, true, Ok(value)) => id = Some(value),
                _ => return Head::Router,
            }
        }
    }
    Head::Get {
        len,
        request: LaneRequest { path, fields },
        id,
    }
}

/// A new request id, as the router's layer makes one.
fn new_request_id() -> String {
    // Random bits from a generator per thread seeded by the OS once (the
    // router's layer asks the OS per request: a system call each). An id
    // only has to be unique, not secret.
    thread_local! {
        static STATE: std::cell::Cell<u64> = std::cell::Cell::new(
            rand_core::RngCore::next_u64(&mut rand_core::OsRng),
        );
    }
    let next = || {
        STATE.with(|state| {
            // SplitMix64.
            let s = state.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
            state.set(s);
            let z = (s ^ (s >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            let z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        })
    };
    let bits = (u128::from(next()) << 64) | u128::from(next());
    uuid::Builder::from_random_bytes(bits.to_le_bytes())
        .into_uuid()
        .to_string()
}

/// The head of `answer`: status line, its fields, length, date, id.
fn response_head(answer: &LaneAnswer, id: &str) -> Vec<u8> {
    let len = match &answer.body {
        LaneBody::Memory(bytes) => bytes.len() as u64,
        LaneBody::File(_, len) => *len,
    };
    let mut head = Vec::with_capacity(256 + answer.fields.len());
    head.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
    head.extend_from_slice(answer.fields.as_bytes());
    head.extend_from_slice(format!("content-length: {len}\r\nx-request-id: {id}\r\n").as_bytes());
    DATE.with(|date| head.extend_from_slice(date.now().as_bytes()));
    head.extend_from_slice(b"\r\n");
    head
}

thread_local! {
    static DATE: DateField = const { DateField(std::cell::RefCell::new((0, String::new()))) };
}

/// The `date` field, formatted once a second per thread.
struct DateField(std::cell::RefCell<(u64, String)>);

impl DateField {
    fn now(&self) -> std::cell::Ref<'_, str> {
        let now = SystemTime::now();
        let second = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if self.0.borrow().0 != second || self.0.borrow().1.is_empty() {
            *self.0.borrow_mut() = (
                second,
                format!("date: {}\r\n", httpdate::fmt_http_date(now)),
            );
        }
        std::cell::Ref::map(self.0.borrow(), |(_, field)| field.as_str())
    }
}

/// Sends `head` and then `body`.
async fn send(stream: &mut TcpStream, head: &[u8], body: LaneBody) -> io::Result<()> {
    match body {
        LaneBody::Memory(bytes) => write_both(stream, head, &bytes).await,
        LaneBody::File(file, len) => {
            // The head waits for the body (MSG_MORE), so that a small
            // answer leaves in one segment, as with one write.
            let mut sent = 0;
            while sent < head.len() {
                stream.writable().await?;
                sent += match stream.try_io(Interest::WRITABLE, || {
                    rustix::net::send(stream.as_fd(), &head[sent..], rustix::net::SendFlags::MORE)
                        .map_err(io::Error::from)
                }) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
                    Err(e) => return Err(e),
                };
            }
            let mut offset = 0u64;
            while offset < len {
                let left = usize::try_from(len - offset).unwrap_or(usize::MAX);
                stream.writable().await?;
                let n = match stream.try_io(Interest::WRITABLE, || {
                    rustix::fs::sendfile(stream.as_fd(), file.as_fd(), Some(&mut offset), left)
                        .map_err(io::Error::from)
                }) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(e) => return Err(e),
                };
                if n == 0 {
                    // The file is shorter than it was: the length sent is
                    // wrong, so the connection cannot go on.
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the file shrank while being sent",
                    ));
                }
            }
            Ok(())
        }
    }
}

/// Writes `head` and `body` with as few writes as the socket allows.
async fn write_both(stream: &mut TcpStream, head: &[u8], body: &[u8]) -> io::Result<()> {
    let (mut head, mut body) = (head, body);
    while !head.is_empty() {
        let n = stream
            .write_vectored(&[IoSlice::new(head), IoSlice::new(body)])
            .await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        let from_head = n.min(head.len());
        head = &head[from_head..];
        body = &body[n - from_head..];
    }
    stream.write_all(body).await
}

/// A stream whose first bytes are some already read from it.
pub struct Prefixed {
    read: Vec<u8>,
    at: usize,
    stream: TcpStream,
}

impl Prefixed {
    /// `stream`, whose first bytes are `read`.
    pub(crate) fn new(read: Vec<u8>, stream: TcpStream) -> Prefixed {
        Prefixed {
            read,
            at: 0,
            stream,
        }
    }
}

impl AsyncRead for Prefixed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.at < self.read.len() {
            let n = buf.remaining().min(self.read.len() - self.at);
            let at = self.at;
            buf.put_slice(&self.read[at..at + n]);
            self.at += n;
            if self.at == self.read.len() {
                self.read = Vec::new();
                self.at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(bytes: &[u8]) -> Result<(usize, String, Option<String>), &'static str> {
        let mut fields = room_for_fields();
        match parse_head(bytes, &mut fields) {
            Head::Get { len, request, id } => {
                Ok((len, request.path.to_owned(), id.map(str::to_owned)))
            }
            Head::Partial => Err("partial"),
            Head::Router => Err("router"),
        }
    }

    #[test]
    fn a_plain_get_is_the_lanes_with_its_length_path_and_request_id() {
        let request =
            b"GET /tile/0/000 HTTP/1.1\r\nHost: x\r\nX-Request-Id: a-1.b\r\n\r\nGET /next";
        let len = request.len() - b"GET /next".len();
        assert_eq!(
            head(request),
            Ok((len, "/tile/0/000".to_owned(), Some("a-1.b".to_owned())))
        );
        let kept_alive = b"GET /a HTTP/1.1\r\nconnection: Keep-Alive\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(
            head(kept_alive),
            Ok((kept_alive.len(), "/a".to_owned(), None))
        );
    }

    #[test]
    fn a_head_not_yet_whole_is_partial_until_it_is_too_long() {
        let whole = b"GET /tile/0/000 HTTP/1.1\r\nhost: x\r\n\r\n";
        for end in 0..whole.len() {
            assert_eq!(head(&whole[..end]), Err("partial"), "{end}");
        }
        let mut long = b"GET /tile/0/000 HTTP/1.1\r\nx-pad: ".to_vec();
        long.resize(MAX_HEAD - 1, b'a');
        assert_eq!(head(&long), Err("partial"));
        long.push(b'a');
        assert_eq!(head(&long), Err("router"));
    }

    #[test]
    fn anything_but_a_plain_kept_alive_get_is_the_routers() {
        let many_fields = format!(
            "GET / HTTP/1.1\r\n{}\r\n",
            "a: b\r\n".repeat(MAX_FIELDS + 1)
        );
        let long_id = format!(
            "GET / HTTP/1.1\r\nx-request-id: {}\r\n\r\n",
            "a".repeat(129)
        );
        for request in [
            &b"POST /add HTTP/1.1\r\ncontent-length: 0\r\n\r\n"[..],
            b"HEAD /tile/0/000 HTTP/1.1\r\n\r\n",
            b"get /tile/0/000 HTTP/1.1\r\n\r\n",
            b"GET /tile/0/000 HTTP/1.0\r\n\r\n",
            b"GET http://x/tile/0/000 HTTP/1.1\r\n\r\n",
            b"GET * HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\ncontent-length: 5\r\n\r\nhello",
            b"GET / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
            b"GET / HTTP/1.1\r\nconnection: close\r\n\r\n",
            b"GET / HTTP/1.1\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n",
            b"GET / HTTP/1.1\r\nexpect: 100-continue\r\n\r\n",
            b"GET / HTTP/1.1\r\nx-request-id: a b\r\n\r\n",
            b"GET / HTTP/1.1\r\nx-request-id: a\r\nx-request-id: b\r\n\r\n",
            b"GET / HTTP/1.1\r\nx-request-id: \xc3\xa9\r\n\r\n",
            long_id.as_bytes(),
            many_fields.as_bytes(),
            b"GET / HTTP/1.1\r\nbad field\r\n\r\n",
            b"\x00\x01\x02\r\n\r\n",
        ] {
            assert_eq!(
                head(request),
                Err("router"),
                "{}",
                String::from_utf8_lossy(request)
            );
        }
    }

    #[test]
    fn the_end_of_a_head_is_found_wherever_the_reads_cut_it() {
        for whole in [
            &b"GET / HTTP/1.1\r\nhost: x\r\n\r\n"[..],
            b"GET / HTTP/1.1\nhost: x\n\n",
        ] {
            for cut in 0..=whole.len() {
                let (first, _) = whole.split_at(cut);
                let ends = first.ends_with(b"\n\r\n") || first.ends_with(b"\n\n");
                assert_eq!(holds_head_end(first, 0), ends, "{cut}");
                assert!(holds_head_end(whole, cut), "{cut}");
            }
        }
        assert!(!holds_head_end(b"GET / HTTP/1.1\r\nhost: x\r\n", 0));
        // Empty lines scanned already (before a request line) are not found again.
        assert!(!holds_head_end(b"\r\n\r\nGET /", 6));
    }

    #[test]
    fn the_router_reads_the_bytes_the_lane_read_first_then_the_stream() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            let client = tokio::spawn(async move {
                let mut stream = TcpStream::connect(address).await.unwrap();
                stream.write_all(b" and the rest").await.unwrap();
                let mut echoed = Vec::new();
                stream.read_to_end(&mut echoed).await.unwrap();
                echoed
            });
            let (stream, _) = listener.accept().await.unwrap();
            let mut prefixed = Prefixed::new(b"read first".to_vec(), stream);
            let mut got = vec![0u8; 23];
            prefixed.read_exact(&mut got).await.unwrap();
            assert_eq!(got, b"read first and the rest");
            prefixed.write_all(b"echo").await.unwrap();
            prefixed.shutdown().await.unwrap();
            drop(prefixed);
            assert_eq!(client.await.unwrap(), b"echo");
        });
    }
}
