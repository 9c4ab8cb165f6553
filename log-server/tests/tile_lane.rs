//! Tile requests answered before the router (gazette_kit's fast lane),
//! from the real binary over raw TCP, so that the test decides what each
//! connection carries: the lane's answers are the router's (same status,
//! bytes and header fields, request id and date aside), requests arrive
//! split or pipelined, and the first request the lane does not take
//! hands the connection to the router with nothing lost.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use common::*;
use gazette_tests::process::Server;

fn gazette_log() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_gazette-log"))
}

/// One answer read off a connection.
#[derive(Debug)]
struct Answer {
    status: u16,
    /// Header fields, names lowercased, in order.
    fields: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The fields but `date` and `x-request-id`, sorted.
    fn comparable_fields(&self) -> Vec<(String, String)> {
        let mut fields: Vec<_> = self
            .fields
            .iter()
            .filter(|(n, _)| n != "date" && n != "x-request-id")
            .cloned()
            .collect();
        fields.sort();
        fields
    }
}

/// A keep-alive connection, read as answers arrive.
struct Connection {
    stream: TcpStream,
    read: Vec<u8>,
}

impl Connection {
    fn open(url: &str) -> Connection {
        let address = url.trim_start_matches("http://");
        let stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        Connection {
            stream,
            read: Vec::new(),
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// Reads the next answer (`Content-Length` bodies only: all the log's).
    fn answer(&mut self) -> Answer {
        let head_end = loop {
            if let Some(at) = self.read.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            self.fill();
        };
        let head = String::from_utf8(self.read[..head_end].to_vec()).unwrap();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap();
        assert!(status_line.starts_with("HTTP/1."), "{status_line}");
        let status = status_line[9..12].parse().unwrap();
        let fields: Vec<(String, String)> = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (name, value) = l.split_once(':').unwrap();
                (name.to_ascii_lowercase(), value.trim().to_owned())
            })
            .collect();
        let len: usize = fields
            .iter()
            .find(|(n, _)| n == "content-length")
            .map(|(_, v)| v.parse().unwrap())
            .expect("a content-length");
        while self.read.len() < head_end + len {
            self.fill();
        }
        let body = self.read[head_end..head_end + len].to_vec();
        self.read.drain(..head_end + len);
        Answer {
            status,
            fields,
            body,
        }
    }

    fn fill(&mut self) {
        let mut chunk = [0u8; 65536];
        let n = self.stream.read(&mut chunk).unwrap();
        assert!(n > 0, "the server closed the connection");
        self.read.extend_from_slice(&chunk[..n]);
    }

    /// Whether the server closed the connection (reading nothing more, or
    /// a reset).
    fn closed(&mut self) -> bool {
        let mut byte = [0u8; 1];
        match self.stream.read(&mut byte) {
            Ok(n) => n == 0,
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        }
    }
}

