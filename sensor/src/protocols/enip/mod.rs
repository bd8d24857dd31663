//! EtherNet/IP and CIP: the encapsulation (TCP and UDP 44818), the CIP
//! messages it carries (explicit messaging in SendRRData and SendUnitData,
//! with Multiple Service Packets, Unconnected Sends and Forward Opens), and
//! implicit I/O (UDP 2222), with request/response pairing per connection.
//!
//! **What a PDU is.** Each encapsulation message gives one *top-level*
//! event: protocol `enip` when it carries no CIP message (ListIdentity,
//! RegisterSession…), protocol `cip` when it does (the CIP message in the
//! unconnected or connected data item). A Multiple Service Packet or an
//! Unconnected Send request is itself a CIP message (the container event),
//! and each message embedded in it gives one more event, right after its
//! container, with `parent_service` and (in a Multiple Service Packet) its
//! `index`. An implicit I/O datagram (a CPF without encapsulation header)
//! is one `cip` event, `implicit_io`. Bytes that cannot start an
//! encapsulation header are one `invalid` event per run.
//!
//! Layout: [`names`] holds the code values, their names and classes,
//! [`vendors`] the ODVA vendor list, `encap` the header and CPF items,
//! `cip` the CIP message and path decoding; this file the framing, the
//! pairing state, the event fields and the probes.

mod cip;
mod encap;
pub mod names;
mod pccc;
pub mod vendors;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::num::NonZeroU64;

use super::{DatagramParser, Direction, Emitter, Probe, StreamParser};
use crate::event::{
    Anomalies, Fields, FunctionClass, Identity, Nest, Pdu, Protocol, Value, Visitor,
};
pub use cip::{Connection, NetworkParams, PathInfo};
use cip::{Message, parse_message, parse_path};
pub use encap::device_identity;
use encap::{Cpf, HEADER_LEN, Header, IdentityItem, ItemTypes, ServiceItem, SockAddr, le16, le32};
use names::{Command, Service, Target, describe_service, item};
pub use pccc::Pccc;

/// EtherNet/IP explicit messaging and discovery (TCP and UDP).
pub const PORT: u16 = 44818;
/// Implicit (I/O) messaging (UDP).
pub const IO_PORT: u16 = 2222;

/// Requests awaiting a response, per connection.
pub const MAX_PENDING: usize = 64;
/// Embedded services decoded in one Multiple Service Packet.
pub const MAX_SERVICES: usize = 64;
/// Nesting of containers decoded (an Unconnected Send holding a Multiple
/// Service Packet is depth 2).
const MAX_DEPTH: u8 = 3;
/// Connection id pairs learnt from Forward Opens on one TCP connection.
const MAX_CONNECTIONS: usize = 32;
/// ListServices items kept.
const MAX_SERVICE_ITEMS: usize = 4;

/// Stable anomaly names of this decoder.
pub mod anomaly {
    /// Bytes that cannot start an encapsulation header (with `unknown_command`).
    pub const INVALID_ENCAPSULATION_HEADER: &str = "invalid_encapsulation_header";
    /// An encapsulation command the specification does not define.
    pub const UNKNOWN_COMMAND: &str = "unknown_command";
    /// The header's length disagrees with the datagram or the items.
    pub const LENGTH_MISMATCH: &str = "length_mismatch";
    /// The encapsulation options field is not zero.
    pub const NONZERO_OPTIONS: &str = "nonzero_options";
    /// The command-specific data ends before its fixed fields do.
    pub const TRUNCATED_COMMAND_DATA: &str = "truncated_command_data";
    /// A CPF item runs past the data.
    pub const TRUNCATED_CPF_ITEM: &str = "truncated_cpf_item";
    /// A socket address item that is not 16 bytes of an AF_INET address.
    pub const BAD_SOCKADDR_ITEM: &str = "bad_sockaddr_item";
    pub const UNKNOWN_ITEM_TYPE: &str = "unknown_item_type";
    /// More CPF items than are kept (8).
    pub const TOO_MANY_ITEMS: &str = "too_many_items";
    /// SendRRData/SendUnitData without an unconnected or connected data item.
    pub const MISSING_DATA_ITEM: &str = "missing_data_item";
    /// A CIP message shorter than its header.
    pub const TRUNCATED_CIP_MESSAGE: &str = "truncated_cip_message";
    /// A request path longer than the message.
    pub const TRUNCATED_PATH: &str = "truncated_path";
    /// A path segment of a reserved type or format.
    pub const INVALID_PATH_SEGMENT: &str = "invalid_path_segment";
    /// A path segment running past the path.
    pub const TRUNCATED_PATH_SEGMENT: &str = "truncated_path_segment";
    /// Service data shorter than its fixed fields (Forward Open, attribute
    /// lists, Multiple Service Packet, Unconnected Send).
    pub const TRUNCATED_SERVICE_DATA: &str = "truncated_service_data";
    /// A Multiple Service Packet offset outside its data.
    pub const INVALID_SERVICE_OFFSET: &str = "invalid_service_offset";
    /// More embedded services than are decoded (64).
    pub const TOO_MANY_SERVICES: &str = "too_many_services";
    /// Containers nested deeper than decoded (3).
    pub const NESTING_TOO_DEEP: &str = "nesting_too_deep";
    /// A reserved common service code (below 0x4B, not defined).
    pub const UNKNOWN_SERVICE: &str = "unknown_service";
    pub const UNKNOWN_GENERAL_STATUS: &str = "unknown_general_status";
    /// No pending request matches (expected at the start of a capture).
    pub const RESPONSE_WITHOUT_REQUEST: &str = "response_without_request";
    /// The response's service differs from its request's.
    pub const SERVICE_MISMATCH: &str = "service_mismatch";
    /// The pending table was full: the oldest request was forgotten.
    pub const PENDING_TABLE_FULL: &str = "pending_table_full";

    /// Every anomaly name, for rule validation.
    pub const ALL: &[&str] = &[
        INVALID_ENCAPSULATION_HEADER,
        UNKNOWN_COMMAND,
        LENGTH_MISMATCH,
        NONZERO_OPTIONS,
        TRUNCATED_COMMAND_DATA,
        TRUNCATED_CPF_ITEM,
        BAD_SOCKADDR_ITEM,
        UNKNOWN_ITEM_TYPE,
        TOO_MANY_ITEMS,
        MISSING_DATA_ITEM,
        TRUNCATED_CIP_MESSAGE,
        TRUNCATED_PATH,
        INVALID_PATH_SEGMENT,
        TRUNCATED_PATH_SEGMENT,
        TRUNCATED_SERVICE_DATA,
        INVALID_SERVICE_OFFSET,
        TOO_MANY_SERVICES,
        NESTING_TOO_DEEP,
        UNKNOWN_SERVICE,
        UNKNOWN_GENERAL_STATUS,
        RESPONSE_WITHOUT_REQUEST,
        SERVICE_MISMATCH,
        PENDING_TABLE_FULL,
    ];
}
use anomaly::*;

