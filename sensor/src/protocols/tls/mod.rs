//! TLS (SSL 3.0 to TLS 1.3) over TCP: ports 443, 8443, 8883 (MQTT over
//! TLS), 4843 (OPC UA over TLS), and wherever a ClientHello is seen.
//!
//! **One event per handshake message** (ClientHello with its JA4 fingerprint,
//! ServerHello, Certificate…), reassembled across records, **one per alert
//! and one per heartbeat record**. Once a side has sent ChangeCipherSpec its
//! handshake records are encrypted: each is one `encrypted_handshake` event.
//! Application data records are counted (`app_data_records` on later events
//! of the same direction) and skipped without events or buffering;
//! ChangeCipherSpec gives no event.
//!
//! A handshake message longer than [`MAX_HANDSHAKE`] (a long certificate
//! chain) is decoded from its first [`MAX_HANDSHAKE`] bytes and the rest is
//! skipped. Bytes that are not a TLS record are reported as one `invalid`
//! event per run; decoding of that direction stops there (TLS cannot
//! resynchronise).

mod ja4;
#[cfg(test)]
mod tests;

pub use ja4::{Hello, is_grease, ja4};

use super::text::{self, be16, be24, bounded};
use super::{Direction, Emitter, Probe, StreamParser};
use crate::event::{Anomalies, Fields, FunctionClass, Pdu, Protocol, Visitor};

pub const PORT: u16 = 443;
/// Other well-known ports of TLS in OT networks: HTTPS alternate, MQTT over
/// TLS, OPC UA over TLS.
pub const PORTS: &[u16] = &[PORT, 8443, 8883, 4843];

/// A handshake message longer than this is decoded from its first bytes.
pub const MAX_HANDSHAKE: usize = 16 * 1024;
/// Longest record accepted: 2^14 plus the expansion TLS allows.
const MAX_RECORD: usize = (1 << 14) + 2048;
/// Entries kept of each list (cipher suites, extensions…).
pub const MAX_LIST: usize = 64;

const RECORD_HEADER: usize = 5;

/// Record content types.
pub mod content {
    pub const CHANGE_CIPHER_SPEC: u8 = 20;
    pub const ALERT: u8 = 21;
    pub const HANDSHAKE: u8 = 22;
    pub const APPLICATION_DATA: u8 = 23;
    pub const HEARTBEAT: u8 = 24;
}

/// Stable anomaly names of this decoder.
pub mod anomaly {
    /// Bytes that are not a TLS record header (content type, version or length).
    pub const INVALID_RECORD: &str = "invalid_record";
    /// A handshake, alert or heartbeat record of length 0.
    pub const EMPTY_RECORD: &str = "empty_record";
    /// A field runs past the end of its message.
    pub const TRUNCATED: &str = "truncated";
    /// Bytes left after a message's structure.
    pub const TRAILING_BYTES: &str = "trailing_bytes";
    /// A handshake message type without a name.
    pub const UNKNOWN_HANDSHAKE_TYPE: &str = "unknown_handshake_type";
    /// An alert record whose length is not 2, or an unknown level.
    pub const INVALID_ALERT: &str = "invalid_alert";
    /// A heartbeat whose payload length exceeds the record (Heartbleed).
    pub const HEARTBEAT_LENGTH_MISMATCH: &str = "heartbeat_length_mismatch";
    /// The server chose SSL 3.0, TLS 1.0 or TLS 1.1.
    pub const DEPRECATED_VERSION: &str = "deprecated_version";
    /// A ClientHello from the server or a ServerHello from the client.
    pub const WRONG_DIRECTION: &str = "wrong_direction";
    /// A handshake message longer than 16 KiB, decoded from its start.
    pub const HANDSHAKE_TOO_LONG: &str = "handshake_too_long";

    /// Every anomaly name, for rule validation.
    pub const ALL: &[&str] = &[
        INVALID_RECORD,
        EMPTY_RECORD,
        TRUNCATED,
        TRAILING_BYTES,
        UNKNOWN_HANDSHAKE_TYPE,
        INVALID_ALERT,
        HEARTBEAT_LENGTH_MISMATCH,
        DEPRECATED_VERSION,
        WRONG_DIRECTION,
        HANDSHAKE_TOO_LONG,
    ];
}
use anomaly::*;

