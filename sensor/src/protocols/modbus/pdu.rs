//! PDU bodies: the bytes after the function code, per function code, for
//! requests and responses. Pure functions over slices: they fill
//! [`ModbusFields`] with what the wire says and record every structural
//! oddity as an anomaly; nothing is ever rejected.
//!
//! Structure and limits follow the MODBUS Application Protocol Specification
//! V1.1b3, section 6. The MBAP length delimits the PDU; when a PDU's own
//! structure disagrees with it, fixed fields that are missing give
//! `truncated_pdu`, bytes left over give `mbap_length_mismatch`, and a byte
//! count that disagrees with the data or with the quantity gives
//! `byte_count_mismatch`.

use std::cmp::Ordering;

use super::anomaly::*;
use super::names::{DiagnosticSubFunction, ExceptionCode, MeiType};
use super::{DeviceId, DeviceObject, ModbusFields, RequestInfo, umas};
use crate::event::Anomalies;

/// Quantity limits (spec section 6).
const MAX_READ_BITS: u16 = 2000;
const MAX_READ_REGISTERS: u16 = 125;
const MAX_WRITE_BITS: u16 = 1968;
const MAX_WRITE_REGISTERS: u16 = 123;
/// FC 23: the write part leaves room for fewer registers than FC 16.
const MAX_RW_WRITE_REGISTERS: u16 = 121;
/// FC 24: a FIFO holds at most 31 registers.
const MAX_FIFO_COUNT: u16 = 31;
/// FC 20/21: record numbers run 0..=9999.
const MAX_RECORD_NUMBER: u16 = 0x270F;
/// FC 20/21: the only reference type defined.
const FILE_REFERENCE_TYPE: u8 = 6;
/// FC 12: status, event count, message count, then up to 64 event bytes.
const COMM_EVENT_LOG_HEADER: u8 = 6;
const COMM_EVENT_LOG_MAX: u8 = COMM_EVENT_LOG_HEADER + 64;

/// Big-endian u16 at `at`, if the bytes are there.
pub(super) fn be16(d: &[u8], at: usize) -> Option<u16> {
    d.get(at..)?
        .first_chunk::<2>()
        .map(|b| u16::from_be_bytes(*b))
}

fn byte(d: &[u8], at: usize) -> Option<u8> {
    d.get(at).copied()
}

/// The bytes from `at` on (empty when `at` is past the end).
fn tail(d: &[u8], at: usize) -> &[u8] {
    d.get(at..).unwrap_or_default()
}

/// A PDU whose body is exactly `want` bytes.
fn expect_len(d: &[u8], want: usize, a: &mut Anomalies) {
    match d.len().cmp(&want) {
        Ordering::Less => a.add(TRUNCATED_PDU),
        Ordering::Greater => a.add(MBAP_LENGTH_MISMATCH),
        Ordering::Equal => {}
    }
}

fn check_quantity(q: Option<u16>, max: u16, a: &mut Anomalies) {
    if q.is_some_and(|q| q == 0 || q > max) {
        a.add(ILLEGAL_QUANTITY);
    }
}

/// A range that runs past the last address 0xFFFF.
fn check_range(address: Option<u16>, quantity: Option<u16>, a: &mut Anomalies) {
    if let (Some(address), Some(quantity)) = (address, quantity)
        && u32::from(address) + u32::from(quantity) > 0x1_0000
    {
        a.add(ADDRESS_OVERFLOW);
    }
}

/// Data after a one-byte byte count: it must hold exactly that many bytes.
fn counted(d: &[u8], f: &mut ModbusFields, a: &mut Anomalies) -> Option<u8> {
    let Some(count) = byte(d, 0) else {
        a.add(TRUNCATED_PDU);
        return None;
    };
    f.byte_count = Some(count.into());
    if tail(d, 1).len() != usize::from(count) {
        a.add(BYTE_COUNT_MISMATCH);
    }
    Some(count)
}

