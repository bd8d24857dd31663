//! PNIO blocks (IEC 61158-6-10 §5): what the connect, release, read, write
//! and control calls of PN-IO CM carry, and the event fields of a
//! `profinet_io` event ([`IoFields`]).
//!
//! A block is a header (type, length counting from the version on, version
//! high and low) and a body, always big-endian. Read and write headers are
//! followed by their record data: a multiple write (index 0xE040) holds
//! further write headers and their data (each aligned to 4 bytes); the
//! record data of a read response of an index the standard defines (0x8000
//! and up) holds blocks, among them multiple block headers that hold blocks
//! of their own. All of them are listed in wire order in `blocks`, nested
//! ones with their `depth`.

use super::anomaly::*;
use super::names::{
    ar_type_name, block_type_name, control_command_names, index_name, iocr_type_name,
    module_state_name, opnum_name, packet_type_name,
};
use super::{Reader, ipv4, mac_text, text};
use crate::event::{Anomalies, Identity, Nest, Value, Visitor};

/// Blocks kept per event (nested ones included).
pub const MAX_BLOCKS: usize = 64;
/// APIs, modules or IOCR objects kept per block level.
pub const MAX_ITEMS: usize = 64;
/// Submodules kept per module.
pub const MAX_SUBMODULES: usize = 64;
/// Nesting of record data (multiple block headers inside read responses…).
pub const MAX_DEPTH: u8 = 4;
/// Station names are at most 240 octets.
pub const MAX_NAME: usize = 255;
/// Index of a multiple write.
pub const INDEX_MULTIPLE_WRITE: u16 = 0xE040;

/// A UUID in its canonical (big-endian, as written) byte order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    /// `7c74224e-166c-4a58-bf6b-6c25a75870f0`.
    pub fn text(&self) -> String {
        let mut s = String::with_capacity(36);
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                s.push('-');
            }
            s.push_str(&format!("{b:02x}"));
        }
        s
    }

    /// A PNIO object UUID (DEA00000-6C97-11D1-8271-IIIIDDDDVVVV) gives the
    /// instance, device id and vendor id of the object it names.
    pub fn pnio_object(&self) -> Option<PnioObject> {
        const PREFIX: [u8; 10] = [0xDE, 0xA0, 0x00, 0x00, 0x6C, 0x97, 0x11, 0xD1, 0x82, 0x71];
        let [.., i0, i1, d0, d1, v0, v1] = self.0;
        (self.0[..10] == PREFIX).then_some(PnioObject {
            instance: u16::from_be_bytes([i0, i1]),
            device_id: u16::from_be_bytes([d0, d1]),
            vendor_id: u16::from_be_bytes([v0, v1]),
        })
    }
}

/// What a PNIO object UUID says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PnioObject {
    pub instance: u16,
    pub device_id: u16,
    pub vendor_id: u16,
}

fn uuid(r: &mut Reader<'_>) -> Option<Uuid> {
    r.array().map(Uuid)
}

/// An IO data object or IOCS of an IOCR: where a submodule's data (or
/// consumer status) sits in the cyclic frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IoObject {
    pub slot: u16,
    pub subslot: u16,
    pub frame_offset: u16,
}

/// The objects of one API of an IOCR.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IocrApi {
    pub api: u32,
    pub io_data: Vec<IoObject>,
    pub iocs: Vec<IoObject>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Submodule {
    pub subslot: u16,
    pub submodule_ident_number: u32,
    /// SubmoduleProperties (expected submodules) or SubmoduleState (module diff).
    pub properties: u16,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Module {
    pub api: u32,
    pub slot: u16,
    pub module_ident_number: u32,
    /// ModuleProperties (expected submodules) or ModuleState (module diff).
    pub properties: u16,
    pub submodules: Vec<Submodule>,
}

/// A neighbour in a PDPortDataReal block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Peer {
    pub port_id: String,
    pub chassis_id: String,
    pub mac: Option<[u8; 6]>,
}

/// I&M0: the device's identification and maintenance data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Im0 {
    pub vendor_id: u16,
    pub order_id: String,
    pub serial_number: String,
    pub hardware_revision: u16,
    /// `V1.2.3` (prefix character and three numbers).
    pub software_revision: String,
    pub revision_counter: u16,
    pub profile_id: u16,
}

