//! S7comm code values as open newtypes (an unnamed value still parses and is
//! reported), with their stable snake_case names and the function class
//! policy uses. Values and their meaning follow the public S7comm
//! descriptions (Wireshark's `packet-s7comm.c`, snap7's documentation);
//! names and classes are this sensor's.

use crate::event::FunctionClass;

/// ROSCTR: the PDU type in the S7comm header (Wireshark `s7comm.header.rosctr`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rosctr(pub u8);

impl Rosctr {
    pub const JOB: Rosctr = Rosctr(1);
    pub const ACK: Rosctr = Rosctr(2);
    pub const ACK_DATA: Rosctr = Rosctr(3);
    pub const USERDATA: Rosctr = Rosctr(7);

    pub fn name(self) -> &'static str {
        match self {
            Rosctr::JOB => "job",
            Rosctr::ACK => "ack",
            Rosctr::ACK_DATA => "ack_data",
            Rosctr::USERDATA => "userdata",
            _ => "unknown",
        }
    }

    /// ACK and ACK_DATA carry an error class and code in a 12-octet header.
    pub fn has_error_field(self) -> bool {
        matches!(self, Rosctr::ACK | Rosctr::ACK_DATA)
    }

    pub fn is_known(self) -> bool {
        matches!(
            self,
            Rosctr::JOB | Rosctr::ACK | Rosctr::ACK_DATA | Rosctr::USERDATA
        )
    }
}

/// Function code of a job / ack_data parameter (Wireshark `s7comm.param.func`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Function(pub u8);

impl Function {
    pub const CPU_SERVICES: Function = Function(0x00);
    pub const READ_VAR: Function = Function(0x04);
    pub const WRITE_VAR: Function = Function(0x05);
    pub const REQUEST_DOWNLOAD: Function = Function(0x1a);
    pub const DOWNLOAD_BLOCK: Function = Function(0x1b);
    pub const DOWNLOAD_ENDED: Function = Function(0x1c);
    pub const START_UPLOAD: Function = Function(0x1d);
    pub const UPLOAD: Function = Function(0x1e);
    pub const END_UPLOAD: Function = Function(0x1f);
    /// PI service (program invocation): start, compress, copy RAM to ROM,
    /// insert or delete blocks… Wireshark calls it "PI-Service".
    pub const PLC_CONTROL: Function = Function(0x28);
    pub const PLC_STOP: Function = Function(0x29);
    pub const SETUP_COMMUNICATION: Function = Function(0xf0);

    /// Stable name and class; `None` for a code nobody has described.
    pub fn describe(self) -> Option<(&'static str, FunctionClass)> {
        use FunctionClass::*;
        Some(match self {
            Function::CPU_SERVICES => ("cpu_services", Other),
            Function::READ_VAR => ("read_var", Read),
            Function::WRITE_VAR => ("write_var", Write),
            Function::REQUEST_DOWNLOAD => ("request_download", Program),
            Function::DOWNLOAD_BLOCK => ("download_block", Program),
            Function::DOWNLOAD_ENDED => ("download_ended", Program),
            Function::START_UPLOAD => ("start_upload", Program),
            Function::UPLOAD => ("upload", Program),
            Function::END_UPLOAD => ("end_upload", Program),
            Function::PLC_CONTROL => ("plc_control", Control),
            Function::PLC_STOP => ("plc_stop", Control),
            Function::SETUP_COMMUNICATION => ("setup_communication", Session),
            _ => return None,
        })
    }
}

/// Memory area of an S7ANY item (Wireshark `s7comm.param.item.area`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Area(pub u8);

