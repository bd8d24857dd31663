extern crate std;

use std::vec::Vec;

use super::*;

const MODBUS: u8 = FIRST_LISTED;
const BACNET: u8 = FIRST_LISTED + 1;
const ARP: u8 = FIRST_LISTED + 2;
const CDP: u8 = FIRST_LISTED + 3;

/// Modbus on TCP 502, BACnet on UDP 47808, ARP, and LLC frames.
struct List;

impl PassList for List {
    fn tcp_port(&self, port: u16) -> u8 {
        if port == 502 { MODBUS } else { NOT_LISTED }
    }
    fn udp_port(&self, port: u16) -> u8 {
        if port == 47808 { BACNET } else { NOT_LISTED }
    }
    fn ether_type(&self, ether_type: u16) -> u8 {
        match ether_type {
            0x0806 => ARP,
            LLC => CDP,
            _ => NOT_LISTED,
        }
    }
}

fn ethernet(ether_type: u16, vlans: &[u16]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend([0x02; 6]); // destination MAC
    f.extend([0x04; 6]); // source MAC
    for &tpid in vlans {
        f.extend(tpid.to_be_bytes());
        f.extend([0x00, 0x64]); // VLAN 100
    }
    f.extend(ether_type.to_be_bytes());
    f
}

fn ipv4(protocol: u8, fragment: u16, src_port: u16, dst_port: u16, vlans: &[u16]) -> Vec<u8> {
    let mut f = ethernet(0x0800, vlans);
    f.extend([0x45, 0x00, 0x00, 0x28]); // version 4, IHL 5; total length
    f.extend([0x00, 0x01]); // identification
    f.extend(fragment.to_be_bytes()); // flags, fragment offset
    f.extend([64, protocol, 0, 0]); // TTL, protocol, checksum
    f.extend([10, 0, 0, 1, 10, 0, 0, 2]); // addresses
    f.extend(src_port.to_be_bytes());
    f.extend(dst_port.to_be_bytes());
    f.extend([0; 16]);
    f
}

fn ipv6(next: u8, src_port: u16, dst_port: u16) -> Vec<u8> {
    let mut f = ethernet(0x86DD, &[]);
    f.extend([0x60, 0, 0, 0, 0x00, 0x14, next, 64]); // version, length, next header, hops
    f.extend([0xfe; 32]); // addresses
    f.extend(src_port.to_be_bytes());
    f.extend(dst_port.to_be_bytes());
    f.extend([0; 16]);
    f
}

fn verdict(frame: &[u8]) -> Verdict {
    classify(frame, &List)
}

fn passed(protocol: u8) -> Verdict {
    Verdict {
        pass: true,
        protocol,
    }
}

fn dropped(protocol: u8) -> Verdict {
    Verdict {
        pass: false,
        protocol,
    }
}

#[test]
fn a_listed_server_port_passes_in_both_directions() {
    assert_eq!(
        verdict(&ipv4(6, 0, 40000, 502, &[])),
        passed(MODBUS),
        "request"
    );
    assert_eq!(
        verdict(&ipv4(6, 0, 502, 40000, &[])),
        passed(MODBUS),
        "response"
    );
    assert_eq!(verdict(&ipv4(17, 0, 47808, 47808, &[])), passed(BACNET));
}

#[test]
fn bulk_tcp_and_udp_on_other_ports_are_dropped() {
    assert_eq!(
        verdict(&ipv4(6, 0, 40000, 5001, &[])),
        dropped(class::OTHER_TCP)
    );
    assert_eq!(
        verdict(&ipv4(17, 0, 40000, 5001, &[])),
        dropped(class::OTHER_UDP)
    );
    // A port listed for TCP does not pass UDP.
    assert_eq!(
        verdict(&ipv4(17, 0, 40000, 502, &[])),
        dropped(class::OTHER_UDP)
    );
}

#[test]
fn vlan_and_qinq_tags_are_looked_through() {
    assert_eq!(verdict(&ipv4(6, 0, 1, 502, &[0x8100])), passed(MODBUS));
    assert_eq!(
        verdict(&ipv4(6, 0, 1, 502, &[0x88A8, 0x8100])),
        passed(MODBUS)
    );
    assert_eq!(
        verdict(&ipv4(6, 0, 1, 80, &[0x8100])),
        dropped(class::OTHER_TCP)
    );
}

#[test]
fn fragments_icmp_and_short_frames_pass_other_ip_protocols_do_not() {
    assert_eq!(
        verdict(&ipv4(17, 0x2000, 1, 2, &[])),
        passed(class::IP_FRAGMENT),
        "more fragments"
    );
    assert_eq!(
        verdict(&ipv4(17, 0x00b9, 1, 2, &[])),
        passed(class::IP_FRAGMENT),
        "an offset"
    );
    assert_eq!(
        verdict(&ipv4(6, 0x4000, 1, 2, &[])),
        dropped(class::OTHER_TCP),
        "don't fragment is no fragment"
    );
    assert_eq!(verdict(&ipv4(1, 0, 0, 0, &[])), passed(class::ICMP));
    assert_eq!(
        verdict(&ipv4(47, 0, 0, 0, &[])),
        dropped(class::OTHER_IP),
        "GRE"
    );
    assert_eq!(verdict(&[0u8; 10]), passed(class::UNPARSED));
    let mut cut = ipv4(6, 0, 1, 502, &[]);
    cut.truncate(14 + 20 + 3);
    assert_eq!(verdict(&cut), passed(class::UNPARSED), "ports cut off");
}

#[test]
fn a_bad_ipv4_header_passes_as_unparsed() {
    let mut f = ipv4(6, 0, 1, 5001, &[]);
    f[14] = 0x44; // IHL 4: shorter than the fixed header
    assert_eq!(verdict(&f), passed(class::UNPARSED));
}

#[test]
fn ipv6_ports_and_fragments() {
    assert_eq!(verdict(&ipv6(6, 40000, 502)), passed(MODBUS));
    assert_eq!(verdict(&ipv6(17, 40000, 9000)), dropped(class::OTHER_UDP));
    assert_eq!(verdict(&ipv6(44, 0, 0)), passed(class::IP_FRAGMENT));
    assert_eq!(verdict(&ipv6(58, 0, 0)), passed(class::ICMP));
}

#[test]
fn ethertypes_on_the_list_pass_llc_under_its_own_key() {
    assert_eq!(verdict(&ethernet(0x0806, &[])), passed(ARP));
    assert_eq!(verdict(&ethernet(0x0806, &[0x8100])), passed(ARP));
    assert_eq!(
        verdict(&ethernet(0x0042, &[])),
        passed(CDP),
        "802.3 length field: LLC"
    );
    assert_eq!(
        verdict(&ethernet(0x88e5, &[])),
        dropped(class::OTHER_ETHERTYPE),
        "MACsec"
    );
}

#[test]
fn counter_slots_are_per_protocol_and_verdict() {
    assert_eq!(passed(0).counter_index(), 0);
    assert_eq!(dropped(0).counter_index(), 1);
    assert_eq!(passed(MODBUS).counter_index(), u32::from(MODBUS) * 2);
    assert!(dropped(63).counter_index() < MAX_PROTOCOLS * 2);
}
