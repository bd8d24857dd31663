//! Unit tests: inline frames, one comment per field. Several frames are those
//! of the public captures under `../shared/pcaps/modbus/` (icsnpp example,
//! Digital Bond test data), as Wireshark decodes them.

use super::*;
use crate::event::{Event, Header, Transport};
use crate::protocols::{Detection, detect_stream};
use crate::time::Timestamp;

use Direction::{ToClient, ToServer};

fn header(packet: u64) -> Header {
    Header {
        ts: Timestamp::from_secs(1_700_000_000),
        capture: 0,
        packet,
        seq: packet,
        flow: 1,
        src_mac: None,
        dst_mac: None,
        src_ip: None,
        dst_ip: None,
        src_port: Some(40000),
        dst_port: Some(PORT),
        transport: Transport::Tcp,
    }
}

/// One connection: a parser, the events it emitted, a packet counter.
struct Conn {
    parser: ModbusParser,
    events: Vec<Event>,
    packet: u64,
}

impl Conn {
    fn new() -> Self {
        Conn {
            parser: ModbusParser::new(),
            events: Vec::new(),
            packet: 0,
        }
    }

    /// Presents `data` as completed by the next packet; returns bytes consumed.
    fn feed(&mut self, dir: Direction, data: &[u8]) -> usize {
        self.packet += 1;
        let mut out = Emitter::new(header(self.packet), dir, &mut self.events);
        self.parser.parse(data, &mut out)
    }

    /// Presents one whole frame and returns its one event.
    fn one(&mut self, dir: Direction, data: &[u8]) -> Pdu {
        let before = self.events.len();
        assert_eq!(self.feed(dir, data), data.len(), "frame not consumed");
        assert_eq!(self.events.len(), before + 1, "not exactly one event");
        self.events.last().expect("an event").pdu.clone()
    }

    fn request(&mut self, data: &[u8]) -> Pdu {
        self.one(ToServer, data)
    }

    fn response(&mut self, data: &[u8]) -> Pdu {
        self.one(ToClient, data)
    }
}

fn mb(pdu: &Pdu) -> &ModbusFields {
    match &pdu.fields {
        Fields::Modbus(f) => f,
        _ => panic!("no Modbus fields"),
    }
}

fn anomalies(pdu: &Pdu) -> Vec<&'static str> {
    pdu.anomalies.iter().collect()
}

fn clean(pdu: &Pdu) {
    assert!(pdu.anomalies.is_empty(), "unexpected {:?}", anomalies(pdu));
}

// ---------------------------------------------------------------- reads

#[test]
fn read_coils_request_and_paired_response() {
    let mut c = Conn::new();
    // icsnpp_modbus_example frame 8
    let req = c.request(&[
        0x00, 0x02, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length
        0x05, // unit id
        0x01, // function code: read coils
        0x00, 0x01, // starting address
        0x00, 0x08, // quantity of coils
    ]);
    clean(&req);
    assert!(!req.is_response);
    assert_eq!(req.protocol, Protocol::Modbus);
    assert_eq!(req.function_code, Some(1));
    assert_eq!(req.function, "read_coils");
    assert_eq!(req.class, FunctionClass::Read);
    let f = mb(&req);
    assert_eq!((f.transaction_id, f.unit_id, f.length), (2, 5, 6));
    assert_eq!((f.address, f.quantity), (Some(1), Some(8)));
    assert_eq!(f.request_packet, None);

    // icsnpp_modbus_example frame 10
    let resp = c.response(&[
        0x00, 0x02, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x04, // length
        0x05, // unit id
        0x01, // function code
        0x01, // byte count
        0xE9, // coil status
    ]);
    clean(&resp);
    assert!(resp.is_response);
    assert_eq!(resp.function, "read_coils");
    assert_eq!(resp.class, FunctionClass::Read);
    let f = mb(&resp);
    assert_eq!(f.byte_count, Some(1));
    // Carried over from the request.
    assert_eq!((f.address, f.quantity), (Some(1), Some(8)));
    assert_eq!(f.request_packet, Some(1));
}

#[test]
fn read_discrete_inputs() {
    let mut c = Conn::new();
    let req = c.request(&[
        0x00, 0x03, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length
        0x04, // unit id
        0x02, // function code: read discrete inputs
        0x00, 0xC4, // starting address
        0x00, 0x16, // quantity of inputs: 22
    ]);
    clean(&req);
    assert_eq!(req.function, "read_discrete_inputs");
    assert_eq!(
        (mb(&req).address, mb(&req).quantity),
        (Some(0xC4), Some(22))
    );
    let resp = c.response(&[
        0x00, 0x03, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length
        0x04, // unit id
        0x02, // function code
        0x03, // byte count: ceil(22 / 8)
        0xAC, 0xDB, 0x35, // input status
    ]);
    clean(&resp);
    assert_eq!(mb(&resp).quantity, Some(22));
}

#[test]
fn read_holding_registers() {
    let mut c = Conn::new();
    // icsnpp_modbus_example frame 24
    let req = c.request(&[
        0x00, 0x06, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length
        0x05, // unit id
        0x03, // function code: read holding registers
        0x00, 0x01, // starting address
        0x00, 0x08, // quantity of registers
    ]);
    clean(&req);
    assert_eq!(req.function, "read_holding_registers");
    assert_eq!(req.class, FunctionClass::Read);
    // icsnpp_modbus_example frame 26
    let resp = c.response(&[
        0x00, 0x06, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x13, // length
        0x05, // unit id
        0x03, // function code
        0x10, // byte count
        0x00, 0xAA, 0x00, 0xAA, 0x00, 0xBB, 0x00, 0xCC, // registers 1-4
        0xEF, 0x84, 0xE3, 0xEB, 0x9F, 0x8B, 0xE4, 0xC1, // registers 5-8
    ]);
    clean(&resp);
    let f = mb(&resp);
    assert_eq!(
        (f.byte_count, f.address, f.quantity),
        (Some(16), Some(1), Some(8))
    );
}

#[test]
fn read_input_registers_byte_count_must_match_request() {
    let mut c = Conn::new();
    c.request(&[
        0x00, 0x07, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length
        0x04, // unit id
        0x04, // function code: read input registers
        0x00, 0x01, // starting address
        0x00, 0x02, // quantity of registers
    ]);
    let resp = c.response(&[
        0x00, 0x07, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x05, // length
        0x04, // unit id
        0x04, // function code
        0x02, // byte count: one register, two were asked for
        0x8E, 0x2B, // register
    ]);
    assert_eq!(resp.function, "read_input_registers");
    assert_eq!(anomalies(&resp), [BYTE_COUNT_MISMATCH]);
}

#[test]
fn read_quantity_limits() {
    let mut c = Conn::new();
    let frame = |tid: u8, fc: u8, qty: u16| {
        let [hi, lo] = qty.to_be_bytes();
        [
            0x00, tid, // transaction id
            0x00, 0x00, // protocol id
            0x00, 0x06, // length
            0x01, // unit id
            fc,   // function code
            0x00, 0x00, // starting address
            hi, lo, // quantity
        ]
    };
    clean(&c.request(&frame(1, 1, 2000)));
    assert_eq!(
        anomalies(&c.request(&frame(2, 1, 2001))),
        [ILLEGAL_QUANTITY]
    );
    assert_eq!(anomalies(&c.request(&frame(3, 2, 0))), [ILLEGAL_QUANTITY]);
    clean(&c.request(&frame(4, 3, 125)));
    assert_eq!(anomalies(&c.request(&frame(5, 4, 126))), [ILLEGAL_QUANTITY]);
}

