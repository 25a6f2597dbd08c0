//! Decodes the escapes allowed in DATA arguments: `\r \n \t \0 \\ \" \xHH`. Anything else after a
//! backslash is an error, so a typo never silently sends the wrong bytes.

use super::{SyntaxError, Token};

/// Decodes a DATA word as typed into bytes; an error points at the offending backslash's column.
pub fn decode_data(token: &Token) -> Result<Vec<u8>, SyntaxError> {
    let text = token.text.as_str();
    let mut bytes = Vec::with_capacity(text.len());
    let mut chars = text.chars().enumerate();
    while let Some((offset, c)) = chars.next() {
        if c != '\\' {
            let mut buf = [0; 4];
            bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let at = token.column_at(offset);
        let escaped = match chars.next().map(|(_, c)| c) {
            Some('r') => b'\r',
            Some('n') => b'\n',
            Some('t') => b'\t',
            Some('0') => 0,
            Some('\\') => b'\\',
            Some('"') => b'"',
            Some('\'') => b'\'',
            Some(' ') => b' ',
            Some('x') => {
                let hex: String = chars.by_ref().take(2).map(|(_, c)| c).collect();
                match u8::from_str_radix(&hex, 16) {
                    Ok(byte) if hex.len() == 2 => byte,
                    _ => {
                        return Err(SyntaxError::new(
                            at,
                            format!("`\\x` needs two hex digits (like `\\x1b`), got `\\x{hex}`"),
                        ))
                    }
                }
            }
            Some(other) => {
                return Err(SyntaxError::new(
                    at,
                    format!(
                        "unknown escape `\\{other}`: use \\r \\n \\t \\0 \\\\ \\\" or \\xHH (write `\\\\` for a backslash)"
                    ),
                ))
            }
            None => {
                return Err(SyntaxError::new(
                    at,
                    "a lone `\\` at the end: write `\\\\` for a backslash".to_string(),
                ))
            }
        };
        bytes.push(escaped);
    }
    Ok(bytes)
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
