//! OPC UA Binary over TCP (OPC 10000-6 §7.1 UA TCP, §6.7 UA Secure
//! Conversation): the connection messages HEL, ACK, ERR and RHE, and the
//! secure channel messages OPN, MSG and CLO with chunk reassembly, security
//! headers and, where the body travels in clear, the service it carries.
//!
//! **One event per message**: a HEL, ACK, ERR or RHE; an OPN, MSG or CLO
//! once its final chunk (`F`) has arrived, its intermediate chunks (`C`)
//! reassembled (per direction: the chunks of one message are sent one after
//! the other, OPC 10000-6 §6.7.2.4), stamped with the packet of the final
//! chunk. An abort chunk (`A`) ends its message with one event, `abort`.
//! Bytes that cannot start a message are one `invalid` event per run.
//!
//! Bounds: a chunk or message over 16 MiB is not a header (it is skipped as
//! invalid); a chunk over 64 KiB is consumed as it comes, only its first
//! 64 KiB kept for decoding (`oversized_chunk`); a reassembled body keeps
//! its first 64 KiB; the negotiated sizes of HEL and ACK are checked.
//!
//! Layout: [`names`] holds the code values, `binary` the OPC UA Binary
//! reader, `services` the decoding of message bodies; this file the
//! framing, reassembly, channel state, event fields and the probe.

mod binary;
pub mod names;
mod services;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use super::{Direction, Emitter, Probe, StreamParser};
use crate::event::{
    Anomalies, Fields, FunctionClass, Identity, Nest, Pdu, Protocol, Value, Visitor,
};
use binary::Reader;
use names::{MessageType, SERVICE_FAULT, SERVICES, Service, ServiceType, chunk, mode};

pub const PORT: u16 = 4840;

/// Message type, chunk type, message size.
const HEADER_LEN: usize = 8;
/// Header and secure channel id.
const SECURE_HEADER_LEN: usize = 12;
/// The largest chunk, and message, the decoder accepts (16 MiB): a header
/// announcing more is not taken for one.
pub const MAX_MESSAGE_SIZE: u32 = 16 * 1024 * 1024;
/// Bytes of a chunk, and of a reassembled body, kept for decoding.
pub const KEEP: usize = 64 * 1024;
/// Requests awaiting their response, per connection. Publish requests stay
/// queued for long; a full table silently forgets the oldest.
pub const MAX_PENDING: usize = 64;
/// Longest string copied into an event, in bytes.
pub const MAX_TEXT: usize = 512;
/// Endpoints, user token policies per endpoint, and servers kept per event.
pub const MAX_ENDPOINTS: usize = 32;
pub const MAX_USER_TOKENS: usize = 16;
pub const MAX_SERVERS: usize = 16;
/// The longest endpoint URL the spec allows (OPC 10000-6 §7.1.2.3).
const MAX_ENDPOINT_URL: usize = 4096;

/// Stable anomaly names of this decoder.
pub mod anomaly {
    /// Bytes that cannot start a message (always with one of the next three).
    pub const INVALID_HEADER: &str = "invalid_header";
    pub const UNKNOWN_MESSAGE_TYPE: &str = "unknown_message_type";
    /// A chunk type other than `F`, `C`, `A`.
    pub const INVALID_CHUNK_TYPE: &str = "invalid_chunk_type";
    /// A message size below 8 or above 16 MiB.
    pub const INVALID_MESSAGE_SIZE: &str = "invalid_message_size";
    /// Bytes skipped after a capture gap until the next message header
    /// (the rest of a message whose start was lost).
    pub const SKIPPED_AFTER_GAP: &str = "skipped_after_gap";
    /// The message size is too small for the fields of its type.
    pub const TRUNCATED_MESSAGE: &str = "truncated_message";
    /// The body ends before the structure it encodes.
    pub const TRUNCATED_BODY: &str = "truncated_body";
    /// A negative length other than -1, an undefined encoding mask…
    pub const INVALID_ENCODING: &str = "invalid_encoding";
    /// HEL, ACK, ERR or RHE with bytes left over after their fields.
    pub const TRAILING_BYTES: &str = "trailing_bytes";
    /// HEL, ACK, ERR or RHE in a chunk type other than `F`.
    pub const UNEXPECTED_CHUNK_TYPE: &str = "unexpected_chunk_type";
    /// A HEL endpoint URL longer than 4096 bytes.
    pub const ENDPOINT_URL_TOO_LONG: &str = "endpoint_url_too_long";
    /// A chunk over 64 KiB: consumed, only its first 64 KiB decoded.
    pub const OVERSIZED_CHUNK: &str = "oversized_chunk";
    /// A message whose chunks add up to more than 16 MiB.
    pub const MESSAGE_TOO_LARGE: &str = "message_too_large";
    /// A chunk larger than the buffer size negotiated by HEL/ACK.
    pub const CHUNK_EXCEEDS_BUFFER_SIZE: &str = "chunk_exceeds_buffer_size";
    /// A message larger than the negotiated maximum message size.
    pub const MESSAGE_EXCEEDS_MAX_SIZE: &str = "message_exceeds_max_size";
    /// A message of more chunks than the negotiated maximum chunk count.
    pub const TOO_MANY_CHUNKS: &str = "too_many_chunks";
    /// A message whose final chunk never came: the chunks of another
    /// message started (the event reports what was reassembled).
    pub const INCOMPLETE_MESSAGE: &str = "incomplete_message";
    /// A readable body whose type id is a standard-looking numeric id that
    /// is no known service.
    pub const UNKNOWN_SERVICE: &str = "unknown_service";
    /// A body whose type id is a string, GUID or opaque node id.
    pub const NON_NUMERIC_SERVICE_ID: &str = "non_numeric_service_id";
    /// A user identity token of a type no standard defines.
    pub const UNKNOWN_IDENTITY_TOKEN: &str = "unknown_identity_token";
    /// A response whose request id matches no pending request (expected at
    /// the start of a capture or after a gap).
    pub const RESPONSE_WITHOUT_REQUEST: &str = "response_without_request";
    /// A response of another service than its request's.
    pub const SERVICE_MISMATCH: &str = "service_mismatch";
    /// A request or response type in a message of the wrong direction.
    pub const UNEXPECTED_DIRECTION: &str = "unexpected_direction";