/// A request body; `fc` is without the exception bit.
pub(super) fn request(fc: u8, d: &[u8], f: &mut ModbusFields, a: &mut Anomalies) {
    match fc {
        1 | 2 => read_request(d, MAX_READ_BITS, f, a),
        3 | 4 => read_request(d, MAX_READ_REGISTERS, f, a),
        5 => single_write(d, true, f, a),
        6 => single_write(d, false, f, a),
        7 | 11 | 12 | 17 => expect_len(d, 0, a),
        8 => diagnostics(d, f, a),
        15 => multiple_write_request(d, MAX_WRITE_BITS, Unit::Bits, f, a),
        16 => multiple_write_request(d, MAX_WRITE_REGISTERS, Unit::Registers, f, a),
        20 => read_file_request(d, f, a),
        21 => write_file(d, f, a),
        22 => mask_write(d, f, a),
        23 => read_write_request(d, f, a),
        24 => {
            f.address = be16(d, 0);
            expect_len(d, 2, a);
        }
        43 => mei_request(d, f, a),
        90 => umas::request(d, f, a),
        _ => {}
    }
}

/// A normal (non-exception) response body. `req` is the paired request, when
/// it had the same function code.
pub(super) fn response(
    fc: u8,
    d: &[u8],
    req: Option<&RequestInfo>,
    f: &mut ModbusFields,
    a: &mut Anomalies,
) {
    match fc {
        1 | 2 => {
            if let Some(count) = counted(d, f, a)
                && let Some(q) = req.and_then(|r| r.quantity)
                && u16::from(count) != q.div_ceil(8)
            {
                a.add(BYTE_COUNT_MISMATCH);
            }
        }
        3 | 4 => register_data(d, req.and_then(|r| r.quantity), f, a),
        5 | 6 => {
            single_write(d, fc == 5, f, a);
            if let Some(r) = req
                && (r.address != f.address || r.value != f.value)
            {
                a.add(RESPONSE_MISMATCH);
            }
        }
        7 => {
            f.value = byte(d, 0).map(u16::from);
            expect_len(d, 1, a);
        }
        8 => {
            diagnostics(d, f, a);
            if req.is_some_and(|r| r.sub_function != f.sub_function) {
                a.add(RESPONSE_MISMATCH);
            }
        }
        11 => expect_len(d, 4, a),
        12 => comm_event_log(d, f, a),
        15 | 16 => {
            f.address = be16(d, 0);
            f.quantity = be16(d, 2);
            expect_len(d, 4, a);
            if let Some(r) = req
                && (r.address != f.address || r.quantity != f.quantity)
            {
                a.add(RESPONSE_MISMATCH);
            }
        }
        17 => {
            counted(d, f, a);
        }
        20 => read_file_response(d, f, a),
        21 => write_file(d, f, a),
        22 => {
            mask_write(d, f, a);
            if let Some(r) = req
                && (r.address != f.address || r.and_mask != f.and_mask || r.or_mask != f.or_mask)
            {
                a.add(RESPONSE_MISMATCH);
            }
        }
        23 => register_data(d, req.and_then(|r| r.quantity), f, a),
        24 => fifo_response(d, f, a),
        43 => {
            mei_response(d, f, a);
            if let Some(r) = req
                && (r.mei_type != f.mei_type
                    || (r.read_device_id_code.is_some()
                        && r.read_device_id_code != f.read_device_id_code))
            {
                a.add(RESPONSE_MISMATCH);
            }
        }
        90 => umas::response(d, f, a),
        _ => {}
    }
}

/// An exception response body: one exception code.
pub(super) fn exception(d: &[u8], f: &mut ModbusFields, a: &mut Anomalies) {
    f.exception_code = byte(d, 0);
    expect_len(d, 1, a);
    if f.exception_code
        .is_some_and(|c| ExceptionCode(c).name().is_none())
    {
        a.add(UNKNOWN_EXCEPTION_CODE);
    }
}

/// FC 12 response: byte count, status, event count, message count, events.
fn comm_event_log(d: &[u8], f: &mut ModbusFields, a: &mut Anomalies) {
    let range = COMM_EVENT_LOG_HEADER..=COMM_EVENT_LOG_MAX;
    if counted(d, f, a).is_some_and(|count| !range.contains(&count)) {
        a.add(BYTE_COUNT_MISMATCH);
    }
}