/// What this decoder reads from a block's body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum BlockBody {
    /// Not decoded (the type and length are still listed).
    #[default]
    Opaque,
    ArReq {
        ar_type: u16,
        ar_uuid: Uuid,
        session_key: u16,
        initiator_mac: [u8; 6],
        initiator_object_uuid: Uuid,
        properties: u32,
        activity_timeout_factor: u16,
        udp_rt_port: u16,
        station_name: String,
    },
    ArRes {
        ar_type: u16,
        ar_uuid: Uuid,
        session_key: u16,
        responder_mac: [u8; 6],
        udp_rt_port: u16,
    },
    IocrReq {
        iocr_type: u16,
        reference: u16,
        properties: u32,
        data_length: u16,
        frame_id: u16,
        send_clock_factor: u16,
        reduction_ratio: u16,
        phase: u16,
        watchdog_factor: u16,
        data_hold_factor: u16,
        apis: Vec<IocrApi>,
    },
    IocrRes {
        iocr_type: u16,
        reference: u16,
        frame_id: u16,
    },
    AlarmCrReq {
        alarm_cr_type: u16,
        properties: u32,
        rta_timeout_factor: u16,
        rta_retries: u16,
        local_alarm_reference: u16,
        max_alarm_data_length: u16,
    },
    AlarmCrRes {
        alarm_cr_type: u16,
        local_alarm_reference: u16,
        max_alarm_data_length: u16,
    },
    ExpectedSubmodules {
        modules: Vec<Module>,
    },
    /// Module diff: modules grouped by API as on the wire.
    ModuleDiff {
        apis: Vec<(u32, Vec<Module>)>,
    },
    Control {
        ar_uuid: Uuid,
        session_key: u16,
        control_command: u16,
        control_properties: u16,
    },
    /// IODReadReqHeader, IODReadResHeader, IODWriteReqHeader, IODWriteResHeader.
    Record {
        seq_number: u16,
        ar_uuid: Uuid,
        api: u32,
        slot: u16,
        subslot: u16,
        index: u16,
        record_data_length: u32,
        /// Responses: AdditionalValue1 and 2.
        additional_values: Option<(u16, u16)>,
        /// Write responses: the record's PNIO status.
        status: Option<u32>,
    },
    MultipleBlockHeader {
        api: u32,
        slot: u16,
        subslot: u16,
    },
    PortDataReal {
        slot: u16,
        subslot: u16,
        own_port_id: String,
        peers: Vec<Peer>,
    },
    InterfaceDataReal {
        chassis_id: String,
        mac: [u8; 6],
        ip: [u8; 4],
        netmask: [u8; 4],
        gateway: [u8; 4],
    },
    Im0(Box<Im0>),
}

/// One PNIO block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Block {
    /// `pn_io.block_type`.
    pub block_type: u16,
    pub length: u16,
    pub version: (u8, u8),
    /// 0 for blocks of the call itself, more for blocks in record data.
    pub depth: u8,
    pub body: BlockBody,
}

/// The fields of a `profinet_io` event: the DCE/RPC header, the PNIO NDR
/// header, the blocks, and the values most rules want at the top level.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IoFields {
    pub packet_type: u8,
    pub flags1: u8,
    pub object_uuid: Uuid,
    pub interface_uuid: Uuid,
    pub activity_uuid: Uuid,
    /// `pnio_device`, `pnio_controller`, `pnio_supervisor`,
    /// `pnio_parameter_server`, `epm`.
    pub interface: Option<&'static str>,
    pub interface_version: u32,
    pub sequence: u32,
    /// `pn_io.opnum` (the DCE/RPC opnum).
    pub opnum: u16,
    pub fragment_length: u16,
    /// Fragments reassembled into this PDU (absent when not fragmented).
    pub fragments: Option<u16>,
    pub args_maximum: Option<u32>,
    pub args_length: Option<u32>,
    /// Responses: the call's PNIO status (error code, decode, code 1, code 2).
    pub pnio_status: Option<u32>,
    /// Fault and reject PDUs: the NCA status.
    pub nca_status: Option<u32>,
    /// `pn_io.ar_uuid` (of the AR, control or first read/write block).
    pub ar_uuid: Option<Uuid>,
    /// `pn_io.ar_type`.
    pub ar_type: Option<u16>,
    pub session_key: Option<u16>,
    /// `pn_io.cminitiator_station_name`.
    pub station_name: Option<String>,
    pub control_command: Option<u16>,
    pub blocks: Vec<Block>,
}

