//! The etcd cluster.

use std::fs;
use std::path::Path;

use super::daemon::*;
use super::*;

/// A 3-member etcd cluster on loopback, bootstrapped statically.
/// Members are numbered from 0.
pub struct EtcdCluster {
    members: Vec<EtcdMember>,
}

struct EtcdMember {
    daemon: Daemon,
    client_url: String,
}

impl EtcdCluster {
    /// Starts the members with their data under `dir/member0..2` and
    /// returns once each reports itself healthy.
    pub fn start(dir: &Path) -> EtcdCluster {
        let mut ports = reserve_ports(2 * NODES);
        let (clients, peers): (Vec<u16>, Vec<u16>) =
            ports.chunks(2).map(|p| (port(&p[0]), port(&p[1]))).unzip();
        let bootstrap = Bootstrap {
            initial_cluster: (0..NODES)
                .map(|i| format!("{}=http://127.0.0.1:{}", member_name(i), peers[i]))
                .collect::<Vec<_>>()
                .join(","),
            // Another cluster that once used these ports must never take
            // our members in.
            token: format!("gazette-tests-{}", random_hex(8)),
        };
        let members = (0..NODES)
            .map(|i| EtcdMember::configure(i, dir, clients[i], peers[i], &bootstrap))
            .collect();
        let mut cluster = EtcdCluster { members };
        // A member serves only once a quorum has started, so all start
        // together; their ports are released only now.
        ports.clear();
        for member in &mut cluster.members {
            member.daemon.spawn();
        }
        for member in 0..NODES {
            cluster.wait_healthy(member);
        }
        cluster
    }

    /// Each member's client URL, `http://127.0.0.1:PORT`.
    pub fn client_endpoints(&self) -> Vec<String> {
        self.members.iter().map(|m| m.client_url.clone()).collect()
    }

    /// Kills member `member` (SIGKILL) and reaps it; a no-op when it is
    /// down.
    pub fn kill(&mut self, member: usize) {
        self.members[member].daemon.kill();
    }

    /// Starts member `member` again on its data directory (killing it
    /// first if it runs), rejoining the cluster it belongs to, and returns
    /// once it is healthy.
    pub fn restart(&mut self, member: usize) {
        self.kill(member);
        // etcd goes by its data directory then, but says what this is.
        let daemon = &mut self.members[member].daemon;
        for arg in &mut daemon.args {
            if arg == "--initial-cluster-state=new" {
                *arg = "--initial-cluster-state=existing".to_owned();
            }
        }
        daemon.spawn();
        self.wait_healthy(member);
    }

    /// The member that is the leader in its own eyes, if a running one is.
    /// Killing it is the harsher fault: until a new leader is elected (a
    /// second or two), writes sent to a follower are forwarded to the dead
    /// leader and lost, and the client sees a timeout.
    pub fn leader(&self) -> Option<usize> {
        (0..NODES).find(|&member| {
            self.members[member].daemon.is_running()
                && self
                    .etcdctl(member, &["endpoint", "status", "-w", "json"])
                    .ok()
                    .and_then(|out| serde_json::from_str::<serde_json::Value>(&out).ok())
                    .is_some_and(|status| {
                        let status = &status[0]["Status"];
                        status["leader"].is_u64()
                            && status["leader"] == status["header"]["member_id"]
                    })
        })
    }

    /// Runs `etcdctl <args>` (API v3) against member `member` alone; its
    /// stdout.
    pub fn etcdctl(&self, member: usize, args: &[&str]) -> Result<String, String> {
        let endpoints = format!("--endpoints={}", self.members[member].client_url);
        let mut all = vec![endpoints.as_str()];
        all.extend_from_slice(args);
        run_tool("etcdctl", &all, &[("ETCDCTL_API", "3")])
    }

    /// Waits until member `member`'s `/health` says true: it has a leader
    /// and a quorum answers.
    fn wait_healthy(&self, member: usize) {
        let member = &self.members[member];
        let url = format!("{}/health", member.client_url);
        wait_for(&member.daemon, "health", || {
            let body = http_get(&url, &[])?;
            if body.contains(r#""health":"true""#) {
                Ok(())
            } else {
                Err(body)
            }
        });
    }
}

/// What the members' command lines share.
struct Bootstrap {
    initial_cluster: String,
    token: String,
}

impl EtcdMember {
    /// Member `i`'s command line and directory.
    fn configure(i: usize, dir: &Path, client: u16, peer: u16, b: &Bootstrap) -> EtcdMember {
        let dir = dir.join(member_name(i));
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        let client_url = format!("http://127.0.0.1:{client}");
        let peer_url = format!("http://127.0.0.1:{peer}");
        let args = [
            ("name", member_name(i)),
            ("data-dir", path_str(&dir.join("data")).to_owned()),
            ("listen-client-urls", client_url.clone()),
            ("advertise-client-urls", client_url.clone()),
            ("listen-peer-urls", peer_url.clone()),
            ("initial-advertise-peer-urls", peer_url),
            ("initial-cluster", b.initial_cluster.clone()),
            ("initial-cluster-token", b.token.clone()),
            ("initial-cluster-state", "new".to_owned()),
            // The default logger warns that it is deprecated.
            ("logger", "zap".to_owned()),
        ]
        .map(|(flag, value)| format!("--{flag}={value}"))
        .to_vec();
        let name = format!("etcd member {i}");
        EtcdMember {
            daemon: Daemon::new(name, "etcd", args, &[], dir.join("etcd.log")),
            client_url,
        }
    }
}

fn member_name(i: usize) -> String {
    format!("member{i}")
}