    /// Every anomaly name, for rule validation.
    pub const ALL: &[&str] = &[
        INVALID_HEADER,
        UNKNOWN_MESSAGE_TYPE,
        INVALID_CHUNK_TYPE,
        INVALID_MESSAGE_SIZE,
        SKIPPED_AFTER_GAP,
        TRUNCATED_MESSAGE,
        TRUNCATED_BODY,
        INVALID_ENCODING,
        TRAILING_BYTES,
        UNEXPECTED_CHUNK_TYPE,
        ENDPOINT_URL_TOO_LONG,
        OVERSIZED_CHUNK,
        MESSAGE_TOO_LARGE,
        CHUNK_EXCEEDS_BUFFER_SIZE,
        MESSAGE_EXCEEDS_MAX_SIZE,
        TOO_MANY_CHUNKS,
        INCOMPLETE_MESSAGE,
        UNKNOWN_SERVICE,
        NON_NUMERIC_SERVICE_ID,
        UNKNOWN_IDENTITY_TOKEN,
        RESPONSE_WITHOUT_REQUEST,
        SERVICE_MISMATCH,
        UNEXPECTED_DIRECTION,
    ];
}
use anomaly::*;

/// Every `function` name OPC UA events carry, for rule validation.
pub fn function_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = SERVICES.iter().map(|s| s.function).collect();
    names.push(SERVICE_FAULT.function);
    names.extend(MessageType::ALL.iter().map(|t| t.function()));
    names.extend(["abort", "unknown", "invalid"]);
    names.sort_unstable();
    names.dedup();
    names
}

/// A string of the wire as event text: lossy UTF-8, at most [`MAX_TEXT`] bytes.
pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b.get(..MAX_TEXT).unwrap_or(b)).into_owned()
}

/// An ApplicationDescription (or the RegisteredServer of RegisterServer).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Application {
    pub application_uri: Option<String>,
    pub product_uri: Option<String>,
    /// The text of the ApplicationName.
    pub application_name: Option<String>,
    pub application_type: Option<u32>,
    /// The first discovery URL.
    pub discovery_url: Option<String>,
}

impl Application {
    /// What the application says about itself, as an asset identity:
    /// `product` the product URI, `vendor` the host (or URN authority) of the
    /// product URI, `application_uri` its own URI, `station_name` the application name, `hostname` the host
    /// of the first discovery URL when it is a name (not an address, not
    /// `localhost`), `device_type` from the application type (`OPC UA Server`,
    /// `OPC UA Client`, `OPC UA Client and Server`, `OPC UA Discovery Server`).
    pub fn identity(&self) -> Option<Box<Identity>> {
        let identity = Identity {
            vendor: self.product_uri.as_deref().and_then(uri_authority),
            product: self.product_uri.clone(),
            application_uri: self.application_uri.clone(),
            station_name: self.application_name.clone(),
            hostname: self.discovery_url.as_deref().and_then(uri_authority),
            device_type: self
                .application_type
                .map(|t| names::application_type_device(t).to_string()),
            ..Identity::default()
        };
        (!identity.is_empty()).then(|| Box::new(identity))
    }

    fn visit(&self, v: &mut dyn Visitor) {
        s(v, "application_uri", self.application_uri.as_deref());
        s(v, "product_uri", self.product_uri.as_deref());
        s(v, "application_name", self.application_name.as_deref());
        s(
            v,
            "application_type",
            self.application_type.map(names::application_type_name),
        );
        s(v, "discovery_url", self.discovery_url.as_deref());
    }
}

/// The host of a `scheme://host[:port]/…` URI (without `www.`), or the
/// first part of a `urn:authority:…` URN; `None` for IP addresses,
/// `localhost` and anything else.
fn uri_authority(uri: &str) -> Option<String> {
    let host = if let Some((_, rest)) = uri.split_once("://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let authority = authority.rsplit('@').next().unwrap_or_default();
        if authority.starts_with('[') {
            return None; // an IPv6 literal
        }
        authority.split(':').next().unwrap_or_default()
    } else {
        let rest = uri
            .get(..4)
            .filter(|p| p.eq_ignore_ascii_case("urn:"))
            .and_then(|_| uri.get(4..))?;
        rest.split(':').next().unwrap_or_default()
    };
    let host = host.strip_prefix("www.").unwrap_or(host);
    let is_name = host.chars().any(|c| c.is_ascii_alphabetic())
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    (is_name
        && host.parse::<std::net::IpAddr>().is_err()
        && !host.eq_ignore_ascii_case("localhost"))
    .then(|| host.to_string())
}

/// An EndpointDescription of a GetEndpoints or CreateSession response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Endpoint {
    pub endpoint_url: Option<String>,
    pub security_mode: u32,
    pub security_policy_uri: Option<String>,
    pub security_level: u8,
    pub user_tokens: Vec<UserToken>,
}

/// A UserTokenPolicy of an endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserToken {
    pub token_type: u32,
    /// The policy securing the token, when it differs from the endpoint's.
    pub security_policy_uri: Option<String>,
}

