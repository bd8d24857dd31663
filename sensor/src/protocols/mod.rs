//! Protocol decoders: bytes in, PDUs out. One module per protocol; no I/O,
//! no panics, no global state, bounded allocation (DESIGN.md).
//!
//! A TCP decoder implements [`StreamParser`] over the reassembled byte stream
//! of each direction. A protocol is recognised by structure, with the
//! well-known port only deciding which decoders are tried first and how much
//! evidence is needed ([`detect_stream`]).

pub mod arp;
pub mod bacnet;
pub mod cdp;
pub mod cotp;
pub mod dhcp;
pub mod dnp3;
pub mod dns;
pub mod enip;
pub mod ftp;
pub mod goose;
pub mod http;
pub mod iec104;
pub mod iso_on_tcp;
pub mod itwire;
pub mod lldp;
pub mod mms;
pub mod modbus;
pub mod mqtt;
pub mod netbios;
pub mod opcua;
pub mod profinet;
pub mod s7comm;
pub mod s7commplus;
pub mod snmp;
pub mod ssh;
pub mod telnet;
pub mod text;
pub mod tls;
pub mod vendors;

use crate::event::{Event, Header, Pdu, Protocol};
use crate::time::Timestamp;

/// Which way a PDU travelled relative to the connection's roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    ToServer,
    ToClient,
}

impl Direction {
    pub fn reverse(self) -> Direction {
        match self {
            Direction::ToServer => Direction::ToClient,
            Direction::ToClient => Direction::ToServer,
        }
    }

    pub fn index(self) -> usize {
        match self {
            Direction::ToServer => 0,
            Direction::ToClient => 1,
        }
    }
}

/// Hands a decoder's PDUs to the worker, stamped with the header of the packet
/// in which they completed.
pub struct Emitter<'a> {
    header: Header,
    direction: Direction,
    out: &'a mut Vec<Event>,
}

impl<'a> Emitter<'a> {
    pub fn new(header: Header, direction: Direction, out: &'a mut Vec<Event>) -> Self {
        Emitter {
            header,
            direction,
            out,
        }
    }

    /// The direction of the bytes being decoded.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// The packet completing the bytes being decoded (time, packet index…).
    pub fn header(&self) -> &Header {
        &self.header
    }

    #[inline]
    pub fn emit(&mut self, pdu: Pdu) {
        self.out.push(Event {
            header: self.header,
            pdu,
        });
    }
}

/// Removes and returns the oldest entry of `pending` that `answered` picks:
/// how a decoder pairs an answer with its request. Most answers come in
/// order, so the oldest is tried before the queue is searched.
pub(crate) fn take_pending<T>(
    pending: &mut std::collections::VecDeque<T>,
    answered: impl Fn(&T) -> bool,
) -> Option<T> {
    if answered(pending.front()?) {
        return pending.pop_front();
    }
    let at = pending.iter().position(answered)?;
    pending.remove(at)
}

