//! BACnet/IP (ASHRAE 135 Annex J) on UDP 47808: the BACnet Virtual Link
//! Control (BVLC), the network layer (NPDU, with the network layer
//! messages) and the application layer (APDU: every PDU type, and the
//! services decoded from their tagged encoding).
//!
//! **What a PDU is.** One event per UDP datagram, which carries exactly one
//! BVLC message (BACnet/IP does not put several in one datagram). A BVLC
//! message that carries an NPDU (Original-Unicast/Broadcast-NPDU,
//! Forwarded-NPDU, Distribute-Broadcast-To-Network) is named after what the
//! NPDU holds: the network layer message, or the APDU's service (an
//! I-Am, a ReadProperty request or its ComplexACK…); BVLC messages without
//! NPDU (BVLC-Result, the table reads and writes, Register-Foreign-Device…)
//! are events of their own. A datagram that starts with NPDU version 1
//! instead of a BVLC header is decoded as an NPDU (the BVLC fields are then
//! absent). A segment of a segmented APDU is an event of its own, marked
//! `segmented` with its sequence number; its service is named but not
//! decoded (a segment holds a piece of the encoding).
//!
//! The decoder keeps no state: [`decode`] turns one datagram into one PDU,
//! and [`BacnetParser`] only hands datagrams to it.
//!
//! Layout: [`names`] holds the code values and their names and classes,
//! [`tags`] the tagged-encoding reader, `bvlc` and `npdu` the two lower
//! layers, `apdu` the APDU headers, `services` the service parameters; this
//! file the event fields, the entry points and the probe.

mod apdu;
mod bvlc;
pub mod names;
mod npdu;
mod services;
pub mod tags;

#[cfg(test)]
mod tests;

use std::net::SocketAddrV4;

use super::{DatagramParser, Direction, Emitter, Probe};
use crate::event::{
    Anomalies, Fields, FunctionClass, Identity, Nest, Pdu, Protocol, Value, Visitor,
};
use crate::protocols::vendors::{self, Registry};
use tags::ObjectId;

/// BACnet/IP's UDP port (0xBAC0).
pub const PORT: u16 = 47808;
/// BVLC type octet of BACnet/IP (Annex J).
pub const BVLC_TYPE: u8 = 0x81;
/// NPDU protocol version.
pub const NPDU_VERSION: u8 = 1;
/// Object identifiers kept per event (`objects`).
pub const MAX_OBJECTS: usize = 32;
/// Property identifiers kept per event (`properties`).
pub const MAX_PROPERTIES: usize = 32;
/// Network numbers kept per network layer message (`networks`).
pub const MAX_NETWORKS: usize = 16;
/// BDT/FDT entries kept per table (`table`).
pub const MAX_TABLE: usize = 16;
/// MAC address octets kept (DADR/SADR).
pub const MAX_MAC: usize = 18;
/// Nesting of constructed values walked in a service.
pub const MAX_DEPTH: u8 = 16;

