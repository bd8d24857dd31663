//! The default rule pack and the built-in zone, conduit and storm checks:
//! each detection with traffic that must raise it and traffic that must not.
//! Captures are crafted here (tests/common/craft.rs) and replayed in-process
//! through the real pipeline. The learned baseline has its own file
//! (tests/detections_baseline.rs).

mod common;

use common::craft::{Craft, Host, Tcp, host, modbus, tpkt_dt};
use common::detect::{only, poll, rules, run, run_file, the};
use common::payload::{
    MQTT_CONNACK, dns, goose, mms_request, modbus_identification, mqtt_connect, mqtt_publish, tlv,
};
use common::shared_pcaps;
use otsensor::analysis::policy::Severity;

// ------------------------------------------------------------------ traffic

const HMI: &str = "10.0.1.10";
const EWS: &str = "10.0.1.50";
const PLC: &str = "10.0.2.1";
const PLC2: &str = "10.0.2.2";

/// An ISO-on-TCP connection to an S7 PLC (COTP CR/CC), ready for S7comm jobs.
fn s7_connect(craft: &mut Craft, client: Host, plc: Host) -> Tcp {
    let mut tcp = craft.connect(client, plc, 40100, 102);
    let cr = [
        0x03, 0x00, 0x00, 0x16, 0x11, 0xe0, 0x00, 0x00, 0x00, 0x01, 0x00, 0xc0, 0x01, 0x0a, 0xc1,
        0x02, 0x01, 0x00, 0xc2, 0x02, 0x01, 0x01,
    ];
    let mut cc = cr;
    cc[5] = 0xd0;
    craft.exchange(&mut tcp, &cr, &cc);
    let setup = [
        0x32, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0xf0, 0x00, 0x00, 0x01, 0x00,
        0x01, 0x01, 0xe0,
    ];
    let mut ack = vec![
        0x32, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00,
    ];
    ack.extend_from_slice(&setup[10..]);
    craft.exchange(&mut tcp, &tpkt_dt(&setup), &tpkt_dt(&ack));
    tcp
}

/// An S7comm job with parameter `param` (and its ack-data with no data).
fn s7_job(craft: &mut Craft, tcp: &mut Tcp, reference: u8, param: &[u8]) {
    let mut job = vec![0x32, 0x01, 0x00, 0x00, 0x00, reference];
    job.extend_from_slice(&(param.len() as u16).to_be_bytes());
    job.extend_from_slice(&[0x00, 0x00]);
    job.extend_from_slice(param);
    let ack = [
        0x32, 0x03, 0x00, 0x00, 0x00, reference, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, param[0],
    ];
    craft.exchange(tcp, &tpkt_dt(&job), &tpkt_dt(&ack));
}

const PLC_STOP: &[u8] = &[
    0x29, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, b'P', b'_', b'P', b'R', b'O', b'G', b'R', b'A', b'M',
];
const REQUEST_DOWNLOAD: &[u8] = &[
    0x1a, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, b'_', b'0', b'C', b'0', b'0', b'0', b'1',
    b'2', b'P', 0x0d, b'1', b'0', b'0', b'0', b'2', b'5', b'6', b'0', b'0', b'0', b'1', b'2', b'8',
];

/// DNP3's CRC (polynomial 0x3D65, reflected).
fn dnp3_crc(data: &[u8]) -> [u8; 2] {
    let mut crc: u16 = 0;
    for &byte in data {
        crc ^= u16::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA6BC
            } else {
                crc >> 1
            };
        }
    }
    (!crc).to_le_bytes()
}

/// A DNP3 link frame from master 1 to outstation 10 carrying one
/// application fragment: `function` and `objects`.
fn dnp3_request(sequence: u8, function: u8, objects: &[u8]) -> Vec<u8> {
    let mut user = vec![0xc0 | (sequence & 0x3f), 0xc0 | (sequence & 0x0f), function];
    user.extend_from_slice(objects);
    let mut header = vec![0x05, 0x64, (5 + user.len()) as u8, 0xc4, 10, 0, 1, 0];
    let crc = dnp3_crc(&header);
    header.extend_from_slice(&crc);
    for block in user.chunks(16) {
        header.extend_from_slice(block);
        header.extend_from_slice(&dnp3_crc(block));
    }
    header
}

/// The outstation's empty response (function 129) to `sequence`.
fn dnp3_response(sequence: u8) -> Vec<u8> {
    let user = [
        0xc0 | (sequence & 0x3f),
        0xc0 | (sequence & 0x0f),
        0x81,
        0x00,
        0x00,
    ];
    let mut frame = vec![0x05, 0x64, (5 + user.len()) as u8, 0x44, 1, 0, 10, 0];
    let crc = dnp3_crc(&frame);
    frame.extend_from_slice(&crc);
    frame.extend_from_slice(&user);
    frame.extend_from_slice(&dnp3_crc(&user));
    frame
}

const UNSOLICITED_CLASSES: &[u8] = &[0x3c, 0x02, 0x06, 0x3c, 0x03, 0x06, 0x3c, 0x04, 0x06];

/// IEC 104: STARTDT, then I-frames with `asdus` from the station, each confirmed.
fn iec104_session(craft: &mut Craft, station: Host, rtu: Host, asdus: &[Vec<u8>]) {
    let mut tcp = craft.connect(station, rtu, 40200, 2404);
    craft.exchange(
        &mut tcp,
        &[0x68, 0x04, 0x07, 0x00, 0x00, 0x00],
        &[0x68, 0x04, 0x0b, 0x00, 0x00, 0x00],
    );
    for (n, asdu) in asdus.iter().enumerate() {
        let sent = (n as u16) << 1;
        let mut frame = vec![0x68, (4 + asdu.len()) as u8];
        frame.extend_from_slice(&sent.to_le_bytes());
        frame.extend_from_slice(&0u16.to_le_bytes());
        frame.extend_from_slice(asdu);
        let mut confirm = asdu.clone();
        confirm[2] = 7; // activation confirmation
        let mut reply = vec![0x68, (4 + confirm.len()) as u8];
        reply.extend_from_slice(&0u16.to_le_bytes());
        reply.extend_from_slice(&(sent + 2).to_le_bytes());
        reply.extend_from_slice(&confirm);
        craft.exchange(&mut tcp, &frame, &reply);
    }
}

/// An ASDU of `type_id`, activation, common address 1, IOA `ioa`, then `element`.
fn asdu(type_id: u8, ioa: u32, element: &[u8]) -> Vec<u8> {
    let mut a = vec![type_id, 0x01, 0x06, 0x00, 0x01, 0x00];
    a.extend_from_slice(&ioa.to_le_bytes()[..3]);
    a.extend_from_slice(element);
    a
}

/// A CIP service sent in a SendRRData, with an empty success reply.
fn cip_request(craft: &mut Craft, tcp: &mut Tcp, context: u8, cip: &[u8]) {
    let encap = |data: &[u8]| {
        let mut m = vec![0x6f, 0x00];
        m.extend_from_slice(&(data.len() as u16).to_le_bytes());
        m.extend_from_slice(&[
            0x00, 0x01, 0x02, 0x11, 0, 0, 0, 0, context, 0, 0, 0, 0, 0, 0, 0,
        ]);
        m.extend_from_slice(&[0, 0, 0, 0]);
        m.extend_from_slice(data);
        m
    };
    let items = |cip: &[u8]| {
        let mut d = vec![0, 0, 0, 0, 0x0a, 0, 0x02, 0, 0, 0, 0, 0, 0xb2, 0];
        d.extend_from_slice(&(cip.len() as u16).to_le_bytes());
        d.extend_from_slice(cip);
        d
    };
    let reply = [cip[0] | 0x80, 0x00, 0x00, 0x00];
    craft.exchange(tcp, &encap(&items(cip)), &encap(&items(&reply)));
}

// ------------------------------------------------------------------ polling

#[test]
fn polling_raises_nothing() {
    let mut craft = Craft::new();
    poll(&mut craft, host(HMI), host(PLC), 120);
    poll(&mut craft, host("10.0.1.11"), host(PLC2), 60);
    let alerts = run(&craft, "", None);
    assert!(alerts.is_empty(), "{:?}", rules(&alerts));
}

// ------------------------------------------------------------------ controllers

#[test]
fn s7_plc_stop_and_program_download() {
    let mut craft = Craft::new();
    let mut tcp = s7_connect(&mut craft, host(EWS), host(PLC));
    s7_job(&mut craft, &mut tcp, 2, PLC_STOP);
    s7_job(&mut craft, &mut tcp, 3, REQUEST_DOWNLOAD);
    let alerts = run(&craft, "", None);
    let stop = the(&alerts, "OT-CPU-001", EWS, PLC);
    assert_eq!(stop.severity.name(), "critical");
    assert_eq!(stop.protocol, Some("s7comm"));
    assert_eq!(stop.function, Some("plc_stop"));
    assert_eq!(stop.iec62443, ["SR 2.1", "SR 3.3"]);
    assert_eq!(stop.mitre, ["T0881", "T0858"]);
    assert_eq!(stop.evidence.detail, "s7comm plc_stop (41)");
    assert_eq!(stop.evidence.packets.len(), 1);
    let download = the(&alerts, "OT-PROG-001", EWS, PLC);
    assert_eq!(download.function, Some("request_download"));
}