impl Area {
    pub const COUNTER: Area = Area(0x1c);
    pub const TIMER: Area = Area(0x1d);
    pub const COUNTER_200: Area = Area(0x1e);
    pub const TIMER_200: Area = Area(0x1f);
    pub const DB: Area = Area(0x84);

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x01 => "data_record",
            0x03 => "system_info_200",
            0x05 => "system_flags_200",
            0x06 => "analog_inputs_200",
            0x07 => "analog_outputs_200",
            0x1c => "counter",
            0x1d => "timer",
            0x1e => "iec_counter_200",
            0x1f => "iec_timer_200",
            0x80 => "peripheral",
            0x81 => "inputs",
            0x82 => "outputs",
            0x83 => "flags",
            0x84 => "db",
            0x85 => "instance_db",
            0x86 => "local",
            0x87 => "previous_local",
            _ => return None,
        })
    }

    /// Timers and counters are addressed by number, not byte and bit.
    pub fn is_numbered(self) -> bool {
        matches!(
            self,
            Area::COUNTER | Area::TIMER | Area::COUNTER_200 | Area::TIMER_200
        )
    }
}

/// Syntax id of a variable specification (Wireshark `s7comm.param.item.syntaxid`).
pub mod syntax_id {
    pub const S7ANY: u8 = 0x10;
    pub const NCK: u8 = 0x82;
    pub const DBREAD: u8 = 0xb0;
    pub const SYM_1200: u8 = 0xb2;
}

/// Block type as its two ASCII characters in file names and block functions.
pub fn block_type_name(code: [u8; 2]) -> Option<&'static str> {
    Some(match &code {
        b"08" => "OB",
        b"09" => "CMod",
        b"0A" => "DB",
        b"0B" => "SDB",
        b"0C" => "FC",
        b"0D" => "SFC",
        b"0E" => "FB",
        b"0F" => "SFB",
        _ => return None,
    })
}

/// Userdata function groups (Wireshark `s7comm.param.userdata.funcgroup`).
pub mod group {
    pub const MODE_TRANSITION: u8 = 0x0;
    pub const PROGRAMMER: u8 = 0x1;
    pub const CYCLIC: u8 = 0x2;
    pub const BLOCK: u8 = 0x3;
    pub const CPU: u8 = 0x4;
    pub const SECURITY: u8 = 0x5;
    pub const PBC: u8 = 0x6;
    pub const TIME: u8 = 0x7;
    pub const NC_PROGRAMMING: u8 = 0xf;
}

/// Userdata types (Wireshark `s7comm.param.userdata.type`).
pub mod ud_type {
    pub const PUSH: u8 = 0x0;
    pub const REQUEST: u8 = 0x4;
    pub const RESPONSE: u8 = 0x8;
}

/// Sub-functions named in the code.
pub mod subfunction {
    pub const READ_SZL: u8 = 0x01;
    pub const GET_BLOCK_INFO: u8 = 0x03;
    pub const LIST_BLOCKS_OF_TYPE: u8 = 0x02;
    pub const CYCLIC_TRANSFER: u8 = 0x01;
    pub const CHANGE_DRIVEN_TRANSFER: u8 = 0x05;
    pub const CHANGE_DRIVEN_TRANSFER_MODIFY: u8 = 0x07;
    pub const READ_CLOCK: u8 = 0x01;
    pub const SET_CLOCK: u8 = 0x02;
    pub const READ_CLOCK_FOLLOWING: u8 = 0x03;
    pub const SET_CLOCK_2: u8 = 0x04;
}

/// What a userdata function group and sub-function name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserdataFunction {
    pub name: &'static str,
    pub class: FunctionClass,
    /// The group is known but this sub-function is not.
    pub unknown_subfunction: bool,
    /// The group itself is not known.
    pub unknown_group: bool,
}

