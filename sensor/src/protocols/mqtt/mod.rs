//! MQTT 3.1, 3.1.1 and 5.0 over TCP (port 1883; MQTT over TLS, 8883, goes to
//! the TLS decoder).
//!
//! **One event per MQTT control packet**: the fixed header (type, flags,
//! remaining length) and the remaining-length bytes after it. Several packets
//! in one segment are several events; a packet split over segments is one
//! event, on the packet that completes it. A packet longer than
//! [`HEAD_LIMIT`] (a large PUBLISH) is reported as soon as its first
//! [`HEAD_LIMIT`] bytes have arrived, and the rest is skipped as it comes,
//! never buffered: only the payload's length is reported.
//!
//! Bytes that cannot start a packet (type 0, a remaining length longer than
//! four bytes) are reported as one `invalid` event and the rest of the
//! delivered bytes are skipped: MQTT has no synchronisation marker, and a
//! packet nearly always starts a segment.
//!
//! The connection's protocol level comes from CONNECT; MQTT 5 properties are
//! skipped by their length. Without a CONNECT (a capture started mid-stream)
//! the level is guessed from the packets' lengths where they differ.

#[cfg(test)]
mod tests;

use super::text::{self, bounded};
use super::{Direction, Emitter, Probe, StreamParser};
use crate::event::{Anomalies, Fields, FunctionClass, Pdu, Protocol, Visitor};

pub const PORT: u16 = 1883;

/// A packet longer than this (fixed header included) is decoded from its
/// first `HEAD_LIMIT` bytes; the rest is skipped without being buffered.
pub const HEAD_LIMIT: usize = 4096;
/// Topics (SUBSCRIBE, UNSUBSCRIBE) and codes (SUBACK, UNSUBACK) kept per event.
pub const MAX_LIST: usize = 32;
/// Bytes kept of a string field (topics, client ids, user names).
pub const MAX_STRING: usize = 256;

/// Stable anomaly names of this decoder.
pub mod anomaly {
    /// Packet type 0 (forbidden): the bytes cannot start a packet.
    pub const INVALID_PACKET_TYPE: &str = "invalid_packet_type";
    /// The remaining length runs over four bytes.
    pub const INVALID_REMAINING_LENGTH: &str = "invalid_remaining_length";
    /// Fixed-header flags other than those the packet type requires.
    pub const INVALID_FLAGS: &str = "invalid_flags";
    /// QoS 3 (PUBLISH, will, subscription options).
    pub const INVALID_QOS: &str = "invalid_qos";
    /// A field runs past the end of the packet.
    pub const TRUNCATED: &str = "truncated";
    /// Bytes left after the packet's structure.
    pub const TRAILING_BYTES: &str = "trailing_bytes";
    /// CONNECT protocol name other than `MQTT` and `MQIsdp`.
    pub const UNKNOWN_PROTOCOL_NAME: &str = "unknown_protocol_name";
    /// CONNECT protocol level other than 3, 4 and 5.
    pub const UNKNOWN_PROTOCOL_VERSION: &str = "unknown_protocol_version";
    /// CONNECT flag bit 0, or CONNACK flag bits 1–7, set.
    pub const RESERVED_FLAG_SET: &str = "reserved_flag_set";
    /// Will QoS or retain set without the will flag.
    pub const INVALID_WILL_FLAGS: &str = "invalid_will_flags";
    /// A password without a user name (forbidden before MQTT 5).
    pub const PASSWORD_WITHOUT_USERNAME: &str = "password_without_username";
    /// A string that is not UTF-8.
    pub const INVALID_UTF8: &str = "invalid_utf8";
    /// Packet identifier 0 where one is required.
    pub const ZERO_PACKET_ID: &str = "zero_packet_id";
    /// SUBSCRIBE or UNSUBSCRIBE without any topic.
    pub const NO_TOPICS: &str = "no_topics";
    /// A client-only packet from the server, or the reverse.
    pub const WRONG_DIRECTION: &str = "wrong_direction";
    /// AUTH (type 15) on a connection of MQTT 3.
    pub const RESERVED_PACKET_TYPE: &str = "reserved_packet_type";