/// Every `function` name `enip` events carry, for rule validation.
pub fn enip_function_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = (0..=0xff_u16)
        .filter_map(|c| names::Command(c).name())
        .collect();
    names.extend(["unknown", "invalid"]);
    names
}

/// Every `function` name `cip` events carry, for rule validation.
pub fn cip_function_names() -> Vec<&'static str> {
    use names::{Service, Target, class};
    let targets = [
        None,
        Some(Target {
            symbolic: true,
            ..Target::default()
        }),
        Some(Target::of_class(class::CONNECTION_MANAGER)),
        Some(Target::of_class(class::FILE)),
        Some(Target::of_class(class::SYMBOL)),
        Some(Target::of_class(class::PCCC)),
        Some(Target::of_class(class::IDENTITY)),
        Some(Target::of_class(class::NVS)),
    ];
    let mut names: Vec<&'static str> = (0..=0x7f_u8)
        .flat_map(|code| {
            targets
                .iter()
                .map(move |t| names::describe_service(Service(code), *t).0)
        })
        .collect();
    names.extend(pccc::function_names());
    names.extend(["implicit_io", "invalid"]);
    names.sort_unstable();
    names.dedup();
    names
}

/// What an event describes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kind {
    /// An encapsulation message without CIP (`enip`).
    #[default]
    Encapsulation,
    /// A CIP explicit message (`cip`).
    Cip,
    /// An implicit I/O datagram (`cip`).
    Io,
    /// Bytes that are not an encapsulation header (`enip`).
    Invalid,
}

/// What the analysis knows about an I/O connection from its Forward Open
/// (seen on another flow).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IoLink {
    /// Packet of the Forward Open reply.
    pub forward_open_packet: u64,
    /// `o_to_t` (the originator's outputs) or `t_to_o` (the target's inputs).
    pub direction: &'static str,
    /// The interval the target granted (API), else the one requested (RPI).
    pub rpi_us: Option<u32>,
    pub transport_class: Option<u8>,
    pub connection_serial: u16,
    pub originator_vendor_id: u16,
    pub originator_serial: u32,
}

/// EtherNet/IP and CIP fields of one event (both protocols). Absent
/// (`None`) fields are not written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EnipFields {
    pub kind: Kind,
    /// Encapsulation command (Wireshark `enip.command`).
    pub command: Option<u16>,
    /// Encapsulation length (Wireshark `enip.length`).
    pub length: Option<u16>,
    /// Session handle (Wireshark `enip.session`).
    pub session: Option<u32>,
    /// Encapsulation status (Wireshark `enip.status`).
    pub encapsulation_status: Option<u32>,
    pub sender_context: Option<[u8; 8]>,
    /// Encapsulation options, when not zero.
    pub options: Option<u32>,
    /// CPF item types (Wireshark `enip.cpf.typeid`).
    pub items: ItemTypes,
    /// Socket address items (Wireshark `enip.sinaddr`, `enip.sinport`);
    /// boxed, as few messages carry them.
    pub sockaddrs: Option<Box<SockAddrs>>,
    /// Connection id of the connected or sequenced address item (Wireshark
    /// `enip.cpf.cai.connid`, `enip.cpf.sai.connid`).
    pub connection_id: Option<u32>,
    /// Connected explicit messages: the CIP sequence count; I/O: the
    /// sequenced address item's sequence number (`enip.cpf.sai.seq`).
    pub sequence: Option<u32>,
    /// I/O: the first two data bytes, the 16-bit CIP sequence count of class
    /// 1 connections (removed by the analysis when the connection is class 0).
    pub cip_sequence: Option<u16>,
    /// CIP service without the response bit (Wireshark `cip.sc`).
    pub service: Option<u8>,
    /// The service's name (the event's `function`).
    pub service_name: Option<&'static str>,
    /// Request path (a response carries its request's; Wireshark
    /// `cip.class`, `cip.instance`, `cip.attribute`). The class is written
    /// as `class_id` (`class` is the event's function class).
    pub class: Option<u32>,
    pub instance: Option<u32>,
    pub attribute: Option<u32>,
    /// Get/Set_Attribute_List attribute ids, as far as they can be walked.
    pub attributes: Box<[u16]>,
    pub member: Option<u32>,
    pub connection_point: Option<u32>,
    /// Symbolic path (Wireshark `cip.symbol`, joined).
    pub tag: Option<Box<str>>,
    /// CIP general status (Wireshark `cip.genstat`).
    pub status: Option<u8>,
    /// First additional status word (Wireshark `cip.addstat`).
    pub extended_status: Option<u16>,
    /// Embedded messages: the container's service.
    pub parent_service: Option<&'static str>,
    /// Position in a Multiple Service Packet (0-based).
    pub index: Option<u16>,
    /// Multiple Service Packet: the number of services, as declared.
    pub services: Option<u16>,
    /// Unconnected Send route (`1,0`), on the container and its message.
    pub route_path: Option<Box<str>>,
    /// Bytes of CIP service data (request or response data after the header).
    pub data_length: Option<u32>,
    /// Execute PCCC: the PCCC command (boxed: most events have none).
    pub pccc: Option<Box<Pccc>>,
    /// Packet of the paired request (packets count from 1).
    pub request_packet: Option<NonZeroU64>,
    /// An Identity reset classed `firmware`: the packet that started the
    /// File object download it makes take effect.
    pub firmware_download_packet: Option<NonZeroU64>,
    /// Forward Open / Large Forward Open / Forward Close parameters.
    pub connection: Option<Box<Connection>>,
    /// ListIdentity reply item.
    pub device: Option<Box<IdentityItem>>,
    /// ListServices reply items.
    pub services_offered: Box<[ServiceItem]>,
    /// RegisterSession protocol version and option flags.
    pub protocol_version: Option<u16>,
    pub option_flags: Option<u16>,
    /// Bytes skipped as not EtherNet/IP (on `invalid` events only).
    pub skipped_bytes: Option<u32>,
    /// Analysis: the I/O connection's Forward Open.
    pub io: Option<Box<IoLink>>,
}

fn u<T: Into<u64>>(v: &mut dyn Visitor, name: &str, value: Option<T>) {
    if let Some(value) = value {
        v.field(name, Value::U64(value.into()));
    }
}

fn s(v: &mut dyn Visitor, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        v.field(name, Value::Str(value));
    }
}