/// Decodes the two byte streams of one TCP connection into PDUs.
pub trait StreamParser {
    /// Decodes the complete PDUs at the start of `data` (bytes that travelled in
    /// `out.direction()`), emitting one event per PDU, and returns how many bytes
    /// it consumed. It returns less than `data.len()` only when the rest is the
    /// beginning of a PDU: the caller keeps those bytes and presents them again,
    /// followed by what arrives next. Bytes that cannot start a PDU must be
    /// consumed and reported, never left to block the stream.
    fn parse(&mut self, data: &[u8], out: &mut Emitter<'_>) -> usize;

    /// Bytes were lost in `dir` (a gap in the capture): forget any partial PDU
    /// and resynchronise on what comes next.
    fn gap(&mut self, dir: Direction);
}

/// Decodes the datagrams of one UDP conversation (both directions).
pub trait DatagramParser {
    /// Decodes one datagram that travelled in `out.direction()`.
    fn parse(&mut self, datagram: &[u8], out: &mut Emitter<'_>);
}

/// Decodes the frames of one layer-2 conversation (protocols carried directly
/// over Ethernet: a MAC pair and an ethertype, or 802.2 LLC).
pub trait FrameParser {
    /// Decodes one frame's payload (what follows the ethertype or length field).
    fn parse(&mut self, payload: &[u8], out: &mut Emitter<'_>);

    /// Packet time reached `now` (an epoch's sweep, or the flow's end): emit
    /// what silence since the last frame says (GOOSE publishers whose time
    /// allowed to live ran out), each event with the header of the frame it
    /// follows.
    fn sweep(&mut self, _now: Timestamp, _events: &mut Vec<Event>) {}

    /// The flow ended: emit what is still held (summaries of counted frames),
    /// each event with the header of the frame it belongs to.
    fn finish(&mut self, _events: &mut Vec<Event>) {}
}

/// A decoder's verdict on the first bytes of a stream or the first datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// These bytes are this protocol.
    Match,
    /// These bytes cannot be this protocol.
    NoMatch,
    /// Too few bytes to tell.
    NeedMore,
}

/// The per-connection state of whichever decoder recognised a TCP stream.
#[derive(Debug)]
pub enum StreamDecoder {
    Modbus(modbus::ModbusParser),
    Iec104(iec104::Iec104Parser),
    Enip(enip::EnipParser),
    Dnp3(dnp3::Dnp3Parser),
    /// TPKT/COTP and S7comm / S7comm-plus / MMS above it ("iso-on-tcp").
    IsoOnTcp(Box<iso_on_tcp::IsoOnTcpParser>),
    Opcua(Box<opcua::OpcuaParser>),
    Mqtt(mqtt::MqttParser),
    Http(Box<http::HttpParser>),
    Tls(Box<tls::TlsParser>),
    Ssh(ssh::SshParser),
    Telnet(Box<telnet::TelnetParser>),
    Ftp(Box<ftp::FtpParser>),
    /// DNS over TCP (length-prefixed messages).
    Dns(dns::DnsParser),
}

impl StreamDecoder {
    pub fn protocol(&self) -> Protocol {
        match self {
            StreamDecoder::Modbus(_) => Protocol::Modbus,
            StreamDecoder::Iec104(_) => Protocol::Iec104,
            StreamDecoder::Enip(_) => Protocol::Enip,
            StreamDecoder::Dnp3(_) => Protocol::Dnp3,
            StreamDecoder::IsoOnTcp(p) => p.protocol(),
            StreamDecoder::Opcua(_) => Protocol::Opcua,
            StreamDecoder::Mqtt(_) => Protocol::Mqtt,
            StreamDecoder::Http(_) => Protocol::Http,
            StreamDecoder::Tls(_) => Protocol::Tls,
            StreamDecoder::Ssh(_) => Protocol::Ssh,
            StreamDecoder::Telnet(_) => Protocol::Telnet,
            StreamDecoder::Ftp(_) => Protocol::Ftp,
            StreamDecoder::Dns(p) => p.protocol(),
        }
    }

    pub fn parse(&mut self, data: &[u8], out: &mut Emitter<'_>) -> usize {
        match self {
            StreamDecoder::Modbus(p) => p.parse(data, out),
            StreamDecoder::Iec104(p) => p.parse(data, out),
            StreamDecoder::Enip(p) => StreamParser::parse(p, data, out),
            StreamDecoder::Dnp3(p) => StreamParser::parse(p, data, out),
            StreamDecoder::IsoOnTcp(p) => p.parse(data, out),
            StreamDecoder::Opcua(p) => p.parse(data, out),
            StreamDecoder::Mqtt(p) => p.parse(data, out),
            StreamDecoder::Http(p) => p.parse(data, out),
            StreamDecoder::Tls(p) => p.parse(data, out),
            StreamDecoder::Ssh(p) => p.parse(data, out),
            StreamDecoder::Telnet(p) => p.parse(data, out),
            StreamDecoder::Ftp(p) => p.parse(data, out),
            StreamDecoder::Dns(p) => StreamParser::parse(p, data, out),
        }
    }

