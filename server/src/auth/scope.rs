//! Token scopes (RFC 6749 §3.3): what a token may do. Sessions and opaque tokens may do
//! everything; an access token may be issued for less.

use crate::error::ApiError;

/// Reading your own data.
pub const READ: &str = "read";
/// Changing it (notes, revoking devices).
pub const WRITE: &str = "write";
/// Everything, the default for a login.
pub const FULL: &str = "read write";

/// Checks and normalises a requested scope: a non-empty set of `read` and `write`.
pub fn parse(requested: &str) -> Result<&'static str, ApiError> {
    let mut read = false;
    let mut write = false;
    for part in requested.split_whitespace() {
        match part {
            READ => read = true,
            WRITE => write = true,
            _ => {
                return Err(ApiError::Validation(vec![app::wire::FieldError {
                    field: "scope".into(),
                    message: "Scope may contain only `read` and `write`.".into(),
                }]));
            }
        }
    }
    match (read, write) {
        (true, true) | (false, true) => Ok(FULL),
        (true, false) => Ok(READ),
        (false, false) => Err(ApiError::Validation(vec![app::wire::FieldError {
            field: "scope".into(),
            message: "Scope must not be empty.".into(),
        }])),
    }
}

/// Whether `scope` grants `needed`.
pub fn includes(scope: &str, needed: &str) -> bool {
    scope.split_whitespace().any(|s| s == needed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_normalised() {
        assert_eq!(parse("read").unwrap(), READ);
        assert_eq!(parse("write read").unwrap(), FULL);
        assert_eq!(parse("write").unwrap(), FULL);
        assert!(parse("").is_err());
        assert!(parse("admin").is_err());
    }

    #[test]
    fn a_read_scope_does_not_include_write() {
        assert!(includes(READ, READ));
        assert!(!includes(READ, WRITE));
        assert!(includes(FULL, WRITE));
    }
}
