//! S7comm (S7 communication, protocol id 0x32), the classic protocol of
//! Siemens S7-300/400/1200/1500 PLCs, carried in COTP TSDUs on port 102.
//!
//! One event per S7comm PDU, i.e. per COTP TSDU whose first octet is 0x32
//! (after COTP reassembly). Userdata answers that the PLC splits over several
//! PDUs (data unit reference set, "last data unit" no) are still one event
//! each; their data is reassembled and decoded on the last one, as Wireshark
//! does, so an SZL list split in two is read (and its `szl_id` reported) on
//! the PDU that completes it.
//!
//! Layout: [`names`] holds code values, names and classes; [`szl`] the system
//! status lists that identify a module; this file the header, parameter and
//! data decoding ([`decode`], a pure function over a PDU), the per-connection
//! state (request/response pairing by PDU reference, userdata reassembly,
//! upload ids) and the event fields.

pub mod names;
pub mod szl;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use super::Emitter;
use super::cotp::Tsdu;
use super::cotp::bytes::{be16, be24, be32, text, u8_at};
use crate::event::{
    Anomalies, Fields, FunctionClass, Identity, Nest, Pdu, Protocol, Value, Visitor,
};
use names::{Area, Function, Rosctr, block_type_name, group, subfunction, syntax_id, ud_type};

/// Protocol id: the first octet of every S7comm PDU.
pub const PROTOCOL_ID: u8 = 0x32;
/// Header of job and userdata PDUs.
const HEADER_LEN: usize = 10;
/// Header of ack and ack_data PDUs (with error class and code).
const HEADER_LEN_WITH_ERROR: usize = 12;
/// Items decoded at most per PDU (a 960-octet PDU holds about 20).
pub const MAX_ITEMS: usize = 64;
/// Requests awaiting their answer, per direction.
pub const MAX_PENDING: usize = 64;
/// Largest reassembled userdata answer.
pub const MAX_USERDATA: usize = 64 * 1024;
/// Upload ids remembered per connection (with the block being uploaded).
const MAX_UPLOADS: usize = 8;
/// File names and PI service names are cut to this many characters.
const MAX_NAME: usize = 64;
/// Userdata data header: return code, transport size, 16-bit length.
const UD_DATA_HEADER: usize = 4;

/// Whether a TSDU is an S7comm PDU, as Wireshark decides: protocol id 0x32,
/// a ROSCTR of 1 to 7, at least a 10-octet header. Other TSDUs starting with
/// 0x32 are reported as COTP data with [`anomaly::INVALID_S7COMM_HEADER`].
pub fn is_s7comm(tsdu: &[u8]) -> bool {
    tsdu.len() >= HEADER_LEN
        && tsdu.first() == Some(&PROTOCOL_ID)
        && tsdu.get(1).is_some_and(|r| (1..=7).contains(r))
}

/// Stable anomaly names of this decoder.
/// Every `function` name `s7comm` events carry, for rule validation.
pub fn function_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = (0..=0xff_u8)
        .filter_map(|c| Function(c).describe().map(|(n, _)| n))
        .collect();
    names.extend(
        (0..=0x0f_u8).flat_map(|g| (0..=0xff_u8).map(move |s| names::userdata_function(g, s).name)),
    );
    names.extend((0..=0xff_u8).map(|r| Rosctr(r).name()));
    names.extend(["userdata", "ack", "unknown", "invalid"]);
    names.sort_unstable();
    names.dedup();
    names
}

pub mod anomaly {
    /// A TSDU starting with 0x32 that is not S7comm (shorter than a header,
    /// or a ROSCTR outside 1..=7): on a `cotp` `data` event.
    pub const INVALID_S7COMM_HEADER: &str = "invalid_s7comm_header";
    /// An ack or ack_data shorter than its 12-octet header (or, from
    /// [`decode`] called directly, any PDU shorter than 10 octets).
    pub const TRUNCATED_HEADER: &str = "truncated_header";
    /// ROSCTR 4, 5 or 6 (not job, ack, ack_data, userdata).
    pub const UNKNOWN_ROSCTR: &str = "unknown_rosctr";
    /// Header, parameter and data lengths do not add up to the PDU's size.
    pub const PDU_LENGTH_MISMATCH: &str = "pdu_length_mismatch";
    /// A job without a parameter (no function code).
    pub const MISSING_PARAMETER: &str = "missing_parameter";
    /// The parameter ends before the fields its function needs.
    pub const TRUNCATED_PARAMETER: &str = "truncated_parameter";
    /// The data part ends before the fields its function needs.
    pub const TRUNCATED_DATA: &str = "truncated_data";
    /// A variable specification that is not type 0x12 or runs past the parameter.
    pub const INVALID_ITEM: &str = "invalid_item";
    /// Items or return codes present differ from the item count.
    pub const ITEM_COUNT_MISMATCH: &str = "item_count_mismatch";
    pub const UNKNOWN_FUNCTION_CODE: &str = "unknown_function_code";
    pub const UNKNOWN_USERDATA_GROUP: &str = "unknown_userdata_group";
    pub const UNKNOWN_USERDATA_SUBFUNCTION: &str = "unknown_userdata_subfunction";
    /// Userdata parameter shorter than its 8-octet minimum.
    pub const INVALID_USERDATA_PARAMETER: &str = "invalid_userdata_parameter";
    /// A reassembled userdata answer outgrew its bound and was dropped.
    pub const USERDATA_TOO_LONG: &str = "userdata_too_long";
    /// No pending request with this PDU reference (expected after a capture
    /// gap or when the capture starts mid-connection).
    pub const RESPONSE_WITHOUT_REQUEST: &str = "response_without_request";
    /// The answer's function (or userdata group/sub-function) differs from its request's.
    pub const FUNCTION_MISMATCH: &str = "function_mismatch";
    /// A request reuses the PDU reference of a request still unanswered.
    pub const DUPLICATE_PDU_REFERENCE: &str = "duplicate_pdu_reference";
    /// The pending table was full: the oldest request was forgotten.
    pub const PENDING_TABLE_FULL: &str = "pending_table_full";

