//! CDP (Cisco Discovery Protocol), in IEEE 802.3 frames with an LLC/SNAP
//! header (`AA AA 03`, OUI 00:00:0C, PID 0x2000): a Cisco device announcing
//! its name, platform, software, addresses and port to its neighbour.
//!
//! One event per CDP packet (one frame). The identity describes the sender:
//! `hostname` from the device id, `product` from the platform, `firmware`
//! from the software version (the version it names), `device_type` from the
//! capabilities (`router`, `switch`, `phone`…).

#[cfg(test)]
mod tests;

use std::net::IpAddr;

use super::itwire::{Reader, firmware_in, ip_from, put_ips, put_str, put_strs, put_u64, text};
use super::{Emitter, FrameParser};
use crate::event::{Anomalies, Fields, FunctionClass, Identity, Pdu, Protocol, Visitor};

/// The LLC/SNAP header that introduces CDP: DSAP and SSAP SNAP, UI, Cisco's
/// OUI and the CDP protocol id.
pub const LLC_SNAP: [u8; 8] = [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00];
/// Longest text kept from a TLV.
const MAX_TEXT: usize = 512;
/// TLVs walked at most in one packet.
const MAX_TLVS: usize = 128;
/// Addresses kept per address TLV.
const MAX_ADDRESSES: usize = 8;

/// Stable anomaly names of this decoder.
pub mod anomaly {
    /// Shorter than the CDP header (version, TTL, checksum).
    pub const TRUNCATED: &str = "truncated";
    /// A TLV header or value runs past the end of the packet.
    pub const TRUNCATED_TLV: &str = "truncated_tlv";
    /// A TLV length below its 4-byte header, or wrong for its type.
    pub const BAD_TLV_LENGTH: &str = "bad_tlv_length";
    /// A CDP version other than 1 and 2.
    pub const UNKNOWN_VERSION: &str = "unknown_version";
    /// More TLVs than the decoder walks (128).
    pub const TOO_MANY_TLVS: &str = "too_many_tlvs";

    pub const ALL: &[&str] = &[
        TRUNCATED,
        TRUNCATED_TLV,
        BAD_TLV_LENGTH,
        UNKNOWN_VERSION,
        TOO_MANY_TLVS,
    ];
}
use anomaly::*;

/// Every `function` name CDP events carry, for rule validation.
pub fn function_names() -> Vec<&'static str> {
    vec!["advertisement", "invalid"]
}

/// TLV types.
mod tlv {
    pub const DEVICE_ID: u16 = 0x0001;
    pub const ADDRESSES: u16 = 0x0002;
    pub const PORT_ID: u16 = 0x0003;
    pub const CAPABILITIES: u16 = 0x0004;
    pub const SOFTWARE_VERSION: u16 = 0x0005;
    pub const PLATFORM: u16 = 0x0006;
    pub const VTP_DOMAIN: u16 = 0x0009;
    pub const NATIVE_VLAN: u16 = 0x000a;
    pub const DUPLEX: u16 = 0x000b;
    pub const MANAGEMENT_ADDRESSES: u16 = 0x0016;
}

/// Capability bits, by name.
const CAPABILITIES: &[(u32, &str)] = &[
    (0x0001, "router"),
    (0x0002, "transparent_bridge"),
    (0x0004, "source_route_bridge"),
    (0x0008, "switch"),
    (0x0010, "host"),
    (0x0020, "igmp_capable"),
    (0x0040, "repeater"),
    (0x0080, "voip_phone"),
    (0x0100, "remotely_managed_device"),
    (0x0200, "cvta_stp_dispute_resolution"),
    (0x0400, "two_port_mac_relay"),
];

/// The names of the capability bits set in `bits`.
pub fn capability_names(bits: u32) -> Vec<&'static str> {
    CAPABILITIES
        .iter()
        .filter(|(bit, _)| bits & bit != 0)
        .map(|(_, name)| *name)
        .collect()
}

/// What the capabilities make the sender, most significant first.
fn device_type(bits: u32) -> Option<&'static str> {
    [
        (0x0001, "router"),
        (0x0008 | 0x0002 | 0x0004 | 0x0400, "switch"),
        (0x0080, "phone"),
        (0x0040, "repeater"),
    ]
    .into_iter()
    .find(|(b, _)| bits & b != 0)
    .map(|(_, name)| name)
}

