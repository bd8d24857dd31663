//! Code values of EtherNet/IP and CIP, with their names and function classes.
//! Codes are open newtypes: a value nobody has named still decodes and is
//! reported.

use crate::event::FunctionClass;

/// Encapsulation command (Wireshark `enip.command`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Command(pub u16);

impl Command {
    pub const NOP: Command = Command(0x0000);
    /// Legacy command of early implementations; still answered by some.
    pub const LIST_TARGETS: Command = Command(0x0001);
    pub const LIST_SERVICES: Command = Command(0x0004);
    pub const LIST_IDENTITY: Command = Command(0x0063);
    pub const LIST_INTERFACES: Command = Command(0x0064);
    pub const REGISTER_SESSION: Command = Command(0x0065);
    pub const UNREGISTER_SESSION: Command = Command(0x0066);
    pub const SEND_RR_DATA: Command = Command(0x006F);
    pub const SEND_UNIT_DATA: Command = Command(0x0070);
    pub const INDICATE_STATUS: Command = Command(0x0072);
    pub const CANCEL: Command = Command(0x0073);
    pub const START_DTLS: Command = Command(0x00C8);

    /// The command's snake_case name, if the specification defines it.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Command::NOP => "nop",
            Command::LIST_TARGETS => "list_targets",
            Command::LIST_SERVICES => "list_services",
            Command::LIST_IDENTITY => "list_identity",
            Command::LIST_INTERFACES => "list_interfaces",
            Command::REGISTER_SESSION => "register_session",
            Command::UNREGISTER_SESSION => "unregister_session",
            Command::SEND_RR_DATA => "send_rr_data",
            Command::SEND_UNIT_DATA => "send_unit_data",
            Command::INDICATE_STATUS => "indicate_status",
            Command::CANCEL => "cancel",
            Command::START_DTLS => "start_dtls",
            _ => return None,
        })
    }

    pub fn class(self) -> FunctionClass {
        match self {
            Command::LIST_TARGETS
            | Command::LIST_SERVICES
            | Command::LIST_IDENTITY
            | Command::LIST_INTERFACES => FunctionClass::Discovery,
            Command::NOP
            | Command::REGISTER_SESSION
            | Command::UNREGISTER_SESSION
            | Command::START_DTLS => FunctionClass::Session,
            _ => FunctionClass::Other,
        }
    }
}

/// Encapsulation status (Wireshark `enip.status`), by name.
pub fn encapsulation_status_name(status: u32) -> Option<&'static str> {
    Some(match status {
        0x0000 => "success",
        0x0001 => "invalid_command",
        0x0002 => "insufficient_memory",
        0x0003 => "incorrect_data",
        0x0064 => "invalid_session_handle",
        0x0065 => "invalid_length",
        0x0069 => "unsupported_protocol_version",
        0x006A => "encapsulated_cip_service_not_allowed",
        _ => return None,
    })
}

/// Common packet format item types (Wireshark `enip.cpf.typeid`).
pub mod item {
    pub const NULL_ADDRESS: u16 = 0x0000;
    pub const LIST_IDENTITY: u16 = 0x000C;
    pub const SECURITY_INFO: u16 = 0x0086;
    pub const CAPABILITY: u16 = 0x0087;
    pub const USAGE: u16 = 0x0088;
    pub const CONNECTED_ADDRESS: u16 = 0x00A1;
    pub const CONNECTED_DATA: u16 = 0x00B1;
    pub const UNCONNECTED_DATA: u16 = 0x00B2;
    pub const LIST_SERVICES: u16 = 0x0100;
    pub const SOCKADDR_O_T: u16 = 0x8000;
    pub const SOCKADDR_T_O: u16 = 0x8001;
    pub const SEQUENCED_ADDRESS: u16 = 0x8002;
    pub const UNCONNECTED_MESSAGE_DTLS: u16 = 0x8003;

    /// Whether the specification defines this item type.
    pub fn is_known(type_id: u16) -> bool {
        matches!(
            type_id,
            NULL_ADDRESS
                | LIST_IDENTITY
                | SECURITY_INFO
                | CAPABILITY
                | USAGE
                | CONNECTED_ADDRESS
                | CONNECTED_DATA
                | UNCONNECTED_DATA
                | LIST_SERVICES
                | SOCKADDR_O_T
                | SOCKADDR_T_O
                | SEQUENCED_ADDRESS
                | UNCONNECTED_MESSAGE_DTLS
        )
    }
}

