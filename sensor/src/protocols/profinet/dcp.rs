//! PROFINET DCP (Discovery and basic Configuration Protocol, IEC 61158-6-10
//! §4.3): one event per frame with frame id 0xFEFC–0xFEFF.
//!
//! After the frame id: service id, service type, xid, response delay
//! (identify requests; reserved elsewhere), data length, then the blocks.
//! A get request lists bare option/suboption selectors; every other PDU holds
//! blocks of option, suboption, length and value (padded to an even length).
//! Values start with a block info in identify responses, hellos and get
//! responses, and with a block qualifier in set requests.

use super::anomaly::*;
use super::names::{dcp_block_name, device_role_names};
use super::{ProfinetFields, Reader, ipv4, mac_text, text};
use crate::event::{Anomalies, FunctionClass, Identity, Nest, Pdu, Protocol, Value, Visitor};

pub const SERVICE_GET: u8 = 3;
pub const SERVICE_SET: u8 = 4;
pub const SERVICE_IDENTIFY: u8 = 5;
pub const SERVICE_HELLO: u8 = 6;

pub const TYPE_REQUEST: u8 = 0;
pub const TYPE_SUCCESS: u8 = 1;
pub const TYPE_UNSUPPORTED: u8 = 5;

pub const OPTION_IP: u8 = 1;
pub const OPTION_DEVICE: u8 = 2;
pub const OPTION_DHCP: u8 = 3;
pub const OPTION_CONTROL: u8 = 5;
pub const OPTION_DEVICE_INITIATIVE: u8 = 6;
pub const OPTION_ALL: u8 = 0xFF;

/// Blocks kept per event; a DCP frame fits in one Ethernet frame, and an
/// identify response usually holds fewer than ten.
pub const MAX_BLOCKS: usize = 32;
/// Option/suboption pairs kept from a device options block.
pub const MAX_DEVICE_OPTIONS: usize = 64;
/// Name of station, alias and type of station are at most 240 octets (the
/// standard); longer values are cut here.
pub const MAX_TEXT: usize = 255;

/// The `function` name and class of a DCP service id.
pub fn service_name(service_id: u8) -> (&'static str, FunctionClass) {
    match service_id {
        1 | 2 => ("manufacturer_specific", FunctionClass::Other),
        SERVICE_GET => ("get", FunctionClass::Read),
        SERVICE_SET => ("set", FunctionClass::Control),
        SERVICE_IDENTIFY => ("identify", FunctionClass::Discovery),
        SERVICE_HELLO => ("hello", FunctionClass::Discovery),
        _ => ("unknown", FunctionClass::Other),
    }
}

fn service_type_name(service_type: u8) -> Option<&'static str> {
    match service_type {
        TYPE_REQUEST => Some("request"),
        TYPE_SUCCESS => Some("success"),
        TYPE_UNSUPPORTED => Some("unsupported"),
        _ => None,
    }
}

/// One DCP block (or, in a get request, one selector).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DcpBlock {
    pub option: u8,
    pub suboption: u8,
    /// BlockInfo (identify responses, hellos, get responses).
    pub info: Option<u16>,
    /// BlockQualifier (set requests and control blocks).
    pub qualifier: Option<u16>,
    /// A control/response block: the option and suboption it answers, and
    /// the block error (0 ok).
    pub result: Option<(u8, u8, u8)>,
    /// A device options block: the option/suboption pairs the device supports.
    pub options: Vec<(u8, u8)>,
}

/// DCP fields of one event. Where a frame holds several blocks of one kind,
/// the first one's values are kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DcpFields {
    /// `pn_rt.frame_id`.
    pub frame_id: u16,
    /// `pn_dcp.service_id`.
    pub service_id: u8,
    /// `pn_dcp.service_type`.
    pub service_type: u8,
    /// `pn_dcp.xid`.
    pub xid: u32,
    /// Identify requests only.
    pub response_delay: Option<u16>,
    pub data_length: u16,
    pub blocks: Vec<DcpBlock>,
    /// A set request of the name of station, the IP parameters, DHCP or a
    /// factory reset: it re-addresses the device.
    pub readdress: bool,
    /// `pn_dcp.suboption_device_nameofstation`.
    pub name_of_station: Option<String>,
    /// `pn_dcp.suboption_device_devicevendorvalue` (type of station).
    pub type_of_station: Option<String>,
    /// `pn_dcp.suboption_device_aliasname`.
    pub alias_name: Option<String>,
    /// `pn_dcp.suboption_vendor_id`.
    pub vendor_id: Option<u16>,
    /// `pn_dcp.suboption_device_id`.
    pub device_id: Option<u16>,
    pub oem_vendor_id: Option<u16>,
    pub oem_device_id: Option<u16>,
    /// `pn_dcp.suboption_device_role`.
    pub device_role: Option<u8>,
    /// Device instance high and low.
    pub device_instance: Option<[u8; 2]>,
    pub mac_address: Option<[u8; 6]>,
    /// `pn_dcp.suboption_ip_ip`.
    pub ip: Option<[u8; 4]>,
    pub netmask: Option<[u8; 4]>,
    pub gateway: Option<[u8; 4]>,
    /// The IP block's BlockInfo: 0 not set, 1 set, 2 set by DHCP; 0x80 marks
    /// an address conflict.
    pub ip_block_info: Option<u16>,
    /// Control/signal value (0x0100: flash once).
    pub signal_value: Option<u16>,
    /// Device initiative value (bit 0: the device sends hellos at power-on).
    pub device_initiative: Option<u16>,
}

