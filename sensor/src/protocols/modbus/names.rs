//! Modbus code values as open newtypes (a value nobody has named still
//! parses and is reported), with their stable snake_case names and the
//! function class policy uses.
//!
//! Public function codes, exception codes and diagnostic sub-functions follow
//! the MODBUS Application Protocol Specification V1.1b3. UMAS (Schneider
//! Electric, function code 90) codes follow Wireshark's `packet-mbtcp.h`,
//! completed from the public UMAS research dissectors (Kaspersky ICS CERT
//! 2022, Black Hat Europe 2024); those marked "research" have one public
//! source only.

use crate::event::FunctionClass;

/// A Modbus function code as on the wire, exception bit included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FunctionCode(pub u8);

impl FunctionCode {
    pub const READ_COILS: FunctionCode = FunctionCode(1);
    pub const READ_DISCRETE_INPUTS: FunctionCode = FunctionCode(2);
    pub const READ_HOLDING_REGISTERS: FunctionCode = FunctionCode(3);
    pub const READ_INPUT_REGISTERS: FunctionCode = FunctionCode(4);
    pub const WRITE_SINGLE_COIL: FunctionCode = FunctionCode(5);
    pub const WRITE_SINGLE_REGISTER: FunctionCode = FunctionCode(6);
    pub const READ_EXCEPTION_STATUS: FunctionCode = FunctionCode(7);
    pub const DIAGNOSTICS: FunctionCode = FunctionCode(8);
    pub const GET_COMM_EVENT_COUNTER: FunctionCode = FunctionCode(11);
    pub const GET_COMM_EVENT_LOG: FunctionCode = FunctionCode(12);
    pub const WRITE_MULTIPLE_COILS: FunctionCode = FunctionCode(15);
    pub const WRITE_MULTIPLE_REGISTERS: FunctionCode = FunctionCode(16);
    pub const REPORT_SERVER_ID: FunctionCode = FunctionCode(17);
    pub const READ_FILE_RECORD: FunctionCode = FunctionCode(20);
    pub const WRITE_FILE_RECORD: FunctionCode = FunctionCode(21);
    pub const MASK_WRITE_REGISTER: FunctionCode = FunctionCode(22);
    pub const READ_WRITE_MULTIPLE_REGISTERS: FunctionCode = FunctionCode(23);
    pub const READ_FIFO_QUEUE: FunctionCode = FunctionCode(24);
    pub const ENCAPSULATED_INTERFACE_TRANSPORT: FunctionCode = FunctionCode(43);
    /// Schneider Electric UMAS, carried in the code the spec reserves for it.
    pub const UMAS: FunctionCode = FunctionCode(90);

    /// Set in a response's function code when it reports an exception.
    pub const EXCEPTION_BIT: u8 = 0x80;

    /// The code without the exception bit (Wireshark's `modbus.func_code`).
    pub fn code(self) -> u8 {
        self.0 & !Self::EXCEPTION_BIT
    }

    pub fn is_exception(self) -> bool {
        self.0 & Self::EXCEPTION_BIT != 0
    }

    pub fn kind(self) -> CodeKind {
        match self.code() {
            1..=8 | 11 | 12 | 15..=17 | 20..=24 | 43 => CodeKind::Public,
            90 => CodeKind::Umas,
            65..=72 | 100..=110 => CodeKind::UserDefined,
            // Reserved by the spec for legacy products (subcodes of 8 aside).
            9 | 10 | 13 | 14 | 41 | 42 | 91 | 125..=127 => CodeKind::Reserved,
            _ => CodeKind::Unknown,
        }
    }

    /// The name of a function that needs no sub-code to be named (FC 43 is
    /// refined by its MEI type, FC 90 by its UMAS function).
    pub fn name(self) -> &'static str {
        match self.code() {
            1 => "read_coils",
            2 => "read_discrete_inputs",
            3 => "read_holding_registers",
            4 => "read_input_registers",
            5 => "write_single_coil",
            6 => "write_single_register",
            7 => "read_exception_status",
            8 => "diagnostics",
            11 => "get_comm_event_counter",
            12 => "get_comm_event_log",
            15 => "write_multiple_coils",
            16 => "write_multiple_registers",
            17 => "report_server_id",
            20 => "read_file_record",
            21 => "write_file_record",
            22 => "mask_write_register",
            23 => "read_write_multiple_registers",
            24 => "read_fifo_queue",
            43 => "encapsulated_interface_transport",
            90 => "umas",
            _ => match self.kind() {
                CodeKind::UserDefined => "user_defined",
                CodeKind::Reserved => "reserved",
                _ => "unknown",
            },
        }
    }
}