    /// Every anomaly name, for rule validation.
    pub const ALL: &[&str] = &[
        INVALID_S7COMM_HEADER,
        TRUNCATED_HEADER,
        UNKNOWN_ROSCTR,
        PDU_LENGTH_MISMATCH,
        MISSING_PARAMETER,
        TRUNCATED_PARAMETER,
        TRUNCATED_DATA,
        INVALID_ITEM,
        ITEM_COUNT_MISMATCH,
        UNKNOWN_FUNCTION_CODE,
        UNKNOWN_USERDATA_GROUP,
        UNKNOWN_USERDATA_SUBFUNCTION,
        INVALID_USERDATA_PARAMETER,
        USERDATA_TOO_LONG,
        RESPONSE_WITHOUT_REQUEST,
        FUNCTION_MISMATCH,
        DUPLICATE_PDU_REFERENCE,
        PENDING_TABLE_FULL,
    ];
}
use anomaly::*;

/// One variable specification of a read/write var job (or of a cyclic
/// transfer request).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Item {
    /// Wireshark `s7comm.param.item.syntaxid` (0x10 S7ANY, 0xb0 DBREAD…).
    pub syntax_id: u8,
    /// Wireshark `s7comm.param.item.area` (S7ANY).
    pub area: Option<u8>,
    /// Wireshark `s7comm.param.item.db` (S7ANY; DBREAD; 1200 symbolic DB access).
    pub db: Option<u16>,
    /// Wireshark `s7comm.param.item.address`: byte << 3 | bit, or the number
    /// of a timer or counter (S7ANY).
    pub address: Option<u32>,
    /// Start byte (DBREAD).
    pub start: Option<u16>,
    /// Wireshark `s7comm.param.item.transp_size` (S7ANY).
    pub transport_size: Option<u8>,
    /// Wireshark `s7comm.param.item.length`: elements (S7ANY), octets (DBREAD).
    pub length: Option<u16>,
}

impl Item {
    fn visit(&self, v: &mut dyn Visitor) {
        v.begin("", Nest::Object);
        v.field("syntax_id", Value::U64(self.syntax_id.into()));
        if let Some(area) = self.area {
            v.field("area", Value::U64(area.into()));
            if let Some(name) = Area(area).name() {
                v.field("area_name", Value::Str(name));
            }
        }
        if let Some(db) = self.db {
            v.field("db", Value::U64(db.into()));
        }
        if let Some(address) = self.address {
            v.field("address", Value::U64(address.into()));
            if !self.area.is_some_and(|a| Area(a).is_numbered()) {
                v.field("byte", Value::U64((address >> 3).into()));
                v.field("bit", Value::U64((address & 7).into()));
            }
        }
        if let Some(start) = self.start {
            v.field("byte", Value::U64(start.into()));
        }
        if let Some(t) = self.transport_size {
            v.field("transport_size", Value::U64(t.into()));
        }
        if let Some(length) = self.length {
            v.field("length", Value::U64(length.into()));
        }
        v.end();
    }
}

/// A PLC block, as named in file names (`_0A00001P`) and block functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// The two ASCII characters of the type (`0A` is DB).
    pub type_code: [u8; 2],
    pub number: Option<u32>,
}

impl Block {
    /// The type's name (`DB`, `OB`, `FC`…), or its characters if unnamed.
    pub fn type_name(&self) -> &str {
        block_type_name(self.type_code)
            .or_else(|| std::str::from_utf8(&self.type_code).ok())
            .unwrap_or("unknown")
    }

    /// A block from its one-octet sub-block type (0x0a DB…) and number.
    fn from_subblock(kind: u8, number: u16) -> Option<Block> {
        let digit = b"0123456789ABCDEF".get(usize::from(kind))?;
        Some(Block {
            type_code: [b'0', *digit],
            number: Some(number.into()),
        })
    }

    /// A block from its type characters and up to five ASCII digits.
    fn from_ascii(type_code: &[u8], number: &[u8]) -> Option<Block> {
        let type_code: [u8; 2] = type_code.try_into().ok()?;
        let number = (!number.is_empty() && number.iter().all(u8::is_ascii_digit)).then(|| {
            number
                .iter()
                .fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'))
        });
        Some(Block { type_code, number })
    }

    fn visit(&self, v: &mut dyn Visitor) {
        v.begin("block", Nest::Object);
        v.field("type", Value::Str(self.type_name()));
        if let Some(number) = self.number {
            v.field("number", Value::U64(number.into()));
        }
        v.end();
    }
}