/// CIP object classes this decoder treats specially or names.
pub mod class {
    pub const IDENTITY: u32 = 0x01;
    pub const MESSAGE_ROUTER: u32 = 0x02;
    pub const ASSEMBLY: u32 = 0x04;
    pub const CONNECTION: u32 = 0x05;
    pub const CONNECTION_MANAGER: u32 = 0x06;
    pub const FILE: u32 = 0x37;
    pub const PCCC: u32 = 0x67;
    /// Rockwell's Non-Volatile Storage object (vendor-specific range): the
    /// firmware images ControlFLASH replaces (publications 1203-5.13,
    /// 1404-UM001, 1444-UM001).
    pub const NVS: u32 = 0xA1;
    pub const SYMBOL: u32 = 0x6B;
    pub const TEMPLATE: u32 = 0x6C;
    pub const PORT: u32 = 0xF4;
    pub const TCP_IP: u32 = 0xF5;
    pub const ETHERNET_LINK: u32 = 0xF6;
}

/// The snake_case name of a CIP object class from the CIP common
/// specification's class code table (vendor-specific classes have none).
pub fn class_name(class: u32) -> Option<&'static str> {
    Some(match class {
        0x01 => "identity",
        0x02 => "message_router",
        0x03 => "devicenet",
        0x04 => "assembly",
        0x05 => "connection",
        0x06 => "connection_manager",
        0x07 => "register",
        0x08 => "discrete_input_point",
        0x09 => "discrete_output_point",
        0x0A => "analog_input_point",
        0x0B => "analog_output_point",
        0x0E => "presence_sensing",
        0x0F => "parameter",
        0x10 => "parameter_group",
        0x12 => "group",
        0x1D => "discrete_input_group",
        0x1E => "discrete_output_group",
        0x1F => "discrete_group",
        0x20 => "analog_input_group",
        0x21 => "analog_output_group",
        0x22 => "analog_group",
        0x23 => "position_sensor",
        0x24 => "position_controller_supervisor",
        0x25 => "position_controller",
        0x26 => "block_sequencer",
        0x27 => "command_block",
        0x28 => "motor_data",
        0x29 => "control_supervisor",
        0x2A => "ac_dc_drive",
        0x2B => "acknowledge_handler",
        0x2C => "overload",
        0x2D => "softstart",
        0x2E => "selection",
        0x30 => "s_device_supervisor",
        0x31 => "s_analog_sensor",
        0x32 => "s_analog_actor",
        0x33 => "s_single_stage_controller",
        0x34 => "s_gas_calibration",
        0x35 => "trip_point",
        0x37 => "file",
        0x38 => "s_partial_pressure",
        0x39 => "safety_supervisor",
        0x3A => "safety_validator",
        0x3B => "safety_discrete_output_point",
        0x3C => "safety_discrete_output_group",
        0x3D => "safety_discrete_input_point",
        0x3E => "safety_discrete_input_group",
        0x3F => "safety_dual_channel_output",
        0x40 => "s_sensor_calibration",
        0x41 => "event_log",
        0x42 => "motion_device_axis",
        0x43 => "time_sync",
        0x44 => "modbus",
        0x45 => "originator_connection_list",
        0x46 => "modbus_serial_link",
        0x47 => "device_level_ring",
        0x48 => "qos",
        0x49 => "safety_analog_input_point",
        0x4A => "safety_analog_input_group",
        0x4B => "safety_dual_channel_analog_input",
        0x4C => "sercos_iii_link",
        0x4D => "target_connection_list",
        0x4E => "base_energy",
        0x4F => "electrical_energy",
        0x50 => "non_electrical_energy",
        0x51 => "base_switch",
        0x52 => "snmp",
        0x53 => "power_management",
        0x54 => "rstp_bridge",
        0x55 => "rstp_port",
        0x56 => "parallel_redundancy_protocol",
        0x57 => "prp_nodes_table",
        0x58 => "safety_feedback",
        0x59 => "safety_dual_channel_feedback",
        0x5A => "safety_stop_functions",
        0x5B => "safety_limit_functions",
        0x5C => "power_curtailment",
        0x5D => "cip_security",
        0x5E => "ethernet_ip_security",
        0x5F => "certificate_management",
        0x67 => "pccc",
        0x6B => "symbol",
        0x6C => "template",
        0xF0 => "controlnet",
        0xF1 => "controlnet_keeper",
        0xF2 => "controlnet_scheduling",
        0xF3 => "connection_configuration",
        0xF4 => "port",
        0xF5 => "tcp_ip_interface",
        0xF6 => "ethernet_link",
        0xF7 => "componet_link",
        0xF8 => "componet_repeater",
        _ => return None,
    })
}