/// Stable anomaly names of this decoder.
pub mod anomaly {
    /// The datagram starts neither with a BVLC header (type 0x81) nor with an NPDU.
    pub const INVALID_BVLC_HEADER: &str = "invalid_bvlc_header";
    /// A BVLC function Annex J does not define (with function `unknown_bvlc_function`).
    pub const UNKNOWN_BVLC_FUNCTION: &str = "unknown_bvlc_function";
    /// The BVLC length disagrees with the datagram.
    pub const BVLC_LENGTH_MISMATCH: &str = "bvlc_length_mismatch";
    /// A BVLC message shorter than its fixed fields.
    pub const TRUNCATED_BVLC: &str = "truncated_bvlc";
    /// NPDU version other than 1.
    pub const INVALID_NPDU_VERSION: &str = "invalid_npdu_version";
    /// The NPDU ends inside its header or its network layer message.
    pub const TRUNCATED_NPDU: &str = "truncated_npdu";
    /// Reserved bits of the NPDU control octet are set.
    pub const NPDU_RESERVED_BITS: &str = "npdu_reserved_bits";
    /// SLEN 0 or SNET 0xFFFF (a source cannot be a broadcast), or DNET 0.
    pub const INVALID_NETWORK_ADDRESS: &str = "invalid_network_address";
    /// A network layer message type the standard does not define (0x14–0x7F).
    pub const UNKNOWN_NETWORK_MESSAGE: &str = "unknown_network_message";
    /// An NPDU without network layer message or APDU.
    pub const MISSING_APDU: &str = "missing_apdu";
    /// The APDU ends inside its header.
    pub const TRUNCATED_APDU: &str = "truncated_apdu";
    /// APDU type 8–15.
    pub const UNKNOWN_APDU_TYPE: &str = "unknown_apdu_type";
    /// A confirmed or unconfirmed service choice the standard does not define.
    pub const UNKNOWN_SERVICE: &str = "unknown_service";
    /// More-follows set on an unsegmented APDU, or a segmented unconfirmed one.
    pub const INVALID_SEGMENTATION: &str = "invalid_segmentation";
    /// Max-APDU-length-accepted code 6–15 in a confirmed request.
    pub const INVALID_MAX_APDU: &str = "invalid_max_apdu";
    /// A tag runs past the end of the APDU.
    pub const TRUNCATED_TAG: &str = "truncated_tag";
    /// A tag the encoding does not allow (application tag marked opening or
    /// closing, Boolean other than 0/1, extended tag number 255).
    pub const INVALID_TAG: &str = "invalid_tag";
    /// A closing tag without its opening tag, or an opening tag never closed.
    pub const UNBALANCED_TAGS: &str = "unbalanced_tags";
    /// Constructed values nested deeper than 16.
    pub const NESTING_TOO_DEEP: &str = "nesting_too_deep";
    /// A primitive whose content cannot be its type (an object identifier
    /// that is not 4 octets, an empty Unsigned…).
    pub const INVALID_VALUE: &str = "invalid_value";
    /// A parameter the service requires is absent.
    pub const MISSING_PARAMETER: &str = "missing_parameter";
    /// A parameter has the wrong tag for its place in the service.
    pub const UNEXPECTED_TAG: &str = "unexpected_tag";
    /// A property value whose type cannot be the property's (e.g. a Real
    /// added to a recipient-list).
    pub const INVALID_PROPERTY_VALUE: &str = "invalid_property_value";
    /// A write priority outside 1–16.
    pub const INVALID_PRIORITY: &str = "invalid_priority";
    /// Octets after a message that should have ended.
    pub const TRAILING_BYTES: &str = "trailing_bytes";

    /// Every anomaly name, for rule validation.
    pub const ALL: &[&str] = &[
        INVALID_BVLC_HEADER,
        UNKNOWN_BVLC_FUNCTION,
        BVLC_LENGTH_MISMATCH,
        TRUNCATED_BVLC,
        INVALID_NPDU_VERSION,
        TRUNCATED_NPDU,
        NPDU_RESERVED_BITS,
        INVALID_NETWORK_ADDRESS,
        UNKNOWN_NETWORK_MESSAGE,
        MISSING_APDU,
        TRUNCATED_APDU,
        UNKNOWN_APDU_TYPE,
        UNKNOWN_SERVICE,
        INVALID_SEGMENTATION,
        INVALID_MAX_APDU,
        TRUNCATED_TAG,
        INVALID_TAG,
        UNBALANCED_TAGS,
        NESTING_TOO_DEEP,
        INVALID_VALUE,
        MISSING_PARAMETER,
        UNEXPECTED_TAG,
        INVALID_PROPERTY_VALUE,
        INVALID_PRIORITY,
        TRAILING_BYTES,
    ];
}
use anomaly::*;