    /// Every anomaly name, for rule validation.
    pub const ALL: &[&str] = &[
        INVALID_PACKET_TYPE,
        INVALID_REMAINING_LENGTH,
        INVALID_FLAGS,
        INVALID_QOS,
        TRUNCATED,
        TRAILING_BYTES,
        UNKNOWN_PROTOCOL_NAME,
        UNKNOWN_PROTOCOL_VERSION,
        RESERVED_FLAG_SET,
        INVALID_WILL_FLAGS,
        PASSWORD_WITHOUT_USERNAME,
        INVALID_UTF8,
        ZERO_PACKET_ID,
        NO_TOPICS,
        WRONG_DIRECTION,
        RESERVED_PACKET_TYPE,
    ];
}
use anomaly::*;

/// An MQTT control packet type (the fixed header's high nibble), open: every
/// value parses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketType(pub u8);

impl PacketType {
    pub const CONNECT: PacketType = PacketType(1);
    pub const CONNACK: PacketType = PacketType(2);
    pub const PUBLISH: PacketType = PacketType(3);
    pub const PUBACK: PacketType = PacketType(4);
    pub const PUBREC: PacketType = PacketType(5);
    pub const PUBREL: PacketType = PacketType(6);
    pub const PUBCOMP: PacketType = PacketType(7);
    pub const SUBSCRIBE: PacketType = PacketType(8);
    pub const SUBACK: PacketType = PacketType(9);
    pub const UNSUBSCRIBE: PacketType = PacketType(10);
    pub const UNSUBACK: PacketType = PacketType(11);
    pub const PINGREQ: PacketType = PacketType(12);
    pub const PINGRESP: PacketType = PacketType(13);
    pub const DISCONNECT: PacketType = PacketType(14);
    pub const AUTH: PacketType = PacketType(15);

    pub fn name(self) -> &'static str {
        match self.0 {
            1 => "connect",
            2 => "connack",
            3 => "publish",
            4 => "puback",
            5 => "pubrec",
            6 => "pubrel",
            7 => "pubcomp",
            8 => "subscribe",
            9 => "suback",
            10 => "unsubscribe",
            11 => "unsuback",
            12 => "pingreq",
            13 => "pingresp",
            14 => "disconnect",
            15 => "auth",
            _ => "reserved",
        }
    }

    /// The fixed-header flags the type requires (`None`: PUBLISH, any).
    fn required_flags(self) -> Option<u8> {
        match self {
            PacketType::PUBLISH => None,
            PacketType::PUBREL | PacketType::SUBSCRIBE | PacketType::UNSUBSCRIBE => Some(0b0010),
            _ => Some(0),
        }
    }

    /// Which way the type may travel: `Some(ToServer)` for client-only
    /// packets, `Some(ToClient)` for server-only ones, `None` for both.
    fn direction(self) -> Option<Direction> {
        match self {
            PacketType::CONNECT
            | PacketType::SUBSCRIBE
            | PacketType::UNSUBSCRIBE
            | PacketType::PINGREQ => Some(Direction::ToServer),
            PacketType::CONNACK
            | PacketType::SUBACK
            | PacketType::UNSUBACK
            | PacketType::PINGRESP => Some(Direction::ToClient),
            _ => None,
        }
    }

    /// The policy class of a packet of this type travelling in `direction`.
    /// A PUBLISH from a client sets values others consume: a write. A PUBLISH
    /// from the broker delivers what a client subscribed to: a read.
    pub fn class(self, direction: Direction) -> FunctionClass {
        match self {
            PacketType::PUBLISH if direction == Direction::ToServer => FunctionClass::Write,
            PacketType::PUBLISH | PacketType::SUBSCRIBE | PacketType::UNSUBSCRIBE => {
                FunctionClass::Read
            }
            PacketType::CONNECT
            | PacketType::DISCONNECT
            | PacketType::PINGREQ
            | PacketType::PINGRESP
            | PacketType::AUTH => FunctionClass::Session,
            _ => FunctionClass::Other,
        }
    }
}

/// Every `function` name MQTT events carry, for rule validation.
pub fn function_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = (0..16).map(|t| PacketType(t).name()).collect();
    names.push("invalid");
    names.sort_unstable();
    names.dedup();
    names
}

