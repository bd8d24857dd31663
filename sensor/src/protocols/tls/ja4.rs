//! The JA4 TLS client fingerprint, written from FoxIO's public specification
//! (`technical_details/JA4.md` of the FoxIO-LLC/ja4 repository):
//!
//! `t` (TLS over TCP), the two-character TLS version (highest in
//! supported_versions, else the ClientHello's version), `d` if the SNI
//! extension is there else `i`, the number of cipher suites and of
//! extensions (two digits, at most 99), the first and last characters of the
//! first ALPN value (`00` without one); then `_` and the first 12 hex digits
//! of the SHA-256 of the cipher suites sorted (4-digit lowercase hex, comma
//! separated); then `_` and the same of the extensions sorted, without SNI
//! (0x0000) and ALPN (0x0010), followed by `_` and the signature algorithms
//! in their original order when there are any. GREASE values are ignored
//! everywhere. An empty cipher or extension list hashes to `000000000000`.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

/// What JA4 reads from a ClientHello, in wire order.
#[derive(Clone, Debug, Default)]
pub struct Hello<'a> {
    /// The ClientHello's legacy version.
    pub version: u16,
    pub ciphers: &'a [u16],
    pub extensions: &'a [u16],
    pub supported_versions: &'a [u16],
    pub signature_algorithms: &'a [u16],
    /// The first ALPN protocol name, if the ALPN extension has one.
    pub first_alpn: Option<&'a [u8]>,
}

/// GREASE values (RFC 8701): 0x0a0a, 0x1a1a, … 0xfafa.
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

fn version_code(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

/// The first and last characters of the first ALPN value.
fn alpn_code(alpn: Option<&[u8]>) -> String {
    let Some(value) = alpn.filter(|v| !v.is_empty()) else {
        return "00".into();
    };
    let first = value.first().copied().unwrap_or_default();
    let last = value.last().copied().unwrap_or_default();
    if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() {
        return [first as char, last as char].iter().collect();
    }
    let hex = |b: u8| format!("{b:02x}");
    let (f, l) = (hex(first), hex(last));
    [f.chars().next(), l.chars().last()]
        .iter()
        .flatten()
        .collect()
}

/// Comma-separated 4-digit lowercase hex.
fn hex_list(values: &[u16]) -> String {
    let mut out = String::with_capacity(values.len() * 5);
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{v:04x}");
    }
    out
}

/// The first 12 hex digits of the SHA-256 of `text`.
fn hash12(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut out = String::with_capacity(12);
    for b in digest.iter().take(6) {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The JA4 fingerprint of a ClientHello.
pub fn ja4(hello: &Hello<'_>) -> String {
    let ciphers: Vec<u16> = hello
        .ciphers
        .iter()
        .copied()
        .filter(|&c| !is_grease(c))
        .collect();
    let extensions: Vec<u16> = hello
        .extensions
        .iter()
        .copied()
        .filter(|&e| !is_grease(e))
        .collect();
    let version = hello
        .supported_versions
        .iter()
        .copied()
        .filter(|&v| !is_grease(v))
        .max()
        .unwrap_or(hello.version);
    let sni = if extensions.contains(&0) { 'd' } else { 'i' };
    let a = format!(
        "t{}{sni}{:02}{:02}{}",
        version_code(version),
        ciphers.len().min(99),
        extensions.len().min(99),
        alpn_code(hello.first_alpn)
    );
    let mut sorted = ciphers;
    sorted.sort_unstable();
    let b = if sorted.is_empty() {
        "000000000000".to_string()
    } else {
        hash12(&hex_list(&sorted))
    };
    let mut exts: Vec<u16> = extensions
        .into_iter()
        .filter(|&e| e != 0x0000 && e != 0x0010)
        .collect();
    exts.sort_unstable();
    let c = if exts.is_empty() {
        "000000000000".to_string()
    } else {
        let algorithms: Vec<u16> = hello
            .signature_algorithms
            .iter()
            .copied()
            .filter(|&s| !is_grease(s))
            .collect();
        let mut text = hex_list(&exts);
        if !algorithms.is_empty() {
            text.push('_');
            text.push_str(&hex_list(&algorithms));
        }
        hash12(&text)
    };
    format!("{a}_{b}_{c}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_of_the_specification_examples() {
        // JA4.md, "Cipher hash" and "Extension hash".
        assert_eq!(
            hash12("002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9"),
            "8daaf6152771"
        );
        assert_eq!(
            hash12(
                "0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601"
            ),
            "e5627efa2ab1"
        );
        assert_eq!(
            hash12("0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01"),
            "6d807ffa2a79"
        );
    }

    #[test]
    fn alpn_characters_follow_the_specification_examples() {
        assert_eq!(alpn_code(Some(b"h2")), "h2");
        assert_eq!(alpn_code(Some(b"http/1.1")), "h1");
        assert_eq!(alpn_code(Some(b"x")), "xx");
        assert_eq!(alpn_code(None), "00");
        assert_eq!(alpn_code(Some(b"")), "00");
        assert_eq!(alpn_code(Some(&[0xab])), "ab");
        assert_eq!(alpn_code(Some(&[0xab, 0xcd])), "ad");
        assert_eq!(alpn_code(Some(&[0x30, 0xab])), "3b");
        assert_eq!(alpn_code(Some(&[0x30, 0x31, 0xab, 0xcd])), "3d");
        assert_eq!(alpn_code(Some(&[0x30, 0xab, 0xcd, 0x31])), "01");
    }

    #[test]
    fn grease_values() {
        assert!(is_grease(0x0a0a) && is_grease(0xfafa) && is_grease(0x3a3a));
        assert!(!is_grease(0x0a1a) && !is_grease(0x1301) && !is_grease(0x0000));
    }

    #[test]
    fn empty_lists_hash_to_zeros() {
        let hello = Hello {
            version: 0x0301,
            ..Hello::default()
        };
        assert_eq!(ja4(&hello), "t10i000000_000000000000_000000000000");
    }
}
