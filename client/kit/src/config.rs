//! A daemon's configuration: one TOML file in its data directory, written
//! commented by `init`. Every error names the file, the key (or `(file)`)
//! and why, and stops the start: a daemon never runs on a configuration it
//! half understood.

use std::net::SocketAddr;
use std::path::Path;

use serde::de::DeserializeOwned;

use crate::Daemon;

/// A configuration problem: which file, which key, why.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {key}: {why}")]
pub struct ConfigError {
    /// The file.
    pub file: String,
    /// The key (dotted), or `(file)` for the whole file.
    pub key: String,
    /// What is wrong.
    pub why: String,
}

impl ConfigError {
    /// The problem `why` with `key` in the file `path`.
    pub fn new(path: &Path, key: &str, why: impl Into<String>) -> ConfigError {
        ConfigError {
            file: path.display().to_string(),
            key: key.to_owned(),
            why: why.into(),
        }
    }
}

/// Reads `daemon`'s configuration file in `dir` as a `T`; the caller checks
/// the values. A file that is missing, not TOML, or holds a key `T` does
/// not know is refused (`T` denies unknown fields), with the line.
pub fn load<T: DeserializeOwned>(daemon: &Daemon, dir: &Path) -> Result<T, ConfigError> {
    let path = dir.join(daemon.config_file());
    let text = std::fs::read_to_string(&path).map_err(|e| {
        let program = daemon.program;
        ConfigError::new(
            &path,
            "(file)",
            format!("cannot read it ({e}); run `{program} init` first"),
        )
    })?;
    toml::from_str(&text).map_err(|e| {
        // Lines are counted by the newlines before the span: counting
        // `lines()` would miss one when the span starts a line.
        let line = e
            .span()
            .map(|s| format!(" at line {}", text[..s.start].matches('\n').count() + 1))
            .unwrap_or_default();
        ConfigError::new(&path, "(file)", format!("{}{line}", e.message()))
    })
}

/// A listen address on the loopback interface at `PORT`: the default, as
/// `#[serde(default = "gazette_kit::config::loopback::<8080>")]`, so that a
/// daemon reaches the network only when its operator says so.
pub fn loopback<const PORT: u16>() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], PORT))
}

/// Checks that the value of `key` in the file `path` can name a key (the
/// log's origin, the witness's name): it will be the key's name.
pub fn check_key_name(path: &Path, key: &str, value: &str) -> Result<(), ConfigError> {
    if gazette_client::note::is_valid_key_name(value) {
        Ok(())
    } else {
        Err(ConfigError::new(
            path,
            key,
            "must be a non-empty name without spaces or '+'",
        ))
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::TEST_DAEMON as DAEMON;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        name: String,
        #[serde(default)]
        count: u32,
    }

    fn load_text(text: Option<&str>) -> (String, Result<Sample, ConfigError>) {
        let dir = tempfile::tempdir().unwrap();
        if let Some(text) = text {
            std::fs::write(dir.path().join("gazette-test.toml"), text).unwrap();
        }
        let file = dir.path().join("gazette-test.toml").display().to_string();
        (file, load(&DAEMON, dir.path()))
    }

    #[test]
    fn a_good_file_loads_with_its_defaults() {
        let (_, loaded) = load_text(Some("# hi\nname = \"w\"\n"));
        let sample = loaded.unwrap();
        assert_eq!((sample.name.as_str(), sample.count), ("w", 0));
    }

    #[test]
    fn each_refusal_names_the_file_and_says_what_to_do_or_where() {
        let (file, missing) = load_text(None);
        let missing = missing.unwrap_err().to_string();
        assert!(missing.starts_with(&format!("{file}: (file): cannot read it (")));
        assert!(
            missing.ends_with("); run `gazette-test init` first"),
            "{missing}"
        );

        let (file, unknown) = load_text(Some("name = \"w\"\n\ncolour = 3\n"));
        let unknown = unknown.unwrap_err();
        assert_eq!(
            (unknown.file.as_str(), unknown.key.as_str()),
            (file.as_str(), "(file)")
        );
        assert!(unknown.why.contains("colour"), "{unknown}");
        assert!(unknown.why.ends_with(" at line 3"), "{unknown}");

        let (_, mistyped) = load_text(Some("name = \"w\"\ncount = \"many\"\n"));
        assert!(mistyped.unwrap_err().why.ends_with(" at line 2"));
    }

    #[test]
    fn a_key_name_with_a_space_or_a_plus_is_refused_with_its_key() {
        let path = Path::new("/d/test.toml");
        assert!(check_key_name(path, "name", "w.example.org").is_ok());
        for bad in ["", "a b", "a+b"] {
            let err = check_key_name(path, "name", bad).unwrap_err();
            assert_eq!(
                err.to_string(),
                "/d/test.toml: name: must be a non-empty name without spaces or '+'"
            );
        }
    }
}
