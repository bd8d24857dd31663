//! Modbus/TCP: MBAP framing, every public function code, Read Device
//! Identification and Schneider Electric UMAS, with request/response
//! pairing per connection.
//!
//! One event per MBAP frame. A frame whose PDU breaks the spec is still an
//! event, with anomalies; bytes that cannot be an MBAP header are consumed
//! and reported as one `invalid` event per run (see [`ModbusParser`]).
//!
//! Layout: [`names`] holds the code values and their names and classes,
//! `pdu` the per-function body decoding, `umas` function code 90; this file
//! the framing, the pairing state, the event fields and the probe.

pub mod names;
mod pdu;
mod umas;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use super::{Direction, Emitter, Probe, StreamParser};
use crate::event::{
    Anomalies, Fields, FunctionClass, Identity, Nest, Pdu, Protocol, Value, Visitor,
};
use names::{
    CodeKind, DiagnosticSubFunction, ExceptionCode, FunctionCode, SubCodes, UmasFunction,
    device_object_name,
};
use pdu::be16;

pub const PORT: u16 = 502;

/// Bytes of the MBAP header before the unit id: transaction id, protocol id,
/// length. The MBAP length counts what follows them (unit id and PDU).
const LENGTH_PREFIX: usize = 6;
/// Full MBAP header (with the unit id); the PDU starts here.
const MBAP_LEN: usize = 7;
/// Unit id and function code.
const MIN_LENGTH: u16 = 2;
/// Unit id and the largest PDU the spec allows (253 bytes).
const MAX_LENGTH: u16 = 254;
/// UMAS negotiates its own frame size in `init_comm` (public captures
/// advertise 1021 bytes, used by program transfer blocks of ~1 KiB), so frames
/// with function code 90 may exceed [`MAX_LENGTH`]. This bound leaves room
/// for other firmware while still limiting how long a bogus header can hold
/// the stream waiting for bytes.
const UMAS_MAX_LENGTH: u16 = 2048;
/// Requests awaiting a response, per connection. Modbus/TCP clients rarely
/// pipeline more than a few; the table only grows to this under a flood.
pub const MAX_PENDING: usize = 256;

/// Stable anomaly names of this decoder.
pub mod anomaly {
    /// Bytes that cannot start an MBAP frame (always with one of the next three).
    pub const INVALID_MBAP_HEADER: &str = "invalid_mbap_header";
    /// MBAP protocol id is not 0.
    pub const INVALID_PROTOCOL_ID: &str = "invalid_protocol_id";
    /// MBAP length below 2 (cannot hold unit id and function code).
    pub const MBAP_LENGTH_TOO_SHORT: &str = "mbap_length_too_short";
    /// MBAP length above 254 (2048 for UMAS).
    pub const MBAP_LENGTH_TOO_LONG: &str = "mbap_length_too_long";
    /// The PDU has bytes left over after its structure.
    pub const MBAP_LENGTH_MISMATCH: &str = "mbap_length_mismatch";
    /// The PDU ends before its fixed fields do.
    pub const TRUNCATED_PDU: &str = "truncated_pdu";
    /// A byte count disagrees with the data that follows or with the quantity.
    pub const BYTE_COUNT_MISMATCH: &str = "byte_count_mismatch";
    /// A quantity outside the spec's range (e.g. 1..=125 registers read).
    pub const ILLEGAL_QUANTITY: &str = "illegal_quantity";
    /// Address + quantity runs past 0xFFFF.
    pub const ADDRESS_OVERFLOW: &str = "address_overflow";
    /// FC 5 value other than 0x0000 / 0xFF00.
    pub const ILLEGAL_COIL_VALUE: &str = "illegal_coil_value";
    /// FC 8 restart communications data other than 0x0000 / 0xFF00.
    pub const ILLEGAL_DATA_VALUE: &str = "illegal_data_value";
    /// FC 20/21 reference type other than 6.
    pub const ILLEGAL_REFERENCE_TYPE: &str = "illegal_reference_type";
    /// FC 20/21 record number above 9999.
    pub const ILLEGAL_RECORD_NUMBER: &str = "illegal_record_number";
    /// FC 43/14 read device id code outside 1..=4.
    pub const ILLEGAL_READ_DEVICE_ID_CODE: &str = "illegal_read_device_id_code";
    /// FC 43/14 conformity level outside 0x01–0x03, 0x81–0x83.
    pub const ILLEGAL_CONFORMITY_LEVEL: &str = "illegal_conformity_level";
    /// FC 43/14 more follows other than 0x00 / 0xFF.
    pub const ILLEGAL_MORE_FOLLOWS: &str = "illegal_more_follows";
    /// A function code that is reserved or unassigned (0 included).
    pub const UNKNOWN_FUNCTION_CODE: &str = "unknown_function_code";
    pub const UNKNOWN_EXCEPTION_CODE: &str = "unknown_exception_code";
    /// FC 8 sub-function not in the spec.
    pub const UNKNOWN_SUB_FUNCTION: &str = "unknown_sub_function";
    /// FC 43 MEI type other than 13 and 14.
    pub const UNKNOWN_MEI_TYPE: &str = "unknown_mei_type";
    pub const UNKNOWN_UMAS_FUNCTION: &str = "unknown_umas_function";
    /// UMAS response status other than 0xFE / 0xFD.
    pub const UNKNOWN_UMAS_STATUS: &str = "unknown_umas_status";
    /// A request with the exception bit set in its function code.
    pub const EXCEPTION_IN_REQUEST: &str = "exception_in_request";
    /// No pending request with this transaction id (expected after a capture
    /// gap or when the capture starts mid-connection).
    pub const RESPONSE_WITHOUT_REQUEST: &str = "response_without_request";
    /// The response's function code differs from its request's.
    pub const FUNCTION_MISMATCH: &str = "function_mismatch";
    /// An echo response (FC 5, 6, 8, 15, 16, 22, 43) differs from its request.
    pub const RESPONSE_MISMATCH: &str = "response_mismatch";
    /// The response's unit id differs from its request's.
    pub const UNIT_ID_MISMATCH: &str = "unit_id_mismatch";
    /// A request reuses the transaction id of a request still unanswered.
    pub const DUPLICATE_TRANSACTION_ID: &str = "duplicate_transaction_id";
    /// The pending table was full: the oldest request was forgotten.
    pub const PENDING_TABLE_FULL: &str = "pending_table_full";

