//! HTTP/1.x (ports 80 and 8080, and wherever a request line is seen).
//!
//! **One event per message head**: a request line or status line and its
//! header fields, up to the empty line. Bodies are skipped as they arrive,
//! never buffered: by `Content-Length`, by chunked transfer coding (chunk
//! sizes read, data skipped), or, for a response without either, up to the
//! end of the connection. After a successful CONNECT or a `101 Switching
//! Protocols` both directions are a tunnel and are no longer decoded.
//!
//! Responses are paired with requests in order (pipelining included): a
//! response carries the request's method and packet, and its class. A
//! response to HEAD, or with status 1xx, 204 or 304, has no body.
//!
//! Bytes where a head should start but which do not look like one are
//! reported as one `invalid` event per run and skipped up to the next line
//! that starts like a request or status line.

#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use super::text::{self, bounded, trim};
use super::{Direction, Emitter, Probe, StreamParser};
use crate::event::{Anomalies, Fields, FunctionClass, Identity, Pdu, Protocol, Visitor};

pub const PORT: u16 = 80;
pub const ALT_PORT: u16 = 8080;

/// A head longer than this is decoded from its first `MAX_HEAD` bytes; the
/// rest of it is skipped up to the empty line.
pub const MAX_HEAD: usize = 16 * 1024;
/// Bytes kept of the request target.
pub const MAX_URI: usize = 512;
/// Bytes kept of other header values.
pub const MAX_VALUE: usize = 256;
/// Requests awaiting their response, per connection.
pub const MAX_PENDING: usize = 64;
/// Longest chunk-size line accepted.
const MAX_CHUNK_LINE: usize = 1024;

/// Stable anomaly names of this decoder.
pub mod anomaly {
    /// Bytes where a head should start that are not a request or status line.
    pub const INVALID_START_LINE: &str = "invalid_start_line";
    /// A head longer than 16 KiB (decoded from its start).
    pub const HEAD_TOO_LONG: &str = "head_too_long";
    /// A header line without a colon.
    pub const INVALID_HEADER_LINE: &str = "invalid_header_line";
    /// A Content-Length that is not a number.
    pub const INVALID_CONTENT_LENGTH: &str = "invalid_content_length";
    /// Several Content-Length fields that disagree.
    pub const CONFLICTING_CONTENT_LENGTH: &str = "conflicting_content_length";
    /// Both Content-Length and chunked transfer coding (a request-smuggling sign).
    pub const CONTENT_LENGTH_WITH_CHUNKED: &str = "content_length_with_chunked";
    /// An HTTP/1.1 request without Host.
    pub const MISSING_HOST: &str = "missing_host";
    /// Authorization: Basic whose credentials are not base64 of `user:password`.
    pub const INVALID_BASIC_CREDENTIALS: &str = "invalid_basic_credentials";
    /// A chunk-size line that is not hexadecimal, or chunk data not followed by CRLF.
    pub const INVALID_CHUNK: &str = "invalid_chunk";
    /// A response with no request waiting for it.
    pub const RESPONSE_WITHOUT_REQUEST: &str = "response_without_request";
    /// More than 64 requests unanswered: the oldest was forgotten.
    pub const PENDING_TABLE_FULL: &str = "pending_table_full";
    /// A status code outside 100..=599.
    pub const INVALID_STATUS: &str = "invalid_status";

    /// Every anomaly name, for rule validation.
    pub const ALL: &[&str] = &[
        INVALID_START_LINE,
        HEAD_TOO_LONG,
        INVALID_HEADER_LINE,
        INVALID_CONTENT_LENGTH,
        CONFLICTING_CONTENT_LENGTH,
        CONTENT_LENGTH_WITH_CHUNKED,
        MISSING_HOST,
        INVALID_BASIC_CREDENTIALS,
        INVALID_CHUNK,
        RESPONSE_WITHOUT_REQUEST,
        PENDING_TABLE_FULL,
        INVALID_STATUS,
    ];
}
use anomaly::*;