#[test]
fn range_past_last_address() {
    let mut c = Conn::new();
    let req = c.request(&[
        0x00, 0x01, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length
        0x01, // unit id
        0x03, // function code
        0xFF, 0xFF, // starting address 65535
        0x00, 0x02, // quantity: runs to 65536
    ]);
    assert_eq!(anomalies(&req), [ADDRESS_OVERFLOW]);
}

// ---------------------------------------------------------------- writes

#[test]
fn write_single_coil_and_illegal_value() {
    let mut c = Conn::new();
    // icsnpp_modbus_example frame 36
    let frame = [
        0x00, 0x09, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length
        0x06, // unit id
        0x05, // function code: write single coil
        0x00, 0x01, // output address
        0xFF, 0x00, // output value: ON
    ];
    let req = c.request(&frame);
    clean(&req);
    assert_eq!(req.function, "write_single_coil");
    assert_eq!(req.class, FunctionClass::Write);
    assert_eq!((mb(&req).address, mb(&req).value), (Some(1), Some(0xFF00)));
    let resp = c.response(&frame);
    clean(&resp);
    assert_eq!(mb(&resp).request_packet, Some(1));

    let bad = c.request(&[
        0x00, 0x0A, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length
        0x06, // unit id
        0x05, // function code: write single coil
        0x00, 0x01, // output address
        0x12, 0x34, // output value: neither ON nor OFF
    ]);
    assert_eq!(anomalies(&bad), [ILLEGAL_COIL_VALUE]);
}

#[test]
fn write_single_register_echo_mismatch() {
    let mut c = Conn::new();
    // icsnpp_modbus_example frame 40
    let req = c.request(&[
        0x00, 0x0A, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length
        0x07, // unit id
        0x06, // function code: write single register
        0x00, 0x01, // register address
        0xAB, 0xCD, // register value
    ]);
    clean(&req);
    assert_eq!(req.function, "write_single_register");
    assert_eq!(mb(&req).value, Some(0xABCD));
    let resp = c.response(&[
        0x00, 0x0A, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length
        0x07, // unit id
        0x06, // function code
        0x00, 0x01, // register address
        0xAB, 0xCE, // register value: not what was written
    ]);
    assert_eq!(anomalies(&resp), [RESPONSE_MISMATCH]);
    assert_eq!(mb(&resp).value, Some(0xABCE));
}

#[test]
fn write_multiple_coils() {
    let mut c = Conn::new();
    // icsnpp_modbus_example frame 52
    let req = c.request(&[
        0x00, 0x0D, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x08, // length
        0x07, // unit id
        0x0F, // function code: write multiple coils
        0x00, 0x01, // starting address
        0x00, 0x04, // quantity of outputs
        0x01, // byte count
        0x09, // output values
    ]);
    clean(&req);
    assert_eq!(req.function, "write_multiple_coils");
    assert_eq!(req.class, FunctionClass::Write);
    let f = mb(&req);
    assert_eq!(
        (f.address, f.quantity, f.byte_count),
        (Some(1), Some(4), Some(1))
    );
    // icsnpp_modbus_example frame 54
    let resp = c.response(&[
        0x00, 0x0D, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length
        0x07, // unit id
        0x0F, // function code
        0x00, 0x01, // starting address
        0x00, 0x04, // quantity of outputs
    ]);
    clean(&resp);
    assert_eq!((mb(&resp).address, mb(&resp).quantity), (Some(1), Some(4)));
}

#[test]
fn write_multiple_coils_limits() {
    let mut c = Conn::new();
    let req = c.request(&[
        0x00, 0x01, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x08, // length
        0x01, // unit id
        0x0F, // function code: write multiple coils
        0x00, 0x00, // starting address
        0x07, 0xB1, // quantity of outputs: 1969, one too many
        0x01, // byte count: should be 247
        0x00, // output values
    ]);
    assert_eq!(anomalies(&req), [ILLEGAL_QUANTITY, BYTE_COUNT_MISMATCH]);
}

#[test]
fn write_multiple_registers() {
    let mut c = Conn::new();
    // icsnpp_modbus_example frame 56
    let req = c.request(&[
        0x00, 0x0E, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x0F, // length
        0x07, // unit id
        0x10, // function code: write multiple registers
        0x00, 0x01, // starting address
        0x00, 0x04, // quantity of registers
        0x08, // byte count
        0x00, 0xAA, 0x00, 0xBB, 0x00, 0xCC, 0x00, 0xDD, // registers
    ]);
    clean(&req);
    assert_eq!(req.function, "write_multiple_registers");
    let f = mb(&req);
    assert_eq!(
        (f.address, f.quantity, f.byte_count),
        (Some(1), Some(4), Some(8))
    );
    // icsnpp_modbus_example frame 58
    let resp = c.response(&[
        0x00, 0x0E, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length
        0x07, // unit id
        0x10, // function code
        0x00, 0x01, // starting address
        0x00, 0x04, // quantity of registers
    ]);
    clean(&resp);

    let short = c.request(&[
        0x00, 0x0F, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x0B, // length
        0x07, // unit id
        0x10, // function code: write multiple registers
        0x00, 0x01, // starting address
        0x00, 0x04, // quantity of registers
        0x08, // byte count: 8, but only 4 bytes follow
        0x00, 0xAA, 0x00, 0xBB, // registers
    ]);
    assert_eq!(anomalies(&short), [BYTE_COUNT_MISMATCH]);
    let too_many = c.request(&[
        0x00, 0x10, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x07, // length
        0x07, // unit id
        0x10, // function code: write multiple registers
        0x00, 0x01, // starting address
        0x00, 0x7C, // quantity of registers: 124, one too many
        0x00, // byte count
    ]);
    assert!(too_many.anomalies.contains(ILLEGAL_QUANTITY));
}

#[test]
fn mask_write_register() {
    let mut c = Conn::new();
    // icsnpp_modbus_example frame 72
    let frame = [
        0x00, 0x12, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x08, // length
        0x04, // unit id
        0x16, // function code: mask write register
        0x00, 0x0A, // reference address
        0xDE, 0xAD, // AND mask
        0x00, 0x00, // OR mask
    ];
    let req = c.request(&frame);
    clean(&req);
    assert_eq!(req.function, "mask_write_register");
    assert_eq!(req.class, FunctionClass::Write);
    let f = mb(&req);
    assert_eq!(
        (f.address, f.and_mask, f.or_mask),
        (Some(10), Some(0xDEAD), Some(0))
    );
    clean(&c.response(&frame));
}

