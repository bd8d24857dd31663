//! Unit tests: inline frames, one comment per field. Frames quoted whole are
//! those of the public captures under `../shared/pcaps/dnp3/` (ITI select /
//! operate, icsnpp example, nDPI, OpenICS malformed), as Wireshark decodes
//! them; the others are built with [`link::build`], which computes the CRCs.

use super::*;
use crate::event::{Event, Header, Identity, Transport};
use crate::protocols::{DatagramDecoder, Detection, StreamDecoder, detect_datagram, detect_stream};
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

/// One conversation: a parser, the events it emitted, a packet counter.
struct Conn {
    parser: Dnp3Parser,
    events: Vec<Event>,
    packet: u64,
}

impl Conn {
    fn new() -> Self {
        Conn {
            parser: Dnp3Parser::new(),
            events: Vec::new(),
            packet: 0,
        }
    }

    /// Presents stream `data` as completed by the next packet; returns bytes consumed.
    fn feed(&mut self, dir: Direction, data: &[u8]) -> usize {
        self.packet += 1;
        let mut out = Emitter::new(header(self.packet), dir, &mut self.events);
        StreamParser::parse(&mut self.parser, data, &mut out)
    }

    /// Presents one UDP datagram in the next packet; returns the events it gave.
    fn datagram(&mut self, dir: Direction, data: &[u8]) -> Vec<Pdu> {
        self.packet += 1;
        let before = self.events.len();
        let mut out = Emitter::new(header(self.packet), dir, &mut self.events);
        DatagramParser::parse(&mut self.parser, data, &mut out);
        self.events[before..]
            .iter()
            .map(|e| e.pdu.clone())
            .collect()
    }

    /// Presents whole frames and returns the events they gave.
    fn all(&mut self, dir: Direction, data: &[u8]) -> Vec<Pdu> {
        let before = self.events.len();
        assert_eq!(self.feed(dir, data), data.len(), "not all consumed");
        self.events[before..]
            .iter()
            .map(|e| e.pdu.clone())
            .collect()
    }

    /// Presents whole frames that give exactly one event.
    fn one(&mut self, dir: Direction, data: &[u8]) -> Pdu {
        let events = self.all(dir, data);
        assert_eq!(events.len(), 1, "not exactly one event: {events:#?}");
        events.into_iter().next().expect("an event")
    }

    /// Presents whole frames that give no event (segments of a fragment).
    fn none(&mut self, dir: Direction, data: &[u8]) {
        let events = self.all(dir, data);
        assert!(events.is_empty(), "{events:#?}");
    }
}

fn dnp(pdu: &Pdu) -> &Dnp3Fields {
    match &pdu.fields {
        Fields::Dnp3(f) => f,
        _ => panic!("no DNP3 fields"),
    }
}

fn anomalies(pdu: &Pdu) -> Vec<&'static str> {
    pdu.anomalies.iter().collect()
}

fn clean(pdu: &Pdu) {
    assert!(pdu.anomalies.is_empty(), "{:?}", anomalies(pdu));
}

fn names(pdu: &Pdu) -> Vec<String> {
    let mut buf = [0u8; 8];
    dnp(pdu)
        .objects
        .headers
        .iter()
        .map(|h| h.name(&mut buf).to_string())
        .collect()
}

/// Master 1 → outstation 10: DIR, PRM, unconfirmed user data.
const MASTER_CTL: u8 = 0xC4;
/// Outstation 10 → master 1: PRM, unconfirmed user data.
const OUTSTATION_CTL: u8 = 0x44;

/// A request frame from master 1 to outstation 10 with one transport
/// segment (FIR, FIN, sequence 0) holding `fragment`.
fn request(fragment: &[u8]) -> Vec<u8> {
    let mut data = vec![0xC0];
    data.extend_from_slice(fragment);
    link::build(MASTER_CTL, 10, 1, &data)
}

/// A response frame from outstation 10 to master 1 holding `fragment` whole.
fn response(fragment: &[u8]) -> Vec<u8> {
    let mut data = vec![0xC0];
    data.extend_from_slice(fragment);
    link::build(OUTSTATION_CTL, 1, 10, &data)
}

/// `fragment` cut into transport segments of at most `size` bytes, each in
/// its own frame from outstation 10, sequence numbers from `seq`.
fn segmented(fragment: &[u8], size: usize, seq: u8) -> Vec<Vec<u8>> {
    let chunks: Vec<&[u8]> = fragment.chunks(size).collect();
    let last = chunks.len() - 1;
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let mut t = (seq.wrapping_add(i as u8)) & transport::SEQ;
            if i == 0 {
                t |= transport::FIR;
            }
            if i == last {
                t |= transport::FIN;
            }
            let mut data = vec![t];
            data.extend_from_slice(chunk);
            link::build(OUTSTATION_CTL, 1, 10, &data)
        })
        .collect()
}

// ---------------------------------------------------------------- link layer

#[test]
fn crc_matches_the_wire() {
    // OpenICS frame 2: header 05 64 19 c4 0a 00 01 00, CRC da 8f.
    assert_eq!(
        link::crc(&[0x05, 0x64, 0x19, 0xC4, 0x0A, 0x00, 0x01, 0x00]),
        0x8FDA
    );
    // Its first data block, CRC 63 9a.
    let block = [
        0xC1, 0xC2, 0x04, 0x0C, 0x01, 0x00, 0x00, 0x01, 0x00, 0x03, 0x01, 0x64, 0x00, 0x00, 0x00,
        0x64,
    ];
    assert_eq!(link::crc(&block), 0x9A63);
    // A block of zeros.
    assert_eq!(link::crc(&[0; 16]), 0xFFFF);
    assert_eq!(link::MAX_FRAME_LEN, 292);
}

#[test]
fn read_class_0_request() {
    // icsnpp frame 1: master 100 reads class 0 from outstation 5.
    let frame = [
        0x05, 0x64, // start bytes
        0x0B, // length: 11 (control, addresses, 6 bytes of user data)
        0xC4, // control: DIR, PRM, unconfirmed user data (4)
        0x05, 0x00, // destination 5
        0x64, 0x00, // source 100
        0x6F, 0x36, // header CRC
        0xD0, // transport: FIN, FIR, sequence 16
        0xC3, // application control: FIR, FIN, sequence 3
        0x01, // function: read
        0x3C, 0x01, 0x06, // g60v1 (class 0), qualifier 0x06: all objects
        0x34, 0x4D, // block CRC
    ];
    let mut c = Conn::new();
    let pdu = c.one(ToServer, &frame);
    clean(&pdu);
    assert_eq!(pdu.protocol, Protocol::Dnp3);
    assert_eq!(pdu.function_code, Some(1));
    assert_eq!(pdu.function, "read");
    assert_eq!(pdu.class, FunctionClass::Read);
    assert!(!pdu.is_response);
    let f = dnp(&pdu);
    let l = f.link.unwrap();
    assert_eq!((l.source, l.destination, l.length), (100, 5, 11));
    assert!(l.from_master() && l.primary());
    assert_eq!(l.function().name(), Some("unconfirmed_user_data"));
    assert_eq!(f.transport, Some(0xD0));
    assert_eq!(f.app_control, Some(0xC3));
    assert_eq!(f.link_frames, Some(1));
    assert_eq!(f.first_packet, None);
    assert_eq!(f.fragment_length, Some(5));
    assert_eq!(f.iin, None);
    assert_eq!(names(&pdu), ["g60v1"]);
    let h = f.objects.headers[0];
    assert_eq!((h.prefix_code(), h.range_code()), (Some(0), Some(6)));
    assert_eq!((h.start, h.stop, h.quantity), (None, None, None));
}

