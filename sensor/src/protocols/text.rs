//! Helpers shared by the IT protocol decoders (MQTT, HTTP, TLS, SSH, Telnet,
//! FTP): bounded strings, lines, big-endian reads, and the field writers their
//! `visit` methods use. Everything here is total: short input gives `None`.

use crate::event::{Nest, Value, Visitor};

/// `bytes` as text of at most `max` bytes: lossy UTF-8 (invalid sequences
/// become U+FFFD), cut on a character boundary, control characters other than
/// tab replaced by `.` so that a log line stays one line.
pub fn bounded(bytes: &[u8], max: usize) -> String {
    let cut = bytes.get(..max).unwrap_or(bytes);
    let text = String::from_utf8_lossy(cut);
    let mut out = String::with_capacity(text.len().min(max));
    for c in text.chars() {
        if out.len() + c.len_utf8() > max {
            break;
        }
        out.push(if c.is_control() && c != '\t' { '.' } else { c });
    }
    out
}

/// The first line of `data`: its content without the line ending (`\r\n` or
/// `\n`), and the offset just past the ending. `None` while no `\n` is there.
pub fn line(data: &[u8]) -> Option<(&[u8], usize)> {
    let lf = data.iter().position(|&b| b == b'\n')?;
    let content = data.get(..lf).unwrap_or_default();
    let content = content.strip_suffix(b"\r").unwrap_or(content);
    Some((content, lf + 1))
}

/// `bytes` without leading and trailing ASCII whitespace.
pub fn trim(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

/// Whether `haystack` contains `needle`, ignoring ASCII case.
pub fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Whether every byte is printable ASCII, tab, CR or LF.
pub fn is_text(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .all(|&b| matches!(b, 0x20..=0x7e | b'\t' | b'\r' | b'\n'))
}

pub fn be16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

pub fn be24(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(3)?)?;
    Some(u32::from_be_bytes([0, s[0], s[1], s[2]]))
}

pub fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Writes an unsigned field when present.
pub fn u(v: &mut dyn Visitor, name: &str, value: Option<impl Into<u64>>) {
    if let Some(value) = value {
        v.field(name, Value::U64(value.into()));
    }
}

/// Writes a text field when present.
pub fn s(v: &mut dyn Visitor, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        v.field(name, Value::Str(value));
    }
}

/// Writes a boolean field when present.
pub fn b(v: &mut dyn Visitor, name: &str, value: Option<bool>) {
    if let Some(value) = value {
        v.field(name, Value::Bool(value));
    }
}

/// Writes a cleartext credential when present (outputs redact it).
pub fn secret(v: &mut dyn Visitor, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        v.field(name, Value::Secret(value));
    }
}

/// Writes a list of numbers, unless it is empty.
pub fn u_list<T: Copy + Into<u64>>(v: &mut dyn Visitor, name: &str, values: &[T]) {
    if values.is_empty() {
        return;
    }
    v.begin(name, Nest::List);
    for &value in values {
        v.field("", Value::U64(value.into()));
    }
    v.end();
}

/// Writes a list of strings, unless it is empty.
pub fn s_list(v: &mut dyn Visitor, name: &str, values: &[String]) {
    if values.is_empty() {
        return;
    }
    v.begin(name, Nest::List);
    for value in values {
        v.field("", Value::Str(value));
    }
    v.end();
}

/// HTTP request methods a probe accepts (RFC 9110 and WebDAV's common ones).
pub const HTTP_METHODS: &[&[u8]] = &[
    b"GET",
    b"POST",
    b"HEAD",
    b"PUT",
    b"DELETE",
    b"OPTIONS",
    b"PATCH",
    b"CONNECT",
    b"TRACE",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"SEARCH",
];

/// Whether `data` starts like another text protocol's opening that a
/// line-based decoder must not claim: an HTTP request or status line, an SSH
/// banner.
pub fn starts_like_http_or_ssh(data: &[u8]) -> bool {
    if data.starts_with(b"HTTP/") || data.starts_with(b"SSH-") {
        return true;
    }
    HTTP_METHODS.iter().any(|m| {
        data.strip_prefix(*m)
            .and_then(|rest| rest.strip_prefix(b" "))
            .is_some_and(|rest| rest.starts_with(b"/") || rest.starts_with(b"*"))
    })
}

/// What the IT decoders' unit tests share: an event header and a
/// deterministic pseudo-random byte source.
#[cfg(test)]
pub mod testutil {
    use crate::event::{Header, Transport};
    use crate::time::Timestamp;

    pub fn header(packet: u64, server_port: u16) -> Header {
        Header {
            ts: Timestamp::from_secs(1_700_000_000),
            capture: 0,
            packet,
            seq: packet,
            flow: 1,
            src_mac: None,
            dst_mac: None,
            src_ip: None,
            dst_ip: None,
            src_port: Some(40000),
            dst_port: Some(server_port),
            transport: Transport::Tcp,
        }
    }

    /// xorshift64*: a deterministic stream of pseudo-random numbers.
    pub struct Rng(pub u64);

    impl Rng {
        pub fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        pub fn below(&mut self, n: u64) -> u64 {
            self.next_u64() % n.max(1)
        }

        pub fn bytes(&mut self, len: usize) -> Vec<u8> {
            (0..len).map(|_| self.next_u64() as u8).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_cuts_on_char_boundaries_and_hides_controls() {
        assert_eq!(bounded(b"abc", 2), "ab");
        assert_eq!(bounded("é!".as_bytes(), 1), "");
        assert_eq!(bounded("é!".as_bytes(), 3), "é!");
        assert_eq!(bounded(b"a\x1bb\tc", 10), "a.b\tc");
        assert_eq!(bounded(b"\xff", 10), "\u{fffd}");
    }

    #[test]
    fn lines_end_at_lf_with_or_without_cr() {
        assert_eq!(line(b"ab\r\ncd"), Some((&b"ab"[..], 4)));
        assert_eq!(line(b"ab\ncd"), Some((&b"ab"[..], 3)));
        assert_eq!(line(b"ab"), None);
    }

    #[test]
    fn reads_are_total() {
        assert_eq!(be16(&[1], 0), None);
        assert_eq!(be24(&[1, 2, 3], 0), Some(0x010203));
        assert_eq!(be32(&[1, 2, 3, 4], 1), None);
        assert_eq!(be16(&[1, 2], usize::MAX), None);
    }
}
