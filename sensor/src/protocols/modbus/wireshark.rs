//! The decoder against Wireshark's reading of the public captures in
//! `../shared/pcaps/modbus/` (each `*.pcap` has a `*.tshark.json` beside it).
//! Skipped when that folder is absent.
//!
//! TCP is reassembled here the simple way the worker does it: per direction,
//! in sequence order; a retransmitted or overlapping segment gives only its
//! new bytes, a segment beyond the expected sequence number is a gap (the
//! kept bytes are dropped and the parser is told).

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use etherparse::{LaxNetSlice, LaxSlicedPacket, TransportSlice};
use pcap_parser::PcapCapture;
use serde_json::Value as Json;

use super::*;
use crate::event::{Event, Header, Transport};
use crate::time::Timestamp;

fn captures() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/pcaps/modbus");
    dir.is_dir().then_some(dir)
}

type Endpoint = (IpAddr, u16);

#[derive(Default)]
struct Stream {
    next_seq: Option<u32>,
    kept: Vec<u8>,
}

#[derive(Default)]
struct Connection {
    parser: ModbusParser,
    streams: [Stream; 2],
}

/// Decodes a capture the way the worker would; events carry frame numbers.
fn decode_capture(pcap: &[u8]) -> Vec<Event> {
    let capture = PcapCapture::from_file(pcap).expect("a pcap file");
    let mut connections: HashMap<(Endpoint, Endpoint), Connection> = HashMap::new();
    let mut events = Vec::new();
    for (index, block) in capture.blocks.iter().enumerate() {
        let frame = index as u64 + 1;
        // Lax: fuzzed captures carry IP total lengths past the frame, as
        // Wireshark tolerates.
        let Ok(packet) = LaxSlicedPacket::from_ethernet(block.data) else {
            continue;
        };
        let (src, dst) = match &packet.net {
            Some(LaxNetSlice::Ipv4(ip)) => (
                IpAddr::V4(ip.header().source_addr()),
                IpAddr::V4(ip.header().destination_addr()),
            ),
            Some(LaxNetSlice::Ipv6(ip)) => (
                IpAddr::V6(ip.header().source_addr()),
                IpAddr::V6(ip.header().destination_addr()),
            ),
            _ => continue,
        };
        let Some(TransportSlice::Tcp(tcp)) = &packet.transport else {
            continue;
        };
        let (sport, dport) = (tcp.source_port(), tcp.destination_port());
        let dir = if dport == PORT {
            Direction::ToServer
        } else if sport == PORT {
            Direction::ToClient
        } else {
            continue;
        };
        let key = match dir {
            Direction::ToServer => ((src, sport), (dst, dport)),
            Direction::ToClient => ((dst, dport), (src, sport)),
        };
        let conn = connections.entry(key).or_default();
        let stream = &mut conn.streams[dir.index()];
        let seq = tcp.sequence_number();
        if tcp.syn() {
            stream.next_seq = Some(seq.wrapping_add(1));
            continue;
        }
        let payload = tcp.payload();
        if payload.is_empty() {
            continue;
        }
        let fresh = match stream.next_seq {
            None => payload,
            Some(next) => {
                let delta = seq.wrapping_sub(next) as i32;
                if delta < 0 {
                    let old = delta.unsigned_abs() as usize;
                    if old >= payload.len() {
                        continue;
                    }
                    &payload[old..]
                } else {
                    if delta > 0 {
                        stream.kept.clear();
                        conn.parser.gap(dir);
                    }
                    payload
                }
            }
        };
        stream.next_seq = Some(seq.wrapping_add(payload.len() as u32));
        stream.kept.extend_from_slice(fresh);
        let header = Header {
            ts: Timestamp::from_parts(block.ts_sec.into(), block.ts_usec * 1000),
            capture: 0,
            packet: frame,
            seq: frame,
            flow: 0,
            src_mac: None,
            dst_mac: None,
            src_ip: Some(src),
            dst_ip: Some(dst),
            src_port: Some(sport),
            dst_port: Some(dport),
            transport: Transport::Tcp,
        };
        let mut out = Emitter::new(header, dir, &mut events);
        let consumed = conn.parser.parse(&stream.kept, &mut out);
        stream.kept.drain(..consumed);
    }
    events
}