impl IoFields {
    /// What the sender says about itself: a connect request names its
    /// initiator (station name, object UUID, AR type); a response's object
    /// UUID is the responding object's; a read response may carry the
    /// device's I&M0 or its interface data (name of station).
    pub fn identity(&self) -> Option<Box<Identity>> {
        let mut id = Identity::default();
        let object = |id: &mut Identity, o: PnioObject| {
            id.vendor_id = Some(u32::from(o.vendor_id));
            id.product_code = Some(format!("0x{:04x}", o.device_id));
        };
        if self.packet_type == 2
            && let Some(o) = self.object_uuid.pnio_object()
        {
            object(&mut id, o);
        }
        for block in &self.blocks {
            match &block.body {
                BlockBody::ArReq {
                    ar_type,
                    initiator_object_uuid,
                    station_name,
                    ..
                } if self.packet_type == 0 => {
                    if let Some(o) = initiator_object_uuid.pnio_object() {
                        object(&mut id, o);
                    }
                    id.station_name = Some(station_name.clone()).filter(|s| !s.is_empty());
                    id.device_type = match ar_type {
                        0x0006 => Some("PROFINET IO supervisor".into()),
                        _ => Some("PROFINET IO controller".into()),
                    };
                }
                BlockBody::InterfaceDataReal { chassis_id, .. } if self.packet_type == 2 => {
                    id.station_name = Some(chassis_id.clone()).filter(|s| !s.is_empty());
                }
                BlockBody::Im0(im) if self.packet_type == 2 => {
                    id.vendor_id = Some(u32::from(im.vendor_id));
                    id.order_number = Some(im.order_id.clone()).filter(|s| !s.is_empty());
                    id.serial = Some(im.serial_number.clone()).filter(|s| !s.is_empty());
                    id.hardware = Some(im.hardware_revision.to_string());
                    id.firmware = Some(im.software_revision.clone()).filter(|s| !s.is_empty());
                }
                _ => {}
            }
        }
        (!id.is_empty()).then(|| Box::new(id))
    }

    pub fn visit(&self, v: &mut dyn Visitor) {
        u(v, "packet_type", Some(self.packet_type));
        s(v, "packet_type_name", packet_type_name(self.packet_type));
        u(v, "flags1", Some(self.flags1));
        v.field("object_uuid", Value::Str(&self.object_uuid.text()));
        if let Some(o) = self.object_uuid.pnio_object() {
            u(v, "object_vendor_id", Some(o.vendor_id));
            u(v, "object_device_id", Some(o.device_id));
            u(v, "object_instance", Some(o.instance));
        }
        v.field("interface_uuid", Value::Str(&self.interface_uuid.text()));
        s(v, "interface", self.interface);
        u(v, "interface_version", Some(self.interface_version));
        v.field("activity_uuid", Value::Str(&self.activity_uuid.text()));
        u(v, "sequence", Some(self.sequence));
        u(v, "opnum", Some(self.opnum));
        if matches!(self.interface, Some(i) if i.starts_with("pnio")) {
            s(v, "operation", opnum_name(self.opnum));
        }
        u(v, "fragment_length", Some(self.fragment_length));
        u(v, "fragments", self.fragments);
        u(v, "args_maximum", self.args_maximum);
        u(v, "args_length", self.args_length);
        u(v, "pnio_status", self.pnio_status);
        u(v, "nca_status", self.nca_status);
        if let Some(ar_uuid) = &self.ar_uuid {
            v.field("ar_uuid", Value::Str(&ar_uuid.text()));
        }
        u(v, "ar_type", self.ar_type);
        s(v, "ar_type_name", self.ar_type.and_then(ar_type_name));
        u(v, "session_key", self.session_key);
        s(v, "station_name", self.station_name.as_deref());
        if let Some(command) = self.control_command {
            v.field("control_command", Value::U64(command.into()));
            v.begin("control_commands", Nest::List);
            for name in control_command_names(command) {
                v.field("", Value::Str(name));
            }
            v.end();
        }
        v.begin("blocks", Nest::List);
        for block in &self.blocks {
            block.visit(v);
        }
        v.end();
    }
}

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

fn visit_objects(v: &mut dyn Visitor, name: &str, objects: &[IoObject]) {
    v.begin(name, Nest::List);
    for o in objects {
        v.begin("", Nest::Object);
        u(v, "slot", Some(o.slot));
        u(v, "subslot", Some(o.subslot));
        u(v, "frame_offset", Some(o.frame_offset));
        v.end();
    }
    v.end();
}

fn visit_module(v: &mut dyn Visitor, m: &Module, with_api: bool, diff: bool) {
    v.begin("", Nest::Object);
    if with_api {
        u(v, "api", Some(m.api));
    }
    u(v, "slot", Some(m.slot));
    u(v, "module_ident_number", Some(m.module_ident_number));
    if diff {
        u(v, "module_state", Some(m.properties));
        s(v, "module_state_name", module_state_name(m.properties));
    } else {
        u(v, "module_properties", Some(m.properties));
    }
    v.begin("submodules", Nest::List);
    for sm in &m.submodules {
        v.begin("", Nest::Object);
        u(v, "subslot", Some(sm.subslot));
        u(v, "submodule_ident_number", Some(sm.submodule_ident_number));
        let name = if diff {
            "submodule_state"
        } else {
            "submodule_properties"
        };
        u(v, name, Some(sm.properties));
        v.end();
    }
    v.end();
    v.end();
}