impl EnipFields {
    /// Writes Forward Open / Forward Close parameters as `connection`.
    fn visit_connection(c: &Connection, v: &mut dyn Visitor) {
        v.begin("connection", Nest::Object);
        u(v, "o_t_connection_id", c.o_t_connection_id);
        u(v, "t_o_connection_id", c.t_o_connection_id);
        u(v, "connection_serial", Some(c.connection_serial));
        u(v, "originator_vendor_id", Some(c.originator_vendor_id));
        s(
            v,
            "originator_vendor",
            vendors::vendor_name(c.originator_vendor_id),
        );
        u(v, "originator_serial", Some(c.originator_serial));
        u(v, "timeout_multiplier", c.timeout_multiplier);
        u(v, "o_t_rpi_us", c.o_t_rpi_us);
        u(v, "t_o_rpi_us", c.t_o_rpi_us);
        u(v, "o_t_api_us", c.o_t_api_us);
        u(v, "t_o_api_us", c.t_o_api_us);
        for (name, params) in [
            ("o_t_network", c.o_t_network),
            ("t_o_network", c.t_o_network),
        ] {
            if let Some(p) = params {
                v.begin(name, Nest::Object);
                s(v, "type", Some(p.type_name()));
                s(v, "priority", Some(p.priority_name()));
                v.field("variable_size", Value::Bool(p.variable_size));
                u(v, "size", Some(p.size));
                if p.redundant_owner {
                    v.field("redundant_owner", Value::Bool(true));
                }
                v.end();
            }
        }
        u(v, "transport_class", c.transport_class());
        s(v, "trigger", c.trigger());
        s(v, "role", c.role());
        s(v, "connection_path", c.connection_path.as_deref());
        u(v, "remaining_path_size", c.remaining_path_size);
        v.end();
    }

    pub fn visit(&self, v: &mut dyn Visitor) {
        let cip = matches!(self.kind, Kind::Cip | Kind::Io);
        u(v, "command", self.command);
        s(
            v,
            "command_name",
            self.command.and_then(|c| Command(c).name()),
        );
        u(v, "length", self.length);
        u(v, "session", self.session);
        if cip {
            u(v, "encapsulation_status", self.encapsulation_status);
        } else {
            u(v, "status", self.encapsulation_status);
            s(
                v,
                "status_name",
                self.encapsulation_status
                    .and_then(names::encapsulation_status_name),
            );
        }
        if let Some(context) = &self.sender_context {
            v.field("sender_context", Value::Hex(context));
        }
        u(v, "options", self.options);
        if !self.items.is_empty() {
            v.begin("items", Nest::List);
            for &t in self.items.as_slice() {
                v.field("", Value::U64(t.into()));
            }
            v.end();
        }
        if let Some(sockaddrs) = &self.sockaddrs {
            for (name, sockaddr) in [
                ("o_t_sockaddr", sockaddrs.o_t),
                ("t_o_sockaddr", sockaddrs.t_o),
            ] {
                if let Some(sockaddr) = sockaddr {
                    let mut buf = [0; SockAddr::TEXT_LEN];
                    v.field(name, Value::Str(sockaddr.text(&mut buf)));
                }
            }
        }
        u(v, "connection_id", self.connection_id);
        u(v, "sequence", self.sequence);
        u(v, "cip_sequence", self.cip_sequence);
        u(v, "service", self.service);
        s(v, "service_name", self.service_name);
        u(v, "class_id", self.class);
        s(v, "class_name", self.class.and_then(names::class_name));
        u(v, "instance", self.instance);
        u(v, "attribute", self.attribute);
        if !self.attributes.is_empty() {
            v.begin("attributes", Nest::List);
            for &id in &self.attributes {
                v.field("", Value::U64(id.into()));
            }
            v.end();
        }
        u(v, "member", self.member);
        u(v, "connection_point", self.connection_point);
        s(v, "tag", self.tag.as_deref());
        if cip {
            u(v, "status", self.status);
            s(
                v,
                "status_name",
                self.status.and_then(names::general_status_name),
            );
        }
        u(v, "extended_status", self.extended_status);
        s(v, "parent_service", self.parent_service);
        u(v, "index", self.index);
        u(v, "services", self.services);
        s(v, "route_path", self.route_path.as_deref());
        u(v, "data_length", self.data_length);
        if let Some(p) = &self.pccc {
            u(v, "pccc_command", p.command);
            u(v, "pccc_function_code", p.function_code);
            u(v, "pccc_response_code", p.response_code);
            u(v, "pccc_status", Some(p.status));
            u(v, "pccc_extended_status", p.extended_status);
            u(v, "pccc_transaction", Some(p.transaction));
        }
        u(
            v,
            "request_packet",
            self.request_packet.map(NonZeroU64::get),
        );
        u(
            v,
            "firmware_download_packet",
            self.firmware_download_packet.map(NonZeroU64::get),
        );
        if let Some(c) = &self.connection {
            Self::visit_connection(c, v);
        }
        if let Some(d) = &self.device {
            v.begin("device", Nest::Object);
            u(v, "encapsulation_version", Some(d.encapsulation_version));
            s(v, "socket_address", Some(&d.socket_address));
            u(v, "vendor_id", Some(d.vendor_id));
            s(v, "vendor", vendors::vendor_name(d.vendor_id));
            u(v, "device_type", Some(d.device_type));
            s(
                v,
                "device_type_name",
                names::device_type_name(d.device_type),
            );
            u(v, "product_code", Some(d.product_code));
            u(v, "revision_major", Some(d.revision_major));
            u(v, "revision_minor", Some(d.revision_minor));
            u(v, "device_status", Some(d.status));
            u(v, "serial_number", Some(d.serial_number));
            s(v, "product_name", Some(&d.product_name));
            u(v, "state", d.state);
            v.end();
        }
        if !self.services_offered.is_empty() {
            v.begin("services_offered", Nest::List);
            for item in &self.services_offered {
                v.begin("", Nest::Object);
                u(v, "version", Some(item.version));
                u(v, "capabilities", Some(item.capabilities));
                s(v, "name", Some(&item.name));
                v.end();
            }
            v.end();
        }
        u(v, "protocol_version", self.protocol_version);
        u(v, "option_flags", self.option_flags);
        u(v, "skipped_bytes", self.skipped_bytes);
        if let Some(io) = &self.io {
            v.begin("io", Nest::Object);
            u(v, "forward_open_packet", Some(io.forward_open_packet));
            s(v, "direction", Some(io.direction));
            u(v, "rpi_us", io.rpi_us);
            u(v, "transport_class", io.transport_class);
            u(v, "connection_serial", Some(io.connection_serial));
            u(v, "originator_vendor_id", Some(io.originator_vendor_id));
            u(v, "originator_serial", Some(io.originator_serial));
            v.end();
        }
    }
}

/// How a response finds its request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    /// SendRRData: the encapsulation sender context.
    Unconnected(u64),
    /// SendUnitData: the CIP sequence count, and the connection id the
    /// message travelled on.
    Connected { sequence: u16, connection: u32 },
}

