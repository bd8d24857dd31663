//! PCCC (the DF1 command set of PLC-5, SLC 500 and MicroLogix controllers)
//! carried by the CIP PCCC object's Execute PCCC service (0x4B on class
//! 0x67): the requestor id, then the PCCC command. Function codes are named
//! as Wireshark's CIP PCCC dissector names them (`cip.pccc.fnc.code_06`,
//! `_07`, `_0f`), in snake_case with a `pccc_` prefix.

use super::anomaly::TRUNCATED_SERVICE_DATA;
use super::encap::le16;
use crate::event::{Anomalies, FunctionClass};

/// Commands whose fifth byte is a function code.
const DIAGNOSTIC: u8 = 0x06;
const MODE: u8 = 0x07;
const TYPED: u8 = 0x0F;
/// A reply's command code is its request's with this bit set.
const REPLY_BIT: u8 = 0x40;
/// STS value saying an extended status byte follows the transaction code.
const EXTENDED_STATUS: u8 = 0xF0;

/// What an Execute PCCC request or reply says (Wireshark `cip.pccc.*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pccc {
    /// The command (`cip.pccc.cmd.code`); on a reply, its response code
    /// without bit 6, the command answered.
    pub command: Option<u8>,
    /// The request's function code (`cip.pccc.fnc.code_*`); a reply carries its request's.
    pub function_code: Option<u8>,
    /// A reply's command code, the request's with bit 6 set (`cip.pccc.resp.code`).
    pub response_code: Option<u8>,
    /// STS (`cip.pccc.gs.status`).
    pub status: u8,
    /// EXT STS, when STS says one follows (`cip.pccc.es.status`).
    pub extended_status: Option<u8>,
    /// TNS (`cip.pccc.tns.code`).
    pub transaction: u16,
}

/// The PCCC command after the requestor id (its first byte is its length,
/// itself included).
fn command_bytes<'a>(data: &'a [u8], a: &mut Anomalies) -> Option<&'a [u8]> {
    let id_len = usize::from(*data.first()?).max(1);
    let body = data.get(id_len..).filter(|b| b.len() >= 4);
    if body.is_none() {
        a.add(TRUNCATED_SERVICE_DATA);
    }
    body
}

/// Parses an Execute PCCC request's data: requestor id, CMD, STS, TNS,
/// and FNC for the commands that have one.
pub fn request(data: &[u8], a: &mut Anomalies) -> Option<Pccc> {
    let body = command_bytes(data, a)?;
    let command = body[0];
    let function_code = if matches!(command, DIAGNOSTIC | MODE | TYPED) {
        let code = body.get(4).copied();
        if code.is_none() {
            a.add(TRUNCATED_SERVICE_DATA);
        }
        code
    } else {
        None
    };
    Some(Pccc {
        command: Some(command),
        function_code,
        status: body[1],
        transaction: le16(body, 2)?,
        ..Pccc::default()
    })
}

/// Parses an Execute PCCC reply's data: requestor id, CMD (with the reply
/// bit), STS, TNS, and EXT STS when STS is 0xF0.
pub fn reply(data: &[u8], a: &mut Anomalies) -> Option<Pccc> {
    let body = command_bytes(data, a)?;
    let status = body[1];
    let extended_status = if status == EXTENDED_STATUS {
        let ext = body.get(4).copied();
        if ext.is_none() {
            a.add(TRUNCATED_SERVICE_DATA);
        }
        ext
    } else {
        None
    };
    Some(Pccc {
        command: Some(body[0] & !REPLY_BIT),
        response_code: Some(body[0]),
        status,
        extended_status,
        transaction: le16(body, 2)?,
        ..Pccc::default()
    })
}

