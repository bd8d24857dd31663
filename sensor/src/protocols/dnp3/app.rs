//! Application layer: the control byte, the function code, the internal
//! indications (IIN) of responses, and the object headers (see `objects`).

use super::anomaly::*;
use super::objects::{self, Context, Objects};
use crate::event::{Anomalies, FunctionClass};

/// An application function code. Open: unassigned codes still parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FunctionCode(pub u8);

impl FunctionCode {
    pub const CONFIRM: FunctionCode = FunctionCode(0);
    pub const READ: FunctionCode = FunctionCode(1);
    pub const WRITE: FunctionCode = FunctionCode(2);
    pub const SELECT: FunctionCode = FunctionCode(3);
    pub const OPERATE: FunctionCode = FunctionCode(4);
    pub const DIRECT_OPERATE: FunctionCode = FunctionCode(5);
    pub const DIRECT_OPERATE_NO_ACK: FunctionCode = FunctionCode(6);
    pub const FREEZE_AT_TIME: FunctionCode = FunctionCode(11);
    pub const FREEZE_AT_TIME_NO_ACK: FunctionCode = FunctionCode(12);
    pub const ENABLE_UNSOLICITED: FunctionCode = FunctionCode(20);
    pub const DISABLE_UNSOLICITED: FunctionCode = FunctionCode(21);
    pub const OPEN_FILE: FunctionCode = FunctionCode(25);
    pub const ACTIVATE_CONFIG: FunctionCode = FunctionCode(31);
    pub const AUTHENTICATE_REQUEST: FunctionCode = FunctionCode(32);
    pub const AUTHENTICATE_REQUEST_NO_ACK: FunctionCode = FunctionCode(33);
    pub const RESPONSE: FunctionCode = FunctionCode(129);
    pub const UNSOLICITED_RESPONSE: FunctionCode = FunctionCode(130);
    pub const AUTHENTICATE_RESPONSE: FunctionCode = FunctionCode(131);

    /// Stable snake_case name, `None` for unassigned codes.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "confirm",
            1 => "read",
            2 => "write",
            3 => "select",
            4 => "operate",
            5 => "direct_operate",
            6 => "direct_operate_no_ack",
            7 => "immediate_freeze",
            8 => "immediate_freeze_no_ack",
            9 => "freeze_and_clear",
            10 => "freeze_and_clear_no_ack",
            11 => "freeze_at_time",
            12 => "freeze_at_time_no_ack",
            13 => "cold_restart",
            14 => "warm_restart",
            15 => "initialize_data",
            16 => "initialize_application",
            17 => "start_application",
            18 => "stop_application",
            19 => "save_configuration",
            20 => "enable_unsolicited",
            21 => "disable_unsolicited",
            22 => "assign_class",
            23 => "delay_measurement",
            24 => "record_current_time",
            25 => "open_file",
            26 => "close_file",
            27 => "delete_file",
            28 => "get_file_info",
            29 => "authenticate_file",
            30 => "abort_file",
            31 => "activate_config",
            32 => "authenticate_request",
            33 => "authenticate_request_no_ack",
            129 => "response",
            130 => "unsolicited_response",
            131 => "authenticate_response",
            _ => return None,
        })
    }

    /// Requests the outstation does not answer.
    pub fn expects_no_response(self) -> bool {
        matches!(self.0, 0 | 6 | 8 | 10 | 12 | 33) || self.is_response()
    }

    /// Sent by the outstation: responses carry internal indications.
    pub fn is_response(self) -> bool {
        matches!(self.0, 129..=131)
    }

    /// The class of a request; responses and confirms are classed by what
    /// they answer (see the parser), so this gives `Other` for them.
    pub fn class(self) -> FunctionClass {
        match self.0 {
            1 => FunctionClass::Read,
            // Write (time, IIN, attributes), select/operate, freezes,
            // restarts, application start/stop, unsolicited reporting and
            // class assignment all change the device's state.
            2..=18 | 20..=22 => FunctionClass::Control,
            // Delay measurement and recording the current time serve time
            // synchronisation (the time itself is a write).
            23 | 24 => FunctionClass::Diagnostic,
            // Save configuration, file transfer, configuration activation.
            19 | 25..=31 => FunctionClass::Program,
            32 | 33 | 131 => FunctionClass::Session,
            _ => FunctionClass::Other,
        }
    }

    /// How object values follow the headers in fragments of this function.
    fn context(self) -> Context {
        match self.0 {
            // Confirm (secure authentication objects), read, freezes,
            // restarts, application control, unsolicited control, assign
            // class, delay measurement, record current time.
            0 | 1 | 7..=10 | 13..=24 => Context::HeadersOnly,
            11 | 12 => Context::FreezeAtTime,
            _ => Context::Data,
        }
    }
}

/// Bits of the application control byte.
pub mod control {
    pub const FIR: u8 = 0x80;
    pub const FIN: u8 = 0x40;
    pub const CON: u8 = 0x20;
    pub const UNS: u8 = 0x10;
    pub const SEQ: u8 = 0x0F;
}

/// Internal indication bits, as Wireshark's 16-bit `dnp3.al.iin`
/// (first octet high), with their IEEE 1815 names.
pub const IIN_FLAGS: [(u16, &str); 16] = [
    (0x0100, "broadcast"),
    (0x0200, "class_1_events"),
    (0x0400, "class_2_events"),
    (0x0800, "class_3_events"),
    (0x1000, "need_time"),
    (0x2000, "local_control"),
    (0x4000, "device_trouble"),
    (0x8000, "device_restart"),
    (0x0001, "no_func_code_support"),
    (0x0002, "object_unknown"),
    (0x0004, "parameter_error"),
    (0x0008, "event_buffer_overflow"),
    (0x0010, "already_executing"),
    (0x0020, "config_corrupt"),
    (0x0040, "reserved_2"),
    (0x0080, "reserved_1"),
];

/// What an application fragment says.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fragment {
    pub control: Option<u8>,
    pub function: Option<FunctionCode>,
    pub iin: Option<u16>,
    pub objects: Objects,
}

/// Decodes one whole application fragment (after transport reassembly).
pub fn decode(fragment: &[u8], a: &mut Anomalies) -> Fragment {
    let mut out = Fragment {
        control: fragment.first().copied(),
        ..Fragment::default()
    };
    let Some(&code) = fragment.get(1) else {
        a.add(TRUNCATED_APPLICATION_HEADER);
        return out;
    };
    let function = FunctionCode(code);
    out.function = Some(function);
    if function.name().is_none() {
        a.add(UNKNOWN_FUNCTION_CODE);
        return out;
    }
    let control = out.control.unwrap_or_default();
    let unsolicited = control & control::UNS != 0;
    // UNS marks unsolicited responses and the confirms that answer them.
    if (function == FunctionCode::UNSOLICITED_RESPONSE) != unsolicited
        && function != FunctionCode::CONFIRM
    {
        a.add(UNSOLICITED_BIT_MISMATCH);
    }
    let mut body = fragment.get(2..).unwrap_or_default();
    if function.is_response() {
        match fragment.get(2..4) {
            Some(&[high, low]) => out.iin = Some(u16::from_be_bytes([high, low])),
            _ => {
                a.add(TRUNCATED_APPLICATION_HEADER);
                return out;
            }
        }
        body = fragment.get(4..).unwrap_or_default();
    }
    out.objects = objects::walk(body, function.context(), a);
    out
}