#[test]
fn select_and_operate_crob_paired_with_their_echoes() {
    // ITI select/operate capture, frames 4 and 6: master 1 selects a CROB
    // on outstation 10, which echoes it.
    let select = [
        0x05, 0x64, 0x1A, 0xC4, 0x0A, 0x00, 0x01, 0x00, 0x8A,
        0x1C, // header: 26 bytes, master 1 → 10
        0xC0, // transport: FIR, FIN, sequence 0
        0xC0, // application: FIR, FIN, sequence 0
        0x03, // function: select
        0x0C, 0x01, // g12v1 CROB
        0x28, // qualifier: 2-byte index prefix, 2-byte count
        0x01, 0x00, // count 1
        0x00, 0x00, // index 0
        0x03, // control code: latch on
        0x01, // count 1
        0x64, 0x00, 0x00, 0x00, // on time 100 ms
        0xFD, 0x6B, // CRC of the first 16-byte block
        0x64, 0x00, 0x00, 0x00, // off time 100 ms
        0x00, // status
        0x00, 0x5B, // CRC of the second block
    ];
    let echo = hex("05641c4401000a007636c6c08100000c01280100000003016400c39600006400000000005b");
    let mut c = Conn::new();
    let req = c.one(ToServer, &select);
    clean(&req);
    assert_eq!(
        (req.function, req.class),
        ("select", FunctionClass::Control)
    );
    assert_eq!(names(&req), ["g12v1"]);
    let h = dnp(&req).objects.headers[0];
    assert_eq!(
        (h.prefix_code(), h.range_code(), h.quantity),
        (Some(2), Some(8), Some(1))
    );
    let ctl = dnp(&req).objects.controls[0];
    assert_eq!(ctl.index, 0);
    assert_eq!(
        ctl.kind,
        ControlKind::Relay {
            code: 3,
            count: 1,
            on_time: 100,
            off_time: 100
        }
    );
    assert_eq!(ControlKind::operation(3), "latch_on");

    let rsp = c.one(ToClient, &echo);
    clean(&rsp);
    assert!(rsp.is_response);
    assert_eq!(rsp.function_code, Some(129));
    // A response is classed by the request it answers.
    assert_eq!(rsp.class, FunctionClass::Control);
    let f = dnp(&rsp);
    assert_eq!(f.iin, Some(0));
    assert_eq!(f.request_packet, NonZeroU64::new(1));
    assert_eq!(f.request_function_code, Some(3));
    assert_eq!(f.objects.controls[0].status, 0);
    assert_eq!(f.app_control.map(|c| c & app::control::SEQ), Some(0));
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn unsolicited_response_and_its_confirm() {
    // nDPI frame 10: outstation 4 → master 3, unsolicited null response.
    let unsolicited = [
        0x05, 0x64, 0x0A, 0x44, 0x03, 0x00, 0x04, 0x00, 0x7C,
        0xAE, // header: 10 bytes, 4 → 3
        0xE6, // transport: FIN, FIR, sequence 38
        0xF7, // application: FIR, FIN, CON, UNS, sequence 7
        0x82, // function: unsolicited response
        0x10, 0x00, // IIN: need time
        0x4F, 0xBD, // block CRC
    ];
    // nDPI frame 16: master 3 confirms it.
    let confirm = [
        0x05, 0x64, 0x08, 0xC4, 0x04, 0x00, 0x03, 0x00, 0xB4,
        0xB8, // header: 8 bytes, 3 → 4
        0xC0, // transport: FIN, FIR, sequence 0
        0xD7, // application: FIR, FIN, UNS, sequence 7
        0x00, // function: confirm
        0x7A, 0xCE, // block CRC
    ];
    let mut c = Conn::new();
    let u = c.one(ToClient, &unsolicited);
    clean(&u);
    assert_eq!(u.function, "unsolicited_response");
    assert_eq!(u.class, FunctionClass::Other);
    assert!(u.is_response);
    let f = dnp(&u);
    assert_eq!(f.iin, Some(0x1000));
    assert_eq!(f.iin_names().collect::<Vec<_>>(), ["need_time"]);
    let ctl = f.app_control.unwrap();
    assert!(ctl & app::control::UNS != 0 && ctl & app::control::CON != 0);

    let k = c.one(ToServer, &confirm);
    clean(&k);
    assert_eq!((k.function, k.function_code), ("confirm", Some(0)));
    assert!(!k.is_response);
    // Confirms are classed by what they confirm: an unsolicited report.
    assert_eq!(k.class, FunctionClass::Other);
}

#[test]
fn confirm_of_a_read_response_is_a_read() {
    let mut c = Conn::new();
    // Read class 1 events, application sequence 4.
    c.one(ToServer, &request(&[0xC4, 0x01, 0x3C, 0x02, 0x06]));
    let rsp = c.one(
        ToClient,
        &response(&[
            0xE4, // FIR, FIN, CON, sequence 4
            0x81, // response
            0x02, 0x00, // IIN: class 1 events
            0x02, 0x02,
            0x17, // g2v2 binary input event with time, 1-byte index prefix, 1-byte count
            0x01, // count 1
            0x07, // index 7
            0x81, // flags: online, state on
            0x10, 0x27, 0x00, 0x00, 0x00, 0x00, // time: 10 s after the epoch
        ]),
    );
    clean(&rsp);
    assert_eq!(rsp.class, FunctionClass::Read);
    assert_eq!(
        dnp(&rsp).iin_names().collect::<Vec<_>>(),
        ["class_1_events"]
    );
    let confirm = c.one(ToServer, &request(&[0xC4, 0x00]));
    clean(&confirm);
    assert_eq!(confirm.class, FunctionClass::Read);
    // A second confirm of the same response finds nothing left to confirm.
    let again = c.one(ToServer, &request(&[0xC4, 0x00]));
    assert_eq!(again.class, FunctionClass::Other);
}

#[test]
fn requests_without_acknowledgement_wait_for_no_response() {
    let mut c = Conn::new();
    // Direct operate no ack, sequence 6: nothing is expected back.
    let pdu = c.one(ToServer, &request(&[0xC6, 0x06, 0x0C, 0x01, 0x17, 0x00]));
    clean(&pdu);
    assert_eq!(pdu.class, FunctionClass::Control);
    assert!(c.parser.pending.is_empty());
    let rsp = c.one(ToClient, &response(&[0xC6, 0x81, 0x00, 0x00]));
    assert_eq!(rsp.class, FunctionClass::Other);
    assert_eq!(dnp(&rsp).request_packet, None);
}

#[test]
fn write_time_and_iin() {
    // nDPI frame 19: write g50v1 (time and date), count 1.
    let write_time = [
        0x05, 0x64, 0x12, 0xC4, 0x04, 0x00, 0x03, 0x00, 0x1E,
        0x7C, // header: 18 bytes, 3 → 4
        0xC1, // transport: FIN, FIR, sequence 1
        0xC1, // application: FIR, FIN, sequence 1
        0x02, // function: write
        0x32, 0x01, // g50v1 time and date
        0x07, // qualifier: 1-byte count
        0x01, // count 1
        0xEB, 0xE4, 0x5A, 0x87, 0xFF, 0x00, // time (48-bit ms)
        0x28, 0x01, // block CRC
    ];
    let mut c = Conn::new();
    let pdu = c.one(ToServer, &write_time);
    clean(&pdu);
    assert_eq!((pdu.function, pdu.class), ("write", FunctionClass::Control));
    assert_eq!(names(&pdu), ["g50v1"]);
    assert_eq!(dnp(&pdu).objects.headers[0].quantity, Some(1));

    // nDPI frame 262: write g80v1 (IIN) index 7 cleared: the device restart bit.
    let clear_restart = [
        0x05, 0x64, 0x0E, 0xC4, 0x04, 0x00, 0x03, 0x00, 0x6D,
        0xD3, // header: 14 bytes, 3 → 4
        0xC3, // transport: FIN, FIR, sequence 3
        0xC4, // application: FIR, FIN, sequence 4
        0x02, // function: write
        0x50, 0x01, // g80v1 internal indications
        0x00, // qualifier: 1-byte start and stop
        0x07, 0x07, // start 7, stop 7
        0x00, // packed bit: 0
        0x5E, 0x3F, // block CRC
    ];
    let pdu = c.one(ToServer, &clear_restart);
    clean(&pdu);
    let h = dnp(&pdu).objects.headers[0];
    assert_eq!(
        (h.group, h.variation, h.start, h.stop),
        (80, 1, Some(7), Some(7))
    );
}

#[test]
fn integrity_poll_response_walks_every_header() {
    // nDPI frame 271: the response to a class 0123 read.
    let frame = hex(concat!(
        "05644e44030004006f4d",             // header: 78 bytes, 4 → 3
        "d8c58100000101000005020a02000005", // transport, app FIR FIN seq 5, response, IIN 0, g1v1 0..5 = 02, g10v2 0..5
        "ac11",
        "01010101010114050000000000000015", // g10v2 data, g20v5 0..0 + 4 bytes, g21v9 header start
        "4e0d",
        "09000000000000001e03000006c50000", // g21v9 0..0 + 4 bytes, g30v3 0..6
        "f0ff",
        "00c7000000c800000001000000251c00", // g30v3 values
        "68ac",
        "000e1c0000101c0000", // g30v3 values
        "2a73",
    ));
    let mut c = Conn::new();
    let pdu = c.one(ToClient, &frame);
    clean(&pdu);
    assert_eq!(names(&pdu), ["g1v1", "g10v2", "g20v5", "g21v9", "g30v3"]);
    let stops: Vec<Option<u32>> = dnp(&pdu).objects.headers.iter().map(|h| h.stop).collect();
    assert_eq!(stops, [Some(5), Some(5), Some(0), Some(0), Some(6)]);
    // No request was seen: classed as other, no request packet.
    assert_eq!(pdu.class, FunctionClass::Other);
    assert_eq!(dnp(&pdu).request_packet, None);
}

#[test]
fn restarts_and_application_control() {
    let mut c = Conn::new();
    for (code, name) in [
        (13, "cold_restart"),
        (14, "warm_restart"),
        (17, "start_application"),
        (18, "stop_application"),
        (20, "enable_unsolicited"),
        (21, "disable_unsolicited"),
        (7, "immediate_freeze"),
    ] {
        let pdu = c.one(ToServer, &request(&[0xC1, code]));
        clean(&pdu);
        assert_eq!((pdu.function, pdu.class), (name, FunctionClass::Control));
    }
    // Cold restart answered with g52v2 (time delay fine): the response is control too.
    c.one(ToServer, &request(&[0xC5, 13]));
    let rsp = c.one(
        ToClient,
        &response(&[
            0xC5, 0x81, 0x00, 0x00, // FIR FIN seq 5, response, IIN
            0x34, 0x02, 0x07, 0x01, // g52v2, 1-byte count, 1
            0x88, 0x13, // 5000 ms
        ]),
    );
    clean(&rsp);
    assert_eq!(rsp.class, FunctionClass::Control);
    assert_eq!(dnp(&rsp).request_function_code, Some(13));
    // Saving the configuration and file transfer are program changes, time
    // synchronisation helpers diagnostics, authentication session.
    for (code, name, class) in [
        (19, "save_configuration", FunctionClass::Program),
        (26, "close_file", FunctionClass::Program),
        (23, "delay_measurement", FunctionClass::Diagnostic),
        (24, "record_current_time", FunctionClass::Diagnostic),
        (33, "authenticate_request_no_ack", FunctionClass::Session),
    ] {
        let pdu = c.one(ToServer, &request(&[0xC1, code]));
        assert_eq!((pdu.function, pdu.class), (name, class));
    }
}

#[test]
fn open_file_with_size_prefixed_file_command() {
    let mut fragment = vec![
        0xC2, // FIR FIN seq 2
        0x19, // open file
        0x46, 0x03, // g70v3 file command
        0x5B, // qualifier: 2-byte object size prefix, 1-byte count
        0x01, // count 1
        0x1E, 0x00, // object size 30
        0x1A, 0x00, // file name offset 26
        0x04, 0x00, // file name length 4
        0, 0, 0, 0, 0, 0, // creation time
        0, 0, // permissions
        0, 0, 0, 0, // authentication key
        0, 0, 0, 0, // file size
        0x01, 0x00, // mode: read
        0x00, 0x04, // maximum block size 1024
        0x07, 0x00, // request id
    ];
    fragment.extend_from_slice(b"/cfg"); // file name
    fragment.extend_from_slice(&[0x3C, 0x01, 0x06]); // g60v1 after it
    let mut c = Conn::new();
    let pdu = c.one(ToServer, &request(&fragment));
    clean(&pdu);
    assert_eq!(
        (pdu.function, pdu.class),
        ("open_file", FunctionClass::Program)
    );
    assert_eq!(names(&pdu), ["g70v3", "g60v1"]);
}

#[test]
fn authentication_and_octet_strings() {
    let mut c = Conn::new();
    // A read that starts with an aggressive mode request (g120v3 carries its
    // values even in a read) and ends with g110v0.
    let pdu = c.one(
        ToServer,
        &request(&[
            0xC3, 0x01, // FIR FIN seq 3, read
            0x78, 0x03, 0x07, 0x01, // g120v3, 1-byte count, 1
            0x01, 0x00, 0x00, 0x00, // challenge sequence 1
            0x01, 0x00, // user 1
            0x6E, 0x00, 0x06, // g110v0, all
        ]),
    );
    clean(&pdu);
    assert_eq!(names(&pdu), ["g120v3", "g110v0"]);
    // A response with a 3-byte octet string: the variation is the length.
    let rsp = c.one(
        ToClient,
        &response(&[
            0xC3, 0x81, 0x00, 0x00, // FIR FIN seq 3, response, IIN
            0x6E, 0x03, 0x00, 0x02, 0x02, // g110v3, index 2..2
            b'a', b'b', b'c', // value
            0x1E, 0x04, 0x00, 0x00, 0x00, // g30v4 (16-bit, no flag), index 0..0
            0x2A, 0x00, // 42
        ]),
    );
    clean(&rsp);
    assert_eq!(names(&rsp), ["g110v3", "g30v4"]);
    assert_eq!(rsp.class, FunctionClass::Read);
    // An authentication request with a size-prefixed challenge reply.
    let auth = c.one(
        ToServer,
        &request(&[
            0xC4, 0x20, // FIR FIN seq 4, authenticate request
            0x78, 0x02, 0x5B, 0x01, // g120v2 reply, 2-byte size prefix, count 1
            0x08, 0x00, // size 8
            0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0xAA, 0xBB, // sequence, user, MAC
        ]),
    );
    clean(&auth);
    assert_eq!(
        (auth.function, auth.class),
        ("authenticate_request", FunctionClass::Session)
    );
}

#[test]
fn analog_output_blocks_and_indexed_crobs() {
    let mut c = Conn::new();
    let pdu = c.one(
        ToServer,
        &request(&[
            0xC1, 0x05, // FIR FIN seq 1, direct operate
            0x29, 0x02, 0x17, 0x01, // g41v2 (16-bit), 1-byte index prefix, count 1
            0x03, // index 3
            0x9C, 0xFF, // value -100
            0x00, // status
            0x29, 0x03, 0x28, 0x01, 0x00, // g41v3 (float), 2-byte index prefix, count 1
            0x05, 0x01, // index 261
            0x00, 0x00, 0xC0, 0x3F, // 1.5
            0x00, // status
            0x0C, 0x01, 0x17, 0x01, // g12v1 CROB, 1-byte index, count 1
            0x09, // index 9
            0x81, // control code: trip, pulse on
            0x01, // count
            0xF4, 0x01, 0x00, 0x00, // on time 500 ms
            0x00, 0x00, 0x00, 0x00, // off time 0
            0x00, // status
        ]),
    );
    clean(&pdu);
    assert_eq!(
        (pdu.function, pdu.class),
        ("direct_operate", FunctionClass::Control)
    );
    let controls = &dnp(&pdu).objects.controls;
    assert_eq!(controls.len(), 3);
    assert_eq!(
        (controls[0].index, controls[0].kind),
        (3, ControlKind::AnalogInt(-100))
    );
    assert_eq!(
        (controls[1].index, controls[1].kind),
        (261, ControlKind::AnalogFloat(1.5))
    );
    assert_eq!(controls[2].index, 9);
    assert_eq!(ControlKind::trip_close(0x81), "trip");
    assert_eq!(ControlKind::operation(0x81), "pulse_on");
}

#[test]
fn device_attributes_identify_the_outstation() {
    let mut fragment = vec![
        0xC2, 0x81, 0x00, 0x00, // FIR FIN seq 2, response, IIN
    ];
    for (variation, text) in [
        (252u8, &b"ACME Grid"[..]), // manufacturer name
        (250, b"RTU-500"),          // product name and model
        (242, b"4.2.1"),            // software version
        (248, b"SN-0042"),          // serial number
        (240, b""),                 // (an unsigned below)
    ] {
        fragment.extend_from_slice(&[0x00, variation, 0x00, 0x00, 0x00]); // g0, index 0..0
        if variation == 240 {
            fragment.extend_from_slice(&[0x02, 0x02, 0x00, 0x08]); // UINT, 2 bytes: 2048
        } else {
            fragment.extend_from_slice(&[0x01, text.len() as u8]); // VSTR, length
            fragment.extend_from_slice(text);
        }
    }
    let mut c = Conn::new();
    let pdu = c.one(ToClient, &response(&fragment));
    clean(&pdu);
    assert_eq!(
        names(&pdu),
        ["g0v252", "g0v250", "g0v242", "g0v248", "g0v240"]
    );
    let id = pdu.identity.as_deref().expect("identity");
    assert_eq!(
        *id,
        Identity {
            vendor: Some("ACME Grid".into()),
            product: Some("RTU-500".into()),
            firmware: Some("4.2.1".into()),
            serial: Some("SN-0042".into()),
            ..Identity::default()
        }
    );
    // Requests never carry the identity of their sender.
    let read = c.one(ToServer, &request(&[0xC3, 0x01, 0x00, 0xFE, 0x06]));
    clean(&read);
    assert_eq!(names(&read), ["g0v254"]);
    assert!(read.identity.is_none());
}

// ---------------------------------------------------------------- transport

#[test]
fn fragment_across_link_frames_and_tcp_segments() {
    // A response of 120 binary inputs with status and 20 analog inputs:
    // 4 + 5 + 120 + 5 + 60 = 194 bytes, in segments of 100 bytes.
    let mut fragment = vec![
        0xC3, 0x81, 0x00, 0x00, // FIR FIN seq 3, response, IIN
        0x01, 0x02, 0x00, 0x00, 0x77, // g1v2, index 0..119
    ];
    fragment.extend(std::iter::repeat_n(0x01, 120)); // flags: online
    fragment.extend_from_slice(&[0x1E, 0x02, 0x00, 0x00, 0x13]); // g30v2, index 0..19
    fragment.extend(std::iter::repeat_n(0x00, 60)); // flags and values
    let frames = segmented(&fragment, 100, 62);
    assert_eq!(frames.len(), 2);
    let mut c = Conn::new();
    c.one(ToServer, &request(&[0xC3, 0x01, 0x3C, 0x01, 0x06]));
    // The first frame in two TCP segments, the second in a third.
    let (head, tail) = frames[0].split_at(50);
    assert_eq!(c.feed(ToClient, head), 0, "an incomplete frame is left");
    let mut kept = head.to_vec();
    kept.extend_from_slice(tail);
    c.none(ToClient, &kept);
    let pdu = c.one(ToClient, &frames[1]);
    clean(&pdu);
    assert_eq!(c.events.last().unwrap().header.packet, 4);
    let f = dnp(&pdu);
    assert_eq!(f.link_frames, Some(2));
    assert_eq!(f.first_packet, NonZeroU64::new(3));
    assert_eq!(f.fragment_length, Some(194));
    // The last segment's transport header.
    assert_eq!(f.transport, Some(transport::FIN | 63));
    assert_eq!(names(&pdu), ["g1v2", "g30v2"]);
    assert_eq!(pdu.class, FunctionClass::Read);
}

#[test]
fn transport_sequence_wraps_from_63_to_0() {
    // Wireshark 4.0 fails to reassemble these; they are ordinary.
    let mut fragment = vec![0xC3, 0x81, 0x00, 0x00, 0x1E, 0x04, 0x00, 0x00, 0xC7]; // g30v4 0..199
    fragment.extend(std::iter::repeat_n(0x00, 400));
    let frames = segmented(&fragment, 249, 63);
    assert_eq!(frames.len(), 2);
    let mut c = Conn::new();
    c.none(ToClient, &frames[0]);
    let pdu = c.one(ToClient, &frames[1]);
    clean(&pdu);
    assert_eq!(dnp(&pdu).fragment_length, Some(409));
    assert_eq!(dnp(&pdu).transport.map(|t| t & transport::SEQ), Some(0));
}

#[test]
fn out_of_sequence_and_orphan_segments_are_dropped_and_reported() {
    let fragment: Vec<u8> = [0xC3, 0x81, 0x00, 0x00, 0x1E, 0x04, 0x00, 0x00, 0x63]
        .into_iter()
        .chain(std::iter::repeat_n(0, 200))
        .collect();
    let frames = segmented(&fragment, 70, 10);
    assert_eq!(frames.len(), 3);
    let mut c = Conn::new();
    c.none(ToClient, &frames[0]);
    // Segment 12 arrives where 11 was expected.
    let dropped = c.one(ToClient, &frames[2]);
    assert_eq!(anomalies(&dropped), [TRANSPORT_SEQUENCE_ERROR]);
    assert_eq!(dropped.function, "link_unconfirmed_user_data");
    assert_eq!(dropped.function_code, None);
    assert_eq!(dnp(&dropped).transport, Some(transport::FIN | 12));
    // Now nothing is in progress: the middle segment is an orphan.
    let orphan = c.one(ToClient, &frames[1]);
    assert_eq!(anomalies(&orphan), [TRANSPORT_SEGMENT_WITHOUT_FIR]);
    // Segment 10 twice: the second first segment drops the first's fragment.
    c.none(ToClient, &frames[0]);
    c.none(ToClient, &frames[0]);
    c.none(ToClient, &frames[1]);
    let pdu = c.one(ToClient, &frames[2]);
    assert_eq!(anomalies(&pdu), [INCOMPLETE_FRAGMENT_DISCARDED]);
    assert_eq!(pdu.function, "response");
}

#[test]
fn data_crc_errors_drop_the_frame() {
    let mut frame = request(&[0xC1, 0x01, 0x3C, 0x01, 0x06]);
    frame[12] ^= 0x01; // corrupt the function code: the block CRC no longer holds
    let mut c = Conn::new();
    let pdu = c.one(ToServer, &frame);
    assert_eq!(anomalies(&pdu), [DATA_CRC_MISMATCH]);
    assert_eq!(pdu.function_code, None);
    assert_eq!(pdu.function, "link_unconfirmed_user_data");
    let f = dnp(&pdu);
    assert_eq!(f.crc_errors, Some(1));
    assert_eq!(f.link.unwrap().source, 1);
    assert!(f.objects.headers.is_empty());
}

#[test]
fn oversized_fragments_are_dropped_once() {
    let fragment: Vec<u8> = [0xC3, 0x81, 0x00, 0x00]
        .into_iter()
        .chain(std::iter::repeat_n(0, transport::MAX_FRAGMENT + 500))
        .collect();
    let frames = segmented(&fragment, 249, 0);
    let mut c = Conn::new();
    let mut events = Vec::new();
    for frame in &frames {
        events.extend(c.all(ToClient, frame));
    }
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(anomalies(&events[0]), [FRAGMENT_TOO_LARGE]);
    // The next fragment is decoded normally.
    let pdu = c.one(ToClient, &response(&[0xC4, 0x81, 0x00, 0x00]));
    clean(&pdu);
}

#[test]
fn reassembly_is_per_address_pair_and_bounded() {
    let mut c = Conn::new();
    let partial =
        |source: u16| link::build(OUTSTATION_CTL, 1, source, &[transport::FIR, 0xC0, 0x81]);
    for source in 0..transport::MAX_REASSEMBLIES as u16 {
        c.none(ToClient, &partial(source));
    }
    // One more outstation: the oldest fragment in progress is dropped.
    c.none(ToClient, &partial(99));
    let last =
        |source: u16| link::build(OUTSTATION_CTL, 1, source, &[transport::FIN | 1, 0x00, 0x00]);
    let done = c.one(ToClient, &last(99));
    assert_eq!(anomalies(&done), [REASSEMBLY_TABLE_FULL]);
    assert_eq!(dnp(&done).link.unwrap().source, 99);
    let orphan = c.one(ToClient, &last(0));
    assert_eq!(anomalies(&orphan), [TRANSPORT_SEGMENT_WITHOUT_FIR]);
    let kept = c.one(ToClient, &last(1));
    clean(&kept);
    assert_eq!(dnp(&kept).fragment_length, Some(4));
}

#[test]
fn a_gap_drops_fragments_in_progress() {
    let fragment = vec![0u8; 300];
    let frames = segmented(&fragment, 200, 0);
    let mut c = Conn::new();
    c.none(ToClient, &frames[0]);
    c.parser.gap(ToClient);
    let orphan = c.one(ToClient, &frames[1]);
    assert_eq!(anomalies(&orphan), [TRANSPORT_SEGMENT_WITHOUT_FIR]);
}

// ---------------------------------------------------------------- link-only frames

#[test]
fn link_frames_without_user_data() {
    let mut c = Conn::new();
    for (control, function, is_response) in [
        (0xC0, "link_reset_link_states", false), // DIR, PRM, reset link states
        (0xC9, "link_request_link_status", false), // DIR, PRM, request link status
        (0xD2, "link_test_link_states", false),  // DIR, PRM, FCV, test link states
        (0x0B, "link_status", true),             // status of link
        (0x00, "link_ack", true),                // ACK
        (0x01, "link_nack", true),               // NACK
        (0x0F, "link_not_supported", true),      // not supported
    ] {
        let pdu = c.one(ToServer, &link::build(control, 10, 1, &[]));
        clean(&pdu);
        assert_eq!(pdu.function, function);
        assert_eq!(pdu.function_code, None);
        assert_eq!(pdu.class, FunctionClass::Session);
        assert_eq!(pdu.is_response, is_response);
        let f = dnp(&pdu);
        assert_eq!(f.link.unwrap().control, control);
        assert_eq!(f.transport, None);
    }
    // Unknown link function; data where none belongs; no transport header.
    let pdu = c.one(ToServer, &link::build(0xC7, 10, 1, &[]));
    assert_eq!(anomalies(&pdu), [UNKNOWN_LINK_FUNCTION]);
    assert_eq!(pdu.function, "link_unknown");
    let pdu = c.one(ToServer, &link::build(0xC9, 10, 1, &[0xC0, 0xC0, 0x01]));
    assert_eq!(anomalies(&pdu), [UNEXPECTED_USER_DATA]);
    let pdu = c.one(ToServer, &link::build(0xC4, 10, 1, &[]));
    assert_eq!(anomalies(&pdu), [MISSING_USER_DATA]);
}

// ---------------------------------------------------------------- framing errors

#[test]
fn garbage_is_consumed_reported_and_resynchronised() {
    // nDPI frame 55: start bytes 05 05.
    let mut data = vec![
        0x05, 0x05, 0x11, 0xC4, 0x04, 0x00, 0x03, 0x00, 0x46, 0xA2, // not a header
        0xC2, 0xC2, 0x14, 0x3C, 0x02, 0x06, 0x3C, 0x03, 0x06, 0x3C, 0x04, 0x06, 0xD3, 0x2F,
    ];
    let good = request(&[0xC1, 0x01, 0x3C, 0x01, 0x06]);
    data.extend_from_slice(&good);
    let mut c = Conn::new();
    let events = c.all(ToServer, &data);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].function, "invalid");
    assert_eq!(anomalies(&events[0]), [INVALID_START_BYTES]);
    assert_eq!(dnp(&events[0]).skipped_bytes, Some(24));
    assert_eq!(dnp(&events[0]).link, None);
    clean(&events[1]);
    assert_eq!(events[1].function, "read");
}