/// The function name and class of a PCCC command and function code, where
/// Wireshark names it.
pub fn describe(command: u8, function_code: Option<u8>) -> Option<(&'static str, FunctionClass)> {
    use FunctionClass::*;
    Some(match (command, function_code?) {
        (DIAGNOSTIC, 0x00) => ("pccc_echo", Diagnostic),
        (DIAGNOSTIC, 0x01) => ("pccc_read_diagnostic_counters", Diagnostic),
        (DIAGNOSTIC, 0x02) => ("pccc_set_variables", Write),
        (DIAGNOSTIC, 0x03) => ("pccc_diagnostic_status", Diagnostic),
        (DIAGNOSTIC, 0x04) => ("pccc_set_timeout", Write),
        (DIAGNOSTIC, 0x05) => ("pccc_set_naks", Write),
        (DIAGNOSTIC, 0x06) => ("pccc_set_enqs", Write),
        (DIAGNOSTIC, 0x07) => ("pccc_reset_diagnostic_counters", Diagnostic),
        (DIAGNOSTIC, 0x08) => ("pccc_set_data_table_size", Write),
        (DIAGNOSTIC, 0x09) => ("pccc_read_link_parameters", Read),
        (DIAGNOSTIC, 0x0A) => ("pccc_set_link_parameters", Write),
        (MODE, 0x00) => ("pccc_disable_outputs", Control),
        (MODE, 0x01) => ("pccc_enable_outputs", Control),
        (MODE, 0x03) => ("pccc_enable_plc_scanning", Control),
        (MODE, 0x04) => ("pccc_enter_download_mode", Program),
        (MODE, 0x05) => ("pccc_exit_download_upload_mode", Program),
        (MODE, 0x06) => ("pccc_enter_upload_mode", Program),
        (TYPED, 0x00) => ("pccc_word_range_write", Write),
        (TYPED, 0x01) => ("pccc_word_range_read", Read),
        (TYPED, 0x02) => ("pccc_bit_write", Write),
        (TYPED, 0x03) => ("pccc_file_write", Write),
        (TYPED, 0x04) => ("pccc_file_read", Read),
        (TYPED, 0x05) => ("pccc_download_request", Program),
        (TYPED, 0x06) => ("pccc_upload", Program),
        (TYPED, 0x07) => ("pccc_shutdown", Control),
        (TYPED, 0x08) => ("pccc_physical_write", Write),
        (TYPED, 0x09) => ("pccc_physical_read", Read),
        (TYPED, 0x0A) => ("pccc_restart_request", Control),
        (TYPED, 0x11) => ("pccc_get_edit_resource", Program),
        (TYPED, 0x12) => ("pccc_return_edit_resource", Program),
        (TYPED, 0x17) => ("pccc_read_bytes_physical", Read),
        (TYPED, 0x18) => ("pccc_write_bytes_physical", Write),
        (TYPED, 0x26) => ("pccc_read_modify_write", Write),
        (TYPED, 0x29) => ("pccc_read_section_size", Read),
        (TYPED, 0x3A) => ("pccc_set_cpu_mode", Control),
        (TYPED, 0x41) => ("pccc_disable_forces", Control),
        (TYPED, 0x50) => ("pccc_download_all_request", Program),
        (TYPED, 0x52) => ("pccc_download_completed", Program),
        (TYPED, 0x53) => ("pccc_upload_all_request", Program),
        (TYPED, 0x55) => ("pccc_upload_completed", Program),
        (TYPED, 0x57) => ("pccc_initialize_memory", Program),
        (TYPED, 0x5E) => ("pccc_modify_plc_2_compatibility_file", Write),
        (TYPED, 0x67) => ("pccc_typed_write", Write),
        (TYPED, 0x68) => ("pccc_typed_read", Read),
        (TYPED, 0x79) => ("pccc_read_modify_write_n", Write),
        (TYPED, 0x80) => ("pccc_change_cpu_mode", Control),
        (TYPED, 0x81) => ("pccc_open_file", Other),
        (TYPED, 0x82) => ("pccc_close_file", Other),
        (TYPED, 0x88) => ("pccc_execute_multiple_commands", Other),
        (TYPED, 0x8F) => ("pccc_apply_port_configuration", Write),
        (TYPED, 0xA1) => (
            "pccc_protected_typed_logical_read_with_two_address_fields",
            Read,
        ),
        (TYPED, 0xA2) => (
            "pccc_protected_typed_logical_read_with_three_address_fields",
            Read,
        ),
        (TYPED, 0xA7) => ("pccc_protected_typed_file_read", Read),
        (TYPED, 0xA9) => (
            "pccc_protected_typed_logical_write_with_two_address_fields",
            Write,
        ),
        (TYPED, 0xAA) => (
            "pccc_protected_typed_logical_write_with_three_address_fields",
            Write,
        ),
        (TYPED, 0xAB) => (
            "pccc_protected_typed_logical_masked_write_with_three_address_fields",
            Write,
        ),
        (TYPED, 0xAF) => ("pccc_protected_typed_file_write", Write),
        _ => return None,
    })
}

/// Every name [`describe`] gives, for rule validation.
pub fn function_names() -> impl Iterator<Item = &'static str> {
    [DIAGNOSTIC, MODE, TYPED].into_iter().flat_map(|command| {
        (0..=u8::MAX).filter_map(move |code| describe(command, Some(code)).map(|(name, _)| name))
    })
}