#[test]
fn truncated_mask_write_is_still_an_event() {
    // digitalbond_modbus_test_data_part2 frame 62, which Wireshark marks malformed.
    let mut c = Conn::new();
    let req = c.request(&[
        0x00, 0x00, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length: 6, a mask write needs 8
        0x01, // unit id
        0x16, // function code: mask write register
        0x00, 0x00, // reference address
        0x00, 0x00, // AND mask; the OR mask is missing
    ]);
    assert_eq!(req.function_code, Some(22));
    assert_eq!(anomalies(&req), [TRUNCATED_PDU]);
    assert_eq!((mb(&req).address, mb(&req).or_mask), (Some(0), None));
}

#[test]
fn read_write_multiple_registers() {
    let mut c = Conn::new();
    // icsnpp_modbus_example frame 84
    let req = c.request(&[
        0x00, 0x15, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x11, // length
        0x06, // unit id
        0x17, // function code: read/write multiple registers
        0x00, 0x01, // read starting address
        0x00, 0x04, // quantity to read
        0x00, 0x02, // write starting address
        0x00, 0x03, // quantity to write
        0x06, // write byte count
        0x00, 0xAA, 0x00, 0xBB, 0x00, 0xCC, // write registers
    ]);
    clean(&req);
    assert_eq!(req.function, "read_write_multiple_registers");
    assert_eq!(req.class, FunctionClass::Write);
    let f = mb(&req);
    assert_eq!((f.address, f.quantity), (Some(1), Some(4)));
    assert_eq!((f.write_address, f.write_quantity), (Some(2), Some(3)));
    // icsnpp_modbus_example frame 86
    let resp = c.response(&[
        0x00, 0x15, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x0B, // length
        0x06, // unit id
        0x17, // function code
        0x08, // byte count
        0x00, 0xAA, 0x00, 0xAA, 0x00, 0xBB, 0x00, 0xCC, // read registers
    ]);
    clean(&resp);
    let f = mb(&resp);
    assert_eq!((f.address, f.quantity), (Some(1), Some(4)));
    assert_eq!((f.write_address, f.write_quantity), (Some(2), Some(3)));
    assert_eq!(f.byte_count, Some(8));
}

#[test]
fn read_write_multiple_registers_truncated() {
    // digitalbond_modbus_test_data_part2 frame 64, which Wireshark marks malformed.
    let mut c = Conn::new();
    let req = c.request(&[
        0x00, 0x00, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length
        0x01, // unit id
        0x17, // function code: read/write multiple registers
        0x00, 0x00, // read starting address
        0x00, 0x00, // quantity to read; the rest is missing
    ]);
    assert_eq!(req.function_code, Some(23));
    assert!(req.anomalies.contains(TRUNCATED_PDU));
    assert!(req.anomalies.contains(ILLEGAL_QUANTITY));
}

// ---------------------------------------------------------------- files, FIFO

#[test]
fn read_file_record() {
    let mut c = Conn::new();
    let req = c.request(&[
        0x00, 0x20, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x11, // length
        0x08, // unit id
        0x14, // function code: read file record
        0x0E, // byte count
        0x06, // sub-request 1: reference type
        0x00, 0x04, // file number
        0x00, 0x01, // record number
        0x00, 0x02, // record length
        0x06, // sub-request 2: reference type
        0x00, 0x03, // file number
        0x00, 0x09, // record number
        0x00, 0x02, // record length
    ]);
    clean(&req);
    assert_eq!(req.function, "read_file_record");
    assert_eq!(req.class, FunctionClass::Read);
    let f = mb(&req);
    assert_eq!((f.byte_count, f.sub_requests), (Some(14), Some(2)));
    assert_eq!((f.file_number, f.record_number), (Some(4), Some(1)));
    let resp = c.response(&[
        0x00, 0x20, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x0F, // length
        0x08, // unit id
        0x14, // function code
        0x0C, // response data length
        0x05, // sub-response 1: length
        0x06, // reference type
        0x0D, 0xFE, 0x00, 0x20, // record data
        0x05, // sub-response 2: length
        0x06, // reference type
        0x33, 0xCD, 0x00, 0x40, // record data
    ]);
    clean(&resp);
    assert_eq!(mb(&resp).sub_requests, Some(2));
    assert_eq!(mb(&resp).file_number, Some(4));

    let bad = c.request(&[
        0x00, 0x21, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x0A, // length
        0x08, // unit id
        0x14, // function code: read file record
        0x07, // byte count
        0x05, // reference type: must be 6
        0x00, 0x04, // file number
        0x27, 0x10, // record number: 10000, above 9999
        0x00, 0x02, // record length
    ]);
    assert_eq!(
        anomalies(&bad),
        [ILLEGAL_REFERENCE_TYPE, ILLEGAL_RECORD_NUMBER]
    );
}

#[test]
fn write_file_record() {
    let mut c = Conn::new();
    let frame = [
        0x00, 0x22, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x10, // length
        0x08, // unit id
        0x15, // function code: write file record
        0x0D, // request data length
        0x06, // reference type
        0x00, 0x04, // file number
        0x00, 0x07, // record number
        0x00, 0x03, // record length
        0x06, 0xAF, 0x04, 0xBE, 0x10, 0x0D, // record data
    ];
    let req = c.request(&frame);
    clean(&req);
    assert_eq!(req.function, "write_file_record");
    assert_eq!(req.class, FunctionClass::Write);
    let f = mb(&req);
    assert_eq!((f.file_number, f.record_number), (Some(4), Some(7)));
    assert_eq!((f.byte_count, f.sub_requests), (Some(13), Some(1)));
    clean(&c.response(&frame));
}

#[test]
fn read_fifo_queue() {
    let mut c = Conn::new();
    let req = c.request(&[
        0x00, 0x16, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x04, // length
        0x0A, // unit id
        0x18, // function code: read FIFO queue
        0x04, 0xDE, // FIFO pointer address
    ]);
    clean(&req);
    assert_eq!(req.function, "read_fifo_queue");
    assert_eq!(req.class, FunctionClass::Read);
    assert_eq!(mb(&req).address, Some(0x04DE));
    let resp = c.response(&[
        0x00, 0x16, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x0A, // length
        0x0A, // unit id
        0x18, // function code
        0x00, 0x06, // byte count
        0x00, 0x02, // FIFO count
        0x01, 0xB8, 0x12, 0x84, // FIFO registers
    ]);
    clean(&resp);
    let f = mb(&resp);
    assert_eq!(
        (f.byte_count, f.quantity, f.address),
        (Some(6), Some(2), Some(0x04DE))
    );
}

// ---------------------------------------------------------------- diagnostics

#[test]
fn read_exception_status() {
    let mut c = Conn::new();
    // icsnpp_modbus_example frame 44
    let req = c.request(&[
        0x00, 0x0B, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x02, // length
        0x02, // unit id
        0x07, // function code: read exception status
    ]);
    clean(&req);
    assert_eq!(req.function, "read_exception_status");
    assert_eq!(req.class, FunctionClass::Diagnostic);
    let resp = c.response(&[
        0x00, 0x0B, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x03, // length
        0x02, // unit id
        0x07, // function code
        0x6D, // output data
    ]);
    clean(&resp);
    assert_eq!(mb(&resp).value, Some(0x6D));
}