/// MQTT fields of one event. Absent values are not written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MqttFields {
    /// Control packet type, the fixed header's high nibble (Wireshark
    /// `mqtt.msgtype`); absent on `invalid` events.
    pub message_type: Option<u8>,
    /// Remaining length (Wireshark `mqtt.len`).
    pub length: Option<u32>,
    /// CONNECT protocol level: 3 (3.1), 4 (3.1.1), 5 (Wireshark `mqtt.ver`).
    pub version: Option<u8>,
    /// CONNECT protocol name (`MQTT`, `MQIsdp`).
    pub protocol_name: Option<String>,
    /// CONNECT client identifier (Wireshark `mqtt.clientid`), possibly empty.
    pub client_id: Option<String>,
    pub username_present: Option<bool>,
    /// CONNECT user name (Wireshark `mqtt.username`): it identifies, so it is plain.
    pub username: Option<String>,
    pub password_present: Option<bool>,
    /// CONNECT password: a cleartext credential, written as a secret.
    pub password: Option<String>,
    pub clean_session: Option<bool>,
    /// Wireshark `mqtt.kalive`.
    pub keep_alive: Option<u16>,
    /// Wireshark `mqtt.willtopic`.
    pub will_topic: Option<String>,
    pub will_qos: Option<u8>,
    pub will_retain: Option<bool>,
    /// CONNACK session present flag.
    pub session_present: Option<bool>,
    /// MQTT 3 CONNACK return code (Wireshark `mqtt.conack.val`).
    pub return_code: Option<u8>,
    /// MQTT 5 reason code (CONNACK, acknowledgements, DISCONNECT, AUTH).
    pub reason_code: Option<u8>,
    /// PUBLISH topic (Wireshark `mqtt.topic`).
    pub topic: Option<String>,
    /// SUBSCRIBE and UNSUBSCRIBE topic filters, the first [`MAX_LIST`]
    /// (written as the list `topic`, as Wireshark's `mqtt.topic`).
    pub topics: Vec<String>,
    /// SUBSCRIBE requested QoS of each topic in `topics`.
    pub requested_qos: Vec<u8>,
    /// SUBSCRIBE and UNSUBSCRIBE: how many topics the packet holds.
    pub topic_count: Option<u32>,
    /// SUBACK return codes, MQTT 5 UNSUBACK reason codes (the first [`MAX_LIST`]).
    pub return_codes: Vec<u8>,
    /// PUBLISH QoS (Wireshark `mqtt.qos`).
    pub qos: Option<u8>,
    /// PUBLISH retain flag (Wireshark `mqtt.retain`).
    pub retain: Option<bool>,
    /// PUBLISH duplicate flag (Wireshark `mqtt.dupflag`).
    pub dup: Option<bool>,
    /// Packet identifier (Wireshark `mqtt.msgid`).
    pub packet_id: Option<u16>,
    /// PUBLISH application message length.
    pub payload_length: Option<u32>,
    /// MQTT 5 properties length of the packet's variable header.
    pub properties_length: Option<u32>,
    /// On `invalid` events: bytes skipped as not MQTT.
    pub skipped_bytes: Option<u32>,
}

impl MqttFields {
    pub fn visit(&self, v: &mut dyn Visitor) {
        use text::{b, s, s_list, secret, u, u_list};
        u(v, "message_type", self.message_type);
        u(v, "length", self.length);
        u(v, "version", self.version);
        s(v, "protocol_name", self.protocol_name.as_deref());
        s(v, "client_id", self.client_id.as_deref());
        b(v, "username_present", self.username_present);
        s(v, "username", self.username.as_deref());
        b(v, "password_present", self.password_present);
        secret(v, "password", self.password.as_deref());
        b(v, "clean_session", self.clean_session);
        u(v, "keep_alive", self.keep_alive);
        s(v, "will_topic", self.will_topic.as_deref());
        u(v, "will_qos", self.will_qos);
        b(v, "will_retain", self.will_retain);
        b(v, "session_present", self.session_present);
        u(v, "return_code", self.return_code);
        u(v, "reason_code", self.reason_code);
        s(v, "topic", self.topic.as_deref());
        s_list(v, "topic", &self.topics);
        u_list(v, "requested_qos", &self.requested_qos);
        u(v, "topic_count", self.topic_count);
        u_list(v, "return_codes", &self.return_codes);
        u(v, "qos", self.qos);
        b(v, "retain", self.retain);
        b(v, "dup", self.dup);
        u(v, "packet_id", self.packet_id);
        u(v, "payload_length", self.payload_length);
        u(v, "properties_length", self.properties_length);
        u(v, "skipped_bytes", self.skipped_bytes);
    }
}

