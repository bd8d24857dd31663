//! DNP3 against Wireshark, frame by frame, on every capture of
//! `../shared/pcaps/dnp3/`, through the whole pipeline: link addresses and
//! control, application function, internal indications, and every object
//! header (object, prefix and range codes, start/stop, quantity). Plus DNP3
//! over UDP through the pipeline, on a capture built here.

mod common;

use std::path::Path;

use common::*;
use otsensor::capture::write::PcapWriter;
use otsensor::protocols::dnp3::link;
use otsensor::time::Timestamp;
use serde_json::Value;

/// Frames Wireshark decodes and the sensor, by design, does not: TCP
/// segments Wireshark flags as fast retransmissions and dissects a second
/// time. The sensor's reassembly delivers each byte once, so a retransmitted
/// fragment is one event, on the packet that first carried it.
const DECODED_ONLY_BY_WIRESHARK: &[(&str, &[u64])] = &[(
    "ndpi_dnp3.pcapng",
    &[
        11, 12, 35, 36, 50, 51, 89, 90, 104, 105, 131, 132, 140, 141, 194, 195, 239, 240, 362, 363,
        440, 441, 455, 456, 482, 483, 515, 516,
    ],
)];
const WHY_DECODED_ONLY_BY_WIRESHARK: &str = "a TCP fast retransmission, which Wireshark \
     dissects a second time; the sensor's reassembly delivers each byte once";

/// Frames whose application fragment Wireshark 4.0 gets wrong when the
/// transport sequence wraps from 63 to 0: it keys reassembly on an extended
/// sequence number that repeats after the wrap. Frames 18, 114, 210 and 810
/// complete responses (sequences 63 then 0; 810 is unsolicited) that it leaves as
/// "Unreassembled fragment 0"; frame 311 holds a one-segment response
/// (sequence 0) that it merges with the orphaned segment of frame 210
/// ("Conflicting data in fragment overlap") and shows as a Confirm with
/// control byte 0x00. The sensor decodes the responses; only the link fields
/// of these frames are compared.
const WRONG_IN_WIRESHARK: &[(&str, &[u64])] =
    &[("icsnpp_dnp3_example.pcap", &[18, 114, 210, 311, 810])];
const WHY_WRONG_IN_WIRESHARK: &str = "Wireshark 4.0 reassembles the application fragment \
     wrongly after the transport sequence wraps from 63 to 0";

/// Why an intermediate link frame has no event of its own.
const WHY_LINK_FRAME_OF_A_LATER_FRAGMENT: &str = "a link frame of a fragment that completes \
     later: the sensor reports its link fields with the fragment, on the completing packet";

/// Functions whose object headers Wireshark 4.0 decodes (checked with
/// tshark 4.0.17 on crafted fragments). It shows none for the others
/// (confirm, freeze at time, restarts, application control, assign class,
/// file information, configuration activation, authentication); the sensor
/// decodes them all.
const WIRESHARK_DECODES_OBJECTS_OF: &[u64] =
    &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 21, 25, 26, 27, 129, 130];

/// Wireshark fields compared. The first five are link fields, which
/// Wireshark shows on the frame of every link frame; the others on the frame
/// that completes an application fragment.
const COMPARED: &[&str] = &[
    "dnp3.src",
    "dnp3.dst",
    "dnp3.ctl.dir",
    "dnp3.ctl.prifunc",
    "dnp3.ctl.secfunc",
    "dnp3.al.func",
    "dnp3.al.iin",
    "dnp3.al.obj",
    "dnp3.al.objq.prefix",
    "dnp3.al.objq.range",
    "dnp3.al.range.start",
    "dnp3.al.range.stop",
    "dnp3.al.range.quantity",
];
const LINK_FIELDS: usize = 5;

fn listed(list: &[(&str, &[u64])], capture: &str, frame: u64) -> bool {
    list.iter()
        .any(|(name, frames)| *name == capture && frames.contains(&frame))
}

