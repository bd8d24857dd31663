//! PN-IO CM: PNIO connection management over DCE/RPC connectionless
//! (UDP, port 34964 for the endpoint mapper and the first call of an AR).
//!
//! One `profinet_io` event per DCE/RPC PDU: a request, response, fault,
//! reject, ping, working, ack… A fragmented call is reassembled (fragments in
//! order, at most [`MAX_BODY`] bytes) and is one event, on the packet of its
//! last fragment. Calls of the PNIO interfaces (device, controller,
//! supervisor, parameter server) are named by their operation (connect,
//! release, read, write, control, read implicit) and their stub data is
//! decoded into PNIO blocks ([`super::blocks`]).
//!
//! Requests and responses of one call often travel on different UDP flows
//! (the device answers from another port), so calls are not paired; the
//! response carries the operation number itself.

use super::anomaly::*;
use super::blocks::{IoFields, Uuid, parse_body};
use super::names::{opnum_name, packet_type_name};
use super::{ProfinetFields, Reader};
use crate::event::{Anomalies, FunctionClass, Pdu, Protocol};
use crate::protocols::{DatagramParser, Direction, Emitter, Probe};

pub use super::CM_PORT as PORT;

/// The DCE/RPC connectionless header.
pub const HEADER_LEN: usize = 80;
/// Largest call body reassembled from fragments.
pub const MAX_BODY: usize = 64 * 1024;

/// Every `function` name `profinet_io` events carry.
pub const FUNCTIONS: &[&str] = &[
    "connect",
    "release",
    "read",
    "write",
    "control",
    "read_implicit",
    "epm_lookup",
    "epm",
    "ping",
    "working",
    "nocall",
    "fault",
    "reject",
    "ack",
    "cl_cancel",
    "fack",
    "cancel_ack",
    "unknown",
    "invalid",
];

const fn guid(a: u32, b: u16, c: u16, d: [u8; 8]) -> [u8; 16] {
    let a = a.to_be_bytes();
    let b = b.to_be_bytes();
    let c = c.to_be_bytes();
    [
        a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d[0], d[1], d[2], d[3], d[4], d[5], d[6],
        d[7],
    ]
}

const PNIO_NODE: [u8; 8] = [0x82, 0x71, 0x00, 0xA0, 0x24, 0x42, 0xDF, 0x7D];
/// The interfaces a PNIO CM conversation uses.
pub const INTERFACES: &[([u8; 16], &str)] = &[
    (guid(0xDEA0_0001, 0x6C97, 0x11D1, PNIO_NODE), "pnio_device"),
    (
        guid(0xDEA0_0002, 0x6C97, 0x11D1, PNIO_NODE),
        "pnio_controller",
    ),
    (
        guid(0xDEA0_0003, 0x6C97, 0x11D1, PNIO_NODE),
        "pnio_supervisor",
    ),
    (
        guid(0xDEA0_0004, 0x6C97, 0x11D1, PNIO_NODE),
        "pnio_parameter_server",
    ),
    (
        guid(
            0xE1AF_8308,
            0x5D1F,
            0x11C9,
            [0x91, 0xA4, 0x08, 0x00, 0x2B, 0x14, 0xA0, 0xFA],
        ),
        "epm",
    ),
];

pub fn interface_name(interface: &Uuid) -> Option<&'static str> {
    INTERFACES
        .iter()
        .find(|(id, _)| *id == interface.0)
        .map(|(_, name)| *name)
}

/// Flags1 bits.
pub const FLAG_LAST_FRAGMENT: u8 = 0x02;
pub const FLAG_FRAGMENT: u8 = 0x04;

/// A DCE/RPC connectionless header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RpcHeader {
    pub version: u8,
    pub packet_type: u8,
    pub flags1: u8,
    pub flags2: u8,
    pub drep: [u8; 3],
    pub object: Uuid,
    pub interface: Uuid,
    pub activity: Uuid,
    pub server_boot: u32,
    pub interface_version: u32,
    pub sequence: u32,
    pub opnum: u16,
    pub fragment_length: u16,
    pub fragment_number: u16,
    pub auth_proto: u8,
}

impl RpcHeader {
    pub fn little_endian(&self) -> bool {
        self.drep[0] >> 4 == 1
    }

    /// Whether the header looks like DCE/RPC connectionless at all: version
    /// 4, a defined packet type, a defined data representation.
    pub fn plausible(&self) -> bool {
        self.version == 4
            && self.packet_type <= 10
            && self.drep[0] >> 4 <= 1
            && self.drep[0] & 0x0F <= 1
            && self.drep[1] <= 3
    }
}

