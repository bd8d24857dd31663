//! CIP messages: request and response headers, EPATHs (the request path, the
//! route of an Unconnected Send, the connection path of a Forward Open), and
//! the service data this decoder reads (Multiple Service Packet, Unconnected
//! Send, Forward Open/Close, attribute lists, the Identity object). Pure
//! functions over slices; allocation only for the strings that go into events.

use std::fmt::Write as _;

use super::anomaly::*;
use super::encap::{le16, le32, text};
use super::names::{attribute_size, class};
use crate::event::Anomalies;

/// Longest tag name, route or connection path text kept (bytes).
pub const MAX_TEXT: usize = 256;
/// Attribute ids kept from one attribute list.
pub const MAX_ATTRIBUTES: usize = 64;

/// One CIP message, as its header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message<'a> {
    Request {
        service: u8,
        path: &'a [u8],
        data: &'a [u8],
    },
    Response {
        service: u8,
        status: u8,
        /// Additional status words, as sent.
        additional: &'a [u8],
        data: &'a [u8],
    },
}

/// Reads a message's header. Short input still gives a message, with
/// `truncated_cip_message` or `truncated_path` and what was there; `None`
/// only for no bytes at all.
pub fn parse_message<'a>(b: &'a [u8], a: &mut Anomalies) -> Option<Message<'a>> {
    let &first = b.first()?;
    let service = first & !0x80;
    if first & 0x80 == 0 {
        let Some(&words) = b.get(1) else {
            a.add(TRUNCATED_CIP_MESSAGE);
            return Some(Message::Request {
                service,
                path: &[],
                data: &[],
            });
        };
        let end = 2 + 2 * usize::from(words);
        let (path, data) = match (b.get(2..end), b.get(end..)) {
            (Some(path), Some(data)) => (path, data),
            _ => {
                a.add(TRUNCATED_PATH);
                (b.get(2..).unwrap_or_default(), &[][..])
            }
        };
        return Some(Message::Request {
            service,
            path,
            data,
        });
    }
    let (Some(&status), Some(&words)) = (b.get(2), b.get(3)) else {
        a.add(TRUNCATED_CIP_MESSAGE);
        return Some(Message::Response {
            service,
            status: b.get(2).copied().unwrap_or_default(),
            additional: &[],
            data: &[],
        });
    };
    let end = 4 + 2 * usize::from(words);
    let (additional, data) = match (b.get(4..end), b.get(end..)) {
        (Some(additional), Some(data)) => (additional, data),
        _ => {
            a.add(TRUNCATED_CIP_MESSAGE);
            (b.get(4..).unwrap_or_default(), &[][..])
        }
    };
    Some(Message::Response {
        service,
        status,
        additional,
        data,
    })
}

/// What an EPATH addresses. Repeated logical segments keep the first value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathInfo {
    pub class: Option<u32>,
    pub instance: Option<u32>,
    pub attribute: Option<u32>,
    /// A member segment that does not follow a symbol.
    pub member: Option<u32>,
    pub connection_point: Option<u32>,
    /// ANSI extended symbols joined with `.`, each followed by its element
    /// ids in brackets: `Program:Main.Tag[3,2].Field`.
    pub tag: Option<String>,
    /// Port segments: `port,link` pairs joined with `,` (`1,0` is slot 0 of
    /// the backplane; `2,10.0.0.5` a hop over an Ethernet port).
    pub route: Option<String>,
    /// Every segment in words (only when asked for): the connection path of
    /// a Forward Open.
    pub text: Option<String>,
}

