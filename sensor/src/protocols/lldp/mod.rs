//! LLDP (IEEE 802.1AB), ethertype 0x88CC: a device announcing itself to its
//! link neighbour — chassis and port ids, system name and description,
//! capabilities, management address.
//!
//! One event per LLDPDU (one frame). Organisationally specific TLVs
//! (PROFINET, IEEE 802.1, 802.3…) are skipped by their length. The event's
//! identity describes the sender: `hostname` from the system name, `product`
//! and `firmware` from the system description, `device_type` from the enabled
//! capabilities (`router`, `switch`, `access_point`, `phone`…).

#[cfg(test)]
mod tests;

use std::net::IpAddr;

use super::itwire::{
    Reader, describe_system, ip_from, mac_text, put_ip, put_str, put_strs, put_u64, text,
};
use super::{Emitter, FrameParser};
use crate::event::{Anomalies, Fields, FunctionClass, Identity, Pdu, Protocol, Value, Visitor};

pub const ETHER_TYPE: u16 = 0x88CC;
/// Longest text kept from a TLV (TLVs hold at most 511 bytes).
const MAX_TEXT: usize = 255;
/// TLVs walked at most in one LLDPDU (a 1500-byte frame holds at most 750).
const MAX_TLVS: usize = 256;

/// Stable anomaly names of this decoder.
pub mod anomaly {
    /// A TLV header or value runs past the end of the frame.
    pub const TRUNCATED_TLV: &str = "truncated_tlv";
    /// The LLDPDU does not start with the mandatory chassis id, port id and
    /// TTL TLVs, in that order.
    pub const MISSING_MANDATORY_TLV: &str = "missing_mandatory_tlv";
    /// A TLV whose length does not fit its type (TTL not 2 bytes, an id
    /// without subtype or value, capabilities not 4 bytes…).
    pub const BAD_TLV_LENGTH: &str = "bad_tlv_length";
    /// A TLV of a type reserved in 802.1AB (9–126).
    pub const RESERVED_TLV_TYPE: &str = "reserved_tlv_type";
    /// A chassis id, port id or TTL TLV seen more than once.
    pub const DUPLICATE_TLV: &str = "duplicate_tlv";
    /// No End of LLDPDU TLV before the end of the frame.
    pub const MISSING_END_TLV: &str = "missing_end_tlv";
    /// More TLVs than the decoder walks (256).
    pub const TOO_MANY_TLVS: &str = "too_many_tlvs";

    pub const ALL: &[&str] = &[
        TRUNCATED_TLV,
        MISSING_MANDATORY_TLV,
        BAD_TLV_LENGTH,
        RESERVED_TLV_TYPE,
        DUPLICATE_TLV,
        MISSING_END_TLV,
        TOO_MANY_TLVS,
    ];
}
use anomaly::*;

/// Every `function` name LLDP events carry, for rule validation.
pub fn function_names() -> Vec<&'static str> {
    vec!["advertisement", "shutdown"]
}

/// TLV types.
mod tlv {
    pub const END: u8 = 0;
    pub const CHASSIS_ID: u8 = 1;
    pub const PORT_ID: u8 = 2;
    pub const TTL: u8 = 3;
    pub const PORT_DESCRIPTION: u8 = 4;
    pub const SYSTEM_NAME: u8 = 5;
    pub const SYSTEM_DESCRIPTION: u8 = 6;
    pub const SYSTEM_CAPABILITIES: u8 = 7;
    pub const MANAGEMENT_ADDRESS: u8 = 8;
    pub const ORGANIZATIONAL: u8 = 127;
}

/// Chassis id subtype "MAC address" (also the port id subtype 3).
const CHASSIS_MAC: u8 = 4;
/// Chassis id subtype "network address" (port id subtype 4).
const CHASSIS_NETWORK_ADDRESS: u8 = 5;
const PORT_MAC: u8 = 3;
const PORT_NETWORK_ADDRESS: u8 = 4;

/// System capability bits (802.1AB table 8-4), by name.
const CAPABILITIES: &[(u16, &str)] = &[
    (0x0001, "other"),
    (0x0002, "repeater"),
    (0x0004, "bridge"),
    (0x0008, "wlan_access_point"),
    (0x0010, "router"),
    (0x0020, "telephone"),
    (0x0040, "docsis_cable_device"),
    (0x0080, "station_only"),
    (0x0100, "c_vlan_component"),
    (0x0200, "s_vlan_component"),
    (0x0400, "two_port_mac_relay"),
];

/// The names of the capability bits set in `bits`.
pub fn capability_names(bits: u16) -> Vec<&'static str> {
    CAPABILITIES
        .iter()
        .filter(|(bit, _)| bits & bit != 0)
        .map(|(_, name)| *name)
        .collect()
}