/// S7comm fields of one event. Absent (`None`, empty) fields are not written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct S7commFields {
    /// Wireshark `s7comm.header.rosctr`; its name is written as `rosctr_name`.
    pub rosctr: u8,
    /// Wireshark `s7comm.header.pduref`.
    pub pdu_ref: u16,
    /// Wireshark `s7comm.header.parlg`.
    pub param_length: u16,
    /// Wireshark `s7comm.header.datlg`.
    pub data_length: u16,
    /// Wireshark `s7comm.header.errcls` (ack, ack_data).
    pub error_class: Option<u8>,
    /// Wireshark `s7comm.header.errcod` (ack, ack_data).
    pub error_code: Option<u8>,
    /// Userdata method (Wireshark `s7comm.param.userdata.reqres1`): 0x11 request, 0x12 response.
    pub userdata_method: Option<u8>,
    /// Wireshark `s7comm.param.userdata.type`: 0 push, 4 request, 8 response.
    pub userdata_type: Option<u8>,
    /// Wireshark `s7comm.param.userdata.funcgroup`.
    pub userdata_group: Option<u8>,
    /// Wireshark `s7comm.param.userdata.subfunc` (not for mode transitions:
    /// see `cpu_mode`).
    pub userdata_subfunction: Option<u8>,
    /// Wireshark `s7comm.param.userdata.seq_num`.
    pub sequence: Option<u8>,
    /// Wireshark `s7comm.param.userdata.dataunitref`.
    pub data_unit_reference: Option<u8>,
    /// Wireshark `s7comm.param.userdata.lastdataunit` (0x00 yes).
    pub last_data_unit: Option<bool>,
    /// Userdata parameter error code (Wireshark `s7comm.param.errcod`).
    pub userdata_error_code: Option<u16>,
    /// Userdata data return code (Wireshark `s7comm.data.returncode`): 0xff success.
    pub return_code: Option<u8>,
    /// Mode transition: the CPU's new mode, carried where other groups have
    /// their sub-function (Wireshark `s7comm.param.modetrans.subfunc`); its
    /// name is written as `cpu_mode_name`.
    pub cpu_mode: Option<u8>,
    /// Setup communication (Wireshark `s7comm.param.maxamq_calling`).
    pub max_amq_calling: Option<u16>,
    /// Setup communication (Wireshark `s7comm.param.maxamq_called`).
    pub max_amq_called: Option<u16>,
    /// Setup communication: PDU size (Wireshark `s7comm.param.pdu_length`).
    pub pdu_size: Option<u16>,
    /// Wireshark `s7comm.param.itemcount` (read/write var, cyclic transfer).
    pub item_count: Option<u8>,
    /// Variable specifications. Answers carry their request's.
    pub items: Vec<Item>,
    /// Read/write var answers: each item's return code (0xff success).
    pub item_return_codes: Vec<u8>,
    /// Wireshark `s7comm.data.userdata.szl_id`.
    pub szl_id: Option<u16>,
    /// Wireshark `s7comm.data.userdata.szl_index`.
    pub szl_index: Option<u16>,
    /// Block uploaded, downloaded, listed or inserted. Answers carry their
    /// request's; upload and end upload carry their start upload's.
    pub block: Option<Block>,
    /// A file name that does not name a block.
    pub filename: Option<String>,
    /// PLC control / stop: the PI service (`P_PROGRAM`, `_INSE`, `_GARB`…).
    pub pi_service: Option<String>,
    /// Upload id of an upload session.
    pub upload_id: Option<u32>,
    /// Clock read or set, `YYYY-MM-DD hh:mm:ss.mmm` (PLC local time).
    pub clock: Option<String>,
    /// Userdata PDUs whose data was reassembled into this one, when more than one.
    pub fragments: Option<u16>,
    /// COTP DT TPDUs that carried this PDU, when more than one.
    pub cotp_segments: Option<u16>,
    /// Packet of the request this answers.
    pub request_packet: Option<u64>,
}

impl S7commFields {
    /// The userdata sub-function octet (the CPU mode for mode transitions).
    pub fn userdata_function(&self) -> Option<(u8, u8)> {
        self.userdata_group
            .zip(self.userdata_subfunction.or(self.cpu_mode))
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
        u(v, "rosctr", Some(self.rosctr));
        s(v, "rosctr_name", Some(Rosctr(self.rosctr).name()));
        u(v, "pdu_ref", Some(self.pdu_ref));
        u(v, "param_length", Some(self.param_length));
        u(v, "data_length", Some(self.data_length));
        u(v, "error_class", self.error_class);
        u(v, "error_code", self.error_code);
        u(v, "userdata_method", self.userdata_method);
        u(v, "userdata_type", self.userdata_type);
        u(v, "userdata_group", self.userdata_group);
        u(v, "userdata_subfunction", self.userdata_subfunction);
        u(v, "sequence", self.sequence);
        u(v, "data_unit_reference", self.data_unit_reference);
        if let Some(last) = self.last_data_unit {
            v.field("last_data_unit", Value::Bool(last));
        }
        u(v, "userdata_error_code", self.userdata_error_code);
        u(v, "return_code", self.return_code);
        u(v, "cpu_mode", self.cpu_mode);
        s(
            v,
            "cpu_mode_name",
            self.cpu_mode.and_then(names::cpu_mode_name),
        );
        u(v, "max_amq_calling", self.max_amq_calling);
        u(v, "max_amq_called", self.max_amq_called);
        u(v, "pdu_size", self.pdu_size);
        u(v, "item_count", self.item_count);
        if !self.items.is_empty() {
            v.begin("items", Nest::List);
            for item in &self.items {
                item.visit(v);
            }
            v.end();
        }
        if !self.item_return_codes.is_empty() {
            v.begin("item_return_codes", Nest::List);
            for &code in &self.item_return_codes {
                v.field("", Value::U64(code.into()));
            }
            v.end();
        }
        u(v, "szl_id", self.szl_id);
        u(v, "szl_index", self.szl_index);
        if let Some(block) = &self.block {
            block.visit(v);
        }
        s(v, "filename", self.filename.as_deref());
        s(v, "pi_service", self.pi_service.as_deref());
        u(v, "upload_id", self.upload_id);
        s(v, "clock", self.clock.as_deref());
        u(v, "fragments", self.fragments);
        u(v, "cotp_segments", self.cotp_segments);
        u(v, "request_packet", self.request_packet);
    }
}

