//! Link-layer headers: Ethernet II with 802.1Q/QinQ tags, Linux cooked
//! capture (SLL, SLL2), BSD loopback and raw IP. Each yields the ethertype of
//! what follows and the bytes after the link header.

use etherparse::{Ethernet2Slice, SingleVlanSlice};

use super::{ETHERTYPE_IPV4, ETHERTYPE_IPV6, Malformed, Packet};
use crate::capture::LinkType;

/// 802.1Q, 802.1ad and the older QinQ ethertype. A `matches!`, not a
/// slice's `contains`: that is a call, on every frame.
fn is_vlan_tag(ether_type: u16) -> bool {
    matches!(ether_type, 0x8100 | 0x88A8 | 0x9100)
}
/// Tags beyond this many are not unwrapped (no real network stacks more).
const MAX_VLAN_TAGS: u8 = 4;
/// ARPHRD_ETHER / ARPHRD_LOOPBACK in Linux cooked headers: the address is a MAC.
const ARPHRD_ETHER: u16 = 1;
const ARPHRD_LOOPBACK: u16 = 772;

pub(super) fn parse<'a>(
    link: LinkType,
    frame: &'a [u8],
    packet: &mut Packet,
) -> Option<(u16, &'a [u8])> {
    let parsed = match link {
        LinkType::Ethernet => ethernet(frame, packet),
        LinkType::LinuxSll => linux_sll(frame, packet),
        LinkType::LinuxSll2 => linux_sll2(frame, packet),
        LinkType::Null => loopback(frame, false),
        LinkType::Loop => loopback(frame, true),
        LinkType::Raw => raw_ip(frame),
        LinkType::Ipv4 => Ok((ETHERTYPE_IPV4, frame)),
        LinkType::Ipv6 => Ok((ETHERTYPE_IPV6, frame)),
        LinkType::Unsupported(_) => return None,
    };
    match parsed {
        Ok(next) => Some(next),
        Err(reason) => {
            packet.malformed = Some(reason);
            None
        }
    }
}

fn ethernet<'a>(frame: &'a [u8], packet: &mut Packet) -> Result<(u16, &'a [u8]), Malformed> {
    let eth = Ethernet2Slice::from_slice_without_fcs(frame)
        .map_err(|_| Malformed::TruncatedLinkHeader)?;
    packet.src_mac = Some(eth.source());
    packet.dst_mac = Some(eth.destination());
    let mut ether_type = eth.ether_type().0;
    let mut rest = eth.payload_slice();
    while is_vlan_tag(ether_type) && packet.vlan_tags < MAX_VLAN_TAGS {
        let tag = SingleVlanSlice::from_slice(rest).map_err(|_| Malformed::TruncatedVlanTag)?;
        if packet.vlan.is_none() {
            packet.vlan = Some(tag.vlan_identifier().value());
        }
        packet.vlan_tags += 1;
        ether_type = tag.ether_type().0;
        rest = tag.payload_slice();
    }
    Ok((ether_type, rest))
}

/// Linux cooked capture v1: packet type, ARPHRD type, address length,
/// 8 address bytes, protocol (16 bytes).
fn linux_sll<'a>(frame: &'a [u8], packet: &mut Packet) -> Result<(u16, &'a [u8]), Malformed> {
    if frame.len() < 16 {
        return Err(Malformed::TruncatedLinkHeader);
    }
    let hatype = u16::from_be_bytes([frame[2], frame[3]]);
    let halen = u16::from_be_bytes([frame[4], frame[5]]);
    packet.src_mac = cooked_mac(hatype, halen, &frame[6..14]);
    Ok((u16::from_be_bytes([frame[14], frame[15]]), &frame[16..]))
}

/// Linux cooked capture v2: protocol, reserved, interface index, ARPHRD type,
/// packet type, address length, 8 address bytes (20 bytes).
fn linux_sll2<'a>(frame: &'a [u8], packet: &mut Packet) -> Result<(u16, &'a [u8]), Malformed> {
    if frame.len() < 20 {
        return Err(Malformed::TruncatedLinkHeader);
    }
    let hatype = u16::from_be_bytes([frame[8], frame[9]]);
    packet.src_mac = cooked_mac(hatype, u16::from(frame[11]), &frame[12..20]);
    Ok((u16::from_be_bytes([frame[0], frame[1]]), &frame[20..]))
}

/// Cooked headers carry only the sender's address, and only sometimes a MAC.
fn cooked_mac(hatype: u16, halen: u16, addr: &[u8]) -> Option<[u8; 6]> {
    let is_mac = matches!(hatype, ARPHRD_ETHER | ARPHRD_LOOPBACK) && halen == 6;
    is_mac.then(|| [addr[0], addr[1], addr[2], addr[3], addr[4], addr[5]])
}

/// BSD loopback: a 4-byte address family, in the capturing host's byte order
/// (`Null`) or big-endian (`Loop`).
fn loopback(frame: &[u8], big_endian_only: bool) -> Result<(u16, &[u8]), Malformed> {
    let Some(family) = frame.get(..4) else {
        return Err(Malformed::TruncatedLinkHeader);
    };
    let family_be = u32::from_be_bytes([family[0], family[1], family[2], family[3]]);
    let family_le = u32::from_le_bytes([family[0], family[1], family[2], family[3]]);
    // AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS), 10 (Linux).
    let ether_type = |f: u32| match f {
        2 => Some(ETHERTYPE_IPV4),
        24 | 28 | 30 | 10 => Some(ETHERTYPE_IPV6),
        _ => None,
    };
    let found = if big_endian_only {
        ether_type(family_be)
    } else {
        ether_type(family_le).or_else(|| ether_type(family_be))
    };
    match found {
        Some(t) => Ok((t, &frame[4..])),
        None => Err(Malformed::UnknownLoopbackFamily),
    }
}

fn raw_ip(frame: &[u8]) -> Result<(u16, &[u8]), Malformed> {
    match frame.first().map(|b| b >> 4) {
        Some(4) => Ok((ETHERTYPE_IPV4, frame)),
        Some(6) => Ok((ETHERTYPE_IPV6, frame)),
        Some(_) => Err(Malformed::BadIpv4Header),
        None => Err(Malformed::TruncatedLinkHeader),
    }
}
