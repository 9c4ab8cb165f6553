//! What the hostile-client tests attack with: connections from other
//! loopback addresses (127.0.0.2 and up, as from other hosts), and a wait
//! for the server to close them.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpSocket, TcpStream};

/// The `n`-th attacking address: 127.0.0.2, 127.0.0.3, ...
pub fn attacker(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, 2 + n)
}

/// A connection from `from` to `server`.
pub async fn connect_from(from: Ipv4Addr, server: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::V4(from), 0))?;
    socket.connect(server).await
}

/// Reads until the server closes the connection: what it sent, or `None`
/// if it kept the connection open for `within`.
pub async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut answer = Vec::new();
    match tokio::time::timeout(within, stream.read_to_end(&mut answer)).await {
        Ok(_) => Some(answer),
        Err(_) => None,
    }
}

/// `count` connections spread over `addresses` attacking addresses, each
/// sending `opening` and then nothing; the ones the server let connect.
pub async fn idle_connections(
    server: SocketAddr,
    addresses: u8,
    count: usize,
    opening: &[u8],
) -> Vec<TcpStream> {
    use tokio::io::AsyncWriteExt;
    let mut held = Vec::new();
    for i in 0..count {
        let from = attacker((i % usize::from(addresses)) as u8);
        if let Ok(mut stream) = connect_from(from, server).await {
            let _ = stream.write_all(opening).await;
            held.push(stream);
        }
    }
    held
}

/// How many of `streams` the server still holds open after `within`
/// (each waited on at once).
pub async fn still_open(streams: Vec<TcpStream>, within: Duration) -> usize {
    let mut waits = tokio::task::JoinSet::new();
    for mut stream in streams {
        waits.spawn(async move { read_until_closed(&mut stream, within).await.is_none() });
    }
    let mut open = 0;
    while let Some(kept) = waits.join_next().await {
        open += usize::from(kept.unwrap_or(true));
    }
    open
}

/// Raises this process's open-file limit to its hard limit (attackers
/// need many sockets); returns the limit.
pub fn raise_open_file_limit() -> u64 {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let _ = setrlimit(
        Resource::Nofile,
        Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        },
    );
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// Sets the soft open-file limit of the running process `pid`, as
/// `prlimit --nofile` does (its hard limit stays); returns the soft limit
/// it had.
pub fn set_open_file_limit(pid: u32, soft: u64) -> std::io::Result<u64> {
    use rustix::process::{Pid, Resource, Rlimit, prlimit};
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits"))?;
    let (current, hard) = limits
        .lines()
        .find_map(|line| line.strip_prefix("Max open files"))
        .and_then(|rest| {
            let mut values = rest.split_whitespace().map(|v| v.parse::<u64>().ok());
            Some((values.next()??, values.next()?))
        })
        .ok_or_else(|| std::io::Error::other("no open-file limit in /proc/PID/limits"))?;
    let pid = Pid::from_raw(pid as i32).ok_or_else(|| std::io::Error::other("process ID 0"))?;
    prlimit(
        Some(pid),
        Resource::Nofile,
        Rlimit {
            current: Some(soft),
            maximum: hard,
        },
    )?;
    Ok(current)
}
