//! The prefilter's decision, shared by the kernel program (`ebpf/`) and the
//! sensor, so that it is unit-tested on stable: which frames reach the
//! sensor and which are dropped as bulk traffic.
//!
//! A frame passes when its ethertype is on the pass list (ARP, LLDP, GOOSE,
//! PROFINET, …; LLC frames as ethertype 0), when it is TCP or UDP with either
//! port on the list (the ports of the decoded protocols), or when it cannot be
//! judged cheaply (IP fragments, frames too short to parse, ICMP). Everything
//! else — bulk TCP/UDP on other ports, other IP protocols, other ethertypes —
//! is dropped, and counted.
//!
//! The pass list lives in eBPF maps that the sensor fills (and may refill at
//! any time without reloading the program): port → protocol id, ethertype →
//! protocol id. Counters are kept per protocol id and verdict.
#![no_std]

/// Protocol ids below this are fixed classes; the sensor numbers the
/// protocols of its pass list from here.
pub const FIRST_LISTED: u8 = 8;
/// Protocol ids (and so counter slots per verdict).
pub const MAX_PROTOCOLS: u32 = 64;

/// Fixed classes (protocol ids below [`FIRST_LISTED`]).
pub mod class {
    /// Too short or inconsistent to parse: passed, so the sensor reports it.
    pub const UNPARSED: u8 = 0;
    /// An ethertype not on the pass list.
    pub const OTHER_ETHERTYPE: u8 = 1;
    /// TCP with neither port on the pass list.
    pub const OTHER_TCP: u8 = 2;
    /// UDP with neither port on the pass list.
    pub const OTHER_UDP: u8 = 3;
    /// An IP protocol other than TCP, UDP and ICMP.
    pub const OTHER_IP: u8 = 4;
    /// A non-first IP fragment, or a first one (ports unknown to the sensor's flow): passed.
    pub const IP_FRAGMENT: u8 = 5;
    /// ICMP and ICMPv6 (neighbour discovery, errors): passed.
    pub const ICMP: u8 = 6;

    /// Names of the fixed classes, by id.
    pub const NAMES: [&str; 7] = [
        "unparsed",
        "other_ethertype",
        "other_tcp",
        "other_udp",
        "other_ip",
        "ip_fragment",
        "icmp",
    ];
}

/// The ethertype key under which 802.3 frames with an LLC header (length
/// field below 0x0600: CDP, STP, …) are listed.
pub const LLC: u16 = 0;

/// The value of a port or ethertype that is not on the pass list.
pub const NOT_LISTED: u8 = 0;

/// What the prefilter decided about one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub pass: bool,
    /// Protocol id: a fixed [`class`], or a listed protocol's id.
    pub protocol: u8,
}

impl Verdict {
    const fn pass(protocol: u8) -> Verdict {
        Verdict {
            pass: true,
            protocol,
        }
    }

    const fn drop(protocol: u8) -> Verdict {
        Verdict {
            pass: false,
            protocol,
        }
    }

    /// The counter slot of this verdict: protocol id × 2 + (0 pass, 1 drop).
    pub fn counter_index(self) -> u32 {
        (u32::from(self.protocol) % MAX_PROTOCOLS) * 2 + u32::from(!self.pass)
    }
}

/// A packet and counter pair, as the per-CPU counter map stores them.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counter {
    pub packets: u64,
    pub bytes: u64,
}

/// Read access to a frame's bytes, bounds-checked at each read (the kernel
/// verifier needs every access checked against the end of the packet).
pub trait Frame {
    fn u8_at(&self, offset: usize) -> Option<u8>;

    #[inline(always)]
    fn u16_at(&self, offset: usize) -> Option<u16> {
        Some(u16::from_be_bytes([
            self.u8_at(offset)?,
            self.u8_at(offset + 1)?,
        ]))
    }
}

impl Frame for [u8] {
    #[inline(always)]
    fn u8_at(&self, offset: usize) -> Option<u8> {
        self.get(offset).copied()
    }
}

/// The pass list, as the program sees its maps.
pub trait PassList {
    /// Protocol id listed for a TCP port, or [`NOT_LISTED`].
    fn tcp_port(&self, port: u16) -> u8;
    fn udp_port(&self, port: u16) -> u8;
    /// Protocol id listed for an ethertype ([`LLC`] for 802.3 LLC frames).
    fn ether_type(&self, ether_type: u16) -> u8;
}