    pub fn gap(&mut self, dir: Direction) {
        match self {
            StreamDecoder::Modbus(p) => p.gap(dir),
            StreamDecoder::Iec104(p) => p.gap(dir),
            StreamDecoder::Enip(p) => p.gap(dir),
            StreamDecoder::Dnp3(p) => p.gap(dir),
            StreamDecoder::IsoOnTcp(p) => p.gap(dir),
            StreamDecoder::Opcua(p) => p.gap(dir),
            StreamDecoder::Mqtt(p) => p.gap(dir),
            StreamDecoder::Http(p) => p.gap(dir),
            StreamDecoder::Tls(p) => p.gap(dir),
            StreamDecoder::Ssh(p) => p.gap(dir),
            StreamDecoder::Telnet(p) => p.gap(dir),
            StreamDecoder::Ftp(p) => p.gap(dir),
            StreamDecoder::Dns(p) => p.gap(dir),
        }
    }
}

/// The per-conversation state of whichever decoder recognised a UDP flow.
#[derive(Debug)]
pub enum DatagramDecoder {
    Enip(enip::EnipParser),
    Dnp3(dnp3::Dnp3Parser),
    PnioCm(profinet::PnioCmParser),
    Bacnet(bacnet::BacnetParser),
    Dhcp(dhcp::DhcpParser),
    /// DNS, LLMNR or mDNS.
    Dns(dns::DnsParser),
    Snmp(snmp::SnmpParser),
    Nbns(netbios::NbnsParser),
    Nbdgm(netbios::NbdgmParser),
}

impl DatagramDecoder {
    pub fn protocol(&self) -> Protocol {
        match self {
            DatagramDecoder::Enip(_) => Protocol::Enip,
            DatagramDecoder::Dnp3(_) => Protocol::Dnp3,
            DatagramDecoder::PnioCm(_) => Protocol::ProfinetIo,
            DatagramDecoder::Bacnet(_) => Protocol::Bacnet,
            DatagramDecoder::Dhcp(_) => Protocol::Dhcp,
            DatagramDecoder::Dns(p) => p.protocol(),
            DatagramDecoder::Snmp(_) => Protocol::Snmp,
            DatagramDecoder::Nbns(_) => Protocol::Nbns,
            DatagramDecoder::Nbdgm(_) => Protocol::Nbdgm,
        }
    }

    pub fn parse(&mut self, datagram: &[u8], out: &mut Emitter<'_>) {
        match self {
            DatagramDecoder::Enip(p) => DatagramParser::parse(p, datagram, out),
            DatagramDecoder::Dnp3(p) => DatagramParser::parse(p, datagram, out),
            DatagramDecoder::PnioCm(p) => p.parse(datagram, out),
            DatagramDecoder::Bacnet(p) => p.parse(datagram, out),
            DatagramDecoder::Dhcp(p) => p.parse(datagram, out),
            DatagramDecoder::Dns(p) => DatagramParser::parse(p, datagram, out),
            DatagramDecoder::Snmp(p) => p.parse(datagram, out),
            DatagramDecoder::Nbns(p) => p.parse(datagram, out),
            DatagramDecoder::Nbdgm(p) => p.parse(datagram, out),
        }
    }
}

/// The per-conversation state of the decoder of a layer-2 flow.
#[derive(Debug)]
pub enum FrameDecoder {
    /// GOOSE and GSE management.
    Goose(Box<goose::GooseParser>),
    Sv(Box<goose::sv::SvParser>),
    /// PROFINET DCP and RT (ethertype 0x8892); its events are `profinet_dcp`
    /// or `profinet_rt`.
    Profinet(profinet::ProfinetParser),
    Arp(arp::ArpParser),
    Lldp(lldp::LldpParser),
    Cdp(cdp::CdpParser),
}

impl FrameDecoder {
    pub fn protocol(&self) -> Protocol {
        match self {
            FrameDecoder::Goose(_) => Protocol::Goose,
            FrameDecoder::Sv(_) => Protocol::Sv,
            FrameDecoder::Profinet(p) => p.protocol(),
            FrameDecoder::Arp(_) => Protocol::Arp,
            FrameDecoder::Lldp(_) => Protocol::Lldp,
            FrameDecoder::Cdp(_) => Protocol::Cdp,
        }
    }

