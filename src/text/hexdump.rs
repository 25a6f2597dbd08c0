//! Hexdumps of received bytes (offset, hex, ASCII), for binary data and on request.

use std::fmt::Write as _;

/// Bytes per hexdump line.
const WIDTH: usize = 16;

/// `hexdump -C` style lines for at most `limit` bytes of `data`, and a count of the rest.
pub fn hexdump(data: &[u8], limit: usize) -> Vec<String> {
    let shown = &data[..data.len().min(limit)];
    let mut lines: Vec<String> = shown
        .chunks(WIDTH)
        .enumerate()
        .map(|(row, chunk)| {
            let mut line = format!("{:08x}  ", row * WIDTH);
            for i in 0..WIDTH {
                match chunk.get(i) {
                    // Writing to a String cannot fail.
                    Some(b) => {
                        let _ = write!(line, "{b:02x} ");
                    }
                    None => line.push_str("   "),
                }
                if i == WIDTH / 2 - 1 {
                    line.push(' ');
                }
            }
            line.push_str(" |");
            line.extend(chunk.iter().map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    char::from(b)
                } else {
                    '.'
                }
            }));
            line.push('|');
            line
        })
        .collect();
    if data.len() > shown.len() {
        lines.push(format!("… {} more bytes", data.len() - shown.len()));
    }
    lines
}

/// Whether bytes read better as a hexdump than as escaped text: not UTF-8 text, or mostly controls.
pub fn looks_binary(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return true;
    };
    let odd = text
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\r' | '\n' | '\t'))
        .count();
    odd * 10 > text.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_show_offset_hex_and_ascii() {
        let lines = hexdump(b"GET / HTTP/1.1\r\nHost", 256);
        assert_eq!(
            lines[0],
            "00000000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a  |GET / HTTP/1.1..|"
        );
        assert_eq!(
            lines[1],
            "00000010  48 6f 73 74                                       |Host|"
        );
    }

    #[test]
    fn long_data_is_cut_with_a_count() {
        let lines = hexdump(&[0u8; 100], 32);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[2], "… 68 more bytes");
    }

    #[test]
    fn text_is_not_binary_but_controls_and_invalid_utf8_are() {
        assert!(!looks_binary(b"hello\r\n"));
        assert!(looks_binary(b"\xff\xfe"));
        assert!(looks_binary(b"\x00\x01\x02\x03abc"));
    }
}