/// FC 1–4 request: starting address, quantity.
fn read_request(d: &[u8], max: u16, f: &mut ModbusFields, a: &mut Anomalies) {
    f.address = be16(d, 0);
    f.quantity = be16(d, 2);
    expect_len(d, 4, a);
    check_quantity(f.quantity, max, a);
    check_range(f.address, f.quantity, a);
}

/// FC 3, 4 and 23 responses: byte count, then registers.
fn register_data(d: &[u8], quantity: Option<u16>, f: &mut ModbusFields, a: &mut Anomalies) {
    if let Some(count) = counted(d, f, a) {
        let count = u32::from(count);
        if count % 2 != 0 || quantity.is_some_and(|q| u32::from(q) * 2 != count) {
            a.add(BYTE_COUNT_MISMATCH);
        }
    }
}

/// FC 5 and 6 (request and echo): address, value.
fn single_write(d: &[u8], coil: bool, f: &mut ModbusFields, a: &mut Anomalies) {
    f.address = be16(d, 0);
    f.value = be16(d, 2);
    expect_len(d, 4, a);
    if coil && f.value.is_some_and(|v| v != 0x0000 && v != 0xFF00) {
        a.add(ILLEGAL_COIL_VALUE);
    }
}

#[derive(Clone, Copy)]
enum Unit {
    Bits,
    Registers,
}

/// FC 15 and 16 request: address, quantity, byte count, values.
fn multiple_write_request(d: &[u8], max: u16, unit: Unit, f: &mut ModbusFields, a: &mut Anomalies) {
    f.address = be16(d, 0);
    f.quantity = be16(d, 2);
    check_quantity(f.quantity, max, a);
    check_range(f.address, f.quantity, a);
    let Some(count) = byte(d, 4) else {
        a.add(TRUNCATED_PDU);
        return;
    };
    f.byte_count = Some(count.into());
    let expected = f.quantity.map(|q| match unit {
        Unit::Bits => u32::from(q.div_ceil(8)),
        Unit::Registers => u32::from(q) * 2,
    });
    if expected.is_some_and(|e| e != u32::from(count)) || tail(d, 5).len() != usize::from(count) {
        a.add(BYTE_COUNT_MISMATCH);
    }
}

/// FC 8, request and echo: sub-function, data.
fn diagnostics(d: &[u8], f: &mut ModbusFields, a: &mut Anomalies) {
    let Some(sub) = be16(d, 0) else {
        a.add(TRUNCATED_PDU);
        return;
    };
    f.sub_function = Some(sub);
    let data = tail(d, 2);
    if data.len() == 2 {
        f.value = be16(data, 0);
    }
    let sub = DiagnosticSubFunction(sub);
    match sub.0 {
        // Return Query Data echoes any data; 0x15 (Modbus Plus statistics)
        // has a structure of its own.
        0x00 | 0x15 => {}
        _ if sub.name().is_none() => a.add(UNKNOWN_SUB_FUNCTION),
        _ => expect_len(data, 2, a),
    }
    if sub == DiagnosticSubFunction::RESTART_COMMUNICATIONS
        && f.value.is_some_and(|v| v != 0x0000 && v != 0xFF00)
    {
        a.add(ILLEGAL_DATA_VALUE);
    }
}

/// FC 22, request and echo: address, AND mask, OR mask.
fn mask_write(d: &[u8], f: &mut ModbusFields, a: &mut Anomalies) {
    f.address = be16(d, 0);
    f.and_mask = be16(d, 2);
    f.or_mask = be16(d, 4);
    expect_len(d, 6, a);
}

/// FC 23 request: read address and quantity, write address and quantity,
/// byte count, values.
fn read_write_request(d: &[u8], f: &mut ModbusFields, a: &mut Anomalies) {
    f.address = be16(d, 0);
    f.quantity = be16(d, 2);
    f.write_address = be16(d, 4);
    f.write_quantity = be16(d, 6);
    check_quantity(f.quantity, MAX_READ_REGISTERS, a);
    check_quantity(f.write_quantity, MAX_RW_WRITE_REGISTERS, a);
    check_range(f.address, f.quantity, a);
    check_range(f.write_address, f.write_quantity, a);
    let Some(count) = byte(d, 8) else {
        a.add(TRUNCATED_PDU);
        return;
    };
    f.byte_count = Some(count.into());
    let expected = f.write_quantity.map(|q| u32::from(q) * 2);
    if expected.is_some_and(|e| e != u32::from(count)) || tail(d, 9).len() != usize::from(count) {
        a.add(BYTE_COUNT_MISMATCH);
    }
}