/// File object instances every CIP device may hold besides its own files:
/// the EDS file (0xC8) and its icon (0xC9), which configuration tools read
/// routinely.
pub mod file_instance {
    pub const EDS: u32 = 0xC8;
    pub const ICON: u32 = 0xC9;

    pub fn is_eds_or_icon(instance: Option<u32>) -> bool {
        matches!(instance, Some(EDS | ICON))
    }
}

/// A CIP service code without the response bit (Wireshark `cip.sc`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Service(pub u8);

impl Service {
    pub const RESPONSE_BIT: u8 = 0x80;

    pub const GET_ATTRIBUTES_ALL: Service = Service(0x01);
    pub const SET_ATTRIBUTES_ALL: Service = Service(0x02);
    pub const GET_ATTRIBUTE_LIST: Service = Service(0x03);
    pub const SET_ATTRIBUTE_LIST: Service = Service(0x04);
    pub const RESET: Service = Service(0x05);
    pub const START: Service = Service(0x06);
    pub const STOP: Service = Service(0x07);
    pub const CREATE: Service = Service(0x08);
    pub const DELETE: Service = Service(0x09);
    pub const MULTIPLE_SERVICE_PACKET: Service = Service(0x0A);
    pub const APPLY_ATTRIBUTES: Service = Service(0x0D);
    pub const GET_ATTRIBUTE_SINGLE: Service = Service(0x0E);
    pub const SET_ATTRIBUTE_SINGLE: Service = Service(0x10);
    pub const FIND_NEXT_OBJECT_INSTANCE: Service = Service(0x11);
    pub const ERROR_RESPONSE: Service = Service(0x14);
    pub const RESTORE: Service = Service(0x15);
    pub const SAVE: Service = Service(0x16);
    pub const NO_OPERATION: Service = Service(0x17);
    pub const GET_MEMBER: Service = Service(0x18);
    pub const SET_MEMBER: Service = Service(0x19);
    pub const INSERT_MEMBER: Service = Service(0x1A);
    pub const REMOVE_MEMBER: Service = Service(0x1B);
    pub const GROUP_SYNC: Service = Service(0x1C);

    // Connection Manager (class 0x06).
    pub const FORWARD_CLOSE: Service = Service(0x4E);
    pub const UNCONNECTED_SEND: Service = Service(0x52);
    pub const FORWARD_OPEN: Service = Service(0x54);
    pub const LARGE_FORWARD_OPEN: Service = Service(0x5B);

    /// Object-specific services start here: their meaning depends on the class.
    pub const FIRST_OBJECT_SPECIFIC: u8 = 0x4B;
}

/// What a request's path says about the object addressed, for naming
/// object-specific services.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Target {
    pub class: Option<u32>,
    pub instance: Option<u32>,
    /// The path names a tag (ANSI extended symbol segments).
    pub symbolic: bool,
}

impl Target {
    /// An instance of `class` addressed by a logical path.
    pub fn of_class(class: u32) -> Target {
        Target {
            class: Some(class),
            ..Target::default()
        }
    }
}

/// The object family that gives an object-specific service its meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    ConnectionManager,
    /// Logix tag services: Symbol and Template objects and symbolic paths.
    Logix,
    File,
    Pccc,
    /// Rockwell's Non-Volatile Storage object (firmware update).
    Nvs,
    Other,
}

impl Target {
    fn family(self) -> Family {
        match self.class {
            Some(class::CONNECTION_MANAGER) => Family::ConnectionManager,
            Some(class::FILE) => Family::File,
            Some(class::PCCC) => Family::Pccc,
            Some(class::NVS) => Family::Nvs,
            Some(class::SYMBOL | class::TEMPLATE) => Family::Logix,
            None if self.symbolic => Family::Logix,
            _ => Family::Other,
        }
    }
}