/// Where a function code stands in the spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeKind {
    /// Publicly documented, with a structure we validate.
    Public,
    /// Function code 90, Schneider Electric UMAS.
    Umas,
    /// 65–72 and 100–110: left to vendors by the spec.
    UserDefined,
    /// Reserved by the spec (9, 10, 13, 14, 41, 42, 91, 125–127).
    Reserved,
    /// Not assigned (0 included).
    Unknown,
}

/// An exception code of an exception response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExceptionCode(pub u8);

impl ExceptionCode {
    pub const ILLEGAL_FUNCTION: ExceptionCode = ExceptionCode(0x01);
    pub const ILLEGAL_DATA_ADDRESS: ExceptionCode = ExceptionCode(0x02);
    pub const ILLEGAL_DATA_VALUE: ExceptionCode = ExceptionCode(0x03);
    pub const SERVER_DEVICE_FAILURE: ExceptionCode = ExceptionCode(0x04);
    pub const ACKNOWLEDGE: ExceptionCode = ExceptionCode(0x05);
    pub const SERVER_DEVICE_BUSY: ExceptionCode = ExceptionCode(0x06);
    /// Modicon PI-MBUS-300 (legacy); no longer in V1.1b3.
    pub const NEGATIVE_ACKNOWLEDGE: ExceptionCode = ExceptionCode(0x07);
    pub const MEMORY_PARITY_ERROR: ExceptionCode = ExceptionCode(0x08);
    pub const GATEWAY_PATH_UNAVAILABLE: ExceptionCode = ExceptionCode(0x0A);
    pub const GATEWAY_TARGET_FAILED: ExceptionCode = ExceptionCode(0x0B);

    /// The code's name, or `None` for a code nobody defined.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x01 => "illegal_function",
            0x02 => "illegal_data_address",
            0x03 => "illegal_data_value",
            0x04 => "server_device_failure",
            0x05 => "acknowledge",
            0x06 => "server_device_busy",
            0x07 => "negative_acknowledge",
            0x08 => "memory_parity_error",
            0x0A => "gateway_path_unavailable",
            0x0B => "gateway_target_device_failed_to_respond",
            _ => return None,
        })
    }
}

/// A sub-function of FC 8, Diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DiagnosticSubFunction(pub u16);

impl DiagnosticSubFunction {
    pub const RETURN_QUERY_DATA: DiagnosticSubFunction = DiagnosticSubFunction(0x00);
    pub const RESTART_COMMUNICATIONS: DiagnosticSubFunction = DiagnosticSubFunction(0x01);
    pub const FORCE_LISTEN_ONLY_MODE: DiagnosticSubFunction = DiagnosticSubFunction(0x04);

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x00 => "return_query_data",
            0x01 => "restart_communications",
            0x02 => "return_diagnostic_register",
            0x03 => "change_ascii_input_delimiter",
            0x04 => "force_listen_only_mode",
            0x0A => "clear_counters_and_diagnostic_register",
            0x0B => "return_bus_message_count",
            0x0C => "return_bus_communication_error_count",
            0x0D => "return_bus_exception_error_count",
            0x0E => "return_server_message_count",
            0x0F => "return_server_no_response_count",
            0x10 => "return_server_nak_count",
            0x11 => "return_server_busy_count",
            0x12 => "return_bus_character_overrun_count",
            // Modbus Plus only (Modicon legacy), reserved in V1.1b3.
            0x13 => "return_iop_overrun_count",
            0x14 => "clear_overrun_counter_and_flag",
            // Modbus Plus only (Modicon legacy), reserved in V1.1b3.
            0x15 => "get_clear_modbus_plus_statistics",
            _ => return None,
        })
    }

    /// Sub-functions that change the device's state rather than report it.
    pub fn is_control(self) -> bool {
        self == Self::RESTART_COMMUNICATIONS || self == Self::FORCE_LISTEN_ONLY_MODE
    }
}

/// The MEI type of FC 43, Encapsulated Interface Transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MeiType(pub u8);

impl MeiType {
    pub const CANOPEN_GENERAL_REFERENCE: MeiType = MeiType(13);
    pub const READ_DEVICE_IDENTIFICATION: MeiType = MeiType(14);

    pub fn name(self) -> Option<&'static str> {
        match self {
            Self::CANOPEN_GENERAL_REFERENCE => Some("canopen_general_reference"),
            Self::READ_DEVICE_IDENTIFICATION => Some("read_device_identification"),
            _ => None,
        }
    }
}

/// A UMAS function code (the byte after the session key in a request).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UmasFunction(pub u8);