/// The event's values of a Wireshark field (several for object fields).
fn ours(event: &Value, wireshark: &str) -> Vec<String> {
    let u = |name: &str| event[name].as_u64();
    let one = |v: Option<u64>| v.map(|v| v.to_string()).into_iter().collect::<Vec<_>>();
    let primary = event["link_primary"].as_bool();
    let function = u("function_code");
    let headers: &[Value] = match function {
        Some(f) if WIRESHARK_DECODES_OBJECTS_OF.contains(&f) => event["object_headers"]
            .as_array()
            .map_or(&[], |v| v.as_slice()),
        _ => &[],
    };
    let per_header = |name: &str| -> Vec<String> {
        headers
            .iter()
            .filter_map(|h| h[name].as_u64())
            .map(|v| v.to_string())
            .collect()
    };
    match wireshark {
        "dnp3.src" => one(u("source")),
        "dnp3.dst" => one(u("destination")),
        "dnp3.ctl.dir" => one(event["link_dir"].as_bool().map(u64::from)),
        "dnp3.ctl.prifunc" if primary == Some(true) => one(u("link_function_code")),
        "dnp3.ctl.secfunc" if primary == Some(false) => one(u("link_function_code")),
        "dnp3.al.func" => one(function),
        "dnp3.al.iin" => u("iin_value")
            .map(|v| format!("0x{v:04x}"))
            .into_iter()
            .collect(),
        // Wireshark shows octet strings (g110, g111) with variation 0: there
        // the variation is the string's length.
        "dnp3.al.obj" => headers
            .iter()
            .map(|h| {
                let group = h["group"].as_u64().unwrap();
                let variation = match group {
                    110 | 111 => 0,
                    _ => h["variation"].as_u64().unwrap(),
                };
                format!("0x{group:02x}{variation:02x}")
            })
            .collect(),
        "dnp3.al.objq.prefix" => per_header("prefix_code"),
        "dnp3.al.objq.range" => per_header("range_code"),
        "dnp3.al.range.start" => per_header("start"),
        "dnp3.al.range.stop" => per_header("stop"),
        "dnp3.al.range.quantity" => per_header("quantity"),
        _ => Vec::new(),
    }
}

/// The link source address of an event, as Wireshark writes it.
fn source(event: &Value) -> Option<String> {
    event["source"].as_u64().map(|s| s.to_string())
}

#[test]
fn dnp3_matches_wireshark_frame_by_frame() {
    let Some(dir) = shared_pcaps("dnp3") else {
        return;
    };
    let mut agreement = Agreement::new("dnp3");
    let mut fragments_compared = 0;
    for capture in captures_in(&dir) {
        let name = capture.file_name().unwrap().to_string_lossy().into_owned();
        let stem = capture.file_stem().unwrap().to_string_lossy().into_owned();
        let replay = replay(&[&capture], &[]);
        let events = replay.events();
        if !capture
            .with_file_name(format!("{stem}.tshark.json"))
            .exists()
        {
            eprintln!("{name}: no oracle, replayed only ({} events)", events.len());
            continue;
        }
        agreement.capture(&capture);
        let oracle = Oracle::for_capture(&capture);
        let by_packet = events_by_packet(&events, "dnp3");
        let theirs = oracle.records("dnp3");
        let mut mismatches = Vec::new();
        let mut intermediate = 0;

        for frame in either_frames(&theirs, &by_packet) {
            let record = theirs.get(&frame);
            // Events for bytes that are not a link frame have no Wireshark counterpart.
            let decoded: Vec<&Value> = by_packet.get(&frame).map_or(Vec::new(), |es| {
                es.iter()
                    .copied()
                    .filter(|e| e["function"] != "invalid")
                    .collect()
            });
            let by_design = match record {
                // Bytes that are not DNP3 link frames: Wireshark shows TCP data, the
                // sensor reports them as a DNP3 anomaly rather than dropping them.
                None if decoded.is_empty() => continue,
                None => {
                    mismatches.push(format!(
                        "frame {frame}: otsensor decodes DNP3 where Wireshark does not"
                    ));
                    None
                }
                Some(_) if listed(DECODED_ONLY_BY_WIRESHARK, &name, frame) => {
                    if !decoded.is_empty() {
                        mismatches.push(format!("frame {frame}: listed as Wireshark-only"));
                    }
                    Some(WHY_DECODED_ONLY_BY_WIRESHARK)
                }
                // A link frame whose segment starts or continues a fragment that
                // completes later: the sensor reports its link fields with the
                // fragment, on the completing packet.
                Some(record) if decoded.is_empty() && !record.contains_key("dnp3.al.func") => {
                    let src = field_values(record, "dnp3.src");
                    let covered = events.iter().any(|e| {
                        let first = e["first_packet"].as_u64().unwrap_or(u64::MAX);
                        let packet = e["packet"].as_u64().unwrap();
                        first <= frame
                            && frame < packet
                            && src.iter().all(|s| Some(s.as_str()) == source(e).as_deref())
                    });
                    if covered {
                        intermediate += 1;
                    } else {
                        mismatches.push(format!(
                            "frame {frame}: link frame in no reassembled fragment"
                        ));
                    }
                    covered.then_some(WHY_LINK_FRAME_OF_A_LATER_FRAGMENT)
                }
                Some(_) => None,
            };
            let wrong_in_wireshark = listed(WRONG_IN_WIRESHARK, &name, frame);
            for (i, field) in COMPARED.iter().enumerate() {
                let expected = record.map_or(Vec::new(), |r| field_values(r, field));
                let got: Vec<String> = decoded.iter().flat_map(|e| ours(e, field)).collect();
                let by_design = if wrong_in_wireshark && i >= LINK_FIELDS {
                    let response = matches!(got.as_slice(), [f] if f == "129" || f == "130");
                    if *field == "dnp3.al.func" && !response {
                        mismatches.push(format!("frame {frame}: not a wrapped response"));
                    }
                    Some(WHY_WRONG_IN_WIRESHARK)
                } else {
                    by_design
                };
                mismatches.extend(agreement.compare(frame, field, &expected, &got, by_design));
            }
            if record.is_some() {
                fragments_compared += decoded.len();
            }
        }

        // Every frame Wireshark finds malformed is an event with anomalies.
        for frame in oracle.json["malformed_frames"].as_array().unwrap() {
            let frame = frame.as_u64().unwrap();
            let flagged = by_packet
                .get(&frame)
                .is_some_and(|es| es.iter().any(|e| e["anomalies"].is_array()));
            if !flagged {
                mismatches.push(format!(
                    "frame {frame}: malformed for Wireshark, no anomaly here"
                ));
            }
        }

        eprintln!(
            "{name}: {} Wireshark frames, {} covered by a later fragment",
            theirs.len(),
            intermediate
        );
        assert!(
            mismatches.is_empty(),
            "{name}:\n  {}",
            mismatches.join("\n  ")
        );
    }
    assert!(
        fragments_compared >= 1000,
        "only {fragments_compared} fragments compared"
    );
}

