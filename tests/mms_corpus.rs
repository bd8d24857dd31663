//! IEC 61850 MMS against Wireshark, frame by frame, through the whole
//! pipeline, on every capture of `../shared/pcaps/mms/`.
//!
//! Every field the `.tshark.json` oracles have for MMS is compared with the
//! values of the `mms` events of the same frame (lists when a frame holds
//! several values): the PDU kind (`mms.*PDU_element`), the invoke id, the
//! confirmed and unconfirmed service numbers, the object class of a
//! GetNameList request, the error class, and the domain and item id of every
//! domain-specific object name in PDU order. The identity read from the
//! identify responses is checked against what `tshark -V` shows, and the frame
//! Wireshark calls malformed must be an event with anomalies.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

/// `pdu_type` values and the Wireshark field that marks each.
const PDU_ELEMENTS: &[(&str, &str)] = &[
    ("confirmed_request", "mms.confirmed_RequestPDU_element"),
    ("confirmed_response", "mms.confirmed_ResponsePDU_element"),
    ("confirmed_error", "mms.confirmed_ErrorPDU_element"),
    ("reject", "mms.rejectPDU_element"),
    ("initiate_request", "mms.initiate_RequestPDU_element"),
    ("initiate_response", "mms.initiate_ResponsePDU_element"),
    ("initiate_error", "mms.initiate_ErrorPDU_element"),
    ("conclude_request", "mms.conclude_RequestPDU_element"),
    ("conclude_response", "mms.conclude_ResponsePDU_element"),
];

/// Every Wireshark field compared, beside the PDU elements.
const FIELDS: &[&str] = &[
    "mms.invokeID",
    "mms.confirmedServiceRequest",
    "mms.confirmedServiceResponse",
    "mms.unconfirmedService",
    "mms.objectClass",
    "mms.errorClass",
    "mms.domainId",
    "mms.itemId",
];

/// The object names of an event: its `variables` list when it has several,
/// else its top-level name fields.
fn names(event: &Value) -> Vec<&Value> {
    match event["variables"].as_array() {
        Some(list) => list.iter().collect(),
        None => vec![event],
    }
}

/// The event's values of a Wireshark field, formatted as tshark does.
fn values(event: &Value, field: &str) -> Vec<String> {
    let number = |name: &str| event[name].as_u64().map(|v| v.to_string());
    let pdu = event["pdu_type"].as_str().unwrap_or_default();
    let one = |v: Option<String>| v.into_iter().collect::<Vec<_>>();
    if let Some((kind, _)) = PDU_ELEMENTS.iter().find(|(_, f)| *f == field) {
        return one((pdu == *kind).then(|| "1".to_string()));
    }
    match field {
        // A reject's or cancel's invoke id is its original one, not mms.invokeID.
        "mms.invokeID" if matches!(pdu, "confirmed_request" | "confirmed_response") => {
            one(number("invoke_id"))
        }
        "mms.invokeID" if pdu == "confirmed_error" => one(number("invoke_id")),
        "mms.invokeID" => Vec::new(),
        "mms.confirmedServiceRequest" if pdu == "confirmed_request" => one(number("service")),
        "mms.confirmedServiceResponse" if pdu == "confirmed_response" => one(number("service")),
        "mms.confirmedServiceRequest" | "mms.confirmedServiceResponse" => Vec::new(),
        "mms.unconfirmedService" => one(number("unconfirmed_service")),
        "mms.objectClass" => one(number("object_class")),
        "mms.errorClass" => one(number("error_class")),
        "mms.domainId" | "mms.itemId" => {
            let key = if field == "mms.domainId" {
                "domain_id"
            } else {
                "item_id"
            };
            names(event)
                .into_iter()
                .filter_map(|n| n[key].as_str().map(str::to_string))
                .collect()
        }
        other => panic!("no mapping for {other}"),
    }
}

struct Report {
    agreement: Agreement,
    mismatches: Vec<String>,
    pdus: usize,
}

fn compare(capture: &Path, events: &[Value], oracle: &Oracle, report: &mut Report) {
    let name = capture.file_name().unwrap().to_string_lossy().into_owned();
    let ours = events_by_packet(events, "mms");
    let theirs = oracle.records("mms");
    report.agreement.capture(capture);
    for frame in either_frames(&theirs, &ours) {
        let decoded = ours.get(&frame).cloned().unwrap_or_default();
        let record = theirs.get(&frame);
        let fields = PDU_ELEMENTS
            .iter()
            .map(|(_, f)| *f)
            .chain(FIELDS.iter().copied());
        for field in fields {
            let expected = record.map(|r| field_values(r, field)).unwrap_or_default();
            let got: Vec<String> = decoded.iter().flat_map(|e| values(e, field)).collect();
            if let Some(m) = report
                .agreement
                .compare(frame, field, &expected, &got, None)
            {
                report.mismatches.push(format!("{name} {m}"));
            }
        }
        if record.is_some() && decoded.is_empty() {
            report.mismatches.push(format!(
                "{name} frame {frame}: Wireshark decodes MMS, otsensor does not"
            ));
        }
        report.pdus += decoded.len();
    }
    // Every field the oracle has must be one this test compares.
    for record in theirs.values() {
        for key in record.keys().filter(|k| k.starts_with("mms.")) {
            assert!(
                FIELDS.contains(&key.as_str()) || PDU_ELEMENTS.iter().any(|(_, f)| f == key),
                "{name}: oracle field {key} is not compared"
            );
        }
    }
}