/// Known methods: name, `function` name, class.
const METHODS: &[(&str, &str, FunctionClass)] = &[
    ("GET", "get", FunctionClass::Read),
    ("HEAD", "head", FunctionClass::Read),
    ("OPTIONS", "options", FunctionClass::Read),
    ("TRACE", "trace", FunctionClass::Diagnostic),
    ("POST", "post", FunctionClass::Write),
    ("PUT", "put", FunctionClass::Write),
    ("PATCH", "patch", FunctionClass::Write),
    ("DELETE", "delete", FunctionClass::Write),
    ("CONNECT", "connect", FunctionClass::Session),
    ("PROPFIND", "propfind", FunctionClass::Read),
    ("SEARCH", "search", FunctionClass::Read),
    ("PROPPATCH", "proppatch", FunctionClass::Write),
    ("MKCOL", "mkcol", FunctionClass::Write),
    ("COPY", "copy", FunctionClass::Write),
    ("MOVE", "move", FunctionClass::Write),
    ("LOCK", "lock", FunctionClass::Write),
    ("UNLOCK", "unlock", FunctionClass::Write),
];

/// The `function` name and class of a request method.
pub fn method_function(method: &str) -> (&'static str, FunctionClass) {
    METHODS
        .iter()
        .find(|(m, _, _)| *m == method)
        .map_or(("other_method", FunctionClass::Other), |&(_, f, c)| (f, c))
}

/// Every `function` name HTTP events carry, for rule validation.
pub fn function_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = METHODS.iter().map(|(_, f, _)| *f).collect();
    names.extend(["other_method", "response", "invalid"]);
    names.sort_unstable();
    names
}

/// HTTP fields of one event. Absent values are not written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HttpFields {
    /// Request method (Wireshark `http.request.method`); on responses, the
    /// method of the request answered.
    pub method: Option<String>,
    /// Request target, first 512 bytes (Wireshark `http.request.uri`).
    pub uri: Option<String>,
    /// `1.0`, `1.1`.
    pub version: Option<String>,
    /// Wireshark `http.host`.
    pub host: Option<String>,
    /// Wireshark `http.user_agent`.
    pub user_agent: Option<String>,
    /// Authorization scheme (`Basic`, `Digest`, `Bearer`, `NTLM`…).
    pub authorization_scheme: Option<String>,
    /// User name of Basic credentials: it identifies, so it is plain.
    pub basic_auth_user: Option<String>,
    /// Password of Basic credentials: written as a secret.
    pub basic_auth_password: Option<String>,
    /// Wireshark `http.content_length`.
    pub content_length: Option<u64>,
    /// Chunked transfer coding.
    pub chunked: Option<bool>,
    /// Wireshark `http.content_type`.
    pub content_type: Option<String>,
    /// Status code (Wireshark `http.response.code`).
    pub status: Option<u16>,
    /// Reason phrase (Wireshark `http.response.phrase`).
    pub reason: Option<String>,
    /// Server header as sent (Wireshark `http.server`).
    pub server: Option<String>,
    /// Scheme of WWW-Authenticate (Wireshark `http.www_authenticate`, first word).
    pub www_authenticate: Option<String>,
    /// Header fields in the head.
    pub header_count: Option<u32>,
    /// On responses: the packet of the request answered (Wireshark `http.request_in`).
    pub request_packet: Option<u64>,
    /// On `invalid` events: bytes skipped.
    pub skipped_bytes: Option<u32>,
}

impl HttpFields {
    pub fn visit(&self, v: &mut dyn Visitor) {
        use text::{b, s, secret, u};
        s(v, "method", self.method.as_deref());
        s(v, "uri", self.uri.as_deref());
        s(v, "version", self.version.as_deref());
        s(v, "host", self.host.as_deref());
        s(v, "user_agent", self.user_agent.as_deref());
        s(
            v,
            "authorization_scheme",
            self.authorization_scheme.as_deref(),
        );
        s(v, "basic_auth_user", self.basic_auth_user.as_deref());
        // Basic credentials with an empty password (`user:`) carry none.
        b(
            v,
            "password_present",
            self.basic_auth_password.as_deref().map(|p| !p.is_empty()),
        );
        secret(
            v,
            "basic_auth_password",
            self.basic_auth_password.as_deref(),
        );
        u(v, "content_length", self.content_length);
        b(v, "chunked", self.chunked);
        s(v, "content_type", self.content_type.as_deref());
        u(v, "status", self.status);
        s(v, "reason", self.reason.as_deref());
        s(v, "server", self.server.as_deref());
        s(v, "www_authenticate", self.www_authenticate.as_deref());
        u(v, "header_count", self.header_count);
        u(v, "request_packet", self.request_packet);
        u(v, "skipped_bytes", self.skipped_bytes);
    }
}