/// The function name and class of CIP service `service` on `target`; `None`
/// target means the request is unknown (an unpaired response), so an
/// object-specific code cannot be named.
pub fn describe_service(service: Service, target: Option<Target>) -> (&'static str, FunctionClass) {
    use FunctionClass::*;
    let common = match service.0 {
        0x01 => Some(("get_attributes_all", Read)),
        0x02 => Some(("set_attributes_all", Write)),
        0x03 => Some(("get_attribute_list", Read)),
        0x04 => Some(("set_attribute_list", Write)),
        0x05 => Some(("reset", Control)),
        0x06 => Some(("start", Control)),
        0x07 => Some(("stop", Control)),
        0x08 => Some(("create", Write)),
        0x09 => Some(("delete", Write)),
        0x0A => Some(("multiple_service_packet", Other)),
        0x0D => Some(("apply_attributes", Write)),
        0x0E => Some(("get_attribute_single", Read)),
        0x10 => Some(("set_attribute_single", Write)),
        0x11 => Some(("find_next_object_instance", Discovery)),
        0x14 => Some(("error_response", Other)),
        0x15 => Some(("restore", Write)),
        0x16 => Some(("save", Write)),
        0x17 => Some(("no_operation", Session)),
        0x18 => Some(("get_member", Read)),
        0x19 => Some(("set_member", Write)),
        0x1A => Some(("insert_member", Write)),
        0x1B => Some(("remove_member", Write)),
        0x1C => Some(("group_sync", Control)),
        _ => None,
    };
    if let Some(named) = common {
        return named;
    }
    if service.0 < Service::FIRST_OBJECT_SPECIFIC {
        return ("reserved", Other);
    }
    let Some(target) = target else {
        return ("object_specific", Other);
    };
    let specific = match (target.family(), service.0) {
        (Family::ConnectionManager, 0x4E) => Some(("forward_close", Session)),
        (Family::ConnectionManager, 0x52) => Some(("unconnected_send", Other)),
        (Family::ConnectionManager, 0x54) => Some(("forward_open", Session)),
        (Family::ConnectionManager, 0x56) => Some(("get_connection_data", Diagnostic)),
        (Family::ConnectionManager, 0x57) => Some(("search_connection_data", Diagnostic)),
        (Family::ConnectionManager, 0x5A) => Some(("get_connection_owner", Diagnostic)),
        (Family::ConnectionManager, 0x5B) => Some(("large_forward_open", Session)),
        (Family::Logix, 0x4C) => Some(("read_tag", Read)),
        (Family::Logix, 0x4D) => Some(("write_tag", Write)),
        (Family::Logix, 0x4E) => Some(("read_modify_write_tag", Write)),
        (Family::Logix, 0x52) => Some(("read_tag_fragmented", Read)),
        (Family::Logix, 0x53) => Some(("write_tag_fragmented", Write)),
        (Family::Logix, 0x55) => Some(("get_instance_attribute_list", Read)),
        (Family::File, 0x4B) => Some(("initiate_upload", file_read(target))),
        (Family::File, 0x4C) => Some(("initiate_download", Program)),
        (Family::File, 0x4D) => Some(("initiate_partial_read", file_read(target))),
        (Family::File, 0x4E) => Some(("initiate_partial_write", Program)),
        (Family::File, 0x4F) => Some(("upload_transfer", file_read(target))),
        (Family::File, 0x50) => Some(("download_transfer", Program)),
        (Family::File, 0x51) => Some(("clear_file", Program)),
        (Family::Pccc, 0x4B) => Some(("execute_pccc", Other)),
        // ControlFLASH: Update starts a firmware update, Transfer carries
        // the new image chunk by chunk.
        (Family::Nvs, 0x4B) => Some(("nvs_update", Firmware)),
        (Family::Nvs, 0x4D) => Some(("nvs_transfer", Firmware)),
        _ => None,
    };
    specific.unwrap_or(("object_specific", Other))
}

/// Reading a file from a device moves logic out of it, except the EDS file
/// and its icon, which tools read to learn what the device is.
fn file_read(target: Target) -> FunctionClass {
    if file_instance::is_eds_or_icon(target.instance) {
        FunctionClass::Discovery
    } else {
        FunctionClass::Program
    }
}

