//! Schneider Electric UMAS, carried in Modbus function code 90 (0x5A).
//!
//! Request body: session (pairing) key, UMAS function code, data.
//! Response body: session key, status (0xFE ok, 0xFD error), data; the
//! response does not repeat the function, so the parser carries it over
//! from the paired request.
//!
//! A signed request (0x38, seen on recent M340/M580 firmware) wraps the real
//! request: a magic byte and a 32-byte signature, then 0x5A, the session key
//! and the wrapped UMAS function code. The wrapped function is the one that
//! acts on the PLC, so it is reported (and classed), with `umas_signed` set.

use super::ModbusFields;
use super::anomaly::*;
use super::names::{FunctionCode, UmasFunction};
use crate::event::Anomalies;

/// Offsets in a signed request body (after the Modbus function code).
const SIGNED_INNER_FC: usize = 35;
const SIGNED_INNER_FUNCTION: usize = 37;

pub(super) fn request(d: &[u8], f: &mut ModbusFields, a: &mut Anomalies) {
    f.umas_session_key = d.first().copied();
    let Some(&function) = d.get(1) else {
        a.add(TRUNCATED_PDU);
        return;
    };
    let mut function = UmasFunction(function);
    if function == UmasFunction::SIGNED_REQUEST
        && d.get(SIGNED_INNER_FC) == Some(&FunctionCode::UMAS.0)
        && let Some(&inner) = d.get(SIGNED_INNER_FUNCTION)
    {
        function = UmasFunction(inner);
        f.umas_signed = true;
    }
    f.umas_function_code = Some(function.0);
    if function.describe().is_none() {
        a.add(UNKNOWN_UMAS_FUNCTION);
    }
}

pub(super) fn response(d: &[u8], f: &mut ModbusFields, a: &mut Anomalies) {
    f.umas_session_key = d.first().copied();
    let Some(&status) = d.get(1) else {
        a.add(TRUNCATED_PDU);
        return;
    };
    f.umas_status = Some(status);
    if status != UmasFunction::RESPONSE_OK && status != UmasFunction::RESPONSE_ERROR {
        a.add(UNKNOWN_UMAS_STATUS);
    }
}