/// CDP fields of one event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CdpFields {
    /// Wireshark `cdp.version`.
    pub version: Option<u8>,
    /// Seconds the information stays valid (Wireshark `cdp.ttl`).
    pub ttl: Option<u8>,
    /// Wireshark `cdp.deviceid`.
    pub device_id: Option<String>,
    /// IPv4 and IPv6 addresses of the Addresses TLV (Wireshark
    /// `cdp.nrgyz.ip_address` for IPv4).
    pub addresses: Vec<IpAddr>,
    /// Addresses of the Management Addresses TLV.
    pub management_addresses: Vec<IpAddr>,
    /// Wireshark `cdp.portid`.
    pub port_id: Option<String>,
    /// Capability bits (Wireshark `cdp.capabilities`).
    pub capabilities: Option<u32>,
    /// Software version text, lines joined with `\n` (Wireshark
    /// `cdp.software_version` shows one value per line).
    pub software_version: Option<String>,
    /// Wireshark `cdp.platform`.
    pub platform: Option<String>,
    /// Wireshark `cdp.vtp_management_domain`.
    pub vtp_domain: Option<String>,
    /// Wireshark `cdp.native_vlan`.
    pub native_vlan: Option<u16>,
    /// Wireshark `cdp.duplex`: true for full duplex.
    pub full_duplex: Option<bool>,
}

impl CdpFields {
    /// The identity the sender announces.
    fn identity(&self) -> Option<Box<Identity>> {
        let firmware = self.software_version.as_deref().and_then(|s| {
            firmware_in(s).or_else(|| s.lines().next().map(|l| text(l.as_bytes(), 128)))
        });
        let identity = Identity {
            hostname: self.device_id.clone().filter(|s| !s.is_empty()),
            product: self.platform.clone().filter(|s| !s.is_empty()),
            firmware,
            device_type: self.capabilities.and_then(device_type).map(str::to_string),
            ..Identity::default()
        };
        (!identity.is_empty()).then(|| Box::new(identity))
    }

    pub fn visit(&self, v: &mut dyn Visitor) {
        put_u64(v, "version", self.version);
        put_u64(v, "ttl", self.ttl);
        put_str(v, "device_id", self.device_id.as_deref());
        put_ips(v, "addresses", &self.addresses);
        put_ips(v, "management_addresses", &self.management_addresses);
        put_str(v, "port_id", self.port_id.as_deref());
        if let Some(bits) = self.capabilities {
            put_strs(v, "capabilities", &capability_names(bits));
            put_u64(v, "capability_bits", Some(bits));
        }
        put_str(v, "software_version", self.software_version.as_deref());
        put_str(v, "platform", self.platform.as_deref());
        put_str(v, "vtp_domain", self.vtp_domain.as_deref());
        put_u64(v, "native_vlan", self.native_vlan);
        put_str(
            v,
            "duplex",
            self.full_duplex
                .map(|full| if full { "full" } else { "half" }),
        );
    }
}

/// The addresses of an Addresses or Management Addresses TLV: a count, then
/// per address a protocol type (1 NLPID, 2 802.2), protocol length, protocol
/// (0xCC for IPv4 by NLPID; the 802.2 SNAP header of ethertype 0x86DD for
/// IPv6), address length and address.
fn addresses(value: &[u8], out: &mut Vec<IpAddr>, a: &mut Anomalies) {
    let mut r = Reader::new(value);
    let Some(count) = r.u32() else {
        a.add(BAD_TLV_LENGTH);
        return;
    };
    for _ in 0..count.min(64) {
        let entry = (|| {
            let _ptype = r.u8()?;
            let plen = r.u8()?;
            let protocol = r.take(usize::from(plen))?;
            let alen = r.u16()?;
            let address = r.take(usize::from(alen))?;
            Some((protocol, address))
        })();
        let Some((protocol, address)) = entry else {
            a.add(BAD_TLV_LENGTH);
            return;
        };
        let ip = match (protocol, address.len()) {
            ([0xcc], 4) => ip_from(address),
            ([.., 0x86, 0xdd], 16) => ip_from(address),
            _ => None,
        };
        if let Some(ip) = ip
            && out.len() < MAX_ADDRESSES
        {
            out.push(ip);
        }
    }
}