/// How the bytes at the start of a buffer frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    /// A fixed header of `header` bytes announcing `remaining` bytes after it.
    Packet {
        header: usize,
        remaining: usize,
    },
    Incomplete,
    Invalid(&'static str),
}

fn framing(b: &[u8]) -> Framing {
    let Some(&first) = b.first() else {
        return Framing::Incomplete;
    };
    if first >> 4 == 0 {
        return Framing::Invalid(INVALID_PACKET_TYPE);
    }
    let mut remaining = 0usize;
    for i in 0..4 {
        let Some(&byte) = b.get(1 + i) else {
            return Framing::Incomplete;
        };
        remaining |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Framing::Packet {
                header: 2 + i,
                remaining,
            };
        }
    }
    Framing::Invalid(INVALID_REMAINING_LENGTH)
}

/// A cursor over a packet's bytes; a read past the end returns `None` and
/// remembers it.
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
        let got = self
            .at
            .checked_add(n)
            .and_then(|end| self.b.get(self.at..end));
        match got {
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

    /// A two-byte length and that many bytes (UTF-8 strings, binary data).
    fn prefixed(&mut self) -> Option<&'a [u8]> {
        let len = self.u16()?;
        self.bytes(len.into())
    }

    fn varint(&mut self) -> Option<u32> {
        let mut value = 0u32;
        for i in 0..4 {
            let byte = self.u8()?;
            value |= u32::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        self.short = true;
        None
    }

    fn rest(&self) -> usize {
        self.b.len().saturating_sub(self.at)
    }
}

/// A UTF-8 string field, bounded; flags invalid UTF-8.
fn string(raw: &[u8], a: &mut Anomalies) -> String {
    if std::str::from_utf8(raw).is_err() {
        a.add(INVALID_UTF8);
    }
    bounded(raw, MAX_STRING)
}

/// What [`decode`] needs to know about the packet and its connection.
#[derive(Clone, Copy, Debug)]
struct Context {
    direction: Direction,
    /// Protocol level of the connection, if a CONNECT said it.
    version: Option<u8>,
    /// Only the head of the packet is there: a read past it is not an anomaly.
    partial: bool,
}

impl Context {
    fn v5(&self) -> bool {
        self.version == Some(5)
    }
}

