//! Where the command line keeps what it must remember between runs: the
//! trusted checkpoint of each log, evidence of its misbehaviour, a
//! monitor's progress, an upload's resume file. They live in one state
//! directory, never in the working directory:
//!
//! 1. `$GAZETTE_STATE_DIR`, else
//! 2. `$XDG_STATE_HOME/gazette`, else
//! 3. `~/.local/state/gazette`.
//!
//! Each log gets its own folder `logs/<host_port_path>-<hash>`, named by
//! its URL and the log keys of the policy it is trusted under (the hash
//! covers both), so a checkpoint trusted for one log is never offered as
//! the trusted state of another. Each upload gets its own resume file
//! `submit/<hash>.resume`, named by the log and the inputs' paths, so an
//! old upload's resume file never blocks a different one. The explicit
//! flags (`--state`, `--evidence`, `--progress`, `--resume`) still name
//! any file.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use gazette_client::encoding::hex_encode;
use gazette_client::policy::Policy;

use super::http::LogUrl;
use super::{Exit, Failure};

/// The state directory (not created here).
pub fn dir() -> Result<PathBuf, Failure> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("GAZETTE_STATE_DIR") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(xdg) = var("XDG_STATE_HOME") {
        return Ok(PathBuf::from(xdg).join("gazette"));
    }
    match var("HOME") {
        Some(home) => Ok(PathBuf::from(home).join(".local/state/gazette")),
        None => Err(Failure::new(
            Exit::Usage,
            "no state directory: set GAZETTE_STATE_DIR (or XDG_STATE_HOME, or HOME)",
        )),
    }
}

/// The first 16 hex digits of SHA-256 over `parts`, each ended by a NUL.
fn short_hash<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
        hasher.update([0]);
    }
    hex_encode(&hasher.finalize()[..8])
}

/// The readable part of a log folder's name: host, port and path of the
/// URL, other characters as `_` (the hash beside it keeps names apart).
fn readable(url: &LogUrl) -> String {
    let text = url.as_str();
    let rest = text.split_once("://").map_or(text, |(_, r)| r);
    rest.trim_end_matches('/')
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' => c,
            _ => '_',
        })
        .take(64)
        .collect()
}

/// The folder of the log at `url` trusted under `policy`: its trusted
/// checkpoint, evidence and monitor progress.
pub fn log_dir(url: &LogUrl, policy: &Policy) -> Result<PathBuf, Failure> {
    let keys: Vec<String> = policy
        .logs()
        .iter()
        .map(|l| l.verifier.to_string())
        .collect();
    let parts = std::iter::once(url.as_str().as_bytes()).chain(keys.iter().map(|k| k.as_bytes()));
    Ok(dir()?
        .join("logs")
        .join(format!("{}-{}", readable(url), short_hash(parts))))
}

/// The default resume file of an upload of `inputs` to `url`.
pub fn resume_file(url: &LogUrl, inputs: &[PathBuf]) -> Result<PathBuf, Failure> {
    let paths: Vec<String> = inputs
        .iter()
        .map(|p| {
            std::path::absolute(p)
                .unwrap_or_else(|_| p.clone())
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let parts = std::iter::once(url.as_str().as_bytes()).chain(paths.iter().map(|p| p.as_bytes()));
    Ok(dir()?
        .join("submit")
        .join(format!("{}.resume", short_hash(parts))))
}

/// Writes a state file atomically, making its folder (mode 0700) first.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let failed =
        |e: std::io::Error| Failure::new(Exit::Io, format!("writing {}: {e}", path.display()));
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(failed)?;
    }
    gazette_kit::durable::write_file(path, bytes, None).map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> LogUrl {
        text.parse().unwrap()
    }

    #[test]
    fn log_folders_are_readable_and_differ_per_url() {
        assert_eq!(readable(&url("http://127.0.0.1:8080")), "127.0.0.1_8080");
        assert_eq!(
            readable(&url("http://log.example/gazette/")),
            "log.example_gazette"
        );
        let a = short_hash([b"http://127.0.0.1:8080/".as_slice()]);
        let b = short_hash([b"http://127.0.0.1:8081/".as_slice()]);
        assert_ne!(a, b);
        assert_eq!(a.len(), 16);
        // Parts are delimited: ("ab", "c") is not ("a", "bc").
        assert_ne!(
            short_hash([b"ab".as_slice(), b"c"]),
            short_hash([b"a".as_slice(), b"bc"])
        );
    }
}