#[test]
fn header_crc_mismatch_is_not_a_frame() {
    let mut frame = request(&[0xC1, 0x01, 0x3C, 0x01, 0x06]);
    frame[8] ^= 0xFF; // header CRC
    let mut c = Conn::new();
    let pdu = c.one(ToServer, &frame);
    assert_eq!(pdu.function, "invalid");
    assert_eq!(anomalies(&pdu), [HEADER_CRC_MISMATCH]);
    assert_eq!(dnp(&pdu).skipped_bytes, Some(frame.len() as u32));
}

#[test]
fn link_length_below_five() {
    // OpenICS frame 1: a valid header CRC over a length of 2, then format strings.
    let mut data = vec![
        0x05, 0x64, // start bytes
        0x02, // length 2: cannot hold control and addresses
        0xC4, // DIR, PRM, unconfirmed user data
        0x0A, 0x00, // destination 10
        0x01, 0x00, // source 1
        0x97, 0xFE, // header CRC (correct)
    ];
    data.extend_from_slice(b"%254x%254x%254x");
    let mut c = Conn::new();
    let pdu = c.one(ToServer, &data);
    assert_eq!(pdu.function, "invalid");
    assert_eq!(anomalies(&pdu), [LINK_LENGTH_TOO_SHORT]);
    let f = dnp(&pdu);
    assert_eq!(
        f.link.map(|l| (l.source, l.destination, l.length)),
        Some((1, 10, 2))
    );
    assert_eq!(f.skipped_bytes, Some(data.len() as u32));
}