impl Block {
    fn visit(&self, v: &mut dyn Visitor) {
        v.begin("", Nest::Object);
        u(v, "block_type", Some(self.block_type));
        s(v, "name", block_type_name(self.block_type));
        u(v, "length", Some(self.length));
        if self.depth > 0 {
            u(v, "depth", Some(self.depth));
        }
        match &self.body {
            BlockBody::Opaque => {}
            BlockBody::ArReq {
                ar_type,
                ar_uuid,
                session_key,
                initiator_mac,
                initiator_object_uuid,
                properties,
                activity_timeout_factor,
                udp_rt_port,
                station_name,
            } => {
                u(v, "ar_type", Some(*ar_type));
                v.field("ar_uuid", Value::Str(&ar_uuid.text()));
                u(v, "session_key", Some(*session_key));
                v.field("cm_initiator_mac", Value::Str(&mac_text(initiator_mac)));
                v.field(
                    "cm_initiator_object_uuid",
                    Value::Str(&initiator_object_uuid.text()),
                );
                u(v, "ar_properties", Some(*properties));
                u(v, "activity_timeout_factor", Some(*activity_timeout_factor));
                u(v, "udp_rt_port", Some(*udp_rt_port));
                s(v, "station_name", Some(station_name));
            }
            BlockBody::ArRes {
                ar_type,
                ar_uuid,
                session_key,
                responder_mac,
                udp_rt_port,
            } => {
                u(v, "ar_type", Some(*ar_type));
                v.field("ar_uuid", Value::Str(&ar_uuid.text()));
                u(v, "session_key", Some(*session_key));
                v.field("cm_responder_mac", Value::Str(&mac_text(responder_mac)));
                u(v, "udp_rt_port", Some(*udp_rt_port));
            }
            BlockBody::IocrReq {
                iocr_type,
                reference,
                properties,
                data_length,
                frame_id,
                send_clock_factor,
                reduction_ratio,
                phase,
                watchdog_factor,
                data_hold_factor,
                apis,
            } => {
                u(v, "iocr_type", Some(*iocr_type));
                s(v, "iocr_type_name", iocr_type_name(*iocr_type));
                u(v, "iocr_reference", Some(*reference));
                u(v, "iocr_properties", Some(*properties));
                u(v, "rt_class", Some(*properties & 0x0F));
                u(v, "data_length", Some(*data_length));
                u(v, "frame_id", Some(*frame_id));
                u(v, "send_clock_factor", Some(*send_clock_factor));
                u(v, "reduction_ratio", Some(*reduction_ratio));
                u(v, "phase", Some(*phase));
                u(v, "watchdog_factor", Some(*watchdog_factor));
                u(v, "data_hold_factor", Some(*data_hold_factor));
                v.begin("apis", Nest::List);
                for api in apis {
                    v.begin("", Nest::Object);
                    u(v, "api", Some(api.api));
                    visit_objects(v, "io_data", &api.io_data);
                    visit_objects(v, "iocs", &api.iocs);
                    v.end();
                }
                v.end();
            }
            BlockBody::IocrRes {
                iocr_type,
                reference,
                frame_id,
            } => {
                u(v, "iocr_type", Some(*iocr_type));
                s(v, "iocr_type_name", iocr_type_name(*iocr_type));
                u(v, "iocr_reference", Some(*reference));
                u(v, "frame_id", Some(*frame_id));
            }
            BlockBody::AlarmCrReq {
                alarm_cr_type,
                properties,
                rta_timeout_factor,
                rta_retries,
                local_alarm_reference,
                max_alarm_data_length,
            } => {
                u(v, "alarm_cr_type", Some(*alarm_cr_type));
                u(v, "alarm_cr_properties", Some(*properties));
                u(v, "rta_timeout_factor", Some(*rta_timeout_factor));
                u(v, "rta_retries", Some(*rta_retries));
                u(v, "local_alarm_reference", Some(*local_alarm_reference));
                u(v, "max_alarm_data_length", Some(*max_alarm_data_length));
            }
            BlockBody::AlarmCrRes {
                alarm_cr_type,
                local_alarm_reference,
                max_alarm_data_length,
            } => {
                u(v, "alarm_cr_type", Some(*alarm_cr_type));
                u(v, "local_alarm_reference", Some(*local_alarm_reference));
                u(v, "max_alarm_data_length", Some(*max_alarm_data_length));
            }
            BlockBody::ExpectedSubmodules { modules } => {
                v.begin("modules", Nest::List);
                for m in modules {
                    visit_module(v, m, true, false);
                }
                v.end();
            }
            BlockBody::ModuleDiff { apis } => {
                v.begin("apis", Nest::List);
                for (api, modules) in apis {
                    v.begin("", Nest::Object);
                    u(v, "api", Some(*api));
                    v.begin("modules", Nest::List);
                    for m in modules {
                        visit_module(v, m, false, true);
                    }
                    v.end();
                    v.end();
                }
                v.end();
            }
            BlockBody::Control {
                ar_uuid,
                session_key,
                control_command,
                control_properties,
            } => {
                v.field("ar_uuid", Value::Str(&ar_uuid.text()));
                u(v, "session_key", Some(*session_key));
                u(v, "control_command", Some(*control_command));
                u(v, "control_properties", Some(*control_properties));
            }
            BlockBody::Record {
                seq_number,
                ar_uuid,
                api,
                slot,
                subslot,
                index,
                record_data_length,
                additional_values,
                status,
            } => {
                u(v, "seq_number", Some(*seq_number));
                v.field("ar_uuid", Value::Str(&ar_uuid.text()));
                u(v, "api", Some(*api));
                u(v, "slot", Some(*slot));
                u(v, "subslot", Some(*subslot));
                u(v, "index", Some(*index));
                s(v, "index_name", index_name(*index));
                u(v, "record_data_length", Some(*record_data_length));
                if let Some((one, two)) = additional_values {
                    u(v, "additional_value1", Some(*one));
                    u(v, "additional_value2", Some(*two));
                }
                u(v, "status", *status);
            }
            BlockBody::MultipleBlockHeader { api, slot, subslot } => {
                u(v, "api", Some(*api));
                u(v, "slot", Some(*slot));
                u(v, "subslot", Some(*subslot));
            }
            BlockBody::PortDataReal {
                slot,
                subslot,
                own_port_id,
                peers,
            } => {
                u(v, "slot", Some(*slot));
                u(v, "subslot", Some(*subslot));
                s(v, "own_port_id", Some(own_port_id));
                v.begin("peers", Nest::List);
                for p in peers {
                    v.begin("", Nest::Object);
                    s(v, "port_id", Some(&p.port_id));
                    s(v, "chassis_id", Some(&p.chassis_id));
                    if let Some(mac) = &p.mac {
                        v.field("mac", Value::Str(&mac_text(mac)));
                    }
                    v.end();
                }
                v.end();
            }
            BlockBody::InterfaceDataReal {
                chassis_id,
                mac,
                ip,
                netmask,
                gateway,
            } => {
                s(v, "chassis_id", Some(chassis_id));
                v.field("mac", Value::Str(&mac_text(mac)));
                v.field("ip", Value::Str(&ipv4(*ip).to_string()));
                v.field("netmask", Value::Str(&ipv4(*netmask).to_string()));
                v.field("gateway", Value::Str(&ipv4(*gateway).to_string()));
            }
            BlockBody::Im0(im) => {
                u(v, "vendor_id", Some(im.vendor_id));
                s(v, "order_id", Some(&im.order_id));
                s(v, "serial_number", Some(&im.serial_number));
                u(v, "hardware_revision", Some(im.hardware_revision));
                s(v, "software_revision", Some(&im.software_revision));
                u(v, "revision_counter", Some(im.revision_counter));
                u(v, "profile_id", Some(im.profile_id));
            }
        }
        v.end();
    }
}

