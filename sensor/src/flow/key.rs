//! The symmetric flow key: both directions of a conversation map to the same
//! key, and to the same hash, so they reach the same worker and table slot.

use std::net::IpAddr;

use crate::packet::{Network, Packet, Transport};

/// Which endpoint of a [`FlowKey`] sent a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The lower endpoint (`FlowKey::a`).
    A,
    B,
}

impl Side {
    pub fn index(self) -> usize {
        match self {
            Side::A => 0,
            Side::B => 1,
        }
    }

    pub fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }
}

/// One end of a flow: an IP address (IPv4 mapped into IPv6) or, for frames
/// without IP, a MAC address, and a port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Endpoint {
    pub addr: [u8; 16],
    /// TCP/UDP port; 0 for other traffic.
    pub port: u16,
}

/// A conversation, independent of direction: `a` is the lower endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    pub a: Endpoint,
    pub b: Endpoint,
    /// IP protocol number, or 0 for non-IP frames.
    pub proto: u8,
    /// Outer VLAN id (0 if untagged): the same addresses on two VLANs are two flows.
    pub vlan: u16,
    /// Ethertype for non-IP frames, 0 for IP.
    pub ether_type: u16,
}

impl FlowKey {
    /// The key of the flow `packet` belongs to, and which side sent it.
    /// `None` for packets without addresses to key on (malformed frames, IP
    /// over links without MACs that failed to parse).
    pub fn of(packet: &Packet) -> Option<(FlowKey, Side)> {
        // Addresses as big-endian integers: ordering the two ends is then an
        // integer comparison, in the same order as comparing their bytes.
        let (src, dst, proto, ether_type) = match (packet.network, packet.src_ip, packet.dst_ip) {
            (Network::Ipv4 | Network::Ipv6, Some(src), Some(dst)) => {
                let ports = matches!(packet.transport, Transport::Tcp | Transport::Udp);
                let (sport, dport) = if ports {
                    (packet.src_port, packet.dst_port)
                } else {
                    (0, 0)
                };
                (
                    (ip_bits(src), sport),
                    (ip_bits(dst), dport),
                    packet.ip_proto,
                    0,
                )
            }
            // Layer-2 protocols and ARP: a MAC pair and the ethertype.
            (Network::Other | Network::Arp, _, _) => {
                let (Some(src), Some(dst)) = (packet.src_mac, packet.dst_mac) else {
                    return None;
                };
                ((mac_bits(src), 0), (mac_bits(dst), 0), 0, packet.ether_type)
            }
            _ => return None,
        };
        let vlan = packet.vlan.unwrap_or(0);
        let ((a, b), side) = if src <= dst {
            ((src, dst), Side::A)
        } else {
            ((dst, src), Side::B)
        };
        let endpoint = |(addr, port): (u128, u16)| Endpoint {
            addr: addr.to_be_bytes(),
            port,
        };
        Some((
            FlowKey {
                a: endpoint(a),
                b: endpoint(b),
                proto,
                vlan,
                ether_type,
            },
            side,
        ))
    }

    pub fn endpoint(&self, side: Side) -> &Endpoint {
        match side {
            Side::A => &self.a,
            Side::B => &self.b,
        }
    }

    /// A deterministic hash (the same in every run and on every machine), used
    /// both to pick the shard and inside the flow table.
    pub fn hash(&self) -> u64 {
        let word = |b: &[u8]| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
        let tail = u64::from(self.a.port)
            | u64::from(self.b.port) << 16
            | u64::from(self.proto) << 32
            | u64::from(self.vlan) << 40
            | u64::from(self.ether_type) << 48;
        let mut h = 0x243F_6A88_85A3_08D3u64; // digits of pi: an arbitrary fixed seed
        for w in [
            word(&self.a.addr[..8]),
            word(&self.a.addr[8..]),
            word(&self.b.addr[..8]),
            word(&self.b.addr[8..]),
            tail,
        ] {
            h = fold_mul(h ^ w, 0x9E37_79B9_7F4A_7C15);
        }
        h
    }
}

/// Multiply into 128 bits and fold: a fast, well-mixing step (as in foldhash/wyhash).
fn fold_mul(x: u64, k: u64) -> u64 {
    let full = u128::from(x) * u128::from(k);
    (full as u64) ^ ((full >> 64) as u64)
}

/// The address as [`Endpoint::addr`] holds it (IPv4 mapped into IPv6), read big-endian.
fn ip_bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => 0xffff_0000_0000 | u128::from(v4.to_bits()),
        IpAddr::V6(v6) => v6.to_bits(),
    }
}

