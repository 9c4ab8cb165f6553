//! Real distributed engines for the storage tests: a 3-node Garage cluster
//! (S3) and a 3-member etcd cluster, run as separate programs on loopback
//! ports that were free a moment before, with their data under a directory
//! the caller gives (a fresh one). They are killed (SIGKILL) when their
//! handle is dropped, and by the kernel when the test process ends without
//! dropping it, so no test leaves an engine behind.
//!
//! Garage is `garage` 2.5.0 (`cargo install garage --version 2.5.0
//! --locked`: AGPL, so it is run, never linked), etcd is Debian's
//! `etcd-server` 3.4; `scripts/test` installs both and
//! [`engines_available`] says what is missing. S3 requests are signed by
//! `curl --aws-sigv4`.
//!
//! Every wait has a deadline; a cluster that misses it panics with the
//! tail of the node's log (`<dir>/node<i>/garage.log`,
//! `<dir>/member<i>/etcd.log`).
//!
//! Garage 2.5.0 ignores conditional writes (`If-None-Match: *` and a wrong
//! `If-Match` both overwrite): a backend must not use them as a lock.

mod daemon;
mod etcd;
mod garage;

use std::time::Duration;

use daemon::run_tool;
pub use etcd::EtcdCluster;
pub use garage::GarageCluster;

/// The Garage release the tests run against.
pub const GARAGE_VERSION: &str = "2.5.0";

/// Nodes per cluster: the fewest with a majority left after one is lost.
const NODES: usize = 3;
/// How long a cluster, or one restarted node, may take to serve.
const START_WITHIN: Duration = Duration::from_secs(60);
/// How long one CLI call (garage, etcdctl, curl) may take: a CLI whose
/// daemon does not answer may otherwise retry for a long time.
const TOOL_WITHIN: Duration = Duration::from_secs(30);
const REGION: &str = "garage";
const BUCKET: &str = "gazette";

/// `Ok` when both clusters can run (see [`garage_available`] and
/// [`etcd_available`]);
/// otherwise what is missing, one item per line.
pub fn engines_available() -> Result<(), String> {
    lines(
        [garage_available(), etcd_available()]
            .into_iter()
            .filter_map(Result::err)
            .collect(),
    )
}

/// `Ok` when [`GarageCluster`] can run: `garage` 2.5.0, curl and setpriv.
pub fn garage_available() -> Result<(), String> {
    let mut missing = Vec::new();
    match run_tool("garage", &["--version"], &[]) {
        Ok(out) if has_version(&out, GARAGE_VERSION) => {}
        Ok(out) => missing.push(format!(
            "garage {GARAGE_VERSION} is needed, `garage --version` says {:?}: \
             cargo install garage --version {GARAGE_VERSION} --locked",
            out.trim()
        )),
        Err(e) => missing.push(format!(
            "garage cannot be run ({}): cargo install garage --version {GARAGE_VERSION} --locked",
            e.trim()
        )),
    }
    missing.extend(tool_missing("curl", &["--version"], "curl").err());
    missing.extend(tool_missing("setpriv", &["--version"], "util-linux").err());
    lines(missing)
}

/// `Ok` when [`EtcdCluster`] can run: etcd, etcdctl and setpriv.
pub fn etcd_available() -> Result<(), String> {
    let missing = [
        tool_missing("etcd", &["--version"], "etcd-server"),
        tool_missing("etcdctl", &["version"], "etcd-client"),
        tool_missing("setpriv", &["--version"], "util-linux"),
    ];
    lines(missing.into_iter().filter_map(Result::err).collect())
}

/// `Ok` when `tool args` succeeds, otherwise what to install.
fn tool_missing(tool: &str, args: &[&str], package: &str) -> Result<(), String> {
    run_tool(tool, args, &[]).map(drop).map_err(|e| {
        let first = e.lines().next().unwrap_or_default();
        format!("{tool} cannot be run ({first}): apt-get install {package}")
    })
}

fn lines(items: Vec<String>) -> Result<(), String> {
    if items.is_empty() {
        Ok(())
    } else {
        Err(items.join("\n"))
    }
}

/// Whether `output` names `version` as a whole word (`garage --version`
/// says `garage cargo:2.5.0` for a crates.io build, `garage v2.5.0` for a
/// release).
fn has_version(output: &str, version: &str) -> bool {
    output
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .any(|word| word == version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garage_version_is_found_in_both_spellings() {
        assert!(has_version("garage cargo:2.5.0", "2.5.0"));
        assert!(has_version("garage v2.5.0 [features: k2v]\n", "2.5.0"));
        assert!(!has_version("garage cargo:2.5.01", "2.5.0"));
        assert!(!has_version("garage v12.5.0", "2.5.0"));
    }
}
