//! PROFINET: DCP and RT on Ethernet (ethertype 0x8892), and IO connection
//! management (PN-IO CM) over DCE/RPC on UDP.
//!
//! - Layer 2 ([`ProfinetParser`], a [`FrameParser`]): the first two bytes of
//!   the payload are the frame id, which says what follows ([`FrameKind`]).
//!   DCP frames (0xFEFC–0xFEFF) are one `profinet_dcp` event each ([`dcp`]).
//!   Cyclic RT frames are counted per connection (direction and frame id) and
//!   summarised in `profinet_rt` events ([`rt`]): one when a connection's
//!   first frame is seen, then one per second of packet time, one on every
//!   change of the data status, and one for the frames left when the flow
//!   ends. PTCP (time sync), RT fragments and frames with reserved ids are
//!   summarised the same way. RTA alarm frames (0xFC01, 0xFE01) are one event
//!   each.
//! - UDP ([`cm::PnioCmParser`], a [`DatagramParser`]): one `profinet_io`
//!   event per DCE/RPC connectionless PDU (fragments reassembled), with the
//!   PNIO blocks of connect, release, read, write and control calls
//!   ([`blocks`]).
//!
//! Entry points that are pure functions over bytes (for fuzzing):
//! [`dcp::parse`], [`rt::parse_alarm`], [`cm::parse_header`], [`blocks::parse_body`],
//! and the parsers' `parse` methods.

pub mod blocks;
pub mod cm;
pub mod dcp;
pub mod names;
pub mod rt;

#[cfg(test)]
mod tests;

use super::{Emitter, FrameParser};
use crate::event::{Fields, Protocol, Visitor};

pub use cm::{PnioCmParser, probe as probe_cm};

/// The PROFINET ethertype.
pub const ETHER_TYPE: u16 = 0x8892;
/// The UDP port of the PNIO CM endpoint mapper and of connect requests.
pub const CM_PORT: u16 = 34964;

/// Stable anomaly names of the PROFINET decoders (`profinet_dcp`,
/// `profinet_rt` and `profinet_io` share them).
pub mod anomaly {
    /// Too short for the frame id, the RT status trailer or a fixed header.
    pub const TRUNCATED_FRAME: &str = "truncated_frame";
    /// A length field (DCP data or block length, RTA var part, DCE/RPC
    /// fragment length, NDR args length, PNIO block length) runs past the data.
    pub const TRUNCATED_PDU: &str = "truncated_pdu";
    /// A block length too short for the block's fixed fields.
    pub const BAD_BLOCK_LENGTH: &str = "bad_block_length";
    /// A frame id the standard reserves.
    pub const RESERVED_FRAME_ID: &str = "reserved_frame_id";
    /// A DCP service id other than get, set, identify, hello (and the
    /// manufacturer-specific 1 and 2).
    pub const UNKNOWN_SERVICE_ID: &str = "unknown_service_id";
    /// A DCP service type other than request, success, unsupported.
    pub const UNKNOWN_SERVICE_TYPE: &str = "unknown_service_type";
    /// A DCP service that does not belong on its frame id (e.g. a set on the
    /// identify frame id).
    pub const FRAME_ID_MISMATCH: &str = "frame_id_mismatch";
    /// A DCP block with a reserved option.
    pub const UNKNOWN_OPTION: &str = "unknown_option";
    /// An RTA PDU type other than data, nack, ack, err.
    pub const UNKNOWN_PDU_TYPE: &str = "unknown_pdu_type";
    /// A DCE/RPC version other than 4 (connectionless).
    pub const BAD_RPC_VERSION: &str = "bad_rpc_version";
    /// A DCE/RPC packet type the connectionless protocol does not define.
    pub const UNKNOWN_PACKET_TYPE: &str = "unknown_packet_type";
    /// A PNIO operation number above 5.
    pub const UNKNOWN_OPERATION: &str = "unknown_operation";
    /// An interface other than the PNIO device, controller, supervisor,
    /// parameter server interfaces and the endpoint mapper.
    pub const UNKNOWN_INTERFACE: &str = "unknown_interface";
    /// The NDR array header disagrees with the data (args length, actual count).
    pub const BAD_NDR_HEADER: &str = "bad_ndr_header";
    /// A fragment that does not continue the call being reassembled; the
    /// partial call was dropped.
    pub const FRAGMENT_OUT_OF_ORDER: &str = "fragment_out_of_order";
    /// A fragmented call grew beyond the reassembly bound; it was dropped.
    pub const REASSEMBLY_OVERFLOW: &str = "reassembly_overflow";
    /// More blocks, modules, submodules or IO data objects than an event keeps.
    pub const LIST_TRUNCATED: &str = "list_truncated";