#[test]
fn partial_header_is_left_for_more_bytes() {
    let frame = request(&[0xC1, 0x01, 0x3C, 0x01, 0x06]);
    let mut c = Conn::new();
    for cut in [1, 2, 9, 10, frame.len() - 1] {
        assert_eq!(c.feed(ToServer, &frame[..cut]), 0, "cut at {cut}");
    }
    assert!(c.events.is_empty());
    // Two frames and the start of a third in one segment.
    let mut data = frame.clone();
    data.extend_from_slice(&frame);
    data.extend_from_slice(&frame[..5]);
    assert_eq!(c.feed(ToServer, &data), 2 * frame.len());
    assert_eq!(c.events.len(), 2);
}

// ---------------------------------------------------------------- malformed application data

#[test]
fn truncated_object_data_and_headers() {
    let mut c = Conn::new();
    // OpenICS frame 2: two CROBs announced (index 0..1), 12 bytes follow.
    let frame = hex("056419c40a000100da8fc1c2040c010000010003016400000064639a00000000ffff");
    let pdu = c.one(ToServer, &frame);
    assert_eq!(anomalies(&pdu), [TRUNCATED_OBJECT_DATA]);
    assert_eq!((pdu.function, pdu.function_code), ("operate", Some(4)));
    assert_eq!(names(&pdu), ["g12v1"]);
    // OpenICS frame 4: one CROB at 8-bit address 0, then a header cut after
    // its group and variation (g0v0).
    let frame = hex("056419c40a000100da8fc1c2040c010300010003016400000064f1a100000000ffff");
    let pdu = c.one(ToServer, &frame);
    assert_eq!(anomalies(&pdu), [TRUNCATED_OBJECT_HEADER]);
    assert_eq!(names(&pdu), ["g12v1", "g0v0"]);
    let headers = &dnp(&pdu).objects.headers;
    assert_eq!(headers[0].address, Some(0));
    assert_eq!(headers[1].qualifier, None);
    // A range field cut short records the qualifier but no range.
    let pdu = c.one(ToServer, &request(&[0xC1, 0x01, 0x1E, 0x01, 0x01, 0x00]));
    assert_eq!(anomalies(&pdu), [TRUNCATED_OBJECT_HEADER]);
    let h = dnp(&pdu).objects.headers[0];
    assert_eq!((h.range_code(), h.start), (Some(1), None));
}