/// What the product tokens of a Server header say about the device:
/// `Boa/0.94.13` names product `Boa`, version `0.94.13`; a header whose
/// first word has no version (`Siemens SIMATIC S7-1200 Web server`,
/// `GoAhead-Webs`) is the product as a whole.
pub fn server_identity(server: &str) -> Option<Box<Identity>> {
    let server = server.trim();
    if server.is_empty() {
        return None;
    }
    let first = server.split_whitespace().next().unwrap_or(server);
    let (product, firmware) = match first.split_once('/') {
        Some((name, version)) if !name.is_empty() && !version.is_empty() => {
            (name.to_string(), Some(version.to_string()))
        }
        _ => (server.to_string(), None),
    };
    Some(Box::new(Identity {
        product: Some(product),
        firmware,
        ..Identity::default()
    }))
}

/// What the bytes of a direction are, between heads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum State {
    /// A head (request or status line) should start here.
    #[default]
    Head,
    /// The rest of an over-long head, up to its empty line; `newline` when
    /// the last byte seen (CR aside) ended a line.
    HeadRest { newline: bool },
    /// This many body bytes remain.
    Body(u64),
    /// A chunk-size line should start here.
    ChunkSize,
    /// This many bytes of chunk data remain, then CRLF.
    ChunkData(u64),
    /// The CRLF after chunk data.
    ChunkEnd,
    /// Trailer fields after the last chunk, up to the empty line.
    Trailers,
    /// Everything up to the end of the connection (a response body without
    /// length, a tunnel): not decoded.
    Opaque,
}

/// What a body will be, from a head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BodyKind {
    None,
    Length(u64),
    Chunked,
    UntilClose,
    Tunnel,
}

/// A request awaiting its response.
#[derive(Clone, Debug)]
struct Pending {
    method: String,
    packet: u64,
}

/// Per-connection HTTP state.
#[derive(Debug, Default)]
pub struct HttpParser {
    state: [State; 2],
    /// Inside a run of bytes already reported as invalid.
    garbage: [bool; 2],
    pending: VecDeque<Pending>,
    /// What follows an over-long head once its rest is skipped.
    pending_after_rest: [Option<State>; 2],
}

/// How a head's header fields bear on framing and on the event.
#[derive(Default)]
struct Framing {
    content_length: Option<u64>,
    chunked: bool,
}