    pub fn parse(&mut self, payload: &[u8], out: &mut Emitter<'_>) {
        match self {
            FrameDecoder::Goose(p) => p.parse(payload, out),
            FrameDecoder::Sv(p) => p.parse(payload, out),
            FrameDecoder::Profinet(p) => p.parse(payload, out),
            FrameDecoder::Arp(p) => p.parse(payload, out),
            FrameDecoder::Lldp(p) => p.parse(payload, out),
            FrameDecoder::Cdp(p) => p.parse(payload, out),
        }
    }

    /// Packet time reached `now` with no frame: what the silence says.
    pub fn sweep(&mut self, now: Timestamp, events: &mut Vec<Event>) {
        match self {
            FrameDecoder::Goose(p) => p.sweep(now, events),
            // The others judge each frame as it arrives.
            FrameDecoder::Sv(_)
            | FrameDecoder::Profinet(_)
            | FrameDecoder::Arp(_)
            | FrameDecoder::Lldp(_)
            | FrameDecoder::Cdp(_) => {}
        }
    }

    /// Whether the decoder has deadlines to sweep for.
    pub fn sweeps(&self) -> bool {
        matches!(self, FrameDecoder::Goose(_))
    }

    /// The flow ended: events still held by the decoder.
    pub fn finish(&mut self, events: &mut Vec<Event>) {
        match self {
            FrameDecoder::Profinet(p) => p.finish(events),
            // The others report as each frame arrives.
            FrameDecoder::Goose(_)
            | FrameDecoder::Sv(_)
            | FrameDecoder::Arp(_)
            | FrameDecoder::Lldp(_)
            | FrameDecoder::Cdp(_) => {}
        }
    }
}

/// A protocol the sensor can recognise on TCP or UDP: its well-known ports and its probe.
pub struct Candidate<D> {
    pub ports: &'static [u16],
    /// `on_known_port` tells the probe whether the server port is one of `ports`,
    /// so that it can demand stronger evidence elsewhere.
    pub probe: fn(data: &[u8], direction: Direction, on_known_port: bool) -> Probe,
    /// A fresh decoder for a conversation of this protocol.
    pub start: fn() -> D,
}

const STREAM_PROTOCOLS: &[Candidate<StreamDecoder>] = &[
    Candidate {
        ports: &[modbus::PORT],
        probe: modbus::probe,
        start: || StreamDecoder::Modbus(modbus::ModbusParser::new()),
    },
    Candidate {
        ports: &[iec104::PORT],
        probe: iec104::probe,
        start: || StreamDecoder::Iec104(iec104::Iec104Parser::new()),
    },
    Candidate {
        ports: &[enip::PORT],
        probe: enip::probe,
        start: || StreamDecoder::Enip(enip::EnipParser::new()),
    },
    Candidate {
        ports: &[dnp3::PORT],
        probe: dnp3::probe,
        start: || StreamDecoder::Dnp3(dnp3::Dnp3Parser::new()),
    },
    Candidate {
        ports: &[iso_on_tcp::PORT],
        probe: iso_on_tcp::probe,
        start: || StreamDecoder::IsoOnTcp(Box::default()),
    },
    Candidate {
        ports: &[opcua::PORT],
        probe: opcua::probe,
        start: || StreamDecoder::Opcua(Box::default()),
    },
    Candidate {
        ports: &[mqtt::PORT],
        probe: mqtt::probe,
        start: || StreamDecoder::Mqtt(mqtt::MqttParser::new()),
    },
    Candidate {
        ports: &[http::PORT, http::ALT_PORT],
        probe: http::probe,
        start: || StreamDecoder::Http(Box::default()),
    },
    Candidate {
        ports: tls::PORTS,
        probe: tls::probe,
        start: || StreamDecoder::Tls(Box::default()),
    },
    Candidate {
        ports: &[ssh::PORT],
        probe: ssh::probe,
        start: || StreamDecoder::Ssh(ssh::SshParser::new()),
    },
    Candidate {
        ports: &[ftp::PORT],
        probe: ftp::probe,
        start: || StreamDecoder::Ftp(Box::default()),
    },
    Candidate {
        ports: &[telnet::PORT],
        probe: telnet::probe,
        start: || StreamDecoder::Telnet(Box::default()),
    },
    Candidate {
        ports: &[dns::PORT],
        probe: dns::probe_stream,
        start: || StreamDecoder::Dns(dns::DnsParser::new(Protocol::Dns)),
    },
];

const DATAGRAM_PROTOCOLS: &[Candidate<DatagramDecoder>] = &[
    Candidate {
        ports: &[enip::PORT, enip::IO_PORT],
        probe: enip::probe_datagram,
        start: || DatagramDecoder::Enip(enip::EnipParser::new()),
    },
    Candidate {
        ports: &[dnp3::PORT],
        probe: dnp3::probe,
        start: || DatagramDecoder::Dnp3(dnp3::Dnp3Parser::new()),
    },
    Candidate {
        ports: &[profinet::CM_PORT],
        probe: profinet::probe_cm,
        start: || DatagramDecoder::PnioCm(profinet::PnioCmParser::new()),
    },
    Candidate {
        ports: &[bacnet::PORT],
        probe: bacnet::probe,
        start: || DatagramDecoder::Bacnet(bacnet::BacnetParser::new()),
    },
    Candidate {
        ports: &[dhcp::SERVER_PORT, dhcp::CLIENT_PORT],
        probe: dhcp::probe,
        start: || DatagramDecoder::Dhcp(dhcp::DhcpParser::new()),
    },
    Candidate {
        ports: &[dns::PORT],
        probe: dns::probe,
        start: || DatagramDecoder::Dns(dns::DnsParser::new(Protocol::Dns)),
    },
    Candidate {
        ports: &[dns::MDNS_PORT],
        probe: dns::probe_mdns,
        start: || DatagramDecoder::Dns(dns::DnsParser::new(Protocol::Mdns)),
    },
    Candidate {
        ports: &[dns::LLMNR_PORT],
        probe: dns::probe_llmnr,
        start: || DatagramDecoder::Dns(dns::DnsParser::new(Protocol::Llmnr)),
    },
    Candidate {
        ports: &[snmp::PORT, snmp::TRAP_PORT],
        probe: snmp::probe,
        start: || DatagramDecoder::Snmp(snmp::SnmpParser::new()),
    },
    Candidate {
        ports: &[netbios::NBNS_PORT],
        probe: netbios::probe_nbns,
        start: || DatagramDecoder::Nbns(netbios::NbnsParser::new()),
    },
    Candidate {
        ports: &[netbios::NBDGM_PORT],
        probe: netbios::probe_nbdgm,
        start: || DatagramDecoder::Nbdgm(netbios::NbdgmParser::new()),
    },
];

/// A protocol carried directly over Ethernet: recognised by its ethertype
/// (or LLC header) and payload.
pub struct FrameCandidate {
    /// The ethertypes `matches` accepts ([`LLC`] for 802.3 frames with an LLC header).
    pub ether_types: &'static [u16],
    pub matches: fn(ether_type: u16, payload: &[u8]) -> bool,
    /// A fresh decoder for a conversation of this protocol.
    pub start: fn() -> FrameDecoder,
}

const FRAME_PROTOCOLS: &[FrameCandidate] = &[
    FrameCandidate {
        ether_types: &[goose::ETHERTYPE_GOOSE, goose::ETHERTYPE_GSE_MANAGEMENT],
        matches: goose::matches,
        start: || FrameDecoder::Goose(Box::default()),
    },
    FrameCandidate {
        ether_types: &[goose::ETHERTYPE_SV],
        matches: goose::sv::matches,
        start: || FrameDecoder::Sv(Box::default()),
    },
    FrameCandidate {
        ether_types: &[profinet::ETHER_TYPE],
        matches: profinet::matches_frame,
        start: || FrameDecoder::Profinet(profinet::ProfinetParser::new()),
    },
    FrameCandidate {
        ether_types: &[arp::ETHER_TYPE],
        matches: arp::matches,
        start: || FrameDecoder::Arp(arp::ArpParser::new()),
    },
    FrameCandidate {
        ether_types: &[lldp::ETHER_TYPE],
        matches: lldp::matches,
        start: || FrameDecoder::Lldp(lldp::LldpParser::new()),
    },
    FrameCandidate {
        ether_types: &[LLC],
        matches: cdp::matches,
        start: || FrameDecoder::Cdp(cdp::CdpParser::new()),
    },
];

/// The key under which 802.3 frames with an LLC header (length field below
/// 0x0600) are listed in [`WireSignature::ether_types`].
pub const LLC: u16 = 0;

/// Where a decoded protocol is found on the wire: its well-known ports and
/// ethertypes, for the live prefilter's pass list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireSignature {
    pub protocol: Protocol,
    pub tcp_ports: Vec<u16>,
    pub udp_ports: Vec<u16>,
    /// Ethertypes ([`LLC`] for LLC frames).
    pub ether_types: Vec<u16>,
}

/// Every decoder of the registry, by protocol, with the ports and ethertypes
/// it is registered for.
pub fn wire_signatures() -> Vec<WireSignature> {
    let mut signatures: Vec<WireSignature> = Vec::new();
    let mut entry = |protocol: Protocol| -> usize {
        match signatures.iter().position(|s| s.protocol == protocol) {
            Some(at) => at,
            None => {
                signatures.push(WireSignature {
                    protocol,
                    tcp_ports: Vec::new(),
                    udp_ports: Vec::new(),
                    ether_types: Vec::new(),
                });
                signatures.len() - 1
            }
        }
    };
    let mut added = Vec::new();
    for c in STREAM_PROTOCOLS {
        added.push((entry((c.start)().protocol()), 0, c.ports));
    }
    for c in DATAGRAM_PROTOCOLS {
        added.push((entry((c.start)().protocol()), 1, c.ports));
    }
    for c in FRAME_PROTOCOLS {
        added.push((entry((c.start)().protocol()), 2, c.ether_types));
    }
    for (at, kind, values) in added {
        let signature = &mut signatures[at];
        let list = match kind {
            0 => &mut signature.tcp_ports,
            1 => &mut signature.udp_ports,
            _ => &mut signature.ether_types,
        };
        list.extend_from_slice(values);
    }
    signatures
}

/// The TCP protocols in the order they are tried (for fuzz targets and
/// benchmarks, so that a protocol added here is exercised without naming it).
pub fn stream_candidates() -> &'static [Candidate<StreamDecoder>] {
    STREAM_PROTOCOLS
}

