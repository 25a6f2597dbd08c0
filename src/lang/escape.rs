//! DATA arguments: a word decoded in the escape language of [`crate::text`] (`\r \n \t \0 \\ \"
//! \xHH`), an error pointing at the column of the offending backslash.

use super::{SyntaxError, Token};
use crate::text::unescape;

/// Decodes a DATA word as typed into bytes; an error points at the offending backslash's column.
pub fn decode_data(token: &Token) -> Result<Vec<u8>, SyntaxError> {
    unescape(&token.text).map_err(|bad| SyntaxError::new(token.column_at(bad.offset), bad.message))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `text` as if it were a word typed at `column`.
    fn decode(text: &str, column: usize) -> Result<Vec<u8>, SyntaxError> {
        decode_data(&Token {
            text: text.to_string(),
            column,
            columns: (column..column + text.chars().count()).collect(),
            quoted: false,
        })
    }

    #[test]
    fn decodes_every_escape() {
        let decoded = decode(r#"a\r\n\t\0\\\"\x41\x1b"#, 1).expect("decodes");
        assert_eq!(decoded, b"a\r\n\t\0\\\"A\x1b");
    }

    #[test]
    fn keeps_unicode_as_utf8() {
        assert_eq!(decode("héllo", 1).expect("decodes"), "héllo".as_bytes());
    }

    #[test]
    fn unknown_escape_is_an_error_at_its_column() {
        let err = decode(r"ab\q", 10).expect_err("fails");
        assert_eq!(err.column, 12);
        assert!(err.message.contains("unknown escape"));
        assert!(decode(r"\x4", 1).is_err());
        assert!(decode(r"\xzz", 1).is_err());
        assert!(decode("end\\", 1).is_err());
    }
}