/// Appends `piece` to `out` (separated by `sep`), within [`MAX_TEXT`].
fn append(out: &mut Option<String>, sep: &str, piece: std::fmt::Arguments<'_>) {
    let s = out.get_or_insert_with(String::new);
    if s.len() >= MAX_TEXT {
        return;
    }
    if !s.is_empty() {
        s.push_str(sep);
    }
    let _ = s.write_fmt(piece);
    if s.len() > MAX_TEXT {
        let mut end = MAX_TEXT;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

/// Parses an EPATH (padded format). Reserved segment types or formats stop
/// the walk with `invalid_path_segment`; a segment running past the path,
/// with `truncated_path_segment`.
pub fn parse_path(path: &[u8], with_text: bool, a: &mut Anomalies) -> PathInfo {
    let mut info = PathInfo::default();
    let mut text_out: Option<String> = None;
    let mut at = 0;
    // Whether the last segment was a symbol or one of its element ids.
    let mut in_symbol = false;
    while let Some(&seg) = path.get(at) {
        let size = match seg >> 5 {
            0 => port_segment(path, at, &mut info, with_text.then_some(&mut text_out)),
            1 => logical_segment(
                path,
                at,
                &mut info,
                &mut in_symbol,
                &mut text_out,
                with_text,
            ),
            2 => {
                // Network segments: 0x40–0x4F carry one byte, 0x50–0x5F a
                // word count and that many words.
                if seg & 0x10 == 0 {
                    Some(2)
                } else {
                    path.get(at + 1).map(|&words| 2 + 2 * usize::from(words))
                }
                .inspect(|_| {
                    if with_text {
                        append(&mut text_out, ", ", format_args!("network 0x{seg:02x}"));
                    }
                })
            }
            3 => {
                // Symbolic segment: the size in the low bits, then the symbol.
                let len = usize::from(seg & 0x1F);
                if len == 0 {
                    // Extended symbols (double-byte, numeric) are not named.
                    path.get(at + 1).map(|&f| 2 + usize::from(f & 0x1F) * 2)
                } else {
                    let symbol = path.get(at + 1..at + 1 + len);
                    if let Some(symbol) = symbol {
                        push_symbol(&mut info, symbol);
                        in_symbol = true;
                        if with_text {
                            append(&mut text_out, ", ", format_args!("symbol {}", text(symbol)));
                        }
                    }
                    symbol.map(|_| (1 + len + 1) & !1)
                }
            }
            4 => match seg {
                // Simple data segment: word count, words.
                0x80 => path.get(at + 1).map(|&words| 2 + 2 * usize::from(words)),
                // ANSI extended symbol: length, characters, pad to even.
                0x91 => path.get(at + 1).and_then(|&len| {
                    let len = usize::from(len);
                    let symbol = path.get(at + 2..at + 2 + len)?;
                    push_symbol(&mut info, symbol);
                    in_symbol = true;
                    if with_text {
                        append(&mut text_out, ", ", format_args!("symbol {}", text(symbol)));
                    }
                    Some((2 + len + 1) & !1)
                }),
                _ => {
                    a.add(INVALID_PATH_SEGMENT);
                    break;
                }
            },
            _ => {
                a.add(INVALID_PATH_SEGMENT);
                break;
            }
        };
        match size {
            Some(0) => {
                a.add(INVALID_PATH_SEGMENT);
                break;
            }
            Some(size) if at + size <= path.len() => at += size,
            // The symbolic/ANSI pad byte may be missing at the very end.
            Some(size) if at + size == path.len() + 1 && matches!(seg >> 5, 3 | 4) => break,
            _ => {
                a.add(TRUNCATED_PATH_SEGMENT);
                break;
            }
        }
    }
    if with_text {
        info.text = text_out;
    }
    info
}

fn push_symbol(info: &mut PathInfo, symbol: &[u8]) {
    let name = text(symbol);
    append(&mut info.tag, ".", format_args!("{name}"));
}

/// Adds an element id to the tag: `[3]`, then `[3,2]`.
fn push_element(tag: &mut Option<String>, element: u32) {
    let Some(s) = tag.as_mut() else {
        return;
    };
    if s.len() >= MAX_TEXT {
        return;
    }
    if s.ends_with(']') {
        s.pop();
        let _ = write!(s, ",{element}]");
    } else {
        let _ = write!(s, "[{element}]");
    }
}

/// A port segment's size, recording `port,link` in the route. Layout: the
/// segment byte (bit 4: extended link address; low bits: port, 15 meaning
/// a 16-bit port follows), the link address size if extended, the 16-bit
/// port if extended, the link address; padded to an even size.
fn port_segment(
    path: &[u8],
    at: usize,
    info: &mut PathInfo,
    text_out: Option<&mut Option<String>>,
) -> Option<usize> {
    let seg = *path.get(at)?;
    let mut next = at + 1;
    let extended_link = seg & 0x10 != 0;
    let link_len = if extended_link {
        next += 1;
        usize::from(*path.get(at + 1)?)
    } else {
        1
    };
    let mut port = u16::from(seg & 0x0F);
    if port == 0x0F {
        port = le16(path, next)?;
        next += 2;
    }
    let address = path.get(next..next + link_len)?;
    next += link_len;
    let link = if extended_link {
        // Often an IP address in ASCII.
        text(address)
    } else {
        address.first().copied().unwrap_or_default().to_string()
    };
    append(&mut info.route, ",", format_args!("{port},{link}"));
    if let Some(out) = text_out {
        append(out, ", ", format_args!("port {port} link {link}"));
    }
    Some((next - at + 1) & !1)
}

/// A logical segment's size, recording its value.
fn logical_segment(
    path: &[u8],
    at: usize,
    info: &mut PathInfo,
    in_symbol: &mut bool,
    text_out: &mut Option<String>,
    with_text: bool,
) -> Option<usize> {
    let seg = *path.get(at)?;
    let kind = (seg >> 2) & 0x07;
    let format = seg & 0x03;
    if kind == 5 && format == 0 {
        // Electronic key: key format, then vendor, device type, product
        // code, major (with the compatibility bit) and minor revision.
        if with_text && path.get(at + 1) == Some(&4) {
            let vendor = le16(path, at + 2)?;
            let device = le16(path, at + 4)?;
            let product = le16(path, at + 6)?;
            let major = path.get(at + 8)? & 0x7F;
            let minor = path.get(at + 9)?;
            append(
                text_out,
                ", ",
                format_args!(
                    "key vendor {vendor} device_type {device} product_code {product} revision {major}.{minor}"
                ),
            );
        }
        return Some(10);
    }
    let (value, size) = match format {
        0 => (u32::from(*path.get(at + 1)?), 2),
        1 => (u32::from(le16(path, at + 2)?), 4),
        2 => (le32(path, at + 2)?, 6),
        _ => return Some(0),
    };
    let name = match kind {
        0 => {
            info.class.get_or_insert(value);
            "class"
        }
        1 => {
            info.instance.get_or_insert(value);
            "instance"
        }
        2 => {
            if *in_symbol {
                push_element(&mut info.tag, value);
            } else {
                info.member.get_or_insert(value);
            }
            "member"
        }
        3 => {
            info.connection_point.get_or_insert(value);
            "connection_point"
        }
        4 => {
            info.attribute.get_or_insert(value);
            "attribute"
        }
        _ => "logical",
    };
    if kind != 2 {
        *in_symbol = false;
    }
    if with_text {
        append(text_out, ", ", format_args!("{name} 0x{value:02x}"));
    }
    Some(size)
}

/// The embedded messages of a Multiple Service Packet's data (request or
/// response alike): count, offsets from the start of the data, messages.
/// At most `cap` are returned; `too_many_services` beyond.
pub fn multiple_services<'a>(
    data: &'a [u8],
    cap: usize,
    a: &mut Anomalies,
) -> (u16, Vec<&'a [u8]>) {
    let Some(count) = le16(data, 0) else {
        a.add(TRUNCATED_SERVICE_DATA);
        return (0, Vec::new());
    };
    let mut offsets = Vec::with_capacity(usize::from(count).min(cap));
    for i in 0..usize::from(count) {
        let Some(offset) = le16(data, 2 + 2 * i) else {
            a.add(TRUNCATED_SERVICE_DATA);
            break;
        };
        if i >= cap {
            a.add(TOO_MANY_SERVICES);
            break;
        }
        offsets.push(usize::from(offset));
    }
    // Messages start after the offset table and follow one another.
    let table_end = 2 + 2 * usize::from(count);
    let mut services = Vec::with_capacity(offsets.len());
    for (i, &start) in offsets.iter().enumerate() {
        let end = offsets.get(i + 1).copied().unwrap_or(data.len());
        match data.get(start..end) {
            Some(service) if start >= table_end => services.push(service),
            _ => {
                a.add(INVALID_SERVICE_OFFSET);
                let rest = data.get(start..).filter(|_| start >= table_end);
                services.push(rest.unwrap_or_default());
            }
        }
    }
    (count, services)
}

/// An Unconnected Send request's parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnconnectedSend<'a> {
    pub message: &'a [u8],
    pub route: &'a [u8],
}