/// What [`decode`] makes of one PDU.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Decoded {
    pub fields: S7commFields,
    /// Job / ack_data function code (Wireshark `s7comm.param.func`).
    pub function: Option<u8>,
    pub anomalies: Anomalies,
    pub identity: Option<Identity>,
    /// Userdata data that the next PDUs continue (not decoded yet).
    pub fragment: Option<UserdataFragment>,
}

/// Userdata data of a PDU whose answer continues in later PDUs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UserdataFragment {
    pub group: u8,
    pub subfunction: u8,
    pub data_unit_reference: u8,
    /// Whether this is the last one.
    pub last: bool,
}

/// The parts of a userdata PDU that decoding its data needs.
#[derive(Clone, Copy, Debug)]
struct UserdataParam {
    kind: u8,
    group: u8,
    subfunction: u8,
}

/// Decodes one S7comm PDU (a TSDU starting with 0x32) on its own: header,
/// parameter, data. Userdata data split over several PDUs is left for the
/// caller to reassemble: `fragment` says so, and [`S7commState`] decodes
/// the whole on the last one.
pub fn decode(pdu: &[u8]) -> Decoded {
    let mut d = Decoded::default();
    let f = &mut d.fields;
    let a = &mut d.anomalies;
    let rosctr = Rosctr(u8_at(pdu, 1).unwrap_or_default());
    f.rosctr = rosctr.0;
    let header_len = if rosctr.has_error_field() {
        HEADER_LEN_WITH_ERROR
    } else {
        HEADER_LEN
    };
    f.pdu_ref = be16(pdu, 4).unwrap_or_default();
    if pdu.len() < header_len {
        a.add(TRUNCATED_HEADER);
        return d;
    }
    f.param_length = be16(pdu, 6).unwrap_or_default();
    f.data_length = be16(pdu, 8).unwrap_or_default();
    if rosctr.has_error_field() {
        f.error_class = u8_at(pdu, 10);
        f.error_code = u8_at(pdu, 11);
    }
    if !rosctr.is_known() {
        a.add(UNKNOWN_ROSCTR);
    }
    let declared = header_len + usize::from(f.param_length) + usize::from(f.data_length);
    if declared != pdu.len() {
        a.add(PDU_LENGTH_MISMATCH);
    }
    let body = pdu.get(header_len..).unwrap_or_default();
    let param = body.get(..usize::from(f.param_length)).unwrap_or(body);
    let data = body.get(param.len()..).unwrap_or_default();
    let data = data.get(..usize::from(f.data_length)).unwrap_or(data);
    match rosctr {
        Rosctr::JOB | Rosctr::ACK_DATA => job_or_ack_data(rosctr, param, data, &mut d),
        Rosctr::USERDATA => userdata(param, data, &mut d),
        _ => {}
    }
    d
}

fn job_or_ack_data(rosctr: Rosctr, param: &[u8], data: &[u8], d: &mut Decoded) {
    let Some(&code) = param.first() else {
        if rosctr == Rosctr::JOB {
            d.anomalies.add(MISSING_PARAMETER);
        }
        return;
    };
    d.function = Some(code);
    let f = &mut d.fields;
    let a = &mut d.anomalies;
    let job = rosctr == Rosctr::JOB;
    match Function(code) {
        Function::SETUP_COMMUNICATION => {
            f.max_amq_calling = be16(param, 2);
            f.max_amq_called = be16(param, 4);
            f.pdu_size = be16(param, 6);
            if f.pdu_size.is_none() {
                a.add(TRUNCATED_PARAMETER);
            }
        }
        Function::READ_VAR | Function::WRITE_VAR => {
            let Some(count) = u8_at(param, 1) else {
                a.add(TRUNCATED_PARAMETER);
                return;
            };
            f.item_count = Some(count);
            if job {
                let rest = param.get(2..).unwrap_or_default();
                let used = items(rest, count, &mut f.items, a);
                if used < rest.len() {
                    a.add(PDU_LENGTH_MISMATCH);
                }
            } else if code == Function::READ_VAR.0 {
                read_var_data(data, count, &mut f.item_return_codes, a);
            } else {
                f.item_return_codes = data.iter().copied().take(MAX_ITEMS).collect();
                if data.len() != usize::from(count) {
                    a.add(ITEM_COUNT_MISMATCH);
                }
            }
        }
        Function::REQUEST_DOWNLOAD
        | Function::DOWNLOAD_BLOCK
        | Function::DOWNLOAD_ENDED
        | Function::START_UPLOAD
        | Function::UPLOAD
        | Function::END_UPLOAD => {
            if job || code == Function::START_UPLOAD.0 {
                block_transfer(code, job, param, f, a);
            }
        }
        Function::PLC_CONTROL if job => pi_service(param, f, a),
        Function::PLC_STOP if job => {
            // function, 5 unknown octets, length, service name
            match u8_at(param, 6) {
                Some(len) => {
                    let name = param.get(7..).unwrap_or_default();
                    if name.len() < usize::from(len) {
                        a.add(TRUNCATED_PARAMETER);
                    }
                    let name = name.get(..usize::from(len)).unwrap_or(name);
                    f.pi_service = Some(text(name, MAX_NAME));
                }
                None => a.add(TRUNCATED_PARAMETER),
            }
        }
        Function::PLC_CONTROL | Function::PLC_STOP | Function::CPU_SERVICES => {}
        _ => a.add(UNKNOWN_FUNCTION_CODE),
    }
}