#[test]
fn diagnostics_sub_functions_and_classes() {
    let mut c = Conn::new();
    // icsnpp_modbus_example frame 48
    let frame = [
        0x00, 0x0C, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length
        0x02, // unit id
        0x08, // function code: diagnostics
        0x00, 0x02, // sub-function: return diagnostic register
        0x00, 0x00, // data
    ];
    let req = c.request(&frame);
    clean(&req);
    assert_eq!(req.function, "diagnostics");
    assert_eq!(req.class, FunctionClass::Diagnostic);
    assert_eq!(mb(&req).sub_function, Some(2));
    assert_eq!(
        mb(&req).sub_function_name(),
        Some("return_diagnostic_register")
    );
    clean(&c.response(&frame));

    let restart = c.request(&[
        0x00, 0x0D, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length
        0x01, // unit id
        0x08, // function code: diagnostics
        0x00, 0x01, // sub-function: restart communications
        0xFF, 0x00, // data: clear the event log
    ]);
    clean(&restart);
    assert_eq!(restart.class, FunctionClass::Control);
    let listen_only = c.request(&[
        0x00, 0x0E, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length
        0x01, // unit id
        0x08, // function code: diagnostics
        0x00, 0x04, // sub-function: force listen only mode
        0x00, 0x00, // data
    ]);
    assert_eq!(listen_only.class, FunctionClass::Control);

    c.request(&[
        0x00, 0x0F, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length
        0x01, // unit id
        0x08, // function code: diagnostics
        0x00, 0x0E, // sub-function: return server message count
        0x00, 0x00, // data
    ]);
    let count = c.response(&[
        0x00, 0x0F, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length
        0x01, // unit id
        0x08, // function code
        0x00, 0x0E, // sub-function
        0x01, 0x2C, // server message count: 300
    ]);
    clean(&count);
    assert_eq!(mb(&count).value, Some(300));

    let odd = c.request(&[
        0x00, 0x10, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length
        0x01, // unit id
        0x08, // function code: diagnostics
        0x00, 0x30, // sub-function: not defined
        0x00, 0x00, // data
    ]);
    assert_eq!(anomalies(&odd), [UNKNOWN_SUB_FUNCTION]);
}

#[test]
fn comm_event_counter_and_log() {
    let mut c = Conn::new();
    let req = c.request(&[
        0x00, 0x10, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x02, // length
        0x01, // unit id
        0x0B, // function code: get comm event counter
    ]);
    clean(&req);
    assert_eq!(req.function, "get_comm_event_counter");
    assert_eq!(req.class, FunctionClass::Diagnostic);
    clean(&c.response(&[
        0x00, 0x10, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length
        0x01, // unit id
        0x0B, // function code
        0xFF, 0xFF, // status: busy
        0x01, 0x08, // event count
    ]));

    let req = c.request(&[
        0x00, 0x11, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x02, // length
        0x01, // unit id
        0x0C, // function code: get comm event log
    ]);
    assert_eq!(req.function, "get_comm_event_log");
    let resp = c.response(&[
        0x00, 0x11, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x0B, // length
        0x01, // unit id
        0x0C, // function code
        0x08, // byte count
        0x00, 0x00, // status
        0x01, 0x08, // event count
        0x01, 0x21, // message count
        0x20, 0x00, // events
    ]);
    clean(&resp);
    assert_eq!(mb(&resp).byte_count, Some(8));
}

#[test]
fn report_server_id() {
    let mut c = Conn::new();
    // icsnpp_modbus_example frame 60
    let req = c.request(&[
        0x00, 0x0F, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x02, // length
        0x02, // unit id
        0x11, // function code: report server id
    ]);
    clean(&req);
    assert_eq!(req.function, "report_server_id");
    assert_eq!(req.class, FunctionClass::Discovery);
    let resp = c.response(&[
        0x00, 0x0F, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x07, // length
        0x02, // unit id
        0x11, // function code
        0x04, // byte count
        b'P', b'L', b'C', // server id
        0xFF, // run indicator: on
    ]);
    clean(&resp);
    assert_eq!(resp.class, FunctionClass::Discovery);
}

// ---------------------------------------------------------------- FC 43

#[test]
fn read_device_identification() {
    let mut c = Conn::new();
    // icsnpp_modbus_example frame 92
    let req = c.request(&[
        0x00, 0x17, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x05, // length
        0x01, // unit id
        0x2B, // function code: encapsulated interface transport
        0x0E, // MEI type: read device identification
        0x01, // read device id code: basic
        0x00, // object id
    ]);
    clean(&req);
    assert_eq!(req.function_code, Some(43));
    assert_eq!(req.function, "read_device_identification");
    assert_eq!(req.class, FunctionClass::Discovery);
    let f = mb(&req);
    assert_eq!(
        (f.mei_type, f.read_device_id_code, f.object_id),
        (Some(14), Some(1), Some(0))
    );

    // icsnpp_modbus_example frame 94
    let mut resp = vec![
        0x00, 0x17, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x3D, // length
        0x01, // unit id
        0x2B, // function code
        0x0E, // MEI type
        0x01, // read device id code
        0x83, // conformity level: basic, individual access
        0x00, // more follows: no
        0x00, // next object id
        0x03, // number of objects
        0x00, 0x10, // object 0 (vendor name), 16 bytes
    ];
    resp.extend_from_slice(b"Zeek Modbus Test");
    resp.extend_from_slice(&[0x01, 0x18]); // object 1 (product code), 24 bytes
    resp.extend_from_slice(b"Protocol Parsing is fun!");
    resp.extend_from_slice(&[0x02, 0x07]); // object 2 (revision), 7 bytes
    resp.extend_from_slice(b"1.2.3.6");
    let resp = c.response(&resp);
    clean(&resp);
    assert_eq!(resp.function, "read_device_identification");
    assert_eq!(resp.class, FunctionClass::Discovery);
    let f = mb(&resp);
    assert_eq!(f.conformity_level, Some(0x83));
    assert_eq!(f.more_follows, Some(false));
    assert_eq!((f.next_object_id, f.number_of_objects), (Some(0), Some(3)));
    assert_eq!(f.object_id, Some(0)); // the request's
    let ids = f.device_id.as_deref().expect("objects");
    assert_eq!(ids.vendor_name.as_deref(), Some("Zeek Modbus Test"));
    assert_eq!(
        ids.product_code.as_deref(),
        Some("Protocol Parsing is fun!")
    );
    assert_eq!(ids.major_minor_revision.as_deref(), Some("1.2.3.6"));
    assert!(ids.product_name.is_none() && ids.other.is_empty());
}

#[test]
fn device_identification_private_objects_and_truncation() {
    let mut c = Conn::new();
    let resp = c.response(&[
        0x00, 0x01, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x12, // length
        0x01, // unit id
        0x2B, // function code
        0x0E, // MEI type
        0x04, // read device id code: individual
        0x04, // conformity level: not a defined one
        0xFF, // more follows: yes
        0x81, // next object id
        0x03, // number of objects: 3 declared, 2 present
        0x80, 0x02, 0xC3, 0x28, // object 0x80, 2 bytes, not UTF-8
        0x05, 0x04, b'M', b'3', b'4', 0x00, // object 5 (model name), NUL-padded
    ]);
    let f = mb(&resp);
    assert_eq!(
        anomalies(&resp),
        [
            ILLEGAL_CONFORMITY_LEVEL,
            TRUNCATED_PDU,
            RESPONSE_WITHOUT_REQUEST
        ]
    );
    assert_eq!(f.more_follows, Some(true));
    let ids = f.device_id.as_deref().expect("objects");
    assert_eq!(ids.model_name.as_deref(), Some("M34"));
    assert_eq!(ids.other.len(), 1);
    assert_eq!(ids.other[0].id, 0x80);
    assert_eq!(ids.other[0].value, "\u{FFFD}(");
}