    /// Every anomaly name, for rule validation.
    pub const ALL: &[&str] = &[
        INVALID_MBAP_HEADER,
        INVALID_PROTOCOL_ID,
        MBAP_LENGTH_TOO_SHORT,
        MBAP_LENGTH_TOO_LONG,
        MBAP_LENGTH_MISMATCH,
        TRUNCATED_PDU,
        BYTE_COUNT_MISMATCH,
        ILLEGAL_QUANTITY,
        ADDRESS_OVERFLOW,
        ILLEGAL_COIL_VALUE,
        ILLEGAL_DATA_VALUE,
        ILLEGAL_REFERENCE_TYPE,
        ILLEGAL_RECORD_NUMBER,
        ILLEGAL_READ_DEVICE_ID_CODE,
        ILLEGAL_CONFORMITY_LEVEL,
        ILLEGAL_MORE_FOLLOWS,
        UNKNOWN_FUNCTION_CODE,
        UNKNOWN_EXCEPTION_CODE,
        UNKNOWN_SUB_FUNCTION,
        UNKNOWN_MEI_TYPE,
        UNKNOWN_UMAS_FUNCTION,
        UNKNOWN_UMAS_STATUS,
        EXCEPTION_IN_REQUEST,
        RESPONSE_WITHOUT_REQUEST,
        FUNCTION_MISMATCH,
        RESPONSE_MISMATCH,
        UNIT_ID_MISMATCH,
        DUPLICATE_TRANSACTION_ID,
        PENDING_TABLE_FULL,
    ];
}

/// Every `function` name Modbus events carry, for rule validation.
pub fn function_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = (0..=0x7f_u8)
        .flat_map(|code| {
            // FC 8 and FC 43 are named by sub-function and MEI type.
            [(None, None), (None, Some(13)), (None, Some(14))].map(|(sub_function, mei_type)| {
                let sub = SubCodes {
                    sub_function,
                    mei_type,
                    umas_function: None,
                };
                names::describe(FunctionCode(code), sub).0
            })
        })
        .collect();
    names.push("invalid");
    names.sort_unstable();
    names.dedup();
    names
}
use anomaly::*;