/// What a request leaves for its response.
#[derive(Clone, Debug, Default)]
struct Request {
    service: u8,
    class: Option<u32>,
    instance: Option<u32>,
    attribute: Option<u32>,
    member: Option<u32>,
    connection_point: Option<u32>,
    tag: Option<String>,
    route_path: Option<String>,
    connection: Option<Box<Connection>>,
    /// An Identity reset after a File object download: the download's packet.
    firmware_download: Option<NonZeroU64>,
    /// Execute PCCC: the command, which names the reply too.
    pccc: Option<Pccc>,
    /// The messages of a Multiple Service Packet, or an Unconnected Send's one.
    embedded: Vec<Request>,
}

impl Request {
    fn target(&self) -> Target {
        Target {
            class: self.class,
            instance: self.instance,
            symbolic: self.tag.is_some(),
        }
    }
}

#[derive(Debug)]
struct Pending {
    key: Key,
    packet: u64,
    request: Request,
}

/// What the encapsulation says about the CIP message inside it.
#[derive(Clone, Copy, Debug, Default)]
struct Context {
    header: Option<Header>,
    items: ItemTypes,
    sockaddrs: SockAddrs,
    connection_id: Option<u32>,
    sequence: Option<u32>,
    key: Option<Key>,
}

impl Context {
    fn fields(&self, kind: Kind) -> EnipFields {
        EnipFields {
            kind,
            command: self.header.map(|h| h.command),
            length: self.header.map(|h| h.length),
            session: self.header.map(|h| h.session),
            encapsulation_status: self.header.map(|h| h.status),
            sender_context: self.header.map(|h| h.sender_context),
            options: self.header.map(|h| h.options).filter(|&o| o != 0),
            items: self.items,
            sockaddrs: self.sockaddrs.any().then(|| Box::new(self.sockaddrs)),
            connection_id: self.connection_id,
            sequence: self.sequence,
            ..EnipFields::default()
        }
    }
}

/// Where an embedded message sits.
#[derive(Clone, Copy, Debug, Default)]
struct Place {
    depth: u8,
    parent: Option<&'static str>,
    index: Option<u16>,
}

fn pdu(
    protocol: Protocol,
    is_response: bool,
    function_code: Option<u32>,
    (function, class): (&'static str, FunctionClass),
    anomalies: Anomalies,
    mut fields: EnipFields,
    identity: Option<Box<Identity>>,
) -> Pdu {
    if fields.service.is_some() && fields.service_name.is_none() {
        fields.service_name = Some(function);
    }
    Pdu {
        protocol,
        is_response,
        function_code,
        function,
        class,
        anomalies,
        fields: Fields::Enip(Box::new(fields)),
        identity,
    }
}

/// The socket address info items of a message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SockAddrs {
    pub o_t: Option<SockAddr>,
    pub t_o: Option<SockAddr>,
}

impl SockAddrs {
    fn any(&self) -> bool {
        self.o_t.is_some() || self.t_o.is_some()
    }
}

/// The socket address item of `type_id`, if the CPF has one; an item that
/// is not 16 bytes of an AF_INET address is reported (and still read when
/// the address is there).
fn sockaddr(cpf: &Cpf<'_>, type_id: u16, a: &mut Anomalies) -> Option<SockAddr> {
    let item = cpf.find(type_id)?;
    let parsed = SockAddr::parse(item.data);
    if item.data.len() != SockAddr::LEN || parsed.is_none_or(|s| s.family != SockAddr::AF_INET) {
        a.add(BAD_SOCKADDR_ITEM);
    }
    parsed
}

/// How the bytes at the start of a stream buffer frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    Frame(usize),
    Incomplete,
    /// Not an encapsulation header.
    Invalid,
}

fn framing(b: &[u8]) -> Framing {
    let Some(command) = le16(b, encap::field::COMMAND) else {
        return Framing::Incomplete;
    };
    if Command(command).name().is_none() {
        return Framing::Invalid;
    }
    let Some(length) = le16(b, encap::field::LENGTH) else {
        return Framing::Incomplete;
    };
    let size = HEADER_LEN + usize::from(length);
    if b.len() < size {
        Framing::Incomplete
    } else {
        Framing::Frame(size)
    }
}

/// Whether a message plausibly starts at `b`, to resynchronise after
/// garbage: a whole header with a defined command other than NOP and zero
/// options.
fn plausible_start(b: &[u8]) -> bool {
    let Some(h) = Header::parse(b) else {
        return false;
    };
    h.command != Command::NOP.0 && Command(h.command).name().is_some() && h.options == 0
}

/// Per-conversation EtherNet/IP state: CIP requests awaiting their response,
/// and the connection ids Forward Opens paired. Used for TCP streams and
/// UDP datagrams alike.
///
/// The stream parser keeps no partial bytes: an incomplete message is left
/// unconsumed. Bytes that cannot start an encapsulation header (an undefined
/// command) are reported as one `invalid` event and skipped up to the next
/// plausible header, or all of them.
#[derive(Debug, Default)]
pub struct EnipParser {
    /// Oldest first.
    pending: VecDeque<Pending>,
    /// `(O→T, T→O)` connection ids of Forward Opens answered on this connection.
    connections: VecDeque<(u32, u32)>,
    /// The last File object download on this connection not yet followed by
    /// an Identity reset.
    download: Option<FileDownload>,
}

/// A File object download into a device's own file (not its EDS or icon).
#[derive(Debug)]
struct FileDownload {
    /// The packet that started it: its Initiate_Download, else the first
    /// Download_Transfer seen.
    packet: u64,
    instance: Option<u32>,
    /// The Unconnected Send route to the device, when routed.
    route: Option<String>,
}