/// Parses `count` variable specifications from `param` into `out` (at most
/// [`MAX_ITEMS`]); returns the octets used.
fn items(param: &[u8], count: u8, out: &mut Vec<Item>, a: &mut Anomalies) -> usize {
    // At once rather than growing item by item; an item takes at least 4 octets.
    out.reserve(usize::from(count).min(MAX_ITEMS).min(param.len() / 4 + 1));
    let mut at = 0;
    for _ in 0..count {
        let rest = param.get(at..).unwrap_or_default();
        let (Some(spec), Some(len)) = (u8_at(rest, 0), u8_at(rest, 1)) else {
            a.add(ITEM_COUNT_MISMATCH);
            return at;
        };
        let size = 2 + usize::from(len);
        let Some(body) = rest.get(2..size) else {
            a.add(INVALID_ITEM);
            return param.len();
        };
        if spec != 0x12 || body.is_empty() {
            a.add(INVALID_ITEM);
        }
        if out.len() < MAX_ITEMS {
            out.push(item(spec, body));
        }
        // An item of odd length is followed by a fill octet.
        at += size + (size % 2);
    }
    at.min(param.len())
}

/// One variable specification's body (syntax id onwards); only type 0x12
/// specifications are decoded (as Wireshark does).
fn item(spec: u8, body: &[u8]) -> Item {
    let syntax = u8_at(body, 0).unwrap_or_default();
    let mut item = Item {
        syntax_id: syntax,
        ..Item::default()
    };
    if spec != 0x12 {
        return item;
    }
    match (syntax, body.len()) {
        (syntax_id::S7ANY, 10) => {
            item.transport_size = u8_at(body, 1);
            item.length = be16(body, 2);
            item.db = be16(body, 4);
            item.area = u8_at(body, 6);
            item.address = be24(body, 7);
        }
        (syntax_id::DBREAD, 6..) => {
            // Number of areas, then per area: length (1), DB (2), start (2); the first is kept.
            item.length = u8_at(body, 2).map(u16::from);
            item.db = be16(body, 3);
            item.start = be16(body, 5);
        }
        (syntax_id::SYM_1200, 13..) if be16(body, 2) == Some(0x8a0e) => {
            item.db = be16(body, 4);
        }
        _ => {}
    }
    item
}

/// Read var answer data: per item a return code, transport size, length and
/// the data with a fill octet after odd lengths (but the last).
fn read_var_data(data: &[u8], count: u8, codes: &mut Vec<u8>, a: &mut Anomalies) {
    codes.reserve(usize::from(count).min(MAX_ITEMS));
    let mut at = 0;
    for i in 0..count {
        let Some(code) = u8_at(data, at) else {
            a.add(ITEM_COUNT_MISMATCH);
            return;
        };
        if codes.len() < MAX_ITEMS {
            codes.push(code);
        }
        let (Some(size), Some(len)) = (u8_at(data, at + 1), be16(data, at + 2)) else {
            // Error items may be shortened to the return code alone.
            at += 4;
            continue;
        };
        let mut len = usize::from(len);
        // Transport sizes 3 (bit), 4 (byte/word/dword), 5 (integer) count bits.
        if matches!(size, 3..=5) {
            len = len.div_ceil(8);
        }
        at += 4;
        if code == 0xff || code == 0x00 {
            at += len;
            if len % 2 == 1 && i + 1 < count {
                at += 1;
            }
        }
    }
    if at > data.len() {
        a.add(TRUNCATED_DATA);
    }
}

/// A file name: a block (`_0A00001P`: identifier, type, five digits,
/// file system) or other text.
fn filename(name: &[u8], f: &mut S7commFields) {
    match name {
        [b'_' | b'$', t0, t1, number @ .., _filesystem]
            if name.len() == 9 && block_type_name([*t0, *t1]).is_some() =>
        {
            f.block = Block::from_ascii(&[*t0, *t1], number);
        }
        _ => f.filename = Some(text(name, MAX_NAME)),
    }
}

/// Upload / download parameters (request download, download block, download
/// ended, start upload, upload, end upload).
fn block_transfer(code: u8, job: bool, param: &[u8], f: &mut S7commFields, a: &mut Anomalies) {
    // function, status, 2 octets (unknown or error code), 4 octets (upload id or unknown)
    let id = be32(param, 4);
    let Some(id) = id else {
        a.add(TRUNCATED_PARAMETER);
        return;
    };
    let has_upload_id = matches!(
        Function(code),
        Function::START_UPLOAD | Function::UPLOAD | Function::END_UPLOAD
    );
    if has_upload_id {
        f.upload_id = Some(id);
    }
    let has_filename = job
        && matches!(
            Function(code),
            Function::REQUEST_DOWNLOAD
                | Function::DOWNLOAD_BLOCK
                | Function::DOWNLOAD_ENDED
                | Function::START_UPLOAD
        );
    if has_filename {
        let Some(len) = u8_at(param, 8) else {
            a.add(TRUNCATED_PARAMETER);
            return;
        };
        let name = param.get(9..).unwrap_or_default();
        if name.len() < usize::from(len) {
            a.add(TRUNCATED_PARAMETER);
        }
        filename(name.get(..usize::from(len)).unwrap_or(name), f);
    }
}