impl DcpFields {
    /// The device's description of itself, on PDUs the device sends about
    /// itself: identify responses, hellos and get responses.
    pub fn identity(&self) -> Option<Box<Identity>> {
        let about_sender = matches!(
            (self.service_id, self.service_type),
            (SERVICE_IDENTIFY | SERVICE_GET, TYPE_SUCCESS) | (SERVICE_HELLO, TYPE_REQUEST)
        );
        if !about_sender {
            return None;
        }
        let roles: Vec<&str> = self
            .device_role
            .map(|r| device_role_names(r).map(|(_, human)| human).collect())
            .unwrap_or_default();
        let identity = Identity {
            vendor_id: self.vendor_id.map(u32::from),
            product: self.type_of_station.clone().filter(|s| !s.is_empty()),
            product_code: self.device_id.map(|d| format!("0x{d:04x}")),
            station_name: self.name_of_station.clone().filter(|s| !s.is_empty()),
            device_type: (!roles.is_empty()).then(|| roles.join(", ")),
            ..Identity::default()
        };
        (!identity.is_empty()).then(|| Box::new(identity))
    }

    pub fn visit(&self, v: &mut dyn Visitor) {
        fn u(v: &mut dyn Visitor, name: &str, value: Option<impl Into<u64>>) {
            if let Some(value) = value {
                v.field(name, Value::U64(value.into()));
            }
        }
        fn s(v: &mut dyn Visitor, name: &str, value: Option<&str>) {
            if let Some(value) = value {
                v.field(name, Value::Str(value));
            }
        }
        u(v, "frame_id", Some(self.frame_id));
        u(v, "service_id", Some(self.service_id));
        s(v, "service", Some(service_name(self.service_id).0));
        u(v, "service_type", Some(self.service_type));
        s(v, "service_type_name", service_type_name(self.service_type));
        u(v, "xid", Some(self.xid));
        u(v, "response_delay", self.response_delay);
        u(v, "data_length", Some(self.data_length));
        if self.readdress {
            v.field("readdress", Value::Bool(true));
        }
        s(v, "name_of_station", self.name_of_station.as_deref());
        s(v, "type_of_station", self.type_of_station.as_deref());
        s(v, "alias_name", self.alias_name.as_deref());
        u(v, "vendor_id", self.vendor_id);
        u(v, "device_id", self.device_id);
        u(v, "oem_vendor_id", self.oem_vendor_id);
        u(v, "oem_device_id", self.oem_device_id);
        if let Some(role) = self.device_role {
            v.field("device_role", Value::U64(role.into()));
            v.begin("device_roles", Nest::List);
            for (name, _) in device_role_names(role) {
                v.field("", Value::Str(name));
            }
            v.end();
        }
        if let Some([high, low]) = self.device_instance {
            u(v, "device_instance_high", Some(high));
            u(v, "device_instance_low", Some(low));
        }
        if let Some(mac) = &self.mac_address {
            v.field("mac_address", Value::Str(&mac_text(mac)));
        }
        for (name, addr) in [
            ("ip", self.ip),
            ("netmask", self.netmask),
            ("gateway", self.gateway),
        ] {
            if let Some(addr) = addr {
                v.field(name, Value::Str(&ipv4(addr).to_string()));
            }
        }
        u(v, "ip_block_info", self.ip_block_info);
        u(v, "signal_value", self.signal_value);
        u(v, "device_initiative", self.device_initiative);
        v.begin("blocks", Nest::List);
        for block in &self.blocks {
            v.begin("", Nest::Object);
            u(v, "option", Some(block.option));
            u(v, "suboption", Some(block.suboption));
            s(
                v,
                "name",
                Some(dcp_block_name(block.option, block.suboption)),
            );
            u(v, "info", block.info);
            u(v, "qualifier", block.qualifier);
            if let Some((option, suboption, error)) = block.result {
                u(v, "result_option", Some(option));
                u(v, "result_suboption", Some(suboption));
                s(v, "result_name", Some(dcp_block_name(option, suboption)));
                u(v, "block_error", Some(error));
            }
            if !block.options.is_empty() {
                v.begin("options", Nest::List);
                for &(option, suboption) in &block.options {
                    v.begin("", Nest::Object);
                    u(v, "option", Some(option));
                    u(v, "suboption", Some(suboption));
                    v.end();
                }
                v.end();
            }
            v.end();
        }
        v.end();
    }
}