/// Modbus fields of one event. Absent (`None`) fields are not written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModbusFields {
    /// MBAP transaction id (Wireshark `mbtcp.trans_id`).
    pub transaction_id: u16,
    /// MBAP unit id (Wireshark `mbtcp.unit_id`).
    pub unit_id: u8,
    /// MBAP length (Wireshark `mbtcp.len`): unit id + PDU bytes.
    pub length: u16,
    /// Exception code of an exception response (Wireshark `modbus.exception_code`).
    pub exception_code: Option<u8>,
    /// Starting address as on the wire, 0-based (Wireshark
    /// `modbus.reference_num`; for FC 23 the read address, for FC 24 the FIFO
    /// pointer address). Responses carry their request's when they lack one.
    pub address: Option<u16>,
    /// Coils, inputs or registers (Wireshark `modbus.bit_cnt`/`word_cnt`; for
    /// FC 23 the read quantity, for an FC 24 response the FIFO count).
    pub quantity: Option<u16>,
    /// FC 23 write starting address.
    pub write_address: Option<u16>,
    /// FC 23 write quantity.
    pub write_quantity: Option<u16>,
    /// FC 5/6 value; FC 8 data word (the counter in a diagnostic response);
    /// FC 7 response exception status.
    pub value: Option<u16>,
    /// FC 22 AND mask.
    pub and_mask: Option<u16>,
    /// FC 22 OR mask.
    pub or_mask: Option<u16>,
    /// Byte count field of the PDU (Wireshark `modbus.byte_cnt`).
    pub byte_count: Option<u16>,
    /// FC 20/21: file number of the first sub-request.
    pub file_number: Option<u16>,
    /// FC 20/21: record number of the first sub-request.
    pub record_number: Option<u16>,
    /// FC 20/21: number of sub-requests (or sub-responses).
    pub sub_requests: Option<u8>,
    /// FC 8 sub-function (its name is written as `sub_function_name`).
    pub sub_function: Option<u16>,
    /// FC 43 MEI type (Wireshark `modbus.mei`).
    pub mei_type: Option<u8>,
    /// FC 43/14 read device id code (Wireshark `modbus.read_device_id`).
    pub read_device_id_code: Option<u8>,
    /// FC 43/14 object id asked for.
    pub object_id: Option<u8>,
    /// FC 43/14 response conformity level.
    pub conformity_level: Option<u8>,
    /// FC 43/14 response: more objects follow in another transaction.
    pub more_follows: Option<bool>,
    /// FC 43/14 response: object id to ask for next.
    pub next_object_id: Option<u8>,
    /// FC 43/14 response: number of objects, as declared.
    pub number_of_objects: Option<u8>,
    /// FC 43/14 response objects (boxed: rare and large).
    pub device_id: Option<Box<DeviceId>>,
    /// UMAS session (pairing) key: 0 outside a reservation.
    pub umas_session_key: Option<u8>,
    /// UMAS function code (the request's, on a response; the wrapped one in a
    /// signed request). Its name is written as `umas_function`.
    pub umas_function_code: Option<u8>,
    /// UMAS request wrapped in a signature (function 0x38).
    pub umas_signed: bool,
    /// UMAS response status: 0xFE ok, 0xFD error (written as a name).
    pub umas_status: Option<u8>,
    /// Bytes skipped as not Modbus (on `invalid` events only).
    pub skipped_bytes: Option<u32>,
    /// Packet of the paired request (Wireshark `modbus.request_frame`).
    pub request_packet: Option<u64>,
}

/// Read Device Identification objects (FC 43/14), values as lossy UTF-8.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceId {
    /// Object 0x00.
    pub vendor_name: Option<String>,
    /// Object 0x01.
    pub product_code: Option<String>,
    /// Object 0x02.
    pub major_minor_revision: Option<String>,
    /// Object 0x03.
    pub vendor_url: Option<String>,
    /// Object 0x04.
    pub product_name: Option<String>,
    /// Object 0x05.
    pub model_name: Option<String>,
    /// Object 0x06.
    pub user_application_name: Option<String>,
    /// Reserved (0x07–0x7F) and private (0x80–0xFF) objects, in wire order.
    pub other: Vec<DeviceObject>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceObject {
    pub id: u8,
    pub value: String,
}