#[test]
fn unknown_sizes_ranges_and_qualifiers() {
    let mut c = Conn::new();
    // g100v0 carries data nobody can size: the walk stops there.
    let pdu = c.one(
        ToServer,
        &request(&[0xC1, 0x04, 0x64, 0x00, 0x00, 0x00, 0x00, 0x3C, 0x01, 0x06]),
    );
    assert_eq!(anomalies(&pdu), [UNKNOWN_OBJECT_SIZE]);
    assert_eq!(names(&pdu), ["g100v0"]);
    // Stop below start: nothing after it can be trusted.
    let pdu = c.one(
        ToServer,
        &request(&[0xC1, 0x01, 0x1E, 0x01, 0x00, 0x05, 0x02, 0x3C, 0x01, 0x06]),
    );
    assert_eq!(anomalies(&pdu), [INVALID_RANGE]);
    assert_eq!(names(&pdu), ["g30v1"]);
    // Stop one below start: no objects, and the walk goes on (as Wireshark's).
    let pdu = c.one(
        ToServer,
        &request(&[0xC1, 0x01, 0x1E, 0x01, 0x00, 0x05, 0x04, 0x3C, 0x01, 0x06]),
    );
    assert_eq!(anomalies(&pdu), [INVALID_RANGE]);
    assert_eq!(names(&pdu), ["g30v1", "g60v1"]);
    // Reserved range code 10: no range field, no objects.
    let pdu = c.one(
        ToServer,
        &request(&[0xC1, 0x01, 0x1E, 0x01, 0x0A, 0x3C, 0x01, 0x06]),
    );
    assert_eq!(anomalies(&pdu), [RESERVED_QUALIFIER]);
    assert_eq!(names(&pdu), ["g30v1", "g60v1"]);
    // One byte left over.
    let pdu = c.one(ToServer, &request(&[0xC1, 0x01, 0x3C, 0x01, 0x06, 0x3C]));
    assert_eq!(anomalies(&pdu), [TRAILING_BYTES]);
    // A device attribute of an undefined data type.
    let pdu = c.one(
        ToClient,
        &response(&[0xC1, 0x81, 0x00, 0x00, 0x00, 0xF0, 0x00, 0x00, 0x00, 0x63]),
    );
    assert_eq!(anomalies(&pdu), [UNKNOWN_ATTRIBUTE_TYPE]);
}