/// FC 24 response: byte count (2 bytes), FIFO count, FIFO registers.
fn fifo_response(d: &[u8], f: &mut ModbusFields, a: &mut Anomalies) {
    f.byte_count = be16(d, 0);
    f.quantity = be16(d, 2);
    let (Some(count), Some(fifo)) = (f.byte_count, f.quantity) else {
        a.add(TRUNCATED_PDU);
        return;
    };
    if fifo > MAX_FIFO_COUNT {
        a.add(ILLEGAL_QUANTITY);
    }
    if u32::from(count) != 2 + 2 * u32::from(fifo) || tail(d, 2).len() != usize::from(count) {
        a.add(BYTE_COUNT_MISMATCH);
    }
}

/// Notes the first file sub-request and checks its reference type and record.
fn file_sub_request(chunk: &[u8], first: bool, f: &mut ModbusFields, a: &mut Anomalies) {
    if byte(chunk, 0) != Some(FILE_REFERENCE_TYPE) {
        a.add(ILLEGAL_REFERENCE_TYPE);
    }
    let record = be16(chunk, 3);
    if record.is_some_and(|r| r > MAX_RECORD_NUMBER) {
        a.add(ILLEGAL_RECORD_NUMBER);
    }
    if first {
        f.file_number = be16(chunk, 1);
        f.record_number = record;
    }
}

/// FC 20 request: byte count, then 7-byte sub-requests (reference type, file
/// number, record number, record length).
fn read_file_request(d: &[u8], f: &mut ModbusFields, a: &mut Anomalies) {
    let Some(count) = counted(d, f, a) else {
        return;
    };
    if !(0x07..=0xF5).contains(&count) || count % 7 != 0 {
        a.add(BYTE_COUNT_MISMATCH);
    }
    let subs = tail(d, 1).chunks_exact(7);
    if !subs.remainder().is_empty() {
        a.add(BYTE_COUNT_MISMATCH);
    }
    let mut n: u8 = 0;
    for chunk in subs {
        file_sub_request(chunk, n == 0, f, a);
        n = n.saturating_add(1);
    }
    f.sub_requests = Some(n);
}

/// FC 20 response: data length, then sub-responses (length, reference type,
/// record data).
fn read_file_response(d: &[u8], f: &mut ModbusFields, a: &mut Anomalies) {
    let Some(count) = counted(d, f, a) else {
        return;
    };
    if !(0x07..=0xF5).contains(&count) {
        a.add(BYTE_COUNT_MISMATCH);
    }
    let mut rest = tail(d, 1);
    let mut n: u8 = 0;
    while let Some(&len) = rest.first() {
        // The sub-response length counts the reference type and the data.
        if byte(rest, 1) != Some(FILE_REFERENCE_TYPE) {
            a.add(ILLEGAL_REFERENCE_TYPE);
        }
        if len == 0 || len % 2 == 0 || rest.len() < 1 + usize::from(len) {
            a.add(BYTE_COUNT_MISMATCH);
            break;
        }
        rest = tail(rest, 1 + usize::from(len));
        n = n.saturating_add(1);
    }
    f.sub_requests = Some(n);
}

/// FC 21, request and echo: data length, then sub-requests (reference type,
/// file number, record number, record length, record data).
fn write_file(d: &[u8], f: &mut ModbusFields, a: &mut Anomalies) {
    let Some(count) = counted(d, f, a) else {
        return;
    };
    if !(0x09..=0xFB).contains(&count) {
        a.add(BYTE_COUNT_MISMATCH);
    }
    let mut rest = tail(d, 1);
    let mut n: u8 = 0;
    while !rest.is_empty() {
        let Some(words) = be16(rest, 5) else {
            a.add(BYTE_COUNT_MISMATCH);
            break;
        };
        file_sub_request(rest, n == 0, f, a);
        let size = 7 + 2 * usize::from(words);
        if rest.len() < size {
            a.add(BYTE_COUNT_MISMATCH);
            break;
        }
        rest = tail(rest, size);
        n = n.saturating_add(1);
    }
    f.sub_requests = Some(n);
}