/// Every `function` name BACnet events carry, for rule validation.
pub fn function_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = (0..=u8::MAX)
        .filter(|&f| !names::bvlc::carries_npdu(f))
        .filter_map(names::bvlc::name)
        .chain((0..=u8::MAX).map(|t| names::network_message(t).0))
        .chain((0..=u8::MAX).filter_map(|s| names::confirmed_service(s).map(|d| d.0)))
        .chain((0..=u8::MAX).filter_map(|s| names::unconfirmed_service(s).map(|d| d.0)))
        .collect();
    names.extend([
        "segment_ack",
        "reject",
        "abort",
        "unknown_service",
        "unknown_apdu_type",
        "unknown_bvlc_function",
        "invalid",
    ]);
    names.sort_unstable();
    names.dedup();
    names
}

/// A list of at most `N` values kept inline (no allocation); values beyond
/// `N` are counted as `truncated`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct List<T: Copy + Default, const N: usize> {
    items: [T; N],
    len: u8,
    truncated: bool,
}

impl<T: Copy + Default, const N: usize> Default for List<T, N> {
    fn default() -> Self {
        List {
            items: [T::default(); N],
            len: 0,
            truncated: false,
        }
    }
}

impl<T: Copy + Default, const N: usize> List<T, N> {
    pub fn push(&mut self, value: T) {
        match self.items.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = value;
                self.len += 1;
            }
            None => self.truncated = true,
        }
    }

    pub fn as_slice(&self) -> &[T] {
        self.items.get(..usize::from(self.len)).unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn first(&self) -> Option<T> {
        self.as_slice().first().copied()
    }

    /// Whether values were dropped for lack of room.
    pub fn truncated(&self) -> bool {
        self.truncated
    }
}

/// A MAC address of the network layer (DADR, SADR), as its octets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mac {
    octets: [u8; MAX_MAC],
    len: u8,
}

impl Mac {
    pub fn new(b: &[u8]) -> Mac {
        let mut mac = Mac::default();
        for (slot, &octet) in mac.octets.iter_mut().zip(b) {
            *slot = octet;
            mac.len += 1;
        }
        mac
    }

    pub fn octets(&self) -> &[u8] {
        self.octets.get(..usize::from(self.len)).unwrap_or_default()
    }
}

/// One entry of a broadcast distribution table (address and mask) or of a
/// foreign device table (address, time-to-live, seconds remaining).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableEntry {
    pub address: SocketAddrV4,
    pub mask: Option<[u8; 4]>,
    pub ttl: Option<u16>,
    pub remaining: Option<u16>,
}

impl Default for TableEntry {
    fn default() -> Self {
        TableEntry {
            address: SocketAddrV4::new(std::net::Ipv4Addr::UNSPECIFIED, 0),
            mask: None,
            ttl: None,
            remaining: None,
        }
    }
}

/// The first property value of a PDU, when it is one primitive value.
#[derive(Clone, Debug, PartialEq)]
pub enum PropertyValue {
    Null,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Real(f64),
    /// Enumerated values, as their number.
    Enumerated(u64),
    Text(String),
    Object(ObjectId),
}