/// Decodes one CDP packet (`cdp` starts after the LLC/SNAP header).
/// Returns the fields and anomalies, and whether the header was whole.
pub fn decode(cdp: &[u8]) -> (CdpFields, Anomalies, bool) {
    let mut f = CdpFields::default();
    let mut a = Anomalies::new();
    let mut r = Reader::new(cdp);
    let (Some(version), Some(ttl), Some(_checksum)) = (r.u8(), r.u8(), r.u16()) else {
        a.add(TRUNCATED);
        return (f, a, false);
    };
    f.version = Some(version);
    f.ttl = Some(ttl);
    if !matches!(version, 1 | 2) {
        a.add(UNKNOWN_VERSION);
    }
    let mut count = 0usize;
    // Ethernet pads short frames with zeros after the packet: not TLVs.
    while r.rest().iter().any(|&b| b != 0) {
        if count == MAX_TLVS {
            a.add(TOO_MANY_TLVS);
            break;
        }
        count += 1;
        let (Some(kind), Some(len)) = (r.u16(), r.u16()) else {
            a.add(TRUNCATED_TLV);
            break;
        };
        let Some(value_len) = usize::from(len).checked_sub(4) else {
            a.add(BAD_TLV_LENGTH);
            break;
        };
        let Some(value) = r.take(value_len) else {
            a.add(TRUNCATED_TLV);
            break;
        };
        let keep = |slot: &mut Option<String>| {
            slot.get_or_insert_with(|| text(value, MAX_TEXT));
        };
        match kind {
            tlv::DEVICE_ID => keep(&mut f.device_id),
            tlv::PORT_ID => keep(&mut f.port_id),
            tlv::SOFTWARE_VERSION => keep(&mut f.software_version),
            tlv::PLATFORM => keep(&mut f.platform),
            tlv::VTP_DOMAIN => keep(&mut f.vtp_domain),
            tlv::ADDRESSES => addresses(value, &mut f.addresses, &mut a),
            tlv::MANAGEMENT_ADDRESSES => addresses(value, &mut f.management_addresses, &mut a),
            tlv::CAPABILITIES => match <[u8; 4]>::try_from(value) {
                Ok(bits) => f.capabilities = Some(u32::from_be_bytes(bits)),
                Err(_) => a.add(BAD_TLV_LENGTH),
            },
            tlv::NATIVE_VLAN => match <[u8; 2]>::try_from(value) {
                Ok(vlan) => f.native_vlan = Some(u16::from_be_bytes(vlan)),
                Err(_) => a.add(BAD_TLV_LENGTH),
            },
            tlv::DUPLEX => match value {
                [duplex] => f.full_duplex = Some(*duplex != 0),
                _ => a.add(BAD_TLV_LENGTH),
            },
            _ => {}
        }
    }
    (f, a, true)
}

/// The CDP decoder of a layer-2 conversation (stateless).
#[derive(Debug, Default)]
pub struct CdpParser;

impl CdpParser {
    pub fn new() -> Self {
        CdpParser
    }
}

impl FrameParser for CdpParser {
    /// `payload` starts at the LLC header (recognised by [`matches`]).
    fn parse(&mut self, payload: &[u8], out: &mut Emitter<'_>) {
        let cdp = payload.get(LLC_SNAP.len()..).unwrap_or_default();
        let (f, anomalies, whole) = decode(cdp);
        out.emit(Pdu {
            protocol: Protocol::Cdp,
            is_response: false,
            function_code: None,
            function: if whole { "advertisement" } else { "invalid" },
            class: FunctionClass::Discovery,
            anomalies,
            identity: f.identity(),
            fields: Fields::Cdp(Box::new(f)),
        });
    }
}

/// CDP travels in 802.3 frames (the "ethertype" is a length, below 0x0600)
/// whose LLC/SNAP header names Cisco's OUI and the CDP protocol id.
pub fn matches(ether_type: u16, payload: &[u8]) -> bool {
    ether_type < 0x0600 && payload.starts_with(&LLC_SNAP)
}