/// What the NDR body of a PNIO request or response says before its blocks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NdrHeader {
    pub args_maximum: Option<u32>,
    pub pnio_status: Option<u32>,
    pub args_length: u32,
    pub actual_count: u32,
}

/// Decodes the stub data of a PNIO request (`response` false) or response
/// into `f`: the NDR header (integers in the DCE/RPC byte order) and the
/// blocks.
pub fn parse_body(
    body: &[u8],
    response: bool,
    little_endian: bool,
    f: &mut IoFields,
    anomalies: &mut Anomalies,
) {
    let mut r = Reader::new(body);
    let ndr_u32 = |r: &mut Reader<'_>| {
        r.array::<4>().map(|b| {
            if little_endian {
                u32::from_le_bytes(b)
            } else {
                u32::from_be_bytes(b)
            }
        })
    };
    let header = (|| {
        let mut h = NdrHeader::default();
        if response {
            // The PNIO status is four octets, not an NDR integer.
            h.pnio_status = Some(r.u32()?);
        } else {
            h.args_maximum = Some(ndr_u32(&mut r)?);
        }
        h.args_length = ndr_u32(&mut r)?;
        let _maximum_count = ndr_u32(&mut r)?;
        let offset = ndr_u32(&mut r)?;
        h.actual_count = ndr_u32(&mut r)?;
        Some((h, offset))
    })();
    let Some((h, offset)) = header else {
        anomalies.add(TRUNCATED_PDU);
        return;
    };
    f.args_maximum = h.args_maximum;
    f.args_length = Some(h.args_length);
    f.pnio_status = h.pnio_status;
    if offset != 0 || h.actual_count != h.args_length {
        anomalies.add(BAD_NDR_HEADER);
    }
    let want = usize::try_from(h.actual_count).unwrap_or(usize::MAX);
    let data = match r.bytes(want) {
        Some(data) => data,
        None => {
            anomalies.add(TRUNCATED_PDU);
            r.rest()
        }
    };
    let mut ctx = Ctx {
        blocks: &mut f.blocks,
        anomalies,
    };
    ctx.blocks_in(data, 0, false);
    summarise(f);
}

