//! Modbus/TCP against Wireshark, frame by frame, on every capture of
//! `../shared/pcaps/modbus/`, through the whole pipeline: which frames carry
//! Modbus and, per PDU, every field Wireshark's reading has (transaction and
//! unit ids, length, function and exception codes, addresses and counts,
//! MEI type, device identification objects, and the request a response answers).

mod common;

use common::*;
use serde_json::Value;

/// Frames where the sensor decodes Modbus and Wireshark, by design, does not.
///
/// Wireshark takes the highest sequence number seen so far as the stream's
/// position, so the forged segment in frame 12 of this fuzzed capture
/// (sequence number 131153) makes it call the server's next real responses
/// retransmissions and skip them. The sensor reassembles within a window and
/// decodes them: one injected segment must not blind it to what follows.
const DECODED_ONLY_BY_US: &[(&str, u64)] = &[
    ("zeek_modbus_fuzz72.pcap", 19),
    ("zeek_modbus_fuzz72.pcap", 21),
];
const WHY_DECODED_ONLY_BY_US: &str = "a forged segment (frame 12) makes Wireshark take \
     the server's next real responses for retransmissions and skip them";

/// Wireshark fields compared, each with the event's value of it (one per PDU, when it has one).
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

/// The event's value of a Wireshark field, where Wireshark shows that field.
fn ours(event: &Value, wireshark: &str) -> Option<u64> {
    let field = |name: &str| event[name].as_u64();
    let response = event["is_response"] == true;
    let exception = !event["exception_code"].is_null();
    let read_write = field("function_code") == Some(23);
    match wireshark {
        "mbtcp.trans_id" => field("transaction_id"),
        "mbtcp.unit_id" => field("unit_id"),
        "mbtcp.len" => field("length"),
        "modbus.func_code" => field("function_code"),
        "modbus.exception_code" => field("exception_code"),
        // Exception responses carry their request's MEI type and request packet; Wireshark's do not.
        "modbus.mei" if !exception => field("mei_type"),
        "modbus.request_frame" if !exception => field("request_packet"),
        "modbus.read_device_id" => field("read_device_id_code"),
        // Responses echo an address only for single and multiple writes.
        "modbus.reference_num" if response && !exception => match field("function_code") {
            Some(5 | 6 | 15 | 16 | 22) => field("address"),
            _ => None,
        },
        "modbus.reference_num" if !response && !read_write => field("address"),
        "modbus.read_reference_num" if !response && read_write => field("address"),
        "modbus.write_reference_num" if !response && read_write => field("write_address"),
        "modbus.read_word_cnt" if !response && read_write => field("quantity"),
        "modbus.write_word_cnt" if !response && read_write => field("write_quantity"),
        _ => None,
    }
}

/// The basic device identification objects, by object id.
const NAMED_OBJECTS: &[&str] = &[
    "vendor_name",
    "product_code",
    "major_minor_revision",
    "vendor_url",
    "product_name",
    "model_name",
    "user_application_name",
];

/// The device identification objects of an event, in object id order.
fn objects(event: &Value) -> Vec<String> {
    let device = &event["device_id"];
    let named = NAMED_OBJECTS
        .iter()
        .filter_map(|name| device[name].as_str());
    let other = device["other_objects"].as_array().into_iter().flatten();
    named
        .chain(other.map(|o| o["value"].as_str().unwrap()))
        .map(str::to_string)
        .collect()
}

#[test]
fn modbus_matches_wireshark_frame_by_frame() {
    let Some(dir) = shared_pcaps("modbus") else {
        return;
    };
    let mut agreement = Agreement::new("modbus");
    let mut pdus_compared = 0;
    for capture in captures_in(&dir) {
        agreement.capture(&capture);
        let oracle = Oracle::for_capture(&capture);
        let events = replay(&[&capture], &[]).events();
        let by_packet = events_by_packet(&events, "modbus");
        let theirs = oracle.records("modbus");
        let name = capture.file_name().unwrap().to_string_lossy().into_owned();
        let mut mismatches = Vec::new();
        for frame in either_frames(&theirs, &by_packet) {
            let record = theirs.get(&frame);
            let events = by_packet.get(&frame).map_or(&[][..], Vec::as_slice);
            // Events for bytes that cannot be an MBAP header have no Wireshark counterpart.
            let decoded: Vec<&Value> = events
                .iter()
                .copied()
                .filter(|e| !e["function_code"].is_null())
                .collect();
            // Bytes that cannot be an MBAP header: Wireshark shows plain TCP data,
            // the sensor reports them as a Modbus anomaly rather than dropping them.
            let only_invalid_framing = events.iter().all(|e| {
                e["function_code"].is_null() && e["anomalies"][0] == "invalid_mbap_header"
            });
            let ours_only = DECODED_ONLY_BY_US.contains(&(name.as_str(), frame));
            if record.is_some() && decoded.is_empty() {
                mismatches.push(format!(
                    "frame {frame}: Wireshark decodes Modbus, otsensor does not"
                ));
            }
            if record.is_none() && !only_invalid_framing && !ours_only {
                mismatches.push(format!(
                    "frame {frame}: otsensor decodes Modbus where Wireshark does not"
                ));
            }
            let by_design = (record.is_none() && ours_only).then_some(WHY_DECODED_ONLY_BY_US);
            let theirs = |field| record.map_or(Vec::new(), |r| field_values(r, field));
            for field in COMPARED {
                let got: Vec<String> = decoded
                    .iter()
                    .filter_map(|e| ours(e, field))
                    .map(|v| v.to_string())
                    .collect();
                mismatches.extend(agreement.compare(frame, field, &theirs(field), &got, by_design));
            }
            let field = "modbus.object_str_value";
            let got_objects: Vec<String> = decoded.iter().flat_map(|e| objects(e)).collect();
            mismatches.extend(agreement.compare(
                frame,
                field,
                &theirs(field),
                &got_objects,
                by_design,
            ));
            if record.is_some() {
                pdus_compared += decoded.len();
            }
        }
        assert!(
            mismatches.is_empty(),
            "{name}:\n  {}",
            mismatches.join("\n  ")
        );
    }
    assert!(pdus_compared >= 346, "only {pdus_compared} PDUs compared");
}
