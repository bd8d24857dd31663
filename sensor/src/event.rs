//! The one record type that leaves the workers: an application PDU, with where
//! and when it was seen. `docs/events.md` documents every field; the names here
//! are that contract.
//!
//! Protocol-specific fields describe themselves through [`Visitor`], so the JSON
//! writer, later outputs and rule matching all read them the same way without
//! the event type knowing any output format.

use std::net::IpAddr;

mod anomalies;
pub use anomalies::Anomalies;

use crate::protocols::arp::ArpFields;
use crate::protocols::bacnet::BacnetFields;
use crate::protocols::cdp::CdpFields;
use crate::protocols::cotp::CotpFields;
use crate::protocols::dhcp::DhcpFields;
use crate::protocols::dnp3::Dnp3Fields;
use crate::protocols::dns::DnsFields;
use crate::protocols::enip::EnipFields;
use crate::protocols::ftp::FtpFields;
use crate::protocols::goose::GooseFields;
use crate::protocols::goose::sv::SvFields;
use crate::protocols::http::HttpFields;
use crate::protocols::iec104::Iec104Fields;
use crate::protocols::lldp::LldpFields;
use crate::protocols::mms::MmsFields;
use crate::protocols::modbus::ModbusFields;
use crate::protocols::mqtt::MqttFields;
use crate::protocols::netbios::{NbdgmFields, NbnsFields};
use crate::protocols::opcua::OpcuaFields;
use crate::protocols::profinet::ProfinetFields;
use crate::protocols::s7comm::S7commFields;
use crate::protocols::s7commplus::S7commPlusFields;
use crate::protocols::snmp::SnmpFields;
use crate::protocols::ssh::SshFields;
use crate::protocols::telnet::TelnetFields;
use crate::protocols::tls::TlsFields;
use crate::time::Timestamp;

pub type Mac = [u8; 6];

/// The transport an event's PDU travelled on.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Tcp,
    Udp,
    /// Carried directly in Ethernet frames (no IP), e.g. GOOSE or PROFINET DCP.
    Ethernet,
}

impl Transport {
    pub fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
            Transport::Ethernet => "ethernet",
        }
    }
}

/// The application protocols the sensor decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Modbus,
    Iec104,
    /// EtherNet/IP encapsulation messages that carry no CIP.
    Enip,
    /// CIP messages (explicit, in EtherNet/IP) and implicit I/O.
    Cip,
    Dnp3,
    /// ISO 8073 COTP connection management on ISO-on-TCP (port 102).
    Cotp,
    S7comm,
    S7commPlus,
    /// IEC 61850 GOOSE and GSE management (ethertypes 0x88B8, 0x88B9).
    Goose,
    /// IEC 61850-9-2 Sampled Values (ethertype 0x88BA).
    Sv,
    /// PROFINET DCP (discovery and basic configuration, layer 2).
    ProfinetDcp,
    /// PROFINET RT: cyclic data summaries, alarms, PTCP (layer 2).
    ProfinetRt,
    /// PROFINET IO connection management (DCE/RPC over UDP).
    ProfinetIo,
    /// BACnet/IP: BVLC, NPDU and APDU.
    Bacnet,
    /// IEC 61850 / ISO 9506 MMS with the OSI session, presentation and ACSE
    /// layers under it, on ISO-on-TCP.
    Mms,
    /// OPC UA Binary (UA TCP and UA Secure Conversation).
    Opcua,
    Mqtt,
    Http,
    Tls,
    Ssh,
    Telnet,
    Ftp,
    Arp,
    Dhcp,
    /// DNS on port 53 (UDP and TCP).
    Dns,
    /// Link-local multicast name resolution (DNS messages on UDP 5355).
    Llmnr,
    /// Multicast DNS (UDP 5353).
    Mdns,
    Lldp,
    Cdp,
    Snmp,
    /// NetBIOS name service (UDP 137).
    Nbns,
    /// NetBIOS datagram service (UDP 138), with browser announcements.
    Nbdgm,
}