#[test]
fn canopen_and_unknown_mei() {
    let mut c = Conn::new();
    let can = c.request(&[
        0x00, 0x01, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length
        0x01, // unit id
        0x2B, // function code
        0x0D, // MEI type: CANopen general reference
        0x00, 0x10, 0x18, // CANopen data
    ]);
    clean(&can);
    assert_eq!(can.function, "canopen_general_reference");
    assert_eq!(can.class, FunctionClass::Other);
    // zeek_modbus_fuzz72 frame 16
    let zero = c.request(&[
        0x00, 0x02, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length
        0x01, // unit id
        0x2B, // function code
        0x00, // MEI type: not defined
        0x00, 0x00, 0x00, // data
    ]);
    assert_eq!(zero.function, "encapsulated_interface_transport");
    assert_eq!(mb(&zero).mei_type, Some(0));
    assert_eq!(anomalies(&zero), [UNKNOWN_MEI_TYPE]);
}

// ---------------------------------------------------------------- exceptions

#[test]
fn exception_response_carries_request() {
    let mut c = Conn::new();
    // icsnpp_modbus_example frame 99
    c.request(&[
        0x00, 0x01, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length
        0x00, // unit id
        0x03, // function code: read holding registers
        0x02, 0x58, // starting address 600
        0x00, 0x0A, // quantity of registers
    ]);
    // icsnpp_modbus_example frame 100
    let resp = c.response(&[
        0x00, 0x01, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x03, // length
        0x00, // unit id
        0x83, // function code: exception to read holding registers
        0x02, // exception code: illegal data address
    ]);
    clean(&resp);
    assert!(resp.is_response);
    assert_eq!(resp.function_code, Some(3));
    assert_eq!(resp.function, "read_holding_registers");
    assert_eq!(resp.class, FunctionClass::Read);
    let f = mb(&resp);
    assert_eq!(f.exception_code, Some(2));
    assert_eq!(f.exception(), Some("illegal_data_address"));
    assert_eq!((f.address, f.quantity), (Some(600), Some(10)));
    assert_eq!(f.request_packet, Some(1));
}

#[test]
fn exception_keeps_refined_function() {
    let mut c = Conn::new();
    c.request(&[
        0x00, 0x05, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x05, // length
        0x01, // unit id
        0x2B, // function code
        0x0E, // MEI type: read device identification
        0x01, // read device id code
        0x00, // object id
    ]);
    let resp = c.response(&[
        0x00, 0x05, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x03, // length
        0x01, // unit id
        0xAB, // function code: exception to FC 43
        0x01, // exception code: illegal function
    ]);
    clean(&resp);
    assert_eq!(resp.function_code, Some(43));
    assert_eq!(resp.function, "read_device_identification");
    assert_eq!(resp.class, FunctionClass::Discovery);

    c.request(&[
        0x00, 0x06, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length
        0x01, // unit id
        0x08, // function code: diagnostics
        0x00, 0x01, // sub-function: restart communications
        0x00, 0x00, // data
    ]);
    let resp = c.response(&[
        0x00, 0x06, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x03, // length
        0x01, // unit id
        0x88, // function code: exception to diagnostics
        0x04, // exception code: server device failure
    ]);
    assert_eq!(resp.class, FunctionClass::Control);
    assert_eq!(mb(&resp).sub_function, Some(1));
}

#[test]
fn unknown_exception_code_and_exception_in_request() {
    let mut c = Conn::new();
    // zeek_modbus_fuzz72 frame 5: no request seen
    let resp = c.response(&[
        0x00, 0x00, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x03, // length
        0x01, // unit id
        0xA0, // function code: exception to 32
        0x01, // exception code
    ]);
    assert_eq!(resp.function_code, Some(32));
    assert_eq!(mb(&resp).exception_code, Some(1));
    assert_eq!(
        anomalies(&resp),
        [UNKNOWN_FUNCTION_CODE, RESPONSE_WITHOUT_REQUEST]
    );
    let odd = c.response(&[
        0x00, 0x01, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x03, // length
        0x01, // unit id
        0x81, // function code: exception to read coils
        0x0C, // exception code: not defined
    ]);
    assert!(odd.anomalies.contains(UNKNOWN_EXCEPTION_CODE));
    assert_eq!(mb(&odd).exception(), None);
    let req = c.request(&[
        0x00, 0x02, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x03, // length
        0x01, // unit id
        0x83, // function code with the exception bit, in a request
        0x02, // exception code
    ]);
    assert_eq!(req.function_code, Some(3));
    assert_eq!(anomalies(&req), [EXCEPTION_IN_REQUEST]);
}

// ---------------------------------------------------------------- other codes

#[test]
fn user_defined_reserved_and_unknown_codes() {
    let mut c = Conn::new();
    let frame = |tid: u8, fc: u8| {
        [
            0x00, tid, // transaction id
            0x00, 0x00, // protocol id
            0x00, 0x02, // length
            0x01, // unit id
            fc,   // function code
        ]
    };
    let user = c.request(&frame(1, 65));
    assert_eq!(
        (user.function, user.class),
        ("user_defined", FunctionClass::Other)
    );
    clean(&user);
    let reserved = c.request(&frame(2, 126));
    assert_eq!(reserved.function, "reserved");
    assert_eq!(anomalies(&reserved), [UNKNOWN_FUNCTION_CODE]);
    // digitalbond_modbus_test_data_part2 frame 6 (function code 0)
    let zero = c.request(&frame(3, 0));
    assert_eq!((zero.function_code, zero.function), (Some(0), "unknown"));
    assert_eq!(anomalies(&zero), [UNKNOWN_FUNCTION_CODE]);
}

// ---------------------------------------------------------------- UMAS

#[test]
fn umas_request_and_paired_response() {
    let mut c = Conn::new();
    let req = c.request(&[
        0x00, 0x30, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x04, // length
        0x00, // unit id
        0x5A, // function code: UMAS
        0x00, // session key
        0x02, // UMAS function: read id
    ]);
    clean(&req);
    assert_eq!((req.function_code, req.function), (Some(90), "umas"));
    assert_eq!(req.class, FunctionClass::Discovery);
    let f = mb(&req);
    assert_eq!(
        (f.umas_session_key, f.umas_function_code),
        (Some(0), Some(0x02))
    );
    assert_eq!(f.umas_function(), Some("read_id"));
    let resp = c.response(&[
        0x00, 0x30, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length
        0x00, // unit id
        0x5A, // function code
        0x00, // session key
        0xFE, // status: ok
        0x01, 0x02, // data
    ]);
    clean(&resp);
    assert_eq!(resp.class, FunctionClass::Discovery);
    let f = mb(&resp);
    assert_eq!(f.umas_status, Some(0xFE));
    assert_eq!(f.umas_function(), Some("read_id"));
    assert_eq!(f.request_packet, Some(1));
}