/// OPC UA fields of one event. Absent (`None`) fields are not written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OpcuaFields {
    /// Wireshark `opcua.transport.type`.
    pub message_type: Option<MessageType>,
    /// Chunk type of the last chunk (Wireshark `opcua.transport.chunk`).
    pub chunk_type: u8,
    /// Bytes of the message on the wire, all chunks (Wireshark
    /// `opcua.transport.size` for a message in one chunk).
    pub message_size: u64,
    /// Chunks of a message sent in more than one.
    pub chunks: Option<u32>,
    /// Wireshark `opcua.transport.scid`.
    pub secure_channel_id: Option<u32>,
    /// Symmetric security header of MSG and CLO.
    pub security_token_id: Option<u32>,
    /// Sequence header (of the last chunk), when not encrypted.
    pub sequence_number: Option<u32>,
    pub request_id: Option<u32>,
    /// HEL and ACK.
    pub protocol_version: Option<u32>,
    pub receive_buffer_size: Option<u32>,
    pub send_buffer_size: Option<u32>,
    pub max_message_size: Option<u32>,
    pub max_chunk_count: Option<u32>,
    /// RHE.
    pub server_uri: Option<String>,
    /// HEL and RHE (Wireshark `opcua.transport.endpoint`); GetEndpoints,
    /// FindServers and CreateSession requests (`opcua.EndpointUrl`).
    pub endpoint_url: Option<String>,
    /// ERR and abort chunks (Wireshark `opcua.transport.error`).
    pub error_code: Option<u32>,
    /// Wireshark `opcua.transport.reason`.
    pub reason: Option<String>,
    /// OPN asymmetric security header (Wireshark `opcua.security.spu`).
    pub security_policy_uri: Option<String>,
    /// The short policy name: the OPN's, or its channel's for MSG and CLO.
    pub security_policy: Option<String>,
    /// Bytes of the sender certificate (absent when null).
    pub sender_certificate_length: Option<u32>,
    pub receiver_thumbprint_length: Option<u32>,
    /// Set on OPN, MSG and CLO: whether the body is encrypted.
    pub encrypted: Option<bool>,
    /// OpenSecureChannel request.
    pub request_type: Option<u32>,
    /// OpenSecureChannel request; for MSG and CLO, the channel's mode as
    /// far as it is known.
    pub security_mode: Option<u32>,
    pub requested_lifetime: Option<u32>,
    /// OpenSecureChannel response: the security token.
    pub channel_id: Option<u32>,
    pub token_id: Option<u32>,
    pub revised_lifetime: Option<u32>,
    /// Numeric id of the body's type (Wireshark `opcua.servicenodeid.numeric`).
    pub service_id: Option<u32>,
    /// Namespace of the type id, when not 0.
    pub service_namespace: Option<u16>,
    /// The type's name, when a standard service.
    pub service: Option<&'static str>,
    pub request_handle: Option<u32>,
    /// ResponseHeader service result (Wireshark `opcua.ServiceResult`).
    pub status: Option<u32>,
    /// CreateSession request.
    pub session_name: Option<String>,
    /// ActivateSession request.
    pub identity_token: Option<&'static str>,
    pub user_name: Option<String>,
    pub password_present: Option<bool>,
    pub password_encrypted: Option<bool>,
    /// The sender's application description.
    pub application: Option<Box<Application>>,
    /// Endpoints offered (GetEndpoints and CreateSession responses).
    pub endpoints: Vec<Endpoint>,
    /// Servers found (FindServers responses).
    pub servers: Vec<Application>,
    /// ServiceFault: the request's service type.
    pub request_service: Option<&'static str>,
    /// Bytes skipped as not OPC UA (on `invalid` events only).
    pub skipped_bytes: Option<u32>,
    /// Packet of the paired request.
    pub request_packet: Option<u64>,
}

fn u(v: &mut dyn Visitor, name: &str, value: Option<impl Into<u64>>) {
    if let Some(value) = value {
        v.field(name, Value::U64(value.into()));
    }
}

fn s(v: &mut dyn Visitor, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        v.field(name, Value::Str(value));
    }
}

fn b(v: &mut dyn Visitor, name: &str, value: Option<bool>) {
    if let Some(value) = value {
        v.field(name, Value::Bool(value));
    }
}

impl OpcuaFields {
    pub fn visit(&self, v: &mut dyn Visitor) {
        s(v, "message_type", self.message_type.map(MessageType::code));
        if self.message_type.is_some() {
            s(v, "chunk_type", Some(chunk::name(self.chunk_type)));
            u(v, "message_size", Some(self.message_size));
        }
        u(v, "chunks", self.chunks);
        u(v, "secure_channel_id", self.secure_channel_id);
        u(v, "security_token_id", self.security_token_id);
        u(v, "sequence_number", self.sequence_number);
        u(v, "request_id", self.request_id);
        u(v, "protocol_version", self.protocol_version);
        u(v, "receive_buffer_size", self.receive_buffer_size);
        u(v, "send_buffer_size", self.send_buffer_size);
        u(v, "max_message_size", self.max_message_size);
        u(v, "max_chunk_count", self.max_chunk_count);
        s(v, "server_uri", self.server_uri.as_deref());
        s(v, "endpoint_url", self.endpoint_url.as_deref());
        u(v, "error_code", self.error_code);
        s(v, "error", self.error_code.and_then(names::status_name));
        s(v, "reason", self.reason.as_deref());
        s(
            v,
            "security_policy_uri",
            self.security_policy_uri.as_deref(),
        );
        s(v, "security_policy", self.security_policy.as_deref());
        u(
            v,
            "sender_certificate_length",
            self.sender_certificate_length,
        );
        u(
            v,
            "receiver_thumbprint_length",
            self.receiver_thumbprint_length,
        );
        b(v, "encrypted", self.encrypted);
        s(
            v,
            "request_type",
            self.request_type.map(names::request_type_name),
        );
        s(
            v,
            "security_mode",
            self.security_mode.map(names::security_mode_name),
        );
        u(v, "requested_lifetime", self.requested_lifetime);
        u(v, "channel_id", self.channel_id);
        u(v, "token_id", self.token_id);
        u(v, "revised_lifetime", self.revised_lifetime);
        u(v, "service_id", self.service_id);
        u(v, "service_namespace", self.service_namespace);
        s(v, "service", self.service);
        u(v, "request_handle", self.request_handle);
        u(v, "status", self.status);
        s(v, "status_name", self.status.and_then(names::status_name));
        s(v, "session_name", self.session_name.as_deref());
        s(v, "identity_token", self.identity_token);
        s(v, "user_name", self.user_name.as_deref());
        b(v, "password_present", self.password_present);
        b(v, "password_encrypted", self.password_encrypted);
        if let Some(app) = &self.application {
            v.begin("application", Nest::Object);
            app.visit(v);
            v.end();
        }
        if !self.endpoints.is_empty() {
            v.begin("endpoints", Nest::List);
            for e in &self.endpoints {
                v.begin("", Nest::Object);
                s(v, "endpoint_url", e.endpoint_url.as_deref());
                s(
                    v,
                    "security_mode",
                    Some(names::security_mode_name(e.security_mode)),
                );
                s(v, "security_policy_uri", e.security_policy_uri.as_deref());
                s(
                    v,
                    "security_policy",
                    e.security_policy_uri
                        .as_deref()
                        .map(names::security_policy_name),
                );
                u(v, "security_level", Some(e.security_level));
                v.begin("user_tokens", Nest::List);
                for t in &e.user_tokens {
                    v.begin("", Nest::Object);
                    s(
                        v,
                        "token_type",
                        Some(names::user_token_type_name(t.token_type)),
                    );
                    s(v, "security_policy_uri", t.security_policy_uri.as_deref());
                    v.end();
                }
                v.end();
                v.end();
            }
            v.end();
        }
        if !self.servers.is_empty() {
            v.begin("servers", Nest::List);
            for server in &self.servers {
                v.begin("", Nest::Object);
                server.visit(v);
                v.end();
            }
            v.end();
        }
        s(v, "request_service", self.request_service);
        u(v, "skipped_bytes", self.skipped_bytes);
        u(v, "request_packet", self.request_packet);
    }
}