/// The UDP protocols in the order they are tried (for fuzz targets and benchmarks).
pub fn datagram_candidates() -> &'static [Candidate<DatagramDecoder>] {
    DATAGRAM_PROTOCOLS
}

/// The layer-2 protocols in the order they are tried (for fuzz targets and benchmarks).
pub fn frame_candidates() -> &'static [FrameCandidate] {
    FRAME_PROTOCOLS
}

/// The outcome of trying to recognise a conversation from its first bytes.
#[derive(Debug)]
pub enum Detection<D> {
    Found(D),
    /// Some decoder needs more bytes before it can tell.
    NeedMore,
    /// No decoder recognises these bytes.
    Unknown,
}

/// Tries the candidates registered for `server_port` first, then the others.
fn detect<D>(
    candidates: &[Candidate<D>],
    server_port: u16,
    direction: Direction,
    data: &[u8],
) -> Detection<D> {
    let mut need_more = false;
    let on_port = |c: &Candidate<D>| c.ports.contains(&server_port);
    let ordered = candidates
        .iter()
        .filter(|c| on_port(c))
        .chain(candidates.iter().filter(|c| !on_port(c)));
    for candidate in ordered {
        match (candidate.probe)(data, direction, on_port(candidate)) {
            Probe::Match => return Detection::Found((candidate.start)()),
            Probe::NeedMore => need_more = true,
            Probe::NoMatch => {}
        }
    }
    if need_more {
        Detection::NeedMore
    } else {
        Detection::Unknown
    }
}