#[test]
fn umas_classes() {
    let mut c = Conn::new();
    let frame = |tid: u8, umas: u8| {
        [
            0x00, tid, // transaction id
            0x00, 0x00, // protocol id
            0x00, 0x05, // length
            0x00, // unit id
            0x5A, // function code: UMAS
            0x17, // session key
            umas, // UMAS function
            0x00, // data
        ]
    };
    for (tid, (umas, name, class)) in [
        (0x41, "stop_plc", FunctionClass::Control),
        (0x40, "start_plc", FunctionClass::Control),
        (0x34, "download_block", FunctionClass::Program),
        (0x31, "upload_block", FunctionClass::Program),
        (0x23, "write_variables", FunctionClass::Write),
        (0x22, "read_variables", FunctionClass::Read),
        (0x10, "take_plc_reservation", FunctionClass::Session),
        (0x12, "keep_alive", FunctionClass::Session),
        (0x58, "check_plc", FunctionClass::Diagnostic),
        (0x03, "read_project_info", FunctionClass::Discovery),
    ]
    .into_iter()
    .zip(1u8..)
    .map(|(x, tid)| (tid, x))
    {
        let req = c.request(&frame(tid, umas));
        clean(&req);
        assert_eq!((mb(&req).umas_function(), req.class), (Some(name), class));
    }
    let unknown = c.request(&frame(0x7F, 0x99));
    assert_eq!(unknown.class, FunctionClass::Other);
    assert_eq!(anomalies(&unknown), [UNKNOWN_UMAS_FUNCTION]);

    let err = c.response(&[
        0x00, 0x01, // transaction id: the stop_plc request
        0x00, 0x00, // protocol id
        0x00, 0x05, // length
        0x00, // unit id
        0x5A, // function code
        0x17, // session key
        0xFD, // status: error
        0x82, // error data
    ]);
    clean(&err);
    assert_eq!(err.class, FunctionClass::Control);
    assert_eq!(mb(&err).umas_function(), Some("stop_plc"));
}

#[test]
fn umas_signed_request_reports_the_wrapped_function() {
    let mut c = Conn::new();
    let mut frame = vec![
        0x00, 0x40, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x29, // length: 41
        0x00, // unit id
        0x5A, // function code: UMAS
        0x17, // session key
        0x38, // UMAS function: signed request
        0x01, // magic
    ];
    frame.extend_from_slice(&[0xA5; 32]); // signature
    frame.extend_from_slice(&[
        0x5A, // wrapped: function code
        0x17, // wrapped: session key
        0x41, // wrapped: UMAS function stop_plc
        0x00, // data
    ]);
    let req = c.request(&frame);
    clean(&req);
    assert_eq!(req.class, FunctionClass::Control);
    let f = mb(&req);
    assert!(f.umas_signed);
    assert_eq!(f.umas_function(), Some("stop_plc"));
}

#[test]
fn umas_frames_may_exceed_254() {
    let mut c = Conn::new();
    let mut frame = vec![
        0x00, 0x01, // transaction id
        0x00, 0x00, // protocol id
        0x01, 0x2C, // length: 300
        0x00, // unit id
        0x5A, // function code: UMAS
        0x17, // session key
        0x31, // UMAS function: upload block
    ];
    frame.resize(6 + 300, 0xEE); // block data
    let req = c.request(&frame);
    clean(&req);
    assert_eq!(req.class, FunctionClass::Program);

    let mut long = vec![
        0x00, 0x02, // transaction id
        0x00, 0x00, // protocol id
        0x01, 0x2C, // length: 300, too long for anything but UMAS
        0x00, // unit id
        0x10, // function code: write multiple registers
    ];
    long.resize(6 + 300, 0x00);
    assert_eq!(c.feed(ToServer, &long), long.len());
    let bad = &c.events.last().expect("an event").pdu;
    assert_eq!(bad.function, "invalid");
    assert_eq!(anomalies(bad), [INVALID_MBAP_HEADER, MBAP_LENGTH_TOO_LONG]);
}

// ---------------------------------------------------------------- pairing

#[test]
fn response_without_request_and_function_mismatch() {
    let mut c = Conn::new();
    let orphan = c.response(&[
        0x00, 0x09, // transaction id: never requested
        0x00, 0x00, // protocol id
        0x00, 0x05, // length
        0x01, // unit id
        0x03, // function code
        0x02, // byte count
        0x00, 0x01, // register
    ]);
    assert_eq!(anomalies(&orphan), [RESPONSE_WITHOUT_REQUEST]);
    assert_eq!(mb(&orphan).request_packet, None);

    c.request(&[
        0x00, 0x0A, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length
        0x01, // unit id
        0x03, // function code: read holding registers
        0x00, 0x10, // starting address
        0x00, 0x01, // quantity
    ]);
    let resp = c.response(&[
        0x00, 0x0A, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x05, // length
        0x02, // unit id: not the request's
        0x04, // function code: not the request's
        0x02, // byte count
        0x00, 0x01, // register
    ]);
    assert_eq!(resp.function, "read_input_registers");
    assert_eq!(anomalies(&resp), [FUNCTION_MISMATCH, UNIT_ID_MISMATCH]);
    // Paired, but the request's details are not carried across functions.
    assert_eq!(mb(&resp).request_packet, Some(2));
    assert_eq!(mb(&resp).address, None);
}

#[test]
fn duplicate_transaction_ids_and_gaps() {
    let mut c = Conn::new();
    let frame = [
        0x00, 0x07, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length
        0x01, // unit id
        0x03, // function code
        0x00, 0x00, // starting address
        0x00, 0x01, // quantity
    ];
    clean(&c.request(&frame));
    assert_eq!(anomalies(&c.request(&frame)), [DUPLICATE_TRANSACTION_ID]);
    // A response may have been lost in the gap: reuse is not flagged.
    c.parser.gap(ToClient);
    clean(&c.request(&frame));
    // A gap in the requests keeps the pending ones.
    c.parser.gap(ToServer);
    let resp = c.response(&[
        0x00, 0x07, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x05, // length
        0x01, // unit id
        0x03, // function code
        0x02, // byte count
        0x00, 0x2A, // register
    ]);
    clean(&resp);
    assert_eq!(mb(&resp).request_packet, Some(3));
}

#[test]
fn pending_table_is_bounded() {
    let mut c = Conn::new();
    let frame = |tid: u16| {
        let [hi, lo] = tid.to_be_bytes();
        [
            hi, lo, // transaction id
            0x00, 0x00, // protocol id
            0x00, 0x06, // length
            0x01, // unit id
            0x03, // function code
            0x00, 0x00, // starting address
            0x00, 0x01, // quantity
        ]
    };
    for tid in 0..MAX_PENDING as u16 {
        clean(&c.request(&frame(tid)));
    }
    let overflow = c.request(&frame(MAX_PENDING as u16));
    assert_eq!(anomalies(&overflow), [PENDING_TABLE_FULL]);
    assert_eq!(c.parser.pending.len(), MAX_PENDING);
    let response = |tid: u16| {
        let [hi, lo] = tid.to_be_bytes();
        [
            hi, lo, // transaction id
            0x00, 0x00, // protocol id
            0x00, 0x05, // length
            0x01, // unit id
            0x03, // function code
            0x02, // byte count
            0x00, 0x00, // register
        ]
    };
    // The oldest was forgotten, the newest is still there.
    assert_eq!(
        anomalies(&c.response(&response(0))),
        [RESPONSE_WITHOUT_REQUEST]
    );
    clean(&c.response(&response(MAX_PENDING as u16)));
}