/// A chunk's message header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ChunkHeader {
    kind: MessageType,
    chunk: u8,
    size: u32,
}

/// How the bytes at the start of a buffer frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    Header(ChunkHeader),
    /// Possibly a header: more bytes are needed to tell.
    Incomplete,
    /// Not a header; the anomaly says why.
    Invalid(&'static str),
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    let bytes = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}

/// Reads a message header: a defined type, a chunk type, a size of 8..=16 MiB.
fn framing(b: &[u8]) -> Framing {
    let typed = b.get(..3.min(b.len())).unwrap_or_default();
    if !MessageType::ALL
        .iter()
        .any(|t| t.code().as_bytes().starts_with(typed))
    {
        return Framing::Invalid(UNKNOWN_MESSAGE_TYPE);
    }
    let (Some(kind), Some(&chunk)) = (MessageType::from_bytes(b), b.get(3)) else {
        return Framing::Incomplete;
    };
    if !chunk::is_valid(chunk) {
        return Framing::Invalid(INVALID_CHUNK_TYPE);
    }
    let Some(size) = le32(b, 4) else {
        return Framing::Incomplete;
    };
    if (size as usize) < HEADER_LEN || size > MAX_MESSAGE_SIZE {
        return Framing::Invalid(INVALID_MESSAGE_SIZE);
    }
    Framing::Header(ChunkHeader { kind, chunk, size })
}

/// How likely a message starts at `b`, for resynchronising.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Start {
    Plausible,
    /// Too few bytes to tell, but they could start one.
    Maybe,
    No,
}

/// A stricter test than [`framing`]: also a size that holds the type's
/// fixed fields, `F` for the connection messages, and for MSG and CLO the
/// secure channel id of the connection when it is known.
fn plausible_start(b: &[u8], channel: Option<u32>) -> Start {
    let h = match framing(b) {
        Framing::Invalid(_) => return Start::No,
        Framing::Incomplete => return Start::Maybe,
        Framing::Header(h) => h,
    };
    if h.size < h.kind.min_size() || (!h.kind.is_secure() && h.chunk != chunk::FINAL) {
        return Start::No;
    }
    if matches!(
        h.kind,
        MessageType::Message | MessageType::CloseSecureChannel
    ) && let Some(channel) = channel
    {
        return match le32(b, HEADER_LEN) {
            None => Start::Maybe,
            Some(id) if id == channel => Start::Plausible,
            Some(_) => Start::No,
        };
    }
    Start::Plausible
}

/// The negotiated sizes of a HEL or ACK (0: no limit).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Sizes {
    receive_buffer_size: u32,
    send_buffer_size: u32,
    max_message_size: u32,
    max_chunk_count: u32,
}

/// What the connection's OpenSecureChannel said about its security.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
enum Security {
    /// No OPN seen (the capture started later).
    #[default]
    Unknown,
    /// Security policy None: every body is readable.
    Open,
    /// Another policy: bodies are readable in Sign mode, encrypted in
    /// SignAndEncrypt; which, is told per message by its look.
    Secured {
        /// Short policy name.
        policy: String,
        signature_length: Option<usize>,
    },
}

/// The OPN asymmetric security header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct AsymmetricHeader {
    policy_uri: String,
    certificate_length: Option<u32>,
    thumbprint_length: Option<u32>,
}

/// What the chunks of one message said, gathered as they arrive.
#[derive(Clone, Debug)]
struct Meta {
    kind: MessageType,
    /// Chunk type of the last chunk.
    chunk_type: u8,
    secure_channel_id: Option<u32>,
    token_id: Option<u32>,
    sequence_number: Option<u32>,
    request_id: Option<u32>,
    asymmetric: Option<Box<AsymmetricHeader>>,
    /// The body is in clear.
    readable: bool,
    /// Bytes of all chunks.
    size: u64,
    chunks: u32,
    anomalies: Anomalies,
}

/// A message whose final chunk has not come yet.
#[derive(Clone, Debug)]
struct Partial {
    meta: Meta,
    /// The bodies of its chunks so far, up to [`KEEP`] bytes.
    body: Vec<u8>,
    /// Some body bytes were not kept.
    cut: bool,
}

/// A chunk larger than [`KEEP`] being consumed.
#[derive(Clone, Debug)]
struct Oversized {
    header: ChunkHeader,
    /// Its first [`KEEP`] bytes.
    kept: Vec<u8>,
    /// Bytes still to consume.
    remaining: usize,
}

/// Per-direction stream state.
#[derive(Clone, Debug, Default)]
struct Half {
    oversized: Option<Oversized>,
    partial: Option<Partial>,
    /// After a gap: the next message must start plausibly.
    resync: bool,
}

/// A request awaiting its response.
#[derive(Clone, Copy, Debug)]
struct Pending {
    request_id: u32,
    service: Service,
    packet: u64,
}

/// Per-connection OPC UA state: the two directions' reassembly, the
/// negotiated sizes, the secure channel and the pending requests.
#[derive(Debug, Default)]
pub struct OpcuaParser {
    halves: [Half; 2],
    /// The direction the OPC UA client sends in: the HEL's (the opposite of
    /// an RHE's, whose sender is the server); the TCP client's until then.
    client_dir: Option<Direction>,
    hello: Option<Sizes>,
    ack: Option<Sizes>,
    security: Security,
    /// The secure channel id the server assigned (OPN response).
    channel: Option<u32>,
    pending: VecDeque<Pending>,
    /// A gap or a full pending table may have lost requests: responses
    /// without one are then not flagged.
    lost_requests: bool,
}

impl OpcuaParser {
    pub fn new() -> Self {
        Self::default()
    }

    fn sent_by_client(&self, dir: Direction) -> bool {
        self.client_dir.unwrap_or(Direction::ToServer) == dir
    }