impl HttpParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes the head in `head` (start line to the empty line, or the
    /// first [`MAX_HEAD`] bytes of an over-long one); returns what follows it.
    fn head(&mut self, head: &[u8], too_long: bool, out: &mut Emitter<'_>) -> BodyKind {
        let mut f = HttpFields::default();
        let mut a = Anomalies::new();
        if too_long {
            a.add(HEAD_TOO_LONG);
        }
        let mut lines = head
            .split(|&b| b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
        let start = lines.next().unwrap_or_default();
        let mut framing = Framing::default();
        let mut count = 0u32;
        for line in lines.filter(|l| !l.is_empty()) {
            count += 1;
            header_field(line, &mut f, &mut framing, &mut a);
        }
        f.header_count = Some(count);
        let pdu = if let Some(status) = start.strip_prefix(b"HTTP/") {
            self.response(status, f, a, framing, out)
        } else {
            self.request(start, f, a, framing, out)
        };
        let (pdu, body) = pdu;
        out.emit(pdu);
        body
    }

    fn request(
        &mut self,
        start: &[u8],
        mut f: HttpFields,
        mut a: Anomalies,
        framing: Framing,
        out: &mut Emitter<'_>,
    ) -> (Pdu, BodyKind) {
        let mut parts = start.splitn(3, |&b| b == b' ');
        let method = bounded(parts.next().unwrap_or_default(), 16);
        let uri = parts.next().unwrap_or_default();
        let version = parts.next().unwrap_or_default();
        f.method = Some(method.clone());
        f.uri = Some(bounded(uri, MAX_URI));
        match version.strip_prefix(b"HTTP/") {
            Some(v) => f.version = Some(bounded(v, 8)),
            None => a.add(INVALID_START_LINE),
        }
        if f.version.as_deref() == Some("1.1") && f.host.is_none() {
            a.add(MISSING_HOST);
        }
        if out.direction() == Direction::ToClient {
            a.add(INVALID_START_LINE);
        }
        if self.pending.len() >= MAX_PENDING {
            self.pending.pop_front();
            a.add(PENDING_TABLE_FULL);
        }
        self.pending.push_back(Pending {
            method: method.clone(),
            packet: out.header().packet,
        });
        let body = match framing.content_length {
            _ if framing.chunked => BodyKind::Chunked,
            Some(len) => BodyKind::Length(len),
            None => BodyKind::None,
        };
        f.content_length = framing.content_length;
        f.chunked = framing.chunked.then_some(true);
        let (function, class) = method_function(&method);
        let pdu = Pdu {
            protocol: Protocol::Http,
            is_response: false,
            function_code: None,
            function,
            class,
            anomalies: a,
            fields: Fields::Http(Box::new(f)),
            identity: None,
        };
        (pdu, body)
    }

    fn response(
        &mut self,
        after_http: &[u8],
        mut f: HttpFields,
        mut a: Anomalies,
        framing: Framing,
        out: &mut Emitter<'_>,
    ) -> (Pdu, BodyKind) {
        let mut parts = after_http.splitn(3, |&b| b == b' ');
        f.version = Some(bounded(parts.next().unwrap_or_default(), 8));
        let code = parts.next().unwrap_or_default();
        let status = std::str::from_utf8(code)
            .ok()
            .filter(|c| c.len() == 3)
            .and_then(|c| c.parse::<u16>().ok());
        if !status.is_some_and(|s| (100..=599).contains(&s)) {
            a.add(INVALID_STATUS);
        }
        f.status = status;
        f.reason = Some(bounded(parts.next().unwrap_or_default(), MAX_VALUE));
        if out.direction() == Direction::ToServer {
            a.add(INVALID_START_LINE);
        }
        let status = status.unwrap_or_default();
        // 1xx other than 101 are interim: the final response follows.
        let interim = (100..200).contains(&status) && status != 101;
        let request = if interim {
            self.pending.front().cloned()
        } else {
            self.pending.pop_front()
        };
        let method = request.as_ref().map(|r| r.method.as_str()).unwrap_or("");
        let body = if status == 101 || (method == "CONNECT" && (200..300).contains(&status)) {
            BodyKind::Tunnel
        } else if method == "HEAD" || interim || status == 204 || status == 304 {
            BodyKind::None
        } else if framing.chunked {
            BodyKind::Chunked
        } else if let Some(len) = framing.content_length {
            BodyKind::Length(len)
        } else {
            BodyKind::UntilClose
        };
        f.content_length = framing.content_length;
        f.chunked = framing.chunked.then_some(true);
        let (function, class) = match &request {
            Some(r) => method_function(&r.method),
            None => {
                a.add(RESPONSE_WITHOUT_REQUEST);
                ("response", FunctionClass::Other)
            }
        };
        if let Some(r) = &request {
            f.method = Some(r.method.clone());
            f.request_packet = Some(r.packet);
        }
        let identity = f.server.as_deref().and_then(server_identity);
        let pdu = Pdu {
            protocol: Protocol::Http,
            is_response: true,
            function_code: (status != 0).then_some(status.into()),
            function,
            class,
            anomalies: a,
            fields: Fields::Http(Box::new(f)),
            identity,
        };
        (pdu, body)
    }

    fn invalid(&mut self, skipped: usize, reason: &'static str, out: &mut Emitter<'_>) {
        let mut a = Anomalies::new();
        a.add(reason);
        let f = HttpFields {
            skipped_bytes: Some(u32::try_from(skipped).unwrap_or(u32::MAX)),
            ..HttpFields::default()
        };
        out.emit(Pdu {
            protocol: Protocol::Http,
            is_response: out.direction() == Direction::ToClient,
            function_code: None,
            function: "invalid",
            class: FunctionClass::Other,
            anomalies: a,
            fields: Fields::Http(Box::new(f)),
            identity: None,
        });
    }

    /// Sets what follows a head in `dir` (and, for a tunnel, in both).
    fn after_head(&mut self, dir: Direction, body: BodyKind) {
        let state = &mut self.state[dir.index()];
        *state = match body {
            BodyKind::None | BodyKind::Length(0) => State::Head,
            BodyKind::Length(n) => State::Body(n),
            BodyKind::Chunked => State::ChunkSize,
            BodyKind::UntilClose => State::Opaque,
            BodyKind::Tunnel => {
                self.state = [State::Opaque; 2];
                return;
            }
        };
    }

    /// Decodes from `data` what `state` expects; returns the bytes used,
    /// or `None` when more bytes are needed.
    fn step(&mut self, data: &[u8], out: &mut Emitter<'_>) -> Option<usize> {
        let dir = out.direction();
        let d = dir.index();
        match self.state[d] {
            State::Head => {
                // Empty lines between messages are tolerated.
                let blank = data
                    .iter()
                    .take_while(|&&b| b == b'\r' || b == b'\n')
                    .count();
                if blank > 0 {
                    return Some(blank);
                }
                if !starts_like_head(data) {
                    if data.len() < 8 && !data.contains(&b'\n') && could_start_head(data) {
                        return None;
                    }
                    let skip = next_head_start(data).unwrap_or(data.len());
                    if !self.garbage[d] {
                        self.invalid(skip, INVALID_START_LINE, out);
                        self.garbage[d] = true;
                    }
                    return Some(skip);
                }
                self.garbage[d] = false;
                match head_end(data) {
                    Some(end) if end <= MAX_HEAD => {
                        let body = self.head(data.get(..end).unwrap_or(data), false, out);
                        self.after_head(dir, body);
                        Some(end)
                    }
                    _ if data.len() >= MAX_HEAD => {
                        // Decode the whole lines of the first MAX_HEAD bytes.
                        let cut = data.get(..MAX_HEAD).unwrap_or(data);
                        let lines = cut
                            .iter()
                            .rposition(|&b| b == b'\n')
                            .map_or(cut, |at| cut.get(..at).unwrap_or(cut));
                        let body = self.head(lines, true, out);
                        self.after_head(dir, body);
                        let after = self.state[d];
                        let newline = cut.iter().rev().find(|&&b| b != b'\r') == Some(&b'\n');
                        self.state[d] = State::HeadRest { newline };
                        self.pending_after_rest[d] = Some(after);
                        Some(cut.len())
                    }
                    _ => None,
                }
            }
            State::HeadRest { mut newline } => {
                for (i, &b) in data.iter().enumerate() {
                    if b == b'\n' {
                        if newline {
                            self.state[d] = self.pending_after_rest[d].take().unwrap_or_default();
                            return Some(i + 1);
                        }
                        newline = true;
                    } else if b != b'\r' {
                        newline = false;
                    }
                }
                self.state[d] = State::HeadRest { newline };
                Some(data.len())
            }
            State::Body(n) => {
                let take = usize::try_from(n).unwrap_or(usize::MAX).min(data.len());
                let left = n - take as u64;
                self.state[d] = if left == 0 {
                    State::Head
                } else {
                    State::Body(left)
                };
                Some(take)
            }
            State::ChunkSize => {
                let Some((line, used)) = text::line(data) else {
                    if data.len() > MAX_CHUNK_LINE {
                        return Some(self.bad_chunk(data.len(), out));
                    }
                    return None;
                };
                let digits = line.split(|&b| b == b';').next().unwrap_or_default();
                let digits = trim(digits);
                let size = std::str::from_utf8(digits)
                    .ok()
                    .filter(|s| !s.is_empty() && s.len() <= 16)
                    .and_then(|s| u64::from_str_radix(s, 16).ok());
                match size {
                    Some(0) => self.state[d] = State::Trailers,
                    Some(n) => self.state[d] = State::ChunkData(n),
                    None => return Some(self.bad_chunk(used, out)),
                }
                Some(used)
            }
            State::ChunkData(n) => {
                let take = usize::try_from(n).unwrap_or(usize::MAX).min(data.len());
                let left = n - take as u64;
                self.state[d] = if left == 0 {
                    State::ChunkEnd
                } else {
                    State::ChunkData(left)
                };
                Some(take)
            }
            State::ChunkEnd => {
                if data.starts_with(b"\r\n") {
                    self.state[d] = State::ChunkSize;
                    Some(2)
                } else if data.starts_with(b"\n") {
                    self.state[d] = State::ChunkSize;
                    Some(1)
                } else if data == b"\r" {
                    None
                } else {
                    Some(self.bad_chunk(0, out))
                }
            }
            State::Trailers => {
                let (line, used) = text::line(data)?;
                if line.is_empty() {
                    self.state[d] = State::Head;
                }
                Some(used)
            }
            State::Opaque => Some(data.len()),
        }
    }

    /// Chunked framing broke: report it and stop decoding this direction.
    fn bad_chunk(&mut self, used: usize, out: &mut Emitter<'_>) -> usize {
        self.invalid(used, INVALID_CHUNK, out);
        self.state[out.direction().index()] = State::Opaque;
        used
    }
}

/// Where the empty line ending a head is: the offset just past it.
fn head_end(data: &[u8]) -> Option<usize> {
    let mut newline = false;
    for (i, &b) in data.iter().enumerate() {
        if b == b'\n' {
            if newline {
                return Some(i + 1);
            }
            newline = true;
        } else if b != b'\r' {
            newline = false;
        }
    }
    None
}

/// A request line (`METHOD SP`) or a status line (`HTTP/`) starts here.
fn starts_like_head(data: &[u8]) -> bool {
    if data.starts_with(b"HTTP/") {
        return true;
    }
    let token = data
        .iter()
        .take_while(|&&b| b.is_ascii_uppercase() || b == b'-' || b == b'_')
        .count();
    (3..=16).contains(&token) && data.get(token) == Some(&b' ')
}

/// Whether `data` could still grow into a head start.
fn could_start_head(data: &[u8]) -> bool {
    let n = data.len().min(5);
    data.get(..n) == b"HTTP/".get(..n)
        || data
            .iter()
            .all(|&b| b.is_ascii_uppercase() || b == b'-' || b == b'_')
}

/// The offset of the next line that starts like a head, if any.
fn next_head_start(data: &[u8]) -> Option<usize> {
    data.iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'\n')
        .map(|(i, _)| i + 1)
        .find(|&at| data.get(at..).is_some_and(starts_like_head))
}

