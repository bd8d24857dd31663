//! Every link type and capture format the sensor reads gives the same Modbus
//! events: one crafted Modbus/TCP exchange is written as Ethernet (classic
//! pcap, µs and ns, both byte orders), Linux cooked SLL and SLL2, raw IPv4
//! and IPv6 (LINKTYPE_RAW and LINKTYPE_IPV4/IPV6), BSD loopback (NULL and
//! LOOP), and pcapng with two interfaces of different link types and a
//! simple packet block; each replay must give the Ethernet run's Modbus
//! events, and, where tshark is installed, Wireshark's packet times and
//! function codes for the same file.

mod common;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;

use common::craft::{Craft, host, modbus};
use common::*;
use etherparse::{PacketBuilder, TcpHeader};
use otsensor::capture::write::{PcapNgWriter, PcapWriter};
use otsensor::time::Timestamp;
use serde_json::Value;

const CLIENT: &str = "10.0.0.10";
const SERVER: &str = "10.0.0.20";

/// A Modbus/TCP session: reads, writes and an exception, Ethernet frames.
fn exchange() -> Vec<(Timestamp, Vec<u8>)> {
    let mut craft = Craft::new();
    let mut tcp = craft.connect(host(CLIENT), host(SERVER), 40001, 502);
    // Read holding registers 100–101.
    craft.exchange(
        &mut tcp,
        &modbus(1, 1, &[0x03, 0x00, 0x64, 0x00, 0x02]),
        &modbus(1, 1, &[0x03, 0x04, 0x00, 0x01, 0x00, 0x02]),
    );
    // Write single register 7 = 42.
    craft.exchange(
        &mut tcp,
        &modbus(2, 1, &[0x06, 0x00, 0x07, 0x00, 0x2A]),
        &modbus(2, 1, &[0x06, 0x00, 0x07, 0x00, 0x2A]),
    );
    // Write multiple registers 10–11, unit 5.
    craft.exchange(
        &mut tcp,
        &modbus(
            3,
            5,
            &[0x10, 0x00, 0x0A, 0x00, 0x02, 0x04, 0x00, 0x01, 0x00, 0x02],
        ),
        &modbus(3, 5, &[0x10, 0x00, 0x0A, 0x00, 0x02]),
    );
    // Read coils 0–7, answered by exception 2 (illegal data address).
    craft.exchange(
        &mut tcp,
        &modbus(4, 1, &[0x01, 0x00, 0x00, 0x00, 0x08]),
        &modbus(4, 1, &[0x81, 0x02]),
    );
    craft.frames().to_vec()
}

/// Offsets in an Ethernet II frame from the crafter (no VLAN tag).
const ETHER_TYPE: std::ops::Range<usize> = 12..14;
const IP: usize = 14;

fn ip_packet(frame: &[u8]) -> &[u8] {
    &frame[IP..]
}

/// Linux cooked (SLL) header: packet type, ARPHRD_ETHER, address length,
/// the sender's MAC padded to 8 bytes, protocol.
fn sll(frame: &[u8]) -> Vec<u8> {
    let mut out = vec![
        0x00, 0x00, // packet type: to us
        0x00, 0x01, // ARPHRD_ETHER
        0x00, 0x06, // link-layer address length
    ];
    out.extend_from_slice(&frame[6..12]); // source MAC
    out.extend_from_slice(&[0, 0]); // padding to 8 bytes
    out.extend_from_slice(&frame[ETHER_TYPE]); // protocol
    out.extend_from_slice(ip_packet(frame));
    out
}

/// Linux cooked v2 (SLL2) header: protocol, reserved, interface index,
/// ARPHRD_ETHER, packet type, address length, the sender's MAC padded.
fn sll2(frame: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&frame[ETHER_TYPE]); // protocol
    out.extend_from_slice(&[0, 0]); // reserved
    out.extend_from_slice(&2u32.to_be_bytes()); // interface index
    out.extend_from_slice(&[0x00, 0x01]); // ARPHRD_ETHER
    out.push(0x00); // packet type: to us
    out.push(0x06); // link-layer address length
    out.extend_from_slice(&frame[6..12]); // source MAC
    out.extend_from_slice(&[0, 0]); // padding to 8 bytes
    out.extend_from_slice(ip_packet(frame));
    out
}