/// The name of a handshake message type.
pub fn handshake_name(t: u8) -> Option<&'static str> {
    Some(match t {
        0 => "hello_request",
        1 => "client_hello",
        2 => "server_hello",
        3 => "hello_verify_request",
        4 => "new_session_ticket",
        5 => "end_of_early_data",
        6 => "hello_retry_request",
        8 => "encrypted_extensions",
        11 => "certificate",
        12 => "server_key_exchange",
        13 => "certificate_request",
        14 => "server_hello_done",
        15 => "certificate_verify",
        16 => "client_key_exchange",
        20 => "finished",
        21 => "certificate_url",
        22 => "certificate_status",
        23 => "supplemental_data",
        24 => "key_update",
        254 => "message_hash",
        _ => return None,
    })
}

/// The name of an alert description (RFC 8446 and earlier).
pub fn alert_name(code: u8) -> Option<&'static str> {
    Some(match code {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        111 => "certificate_unobtainable",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        114 => "bad_certificate_hash_value",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => return None,
    })
}

/// Every `function` name TLS events carry, for rule validation.
pub fn function_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = (0..=255).filter_map(handshake_name).collect();
    names.extend([
        "unknown_handshake",
        "encrypted_handshake",
        "alert",
        "heartbeat",
        "invalid",
    ]);
    names.sort_unstable();
    names.dedup();
    names
}

/// The first bytes of a ServerHello random that mark a HelloRetryRequest.
const HELLO_RETRY_RANDOM: [u8; 8] = [0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11];

/// TLS fields of one event. Absent values are not written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TlsFields {
    /// Record content type (Wireshark `tls.record.content_type`).
    pub record_type: Option<u8>,
    /// Record layer version (Wireshark `tls.record.version`).
    pub record_version: Option<u16>,
    /// Handshake message type (Wireshark `tls.handshake.type`).
    pub handshake_type: Option<u8>,
    /// Handshake message length (Wireshark `tls.handshake.length`).
    pub handshake_length: Option<u32>,
    /// ClientHello: its (legacy) version; ServerHello: the version chosen,
    /// from supported_versions when there (Wireshark `tls.handshake.version`
    /// / `tls.handshake.extensions.supported_version`).
    pub version: Option<u16>,
    /// ClientHello supported_versions, as offered (GREASE included).
    pub supported_versions: Vec<u16>,
    /// Server name (Wireshark `tls.handshake.extensions_server_name`).
    pub sni: Option<String>,
    /// ALPN protocols offered (ClientHello) or chosen (ServerHello).
    pub alpn: Vec<String>,
    /// ClientHello: how many cipher suites it offers.
    pub cipher_suite_count: Option<u32>,
    /// ClientHello cipher suites, the first [`MAX_LIST`] (Wireshark `tls.handshake.ciphersuite`).
    pub cipher_suites: Vec<u16>,
    /// ServerHello: the cipher suite chosen.
    pub cipher: Option<u16>,
    /// Extension types, in order, the first [`MAX_LIST`].
    pub extensions: Vec<u16>,
    pub supported_groups: Vec<u16>,
    pub signature_algorithms: Vec<u16>,
    /// ClientHello JA4 fingerprint.
    pub ja4: Option<String>,
    /// ServerHello that is a HelloRetryRequest.
    pub hello_retry_request: Option<bool>,
    /// Certificate (TLS 1.2 and earlier): certificates in the chain.
    pub certificate_count: Option<u32>,
    /// Certificate: the first certificate's subject common name.
    pub certificate_cn: Option<String>,
    /// Alert level (1 warning, 2 fatal).
    pub alert_level: Option<u8>,
    /// Alert description code (Wireshark `tls.alert_message.desc`); its name is `alert`.
    pub alert_code: Option<u8>,
    /// Heartbeat message type (1 request, 2 response) and payload length.
    pub heartbeat_type: Option<u8>,
    pub heartbeat_payload_length: Option<u16>,
    /// The record was encrypted (after ChangeCipherSpec).
    pub encrypted: Option<bool>,
    /// Application data records seen so far in this direction.
    pub app_data_records: Option<u64>,
    /// On `invalid` events: bytes skipped.
    pub skipped_bytes: Option<u32>,
}