/// Reads one header field into the event and the framing.
fn header_field(line: &[u8], f: &mut HttpFields, framing: &mut Framing, a: &mut Anomalies) {
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        // obs-fold continuation lines start with whitespace.
        if !line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            a.add(INVALID_HEADER_LINE);
        }
        return;
    };
    let name = line.get(..colon).unwrap_or_default();
    let value = trim(line.get(colon + 1..).unwrap_or_default());
    let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
    if is("host") {
        f.host = Some(bounded(value, MAX_VALUE));
    } else if is("user-agent") {
        f.user_agent = Some(bounded(value, MAX_VALUE));
    } else if is("server") {
        f.server = Some(bounded(value, MAX_VALUE));
    } else if is("content-type") {
        f.content_type = Some(bounded(value, MAX_VALUE));
    } else if is("www-authenticate") {
        if f.www_authenticate.is_none() {
            f.www_authenticate = Some(bounded(first_word(value), 32));
        }
    } else if is("authorization") {
        authorization(value, f, a);
    } else if is("content-length") {
        let parsed = std::str::from_utf8(value)
            .ok()
            .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|v| v.parse::<u64>().ok());
        match (parsed, framing.content_length) {
            (None, _) => a.add(INVALID_CONTENT_LENGTH),
            (Some(n), Some(old)) if n != old => a.add(CONFLICTING_CONTENT_LENGTH),
            (Some(n), _) => framing.content_length = Some(n),
        }
        if framing.chunked && parsed.is_some() {
            a.add(CONTENT_LENGTH_WITH_CHUNKED);
        }
    } else if is("transfer-encoding") && text::contains_ignore_case(value, b"chunked") {
        framing.chunked = true;
        if framing.content_length.is_some() {
            a.add(CONTENT_LENGTH_WITH_CHUNKED);
        }
    }
}

