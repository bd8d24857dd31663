//! EtherNet/IP and CIP against Wireshark, frame by frame, on every capture of
//! `../shared/pcaps/enip/`, through the whole pipeline: which frames carry
//! EtherNet/IP and, per frame, every field Wireshark's reading has.
//!
//! Wireshark lists a frame's values in dissection order: the encapsulation
//! fields once per encapsulation message, then the CIP fields of the
//! message and of each service embedded in it (a Multiple Service Packet's
//! container first, then its services). The sensor gives one event per CIP
//! message, container first, so the frame's list is the events' values in
//! order: encapsulation fields from the top-level events (those without
//! `parent_service`), CIP fields from every `cip` event but implicit I/O.
//! Responses carry their request's path, as Wireshark's do.

mod common;

use common::*;
use std::collections::BTreeMap;

use serde_json::Value;

/// Wireshark fields compared; values are compared as numbers (Wireshark
/// writes 8-bit class ids as `0x02` and 16-bit ones as `0x2420`).
const COMPARED: &[&str] = &[
    "enip.command",
    "enip.session",
    "enip.status",
    "enip.cpf.typeid",
    "enip.cpf.cai.connid",
    "cip.sc",
    "cip.rr",
    "cip.class",
    "cip.instance",
    "cip.attribute",
    "cip.genstat",
    "enip.lir.vendor",
    "enip.lir.devtype",
    "enip.lir.prodcode",
    "enip.lir.revision",
    "enip.lir.serial",
    "enip.lir.state",
];

/// Text fields compared as they are.
const COMPARED_TEXT: &[&str] = &["enip.lir.name", "cip.symbol"];

fn top_level(event: &Value) -> bool {
    event.get("parent_service").is_none()
}

fn is_io(event: &Value) -> bool {
    event["function"] == "implicit_io"
}

/// The events' values of a numeric Wireshark field, in frame order.
fn ours(events: &[&Value], wireshark: &str) -> Vec<u64> {
    let top = events.iter().filter(|e| top_level(e));
    // Explicit CIP messages (implicit I/O has no service).
    let cip = events
        .iter()
        .filter(|e| e["protocol"] == "cip" && !is_io(e));
    let device = |name: &'static str| {
        top.clone()
            .filter_map(move |e| e["device"][name].as_u64())
            .collect::<Vec<u64>>()
    };
    let num = |e: &&&Value, name: &str| e[name].as_u64();
    match wireshark {
        "enip.command" => top.filter_map(|e| num(&e, "command")).collect(),
        "enip.session" => top.filter_map(|e| num(&e, "session")).collect(),
        "enip.status" => top
            .filter_map(|e| match e["protocol"].as_str() {
                Some("cip") => num(&e, "encapsulation_status"),
                _ => num(&e, "status"),
            })
            .collect(),
        "enip.cpf.typeid" => top
            .flat_map(|e| e["items"].as_array().cloned().unwrap_or_default())
            .filter_map(|v| v.as_u64())
            .collect(),
        // I/O carries its connection id in a sequenced address item (`sai`).
        "enip.cpf.cai.connid" => top
            .filter(|e| !is_io(e))
            .filter_map(|e| num(&e, "connection_id"))
            .collect(),
        "cip.sc" => cip.filter_map(|e| num(&e, "service")).collect(),
        "cip.rr" => cip.map(|e| u64::from(e["is_response"] == true)).collect(),
        "cip.class" => cip.filter_map(|e| num(&e, "class_id")).collect(),
        "cip.instance" => cip.filter_map(|e| num(&e, "instance")).collect(),
        // The path's attribute, then those of a Get/Set_Attribute_List.
        "cip.attribute" => cip
            .flat_map(|e| {
                let list = e["attributes"].as_array().cloned().unwrap_or_default();
                num(&e, "attribute")
                    .into_iter()
                    .chain(list.into_iter().filter_map(|v| v.as_u64()))
            })
            .collect(),
        "cip.genstat" => cip.filter_map(|e| num(&e, "status")).collect(),
        "enip.lir.vendor" => device("vendor_id"),
        "enip.lir.devtype" => device("device_type"),
        "enip.lir.prodcode" => device("product_code"),
        // Major in the high byte, as Wireshark reads the two bytes.
        "enip.lir.revision" => top
            .filter_map(|e| {
                let d = &e["device"];
                Some(d["revision_major"].as_u64()? << 8 | d["revision_minor"].as_u64()?)
            })
            .collect(),
        "enip.lir.serial" => device("serial_number"),
        "enip.lir.state" => device("state"),
        other => panic!("no mapping for {other}"),
    }
}

fn ours_text(events: &[&Value], wireshark: &str) -> Vec<String> {
    match wireshark {
        "enip.lir.name" => events
            .iter()
            .filter(|e| top_level(e))
            .filter_map(|e| e["device"]["product_name"].as_str())
            .map(str::to_string)
            .collect(),
        // Wireshark lists each symbol segment; the sensor joins them.
        "cip.symbol" => events
            .iter()
            .filter(|e| e["protocol"] == "cip")
            .filter_map(|e| e["tag"].as_str())
            .flat_map(|tag| {
                tag.split('.')
                    .map(|s| s.split('[').next().unwrap_or(s).to_string())
            })
            .collect(),
        other => panic!("no mapping for {other}"),
    }
}