const ETH_P_IPV4: u16 = 0x0800;
const ETH_P_IPV6: u16 = 0x86DD;
const ETH_P_8021Q: u16 = 0x8100;
const ETH_P_8021AD: u16 = 0x88A8;
const ETH_P_QINQ_OLD: u16 = 0x9100;
const IPPROTO_ICMP: u8 = 1;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const IPPROTO_IPV6_FRAGMENT: u8 = 44;
const IPPROTO_ICMPV6: u8 = 58;

/// Decides what to do with one Ethernet frame.
#[inline(always)]
pub fn classify<F: Frame + ?Sized, L: PassList>(frame: &F, list: &L) -> Verdict {
    let Some(mut ether_type) = frame.u16_at(12) else {
        return Verdict::pass(class::UNPARSED);
    };
    let mut l3 = 14;
    // Up to two VLAN tags (802.1Q, QinQ), unrolled for the verifier.
    if is_vlan(ether_type) {
        let Some(inner) = frame.u16_at(16) else {
            return Verdict::pass(class::UNPARSED);
        };
        ether_type = inner;
        l3 = 18;
        if is_vlan(ether_type) {
            let Some(inner) = frame.u16_at(20) else {
                return Verdict::pass(class::UNPARSED);
            };
            ether_type = inner;
            l3 = 22;
        }
    }
    match ether_type {
        ETH_P_IPV4 => ipv4(frame, l3, list),
        ETH_P_IPV6 => ipv6(frame, l3, list),
        _ => {
            let key = if ether_type < 0x0600 { LLC } else { ether_type };
            match list.ether_type(key) {
                NOT_LISTED => Verdict::drop(class::OTHER_ETHERTYPE),
                id => Verdict::pass(id),
            }
        }
    }
}

#[inline(always)]
fn is_vlan(ether_type: u16) -> bool {
    matches!(ether_type, ETH_P_8021Q | ETH_P_8021AD | ETH_P_QINQ_OLD)
}

#[inline(always)]
fn ipv4<F: Frame + ?Sized, L: PassList>(frame: &F, l3: usize, list: &L) -> Verdict {
    let (Some(version_ihl), Some(fragment), Some(protocol)) =
        (frame.u8_at(l3), frame.u16_at(l3 + 6), frame.u8_at(l3 + 9))
    else {
        return Verdict::pass(class::UNPARSED);
    };
    let ihl = usize::from(version_ihl & 0x0f) * 4;
    if version_ihl >> 4 != 4 || ihl < 20 {
        return Verdict::pass(class::UNPARSED);
    }
    // More fragments, or an offset: the ports are not in every piece.
    if fragment & 0x3fff != 0 {
        return Verdict::pass(class::IP_FRAGMENT);
    }
    transport(frame, l3 + ihl, protocol, list)
}

#[inline(always)]
fn ipv6<F: Frame + ?Sized, L: PassList>(frame: &F, l3: usize, list: &L) -> Verdict {
    let Some(next) = frame.u8_at(l3 + 6) else {
        return Verdict::pass(class::UNPARSED);
    };
    if next == IPPROTO_IPV6_FRAGMENT {
        return Verdict::pass(class::IP_FRAGMENT);
    }
    transport(frame, l3 + 40, next, list)
}

#[inline(always)]
fn transport<F: Frame + ?Sized, L: PassList>(
    frame: &F,
    l4: usize,
    protocol: u8,
    list: &L,
) -> Verdict {
    match protocol {
        IPPROTO_TCP | IPPROTO_UDP => {
            let (Some(src), Some(dst)) = (frame.u16_at(l4), frame.u16_at(l4 + 2)) else {
                return Verdict::pass(class::UNPARSED);
            };
            let tcp = protocol == IPPROTO_TCP;
            let lookup = |port| {
                if tcp {
                    list.tcp_port(port)
                } else {
                    list.udp_port(port)
                }
            };
            // The server's port is listed; try the destination first.
            match (lookup(dst), lookup(src)) {
                (NOT_LISTED, NOT_LISTED) if tcp => Verdict::drop(class::OTHER_TCP),
                (NOT_LISTED, NOT_LISTED) => Verdict::drop(class::OTHER_UDP),
                (NOT_LISTED, id) | (id, _) => Verdict::pass(id),
            }
        }
        IPPROTO_ICMP | IPPROTO_ICMPV6 => Verdict::pass(class::ICMP),
        _ => Verdict::drop(class::OTHER_IP),
    }
}

#[cfg(test)]
mod tests;
