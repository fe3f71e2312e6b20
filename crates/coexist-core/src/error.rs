//! Why a webhook body or a relayed entry could not be read: what, and where (a JSON path).

use thiserror::Error;

/// A body that is not a Meta webhook envelope, or a relayed record that is not what its kind
/// says. Everything *inside* a well-formed envelope is read tolerantly and never fails
/// (see [`crate::parse_webhook`]); this error is for the outer shape only.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    /// Not JSON at all (or truncated, or nested too deeply).
    #[error("the {what} is not valid JSON: {message} (line {line}, column {column})")]
    Json { what: String, line: usize, column: usize, message: String },
    /// JSON, but not the expected shape: `path` is where (e.g. `entry[0].changes[1].field`).
    #[error("the {what} is malformed at `{path}`: {message}")]
    Shape { what: String, path: String, message: String },
}

/// serde's messages may quote the offending input; keep them short and printable.
pub(crate) fn clip(message: &str) -> String {
    const MAX: usize = 200;
    let cleaned: String = message.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if cleaned.chars().count() <= MAX {
        cleaned
    } else {
        let cut: String = cleaned.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

impl ParseError {
    pub(crate) fn json(what: &str, err: &serde_json::Error) -> Self {
        ParseError::Json { what: what.to_string(), line: err.line(), column: err.column(), message: clip(&err.to_string()) }
    }

    pub(crate) fn shape(what: &str, err: serde_path_to_error::Error<serde_json::Error>) -> Self {
        let path = err.path().to_string();
        let inner = err.into_inner();
        // serde_json appends " at line L column C" for byte input; the path says it better.
        let message = strip_position(&inner.to_string());
        ParseError::Shape { what: what.to_string(), path, message: clip(&message) }
    }

    /// The JSON path of the problem, when known.
    pub fn path(&self) -> Option<&str> {
        match self {
            ParseError::Shape { path, .. } => Some(path),
            ParseError::Json { .. } => None,
        }
    }
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) if message[i..].contains(" column ") => message[..i].to_string(),
        _ => message.to_string(),
    }
}

/// Deserialize `T` from a JSON value, naming the path of any mismatch.
///
/// Path tracking costs more than the parse itself, and almost every body is well formed: parse
/// plainly first and track the path only to explain a failure.
pub(crate) fn from_value<T: serde::de::DeserializeOwned>(what: &str, value: &serde_json::Value) -> Result<T, ParseError> {
    T::deserialize(value).or_else(|_| serde_path_to_error::deserialize(value).map_err(|e| ParseError::shape(what, e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_removes_control_characters_and_bounds_length() {
        let long = format!("a\nb{}", "x".repeat(500));
        let c = clip(&long);
        assert!(!c.contains('\n'));
        assert!(c.chars().count() <= 201);
    }

    #[test]
    fn shape_error_names_the_path() {
        #[derive(serde::Deserialize, Debug)]
        struct Outer {
            #[allow(dead_code)]
            items: Vec<Inner>,
        }
        #[derive(serde::Deserialize, Debug)]
        struct Inner {
            #[allow(dead_code)]
            n: i64,
        }
        let v = serde_json::json!({"items": [{"n": 1}, {"n": "x"}]});
        let err = from_value::<Outer>("test thing", &v).unwrap_err();
        assert_eq!(err.path(), Some("items[1].n"));
        assert!(err.to_string().contains("test thing is malformed at `items[1].n`"), "{err}");
    }
}