fn get(path: &str, fields: &[&str]) -> Vec<u8> {
    let mut request = format!("GET /{path} HTTP/1.1\r\nhost: 127.0.0.1\r\n");
    for field in fields {
        request.push_str(field);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    request.into_bytes()
}

/// Tile answers in the server's metrics: by the router's count (every
/// answer), and those sent in the lane.
async fn tiles_answered(client: &reqwest::Client, url: &str) -> (u64, u64) {
    let text = client
        .get(format!("{url}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let value = |matches: &dyn Fn(&str) -> bool| {
        text.lines()
            .find(|l| matches(l))
            .map_or(0, |l| l.rsplit(' ').next().unwrap().parse().unwrap())
    };
    (
        value(&|l| {
            l.starts_with("gazette_http_requests_total")
                && l.contains("route=\"/tile/{*rest}\"")
                && l.contains("status=\"200\"")
        }),
        value(&|l| l.starts_with("gazette_http_fast_lane_answers_total ")),
    )
}

async fn seeded_log(dir: &Path) -> (Server, reqwest::Client) {
    let server = Server::start(gazette_log(), dir, "127.0.0.1:0");
    let client = reqwest::Client::new();
    let reply = client
        .post(format!("{}/add-batch", server.url))
        .header("content-type", "application/json")
        .body(batch_body(&(0..300).map(body).collect::<Vec<_>>()))
        .send()
        .await
        .unwrap();
    assert!(reply.status().is_success(), "{}", reply.status());
    (server, client)
}

#[tokio::test]
async fn the_lanes_answers_are_the_routers_and_a_connection_moves_to_the_router_whole() {
    let dir = new_log_dir();
    let (server, client) = seeded_log(dir.path()).await;
    let before = tiles_answered(&client, &server.url).await;
    let requests: [(&str, &[&str]); 5] = [
        ("tile/0/000", &[]),
        ("tile/0/001.p/44", &[]),
        ("tile/entries/000", &[]),
        ("tile/entries/000", &["accept-encoding: gzip, br"]),
        ("tile/1/000.p/1", &["x-request-id: client-chosen.7"]),
    ];
    // In the lane: the connection's first requests, one at a time.
    let mut connection = Connection::open(&server.url);
    let mut lane = Vec::new();
    for (path, fields) in requests {
        connection.send(&get(path, fields));
        lane.push(connection.answer());
    }
    // Counted as the router counts its answers, and as sent in the lane.
    let (all, in_lane) = tiles_answered(&client, &server.url).await;
    assert_eq!((all, in_lane), (before.0 + 5, before.1 + 5));
    // A request the lane does not take (`/checkpoint`) hands the
    // connection to the router; the same tiles again, from it.
    connection.send(&get("checkpoint", &[]));
    let checkpoint = connection.answer();
    assert_eq!(checkpoint.status, 200);
    for ((path, fields), lane) in requests.iter().zip(&lane) {
        connection.send(&get(path, fields));
        let router = connection.answer();
        assert_eq!(lane.status, 200, "{path}");
        assert_eq!(router.status, 200, "{path}");
        assert!(lane.body == router.body, "{path}: other bytes");
        assert_eq!(
            lane.comparable_fields(),
            router.comparable_fields(),
            "{path}"
        );
        assert!(lane.field("date").is_some(), "{path}");
        let id = lane.field("x-request-id").unwrap();
        match fields.iter().find_map(|f| f.strip_prefix("x-request-id: ")) {
            Some(chosen) => assert_eq!(id, chosen),
            None => assert!(uuid_like(id), "{path}: {id}"),
        }
    }
    // The router answered those: none more in the lane.
    let (all, in_lane) = tiles_answered(&client, &server.url).await;
    assert_eq!((all, in_lane), (before.0 + 10, before.1 + 5));
    let stored = std::fs::read(dir.path().join("tile/entries/000")).unwrap();
    assert!(lane[2].body == stored);
    assert_eq!(lane[3].field("content-encoding"), Some("gzip"));
    assert!(lane[3].body.len() < stored.len());
}

fn uuid_like(id: &str) -> bool {
    let groups: Vec<usize> = id.split('-').map(str::len).collect();
    groups == [8, 4, 4, 4, 12] && id.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
}

#[tokio::test]
async fn split_pipelined_and_unusual_requests_are_all_answered_in_order() {
    let dir = new_log_dir();
    let (server, client) = seeded_log(dir.path()).await;
    let tile = std::fs::read(dir.path().join("tile/0/000")).unwrap();
    let before = tiles_answered(&client, &server.url).await.1;

    // A head arriving a few bytes at a time.
    let mut connection = Connection::open(&server.url);
    for piece in get("tile/0/000", &[]).chunks(5) {
        connection.send(piece);
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(connection.answer().body == tile);

    // Three requests in one write: two for the lane, then one beyond the
    // tree (the router's 404), then a tile again (from the router).
    let mut pipelined = get("tile/0/000", &[]);
    pipelined.extend(get("tile/0/000", &["accept-encoding: gzip"]));
    pipelined.extend(get("tile/0/009", &[]));
    pipelined.extend(get("tile/0/000", &[]));
    connection.send(&pipelined);
    for expected in [200, 200, 404, 200] {
        let answer = connection.answer();
        assert_eq!(answer.status, expected, "{answer:?}");
        if expected == 200 {
            assert!(answer.body == tile);
        } else {
            assert_eq!(answer.field("content-type"), Some("application/json"));
        }
    }

    // Requests the lane leaves to the router, each on a fresh connection,
    // each followed by a tile on the same connection.
    let long_field = format!("x-padding: {}", "a".repeat(9000));
    let unusual: [Vec<u8>; 6] = [
        // A head longer than the lane reads.
        get("tile/0/000", &[&long_field]),
        // A query, percent-escapes, HEAD, HTTP/1.0 with keep-alive.
        get("tile/0/000?x=1", &[]),
        get("tile/0/%30%30%30", &[]),
        b"HEAD /tile/0/000 HTTP/1.1\r\nhost: x\r\n\r\n".to_vec(),
        b"GET /tile/0/000 HTTP/1.0\r\nconnection: keep-alive\r\n\r\n".to_vec(),
        // A request id that is no plain token.
        get("tile/0/000", &["x-request-id: a b=c"]),
    ];
    for (n, request) in unusual.iter().enumerate() {
        let mut connection = Connection::open(&server.url);
        connection.send(request);
        connection.send(&get("tile/0/000", &[]));
        if request.starts_with(b"HEAD") {
            // A HEAD answer has a length but no body.
            assert_eq!(connection.answer_head_only(), 200, "request {n}");
        } else {
            let first = connection.answer();
            assert_eq!(first.status, 200, "request {n}: {first:?}");
            assert!(first.body == tile, "request {n}");
        }
        let second = connection.answer();
        assert_eq!(second.status, 200, "request {n}");
        assert!(second.body == tile, "request {n}");
    }

    // The lane took the split request and the first two pipelined ones;
    // the router the rest.
    assert_eq!(tiles_answered(&client, &server.url).await.1, before + 3);

    // A malformed head: hyper's 400, and the connection closed.
    let mut connection = Connection::open(&server.url);
    connection.send(b"GET /tile/0/000 HTTP/1.1\r\nbad header\r\n\r\n");
    assert_eq!(connection.answer().status, 400);
    assert!(connection.closed());
}

impl Connection {
    /// Reads a head whose body is not sent (an answer to HEAD); returns its
    /// status.
    fn answer_head_only(&mut self) -> u16 {
        let head_end = loop {
            if let Some(at) = self.read.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            self.fill();
        };
        let status = String::from_utf8_lossy(&self.read[9..12]).parse().unwrap();
        self.read.drain(..head_end);
        status
    }
}

#[tokio::test]
async fn slow_and_idle_clients_of_the_lane_are_closed_at_the_header_timeout() {
    let dir = new_log_dir();
    set_config(dir.path(), "header_timeout_s", "1");
    let (server, client) = seeded_log(dir.path()).await;
    let tile = std::fs::read(dir.path().join("tile/0/000")).unwrap();

    // Idle after an answer: closed, not kept.
    let mut idle = Connection::open(&server.url);
    idle.send(&get("tile/0/000", &[]));
    assert!(idle.answer().body == tile);
    assert!(idle.closed(), "an idle connection stays open");

    // A head trickling in a byte at a time, never whole: closed however
    // much time each byte buys. (Each byte arrives well within the
    // timeout; only the head's total time runs out.)
    let mut slow = Connection::open(&server.url);
    let request = get("tile/0/000", &[&format!("x-padding: {}", "a".repeat(400))]);
    let mut refused = false;
    for byte in &request[..request.len() - 2] {
        if slow.stream.write_all(std::slice::from_ref(byte)).is_err() {
            refused = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        refused || slow.closed(),
        "a trickled head kept its connection"
    );

    // Neither was answered beyond the first tile; the log still serves.
    assert_eq!(tiles_answered(&client, &server.url).await.1, 1);
    let mut fresh = Connection::open(&server.url);
    fresh.send(&get("tile/0/000", &[]));
    assert!(fresh.answer().body == tile);
}
