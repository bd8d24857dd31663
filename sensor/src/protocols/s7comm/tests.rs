//! Unit tests: S7comm PDUs inline, a comment per field. Most are those of
//! `snap7_s300_everything.pcap`, `icsnpp_s7ident.pcap` and
//! `s7comm_reading_plc_status.pcap` (frame numbers given), as Wireshark
//! decodes them.

use super::*;
use crate::event::{Event, Header, Transport};
use crate::protocols::Direction::{self, ToClient, ToServer};
use crate::time::Timestamp;

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
        dst_port: Some(102),
        transport: Transport::Tcp,
    }
}

/// One connection's S7comm state, fed PDUs as COTP would hand them over.
#[derive(Default)]
struct Conn {
    state: S7commState,
    events: Vec<Event>,
    packet: u64,
}

impl Conn {
    /// Presents one PDU (one TSDU) in the next packet; returns its event.
    fn pdu(&mut self, dir: Direction, pdu: &[u8]) -> Pdu {
        self.packet += 1;
        let before = self.events.len();
        let mut out = Emitter::new(header(self.packet), dir, &mut self.events);
        let tsdu = Tsdu {
            data: pdu,
            segments: 1,
            anomalies: Anomalies::new(),
        };
        self.state.pdu(&tsdu, &mut out);
        assert_eq!(self.events.len(), before + 1, "not exactly one event");
        self.events.last().unwrap().pdu.clone()
    }

    fn request(&mut self, pdu: &[u8]) -> Pdu {
        self.pdu(ToServer, pdu)
    }

    fn response(&mut self, pdu: &[u8]) -> Pdu {
        self.pdu(ToClient, pdu)
    }
}

fn s7(pdu: &Pdu) -> &S7commFields {
    match &pdu.fields {
        Fields::S7comm(f) => f,
        _ => panic!("no S7comm fields"),
    }
}

fn anomalies(pdu: &Pdu) -> Vec<&'static str> {
    pdu.anomalies.iter().collect()
}

fn clean(pdu: &Pdu) {
    assert!(pdu.anomalies.is_empty(), "unexpected {:?}", anomalies(pdu));
}

// ---------------------------------------------------------------- jobs

#[test]
fn setup_communication_negotiates_the_pdu_size() {
    let mut c = Conn::default();
    // snap7 frame 1
    let req = c.request(&[
        0x32, // protocol id
        0x01, // ROSCTR job
        0x00, 0x00, // redundancy id
        0x00, 0x00, // PDU reference
        0x00, 0x08, // parameter length
        0x00, 0x00, // data length
        0xf0, // function: setup communication
        0x00, // reserved
        0x00, 0x01, // max AmQ calling
        0x00, 0x01, // max AmQ called
        0x01, 0xe0, // PDU size 480
    ]);
    clean(&req);
    assert_eq!(req.protocol, Protocol::S7comm);
    assert_eq!(req.function, "setup_communication");
    assert_eq!(req.function_code, Some(0xf0));
    assert_eq!(req.class, FunctionClass::Session);
    let f = s7(&req);
    assert_eq!(
        (f.rosctr, f.pdu_ref, f.param_length, f.data_length),
        (1, 0, 8, 0)
    );
    assert_eq!(
        (f.max_amq_calling, f.max_amq_called, f.pdu_size),
        (Some(1), Some(1), Some(480))
    );
    assert_eq!(f.error_class, None);

    // snap7 frame 2
    let resp = c.response(&[
        0x32, 0x03, // protocol id, ROSCTR ack_data
        0x00, 0x00, // redundancy id
        0x00, 0x00, // PDU reference
        0x00, 0x08, // parameter length
        0x00, 0x00, // data length
        0x00, 0x00, // error class, error code
        0xf0, 0x00, // setup communication, reserved
        0x00, 0x01, 0x00, 0x01, // max AmQ calling, called
        0x00, 0xf0, // PDU size 240
    ]);
    clean(&resp);
    assert!(resp.is_response);
    let f = s7(&resp);
    assert_eq!(
        (f.rosctr, f.error_class, f.error_code),
        (3, Some(0), Some(0))
    );
    assert_eq!(f.pdu_size, Some(240));
    assert_eq!(f.request_packet, Some(1));
}

/// icsnpp_s7ident frame 31: read var of M, I, Q, T and C.
const READ_FIVE_AREAS: &[u8] = &[
    0x32, 0x01, 0x00, 0x00, // protocol id, job, redundancy id
    0x0a, 0x00, // PDU reference 2560
    0x00, 0x3e, // parameter length 62
    0x00, 0x00, // data length
    0x04, // function: read var
    0x05, // item count
    0x12, 0x0a, 0x10, // var spec, length 10, syntax S7ANY
    0x02, 0x00, 0x10, 0x00, 0x00, 0x83, 0x00, 0x00, 0x00, // BYTE x16, DB 0, M, 0.0
    0x12, 0x0a, 0x10, 0x02, 0x00, 0x10, 0x00, 0x00, 0x81, 0x00, 0x00, 0x00, // BYTE x16 I 0.0
    0x12, 0x0a, 0x10, 0x02, 0x00, 0x10, 0x00, 0x00, 0x82, 0x00, 0x00, 0x00, // BYTE x16 Q 0.0
    0x12, 0x0a, 0x10, 0x1d, 0x00, 0x08, 0x00, 0x00, 0x1d, 0x00, 0x00, 0x00, // TIMER x8, T 0
    0x12, 0x0a, 0x10, 0x1c, 0x00, 0x08, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x00, // COUNTER x8, C 0
];

#[test]
fn read_var_lists_each_item() {
    let mut c = Conn::default();
    let req = c.request(READ_FIVE_AREAS);
    clean(&req);
    assert_eq!(req.function, "read_var");
    assert_eq!(req.function_code, Some(4));
    assert_eq!(req.class, FunctionClass::Read);
    let f = s7(&req);
    assert_eq!(f.item_count, Some(5));
    let areas: Vec<_> = f.items.iter().map(|i| i.area).collect();
    assert_eq!(
        areas,
        [Some(0x83), Some(0x81), Some(0x82), Some(0x1d), Some(0x1c)]
    );
    let sizes: Vec<_> = f.items.iter().map(|i| i.transport_size).collect();
    assert_eq!(sizes, [Some(2), Some(2), Some(2), Some(29), Some(28)]);
    let first = f.items[0];
    assert_eq!(
        (first.syntax_id, first.db, first.address, first.length),
        (0x10, Some(0), Some(0), Some(16))
    );
}