impl TlsFields {
    pub fn visit(&self, v: &mut dyn Visitor) {
        use text::{b, s, s_list, u, u_list};
        u(v, "record_type", self.record_type);
        u(v, "record_version", self.record_version);
        u(v, "handshake_type", self.handshake_type);
        u(v, "handshake_length", self.handshake_length);
        u(v, "version", self.version);
        u_list(v, "supported_versions", &self.supported_versions);
        s(v, "sni", self.sni.as_deref());
        s_list(v, "alpn", &self.alpn);
        u(v, "cipher_suite_count", self.cipher_suite_count);
        u_list(v, "cipher_suites", &self.cipher_suites);
        u(v, "cipher", self.cipher);
        u_list(v, "extensions", &self.extensions);
        u_list(v, "supported_groups", &self.supported_groups);
        u_list(v, "signature_algorithms", &self.signature_algorithms);
        s(v, "ja4", self.ja4.as_deref());
        b(v, "hello_retry_request", self.hello_retry_request);
        u(v, "certificate_count", self.certificate_count);
        s(v, "certificate_cn", self.certificate_cn.as_deref());
        s(
            v,
            "alert_level",
            self.alert_level.map(|l| match l {
                1 => "warning",
                2 => "fatal",
                _ => "unknown",
            }),
        );
        u(v, "alert_code", self.alert_code);
        s(v, "alert", self.alert_code.and_then(alert_name));
        u(v, "heartbeat_type", self.heartbeat_type);
        u(v, "heartbeat_payload_length", self.heartbeat_payload_length);
        b(v, "encrypted", self.encrypted);
        u(v, "app_data_records", self.app_data_records);
        u(v, "skipped_bytes", self.skipped_bytes);
    }
}

/// A cursor over a message; a read past the end returns `None` and remembers it.
struct Reader<'a> {
    b: &'a [u8],
    at: usize,
    short: bool,
}

impl<'a> Reader<'a> {
    fn new(b: &'a [u8]) -> Self {
        Reader {
            b,
            at: 0,
            short: false,
        }
    }

    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        match self
            .at
            .checked_add(n)
            .and_then(|end| self.b.get(self.at..end))
        {
            Some(s) => {
                self.at += n;
                Some(s)
            }
            None => {
                self.short = true;
                self.at = self.b.len();
                None
            }
        }
    }

    fn u8(&mut self) -> Option<u8> {
        self.bytes(1).map(|s| s[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.bytes(2).map(|s| u16::from_be_bytes([s[0], s[1]]))
    }

    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.bytes(n.into())
    }

    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.bytes(n.into())
    }

    fn rest(&self) -> usize {
        self.b.len().saturating_sub(self.at)
    }
}

/// The big-endian 16-bit values of `b` (an odd last byte is ignored).
fn u16s(b: &[u8]) -> impl Iterator<Item = u16> + '_ {
    b.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]))
}