#[test]
fn s7_reads_do_not_alert() {
    let mut craft = Craft::new();
    let mut tcp = s7_connect(&mut craft, host(HMI), host(PLC));
    let read_var = [
        0x04, 0x01, 0x12, 0x0a, 0x10, 0x02, 0x00, 0x02, 0x00, 0x01, 0x84, 0x00, 0x00, 0x00,
    ];
    for n in 0..20 {
        s7_job(&mut craft, &mut tcp, 10 + n, &read_var);
    }
    let alerts = run(&craft, "", None);
    assert!(alerts.is_empty(), "{:?}", rules(&alerts));
}

#[test]
fn cip_stop_service() {
    let mut craft = Craft::new();
    let mut tcp = craft.connect(host(EWS), host(PLC), 40300, 44818);
    cip_request(
        &mut craft,
        &mut tcp,
        1,
        &[0x07, 0x02, 0x20, 0x8e, 0x24, 0x01],
    );
    let alerts = run(&craft, "", None);
    let stop = the(&alerts, "OT-CPU-004", EWS, PLC);
    assert_eq!(stop.function, Some("stop"));
    // A Get Attribute Single is not one.
    let mut craft = Craft::new();
    let mut tcp = craft.connect(host(EWS), host(PLC), 40300, 44818);
    cip_request(
        &mut craft,
        &mut tcp,
        1,
        &[0x0e, 0x03, 0x20, 0x01, 0x24, 0x01, 0x30, 0x07],
    );
    assert!(only(&run(&craft, "", None), "OT-CPU-004").is_empty());
}

#[test]
fn pccc_cpu_mode_change_but_not_pccc_reads() {
    // Execute PCCC (0x4B) to the PCCC object (class 0x67, instance 1), with
    // the requestor id (length 7, vendor 1, serial 0x12345678), then the
    // PCCC command 0x0F, STS 0, TNS 0x1234 and a function code.
    let pccc = |function: u8, data: &[u8]| {
        let mut m = vec![
            0x4b, 0x02, 0x20, 0x67, 0x24, 0x01, 0x07, 0x01, 0x00, 0x78, 0x56, 0x34, 0x12, 0x0f,
            0x00, 0x34, 0x12, function,
        ];
        m.extend_from_slice(data);
        m
    };
    let mut craft = Craft::new();
    let mut tcp = craft.connect(host(EWS), host(PLC), 40310, 44818);
    // Function 0x80: change CPU mode, to 0x01 (remote program: the PLC stops).
    cip_request(&mut craft, &mut tcp, 1, &pccc(0x80, &[0x01]));
    let alerts = run(&craft, "", None);
    let change = the(&alerts, "OT-CPU-004", EWS, PLC);
    assert_eq!(change.function, Some("pccc_change_cpu_mode"));
    // Function 0x01 of command 0x0F: a word range read.
    let mut craft = Craft::new();
    let mut tcp = craft.connect(host(EWS), host(PLC), 40310, 44818);
    for n in 0..10 {
        cip_request(
            &mut craft,
            &mut tcp,
            1 + n,
            &pccc(0x01, &[0x00, 0x07, 0x89, 0x00, 0x00]),
        );
    }
    assert!(only(&run(&craft, "", None), "OT-CPU-004").is_empty());
}

#[test]
fn umas_stop_and_download_but_not_umas_reads() {
    let mut craft = Craft::new();
    let mut tcp = craft.connect(host(EWS), host(PLC), 40400, 502);
    // FC 90, session key 0x12, UMAS function 0x41 (stop), then 0x33 (initialize download)
    craft.exchange(
        &mut tcp,
        &modbus(1, 0, &[0x5a, 0x12, 0x41]),
        &modbus(1, 0, &[0x5a, 0x12, 0xfe]),
    );
    craft.exchange(
        &mut tcp,
        &modbus(2, 0, &[0x5a, 0x12, 0x33]),
        &modbus(2, 0, &[0x5a, 0x12, 0xfe]),
    );
    let alerts = run(&craft, "", None);
    let stop = the(&alerts, "OT-CPU-005", EWS, PLC);
    assert_eq!(stop.function, Some("umas"));
    the(&alerts, "OT-PROG-001", EWS, PLC);

    let mut craft = Craft::new();
    let mut tcp = craft.connect(host(EWS), host(PLC), 40400, 502);
    // UMAS read id (0x02) and read PLC info (0x04): discovery, no alert.
    craft.exchange(
        &mut tcp,
        &modbus(1, 0, &[0x5a, 0x00, 0x02]),
        &modbus(1, 0, &[0x5a, 0x00, 0xfe]),
    );
    craft.exchange(
        &mut tcp,
        &modbus(2, 0, &[0x5a, 0x00, 0x04]),
        &modbus(2, 0, &[0x5a, 0x00, 0xfe]),
    );
    let alerts = run(&craft, "", None);
    assert!(alerts.is_empty(), "{:?}", rules(&alerts));
}

#[test]
fn s7_plc_control_but_not_a_stop_or_status_reads() {
    // PI service P_PROGRAM with argument "C ": the CPU is started.
    let plc_start: &[u8] = &[
        0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xfd, 0x00, 0x02, b'C', b' ', 0x09, b'P', b'_',
        b'P', b'R', b'O', b'G', b'R', b'A', b'M',
    ];
    let mut craft = Craft::new();
    let mut tcp = s7_connect(&mut craft, host(EWS), host(PLC));
    s7_job(&mut craft, &mut tcp, 2, plc_start);
    let alerts = run(&craft, "", None);
    let control = the(&alerts, "OT-CPU-002", EWS, PLC);
    assert_eq!(control.function, Some("plc_control"));
    assert_eq!(control.evidence.detail, "s7comm plc_control (40)");

    // A stop is OT-CPU-001 alone; the status polls of an HMI raise nothing.
    let mut craft = Craft::new();
    let mut tcp = s7_connect(&mut craft, host(EWS), host(PLC));
    s7_job(&mut craft, &mut tcp, 2, PLC_STOP);
    for n in 0..10 {
        s7_read_szl(&mut craft, &mut tcp, 10 + n, 0x0424);
    }
    assert_eq!(rules(&run(&craft, "", None)), ["OT-CPU-001"]);
}

/// An S7 userdata request reading SZL `id` (0x0424: the CPU's mode), and its answer.
fn s7_read_szl(craft: &mut Craft, tcp: &mut Tcp, reference: u8, id: u16) {
    let mut request = vec![
        0x32, 0x07, 0x00, 0x00, 0x00, reference, 0x00, 0x08, 0x00, 0x08, // userdata
        0x00, 0x01, 0x12, 0x04, 0x11, 0x44, 0x01, 0x00, // request, CPU functions, read SZL
        0xff, 0x09, 0x00, 0x04, // success, octet string, 4 bytes
    ];
    request.extend_from_slice(&id.to_be_bytes());
    request.extend_from_slice(&[0x00, 0x00]); // index
    let answer = [
        0x32, 0x07, 0x00, 0x00, 0x00, reference, 0x00, 0x0c, 0x00, 0x04, // userdata
        0x00, 0x01, 0x12, 0x08, 0x12, 0x84, 0x01, 0x00, // response, read SZL
        0x00, 0x00, 0x00, 0x00, // data unit reference, last, no error
        0x0a, 0x00, 0x00, 0x00, // object does not exist
    ];
    craft.exchange(tcp, &tpkt_dt(&request), &tpkt_dt(&answer));
}

#[test]
fn s7_cpu_mode_transition_but_not_status_reads() {
    // The CPU pushes its new mode (userdata, group 0: mode transition) to the
    // station that registered for it: STOP (4), then RUN (8).
    let transition = |mode: u8| {
        tpkt_dt(&[
            0x32, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, // userdata
            0x00, 0x01, 0x12, 0x04, 0x11, 0x00, mode, 0x00, // push, mode transition, mode
        ])
    };
    let mut craft = Craft::new();
    let mut tcp = s7_connect(&mut craft, host(HMI), host(PLC));
    craft.send(&mut tcp, false, &transition(4));
    craft.send(&mut tcp, false, &transition(8));
    let alerts = run(&craft, "", None);
    let mode = the(&alerts, "OT-CPU-003", PLC, HMI);
    assert_eq!(mode.severity, Severity::Medium);
    assert_eq!(mode.function, Some("mode_transition"));
    assert_eq!(mode.count, 2);

    // Reading the mode is not changing it.
    let mut craft = Craft::new();
    let mut tcp = s7_connect(&mut craft, host(HMI), host(PLC));
    for n in 0..10 {
        s7_read_szl(&mut craft, &mut tcp, 10 + n, 0x0424);
    }
    let alerts = run(&craft, "", None);
    assert!(alerts.is_empty(), "{:?}", rules(&alerts));
}