/// The MAC in the first six bytes of [`Endpoint::addr`], read big-endian.
fn mac_bits(mac: [u8; 6]) -> u128 {
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&mac);
    u128::from_be_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn tcp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16) -> Packet {
        Packet {
            network: Network::Ipv4,
            transport: Transport::Tcp,
            ip_proto: 6,
            src_ip: Some(IpAddr::V4(Ipv4Addr::from(src))),
            dst_ip: Some(IpAddr::V4(Ipv4Addr::from(dst))),
            src_port: sport,
            dst_port: dport,
            ..Packet::default()
        }
    }

    #[test]
    fn both_directions_share_a_key_and_hash() {
        let (k1, s1) = FlowKey::of(&tcp([10, 0, 0, 5], 50000, [10, 0, 0, 20], 502)).unwrap();
        let (k2, s2) = FlowKey::of(&tcp([10, 0, 0, 20], 502, [10, 0, 0, 5], 50000)).unwrap();
        assert_eq!(k1, k2);
        assert_eq!(k1.hash(), k2.hash());
        assert_eq!((s1, s2), (Side::A, Side::B));
        assert_eq!(k1.endpoint(Side::A).port, 50000);
    }

    #[test]
    fn endpoints_hold_ipv4_mapped_into_ipv6_and_the_lower_comes_first() {
        let (key, side) = FlowKey::of(&tcp([10, 0, 0, 20], 502, [10, 0, 0, 5], 50000)).unwrap();
        assert_eq!(side, Side::B, "the sender is the higher address");
        assert_eq!(
            key.a.addr,
            Ipv4Addr::new(10, 0, 0, 5).to_ipv6_mapped().octets()
        );
        assert_eq!(
            key.b.addr,
            Ipv4Addr::new(10, 0, 0, 20).to_ipv6_mapped().octets()
        );
        // Ordered as bytes: 9.255.255.255 is below 10.0.0.0, and the port decides a tie.
        let (low, _) = FlowKey::of(&tcp([9, 255, 255, 255], 1, [10, 0, 0, 0], 1)).unwrap();
        assert_eq!(low.a.addr[12..], [9, 255, 255, 255]);
        let (tie, side) = FlowKey::of(&tcp([10, 0, 0, 5], 600, [10, 0, 0, 5], 502)).unwrap();
        assert_eq!((tie.a.port, side), (502, Side::B));
        let v6 = Packet {
            network: Network::Ipv6,
            src_ip: Some("fe80::1".parse().unwrap()),
            dst_ip: Some("::ffff:10.0.0.5".parse().unwrap()),
            ..tcp([0; 4], 1, [0; 4], 2)
        };
        let (key, side) = FlowKey::of(&v6).unwrap();
        assert_eq!(side, Side::B);
        assert_eq!(
            key.b.addr,
            "fe80::1".parse::<std::net::Ipv6Addr>().unwrap().octets()
        );
    }

    #[test]
    fn ports_vlans_and_addresses_separate_flows() {
        let base = tcp([10, 0, 0, 5], 50000, [10, 0, 0, 20], 502);
        let (key, _) = FlowKey::of(&base).unwrap();
        let (other_port, _) = FlowKey::of(&tcp([10, 0, 0, 5], 50001, [10, 0, 0, 20], 502)).unwrap();
        let (other_vlan, _) = FlowKey::of(&Packet {
            vlan: Some(7),
            ..base
        })
        .unwrap();
        assert_ne!(key, other_port);
        assert_ne!(key, other_vlan);
        assert_ne!(key.hash(), other_port.hash());
        assert_ne!(key.hash(), other_vlan.hash());
    }

    #[test]
    fn layer_2_frames_are_keyed_by_mac_pair_and_ethertype() {
        let arp = Packet {
            network: Network::Arp,
            ether_type: 0x0806,
            src_mac: Some([0, 1, 2, 3, 4, 5]),
            dst_mac: Some([0xff; 6]),
            ..Packet::default()
        };
        let (key, side) = FlowKey::of(&arp).unwrap();
        assert_eq!((key.ether_type, key.proto, side), (0x0806, 0, Side::A));
        assert_eq!(key.a.addr, [0, 1, 2, 3, 4, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(key.b.addr[..6], [0xff; 6]);
        let goose = Packet {
            network: Network::Other,
            ether_type: 0x88b8,
            ..arp
        };
        assert_ne!(FlowKey::of(&goose).unwrap().0, key);
    }

    #[test]
    fn frames_without_addresses_have_no_flow() {
        assert!(
            FlowKey::of(&Packet {
                network: Network::Arp,
                ..Packet::default()
            })
            .is_none()
        );
        assert!(FlowKey::of(&Packet::default()).is_none());
    }
}
