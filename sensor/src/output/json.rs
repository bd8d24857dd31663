//! A small JSON writer for the hot path: appends to a reused byte buffer,
//! with no intermediate values and no allocation once the buffer has grown.

use std::io::Write as _;
use std::net::IpAddr;

use crate::event::{Mac, Nest, Value, Visitor};

/// Deepest nesting the writer tracks (events use two or three levels).
const MAX_DEPTH: usize = 16;

/// Writes one JSON object into `out`. Call [`JsonWriter::finish`] to close it.
pub struct JsonWriter<'a> {
    out: &'a mut Vec<u8>,
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
            written: [false; MAX_DEPTH],
            is_list: [false; MAX_DEPTH],
            depth: 0,
        }
    }

    /// Closes every open level.
    pub fn finish(mut self) {
        while self.depth > 0 {
            self.end();
        }
        self.out.push(b'}');
    }

    fn key(&mut self, name: &str) {
        if self.written[self.depth] {
            self.out.push(b',');
        }
        self.written[self.depth] = true;
        if !self.is_list[self.depth] {
            write_str(self.out, name);
            self.out.push(b':');
        }
    }

    pub fn str(&mut self, name: &str, value: &str) {
        self.key(name);
        write_str(self.out, value);
    }

    pub fn u64(&mut self, name: &str, value: u64) {
        self.key(name);
        self.out
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    pub fn i64(&mut self, name: &str, value: i64) {
        self.key(name);
        self.out
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    pub fn bool(&mut self, name: &str, value: bool) {
        self.key(name);
        self.out
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    pub fn null(&mut self, name: &str) {
        self.key(name);
        self.out.extend_from_slice(b"null");
    }

    pub fn ip(&mut self, name: &str, ip: Option<IpAddr>) {
        self.key(name);
        match ip {
            Some(IpAddr::V4(v4)) => {
                self.out.push(b'"');
                for (i, octet) in v4.octets().iter().enumerate() {
                    if i > 0 {
                        self.out.push(b'.');
                    }
                    self.out
                        .extend_from_slice(itoa::Buffer::new().format(*octet).as_bytes());
                }
                self.out.push(b'"');
            }
            // IPv6 text contains no characters that need escaping.
            Some(IpAddr::V6(v6)) => {
                let _ = write!(self.out, "\"{v6}\"");
            }
            None => self.out.extend_from_slice(b"null"),
        }
    }

    pub fn mac(&mut self, name: &str, mac: Option<Mac>) {
        self.key(name);
        match mac {
            Some(mac) => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                self.out.push(b'"');
                for (i, byte) in mac.iter().enumerate() {
                    if i > 0 {
                        self.out.push(b':');
                    }
                    self.out.push(HEX[usize::from(byte >> 4)]);
                    self.out.push(HEX[usize::from(byte & 0xf)]);
                }
                self.out.push(b'"');
            }
            None => self.out.extend_from_slice(b"null"),
        }
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
            Value::Hex(bytes) => {
                self.key(name);
                self.out.push(b'"');
                for byte in bytes {
                    let _ = write!(self.out, "{byte:02x}");
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

/// Writes `s` as a JSON string, escaping what JSON requires.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f | 0x7f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.extend_from_slice(escape);
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
    fn finish_closes_levels_left_open() {
        let text = render(|w| {
            w.begin("a", Nest::List);
            w.begin("", Nest::Object);
        });
        assert_eq!(text, r#"{"a":[{}]}"#);
    }
}