#[test]
fn items_beyond_the_cap_are_counted_not_listed() {
    // A read var job of 70 items (DB 1, byte 0 upwards): 64 listed, 70 counted.
    let count = 70u8;
    let param_len = 2 + 12 * u16::from(count);
    let mut job = vec![
        0x32, 0x01, 0x00, 0x00, 0x00, 0x07, // job, PDU reference 7
    ];
    job.extend_from_slice(&param_len.to_be_bytes()); // parameter length
    job.extend_from_slice(&[0x00, 0x00, 0x04, count]); // no data, read var, item count
    for byte in 0..u16::from(count) {
        job.extend_from_slice(&[0x12, 0x0a, 0x10, 0x02, 0x00, 0x01, 0x00, 0x01, 0x84]); // BYTE x1 DB 1
        job.extend_from_slice(&(u32::from(byte) << 3).to_be_bytes()[1..]); // address byte.0
    }
    let mut c = Conn::default();
    let req = c.request(&job);
    clean(&req);
    let f = s7(&req);
    assert_eq!(f.item_count, Some(count));
    assert_eq!(f.items.len(), MAX_ITEMS);
    assert_eq!(
        f.items[MAX_ITEMS - 1].address,
        Some(63 << 3),
        "the first 64"
    );
    // The answer: 70 return codes, 64 kept; its items are the request's.
    let mut ack = vec![
        0x32, 0x03, 0x00, 0x00, 0x00, 0x07, // ack_data, PDU reference 7
        0x00, 0x02, // parameter length 2
    ];
    ack.extend_from_slice(&(6 * u16::from(count) - 1).to_be_bytes()); // data length
    ack.extend_from_slice(&[0x00, 0x00, 0x04, count]); // no error, read var, item count
    for _ in 0..count {
        ack.extend_from_slice(&[0xff, 0x04, 0x00, 0x08, 0x2a, 0x00]); // success, 8 bits, value, fill
    }
    ack.pop(); // no fill after the last item
    let resp = c.response(&ack);
    clean(&resp);
    let f = s7(&resp);
    assert_eq!(f.item_count, Some(count));
    assert_eq!(f.item_return_codes.len(), MAX_ITEMS);
    assert_eq!(f.items.len(), MAX_ITEMS);
}