    /// Decodes one whole chunk (or the first [`KEEP`] bytes of a larger one: `cut`).
    fn chunk(
        &mut self,
        dir: Direction,
        bytes: &[u8],
        h: ChunkHeader,
        cut: bool,
        out: &mut Emitter<'_>,
    ) {
        if h.kind.is_secure() {
            self.secure_chunk(dir, bytes, h, cut, out);
        } else {
            self.connection_message(dir, bytes, h, cut, out);
        }
    }

    /// HEL, ACK, ERR, RHE: one chunk, one event.
    fn connection_message(
        &mut self,
        dir: Direction,
        bytes: &[u8],
        h: ChunkHeader,
        cut: bool,
        out: &mut Emitter<'_>,
    ) {
        let mut f = OpcuaFields {
            message_type: Some(h.kind),
            chunk_type: h.chunk,
            message_size: h.size.into(),
            ..OpcuaFields::default()
        };
        let mut a = Anomalies::new();
        if cut {
            a.add(OVERSIZED_CHUNK);
        }
        if h.chunk != chunk::FINAL {
            a.add(UNEXPECTED_CHUNK_TYPE);
        }
        match h.kind {
            MessageType::Hello => self.client_dir = Some(dir),
            // Reverse hello: sent by the server, which opened the connection.
            MessageType::ReverseHello => self.client_dir = Some(dir.reverse()),
            _ => {}
        }
        let mut r = Reader::new(bytes.get(HEADER_LEN..).unwrap_or_default());
        let decoded = match h.kind {
            MessageType::Hello | MessageType::Acknowledge => (|| {
                f.protocol_version = Some(r.u32()?);
                let sizes = Sizes {
                    receive_buffer_size: r.u32()?,
                    send_buffer_size: r.u32()?,
                    max_message_size: r.u32()?,
                    max_chunk_count: r.u32()?,
                };
                f.receive_buffer_size = Some(sizes.receive_buffer_size);
                f.send_buffer_size = Some(sizes.send_buffer_size);
                f.max_message_size = Some(sizes.max_message_size);
                f.max_chunk_count = Some(sizes.max_chunk_count);
                if h.kind == MessageType::Hello {
                    self.hello = Some(sizes);
                    let url = r.string()?;
                    if url.is_some_and(|u| u.len() > MAX_ENDPOINT_URL) {
                        a.add(ENDPOINT_URL_TOO_LONG);
                    }
                    f.endpoint_url = url.map(text);
                } else {
                    self.ack = Some(sizes);
                }
                Ok(())
            })(),
            MessageType::Error => (|| {
                f.error_code = Some(r.u32()?);
                f.reason = r.string()?.map(text);
                Ok(())
            })(),
            _ => (|| {
                f.server_uri = r.string()?.map(text);
                f.endpoint_url = r.string()?.map(text);
                Ok(())
            })(),
        };
        match decoded {
            Err(binary::Error::Truncated) if !cut => a.add(TRUNCATED_MESSAGE),
            Err(binary::Error::Invalid) => a.add(INVALID_ENCODING),
            Ok(()) if r.remaining() > 0 && !cut => a.add(TRAILING_BYTES),
            _ => {}
        }
        let is_response = match h.kind {
            MessageType::Hello => false,
            MessageType::Acknowledge | MessageType::ReverseHello => true,
            _ => !self.sent_by_client(dir),
        };
        out.emit(Pdu {
            protocol: Protocol::Opcua,
            is_response,
            function_code: None,
            function: h.kind.function(),
            class: h.kind.class(),
            anomalies: a,
            fields: Fields::Opcua(Box::new(f)),
            identity: None,
        });
    }

    /// OPN, MSG, CLO: security headers, then reassembly or an event.
    fn secure_chunk(
        &mut self,
        dir: Direction,
        bytes: &[u8],
        h: ChunkHeader,
        cut: bool,
        out: &mut Emitter<'_>,
    ) {
        let mut meta = Meta {
            kind: h.kind,
            chunk_type: h.chunk,
            secure_channel_id: le32(bytes, HEADER_LEN),
            token_id: None,
            sequence_number: None,
            request_id: None,
            asymmetric: None,
            readable: false,
            size: h.size.into(),
            chunks: 1,
            anomalies: Anomalies::new(),
        };
        if cut {
            meta.anomalies.add(OVERSIZED_CHUNK);
        }
        // Where the sequence header starts, if the chunk is long enough.
        let mut r = Reader::new(bytes);
        let sequence_at = (|| {
            r.skip(SECURE_HEADER_LEN)?;
            if h.kind == MessageType::OpenSecureChannel {
                let policy = r.string()?;
                let certificate = r.string()?;
                let thumbprint = r.string()?;
                let policy_uri = policy.map(text).unwrap_or_default();
                self.open_secure_channel(&policy_uri, policy.is_some_and(names::is_policy_none));
                meta.readable = policy.is_some_and(names::is_policy_none);
                meta.asymmetric = Some(Box::new(AsymmetricHeader {
                    policy_uri,
                    certificate_length: certificate.map(|c| c.len() as u32),
                    thumbprint_length: thumbprint.map(|t| t.len() as u32),
                }));
            } else {
                meta.token_id = Some(r.u32()?);
            }
            Ok(r.position())
        })();
        let sequence_at = match sequence_at {
            Ok(at) => at,
            Err(e) => {
                meta.anomalies.add(match e {
                    binary::Error::Truncated => TRUNCATED_MESSAGE,
                    binary::Error::Invalid => INVALID_ENCODING,
                });
                // Not enough to reassemble: report the chunk as it is.
                self.flush_partial(dir, out);
                self.emit_secure(dir, meta, &[], false, out);
                return;
            }
        };
        let continuing = self.halves[dir.index()].partial.as_ref().filter(|p| {
            p.meta.kind == h.kind && p.meta.secure_channel_id == meta.secure_channel_id
        });
        if h.kind != MessageType::OpenSecureChannel {
            meta.readable = match continuing {
                Some(p) => p.meta.readable,
                None => self.looks_readable(bytes.get(sequence_at..).unwrap_or_default()),
            };
        }
        // The sequence header and body, without the signature of a signed chunk.
        let mut body = &[][..];
        if meta.readable {
            let mut seq = Reader::new(bytes.get(sequence_at..).unwrap_or_default());
            match (seq.u32(), seq.u32()) {
                (Ok(number), Ok(request)) => {
                    meta.sequence_number = Some(number);
                    meta.request_id = Some(request);
                    let start = sequence_at + 8;
                    let end = match (&self.security, cut) {
                        (
                            Security::Secured {
                                signature_length: Some(n),
                                ..
                            },
                            false,
                        ) if h.kind != MessageType::OpenSecureChannel => {
                            bytes.len().saturating_sub(*n).max(start)
                        }
                        _ => bytes.len(),
                    };
                    body = bytes.get(start..end).unwrap_or_default();
                }
                _ => meta.anomalies.add(TRUNCATED_MESSAGE),
            }
        }
        // A different request id (when readable) also starts a new message.
        let continues = continuing
            .is_some_and(|p| p.meta.request_id.is_none() || p.meta.request_id == meta.request_id);
        if !continues {
            self.flush_partial(dir, out);
        }
        self.check_chunk_size(dir, h.size, &mut meta.anomalies);
        match h.chunk {
            chunk::CONTINUATION => {
                let half = &mut self.halves[dir.index()];
                match &mut half.partial {
                    Some(p) => p.add(&meta, body, cut),
                    None => {
                        let mut partial = Partial {
                            meta,
                            body: Vec::new(),
                            cut,
                        };
                        partial.keep(body);
                        half.partial = Some(partial);
                    }
                }
            }
            chunk::ABORT => {
                if let Some(p) = self.halves[dir.index()].partial.take() {
                    meta.size += p.meta.size;
                    meta.chunks += p.meta.chunks;
                }
                self.emit_abort(dir, meta, body, out);
            }
            _ => match self.halves[dir.index()].partial.take() {
                Some(mut p) => {
                    p.add(&meta, body, cut);
                    self.emit_secure(dir, p.meta, &p.body, p.cut, out);
                }
                None => self.emit_secure(dir, meta, body, cut, out),
            },
        }
    }