/// BSD loopback: the address family as 4 bytes, then the IP packet.
fn loopback(family: [u8; 4], ip: &[u8]) -> Vec<u8> {
    let mut out = family.to_vec();
    out.extend_from_slice(ip);
    out
}

/// `10.0.0.x` as `fd00::a00:x`.
fn v6(ip: Ipv4Addr) -> Ipv6Addr {
    let [a, b, c, d] = ip.octets();
    Ipv6Addr::from([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, a, b, c, d])
}

/// The same TCP segment over IPv6 (checksum recomputed).
fn ipv6_packet(frame: &[u8]) -> Vec<u8> {
    let ip = ip_packet(frame);
    let header_len = usize::from(ip[0] & 0x0F) * 4;
    let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
    let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let (tcp, payload) = TcpHeader::from_slice(&ip[header_len..total]).unwrap();
    let mut out = Vec::new();
    PacketBuilder::ipv6(v6(src).octets(), v6(dst).octets(), 64)
        .tcp_header(tcp)
        .write(&mut out, payload)
        .unwrap();
    out
}

/// What the link layer of a capture shows of the MAC addresses.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Macs {
    Both,
    /// Linux cooked captures give only the sender's.
    SourceOnly,
    None,
}

/// One way of writing the exchange.
struct Variant {
    file: &'static str,
    bytes: Vec<u8>,
    ipv6: bool,
    /// MACs shown on requests and on responses.
    macs: (Macs, Macs),
}

fn pcap(
    dlt: u32,
    nanos: bool,
    big_endian: bool,
    frames: &[(Timestamp, Vec<u8>)],
    link: impl Fn(&[u8]) -> Vec<u8>,
) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), dlt, nanos, big_endian).unwrap();
    for (ts, frame) in frames {
        let frame = link(frame);
        w.packet(*ts, &frame, frame.len() as u32).unwrap();
    }
    w.into_inner()
}

/// pcapng: the client's frames as Ethernet on interface 0 (µs), the
/// server's as SLL on interface 1 (ns), the handshake's last ACK as a simple
/// packet block (interface 0, no time of its own).
fn pcapng(big_endian: bool, frames: &[(Timestamp, Vec<u8>)]) -> Vec<u8> {
    let client_mac = host(CLIENT).mac;
    let mut w = PcapNgWriter::new(Vec::new(), big_endian).unwrap();
    let ethernet = w.interface(1, 0, 6).unwrap();
    let cooked = w.interface(113, 0, 9).unwrap();
    for (n, (ts, frame)) in frames.iter().enumerate() {
        if n == 2 {
            w.simple_packet(frame).unwrap();
        } else if frame[6..12] == client_mac {
            w.packet(ethernet, *ts, frame, frame.len() as u32).unwrap();
        } else {
            let frame = sll(frame);
            w.packet(cooked, *ts, &frame, frame.len() as u32).unwrap();
        }
    }
    w.into_inner()
}

