use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;

/// Ethernet II / 802.1Q / IPv4 / TCP carrying a 12-byte Modbus request.
const VLAN_MODBUS: [u8; 70] = [
    0x00, 0x80, 0xf4, 0x01, 0x02, 0x03, // destination MAC (Schneider OUI)
    0x00, 0x0c, 0x29, 0xaa, 0xbb, 0xcc, // source MAC
    0x81, 0x00, // ethertype 802.1Q
    0x20, 0x64, // PCP 1, VLAN id 100
    0x08, 0x00, // ethertype IPv4
    0x45, 0x00, 0x00, 0x34, // version 4, IHL 5, total length 52
    0x12, 0x34, 0x40, 0x00, // id, don't fragment
    0x40, 0x06, 0x00, 0x00, // TTL 64, protocol TCP, checksum (unchecked)
    10, 0, 0, 5, // source 10.0.0.5
    10, 0, 0, 20, // destination 10.0.0.20
    0xc3, 0x50, 0x01, 0xf6, // source port 50000, destination port 502
    0x00, 0x00, 0x10, 0x00, // sequence number 4096
    0x00, 0x00, 0x20, 0x00, // acknowledgment number 8192
    0x50, 0x18, 0x20, 0x00, // data offset 5, flags PSH+ACK, window 8192
    0x00, 0x00, 0x00, 0x00, // checksum, urgent pointer
    0x00, 0x01, 0x00, 0x00, 0x00, 0x06,
    0x01, // MBAP: transaction 1, protocol 0, length 6, unit 1
    0x03, 0x00, 0x00, 0x00, 0x0a, // read holding registers 0..10
];

#[test]
fn ethernet_vlan_ipv4_tcp() {
    let p = Packet::parse(LinkType::Ethernet, &VLAN_MODBUS);
    assert_eq!(p.malformed, None);
    assert_eq!(p.dst_mac, Some([0x00, 0x80, 0xf4, 0x01, 0x02, 0x03]));
    assert_eq!(p.src_mac, Some([0x00, 0x0c, 0x29, 0xaa, 0xbb, 0xcc]));
    assert_eq!((p.vlan, p.vlan_tags), (Some(100), 1));
    assert_eq!(p.network, Network::Ipv4);
    assert_eq!(p.src_ip, Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5))));
    assert_eq!(p.dst_ip, Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 20))));
    assert_eq!(p.transport, Transport::Tcp);
    assert_eq!((p.src_port, p.dst_port), (50000, 502));
    assert_eq!(p.tcp.seq, 4096);
    assert_eq!(p.tcp.ack, 8192);
    assert!(p.tcp.has(TcpInfo::ACK) && !p.tcp.has(TcpInfo::SYN));
    assert_eq!(p.payload(&VLAN_MODBUS), &VLAN_MODBUS[58..]);
    assert_eq!(p.payload_missing, 0);
}

#[test]
fn qinq_reports_the_outer_vlan_and_both_tags() {
    let mut frame = VLAN_MODBUS[..12].to_vec();
    frame.extend_from_slice(&[0x88, 0xa8, 0x00, 0x0a]); // 802.1ad, outer VLAN 10
    frame.extend_from_slice(&VLAN_MODBUS[12..]); // 802.1Q VLAN 100, then IPv4
    let p = Packet::parse(LinkType::Ethernet, &frame);
    assert_eq!((p.vlan, p.vlan_tags), (Some(10), 2));
    assert_eq!((p.src_port, p.dst_port), (50000, 502));
    assert_eq!(p.payload(&frame), &VLAN_MODBUS[58..]);
}

#[test]
fn ethernet_padding_is_not_payload() {
    // A 60-byte minimum frame carrying a pure ACK: IPv4 total length 40, 6 padding bytes.
    let mut frame = VLAN_MODBUS[..12].to_vec();
    frame.extend_from_slice(&VLAN_MODBUS[16..18]); // IPv4, untagged
    frame.extend_from_slice(&VLAN_MODBUS[18..58]);
    frame[16..18].copy_from_slice(&40u16.to_be_bytes()); // total length 40
    frame.extend_from_slice(&[0; 6]);
    let p = Packet::parse(LinkType::Ethernet, &frame);
    assert_eq!(p.vlan, None);
    assert_eq!(p.payload_len, 0);
}

#[test]
fn snaplen_truncation_is_reported_as_missing_payload() {
    let cut = &VLAN_MODBUS[..64]; // 6 of the 12 payload bytes captured
    let p = Packet::parse(LinkType::Ethernet, cut);
    assert_eq!(p.malformed, None);
    assert_eq!(p.payload_len, 6);
    assert_eq!(p.payload_missing, 6);
}

#[test]
fn truncated_headers_are_named() {
    assert_eq!(
        Packet::parse(LinkType::Ethernet, &VLAN_MODBUS[..10]).malformed,
        Some(Malformed::TruncatedLinkHeader)
    );
    assert_eq!(
        Packet::parse(LinkType::Ethernet, &VLAN_MODBUS[..16]).malformed,
        Some(Malformed::TruncatedVlanTag)
    );
    assert_eq!(
        Packet::parse(LinkType::Ethernet, &VLAN_MODBUS[..30]).malformed,
        Some(Malformed::BadIpv4Header)
    );
    let p = Packet::parse(LinkType::Ethernet, &VLAN_MODBUS[..45]);
    assert_eq!(p.malformed, Some(Malformed::TruncatedTcpHeader));
    assert!(
        p.src_ip.is_some(),
        "what was read before the damage is kept"
    );
}