pub fn unconnected_send<'a>(data: &'a [u8], a: &mut Anomalies) -> UnconnectedSend<'a> {
    let Some(size) = le16(data, 2) else {
        a.add(TRUNCATED_SERVICE_DATA);
        return UnconnectedSend {
            message: &[],
            route: &[],
        };
    };
    let size = usize::from(size);
    let message = match data.get(4..4 + size) {
        Some(message) => message,
        None => {
            a.add(TRUNCATED_SERVICE_DATA);
            return UnconnectedSend {
                message: data.get(4..).unwrap_or_default(),
                route: &[],
            };
        }
    };
    // A pad byte follows a message of odd length.
    let at = 4 + size + (size & 1);
    let route = match data.get(at) {
        Some(&words) => {
            let start = at + 2;
            let end = start + 2 * usize::from(words);
            data.get(start..end).unwrap_or_else(|| {
                a.add(TRUNCATED_SERVICE_DATA);
                data.get(start..).unwrap_or_default()
            })
        }
        None => {
            a.add(TRUNCATED_SERVICE_DATA);
            &[]
        }
    };
    UnconnectedSend { message, route }
}

/// Network connection parameters of one direction of a Forward Open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetworkParams {
    pub redundant_owner: bool,
    /// 0 null, 1 multicast, 2 point to point.
    pub connection_type: u8,
    /// 0 low, 1 high, 2 scheduled, 3 urgent.
    pub priority: u8,
    pub variable_size: bool,
    pub size: u16,
}