#[test]
fn application_header_errors() {
    let mut c = Conn::new();
    // A fragment of one byte: no function code.
    let pdu = c.one(ToServer, &request(&[0xC1]));
    assert_eq!(anomalies(&pdu), [TRUNCATED_APPLICATION_HEADER]);
    assert_eq!(pdu.function_code, None);
    assert_eq!(dnp(&pdu).app_control, Some(0xC1));
    // A response without its internal indications.
    let pdu = c.one(ToClient, &response(&[0xC1, 0x81, 0x00]));
    assert_eq!(anomalies(&pdu), [TRUNCATED_APPLICATION_HEADER]);
    assert_eq!(pdu.function_code, Some(129));
    // An unassigned function code.
    let pdu = c.one(ToServer, &request(&[0xC1, 0x70, 0x3C, 0x01, 0x06]));
    assert_eq!(anomalies(&pdu), [UNKNOWN_FUNCTION_CODE]);
    assert_eq!((pdu.function, pdu.class), ("unknown", FunctionClass::Other));
    // UNS on a read; no UNS on an unsolicited response.
    let pdu = c.one(ToServer, &request(&[0xD1, 0x01, 0x3C, 0x01, 0x06]));
    assert_eq!(anomalies(&pdu), [UNSOLICITED_BIT_MISMATCH]);
    let pdu = c.one(ToClient, &response(&[0xC1, 0x82, 0x00, 0x00]));
    assert_eq!(anomalies(&pdu), [UNSOLICITED_BIT_MISMATCH]);
}