/// Decodes one packet: `packet` holds its fixed header and its remaining
/// bytes (only the first ones, when `ctx.partial`). Returns the type and,
/// for CONNECT, the protocol level it announces.
fn decode(
    packet: &[u8],
    header: usize,
    remaining: usize,
    ctx: Context,
    f: &mut MqttFields,
    a: &mut Anomalies,
) -> (PacketType, Option<u8>) {
    let first = packet.first().copied().unwrap_or_default();
    let ptype = PacketType(first >> 4);
    let flags = first & 0x0f;
    f.message_type = Some(ptype.0);
    f.length = Some(u32::try_from(remaining).unwrap_or(u32::MAX));
    let end = header.saturating_add(remaining).min(packet.len());
    let body = packet.get(header..end).unwrap_or_default();
    let mut r = Reader::new(body);
    if ptype
        .required_flags()
        .is_some_and(|required| required != flags)
    {
        a.add(INVALID_FLAGS);
    }
    if ptype.direction().is_some_and(|d| d != ctx.direction) {
        a.add(WRONG_DIRECTION);
    }
    let mut version = None;
    // Whether bytes may remain after the structure (payloads, lists).
    let mut open_ended = false;
    match ptype {
        PacketType::CONNECT => {
            version = connect(&mut r, f, a);
        }
        PacketType::CONNACK => {
            let ack = r.u8();
            let code = r.u8();
            if let Some(ack) = ack {
                f.session_present = Some(ack & 1 != 0);
                if ack & 0xfe != 0 {
                    a.add(RESERVED_FLAG_SET);
                }
            }
            // MQTT 5 adds properties; without a CONNECT, the length tells.
            if ctx.v5() || (ctx.version.is_none() && remaining > 2) {
                f.reason_code = code;
                properties(&mut r, f);
            } else {
                f.return_code = code;
            }
        }
        PacketType::PUBLISH => {
            let qos = (flags >> 1) & 3;
            f.qos = Some(qos);
            f.retain = Some(flags & 1 != 0);
            f.dup = Some(flags & 8 != 0);
            if qos == 3 {
                a.add(INVALID_QOS);
            }
            if qos == 0 && flags & 8 != 0 {
                a.add(INVALID_FLAGS);
            }
            if let Some(topic) = r.prefixed() {
                f.topic = Some(string(topic, a));
            }
            if qos > 0 {
                f.packet_id = packet_id(&mut r, a);
            }
            if ctx.v5() {
                properties(&mut r, f);
            }
            if !r.short {
                f.payload_length = u32::try_from(remaining.saturating_sub(r.at)).ok();
            }
            open_ended = true;
        }
        PacketType::PUBACK | PacketType::PUBREC | PacketType::PUBREL | PacketType::PUBCOMP => {
            f.packet_id = packet_id(&mut r, a);
            if ctx.v5() || (ctx.version.is_none() && remaining > 2) {
                if r.rest() > 0 {
                    f.reason_code = r.u8();
                }
                if r.rest() > 0 {
                    properties(&mut r, f);
                }
            }
        }
        PacketType::SUBSCRIBE | PacketType::UNSUBSCRIBE => {
            f.packet_id = packet_id(&mut r, a);
            if ctx.v5() {
                properties(&mut r, f);
            }
            let subscribe = ptype == PacketType::SUBSCRIBE;
            let mut count = 0u32;
            while r.rest() > 0 {
                let Some(topic) = r.prefixed() else { break };
                let options = if subscribe { r.u8() } else { None };
                if r.short {
                    break;
                }
                count += 1;
                if let Some(options) = options {
                    let qos = options & 3;
                    if qos == 3 {
                        a.add(INVALID_QOS);
                    }
                    // Before MQTT 5 the upper six bits are reserved.
                    if !ctx.v5() && options & 0xfc != 0 {
                        a.add(RESERVED_FLAG_SET);
                    }
                    if f.requested_qos.len() < MAX_LIST {
                        f.requested_qos.push(qos);
                    }
                }
                if f.topics.len() < MAX_LIST {
                    f.topics.push(string(topic, a));
                }
            }
            if count == 0 && !ctx.partial && !r.short {
                a.add(NO_TOPICS);
            }
            f.topic_count = Some(count);
            open_ended = true;
        }
        PacketType::SUBACK | PacketType::UNSUBACK => {
            f.packet_id = packet_id(&mut r, a);
            let codes = ptype == PacketType::SUBACK || ctx.v5();
            if ctx.v5() {
                properties(&mut r, f);
            }
            if codes {
                let rest = r.bytes(r.rest()).unwrap_or_default();
                f.return_codes = rest.iter().copied().take(MAX_LIST).collect();
                open_ended = true;
            }
        }
        PacketType::PINGREQ | PacketType::PINGRESP => {}
        PacketType::DISCONNECT | PacketType::AUTH => {
            if ptype == PacketType::AUTH && ctx.version.is_some_and(|v| v < 5) {
                a.add(RESERVED_PACKET_TYPE);
            }
            if r.rest() > 0 && ctx.version.is_none_or(|v| v >= 5) {
                f.reason_code = r.u8();
                if r.rest() > 0 {
                    properties(&mut r, f);
                }
            }
        }
        _ => {}
    }
    if !ctx.partial {
        if r.short {
            a.add(TRUNCATED);
        } else if !open_ended && r.rest() > 0 {
            a.add(TRAILING_BYTES);
        }
    }
    (ptype, version)
}

/// A packet identifier, flagging 0.
fn packet_id(r: &mut Reader<'_>, a: &mut Anomalies) -> Option<u16> {
    let id = r.u16()?;
    if id == 0 {
        a.add(ZERO_PACKET_ID);
    }
    Some(id)
}

/// Skips MQTT 5 properties (a length and that many bytes), noting the length.
fn properties(r: &mut Reader<'_>, f: &mut MqttFields) {
    if let Some(len) = r.varint() {
        f.properties_length = Some(len);
        r.bytes(len as usize);
    }
}

