//! A small JSON writer for the hot path: appends to a reused byte buffer,
//! with no intermediate values and no allocation once the buffer has grown.

use std::io::Write as _;
use std::net::IpAddr;

use crate::event::{Mac, Nest, Value, Visitor};

/// What a secret is written as, unless secrets are shown.
pub const REDACTED: &str = "<redacted>";

/// Deepest nesting the writer tracks (events use two or three levels).
const MAX_DEPTH: usize = 16;

/// Writes one JSON object into `out`. Call [`JsonWriter::finish`] to close it.
pub struct JsonWriter<'a> {
    out: &'a mut Vec<u8>,
    /// Write [`Value::Secret`]s as they are instead of redacted.
    show_secrets: bool,
    /// Per open level: whether a value was written yet (comma needed), and whether it is a list.
    written: [bool; MAX_DEPTH],
    is_list: [bool; MAX_DEPTH],
    depth: usize,
}

impl<'a> JsonWriter<'a> {
    pub fn object(out: &'a mut Vec<u8>) -> JsonWriter<'a> {
        out.push(b'{');
        JsonWriter {
            out,
            show_secrets: false,
            written: [false; MAX_DEPTH],
            is_list: [false; MAX_DEPTH],
            depth: 0,
        }
    }

    /// Continues an object whose opening brace and first fields are already in `out`.
    pub fn resume(out: &'a mut Vec<u8>) -> JsonWriter<'a> {
        let mut written = [false; MAX_DEPTH];
        written[0] = true;
        JsonWriter {
            out,
            show_secrets: false,
            written,
            is_list: [false; MAX_DEPTH],
            depth: 0,
        }
    }

    /// Writes secrets in clear (`--show-secrets`) rather than as [`REDACTED`].
    pub fn show_secrets(mut self, show: bool) -> Self {
        self.show_secrets = show;
        self
    }

    /// Closes every open level.
    pub fn finish(mut self) {
        while self.depth > 0 {
            self.end();
        }
        self.out.push(b'}');
    }

    /// Writes the separator and, in an object, `"name":`. Field names are
    /// identifiers chosen in code and are written without escaping. Inlined:
    /// every value written calls it, and the call cost a third of it.
    #[inline(always)]
    fn key(&mut self, name: &str) {
        debug_assert!(!name.bytes().any(needs_escape), "field name {name:?}");
        let out = &mut *self.out;
        out.reserve(name.len() + 4);
        let depth = self.depth.min(MAX_DEPTH - 1);
        if std::mem::replace(&mut self.written[depth], true) {
            out.push(b',');
        }
        if !self.is_list[depth] {
            out.push(b'"');
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\":");
        }
    }

    pub fn str(&mut self, name: &str, value: &str) {
        self.key(name);
        write_str(self.out, value);
    }

    pub fn u64(&mut self, name: &str, value: u64) {
        self.key(name);
        write_u64(self.out, value);
    }

    pub fn i64(&mut self, name: &str, value: i64) {
        self.key(name);
        self.out
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    pub fn bool(&mut self, name: &str, value: bool) {
        self.key(name);
        write_bool(self.out, value);
    }

    pub fn null(&mut self, name: &str) {
        self.key(name);
        self.out.extend_from_slice(b"null");
    }

    pub fn ip(&mut self, name: &str, ip: Option<IpAddr>) {
        self.key(name);
        write_ip(self.out, ip);
    }

    pub fn mac(&mut self, name: &str, mac: Option<Mac>) {
        self.key(name);
        write_mac(self.out, mac);
    }

    pub fn strs<'s>(&mut self, name: &str, values: impl Iterator<Item = &'s str>) {
        self.begin(name, Nest::List);
        for value in values {
            self.str("", value);
        }
        self.end();
    }
}

impl Visitor for JsonWriter<'_> {
    fn field(&mut self, name: &str, value: Value<'_>) {
        match value {
            Value::U64(v) => self.u64(name, v),
            Value::I64(v) => self.i64(name, v),
            Value::Bool(v) => self.bool(name, v),
            Value::Str(v) => self.str(name, v),
            Value::Secret(secret) if self.show_secrets => self.str(name, secret),
            Value::Secret(_) => self.str(name, REDACTED),
            // Debug gives the shortest text that reads back as the same f64,
            // and uses an exponent for very large or small values: valid JSON.
            Value::F64(v) if v.is_finite() => {
                self.key(name);
                let _ = write!(self.out, "{v:?}");
            }
            Value::F64(_) => self.null(name),
            Value::Hex(bytes) => {
                self.key(name);
                self.out.reserve(bytes.len() * 2 + 2);
                self.out.push(b'"');
                for &byte in bytes {
                    self.out.extend_from_slice(&hex_digits(byte));
                }
                self.out.push(b'"');
            }
        }
    }