/// Decodes a ClientHello body.
fn client_hello(body: &[u8], f: &mut TlsFields, a: &mut Anomalies) -> bool {
    let mut r = Reader::new(body);
    let version = r.u16();
    f.version = version;
    r.bytes(32); // random
    r.vec8(); // session id
    let ciphers: Vec<u16> = r.vec16().map(|c| u16s(c).collect()).unwrap_or_default();
    r.vec8(); // compression methods
    let mut extensions = Vec::new();
    let mut supported_versions = Vec::new();
    let mut signature_algorithms = Vec::new();
    let mut first_alpn = None;
    if r.rest() > 0 {
        let mut x = Reader::new(r.vec16().unwrap_or_default());
        while x.rest() > 0 {
            let (Some(kind), Some(data)) = (x.u16(), x.vec16()) else {
                break;
            };
            extensions.push(kind);
            let mut e = Reader::new(data);
            match kind {
                0x0000 => {
                    // server_name: list of (type, name); the first host_name.
                    let mut list = Reader::new(e.vec16().unwrap_or_default());
                    while list.rest() > 0 {
                        let (Some(t), Some(name)) = (list.u8(), list.vec16()) else {
                            break;
                        };
                        if t == 0 && f.sni.is_none() {
                            f.sni = Some(bounded(name, 255));
                        }
                    }
                }
                0x0010 => {
                    let mut list = Reader::new(e.vec16().unwrap_or_default());
                    while let Some(name) = list.vec8() {
                        first_alpn.get_or_insert(name);
                        if f.alpn.len() < 8 {
                            f.alpn.push(bounded(name, 64));
                        }
                    }
                }
                0x000a => {
                    let groups = e.vec16().unwrap_or_default();
                    f.supported_groups = u16s(groups).take(MAX_LIST).collect();
                }
                0x000d => {
                    signature_algorithms = u16s(e.vec16().unwrap_or_default()).collect();
                }
                0x002b => {
                    supported_versions = u16s(e.vec8().unwrap_or_default()).collect();
                }
                _ => {}
            }
        }
        if x.short {
            a.add(TRUNCATED);
        }
    }
    f.ja4 = Some(ja4(&Hello {
        version: version.unwrap_or_default(),
        ciphers: &ciphers,
        extensions: &extensions,
        supported_versions: &supported_versions,
        signature_algorithms: &signature_algorithms,
        first_alpn,
    }));
    f.cipher_suite_count = Some(u32::try_from(ciphers.len()).unwrap_or(u32::MAX));
    f.cipher_suites = ciphers.into_iter().take(MAX_LIST).collect();
    f.extensions = extensions.into_iter().take(MAX_LIST).collect();
    f.supported_versions = supported_versions.into_iter().take(MAX_LIST).collect();
    f.signature_algorithms = signature_algorithms.into_iter().take(MAX_LIST).collect();
    r.short
}

/// Decodes a ServerHello body.
fn server_hello(body: &[u8], f: &mut TlsFields, a: &mut Anomalies) -> bool {
    let mut r = Reader::new(body);
    let legacy = r.u16();
    let random = r.bytes(32);
    r.vec8(); // session id
    f.cipher = r.u16();
    r.u8(); // compression method
    let mut version = legacy;
    let mut extensions = Vec::new();
    if r.rest() > 0 {
        let mut x = Reader::new(r.vec16().unwrap_or_default());
        while x.rest() > 0 {
            let (Some(kind), Some(data)) = (x.u16(), x.vec16()) else {
                break;
            };
            if extensions.len() < MAX_LIST {
                extensions.push(kind);
            }
            let mut e = Reader::new(data);
            match kind {
                0x002b => version = e.u16().or(version),
                0x0010 => {
                    let mut list = Reader::new(e.vec16().unwrap_or_default());
                    if let Some(name) = list.vec8() {
                        f.alpn.push(bounded(name, 64));
                    }
                }
                _ => {}
            }
        }
        if x.short {
            a.add(TRUNCATED);
        }
    }
    f.extensions = extensions;
    f.version = version;
    if random.is_some_and(|r| r.starts_with(&HELLO_RETRY_RANDOM)) {
        f.hello_retry_request = Some(true);
    }
    if version.is_some_and(|v| v < 0x0303) {
        a.add(DEPRECATED_VERSION);
    }
    r.short
}

/// Decodes a TLS 1.2 Certificate body: the number of certificates and the
/// first one's subject CN. `whole` is false when only its start is there.
fn certificate(body: &[u8], whole: bool, f: &mut TlsFields) -> bool {
    let mut r = Reader::new(body);
    let Some(total) = be24(body, 0) else {
        return true;
    };
    r.bytes(3);
    let list_end = 3usize.saturating_add(total as usize);
    let mut count = 0u32;
    let mut at = 3usize;
    while at < list_end {
        let Some(len) = be24(body, at) else { break };
        let start = at + 3;
        let end = start.saturating_add(len as usize);
        if count == 0 {
            let der = body.get(start..end.min(body.len())).unwrap_or_default();
            f.certificate_cn = subject_cn(der).map(|cn| bounded(cn, 255));
        }
        count += 1;
        at = end;
    }
    f.certificate_count = Some(count);
    whole && (at != list_end || list_end > body.len())
}

/// One DER element: tag, contents, and what follows it.
fn der(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *b.first()?;
    let first = *b.get(1)?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 3 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | usize::from(*b.get(2 + i)?);
        }
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    Some((tag, b.get(header..end)?, b.get(end..)?))
}