impl DeviceId {
    /// The identity these objects give the server, for the inventory.
    fn identity(&self) -> Option<Box<Identity>> {
        let identity = Identity {
            vendor: self.vendor_name.clone(),
            product: self
                .product_name
                .clone()
                .or_else(|| self.model_name.clone()),
            product_code: self.product_code.clone(),
            firmware: self.major_minor_revision.clone(),
            ..Identity::default()
        };
        (!identity.is_empty()).then(|| Box::new(identity))
    }

    fn is_empty(&self) -> bool {
        self.named().all(|(_, v)| v.is_none()) && self.other.is_empty()
    }

    /// The basic and regular objects, by name.
    pub fn named(&self) -> impl Iterator<Item = (&'static str, Option<&str>)> {
        [
            &self.vendor_name,
            &self.product_code,
            &self.major_minor_revision,
            &self.vendor_url,
            &self.product_name,
            &self.model_name,
            &self.user_application_name,
        ]
        .into_iter()
        .zip(0u8..)
        .map(|(v, id)| (device_object_name(id).unwrap_or_default(), v.as_deref()))
    }

    fn visit(&self, v: &mut dyn Visitor) {
        v.begin("device_id", Nest::Object);
        for (name, value) in self.named() {
            if let Some(value) = value {
                v.field(name, Value::Str(value));
            }
        }
        if !self.other.is_empty() {
            v.begin("other_objects", Nest::List);
            for object in &self.other {
                v.begin("", Nest::Object);
                v.field("id", Value::U64(object.id.into()));
                v.field("value", Value::Str(&object.value));
                v.end();
            }
            v.end();
        }
        v.end();
    }
}

impl ModbusFields {
    /// Name of the exception code, if it is a defined one.
    pub fn exception(&self) -> Option<&'static str> {
        self.exception_code.and_then(|c| ExceptionCode(c).name())
    }

    /// Name of the FC 8 sub-function, if it is a defined one.
    pub fn sub_function_name(&self) -> Option<&'static str> {
        self.sub_function
            .and_then(|s| DiagnosticSubFunction(s).name())
    }

    /// Name of the UMAS function, if it is a documented one.
    pub fn umas_function(&self) -> Option<&'static str> {
        self.umas_function_code.and_then(|c| UmasFunction(c).name())
    }

    /// The MBAP header fields, the first three that [`Self::visit`] shows.
    pub fn header_field(&self, name: &str) -> Option<Value<'static>> {
        let value = match name {
            "transaction_id" => self.transaction_id,
            "unit_id" => self.unit_id.into(),
            "length" => self.length,
            _ => return None,
        };
        Some(Value::U64(value.into()))
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
        u(v, "transaction_id", Some(self.transaction_id));
        u(v, "unit_id", Some(self.unit_id));
        u(v, "length", Some(self.length));
        u(v, "exception_code", self.exception_code);
        s(v, "exception", self.exception());
        u(v, "address", self.address);
        u(v, "quantity", self.quantity);
        u(v, "write_address", self.write_address);
        u(v, "write_quantity", self.write_quantity);
        u(v, "value", self.value);
        u(v, "and_mask", self.and_mask);
        u(v, "or_mask", self.or_mask);
        u(v, "byte_count", self.byte_count);
        u(v, "file_number", self.file_number);
        u(v, "record_number", self.record_number);
        u(v, "sub_requests", self.sub_requests);
        u(v, "sub_function", self.sub_function);
        s(v, "sub_function_name", self.sub_function_name());
        u(v, "mei_type", self.mei_type);
        u(v, "read_device_id_code", self.read_device_id_code);
        u(v, "object_id", self.object_id);
        u(v, "conformity_level", self.conformity_level);
        if let Some(more) = self.more_follows {
            v.field("more_follows", Value::Bool(more));
        }
        u(v, "next_object_id", self.next_object_id);
        u(v, "number_of_objects", self.number_of_objects);
        if let Some(ids) = &self.device_id {
            ids.visit(v);
        }
        u(v, "umas_session_key", self.umas_session_key);
        u(v, "umas_function_code", self.umas_function_code);
        s(v, "umas_function", self.umas_function());
        if self.umas_signed {
            v.field("umas_signed", Value::Bool(true));
        }
        s(
            v,
            "umas_status",
            self.umas_status.map(|status| match status {
                UmasFunction::RESPONSE_OK => "ok",
                UmasFunction::RESPONSE_ERROR => "error",
                _ => "unknown",
            }),
        );
        u(v, "skipped_bytes", self.skipped_bytes);
        u(v, "request_packet", self.request_packet);
    }
}