impl EnipParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes one whole encapsulation message (header and data).
    fn message(&mut self, msg: &[u8], mut a: Anomalies, out: &mut Emitter<'_>) {
        let Some(header) = Header::parse(msg) else {
            return;
        };
        let command = Command(header.command);
        let data = msg.get(HEADER_LEN..).unwrap_or_default();
        if header.options != 0 {
            a.add(NONZERO_OPTIONS);
        }
        let mut ctx = Context {
            header: Some(header),
            ..Context::default()
        };
        let by_direction = out.direction() == Direction::ToClient;
        match command {
            Command::SEND_RR_DATA | Command::SEND_UNIT_DATA => {
                // Interface handle (4), timeout (2), then the CPF.
                let cpf = match data.get(6..) {
                    Some(cpf) => Cpf::parse(cpf, &mut a),
                    None => {
                        a.add(TRUNCATED_COMMAND_DATA);
                        Cpf::default()
                    }
                };
                ctx.items = cpf.types;
                ctx.sockaddrs = SockAddrs {
                    o_t: sockaddr(&cpf, item::SOCKADDR_O_T, &mut a),
                    t_o: sockaddr(&cpf, item::SOCKADDR_T_O, &mut a),
                };
                let cip = if let Some(item) = cpf.find(item::UNCONNECTED_DATA) {
                    ctx.key = Some(Key::Unconnected(header.context()));
                    Some(item.data)
                } else if let Some(item) = cpf.find(item::CONNECTED_DATA) {
                    ctx.connection_id = cpf
                        .find(item::CONNECTED_ADDRESS)
                        .and_then(|i| le32(i.data, 0));
                    let sequence = le16(item.data, 0);
                    ctx.sequence = sequence.map(u32::from);
                    if let Some(sequence) = sequence {
                        ctx.key = Some(Key::Connected {
                            sequence,
                            connection: ctx.connection_id.unwrap_or_default(),
                        });
                    }
                    Some(item.data.get(2..).unwrap_or_default())
                } else {
                    if !cpf.types.is_empty() || data.len() > 6 {
                        a.add(MISSING_DATA_ITEM);
                    }
                    None
                };
                match cip.filter(|c| !c.is_empty()) {
                    Some(cip) => self.cip(cip, &ctx, a, out),
                    None => {
                        let f = ctx.fields(Kind::Encapsulation);
                        out.emit(pdu(
                            Protocol::Enip,
                            by_direction,
                            Some(header.command.into()),
                            (command.name().unwrap_or("unknown"), command.class()),
                            a,
                            f,
                            None,
                        ));
                    }
                }
            }
            _ => {
                let mut f = ctx.fields(Kind::Encapsulation);
                let mut identity = None;
                let mut is_response = by_direction;
                match command {
                    Command::LIST_IDENTITY
                    | Command::LIST_SERVICES
                    | Command::LIST_INTERFACES
                    | Command::LIST_TARGETS => {
                        // Requests carry no data; replies carry items.
                        is_response = !data.is_empty();
                        if is_response {
                            let cpf = Cpf::parse(data, &mut a);
                            f.items = cpf.types;
                            if let Some(item) = cpf.find(item::LIST_IDENTITY) {
                                match IdentityItem::parse(item.data, &mut a) {
                                    Some(device) => {
                                        identity = Some(Box::new(device.identity()));
                                        f.device = Some(Box::new(device));
                                    }
                                    None => a.add(TRUNCATED_CPF_ITEM),
                                }
                            }
                            f.services_offered = cpf
                                .items()
                                .filter(|i| i.type_id == item::LIST_SERVICES)
                                .take(MAX_SERVICE_ITEMS)
                                .filter_map(|i| ServiceItem::parse(i.data))
                                .collect();
                        }
                    }
                    Command::REGISTER_SESSION => {
                        f.protocol_version = le16(data, 0);
                        f.option_flags = le16(data, 2);
                        if f.option_flags.is_none() {
                            a.add(TRUNCATED_COMMAND_DATA);
                        }
                    }
                    _ => {}
                }
                out.emit(pdu(
                    Protocol::Enip,
                    is_response,
                    Some(header.command.into()),
                    (command.name().unwrap_or("unknown"), command.class()),
                    a,
                    f,
                    identity,
                ));
            }
        }
    }

    /// Decodes the top-level CIP message of an encapsulation message.
    fn cip(&mut self, bytes: &[u8], ctx: &Context, mut a: Anomalies, out: &mut Emitter<'_>) {
        match parse_message(bytes, &mut a) {
            Some(Message::Request {
                service,
                path,
                data,
            }) => {
                if let Some(key @ Key::Connected { .. }) = ctx.key {
                    // A connected request repeated with the same sequence
                    // count is a retransmission: the reply answers the last.
                    self.pending.retain(|p| p.key != key);
                }
                if ctx.key.is_some() && self.pending.len() >= MAX_PENDING {
                    self.pending.pop_front();
                    a.add(PENDING_TABLE_FULL);
                }
                let request =
                    self.request(service, path, data, Place::default(), None, ctx, a, out);
                if let Some(key) = ctx.key {
                    self.pending.push_back(Pending {
                        key,
                        packet: out.header().packet,
                        request,
                    });
                }
            }
            Some(Message::Response {
                service,
                status,
                additional,
                data,
            }) => {
                let pending = ctx.key.and_then(|key| self.take_pending(key));
                if pending.is_none() {
                    a.add(RESPONSE_WITHOUT_REQUEST);
                }
                let (request, packet) = match &pending {
                    Some(p) => {
                        // An Unconnected Send is answered by its message's reply
                        // (the Connection Manager answers only when routing fails).
                        let routed = p.request.service == Service::UNCONNECTED_SEND.0
                            && p.request.class == Some(names::class::CONNECTION_MANAGER)
                            && service != Service::UNCONNECTED_SEND.0;
                        let request = if routed {
                            p.request.embedded.first()
                        } else {
                            Some(&p.request)
                        };
                        (request, Some(p.packet))
                    }
                    None => (None, None),
                };
                let response = Response {
                    service,
                    status,
                    additional,
                    data,
                };
                self.response(response, request, packet, Place::default(), ctx, a, out);
            }
            None => {}
        }
    }

    fn take_pending(&mut self, key: Key) -> Option<Pending> {
        let connections = &self.connections;
        super::take_pending(&mut self.pending, |p| match (p.key, key) {
            (Key::Unconnected(a), Key::Unconnected(b)) => a == b,
            (
                Key::Connected {
                    sequence: s1,
                    connection: request_conn,
                },
                Key::Connected {
                    sequence: s2,
                    connection: response_conn,
                },
            ) => {
                // When a Forward Open on this connection paired the ids, the
                // response must come on the request's connection's partner.
                s1 == s2
                    && connections
                        .iter()
                        .find(|(_, t_o)| *t_o == response_conn)
                        .is_none_or(|(o_t, _)| *o_t == request_conn)
            }
            _ => false,
        })
    }

    /// Decodes a request (emitting its event, then its embedded messages'),
    /// returning what its response will need.
    #[allow(clippy::too_many_arguments)]
    fn request(
        &mut self,
        service: u8,
        path: &[u8],
        data: &[u8],
        place: Place,
        route: Option<&str>,
        ctx: &Context,
        mut a: Anomalies,
        out: &mut Emitter<'_>,
    ) -> Request {
        let info = parse_path(path, false, &mut a);
        let mut request = Request {
            service,
            class: info.class,
            instance: info.instance,
            attribute: info.attribute,
            member: info.member,
            connection_point: info.connection_point,
            tag: info.tag,
            route_path: route.map(str::to_string),
            ..Request::default()
        };
        let target = request.target();
        let (service_name, class) = describe_service(Service(service), Some(target));
        if service_name == "reserved" {
            a.add(UNKNOWN_SERVICE);
        }
        let (function, class) = if service_name == "execute_pccc" {
            // The PCCC command inside names what the request does.
            request.pccc = pccc::request(data, &mut a);
            request
                .pccc
                .and_then(|p| pccc::describe(p.command?, p.function_code))
                .unwrap_or((service_name, class))
        } else {
            (service_name, class)
        };
        let class = self.track_firmware(&mut request, function, class, out.header().packet);
        let mut f = self.cip_fields(ctx, service, &request, place, data);
        f.service_name = Some(service_name);
        f.firmware_download_packet = request.firmware_download;
        f.pccc = request.pccc.map(Box::new);
        let mut embedded: Vec<&[u8]> = Vec::new();
        let mut embedded_route = None;
        match function {
            "multiple_service_packet" => {
                let (count, services) = cip::multiple_services(data, MAX_SERVICES, &mut a);
                f.services = Some(count);
                embedded = services;
            }
            "unconnected_send" => {
                let send = cip::unconnected_send(data, &mut a);
                let route_info = parse_path(send.route, false, &mut a);
                f.route_path = route_info.route.as_deref().map(Box::from);
                embedded_route = route_info.route;
                embedded.push(send.message);
            }
            "forward_open" | "large_forward_open" => {
                let large = function == "large_forward_open";
                request.connection = cip::forward_open_request(data, large, &mut a).map(Box::new);
                f.connection.clone_from(&request.connection);
            }
            "forward_close" => {
                request.connection = cip::forward_close_request(data, &mut a).map(Box::new);
                f.connection.clone_from(&request.connection);
            }
            "get_attribute_list" | "set_attribute_list" => {
                let values = function == "set_attribute_list";
                f.attributes = cip::attribute_list(
                    data,
                    values,
                    false,
                    request.class,
                    request.instance,
                    &mut a,
                )
                .into();
            }
            _ => {}
        }
        if !embedded.is_empty() && place.depth >= MAX_DEPTH {
            a.add(NESTING_TOO_DEEP);
            embedded.clear();
        }
        out.emit(pdu(
            Protocol::Cip,
            false,
            Some(service.into()),
            (function, class),
            a,
            f,
            None,
        ));
        for (i, message) in embedded.into_iter().enumerate() {
            let place = Place {
                depth: place.depth + 1,
                parent: Some(function),
                index: (function == "multiple_service_packet").then_some(i as u16),
            };
            let route = embedded_route.as_deref().or(route);
            let mut a = Anomalies::new();
            match parse_message(message, &mut a) {
                Some(Message::Request {
                    service,
                    path,
                    data,
                }) => {
                    let inner = self.request(service, path, data, place, route, ctx, a, out);
                    request.embedded.push(inner);
                }
                Some(Message::Response {
                    service,
                    status,
                    additional,
                    data,
                }) => {
                    // A reply where a request belongs: reported, not paired.
                    let response = Response {
                        service,
                        status,
                        additional,
                        data,
                    };
                    self.response(response, None, None, place, ctx, a, out);
                    request.embedded.push(Request::default());
                }
                None => {
                    a.add(TRUNCATED_CIP_MESSAGE);
                    request.embedded.push(Request::default());
                    self.truncated(place, ctx, a, out);
                }
            }
        }
        request
    }

    /// Follows File object downloads to catch the Identity reset that makes
    /// the downloaded image take effect (the File object's "reset to
    /// Identity object" invocation method): on the same connection and
    /// route, that reset is a firmware update, classed `firmware` and
    /// pointing at the download. Returns the request's class.
    fn track_firmware(
        &mut self,
        request: &mut Request,
        function: &str,
        class: FunctionClass,
        packet: u64,
    ) -> FunctionClass {
        match (request.class, function) {
            (Some(names::class::FILE), "initiate_download" | "download_transfer")
                if request.instance.is_some_and(|i| i != 0)
                    && !names::file_instance::is_eds_or_icon(request.instance) =>
            {
                let continues = self.download.as_ref().is_some_and(|d| {
                    d.instance == request.instance && d.route == request.route_path
                });
                if function == "initiate_download" || !continues {
                    self.download = Some(FileDownload {
                        packet,
                        instance: request.instance,
                        route: request.route_path.clone(),
                    });
                }
                class
            }
            (Some(names::class::IDENTITY), "reset") => {
                match self.download.take_if(|d| d.route == request.route_path) {
                    Some(download) => {
                        request.firmware_download = NonZeroU64::new(download.packet);
                        FunctionClass::Firmware
                    }
                    None => class,
                }
            }
            _ => class,
        }
    }

    /// An embedded message with no bytes at all (a bad offset).
    fn truncated(&mut self, place: Place, ctx: &Context, a: Anomalies, out: &mut Emitter<'_>) {
        let mut f = ctx.fields(Kind::Cip);
        f.parent_service = place.parent;
        f.index = place.index;
        out.emit(pdu(
            Protocol::Cip,
            false,
            None,
            ("invalid", FunctionClass::Other),
            a,
            f,
            None,
        ));
    }

    /// The fields every CIP event of this encapsulation message shares, with
    /// the request's path.
    fn cip_fields(
        &self,
        ctx: &Context,
        service: u8,
        request: &Request,
        place: Place,
        data: &[u8],
    ) -> EnipFields {
        let mut f = ctx.fields(Kind::Cip);
        f.service = Some(service);
        f.class = request.class;
        f.instance = request.instance;
        f.attribute = request.attribute;
        f.member = request.member;
        f.connection_point = request.connection_point;
        f.tag = request.tag.as_deref().map(Box::from);
        f.route_path = request.route_path.as_deref().map(Box::from);
        f.parent_service = place.parent;
        f.index = place.index;
        f.data_length = Some(u32::try_from(data.len()).unwrap_or(u32::MAX));
        f
    }

    /// Decodes a response (emitting its event, then its embedded replies').
    #[allow(clippy::too_many_arguments)]
    fn response(
        &mut self,
        r: Response<'_>,
        request: Option<&Request>,
        request_packet: Option<u64>,
        place: Place,
        ctx: &Context,
        mut a: Anomalies,
        out: &mut Emitter<'_>,
    ) {
        let request = match request {
            Some(req) if req.service != r.service => {
                a.add(SERVICE_MISMATCH);
                None
            }
            other => other,
        };
        let empty = Request::default();
        let mut f = self.cip_fields(ctx, r.service, request.unwrap_or(&empty), place, r.data);
        f.status = Some(r.status);
        f.extended_status = le16(r.additional, 0);
        f.request_packet = request_packet.and_then(NonZeroU64::new);
        if names::general_status_name(r.status).is_none() {
            a.add(UNKNOWN_GENERAL_STATUS);
        }
        let (service_name, class) =
            describe_service(Service(r.service), request.map(Request::target));
        if service_name == "reserved" {
            a.add(UNKNOWN_SERVICE);
        }
        f.service_name = Some(service_name);
        let (function, class) = if service_name == "execute_pccc" {
            // A failed Execute PCCC carries no PCCC reply.
            if r.status == 0 {
                f.pccc = pccc::reply(r.data, &mut a).map(|mut p| {
                    p.function_code = request.and_then(|q| q.pccc?.function_code);
                    Box::new(p)
                });
            }
            request
                .and_then(|q| q.pccc)
                .and_then(|p| pccc::describe(p.command?, p.function_code))
                .unwrap_or((service_name, class))
        } else {
            (service_name, class)
        };
        // A reply takes its request's meaning.
        f.firmware_download_packet = request.and_then(|q| q.firmware_download);
        let class = if f.firmware_download_packet.is_some() {
            FunctionClass::Firmware
        } else {
            class
        };
        let mut identity = None;
        let mut embedded: Vec<&[u8]> = Vec::new();
        let success = r.status == 0;
        match function {
            "multiple_service_packet" if !r.data.is_empty() => {
                let (count, services) = cip::multiple_services(r.data, MAX_SERVICES, &mut a);
                f.services = Some(count);
                embedded = services;
            }
            "forward_open" | "large_forward_open" | "forward_close" => {
                let open = function != "forward_close";
                if let Some(mut c) = cip::connection_reply(r.data, open, success, &mut a) {
                    if let Some(requested) = request.and_then(|q| q.connection.as_deref()) {
                        c.fill_from(requested);
                    }
                    if open && success {
                        self.learn(&c);
                    }
                    f.connection = Some(Box::new(c));
                }
            }
            "get_attribute_list" | "set_attribute_list" if !r.data.is_empty() => {
                let values = function == "get_attribute_list";
                f.attributes =
                    cip::attribute_list(r.data, values, true, f.class, f.instance, &mut a).into();
            }
            "get_attributes_all"
                if success
                    && f.class == Some(names::class::IDENTITY)
                    && f.instance == Some(1)
                    && f.route_path.is_none() =>
            {
                // The responder describes itself (unless the request was
                // routed to another device).
                if let Some(id) = cip::identity_attributes(r.data) {
                    identity = Some(Box::new(device_identity(
                        id.vendor_id,
                        id.device_type,
                        id.product_code,
                        id.revision,
                        id.serial,
                        &id.product_name,
                    )));
                }
            }
            _ => {}
        }
        if !embedded.is_empty() && place.depth >= MAX_DEPTH {
            a.add(NESTING_TOO_DEEP);
            embedded.clear();
        }
        out.emit(pdu(
            Protocol::Cip,
            true,
            Some(r.service.into()),
            (function, class),
            a,
            f,
            identity,
        ));
        for (i, message) in embedded.into_iter().enumerate() {
            let place = Place {
                depth: place.depth + 1,
                parent: Some(function),
                index: Some(i as u16),
            };
            let inner = request.and_then(|q| q.embedded.get(i));
            let mut a = Anomalies::new();
            match parse_message(message, &mut a) {
                Some(Message::Response {
                    service,
                    status,
                    additional,
                    data,
                }) => {
                    if inner.is_none() && request.is_some() {
                        a.add(RESPONSE_WITHOUT_REQUEST);
                    }
                    let response = Response {
                        service,
                        status,
                        additional,
                        data,
                    };
                    let packet = inner.and(request_packet);
                    self.response(response, inner, packet, place, ctx, a, out);
                }
                Some(Message::Request {
                    service,
                    path,
                    data,
                }) => {
                    // A request where a reply belongs: reported, not kept.
                    self.request(service, path, data, place, None, ctx, a, out);
                }
                None => {
                    a.add(TRUNCATED_CIP_MESSAGE);
                    self.truncated(place, ctx, a, out);
                }
            }
        }
    }

    /// Remembers the connection ids a Forward Open reply paired.
    fn learn(&mut self, c: &Connection) {
        if let (Some(o_t), Some(t_o)) = (c.o_t_connection_id, c.t_o_connection_id) {
            self.connections.retain(|&(o, t)| o != o_t && t != t_o);
            if self.connections.len() >= MAX_CONNECTIONS {
                self.connections.pop_front();
            }
            self.connections.push_back((o_t, t_o));
        }
    }

    /// Reports `skipped` bytes that are not EtherNet/IP.
    fn garbage(&mut self, skipped: &[u8], out: &mut Emitter<'_>) {
        let mut a = Anomalies::new();
        a.add(INVALID_ENCAPSULATION_HEADER);
        a.add(UNKNOWN_COMMAND);
        let f = EnipFields {
            kind: Kind::Invalid,
            command: le16(skipped, 0),
            skipped_bytes: Some(u32::try_from(skipped.len()).unwrap_or(u32::MAX)),
            ..EnipFields::default()
        };
        out.emit(pdu(
            Protocol::Enip,
            out.direction() == Direction::ToClient,
            None,
            ("invalid", FunctionClass::Other),
            a,
            f,
            None,
        ));
    }

    /// An implicit I/O datagram: a CPF with a sequenced (or connected)
    /// address item and a connected data item.
    fn io(&mut self, datagram: &[u8], out: &mut Emitter<'_>) {
        let mut a = Anomalies::new();
        let cpf = Cpf::parse(datagram, &mut a);
        let mut f = EnipFields {
            kind: Kind::Io,
            items: cpf.types,
            ..EnipFields::default()
        };
        if let Some(address) = cpf.find(item::SEQUENCED_ADDRESS) {
            f.connection_id = le32(address.data, 0);
            f.sequence = le32(address.data, 4);
        } else if let Some(address) = cpf.find(item::CONNECTED_ADDRESS) {
            f.connection_id = le32(address.data, 0);
        }
        match cpf.find(item::CONNECTED_DATA) {
            Some(data) => {
                f.data_length = Some(u32::try_from(data.data.len()).unwrap_or(u32::MAX));
                f.cip_sequence = le16(data.data, 0);
            }
            None => a.add(MISSING_DATA_ITEM),
        }
        out.emit(pdu(
            Protocol::Cip,
            out.direction() == Direction::ToClient,
            None,
            ("implicit_io", FunctionClass::Other),
            a,
            f,
            None,
        ));
    }
}