impl Protocol {
    pub const ALL: &'static [Protocol] = &[
        Protocol::Modbus,
        Protocol::Iec104,
        Protocol::Enip,
        Protocol::Cip,
        Protocol::Dnp3,
        Protocol::Cotp,
        Protocol::S7comm,
        Protocol::S7commPlus,
        Protocol::Goose,
        Protocol::Sv,
        Protocol::ProfinetDcp,
        Protocol::ProfinetRt,
        Protocol::ProfinetIo,
        Protocol::Bacnet,
        Protocol::Mms,
        Protocol::Opcua,
        Protocol::Mqtt,
        Protocol::Http,
        Protocol::Tls,
        Protocol::Ssh,
        Protocol::Telnet,
        Protocol::Ftp,
        Protocol::Arp,
        Protocol::Dhcp,
        Protocol::Dns,
        Protocol::Llmnr,
        Protocol::Mdns,
        Protocol::Lldp,
        Protocol::Cdp,
        Protocol::Snmp,
        Protocol::Nbns,
        Protocol::Nbdgm,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Protocol::Modbus => "modbus",
            Protocol::Iec104 => "iec104",
            Protocol::Enip => "enip",
            Protocol::Cip => "cip",
            Protocol::Dnp3 => "dnp3",
            Protocol::Cotp => "cotp",
            Protocol::S7comm => "s7comm",
            Protocol::S7commPlus => "s7commplus",
            Protocol::Goose => "goose",
            Protocol::Sv => "sv",
            Protocol::ProfinetDcp => "profinet_dcp",
            Protocol::ProfinetRt => "profinet_rt",
            Protocol::ProfinetIo => "profinet_io",
            Protocol::Bacnet => "bacnet",
            Protocol::Mms => "mms",
            Protocol::Opcua => "opcua",
            Protocol::Mqtt => "mqtt",
            Protocol::Http => "http",
            Protocol::Tls => "tls",
            Protocol::Ssh => "ssh",
            Protocol::Telnet => "telnet",
            Protocol::Ftp => "ftp",
            Protocol::Arp => "arp",
            Protocol::Dhcp => "dhcp",
            Protocol::Dns => "dns",
            Protocol::Llmnr => "llmnr",
            Protocol::Mdns => "mdns",
            Protocol::Lldp => "lldp",
            Protocol::Cdp => "cdp",
            Protocol::Snmp => "snmp",
            Protocol::Nbns => "nbns",
            Protocol::Nbdgm => "nbdgm",
        }
    }

    /// The protocol called `name` (as [`Protocol::name`] gives it).
    pub fn from_name(name: &str) -> Option<Protocol> {
        Protocol::ALL.iter().copied().find(|p| p.name() == name)
    }
}

impl serde::Serialize for Protocol {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Protocol {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Protocol, D::Error> {
        let name = String::deserialize(d)?;
        Protocol::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown protocol {name:?}")))
    }
}

/// What a PDU does to the process, in the vocabulary that zone/conduit policy uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FunctionClass {
    Read,
    Write,
    /// Changes the state of the process or the device (operate, start/stop, restart).
    Control,
    /// Changes the logic of a controller (download, upload, online edit, file transfer).
    Program,
    Firmware,
    Diagnostic,
    Discovery,
    /// Session management: login, reservations, keep-alives.
    Session,
    Other,
}

impl FunctionClass {
    pub const ALL: &'static [FunctionClass] = &[
        FunctionClass::Read,
        FunctionClass::Write,
        FunctionClass::Control,
        FunctionClass::Program,
        FunctionClass::Firmware,
        FunctionClass::Diagnostic,
        FunctionClass::Discovery,
        FunctionClass::Session,
        FunctionClass::Other,
    ];

    /// This class as one bit of a set of classes (see [`FunctionClass::ALL`]).
    pub fn bit(self) -> u16 {
        1 << self as u16
    }

    /// The classes whose bits are set in `bits`.
    pub fn from_bits(bits: u16) -> impl Iterator<Item = FunctionClass> {
        FunctionClass::ALL
            .iter()
            .copied()
            .filter(move |c| bits & c.bit() != 0)
    }

    pub fn name(self) -> &'static str {
        match self {
            FunctionClass::Read => "read",
            FunctionClass::Write => "write",
            FunctionClass::Control => "control",
            FunctionClass::Program => "program",
            FunctionClass::Firmware => "firmware",
            FunctionClass::Diagnostic => "diagnostic",
            FunctionClass::Discovery => "discovery",
            FunctionClass::Session => "session",
            FunctionClass::Other => "other",
        }
    }
}

/// A set of function classes, written as their names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Classes(pub u16);