// ---------------------------------------------------------------- streaming

const READ_REQUEST: [u8; 12] = [
    0x00, 0x01, // transaction id
    0x00, 0x00, // protocol id
    0x00, 0x06, // length
    0x11, // unit id
    0x03, // function code: read holding registers
    0x00, 0x6B, // starting address
    0x00, 0x03, // quantity
];

const WRITE_REQUEST: [u8; 12] = [
    0x00, 0x02, // transaction id
    0x00, 0x00, // protocol id
    0x00, 0x06, // length
    0x11, // unit id
    0x06, // function code: write single register
    0x00, 0x01, // register address
    0x00, 0x03, // register value
];

#[test]
fn two_frames_in_one_segment() {
    let mut c = Conn::new();
    let data = [READ_REQUEST, WRITE_REQUEST].concat();
    assert_eq!(c.feed(ToServer, &data), 24);
    let functions: Vec<_> = c.events.iter().map(|e| e.pdu.function).collect();
    assert_eq!(
        functions,
        ["read_holding_registers", "write_single_register"]
    );
    assert!(c.events.iter().all(|e| e.pdu.anomalies.is_empty()));
}

#[test]
fn frame_split_across_segments() {
    let mut c = Conn::new();
    // Less than a header, then a header without the whole PDU.
    assert_eq!(c.feed(ToServer, &READ_REQUEST[..5]), 0);
    assert_eq!(c.feed(ToServer, &READ_REQUEST[..9]), 0);
    assert!(c.events.is_empty());
    // The caller presents the kept bytes again, now whole, plus the next frame's start.
    let data = [&READ_REQUEST[..], &WRITE_REQUEST[..3]].concat();
    assert_eq!(c.feed(ToServer, &data), 12);
    assert_eq!(c.events.len(), 1);
    assert_eq!(mb(&c.events[0].pdu).address, Some(0x6B));
    assert_eq!(c.events[0].header.packet, 3);
}

#[test]
fn garbage_is_consumed_and_reported() {
    let mut c = Conn::new();
    let http = b"GET / HTTP/1.1\r\nHost: plc\r\n\r\n";
    assert_eq!(c.feed(ToServer, http), http.len());
    assert_eq!(c.events.len(), 1);
    let pdu = &c.events[0].pdu;
    assert_eq!((pdu.function, pdu.function_code), ("invalid", None));
    assert_eq!(pdu.class, FunctionClass::Other);
    assert_eq!(anomalies(pdu), [INVALID_MBAP_HEADER, INVALID_PROTOCOL_ID]);
    assert_eq!(mb(pdu).skipped_bytes, Some(http.len() as u32));

    // Garbage, then a frame in the same bytes: resynchronised on the frame.
    let mut c = Conn::new();
    let data = [
        &[0xDE, 0xAD, 0xBE, 0xEF, 0x01, 0x02, 0x03][..],
        &READ_REQUEST,
    ]
    .concat();
    assert_eq!(c.feed(ToServer, &data), data.len());
    assert_eq!(c.events.len(), 2);
    assert_eq!(mb(&c.events[0].pdu).skipped_bytes, Some(7));
    assert_eq!(c.events[1].pdu.function, "read_holding_registers");
    assert!(c.events[1].pdu.anomalies.is_empty());

    // An MBAP length that cannot hold a function code.
    let mut c = Conn::new();
    let short = [
        0x00, 0x01, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x01, // length: 1
        0x01, // unit id
    ];
    assert_eq!(c.feed(ToServer, &short), short.len());
    assert_eq!(
        anomalies(&c.events[0].pdu),
        [INVALID_MBAP_HEADER, MBAP_LENGTH_TOO_SHORT]
    );
    assert_eq!(mb(&c.events[0].pdu).length, 1);
}

#[test]
fn gap_drops_nothing_the_caller_keeps() {
    let mut c = Conn::new();
    assert_eq!(c.feed(ToServer, &READ_REQUEST[..9]), 0);
    // The caller drops its partial bytes on a gap and resumes on new ones.
    c.parser.gap(ToServer);
    assert_eq!(c.feed(ToServer, &WRITE_REQUEST), 12);
    assert_eq!(c.events.len(), 1);
    clean(&c.events[0].pdu);
}

// ---------------------------------------------------------------- probe

#[test]
fn probe_finds_modbus_by_structure() {
    // Not on the well-known port: whole frames with public function codes.
    assert_eq!(probe(&READ_REQUEST, ToServer, false), Probe::Match);
    let two = [READ_REQUEST, WRITE_REQUEST].concat();
    assert_eq!(probe(&two, ToServer, false), Probe::Match);
    assert_eq!(probe(&READ_REQUEST[..10], ToServer, false), Probe::NeedMore);
    let response = [
        0x00, 0x01, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x03, // length
        0x11, // unit id
        0x83, // function code: exception to read holding registers
        0x02, // exception code
    ];
    assert_eq!(probe(&response, ToClient, false), Probe::Match);
    assert!(matches!(
        detect_stream(5020, ToServer, &READ_REQUEST),
        Detection::Found(_)
    ));

    let user_defined = [
        0x00, 0x01, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x02, // length
        0x01, // unit id
        0x41, // function code: user defined
    ];
    assert_eq!(probe(&user_defined, ToServer, false), Probe::NoMatch);
    assert_eq!(probe(&user_defined, ToServer, true), Probe::Match);
    let loose = [
        0x00, 0x01, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x08, // length: 2 bytes more than a read request has
        0x01, // unit id
        0x03, // function code
        0x00, 0x00, // starting address
        0x00, 0x01, // quantity
        0x00, 0x00, // extra
    ];
    assert_eq!(probe(&loose, ToServer, false), Probe::NoMatch);
    assert_eq!(probe(&loose, ToServer, true), Probe::Match);
    // On port 502 any whole frame does, even function code 0 (a fuzzer's).
    let zero = [
        0x00, 0x00, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length
        0x01, // unit id
        0x00, // function code 0
        0x00, 0x00, 0x00, 0x00, // data
    ];
    assert_eq!(probe(&zero, ToServer, true), Probe::Match);
    assert_eq!(probe(&zero, ToServer, false), Probe::NoMatch);
    // A first frame still incomplete, on the known port.
    assert_eq!(probe(&READ_REQUEST[..10], ToServer, true), Probe::Match);
    assert_eq!(probe(&READ_REQUEST[..7], ToServer, true), Probe::NeedMore);
}