// ---------------------------------------------------------------- UDP

#[test]
fn datagrams_hold_whole_frames() {
    let mut c = Conn::new();
    let mut datagram = request(&[0xC1, 0x01, 0x3C, 0x02, 0x06]);
    datagram.extend(link::build(0xC9, 10, 1, &[])); // request link status
    let events = c.datagram(ToServer, &datagram);
    assert_eq!(
        events.iter().map(|p| p.function).collect::<Vec<_>>(),
        ["read", "link_request_link_status"]
    );
    // A datagram that ends inside a frame: reported, nothing kept.
    let frame = response(&[0xC1, 0x81, 0x00, 0x00]);
    let events = c.datagram(ToClient, &frame[..frame.len() - 3]);
    assert_eq!(events.len(), 1);
    assert_eq!(anomalies(&events[0]), [TRUNCATED_LINK_FRAME]);
    assert_eq!(events[0].function, "invalid");
    assert_eq!(dnp(&events[0]).link.unwrap().source, 10);
    // The response still pairs with the read when it comes whole.
    let events = c.datagram(ToClient, &frame);
    assert_eq!(events[0].class, FunctionClass::Read);
    // A fragment across two datagrams.
    let fragment: Vec<u8> = [0xC2, 0x81, 0x00, 0x00, 0x1E, 0x04, 0x00, 0x00, 0x95]
        .into_iter()
        .chain(std::iter::repeat_n(0, 300))
        .collect();
    let frames = segmented(&fragment, 249, 0);
    assert!(c.datagram(ToClient, &frames[0]).is_empty());
    let events = c.datagram(ToClient, &frames[1]);
    assert_eq!(dnp(&events[0]).link_frames, Some(2));
    clean(&events[0]);
}

// ---------------------------------------------------------------- probe

#[test]
fn probe_finds_dnp3_by_structure() {
    let frame = request(&[0xC1, 0x01, 0x3C, 0x01, 0x06]);
    // On 20000 a valid header is enough; elsewhere the whole first frame.
    assert_eq!(probe(&frame[..10], ToServer, true), Probe::Match);
    assert_eq!(probe(&frame[..10], ToServer, false), Probe::NeedMore);
    assert_eq!(probe(&frame, ToServer, false), Probe::Match);
    assert_eq!(probe(&frame[..5], ToServer, true), Probe::NeedMore);
    assert_eq!(probe(&[0x05], ToServer, false), Probe::NeedMore);
    // A bad block CRC is not enough evidence off the port.
    let mut bad = frame.clone();
    bad[12] ^= 1;
    assert_eq!(probe(&bad, ToServer, false), Probe::NoMatch);
    assert_eq!(probe(&bad, ToServer, true), Probe::Match);
    // A valid header with a bad length: a fuzzer on the port, nothing elsewhere.
    let short = [0x05, 0x64, 0x02, 0xC4, 0x0A, 0x00, 0x01, 0x00, 0x97, 0xFE];
    assert_eq!(probe(&short, ToServer, true), Probe::Match);
    assert_eq!(probe(&short, ToServer, false), Probe::NoMatch);
    // Recognised on a non-standard port, over TCP and UDP.
    assert!(matches!(
        detect_stream(20001, ToServer, &frame),
        Detection::Found(StreamDecoder::Dnp3(_))
    ));
    assert!(matches!(
        detect_datagram(40000, ToServer, &frame),
        Detection::Found(DatagramDecoder::Dnp3(_))
    ));
}

#[test]
fn probe_rejects_other_protocols_on_20000() {
    let others: &[&[u8]] = &[
        b"GET / HTTP/1.1\r\nHost: rtu\r\n\r\n",
        &[
            0x16, 0x03, 0x01, 0x00, 0xA5, 0x01, 0x00, 0x00, 0xA1, 0x03, 0x03, 0x00,
        ],
        // Modbus read holding registers.
        &[
            0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0A,
        ],
        // Modbus with transaction id 0x0564: the "header CRC" does not hold.
        &[
            0x05, 0x64, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0A,
        ],
        // TPKT + COTP connection request.
        &[
            0x03, 0x00, 0x00, 0x16, 0x11, 0xE0, 0x00, 0x00, 0x00, 0x01, 0x00, 0xC1,
        ],
    ];
    for data in others {
        assert_eq!(probe(data, ToServer, true), Probe::NoMatch, "{data:02x?}");
        assert_eq!(probe(data, ToServer, false), Probe::NoMatch, "{data:02x?}");
    }
    // DNP3 bytes are not Modbus.
    let frame = request(&[0xC1, 0x01, 0x3C, 0x01, 0x06]);
    assert_eq!(
        crate::protocols::modbus::probe(&frame, ToServer, true),
        Probe::NoMatch
    );
}

// ---------------------------------------------------------------- fields