    /// Every anomaly name, for rule validation.
    pub const ALL: &[&str] = &[
        TRUNCATED_FRAME,
        TRUNCATED_PDU,
        BAD_BLOCK_LENGTH,
        RESERVED_FRAME_ID,
        UNKNOWN_SERVICE_ID,
        UNKNOWN_SERVICE_TYPE,
        FRAME_ID_MISMATCH,
        UNKNOWN_OPTION,
        UNKNOWN_PDU_TYPE,
        BAD_RPC_VERSION,
        UNKNOWN_PACKET_TYPE,
        UNKNOWN_OPERATION,
        UNKNOWN_INTERFACE,
        BAD_NDR_HEADER,
        FRAGMENT_OUT_OF_ORDER,
        REASSEMBLY_OVERFLOW,
        LIST_TRUNCATED,
    ];
}

/// Every `function` name `profinet_dcp` events carry.
pub fn dcp_function_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = (0..=0xff_u8).map(|s| dcp::service_name(s).0).collect();
    names.push("invalid");
    names.sort_unstable();
    names.dedup();
    names
}

/// Every `function` name `profinet_rt` events carry.
pub fn rt_function_names() -> Vec<&'static str> {
    let mut names = rt::FUNCTIONS.to_vec();
    names.sort_unstable();
    names
}

/// Every `function` name `profinet_io` events carry.
pub fn io_function_names() -> Vec<&'static str> {
    let mut names = cm::FUNCTIONS.to_vec();
    names.sort_unstable();
    names.dedup();
    names
}

/// What a frame id says a frame is (IEC 61158-6-10 frame id ranges).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKind {
    /// PTCP time synchronisation (0x0020–0x0021, 0x0080–0x0081, 0xFF00–0xFF43).
    Ptcp,
    /// Cyclic real-time data, with the RT class.
    Cyclic(RtClass),
    /// RTA alarm, high (0xFC01) or low (0xFE01) priority.
    Alarm { high: bool },
    /// DCP: 0xFEFC hello, 0xFEFD get/set, 0xFEFE identify request, 0xFEFF
    /// identify response.
    Dcp,
    /// RT fragmentation (0xFF80–0xFF8F).
    Fragment,
    /// Reserved by the standard.
    Reserved,
}

/// The real-time class of a cyclic frame id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RtClass {
    /// 0x0100–0x7FFF: isochronous (red).
    Class3,
    /// 0x8000–0xBBFF: orange.
    Class2,
    /// 0xBC00–0xBFFF: RT over UDP.
    Udp,
    /// 0xC000–0xFBFF: green.
    Class1,
}

impl RtClass {
    pub fn name(self) -> &'static str {
        match self {
            RtClass::Class3 => "rt_class_3",
            RtClass::Class2 => "rt_class_2",
            RtClass::Udp => "rt_class_udp",
            RtClass::Class1 => "rt_class_1",
        }
    }
}

impl FrameKind {
    pub fn of(frame_id: u16) -> FrameKind {
        match frame_id {
            0x0020..=0x0021 | 0x0080..=0x0081 => FrameKind::Ptcp,
            0x0100..=0x7FFF => FrameKind::Cyclic(RtClass::Class3),
            0x8000..=0xBBFF => FrameKind::Cyclic(RtClass::Class2),
            0xBC00..=0xBFFF => FrameKind::Cyclic(RtClass::Udp),
            0xC000..=0xFBFF => FrameKind::Cyclic(RtClass::Class1),
            0xFC01 => FrameKind::Alarm { high: true },
            0xFE01 => FrameKind::Alarm { high: false },
            0xFEFC..=0xFEFF => FrameKind::Dcp,
            0xFF00..=0xFF01 | 0xFF20..=0xFF21 | 0xFF40..=0xFF43 => FrameKind::Ptcp,
            0xFF80..=0xFF8F => FrameKind::Fragment,
            _ => FrameKind::Reserved,
        }
    }
}