/// Reads the 80-byte header; `None` when `data` is shorter.
pub fn parse_header(data: &[u8]) -> Option<RpcHeader> {
    let mut r = Reader::new(data.get(..HEADER_LEN)?);
    let version = r.u8()?;
    let packet_type = r.u8()?;
    let flags1 = r.u8()?;
    let flags2 = r.u8()?;
    let drep: [u8; 3] = r.array()?;
    let _serial_high = r.u8()?;
    let little = drep[0] >> 4 == 1;
    let u16_ = |r: &mut Reader<'_>| {
        r.array::<2>().map(|b| {
            if little {
                u16::from_le_bytes(b)
            } else {
                u16::from_be_bytes(b)
            }
        })
    };
    let u32_ = |r: &mut Reader<'_>| {
        r.array::<4>().map(|b| {
            if little {
                u32::from_le_bytes(b)
            } else {
                u32::from_be_bytes(b)
            }
        })
    };
    let uuid = |r: &mut Reader<'_>| -> Option<Uuid> {
        let a = u32_(r)?;
        let b = u16_(r)?;
        let c = u16_(r)?;
        let d: [u8; 8] = r.array()?;
        Some(Uuid(guid(a, b, c, d)))
    };
    let object = uuid(&mut r)?;
    let interface = uuid(&mut r)?;
    let activity = uuid(&mut r)?;
    let server_boot = u32_(&mut r)?;
    let interface_version = u32_(&mut r)?;
    let sequence = u32_(&mut r)?;
    let opnum = u16_(&mut r)?;
    let _interface_hint = u16_(&mut r)?;
    let _activity_hint = u16_(&mut r)?;
    let fragment_length = u16_(&mut r)?;
    let fragment_number = u16_(&mut r)?;
    let auth_proto = r.u8()?;
    Some(RpcHeader {
        version,
        packet_type,
        flags1,
        flags2,
        drep,
        object,
        interface,
        activity,
        server_boot,
        interface_version,
        sequence,
        opnum,
        fragment_length,
        fragment_number,
        auth_proto,
    })
}

/// Recognises PNIO CM: a DCE/RPC connectionless header that is consistent
/// (fragment length within the datagram); away from port 34964 it must also
/// name a PNIO interface (the UUID is 16 bytes of evidence).
pub fn probe(data: &[u8], _direction: Direction, on_known_port: bool) -> Probe {
    let Some(h) = parse_header(data) else {
        return Probe::NoMatch;
    };
    if !h.plausible() || HEADER_LEN + usize::from(h.fragment_length) > data.len() {
        return Probe::NoMatch;
    }
    let pnio = matches!(interface_name(&h.interface), Some(name) if name.starts_with("pnio"));
    if on_known_port || pnio {
        Probe::Match
    } else {
        Probe::NoMatch
    }
}

/// A call being reassembled from fragments.
#[derive(Debug)]
struct Partial {
    header: RpcHeader,
    next: u16,
    body: Vec<u8>,
}