impl UmasFunction {
    pub const INIT_COMM: UmasFunction = UmasFunction(0x01);
    pub const READ_ID: UmasFunction = UmasFunction(0x02);
    pub const READ_PROJECT_INFO: UmasFunction = UmasFunction(0x03);
    pub const READ_PLC_INFO: UmasFunction = UmasFunction(0x04);
    pub const READ_CARD_INFO: UmasFunction = UmasFunction(0x06);
    pub const REPEAT: UmasFunction = UmasFunction(0x0A);
    pub const TAKE_PLC_RESERVATION: UmasFunction = UmasFunction(0x10);
    pub const RELEASE_PLC_RESERVATION: UmasFunction = UmasFunction(0x11);
    pub const KEEP_ALIVE: UmasFunction = UmasFunction(0x12);
    pub const READ_MEMORY_BLOCK: UmasFunction = UmasFunction(0x20);
    pub const WRITE_MEMORY_BLOCK: UmasFunction = UmasFunction(0x21);
    pub const READ_VARIABLES: UmasFunction = UmasFunction(0x22);
    pub const WRITE_VARIABLES: UmasFunction = UmasFunction(0x23);
    pub const READ_COILS_REGISTERS: UmasFunction = UmasFunction(0x24);
    pub const WRITE_COILS_REGISTERS: UmasFunction = UmasFunction(0x25);
    pub const INITIALIZE_UPLOAD: UmasFunction = UmasFunction(0x30);
    pub const UPLOAD_BLOCK: UmasFunction = UmasFunction(0x31);
    pub const END_STRATEGY_UPLOAD: UmasFunction = UmasFunction(0x32);
    pub const INITIALIZE_DOWNLOAD: UmasFunction = UmasFunction(0x33);
    pub const DOWNLOAD_BLOCK: UmasFunction = UmasFunction(0x34);
    pub const END_STRATEGY_DOWNLOAD: UmasFunction = UmasFunction(0x35);
    /// A request wrapped with a 32-byte signature (research).
    pub const SIGNED_REQUEST: UmasFunction = UmasFunction(0x38);
    pub const START_PLC: UmasFunction = UmasFunction(0x40);
    pub const STOP_PLC: UmasFunction = UmasFunction(0x41);
    pub const MONITOR_PLC: UmasFunction = UmasFunction(0x50);
    pub const CHECK_PLC: UmasFunction = UmasFunction(0x58);

    /// Response status byte: success.
    pub const RESPONSE_OK: u8 = 0xFE;
    /// Response status byte: error.
    pub const RESPONSE_ERROR: u8 = 0xFD;

    /// Name and class, or `None` for a code nobody documented.
    pub fn describe(self) -> Option<(&'static str, FunctionClass)> {
        use FunctionClass::*;
        Some(match self.0 {
            0x01 => ("init_comm", Session),
            0x02 => ("read_id", Discovery),
            0x03 => ("read_project_info", Discovery),
            0x04 => ("read_plc_info", Discovery),
            0x05 => ("read_loader_info", Discovery), // research
            0x06 => ("read_card_info", Discovery),
            0x07 => ("read_block_info", Discovery), // research
            0x0A => ("repeat", Session),
            0x10 => ("take_plc_reservation", Session),
            0x11 => ("release_plc_reservation", Session),
            0x12 => ("keep_alive", Session),
            0x20 => ("read_memory_block", Read),
            0x21 => ("write_memory_block", Write), // research
            0x22 => ("read_variables", Read),
            0x23 => ("write_variables", Write),
            0x24 => ("read_coils_registers", Read),
            0x25 => ("write_coils_registers", Write),
            0x26 => ("data_dictionary", Discovery),
            0x27 => ("data_dictionary_preload", Discovery), // research
            0x28 => ("read_physical_address", Read),        // research
            0x29 => ("write_physical_address", Write),      // research
            0x2A => ("browse_events", Diagnostic),          // research
            // UMAS "upload" copies the program from the engineering
            // station to the PLC, "download" from the PLC: both move logic.
            0x30 => ("initialize_upload", Program),
            0x31 => ("upload_block", Program),
            0x32 => ("end_strategy_upload", Program),
            0x33 => ("initialize_download", Program),
            0x34 => ("download_block", Program),
            0x35 => ("end_strategy_download", Program),
            0x36 => ("backup", Program),         // research
            0x37 => ("preload_blocks", Program), // research
            0x38 => ("signed_request", Session), // research
            0x39 => ("read_ethernet_master_data", Read),
            0x40 => ("start_plc", Control),
            0x41 => ("stop_plc", Control),
            0x42 => ("init_plc", Control),    // research
            0x43 => ("swap_blocks", Program), // research
            0x50 => ("monitor_plc", Diagnostic),
            0x51 => ("get_auto_modifications", Diagnostic), // research
            0x52 => ("get_forced_bits", Diagnostic),        // research
            0x53 => ("get_selected_blocks", Diagnostic),    // research
            0x58 => ("check_plc", Diagnostic),
            // Breakpoints and stepping halt the running program.
            0x60 => ("set_breakpoint", Control),    // research
            0x61 => ("delete_breakpoint", Control), // research
            0x62 => ("step_over", Control),         // research
            0x63 => ("step_in", Control),           // research
            0x64 => ("step_out", Control),          // research
            0x65 => ("get_call_stack", Diagnostic), // research
            0x66 => ("check_debug_allowed", Diagnostic), // research
            0x6C => ("process_message", Other),     // research
            0x6D => ("private_message", Other),     // research
            0x6E => ("reservation_nonces", Session), // research
            0x70 => ("read_io_object", Read),
            0x71 => ("write_io_object", Write),
            0x72 => ("read_rack", Discovery), // research
            0x73 => ("get_status_module", Diagnostic),
            0x74 => ("read_device_data", Read), // research
            _ => return None,
        })
    }