/// What kind of network device enabled capabilities make the sender, most
/// significant first (`station_only` and `other` say nothing).
fn device_type(enabled: u16) -> Option<&'static str> {
    [
        (0x0010, "router"),
        (0x0004 | 0x0100 | 0x0200 | 0x0400, "switch"),
        (0x0008, "access_point"),
        (0x0020, "phone"),
        (0x0040, "cable_modem"),
        (0x0002, "repeater"),
    ]
    .into_iter()
    .find(|(bits, _)| enabled & bits != 0)
    .map(|(_, name)| name)
}

/// LLDP fields of one event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LldpFields {
    /// Chassis id subtype (Wireshark `lldp.chassis.subtype`).
    pub chassis_id_subtype: Option<u8>,
    /// Chassis id: a MAC address as `00:21:91:06:f1:66` (subtype 4, Wireshark
    /// `lldp.chassis.id.mac`), a network address as text (subtype 5), else the
    /// text of the id (Wireshark `lldp.chassis.id` shows those bytes as hex).
    pub chassis_id: Option<String>,
    /// Port id subtype (Wireshark `lldp.port.subtype`).
    pub port_id_subtype: Option<u8>,
    /// Port id, written like the chassis id (Wireshark `lldp.port.id`).
    pub port_id: Option<String>,
    /// Seconds the information stays valid; 0 announces a shutdown
    /// (Wireshark `lldp.time_to_live`).
    pub ttl: Option<u16>,
    pub port_description: Option<String>,
    /// Wireshark `lldp.tlv.system.name`.
    pub system_name: Option<String>,
    /// Wireshark `lldp.tlv.system.desc`.
    pub system_description: Option<String>,
    /// Capabilities the system has, and those enabled (Wireshark
    /// `lldp.tlv.system_cap`, `lldp.tlv.enable_system_cap`).
    pub supported_capabilities: Option<u16>,
    pub enabled_capabilities: Option<u16>,
    /// The first management address (Wireshark `lldp.mgn.addr.ip4`/`ip6`).
    pub management_address: Option<IpAddr>,
    /// Organisationally specific TLVs skipped.
    pub org_tlvs: u16,
}

impl LldpFields {
    /// The identity the sender announces.
    fn identity(&self) -> Option<Box<Identity>> {
        let (product, firmware) = self
            .system_description
            .as_deref()
            .map_or((None, None), describe_system);
        let identity = Identity {
            hostname: self.system_name.clone().filter(|s| !s.is_empty()),
            product,
            firmware,
            device_type: self
                .enabled_capabilities
                .and_then(device_type)
                .map(str::to_string),
            ..Identity::default()
        };
        (!identity.is_empty()).then(|| Box::new(identity))
    }

    pub fn visit(&self, v: &mut dyn Visitor) {
        put_u64(v, "chassis_id_subtype", self.chassis_id_subtype);
        put_str(v, "chassis_id", self.chassis_id.as_deref());
        put_u64(v, "port_id_subtype", self.port_id_subtype);
        put_str(v, "port_id", self.port_id.as_deref());
        put_u64(v, "ttl", self.ttl);
        put_str(v, "port_description", self.port_description.as_deref());
        put_str(v, "system_name", self.system_name.as_deref());
        put_str(v, "system_description", self.system_description.as_deref());
        if let Some(bits) = self.supported_capabilities {
            put_strs(v, "supported_capabilities", &capability_names(bits));
        }
        if let Some(bits) = self.enabled_capabilities {
            put_strs(v, "capabilities", &capability_names(bits));
        }
        put_ip(v, "management_address", self.management_address);
        if self.org_tlvs > 0 {
            v.field("org_tlvs", Value::U64(self.org_tlvs.into()));
        }
    }
}

/// An id TLV's value (after its subtype) as text: MAC and network addresses
/// formatted, anything else as text.
fn id_text(subtype: u8, value: &[u8], mac_subtype: u8, address_subtype: u8) -> String {
    if subtype == mac_subtype
        && let Ok(mac) = <[u8; 6]>::try_from(value)
    {
        return mac_text(&mac).as_str().to_string();
    }
    if subtype == address_subtype
        && let Some(ip) = value
            .split_first()
            .and_then(|(family, addr)| address(*family, addr))
    {
        return super::itwire::ip_text(ip).as_str().to_string();
    }
    text(value, MAX_TEXT)
}

/// An address of IANA address family `family` (1 IPv4, 2 IPv6).
fn address(family: u8, bytes: &[u8]) -> Option<IpAddr> {
    match (family, bytes.len()) {
        (1, 4) | (2, 16) => ip_from(bytes),
        _ => None,
    }
}

