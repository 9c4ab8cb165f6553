//! The display names the log's own page shows: `<data>/names.txt` (the
//! `names_file` setting), agencies' and kinds' names in English and
//! Simplified Chinese (format: `gazette_client::names`). Served as it is
//! at `GET /names`, the file the page keeps beside its `policy`; a page
//! hosted elsewhere keeps its own. Absent means no names: the page falls
//! back to key names and its built-in kind names.

use std::path::Path;

use gazette_client::names::{DisplayNames, MAX_NAMES_FILE};

/// Reads the names file and checks it parses; its text, served as it is
/// (absent = no names, an empty text).
pub fn load(path: &Path) -> Result<String, String> {
    let bytes = match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(String::new()),
        Err(e) => return Err(e.to_string()),
        Ok(m) if m.len() > MAX_NAMES_FILE as u64 => {
            return Err(format!("{} bytes; at most {MAX_NAMES_FILE}", m.len()));
        }
        Ok(_) => std::fs::read(path).map_err(|e| e.to_string())?,
    };
    DisplayNames::parse(&bytes).map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|_| "not UTF-8".to_string())
}