/// Decodes a DCP PDU (what follows the frame id). Total: a short or
/// inconsistent PDU gives what could be read, with anomalies.
pub fn parse(frame_id: u16, data: &[u8]) -> (DcpFields, Anomalies, bool) {
    let mut anomalies = Anomalies::new();
    let mut f = DcpFields {
        frame_id,
        ..DcpFields::default()
    };
    let mut r = Reader::new(data);
    let (Some(service_id), Some(service_type)) = (r.u8(), r.u8()) else {
        anomalies.add(TRUNCATED_FRAME);
        return (f, anomalies, false);
    };
    f.service_id = service_id;
    f.service_type = service_type;
    let is_response = service_type & 0x01 != 0;
    let expected_frame = match (service_id, is_response) {
        (SERVICE_HELLO, _) => Some(0xFEFC),
        (SERVICE_GET | SERVICE_SET, _) => Some(0xFEFD),
        (SERVICE_IDENTIFY, false) => Some(0xFEFE),
        (SERVICE_IDENTIFY, true) => Some(0xFEFF),
        _ => None,
    };
    if expected_frame.is_some_and(|id| id != frame_id) {
        anomalies.add(FRAME_ID_MISMATCH);
    }
    let (Some(xid), Some(delay), Some(data_length)) = (r.u32(), r.u16(), r.u16()) else {
        anomalies.add(TRUNCATED_FRAME);
        return (f, anomalies, true);
    };
    f.xid = xid;
    f.data_length = data_length;
    if service_id == SERVICE_IDENTIFY && !is_response {
        f.response_delay = Some(delay);
    }
    let known_service = matches!(
        service_id,
        SERVICE_GET | SERVICE_SET | SERVICE_IDENTIFY | SERVICE_HELLO
    );
    if service_name(service_id).0 == "unknown" {
        anomalies.add(UNKNOWN_SERVICE_ID);
    }
    if service_type_name(service_type).is_none() {
        anomalies.add(UNKNOWN_SERVICE_TYPE);
    }
    let body = r.rest();
    let body = if usize::from(data_length) > body.len() {
        anomalies.add(TRUNCATED_PDU);
        body
    } else {
        &body[..usize::from(data_length)]
    };
    // Without a known service and type the block layout is unknown.
    if known_service && service_type_name(service_type).is_some() {
        blocks(&mut f, body, is_response, &mut anomalies);
    }
    (f, anomalies, true)
}

fn blocks(f: &mut DcpFields, body: &[u8], is_response: bool, anomalies: &mut Anomalies) {
    let mut r = Reader::new(body);
    let selectors = f.service_id == SERVICE_GET && !is_response;
    while r.remaining() > 0 {
        if f.blocks.len() >= MAX_BLOCKS {
            anomalies.add(LIST_TRUNCATED);
            return;
        }
        let (Some(option), Some(suboption)) = (r.u8(), r.u8()) else {
            anomalies.add(TRUNCATED_PDU);
            return;
        };
        let mut block = DcpBlock {
            option,
            suboption,
            ..DcpBlock::default()
        };
        if !known_option(option) {
            anomalies.add(UNKNOWN_OPTION);
        }
        if selectors {
            f.blocks.push(block);
            continue;
        }
        let Some(length) = r.u16() else {
            anomalies.add(TRUNCATED_PDU);
            f.blocks.push(block);
            return;
        };
        let value = match r.bytes(usize::from(length)) {
            Some(value) => value,
            None => {
                anomalies.add(TRUNCATED_PDU);
                let rest = r.rest();
                r.skip(rest.len());
                rest
            }
        };
        if value_of(f, &mut block, value, is_response).is_none() {
            anomalies.add(BAD_BLOCK_LENGTH);
        }
        f.blocks.push(block);
        if length % 2 == 1 && r.remaining() > 0 {
            r.skip(1);
        }
    }
}