/// Copies the values rules want at the top level from the blocks.
fn summarise(f: &mut IoFields) {
    for block in &f.blocks {
        match &block.body {
            BlockBody::ArReq {
                ar_type,
                ar_uuid,
                session_key,
                station_name,
                ..
            } => {
                f.ar_type.get_or_insert(*ar_type);
                f.ar_uuid.get_or_insert(*ar_uuid);
                f.session_key.get_or_insert(*session_key);
                f.station_name.get_or_insert_with(|| station_name.clone());
            }
            BlockBody::ArRes {
                ar_type,
                ar_uuid,
                session_key,
                ..
            } => {
                f.ar_type.get_or_insert(*ar_type);
                f.ar_uuid.get_or_insert(*ar_uuid);
                f.session_key.get_or_insert(*session_key);
            }
            BlockBody::Control {
                ar_uuid,
                session_key,
                control_command,
                ..
            } => {
                f.ar_uuid.get_or_insert(*ar_uuid);
                f.session_key.get_or_insert(*session_key);
                f.control_command.get_or_insert(*control_command);
            }
            BlockBody::Record { ar_uuid, .. } => {
                f.ar_uuid.get_or_insert(*ar_uuid);
            }
            _ => {}
        }
    }
}

struct Ctx<'a> {
    blocks: &'a mut Vec<Block>,
    anomalies: &'a mut Anomalies,
}

impl Ctx<'_> {
    /// Decodes the blocks of `data`; in record data of a multiple write each
    /// record is aligned to 4 bytes (`aligned`).
    fn blocks_in(&mut self, data: &[u8], depth: u8, aligned: bool) {
        let mut r = Reader::new(data);
        while r.remaining() >= 6 {
            if self.blocks.len() >= MAX_BLOCKS {
                self.anomalies.add(LIST_TRUNCATED);
                return;
            }
            let (Some(block_type), Some(length), Some(high), Some(low)) =
                (r.u16(), r.u16(), r.u8(), r.u8())
            else {
                return;
            };
            let Some(body_len) = usize::from(length).checked_sub(2) else {
                self.anomalies.add(BAD_BLOCK_LENGTH);
                return;
            };
            let body = match r.bytes(body_len) {
                Some(body) => body,
                None => {
                    self.anomalies.add(TRUNCATED_PDU);
                    let rest = r.rest();
                    r.skip(rest.len());
                    rest
                }
            };
            let decoded = decode(block_type, body);
            if decoded.is_none() {
                self.anomalies.add(BAD_BLOCK_LENGTH);
            }
            let (body_value, list_truncated) = decoded.unwrap_or_default();
            if list_truncated {
                self.anomalies.add(LIST_TRUNCATED);
            }
            let record = match &body_value {
                BlockBody::Record {
                    index,
                    record_data_length,
                    ..
                } => Some((*index, *record_data_length)),
                _ => None,
            };
            self.blocks.push(Block {
                block_type,
                length,
                version: (high, low),
                depth,
                body: body_value,
            });
            if block_type == 0x0400 && depth < MAX_DEPTH {
                // A multiple block header: API, slot, subslot, then blocks.
                self.blocks_in(body.get(10..).unwrap_or_default(), depth + 1, false);
            }
            if let Some((index, length)) = record {
                self.record_data(&mut r, block_type, index, length, depth);
            }
            if aligned {
                r.align(4);
            }
        }
    }

    /// The record data that follows a read or write header.
    fn record_data(
        &mut self,
        r: &mut Reader<'_>,
        block_type: u16,
        index: u16,
        length: u32,
        depth: u8,
    ) {
        let follows = match block_type {
            // A write request carries its data; a read response too.
            0x0008 | 0x8009 => true,
            // A multiple write response lists one response header per record.
            0x8008 => index == INDEX_MULTIPLE_WRITE,
            _ => false,
        };
        if !follows {
            return;
        }
        let want = usize::try_from(length).unwrap_or(usize::MAX);
        let data = match r.bytes(want) {
            Some(data) => data,
            None => {
                self.anomalies.add(TRUNCATED_PDU);
                let rest = r.rest();
                r.skip(rest.len());
                rest
            }
        };
        if depth >= MAX_DEPTH {
            return;
        }
        if index == INDEX_MULTIPLE_WRITE {
            self.blocks_in(data, depth + 1, true);
        } else if block_type == 0x8009 && index >= 0x8000 {
            self.blocks_in(data, depth + 1, false);
        }
    }
}