/// PI service (PLC control): function, 7 unknown octets, parameter block
/// length and block, service name length and name. `_INSE` and `_DELE` list
/// blocks in their parameter block; the first is reported.
fn pi_service(param: &[u8], f: &mut S7commFields, a: &mut Anomalies) {
    let Some(block_len) = be16(param, 8) else {
        if param.len() > 8 {
            a.add(TRUNCATED_PARAMETER);
        }
        return;
    };
    let block_start = 10;
    let block_end = block_start + usize::from(block_len);
    let block = param.get(block_start..block_end);
    let name = u8_at(param, block_end)
        .and_then(|len| param.get(block_end + 1..block_end + 1 + usize::from(len)));
    let (Some(block), Some(name)) = (block, name) else {
        a.add(TRUNCATED_PARAMETER);
        return;
    };
    f.pi_service = Some(text(name, MAX_NAME));
    if matches!(name, b"_INSE" | b"_DELE") && u8_at(block, 0).is_some_and(|n| n > 0) {
        // count, unknown, then 8-octet names: type (2), number (5), file system (1)
        if let Some(first) = block.get(2..10) {
            f.block = Block::from_ascii(
                first.get(..2).unwrap_or_default(),
                first.get(2..7).unwrap_or_default(),
            );
        }
    }
}

fn userdata(param: &[u8], data: &[u8], d: &mut Decoded) {
    let f = &mut d.fields;
    let a = &mut d.anomalies;
    // head (3), parameter length (1), method (1), type/group (1), sub-function (1), sequence (1)
    if param.len() < 8 {
        a.add(INVALID_USERDATA_PARAMETER);
        return;
    }
    let type_group = u8_at(param, 5).unwrap_or_default();
    let p = UserdataParam {
        kind: type_group >> 4,
        group: type_group & 0x0f,
        subfunction: u8_at(param, 6).unwrap_or_default(),
    };
    f.userdata_method = u8_at(param, 4);
    f.userdata_type = Some(p.kind);
    f.userdata_group = Some(p.group);
    if p.group == group::MODE_TRANSITION {
        f.cpu_mode = Some(p.subfunction);
    } else {
        f.userdata_subfunction = Some(p.subfunction);
    }
    f.sequence = u8_at(param, 7);
    let mut fragment = UserdataFragment {
        group: p.group,
        subfunction: p.subfunction,
        data_unit_reference: 0,
        last: true,
    };
    if u8_at(param, 3) == Some(8) {
        if param.len() < 12 {
            a.add(INVALID_USERDATA_PARAMETER);
        }
        f.data_unit_reference = u8_at(param, 8);
        f.last_data_unit = u8_at(param, 9).map(|l| l == 0);
        f.userdata_error_code = be16(param, 10);
        fragment.data_unit_reference = f.data_unit_reference.unwrap_or_default();
        fragment.last = f.last_data_unit.unwrap_or(true);
    }
    let function = names::userdata_function(p.group, p.subfunction);
    if function.unknown_group {
        a.add(UNKNOWN_USERDATA_GROUP);
    }
    if function.unknown_subfunction {
        a.add(UNKNOWN_USERDATA_SUBFUNCTION);
    }
    if data.len() < UD_DATA_HEADER {
        if !data.is_empty() {
            a.add(TRUNCATED_DATA);
        }
        return;
    }
    f.return_code = u8_at(data, 0);
    let len = usize::from(be16(data, 2).unwrap_or_default());
    let payload = data.get(UD_DATA_HEADER..).unwrap_or_default();
    if payload.len() < len {
        a.add(TRUNCATED_DATA);
    }
    let payload = payload.get(..len).unwrap_or(payload);
    // Data split over PDUs is reassembled by data unit reference (Wireshark
    // does the same); short data is never a fragment.
    if fragment.data_unit_reference > 0 && len >= 2 {
        d.fragment = Some(fragment);
        return;
    }
    if fragment.last {
        userdata_payload(p, payload, d);
    }
}

/// Decodes the (possibly reassembled) data of a userdata PDU whose parameter
/// is already in `d`: `payload` is the data after its 4-octet header.
fn userdata_payload(p: UserdataParam, payload: &[u8], d: &mut Decoded) {
    if payload.len() < 2 {
        return;
    }
    let f = &mut d.fields;
    let request = p.kind == ud_type::REQUEST;
    let response = p.kind == ud_type::RESPONSE;
    match (p.group, p.subfunction) {
        // As Wireshark: a request's SZL id and index whatever its return
        // code, an answer's only if it reports success.
        (group::CPU, subfunction::READ_SZL)
            if request || (response && f.return_code == Some(0xff)) =>
        {
            f.szl_id = be16(payload, 0);
            f.szl_index = be16(payload, 2);
            if response {
                d.identity = szl::Szl::parse(payload).and_then(|szl| szl.identity());
            }
        }
        (group::BLOCK, subfunction::LIST_BLOCKS_OF_TYPE) if request => {
            f.block = Block::from_ascii(payload.get(..2).unwrap_or_default(), &[]);
        }
        (group::BLOCK, subfunction::GET_BLOCK_INFO) if request => {
            f.block = Block::from_ascii(
                payload.get(..2).unwrap_or_default(),
                payload.get(2..7).unwrap_or_default(),
            );
        }
        (group::BLOCK, subfunction::GET_BLOCK_INFO) if response && f.return_code == Some(0xff) => {
            // type (2), info length (2), unknown (2), "pp" (2), unknown, flags, language,
            // sub-block type (1), number (2)
            if let (Some(kind), Some(number)) = (u8_at(payload, 11), be16(payload, 12)) {
                f.block = Block::from_subblock(kind, number);
            }
        }
        (group::TIME, subfunction::READ_CLOCK | subfunction::READ_CLOCK_FOLLOWING)
            if response && f.return_code == Some(0xff) =>
        {
            f.clock = clock(payload);
        }
        (group::TIME, subfunction::SET_CLOCK | subfunction::SET_CLOCK_2) if request => {
            f.clock = clock(payload);
        }
        (
            group::CYCLIC,
            subfunction::CYCLIC_TRANSFER
            | subfunction::CHANGE_DRIVEN_TRANSFER
            | subfunction::CHANGE_DRIVEN_TRANSFER_MODIFY,
        ) => {
            // unknown (1), item count (1), then for requests time base, interval and items
            let count = u8_at(payload, 1).unwrap_or_default();
            f.item_count = Some(count);
            if request {
                let rest = payload.get(4..).unwrap_or_default();
                items(rest, count, &mut f.items, &mut d.anomalies);
            }
        }
        _ => {}
    }
}

