//! Display names: what people read instead of an agency's key name or a
//! record's kind token, in English and Simplified Chinese.
//!
//! A names file is text, one name per line, `#` starting a comment line:
//!
//! ```text
//! agency land-registry.example.gov en Land Registry
//! agency land-registry.example.gov zh-CN 土地登记局
//! kind business-licence en Business licence
//! kind business-licence zh-CN 营业执照
//! ```
//!
//! Each line is `agency <key name> <language> <name>` or
//! `kind <kind token> <language> <name>`; the name is the rest of the line
//! (spaces inside it kept, at most [`MAX_NAME_CHARS`] characters). Languages
//! are `en` and `zh-CN`. A name is cosmetic: verification is always by key,
//! and every place that shows a display name shows the key name beside it
//! for experts. Whoever publishes a page or prints a certificate chooses the
//! names file, as they choose the policy.

use std::collections::BTreeMap;
use std::fmt;

use crate::record::is_token;

/// The largest names file read, in bytes.
pub const MAX_NAMES_FILE: usize = 256 * 1024;

/// The longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 120;

/// The kinds every verifier names without a names file, in the file's
/// format; a names file's own lines take precedence.
pub const BUILT_IN_KINDS: &str = "\
kind e-certificate en Electronic certificate
kind e-certificate zh-CN 电子证照
kind property-registration en Property registration
kind property-registration zh-CN 不动产登记
kind e-invoice en Electronic invoice
kind e-invoice zh-CN 电子发票
kind revocation en Revocation notice
kind revocation zh-CN 撤销通知
";

/// A language a display name is given in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Language {
    /// `en`: English.
    English,
    /// `zh-CN`: Simplified Chinese.
    Chinese,
}

impl Language {
    /// Both languages, English first.
    pub const ALL: [Language; 2] = [Language::English, Language::Chinese];

    /// The language's tag in a names file (`en`, `zh-CN`).
    pub fn tag(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Chinese => "zh-CN",
        }
    }

    fn from_tag(tag: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.tag() == tag)
    }
}

/// What a name is given for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Named {
    /// An agency, by its key name (a record's `issuer`).
    Agency,
    /// A record kind, by its token.
    Kind,
}

impl Named {
    fn word(self) -> &'static str {
        match self {
            Named::Agency => "agency",
            Named::Kind => "kind",
        }
    }
}

/// Why a names file was refused, with its line (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamesError {
    /// The file is larger than [`MAX_NAMES_FILE`].
    TooLarge(usize),
    /// The file is not UTF-8.
    NotUtf8,
    /// A line is not `agency|kind <token> <language> <name>`.
    Malformed { line: usize, reason: String },
    /// A name is given twice for one thing in one language.
    Duplicate { line: usize, what: String },
}

impl fmt::Display for NamesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NamesError::TooLarge(n) => {
                write!(f, "names file of {n} bytes; at most {MAX_NAMES_FILE}")
            }
            NamesError::NotUtf8 => write!(f, "names file is not UTF-8"),
            NamesError::Malformed { line, reason } => write!(f, "line {line}: {reason}"),
            NamesError::Duplicate { line, what } => {
                write!(f, "line {line}: {what} is named twice in one language")
            }
        }
    }
}

impl std::error::Error for NamesError {}

/// Display names for agencies and kinds, from a names file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DisplayNames {
    names: BTreeMap<(Named, String, Language), String>,
}

impl DisplayNames {
    /// Parses a names file (see the module's documentation).
    pub fn parse(bytes: &[u8]) -> Result<DisplayNames, NamesError> {
        if bytes.len() > MAX_NAMES_FILE {
            return Err(NamesError::TooLarge(bytes.len()));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| NamesError::NotUtf8)?;
        let mut names = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let malformed = |reason: String| NamesError::Malformed {
                line: line_no,
                reason,
            };
            let mut words = trimmed.splitn(4, ' ');
            let (Some(what), Some(token), Some(tag), Some(name)) =
                (words.next(), words.next(), words.next(), words.next())
            else {
                return Err(malformed(
                    "expected `agency|kind <name or token> <en|zh-CN> <display name>`".into(),
                ));
            };
            let named = match what {
                "agency" => Named::Agency,
                "kind" => Named::Kind,
                other => {
                    return Err(malformed(format!(
                        "{other:?}: a line names an `agency` or a `kind`"
                    )));
                }
            };
            let token_ok = match named {
                Named::Agency => is_key_name(token),
                Named::Kind => is_token(token),
            };
            if !token_ok {
                return Err(malformed(format!(
                    "{token:?} is not a{} {}",
                    if named == Named::Agency { "n" } else { "" },
                    match named {
                        Named::Agency => "agency key name",
                        Named::Kind => "kind token",
                    }
                )));
            }
            let language = Language::from_tag(tag)
                .ok_or_else(|| malformed(format!("{tag:?}: the languages are en and zh-CN")))?;
            let name = name.trim();
            if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
                return Err(malformed(format!(
                    "a display name has 1 to {MAX_NAME_CHARS} characters"
                )));
            }
            if name.chars().any(char::is_control) {
                return Err(malformed("a display name has no control characters".into()));
            }
            let key = (named, token.to_string(), language);
            if names.insert(key, name.to_string()).is_some() {
                return Err(NamesError::Duplicate {
                    line: line_no,
                    what: format!("{} {token}", named.word()),
                });
            }
        }
        Ok(DisplayNames { names })
    }

    /// The built-in kind names ([`BUILT_IN_KINDS`]) with `self`'s names
    /// taking precedence over them.
    pub fn over_built_in(&self) -> DisplayNames {
        let mut names = DisplayNames::parse(BUILT_IN_KINDS.as_bytes())
            .expect("the built-in names parse")
            .names;
        names.extend(self.names.clone());
        DisplayNames { names }
    }

    /// The name of `token` (an agency's key name or a kind) in `language`,
    /// if the file gives one.
    pub fn name(&self, named: Named, token: &str, language: Language) -> Option<&str> {
        self.names
            .get(&(named, token.to_string(), language))
            .map(String::as_str)
    }

    /// Every name given: `(what, token, language, name)`, ordered.
    pub fn iter(&self) -> impl Iterator<Item = (Named, &str, Language, &str)> {
        self.names.iter().map(|((named, token, language), name)| {
            (*named, token.as_str(), *language, name.as_str())
        })
    }

    /// Whether the file gave no names.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// A signed-note key name: non-empty, no spaces or `+`, printable.