#[test]
fn cip_start_and_reset_but_not_attribute_reads() {
    let mut craft = Craft::new();
    let mut tcp = craft.connect(host(EWS), host(PLC), 40300, 44818);
    // Start (0x06) and Reset (0x05) of the identity object, instance 1.
    cip_request(
        &mut craft,
        &mut tcp,
        1,
        &[0x06, 0x02, 0x20, 0x01, 0x24, 0x01],
    );
    cip_request(
        &mut craft,
        &mut tcp,
        2,
        &[0x05, 0x02, 0x20, 0x01, 0x24, 0x01],
    );
    let alerts = run(&craft, "", None);
    let functions: Vec<_> = only(&alerts, "OT-CPU-004")
        .iter()
        .map(|a| a.function)
        .collect();
    assert_eq!(functions, [Some("start"), Some("reset")]);

    // Get Attributes All of the identity object: a device being identified.
    let mut craft = Craft::new();
    let mut tcp = craft.connect(host(EWS), host(PLC), 40300, 44818);
    for n in 0..5 {
        cip_request(
            &mut craft,
            &mut tcp,
            n,
            &[0x01, 0x02, 0x20, 0x01, 0x24, 0x01],
        );
    }
    let alerts = run(&craft, "", None);
    assert!(alerts.is_empty(), "{:?}", rules(&alerts));
}

#[test]
fn cip_file_object_transfers_but_not_file_attribute_reads() {
    // Initiate Upload from the File object (class 0x37), then the first
    // Upload Transfer, of file `instance`.
    let upload = |craft: &mut Craft, tcp: &mut Tcp, instance: u8| {
        cip_request(
            craft,
            tcp,
            1,
            &[0x4b, 0x02, 0x20, 0x37, 0x24, instance, 0xff],
        );
        cip_request(
            craft,
            tcp,
            2,
            &[0x4f, 0x02, 0x20, 0x37, 0x24, instance, 0x00],
        );
    };
    let mut craft = Craft::new();
    let mut tcp = craft.connect(host(EWS), host(PLC), 40300, 44818);
    // Instance 1: a program file.
    upload(&mut craft, &mut tcp, 0x01);
    // Initiate Download of a new program file.
    cip_request(
        &mut craft,
        &mut tcp,
        3,
        &[0x4c, 0x02, 0x20, 0x37, 0x24, 0x01, 0x00, 0x10, 0x00, 0x00],
    );
    let alerts = run(&craft, "", None);
    let functions: Vec<_> = only(&alerts, "OT-PROG-001")
        .iter()
        .map(|a| a.function)
        .collect();
    assert_eq!(
        functions,
        [
            Some("initiate_upload"),
            Some("upload_transfer"),
            Some("initiate_download")
        ]
    );

    // Uploading the EDS file (instance 0xC8), as configuration tools do, is
    // discovery, not a program upload.
    let mut craft = Craft::new();
    let mut tcp = craft.connect(host(EWS), host(PLC), 40300, 44818);
    upload(&mut craft, &mut tcp, 0xc8);
    let alerts = run(&craft, "", None);
    let uploads = only(&alerts, "OT-PROG-001");
    assert!(uploads.is_empty(), "{:?}", rules(&alerts));

    // Reading the file object's attributes (its name, revision) transfers nothing.
    let mut craft = Craft::new();
    let mut tcp = craft.connect(host(EWS), host(PLC), 40300, 44818);
    cip_request(
        &mut craft,
        &mut tcp,
        1,
        &[0x0e, 0x03, 0x20, 0x37, 0x24, 0xc8, 0x30, 0x04],
    );
    let alerts = run(&craft, "", None);
    assert!(alerts.is_empty(), "{:?}", rules(&alerts));
}

/// An ISO-on-TCP connection (COTP CR/CC) for MMS, and the MMS requests
/// `services` sent on it, each with an empty reply.
fn mms_session(craft: &mut Craft, client: Host, ied: Host, services: &[Vec<u8>]) {
    let mut tcp = craft.connect(client, ied, 40150, 102);
    let cr = [
        0x03, 0x00, 0x00, 0x16, 0x11, 0xe0, 0x00, 0x00, 0x00, 0x01, 0x00, 0xc0, 0x01, 0x0a, 0xc1,
        0x02, 0x00, 0x01, 0xc2, 0x02, 0x00, 0x01,
    ];
    let mut cc = cr;
    cc[5] = 0xd0;
    craft.exchange(&mut tcp, &cr, &cc);
    for (n, service) in services.iter().enumerate() {
        craft.send(&mut tcp, true, &tpkt_dt(&mms_request(n as u8 + 1, service)));
    }
}

#[test]
fn mms_file_services_but_not_variable_reads() {
    let file = |name: &str| tlv(&[0xa0], &[&tlv(&[0x19], &[name.as_bytes()])]);
    let mut craft = Craft::new();
    mms_session(
        &mut craft,
        host(EWS),
        host(PLC),
        &[
            // fileOpen [72] of a configuration file, from position 0.
            tlv(
                &[0xbf, 0x48],
                &[&file("/CONF/ied.cid"), &[0x81, 0x01, 0x00]],
            ),
            // obtainFile [46]: the IED fetches a file from the client.
            tlv(
                &[0xbf, 0x2e],
                &[
                    &tlv(&[0xa1], &[&tlv(&[0x19], &[b"fw.bin"])]),
                    &tlv(&[0xa2], &[&tlv(&[0x19], &[b"/fw/fw.bin"])]),
                ],
            ),
        ],
    );
    let alerts = run(&craft, "", None);
    let functions: Vec<_> = only(&alerts, "OT-PROG-001")
        .iter()
        .map(|a| a.function)
        .collect();
    assert_eq!(functions, [Some("file_open"), Some("obtain_file")]);

    // A SCADA read of a data attribute.
    let read = tlv(
        &[0xa4],
        &[&tlv(
            &[0xa1],
            &[&tlv(
                &[0xa0],
                &[&tlv(
                    &[0x30],
                    &[&tlv(
                        &[0xa0],
                        &[&tlv(
                            &[0xa1],
                            &[
                                &tlv(&[0x1a], &[b"LD0"]),
                                &tlv(&[0x1a], &[b"LLN0$ST$Mod$stVal"]),
                            ],
                        )],
                    )],
                )],
            )],
        )],
    );
    let mut craft = Craft::new();
    mms_session(&mut craft, host(HMI), host(PLC), &[read.clone(), read]);
    let alerts = run(&craft, "", None);
    assert!(alerts.is_empty(), "{:?}", rules(&alerts));
}

// ------------------------------------------------------------------ DNP3

#[test]
fn dnp3_restart_stop_and_direct_operate() {
    let mut craft = Craft::new();
    let mut tcp = craft.connect(host(HMI), host(PLC), 40500, 20000);
    let crob = [
        0x0c, 0x01, 0x28, 0x01, 0x00, 0x00, 0x00, // g12v1, 2-byte count 1, index 0
        0x03, 0x01, 0xe8, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // latch on, 1 s
    ];
    for (seq, (function, objects)) in [(13u8, &[][..]), (18, &[][..]), (5, &crob[..])]
        .into_iter()
        .enumerate()
    {
        craft.exchange(
            &mut tcp,
            &dnp3_request(seq as u8, function, objects),
            &dnp3_response(seq as u8),
        );
    }
    let alerts = run(&craft, "", None);
    assert_eq!(
        the(&alerts, "OT-DNP3-001", HMI, PLC).function,
        Some("cold_restart")
    );
    assert_eq!(
        the(&alerts, "OT-CPU-006", HMI, PLC).function,
        Some("stop_application")
    );
    assert_eq!(
        the(&alerts, "OT-DNP3-003", HMI, PLC).function,
        Some("direct_operate")
    );
}

#[test]
fn dnp3_unsolicited_disabled_for_good_alerts_but_a_startup_does_not() {
    // A master's startup: disable, integrity poll, enable again.
    let mut craft = Craft::new();
    let mut tcp = craft.connect(host(HMI), host(PLC), 40500, 20000);
    craft.exchange(
        &mut tcp,
        &dnp3_request(0, 21, UNSOLICITED_CLASSES),
        &dnp3_response(0),
    );
    craft.exchange(
        &mut tcp,
        &dnp3_request(1, 1, &[0x3c, 0x01, 0x06]),
        &dnp3_response(1),
    );
    craft.exchange(
        &mut tcp,
        &dnp3_request(2, 20, UNSOLICITED_CLASSES),
        &dnp3_response(2),
    );
    craft.wait(120.0);
    craft.exchange(
        &mut tcp,
        &dnp3_request(3, 1, &[0x3c, 0x01, 0x06]),
        &dnp3_response(3),
    );
    let alerts = run(&craft, "", None);
    assert!(alerts.is_empty(), "{:?}", rules(&alerts));

    // Disabled and left so: alerts once the minute has passed.
    let mut craft = Craft::new();
    let mut tcp = craft.connect(host(HMI), host(PLC), 40500, 20000);
    craft.exchange(
        &mut tcp,
        &dnp3_request(0, 21, UNSOLICITED_CLASSES),
        &dnp3_response(0),
    );
    craft.wait(120.0);
    craft.exchange(
        &mut tcp,
        &dnp3_request(1, 1, &[0x3c, 0x01, 0x06]),
        &dnp3_response(1),
    );
    let alerts = run(&craft, "", None);
    let alert = the(&alerts, "OT-DNP3-002", HMI, PLC);
    assert_eq!(alert.function, Some("disable_unsolicited"));
    assert_eq!(alert.evidence.packets, [4]);
}