/// Recognises the protocol of a TCP stream from the first bytes seen in one direction.
pub fn detect_stream(
    server_port: u16,
    direction: Direction,
    data: &[u8],
) -> Detection<StreamDecoder> {
    detect(STREAM_PROTOCOLS, server_port, direction, data)
}

/// Recognises the protocol of a UDP conversation from a datagram.
pub fn detect_datagram(
    server_port: u16,
    direction: Direction,
    datagram: &[u8],
) -> Detection<DatagramDecoder> {
    detect(DATAGRAM_PROTOCOLS, server_port, direction, datagram)
}

/// The decoder for a layer-2 conversation of `ether_type` (or LLC, when below
/// 0x0600), if one decodes it.
pub fn detect_frame(ether_type: u16, payload: &[u8]) -> Option<FrameDecoder> {
    FRAME_PROTOCOLS
        .iter()
        .find(|c| (c.matches)(ether_type, payload))
        .map(|c| (c.start)())
}

/// The `function` names events of `protocol` carry (for validating rules),
/// listed once per protocol: a policy names functions in many rules.
pub fn function_names(protocol: Protocol) -> &'static [&'static str] {
    static NAMES: [std::sync::OnceLock<Vec<&'static str>>; Protocol::ALL.len()] =
        [const { std::sync::OnceLock::new() }; Protocol::ALL.len()];
    NAMES[protocol as usize].get_or_init(|| list_function_names(protocol))
}

fn list_function_names(protocol: Protocol) -> Vec<&'static str> {
    match protocol {
        Protocol::Modbus => modbus::function_names(),
        Protocol::Iec104 => iec104::function_names(),
        Protocol::Enip => enip::enip_function_names(),
        Protocol::Cip => enip::cip_function_names(),
        Protocol::Dnp3 => dnp3::function_names(),
        Protocol::Cotp => cotp::function_names(),
        Protocol::S7comm => s7comm::function_names(),
        Protocol::S7commPlus => s7commplus::function_names(),
        Protocol::Goose => goose::function_names(),
        Protocol::Sv => goose::sv::function_names(),
        Protocol::ProfinetDcp => profinet::dcp_function_names(),
        Protocol::ProfinetRt => profinet::rt_function_names(),
        Protocol::ProfinetIo => profinet::io_function_names(),
        Protocol::Bacnet => bacnet::function_names(),
        Protocol::Mms => mms::function_names(),
        Protocol::Opcua => opcua::function_names(),
        Protocol::Mqtt => mqtt::function_names(),
        Protocol::Http => http::function_names(),
        Protocol::Tls => tls::function_names(),
        Protocol::Ssh => ssh::function_names(),
        Protocol::Telnet => telnet::function_names(),
        Protocol::Ftp => ftp::function_names(),
        Protocol::Arp => arp::function_names(),
        Protocol::Dhcp => dhcp::function_names(),
        Protocol::Dns | Protocol::Llmnr | Protocol::Mdns => dns::function_names(),
        Protocol::Lldp => lldp::function_names(),
        Protocol::Cdp => cdp::function_names(),
        Protocol::Snmp => snmp::function_names(),
        Protocol::Nbns => netbios::nbns_function_names(),
        Protocol::Nbdgm => netbios::nbdgm_function_names(),
    }
}