#[test]
fn db_item_address_is_byte_and_bit() {
    let mut c = Conn::default();
    let req = c.request(&[
        0x32, 0x01, 0x00, 0x00, 0x00, 0x07, // header: job, PDU reference 7
        0x00, 0x0e, 0x00, 0x00, // parameter length 14, data length 0
        0x04, 0x01, // read var, 1 item
        0x12, 0x0a, 0x10, // S7ANY
        0x01, // transport size BIT
        0x00, 0x01, // length 1
        0x00, 0x05, // DB 5
        0x84, // area DB
        0x00, 0x00, 0x53, // address 0x53: byte 10, bit 3
    ]);
    clean(&req);
    let item = s7(&req).items[0];
    assert_eq!(
        (item.area, item.db, item.address),
        (Some(0x84), Some(5), Some(0x53))
    );
    // The event writes byte 10, bit 3.
    let mut json = Vec::new();
    let mut w = crate::output::json::JsonWriter::object(&mut json);
    req.fields.visit(&mut w);
    w.finish();
    let text = String::from_utf8(json).unwrap();
    assert!(
        text.contains(r#""area_name":"db","db":5,"address":83,"byte":10,"bit":3"#),
        "{text}"
    );
}

#[test]
fn read_var_answer_gives_return_codes_and_carries_the_request_items() {
    let mut c = Conn::default();
    c.request(READ_FIVE_AREAS);
    // icsnpp_s7ident frame 32, shortened to two items of the five answered.
    let resp = c.response(&[
        0x32, 0x03, 0x00, 0x00, 0x0a, 0x00, // ack_data, PDU reference 2560
        0x00, 0x02, // parameter length
        0x00, 0x0c, // data length 12
        0x00, 0x00, // no error
        0x04, 0x02, // read var, 2 items
        0xff, 0x04, 0x00, 0x10, 0xaa, 0xbb, // success, BYTE (length in bits) 16: 2 octets
        0x0a, 0x00, 0x00, 0x00, // object does not exist
        0xff, 0x00, // (data of a third item the count does not announce)
    ]);
    let f = s7(&resp);
    assert_eq!(f.item_count, Some(2));
    assert_eq!(f.item_return_codes, [0xff, 0x0a]);
    assert_eq!(f.items.len(), 5, "request items carried");
    assert_eq!(f.request_packet, Some(1));
    assert!(!resp.anomalies.contains(FUNCTION_MISMATCH));
}

#[test]
fn write_var_and_its_answer() {
    let mut c = Conn::default();
    // snap7 frame 49: MD16 := REAL
    let req = c.request(&[
        0x32, 0x01, 0x00, 0x00, 0x18, 0x00, // job, PDU reference 0x1800
        0x00, 0x0e, 0x00, 0x08, // parameter length 14, data length 8
        0x05, 0x01, // write var, 1 item
        0x12, 0x0a, 0x10, 0x08, 0x00, 0x01, 0x00, 0x00, 0x83, 0x00, 0x00,
        0x80, // REAL x1, M 16.0
        0x00, 0x07, 0x00, 0x04, 0x79, 0xe9, 0xf6, 0x42, // reserved, REAL, 4 octets, value
    ]);
    clean(&req);
    assert_eq!(req.function, "write_var");
    assert_eq!(req.class, FunctionClass::Write);
    assert_eq!(s7(&req).items[0].address, Some(0x80));
    // snap7 frame 50
    let resp = c.response(&[
        0x32, 0x03, 0x00, 0x00, 0x18, 0x00, // ack_data, PDU reference 0x1800
        0x00, 0x02, 0x00, 0x01, 0x00, 0x00, // parameter length 2, data length 1, no error
        0x05, 0x01, // write var, 1 item
        0xff, // success
    ]);
    clean(&resp);
    assert_eq!(resp.class, FunctionClass::Write);
    assert_eq!(s7(&resp).item_return_codes, [0xff]);
}

// ---------------------------------------------------------------- program transfer

#[test]
fn upload_sequence_names_the_block_throughout() {
    let mut c = Conn::default();
    // snap7 frame 17
    let start = c.request(&[
        0x32, 0x01, 0x00, 0x00, 0x08, 0x00, // job, PDU reference 0x0800
        0x00, 0x12, 0x00, 0x00, // parameter length 18
        0x1d, // start upload
        0x00, // function status
        0x00, 0x00, // unknown
        0x00, 0x00, 0x00, 0x00, // upload id
        0x09, // file name length
        b'_', b'0', b'B', b'0', b'0', b'0', b'0', b'0', b'A', // _ SDB 00000 active
    ]);
    clean(&start);
    assert_eq!(start.function, "start_upload");
    assert_eq!(start.class, FunctionClass::Program);
    let block = s7(&start).block.unwrap();
    assert_eq!((block.type_name(), block.number), ("SDB", Some(0)));
    // snap7 frame 18
    let started = c.response(&[
        0x32, 0x03, 0x00, 0x00, 0x08, 0x00, // ack_data, PDU reference 0x0800
        0x00, 0x10, 0x00, 0x00, 0x00, 0x00, // parameter length 16, no data, no error
        0x1d, 0x00, 0x01, 0x00, // start upload, status, unknown
        0x00, 0x00, 0x00, 0x07, // upload id 7
        0x07, b'0', b'0', b'0', b'0', b'2', b'1', b'6', // block length "0000216"
    ]);
    clean(&started);
    assert_eq!(s7(&started).upload_id, Some(7));
    assert_eq!(s7(&started).block, Some(block));
    // snap7 frame 19
    let upload = c.request(&[
        0x32, 0x01, 0x00, 0x00, 0x09, 0x00, // job, PDU reference 0x0900
        0x00, 0x08, 0x00, 0x00, // parameter length 8
        0x1e, 0x00, 0x00, 0x00, // upload, status, unknown
        0x00, 0x00, 0x00, 0x07, // upload id 7
    ]);
    clean(&upload);
    assert_eq!(upload.function, "upload");
    assert_eq!(
        s7(&upload).block,
        Some(block),
        "from the start upload answer"
    );
    // snap7 frame 21
    let end = c.request(&[
        0x32, 0x01, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x08, 0x00, 0x00, // job, ref 0x0a00
        0x1f, 0x00, // end upload, status
        0x00, 0x00, // error code
        0x00, 0x00, 0x00, 0x07, // upload id 7
    ]);
    assert_eq!(end.function, "end_upload");
    assert_eq!(s7(&end).block, Some(block));
}

#[test]
fn refused_upload_ack_has_the_request_function_and_error() {
    let mut c = Conn::default();
    // snap7 frame 43: start upload of OB 0
    c.request(&[
        0x32, 0x01, 0x00, 0x00, 0x15, 0x00, 0x00, 0x12, 0x00, 0x00, // job
        0x1d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // start upload, no id
        0x09, b'_', b'0', b'8', b'0', b'0', b'0', b'0', b'0', b'A', // _ OB 00000 A
    ]);
    // snap7 frame 44
    let ack = c.response(&[
        0x32, 0x02, // ROSCTR ack
        0x00, 0x00, 0x15, 0x00, // PDU reference 0x1500
        0x00, 0x00, 0x00, 0x00, // no parameter, no data
        0xd2, 0x0c, // error class, code
    ]);
    clean(&ack);
    assert_eq!(ack.function_code, None, "an ack has no parameter");
    assert_eq!(ack.function, "start_upload");
    assert_eq!(ack.class, FunctionClass::Program);
    let f = s7(&ack);
    assert_eq!((f.error_class, f.error_code), (Some(0xd2), Some(0x0c)));
    assert_eq!(
        f.block.map(|b| b.type_name().to_string()),
        Some("OB".into())
    );
}

#[test]
fn download_requests_name_the_block() {
    let mut c = Conn::default();
    let req = c.request(&[
        0x32, 0x01, 0x00, 0x00, 0x00, 0x01, // job, PDU reference 1
        0x00, 0x20, 0x00, 0x00, // parameter length 32
        0x1a, 0x00, 0x01, 0x00, // request download, status, unknown
        0x00, 0x00, 0x00, 0x00, // unknown
        0x09, b'_', b'0', b'C', b'0', b'0', b'0', b'1', b'2', b'P', // _ FC 00012 passive
        0x0d, b'1', // part 2 length, unknown char
        b'0', b'0', b'0', b'2', b'5', b'6', // load memory length
        b'0', b'0', b'0', b'1', b'2', b'8', // MC7 length
    ]);
    clean(&req);
    assert_eq!(req.function, "request_download");
    assert_eq!(req.class, FunctionClass::Program);
    let block = s7(&req).block.unwrap();
    assert_eq!((block.type_name(), block.number), ("FC", Some(12)));
    // The PLC asks for the block: a job travelling to the client.
    let block_req = c.response(&[
        0x32, 0x01, 0x00, 0x00, 0x03, 0x00, 0x00, 0x12, 0x00, 0x00, // job
        0x1b, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, // download block
        0x09, b'_', b'0', b'C', b'0', b'0', b'0', b'1', b'2', b'P', // file name
    ]);
    clean(&block_req);
    assert_eq!(block_req.function, "download_block");
    assert_eq!(s7(&block_req).block, Some(block));
    // The PLC has the whole block: download ended, a job from the PLC (laid
    // out as tshark -V shows a crafted one: function, status, error code,
    // 4 unknown octets, file name).
    let ended = c.response(&[
        0x32, 0x01, 0x00, 0x00, 0x05, 0x00, // job, PDU reference 0x0500
        0x00, 0x12, 0x00, 0x00, // parameter length 18, no data
        0x1c, 0x00, // download ended, function status
        0x00, 0x00, // error code
        0x00, 0x00, 0x00, 0x00, // unknown
        0x09, b'_', b'0', b'C', b'0', b'0', b'0', b'1', b'2', b'P', // _ FC 00012 passive
    ]);
    clean(&ended);
    assert_eq!(ended.function_code, Some(0x1c));
    assert_eq!(ended.function, "download_ended");
    assert_eq!(ended.class, FunctionClass::Program);
    let ended_block = s7(&ended).block.unwrap();
    assert_eq!(
        (ended_block.type_name(), ended_block.number),
        ("FC", Some(12))
    );
    // The client's acknowledgement: the function alone; it carries the job's block.
    let ack = c.request(&[
        0x32, 0x03, 0x00, 0x00, 0x05, 0x00, // ack_data, PDU reference 0x0500
        0x00, 0x01, 0x00, 0x00, 0x00, 0x00, // parameter length 1, no data, no error
        0x1c, // download ended
    ]);
    clean(&ack);
    assert_eq!(ack.function_code, Some(0x1c));
    assert_eq!(
        (ack.function, ack.class),
        ("download_ended", FunctionClass::Program)
    );
    assert_eq!(s7(&ack).block, Some(ended_block));
    assert_eq!(s7(&ack).request_packet, Some(3), "the download ended job");
}

#[test]
fn a_file_name_that_is_not_a_block_is_kept_as_text() {
    let mut c = Conn::default();
    let req = c.request(&[
        0x32, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x0f, 0x00, 0x00, // job
        0x1d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // start upload
        0x06, b'F', b'I', b'L', b'E', 0x01, b'X', // "FILE?X"
    ]);
    let f = s7(&req);
    assert_eq!(f.block, None);
    assert_eq!(f.filename.as_deref(), Some("FILE?X"));
}

// ---------------------------------------------------------------- control

#[test]
fn plc_stop() {
    let mut c = Conn::default();
    // snap7 frame 57
    let req = c.request(&[
        0x32, 0x01, 0x00, 0x00, 0x1c, 0x00, // job, PDU reference 0x1c00
        0x00, 0x10, 0x00, 0x00, // parameter length 16
        0x29, // PLC stop
        0x00, 0x00, 0x00, 0x00, 0x00, // unknown
        0x09, b'P', b'_', b'P', b'R', b'O', b'G', b'R', b'A', b'M', // service
    ]);
    clean(&req);
    assert_eq!(req.function, "plc_stop");
    assert_eq!(req.function_code, Some(0x29));
    assert_eq!(req.class, FunctionClass::Control);
    assert_eq!(s7(&req).pi_service.as_deref(), Some("P_PROGRAM"));
}

#[test]
fn plc_control_names_its_pi_service() {
    let mut c = Conn::default();
    // snap7 frame 63: start (P_PROGRAM with argument "C ")
    let req = c.request(&[
        0x32, 0x01, 0x00, 0x00, 0x1f, 0x00, // job, PDU reference 0x1f00
        0x00, 0x16, 0x00, 0x00, // parameter length 22
        0x28, // PLC control (PI service)
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xfd, // unknown
        0x00, 0x02, b'C', b' ', // parameter block: 2 octets
        0x09, b'P', b'_', b'P', b'R', b'O', b'G', b'R', b'A', b'M', // service
    ]);
    clean(&req);
    assert_eq!(req.function, "plc_control");
    assert_eq!(req.class, FunctionClass::Control);
    assert_eq!(s7(&req).pi_service.as_deref(), Some("P_PROGRAM"));
    // PI service _INSE lists the blocks it activates.
    let inse = c.request(&[
        0x32, 0x01, 0x00, 0x00, 0x20, 0x00, 0x00, 0x1a, 0x00,
        0x00, // job, parameter length 26
        0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xfd, // PLC control, unknown
        0x00, 0x0a, // parameter block length 10
        0x01, 0x00, // 1 block, unknown
        b'0', b'A', b'0', b'0', b'0', b'0', b'1', b'P', // DB 00001 passive
        0x05, b'_', b'I', b'N', b'S', b'E', // service
    ]);
    clean(&inse);
    let f = s7(&inse);
    assert_eq!(f.pi_service.as_deref(), Some("_INSE"));
    let block = f.block.unwrap();
    assert_eq!((block.type_name(), block.number), ("DB", Some(1)));
}

// ---------------------------------------------------------------- userdata

/// icsnpp_s7ident frame 10: read SZL 0x0011 index 0.
const SZL_0011_REQUEST: &[u8] = &[
    0x32, 0x07, 0x00, 0x00, // protocol id, userdata, redundancy id
    0x01, 0x00, // PDU reference 256
    0x00, 0x08, // parameter length
    0x00, 0x08, // data length
    0x00, 0x01, 0x12, // parameter head
    0x04, // parameter length 4
    0x11, // method: request
    0x44, // type request (4), group CPU functions (4)
    0x01, // sub-function: read SZL
    0x00, // sequence
    0xff, 0x09, 0x00, 0x04, // return code success, octet string, length 4
    0x00, 0x11, // SZL id
    0x00, 0x00, // SZL index
];

/// icsnpp_s7ident frame 11: the answer, module identification.
const SZL_0011_RESPONSE: &[u8] = &[
    0x32, 0x07, 0x00, 0x00, 0x01, 0x00, // userdata, PDU reference 256
    0x00, 0x0c, 0x00, 0x7c, // parameter length 12, data length 124
    0x00, 0x01, 0x12, 0x08, // parameter head, length 8
    0x12, // method: response
    0x84, // type response (8), group CPU (4)
    0x01, 0x00, // read SZL, sequence 0
    0x00, // data unit reference
    0x00, // last data unit: yes
    0x00, 0x00, // error code
    0xff, 0x09, 0x00, 0x78, // success, octet string, length 120
    0x00, 0x11, 0x00, 0x00, // SZL id 0x0011, index 0
    0x00, 0x1c, // record length 28
    0x00, 0x04, // 4 records
    0x00, 0x01, // index 1: the module
    b'6', b'E', b'S', b'7', b' ', b'3', b'1', b'5', b'-', b'2', // order number
    b'E', b'H', b'1', b'4', b'-', b'0', b'A', b'B', b'0', b' ', //
    0x00, 0xc0, 0x00, 0x04, 0x00, 0x01, // module type, versions
    0x00, 0x06, // index 6: basic hardware
    b'6', b'E', b'S', b'7', b' ', b'3', b'1', b'5', b'-', b'2', //
    b'E', b'H', b'1', b'4', b'-', b'0', b'A', b'B', b'0', b' ', //
    0x00, 0xc0, 0x00, 0x04, 0x00, 0x01, // module type, hardware version 4
    0x00, 0x07, // index 7: basic firmware
    b' ', b' ', b' ', b' ', b' ', b' ', b' ', b' ', b' ', b' ', //
    b' ', b' ', b' ', b' ', b' ', b' ', b' ', b' ', b' ', b' ', //
    0x00, 0xc0, 0x56, 0x03, 0x02, 0x06, // module type, 'V' 3, 2.6
    0x00, 0x81, // index 0x81: firmware extension
    b'B', b'o', b'o', b't', b' ', b'L', b'o', b'a', b'd', b'e', //
    b'r', b' ', b' ', b' ', b' ', b' ', b' ', b' ', b' ', b' ', //
    0x00, 0x00, 0x41, 0x20, 0x09, 0x09, //
];

#[test]
fn szl_read_request_and_module_identification_answer() {
    let mut c = Conn::default();
    let req = c.request(SZL_0011_REQUEST);
    clean(&req);
    assert_eq!(req.function, "read_szl");
    assert_eq!(req.function_code, None, "userdata has no job function code");
    assert_eq!(req.class, FunctionClass::Read);
    let f = s7(&req);
    assert_eq!((f.userdata_method, f.userdata_type), (Some(0x11), Some(4)));
    assert_eq!(
        (f.userdata_group, f.userdata_subfunction),
        (Some(4), Some(1))
    );
    assert_eq!((f.szl_id, f.szl_index), (Some(0x0011), Some(0)));
    assert_eq!(f.return_code, Some(0xff));
    assert!(req.identity.is_none());

    let resp = c.response(SZL_0011_RESPONSE);
    clean(&resp);
    let f = s7(&resp);
    assert_eq!(f.userdata_type, Some(8));
    assert_eq!(
        (f.data_unit_reference, f.last_data_unit),
        (Some(0), Some(true))
    );
    assert_eq!((f.szl_id, f.szl_index), (Some(0x0011), Some(0)));
    assert_eq!(f.request_packet, Some(1));
    let id = resp.identity.as_deref().expect("identity");
    // Wireshark: "MlfB (Order number of the module): 6ES7 315-2EH14-0AB0 "
    assert_eq!(id.order_number.as_deref(), Some("6ES7 315-2EH14-0AB0"));
    // Wireshark: index 7, Ausbg 22019 (0x5603), Ausbe 518 (0x0206)
    assert_eq!(id.firmware.as_deref(), Some("V3.2.6"));
    assert_eq!(id.hardware.as_deref(), Some("4"));
}

/// An SZL 0x001c answer with `records` of 34 octets (index + 32).
fn szl_001c_response(pdu_ref: u16, dur: u8, last: bool, records: &[(u16, &[u8])]) -> Vec<u8> {
    let mut szl = vec![
        0x00,
        0x1c,
        0x00,
        0x00, // SZL id 0x001c, index 0
        0x00,
        0x22, // record length 34
        0x00,
        records.len() as u8, // records
    ];
    for (index, text) in records {
        szl.extend_from_slice(&index.to_be_bytes());
        let mut field = text.to_vec();
        field.resize(32, 0);
        szl.extend_from_slice(&field);
    }
    ud_response(pdu_ref, (4, 1), dur, last, &szl)
}

/// A userdata response of (group, sub-function) with `data` after the data header.
fn ud_response(pdu_ref: u16, (group, sub): (u8, u8), dur: u8, last: bool, data: &[u8]) -> Vec<u8> {
    let mut pdu = vec![0x32, 0x07, 0x00, 0x00]; // userdata
    pdu.extend_from_slice(&pdu_ref.to_be_bytes());
    pdu.extend_from_slice(&12u16.to_be_bytes()); // parameter length
    pdu.extend_from_slice(&(data.len() as u16 + 4).to_be_bytes()); // data length
    pdu.extend_from_slice(&[
        0x00,
        0x01,
        0x12,
        0x08, // head, length 8
        0x12, // response
        0x80 | group,
        sub,
        0x01, // sequence
        dur,
        u8::from(!last),
        0x00,
        0x00, // error code
        0xff,
        0x09, // success, octet string
    ]);
    pdu.extend_from_slice(&(data.len() as u16).to_be_bytes());
    pdu.extend_from_slice(data);
    pdu
}

#[test]
fn component_identification_gives_names_serial_and_vendor() {
    let mut c = Conn::default();
    let manufacturer: &[u8] = &[0x00, 0x2a, 0xf6, 0x00, 0x00, 0x01];
    let resp = c.response(&szl_001c_response(
        0x0200,
        0,
        true,
        &[
            (0x0001, b"SNAP7-SERVER"),
            (0x0002, b"CPU 315-2 PN/DP"),
            (0x0004, b"Original Siemens Equipment"),
            (0x0005, b"S C-C2UR28922012"),
            (0x0007, b"CPU 315-2 PN/DP"),
            (0x0009, manufacturer),
        ],
    ));
    assert_eq!(anomalies(&resp), [RESPONSE_WITHOUT_REQUEST]);
    let id = resp.identity.as_deref().expect("identity");
    assert_eq!(id.station_name.as_deref(), Some("SNAP7-SERVER"));
    assert_eq!(id.module_name.as_deref(), Some("CPU 315-2 PN/DP"));
    assert_eq!(id.product.as_deref(), Some("CPU 315-2 PN/DP"));
    assert_eq!(id.serial.as_deref(), Some("S C-C2UR28922012"));
    assert_eq!(id.vendor_id, Some(0x2a));
    assert_eq!(id.vendor.as_deref(), Some("Siemens"));
}

#[test]
fn a_split_szl_answer_is_decoded_on_its_last_part() {
    // As s7comm_reading_plc_status frames 67-72: the answer comes in two PDUs
    // with data unit reference 6; the client asks for the rest in between.
    let mut whole = vec![
        0x00, 0x1c, 0x00, 0x00, // SZL id 0x001c, index 0
        0x00, 0x22, 0x00, 0x02, // record length 34, 2 records
    ];
    for (index, text) in [(1u16, &b"IM151-8-CPU"[..]), (5, b"S C-C6TW74882012")] {
        whole.extend_from_slice(&index.to_be_bytes());
        let mut field = text.to_vec();
        field.resize(32, 0);
        whole.extend_from_slice(&field);
    }
    let (part1, part2) = whole.split_at(30);
    let mut c = Conn::default();
    let req = c.request(&[
        0x32, 0x07, 0x00, 0x00, 0x14, 0x00, 0x00, 0x08, 0x00, 0x08, // userdata, ref 0x1400
        0x00, 0x01, 0x12, 0x04, 0x11, 0x44, 0x01, 0x00, // request, CPU, read SZL
        0xff, 0x09, 0x00, 0x04, 0x00, 0x1c, 0x00, 0x00, // SZL 0x001c, index 0
    ]);
    assert_eq!(s7(&req).szl_id, Some(0x1c));
    let first = c.response(&ud_response(0x1400, (4, 1), 6, false, part1));
    clean(&first);
    let f = s7(&first);
    assert_eq!(
        (f.data_unit_reference, f.last_data_unit),
        (Some(6), Some(false))
    );
    assert_eq!(f.szl_id, None, "not decoded until complete (as Wireshark)");
    assert!(first.identity.is_none());
    // frame 71: the follow-up request, method response, type request, no data
    let follow = c.request(&[
        0x32, 0x07, 0x00, 0x00, 0x15, 0x00, 0x00, 0x0c, 0x00, 0x04, // userdata, ref 0x1500
        0x00, 0x01, 0x12, 0x08, 0x12, 0x44, 0x01, 0x02, // method response, type request
        0x00, 0x00, 0x00, 0x00, // data unit ref 0, last, no error
        0x0a, 0x00, 0x00, 0x00, // object does not exist, NULL, length 0
    ]);
    assert_eq!(follow.function, "read_szl");
    assert_eq!(s7(&follow).szl_id, None);
    let last = c.response(&ud_response(0x1500, (4, 1), 6, true, part2));
    clean(&last);
    let f = s7(&last);
    assert_eq!((f.szl_id, f.szl_index), (Some(0x1c), Some(0)));
    assert_eq!(f.fragments, Some(2));
    assert_eq!(f.request_packet, Some(3));
    let id = last.identity.as_deref().unwrap();
    assert_eq!(id.station_name.as_deref(), Some("IM151-8-CPU"));
    assert_eq!(id.serial.as_deref(), Some("S C-C6TW74882012"));
}

#[test]
fn clock_read_and_set() {
    let mut c = Conn::default();
    // plc_status frame 167
    let req = c.request(&[
        0x32, 0x07, 0x00, 0x00, 0x33, 0x00, 0x00, 0x08, 0x00, 0x04, // userdata
        0x00, 0x01, 0x12, 0x04, 0x11, // head, length 4, request
        0x47, // request, time functions
        0x01, 0x00, // read clock, sequence
        0x0a, 0x00, 0x00, 0x00, // no data
    ]);
    clean(&req);
    assert_eq!(req.function, "read_clock");
    assert_eq!(req.class, FunctionClass::Read);
    // plc_status frame 168
    let resp = c.response(&[
        0x32, 0x07, 0x00, 0x00, 0x33, 0x00, 0x00, 0x0c, 0x00, 0x0e, // userdata
        0x00, 0x01, 0x12, 0x08, 0x12, 0x87, 0x01, 0x02, // response, time, read clock
        0x00, 0x00, 0x00, 0x00, // data unit ref, last, error
        0xff, 0x09, 0x00, 0x0a, // success, 10 octets
        0x00, 0x19, 0x14, 0x08, 0x20, // reserved, 19, 14, August, 20th
        0x12, 0x05, 0x36, 0x11, 0x24, // 12:05:36, 112 ms, Wednesday
    ]);
    clean(&resp);
    assert_eq!(s7(&resp).clock.as_deref(), Some("2014-08-20 12:05:36.112"));
    // snap7 frame 47
    let set = c.request(&[
        0x32, 0x07, 0x00, 0x00, 0x17, 0x00, 0x00, 0x08, 0x00, 0x0e, // userdata
        0x00, 0x01, 0x12, 0x04, 0x11, 0x47, 0x02, 0x00, // request, time, set clock
        0xff, 0x09, 0x00, 0x0a, // success, 10 octets
        0x00, 0x19, 0x16, 0x02, 0x08, 0x23, 0x08, 0x10, 0x00, 0x02, // 2016-02-08 23:08:10.000
    ]);
    clean(&set);
    assert_eq!(set.function, "set_clock");
    assert_eq!(set.class, FunctionClass::Control);
    assert_eq!(s7(&set).clock.as_deref(), Some("2016-02-08 23:08:10.000"));
}

#[test]
fn block_functions_are_discovery() {
    let mut c = Conn::default();
    // snap7 frame 23: get block info of DB 0
    let req = c.request(&[
        0x32, 0x07, 0x00, 0x00, 0x0b, 0x00, 0x00, 0x08, 0x00, 0x0c, // userdata
        0x00, 0x01, 0x12, 0x04, 0x11, 0x43, 0x03,
        0x00, // request, block functions, block info
        0xff, 0x09, 0x00, 0x08, // success, 8 octets
        b'0', b'A', b'0', b'0', b'0', b'0', b'0', b'A', // DB 00000, file system A
    ]);
    clean(&req);
    assert_eq!(req.function, "get_block_info");
    assert_eq!(req.class, FunctionClass::Discovery);
    let block = s7(&req).block.unwrap();
    assert_eq!((block.type_name(), block.number), ("DB", Some(0)));
    // snap7 frame 24: block not found
    let resp = c.response(&[
        0x32, 0x07, 0x00, 0x00, 0x0b, 0x00, 0x00, 0x0c, 0x00, 0x04, // userdata
        0x00, 0x01, 0x12, 0x08, 0x12, 0x83, 0x03, 0x00, // response, block info
        0x00, 0x00, 0xd2, 0x09, // data unit ref, last, error code 0xd209
        0x0a, 0x00, 0x00, 0x00, // object does not exist
    ]);
    clean(&resp);
    let f = s7(&resp);
    assert_eq!(
        (f.userdata_error_code, f.return_code),
        (Some(0xd209), Some(0x0a))
    );
    assert_eq!(f.block, Some(block), "carried from the request");
    // List blocks of type OB.
    let list = c.request(&[
        0x32, 0x07, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x08, 0x00, 0x06, // userdata
        0x00, 0x01, 0x12, 0x04, 0x11, 0x43, 0x02, 0x00, // request, list blocks of type
        0xff, 0x09, 0x00, 0x02, b'0', b'8', // OB
    ]);
    assert_eq!(list.function, "list_blocks_of_type");
    assert_eq!(
        s7(&list).block.map(|b| b.type_name().to_string()),
        Some("OB".into())
    );
    assert_eq!(s7(&list).block.and_then(|b| b.number), None);
}

#[test]
fn userdata_groups_and_their_classes() {
    let ud = |type_group: u8, sub: u8| {
        vec![
            0x32, 0x07, 0x00, 0x00, 0x00, 0x01, 0x00, 0x08, 0x00, 0x00, // userdata
            0x00, 0x01, 0x12, 0x04, 0x11, type_group, sub, 0x00, // parameter
        ]
    };
    let cases = [
        (0x00, 0x02, "mode_transition", FunctionClass::Diagnostic),
        (0x41, 0x09, "force", FunctionClass::Control),
        (0x41, 0x08, "modify_variable", FunctionClass::Write),
        (0x41, 0x0c, "memory_reset", FunctionClass::Program),
        (0x42, 0x01, "cyclic_transfer", FunctionClass::Read),
        (0x44, 0x02, "message_service", FunctionClass::Diagnostic),
        (0x45, 0x01, "plc_password", FunctionClass::Session),
        (0x4f, 0x01, "nc_programming", FunctionClass::Program),
    ];
    for (type_group, sub, name, class) in cases {
        let mut c = Conn::default();
        let e = c.request(&ud(type_group, sub));
        clean(&e);
        assert_eq!(
            (e.function, e.class),
            (name, class),
            "{type_group:#x}/{sub:#x}"
        );
    }
    let mut c = Conn::default();
    let mode = c.request(&ud(0x00, 0x02));
    assert_eq!(s7(&mode).cpu_mode, Some(2));
    let e = c.request(&ud(0x48, 0x01));
    assert_eq!(e.function, "userdata");
    assert_eq!(anomalies(&e), [UNKNOWN_USERDATA_GROUP]);
    let e = Conn::default().request(&ud(0x44, 0x7e));
    assert_eq!(e.function, "cpu_function");
    assert_eq!(anomalies(&e), [UNKNOWN_USERDATA_SUBFUNCTION]);
}

#[test]
fn cyclic_transfer_request_lists_its_items() {
    let mut c = Conn::default();
    let req = c.request(&[
        0x32, 0x07, 0x00, 0x00, 0x00, 0x02, 0x00, 0x08, 0x00,
        0x14, // userdata, data length 20
        0x00, 0x01, 0x12, 0x04, 0x11, 0x42, 0x01, 0x00, // request, cyclic, transfer
        0xff, 0x09, 0x00, 0x10, // success, 16 octets
        0x00, 0x01, // item count 1
        0x01, 0x05, // time base 1 s, interval 5
        0x12, 0x0a, 0x10, 0x02, 0x00, 0x04, 0x00, 0x01, 0x84, 0x00, 0x00, 0x00, // DB1.DBB0 x4
    ]);
    clean(&req);
    let f = s7(&req);
    assert_eq!(f.item_count, Some(1));
    assert_eq!(f.items[0].db, Some(1));
}

// ---------------------------------------------------------------- anomalies

#[test]
fn truncated_and_inconsistent_pdus_are_reported() {
    let mut c = Conn::default();
    let e = c.request(&[0x32, 0x01, 0x00, 0x00, 0x00]);
    assert_eq!(e.function, "invalid");
    assert_eq!(e.function_code, None);
    assert_eq!(anomalies(&e), [TRUNCATED_HEADER]);

    // Lengths that do not add up; a job without parameter.
    let e = c.request(&[0x32, 0x01, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x05]);
    assert_eq!(anomalies(&e), [PDU_LENGTH_MISMATCH, MISSING_PARAMETER]);

    // Unknown ROSCTR and unknown function code.
    let e = c.request(&[0x32, 0x05, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00]);
    assert_eq!(anomalies(&e), [UNKNOWN_ROSCTR]);
    assert_eq!(e.function, "unknown");
    let e = c.request(&[
        0x32, 0x01, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x01, 0x00, 0x00, 0x77,
    ]);
    assert_eq!(e.function_code, Some(0x77));
    assert_eq!(e.function, "unknown");
    assert_eq!(anomalies(&e), [UNKNOWN_FUNCTION_CODE]);

    // An item that is not a variable specification, and one cut short.
    let e = c.request(&[
        0x32, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x0a, 0x00,
        0x00, // job, parameter length 10
        0x04, 0x02, // read var, 2 items
        0x11, 0x02, 0x10, 0x00, // spec 0x11, length 2
        0x12, 0x0a, 0x10, 0x02, // S7ANY cut short
    ]);
    assert_eq!(anomalies(&e), [INVALID_ITEM]);
    assert_eq!(s7(&e).items.len(), 1);

    // Setup communication cut short.
    let e = c.request(&[
        0x32, 0x01, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x02, 0x00, 0x00, 0xf0, 0x00,
    ]);
    assert_eq!(anomalies(&e), [TRUNCATED_PARAMETER]);

    // Userdata parameter too short.
    let e = c.request(&[
        0x32, 0x07, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01,
    ]);
    assert_eq!(e.function, "userdata");
    assert_eq!(anomalies(&e), [INVALID_USERDATA_PARAMETER]);
}

#[test]
fn pairing_anomalies() {
    let mut c = Conn::default();
    let ack_data = [
        0x32, 0x03, 0x00, 0x00, 0x00, 0x05, 0x00, 0x02, 0x00, 0x00, 0x00,
        0x00, // ack_data, ref 5
        0x05, 0x00, // write var, 0 items
    ];
    let e = c.response(&ack_data);
    assert_eq!(anomalies(&e), [RESPONSE_WITHOUT_REQUEST]);
    assert_eq!(e.function, "write_var");

    let read = [
        0x32, 0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x02, 0x00, 0x00, // job, ref 5
        0x04, 0x00, // read var, 0 items
    ];
    c.request(&read);
    let e = c.request(&read);
    assert_eq!(anomalies(&e), [DUPLICATE_PDU_REFERENCE]);
    let e = c.response(&ack_data);
    assert_eq!(anomalies(&e), [FUNCTION_MISMATCH]);
    assert_eq!(e.function, "write_var");

    // The table is bounded.
    let mut c = Conn::default();
    for r in 0..=MAX_PENDING as u16 {
        let mut job = read;
        job[4..6].copy_from_slice(&r.to_be_bytes());
        let e = c.request(&job);
        assert_eq!(
            e.anomalies.contains(PENDING_TABLE_FULL),
            usize::from(r) == MAX_PENDING
        );
    }
}

#[test]
fn oversized_reassembly_is_dropped() {
    let mut c = Conn::default();
    let chunk = vec![0x11; 900];
    for _ in 0..(MAX_USERDATA / chunk.len() + 1) {
        c.response(&ud_response(1, (4, 1), 9, false, &chunk));
    }
    let e = c.response(&ud_response(1, (4, 1), 9, true, &chunk));
    assert!(e.anomalies.contains(USERDATA_TOO_LONG));
    assert_eq!(s7(&e).szl_id, None);
}

#[test]
fn szl_parser_is_bounded_by_what_is_there() {
    // 3 records declared, 1 and a half present.
    let mut data = vec![0x00, 0x11, 0x00, 0x00, 0x00, 0x1c, 0x00, 0x03];
    data.extend_from_slice(&[0u8; 42]);
    let szl = szl::Szl::parse(&data).unwrap();
    assert_eq!(szl.records().count(), 1);
    assert!(!szl.complete());
    assert_eq!(szl::Szl::parse(&[0x00, 0x11, 0x00]), None);
    // A record length of 0 yields no records.
    let szl = szl::Szl::parse(&[0x00, 0x11, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 1, 2]).unwrap();
    assert_eq!(szl.records().count(), 0);
}

#[test]
fn clock_rejects_non_bcd_digits() {
    assert_eq!(clock(&[0, 0x19, 0x1a, 1, 1, 0, 0, 0, 0, 0]), None);
    assert_eq!(
        clock(&[0, 0x19, 0x95, 1, 2, 3, 4, 5, 0x12, 0x30]).as_deref(),
        Some("1995-01-02 03:04:05.123")
    );
    assert_eq!(clock(&[0; 9]), None);
}

// ---------------------------------------------------------------- as Wireshark 4.0 decides
// (each checked against tshark 4.0.17 on a crafted capture)

#[test]
fn mode_transition_carries_the_mode_not_a_subfunction() {
    let mut c = Conn::default();
    let e = c.response(&[
        0x32, 0x07, 0x00, 0x00, 0x00, 0x01, 0x00, 0x08, 0x00, 0x00, // userdata
        0x00, 0x01, 0x12, 0x04, 0x11, // head, length 4, method
        0x00, // push, group 0: mode transition
        0x02, // the new mode: RUN (Wireshark s7comm.param.modetrans.subfunc)
        0x00, // sequence
    ]);
    clean(&e);
    let f = s7(&e);
    assert_eq!(
        (f.userdata_group, f.userdata_subfunction, f.cpu_mode),
        (Some(0), None, Some(2))
    );
    assert_eq!(e.function, "mode_transition");
}

#[test]
fn szl_answer_without_success_has_no_szl_id() {
    let mut c = Conn::default();
    let answer = |code: u8| {
        vec![
            0x32, 0x07, 0x00, 0x00, 0x00, 0x03, 0x00, 0x0c, 0x00, 0x08, // userdata
            0x00, 0x01, 0x12, 0x08, 0x12, 0x84, 0x01, 0x00, // response, read SZL
            0x00, 0x00, 0x00, 0x00, // data unit ref, last, error code
            code, 0x09, 0x00, 0x04, // return code, octet string, length 4
            0x00, 0x11, 0x00, 0x00, // SZL id, index
        ]
    };
    assert_eq!(s7(&c.response(&answer(0x0a))).szl_id, None);
    assert_eq!(s7(&c.response(&answer(0xff))).szl_id, Some(0x11));
    // A request shows them whatever its return code and transport size.
    let e = c.request(&[
        0x32, 0x07, 0x00, 0x00, 0x00, 0x04, 0x00, 0x08, 0x00, 0x08, // userdata
        0x00, 0x01, 0x12, 0x04, 0x11, 0x44, 0x01, 0x00, // request, read SZL
        0x0a, 0x00, 0x00, 0x04, // object does not exist, NULL, length 4
        0x00, 0x11, 0x00, 0x01, // SZL 0x0011 index 1
    ]);
    assert_eq!((s7(&e).szl_id, s7(&e).szl_index), (Some(0x11), Some(1)));
}

#[test]
fn change_driven_transfer_lists_its_items_like_cyclic_transfer() {
    for sub in [0x05, 0x07] {
        let e = Conn::default().request(&[
            0x32, 0x07, 0x00, 0x00, 0x00, 0x07, 0x00, 0x08, 0x00, 0x14, // userdata
            0x00, 0x01, 0x12, 0x04, 0x11, 0x42, sub, 0x00, // request, cyclic group
            0xff, 0x09, 0x00, 0x10, // success, 16 octets
            0x00, 0x01, 0x01, 0x05, // 1 item, time base, interval
            0x12, 0x0a, 0x10, 0x02, 0x00, 0x04, 0x00, 0x01, 0x84, 0x00, 0x00,
            0x00, // DB1.DBB0 x4
        ]);
        clean(&e);
        assert_eq!(s7(&e).item_count, Some(1));
        assert_eq!(s7(&e).items[0].area, Some(0x84));
    }
}

#[test]
fn only_type_0x12_variable_specifications_are_read() {
    let e = Conn::default().request(&[
        0x32, 0x01, 0x00, 0x00, 0x00, 0x08, 0x00, 0x0e, 0x00,
        0x00, // job, parameter length 14
        0x04, 0x01, // read var, 1 item
        0x11, 0x0a, 0x10, 0x02, 0x00, 0x01, 0x00, 0x00, 0x84, 0x00, 0x00, 0x00, // spec 0x11
    ]);
    assert_eq!(anomalies(&e), [INVALID_ITEM]);
    assert_eq!(s7(&e).items[0].area, None);
}

#[test]
fn s7comm_is_recognised_as_wireshark_does() {
    assert!(is_s7comm(&[0x32, 0x01, 0, 0, 0, 0, 0, 0, 0, 0]));
    assert!(is_s7comm(&[0x32, 0x05, 0, 0, 0, 0, 0, 0, 0, 0]));
    assert!(!is_s7comm(&[0x32, 0x08, 0, 0, 0, 0, 0, 0, 0, 0]));
    assert!(!is_s7comm(&[0x32, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]));
    assert!(!is_s7comm(&[0x32, 0x01, 0, 0, 0, 0, 0, 0, 0]));
    assert!(!is_s7comm(&[0x72, 0x01, 0, 0, 0, 0, 0, 0, 0, 0]));
}

#[test]
fn after_a_gap_in_the_answers_a_reused_pdu_reference_is_not_a_duplicate() {
    let mut c = Conn::default();
    let read = [
        0x32, 0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x02, 0x00, 0x00, // job, ref 5
        0x04, 0x00, // read var, 0 items
    ];
    c.request(&read);
    c.state.gap(ToClient);
    let e = c.request(&read);
    assert!(e.anomalies.is_empty(), "{:?}", anomalies(&e));
}