    fn begin(&mut self, name: &str, nest: Nest) {
        self.key(name);
        // Deeper levels than tracked are written flat rather than failing.
        if self.depth + 1 < MAX_DEPTH {
            self.depth += 1;
            self.written[self.depth] = false;
            self.is_list[self.depth] = nest == Nest::List;
        }
        self.out.push(if nest == Nest::List { b'[' } else { b'{' });
    }

    fn end(&mut self) {
        let close = if self.is_list[self.depth] { b']' } else { b'}' };
        self.out.push(close);
        self.depth = self.depth.saturating_sub(1);
    }
}

pub fn write_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

pub fn write_bool(out: &mut Vec<u8>, value: bool) {
    out.extend_from_slice(if value { b"true" } else { b"false" });
}

/// An address as a JSON string, or `null`.
pub fn write_ip(out: &mut Vec<u8>, ip: Option<IpAddr>) {
    match ip {
        Some(IpAddr::V4(v4)) => {
            // Composed on the stack, appended as a whole 17 bytes (the
            // length of `"255.255.255.255"`) and cut back: a copy of fixed
            // length is a few moves, one of the text's length a call.
            let mut text = [b'"'; 17];
            let mut at = 1;
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    text[at] = b'.';
                    at += 1;
                }
                let (digits, len) = DECIMAL_OCTETS[usize::from(octet)];
                text[at..at + 3].copy_from_slice(&digits);
                at += usize::from(len);
            }
            text[at] = b'"';
            let start = out.len();
            out.extend_from_slice(&text);
            out.truncate(start + at + 1);
        }
        // IPv6 text contains no characters that need escaping.
        Some(IpAddr::V6(v6)) => {
            let _ = write!(out, "\"{v6}\"");
        }
        None => out.extend_from_slice(b"null"),
    }
}

/// A MAC address as a JSON string (`"00:80:f4:0a:bc:ff"`), or `null`.
pub fn write_mac(out: &mut Vec<u8>, mac: Option<Mac>) {
    let Some(mac) = mac else {
        out.extend_from_slice(b"null");
        return;
    };
    let mut text = [b':'; 19];
    text[0] = b'"';
    text[18] = b'"';
    for (i, &byte) in mac.iter().enumerate() {
        text[1 + i * 3..3 + i * 3].copy_from_slice(&hex_digits(byte));
    }
    out.extend_from_slice(&text);
}

/// A byte as two lowercase hex digits.
fn hex_digits(byte: u8) -> [u8; 2] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    [HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 0xf)]]
}

/// Every octet's decimal digits, left-aligned, and how many there are.
const DECIMAL_OCTETS: [([u8; 3], u8); 256] = {
    let mut table = [([0u8; 3], 0u8); 256];
    let mut n = 0;
    while n < 256 {
        let d = [
            b'0' + (n / 100) as u8,
            b'0' + (n / 10 % 10) as u8,
            b'0' + (n % 10) as u8,
        ];
        table[n] = match n {
            100.. => (d, 3),
            10.. => ([d[1], d[2], 0], 2),
            _ => ([d[2], 0, 0], 1),
        };
        n += 1;
    }
    table
};

/// Bytes a JSON string must escape: control characters, `"`, `\` and DEL.
/// A table, since every byte of every string is looked up.
const ESCAPED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = b < 0x20 || b == b'"' as usize || b == b'\\' as usize || b == 0x7f;
        b += 1;
    }
    table
};

fn needs_escape(b: u8) -> bool {
    ESCAPED[usize::from(b)]
}