/// FC 43 request: MEI type, then for Read Device Identification the read
/// device id code and the object id.
fn mei_request(d: &[u8], f: &mut ModbusFields, a: &mut Anomalies) {
    let Some(mei) = byte(d, 0) else {
        a.add(TRUNCATED_PDU);
        return;
    };
    f.mei_type = Some(mei);
    match MeiType(mei) {
        MeiType::READ_DEVICE_IDENTIFICATION => {
            f.read_device_id_code = byte(d, 1);
            f.object_id = byte(d, 2);
            expect_len(d, 3, a);
            if f.read_device_id_code.is_some_and(|c| !(1..=4).contains(&c)) {
                a.add(ILLEGAL_READ_DEVICE_ID_CODE);
            }
        }
        MeiType::CANOPEN_GENERAL_REFERENCE => {}
        _ => a.add(UNKNOWN_MEI_TYPE),
    }
}

/// FC 43 response; for Read Device Identification: code, conformity level,
/// more follows, next object id, number of objects, then objects as
/// (id, length, value).
fn mei_response(d: &[u8], f: &mut ModbusFields, a: &mut Anomalies) {
    let Some(mei) = byte(d, 0) else {
        a.add(TRUNCATED_PDU);
        return;
    };
    f.mei_type = Some(mei);
    match MeiType(mei) {
        MeiType::READ_DEVICE_IDENTIFICATION => {}
        MeiType::CANOPEN_GENERAL_REFERENCE => return,
        _ => {
            a.add(UNKNOWN_MEI_TYPE);
            return;
        }
    }
    f.read_device_id_code = byte(d, 1);
    f.conformity_level = byte(d, 2);
    let more = byte(d, 3);
    f.more_follows = more.map(|m| m != 0);
    f.next_object_id = byte(d, 4);
    f.number_of_objects = byte(d, 5);
    let Some(count) = f.number_of_objects else {
        a.add(TRUNCATED_PDU);
        return;
    };
    if f.read_device_id_code.is_some_and(|c| !(1..=4).contains(&c)) {
        a.add(ILLEGAL_READ_DEVICE_ID_CODE);
    }
    if f.conformity_level
        .is_some_and(|c| !matches!(c, 0x01..=0x03 | 0x81..=0x83))
    {
        a.add(ILLEGAL_CONFORMITY_LEVEL);
    }
    if more.is_some_and(|m| m != 0x00 && m != 0xFF) {
        a.add(ILLEGAL_MORE_FOLLOWS);
    }
    let mut rest = tail(d, 6);
    let mut ids = DeviceId::default();
    for _ in 0..count {
        let (Some(id), Some(len)) = (byte(rest, 0), byte(rest, 1)) else {
            a.add(TRUNCATED_PDU);
            break;
        };
        let Some(value) = rest.get(2..2 + usize::from(len)) else {
            a.add(TRUNCATED_PDU);
            break;
        };
        ids.insert(id, value);
        rest = tail(rest, 2 + usize::from(len));
    }
    if !rest.is_empty() {
        a.add(MBAP_LENGTH_MISMATCH);
    }
    if !ids.is_empty() {
        f.device_id = Some(Box::new(ids));
    }
}

impl DeviceId {
    /// Records one object; its value is at most 255 bytes (a u8 length, and
    /// within one frame), decoded as lossy UTF-8 without trailing NULs.
    fn insert(&mut self, id: u8, value: &[u8]) {
        let end = value.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        let text = || String::from_utf8_lossy(value.get(..end).unwrap_or_default()).into_owned();
        let slot = match id {
            0x00 => &mut self.vendor_name,
            0x01 => &mut self.product_code,
            0x02 => &mut self.major_minor_revision,
            0x03 => &mut self.vendor_url,
            0x04 => &mut self.product_name,
            0x05 => &mut self.model_name,
            0x06 => &mut self.user_application_name,
            _ => {
                self.other.push(DeviceObject { id, value: text() });
                return;
            }
        };
        // A repeated object keeps its first value.
        if slot.is_none() {
            *slot = Some(text());
        }
    }
}