impl NetworkParams {
    fn from16(v: u16) -> NetworkParams {
        NetworkParams {
            redundant_owner: v & 0x8000 != 0,
            connection_type: ((v >> 13) & 3) as u8,
            priority: ((v >> 10) & 3) as u8,
            variable_size: v & 0x0200 != 0,
            size: v & 0x01FF,
        }
    }

    fn from32(v: u32) -> NetworkParams {
        NetworkParams {
            redundant_owner: v & 0x8000_0000 != 0,
            connection_type: ((v >> 29) & 3) as u8,
            priority: ((v >> 26) & 3) as u8,
            variable_size: v & 0x0200_0000 != 0,
            size: (v & 0xFFFF) as u16,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self.connection_type {
            0 => "null",
            1 => "multicast",
            2 => "point_to_point",
            _ => "reserved",
        }
    }

    pub fn priority_name(&self) -> &'static str {
        match self.priority {
            0 => "low",
            1 => "high",
            2 => "scheduled",
            _ => "urgent",
        }
    }
}

/// What a Forward Open, Large Forward Open or Forward Close (request or
/// reply) says about a connection. A reply paired with its request carries
/// the request's parameters too.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Connection {
    pub o_t_connection_id: Option<u32>,
    pub t_o_connection_id: Option<u32>,
    pub connection_serial: u16,
    pub originator_vendor_id: u16,
    pub originator_serial: u32,
    pub timeout_multiplier: Option<u8>,
    /// Requested packet intervals (µs).
    pub o_t_rpi_us: Option<u32>,
    pub t_o_rpi_us: Option<u32>,
    /// Actual packet intervals the target granted (µs).
    pub o_t_api_us: Option<u32>,
    pub t_o_api_us: Option<u32>,
    pub o_t_network: Option<NetworkParams>,
    pub t_o_network: Option<NetworkParams>,
    /// Transport type/trigger byte.
    pub transport: Option<u8>,
    pub connection_path: Option<String>,
    /// Failure replies: words of the route not consumed.
    pub remaining_path_size: Option<u8>,
}

