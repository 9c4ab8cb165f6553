//! The display names the log's own page shows: `<data>/names.txt` (the
//! `names_file` setting), agencies' and kinds' names in English and
//! Simplified Chinese (format: `gazette_client::names`). Served as it is
//! at `GET /names`, the file the page keeps beside its `policy`; a page
//! hosted elsewhere keeps its own. Absent means no names: the page falls
//! back to key names and its built-in kind names.

use std::path::Path;

use gazette_client::names::{DisplayNames, MAX_NAMES_FILE};

/// A names file as read: its text, checked.
#[derive(Debug, Default)]
pub struct NamesFile {
    /// The file's text, served as it is.
    pub text: String,
    /// What it names.
    pub names: DisplayNames,
}

/// Reads and checks the names file (absent = no names).
pub fn load(path: &Path) -> Result<NamesFile, String> {
    let bytes = match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(NamesFile::default()),
        Err(e) => return Err(e.to_string()),
        Ok(m) if m.len() > MAX_NAMES_FILE as u64 => {
            return Err(format!("{} bytes; at most {MAX_NAMES_FILE}", m.len()));
        }
        Ok(_) => std::fs::read(path).map_err(|e| e.to_string())?,
    };
    let names = DisplayNames::parse(&bytes).map_err(|e| e.to_string())?;
    let text = String::from_utf8(bytes).map_err(|_| "not UTF-8".to_string())?;
    Ok(NamesFile { text, names })
}