    /// Emits the partial message of `dir`, if any, as incomplete: the
    /// chunk at hand does not continue it.
    fn flush_partial(&mut self, dir: Direction, out: &mut Emitter<'_>) {
        if let Some(mut p) = self.halves[dir.index()].partial.take() {
            p.meta.anomalies.add(INCOMPLETE_MESSAGE);
            self.emit_secure(dir, p.meta, &p.body, p.cut, out);
        }
    }

    /// Records what an OPN says about the connection's security.
    fn open_secure_channel(&mut self, policy_uri: &str, none: bool) {
        self.security = if none {
            Security::Open
        } else {
            let policy = names::security_policy_name(policy_uri);
            Security::Secured {
                policy: policy.to_string(),
                signature_length: names::signature_length(policy),
            }
        };
    }

    /// Whether the bytes after a symmetric security header are a sequence
    /// header and a body in clear: always under policy None, else when the
    /// body's type id is a standard service in a four-byte or numeric node
    /// id (as Wireshark tells Sign from SignAndEncrypt). Encrypted bytes
    /// look like that with a chance below one in 10^7.
    fn looks_readable(&self, sequence: &[u8]) -> bool {
        if self.security == Security::Open {
            return true;
        }
        let type_id = sequence.get(8..).unwrap_or_default();
        if !matches!(type_id.first(), Some(0x01 | 0x02)) {
            return false;
        }
        matches!(
            Reader::new(type_id).node_id(),
            Ok(binary::NodeId { namespace: 0, numeric: Some(id) }) if ServiceType::lookup(id).is_some()
        )
    }

    /// Flags a chunk larger than the negotiated buffer of its receiver.
    fn check_chunk_size(&self, dir: Direction, size: u32, a: &mut Anomalies) {
        let Some(ack) = self.ack else {
            return;
        };
        let limit = if self.sent_by_client(dir) {
            ack.receive_buffer_size
        } else {
            ack.send_buffer_size
        };
        if limit != 0 && size > limit {
            a.add(CHUNK_EXCEEDS_BUFFER_SIZE);
        }
    }

    /// Flags a message beyond the negotiated message size or chunk count.
    fn check_message(&self, dir: Direction, meta: &Meta, a: &mut Anomalies) {
        if meta.size > u64::from(MAX_MESSAGE_SIZE) {
            a.add(MESSAGE_TOO_LARGE);
        }
        // The client's limits are in its HEL (for responses), the server's in its ACK.
        let limits = if self.sent_by_client(dir) {
            self.ack
        } else {
            self.hello
        };
        let Some(limits) = limits else {
            return;
        };
        if limits.max_message_size != 0 && meta.size > u64::from(limits.max_message_size) {
            a.add(MESSAGE_EXCEEDS_MAX_SIZE);
        }
        if limits.max_chunk_count != 0 && meta.chunks > limits.max_chunk_count {
            a.add(TOO_MANY_CHUNKS);
        }
    }

    /// The security mode of the channel, as far as known, for MSG and CLO.
    fn channel_mode(&self, readable: bool) -> Option<u32> {
        match self.security {
            Security::Unknown => None,
            Security::Open => Some(mode::NONE),
            Security::Secured { .. } if readable => Some(mode::SIGN),
            Security::Secured { .. } => Some(mode::SIGN_AND_ENCRYPT),
        }
    }

    fn channel_policy(&self) -> Option<String> {
        match &self.security {
            Security::Unknown => None,
            Security::Open => Some("None".to_string()),
            Security::Secured { policy, .. } => Some(policy.clone()),
        }
    }

    /// The fields every secure message event has.
    fn secure_fields(&self, meta: &Meta) -> OpcuaFields {
        let mut f = OpcuaFields {
            message_type: Some(meta.kind),
            chunk_type: meta.chunk_type,
            message_size: meta.size,
            chunks: (meta.chunks > 1).then_some(meta.chunks),
            secure_channel_id: meta.secure_channel_id,
            security_token_id: meta.token_id,
            sequence_number: meta.sequence_number,
            request_id: meta.request_id,
            encrypted: Some(!meta.readable),
            ..OpcuaFields::default()
        };
        if let Some(asym) = &meta.asymmetric {
            f.security_policy = Some(names::security_policy_name(&asym.policy_uri).to_string());
            f.security_policy_uri = Some(asym.policy_uri.clone());
            f.sender_certificate_length = asym.certificate_length;
            f.receiver_thumbprint_length = asym.thumbprint_length;
        } else {
            f.security_policy = self.channel_policy();
            f.security_mode = self.channel_mode(meta.readable);
        }
        f
    }