/// The CONNECT variable header and payload; returns the protocol level.
fn connect(r: &mut Reader<'_>, f: &mut MqttFields, a: &mut Anomalies) -> Option<u8> {
    let name = r.prefixed()?;
    f.protocol_name = Some(bounded(name, MAX_STRING));
    let level = r.u8()?;
    f.version = Some(level);
    match (name, level) {
        (b"MQTT", 4 | 5) | (b"MQIsdp", 3) => {}
        (b"MQTT" | b"MQIsdp", _) => a.add(UNKNOWN_PROTOCOL_VERSION),
        _ => {
            a.add(UNKNOWN_PROTOCOL_NAME);
            if !(3..=5).contains(&level) {
                a.add(UNKNOWN_PROTOCOL_VERSION);
            }
        }
    }
    let v5 = level == 5;
    let Some(flags) = r.u8() else {
        return Some(level);
    };
    let username = flags & 0x80 != 0;
    let password = flags & 0x40 != 0;
    let will_retain = flags & 0x20 != 0;
    let will_qos = (flags >> 3) & 3;
    let will = flags & 0x04 != 0;
    f.username_present = Some(username);
    f.password_present = Some(password);
    f.clean_session = Some(flags & 0x02 != 0);
    if flags & 0x01 != 0 {
        a.add(RESERVED_FLAG_SET);
    }
    if will {
        f.will_qos = Some(will_qos);
        f.will_retain = Some(will_retain);
        if will_qos == 3 {
            a.add(INVALID_QOS);
        }
    } else if will_qos != 0 || will_retain {
        a.add(INVALID_WILL_FLAGS);
    }
    if password && !username && !v5 {
        a.add(PASSWORD_WITHOUT_USERNAME);
    }
    f.keep_alive = r.u16();
    if v5 {
        properties(r, f);
    }
    if let Some(id) = r.prefixed() {
        f.client_id = Some(string(id, a));
    }
    if will {
        if v5 {
            let mut ignored = MqttFields::default();
            properties(r, &mut ignored);
        }
        if let Some(topic) = r.prefixed() {
            f.will_topic = Some(string(topic, a));
        }
        r.prefixed(); // will payload
    }
    if username && let Some(user) = r.prefixed() {
        f.username = Some(string(user, a));
    }
    if password && let Some(secret) = r.prefixed() {
        f.password = Some(bounded(secret, MAX_STRING));
    }
    Some(level)
}

/// Per-connection MQTT state: the protocol level, and per direction how many
/// bytes of a large packet remain to be skipped.
#[derive(Debug, Default)]
pub struct MqttParser {
    version: Option<u8>,
    skip: [usize; 2],
}

impl MqttParser {
    pub fn new() -> Self {
        Self::default()
    }

    fn packet(
        &mut self,
        packet: &[u8],
        header: usize,
        remaining: usize,
        partial: bool,
        out: &mut Emitter<'_>,
    ) {
        let direction = out.direction();
        let mut f = MqttFields::default();
        let mut a = Anomalies::new();
        let ctx = Context {
            direction,
            version: self.version,
            partial,
        };
        let (ptype, version) = decode(packet, header, remaining, ctx, &mut f, &mut a);
        if version.is_some() {
            self.version = version;
        }
        out.emit(Pdu {
            protocol: Protocol::Mqtt,
            is_response: direction == Direction::ToClient,
            function_code: Some(ptype.0.into()),
            function: ptype.name(),
            class: ptype.class(direction),
            anomalies: a,
            fields: Fields::Mqtt(Box::new(f)),
            identity: None,
        });
    }

    fn garbage(&mut self, skipped: usize, reason: &'static str, out: &mut Emitter<'_>) {
        let mut a = Anomalies::new();
        a.add(reason);
        let f = MqttFields {
            skipped_bytes: Some(u32::try_from(skipped).unwrap_or(u32::MAX)),
            ..MqttFields::default()
        };
        out.emit(Pdu {
            protocol: Protocol::Mqtt,
            is_response: out.direction() == Direction::ToClient,
            function_code: None,
            function: "invalid",
            class: FunctionClass::Other,
            anomalies: a,
            fields: Fields::Mqtt(Box::new(f)),
            identity: None,
        });
    }
}

