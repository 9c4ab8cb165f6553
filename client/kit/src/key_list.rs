//! The one-key-per-line files an operator manages with a command and may
//! read or edit by hand: a log's registered agencies (`<vkey> <log size>`),
//! a witness's followed logs (`<vkey>`). Blank lines and `#` comments are
//! skipped; a line that does not parse stops the load with its number, so
//! a typo never silently drops a key. The commands rewrite the whole file
//! atomically, under a header that says what it is.

use std::path::Path;

use gazette_client::note::Verifier;

use crate::durable;

/// A problem in a key-list file, with its line.
#[derive(Debug, thiserror::Error)]
#[error("{file}: line {line}: {why}")]
pub struct KeyListError {
    /// The file.
    pub file: String,
    /// The line (0: the file as a whole).
    pub line: usize,
    /// What is wrong.
    pub why: String,
}

/// What one line of a key-list file holds: a verifier key, then the
/// fields [`KeyLine::FIELDS`] names, separated by white space.
pub trait KeyLine: Sized {
    /// The fields after the key, as the error for a malformed line names
    /// them, e.g. `["<log size>"]`; none for a bare key.
    const FIELDS: &'static [&'static str];

    /// The entry of a line from its key and the fields after it (as many
    /// as [`KeyLine::FIELDS`]), or why the line is refused: a key unfit for
    /// the list, a field that does not parse.
    fn parse(key: Verifier, fields: &[&str]) -> Result<Self, String>;

    /// Its key.
    fn key(&self) -> &Verifier;

    /// The fields after the key, as the file holds them.
    fn fields(&self) -> Vec<String>;

    /// Why `self` cannot stand below `earlier` in the file, if it cannot.
    fn duplicate(&self, earlier: &Self) -> Option<String>;

    /// Why `self` cannot be added to a list holding `listed`, whose key
    /// differs, if it cannot. Unless said otherwise: what [`KeyLine::duplicate`] says.
    fn refuse(&self, listed: &Self) -> Option<String> {
        self.duplicate(listed)
    }
}

/// Reads the list in `path`; an absent file is an empty list.
pub fn load<E: KeyLine>(path: &Path) -> Result<Vec<E>, KeyListError> {
    let err = |line, why| KeyListError {
        file: path.display().to_string(),
        line,
        why,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(err(0, e.to_string())),
    };
    let mut entries: Vec<E> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let entry: E = parse_line(line).map_err(|why| err(i + 1, why))?;
        if let Some(why) = entries.iter().find_map(|earlier| entry.duplicate(earlier)) {
            return Err(err(i + 1, why));
        }
        entries.push(entry);
    }
    Ok(entries)
}

/// Adds `entry` to the list in `path` (created if absent) under `header`,
/// rewriting the file atomically. An entry whose key is listed changes
/// nothing (`Ok(false)`); one that [`KeyLine::refuse`]s a listed entry is
/// refused, as is one that would not read back.
pub fn add<E: KeyLine>(path: &Path, header: &str, entry: &E) -> Result<bool, KeyListError> {
    let whole = |why| KeyListError {
        file: path.display().to_string(),
        line: 0,
        why,
    };
    let mut entries: Vec<E> = load(path)?;
    if entries.iter().any(|listed| listed.key() == entry.key()) {
        return Ok(false);
    }
    if let Some(why) = entries.iter().find_map(|listed| entry.refuse(listed)) {
        return Err(whole(why));
    }
    // What is written must load again: the entry passes the line's checks.
    let line = to_line(entry);
    entries.push(parse_line(&line).map_err(whole)?);
    let mut text = String::from(header);
    for entry in &entries {
        text.push_str(&to_line(entry));
        text.push('\n');
    }
    durable::write_file(path, text.as_bytes(), None).map_err(|e| whole(e.to_string()))?;
    Ok(true)
}

