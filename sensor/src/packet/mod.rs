//! A zero-copy view of a frame's layers 2–4: addresses, ports, TCP sequence
//! numbers and where the payload lies. Parsed once, by the dispatcher, with
//! etherparse's slice API; the result is a small `Copy` value of offsets and
//! fields that travels with the frame to its worker.

mod link;

use std::net::IpAddr;

use etherparse::{IpNumber, LaxIpv4Slice, LaxIpv6Slice, TcpSlice, UdpSlice};

use crate::capture::LinkType;
use crate::event::Mac;

pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_ARP: u16 = 0x0806;
pub const ETHERTYPE_IPV6: u16 = 0x86DD;

/// The network layer of a frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Network {
    /// No network header could be read.
    #[default]
    None,
    Arp,
    Ipv4,
    Ipv6,
    /// Another ethertype (an L2 protocol such as GOOSE or LLDP), or 802.3 LLC.
    Other,
}

/// The transport layer of an IP packet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Transport {
    #[default]
    None,
    Tcp,
    Udp,
    Icmp,
    /// Another IP protocol (number in [`Packet::ip_proto`]).
    Other,
}

/// TCP header fields the reassembler needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpInfo {
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
}

impl TcpInfo {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const ACK: u8 = 0x10;

    pub fn has(self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// A SYN that can open a connection: not combined with FIN or RST, as
    /// scanners and fuzzers send them.
    pub fn opens(self) -> bool {
        self.has(Self::SYN) && !self.has(Self::FIN) && !self.has(Self::RST)
    }
}

/// Why parsing stopped before the payload (counted per reason in stats).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Malformed {
    TruncatedLinkHeader,
    TruncatedVlanTag,
    UnknownLoopbackFamily,
    BadIpv4Header,
    BadIpv6Header,
    BadIpv6Extension,
    TruncatedTcpHeader,
    TruncatedUdpHeader,
    TruncatedArp,
}

impl Malformed {
    pub fn name(self) -> &'static str {
        match self {
            Malformed::TruncatedLinkHeader => "truncated_link_header",
            Malformed::TruncatedVlanTag => "truncated_vlan_tag",
            Malformed::UnknownLoopbackFamily => "unknown_loopback_family",
            Malformed::BadIpv4Header => "bad_ipv4_header",
            Malformed::BadIpv6Header => "bad_ipv6_header",
            Malformed::BadIpv6Extension => "bad_ipv6_extension_header",
            Malformed::TruncatedTcpHeader => "truncated_tcp_header",
            Malformed::TruncatedUdpHeader => "truncated_udp_header",
            Malformed::TruncatedArp => "truncated_arp",
        }
    }
}

/// Layers 2–4 of one frame. Offsets are from the start of the frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Packet {
    pub src_mac: Option<Mac>,
    pub dst_mac: Option<Mac>,
    /// The outermost VLAN id, if tagged.
    pub vlan: Option<u16>,
    /// Number of VLAN tags (2 for QinQ).
    pub vlan_tags: u8,
    /// The innermost ethertype (or the 802.3 length field for LLC frames).
    pub ether_type: u16,
    pub network: Network,
    pub src_ip: Option<IpAddr>,
    pub dst_ip: Option<IpAddr>,
    pub ip_proto: u8,
    /// An IP fragment: its transport header, if any, is not parsed.
    pub fragment: bool,
    pub transport: Transport,
    pub src_port: u16,
    pub dst_port: u16,
    pub tcp: TcpInfo,
    /// The transport payload (for non-IP frames, the layer-2 payload).
    pub payload_offset: u32,
    pub payload_len: u32,
    /// Payload bytes the headers announce but the capture did not keep (snaplen).
    pub payload_missing: u32,
    pub malformed: Option<Malformed>,
}

impl Packet {
    /// Parses `frame`, captured on a link of type `link`. Never fails: what
    /// could not be read is left at its default and `malformed` says why.
    pub fn parse(link: LinkType, frame: &[u8]) -> Packet {
        let mut packet = Packet::default();
        packet.parse_into(link, frame);
        packet
    }

    /// [`Packet::parse`] into `self`, whatever it held: the dispatcher
    /// parses into the frame it sends, so the view is not copied.
    pub fn parse_into(&mut self, link: LinkType, frame: &[u8]) {
        *self = Packet::default();
        if let Some((ether_type, rest)) = link::parse(link, frame, self) {
            self.ether_type = ether_type;
            self.parse_network(frame, ether_type, rest);
        }
    }