/// BACnet fields of one event. Absent (`None`, `false`, empty) fields are not
/// written; `docs/events.md` gives each one's Wireshark equivalent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BacnetFields {
    // BVLC
    pub bvlc_function: Option<u8>,
    pub bvlc_length: Option<u16>,
    pub bvlc_result: Option<u16>,
    /// Forwarded-NPDU: the B/IP address of the device that sent the NPDU.
    pub original_address: Option<SocketAddrV4>,
    /// Register-Foreign-Device: the time-to-live asked for, in seconds.
    pub ttl: Option<u16>,
    /// Delete-Foreign-Device-Table-Entry: the entry's address.
    pub fdt_address: Option<SocketAddrV4>,
    /// Write-BDT, Read-BDT-Ack, Read-FDT-Ack: the number of entries, and
    /// the first [`MAX_TABLE`] (allocated only for these rare messages).
    pub table_entries: Option<u16>,
    pub table: Vec<TableEntry>,
    // NPDU
    /// Only when not 1.
    pub npdu_version: Option<u8>,
    pub control: Option<u8>,
    pub dnet: Option<u16>,
    pub dadr: Option<Mac>,
    pub snet: Option<u16>,
    pub sadr: Option<Mac>,
    pub hop_count: Option<u8>,
    pub expecting_reply: bool,
    pub network_priority: u8,
    pub network_message_type: Option<u8>,
    pub nlm_vendor_id: Option<u16>,
    pub networks: List<u16, MAX_NETWORKS>,
    pub performance_index: Option<u8>,
    pub nlm_reject_reason: Option<u8>,
    pub termination_time: Option<u8>,
    pub network_number_status: Option<u8>,
    // APDU header
    pub apdu_type: Option<u8>,
    pub segmented: bool,
    pub more_follows: bool,
    pub segmented_response_accepted: bool,
    /// Max segments accepted (confirmed requests): 2–64, 65 for "more than 64".
    pub max_segments: Option<u32>,
    /// Max APDU length accepted, in octets (confirmed requests, I-Am).
    pub max_apdu: Option<u32>,
    pub invoke_id: Option<u8>,
    pub sequence_number: Option<u8>,
    /// Proposed (segmented requests and ACKs) or actual (segment ACK) window size.
    pub window_size: Option<u8>,
    pub negative_ack: bool,
    pub server: bool,
    /// Confirmed or unconfirmed service choice (by `apdu_type`).
    pub service: Option<u8>,
    // Service parameters
    pub objects: List<ObjectId, MAX_OBJECTS>,
    pub properties: List<u32, MAX_PROPERTIES>,
    pub array_index: Option<u32>,
    pub priority: Option<u64>,
    pub value: Option<PropertyValue>,
    pub vendor_id: Option<u32>,
    pub segmentation: Option<u32>,
    pub low_limit: Option<u64>,
    pub high_limit: Option<u64>,
    pub object_name: Option<String>,
    pub model_name: Option<String>,
    pub serial_number: Option<String>,
    pub process_id: Option<u64>,
    pub confirmed_notifications: Option<bool>,
    pub lifetime: Option<u64>,
    pub time_remaining: Option<u64>,
    pub duration: Option<u64>,
    pub enable_disable: Option<u32>,
    pub reinitialized_state: Option<u32>,
    /// DeviceCommunicationControl / ReinitializeDevice password (a cleartext credential).
    pub password: Option<String>,
    /// Set on DeviceCommunicationControl and ReinitializeDevice requests.
    pub password_present: Option<bool>,
    pub file_access: Option<&'static str>,
    pub file_start: Option<i64>,
    pub file_length: Option<u64>,
    pub end_of_file: Option<bool>,
    pub time: Option<String>,
    pub service_number: Option<u64>,
    pub error_class: Option<u32>,
    pub error_code: Option<u32>,
    pub reject_reason: Option<u8>,
    pub abort_reason: Option<u8>,
}

impl BacnetFields {
    pub fn object(&self) -> Option<ObjectId> {
        self.objects.first()
    }

    pub fn property(&self) -> Option<u32> {
        self.properties.first()
    }