fn first_word(value: &[u8]) -> &[u8] {
    value
        .split(|&b| b == b' ' || b == b',')
        .next()
        .unwrap_or_default()
}

/// The scheme of an Authorization value and, for Basic, its credentials.
fn authorization(value: &[u8], f: &mut HttpFields, a: &mut Anomalies) {
    let scheme = first_word(value);
    f.authorization_scheme = Some(bounded(scheme, 32));
    if !scheme.eq_ignore_ascii_case(b"basic") {
        return;
    }
    let token = trim(value.get(scheme.len()..).unwrap_or_default());
    let mut buf = [0u8; 384];
    let decoded = base64(token, &mut buf);
    match decoded.and_then(|d| d.iter().position(|&b| b == b':').map(|at| (d, at))) {
        Some((d, at)) => {
            f.basic_auth_user = Some(bounded(d.get(..at).unwrap_or_default(), MAX_VALUE));
            f.basic_auth_password = Some(bounded(d.get(at + 1..).unwrap_or_default(), MAX_VALUE));
        }
        None => a.add(INVALID_BASIC_CREDENTIALS),
    }
}

/// Decodes standard base64 (padding optional) into `buf`; `None` if it is
/// not base64 or does not fit.
fn base64<'b>(input: &[u8], buf: &'b mut [u8]) -> Option<&'b [u8]> {
    fn sextet(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let input = input
        .strip_suffix(b"==")
        .or_else(|| input.strip_suffix(b"="))
        .unwrap_or(input);
    if input.len() % 4 == 1 {
        return None;
    }
    let mut len = 0;
    for group in input.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in group.iter().enumerate() {
            acc |= sextet(c)? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        let n = group.len() - 1;
        let dst = buf.get_mut(len..len + n)?;
        dst.copy_from_slice(bytes.get(1..1 + n)?);
        len += n;
    }
    buf.get(..len)
}