    /// The payload bytes within `frame` (the frame this packet was parsed from).
    pub fn payload<'a>(&self, frame: &'a [u8]) -> &'a [u8] {
        let start = self.payload_offset as usize;
        frame
            .get(start..start + self.payload_len as usize)
            .unwrap_or(&[])
    }

    fn set_payload(&mut self, frame: &[u8], payload: &[u8]) {
        self.payload_offset = offset_in(frame, payload);
        self.payload_len = payload.len() as u32;
    }

    fn parse_network(&mut self, frame: &[u8], ether_type: u16, data: &[u8]) {
        match ether_type {
            ETHERTYPE_IPV4 => self.parse_ipv4(frame, data),
            ETHERTYPE_IPV6 => self.parse_ipv6(frame, data),
            ETHERTYPE_ARP => {
                self.network = Network::Arp;
                if data.len() < 28 {
                    self.malformed = Some(Malformed::TruncatedArp);
                }
                self.set_payload(frame, data);
            }
            _ => {
                self.network = Network::Other;
                self.set_payload(frame, data);
            }
        }
    }

    fn parse_ipv4(&mut self, frame: &[u8], data: &[u8]) {
        let Ok((ip, _auth_error)) = LaxIpv4Slice::from_slice(data) else {
            self.malformed = Some(Malformed::BadIpv4Header);
            return;
        };
        self.network = Network::Ipv4;
        let header = ip.header();
        self.src_ip = Some(IpAddr::V4(header.source_addr()));
        self.dst_ip = Some(IpAddr::V4(header.destination_addr()));
        // The announced payload length, to tell how much the capture cut off.
        let announced = usize::from(header.total_len()).saturating_sub(header.slice().len());
        let payload = ip.payload();
        self.parse_transport(
            frame,
            payload.ip_number,
            payload.fragmented,
            payload.payload,
            announced,
        );
    }

    fn parse_ipv6(&mut self, frame: &[u8], data: &[u8]) {
        let Ok((ip, ext_error)) = LaxIpv6Slice::from_slice(data) else {
            self.malformed = Some(Malformed::BadIpv6Header);
            return;
        };
        self.network = Network::Ipv6;
        let header = ip.header();
        self.src_ip = Some(IpAddr::V6(header.source_addr()));
        self.dst_ip = Some(IpAddr::V6(header.destination_addr()));
        if ext_error.is_some() {
            self.malformed = Some(Malformed::BadIpv6Extension);
            return;
        }
        let payload = ip.payload();
        // IPv6 payload length covers extension headers; subtract what they took.
        let ext_len = offset_in(data, payload.payload) as usize - header.slice().len();
        let announced = usize::from(header.payload_length()).saturating_sub(ext_len);
        self.parse_transport(
            frame,
            payload.ip_number,
            payload.fragmented,
            payload.payload,
            announced,
        );
    }

    fn parse_transport(
        &mut self,
        frame: &[u8],
        proto: IpNumber,
        fragment: bool,
        data: &[u8],
        announced: usize,
    ) {
        self.ip_proto = proto.0;
        self.fragment = fragment;
        if fragment {
            return;
        }
        let missing_after = |payload_len: usize, header_len: usize| {
            announced.saturating_sub(header_len + payload_len) as u32
        };
        match proto {
            IpNumber::TCP => {
                let Ok(tcp) = TcpSlice::from_slice(data) else {
                    self.malformed = Some(Malformed::TruncatedTcpHeader);
                    return;
                };
                self.transport = Transport::Tcp;
                self.src_port = tcp.source_port();
                self.dst_port = tcp.destination_port();
                let header = tcp.header_slice();
                self.tcp = TcpInfo {
                    seq: tcp.sequence_number(),
                    ack: tcp.acknowledgment_number(),
                    flags: header[13],
                    window: tcp.window_size(),
                };
                self.payload_missing = missing_after(tcp.payload().len(), header.len());
                self.set_payload(frame, tcp.payload());
            }
            IpNumber::UDP => {
                let Ok(udp) = UdpSlice::from_slice_lax(data) else {
                    self.malformed = Some(Malformed::TruncatedUdpHeader);
                    return;
                };
                self.transport = Transport::Udp;
                self.src_port = udp.source_port();
                self.dst_port = udp.destination_port();
                self.payload_missing = missing_after(udp.payload().len(), 8);
                self.set_payload(frame, udp.payload());
            }
            IpNumber::ICMP | IpNumber::IPV6_ICMP => {
                self.transport = Transport::Icmp;
                self.set_payload(frame, data);
            }
            _ => {
                self.transport = Transport::Other;
                self.set_payload(frame, data);
            }
        }
    }
}

/// Offset of `part` within `whole` (`part` must be a sub-slice of `whole`).
fn offset_in(whole: &[u8], part: &[u8]) -> u32 {
    (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize) as u32
}

#[cfg(test)]
mod tests;