/// CIP general status (Wireshark `cip.genstat`), by name.
pub fn general_status_name(status: u8) -> Option<&'static str> {
    Some(match status {
        0x00 => "success",
        0x01 => "connection_failure",
        0x02 => "resource_unavailable",
        0x03 => "invalid_parameter_value",
        0x04 => "path_segment_error",
        0x05 => "path_destination_unknown",
        0x06 => "partial_transfer",
        0x07 => "connection_lost",
        0x08 => "service_not_supported",
        0x09 => "invalid_attribute_value",
        0x0A => "attribute_list_error",
        0x0B => "already_in_requested_mode",
        0x0C => "object_state_conflict",
        0x0D => "object_already_exists",
        0x0E => "attribute_not_settable",
        0x0F => "privilege_violation",
        0x10 => "device_state_conflict",
        0x11 => "reply_data_too_large",
        0x12 => "fragmentation_of_a_primitive_value",
        0x13 => "not_enough_data",
        0x14 => "attribute_not_supported",
        0x15 => "too_much_data",
        0x16 => "object_does_not_exist",
        0x17 => "service_fragmentation_sequence_not_in_progress",
        0x18 => "no_stored_attribute_data",
        0x19 => "store_operation_failure",
        0x1A => "routing_failure_request_too_large",
        0x1B => "routing_failure_response_too_large",
        0x1C => "missing_attribute_list_entry_data",
        0x1D => "invalid_attribute_value_list",
        0x1E => "embedded_service_error",
        0x1F => "vendor_specific_error",
        0x20 => "invalid_parameter",
        0x21 => "write_once_value_already_written",
        0x22 => "invalid_reply_received",
        0x23 => "buffer_overflow",
        0x24 => "message_format_error",
        0x25 => "key_failure_in_path",
        0x26 => "path_size_invalid",
        0x27 => "unexpected_attribute_in_list",
        0x28 => "invalid_member_id",
        0x29 => "member_not_settable",
        0x2A => "group_2_only_server_general_failure",
        0x2B => "unknown_modbus_error",
        0x2C => "attribute_not_gettable",
        _ => return None,
    })
}

/// CIP device profile (Identity object attribute 2, ListIdentity device
/// type), by the profile names of the CIP common specification.
pub fn device_type_name(device_type: u16) -> Option<&'static str> {
    Some(match device_type {
        0x00 => "Generic Device (deprecated)",
        0x02 => "AC Drive",
        0x03 => "Motor Overload",
        0x04 => "Limit Switch",
        0x05 => "Inductive Proximity Switch",
        0x06 => "Photoelectric Sensor",
        0x07 => "General Purpose Discrete I/O",
        0x09 => "Resolver",
        0x0C => "Communications Adapter",
        0x0E => "Programmable Logic Controller",
        0x10 => "Position Controller",
        0x13 => "DC Drive",
        0x15 => "Contactor",
        0x16 => "Motor Starter",
        0x17 => "Soft Start",
        0x18 => "Human-Machine Interface",
        0x1A => "Mass Flow Controller",
        0x1B => "Pneumatic Valve",
        0x1C => "Vacuum Pressure Gauge",
        0x1D => "Process Control Value",
        0x1E => "Residual Gas Analyzer",
        0x1F => "DC Power Generator",
        0x20 => "RF Power Generator",
        0x21 => "Turbomolecular Vacuum Pump",
        0x22 => "Encoder",
        0x23 => "Safety Discrete I/O Device",
        0x24 => "Fluid Flow Controller",
        0x25 => "CIP Motion Drive",
        0x26 => "CompoNet Repeater",
        0x27 => "Mass Flow Controller, Enhanced",
        0x28 => "CIP Modbus Device",
        0x29 => "CIP Modbus Translator",
        0x2A => "Safety Analog I/O Device",
        0x2B => "Generic Device (keyable)",
        0x2C => "Managed Switch",
        0x2D => "CIP Motion Safety Drive Device",
        0x2E => "Safety Drive Device",
        0x2F => "CIP Motion Encoder",
        0x30 => "CIP Motion Converter",
        0x31 => "CIP Motion I/O",
        0x32 => "ControlNet Physical Layer Component",
        0xC8 => "Embedded Component",
        _ => return None,
    })
}

/// Size in bytes of the value of a Get/Set_Attribute_List entry, where it is
/// fixed and known: the Identity object's attributes, and the class
/// attributes (instance 0) every object shares. `None` ends a walk through
/// an attribute list, since what follows cannot be located.
pub fn attribute_size(class: Option<u32>, instance: Option<u32>, attribute: u16) -> Option<usize> {
    match (class, instance, attribute) {
        // Class attributes: revision, max instance, number of instances,
        // max class/instance attribute ids.
        (Some(_), Some(0), 1 | 2 | 3 | 6 | 7) => Some(2),
        // Identity: vendor id, device type, product code, revision, status,
        // serial number; state; configuration consistency; heartbeat;
        // protection mode.
        (Some(class::IDENTITY), Some(_), 1..=5) => Some(2),
        (Some(class::IDENTITY), Some(_), 6) => Some(4),
        (Some(class::IDENTITY), Some(_), 8 | 10) => Some(1),
        (Some(class::IDENTITY), Some(_), 9 | 19) => Some(2),
        _ => None,
    }
}