#[test]
fn probe_rejects_other_protocols_on_502() {
    let http = b"GET / HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n";
    let tls = [
        0x16, 0x03, 0x01, 0x00, 0xC8, // record: handshake, TLS 1.0, length 200
        0x01, 0x00, 0x00, 0xC4, 0x03, 0x03, // client hello
    ];
    let dnp3 = [
        0x05, 0x64, // start
        0x05, // length
        0xC9, // control
        0x01, 0x00, // destination
        0x00, 0x04, // source
        0x0C, 0x6C, // CRC
    ];
    let tpkt = [
        0x03, 0x00, 0x00, 0x16, // TPKT version 3, length 22
        0x11, 0xE0, 0x00, 0x00, 0x00, 0x01, 0x00, // COTP connection request
    ];
    for data in [&http[..], &tls, &dnp3, &tpkt] {
        for dir in [ToServer, ToClient] {
            assert_eq!(probe(data, dir, true), Probe::NoMatch, "{data:02x?}");
            assert_eq!(probe(data, dir, false), Probe::NoMatch, "{data:02x?}");
        }
        // Other decoders may recognise them (HTTP and TLS do); Modbus must not.
        assert!(!matches!(
            detect_stream(PORT, ToServer, data),
            Detection::Found(crate::protocols::StreamDecoder::Modbus(_))
        ));
    }
    assert_eq!(probe(&http[..7], ToServer, true), Probe::NeedMore);
}

// ---------------------------------------------------------------- fields

/// Records the names a visitor is given, nesting included.
#[derive(Default)]
struct Names(Vec<String>);

impl Visitor for Names {
    fn field(&mut self, name: &str, value: Value<'_>) {
        self.0.push(format!("{name}={value:?}"));
    }
    fn begin(&mut self, name: &str, nest: Nest) {
        self.0.push(format!(
            "{name}{}",
            if nest == Nest::List { "[" } else { "{" }
        ));
    }
    fn end(&mut self) {
        self.0.push("}".into());
    }
}

#[test]
fn visit_writes_present_fields_in_order() {
    let f = ModbusFields {
        transaction_id: 1,
        unit_id: 2,
        length: 9,
        exception_code: Some(2),
        address: Some(10),
        quantity: Some(3),
        request_packet: Some(7),
        umas_function_code: Some(0x41),
        device_id: Some(Box::new(DeviceId {
            vendor_name: Some("Schneider Electric".into()),
            other: vec![DeviceObject {
                id: 0x80,
                value: "x".into(),
            }],
            ..DeviceId::default()
        })),
        ..ModbusFields::default()
    };
    let mut names = Names::default();
    Fields::Modbus(f).visit(&mut names);
    assert_eq!(
        names.0,
        [
            "transaction_id=U64(1)",
            "unit_id=U64(2)",
            "length=U64(9)",
            "exception_code=U64(2)",
            "exception=Str(\"illegal_data_address\")",
            "address=U64(10)",
            "quantity=U64(3)",
            "device_id{",
            "vendor_name=Str(\"Schneider Electric\")",
            "other_objects[",
            "{",
            "id=U64(128)",
            "value=Str(\"x\")",
            "}",
            "}",
            "}",
            "umas_function_code=U64(65)",
            "umas_function=Str(\"stop_plc\")",
            "request_packet=U64(7)",
        ]
    );
}

#[test]
fn header_fields_answer_as_the_visit_shows_them() {
    let fields = Fields::Modbus(ModbusFields {
        transaction_id: 0x1234,
        unit_id: 247,
        length: 6,
        address: Some(10),
        ..ModbusFields::default()
    });
    let mut names = Names::default();
    fields.visit(&mut names);
    for name in ["transaction_id", "unit_id", "length"] {
        let direct = fields.header_field(name).map(|v| format!("{name}={v:?}"));
        let visited = names.0.iter().find(|n| n.starts_with(&format!("{name}=")));
        assert_eq!(direct.as_ref(), visited, "{name}");
    }
    assert_eq!(fields.header_field("unit_id"), Some(Value::U64(247)));
    // Fields outside the header are left to the visit.
    assert_eq!(fields.header_field("address"), None);
    assert_eq!(Fields::None.header_field("unit_id"), None);
}

#[test]
fn fields_stay_compact() {
    // It lives inside every event.
    assert!(
        std::mem::size_of::<ModbusFields>() <= 112,
        "{}",
        std::mem::size_of::<ModbusFields>()
    );
}

// ---------------------------------------------------------------- robustness

/// xorshift64*: a deterministic stream of pseudo-random numbers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// A frame with a valid header and random PDU bytes, or pure noise.
fn random_frame(rng: &mut Rng) -> Vec<u8> {
    const CODES: &[u8] = &[
        1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 15, 16, 17, 20, 21, 22, 23, 24, 43, 90, 0, 0x83, 0xAB,
        0xDA, 65, 126,
    ];
    if rng.below(8) == 0 {
        let len = rng.below(40) as usize;
        return rng.bytes(len);
    }
    let len = match rng.below(10) {
        0 => rng.below(2100) as usize + 2,
        _ => rng.below(40) as usize + 2,
    };
    let mut frame = rng.bytes(6 + len);
    frame[2] = 0;
    frame[3] = 0;
    frame[4..6].copy_from_slice(&(len as u16).to_be_bytes());
    frame[7] = CODES[rng.below(CODES.len() as u64) as usize];
    if frame[7] == 43 && len > 2 {
        frame[8] = 14;
    }
    frame
}

#[test]
fn random_bytes_never_panic_and_always_progress() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut c = Conn::new();
    for _ in 0..20_000 {
        let dir = if rng.below(2) == 0 {
            ToServer
        } else {
            ToClient
        };
        let mut data = random_frame(&mut rng);
        if rng.below(3) == 0 {
            data.extend(random_frame(&mut rng));
        }
        let before = c.events.len();
        let consumed = c.feed(dir, &data);
        assert!(consumed <= data.len());
        // Unconsumed bytes are only ever the start of a frame.
        if consumed < data.len() {
            assert_eq!(
                framing(&data[consumed..]),
                Framing::Incomplete,
                "{data:02x?}"
            );
        }
        assert_eq!(consumed > 0, c.events.len() > before);
        let _ = probe(&data, dir, true);
        let _ = probe(&data, dir, false);
    }
    assert!(c.parser.pending.len() <= MAX_PENDING);
    for event in &c.events {
        let mut names = Names::default();
        event.pdu.fields.visit(&mut names);
        assert!(names.0.len() >= 3);
    }
}

#[test]
fn random_streams_in_random_segments() {
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    for _ in 0..200 {
        let mut stream = Vec::new();
        for _ in 0..40 {
            stream.extend(random_frame(&mut rng));
        }
        let mut c = Conn::new();
        let mut kept: Vec<u8> = Vec::new();
        let mut rest = &stream[..];
        while !rest.is_empty() {
            let take = (rng.below(300) as usize + 1).min(rest.len());
            kept.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            let consumed = c.feed(ToServer, &kept);
            kept.drain(..consumed);
            // What the caller keeps never outgrows one frame.
            assert!(kept.len() < LENGTH_PREFIX + usize::from(UMAS_MAX_LENGTH));
        }
    }
}

#[test]
fn rules_can_name_every_function() {
    let names = function_names();
    for name in [
        "read_holding_registers",
        "read_device_identification",
        "canopen_general_reference",
        "umas",
        "user_defined",
        "invalid",
    ] {
        assert!(names.contains(&name), "{name}");
    }
}
