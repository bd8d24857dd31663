//! The default rule pack and the built-in zone, conduit and baseline checks:
//! each detection with traffic that must raise it and traffic that must not.
//! Captures are crafted here (tests/common/craft.rs) and replayed in-process
//! through the real pipeline.

mod common;

use std::path::PathBuf;

use common::craft::{Craft, Host, Tcp, host, modbus, tpkt_dt};
use otsensor::analysis::Analyzer;
use otsensor::analysis::inventory::Inventory;
use otsensor::analysis::policy::baseline::Baseline;
use otsensor::analysis::policy::load::parse_duration;
use otsensor::analysis::policy::{Alert, Severity, Source, load};
use otsensor::capture::expand_inputs;
use otsensor::pipeline::{ReplayConfig, replay};

/// Replays `craft` with the default pack and `policy` (TOML text), learning
/// for `learn` first if given; returns the alerts.
fn run(craft: &Craft, policy: &str, learn: Option<&str>) -> Vec<Alert> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crafted.pcap");
    craft.write(&path);
    let mut sources = vec![Source::default_pack()];
    if !policy.is_empty() {
        sources.push(Source {
            name: "test.toml".into(),
            text: policy.into(),
        });
    }
    let policy = load(&sources).unwrap_or_else(|e| panic!("{e}"));
    let mut analyzer = Analyzer::new(Inventory::new(), policy);
    if let Some(learn) = learn {
        analyzer = analyzer.with_baseline(Baseline::learn(parse_duration(learn).unwrap()));
    }
    let (inputs, _) = expand_inputs(&[PathBuf::from(&path)]).unwrap();
    let config = ReplayConfig {
        threads: 2,
        ..ReplayConfig::default()
    };
    let report = replay(&inputs, &config, analyzer, None, &mut |_| {}).unwrap();
    report.findings.alerts
}

fn rules(alerts: &[Alert]) -> Vec<&str> {
    alerts.iter().map(|a| a.rule.as_str()).collect()
}

fn only<'a>(alerts: &'a [Alert], rule: &str) -> Vec<&'a Alert> {
    alerts.iter().filter(|a| a.rule == rule).collect()
}

/// The one alert of `rule`, with its ends checked.
fn the<'a>(alerts: &'a [Alert], rule: &str, src: &str, dst: &str) -> &'a Alert {
    let found = only(alerts, rule);
    assert_eq!(found.len(), 1, "{rule}: {:?}", rules(alerts));
    let alert = found[0];
    assert_eq!(
        alert.src.ip.map(|ip| ip.to_string()).as_deref(),
        Some(src),
        "{alert:?}"
    );
    assert_eq!(
        alert.dst.ip.map(|ip| ip.to_string()).as_deref(),
        Some(dst),
        "{alert:?}"
    );
    alert
}

// ------------------------------------------------------------------ traffic

const HMI: &str = "10.0.1.10";
const EWS: &str = "10.0.1.50";
const PLC: &str = "10.0.2.1";
const PLC2: &str = "10.0.2.2";

/// An HMI polling a PLC's holding registers `cycles` times, once a second.
fn poll(craft: &mut Craft, hmi: Host, plc: Host, cycles: u16) -> Tcp {
    let mut tcp = craft.connect(hmi, plc, 40000, 502);
    for t in 0..cycles {
        craft.exchange(
            &mut tcp,
            &modbus(t, 1, &[0x03, 0x00, 0x00, 0x00, 0x02]),
            &modbus(t, 1, &[0x03, 0x04, 0x00, 0x2a, 0x00, 0x2b]),
        );
        craft.wait(1.0);
    }
    tcp
}

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

    // FTP without a password (anonymous listing refused) carries none.
    let mut craft = Craft::new();
    let mut ftp = craft.connect(ews, plc, 40600, 21);
    craft.send(&mut ftp, false, b"220 PLC FTP server ready\r\n");
    craft.exchange(&mut ftp, b"SYST\r\n", b"215 UNIX Type: L8\r\n");
    assert!(run(&craft, "", None).is_empty());
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

// ------------------------------------------------------------------ baseline

#[test]
fn baseline_new_talker_new_function_and_new_asset() {
    let mut craft = Craft::new();
    let hmi = host(HMI);
    let plc = host(PLC);
    // Learning: 60 s of polling.
    let mut tcp = poll(&mut craft, hmi, plc, 60);
    // After: a write the pair never used, and a newcomer polling the PLC.
    craft.exchange(
        &mut tcp,
        &modbus(900, 1, &[0x06, 0x00, 0x10, 0x00, 0x2a]),
        &modbus(900, 1, &[0x06, 0x00, 0x10, 0x00, 0x2a]),
    );
    poll(&mut craft, host("10.0.1.77"), plc, 2);
    let alerts = run(&craft, "", Some("30s"));
    let function = the(&alerts, "OT-BASE-003", HMI, PLC);
    assert_eq!(
        function.evidence.detail,
        "modbus write_single_register (6): while learning this pair used only read_holding_registers"
    );
    the(&alerts, "OT-BASE-002", "10.0.1.77", PLC);
    let new_asset = only(&alerts, "OT-BASE-001");
    assert_eq!(new_asset.len(), 1, "{:?}", rules(&alerts));
    assert_eq!(new_asset[0].src.ip.unwrap().to_string(), "10.0.1.77");
    // Learning the same traffic throughout raises nothing.
    let mut craft = Craft::new();
    poll(&mut craft, hmi, plc, 60);
    assert!(run(&craft, "", Some("30s")).is_empty());
}

#[test]
fn baseline_rate_far_above_learned() {
    let mut craft = Craft::new();
    let mut tcp = poll(&mut craft, host(HMI), host(PLC), 120);
    // 100 requests within a second: a flood on a pair that polls once a second.
    for t in 0..100u16 {
        craft.exchange(
            &mut tcp,
            &modbus(1000 + t, 1, &[0x03, 0x00, 0x00, 0x00, 0x02]),
            &modbus(1000 + t, 1, &[0x03, 0x04, 0x00, 0x2a, 0x00, 0x2b]),
        );
    }
    let alerts = run(&craft, "", Some("100s"));
    let rate = the(&alerts, "OT-BASE-006", HMI, PLC);
    assert!(
        rate.evidence
            .detail
            .contains("within 10s; learned at most 10"),
        "{}",
        rate.evidence.detail
    );
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