#[test]
fn dnp3_select_before_operate_is_not_a_direct_operate() {
    let crob = [
        0x0c, 0x01, 0x28, 0x01, 0x00, 0x00, 0x00, // g12v1, 2-byte count 1, index 0
        0x03, 0x01, 0xe8, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // latch on, 1 s
    ];
    let mut craft = Craft::new();
    let mut tcp = craft.connect(host(HMI), host(PLC), 40500, 20000);
    // Select (3), then Operate (4) of the same point, as an HMI does.
    for (seq, function) in [(0u8, 3u8), (1, 4)] {
        craft.exchange(
            &mut tcp,
            &dnp3_request(seq, function, &crob),
            &dnp3_response(seq),
        );
    }
    let alerts = run(&craft, "", None);
    assert!(
        only(&alerts, "OT-DNP3-003").is_empty(),
        "{:?}",
        rules(&alerts)
    );
    assert!(alerts.is_empty(), "{:?}", rules(&alerts));
}

// ------------------------------------------------------------------ IEC 104

#[test]
fn iec104_commands_from_an_unexpected_station_clock_sync_and_reset() {
    let rtu = host(PLC);
    let other_rtu = host(PLC2);
    let master = host(HMI);
    let mut craft = Craft::new();
    // The master interrogates rtu: rtu serves IEC 104 (an RTU).
    iec104_session(&mut craft, master, rtu, &[asdu(100, 0, &[0x14])]);
    // rtu itself then commands another RTU: not a SCADA master.
    iec104_session(&mut craft, rtu, other_rtu, &[asdu(45, 2001, &[0x01])]);
    // The master's own commands, clock sync and reset process.
    iec104_session(
        &mut craft,
        master,
        other_rtu,
        &[
            asdu(45, 2001, &[0x01]),
            asdu(103, 0, &[0x00, 0x00, 0x00, 0x0c, 0x0f, 0x01, 0x18]),
            asdu(105, 0, &[0x01]),
        ],
    );
    let alerts = run(&craft, "", None);
    let command = the(&alerts, "OT-104-001", PLC, PLC2);
    assert_eq!(command.function, Some("single_command"));
    assert_eq!(command.src.role, Some("rtu"));
    the(&alerts, "OT-104-002", HMI, PLC2);
    the(&alerts, "OT-104-003", HMI, PLC2);
}

#[test]
fn iec104_interrogation_and_a_master_s_commands_are_not_clock_sync_or_reset() {
    let mut craft = Craft::new();
    // The SCADA master's routine: general and counter interrogation, then a
    // single command (the master is an HMI: it polls the RTU).
    iec104_session(
        &mut craft,
        host(HMI),
        host(PLC),
        &[
            asdu(100, 0, &[0x14]),
            asdu(101, 0, &[0x05]),
            asdu(45, 2001, &[0x01]),
        ],
    );
    let alerts = run(&craft, "", None);
    assert!(alerts.is_empty(), "{:?}", rules(&alerts));
}

// ------------------------------------------------------------------ writes

#[test]
fn writes_from_a_plc_alert_but_writes_from_an_hmi_do_not() {
    let mut craft = Craft::new();
    let hmi = host(HMI);
    let plc = host(PLC);
    let plc2 = host(PLC2);
    poll(&mut craft, hmi, plc, 3);
    let mut writes = craft.connect(hmi, plc2, 40001, 502);
    // FC 6 write single register from the HMI: allowed.
    craft.exchange(
        &mut writes,
        &modbus(1, 1, &[0x06, 0x00, 0x10, 0x00, 0x2a]),
        &modbus(1, 1, &[0x06, 0x00, 0x10, 0x00, 0x2a]),
    );
    // The PLC (it serves Modbus) writes to another PLC.
    let mut pivot = craft.connect(plc, plc2, 40002, 502);
    craft.exchange(
        &mut pivot,
        &modbus(1, 1, &[0x06, 0x00, 0x11, 0x00, 0x01]),
        &modbus(1, 1, &[0x06, 0x00, 0x11, 0x00, 0x01]),
    );
    let alerts = run(&craft, "", None);
    let alert = the(&alerts, "OT-CMD-001", PLC, PLC2);
    assert_eq!(alert.src.role, Some("plc"));
    assert_eq!(alert.function, Some("write_single_register"));
}