/// Names a userdata function. Classes: SZL reads, variable status, cyclic data,
/// clock reads and alarm queries are `read`; modify variable is `write`;
/// force, breakpoints, exit HOLD, alarm acknowledge/lock and clock setting are
/// `control`; memory reset and NC program transfer are `program`; block
/// listing and block information are `discovery`; password functions are
/// `session`; other test functions, mode transitions and indications are
/// `diagnostic`.
pub fn userdata_function(group: u8, subfunction: u8) -> UserdataFunction {
    use FunctionClass::*;
    let known = |name, class| UserdataFunction {
        name,
        class,
        unknown_subfunction: false,
        unknown_group: false,
    };
    let unknown_sub = |name, class| UserdataFunction {
        name,
        class,
        unknown_subfunction: true,
        unknown_group: false,
    };
    match group {
        // The sub-function is the CPU's new mode; every value is a mode.
        group::MODE_TRANSITION => known("mode_transition", Diagnostic),
        group::PROGRAMMER => match subfunction {
            0x01 => known("block_status", Diagnostic),
            0x02 => known("variable_status", Read),
            0x03 => known("output_istack", Diagnostic),
            0x04 => known("output_bstack", Diagnostic),
            0x05 => known("output_lstack", Diagnostic),
            0x06 => known("time_measurement", Diagnostic),
            0x07 => known("force_selection", Diagnostic),
            0x08 => known("modify_variable", Write),
            0x09 => known("force", Control),
            0x0a => known("breakpoint", Control),
            0x0b => known("exit_hold", Control),
            0x0c => known("memory_reset", Program),
            0x0d => known("disable_job", Diagnostic),
            0x0e => known("enable_job", Diagnostic),
            0x0f => known("delete_job", Diagnostic),
            0x10 => known("read_job_list", Diagnostic),
            0x11 => known("read_job", Diagnostic),
            0x12 => known("replace_job", Diagnostic),
            0x13 => known("block_status_v2", Diagnostic),
            0x16 => known("flash_led", Diagnostic),
            _ => unknown_sub("programmer_command", Diagnostic),
        },
        group::CYCLIC => match subfunction {
            0x01 => known("cyclic_transfer", Read),
            0x04 => known("cyclic_unsubscribe", Read),
            0x05 => known("change_driven_transfer", Read),
            0x07 => known("change_driven_transfer_modify", Read),
            0x08 => known("read_record", Read),
            _ => unknown_sub("cyclic_data", Read),
        },
        group::BLOCK => match subfunction {
            0x01 => known("list_blocks", Discovery),
            0x02 => known("list_blocks_of_type", Discovery),
            0x03 => known("get_block_info", Discovery),
            _ => unknown_sub("block_function", Discovery),
        },
        group::CPU => match subfunction {
            0x01 => known("read_szl", Read),
            0x02 => known("message_service", Diagnostic),
            0x03 => known("diagnostic_message", Diagnostic),
            0x05 => known("alarm8_indication", Diagnostic),
            0x06 => known("notify_indication", Diagnostic),
            0x07 => known("alarm8_lock", Control),
            0x08 => known("alarm8_unlock", Control),
            0x09 => known("scan_indication", Diagnostic),
            0x0b => known("alarm_ack", Control),
            0x0c => known("alarm_ack_indication", Diagnostic),
            0x0d => known("alarm_lock_indication", Diagnostic),
            0x0e => known("alarm_unlock_indication", Diagnostic),
            0x10 => known("ar_send_indication", Diagnostic),
            0x11 => known("alarm_sq_indication", Diagnostic),
            0x12 => known("alarm_s_indication", Diagnostic),
            0x13 => known("alarm_query", Read),
            0x16 => known("notify8_indication", Diagnostic),
            _ => unknown_sub("cpu_function", Diagnostic),
        },
        group::SECURITY => match subfunction {
            0x01 => known("plc_password", Session),
            0x02 => known("clear_password", Session),
            _ => unknown_sub("security_function", Session),
        },
        group::PBC => known("pbc_bsend", Other),
        group::TIME => match subfunction {
            0x01 => known("read_clock", Read),
            0x02 | 0x04 => known("set_clock", Control),
            0x03 => known("read_clock_following", Read),
            _ => unknown_sub("time_function", Other),
        },
        group::NC_PROGRAMMING => known("nc_programming", Program),
        _ => UserdataFunction {
            name: "userdata",
            class: Other,
            unknown_subfunction: false,
            unknown_group: true,
        },
    }
}

/// CPU mode named by a mode-transition sub-function.
pub fn cpu_mode_name(mode: u8) -> Option<&'static str> {
    Some(match mode {
        0 => "stop",
        1 => "warm_restart",
        2 => "run",
        3 => "hot_restart",
        4 => "hold",
        6 => "cold_restart",
        9 => "run_redundant",
        11 => "link_up",
        12 => "update",
        _ => return None,
    })
}