fn number(text: &str) -> u64 {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).unwrap(),
        None => text.parse().unwrap(),
    }
}

#[test]
fn enip_matches_wireshark_frame_by_frame() {
    let Some(dir) = shared_pcaps("enip") else {
        return;
    };
    let mut agreement = Agreement::new("enip");
    let mut identities = 0;
    for capture in captures_in(&dir) {
        agreement.capture(&capture);
        let name = capture.file_name().unwrap().to_string_lossy().into_owned();
        let oracle = Oracle::for_capture(&capture);
        let events = replay(&[&capture], &[]).events();
        // Both protocols, in emission order within each packet.
        let mut by_packet: BTreeMap<u64, Vec<&Value>> = BTreeMap::new();
        for event in events
            .iter()
            .filter(|e| e["protocol"] == "enip" || e["protocol"] == "cip")
        {
            let packet = event["packet"].as_u64().unwrap();
            by_packet.entry(packet).or_default().push(event);
        }
        let theirs = oracle.records("enip_cip");
        let mut mismatches = Vec::new();
        for frame in either_frames(&theirs, &by_packet) {
            let record = theirs.get(&frame);
            let decoded = by_packet.get(&frame).map_or(&[][..], Vec::as_slice);
            let (theirs, ours_too) = (record.is_some(), !decoded.is_empty());
            mismatches.extend(decoded_by_one(frame, "EtherNet/IP", theirs, ours_too));
            let expected = |field| record.map_or(Vec::new(), |r| field_values(r, field));
            for field in COMPARED {
                let expected: Vec<u64> = expected(field).iter().map(|v| number(v)).collect();
                let got = ours(decoded, field);
                mismatches.extend(agreement.compare(frame, field, &expected, &got, None));
            }
            for field in COMPARED_TEXT {
                let got = ours_text(decoded, field);
                mismatches.extend(agreement.compare(frame, field, &expected(field), &got, None));
            }
        }
        for event in &events {
            if event["protocol"] == "enip" || event["protocol"] == "cip" {
                assert!(
                    event.get("anomalies").is_none(),
                    "{name}: unexpected anomalies in {event}"
                );
                if event.get("identity").is_some() {
                    identities += 1;
                }
            }
        }
        assert!(
            mismatches.is_empty(),
            "{name}:\n  {}",
            mismatches.join("\n  ")
        );
    }
    let (_, sc) = agreement.tally("cip.sc");
    assert!(sc >= 802, "only {sc} frames with CIP compared");
    assert_eq!(identities, 1, "one ListIdentity reply in the corpus");
}

/// The ListIdentity reply of the icsnpp example: the 1756-ENBT/A's identity,
/// as the asset inventory receives it.
#[test]
fn list_identity_reply_gives_the_enbt_identity() {
    let Some(dir) = shared_pcaps("enip") else {
        return;
    };
    let events = replay(&[&dir.join("icsnpp_enip_cip_example.pcap")], &[]).events();
    let reply = events
        .iter()
        .find(|e| e["function"] == "list_identity" && e["is_response"] == true)
        .expect("a ListIdentity reply");
    assert_eq!(reply["packet"], 372);
    assert_eq!(reply["src_ip"], "10.1.1.164");
    let identity = &reply["identity"];
    assert_eq!(identity["vendor_id"], 1);
    assert_eq!(identity["vendor"], "Rockwell Automation/Allen-Bradley");
    assert_eq!(identity["product"], "1756-ENBT/A");
    assert_eq!(identity["product_code"], "58");
    assert_eq!(identity["serial"], "0x00524d8e");
    // Wireshark shows the revision as "4.03".
    assert_eq!(identity["firmware"], "4.03");
    assert_eq!(identity["device_type"], "Communications Adapter");
    // Wireshark: Socket Address sin_addr 10.1.1.164, sin_port 44818;
    // Status: 0x0030; State 3 (the oracle's enip.lir.state).
    assert_eq!(identity["socket_address"], "10.1.1.164:44818");
    assert_eq!(identity["device_status"], "0x0030");
    assert_eq!(identity["device_state"], "3");
    let device = &reply["device"];
    assert_eq!(device["socket_address"], "10.1.1.164:44818");
    assert_eq!(device["state"], 3);
}

/// Implicit I/O on UDP 2222: every datagram is an event with its connection
/// id and sequence number (the capture has no Forward Open to link them to).
#[test]
fn implicit_io_packets_carry_connection_and_sequence() {
    let Some(dir) = shared_pcaps("enip") else {
        return;
    };
    let events = replay(&[&dir.join("icsnpp_enip_cip_example.pcap")], &[]).events();
    let io: Vec<&Value> = events
        .iter()
        .filter(|e| e["function"] == "implicit_io")
        .collect();
    assert_eq!(io.len(), 398);
    let first = io[0];
    assert_eq!(first["packet"], 377);
    assert_eq!(first["connection_id"], 0x004b_0603);
    assert_eq!(first["sequence"], 4_166_875);
    assert_eq!(first["transport"], "udp");
    assert!(io.iter().all(|e| e.get("io").is_none()));
}