fn is_key_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && !s
            .chars()
            .any(|c| c == '+' || c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "# names\n\
        agency land-registry.example.gov en Land Registry\n\
        agency land-registry.example.gov zh-CN 土地登记局\n\
        \n\
        kind business-licence en Business  licence\n\
        kind business-licence zh-CN 营业执照\n";

    #[test]
    fn names_are_read_per_thing_and_language() {
        let names = DisplayNames::parse(EXAMPLE.as_bytes()).unwrap();
        let registry = "land-registry.example.gov";
        assert_eq!(
            names.name(Named::Agency, registry, Language::English),
            Some("Land Registry")
        );
        assert_eq!(
            names.name(Named::Agency, registry, Language::Chinese),
            Some("土地登记局")
        );
        // Spaces inside a name are kept.
        assert_eq!(
            names.name(Named::Kind, "business-licence", Language::English),
            Some("Business  licence")
        );
        assert_eq!(names.name(Named::Kind, registry, Language::English), None);
        assert_eq!(names.iter().count(), 4);
    }

    #[test]
    fn malformed_lines_are_refused_with_their_number() {
        for (text, line, words) in [
            ("agency a.gov en\n", 1, "expected"),
            ("\nperson a.gov en A\n", 2, "agency"),
            ("agency a+b en A\n", 1, "not an agency key name"),
            ("kind Not_A_Token en A\n", 1, "not a kind token"),
            ("kind deed fr Acte\n", 1, "languages"),
            ("kind deed en a\u{7}b\n", 1, "control"),
        ] {
            let e = DisplayNames::parse(text.as_bytes()).unwrap_err();
            match &e {
                NamesError::Malformed { line: l, reason } => {
                    assert_eq!(*l, line, "{text:?}");
                    assert!(reason.contains(words), "{text:?}: {reason}");
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
        let long = format!("kind deed en {}\n", "x".repeat(MAX_NAME_CHARS + 1));
        assert!(matches!(
            DisplayNames::parse(long.as_bytes()),
            Err(NamesError::Malformed { line: 1, .. })
        ));
    }

    #[test]
    fn a_names_file_overrides_the_built_in_kinds() {
        let own = "kind e-invoice en Tax invoice\nkind deed zh-CN 契据\n";
        let names = DisplayNames::parse(own.as_bytes()).unwrap().over_built_in();
        assert_eq!(
            names.name(Named::Kind, "e-invoice", Language::English),
            Some("Tax invoice")
        );
        assert_eq!(
            names.name(Named::Kind, "e-invoice", Language::Chinese),
            Some("电子发票")
        );
        assert_eq!(
            names.name(Named::Kind, "deed", Language::Chinese),
            Some("契据")
        );
        assert_eq!(
            names.name(Named::Kind, "revocation", Language::English),
            Some("Revocation notice")
        );
    }

    #[test]
    fn a_name_given_twice_or_an_oversized_file_is_refused() {
        let twice = "kind deed en Deed\nkind deed en Title deed\n";
        assert_eq!(
            DisplayNames::parse(twice.as_bytes()),
            Err(NamesError::Duplicate {
                line: 2,
                what: "kind deed".into()
            })
        );
        let big = vec![b'#'; MAX_NAMES_FILE + 1];
        assert_eq!(
            DisplayNames::parse(&big),
            Err(NamesError::TooLarge(MAX_NAMES_FILE + 1))
        );
        assert_eq!(DisplayNames::parse(&[0xff]), Err(NamesError::NotUtf8));
    }
}