/// The subject common name (OID 2.5.4.3) of an X.509 certificate.
fn subject_cn(cert: &[u8]) -> Option<&[u8]> {
    let (_, certificate, _) = der(cert)?;
    let (_, tbs, _) = der(certificate)?;
    let mut rest = tbs;
    let (tag, _, after) = der(rest)?;
    if tag == 0xa0 {
        rest = after; // explicit version
    }
    // serial, signature algorithm, issuer, validity, then subject
    for _ in 0..4 {
        rest = der(rest)?.2;
    }
    let (_, mut rdns, _) = der(rest)?;
    while let Some((_, set, next)) = der(rdns) {
        let (_, attribute, _) = der(set)?;
        let (oid_tag, oid, value) = der(attribute)?;
        if oid_tag == 0x06 && oid == [0x55, 0x04, 0x03] {
            return der(value).map(|(_, v, _)| v);
        }
        rdns = next;
    }
    None
}

/// Per-direction record state.
#[derive(Debug, Default)]
struct Side {
    /// Bytes of the current application-data record still to skip.
    skip_record: usize,
    /// Handshake bytes of a message started in an earlier record.
    handshake: Vec<u8>,
    /// Handshake bytes of an over-long message still to skip.
    skip_handshake: usize,
    /// ChangeCipherSpec was sent: later handshake and alert records are encrypted.
    encrypted: bool,
    app_data_records: u64,
    /// Not TLS any more (after invalid bytes): everything is skipped.
    lost: bool,
}

/// Per-connection TLS state.
#[derive(Debug, Default)]
pub struct TlsParser {
    sides: [Side; 2],
}

impl TlsParser {
    pub fn new() -> Self {
        Self::default()
    }

    fn emit(
        &self,
        f: TlsFields,
        a: Anomalies,
        function: &'static str,
        code: Option<u8>,
        out: &mut Emitter<'_>,
    ) {
        let side = &self.sides[out.direction().index()];
        let mut f = f;
        if side.app_data_records > 0 {
            f.app_data_records = Some(side.app_data_records);
        }
        out.emit(Pdu {
            protocol: Protocol::Tls,
            is_response: out.direction() == Direction::ToClient,
            function_code: code.map(u32::from),
            function,
            class: FunctionClass::Session,
            anomalies: a,
            fields: Fields::Tls(Box::new(f)),
            identity: None,
        });
    }

    /// One handshake message (or the first [`MAX_HANDSHAKE`] bytes of one).
    fn message(&mut self, msg: &[u8], whole: bool, record_version: u16, out: &mut Emitter<'_>) {
        let t = msg.first().copied().unwrap_or_default();
        let len = be24(msg, 1).unwrap_or_default();
        let body = msg.get(4..).unwrap_or_default();
        let mut f = TlsFields {
            record_type: Some(content::HANDSHAKE),
            record_version: Some(record_version),
            handshake_type: Some(t),
            handshake_length: Some(len),
            ..TlsFields::default()
        };
        let mut a = Anomalies::new();
        if !whole {
            a.add(HANDSHAKE_TOO_LONG);
        }
        let client = out.direction() == Direction::ToServer;
        let short = match t {
            1 => {
                if !client {
                    a.add(WRONG_DIRECTION);
                }
                client_hello(body, &mut f, &mut a)
            }
            2 => {
                if client {
                    a.add(WRONG_DIRECTION);
                }
                server_hello(body, &mut f, &mut a)
            }
            11 => certificate(body, whole, &mut f),
            _ => false,
        };
        if short && whole {
            a.add(TRUNCATED);
        }
        let function = match handshake_name(t) {
            Some(name) => name,
            None => {
                a.add(UNKNOWN_HANDSHAKE_TYPE);
                "unknown_handshake"
            }
        };
        self.emit(f, a, function, Some(t), out);
    }

    /// The body of a handshake record: completes the message an earlier
    /// record started, decodes the whole ones, keeps the start of the last.
    fn handshake_record(&mut self, body: &[u8], version: u16, out: &mut Emitter<'_>) {
        let d = out.direction().index();
        let skip = self.sides[d].skip_handshake.min(body.len());
        self.sides[d].skip_handshake -= skip;
        let body = body.get(skip..).unwrap_or_default();
        if self.sides[d].handshake.is_empty() {
            let used = self.messages(body, version, out);
            let rest = body.get(used..).unwrap_or_default();
            self.sides[d].handshake.extend_from_slice(rest);
        } else {
            let mut buf = std::mem::take(&mut self.sides[d].handshake);
            buf.extend_from_slice(body);
            let used = self.messages(&buf, version, out).min(buf.len());
            buf.drain(..used);
            self.sides[d].handshake = buf;
        }
    }

