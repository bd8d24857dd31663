//! PROFINET against Wireshark on every capture of `../shared/pcaps/profinet/`,
//! through the whole pipeline:
//!
//! - DCP frame by frame: every field the oracle has (`pn_dcp.*`).
//! - RT: the sensor summarises cyclic and PTCP frames instead of reporting
//!   each, so the check is that the summaries account for every frame
//!   Wireshark lists (per sender, receiver and frame id), that each summary's
//!   frame count is the number of such frames between its first and last
//!   packet, and that its first and last cycle counters and transfer status
//!   are those of these frames. DCP and alarm frames are one event each.
//! - PN-IO CM frame by frame, against Wireshark 4.0.17's reading of
//!   `profinet_io_cm_mixed_2.pcapng` (the oracle file lacks it: its display
//!   filter `pn_rt || pn_io || pn_ptcp` does not match the DCE/RPC frames).

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::Value;

/// `pn_dcp.*` fields compared, each with the event's value of it.
const DCP_COMPARED: &[&str] = &[
    "pn_dcp.service_id",
    "pn_dcp.service_type",
    "pn_dcp.xid",
    "pn_dcp.option",
    "pn_dcp.suboption_device_nameofstation",
    "pn_dcp.suboption_device_devicevendorvalue",
    "pn_dcp.suboption_vendor_id",
    "pn_dcp.suboption_device_id",
    "pn_dcp.suboption_device_role",
    "pn_dcp.suboption_ip_ip",
    "pn_dcp.suboption_device_aliasname",
];