#[test]
fn it_writes_are_not_process_commands() {
    let office = host("10.0.1.30");
    let mut craft = Craft::new();
    // HTTP POST to the PLC's web server, an FTP upload, an MQTT publish to
    // the plant's broker: writes, but not process commands.
    let mut web = craft.connect(office, host(PLC), 40700, 80);
    craft.exchange(
        &mut web,
        b"POST /login HTTP/1.1\r\nHost: plc\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    );
    let mut ftp = craft.connect(office, host(PLC2), 40701, 21);
    craft.send(&mut ftp, false, b"220 ready\r\n");
    craft.exchange(
        &mut ftp,
        b"STOR report.csv\r\n",
        b"150 Opening data connection\r\n",
    );
    let broker = host("10.0.1.40");
    let mut mqtt = craft.connect(office, broker, 40702, 1883);
    craft.exchange(&mut mqtt, &mqtt_connect("office-7", None), MQTT_CONNACK);
    craft.send(&mut mqtt, true, &mqtt_publish("plant/report", b"done"));
    let alerts = run(&craft, "", None);
    assert!(
        only(&alerts, "OT-CMD-001").is_empty(),
        "{:?}",
        rules(&alerts)
    );
    assert!(alerts.is_empty(), "{:?}", rules(&alerts));
}

// ------------------------------------------------------------------ PROFINET

#[test]
fn profinet_dcp_set_but_not_identify() {
    let controller = [0x02, 0, 0, 0, 0, 0x01];
    let device = [0x02, 0, 0, 0, 0, 0x02];
    let dcp = |service: u8, blocks: &[u8]| {
        let mut p = vec![0xfe, if service == 5 { 0xfe } else { 0xfd }, service, 0x00];
        p.extend_from_slice(&[0x00, 0x00, 0x00, 0x01, 0x00, 0x00]); // xid, response delay
        p.extend_from_slice(&(blocks.len() as u16).to_be_bytes());
        p.extend_from_slice(blocks);
        p
    };
    let ip_suite = [
        0x01, 0x02, 0x00, 0x0e, 0x00, 0x01, // IP suite, length 14, qualifier: permanent
        192, 168, 0, 10, 255, 255, 255, 0, 0, 0, 0, 0,
    ];
    let mut craft = Craft::new();
    craft.ethernet(controller, device, 0x8892, &dcp(4, &ip_suite));
    let alerts = run(&craft, "", None);
    let set = only(&alerts, "OT-PN-001");
    assert_eq!(set.len(), 1, "{:?}", rules(&alerts));
    assert_eq!(set[0].src.mac, Some(controller));
    assert_eq!(set[0].dst.mac, Some(device));

    let mut craft = Craft::new();
    let all = [0xff, 0xff, 0x00, 0x00]; // identify all
    craft.ethernet(
        controller,
        [0x01, 0x0e, 0xcf, 0, 0, 0],
        0x8892,
        &dcp(5, &all),
    );
    assert!(run(&craft, "", None).is_empty());
}

// ------------------------------------------------------------------ GOOSE

#[test]
fn goose_state_number_regression_but_not_a_normal_stream() {
    let ied = [0x00, 0x30, 0xa7, 0, 0, 1];
    let group = [0x01, 0x0c, 0xcd, 0x01, 0x00, 0x01];
    let gocb = "IED1LD0/LLN0$GO$gcb1";
    // Retransmissions of state 1, a state change (new data, stNum 2, sqNum
    // back to 0), retransmissions of state 2: what a healthy IED publishes.
    let mut normal = Craft::new();
    normal.gap(0.5);
    for (st, sq, value) in [
        (1, 0, false),
        (1, 1, false),
        (1, 2, false),
        (2, 0, true),
        (2, 1, true),
        (2, 2, true),
    ] {
        normal.ethernet(ied, group, 0x88b8, &goose(gocb, st, sq, value, false));
    }
    let alerts = run(&normal, "", None);
    assert!(alerts.is_empty(), "{:?}", rules(&alerts));

    // Then a frame of the old state: replayed or injected.
    normal.ethernet(ied, group, 0x88b8, &goose(gocb, 1, 3, false, false));
    let alerts = run(&normal, "", None);
    let regressed = only(&alerts, "OT-GOOSE-001");
    assert_eq!(regressed.len(), 1, "{:?}", rules(&alerts));
    assert_eq!(regressed[0].src.mac, Some(ied));
    assert_eq!(regressed[0].evidence.packets, [7]);
}

#[test]
fn goose_in_simulation_but_not_in_service() {
    let ied = [0x00, 0x30, 0xa7, 0, 0, 2];
    let test_set = [0x00, 0x30, 0xa7, 0, 0, 9];
    let group = [0x01, 0x0c, 0xcd, 0x01, 0x00, 0x02];
    let gocb = "IED2LD0/LLN0$GO$gcb1";
    let mut craft = Craft::new();
    craft.gap(0.5);
    // A test set publishing a simulated trip alongside the IED's own stream.
    for sq in 0..3 {
        craft.ethernet(ied, group, 0x88b8, &goose(gocb, 1, sq, false, false));
        craft.ethernet(test_set, group, 0x88b8, &goose(gocb, 2, sq, true, true));
    }
    let alerts = run(&craft, "", None);
    let simulated = only(&alerts, "OT-GOOSE-003");
    assert_eq!(simulated.len(), 1, "{:?}", rules(&alerts));
    assert_eq!(simulated[0].src.mac, Some(test_set));
    assert_eq!(simulated[0].count, 3);
    assert_eq!(
        simulated[0].evidence.detail,
        "goose publish: simulation_flag"
    );
    let from_ied: Vec<_> = alerts.iter().filter(|a| a.src.mac == Some(ied)).collect();
    assert!(from_ied.is_empty(), "{from_ied:#?}");
}

// ------------------------------------------------------------------ firmware

#[test]
fn firmware_version_change_but_not_the_same_version_again() {
    let identify = |craft: &mut Craft, port: u16, plc: Host, revision: &str| {
        let mut tcp = craft.connect(host(EWS), plc, port, 502);
        craft.exchange(
            &mut tcp,
            &modbus(1, 1, &[0x2b, 0x0e, 0x01, 0x00]),
            &modbus(
                1,
                1,
                &modbus_identification("Schneider Electric", "TM241CE40R", revision),
            ),
        );
        craft.wait(60.0);
    };
    let mut craft = Craft::new();
    // PLC reports the same firmware twice; PLC2 reports an upgrade.
    identify(&mut craft, 40800, host(PLC), "v5.1.9");
    identify(&mut craft, 40801, host(PLC2), "v5.1.9");
    identify(&mut craft, 40802, host(PLC), "v5.1.9");
    identify(&mut craft, 40803, host(PLC2), "v5.2.0");
    let alerts = run(&craft, "", None);
    let changed = only(&alerts, "OT-FW-002");
    assert_eq!(changed.len(), 1, "{:?}", rules(&alerts));
    assert_eq!(changed[0].src.ip.unwrap().to_string(), PLC2);
    assert_eq!(
        changed[0].evidence.detail,
        "firmware v5.1.9 → v5.2.0 (modbus)"
    );
}

#[test]
fn device_identity_change_but_not_the_same_identity_again() {
    let identify = |craft: &mut Craft, port: u16, product: &str| {
        let mut tcp = craft.connect(host(EWS), host(PLC), port, 502);
        craft.exchange(
            &mut tcp,
            &modbus(1, 1, &[0x2b, 0x0e, 0x01, 0x00]),
            &modbus(
                1,
                1,
                &modbus_identification("Schneider Electric", product, "v5.1.9"),
            ),
        );
        craft.wait(60.0);
    };
    let mut craft = Craft::new();
    identify(&mut craft, 40800, "TM241CE40R");
    identify(&mut craft, 40801, "TM241CE40R");
    let alerts = run(&craft, "", None);
    assert!(alerts.is_empty(), "{:?}", rules(&alerts));
    // Another controller model answers at the PLC's address.
    identify(&mut craft, 40802, "TM221CE16R");
    let alerts = run(&craft, "", None);
    let changed = only(&alerts, "OT-ASSET-001");
    assert_eq!(changed.len(), 1, "{:?}", rules(&alerts));
    assert_eq!(changed[0].src.ip.unwrap().to_string(), PLC);
    assert!(
        changed[0]
            .evidence
            .detail
            .contains("TM241CE40R → TM221CE16R"),
        "{}",
        changed[0].evidence.detail
    );
}

// ------------------------------------------------------------------ ARP

#[test]
fn arp_spoofing_and_gratuitous_floods() {
    let plc = host(PLC);
    let hmi = host(HMI);
    let mut attacker = host(PLC);
    attacker.mac = [0x02, 0xde, 0xad, 0xbe, 0xef, 0x01];
    let mut craft = Craft::new();
    poll(&mut craft, hmi, plc, 3);
    craft.arp_reply(attacker, hmi);
    let alerts = run(&craft, "", None);
    let spoof = only(&alerts, "OT-ARP-001");
    assert_eq!(spoof.len(), 1, "{:?}", rules(&alerts));
    assert_eq!(
        spoof[0].evidence.detail,
        "10.0.2.1 now at 02:de:ad:be:ef:01 (was 02:00:0a:00:02:01)"
    );

    // A device announcing itself a few times at boot is normal; a flood is not.
    let mut craft = Craft::new();
    for _ in 0..3 {
        craft.arp_announcement(plc);
        craft.wait(1.0);
    }
    assert!(run(&craft, "", None).is_empty());
    let mut craft = Craft::new();
    for _ in 0..25 {
        craft.arp_announcement(attacker);
        craft.wait(0.1);
    }
    let alerts = run(&craft, "", None);
    let flood = only(&alerts, "OT-ARP-002");
    assert_eq!(flood.len(), 1, "{:?}", rules(&alerts));
    assert_eq!(flood[0].src.mac, Some(attacker.mac));
}

// ------------------------------------------------------------------ scans

#[test]
fn host_sweep_and_port_scan() {
    let scanner = host("10.0.1.99");
    let mut craft = Craft::new();
    for n in 1..=40 {
        craft.syn(scanner, host(&format!("10.0.2.{n}")), 50000 + n, 502);
    }
    for port in 1..=20 {
        craft.syn(scanner, host(PLC2), 51000 + port, port);
    }
    let alerts = run(&craft, "", None);
    let sweep = only(&alerts, "OT-SCAN-001");
    assert_eq!(sweep.len(), 1, "{:?}", rules(&alerts));
    assert_eq!(sweep[0].src.ip.unwrap().to_string(), "10.0.1.99");
    assert!(
        sweep[0]
            .evidence
            .detail
            .ends_with("32 different dst within 60s per src"),
        "{}",
        sweep[0].evidence.detail
    );
    the(&alerts, "OT-SCAN-002", "10.0.1.99", PLC2);
}

#[test]
fn udp_sweep_of_silent_addresses_but_not_answered_polling() {
    // A BACnet Who-Is sent to 40 addresses, none of which answers.
    let who_is = [0x81, 0x0a, 0x00, 0x08, 0x01, 0x00, 0x10, 0x08];
    let scanner = host("10.0.1.99");
    let mut craft = Craft::new();
    for n in 1..=40 {
        craft.udp(scanner, host(&format!("10.0.2.{n}")), 47808, 47808, &who_is);
    }
    let alerts = run(&craft, "", None);
    let sweep = the(&alerts, "OT-SCAN-001", "10.0.1.99", "10.0.2.32");
    assert!(
        sweep
            .evidence
            .detail
            .starts_with("udp/47808; 32 different dst"),
        "{}",
        sweep.evidence.detail
    );

    // A building controller polling 40 devices, each answering its ReadProperty.
    let read_property = [
        0x81, 0x0a, 0x00, 0x11, 0x01, 0x04, 0x02, 0x05, 0x01, 0x0c, 0x0c, 0x00, 0x00, 0x00, 0x01,
        0x19, 0x55,
    ];
    let answer = [
        0x81, 0x0a, 0x00, 0x16, 0x01, 0x00, 0x30, 0x01, 0x0c, 0x0c, 0x00, 0x00, 0x00, 0x01, 0x19,
        0x55, 0x3e, 0x44, 0x41, 0xa8, 0x00, 0x00, 0x3f,
    ];
    let poller = host(HMI);
    let mut craft = Craft::new();
    for round in 0..3 {
        for n in 1..=40 {
            let device = host(&format!("10.0.2.{n}"));
            craft.udp(poller, device, 47808, 47808, &read_property);
            craft.udp(device, poller, 47808, 47808, &answer);
        }
        if round < 2 {
            craft.wait(10.0);
        }
    }
    let alerts = run(&craft, "", None);
    assert!(alerts.is_empty(), "{:?}", rules(&alerts));
}

#[test]
fn many_established_connections_at_capture_start_are_not_a_sweep() {
    // A SCADA server already connected to 40 PLCs when capture starts: the
    // first packets carry ACK (no SYN seen).
    let scada = host(HMI);
    let mut craft = Craft::new();
    let mut conns: Vec<Tcp> = (1..=40)
        .map(|n| craft.connect(scada, host(&format!("10.0.2.{n}")), 40000 + n, 502))
        .collect();
    let mut established = Craft::new();
    for (n, tcp) in conns.iter_mut().enumerate() {
        established.exchange(
            tcp,
            &modbus(n as u16, 1, &[0x03, 0x00, 0x00, 0x00, 0x01]),
            &modbus(n as u16, 1, &[0x03, 0x02, 0x00, 0x07]),
        );
    }
    let alerts = run(&established, "", None);
    assert!(alerts.is_empty(), "{:?}", rules(&alerts));
}

#[test]
fn modbus_unit_id_and_function_code_sweeps() {
    let scanner = host("10.0.1.99");
    let mut craft = Craft::new();
    let mut tcp = craft.connect(scanner, host(PLC), 50000, 502);
    for unit in 1..=20u8 {
        craft.exchange(
            &mut tcp,
            &modbus(u16::from(unit), unit, &[0x2b, 0x0e, 0x01, 0x00]),
            &modbus(u16::from(unit), unit, &[0xab, 0x0b]),
        );
    }
    for (n, fc) in [1u8, 2, 3, 4, 5, 6, 7, 8, 11, 12, 15, 16, 17, 20, 22, 23]
        .into_iter()
        .enumerate()
    {
        craft.exchange(
            &mut tcp,
            &modbus(100 + n as u16, 1, &[fc, 0x00, 0x00, 0x00, 0x01]),
            &modbus(100 + n as u16, 1, &[fc | 0x80, 0x01]),
        );
    }
    let alerts = run(&craft, "", None);
    the(&alerts, "OT-SCAN-003", "10.0.1.99", PLC);
    the(&alerts, "OT-SCAN-004", "10.0.1.99", PLC);

    // A gateway polled on its 8 units is not a sweep.
    let mut craft = Craft::new();
    let mut tcp = craft.connect(host(HMI), host(PLC), 40000, 502);
    for round in 0..5u16 {
        for unit in 1..=8u8 {
            let t = round * 8 + u16::from(unit);
            craft.exchange(
                &mut tcp,
                &modbus(t, unit, &[0x03, 0x00, 0x00, 0x00, 0x01]),
                &modbus(t, unit, &[0x03, 0x02, 0x00, 0x07]),
            );
        }
    }
    assert!(run(&craft, "", None).is_empty());
}

#[test]
fn dnp3_and_cip_function_code_sweeps() {
    // A scanner walks DNP3 application functions 1–12 on an outstation.
    let scanner = host("10.0.1.99");
    let mut craft = Craft::new();
    let mut tcp = craft.connect(scanner, host(PLC), 50000, 20000);
    for function in 1..=12u8 {
        craft.exchange(
            &mut tcp,
            &dnp3_request(function, function, &[]),
            &dnp3_response(function),
        );
    }
    let alerts = run(&craft, "", None);
    let sweep = the(&alerts, "OT-SCAN-005", "10.0.1.99", PLC);
    assert_eq!(sweep.protocol, Some("dnp3"));
    assert!(
        sweep
            .evidence
            .detail
            .ends_with("10 different function_code within 60s per pair"),
        "{}",
        sweep.evidence.detail
    );

    // And CIP services 0x01–0x0c on the identity object.
    let mut craft = Craft::new();
    let mut tcp = craft.connect(scanner, host(PLC), 50010, 44818);
    for service in 0x01..=0x0cu8 {
        cip_request(
            &mut craft,
            &mut tcp,
            service,
            &[service, 0x02, 0x20, 0x01, 0x24, 0x01],
        );
    }
    let alerts = run(&craft, "", None);
    assert_eq!(
        the(&alerts, "OT-SCAN-005", "10.0.1.99", PLC).protocol,
        Some("cip")
    );

    // And S7comm: after the setup, read and write, the download and upload
    // functions, PI service and stop, each with a bare parameter.
    let mut craft = Craft::new();
    let mut tcp = s7_connect(&mut craft, scanner, host(PLC));
    for (n, function) in [0x04u8, 0x05, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x28, 0x29]
        .into_iter()
        .enumerate()
    {
        s7_job(&mut craft, &mut tcp, n as u8 + 1, &[function, 0x00]);
    }
    let alerts = run(&craft, "", None);
    assert_eq!(
        the(&alerts, "OT-SCAN-005", "10.0.1.99", PLC).protocol,
        Some("s7comm")
    );

    // A master's day: confirm, read, write, select, operate, direct operate,
    // disable and enable unsolicited, assign class, and read again, over and
    // over: 10 requests a round, 9 different functions.
    let mut craft = Craft::new();
    let mut tcp = craft.connect(host(HMI), host(PLC), 40500, 20000);
    for round in 0..6u8 {
        for (n, function) in [0u8, 1, 2, 3, 4, 5, 21, 20, 22, 1].into_iter().enumerate() {
            let seq = round * 10 + n as u8;
            craft.exchange(
                &mut tcp,
                &dnp3_request(seq, function, &[]),
                &dnp3_response(seq),
            );
        }
        craft.wait(5.0);
    }
    let alerts = run(&craft, "", None);
    assert!(
        only(&alerts, "OT-SCAN-005").is_empty(),
        "{:?}",
        rules(&alerts)
    );
}

// ------------------------------------------------------------------ malformed

#[test]
fn a_burst_of_malformed_messages() {
    let mut craft = Craft::new();
    let mut tcp = craft.connect(host("10.0.1.99"), host(PLC), 50000, 502);
    // Read holding registers asking for 0 registers: illegal quantity, 60 times in 6 s.
    for t in 0..60u16 {
        craft.send(
            &mut tcp,
            true,
            &modbus(t, 1, &[0x03, 0x00, 0x00, 0x00, 0x00]),
        );
        craft.wait(0.1);
    }
    let alerts = run(&craft, "", None);
    let burst = the(&alerts, "OT-MAL-001", "10.0.1.99", PLC);
    assert!(
        burst
            .evidence
            .detail
            .contains("50 times within 10s per src"),
        "{}",
        burst.evidence.detail
    );
    // A few over a long time are not a burst.
    let mut craft = Craft::new();
    let mut tcp = craft.connect(host("10.0.1.99"), host(PLC), 50000, 502);
    for t in 0..20u16 {
        craft.send(
            &mut tcp,
            true,
            &modbus(t, 1, &[0x03, 0x00, 0x00, 0x00, 0x00]),
        );
        craft.wait(5.0);
    }
    assert!(only(&run(&craft, "", None), "OT-MAL-001").is_empty());
}

// ------------------------------------------------------------------ credentials

#[test]
fn cleartext_credentials_ftp_http_and_snmp() {
    let mut craft = Craft::new();
    let ews = host(EWS);
    let plc = host(PLC);
    let mut ftp = craft.connect(ews, plc, 40600, 21);
    craft.send(&mut ftp, false, b"220 PLC FTP server ready\r\n");
    craft.exchange(&mut ftp, b"USER admin\r\n", b"331 Password required\r\n");
    craft.exchange(&mut ftp, b"PASS s3cret\r\n", b"230 Logged in\r\n");
    let mut http = craft.connect(ews, host(PLC2), 40601, 80);
    craft.exchange(
        &mut http,
        b"GET / HTTP/1.1\r\nHost: plc\r\nAuthorization: Basic YWRtaW46YWRtaW4=\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    );
    // SNMP v2c get-request, community "public", sysDescr.0
    let snmp = [
        0x30, 0x26, 0x02, 0x01, 0x01, 0x04, 0x06, b'p', b'u', b'b', b'l', b'i', b'c', 0xa0, 0x19,
        0x02, 0x01, 0x01, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x0e, 0x30, 0x0c, 0x06, 0x08,
        0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05, 0x00,
    ];
    craft.udp(ews, host("10.0.2.3"), 40602, 161, &snmp);
    let alerts = run(&craft, "", None);
    let ftp_alert = the(
        &only(&alerts, "OT-CRED-001")
            .into_iter()
            .filter(|a| a.protocol == Some("ftp"))
            .cloned()
            .collect::<Vec<_>>(),
        "OT-CRED-001",
        EWS,
        PLC,
    )
    .clone();
    assert_eq!(ftp_alert.function, Some("pass"), "{ftp_alert:?}");
    let protocols: Vec<_> = only(&alerts, "OT-CRED-001")
        .iter()
        .map(|a| a.protocol)
        .collect();
    assert_eq!(protocols, [Some("ftp"), Some("http"), Some("snmp")]);
    the(&alerts, "OT-CRED-002", EWS, "10.0.2.3");

    // A community of the plant's own is still in the clear, but not a default one.
    let mut craft = Craft::new();
    let mut own = snmp;
    own[7..13].copy_from_slice(b"k7#pLx");
    craft.udp(ews, host("10.0.2.3"), 40602, 161, &own);
    let alerts = run(&craft, "", None);
    assert_eq!(rules(&alerts), ["OT-CRED-001"]);

    // FTP without a password (anonymous listing refused) carries none.
    let mut craft = Craft::new();
    let mut ftp = craft.connect(ews, plc, 40600, 21);
    craft.send(&mut ftp, false, b"220 PLC FTP server ready\r\n");
    craft.exchange(&mut ftp, b"SYST\r\n", b"215 UNIX Type: L8\r\n");
    assert!(run(&craft, "", None).is_empty());
}

#[test]
fn cleartext_telnet_logins_with_and_without_echo() {
    let mut craft = Craft::new();
    // A console that echoes what is typed.
    let mut echo = craft.connect(host(EWS), host(PLC), 40610, 23);
    craft.send(&mut echo, false, b"\r\nRTU-7 console\r\nlogin: ");
    craft.exchange(&mut echo, b"admin\r\n", b"admin\r\n");
    craft.send(&mut echo, false, b"Password: ");
    craft.exchange(&mut echo, b"s3cret\r\n", b"\r\nWelcome\r\n# ");
    // A device that echoes nothing: the password prompt follows on the login line.
    let mut quiet = craft.connect(host(EWS), host(PLC2), 40611, 23);
    craft.send(&mut quiet, false, b"Gateway\r\nUser: ");
    craft.send(&mut quiet, true, b"operator\r\n");
    craft.send(&mut quiet, false, b"Password: ");
    craft.exchange(&mut quiet, b"hunter2\r\n", b"\r\n> ");
    let alerts = run(&craft, "", None);
    for (device, plc) in [(PLC, "10.0.2.1"), (PLC2, "10.0.2.2")] {
        let alert = only(&alerts, "OT-CRED-001")
            .into_iter()
            .find(|a| a.dst.ip.unwrap().to_string() == device)
            .unwrap_or_else(|| panic!("{plc}: {:?}", rules(&alerts)));
        assert_eq!(
            (alert.protocol, alert.function),
            (Some("telnet"), Some("password"))
        );
    }
    assert_eq!(
        only(&alerts, "OT-CRED-001").len(),
        2,
        "{:?}",
        rules(&alerts)
    );

    // A console that asks for no login carries no credential.
    let mut craft = Craft::new();
    let mut open = craft.connect(host(EWS), host(PLC), 40612, 23);
    craft.send(&mut open, false, b"\r\nRTU-7 console\r\n> ");
    craft.exchange(
        &mut open,
        b"show version\r\n",
        b"show version\r\nV2.1\r\n> ",
    );
    let alerts = run(&craft, "", None);
    assert!(alerts.is_empty(), "{:?}", rules(&alerts));
}

// ------------------------------------------------------------------ untrusted networks

/// A TLS ClientHello asking for `server_name`.
fn client_hello(server_name: &str) -> Vec<u8> {
    let name = server_name.as_bytes();
    let mut sni = vec![0x00, 0x00];
    sni.extend_from_slice(&((name.len() + 5) as u16).to_be_bytes());
    sni.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
    sni.push(0);
    sni.extend_from_slice(&(name.len() as u16).to_be_bytes());
    sni.extend_from_slice(name);
    let mut hello = vec![0x03, 0x03];
    hello.extend_from_slice(&[0x11; 32]); // random
    hello.push(0); // session id
    hello.extend_from_slice(&[0x00, 0x02, 0x13, 0x01, 0x01, 0x00]); // one suite, no compression
    hello.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    hello.extend_from_slice(&sni);
    let mut handshake = vec![0x01, 0x00];
    handshake.extend_from_slice(&(hello.len() as u16).to_be_bytes());
    handshake.extend_from_slice(&hello);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
    record.extend_from_slice(&handshake);
    record
}

#[test]
fn a_plc_talking_to_the_internet_is_named_by_its_server_name() {
    let cloud = host("52.29.10.20");
    let mut craft = Craft::new();
    poll(&mut craft, host(HMI), host(PLC), 3);
    let mut tls = craft.connect(host(PLC), cloud, 49000, 443);
    craft.send(
        &mut tls,
        true,
        &client_hello("telemetry.vendor-cloud.example"),
    );
    // The HMI browsing the PLC's web page stays inside: no alert.
    let mut web = craft.connect(host(HMI), host(PLC), 40700, 80);
    craft.exchange(
        &mut web,
        b"GET / HTTP/1.1\r\nHost: plc\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    );
    let alerts = run(&craft, "", None);
    let alert = the(&alerts, "OT-EXT-001", PLC, "52.29.10.20");
    assert_eq!(alert.dst.zone, "untrusted");
    assert_eq!(
        alert.dst.name.as_deref(),
        Some("telemetry.vendor-cloud.example")
    );
    assert_eq!(alert.src.role, Some("plc"));
    assert_eq!(alert.iec62443, ["SR 1.13", "SR 5.1"]);
    assert_eq!(alert.evidence.detail, "tcp/443");
    assert_eq!(rules(&alerts), ["OT-EXT-001"]);

    // And the other way round: the Internet reaching the PLC.
    let mut craft = Craft::new();
    poll(&mut craft, host(HMI), host(PLC), 3);
    let mut inbound = craft.connect(cloud, host(PLC), 55000, 502);
    craft.exchange(
        &mut inbound,
        &modbus(1, 1, &[0x03, 0x00, 0x00, 0x00, 0x01]),
        &modbus(1, 1, &[0x03, 0x02, 0x00, 0x07]),
    );
    let alerts = run(&craft, "", None);
    let alert = the(&alerts, "OT-EXT-002", "52.29.10.20", PLC);
    assert_eq!(alert.severity.name(), "critical");
}

#[test]
fn both_ends_public_raise_one_alert_not_both_ext_001_and_ext_002() {
    // A lab on public addresses, or a PLC exposed on the Internet: a client
    // polls it, then connects again once both roles are known.
    let client = host("52.20.0.2");
    let plc = host("52.10.0.1");
    let mut craft = Craft::new();
    poll(&mut craft, client, plc, 3);
    let mut again = craft.connect(client, plc, 40010, 502);
    craft.exchange(
        &mut again,
        &modbus(1, 1, &[0x03, 0x00, 0x00, 0x00, 0x01]),
        &modbus(1, 1, &[0x03, 0x02, 0x00, 0x07]),
    );
    let alerts = run(&craft, "", None);
    let inbound = the(&alerts, "OT-EXT-002", "52.20.0.2", "52.10.0.1");
    assert_eq!(inbound.src.role, Some("hmi"));
    assert_eq!(inbound.dst.role, Some("plc"));
    assert_eq!(rules(&alerts), ["OT-EXT-002"]);
}

#[test]
fn an_iiot_client_publishing_to_a_cloud_broker_named_by_dns_but_not_web_browsing() {
    let gateway = host("10.0.1.30");
    let resolver = host("10.0.0.53");
    let broker = host("3.120.0.10");
    let web = host("93.184.216.34");
    let mut craft = Craft::new();
    // The gateway looks both up, browses the web site, and publishes to the broker.
    craft.udp(
        gateway,
        resolver,
        50001,
        53,
        &dns(1, "www.vendor.example", None),
    );
    craft.udp(
        resolver,
        gateway,
        53,
        50001,
        &dns(1, "www.vendor.example", Some(web.ip.octets())),
    );
    craft.udp(
        gateway,
        resolver,
        50002,
        53,
        &dns(2, "broker.iiot-cloud.example", None),
    );
    craft.udp(
        resolver,
        gateway,
        53,
        50002,
        &dns(2, "broker.iiot-cloud.example", Some(broker.ip.octets())),
    );
    let mut https = craft.connect(gateway, web, 49000, 443);
    craft.send(&mut https, true, &client_hello("www.vendor.example"));
    let mut http = craft.connect(gateway, web, 49001, 80);
    craft.exchange(
        &mut http,
        b"POST /telemetry HTTP/1.1\r\nHost: www.vendor.example\r\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.1 204 No Content\r\n\r\n",
    );
    let browsing = run(&craft, "", None);
    assert!(browsing.is_empty(), "{:?}", rules(&browsing));

    let mut mqtt = craft.connect(gateway, broker, 49002, 1883);
    craft.exchange(&mut mqtt, &mqtt_connect("line-3-gw", None), MQTT_CONNACK);
    for n in 0..3u8 {
        craft.send(
            &mut mqtt,
            true,
            &mqtt_publish("plant/line3/temp", &[b'2', b'0' + n]),
        );
    }
    let alerts = run(&craft, "", None);
    let alert = the(&alerts, "OT-EXT-003", "10.0.1.30", "3.120.0.10");
    assert_eq!(alert.dst.zone, "untrusted");
    assert_eq!(alert.dst.name.as_deref(), Some("broker.iiot-cloud.example"));
    assert_eq!(alert.protocol, Some("mqtt"));
    assert_eq!(alert.count, 4, "connect and three publishes, one alert");
    assert_eq!(rules(&alerts), ["OT-EXT-003"]);
}

// ------------------------------------------------------------------ zones and conduits

const TWO_ZONES: &str = r#"
[[zone]]
name = "control"
cidrs = ["10.0.1.0/24"]
security_level = 3

[[zone]]
name = "field"
cidrs = ["10.0.2.0/24"]
security_level = 3

[[zone]]
name = "office"
cidrs = ["10.0.9.0/24"]
security_level = 1

[[conduit]]
name = "supervisory"
zones = ["control", "field"]
initiator = "control"

[[conduit.allow]]
protocols = ["modbus"]
classes = ["read", "write"]
writers = ["10.0.1.10"]
"#;

#[test]
fn conduits_permit_by_exception() {
    let mut craft = Craft::new();
    // Allowed: the HMI polls and writes.
    let mut tcp = poll(&mut craft, host(HMI), host(PLC), 3);
    craft.exchange(
        &mut tcp,
        &modbus(9, 1, &[0x06, 0x00, 0x10, 0x00, 0x2a]),
        &modbus(9, 1, &[0x06, 0x00, 0x10, 0x00, 0x2a]),
    );
    // Not a writer: another control-zone host writes.
    let mut other = craft.connect(host("10.0.1.11"), host(PLC), 40010, 502);
    craft.exchange(
        &mut other,
        &modbus(1, 1, &[0x06, 0x00, 0x10, 0x00, 0x2b]),
        &modbus(1, 1, &[0x06, 0x00, 0x10, 0x00, 0x2b]),
    );
    // Not permitted: HTTP across the conduit.
    let mut web = craft.connect(host(EWS), host(PLC), 40700, 80);
    craft.exchange(
        &mut web,
        b"GET / HTTP/1.1\r\nHost: plc\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    );
    // Wrong initiator: the field opens a connection to the control zone.
    let mut back = craft.connect(host(PLC), host("10.0.1.20"), 40800, 502);
    craft.exchange(
        &mut back,
        &modbus(1, 1, &[0x03, 0x00, 0x00, 0x00, 0x01]),
        &modbus(1, 1, &[0x03, 0x02, 0x00, 0x07]),
    );
    // No conduit: office to field.
    craft.syn(host("10.0.9.5"), host(PLC2), 40900, 502);
    let alerts = run(&craft, TWO_ZONES, None);

    let writer = the(&alerts, "OT-ZONE-004", "10.0.1.11", PLC);
    assert_eq!(writer.conduit.as_deref(), Some("supervisory"));
    assert_eq!(writer.zones, ["control", "field"]);
    assert_eq!(writer.function, Some("write_single_register"));
    let http = the(&alerts, "OT-ZONE-002", EWS, PLC);
    assert_eq!(http.protocol, Some("http"));
    assert_eq!(http.count, 2, "request and response are one exchange");
    let initiator = the(&alerts, "OT-ZONE-003", PLC, "10.0.1.20");
    assert_eq!(
        initiator.evidence.detail,
        "opened from field; the conduit lets only control initiate"
    );
    let none = the(&alerts, "OT-ZONE-001", "10.0.9.5", PLC2);
    assert_eq!(none.zones, ["office", "field"]);
    assert_eq!(none.conduit, None);
    // The permitted HMI traffic raised nothing.
    let from_hmi: Vec<_> = alerts
        .iter()
        .filter(|a| a.src.ip.map(|i| i.to_string()).as_deref() == Some(HMI))
        .collect();
    assert!(from_hmi.is_empty(), "{from_hmi:#?}");
}

#[test]
fn conduit_writers_named_by_the_tag_the_policy_gives_them() {
    let policy = r#"
[[zone]]
name = "control"
cidrs = ["10.0.1.0/24"]
security_level = 3

[[zone]]
name = "field"
cidrs = ["10.0.2.0/24"]
security_level = 3

[[asset]]
ip = "10.0.1.10"
tags = ["scada"]

[[asset]]
ip = "10.0.1.11"
tags = ["historian"]

[[conduit]]
name = "supervisory"
zones = ["control", "field"]

[[conduit.allow]]
protocols = ["modbus"]
classes = ["read", "write"]
writers = ["tag:scada"]
"#;
    let mut craft = Craft::new();
    for (n, client) in [HMI, "10.0.1.11"].into_iter().enumerate() {
        let mut tcp = craft.connect(host(client), host(PLC), 40010 + n as u16, 502);
        craft.exchange(
            &mut tcp,
            &modbus(1, 1, &[0x06, 0x00, 0x10, 0x00, 0x2a]),
            &modbus(1, 1, &[0x06, 0x00, 0x10, 0x00, 0x2a]),
        );
    }
    let alerts = run(&craft, policy, None);
    let writer = the(&alerts, "OT-ZONE-004", "10.0.1.11", PLC);
    assert_eq!(writer.function, Some("write_single_register"));
    assert_eq!(rules(&alerts), ["OT-ZONE-004"]);
}

#[test]
fn unauthenticated_dnp3_across_zones_alerts_once_per_pair() {
    let mut craft = Craft::new();
    let mut tcp = craft.connect(host(HMI), host(PLC), 40500, 20000);
    for seq in 0..5u8 {
        craft.exchange(
            &mut tcp,
            &dnp3_request(seq, 1, &[0x3c, 0x01, 0x06]),
            &dnp3_response(seq),
        );
    }
    let policy = format!("{TWO_ZONES}\n[[conduit.allow]]\nprotocols = [\"dnp3\"]\n");
    let alerts = run(&craft, &policy, None);
    let alert = the(&alerts, "OT-SEC-002", HMI, PLC);
    assert_eq!(alert.count, 5);
    assert_eq!(alert.severity.name(), "low");
    // Inside one zone it is not crossing anything.
    let alerts = run(&craft, "", None);
    assert!(only(&alerts, "OT-SEC-002").is_empty());
}

#[test]
fn opc_ua_without_security_across_zones_but_not_discovery_encryption_or_one_zone() {
    let Some(dir) = shared_pcaps("opcua") else {
        return;
    };
    // 192.168.11.33 opens a secure channel with SecurityPolicy None on
    // 192.168.11.34 (frame 7, as Wireshark reads it) and a session on it (frame 10).
    let zones = r#"
[[zone]]
name = "clients"
cidrs = ["192.168.11.33/32"]
security_level = 2

[[zone]]
name = "servers"
cidrs = ["192.168.11.34/32"]
security_level = 3

[[conduit]]
name = "ua"
zones = ["clients", "servers"]

[[conduit.allow]]
protocols = ["opcua"]
"#;
    let plain = dir.join("opcua_with_gap_with_handshake.pcapng");
    let alerts = run_file(&plain, zones, None);
    let none = the(&alerts, "OT-SEC-001", "192.168.11.33", "192.168.11.34");
    assert_eq!(none.function, Some("create_session"));
    assert_eq!(none.evidence.packets[0], 10);
    assert_eq!(none.zones, ["clients", "servers"]);
    // Both ends in one zone: nothing crosses.
    let one_zone =
        "[[zone]]\nname = \"plant\"\ncidrs = [\"192.168.11.0/24\"]\nsecurity_level = 2\n";
    assert!(only(&run_file(&plain, one_zone, None), "OT-SEC-001").is_empty());

    // The loopback captures moved onto two zones: the client on 10.0.1.10,
    // the server (port 4840) on 10.0.2.1.
    let across = format!("{TWO_ZONES}\n[[conduit.allow]]\nprotocols = [\"opcua\"]\n");
    let readdressed = |name: &str| {
        let mut craft = Craft::new();
        craft.readdressed_tcp(&dir.join(name), |_, port| {
            host(if port == 4840 { PLC } else { HMI })
        });
        run(&craft, &across, None)
    };
    // open62541 over SecurityPolicy None, with a user name token: both alerts.
    let alerts = readdressed("open62541_read_service_null_linktype.pcap");
    the(&alerts, "OT-SEC-001", HMI, PLC);
    the(&alerts, "OT-CRED-003", HMI, PLC);
    // python-opcua: discovery over None (GetEndpoints, frames 9-17), then a
    // Basic256Sha256 channel in Sign mode (frame 31 on): neither alert.
    let alerts = readdressed("python_opcua_client_server_encrypted.pcapng");
    assert!(
        only(&alerts, "OT-SEC-001").is_empty(),
        "{:?}",
        rules(&alerts)
    );
    assert!(
        only(&alerts, "OT-CRED-003").is_empty(),
        "{:?}",
        rules(&alerts)
    );
}

#[test]
fn a_built_in_check_is_switched_off_by_its_id() {
    let everyone = Host {
        mac: [0xff; 6],
        ip: "10.0.1.255".parse().unwrap(),
    };
    let mut craft = Craft::new();
    // The office reaching the field, which no conduit allows, then a broadcast loop.
    craft.syn(host("10.0.9.5"), host(PLC2), 40900, 502);
    craft.gap(0.0002);
    for _ in 0..3000 {
        craft.udp(host("10.0.1.77"), everyone, 40001, 9, b"again");
    }
    let alerts = run(&craft, TWO_ZONES, None);
    assert_eq!(rules(&alerts), ["OT-ZONE-001", "OT-NET-001"]);
    let off = format!(
        "{TWO_ZONES}\n[[rule]]\nid = \"OT-NET-001\"\nenabled = false\n\n\
         [[rule]]\nid = \"OT-ZONE-001\"\nenabled = false\n"
    );
    let alerts = run(&craft, &off, None);
    assert!(alerts.is_empty(), "{:?}", rules(&alerts));
}

// ------------------------------------------------------------------ storms

#[test]
fn broadcast_storm_but_not_goose_streams_or_ordinary_broadcasts() {
    let looping = host("10.0.1.77");
    let everyone = Host {
        mac: [0xff; 6],
        ip: "10.0.1.255".parse().unwrap(),
    };
    let mut craft = Craft::new();
    // A busy but healthy second: 900 broadcasts.
    craft.gap(0.001);
    for _ in 0..900 {
        craft.udp(host(HMI), everyone, 40000, 9, b"hello");
    }
    craft.wait(2.0);
    // 4,000 GOOSE frames a second from an IED are its design, not a storm.
    craft.gap(0.00025);
    for _ in 0..2000 {
        craft.ethernet(
            [0x00, 0x30, 0xa7, 1, 2, 3],
            [0x01, 0x0c, 0xcd, 1, 0, 1],
            0x88b8,
            &[0; 40],
        );
    }
    craft.wait(2.0);
    // A loop: the same broadcast 3,000 times within 0.6 s.
    craft.gap(0.0002);
    for _ in 0..3000 {
        craft.udp(looping, everyone, 40001, 9, b"again");
    }
    let alerts = run(&craft, "", None);
    let storms = only(&alerts, "OT-NET-001");
    assert_eq!(storms.len(), 1, "{:?}", rules(&alerts));
    let storm = storms[0];
    assert_eq!(storm.src.mac, Some(looping.mac));
    assert_eq!(storm.severity, Severity::High);
    let frames: u64 = storm
        .evidence
        .detail
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1000..=3000).contains(&frames), "{}", storm.evidence.detail);
    assert!(
        storm.evidence.detail.ends_with("most from the source"),
        "{}",
        storm.evidence.detail
    );
    assert!(
        storm.evidence.packets[0] > 2900,
        "points into the storm: {:?}",
        storm.evidence
    );
}