fn known_option(option: u8) -> bool {
    matches!(
        option,
        OPTION_IP | OPTION_DEVICE | OPTION_DHCP | OPTION_CONTROL | OPTION_DEVICE_INITIATIVE | 0x80
            ..=0xFE | OPTION_ALL
    )
}

/// Decodes one block's value into the block and the event's fields; `None`
/// when the value is shorter than its fixed fields.
fn value_of(
    f: &mut DcpFields,
    block: &mut DcpBlock,
    value: &[u8],
    is_response: bool,
) -> Option<()> {
    let mut r = Reader::new(value);
    let (option, suboption) = (block.option, block.suboption);
    match option {
        OPTION_CONTROL => {
            if suboption == 4 {
                block.result = Some((r.u8()?, r.u8()?, r.u8()?));
            } else if value.is_empty() {
                // An empty control block (Wireshark: "erroneous DCPSet block").
            } else {
                block.qualifier = Some(r.u16()?);
                if suboption == 3 {
                    f.signal_value.get_or_insert(r.u16()?);
                }
            }
            if f.service_id == SERVICE_SET && !is_response && matches!(suboption, 5 | 6) {
                f.readdress = true;
            }
            return Some(());
        }
        OPTION_ALL => return Some(()),
        0x80..=0xFE => return Some(()),
        _ => {}
    }
    let service = f.service_id;
    let has_info = matches!(
        (service, is_response),
        (SERVICE_IDENTIFY, true) | (SERVICE_HELLO, false) | (SERVICE_GET, true)
    );
    if has_info {
        block.info = Some(r.u16()?);
    }
    if service == SERVICE_SET && !is_response {
        block.qualifier = Some(r.u16()?);
        if matches!((option, suboption), (OPTION_IP, 2 | 3) | (OPTION_DEVICE, 2))
            || option == OPTION_DHCP
        {
            f.readdress = true;
        }
    }
    let rest = r.rest();
    match (option, suboption) {
        (OPTION_IP, 1) => {
            let mac = r.array()?;
            f.mac_address.get_or_insert(mac);
        }
        (OPTION_IP, 2 | 3) => {
            let (ip, mask, gw) = (r.array()?, r.array()?, r.array()?);
            if f.ip.is_none() {
                f.ip = Some(ip);
                f.netmask = Some(mask);
                f.gateway = Some(gw);
                f.ip_block_info = block.info;
            }
        }
        (OPTION_DEVICE, 1) => {
            f.type_of_station
                .get_or_insert_with(|| text(rest, MAX_TEXT));
        }
        (OPTION_DEVICE, 2) => {
            f.name_of_station
                .get_or_insert_with(|| text(rest, MAX_TEXT));
        }
        (OPTION_DEVICE, 3) => {
            let (vendor, device) = (r.u16()?, r.u16()?);
            if f.vendor_id.is_none() {
                f.vendor_id = Some(vendor);
                f.device_id = Some(device);
            }
        }
        (OPTION_DEVICE, 4) => {
            f.device_role.get_or_insert(r.u8()?);
        }
        (OPTION_DEVICE, 5) => {
            while let (Some(o), Some(s)) = (r.u8(), r.u8()) {
                if block.options.len() >= MAX_DEVICE_OPTIONS {
                    break;
                }
                block.options.push((o, s));
            }
        }
        (OPTION_DEVICE, 6) => {
            f.alias_name.get_or_insert_with(|| text(rest, MAX_TEXT));
        }
        (OPTION_DEVICE, 7) => {
            f.device_instance.get_or_insert(r.array()?);
        }
        (OPTION_DEVICE, 8) => {
            let (vendor, device) = (r.u16()?, r.u16()?);
            if f.oem_vendor_id.is_none() {
                f.oem_vendor_id = Some(vendor);
                f.oem_device_id = Some(device);
            }
        }
        (OPTION_DEVICE_INITIATIVE, 1) => {
            f.device_initiative.get_or_insert(r.u16()?);
        }
        _ => {}
    }
    Some(())
}

/// The event of a DCP frame (payload after the frame id).
pub fn pdu(frame_id: u16, data: &[u8]) -> Pdu {
    let (fields, anomalies, has_service) = parse(frame_id, data);
    let (function, class) = if has_service {
        service_name(fields.service_id)
    } else {
        ("invalid", FunctionClass::Other)
    };
    let identity = fields.identity();
    Pdu {
        protocol: Protocol::ProfinetDcp,
        is_response: has_service && fields.service_type & 0x01 != 0,
        function_code: has_service.then_some(u32::from(fields.service_id)),
        function,
        class,
        anomalies,
        fields: ProfinetFields::Dcp(Box::new(fields)).into(),
        identity,
    }
}
