//! Strict parsing of paths and query strings: every malformed request is a
//! precise 400 naming what is wrong.

use std::collections::HashMap;

use gazette_client::encoding::parse_decimal;

use super::error::ApiError;

/// Longest query string accepted.
pub const MAX_QUERY_LEN: usize = 2048;

/// A query's parameters: only known names, each at most once.
pub struct Query(HashMap<String, String>);

impl Query {
    /// Parses `raw` (the part after `?`), accepting only `allowed` names.
    pub fn parse(raw: Option<&str>, allowed: &[&str]) -> Result<Query, ApiError> {
        let raw = raw.unwrap_or("");
        if raw.len() > MAX_QUERY_LEN {
            return Err(ApiError::Malformed(format!(
                "query of {} bytes; at most {MAX_QUERY_LEN}",
                raw.len()
            )));
        }
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw)
            .map_err(|e| ApiError::Malformed(format!("query: {e}")))?;
        let mut params = HashMap::new();
        for (name, value) in pairs {
            if !allowed.contains(&name.as_str()) {
                return Err(ApiError::Malformed(format!(
                    "unknown query parameter {name:?}; expected {}",
                    allowed.join(", ")
                )));
            }
            if params.insert(name.clone(), value).is_some() {
                return Err(ApiError::Malformed(format!("{name} is given twice")));
            }
        }
        Ok(Query(params))
    }

    /// The value of `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The required canonical decimal `name`.
    pub fn decimal(&self, name: &str) -> Result<u64, ApiError> {
        let value = self
            .get(name)
            .ok_or_else(|| ApiError::Malformed(format!("{name} is missing")))?;
        decimal(name, value)
    }
}

/// A canonical decimal `u64` (no sign, no leading zeros, no overflow).
pub fn decimal(name: &str, value: &str) -> Result<u64, ApiError> {
    parse_decimal(value).ok_or_else(|| {
        ApiError::Malformed(format!(
            "{name} {value:?} is not a canonical decimal number (0 to 2^64-1, no sign or leading zeros)"
        ))
    })
}