/// A Wireshark field of one frame: one value per PDU (a list when several).
fn ws_values(record: &Json, name: &str) -> Vec<String> {
    match record.get(name) {
        Some(Json::String(s)) => vec![s.clone()],
        Some(Json::Array(list)) => list
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// Our value of the same field, one per event of the frame.
fn our_values(events: &[&Event], name: &str) -> Vec<String> {
    let mut values = Vec::new();
    for event in events {
        let Fields::Modbus(f) = &event.pdu.fields else {
            continue;
        };
        let is_response = event.pdu.is_response;
        let rw = event.pdu.function_code == Some(23);
        let value: Option<u64> = match name {
            "mbtcp.trans_id" => Some(f.transaction_id.into()),
            "mbtcp.unit_id" => Some(f.unit_id.into()),
            "mbtcp.len" => Some(f.length.into()),
            "modbus.func_code" => event.pdu.function_code.map(u64::from),
            "modbus.exception_code" => f.exception_code.map(u64::from),
            // An exception response carries its request's MEI type here.
            "modbus.mei" if f.exception_code.is_none() => f.mei_type.map(u64::from),
            // Wireshark links exception responses to no request.
            "modbus.request_frame" if f.exception_code.is_none() => f.request_packet,
            "modbus.byte_cnt" => f.byte_count.map(u64::from),
            "modbus.read_device_id" => f.read_device_id_code.map(u64::from),
            // Wireshark shows the address and count only where the PDU has them.
            "modbus.reference_num" if is_response && f.exception_code.is_none() => {
                match event.pdu.function_code {
                    Some(5 | 6 | 15 | 16 | 22) => f.address.map(u64::from),
                    _ => None,
                }
            }
            "modbus.reference_num" if !is_response && !rw => f.address.map(u64::from),
            "modbus.read_reference_num" if !is_response && rw => f.address.map(u64::from),
            "modbus.write_reference_num" if !is_response && rw => f.write_address.map(u64::from),
            "modbus.read_word_cnt" if !is_response && rw => f.quantity.map(u64::from),
            "modbus.write_word_cnt" if !is_response && rw => f.write_quantity.map(u64::from),
            _ => None,
        };
        values.extend(value.map(|v| v.to_string()));
    }
    values
}

const COMPARED: &[&str] = &[
    "mbtcp.trans_id",
    "mbtcp.unit_id",
    "mbtcp.len",
    "modbus.func_code",
    "modbus.exception_code",
    "modbus.mei",
    "modbus.request_frame",
    "modbus.read_device_id",
    "modbus.reference_num",
    "modbus.read_reference_num",
    "modbus.write_reference_num",
    "modbus.read_word_cnt",
    "modbus.write_word_cnt",
];

/// Frames where we and Wireshark disagree, with what each said.
fn compare(name: &str, dir: &Path) -> Vec<String> {
    let pcap = std::fs::read(dir.join(format!("{name}.pcap"))).expect("capture");
    let oracle: Json = serde_json::from_slice(
        &std::fs::read(dir.join(format!("{name}.tshark.json"))).expect("oracle"),
    )
    .expect("json");
    let events = decode_capture(&pcap);
    let mut by_frame: HashMap<u64, Vec<&Event>> = HashMap::new();
    for event in &events {
        by_frame.entry(event.header.packet).or_default().push(event);
    }
    let records = oracle["protocols"]["modbus"]["records"]
        .as_array()
        .expect("records");
    let mut diffs = Vec::new();
    let mut seen = Vec::new();
    for record in records {
        let frame: u64 = record["frame.number"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("frame number");
        seen.push(frame);
        let ours: Vec<&Event> = by_frame
            .get(&frame)
            .map(|e| {
                e.iter()
                    .copied()
                    .filter(|e| e.pdu.function != "invalid")
                    .collect()
            })
            .unwrap_or_default();
        if ours.is_empty() {
            diffs.push(format!(
                "{name} frame {frame}: Wireshark decodes Modbus, we do not"
            ));
            continue;
        }
        for field in COMPARED {
            let (ws, us) = (ws_values(record, field), our_values(&ours, field));
            if ws != us {
                diffs.push(format!(
                    "{name} frame {frame}: {field} wireshark={ws:?} ours={us:?}"
                ));
            }
        }
        let ws_objects = ws_values(record, "modbus.object_str_value");
        if !ws_objects.is_empty() {
            let ours: Vec<String> = ours
                .iter()
                .filter_map(|e| match &e.pdu.fields {
                    Fields::Modbus(f) => f.device_id.as_deref(),
                    Fields::None => None,
                })
                .flat_map(|ids| {
                    ids.named()
                        .filter_map(|(_, v)| v.map(str::to_owned))
                        .chain(ids.other.iter().map(|o| o.value.clone()))
                })
                .collect();
            if ours != ws_objects {
                diffs.push(format!(
                    "{name} frame {frame}: objects wireshark={ws_objects:?} ours={ours:?}"
                ));
            }
        }
    }
    // Frames Wireshark does not see as Modbus may only hold our reports of
    // bytes that are not Modbus either.
    for (frame, ours) in &by_frame {
        if !seen.contains(frame) && ours.iter().any(|e| e.pdu.function != "invalid") {
            let what: Vec<_> = ours.iter().map(|e| e.pdu.function).collect();
            diffs.push(format!("{name} frame {frame}: only we decode {what:?}"));
        }
    }
    diffs.sort();
    diffs
}

#[test]
fn agrees_with_wireshark() {
    let Some(dir) = captures() else {
        eprintln!("skipped: ../shared/pcaps/modbus not found");
        return;
    };
    let mut all = Vec::new();
    for name in [
        "icsnpp_modbus_example",
        "digitalbond_modbus_test_data_part2",
        "zeek_modbus_fuzz72",
    ] {
        all.extend(compare(name, &dir));
    }
    assert!(all.is_empty(), "{}", all.join("\n"));
}