    /// Decodes the whole messages at the start of `b`; returns bytes used.
    fn messages(&mut self, b: &[u8], version: u16, out: &mut Emitter<'_>) -> usize {
        let d = out.direction().index();
        let mut at = 0;
        while let Some(rest) = b.get(at..).filter(|r| r.len() >= 4) {
            let len = be24(rest, 1).unwrap_or_default() as usize;
            let total = 4 + len;
            if let Some(msg) = rest.get(..total) {
                self.message(msg, true, version, out);
                at += total;
            } else if total > MAX_HANDSHAKE && rest.len() >= MAX_HANDSHAKE {
                self.message(rest, false, version, out);
                self.sides[d].skip_handshake = total - rest.len();
                return b.len();
            } else {
                break;
            }
        }
        at
    }

    fn invalid(&mut self, skipped: usize, out: &mut Emitter<'_>) {
        let mut a = Anomalies::new();
        a.add(INVALID_RECORD);
        let f = TlsFields {
            skipped_bytes: Some(u32::try_from(skipped).unwrap_or(u32::MAX)),
            ..TlsFields::default()
        };
        self.emit(f, a, "invalid", None, out);
        self.sides[out.direction().index()].lost = true;
    }

    /// One whole record (header and body), other than application data.
    fn record(&mut self, record: &[u8], out: &mut Emitter<'_>) {
        let d = out.direction().index();
        let kind = record.first().copied().unwrap_or_default();
        let version = be16(record, 1).unwrap_or_default();
        let body = record.get(RECORD_HEADER..).unwrap_or_default();
        let encrypted = self.sides[d].encrypted;
        let base = TlsFields {
            record_type: Some(kind),
            record_version: Some(version),
            ..TlsFields::default()
        };
        let mut a = Anomalies::new();
        if body.is_empty() && kind != content::APPLICATION_DATA {
            a.add(EMPTY_RECORD);
        }
        match kind {
            content::CHANGE_CIPHER_SPEC => self.sides[d].encrypted = true,
            content::HANDSHAKE if encrypted => {
                let f = TlsFields {
                    encrypted: Some(true),
                    ..base
                };
                self.emit(f, a, "encrypted_handshake", None, out);
            }
            content::HANDSHAKE if body.is_empty() => {
                self.emit(base, a, "unknown_handshake", None, out);
            }
            content::HANDSHAKE => self.handshake_record(body, version, out),
            content::ALERT if encrypted => {
                let f = TlsFields {
                    encrypted: Some(true),
                    ..base
                };
                self.emit(f, a, "alert", None, out);
            }
            content::ALERT => {
                let level = body.first().copied();
                if body.len() != 2 || !matches!(level, Some(1 | 2)) {
                    a.add(INVALID_ALERT);
                }
                let f = TlsFields {
                    alert_level: level,
                    alert_code: body.get(1).copied(),
                    ..base
                };
                self.emit(f, a, "alert", None, out);
            }
            content::HEARTBEAT => {
                let mut f = base;
                if encrypted {
                    f.encrypted = Some(true);
                } else {
                    f.heartbeat_type = body.first().copied();
                    f.heartbeat_payload_length = be16(body, 1);
                    // type, length, payload, at least 16 bytes of padding
                    let needed = f.heartbeat_payload_length.map(|l| 3 + usize::from(l) + 16);
                    if needed.is_none_or(|n| n > body.len()) {
                        a.add(HEARTBEAT_LENGTH_MISMATCH);
                    }
                }
                self.emit(f, a, "heartbeat", None, out);
            }
            _ => {}
        }
    }
}