/// An S7 DATE_AND_TIME: 10 BCD octets (reserved, century, year, month, day,
/// hour, minute, second, milliseconds and weekday), as
/// `YYYY-MM-DD hh:mm:ss.mmm`. `None` if a digit is not BCD.
fn clock(b: &[u8]) -> Option<String> {
    let b = b.get(..10)?;
    let bcd = |x: u8| {
        (x >> 4 < 10 && x & 0x0f < 10).then(|| u32::from(x >> 4) * 10 + u32::from(x & 0x0f))
    };
    let year2 = bcd(*b.get(2)?)?;
    let year = if year2 < 90 {
        2000 + year2
    } else {
        1900 + year2
    };
    let (month, day) = (bcd(b[3])?, bcd(b[4])?);
    let (hour, minute, second) = (bcd(b[5])?, bcd(b[6])?, bcd(b[7])?);
    let millis = bcd(b[8])? * 10 + u32::from(b[9] >> 4);
    Some(format!(
        "{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}.{millis:03}"
    ))
}

/// A request awaiting its answer.
#[derive(Clone, Debug)]
struct Pending {
    pdu_ref: u16,
    /// Job function code, or userdata group and sub-function.
    function: Option<u8>,
    userdata: Option<(u8, u8)>,
    /// The name and class the request was given.
    name: &'static str,
    class: FunctionClass,
    packet: u64,
    items: Vec<Item>,
    block: Option<Block>,
}

/// A userdata answer being reassembled in one direction.
#[derive(Debug, Default)]
struct Reassembly {
    /// Group, sub-function, data unit reference of the fragments.
    key: Option<(u8, u8, u8)>,
    buf: Vec<u8>,
    fragments: u16,
    overflowed: bool,
}

/// Per-connection S7comm state.
#[derive(Debug, Default)]
pub struct S7commState {
    /// Requests by the direction they travelled; oldest first.
    pending: [VecDeque<Pending>; 2],
    reassembly: [Reassembly; 2],
    /// Upload ids given by start upload answers, with their block.
    uploads: VecDeque<(u32, Block)>,
}

impl S7commState {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes were lost in `dir`: userdata being reassembled there is
    /// dropped, and so are the requests whose answers travel in `dir` (they
    /// may have been lost), so that reusing their PDU reference is not a
    /// duplicate.
    pub fn gap(&mut self, dir: super::Direction) {
        self.reassembly[dir.index()] = Reassembly::default();
        self.pending[dir.reverse().index()].clear();
    }

    /// Decodes one S7comm PDU and emits its event.
    pub fn pdu(&mut self, tsdu: &Tsdu<'_>, out: &mut Emitter<'_>) {
        let dir = out.direction();
        let mut d = decode(tsdu.data);
        for name in tsdu.anomalies.iter() {
            d.anomalies.add(name);
        }
        if tsdu.segments > 1 {
            d.fields.cotp_segments = Some(tsdu.segments);
        }
        if let Some(fragment) = d.fragment {
            self.reassemble(dir, fragment, tsdu.data, &mut d);
        }
        let rosctr = Rosctr(d.fields.rosctr);
        let (mut name, mut class) = describe(&d);
        let is_request = rosctr == Rosctr::JOB
            || (rosctr == Rosctr::USERDATA && d.fields.userdata_type == Some(ud_type::REQUEST));
        let is_answer = matches!(rosctr, Rosctr::ACK | Rosctr::ACK_DATA)
            || (rosctr == Rosctr::USERDATA && d.fields.userdata_type == Some(ud_type::RESPONSE));
        if is_answer && !d.anomalies.contains(TRUNCATED_HEADER) {
            match self.take_pending(dir.reverse(), d.fields.pdu_ref) {
                Some(req) => {
                    let f = &mut d.fields;
                    f.request_packet = Some(req.packet);
                    let same = match (req.function, d.function, req.userdata) {
                        (_, _, Some(ud)) => Some(ud) == f.userdata_function(),
                        (Some(r), Some(s), None) => r == s,
                        // An ack without parameter answers whatever was asked.
                        (Some(_), None, None) => true,
                        _ => false,
                    };
                    if !same {
                        d.anomalies.add(FUNCTION_MISMATCH);
                    } else {
                        if f.items.is_empty() {
                            f.items = req.items;
                        }
                        if f.block.is_none() {
                            f.block = req.block;
                        }
                        if d.function.is_none() && rosctr != Rosctr::USERDATA {
                            (name, class) = (req.name, req.class);
                        }
                    }
                }
                None => d.anomalies.add(RESPONSE_WITHOUT_REQUEST),
            }
            self.note_upload(&d);
        }
        let upload =
            d.function == Some(Function::UPLOAD.0) || d.function == Some(Function::END_UPLOAD.0);
        if upload && rosctr == Rosctr::JOB && d.fields.block.is_none() {
            {
                let id = d.fields.upload_id;
                d.fields.block = self
                    .uploads
                    .iter()
                    .find(|(u, _)| Some(*u) == id)
                    .map(|(_, b)| *b);
            }
        }
        if is_request && !d.anomalies.contains(TRUNCATED_HEADER) {
            let req = Pending {
                pdu_ref: d.fields.pdu_ref,
                function: d.function,
                userdata: (rosctr == Rosctr::USERDATA)
                    .then(|| d.fields.userdata_function())
                    .flatten(),
                name,
                class,
                packet: out.header().packet,
                items: d.fields.items.clone(),
                block: d.fields.block,
            };
            self.add_pending(dir, req, &mut d.anomalies);
        }
        out.emit(Pdu {
            protocol: Protocol::S7comm,
            is_response: dir == super::Direction::ToClient,
            function_code: d.function.map(u32::from),
            function: name,
            class,
            anomalies: d.anomalies,
            identity: d.identity.map(Box::new),
            fields: Fields::S7comm(Box::new(d.fields)),
        });
    }