/// The decoder of one UDP conversation of PNIO CM.
#[derive(Debug, Default)]
pub struct PnioCmParser {
    /// Per direction.
    partial: [Option<Box<Partial>>; 2],
    /// An anomaly to report on the direction's next event (a dropped call).
    pending: [Option<&'static str>; 2],
}

impl PnioCmParser {
    pub fn new() -> Self {
        Self::default()
    }
}

impl DatagramParser for PnioCmParser {
    fn parse(&mut self, datagram: &[u8], out: &mut Emitter<'_>) {
        let dir = out.direction().index();
        let mut anomalies = Anomalies::new();
        if let Some(name) = self.pending[dir].take() {
            anomalies.add(name);
        }
        let Some(header) = parse_header(datagram) else {
            anomalies.add(TRUNCATED_FRAME);
            out.emit(invalid(anomalies));
            return;
        };
        let available = datagram.get(HEADER_LEN..).unwrap_or_default();
        let body = match available.get(..usize::from(header.fragment_length)) {
            Some(body) => body,
            None => {
                anomalies.add(TRUNCATED_PDU);
                available
            }
        };
        if header.flags1 & FLAG_FRAGMENT == 0 {
            out.emit(pdu(&header, body, None, anomalies));
            return;
        }
        let last = header.flags1 & FLAG_LAST_FRAGMENT != 0;
        let same_call = |p: &Partial| {
            p.header.activity == header.activity
                && p.header.sequence == header.sequence
                && p.header.packet_type == header.packet_type
        };
        let partial = &mut self.partial[dir];
        if header.fragment_number == 0 {
            if partial.take().is_some() {
                anomalies.add(FRAGMENT_OUT_OF_ORDER);
            }
            *partial = Some(Box::new(Partial {
                header,
                next: 0,
                body: Vec::new(),
            }));
        }
        match partial {
            Some(p) if same_call(p) && p.next == header.fragment_number => {
                if p.body.len() + body.len() > MAX_BODY {
                    *partial = None;
                    anomalies.add(REASSEMBLY_OVERFLOW);
                    out.emit(pdu(&header, &[], None, anomalies));
                    return;
                }
                p.body.extend_from_slice(body);
                p.next = p.next.wrapping_add(1);
                if last {
                    let p = partial.take().unwrap_or_else(|| unreachable!());
                    let mut first = p.header;
                    first.fragment_length = u16::try_from(p.body.len()).unwrap_or(u16::MAX);
                    out.emit(pdu(&first, &p.body, Some(p.next), anomalies));
                } else if !anomalies.is_empty() {
                    // Keep what was found for the event of the whole call.
                    for name in anomalies.iter() {
                        self.pending[dir] = Some(name);
                    }
                }
            }
            _ => {
                // A fragment that continues no call here: dropped with the
                // partial call, and reported alone.
                *partial = None;
                anomalies.add(FRAGMENT_OUT_OF_ORDER);
                out.emit(pdu(&header, &[], None, anomalies));
            }
        }
    }
}

fn invalid(anomalies: Anomalies) -> Pdu {
    Pdu {
        protocol: Protocol::ProfinetIo,
        is_response: false,
        function_code: None,
        function: "invalid",
        class: FunctionClass::Other,
        anomalies,
        fields: ProfinetFields::Io(Box::default()).into(),
        identity: None,
    }
}

/// The `function`, class and response flag of a PDU.
fn function(h: &RpcHeader, interface: Option<&str>) -> (&'static str, FunctionClass, bool) {
    use FunctionClass::*;
    let is_response = matches!(h.packet_type, 2 | 3 | 4 | 5 | 6 | 9 | 10);
    let (name, class) = match h.packet_type {
        0 | 2 => match interface {
            Some("epm") if h.opnum == 2 => ("epm_lookup", Discovery),
            Some("epm") => ("epm", Other),
            Some(_) => match opnum_name(h.opnum) {
                Some(name @ ("connect" | "release")) => (name, Session),
                Some(name @ ("read" | "read_implicit")) => (name, Read),
                Some(name @ "write") => (name, Write),
                Some(name @ "control") => (name, Control),
                _ => ("unknown", Other),
            },
            None => ("unknown", Other),
        },
        3 => ("fault", Other),
        6 => ("reject", Other),
        other => match packet_type_name(other) {
            Some(name) => (
                FUNCTIONS
                    .iter()
                    .copied()
                    .find(|f| *f == name)
                    .unwrap_or("unknown"),
                Session,
            ),
            None => ("unknown", Other),
        },
    };
    (name, class, is_response)
}

/// The event of one (reassembled) PDU.
pub fn pdu(h: &RpcHeader, body: &[u8], fragments: Option<u16>, mut anomalies: Anomalies) -> Pdu {
    if h.version != 4 {
        anomalies.add(BAD_RPC_VERSION);
    }
    if packet_type_name(h.packet_type).is_none() {
        anomalies.add(UNKNOWN_PACKET_TYPE);
    }
    let interface = interface_name(&h.interface);
    let pnio = interface.is_some_and(|i| i.starts_with("pnio"));
    let call = matches!(h.packet_type, 0 | 2);
    if call && interface.is_none() {
        anomalies.add(UNKNOWN_INTERFACE);
    }
    if call && pnio && opnum_name(h.opnum).is_none() {
        anomalies.add(UNKNOWN_OPERATION);
    }
    let mut f = IoFields {
        packet_type: h.packet_type,
        flags1: h.flags1,
        object_uuid: h.object,
        interface_uuid: h.interface,
        activity_uuid: h.activity,
        interface,
        interface_version: h.interface_version,
        sequence: h.sequence,
        opnum: h.opnum,
        fragment_length: h.fragment_length,
        fragments,
        ..IoFields::default()
    };
    if call && pnio && opnum_name(h.opnum).is_some() {
        parse_body(
            body,
            h.packet_type == 2,
            h.little_endian(),
            &mut f,
            &mut anomalies,
        );
    } else if matches!(h.packet_type, 3 | 6) {
        let mut r = Reader::new(body);
        f.nca_status = r.array::<4>().map(|b| {
            if h.little_endian() {
                u32::from_le_bytes(b)
            } else {
                u32::from_be_bytes(b)
            }
        });
    }
    let (function, class, is_response) = function(h, interface);
    let identity = f.identity();
    Pdu {
        protocol: Protocol::ProfinetIo,
        is_response,
        function_code: call.then_some(u32::from(h.opnum)),
        function,
        class,
        anomalies,
        fields: ProfinetFields::Io(Box::new(f)).into(),
        identity,
    }
}