// ---------------------------------------------------------------- UDP

fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
}

/// An Ethernet/IPv4/UDP frame from `src` to `dst`, both on port 20000.
fn udp_frame(src: [u8; 4], dst: [u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut udp = Vec::new();
    udp.extend_from_slice(&20000u16.to_be_bytes()); // source port
    udp.extend_from_slice(&20000u16.to_be_bytes()); // destination port
    udp.extend_from_slice(&(8 + payload.len() as u16).to_be_bytes()); // length
    udp.extend_from_slice(&[0, 0]); // no checksum
    udp.extend_from_slice(payload);
    let mut ip = vec![
        0x45, 0x00, // version 4, header 20 bytes; DSCP
        0, 0, // total length (below)
        0x00, 0x01, 0x00, 0x00, // id, no fragmentation
        64, 17, // TTL, UDP
        0, 0, // checksum (below)
    ];
    ip[2..4].copy_from_slice(&(20 + udp.len() as u16).to_be_bytes());
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    let sum = checksum(&ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    let mut frame = vec![
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, // destination MAC
        0x00, 0x66, 0x77, 0x88, 0x99, 0xAA, // source MAC
        0x08, 0x00, // IPv4
    ];
    frame.extend_from_slice(&ip);
    frame.extend_from_slice(&udp);
    frame
}

#[test]
fn dnp3_over_udp_through_the_pipeline() {
    const MASTER: [u8; 4] = [10, 0, 0, 1];
    const OUTSTATION: [u8; 4] = [10, 0, 0, 2];
    // Master 1 → outstation 10: read class 1 (sequence 3), and a link status
    // request in the same datagram.
    let mut first = link::build(0xC4, 10, 1, &[0xC0, 0xC3, 0x01, 0x3C, 0x02, 0x06]);
    first.extend(link::build(0xC9, 10, 1, &[]));
    // The response: 100 analog inputs (g30v4), in two link frames of two datagrams.
    let mut fragment = vec![0xC3, 0x81, 0x00, 0x00, 0x1E, 0x04, 0x00, 0x00, 0x63];
    fragment.extend(std::iter::repeat_n(0u8, 200));
    let (head, tail) = fragment.split_at(150);
    let part1 = link::build(0x44, 1, 10, &[[0x40].as_slice(), head].concat());
    let part2 = link::build(0x44, 1, 10, &[[0x81].as_slice(), tail].concat());
    let datagrams = [
        (MASTER, OUTSTATION, first),
        (OUTSTATION, MASTER, part1),
        (OUTSTATION, MASTER, part2),
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dnp3_udp.pcap");
    let mut writer = PcapWriter::new(Vec::new(), 1, false, false).unwrap();
    for (i, (src, dst, payload)) in datagrams.iter().enumerate() {
        let frame = udp_frame(*src, *dst, payload);
        let ts = Timestamp::from_secs(1_700_000_000 + i as i64);
        writer.packet(ts, &frame, frame.len() as u32).unwrap();
    }
    std::fs::write(&path, writer.into_inner()).unwrap();

    let events = replay(&[Path::new(&path)], &[]).events();
    let summary: Vec<(u64, &str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["packet"].as_u64().unwrap(),
                e["function"].as_str().unwrap(),
                e["class"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (1, "read", "read"),
            (1, "link_request_link_status", "session"),
            (3, "response", "read"),
        ]
    );
    for e in &events {
        assert_eq!(e["transport"], "udp");
        assert_eq!(e["protocol"], "dnp3");
    }
    let response = &events[2];
    assert_eq!(response["link_frames"], 2);
    assert_eq!(response["first_packet"], 2);
    assert_eq!(response["request_packet"], 1);
    assert_eq!(response["objects"], serde_json::json!(["g30v4"]));
    assert!(response.get("anomalies").is_none());
}