    /// The name of the service (`service` read as confirmed or unconfirmed).
    pub fn service_name(&self) -> Option<&'static str> {
        let service = self.service?;
        match self.apdu_type? {
            names::apdu::UNCONFIRMED_REQUEST => names::unconfirmed_service(service),
            _ => names::confirmed_service(service),
        }
        .map(|(name, _)| name)
    }

    pub fn vendor(&self) -> Option<&'static str> {
        self.vendor_id.and_then(vendor_name)
    }

    pub fn visit(&self, v: &mut dyn Visitor) {
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
        fn flag(v: &mut dyn Visitor, name: &str, value: bool) {
            if value {
                v.field(name, Value::Bool(true));
            }
        }
        let text = |a: &SocketAddrV4| a.to_string();
        u(v, "bvlc_function", self.bvlc_function);
        s(
            v,
            "bvlc_function_name",
            self.bvlc_function.and_then(names::bvlc::name),
        );
        u(v, "bvlc_length", self.bvlc_length);
        u(v, "bvlc_result", self.bvlc_result);
        s(
            v,
            "bvlc_result_name",
            self.bvlc_result.and_then(names::bvlc::result_name),
        );
        if let Some(a) = &self.original_address {
            v.field("original_address", Value::Str(&text(a)));
        }
        u(v, "ttl", self.ttl);
        if let Some(a) = &self.fdt_address {
            v.field("fdt_address", Value::Str(&text(a)));
        }
        u(v, "table_entries", self.table_entries);
        if !self.table.is_empty() {
            v.begin("table", Nest::List);
            for entry in &self.table {
                v.begin("", Nest::Object);
                v.field("address", Value::Str(&text(&entry.address)));
                if let Some(mask) = entry.mask {
                    let mask = std::net::Ipv4Addr::from(mask).to_string();
                    v.field("mask", Value::Str(&mask));
                }
                u(v, "ttl", entry.ttl);
                u(v, "remaining", entry.remaining);
                v.end();
            }
            v.end();
        }
        u(v, "npdu_version", self.npdu_version);
        u(v, "control", self.control);
        u(v, "dnet", self.dnet);
        if let Some(mac) = self.dadr.as_ref().filter(|m| !m.octets().is_empty()) {
            v.field("dadr", Value::Hex(mac.octets()));
        }
        u(v, "snet", self.snet);
        if let Some(mac) = self.sadr.as_ref().filter(|m| !m.octets().is_empty()) {
            v.field("sadr", Value::Hex(mac.octets()));
        }
        u(v, "hop_count", self.hop_count);
        flag(v, "expecting_reply", self.expecting_reply);
        u(
            v,
            "network_priority",
            (self.network_priority != 0).then_some(self.network_priority),
        );
        u(v, "network_message_type", self.network_message_type);
        u(v, "nlm_vendor_id", self.nlm_vendor_id);
        if !self.networks.is_empty() {
            v.begin("networks", Nest::List);
            for &net in self.networks.as_slice() {
                v.field("", Value::U64(net.into()));
            }
            v.end();
        }
        u(v, "performance_index", self.performance_index);
        u(v, "nlm_reject_reason", self.nlm_reject_reason);
        u(v, "termination_time", self.termination_time);
        u(v, "network_number_status", self.network_number_status);
        u(v, "apdu_type", self.apdu_type);
        s(
            v,
            "apdu_type_name",
            self.apdu_type.and_then(names::apdu::name),
        );
        flag(v, "segmented", self.segmented);
        flag(v, "more_follows", self.more_follows);
        flag(
            v,
            "segmented_response_accepted",
            self.segmented_response_accepted,
        );
        u(v, "max_segments", self.max_segments);
        u(v, "max_apdu", self.max_apdu);
        u(v, "invoke_id", self.invoke_id);
        u(v, "sequence_number", self.sequence_number);
        u(v, "window_size", self.window_size);
        flag(v, "negative_ack", self.negative_ack);
        flag(v, "server", self.server);
        u(v, "service", self.service);
        s(v, "service_name", self.service_name());
        if let Some(object) = self.object() {
            u(v, "object_type", Some(object.object_type));
            s(
                v,
                "object_type_name",
                names::object_type(object.object_type),
            );
            u(v, "instance", Some(object.instance));
        }
        if self.objects.len() > 1 {
            v.begin("objects", Nest::List);
            for object in self.objects.as_slice() {
                v.begin("", Nest::Object);
                u(v, "object_type", Some(object.object_type));
                u(v, "instance", Some(object.instance));
                v.end();
            }
            v.end();
        }
        flag(v, "objects_truncated", self.objects.truncated());
        if let Some(p) = self.property() {
            u(v, "property", Some(p));
            s(v, "property_name", names::property(p));
        }
        if self.properties.len() > 1 {
            v.begin("properties", Nest::List);
            for &p in self.properties.as_slice() {
                v.field("", Value::U64(p.into()));
            }
            v.end();
        }
        flag(v, "properties_truncated", self.properties.truncated());
        u(v, "array_index", self.array_index);
        u(v, "priority", self.priority);
        match &self.value {
            None => {}
            Some(PropertyValue::Null) => v.field("value", Value::Str("null")),
            Some(PropertyValue::Bool(b)) => v.field("value", Value::Bool(*b)),
            Some(PropertyValue::Unsigned(n) | PropertyValue::Enumerated(n)) => {
                v.field("value", Value::U64(*n))
            }
            Some(PropertyValue::Signed(n)) => v.field("value", Value::I64(*n)),
            Some(PropertyValue::Real(x)) => v.field("value", Value::F64(*x)),
            Some(PropertyValue::Text(t)) => v.field("value", Value::Str(t)),
            Some(PropertyValue::Object(o)) => {
                v.begin("value", Nest::Object);
                u(v, "object_type", Some(o.object_type));
                u(v, "instance", Some(o.instance));
                v.end();
            }
        }
        u(v, "vendor_id", self.vendor_id);
        s(v, "vendor", self.vendor());
        s(
            v,
            "segmentation",
            self.segmentation.and_then(names::segmentation),
        );
        u(v, "low_limit", self.low_limit);
        u(v, "high_limit", self.high_limit);
        s(v, "object_name", self.object_name.as_deref());
        s(v, "model_name", self.model_name.as_deref());
        s(v, "serial_number", self.serial_number.as_deref());
        u(v, "process_id", self.process_id);
        if let Some(c) = self.confirmed_notifications {
            v.field("confirmed_notifications", Value::Bool(c));
        }
        u(v, "lifetime", self.lifetime);
        u(v, "time_remaining", self.time_remaining);
        u(v, "duration", self.duration);
        s(
            v,
            "enable_disable",
            self.enable_disable.and_then(names::enable_disable),
        );
        s(
            v,
            "reinitialized_state",
            self.reinitialized_state
                .and_then(names::reinitialized_state),
        );
        if let Some(password) = &self.password {
            v.field("password", Value::Secret(password));
        }
        if let Some(present) = self.password_present {
            v.field("password_present", Value::Bool(present));
        }
        s(v, "file_access", self.file_access);
        if let Some(start) = self.file_start {
            v.field("file_start", Value::I64(start));
        }
        u(v, "file_length", self.file_length);
        if let Some(eof) = self.end_of_file {
            v.field("end_of_file", Value::Bool(eof));
        }
        s(v, "time", self.time.as_deref());
        u(v, "service_number", self.service_number);
        u(v, "error_class", self.error_class);
        s(
            v,
            "error_class_name",
            self.error_class.and_then(names::error_class),
        );
        u(v, "error_code", self.error_code);
        s(
            v,
            "error_code_name",
            self.error_code.and_then(names::error_code),
        );
        u(v, "reject_reason", self.reject_reason);
        s(
            v,
            "reject_reason_name",
            self.reject_reason.and_then(names::reject_reason),
        );
        u(v, "abort_reason", self.abort_reason);
        s(
            v,
            "abort_reason_name",
            self.abort_reason.and_then(names::abort_reason),
        );
    }
}