/// Declares [`RequestInfo`]: the request fields a response inherits when it
/// does not carry them itself.
macro_rules! request_info {
    ($($name:ident: $ty:ty),* $(,)?) => {
        /// What a pending request leaves for its response.
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub(crate) struct RequestInfo {
            $(pub $name: Option<$ty>,)*
            pub umas_signed: bool,
        }

        impl RequestInfo {
            fn of(f: &ModbusFields) -> Self {
                RequestInfo { $($name: f.$name,)* umas_signed: f.umas_signed }
            }

            fn fill(&self, f: &mut ModbusFields) {
                $(if f.$name.is_none() { f.$name = self.$name; })*
                f.umas_signed |= self.umas_signed;
            }
        }
    };
}

request_info! {
    address: u16,
    quantity: u16,
    write_address: u16,
    write_quantity: u16,
    value: u16,
    and_mask: u16,
    or_mask: u16,
    file_number: u16,
    record_number: u16,
    sub_function: u16,
    mei_type: u8,
    read_device_id_code: u8,
    object_id: u8,
    umas_function_code: u8,
}

/// A request awaiting its response.
#[derive(Clone, Copy, Debug)]
struct Pending {
    transaction_id: u16,
    unit_id: u8,
    /// Function code without the exception bit.
    function_code: u8,
    /// Packet that completed the request.
    packet: u64,
    /// Value of `ModbusParser::response_gaps` when the request was seen.
    gaps: u32,
    info: RequestInfo,
}

/// How the bytes at the start of a buffer frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    /// A whole frame of this many bytes.
    Frame(usize),
    /// Possibly a frame: more bytes are needed to tell or to complete it.
    Incomplete,
    /// Not an MBAP header; the anomaly says why.
    Invalid(&'static str),
}

fn framing(b: &[u8]) -> Framing {
    let (Some(protocol_id), Some(length)) = (be16(b, 2), be16(b, 4)) else {
        // Two bytes of protocol id are enough to reject.
        return match be16(b, 2) {
            Some(p) if p != 0 => Framing::Invalid(INVALID_PROTOCOL_ID),
            _ => Framing::Incomplete,
        };
    };
    if protocol_id != 0 {
        return Framing::Invalid(INVALID_PROTOCOL_ID);
    }
    if length < MIN_LENGTH {
        return Framing::Invalid(MBAP_LENGTH_TOO_SHORT);
    }
    if length > MAX_LENGTH {
        let Some(&fc) = b.get(MBAP_LEN) else {
            return Framing::Incomplete;
        };
        if fc != FunctionCode::UMAS.0 || length > UMAS_MAX_LENGTH {
            return Framing::Invalid(MBAP_LENGTH_TOO_LONG);
        }
    }
    let size = LENGTH_PREFIX + usize::from(length);
    if b.len() < size {
        Framing::Incomplete
    } else {
        Framing::Frame(size)
    }
}

/// Whether a frame could plausibly start at `b`: a valid header whose function
/// code is public or UMAS. Used to resynchronise after garbage.
fn plausible_start(b: &[u8]) -> bool {
    let known = b
        .get(MBAP_LEN)
        .is_some_and(|&fc| matches!(FunctionCode(fc).kind(), CodeKind::Public | CodeKind::Umas));
    known && !matches!(framing(b), Framing::Invalid(_))
}

/// Decodes one whole frame (at least 8 bytes, as [`framing`] guarantees)
/// into `f` and `a`; `req` is the paired request of a response. Returns the
/// function code byte.
fn decode(
    frame: &[u8],
    is_response: bool,
    req: Option<&Pending>,
    f: &mut ModbusFields,
    a: &mut Anomalies,
) -> FunctionCode {
    f.transaction_id = be16(frame, 0).unwrap_or_default();
    f.length = be16(frame, 4).unwrap_or_default();
    f.unit_id = frame.get(6).copied().unwrap_or_default();
    let fc = FunctionCode(frame.get(MBAP_LEN).copied().unwrap_or_default());
    let body = frame.get(MBAP_LEN + 1..).unwrap_or_default();
    // The request's details apply only if it was for the same function.
    let same = req.filter(|r| r.function_code == fc.code());
    if fc.is_exception() {
        pdu::exception(body, f, a);
        if !is_response {
            a.add(EXCEPTION_IN_REQUEST);
        }
    } else if is_response {
        pdu::response(fc.code(), body, same.map(|r| &r.info), f, a);
    } else {
        pdu::request(fc.code(), body, f, a);
    }
    if matches!(fc.kind(), CodeKind::Reserved | CodeKind::Unknown) {
        a.add(UNKNOWN_FUNCTION_CODE);
    }
    if let Some(r) = req {
        f.request_packet = Some(r.packet);
        if r.function_code != fc.code() {
            a.add(FUNCTION_MISMATCH);
        }
        if r.unit_id != f.unit_id {
            a.add(UNIT_ID_MISMATCH);
        }
    }
    if let Some(r) = same {
        r.info.fill(f);
    }
    fc
}