fn variants() -> Vec<Variant> {
    let frames = exchange();
    let ethernet = |frame: &[u8]| frame.to_vec();
    let raw4 = |frame: &[u8]| ip_packet(frame).to_vec();
    let both = (Macs::Both, Macs::Both);
    let cooked = (Macs::SourceOnly, Macs::SourceOnly);
    let none = (Macs::None, Macs::None);
    let v = |file, bytes, ipv6, macs| Variant {
        file,
        bytes,
        ipv6,
        macs,
    };
    vec![
        v(
            "ethernet-ns-le.pcap",
            pcap(1, true, false, &frames, ethernet),
            false,
            both,
        ),
        v(
            "ethernet-us-le.pcap",
            pcap(1, false, false, &frames, ethernet),
            false,
            both,
        ),
        v(
            "ethernet-us-be.pcap",
            pcap(1, false, true, &frames, ethernet),
            false,
            both,
        ),
        v(
            "ethernet-ns-be.pcap",
            pcap(1, true, true, &frames, ethernet),
            false,
            both,
        ),
        v(
            "sll.pcap",
            pcap(113, false, false, &frames, sll),
            false,
            cooked,
        ),
        v(
            "sll2.pcap",
            pcap(276, false, false, &frames, sll2),
            false,
            cooked,
        ),
        v(
            "raw-ipv4.pcap",
            pcap(101, false, false, &frames, raw4),
            false,
            none,
        ),
        v(
            "ipv4.pcap",
            pcap(228, false, false, &frames, raw4),
            false,
            none,
        ),
        v(
            "raw-ipv6.pcap",
            pcap(101, false, false, &frames, ipv6_packet),
            true,
            none,
        ),
        v(
            "ipv6.pcap",
            pcap(229, false, true, &frames, ipv6_packet),
            true,
            none,
        ),
        // AF_INET (2) in the writer's byte order (NULL), big-endian (LOOP).
        v(
            "null.pcap",
            pcap(0, false, false, &frames, |f| {
                loopback(2u32.to_le_bytes(), ip_packet(f))
            }),
            false,
            none,
        ),
        v(
            "loop.pcap",
            pcap(108, false, false, &frames, |f| {
                loopback(2u32.to_be_bytes(), ip_packet(f))
            }),
            false,
            none,
        ),
        // AF_INET6 as on NetBSD/OpenBSD (24), big-endian host.
        v(
            "null-ipv6.pcap",
            pcap(0, true, true, &frames, |f| {
                loopback(24u32.to_be_bytes(), &ipv6_packet(f))
            }),
            true,
            none,
        ),
        v(
            "two-interfaces-le.pcapng",
            pcapng(false, &frames),
            false,
            (Macs::Both, Macs::SourceOnly),
        ),
        v(
            "two-interfaces-be.pcapng",
            pcapng(true, &frames),
            false,
            (Macs::Both, Macs::SourceOnly),
        ),
    ]
}

/// What must be the same whatever the link layer: packet, time, ports and
/// the Modbus fields.
const SAME_EVERYWHERE: &[&str] = &[
    "packet",
    "ts",
    "src_port",
    "dst_port",
    "transport",
    "is_response",
    "function_code",
    "function",
    "class",
    "exception_code",
    "transaction_id",
    "unit_id",
    "address",
    "quantity",
    "request_packet",
];

fn project(event: &Value, fields: &[&str]) -> BTreeMap<String, Value> {
    fields
        .iter()
        .map(|f| (f.to_string(), event[*f].clone()))
        .collect()
}

fn modbus_events(capture: &Path) -> Vec<Value> {
    replay(&[capture], &[])
        .events()
        .into_iter()
        .filter(|e| e["protocol"] == "modbus")
        .collect()
}

fn check_macs(variant: &Variant, event: &Value) {
    let (client, server) = (host(CLIENT), host(SERVER));
    let response = event["is_response"] == true;
    let (src, dst) = if response {
        (server.mac, client.mac)
    } else {
        (client.mac, server.mac)
    };
    let mac = |m: [u8; 6]| {
        Value::String(
            m.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":"),
        )
    };
    let shown = if response {
        variant.macs.1
    } else {
        variant.macs.0
    };
    let expected = match shown {
        Macs::Both => (mac(src), mac(dst)),
        Macs::SourceOnly => (mac(src), Value::Null),
        Macs::None => (Value::Null, Value::Null),
    };
    assert_eq!(
        (event["src_mac"].clone(), event["dst_mac"].clone()),
        expected,
        "{}: packet {}",
        variant.file,
        event["packet"]
    );
}

fn check_ips(variant: &Variant, event: &Value) {
    let (client, server): (String, String) = if variant.ipv6 {
        (
            v6(CLIENT.parse().unwrap()).to_string(),
            v6(SERVER.parse().unwrap()).to_string(),
        )
    } else {
        (CLIENT.into(), SERVER.into())
    };
    let expected = if event["is_response"] == true {
        (server, client)
    } else {
        (client, server)
    };
    assert_eq!(
        (
            event["src_ip"].as_str().unwrap().to_string(),
            event["dst_ip"].as_str().unwrap().to_string()
        ),
        expected,
        "{}: packet {}",
        variant.file,
        event["packet"]
    );
}