/// The name ASHRAE registered for BACnet vendor `id` (ids the registry keeps
/// as "Reserved for ASHRAE" have none).
pub fn vendor_name(id: u32) -> Option<&'static str> {
    vendors::name(Registry::Bacnet, id).filter(|n| !n.starts_with("Reserved"))
}

/// The big-endian 16-bit value at `at`, if the slice holds it.
pub(crate) fn be16(b: &[u8], at: usize) -> Option<u16> {
    let bytes = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*bytes.first()?, *bytes.get(1)?]))
}

/// What decoding one datagram gives, before it becomes a [`Pdu`].
#[derive(Debug)]
struct Out {
    f: BacnetFields,
    a: Anomalies,
    function: &'static str,
    class: FunctionClass,
    function_code: Option<u32>,
    is_response: bool,
    identity: Identity,
    /// The identity may describe the sender: false when the NPDU was
    /// forwarded by a BBMD or routed from another network.
    identity_from_sender: bool,
}

impl Out {
    fn new() -> Out {
        Out {
            f: BacnetFields::default(),
            a: Anomalies::new(),
            function: "invalid",
            class: FunctionClass::Other,
            function_code: None,
            is_response: false,
            identity: Identity::default(),
            identity_from_sender: true,
        }
    }

    fn named(&mut self, function: &'static str, class: FunctionClass) {
        self.function = function;
        self.class = class;
    }