/// Records what a visitor is given, nesting included.
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
    let mut c = Conn::new();
    c.one(ToServer, &request(&[0xC2, 0x03, 0x3C, 0x01, 0x06]));
    let pdu = c.one(
        ToClient,
        &response(&[
            0xE2, 0x81, 0x80,
            0x02, // FIR FIN CON seq 2, response, IIN: restart, object unknown
            0x0C, 0x01, 0x00, 0x05, 0x05, // g12v1 index 5..5
            0x41, 0x01, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x04, // close, pulse on, status 4
        ]),
    );
    let mut names = Names::default();
    pdu.fields.visit(&mut names);
    assert_eq!(
        names.0,
        [
            "source=U64(10)",
            "destination=U64(1)",
            "link_length=U64(26)",
            "link_control=U64(68)",
            "link_dir=Bool(false)",
            "link_primary=Bool(true)",
            "link_function_code=U64(4)",
            "link_function=Str(\"unconfirmed_user_data\")",
            "link_frames=U64(1)",
            "transport_fir=Bool(true)",
            "transport_fin=Bool(true)",
            "transport_seq=U64(0)",
            "fir=Bool(true)",
            "fin=Bool(true)",
            "con=Bool(true)",
            "unsolicited=Bool(false)",
            "app_seq=U64(2)",
            "iin[",
            "=Str(\"device_restart\")",
            "=Str(\"object_unknown\")",
            "}",
            "iin_value=U64(32770)",
            "fragment_length=U64(20)",
            "objects[",
            "=Str(\"g12v1\")",
            "}",
            "object_headers[",
            "{",
            "group=U64(12)",
            "variation=U64(1)",
            "qualifier=U64(0)",
            "prefix_code=U64(0)",
            "range_code=U64(0)",
            "start=U64(5)",
            "stop=U64(5)",
            "}",
            "}",
            "controls[",
            "{",
            "object=Str(\"g12v1\")",
            "index=U64(5)",
            "control_code=U64(65)",
            "operation=Str(\"pulse_on\")",
            "trip_close=Str(\"close\")",
            "count=U64(1)",
            "on_time=U64(100)",
            "off_time=U64(0)",
            "status=U64(4)",
            "status_name=Str(\"not_supported\")",
            "}",
            "}",
            "request_packet=U64(1)",
            "request_function_code=U64(3)",
            "request_function=Str(\"select\")",
        ]
    );
}

#[test]
fn object_names_and_header_cap() {
    let mut buf = [0u8; 8];
    let h = |group, variation| ObjectHeader {
        group,
        variation,
        ..ObjectHeader::default()
    };
    assert_eq!(h(0, 0).name(&mut buf), "g0v0");
    assert_eq!(h(30, 1).name(&mut buf), "g30v1");
    assert_eq!(h(255, 254).name(&mut buf), "g255v254");
    // 100 class reads: 64 kept, all counted.
    let mut fragment = vec![0xC1, 0x01];
    for _ in 0..100 {
        fragment.extend_from_slice(&[0x3C, 0x02, 0x06]);
    }
    let mut c = Conn::new();
    let pdu = c.one(ToServer, &request(&fragment[..240]));
    let f = dnp(&pdu);
    assert_eq!(f.objects.headers.len(), objects::MAX_HEADERS);
    assert_eq!(f.objects.count, 79);
    let mut names = Names::default();
    pdu.fields.visit(&mut names);
    assert!(names.0.contains(&"object_count=U64(79)".to_string()));
}

#[test]
fn fields_stay_compact() {
    // It lives inside every event.
    assert!(
        std::mem::size_of::<Dnp3Fields>() <= 112,
        "{}",
        std::mem::size_of::<Dnp3Fields>()
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

/// A valid link frame around a plausible or random fragment, or noise.
fn random_frame(rng: &mut Rng) -> Vec<u8> {
    const FUNCTIONS: &[u8] = &[0, 1, 2, 3, 4, 5, 13, 20, 22, 25, 32, 129, 130, 131, 0x70];
    const GROUPS: &[u8] = &[
        0, 1, 2, 3, 10, 12, 20, 30, 41, 50, 60, 70, 80, 110, 120, 200,
    ];
    match rng.below(10) {
        0 => {
            let len = rng.below(40) as usize;
            return rng.bytes(len);
        }
        1 => {
            // A link-only frame with a random control byte.
            let control = rng.next() as u8;
            return link::build(control, rng.next() as u16, rng.next() as u16, &[]);
        }
        _ => {}
    }
    let len = rng.below(250) as usize;
    let mut data = rng.bytes(len);
    if let Some(t) = data.first_mut() {
        // Mostly whole fragments, sometimes other segments.
        if rng.below(3) != 0 {
            *t |= transport::FIR | transport::FIN;
        }
    }
    if data.len() > 2 {
        data[2] = FUNCTIONS[rng.below(FUNCTIONS.len() as u64) as usize];
    }
    let mut at = if data.get(2).is_some_and(|&f| f >= 129) {
        5
    } else {
        3
    };
    while at + 2 < data.len() {
        data[at] = GROUPS[rng.below(GROUPS.len() as u64) as usize];
        data[at + 1] = rng.below(12) as u8;
        data[at + 2] = [0x00, 0x01, 0x06, 0x07, 0x08, 0x17, 0x28, 0x5B][rng.below(8) as usize];
        at += 3 + rng.below(20) as usize;
    }
    let mut frame = link::build(
        if rng.below(2) == 0 {
            MASTER_CTL
        } else {
            OUTSTATION_CTL
        },
        rng.below(3) as u16,
        rng.below(3) as u16,
        &data,
    );
    if rng.below(20) == 0 {
        let i = rng.below(frame.len() as u64) as usize;
        frame[i] ^= 1 << rng.below(8);
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
        let consumed = c.feed(dir, &data);
        assert!(consumed <= data.len());
        // Unconsumed bytes are only ever the start of a frame.
        if consumed < data.len() {
            assert_eq!(
                link::framing(&data[consumed..]),
                Framing::Incomplete,
                "{data:02x?}"
            );
        }
        let _ = c.datagram(dir, &data);
        let _ = probe(&data, dir, true);
        let _ = probe(&data, dir, false);
        let mut errors = Anomalies::new();
        let _ = app::decode(&data, &mut errors);
    }
    assert!(c.parser.pending.len() <= MAX_PENDING);
    assert!(c.parser.confirmable.len() <= MAX_PENDING);
    assert!(c.events.len() > 10_000);
    for event in &c.events {
        let mut names = Names::default();
        event.pdu.fields.visit(&mut names);
        assert!(!names.0.is_empty(), "{:?}", event.pdu);
        let f = dnp(&event.pdu);
        assert!(f.objects.headers.len() <= objects::MAX_HEADERS);
        assert!(f.objects.controls.len() <= objects::MAX_CONTROLS);
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
        let mut whole = Conn::new();
        whole.feed(ToClient, &stream);
        let mut c = Conn::new();
        let mut kept: Vec<u8> = Vec::new();
        let mut rest = &stream[..];
        while !rest.is_empty() {
            let take = (rng.below(300) as usize + 1).min(rest.len());
            kept.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            let consumed = c.feed(ToClient, &kept);
            kept.drain(..consumed);
            // What the caller keeps never outgrows one frame.
            assert!(kept.len() < link::MAX_FRAME_LEN);
        }
        // However the stream is cut, the frames decode the same (runs of
        // garbage are reported once per segment they span).
        let pdus = |c: &Conn| {
            c.events
                .iter()
                .filter(|e| e.pdu.function != "invalid")
                .map(|e| {
                    let f = dnp(&e.pdu);
                    (e.pdu.function, anomalies(&e.pdu), f.objects.clone(), f.iin)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(pdus(&c), pdus(&whole));
    }
}