/// Decodes a block body; `None` when it is shorter than its fixed fields.
/// The flag says whether a list was cut at its bound.
fn decode(block_type: u16, body: &[u8]) -> Option<(BlockBody, bool)> {
    let mut r = Reader::new(body);
    let mut cut = false;
    let value = match block_type {
        0x0101 => {
            let ar_type = r.u16()?;
            let ar_uuid = uuid(&mut r)?;
            let session_key = r.u16()?;
            let initiator_mac = r.array()?;
            let initiator_object_uuid = uuid(&mut r)?;
            let properties = r.u32()?;
            let activity_timeout_factor = r.u16()?;
            let udp_rt_port = r.u16()?;
            let name_len = r.u16()?;
            let name = r.bytes(usize::from(name_len))?;
            BlockBody::ArReq {
                ar_type,
                ar_uuid,
                session_key,
                initiator_mac,
                initiator_object_uuid,
                properties,
                activity_timeout_factor,
                udp_rt_port,
                station_name: text(name, MAX_NAME),
            }
        }
        0x8101 => BlockBody::ArRes {
            ar_type: r.u16()?,
            ar_uuid: uuid(&mut r)?,
            session_key: r.u16()?,
            responder_mac: r.array()?,
            udp_rt_port: r.u16()?,
        },
        0x0102 => {
            let iocr_type = r.u16()?;
            let reference = r.u16()?;
            let _lt = r.u16()?;
            let properties = r.u32()?;
            let data_length = r.u16()?;
            let frame_id = r.u16()?;
            let send_clock_factor = r.u16()?;
            let reduction_ratio = r.u16()?;
            let phase = r.u16()?;
            let _sequence = r.u16()?;
            let _frame_send_offset = r.u32()?;
            let watchdog_factor = r.u16()?;
            let data_hold_factor = r.u16()?;
            let _tag_header = r.u16()?;
            let _multicast_mac: [u8; 6] = r.array()?;
            let number_of_apis = r.u16()?;
            let mut apis = Vec::new();
            for _ in 0..number_of_apis {
                let mut api = IocrApi {
                    api: r.u32()?,
                    ..IocrApi::default()
                };
                for list in [&mut api.io_data, &mut api.iocs] {
                    let n = r.u16()?;
                    for _ in 0..n {
                        let o = IoObject {
                            slot: r.u16()?,
                            subslot: r.u16()?,
                            frame_offset: r.u16()?,
                        };
                        if list.len() < MAX_ITEMS {
                            list.push(o);
                        } else {
                            cut = true;
                        }
                    }
                }
                if apis.len() < MAX_ITEMS {
                    apis.push(api);
                } else {
                    cut = true;
                }
            }
            BlockBody::IocrReq {
                iocr_type,
                reference,
                properties,
                data_length,
                frame_id,
                send_clock_factor,
                reduction_ratio,
                phase,
                watchdog_factor,
                data_hold_factor,
                apis,
            }
        }
        0x8102 => BlockBody::IocrRes {
            iocr_type: r.u16()?,
            reference: r.u16()?,
            frame_id: r.u16()?,
        },
        0x0103 => {
            let alarm_cr_type = r.u16()?;
            let _lt = r.u16()?;
            BlockBody::AlarmCrReq {
                alarm_cr_type,
                properties: r.u32()?,
                rta_timeout_factor: r.u16()?,
                rta_retries: r.u16()?,
                local_alarm_reference: r.u16()?,
                max_alarm_data_length: r.u16()?,
            }
        }
        0x8103 => BlockBody::AlarmCrRes {
            alarm_cr_type: r.u16()?,
            local_alarm_reference: r.u16()?,
            max_alarm_data_length: r.u16()?,
        },
        0x0104 => {
            let number_of_apis = r.u16()?;
            let mut modules = Vec::new();
            for _ in 0..number_of_apis {
                let mut m = Module {
                    api: r.u32()?,
                    slot: r.u16()?,
                    module_ident_number: r.u32()?,
                    properties: r.u16()?,
                    submodules: Vec::new(),
                };
                let n = r.u16()?;
                for _ in 0..n {
                    let sm = Submodule {
                        subslot: r.u16()?,
                        submodule_ident_number: r.u32()?,
                        properties: r.u16()?,
                    };
                    // Data descriptions: two for input and output, else one.
                    let descriptions = if sm.properties & 0x03 == 0x03 { 2 } else { 1 };
                    r.skip(6 * descriptions)?;
                    if m.submodules.len() < MAX_SUBMODULES {
                        m.submodules.push(sm);
                    } else {
                        cut = true;
                    }
                }
                if modules.len() < MAX_ITEMS {
                    modules.push(m);
                } else {
                    cut = true;
                }
            }
            BlockBody::ExpectedSubmodules { modules }
        }
        0x8104 => {
            let number_of_apis = r.u16()?;
            let mut apis = Vec::new();
            let mut total = 0;
            for _ in 0..number_of_apis {
                let api = r.u32()?;
                let number_of_modules = r.u16()?;
                let mut modules = Vec::new();
                for _ in 0..number_of_modules {
                    let mut m = Module {
                        api,
                        slot: r.u16()?,
                        module_ident_number: r.u32()?,
                        properties: r.u16()?,
                        submodules: Vec::new(),
                    };
                    let n = r.u16()?;
                    for _ in 0..n {
                        let sm = Submodule {
                            subslot: r.u16()?,
                            submodule_ident_number: r.u32()?,
                            properties: r.u16()?,
                        };
                        if m.submodules.len() < MAX_SUBMODULES {
                            m.submodules.push(sm);
                        } else {
                            cut = true;
                        }
                    }
                    total += 1;
                    if total <= MAX_ITEMS {
                        modules.push(m);
                    } else {
                        cut = true;
                    }
                }
                if apis.len() < MAX_ITEMS {
                    apis.push((api, modules));
                } else {
                    cut = true;
                }
            }
            BlockBody::ModuleDiff { apis }
        }
        0x0110..=0x0118 | 0x8110..=0x8118 => {
            let _reserved = r.u16()?;
            let ar_uuid = uuid(&mut r)?;
            let session_key = r.u16()?;
            let _reserved = r.u16()?;
            BlockBody::Control {
                ar_uuid,
                session_key,
                control_command: r.u16()?,
                control_properties: r.u16()?,
            }
        }
        0x0008 | 0x0009 | 0x8008 | 0x8009 => {
            let seq_number = r.u16()?;
            let ar_uuid = uuid(&mut r)?;
            let api = r.u32()?;
            let slot = r.u16()?;
            let subslot = r.u16()?;
            r.skip(2)?;
            let index = r.u16()?;
            let record_data_length = r.u32()?;
            let response = block_type & 0x8000 != 0;
            let additional_values = if response {
                Some((r.u16()?, r.u16()?))
            } else {
                None
            };
            let status = if block_type == 0x8008 {
                Some(r.u32()?)
            } else {
                None
            };
            BlockBody::Record {
                seq_number,
                ar_uuid,
                api,
                slot,
                subslot,
                index,
                record_data_length,
                additional_values,
                status,
            }
        }
        0x0400 => {
            r.skip(2)?;
            BlockBody::MultipleBlockHeader {
                api: r.u32()?,
                slot: r.u16()?,
                subslot: r.u16()?,
            }
        }
        0x020F => {
            r.skip(2)?;
            let slot = r.u16()?;
            let subslot = r.u16()?;
            let len = r.u8()?;
            let own_port_id = text(r.bytes(usize::from(len))?, MAX_NAME);
            let number_of_peers = r.u8()?;
            // Offsets are aligned from the start of the block header (6
            // bytes before the body).
            let align = |r: &mut Reader<'_>| {
                let at = r.pos() + 6;
                r.skip((4 - at % 4) % 4)
            };
            align(&mut r)?;
            let mut peers = Vec::new();
            for _ in 0..number_of_peers {
                let peer = (|| {
                    let len = r.u8()?;
                    let port_id = text(r.bytes(usize::from(len))?, MAX_NAME);
                    let len = r.u8()?;
                    let chassis_id = text(r.bytes(usize::from(len))?, MAX_NAME);
                    align(&mut r)?;
                    let _line_delay = r.u32()?;
                    let mac = r.array()?;
                    align(&mut r)?;
                    Some(Peer {
                        port_id,
                        chassis_id,
                        mac: Some(mac),
                    })
                })();
                // The rest of the block (MAU type, link state…) is not decoded.
                let Some(peer) = peer else { break };
                if peers.len() < MAX_ITEMS {
                    peers.push(peer);
                } else {
                    cut = true;
                }
            }
            BlockBody::PortDataReal {
                slot,
                subslot,
                own_port_id,
                peers,
            }
        }
        0x0240 => {
            let len = r.u8()?;
            let chassis_id = text(r.bytes(usize::from(len))?, MAX_NAME);
            let align = |r: &mut Reader<'_>| {
                let at = r.pos() + 6;
                r.skip((4 - at % 4) % 4)
            };
            align(&mut r)?;
            let mac = r.array()?;
            align(&mut r)?;
            BlockBody::InterfaceDataReal {
                chassis_id,
                mac,
                ip: r.array()?,
                netmask: r.array()?,
                gateway: r.array()?,
            }
        }
        0x0020 => {
            let vendor_id = r.u16()?;
            let order_id = text(r.bytes(20)?, 20).trim().to_string();
            let serial_number = text(r.bytes(16)?, 16).trim().to_string();
            let hardware_revision = r.u16()?;
            let [prefix, a, b, c] = r.array()?;
            let software_revision = format!("{}{a}.{b}.{c}", char::from(prefix));
            let revision_counter = r.u16()?;
            let profile_id = r.u16()?;
            BlockBody::Im0(Box::new(Im0 {
                vendor_id,
                order_id,
                serial_number,
                hardware_revision,
                software_revision,
                revision_counter,
                profile_id,
            }))
        }
        _ => BlockBody::Opaque,
    };
    Some((value, cut))
}