/// Whether a record header is valid: a content type of TLS, major version 3
/// (minor 0–4), a length within the limit.
fn record_header(b: &[u8]) -> Option<Result<usize, ()>> {
    let kind = *b.first()?;
    let major = *b.get(1)?;
    if !(content::CHANGE_CIPHER_SPEC..=content::HEARTBEAT).contains(&kind) || major != 3 {
        return Some(Err(()));
    }
    let minor = *b.get(2)?;
    if minor > 4 {
        return Some(Err(()));
    }
    let len = usize::from(be16(b, 3)?);
    if len > MAX_RECORD {
        return Some(Err(()));
    }
    Some(Ok(len))
}

impl StreamParser for TlsParser {
    fn parse(&mut self, data: &[u8], out: &mut Emitter<'_>) -> usize {
        let d = out.direction().index();
        if self.sides[d].lost {
            return data.len();
        }
        let skip = self.sides[d].skip_record.min(data.len());
        self.sides[d].skip_record -= skip;
        let mut consumed = skip;
        while let Some(rest) = data.get(consumed..).filter(|r| !r.is_empty()) {
            match record_header(rest) {
                None => break,
                Some(Err(())) => {
                    self.invalid(rest.len(), out);
                    return data.len();
                }
                Some(Ok(len)) => {
                    let total = RECORD_HEADER + len;
                    if rest.first() == Some(&content::APPLICATION_DATA) {
                        self.sides[d].app_data_records += 1;
                        let have = rest.len().min(total);
                        self.sides[d].skip_record = total - have;
                        consumed += have;
                        continue;
                    }
                    let Some(record) = rest.get(..total) else {
                        break;
                    };
                    self.record(record, out);
                    consumed += total;
                }
            }
        }
        consumed
    }

    /// The position in the stream is lost: forget the partial handshake
    /// message and the record being skipped; what follows must be a record.
    fn gap(&mut self, dir: Direction) {
        let side = &mut self.sides[dir.index()];
        side.skip_record = 0;
        side.skip_handshake = 0;
        side.handshake.clear();
    }
}

/// Recognises TLS by structure: a handshake record (type 22, version 3.0 to
/// 3.4, a plausible length) starting a ClientHello from the client or a
/// ServerHello from the server, whose own version is 3.x. On the well-known
/// ports a capture started mid-connection is also recognised by whole
/// records back to back. Modbus, TPKT, DNP3 and text protocols fail the
/// content type test at once.
pub fn probe(data: &[u8], direction: Direction, on_known_port: bool) -> Probe {
    match hello_evidence(data, direction) {
        Probe::NoMatch => {}
        verdict => return verdict,
    }
    if !on_known_port {
        return Probe::NoMatch;
    }
    let mut rest = data;
    let mut records = 0;
    while !rest.is_empty() {
        match record_header(rest) {
            None => break,
            Some(Err(())) => return Probe::NoMatch,
            Some(Ok(len)) => {
                if len == 0 {
                    return Probe::NoMatch;
                }
                match rest.get(RECORD_HEADER + len..) {
                    Some(next) => {
                        records += 1;
                        rest = next;
                    }
                    None => break,
                }
            }
        }
    }
    // A record too long for the probe's bytes still counts once they are many.
    if records > 0 || rest.len() >= 512 {
        Probe::Match
    } else {
        Probe::NeedMore
    }
}

/// `Match` for the start of a ClientHello (from the client) or ServerHello
/// (from the server), `NeedMore` for a prefix of one, `NoMatch` otherwise.
fn hello_evidence(data: &[u8], direction: Direction) -> Probe {
    let want = if direction == Direction::ToServer {
        1
    } else {
        2
    };
    type Check = (usize, fn(u8) -> bool);
    let checks: [Check; 6] = [
        (0, |b| b == content::HANDSHAKE),
        (1, |b| b == 3),
        (2, |b| b <= 4),
        (5, |_| true),
        (9, |b| b == 3),
        (10, |b| b <= 4),
    ];
    for (at, ok) in checks {
        match data.get(at) {
            None => return Probe::NeedMore,
            Some(&b) if !ok(b) => return Probe::NoMatch,
            Some(_) => {}
        }
    }
    let record_len = be16(data, 3).unwrap_or_default();
    let hs_len = be24(data, 6).unwrap_or_default();
    let plausible = data.get(5) == Some(&want)
        && record_len >= 4
        && usize::from(record_len) <= MAX_RECORD
        && (38..(1 << 16)).contains(&hs_len);
    if plausible {
        Probe::Match
    } else {
        Probe::NoMatch
    }
}
