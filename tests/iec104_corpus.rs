//! IEC 60870-5-104 against Wireshark, frame by frame, on every capture of
//! `../shared/pcaps/iec104/`, through the whole pipeline: which frames carry
//! APDUs and, per APDU, every field Wireshark's reading has (APDU length,
//! APCI format, U function, sequence numbers, and the ASDU's type, VSQ,
//! cause, test bit, originator and common addresses and object addresses).

mod common;

use common::*;
use serde_json::Value;

/// Wireshark fields compared, each with the event's value of it (one per APDU, when it has one).
const COMPARED: &[&str] = &[
    "iec60870_104.apdulen",
    "iec60870_104.type",
    "iec60870_104.utype",
    "iec60870_104.tx",
    "iec60870_104.rx",
    "iec60870_asdu.typeid",
    "iec60870_asdu.sq",
    "iec60870_asdu.numix",
    "iec60870_asdu.causetx",
    "iec60870_asdu.test",
    "iec60870_asdu.oa",
    "iec60870_asdu.addr",
    "iec60870_asdu.ioa",
];

/// The event's values of a Wireshark field, as tshark prints them.
fn ours(event: &Value, wireshark: &str) -> Vec<String> {
    let number = |name: &str| event[name].as_u64().map(|n| n.to_string());
    // tshark prints booleans as 0/1.
    let flag = |name: &str| event[name].as_bool().map(|b| u8::from(b).to_string());
    let one = match wireshark {
        "iec60870_104.apdulen" => number("apdu_length"),
        "iec60870_104.type" => event["apci_type"].as_str().map(|t| {
            let code = match t {
                "I" => 0,
                "S" => 1,
                "U" => 3,
                other => panic!("apci_type {other}"),
            };
            format!("0x{code:08x}")
        }),
        // A U-frame's function code is its utype.
        "iec60870_104.utype" if event["apci_type"] == "U" => event["function_code"]
            .as_u64()
            .map(|code| format!("0x{code:08x}")),
        "iec60870_104.tx" => number("tx"),
        "iec60870_104.rx" => number("rx"),
        "iec60870_asdu.typeid" => number("type_id"),
        "iec60870_asdu.sq" => flag("sq"),
        "iec60870_asdu.numix" => number("num_objects"),
        "iec60870_asdu.causetx" => number("cause"),
        "iec60870_asdu.test" => flag("test"),
        "iec60870_asdu.oa" => number("originator_address"),
        "iec60870_asdu.addr" => number("common_address"),
        "iec60870_asdu.ioa" => {
            return event["ioa"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|ioa| ioa.as_u64().unwrap().to_string())
                .collect();
        }
        _ => None,
    };
    one.into_iter().collect()
}

/// An event for bytes that are not an APDU (Wireshark shows them as a
/// prefix of the next APDU, or as plain data).
fn is_skipped_bytes(event: &Value) -> bool {
    event["function"] == "invalid" && !event["skipped_bytes"].is_null()
}

#[test]
fn iec104_matches_wireshark_frame_by_frame() {
    let Some(dir) = shared_pcaps("iec104") else {
        return;
    };
    let mut agreement = Agreement::new("iec104");
    let mut apdus_compared = 0;
    let mut malformed_checked = 0;
    for capture in captures_in(&dir) {
        let name = capture.file_name().unwrap().to_string_lossy().into_owned();
        let events = replay(&[&capture], &[]).events();
        let by_packet = events_by_packet(&events, "iec104");
        let stem = capture.file_stem().unwrap().to_string_lossy().into_owned();
        if !capture
            .with_file_name(format!("{stem}.tshark.json"))
            .exists()
        {
            // No oracle: replaying without failure is all that is checked.
            continue;
        }
        agreement.capture(&capture);
        let oracle = Oracle::for_capture(&capture);
        let theirs = oracle.records("iec104");
        let mut mismatches = Vec::new();
        for frame in either_frames(&theirs, &by_packet) {
            let record = theirs.get(&frame);
            // Bytes that are not an APDU: Wireshark holds them as the prefix
            // of the APDU that follows; the sensor reports them where they are.
            let decoded: Vec<&Value> = by_packet.get(&frame).map_or(Vec::new(), |es| {
                es.iter()
                    .copied()
                    .filter(|e| !is_skipped_bytes(e))
                    .collect()
            });
            mismatches.extend(decoded_by_one(
                frame,
                "IEC 104",
                record.is_some(),
                !decoded.is_empty(),
            ));
            if record.is_some() {
                apdus_compared += decoded.len();
            }
            for field in COMPARED {
                let expected = record.map_or(Vec::new(), |r| field_values(r, field));
                let got: Vec<String> = decoded.iter().flat_map(|e| ours(e, field)).collect();
                mismatches.extend(agreement.compare(frame, field, &expected, &got, None));
            }
        }
        // Every frame Wireshark calls malformed is an APDU event with anomalies.
        for frame in oracle.json["malformed_frames"].as_array().unwrap() {
            let frame = frame.as_u64().unwrap();
            let flagged = by_packet.get(&frame).is_some_and(|es| {
                es.iter()
                    .any(|e| !is_skipped_bytes(e) && e["anomalies"].as_array().is_some())
            });
            if !flagged {
                mismatches.push(format!(
                    "frame {frame}: malformed for Wireshark, no APDU event with anomalies"
                ));
            }
            malformed_checked += 1;
        }
        assert!(
            mismatches.is_empty(),
            "{name}:\n  {}",
            mismatches.join("\n  ")
        );
    }
    // Every APDU of both oracles (86 + 69).
    assert_eq!(apdus_compared, 155, "APDUs compared");
    assert_eq!(malformed_checked, 9, "malformed frames checked");
}