    fn into_pdu(self) -> Pdu {
        let identity = (self.identity_from_sender && !self.identity.is_empty())
            .then(|| Box::new(self.identity));
        Pdu {
            protocol: Protocol::Bacnet,
            is_response: self.is_response,
            function_code: self.function_code,
            function: self.function,
            class: self.class,
            anomalies: self.a,
            fields: Fields::Bacnet(Box::new(self.f)),
            identity,
        }
    }
}

/// Decodes one UDP datagram (a BVLC message, or a bare NPDU) into its event.
/// Pure and total: any input gives a PDU, odd input one with anomalies.
pub fn decode(datagram: &[u8]) -> Pdu {
    let mut out = Out::new();
    match datagram.first() {
        Some(&BVLC_TYPE) => bvlc::decode(datagram, &mut out),
        Some(&NPDU_VERSION) => npdu::decode(datagram, &mut out),
        _ => out.a.add(INVALID_BVLC_HEADER),
    }
    out.into_pdu()
}

/// BACnet/IP on one UDP conversation. The decoder keeps no state between
/// datagrams (requests and answers are not paired: an answer's invoke id
/// and service say what it answers).
#[derive(Debug, Default)]
pub struct BacnetParser;

impl BacnetParser {
    pub fn new() -> Self {
        BacnetParser
    }
}

impl DatagramParser for BacnetParser {
    fn parse(&mut self, datagram: &[u8], out: &mut Emitter<'_>) {
        out.emit(decode(datagram));
    }
}

/// Recognises BACnet/IP by structure: BVLC type 0x81 and a function Annex J
/// defines. On port 47808 the BVLC length must also equal the datagram's,
/// or the message carry an NPDU of version 1 (some devices write a wrong
/// BVLC length; Wireshark decodes them, and so does the sensor). On another
/// port the length must be right, and the message must carry an NPDU of
/// version 1 whose header and APDU decode without anomalies (BVLC messages
/// without NPDU are too short to tell apart from other protocols). Modbus,
/// DNP3, TPKT, HTTP and TLS bytes all fail the type octet.
pub fn probe(datagram: &[u8], _direction: Direction, on_known_port: bool) -> Probe {
    let (Some(&BVLC_TYPE), Some(&function), Some(length)) =
        (datagram.first(), datagram.get(1), be16(datagram, 2))
    else {
        return Probe::NoMatch;
    };
    if names::bvlc::name(function).is_none() {
        return Probe::NoMatch;
    }
    let exact = usize::from(length) == datagram.len();
    let npdu_version = match function {
        names::bvlc::FORWARDED_NPDU => datagram.get(10),
        f if names::bvlc::carries_npdu(f) => datagram.get(4),
        _ => None,
    };
    let npdu = npdu_version == Some(&NPDU_VERSION);
    if on_known_port {
        return if exact || npdu {
            Probe::Match
        } else {
            Probe::NoMatch
        };
    }
    if !(exact && npdu) {
        return Probe::NoMatch;
    }
    let pdu = decode(datagram);
    if pdu.anomalies.is_empty() && pdu.function != "invalid" {
        Probe::Match
    } else {
        Probe::NoMatch
    }
}