/// The anomaly names events of `protocol` carry (for validating rules).
pub fn anomaly_names(protocol: Protocol) -> Vec<&'static str> {
    let own = match protocol {
        Protocol::Modbus => modbus::anomaly::ALL,
        Protocol::Iec104 => iec104::anomaly::ALL,
        Protocol::Enip | Protocol::Cip => enip::anomaly::ALL,
        Protocol::Dnp3 => dnp3::anomaly::ALL,
        Protocol::Cotp => cotp::anomaly::ALL,
        Protocol::S7comm => s7comm::anomaly::ALL,
        Protocol::S7commPlus => s7commplus::anomaly::ALL,
        Protocol::Goose => goose::anomaly::ALL,
        Protocol::Sv => goose::sv::anomaly::ALL,
        Protocol::ProfinetDcp | Protocol::ProfinetRt | Protocol::ProfinetIo => {
            profinet::anomaly::ALL
        }
        Protocol::Bacnet => bacnet::anomaly::ALL,
        Protocol::Mms => mms::anomaly::ALL,
        Protocol::Opcua => opcua::anomaly::ALL,
        Protocol::Mqtt => mqtt::anomaly::ALL,
        Protocol::Http => http::anomaly::ALL,
        Protocol::Tls => tls::anomaly::ALL,
        Protocol::Ssh => ssh::anomaly::ALL,
        Protocol::Telnet => telnet::anomaly::ALL,
        Protocol::Ftp => ftp::anomaly::ALL,
        Protocol::Arp => arp::anomaly::ALL,
        Protocol::Dhcp => dhcp::anomaly::ALL,
        Protocol::Dns | Protocol::Llmnr | Protocol::Mdns => dns::anomaly::ALL,
        Protocol::Lldp => lldp::anomaly::ALL,
        Protocol::Cdp => cdp::anomaly::ALL,
        Protocol::Snmp => snmp::anomaly::ALL,
        Protocol::Nbns | Protocol::Nbdgm => netbios::anomaly::ALL,
    };
    let mut names = own.to_vec();
    // The protocols above COTP report the oddities of their TPDUs' TPKT/COTP
    // framing in their own events.
    if matches!(
        protocol,
        Protocol::S7comm | Protocol::S7commPlus | Protocol::Mms
    ) {
        for name in cotp::anomaly::ALL {
            if !names.contains(name) {
                names.push(name);
            }
        }
    }
    names
}