/// What the clean capture must say beyond Wireshark's fields: no sequence
/// or session anomaly on a well-behaved connection, and the values.
#[test]
fn iec104_diverse_capture_values_and_sequences() {
    let Some(dir) = shared_pcaps("iec104") else {
        return;
    };
    let events = replay(&[&dir.join("iec104_090813_diverse.pcap")], &[]).events();
    let iec: Vec<&Value> = events
        .iter()
        .filter(|e| e["protocol"] == "iec104")
        .collect();
    assert_eq!(iec.len(), 86);
    for e in &iec {
        // The client writes CP56Time2a years as years since 1900 (109 for
        // 2009): out of range, and the only anomaly of this capture.
        let anomalies = e["anomalies"].as_array().map_or(Vec::new(), Clone::clone);
        assert!(
            anomalies.is_empty() || anomalies == [Value::from("invalid_time")],
            "packet {}: {anomalies:?}",
            e["packet"]
        );
    }
    let by_packet = events_by_packet(&events, "iec104");
    // Frame 1: M_ME_NC_1, two short floats.
    let first = by_packet[&1][0];
    assert_eq!(first["type"], "M_ME_NC_1");
    assert_eq!(first["class"], "read");
    assert_eq!(first["values"][0]["value"], 30.0);
    assert_eq!(first["values"][1]["value"], 708.0);
    // Frame 11: C_SC_TA_1 activation confirmation, select, with its time.
    let confirm = by_packet[&11][0];
    assert_eq!(confirm["function"], "single_command_cp56");
    assert_eq!(confirm["class"], "control");
    assert_eq!(confirm["cause_name"], "activation_con");
    assert_eq!(confirm["select"], true);
    assert_eq!(confirm["values"][0]["time"], "2009-08-13T19:23:00.008Z");
    // Frame 73: general interrogation.
    let gi = by_packet[&73][0];
    assert_eq!(gi["function"], "interrogation");
    assert_eq!(gi["class"], "read");
    assert_eq!(gi["values"][0]["qualifier"], 20);
}

/// `utype` is the name of the U function whose number Wireshark shows as
/// `iec60870_104.utype` (and the event as `function_code`): for every U-frame
/// of every capture, our name mapped to its number is Wireshark's value. A
/// U-frame whose bits name no single function (0x05 in the Wireshark test
/// capture) has no `utype`, only its `function_code`.
#[test]
fn utype_names_are_wiresharks_u_functions() {
    let Some(dir) = shared_pcaps("iec104") else {
        return;
    };
    // IEC 60870-5-104 section 5.3: the U-format control field bits.
    const NUMBERS: &[(&str, u64)] = &[
        ("startdt_act", 0x01),
        ("startdt_con", 0x02),
        ("stopdt_act", 0x04),
        ("stopdt_con", 0x08),
        ("testfr_act", 0x10),
        ("testfr_con", 0x20),
    ];
    let (mut named, mut unnamed) = (0, 0);
    for capture in captures_in(&dir) {
        let name = capture.file_name().unwrap().to_string_lossy().into_owned();
        let oracle = Oracle::for_capture(&capture);
        let events = replay(&[&capture], &[]).events();
        let by_packet = events_by_packet(&events, "iec104");
        for (frame, record) in oracle.records("iec104") {
            let expected: Vec<u64> = field_values(record, "iec60870_104.utype")
                .iter()
                .map(|hex| u64::from_str_radix(hex.trim_start_matches("0x"), 16).unwrap())
                .collect();
            let u_frames: Vec<&Value> = by_packet
                .get(&frame)
                .into_iter()
                .flatten()
                .copied()
                .filter(|e| e["apci_type"] == "U")
                .collect();
            let got: Vec<u64> = u_frames
                .iter()
                .map(|e| match e["utype"].as_str() {
                    Some(utype) => {
                        named += 1;
                        NUMBERS
                            .iter()
                            .find(|(n, _)| *n == utype)
                            .unwrap_or_else(|| panic!("{name} frame {frame}: utype {utype}"))
                            .1
                    }
                    None => {
                        unnamed += 1;
                        let code = e["function_code"].as_u64().unwrap();
                        assert!(
                            NUMBERS.iter().all(|(_, n)| *n != code),
                            "{name} frame {frame}: U function {code} without its name"
                        );
                        code
                    }
                })
                .collect();
            assert_eq!(got, expected, "{name} frame {frame}: U functions");
        }
    }
    // 30 named U-frames in the two oracles, and one with STARTDT and STOPDT act.
    assert_eq!((named, unnamed), (30, 1), "U-frames compared");
}