/// A Wireshark value as a number (`0x002a` or `42`), else the text.
fn normal(value: &str) -> String {
    value
        .strip_prefix("0x")
        .and_then(|hex| u64::from_str_radix(hex, 16).ok())
        .map_or_else(|| value.to_string(), |n| n.to_string())
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The event's values of a Wireshark DCP field.
fn dcp_ours(event: &Value, wireshark: &str) -> Vec<String> {
    let one = |name: &str| text(&event[name]).into_iter().collect();
    match wireshark {
        "pn_dcp.service_id" => one("service_id"),
        "pn_dcp.service_type" => one("service_type"),
        "pn_dcp.xid" => one("xid"),
        // Wireshark lists the option of every block, and those a device
        // options block names.
        "pn_dcp.option" => event["blocks"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|b| {
                let inner = b["options"].as_array().into_iter().flatten();
                std::iter::once(&b["option"]).chain(inner.map(|o| &o["option"]))
            })
            .filter_map(text)
            .collect(),
        "pn_dcp.suboption_device_nameofstation" => one("name_of_station"),
        "pn_dcp.suboption_device_devicevendorvalue" => one("type_of_station"),
        "pn_dcp.suboption_vendor_id" => one("vendor_id"),
        "pn_dcp.suboption_device_id" => one("device_id"),
        "pn_dcp.suboption_device_role" => one("device_role"),
        "pn_dcp.suboption_ip_ip" => one("ip"),
        "pn_dcp.suboption_device_aliasname" => one("alias_name"),
        other => panic!("no comparison for {other}"),
    }
}

#[test]
fn dcp_matches_wireshark_frame_by_frame() {
    let Some(dir) = shared_pcaps("profinet") else {
        return;
    };
    let mut agreement = Agreement::new("profinet_dcp");
    let mut compared = 0;
    for capture in captures_in(&dir) {
        agreement.capture(&capture);
        let oracle = Oracle::for_capture(&capture);
        let events = replay(&[&capture], &[]).events();
        let ours = events_by_packet(&events, "profinet_dcp");
        let theirs = oracle.records("profinet_dcp");
        let name = capture.file_name().unwrap().to_string_lossy().into_owned();
        let mut mismatches = Vec::new();
        for frame in either_frames(&theirs, &ours) {
            let record = theirs.get(&frame);
            let decoded = ours.get(&frame).map_or(&[][..], Vec::as_slice);
            match (record, decoded) {
                (None, _) => mismatches.push(format!("frame {frame}: DCP for otsensor only")),
                (Some(_), [_]) => compared += 1,
                (Some(_), _) => {
                    mismatches.push(format!("frame {frame}: not one profinet_dcp event"));
                }
            }
            for field in DCP_COMPARED {
                let expected: Vec<String> = record
                    .map_or(Vec::new(), |r| field_values(r, field))
                    .iter()
                    .map(|v| normal(v))
                    .collect();
                let got: Vec<String> = decoded.iter().flat_map(|e| dcp_ours(e, field)).collect();
                mismatches.extend(agreement.compare(frame, field, &expected, &got, None));
            }
        }
        assert!(
            mismatches.is_empty(),
            "{name}:\n  {}",
            mismatches.join("\n  ")
        );
    }
    assert!(compared >= 23, "only {compared} DCP frames compared");
}

#[test]
fn dcp_set_ip_is_control_with_the_new_address() {
    let Some(dir) = shared_pcaps("profinet") else {
        return;
    };
    let events = replay(&[&dir.join("profinet_dcp_change_ip.pcap")], &[]).events();
    let set = events
        .iter()
        .find(|e| e["function"] == "set" && e["is_response"] == false)
        .expect("a DCP set request");
    assert_eq!(set["class"], "control");
    assert_eq!(set["readdress"], true);
    assert_eq!(set["ip"], "192.168.0.10");
    assert_eq!(set["netmask"], "255.255.255.0");
    assert_eq!(set["gateway"], "192.168.0.1");
    // The device answers for the block it was asked to set, without error.
    let answer = events
        .iter()
        .find(|e| e["function"] == "set" && e["is_response"] == true)
        .unwrap();
    assert_eq!(answer["class"], "control");
    assert_eq!(answer["blocks"][0]["result_name"], "ip_parameter");
    assert_eq!(answer["blocks"][0]["block_error"], 0);
    // Before, the device described itself with its old address.
    let identify = events.iter().find(|e| e["packet"] == 2).unwrap();
    assert_eq!(identify["class"], "discovery");
    assert_eq!(identify["ip"], "192.168.0.6");
    assert_eq!(identify["identity"]["station_name"], "X208-BORD");
    assert_eq!(identify["identity"]["product"], "INC");
    assert_eq!(identify["identity"]["vendor_id"], 0x2a);
    assert_eq!(identify["identity"]["device_type"], "PROFINET IO device");
}

/// (sender, receiver, frame id).
type Conn = (String, String, u64);

fn conn_of(event: &Value) -> Conn {
    (
        event["src_mac"].as_str().unwrap().to_string(),
        event["dst_mac"].as_str().unwrap().to_string(),
        event["frame_id"].as_u64().unwrap(),
    )
}

/// Why a frame inside a summary has no cycle counter or transfer status.
const WHY_SUMMARISED: &str = "summarised: an RT summary gives the cycle counter of its \
     first and last frame and the transfer status of its last, not each frame's";

#[test]
fn rt_summaries_account_for_every_frame() {
    let Some(dir) = shared_pcaps("profinet") else {
        return;
    };
    let mut agreement = Agreement::new("profinet_rt");
    let mut summaries = 0;
    for capture in captures_in(&dir) {
        agreement.capture(&capture);
        let name = capture.file_name().unwrap().to_string_lossy().into_owned();
        let oracle = Oracle::for_capture(&capture);
        let records = oracle.records("profinet_rt_io");
        let frames: BTreeMap<u64, (Conn, &serde_json::Map<String, Value>)> = records
            .iter()
            .filter_map(|(frame, r)| {
                let id = field_values(r, "pn_rt.frame_id").first()?.parse().ok()?;
                let conn = (
                    r["eth.src"].as_str()?.to_string(),
                    r["eth.dst"].as_str()?.to_string(),
                    id,
                );
                Some((*frame, (conn, *r)))
            })
            .collect();
        let mut expected: BTreeMap<Conn, u64> = BTreeMap::new();
        for (conn, _) in frames.values() {
            *expected.entry(conn.clone()).or_default() += 1;
        }
        let events = replay(&[&capture], &[]).events();
        let rt: Vec<&Value> = events
            .iter()
            .filter(|e| matches!(e["protocol"].as_str(), Some("profinet_rt" | "profinet_dcp")))
            .collect();
        let mut counted: BTreeMap<Conn, u64> = BTreeMap::new();
        let mut mismatches = Vec::new();
        for e in &rt {
            let packet = e["packet"].as_u64().unwrap();
            let conn = conn_of(e);
            let n = e["frames"].as_u64().unwrap_or(1);
            *counted.entry(conn.clone()).or_default() += n;
            let Some(first) = e["first_packet"].as_u64() else {
                continue;
            };
            summaries += 1;
            // The summary's frames are exactly the connection's frames in [first, packet].
            let inside: Vec<u64> = frames
                .range(first..=packet)
                .filter(|(_, (c, _))| *c == conn)
                .map(|(f, _)| *f)
                .collect();
            if inside.len() as u64 != n || inside.first() != Some(&first) {
                mismatches.push(format!(
                    "packet {packet}: {n} frames from {first}, Wireshark lists {inside:?}"
                ));
            }
        }
        // Frame by frame, the event that accounts for the frame: its own, or
        // the summary among whose packets it is. A summary gives the cycle
        // counter of its first and last frame, the transfer status of its last.
        for (&frame, (conn, record)) in &frames {
            let event = rt.iter().find(|e| {
                let packet = e["packet"].as_u64().unwrap();
                let first = e["first_packet"].as_u64().unwrap_or(packet);
                (first..=packet).contains(&frame) && conn_of(e) == *conn
            });
            let at = |end: &str, name: &str| {
                event
                    .filter(|e| e[end] == frame)
                    .and_then(|e| e[name].as_u64())
            };
            let mut cycle_counter = vec![
                at("first_packet", "cycle_counter_first"),
                at("packet", "cycle_counter"),
            ];
            cycle_counter.dedup();
            for (field, values) in [
                (
                    "pn_rt.frame_id",
                    vec![event.and_then(|e| e["frame_id"].as_u64())],
                ),
                ("pn_rt.cycle_counter", cycle_counter),
                (
                    "pn_rt.transfer_status",
                    vec![at("packet", "transfer_status")],
                ),
            ] {
                let got: Vec<String> = values.iter().flatten().map(u64::to_string).collect();
                let by_design = (event.is_some() && got.is_empty()).then_some(WHY_SUMMARISED);
                let expected = field_values(record, field);
                mismatches.extend(agreement.compare(frame, field, &expected, &got, by_design));
            }
        }
        eprintln!("{name}: RT frames per (sender, receiver, frame id): {counted:?}");
        if counted != expected {
            mismatches.push(format!(
                "frames per connection: otsensor {counted:?}, Wireshark {expected:?}"
            ));
        }
        assert!(
            mismatches.is_empty(),
            "{name}:\n  {}",
            mismatches.join("\n  ")
        );
    }
    assert!(summaries >= 45, "only {summaries} summaries checked");
}

/// Wireshark 4.0.17 on the DCE/RPC frames of `profinet_io_cm_mixed_2.pcapng`
/// (`tshark -T fields -E occurrence=a` of the fields below; lists space
/// separated): frame, `pn_io.opnum`, `pn_io.ar_type`,
/// `pn_io.cminitiator_station_name`, `pn_io.block_type`, `pn_io.api`,
/// `pn_io.slot_nr`, `pn_io.subslot_nr`, `pn_io.module_ident_number`.
/// `pn_io.ar_uuid` is 7c74224e-166c-4a58-bf6b-6c25a75870f0 in every frame.
const PNIO_WIRESHARK: &[[&str; 9]] = &[
    [
        "459",
        "0",
        "",
        "pc-worx-rt-basic-6d-d3-43",
        "0x0101 0x0102 0x0102 0x0104 0x0104 0x0103",
        "0x00000000 0x00000000 0x00000000 0x00000000",
        "0x0000 0x0000 0x0000 0x0000 0x0000 0x0001 0x0000 0x0001 0x0000 0x0000 0x0000 0x0000 0x0000 0x0001",
        "0x0001 0x8000 0x8001 0x8002 0x0001 0x0001 0x0001 0x0001 0x0001 0x8000 0x8001 0x8002 0x0001 0x0002 0x0003 0x8000 0x8001 0x8002 0x0001",
        "0x00000001 0xffff8140",
    ],
    [
        "463",
        "0",
        "0x0001",
        "",
        "0x8101 0x8102 0x8102 0x8103 0x8104",
        "0x00000000",
        "0x0000 0x0001",
        "0x0002 0x0001",
        "0x00000001 0xffff8140",
    ],
    [
        "479",
        "3",
        "",
        "",
        "0x0008 0x0008 0x0008 0x0008",
        "0x00000000 0x00000000 0x00000000 0x00000000",
        "0x0000 0x0000 0x0001 0x0001",
        "0x0001 0x0001 0x0001 0x0001",
        "",
    ],
    [
        "480",
        "3",
        "",
        "",
        "0x8008 0x8008 0x8008 0x8008",
        "0x00000000 0x00000000 0x00000000 0x00000000",
        "0x0000 0x0000 0x0001 0x0001",
        "0x0001 0x0001 0x0001 0x0001",
        "",
    ],
    ["496", "4", "", "", "0x0110", "", "", "", ""],
    ["500", "4", "", "", "0x8110", "", "", "", ""],
    [
        "503",
        "4",
        "",
        "",
        "0x0112 0x8104",
        "0x00000000",
        "0x0000 0x0001",
        "0x0002 0x0001",
        "0x00000001 0xffff8140",
    ],
    ["519", "4", "", "", "0x8112", "", "", "", ""],
    [
        "547",
        "2",
        "",
        "",
        "0x0009",
        "0x00000000",
        "0x0000",
        "0x0000",
        "",
    ],
    [
        "548",
        "2",
        "",
        "",
        "0x8009 0x0400 0x0240 0x0400 0x020f 0x0400 0x020f",
        "0x00000000 0x00000000 0x00000000 0x00000000",
        "0x0000 0x0000 0x0000 0x0000 0x0000 0x0000",
        "0x0000 0x8000 0x8001 0x8001 0x8002 0x8002",
        "",
    ],
    ["557", "1", "", "", "0x0114", "", "", "", ""],
    ["559", "1", "", "", "0x8114", "", "", "", ""],
];

const PNIO_FIELDS: &[&str] = &[
    "pn_io.opnum",
    "pn_io.ar_type",
    "pn_io.cminitiator_station_name",
    "pn_io.block_type",
    "pn_io.api",
    "pn_io.slot_nr",
    "pn_io.subslot_nr",
    "pn_io.module_ident_number",
];

/// Lists of an event's blocks in Wireshark's order: (api, slot, subslot,
/// module ident number).
fn pnio_lists(event: &Value) -> [Vec<String>; 4] {
    let mut lists: [Vec<String>; 4] = Default::default();
    let [api, slot, subslot, module] = &mut lists;
    let push = |list: &mut Vec<String>, v: &Value| list.extend(text(v));
    for block in event["blocks"].as_array().into_iter().flatten() {
        let items = |name: &str| block[name].as_array().cloned().unwrap_or_default();
        // IOCR: per API, the IO data objects then the IOCSs.
        for a in items("apis").iter().filter(|a| !a["io_data"].is_null()) {
            push(api, &a["api"]);
            for o in a["io_data"]
                .as_array()
                .unwrap()
                .iter()
                .chain(a["iocs"].as_array().unwrap())
            {
                push(slot, &o["slot"]);
                push(subslot, &o["subslot"]);
            }
        }
        // Module diff: per API, modules and their submodules.
        for a in items("apis").iter().filter(|a| !a["modules"].is_null()) {
            push(api, &a["api"]);
            for m in a["modules"].as_array().unwrap() {
                push(slot, &m["slot"]);
                push(module, &m["module_ident_number"]);
                for s in m["submodules"].as_array().unwrap() {
                    push(subslot, &s["subslot"]);
                }
            }
        }
        // Expected submodules: one API per module.
        for m in items("modules") {
            push(api, &m["api"]);
            push(slot, &m["slot"]);
            push(module, &m["module_ident_number"]);
            for s in m["submodules"].as_array().unwrap() {
                push(subslot, &s["subslot"]);
            }
        }
        // Read/write headers, multiple block headers, port data.
        if block["apis"].is_null() && block["modules"].is_null() {
            push(api, &block["api"]);
            push(slot, &block["slot"]);
            push(subslot, &block["subslot"]);
        }
    }
    lists
}

/// The event's values of a Wireshark PN-IO field.
fn pnio_values(event: &Value, field: &str) -> Vec<String> {
    let [api, slot, subslot, module] = pnio_lists(event);
    let one = |name: &str| text(&event[name]).into_iter().collect();
    match field {
        "pn_io.opnum" => one("opnum"),
        "pn_io.ar_type" => one("ar_type"),
        "pn_io.cminitiator_station_name" => one("station_name"),
        "pn_io.block_type" => event["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|b| text(&b["block_type"]))
            .collect(),
        "pn_io.api" => api,
        "pn_io.slot_nr" => slot,
        "pn_io.subslot_nr" => subslot,
        "pn_io.module_ident_number" => module,
        other => panic!("no comparison for {other}"),
    }
}

/// Why the AR type of a connect request differs.
const WHY_AR_TYPE_REQ: &str = "Wireshark 4.0 files the ARType of an ARBlockReq under the \
     label-only pn_io.artype_req, with no value";

#[test]
fn pnio_cm_matches_wireshark_frame_by_frame() {
    let Some(dir) = shared_pcaps("profinet") else {
        return;
    };
    let events = replay(&[&dir.join("profinet_io_cm_mixed_2.pcapng")], &[]).events();
    let ours = events_by_packet(&events, "profinet_io");
    let mut mismatches = Vec::new();
    let mut agreement = Agreement::new("profinet_io");
    agreement.capture(&dir.join("profinet_io_cm_mixed_2.pcapng"));
    for row in PNIO_WIRESHARK {
        let frame: u64 = row[0].parse().unwrap();
        let decoded = ours.get(&frame).map_or(&[][..], Vec::as_slice);
        if decoded.len() != 1 {
            mismatches.push(format!("frame {frame}: not one profinet_io event"));
        }
        for (i, field) in PNIO_FIELDS.iter().enumerate() {
            let expected: Vec<String> = row[i + 1].split_whitespace().map(normal).collect();
            let got: Vec<String> = decoded.iter().flat_map(|e| pnio_values(e, field)).collect();
            // Wireshark 4.0 files the ARType of an ARBlockReq under the
            // label-only `pn_io.artype_req`: no value to compare on requests.
            let request = decoded.iter().any(|e| e["packet_type"] == 0);
            let by_design = (*field == "pn_io.ar_type" && request).then_some(WHY_AR_TYPE_REQ);
            mismatches.extend(agreement.compare(frame, field, &expected, &got, by_design));
        }
        // Wireshark adds the conversation's AR UUID to every frame, besides
        // the one each block carries: one value, every time.
        for event in decoded {
            if event["ar_uuid"] != "7c74224e-166c-4a58-bf6b-6c25a75870f0" {
                mismatches.push(format!("frame {frame}: ar_uuid {}", event["ar_uuid"]));
            }
        }
    }
    let extra: Vec<&u64> = ours
        .keys()
        .filter(|f| !PNIO_WIRESHARK.iter().any(|r| r[0] == f.to_string()))
        .collect();
    assert!(
        extra.is_empty(),
        "profinet_io events Wireshark lacks: {extra:?}"
    );
    assert!(mismatches.is_empty(), "\n  {}", mismatches.join("\n  "));

    // The request's AR type, which Wireshark shows but files under no value.
    assert_eq!(ours[&459][0]["ar_type"], 1);
    assert_eq!(ours[&459][0]["ar_type_name"], "iocar_single");
}

#[test]
fn station_names_of_the_mixed_capture() {
    let Some(dir) = shared_pcaps("profinet") else {
        return;
    };
    let events = replay(&[&dir.join("profinet_io_cm_mixed_2.pcapng")], &[]).events();
    let names = |protocol: &str, field: &str| {
        let mut names: Vec<&str> = events
            .iter()
            .filter(|e| e["protocol"] == protocol)
            .filter_map(|e| e[field].as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    };
    // DCP identify requests name the station they look for.
    assert_eq!(
        names("profinet_dcp", "name_of_station"),
        [
            "flm-pn-bk-2tx4",
            "siemens-x208-switch",
            "turck",
            "versamax-pns11"
        ]
    );
    // The IO controller names itself in its connect request.
    assert_eq!(
        names("profinet_io", "station_name"),
        ["pc-worx-rt-basic-6d-d3-43"]
    );
    let by_packet = |p: u64| events.iter().find(|e| e["packet"] == p).unwrap();
    // The identify response: the device describes itself.
    let response = by_packet(440);
    assert_eq!(response["identity"]["station_name"], "versamax-pns11");
    assert_eq!(response["identity"]["product"], "IC200PNS001");
    assert_eq!(response["identity"]["vendor_id"], 0x015a);
    assert_eq!(response["identity"]["product_code"], "0x0003");
    assert_eq!(response["identity"]["device_type"], "PROFINET IO device");
    // The connect request: the controller describes itself.
    let connect = by_packet(459);
    assert_eq!(
        connect["identity"]["station_name"],
        "pc-worx-rt-basic-6d-d3-43"
    );
    assert_eq!(connect["identity"]["vendor_id"], 0x00b0);
    assert_eq!(connect["identity"]["device_type"], "PROFINET IO controller");
    // The PDRealData read response: the device's own chassis id.
    assert_eq!(by_packet(548)["identity"]["station_name"], "versamax-pns11");
    // Identify requests describe nobody.
    assert!(by_packet(438)["identity"].is_null());
}

#[test]
fn inventory_learns_profinet_station_names() {
    let Some(dir) = shared_pcaps("profinet") else {
        return;
    };
    let run = replay(&[&dir.join("profinet_io_cm_mixed_2.pcapng")], &[]);
    let assets = std::fs::read_to_string(run.dir.path().join("assets.json")).unwrap();
    assert!(assets.contains("versamax-pns11"), "{assets}");
    assert!(assets.contains("pc-worx-rt-basic-6d-d3-43"), "{assets}");
}