/// Per-connection Modbus state: requests awaiting their response.
///
/// The parser keeps no partial bytes: an incomplete frame is left unconsumed
/// for the caller to present again. Bytes that cannot start a frame (bad
/// protocol id or length) are reported as one `invalid` event and skipped up
/// to the next offset where a plausible header starts (valid header and a
/// public or UMAS function code); if none starts within `data`, all of it is
/// skipped. A Modbus frame nearly always starts a TCP segment, so keeping an
/// undecidable tail would mostly re-report the same garbage.
#[derive(Debug, Default)]
pub struct ModbusParser {
    /// Oldest first.
    pending: VecDeque<Pending>,
    /// Gaps seen in the responses. A request pending from before a gap may
    /// have lost its response, so reusing its transaction id is not flagged.
    response_gaps: u32,
}

impl ModbusParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Removes and returns the pending request with this transaction id.
    fn take_pending(&mut self, transaction_id: u16) -> Option<Pending> {
        super::take_pending(&mut self.pending, |p| p.transaction_id == transaction_id)
    }

    fn add_pending(&mut self, request: Pending, a: &mut Anomalies) {
        if let Some(previous) = self.take_pending(request.transaction_id)
            && previous.gaps == self.response_gaps
        {
            a.add(DUPLICATE_TRANSACTION_ID);
        }
        if self.pending.len() >= MAX_PENDING {
            self.pending.pop_front();
            a.add(PENDING_TABLE_FULL);
        }
        self.pending.push_back(request);
    }

    fn frame(&mut self, frame: &[u8], out: &mut Emitter<'_>) {
        let is_response = out.direction() == Direction::ToClient;
        let mut f = ModbusFields::default();
        let mut a = Anomalies::new();
        let req = match be16(frame, 0) {
            Some(tid) if is_response => self.take_pending(tid),
            _ => None,
        };
        let fc = decode(frame, is_response, req.as_ref(), &mut f, &mut a);
        if is_response && req.is_none() {
            a.add(RESPONSE_WITHOUT_REQUEST);
        }
        let (function, class) = names::describe(
            fc,
            SubCodes {
                sub_function: f.sub_function,
                mei_type: f.mei_type,
                umas_function: f.umas_function_code,
            },
        );
        if !is_response {
            let request = Pending {
                transaction_id: f.transaction_id,
                unit_id: f.unit_id,
                function_code: fc.code(),
                packet: out.header().packet,
                gaps: self.response_gaps,
                info: RequestInfo::of(&f),
            };
            self.add_pending(request, &mut a);
        }
        out.emit(Pdu {
            protocol: Protocol::Modbus,
            is_response,
            function_code: Some(fc.code().into()),
            function,
            class,
            anomalies: a,
            identity: f.device_id.as_deref().and_then(DeviceId::identity),
            fields: Fields::Modbus(f),
        });
    }

    /// Reports `skipped` bytes that are not Modbus, with what their header said.
    fn garbage(&mut self, skipped: &[u8], reason: &'static str, out: &mut Emitter<'_>) {
        let mut a = Anomalies::new();
        a.add(INVALID_MBAP_HEADER);
        a.add(reason);
        let f = ModbusFields {
            transaction_id: be16(skipped, 0).unwrap_or_default(),
            length: be16(skipped, 4).unwrap_or_default(),
            unit_id: skipped.get(6).copied().unwrap_or_default(),
            skipped_bytes: Some(u32::try_from(skipped.len()).unwrap_or(u32::MAX)),
            ..ModbusFields::default()
        };
        out.emit(Pdu {
            protocol: Protocol::Modbus,
            is_response: out.direction() == Direction::ToClient,
            function_code: None,
            function: "invalid",
            class: FunctionClass::Other,
            anomalies: a,
            fields: Fields::Modbus(f),
            identity: None,
        });
    }
}