fn parse_line<E: KeyLine>(line: &str) -> Result<E, String> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let Some((vkey, rest)) = fields.split_first() else {
        return Err("an empty line".into());
    };
    if rest.len() != E::FIELDS.len() {
        let format: Vec<&str> = std::iter::once("<vkey>")
            .chain(E::FIELDS.iter().copied())
            .collect();
        return Err(format!("expected `{}`", format.join(" ")));
    }
    let key = Verifier::parse(vkey).map_err(|e| e.to_string())?;
    E::parse(key, rest)
}

fn to_line<E: KeyLine>(entry: &E) -> String {
    std::iter::once(entry.key().to_string())
        .chain(entry.fields())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use gazette_client::note::{KeyType, Signer};

    use super::*;

    /// A key and a number, unique by key name.
    #[derive(Debug)]
    struct Numbered(Verifier, u64);

    impl KeyLine for Numbered {
        const FIELDS: &'static [&'static str] = &["<number>"];
        fn parse(key: Verifier, fields: &[&str]) -> Result<Self, String> {
            let n = fields[0]
                .parse()
                .map_err(|_| format!("{:?} is not a number", fields[0]))?;
            Ok(Numbered(key, n))
        }
        fn key(&self) -> &Verifier {
            &self.0
        }
        fn fields(&self) -> Vec<String> {
            vec![self.1.to_string()]
        }
        fn duplicate(&self, earlier: &Self) -> Option<String> {
            (earlier.0.name() == self.0.name()).then(|| format!("{} twice", self.0.name()))
        }
        fn refuse(&self, listed: &Self) -> Option<String> {
            (listed.0.name() == self.0.name()).then(|| format!("{} has a key", self.0.name()))
        }
    }

    fn key(name: &str, seed: u8) -> Verifier {
        Signer::from_seed(name, KeyType::Ed25519, [seed; 32])
            .unwrap()
            .verifier()
    }

    #[test]
    fn an_absent_list_is_empty_and_added_entries_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.txt");
        assert!(load::<Numbered>(&path).unwrap().is_empty());
        assert!(add(&path, "# a list\n", &Numbered(key("a", 1), 5)).unwrap());
        assert!(add(&path, "# a list\n", &Numbered(key("b", 2), 7)).unwrap());
        // The same key again changes nothing, whatever its fields.
        assert!(!add(&path, "# a list\n", &Numbered(key("a", 1), 9)).unwrap());
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            format!("# a list\n{} 5\n{} 7\n", key("a", 1), key("b", 2))
        );
        let listed = load::<Numbered>(&path).unwrap();
        let numbers: Vec<u64> = listed.iter().map(|e| e.1).collect();
        assert_eq!(numbers, [5, 7]);
    }

    #[test]
    fn a_refused_addition_leaves_the_file_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.txt");
        add(&path, "", &Numbered(key("a", 1), 5)).unwrap();
        let before = std::fs::read_to_string(&path).unwrap();
        let err = add(&path, "", &Numbered(key("a", 2), 5)).unwrap_err();
        assert_eq!((err.line, err.why.as_str()), (0, "a has a key"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    }

    #[test]
    fn each_bad_line_is_named_by_its_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.txt");
        let (a, b) = (key("a", 1), key("a", 2));
        for (text, line, why) in [
            (
                format!("# c\n\n{a}\n"),
                3,
                "expected `<vkey> <number>`".to_owned(),
            ),
            (
                format!("{a} 1 2\n"),
                1,
                "expected `<vkey> <number>`".to_owned(),
            ),
            (format!("{a} x\n"), 1, "\"x\" is not a number".to_owned()),
            (format!("{a} 1\n  # c\n{b} 2\n"), 3, "a twice".to_owned()),
        ] {
            std::fs::write(&path, &text).unwrap();
            let err = load::<Numbered>(&path).unwrap_err();
            assert_eq!((err.line, &err.why), (line, &why), "{text}");
            assert!(
                err.to_string()
                    .starts_with(&format!("{}: line {line}: ", path.display()))
            );
        }
        std::fs::write(&path, "nonsense 1\n").unwrap();
        assert_eq!(load::<Numbered>(&path).unwrap_err().line, 1);
    }
}