    /// Adds userdata data to the direction's reassembly; on the last
    /// fragment, decodes the whole into `d`.
    fn reassemble(
        &mut self,
        dir: super::Direction,
        fragment: UserdataFragment,
        pdu: &[u8],
        d: &mut Decoded,
    ) {
        let r = &mut self.reassembly[dir.index()];
        let key = (
            fragment.group,
            fragment.subfunction,
            fragment.data_unit_reference,
        );
        if r.key != Some(key) {
            *r = Reassembly {
                key: Some(key),
                buf: std::mem::take(&mut r.buf),
                ..Reassembly::default()
            };
            r.buf.clear();
        }
        // The data after its 4-octet header, as `decode` bounded it.
        let header_len = HEADER_LEN;
        let param_len = usize::from(d.fields.param_length);
        let data = pdu.get(header_len + param_len..).unwrap_or_default();
        let len = usize::from(be16(data, 2).unwrap_or_default());
        let payload = data.get(UD_DATA_HEADER..).unwrap_or_default();
        let payload = payload.get(..len).unwrap_or(payload);
        r.fragments = r.fragments.saturating_add(1);
        if !r.overflowed {
            if r.buf.len() + payload.len() > MAX_USERDATA {
                r.overflowed = true;
                r.buf = Vec::new();
            } else {
                r.buf.extend_from_slice(payload);
            }
        }
        if !fragment.last {
            return;
        }
        let fragments = r.fragments;
        let overflowed = r.overflowed;
        let buf = std::mem::take(&mut r.buf);
        *r = Reassembly::default();
        if overflowed {
            d.anomalies.add(USERDATA_TOO_LONG);
        } else {
            if fragments > 1 {
                d.fields.fragments = Some(fragments);
            }
            let p = UserdataParam {
                kind: d.fields.userdata_type.unwrap_or_default(),
                group: fragment.group,
                subfunction: fragment.subfunction,
            };
            userdata_payload(p, &buf, d);
        }
        let r = &mut self.reassembly[dir.index()];
        r.buf = buf;
        r.buf.clear();
    }

    /// Remembers the upload id a start upload answer gives.
    fn note_upload(&mut self, d: &Decoded) {
        if d.function != Some(Function::START_UPLOAD.0) {
            return;
        }
        if let (Some(id), Some(block)) = (d.fields.upload_id, d.fields.block) {
            self.uploads.retain(|(u, _)| *u != id);
            if self.uploads.len() >= MAX_UPLOADS {
                self.uploads.pop_front();
            }
            self.uploads.push_back((id, block));
        }
    }

    fn take_pending(&mut self, dir: super::Direction, pdu_ref: u16) -> Option<Pending> {
        super::take_pending(&mut self.pending[dir.index()], |p| p.pdu_ref == pdu_ref)
    }

    fn add_pending(&mut self, dir: super::Direction, req: Pending, a: &mut Anomalies) {
        if self.take_pending(dir, req.pdu_ref).is_some() {
            a.add(DUPLICATE_PDU_REFERENCE);
        }
        let pending = &mut self.pending[dir.index()];
        if pending.len() >= MAX_PENDING {
            pending.pop_front();
            a.add(PENDING_TABLE_FULL);
        }
        pending.push_back(req);
    }
}

/// The stable name and class of a decoded PDU (before pairing).
fn describe(d: &Decoded) -> (&'static str, FunctionClass) {
    let f = &d.fields;
    if d.anomalies.contains(TRUNCATED_HEADER) {
        return ("invalid", FunctionClass::Other);
    }
    match Rosctr(f.rosctr) {
        Rosctr::USERDATA => match f.userdata_function() {
            Some((g, s)) => {
                let u = names::userdata_function(g, s);
                (u.name, u.class)
            }
            None => ("userdata", FunctionClass::Other),
        },
        Rosctr::ACK if d.function.is_none() => ("ack", FunctionClass::Other),
        _ => match d.function {
            Some(code) => Function(code)
                .describe()
                .unwrap_or(("unknown", FunctionClass::Other)),
            None => (Rosctr(f.rosctr).name(), FunctionClass::Other),
        },
    }
}