impl StreamParser for ModbusParser {
    fn parse(&mut self, data: &[u8], out: &mut Emitter<'_>) -> usize {
        let mut consumed = 0;
        while let Some(rest) = data.get(consumed..).filter(|r| !r.is_empty()) {
            match framing(rest) {
                Framing::Incomplete => break,
                Framing::Frame(size) => {
                    self.frame(rest.get(..size).unwrap_or(rest), out);
                    consumed += size;
                }
                Framing::Invalid(reason) => {
                    let skip = (1..rest.len())
                        .find(|&at| rest.get(at..).is_some_and(plausible_start))
                        .unwrap_or(rest.len());
                    self.garbage(rest.get(..skip).unwrap_or(rest), reason, out);
                    consumed += skip;
                }
            }
        }
        consumed
    }

    /// The parser holds no partial bytes, so a gap only affects pairing:
    /// pending requests stay (their responses may still come), but after a
    /// gap in the responses a new request reusing a pending transaction id is
    /// no longer flagged as a duplicate, since its response may have been lost.
    fn gap(&mut self, dir: Direction) {
        if dir == Direction::ToClient {
            self.response_gaps = self.response_gaps.wrapping_add(1);
        }
    }
}

/// Anomalies that show a frame's structure is not Modbus, for [`probe`].
const STRUCTURAL: &[&str] = &[
    MBAP_LENGTH_MISMATCH,
    TRUNCATED_PDU,
    BYTE_COUNT_MISMATCH,
    UNKNOWN_FUNCTION_CODE,
    EXCEPTION_IN_REQUEST,
];

/// Recognises Modbus/TCP by structure, not port: protocol id 0 and an MBAP
/// length in range (2..=254; up to 2048 for UMAS), frame after frame. Fewer
/// than 8 bytes (a header and a function code) give `NeedMore`.
///
/// On the well-known port (`on_known_port`), whole frames are enough, whatever
/// their function code (fuzzers and scanners send invalid ones, and they must
/// be seen); a first frame still incomplete matches if its function code is
/// not unknown, else more bytes are needed. Elsewhere the evidence must be
/// stronger: the bytes must be whole frames back to back, each with a public
/// function code and a PDU whose structure agrees with its MBAP length; an
/// incomplete frame gives `NeedMore`. HTTP, TLS, DNP3 and TPKT all fail the
/// protocol id test.
pub fn probe(data: &[u8], direction: Direction, on_known_port: bool) -> Probe {
    if data.len() < MBAP_LEN + 1 {
        return Probe::NeedMore;
    }
    let is_response = direction == Direction::ToClient;
    let mut rest = data;
    let mut frames = 0usize;
    while !rest.is_empty() {
        match framing(rest) {
            Framing::Invalid(_) => return Probe::NoMatch,
            Framing::Incomplete => break,
            Framing::Frame(size) => {
                let frame = rest.get(..size).unwrap_or(rest);
                if !on_known_port && !strict_frame(frame, is_response) {
                    return Probe::NoMatch;
                }
                frames += 1;
                rest = rest.get(size..).unwrap_or_default();
            }
        }
    }
    if rest.is_empty() {
        return Probe::Match;
    }
    // `rest` starts a frame still incomplete.
    if !on_known_port {
        return Probe::NeedMore;
    }
    let known = rest
        .get(MBAP_LEN)
        .is_some_and(|&fc| FunctionCode(fc).kind() != CodeKind::Unknown);
    if frames > 0 || known {
        Probe::Match
    } else {
        Probe::NeedMore
    }
}

/// A frame with a public function code whose PDU decodes without structural
/// anomalies.
fn strict_frame(frame: &[u8], is_response: bool) -> bool {
    let public = frame
        .get(MBAP_LEN)
        .is_some_and(|&fc| FunctionCode(fc).kind() == CodeKind::Public);
    if !public {
        return false;
    }
    let mut f = ModbusFields::default();
    let mut a = Anomalies::new();
    decode(frame, is_response, None, &mut f, &mut a);
    !a.iter().any(|name| STRUCTURAL.contains(&name)) && !a.overflowed()
}