#[test]
fn mms_matches_wireshark_frame_by_frame() {
    let Some(dir) = shared_pcaps("mms") else {
        return;
    };
    let mut report = Report {
        agreement: Agreement::new("mms"),
        mismatches: Vec::new(),
        pdus: 0,
    };
    let mut captures = 0;
    for capture in captures_in(&dir) {
        let stem = capture.file_stem().unwrap().to_string_lossy().into_owned();
        let events = replay(&[&capture], &[]).events();
        if capture
            .with_file_name(format!("{stem}.tshark.json"))
            .exists()
        {
            let oracle = Oracle::for_capture(&capture);
            compare(&capture, &events, &oracle, &mut report);
            captures += 1;
        }
    }
    assert!(
        report.mismatches.is_empty(),
        "{} mismatches:\n  {}",
        report.mismatches.len(),
        report.mismatches.join("\n  ")
    );
    assert_eq!(captures, 2);
    assert!(report.pdus >= 168, "only {} PDUs compared", report.pdus);
}

fn events_of(capture: &str) -> Option<Vec<Value>> {
    let dir = shared_pcaps("mms")?;
    Some(replay(&[&dir.join(capture)], &[]).events())
}

fn mms_event(events: &[Value], packet: u64) -> &Value {
    events
        .iter()
        .find(|e| e["packet"] == packet && e["protocol"] == "mms")
        .unwrap_or_else(|| panic!("no mms event in packet {packet}"))
}

#[test]
fn the_frame_wireshark_calls_malformed_is_an_event_with_anomalies() {
    let Some(events) = events_of("iec61850_get_name_list.pcap") else {
        return;
    };
    let dir = shared_pcaps("mms").unwrap();
    let oracle = Oracle::for_capture(&dir.join("iec61850_get_name_list.pcap"));
    let malformed: Vec<u64> = oracle.json["malformed_frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(malformed, [10]);
    // The session ACCEPT whose length runs past the TSDU, with an unknown
    // parameter and an empty user data parameter: no presentation, no MMS.
    let e = mms_event(&events, 10);
    assert_eq!(e["function"], "associate_response");
    assert_eq!(e["spdu_type"], 14);
    let anomalies: Vec<&str> = e["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(
        anomalies,
        [
            "truncated_spdu",
            "unknown_session_parameter",
            "missing_user_data"
        ]
    );
}

#[test]
fn identify_responses_give_the_identity_tshark_shows() {
    let Some(events) = events_of("iec61850_mms_sample.pcap") else {
        return;
    };
    // tshark -V: vendorName "AREVA T&D Corporation", modelName "e-terracomm",
    // revision "2.3.1", in the identify responses of frames 26 and 29 (each
    // side answers the other's identify request).
    for packet in [26, 29] {
        let e = mms_event(&events, packet);
        assert_eq!(e["function"], "identify");
        assert_eq!(e["pdu_type"], "confirmed_response");
        assert_eq!(e["class"], "discovery");
        assert_eq!(e["identity"]["vendor"], "AREVA T&D Corporation");
        assert_eq!(e["identity"]["product"], "e-terracomm");
        assert_eq!(e["identity"]["firmware"], "2.3.1");
    }
    let requests = events
        .iter()
        .filter(|e| e["protocol"] == "mms" && e["pdu_type"] == "confirmed_request");
    assert!(requests.clone().all(|e| e.get("identity").is_none()));
    // Every confirmed response of this capture finds its request.
    for e in events
        .iter()
        .filter(|e| e["protocol"] == "mms" && e["pdu_type"] == "confirmed_response")
    {
        assert!(e["request_packet"].is_u64(), "unpaired: {e}");
        assert!(e.get("anomalies").is_none(), "anomalies: {e}");
    }
    // The writes of this capture name ICCP transfer sets, not control objects.
    let writes: Vec<&Value> = events
        .iter()
        .filter(|e| e["protocol"] == "mms" && e["function"] == "write")
        .collect();
    assert!(!writes.is_empty());
    assert!(writes.iter().all(|e| e["class"] == "write"));
}