impl Connection {
    pub fn transport_class(&self) -> Option<u8> {
        self.transport.map(|t| t & 0x0F)
    }

    pub fn trigger(&self) -> Option<&'static str> {
        self.transport.map(|t| match (t >> 4) & 0x07 {
            0 => "cyclic",
            1 => "change_of_state",
            2 => "application_object",
            _ => "reserved",
        })
    }

    /// The direction bit: the originator acts as a server (class 0/1 I/O
    /// producers) or as a client.
    pub fn role(&self) -> Option<&'static str> {
        self.transport
            .map(|t| if t & 0x80 != 0 { "server" } else { "client" })
    }

    /// Takes from `request` what this reply does not say itself.
    pub fn fill_from(&mut self, request: &Connection) {
        let keep = |mine: &mut Option<u32>, theirs: Option<u32>| {
            if mine.is_none() {
                *mine = theirs;
            }
        };
        keep(&mut self.o_t_connection_id, request.o_t_connection_id);
        keep(&mut self.t_o_connection_id, request.t_o_connection_id);
        keep(&mut self.o_t_rpi_us, request.o_t_rpi_us);
        keep(&mut self.t_o_rpi_us, request.t_o_rpi_us);
        self.timeout_multiplier = self.timeout_multiplier.or(request.timeout_multiplier);
        self.o_t_network = self.o_t_network.or(request.o_t_network);
        self.t_o_network = self.t_o_network.or(request.t_o_network);
        self.transport = self.transport.or(request.transport);
        if self.connection_path.is_none() {
            self.connection_path.clone_from(&request.connection_path);
        }
    }
}

/// Parses a Forward Open (`large`: Large Forward Open, whose network
/// connection parameters are 32-bit) request.
pub fn forward_open_request(d: &[u8], large: bool, a: &mut Anomalies) -> Option<Connection> {
    // Offsets of the O→T parameters, T→O RPI, T→O parameters, transport
    // byte and connection path size; the fields before them are common.
    let (o_t_params, t_o_rpi, t_o_params, transport, path_size) = if large {
        (26, 30, 34, 38, 39)
    } else {
        (26, 28, 32, 34, 35)
    };
    let net = |at: usize| -> Option<NetworkParams> {
        if large {
            le32(d, at).map(NetworkParams::from32)
        } else {
            le16(d, at).map(NetworkParams::from16)
        }
    };
    let Some(&words) = d.get(path_size) else {
        a.add(TRUNCATED_SERVICE_DATA);
        return None;
    };
    let start = path_size + 1;
    let path = d
        .get(start..start + 2 * usize::from(words))
        .unwrap_or_else(|| {
            a.add(TRUNCATED_SERVICE_DATA);
            d.get(start..).unwrap_or_default()
        });
    let info = parse_path(path, true, a);
    Some(Connection {
        o_t_connection_id: le32(d, 2),
        t_o_connection_id: le32(d, 6),
        connection_serial: le16(d, 10)?,
        originator_vendor_id: le16(d, 12)?,
        originator_serial: le32(d, 14)?,
        timeout_multiplier: d.get(18).copied(),
        o_t_rpi_us: le32(d, 22),
        t_o_rpi_us: le32(d, t_o_rpi),
        o_t_network: net(o_t_params),
        t_o_network: net(t_o_params),
        transport: d.get(transport).copied(),
        connection_path: info.text,
        ..Connection::default()
    })
}

/// Parses a Forward Close request.
pub fn forward_close_request(d: &[u8], a: &mut Anomalies) -> Option<Connection> {
    let Some(&words) = d.get(10) else {
        a.add(TRUNCATED_SERVICE_DATA);
        return None;
    };
    let path = d.get(12..12 + 2 * usize::from(words)).unwrap_or_else(|| {
        a.add(TRUNCATED_SERVICE_DATA);
        d.get(12..).unwrap_or_default()
    });
    Some(Connection {
        connection_serial: le16(d, 2)?,
        originator_vendor_id: le16(d, 4)?,
        originator_serial: le32(d, 6)?,
        connection_path: parse_path(path, true, a).text,
        ..Connection::default()
    })
}