/// Wireshark's packet time and Modbus function code per frame, or `None`
/// (with the reason printed) where tshark cannot be run.
fn tshark_modbus(capture: &Path) -> Option<BTreeMap<u64, (Timestamp, u64)>> {
    let output = std::process::Command::new("tshark")
        .arg("-r")
        .arg(capture)
        .args(["-Y", "modbus", "-T", "fields"])
        .args(["-e", "frame.number", "-e", "frame.time_epoch"])
        .args(["-e", "modbus.func_code"])
        .output();
    let output = match output {
        Ok(output) if output.status.success() => output,
        Ok(output) => panic!(
            "tshark failed on {}: {}",
            capture.display(),
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(e) => {
            eprintln!("SKIPPED: the Wireshark comparison (cannot run tshark: {e})");
            return None;
        }
    };
    let text = String::from_utf8(output.stdout).unwrap();
    let frames = text
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let (secs, frac) = fields[1].split_once('.').unwrap();
            // Events carry microseconds: truncate Wireshark's nanoseconds.
            let micros: u32 = format!("{frac:0<6}")[..6].parse().unwrap();
            let ts = Timestamp::from_parts(secs.parse().unwrap(), micros * 1000);
            (fields[0].parse().unwrap(), (ts, fields[2].parse().unwrap()))
        })
        .collect();
    Some(frames)
}

/// The requests carry what `exchange` wrote: transaction, unit, function,
/// address and quantity; each response its request's.
fn check_requests_as_crafted(events: &[Value]) {
    let got: Vec<_> = events
        .iter()
        .map(|e| {
            (
                e["transaction_id"].as_u64().unwrap(),
                e["unit_id"].as_u64().unwrap(),
                e["function_code"].as_u64().unwrap(),
                e["address"].as_u64(),
                e["quantity"].as_u64(),
                e["exception_code"].as_u64(),
            )
        })
        .collect();
    let expected = [
        (1, 1, 3, Some(100), Some(2), None),
        (1, 1, 3, Some(100), Some(2), None),
        (2, 1, 6, Some(7), None, None),
        (2, 1, 6, Some(7), None, None),
        (3, 5, 16, Some(10), Some(2), None),
        (3, 5, 16, Some(10), Some(2), None),
        (4, 1, 1, Some(0), Some(8), None),
        (4, 1, 1, Some(0), Some(8), Some(2)),
    ];
    assert_eq!(got, expected);
}

#[test]
fn every_link_type_and_format_gives_the_ethernet_runs_modbus_events() {
    let dir = tempfile::tempdir().unwrap();
    let variants = variants();
    let mut baseline: Option<Vec<BTreeMap<String, Value>>> = None;
    let mut checked = 0;
    for variant in &variants {
        let path = dir.path().join(variant.file);
        std::fs::write(&path, &variant.bytes).unwrap();
        let events = modbus_events(&path);
        assert_eq!(events.len(), 8, "{}: {events:#?}", variant.file);
        for event in &events {
            assert!(
                event.get("anomalies").is_none(),
                "{}: {event}",
                variant.file
            );
            check_macs(variant, event);
            check_ips(variant, event);
        }
        let projected: Vec<_> = events.iter().map(|e| project(e, SAME_EVERYWHERE)).collect();
        match &baseline {
            None => {
                check_requests_as_crafted(&events);
                baseline = Some(projected);
            }
            Some(expected) => assert_eq!(&projected, expected, "{}", variant.file),
        }
        if let Some(wireshark) = tshark_modbus(&path) {
            let ours: BTreeMap<u64, (Timestamp, u64)> = events
                .iter()
                .map(|e| {
                    let ts = Timestamp::parse_rfc3339(e["ts"].as_str().unwrap()).unwrap();
                    let code = e["function_code"].as_u64().unwrap();
                    (e["packet"].as_u64().unwrap(), (ts, code))
                })
                .collect();
            assert_eq!(ours, wireshark, "{}", variant.file);
        }
        checked += 1;
    }
    assert_eq!(checked, 15);
}