/// Writes a name chosen in code (a protocol, a transport, a function
/// class) as a JSON string: such names need no escaping, so they are not
/// scanned for it.
#[inline]
pub fn write_name(out: &mut Vec<u8>, name: &str) {
    debug_assert!(!name.bytes().any(needs_escape), "name {name:?}");
    out.reserve(name.len() + 2);
    out.push(b'"');
    out.extend_from_slice(name.as_bytes());
    out.push(b'"');
}

/// Writes `s` as a JSON string, escaping what JSON requires.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if !bytes.iter().any(|&b| needs_escape(b)) {
        // The common case (names, addresses, identifiers): nothing to escape.
        write_name(out, s);
        return;
    }
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !needs_escape(b) {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => {
                let _ = write!(out, "\\u{b:04x}");
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(f: impl FnOnce(&mut JsonWriter<'_>)) -> String {
        let mut out = Vec::new();
        let mut w = JsonWriter::object(&mut out);
        f(&mut w);
        w.finish();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn writes_valid_json_with_escapes_and_nesting() {
        let text = render(|w| {
            w.str("name", "a \"quoted\"\\ line\nwith\u{1} control");
            w.u64("n", 502);
            w.bool("ok", true);
            w.ip("ip", Some("10.0.0.5".parse().unwrap()));
            w.ip("ip6", Some("fd00::1".parse().unwrap()));
            w.ip("none", None);
            w.mac("mac", Some([0x00, 0x80, 0xf4, 0x0a, 0xbc, 0xff]));
            w.begin("device", Nest::Object);
            w.field("vendor", Value::Str("Schneider"));
            w.begin("list", Nest::List);
            w.field("", Value::U64(1));
            w.field("", Value::Hex(&[0xde, 0xad]));
            w.end();
            w.end();
            w.strs("anomalies", ["x", "y"].into_iter());
        });
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["name"], "a \"quoted\"\\ line\nwith\u{1} control");
        assert_eq!(parsed["n"], 502);
        assert_eq!(parsed["ok"], true);
        assert_eq!(parsed["ip"], "10.0.0.5");
        assert_eq!(parsed["ip6"], "fd00::1");
        assert!(parsed["none"].is_null());
        assert_eq!(parsed["mac"], "00:80:f4:0a:bc:ff");
        assert_eq!(parsed["device"]["vendor"], "Schneider");
        assert_eq!(parsed["device"]["list"], serde_json::json!([1, "dead"]));
        assert_eq!(parsed["anomalies"], serde_json::json!(["x", "y"]));
    }

    #[test]
    fn ipv4_octets_of_one_two_and_three_digits_are_written_whole() {
        for text in ["0.9.10.99", "100.199.200.255", "255.255.255.255", "1.0.0.0"] {
            let mut out = Vec::new();
            write_ip(&mut out, Some(text.parse().unwrap()));
            assert_eq!(out, format!("\"{text}\"").as_bytes());
        }
    }

    #[test]
    fn numbers_of_every_length_are_written_whole() {
        let mut n = 1u64;
        for _ in 0..19 {
            for value in [n - 1, n, n + 7, n * 9] {
                let mut out = b"x".to_vec();
                write_u64(&mut out, value);
                assert_eq!(out, format!("x{value}").as_bytes());
            }
            n *= 10;
        }
        let mut out = Vec::new();
        write_u64(&mut out, u64::MAX);
        assert_eq!(out, u64::MAX.to_string().as_bytes());
    }

    #[test]
    fn secrets_are_redacted_unless_shown() {
        let mut out = Vec::new();
        let mut w = JsonWriter::object(&mut out);
        w.field("community", Value::Secret("private"));
        w.finish();
        assert_eq!(out, br#"{"community":"<redacted>"}"#);
        let mut out = Vec::new();
        let mut w = JsonWriter::object(&mut out).show_secrets(true);
        w.field("community", Value::Secret("private"));
        w.finish();
        assert_eq!(out, br#"{"community":"private"}"#);
    }

    #[test]
    fn finish_closes_levels_left_open() {
        let text = render(|w| {
            w.begin("a", Nest::List);
            w.begin("", Nest::Object);
        });
        assert_eq!(text, r#"{"a":[{}]}"#);
    }
}