/// Decodes one LLDPDU (what follows the ethertype).
pub fn decode(payload: &[u8]) -> (LldpFields, Anomalies) {
    let mut f = LldpFields::default();
    let mut a = Anomalies::new();
    let mut r = Reader::new(payload);
    let mut ended = false;
    let mut index = 0usize;
    while !ended {
        if index == MAX_TLVS {
            a.add(TOO_MANY_TLVS);
            break;
        }
        let Some(header) = r.u16() else {
            if r.remaining() > 0 {
                a.add(TRUNCATED_TLV);
            }
            break;
        };
        let (kind, len) = ((header >> 9) as u8, usize::from(header & 0x01ff));
        let Some(value) = r.take(len) else {
            a.add(TRUNCATED_TLV);
            break;
        };
        // The first three TLVs must be chassis id, port id and TTL.
        let expected = [tlv::CHASSIS_ID, tlv::PORT_ID, tlv::TTL];
        if let Some(&want) = expected.get(index)
            && kind != want
        {
            a.add(MISSING_MANDATORY_TLV);
        }
        if index >= 3 && expected.contains(&kind) {
            a.add(DUPLICATE_TLV);
        }
        index += 1;
        match kind {
            tlv::END => {
                if len != 0 {
                    a.add(BAD_TLV_LENGTH);
                }
                ended = true;
            }
            tlv::CHASSIS_ID | tlv::PORT_ID => {
                let Some((&subtype, id)) = value.split_first().filter(|(_, id)| !id.is_empty())
                else {
                    a.add(BAD_TLV_LENGTH);
                    continue;
                };
                if kind == tlv::CHASSIS_ID && f.chassis_id.is_none() {
                    f.chassis_id_subtype = Some(subtype);
                    f.chassis_id = Some(id_text(subtype, id, CHASSIS_MAC, CHASSIS_NETWORK_ADDRESS));
                } else if kind == tlv::PORT_ID && f.port_id.is_none() {
                    f.port_id_subtype = Some(subtype);
                    f.port_id = Some(id_text(subtype, id, PORT_MAC, PORT_NETWORK_ADDRESS));
                }
            }
            tlv::TTL => match <[u8; 2]>::try_from(value) {
                Ok(ttl) if f.ttl.is_none() => f.ttl = Some(u16::from_be_bytes(ttl)),
                Ok(_) => {}
                Err(_) => a.add(BAD_TLV_LENGTH),
            },
            tlv::PORT_DESCRIPTION => {
                f.port_description
                    .get_or_insert_with(|| text(value, MAX_TEXT));
            }
            tlv::SYSTEM_NAME => {
                f.system_name.get_or_insert_with(|| text(value, MAX_TEXT));
            }
            tlv::SYSTEM_DESCRIPTION => {
                f.system_description
                    .get_or_insert_with(|| text(value, MAX_TEXT));
            }
            tlv::SYSTEM_CAPABILITIES => match <[u8; 4]>::try_from(value) {
                Ok(caps) => {
                    f.supported_capabilities = Some(u16::from_be_bytes([caps[0], caps[1]]));
                    f.enabled_capabilities = Some(u16::from_be_bytes([caps[2], caps[3]]));
                }
                Err(_) => a.add(BAD_TLV_LENGTH),
            },
            tlv::MANAGEMENT_ADDRESS => {
                // Address string length (subtype + address), subtype, address, then
                // interface numbering and an OID, not kept.
                let mut m = Reader::new(value);
                let parsed = m.u8().and_then(|n| {
                    let family = m.u8()?;
                    let addr = m.take(usize::from(n).checked_sub(1)?)?;
                    Some((family, addr))
                });
                match parsed {
                    Some((family, addr)) => {
                        if f.management_address.is_none() {
                            f.management_address = address(family, addr);
                        }
                    }
                    None => a.add(BAD_TLV_LENGTH),
                }
            }
            tlv::ORGANIZATIONAL => f.org_tlvs = f.org_tlvs.saturating_add(1),
            _ => a.add(RESERVED_TLV_TYPE),
        }
    }
    if !ended && !a.contains(TOO_MANY_TLVS) {
        a.add(MISSING_END_TLV);
    }
    if index < 3 {
        a.add(MISSING_MANDATORY_TLV);
    }
    (f, a)
}

/// The LLDP decoder of a layer-2 conversation (stateless).
#[derive(Debug, Default)]
pub struct LldpParser;

impl LldpParser {
    pub fn new() -> Self {
        LldpParser
    }
}

impl FrameParser for LldpParser {
    fn parse(&mut self, payload: &[u8], out: &mut Emitter<'_>) {
        let (f, anomalies) = decode(payload);
        let function = if f.ttl == Some(0) {
            "shutdown"
        } else {
            "advertisement"
        };
        out.emit(Pdu {
            protocol: Protocol::Lldp,
            is_response: false,
            function_code: None,
            function,
            class: FunctionClass::Discovery,
            anomalies,
            identity: f.identity(),
            fields: Fields::Lldp(Box::new(f)),
        });
    }
}

/// LLDP frames are recognised by their ethertype alone.
pub fn matches(ether_type: u16, _payload: &[u8]) -> bool {
    ether_type == ETHER_TYPE
}