    pub fn name(self) -> Option<&'static str> {
        self.describe().map(|(name, _)| name)
    }
}

/// Basic and regular object ids of Read Device Identification (MEI 14).
pub fn device_object_name(id: u8) -> Option<&'static str> {
    Some(match id {
        0x00 => "vendor_name",
        0x01 => "product_code",
        0x02 => "major_minor_revision",
        0x03 => "vendor_url",
        0x04 => "product_name",
        0x05 => "model_name",
        0x06 => "user_application_name",
        _ => return None,
    })
}

/// What the sub-codes of a PDU tell about its function.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SubCodes {
    pub sub_function: Option<u16>,
    pub mei_type: Option<u8>,
    pub umas_function: Option<u8>,
}

/// The stable name and class of a function code refined by its sub-codes.
pub fn describe(fc: FunctionCode, sub: SubCodes) -> (&'static str, FunctionClass) {
    use FunctionClass::*;
    let name = fc.name();
    let class = match fc.code() {
        1..=4 | 20 | 24 => Read,
        5 | 6 | 15 | 16 | 21..=23 => Write,
        8 => match sub.sub_function {
            Some(s) if DiagnosticSubFunction(s).is_control() => Control,
            _ => Diagnostic,
        },
        7 | 11 | 12 => Diagnostic,
        17 => Discovery,
        43 => match sub.mei_type.map(MeiType) {
            Some(MeiType::READ_DEVICE_IDENTIFICATION) => {
                return ("read_device_identification", Discovery);
            }
            Some(MeiType::CANOPEN_GENERAL_REFERENCE) => {
                return ("canopen_general_reference", Other);
            }
            _ => Other,
        },
        90 => match sub.umas_function.and_then(|u| UmasFunction(u).describe()) {
            Some((_, class)) => class,
            None => Other,
        },
        _ => Other,
    };
    (name, class)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_kinds_follow_the_spec() {
        assert_eq!(FunctionCode(3).kind(), CodeKind::Public);
        assert_eq!(FunctionCode(0x83).kind(), CodeKind::Public);
        assert_eq!(FunctionCode(90).kind(), CodeKind::Umas);
        assert_eq!(FunctionCode(66).kind(), CodeKind::UserDefined);
        assert_eq!(FunctionCode(105).kind(), CodeKind::UserDefined);
        assert_eq!(FunctionCode(126).kind(), CodeKind::Reserved);
        assert_eq!(FunctionCode(0).kind(), CodeKind::Unknown);
        assert_eq!(FunctionCode(30).kind(), CodeKind::Unknown);
        assert_eq!(FunctionCode(66).name(), "user_defined");
        assert_eq!(FunctionCode(9).name(), "reserved");
        assert_eq!(FunctionCode(0).name(), "unknown");
    }

    #[test]
    fn classes_refined_by_sub_codes() {
        let none = SubCodes::default();
        assert_eq!(describe(FunctionCode(3), none).1, FunctionClass::Read);
        assert_eq!(describe(FunctionCode(23), none).1, FunctionClass::Write);
        let restart = SubCodes {
            sub_function: Some(1),
            ..none
        };
        assert_eq!(describe(FunctionCode(8), restart).1, FunctionClass::Control);
        assert_eq!(describe(FunctionCode(8), none).1, FunctionClass::Diagnostic);
        let rdi = SubCodes {
            mei_type: Some(14),
            ..none
        };
        assert_eq!(
            describe(FunctionCode(43), rdi),
            ("read_device_identification", FunctionClass::Discovery)
        );
        let stop = SubCodes {
            umas_function: Some(0x41),
            ..none
        };
        assert_eq!(
            describe(FunctionCode(90), stop),
            ("umas", FunctionClass::Control)
        );
        let download = SubCodes {
            umas_function: Some(0x34),
            ..none
        };
        assert_eq!(
            describe(FunctionCode(90), download).1,
            FunctionClass::Program
        );
    }
}