    /// One event for a whole OPN, MSG or CLO.
    fn emit_secure(
        &mut self,
        dir: Direction,
        meta: Meta,
        body: &[u8],
        cut: bool,
        out: &mut Emitter<'_>,
    ) {
        let mut f = self.secure_fields(&meta);
        let mut a = meta.anomalies;
        self.check_message(dir, &meta, &mut a);
        let service = if meta.readable && meta.sequence_number.is_some() {
            services::decode(body, cut, &mut f, &mut a)
        } else {
            None
        };
        if meta.kind == MessageType::OpenSecureChannel
            && !self.sent_by_client(dir)
            && let Some(id) = meta.secure_channel_id.filter(|&id| id != 0)
        {
            // The server's OPN names the channel (in clear even when encrypted).
            self.channel = Some(id);
        }
        let from_client = self.sent_by_client(dir);
        let (is_response, function, mut class) = match service {
            Some(st) => (st.is_response, st.service.function, st.service.class),
            None => (
                !from_client,
                if meta.readable && meta.kind == MessageType::Message {
                    "unknown"
                } else {
                    meta.kind.function()
                },
                if meta.kind == MessageType::Message {
                    FunctionClass::Other
                } else {
                    meta.kind.class()
                },
            ),
        };
        if let Some(st) = service {
            f.service = Some(st.name());
            if st.is_response == from_client {
                a.add(UNEXPECTED_DIRECTION);
            }
            if let Some(request_id) = meta.request_id {
                if st.is_response {
                    match self.take_pending(request_id) {
                        Some(req) => {
                            f.request_packet = Some(req.packet);
                            if st.service.request == SERVICE_FAULT.request {
                                f.request_service = Some(req.service.request_name);
                                class = req.service.class;
                            } else if req.service != st.service {
                                a.add(SERVICE_MISMATCH);
                            }
                        }
                        None if !self.lost_requests => a.add(RESPONSE_WITHOUT_REQUEST),
                        None => {}
                    }
                } else {
                    self.add_pending(Pending {
                        request_id,
                        service: st.service,
                        packet: out.header().packet,
                    });
                }
            }
        }
        let identity = f.application.as_deref().and_then(Application::identity);
        out.emit(Pdu {
            protocol: Protocol::Opcua,
            is_response,
            function_code: f.service_id,
            function,
            class,
            anomalies: a,
            fields: Fields::Opcua(Box::new(f)),
            identity,
        });
    }

    /// One event for an aborted message (its abort chunk).
    fn emit_abort(&mut self, dir: Direction, meta: Meta, body: &[u8], out: &mut Emitter<'_>) {
        let mut f = self.secure_fields(&meta);
        let mut a = meta.anomalies;
        if meta.readable && meta.sequence_number.is_some() {
            let mut r = Reader::new(body);
            match (|| {
                f.error_code = Some(r.u32()?);
                f.reason = r.string()?.map(text);
                Ok(())
            })() {
                Err(binary::Error::Truncated) => a.add(TRUNCATED_BODY),
                Err(binary::Error::Invalid) => a.add(INVALID_ENCODING),
                Ok(()) => {}
            }
            if let Some(request_id) = meta.request_id
                && !self.sent_by_client(dir)
            {
                // The server gave up on the response: its request is answered.
                self.take_pending(request_id);
            }
        }
        out.emit(Pdu {
            protocol: Protocol::Opcua,
            is_response: !self.sent_by_client(dir),
            function_code: None,
            function: "abort",
            class: FunctionClass::Other,
            anomalies: a,
            fields: Fields::Opcua(Box::new(f)),
            identity: None,
        });
    }

    fn take_pending(&mut self, request_id: u32) -> Option<Pending> {
        super::take_pending(&mut self.pending, |p| p.request_id == request_id)
    }

    fn add_pending(&mut self, request: Pending) {
        self.take_pending(request.request_id);
        if self.pending.len() >= MAX_PENDING {
            self.pending.pop_front();
            self.lost_requests = true;
        }
        self.pending.push_back(request);
    }

    /// Reports `skipped` bytes that are not OPC UA.
    fn garbage(
        &self,
        dir: Direction,
        skipped: usize,
        reasons: &[&'static str],
        out: &mut Emitter<'_>,
    ) {
        let mut a = Anomalies::new();
        for &reason in reasons {
            a.add(reason);
        }
        let f = OpcuaFields {
            skipped_bytes: Some(u32::try_from(skipped).unwrap_or(u32::MAX)),
            ..OpcuaFields::default()
        };
        out.emit(Pdu {
            protocol: Protocol::Opcua,
            is_response: !self.sent_by_client(dir),
            function_code: None,
            function: "invalid",
            class: FunctionClass::Other,
            anomalies: a,
            fields: Fields::Opcua(Box::new(f)),
            identity: None,
        });
    }

    /// Where, from offset 1 of `rest`, a message may start: `Ok(at)` at a
    /// plausible header, `Err(at)` where bytes too few to tell begin (kept
    /// for the next call), or `Err(len)` when none.
    fn next_start(&self, rest: &[u8]) -> Result<usize, usize> {
        for at in 1..rest.len() {
            match plausible_start(rest.get(at..).unwrap_or_default(), self.channel) {
                Start::Plausible => return Ok(at),
                Start::Maybe => return Err(at),
                Start::No => {}
            }
        }
        Err(rest.len())
    }
}

impl Partial {
    /// Appends a chunk's body, keeping at most [`KEEP`] bytes.
    fn keep(&mut self, body: &[u8]) {
        let room = KEEP.saturating_sub(self.body.len());
        if body.len() > room {
            self.cut = true;
        }
        self.body
            .extend_from_slice(body.get(..room.min(body.len())).unwrap_or_default());
    }