impl Classes {
    pub fn contains(self, class: FunctionClass) -> bool {
        self.0 & class.bit() != 0
    }

    pub fn iter(self) -> impl Iterator<Item = FunctionClass> {
        FunctionClass::from_bits(self.0)
    }
}

impl serde::Serialize for Classes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(FunctionClass::name))
    }
}

impl<'de> serde::Deserialize<'de> for Classes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Classes, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        let mut bits = 0;
        for name in names {
            let class = FunctionClass::ALL
                .iter()
                .find(|c| c.name() == name)
                .ok_or_else(|| {
                    serde::de::Error::custom(format!("unknown function class {name:?}"))
                })?;
            bits |= class.bit();
        }
        Ok(Classes(bits))
    }
}

/// A value of a protocol-specific field.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    U64(u64),
    I64(i64),
    Bool(bool),
    Str(&'a str),
    /// A measured value; written as `null` when not finite (JSON has no NaN).
    F64(f64),
    /// Bytes shown as lowercase hex.
    Hex(&'a [u8]),
    /// A credential seen in cleartext (an SNMP community, a password):
    /// outputs redact it unless told to show secrets.
    Secret(&'a str),
}

/// Receives the protocol-specific fields of an event, in a fixed order.
/// Nested objects and lists are bracketed by `begin`/`end`; inside a list,
/// `name` is empty.
pub trait Visitor {
    fn field(&mut self, name: &str, value: Value<'_>);
    fn begin(&mut self, name: &str, nest: Nest);
    fn end(&mut self);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nest {
    Object,
    List,
}

/// Protocol-specific fields of a PDU.
#[derive(Clone, Debug, PartialEq)]
pub enum Fields {
    None,
    Modbus(ModbusFields),
    Iec104(Iec104Fields),
    /// Both `enip` and `cip` events. Boxed: the largest of all, and every
    /// event is as large as its largest unboxed variant.
    Enip(Box<EnipFields>),
    Dnp3(Dnp3Fields),
    Cotp(CotpFields),
    /// Boxed: large, with item lists.
    S7comm(Box<S7commFields>),
    S7commPlus(S7commPlusFields),
    /// Boxed: strings and a value list.
    Goose(Box<GooseFields>),
    Sv(Box<SvFields>),
    /// `profinet_dcp`, `profinet_rt` and `profinet_io` events.
    Profinet(ProfinetFields),
    /// Boxed: large, with inline object and property lists.
    Bacnet(Box<BacnetFields>),
    /// Boxed: large, with name lists.
    Mms(Box<MmsFields>),
    /// Boxed: large, with endpoint lists.
    Opcua(Box<OpcuaFields>),
    /// Boxed: many optional strings.
    Mqtt(Box<MqttFields>),
    Http(Box<HttpFields>),
    Tls(Box<TlsFields>),
    Ssh(Box<SshFields>),
    Telnet(Box<TelnetFields>),
    Ftp(Box<FtpFields>),
    Arp(ArpFields),
    /// Boxed, as are the other IT protocols' fields: large and rare.
    Dhcp(Box<DhcpFields>),
    /// `dns`, `llmnr` and `mdns` events.
    Dns(Box<DnsFields>),
    Lldp(Box<LldpFields>),
    Cdp(Box<CdpFields>),
    Snmp(Box<SnmpFields>),
    Nbns(Box<NbnsFields>),
    Nbdgm(Box<NbdgmFields>),
}

impl Fields {
    pub fn visit(&self, visitor: &mut dyn Visitor) {
        match self {
            Fields::None => {}
            Fields::Modbus(fields) => fields.visit(visitor),
            Fields::Iec104(fields) => fields.visit(visitor),
            Fields::Enip(fields) => fields.visit(visitor),
            Fields::Dnp3(fields) => fields.visit(visitor),
            Fields::Cotp(fields) => fields.visit(visitor),
            Fields::S7comm(fields) => fields.visit(visitor),
            Fields::S7commPlus(fields) => fields.visit(visitor),
            Fields::Goose(fields) => fields.visit(visitor),
            Fields::Sv(fields) => fields.visit(visitor),
            Fields::Profinet(fields) => fields.visit(visitor),
            Fields::Bacnet(fields) => fields.visit(visitor),
            Fields::Mms(fields) => fields.visit(visitor),
            Fields::Opcua(fields) => fields.visit(visitor),
            Fields::Mqtt(fields) => fields.visit(visitor),
            Fields::Http(fields) => fields.visit(visitor),
            Fields::Tls(fields) => fields.visit(visitor),
            Fields::Ssh(fields) => fields.visit(visitor),
            Fields::Telnet(fields) => fields.visit(visitor),
            Fields::Ftp(fields) => fields.visit(visitor),
            Fields::Arp(fields) => fields.visit(visitor),
            Fields::Dhcp(fields) => fields.visit(visitor),
            Fields::Dns(fields) => fields.visit(visitor),
            Fields::Lldp(fields) => fields.visit(visitor),
            Fields::Cdp(fields) => fields.visit(visitor),
            Fields::Snmp(fields) => fields.visit(visitor),
            Fields::Nbns(fields) => fields.visit(visitor),
            Fields::Nbdgm(fields) => fields.visit(visitor),
        }
    }

    /// A top-level field every PDU of its protocol has, answered without a
    /// visit: the default sweep rules ask every Modbus request for its unit
    /// id. `None` means "not one of those", not "absent": visit to be sure.
    pub fn header_field(&self, name: &str) -> Option<Value<'_>> {
        match self {
            Fields::Modbus(fields) => fields.header_field(name),
            _ => None,
        }
    }

    /// Whether these fields can hold a credential ([`Value::Secret`]), so
    /// that rules need not visit the fields of protocols that never do. A
    /// decoder that starts writing secrets must be added here.
    pub fn may_carry_secret(&self) -> bool {
        matches!(
            self,
            Fields::Bacnet(_)
                | Fields::Mms(_)
                | Fields::Snmp(_)
                | Fields::Mqtt(_)
                | Fields::Http(_)
                | Fields::Telnet(_)
                | Fields::Ftp(_)
        )
    }
}

/// What a device says about itself (identification services, discovery
/// protocols, banners), for the asset inventory. It always describes the
/// PDU's **sender**: decoders attach it only to PDUs the device itself sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// Vendor name, as the device gives it or resolved from `vendor_id`.
    pub vendor: Option<String>,
    /// Numeric vendor id of the protocol's registry (ODVA, ASHRAE, PROFINET;
    /// for SNMP the IANA private enterprise number of sysObjectID).
    pub vendor_id: Option<u32>,
    /// Product or model name.
    pub product: Option<String>,
    pub product_code: Option<String>,
    /// Order number (e.g. Siemens MLFB `6ES7 315-2EH14-0AB0`).
    pub order_number: Option<String>,
    /// Firmware or software revision.
    pub firmware: Option<String>,
    pub hardware: Option<String>,
    pub serial: Option<String>,
    pub hostname: Option<String>,
    /// PROFINET name of station, IEC 61850 IED name, BACnet device name.
    pub station_name: Option<String>,
    /// The name the engineer gave the module itself (S7 SZL xy1C index 2,
    /// `PLC_1`), apart from its station's name.
    pub module_name: Option<String>,
    /// Device type or role as the protocol states it.
    pub device_type: Option<String>,
    /// The device's number in its protocol's address space (BACnet device
    /// object instance).
    pub device_instance: Option<String>,
    /// Largest APDU the device accepts, in bytes (BACnet I-Am).
    pub max_apdu: Option<String>,
    /// Segmentation the device supports (BACnet I-Am: `segmented_both`…).
    pub segmentation: Option<String>,
    /// The application's own URI (OPC UA `ApplicationUri`).
    pub application_uri: Option<String>,
    /// The address and port the device says it listens on (EtherNet/IP
    /// ListIdentity socket address).
    pub socket_address: Option<String>,
    /// Status word the device reports (EtherNet/IP identity status, hex).
    pub device_status: Option<String>,
    /// State the device reports (EtherNet/IP identity state).
    pub device_state: Option<String>,
}

impl Identity {
    pub fn is_empty(&self) -> bool {
        *self == Identity::default()
    }

    /// Fields that say how the device is doing right now rather than what
    /// it is: they change as it runs, so they describe events, not assets.
    pub const MOMENTARY: [&'static str; 2] = ["device_status", "device_state"];

    /// The text fields, by name, in the order they are written.
    pub fn texts(&self) -> [(&'static str, &Option<String>); 18] {
        [
            ("vendor", &self.vendor),
            ("product", &self.product),
            ("product_code", &self.product_code),
            ("order_number", &self.order_number),
            ("firmware", &self.firmware),
            ("hardware", &self.hardware),
            ("serial", &self.serial),
            ("hostname", &self.hostname),
            ("station_name", &self.station_name),
            ("module_name", &self.module_name),
            ("device_type", &self.device_type),
            ("device_instance", &self.device_instance),
            ("max_apdu", &self.max_apdu),
            ("segmentation", &self.segmentation),
            ("application_uri", &self.application_uri),
            ("socket_address", &self.socket_address),
            ("device_status", &self.device_status),
            ("device_state", &self.device_state),
        ]
    }

    pub fn visit(&self, v: &mut dyn Visitor) {
        v.begin("identity", Nest::Object);
        if let Some(id) = self.vendor_id {
            v.field("vendor_id", Value::U64(id.into()));
        }
        for (name, value) in self.texts() {
            if let Some(value) = value {
                v.field(name, Value::Str(value));
            }
        }
        v.end();
    }
}

/// What a decoder says about one application PDU.
#[derive(Clone, Debug, PartialEq)]
pub struct Pdu {
    pub protocol: Protocol,
    pub is_response: bool,
    /// The protocol's own function code, as Wireshark shows it.
    pub function_code: Option<u32>,
    /// Stable snake_case name of the function.
    pub function: &'static str,
    pub class: FunctionClass,
    pub anomalies: Anomalies,
    pub fields: Fields,
    /// What the sender says about itself, when the PDU carries that.
    pub identity: Option<Box<Identity>>,
}

/// Where and when a PDU was seen: filled by the worker from the packet that
/// completed the PDU, oriented as that packet travelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub ts: Timestamp,
    /// Position of the capture file in the replayed timeline (0 for live capture).
    pub capture: u16,
    /// 1-based index of the packet within its capture file (Wireshark's frame number).
    pub packet: u64,
    /// 1-based index of the packet across the whole timeline; orders events.
    pub seq: u64,
    /// Stable flow id: the `seq` of the flow's first packet.
    pub flow: u64,
    pub src_mac: Option<Mac>,
    pub dst_mac: Option<Mac>,
    pub src_ip: Option<IpAddr>,
    pub dst_ip: Option<IpAddr>,
    pub src_port: Option<u16>,
    pub dst_port: Option<u16>,
    pub transport: Transport,
}

/// One application PDU seen on the wire.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub header: Header,
    pub pdu: Pdu,
}

#[cfg(test)]
impl Event {
    /// For tests: a Modbus read holding registers request (packet `seq`, at
    /// `seq` seconds) from `src` port 40000 to `dst` port 502, on flow 1.
    pub fn modbus_read_request(seq: u64, src: IpAddr, dst: IpAddr) -> Event {
        Event {
            header: Header {
                ts: crate::time::Timestamp::from_secs(seq as i64),
                capture: 0,
                packet: seq,
                seq,
                flow: 1,
                src_mac: None,
                dst_mac: None,
                src_ip: Some(src),
                dst_ip: Some(dst),
                src_port: Some(40000),
                dst_port: Some(502),
                transport: Transport::Tcp,
            },
            pdu: Pdu {
                protocol: Protocol::Modbus,
                is_response: false,
                function_code: Some(3),
                function: "read_holding_registers",
                class: FunctionClass::Read,
                anomalies: Anomalies::new(),
                fields: Fields::None,
                identity: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_stays_within_four_cache_lines() {
        // Every stage moves millions of them: the analysis reads each one.
        assert!(size_of::<Event>() <= 256, "{}", size_of::<Event>());
    }

    #[test]
    fn class_sets_round_trip() {
        let bits = FunctionClass::Read.bit() | FunctionClass::Program.bit();
        assert_eq!(
            FunctionClass::from_bits(bits).collect::<Vec<_>>(),
            [FunctionClass::Read, FunctionClass::Program]
        );
    }

    #[test]
    fn anomalies_are_deduplicated_and_bounded() {
        let mut a = Anomalies::new();
        a.add("x");
        a.add("x");
        assert_eq!(a.len(), 1);
        for name in ["a", "b", "c", "d"] {
            a.add(name);
        }
        assert_eq!(a.iter().collect::<Vec<_>>(), ["x", "a", "b", "c"]);
        assert!(a.overflowed());
        assert!(a.contains("c") && !a.contains("d"));
    }
}