impl StreamParser for MqttParser {
    fn parse(&mut self, data: &[u8], out: &mut Emitter<'_>) -> usize {
        let dir = out.direction().index();
        let skip = self.skip[dir].min(data.len());
        self.skip[dir] -= skip;
        let mut consumed = skip;
        while let Some(rest) = data.get(consumed..).filter(|r| !r.is_empty()) {
            match framing(rest) {
                Framing::Incomplete => break,
                Framing::Invalid(reason) => {
                    self.garbage(rest.len(), reason, out);
                    consumed = data.len();
                }
                Framing::Packet { header, remaining } => {
                    let total = header.saturating_add(remaining);
                    if rest.len() >= total {
                        self.packet(
                            rest.get(..total).unwrap_or(rest),
                            header,
                            remaining,
                            false,
                            out,
                        );
                        consumed += total;
                    } else if total > HEAD_LIMIT && rest.len() >= HEAD_LIMIT {
                        self.packet(rest, header, remaining, true, out);
                        self.skip[dir] = total - rest.len();
                        consumed = data.len();
                    } else {
                        break;
                    }
                }
            }
        }
        consumed
    }

    /// Where the stream resumes is unknown: stop skipping; what follows is
    /// framed afresh (and reported as `invalid` if it is not a packet start).
    fn gap(&mut self, dir: Direction) {
        self.skip[dir.index()] = 0;
    }
}

/// Recognises MQTT by structure. Anywhere, a client's CONNECT naming the
/// protocol (`MQTT` or `MQIsdp`) is enough. On the well-known port, a capture
/// that starts mid-connection is recognised by whole packets back to back,
/// each with a valid type, the flags its type requires, the right direction
/// and a body that decodes without structural anomalies; fewer bytes than a
/// packet give `NeedMore`. Modbus (type nibble of a transaction id, then a
/// protocol id of 0 that cannot continue a packet), TPKT (`03 00`), DNP3
/// (`05 64`), HTTP and TLS all fail.
pub fn probe(data: &[u8], direction: Direction, on_known_port: bool) -> Probe {
    match connect_evidence(data, direction) {
        Probe::NoMatch => {}
        verdict => return verdict,
    }
    if !on_known_port {
        return Probe::NoMatch;
    }
    let mut rest = data;
    let mut packets = 0;
    while !rest.is_empty() {
        match framing(rest) {
            Framing::Invalid(_) => return Probe::NoMatch,
            Framing::Incomplete => break,
            Framing::Packet { header, remaining } => {
                let total = header.saturating_add(remaining);
                let Some(packet) = rest.get(..total) else {
                    if packets == 0 && !plausible_head(rest, direction) {
                        return Probe::NoMatch;
                    }
                    break;
                };
                let mut f = MqttFields::default();
                let mut a = Anomalies::new();
                let ctx = Context {
                    direction,
                    version: None,
                    partial: false,
                };
                let (ptype, _) = decode(packet, header, remaining, ctx, &mut f, &mut a);
                if ptype == PacketType::AUTH || !a.is_empty() {
                    return Probe::NoMatch;
                }
                packets += 1;
                rest = rest.get(total..).unwrap_or_default();
            }
        }
    }
    if packets > 0 {
        Probe::Match
    } else {
        Probe::NeedMore
    }
}

/// Whether the fixed header of an incomplete packet could be a client's or a
/// server's: flags and direction that its type allows, and not a CONNECT
/// (whose protocol name [`connect_evidence`] already checked).
fn plausible_head(b: &[u8], direction: Direction) -> bool {
    let first = b.first().copied().unwrap_or_default();
    let ptype = PacketType(first >> 4);
    ptype != PacketType::CONNECT
        && ptype != PacketType::AUTH
        && ptype.required_flags().is_none_or(|f| f == first & 0x0f)
        && ptype.direction().is_none_or(|d| d == direction)
}

/// `Match` for the start of a CONNECT naming MQTT, `NeedMore` for a prefix of
/// one, `NoMatch` otherwise.
fn connect_evidence(data: &[u8], direction: Direction) -> Probe {
    if direction != Direction::ToServer || data.first() != Some(&0x10) {
        return Probe::NoMatch;
    }
    let Framing::Packet { header, .. } = framing(data) else {
        return if data.len() < 5 {
            Probe::NeedMore
        } else {
            Probe::NoMatch
        };
    };
    let after = data.get(header..).unwrap_or_default();
    let names: [&[u8]; 2] = [b"\x00\x04MQTT", b"\x00\x06MQIsdp"];
    for name in names {
        let n = after.len().min(name.len());
        if after.get(..n) == name.get(..n) {
            return if after.len() > name.len() {
                Probe::Match
            } else {
                Probe::NeedMore
            };
        }
    }
    Probe::NoMatch
}