/// PROFINET fields of one event: which of the three protocols, and its fields.
#[derive(Clone, Debug, PartialEq)]
pub enum ProfinetFields {
    Dcp(Box<dcp::DcpFields>),
    Rt(Box<rt::RtFields>),
    Io(Box<blocks::IoFields>),
}

impl ProfinetFields {
    pub fn visit(&self, v: &mut dyn Visitor) {
        match self {
            ProfinetFields::Dcp(f) => f.visit(v),
            ProfinetFields::Rt(f) => f.visit(v),
            ProfinetFields::Io(f) => f.visit(v),
        }
    }
}

impl From<ProfinetFields> for Fields {
    fn from(fields: ProfinetFields) -> Fields {
        Fields::Profinet(fields)
    }
}

/// Whether a layer-2 frame is PROFINET: the ethertype, and room for a frame id.
pub fn matches_frame(ether_type: u16, _payload: &[u8]) -> bool {
    ether_type == ETHER_TYPE
}

/// The decoder of one layer-2 PROFINET conversation (a MAC pair): DCP frames
/// and alarms decoded one by one, cyclic and PTCP frames summarised.
#[derive(Debug, Default)]
pub struct ProfinetParser {
    summaries: rt::Summaries,
    /// Whether a frame other than DCP was seen.
    rt_seen: bool,
}

impl ProfinetParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// The flow's protocol: `profinet_dcp` while it carried only DCP.
    pub fn protocol(&self) -> Protocol {
        if self.rt_seen {
            Protocol::ProfinetRt
        } else {
            Protocol::ProfinetDcp
        }
    }
}

impl FrameParser for ProfinetParser {
    fn parse(&mut self, payload: &[u8], out: &mut Emitter<'_>) {
        let (Some(&hi), Some(&lo)) = (payload.first(), payload.get(1)) else {
            out.emit(rt::invalid(payload.len()));
            return;
        };
        let frame_id = u16::from_be_bytes([hi, lo]);
        let kind = FrameKind::of(frame_id);
        self.rt_seen |= kind != FrameKind::Dcp;
        match kind {
            FrameKind::Dcp => out.emit(dcp::pdu(frame_id, payload.get(2..).unwrap_or_default())),
            FrameKind::Alarm { high } => out.emit(rt::alarm_pdu(
                frame_id,
                high,
                payload.get(2..).unwrap_or_default(),
            )),
            kind => self.summaries.frame(frame_id, kind, payload, out),
        }
    }

    fn finish(&mut self, events: &mut Vec<crate::event::Event>) {
        self.summaries.flush_all(events);
    }
}

/// A cursor over big-endian fields: every read is checked, and a read past
/// the end returns `None` without moving.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    pub fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or_default()
    }

    pub fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let b = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(b)
    }

    pub fn skip(&mut self, n: usize) -> Option<()> {
        self.bytes(n).map(|_| ())
    }

    /// Skips to the next multiple of `align` from the start of the data
    /// (or to the end, if that comes first).
    pub fn align(&mut self, align: usize) {
        let pad = (align - self.pos % align) % align;
        self.pos = (self.pos + pad).min(self.data.len().max(self.pos));
    }

    pub fn u8(&mut self) -> Option<u8> {
        self.bytes(1).map(|b| b[0])
    }

    pub fn u16(&mut self) -> Option<u16> {
        self.array().map(u16::from_be_bytes)
    }

    pub fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_be_bytes)
    }

    pub fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.bytes(N).and_then(|b| b.try_into().ok())
    }
}

/// Text of a protocol string field: lossy UTF-8, at most `max` bytes.
pub fn text(bytes: &[u8], max: usize) -> String {
    let bytes = bytes.get(..max).unwrap_or(bytes);
    String::from_utf8_lossy(bytes)
        .trim_end_matches('\0')
        .to_string()
}

/// `a.b.c.d`.
pub fn ipv4(addr: [u8; 4]) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::from(addr)
}

/// `00:0e:8c:ef:75:c5`.
pub fn mac_text(mac: &[u8; 6]) -> String {
    let mut s = String::with_capacity(17);
    for (i, b) in mac.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push_str(&format!("{b:02x}"));
    }
    s
}