#[test]
fn linux_cooked_v1_and_v2() {
    let ip = &VLAN_MODBUS[18..];
    let mut sll = vec![
        0x00, 0x00, // packet type: to us
        0x00, 0x01, // ARPHRD_ETHER
        0x00, 0x06, // address length 6
        0x00, 0x0c, 0x29, 0xaa, 0xbb, 0xcc, 0x00, 0x00, // sender MAC, padded to 8
        0x08, 0x00, // protocol IPv4
    ];
    sll.extend_from_slice(ip);
    let p = Packet::parse(LinkType::LinuxSll, &sll);
    assert_eq!(p.src_mac, Some([0x00, 0x0c, 0x29, 0xaa, 0xbb, 0xcc]));
    assert_eq!(p.dst_mac, None);
    assert_eq!((p.src_port, p.dst_port), (50000, 502));

    let mut sll2 = vec![
        0x08, 0x00, // protocol IPv4
        0x00, 0x00, // reserved
        0x00, 0x00, 0x00, 0x02, // interface index 2
        0x00, 0x01, // ARPHRD_ETHER
        0x04, // packet type: outgoing
        0x06, // address length 6
        0x00, 0x0c, 0x29, 0xaa, 0xbb, 0xcc, 0x00, 0x00, // sender MAC
    ];
    sll2.extend_from_slice(ip);
    let p = Packet::parse(LinkType::LinuxSll2, &sll2);
    assert_eq!(p.src_mac, Some([0x00, 0x0c, 0x29, 0xaa, 0xbb, 0xcc]));
    assert_eq!(p.payload(&sll2), &VLAN_MODBUS[58..]);
}

#[test]
fn bsd_loopback_in_either_byte_order_and_raw_ip() {
    let ip = &VLAN_MODBUS[18..];
    for family in [[2, 0, 0, 0], [0, 0, 0, 2]] {
        let frame = [&family[..], ip].concat();
        let p = Packet::parse(LinkType::Null, &frame);
        assert_eq!(p.network, Network::Ipv4, "family {family:?}");
        assert_eq!(p.dst_port, 502);
    }
    let frame = [&[0, 0, 0, 99][..], ip].concat();
    assert_eq!(
        Packet::parse(LinkType::Null, &frame).malformed,
        Some(Malformed::UnknownLoopbackFamily)
    );
    assert_eq!(Packet::parse(LinkType::Raw, ip).dst_port, 502);
    assert_eq!(Packet::parse(LinkType::Ipv4, ip).dst_port, 502);
}

#[test]
fn ipv6_with_a_hop_by_hop_extension_header() {
    let mut frame = vec![
        0x60, 0x00, 0x00, 0x00, // version 6
        0x00, 0x14, 0x00,
        0x40, // payload length 20 (8 ext + 8 UDP + 4 data), next header hop-by-hop, hop limit 64
    ];
    frame.extend_from_slice(&Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1).octets()); // source
    frame.extend_from_slice(&Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2).octets()); // destination
    frame.extend_from_slice(&[
        0x11, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00,
        0x00, // hop-by-hop: next UDP, length 0, PadN
        0xba, 0xc0, 0x4e, 0x20, // UDP source port 47808, destination port 20000
        0x00, 0x0c, 0x00, 0x00, // UDP length 12, checksum
        0xde, 0xad, 0xbe, 0xef, // payload
    ]);
    let p = Packet::parse(LinkType::Ipv6, &frame);
    assert_eq!(p.malformed, None);
    assert_eq!(p.network, Network::Ipv6);
    assert_eq!(p.transport, Transport::Udp);
    assert_eq!((p.src_port, p.dst_port), (47808, 20000));
    assert_eq!(p.payload(&frame), &[0xde, 0xad, 0xbe, 0xef]);
    assert_eq!(p.payload_missing, 0);
}

#[test]
fn ipv4_fragments_are_flagged_and_not_parsed_further() {
    let mut frame = VLAN_MODBUS[18..].to_vec();
    frame[6] = 0x20; // more fragments
    let p = Packet::parse(LinkType::Ipv4, &frame);
    assert!(p.fragment);
    assert_eq!(p.transport, Transport::None);
}

#[test]
fn arp_and_other_ethertypes_keep_their_payload() {
    let mut frame = VLAN_MODBUS[..12].to_vec();
    frame.extend_from_slice(&[0x88, 0xb8]); // GOOSE
    frame.extend_from_slice(&[0x00, 0x01, 0x00, 0x08]);
    let p = Packet::parse(LinkType::Ethernet, &frame);
    assert_eq!(p.network, Network::Other);
    assert_eq!(p.ether_type, 0x88b8);
    assert_eq!(p.payload(&frame), &[0x00, 0x01, 0x00, 0x08]);

    let mut arp = VLAN_MODBUS[..12].to_vec();
    arp.extend_from_slice(&[0x08, 0x06]);
    arp.extend_from_slice(&[0; 10]);
    let p = Packet::parse(LinkType::Ethernet, &arp);
    assert_eq!(p.network, Network::Arp);
    assert_eq!(p.malformed, Some(Malformed::TruncatedArp));
}

#[test]
fn unsupported_link_types_yield_nothing() {
    let p = Packet::parse(LinkType::Unsupported(105), &VLAN_MODBUS);
    assert_eq!(p, Packet::default());
}