/// Whether `port` is the well-known server port of a decoded protocol; used to
/// orient conversations whose opening was not captured.
pub fn is_known_server_port(port: u16) -> bool {
    let known = |ports: &[u16]| ports.contains(&port);
    STREAM_PROTOCOLS.iter().any(|c| known(c.ports))
        || DATAGRAM_PROTOCOLS.iter().any(|c| known(c.ports))
}

#[cfg(test)]
mod wire_signature_tests {
    use super::*;

    fn signature(protocol: Protocol) -> WireSignature {
        wire_signatures()
            .into_iter()
            .find(|s| s.protocol == protocol)
            .unwrap_or_else(|| panic!("{protocol:?} is not in the registry"))
    }

    #[test]
    fn every_decoder_is_listed_with_its_ports_and_ethertypes() {
        assert_eq!(signature(Protocol::Modbus).tcp_ports, [502]);
        assert!(signature(Protocol::Modbus).udp_ports.is_empty());
        assert_eq!(signature(Protocol::Bacnet).udp_ports, [47808]);
        let enip = signature(Protocol::Enip);
        assert_eq!(
            (enip.tcp_ports, enip.udp_ports),
            (vec![44818], vec![44818, 2222])
        );
        assert_eq!(signature(Protocol::Arp).ether_types, [0x0806]);
        assert_eq!(signature(Protocol::Goose).ether_types, [0x88b8, 0x88b9]);
        assert_eq!(signature(Protocol::Cdp).ether_types, [LLC]);
        let dns = signature(Protocol::Dns);
        assert_eq!((dns.tcp_ports, dns.udp_ports), (vec![53], vec![53]));
        assert_eq!(signature(Protocol::Dhcp).udp_ports, [67, 68]);
    }
}