    /// Adds a further chunk of the message.
    fn add(&mut self, chunk: &Meta, body: &[u8], cut: bool) {
        self.meta.chunk_type = chunk.chunk_type;
        self.meta.size += chunk.size;
        self.meta.chunks = self.meta.chunks.saturating_add(1);
        self.meta.sequence_number = chunk.sequence_number.or(self.meta.sequence_number);
        for name in chunk.anomalies.iter() {
            self.meta.anomalies.add(name);
        }
        self.cut |= cut;
        self.keep(body);
    }
}

impl StreamParser for OpcuaParser {
    fn parse(&mut self, data: &[u8], out: &mut Emitter<'_>) -> usize {
        let dir = out.direction();
        let mut consumed = 0;
        while let Some(rest) = data.get(consumed..).filter(|r| !r.is_empty()) {
            // The rest of an oversized chunk: consumed, not kept.
            if let Some(o) = &mut self.halves[dir.index()].oversized {
                let take = o.remaining.min(rest.len());
                o.remaining -= take;
                consumed += take;
                if o.remaining == 0
                    && let Some(o) = self.halves[dir.index()].oversized.take()
                {
                    self.chunk(dir, &o.kept, o.header, true, out);
                }
                continue;
            }
            if self.halves[dir.index()].resync {
                match plausible_start(rest, self.channel) {
                    Start::Plausible => self.halves[dir.index()].resync = false,
                    Start::Maybe => break,
                    Start::No => {
                        let (skip, keep_tail) = match self.next_start(rest) {
                            Ok(at) => (at, false),
                            Err(at) => (at, at < rest.len()),
                        };
                        self.garbage(dir, skip, &[SKIPPED_AFTER_GAP], out);
                        consumed += skip;
                        if keep_tail {
                            break;
                        }
                        continue;
                    }
                }
            }
            match framing(rest) {
                Framing::Incomplete => break,
                Framing::Invalid(reason) => {
                    let (skip, keep_tail) = match self.next_start(rest) {
                        Ok(at) => (at, false),
                        Err(at) => (at, at < rest.len()),
                    };
                    self.garbage(dir, skip, &[INVALID_HEADER, reason], out);
                    consumed += skip;
                    if keep_tail {
                        break;
                    }
                }
                Framing::Header(h) => {
                    let size = h.size as usize;
                    if size <= KEEP {
                        let Some(whole) = rest.get(..size) else {
                            break;
                        };
                        self.chunk(dir, whole, h, false, out);
                        consumed += size;
                    } else {
                        let Some(kept) = rest.get(..KEEP) else {
                            break;
                        };
                        self.halves[dir.index()].oversized = Some(Oversized {
                            header: h,
                            kept: kept.to_vec(),
                            remaining: size - KEEP,
                        });
                        consumed += KEEP;
                    }
                }
            }
        }
        consumed
    }

    /// Bytes were lost in `dir`: the message being reassembled and the
    /// oversized chunk being consumed are forgotten, the next message must
    /// start plausibly, and responses without a request are no longer flagged.
    fn gap(&mut self, dir: Direction) {
        self.halves[dir.index()] = Half {
            resync: true,
            ..Half::default()
        };
        self.lost_requests = true;
    }
}

/// Recognises OPC UA Binary by structure: a defined message type, a chunk
/// type, a size of at least the type's fixed fields and at most 16 MiB.
/// Fewer than 8 bytes that start like a header give `NeedMore`.
///
/// On the well-known port (4840) that is enough, whatever the message (a
/// capture may start mid-connection). Elsewhere the first message must be
/// the opening of a connection and say so: a HEL whose buffer sizes are at
/// least 1024 bytes and whose endpoint URL starts `opc.tcp://`; an ACK of
/// exactly 28 bytes with such buffer sizes; an RHE (reverse connect, on the
/// client's port) whose endpoint URL starts `opc.tcp://`; or an OPN whose
/// security policy URI is a standard one. HTTP, TLS, Modbus, TPKT and DNP3
/// bytes are no message type.
pub fn probe(data: &[u8], _direction: Direction, on_known_port: bool) -> Probe {
    let h = match framing(data) {
        Framing::Invalid(_) => return Probe::NoMatch,
        Framing::Incomplete => return Probe::NeedMore,
        Framing::Header(h) => h,
    };
    if h.size < h.kind.min_size() || (!h.kind.is_secure() && h.chunk != chunk::FINAL) {
        return Probe::NoMatch;
    }
    if on_known_port {
        return Probe::Match;
    }
    let body = data.get(HEADER_LEN..).unwrap_or_default();
    let size = h.size as usize;
    let buffers_ok = |r: &mut Reader<'_>| -> Option<bool> {
        r.u32().ok()?; // protocol version
        let receive = r.u32().ok()?;
        let send = r.u32().ok()?;
        r.u32().ok()?; // max message size
        r.u32().ok()?; // max chunk count
        Some(receive >= 1024 && send >= 1024)
    };
    let mut r = Reader::new(body);
    let verdict = match h.kind {
        MessageType::Hello => buffers_ok(&mut r).and_then(|ok| {
            if !ok {
                return Some(false);
            }
            url_prefix(&mut r, size.saturating_sub(HEADER_LEN + 20), b"opc.tcp://")
        }),
        MessageType::Acknowledge => {
            if size != 28 {
                Some(false)
            } else {
                buffers_ok(&mut r)
            }
        }
        MessageType::ReverseHello => (|| {
            let n = r.i32().ok()?;
            let n = usize::try_from(n).ok().filter(|&n| n <= MAX_TEXT * 8);
            let Some(n) = n else {
                return Some(false);
            };
            r.skip(n).ok()?;
            url_prefix(
                &mut r,
                size.saturating_sub(HEADER_LEN + 4 + n),
                b"opc.tcp://",
            )
        })(),
        MessageType::OpenSecureChannel => {
            if r.skip(4).is_err() {
                None
            } else {
                url_prefix(
                    &mut r,
                    size.saturating_sub(SECURE_HEADER_LEN),
                    names::SECURITY_POLICY_PREFIX.as_bytes(),
                )
            }
        }
        _ => Some(false),
    };
    match verdict {
        Some(true) => Probe::Match,
        Some(false) => Probe::NoMatch,
        None => Probe::NeedMore,
    }
}

/// Whether a String at `r`, fitting in `room` bytes, starts with `prefix`
/// (ASCII case-insensitive); `None` when more bytes are needed to tell.
fn url_prefix(r: &mut Reader<'_>, room: usize, prefix: &[u8]) -> Option<bool> {
    let n = r.i32().ok()?;
    if usize::try_from(n)
        .ok()
        .is_none_or(|n| n < prefix.len() || n + 4 > room)
    {
        return Some(false);
    }
    let got = r.bytes(prefix.len()).ok()?;
    Some(got.eq_ignore_ascii_case(prefix))
}