/// Parses a Forward Open (`open`) or Forward Close reply.
pub fn connection_reply(
    d: &[u8],
    open: bool,
    success: bool,
    a: &mut Anomalies,
) -> Option<Connection> {
    let parsed = if success && open {
        Some(Connection {
            o_t_connection_id: le32(d, 0),
            t_o_connection_id: le32(d, 4),
            connection_serial: le16(d, 8)?,
            originator_vendor_id: le16(d, 10)?,
            originator_serial: le32(d, 12)?,
            o_t_api_us: le32(d, 16),
            t_o_api_us: le32(d, 20),
            ..Connection::default()
        })
    } else {
        Some(Connection {
            connection_serial: le16(d, 0)?,
            originator_vendor_id: le16(d, 2)?,
            originator_serial: le32(d, 4)?,
            remaining_path_size: if success { None } else { d.get(8).copied() },
            ..Connection::default()
        })
    };
    if parsed.is_none() {
        a.add(TRUNCATED_SERVICE_DATA);
    }
    parsed
}

/// Size of an attribute value in a Get/Set_Attribute_List, where known.
fn attribute_len(
    class_id: Option<u32>,
    instance: Option<u32>,
    id: u16,
    value: &[u8],
) -> Option<usize> {
    if class_id == Some(class::IDENTITY) && instance != Some(0) && id == 7 {
        // Product name: SHORT_STRING.
        return value.first().map(|&len| 1 + usize::from(len));
    }
    attribute_size(class_id, instance, id)
}

/// The attribute ids of a Get/Set_Attribute_List request or response.
/// Values whose size is not known end the walk after their id (what follows
/// cannot be located), as Wireshark's reading does.
pub fn attribute_list(
    data: &[u8],
    with_values: bool,
    with_status: bool,
    class_id: Option<u32>,
    instance: Option<u32>,
    a: &mut Anomalies,
) -> Vec<u16> {
    let Some(count) = le16(data, 0) else {
        a.add(TRUNCATED_SERVICE_DATA);
        return Vec::new();
    };
    let mut ids = Vec::with_capacity(usize::from(count).min(MAX_ATTRIBUTES));
    let mut at = 2;
    for _ in 0..count {
        let Some(id) = le16(data, at) else {
            a.add(TRUNCATED_SERVICE_DATA);
            break;
        };
        at += 2;
        if ids.len() < MAX_ATTRIBUTES {
            ids.push(id);
        }
        let mut has_value = with_values;
        if with_status {
            let Some(status) = le16(data, at) else {
                a.add(TRUNCATED_SERVICE_DATA);
                break;
            };
            at += 2;
            has_value &= status == 0;
        }
        if has_value {
            let value = data.get(at..).unwrap_or_default();
            match attribute_len(class_id, instance, id, value) {
                Some(len) if len <= value.len() => at += len,
                Some(_) => {
                    a.add(TRUNCATED_SERVICE_DATA);
                    break;
                }
                None => break,
            }
        }
    }
    ids
}

/// Identity object attributes 1–7 as a Get_Attributes_All reply gives them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityAttributes {
    pub vendor_id: u16,
    pub device_type: u16,
    pub product_code: u16,
    pub revision: (u8, u8),
    pub status: u16,
    pub serial: u32,
    pub product_name: String,
}

pub fn identity_attributes(d: &[u8]) -> Option<IdentityAttributes> {
    let len = usize::from(*d.get(14)?);
    Some(IdentityAttributes {
        vendor_id: le16(d, 0)?,
        device_type: le16(d, 2)?,
        product_code: le16(d, 4)?,
        revision: (*d.get(6)?, *d.get(7)?),
        status: le16(d, 8)?,
        serial: le32(d, 10)?,
        product_name: text(d.get(15..15 + len)?),
    })
}