impl StreamParser for HttpParser {
    fn parse(&mut self, data: &[u8], out: &mut Emitter<'_>) -> usize {
        let mut consumed = 0;
        while let Some(rest) = data.get(consumed..).filter(|r| !r.is_empty()) {
            match self.step(rest, out) {
                Some(used) => consumed += used,
                None => break,
            }
        }
        consumed
    }

    /// The position in the stream is lost: expect a head again, and let
    /// what is not one be reported as `invalid` until a head starts.
    fn gap(&mut self, dir: Direction) {
        let d = dir.index();
        if self.state[d] != State::Opaque {
            self.state[d] = State::Head;
        }
        self.pending_after_rest[d] = None;
    }
}

/// Recognises HTTP by structure: a request line (`METHOD SP target SP
/// HTTP/1.x`, a known method) from the client or a status line (`HTTP/1.x
/// NNN`) from the server. Elsewhere than on ports 80 and 8080 the request
/// line must be complete (its line ending seen). Modbus, TPKT, DNP3 and TLS
/// bytes are not text and fail at once.
pub fn probe(data: &[u8], direction: Direction, on_known_port: bool) -> Probe {
    if direction == Direction::ToClient {
        return status_line(data);
    }
    let method_len = data.iter().position(|&b| b == b' ');
    let Some(method_len) = method_len else {
        let prefix_of_method =
            data.len() < 10 && text::HTTP_METHODS.iter().any(|m| m.starts_with(data));
        return if prefix_of_method {
            Probe::NeedMore
        } else {
            Probe::NoMatch
        };
    };
    let method = data.get(..method_len).unwrap_or_default();
    if !text::HTTP_METHODS.contains(&method) {
        return Probe::NoMatch;
    }
    let Some((line, _)) = text::line(data) else {
        let target = data.get(method_len + 1..).unwrap_or_default();
        return if !text::is_text(data) {
            Probe::NoMatch
        } else if on_known_port && (target.starts_with(b"/") || target.starts_with(b"*")) {
            Probe::Match
        } else {
            Probe::NeedMore
        };
    };
    let mut parts = line.split(|&b| b == b' ');
    let _method = parts.next();
    let target = parts.next().unwrap_or_default();
    let version = parts.next().unwrap_or_default();
    let ok = !target.is_empty()
        && text::is_text(line)
        && (version == b"HTTP/1.1" || version == b"HTTP/1.0")
        && parts.next().is_none();
    if ok { Probe::Match } else { Probe::NoMatch }
}

/// `HTTP/1.x NNN ` from a server.
fn status_line(data: &[u8]) -> Probe {
    let want = b"HTTP/1.";
    let n = data.len().min(want.len());
    if data.get(..n) != want.get(..n) {
        return Probe::NoMatch;
    }
    let Some(rest) = data.get(want.len()..).filter(|r| r.len() >= 5) else {
        return Probe::NeedMore;
    };
    let ok = matches!(rest.first(), Some(b'0' | b'1'))
        && rest.get(1) == Some(&b' ')
        && rest
            .get(2..5)
            .is_some_and(|c| c.iter().all(u8::is_ascii_digit));
    if ok { Probe::Match } else { Probe::NoMatch }
}