/// A response's header parts, for [`EnipParser::response`].
#[derive(Clone, Copy, Debug)]
struct Response<'a> {
    service: u8,
    status: u8,
    additional: &'a [u8],
    data: &'a [u8],
}

impl StreamParser for EnipParser {
    fn parse(&mut self, data: &[u8], out: &mut Emitter<'_>) -> usize {
        let mut consumed = 0;
        while let Some(rest) = data.get(consumed..).filter(|r| !r.is_empty()) {
            match framing(rest) {
                Framing::Incomplete => break,
                Framing::Frame(size) => {
                    self.message(rest.get(..size).unwrap_or(rest), Anomalies::new(), out);
                    consumed += size;
                }
                Framing::Invalid => {
                    let skip = (1..rest.len())
                        .find(|&at| rest.get(at..).is_some_and(plausible_start))
                        .unwrap_or(rest.len());
                    self.garbage(rest.get(..skip).unwrap_or(rest), out);
                    consumed += skip;
                }
            }
        }
        consumed
    }

    /// The parser holds no partial bytes; pending requests stay (their
    /// responses may still come).
    fn gap(&mut self, _dir: Direction) {}
}

impl DatagramParser for EnipParser {
    /// One datagram: an encapsulation message (UDP 44818) or an implicit I/O
    /// packet (UDP 2222), told apart by structure.
    fn parse(&mut self, datagram: &[u8], out: &mut Emitter<'_>) {
        match datagram_kind(datagram) {
            DatagramKind::Encapsulation => {
                let mut a = Anomalies::new();
                let size =
                    le16(datagram, encap::field::LENGTH).map_or(0, |l| HEADER_LEN + usize::from(l));
                if size != datagram.len() {
                    a.add(LENGTH_MISMATCH);
                }
                let msg = datagram.get(..size).unwrap_or(datagram);
                self.message(msg, a, out);
            }
            DatagramKind::Io => self.io(datagram, out),
            DatagramKind::Invalid => self.garbage(datagram, out),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DatagramKind {
    Encapsulation,
    Io,
    Invalid,
}

fn datagram_kind(d: &[u8]) -> DatagramKind {
    let header = Header::parse(d).filter(|h| Command(h.command).name().is_some());
    let exact = header.is_some_and(|h| HEADER_LEN + usize::from(h.length) == d.len());
    if exact {
        DatagramKind::Encapsulation
    } else if is_io(d) {
        DatagramKind::Io
    } else if header.is_some() {
        DatagramKind::Encapsulation
    } else {
        DatagramKind::Invalid
    }
}

/// Whether `d` is exactly an implicit I/O CPF: two items, a sequenced (8
/// bytes) or connected (4 bytes) address item, then a connected data item,
/// ending with the datagram.
fn is_io(d: &[u8]) -> bool {
    if le16(d, 0) != Some(2) {
        return false;
    }
    let address = (le16(d, 2), le16(d, 4));
    let address_len = match address {
        (Some(item::SEQUENCED_ADDRESS), Some(8)) => 8,
        (Some(item::CONNECTED_ADDRESS), Some(4)) => 4,
        _ => return false,
    };
    let at = 6 + address_len;
    le16(d, at) == Some(item::CONNECTED_DATA)
        && le16(d, at + 2).is_some_and(|len| at + 4 + usize::from(len) == d.len())
}

/// Whether the encapsulation at the start of `b` (a whole message) decodes
/// without structural anomalies.
fn clean_message(msg: &[u8], direction: Direction) -> bool {
    let mut events = Vec::new();
    let header = crate::event::Header {
        ts: crate::time::Timestamp::ZERO,
        capture: 0,
        packet: 0,
        seq: 0,
        flow: 0,
        src_mac: None,
        dst_mac: None,
        src_ip: None,
        dst_ip: None,
        src_port: None,
        dst_port: None,
        transport: crate::event::Transport::Tcp,
    };
    let mut emitter = Emitter::new(header, direction, &mut events);
    EnipParser::new().message(msg, Anomalies::new(), &mut emitter);
    events.iter().all(|e| {
        !e.pdu.anomalies.overflowed()
            && e.pdu.anomalies.iter().all(|n| {
                matches!(
                    n,
                    RESPONSE_WITHOUT_REQUEST | UNKNOWN_GENERAL_STATUS | SERVICE_MISMATCH
                )
            })
    })
}

/// Header checks shared by the probes: a defined command (not NOP, which
/// nothing opens with), zero options, a zero status in requests, and a
/// length the command allows.
fn plausible_header(h: &Header, direction: Direction) -> bool {
    let command = Command(h.command);
    if command == Command::NOP || command.name().is_none() || h.options != 0 {
        return false;
    }
    if direction == Direction::ToServer && h.status != 0 {
        return false;
    }
    match command {
        Command::REGISTER_SESSION => h.length == 4,
        Command::UNREGISTER_SESSION => h.length == 0,
        Command::SEND_RR_DATA | Command::SEND_UNIT_DATA => h.length >= 8,
        Command::LIST_IDENTITY
        | Command::LIST_SERVICES
        | Command::LIST_INTERFACES
        | Command::LIST_TARGETS => direction == Direction::ToClient || h.length == 0,
        _ => true,
    }
}

/// Recognises an EtherNet/IP TCP stream by structure: a defined command
/// (not NOP), zero options, a zero status in requests, and a length the
/// command allows (RegisterSession 4, UnRegisterSession 0, SendRRData and
/// SendUnitData at least 8, List* requests 0). On the well-known port the
/// header is enough; elsewhere the whole first message must be there and
/// decode without structural anomalies. HTTP, TLS, Modbus, DNP3 and TPKT
/// start with undefined commands.
pub fn probe(data: &[u8], direction: Direction, on_known_port: bool) -> Probe {
    let Some(command) = le16(data, 0) else {
        return Probe::NeedMore;
    };
    if command == Command::NOP.0 || Command(command).name().is_none() {
        return Probe::NoMatch;
    }
    let Some(header) = Header::parse(data) else {
        return Probe::NeedMore;
    };
    if !plausible_header(&header, direction) {
        return Probe::NoMatch;
    }
    if on_known_port {
        return Probe::Match;
    }
    match framing(data) {
        Framing::Frame(size) if clean_message(data.get(..size).unwrap_or(data), direction) => {
            Probe::Match
        }
        Framing::Frame(_) | Framing::Invalid => Probe::NoMatch,
        Framing::Incomplete => Probe::NeedMore,
    }
}

/// Recognises EtherNet/IP over UDP: an encapsulation message filling the
/// datagram exactly (with the header checks of [`probe`], and off the
/// well-known ports a clean decoding), or an implicit I/O CPF (exact item
/// structure, strong enough on any port).
pub fn probe_datagram(datagram: &[u8], direction: Direction, on_known_port: bool) -> Probe {
    if is_io(datagram) {
        return Probe::Match;
    }
    let Some(header) = Header::parse(datagram) else {
        return Probe::NoMatch;
    };
    if !plausible_header(&header, direction)
        || HEADER_LEN + usize::from(header.length) != datagram.len()
    {
        return Probe::NoMatch;
    }
    if on_known_port || clean_message(datagram, direction) {
        Probe::Match
    } else {
        Probe::NoMatch
    }
}
