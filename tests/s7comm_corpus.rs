//! S7comm and S7comm-plus against Wireshark, frame by frame, through the whole
//! pipeline, on every capture of `../shared/pcaps/s7comm/` and
//! `../shared/pcaps/s7commplus/` (whose Linux cooked capture also carries
//! S7comm).
//!
//! S7comm: every field the `.tshark.json` oracle has (ROSCTR, error class and
//! code, function, item count, each item's area, DB, address and transport
//! size, userdata type, function group and sub-function, SZL id and index),
//! per PDU, as lists when a frame holds several. S7comm-plus: Wireshark 4.0
//! has no dissector; the oracle's records come from the raw COTP payload
//! (protocol id, version, data length; opcode and function for versions 1 and
//! 2) and are compared the same way. The identity the sensor reads from SZL
//! answers is checked against the strings `tshark -V` shows.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use serde_json::Value;

/// S7comm fields compared: the Wireshark name, and how to read the event's
/// values of it (one per PDU, or per item).
const S7COMM_FIELDS: &[&str] = &[
    "s7comm.header.rosctr",
    "s7comm.header.errcls",
    "s7comm.header.errcod",
    "s7comm.param.func",
    "s7comm.param.itemcount",
    "s7comm.param.item.area",
    "s7comm.param.item.db",
    "s7comm.param.item.address",
    "s7comm.param.item.transp_size",
    "s7comm.param.userdata.type",
    "s7comm.param.userdata.funcgroup",
    "s7comm.param.userdata.subfunc",
    "s7comm.data.userdata.szl_id",
    "s7comm.data.userdata.szl_index",
];

fn hex(width: usize, v: Option<u64>) -> Option<String> {
    v.map(|v| format!("0x{v:0width$x}"))
}

fn dec(v: Option<u64>) -> Option<String> {
    v.map(|v| v.to_string())
}

/// The event's values of a Wireshark S7comm field, formatted as tshark does.
fn s7comm_values(event: &Value, field: &str) -> Vec<String> {
    let u = |name: &str| event[name].as_u64();
    // Item fields: Wireshark shows them for the S7ANY items of a request (a
    // read/write job or a cyclic transfer request). Answers carry their
    // request's items; those are the sensor's own addition.
    let request = event["rosctr"] == 1 || (event["rosctr"] == 7 && event["userdata_type"] != 8);
    let items = || {
        let list = event["items"].as_array().filter(|_| request);
        list.into_iter()
            .flatten()
            .filter(|i| i["syntax_id"] == 0x10)
            .collect::<Vec<_>>()
    };
    let per_item = |name: &str, fmt: fn(Option<u64>) -> Option<String>| {
        items()
            .into_iter()
            .filter_map(|i| fmt(i[name].as_u64()))
            .collect()
    };
    let one = |v: Option<String>| v.into_iter().collect();
    match field {
        "s7comm.header.rosctr" => one(dec(u("rosctr"))),
        "s7comm.header.errcls" => one(hex(2, u("error_class"))),
        "s7comm.header.errcod" => one(hex(2, u("error_code"))),
        "s7comm.param.func" => one(hex(2, u("function_code"))),
        "s7comm.param.itemcount" => one(dec(u("item_count"))),
        "s7comm.param.item.area" => per_item("area", |v| hex(2, v)),
        "s7comm.param.item.db" => per_item("db", dec),
        "s7comm.param.item.address" => per_item("address", |v| hex(6, v)),
        "s7comm.param.item.transp_size" => per_item("transport_size", dec),
        "s7comm.param.userdata.type" => one(dec(u("userdata_type"))),
        "s7comm.param.userdata.funcgroup" => one(dec(u("userdata_group"))),
        "s7comm.param.userdata.subfunc" => one(dec(u("userdata_subfunction"))),
        "s7comm.data.userdata.szl_id" => one(hex(4, u("szl_id"))),
        "s7comm.data.userdata.szl_index" => one(hex(4, u("szl_index"))),
        other => panic!("no mapping for {other}"),
    }
}

/// S7comm-plus oracle fields (numbers) and the event fields that hold them.
const S7COMMPLUS_FIELDS: &[(&str, &str)] = &[
    ("version", "version"),
    ("data_length", "data_length"),
    ("opcode", "opcode"),
    ("function", "function_code"),
];

/// A numeric oracle field of a record, as a list.
fn oracle_numbers(record: &serde_json::Map<String, Value>, name: &str) -> Vec<String> {
    match record.get(name) {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().map(|v| v.to_string()).collect(),
        Some(v) => vec![v.to_string().trim_matches('"').to_string()],
    }
}

struct Report {
    s7comm: Agreement,
    s7commplus: Agreement,
    mismatches: Vec<String>,
    pdus: usize,
}

fn name(capture: &Path) -> String {
    capture.file_name().unwrap().to_string_lossy().into_owned()
}

/// Compares the S7comm events of one capture with its oracle.
fn compare_s7comm(capture: &Path, events: &[Value], oracle: &Oracle, report: &mut Report) {
    let name = name(capture);
    let ours = events_by_packet(events, "s7comm");
    let theirs = oracle.records("s7comm");
    report.s7comm.capture(capture);
    for frame in either_frames(&theirs, &ours) {
        let record = theirs.get(&frame);
        let decoded = ours.get(&frame).map_or(&[][..], Vec::as_slice);
        let both = (record.is_some(), !decoded.is_empty());
        if let Some(m) = decoded_by_one(frame, "S7comm", both.0, both.1) {
            report.mismatches.push(format!("{name} {m}"));
        }
        if record.is_some() {
            report.pdus += decoded.len();
        }
        for field in S7COMM_FIELDS {
            let expected = record.map_or(Vec::new(), |r| field_values(r, field));
            let got: Vec<String> = decoded
                .iter()
                .flat_map(|e| s7comm_values(e, field))
                .collect();
            if let Some(m) = report.s7comm.compare(frame, field, &expected, &got, None) {
                report.mismatches.push(format!("{name} {m}"));
            }
        }
    }
}

/// Where the oracle's raw-byte reading of S7comm-plus and the sensor's
/// decoding differ by design, the reason.
fn by_design(field: &str, expected: &[String], events: &[&Value]) -> Option<&'static str> {
    let any = |f: &dyn Fn(&Value) -> bool| events.iter().any(|e| f(e));
    let opcode_or_function = matches!(field, "opcode" | "function");
    if opcode_or_function && any(&|e| e["version"] == 3) {
        // The oracle reads opcode and function for versions 1 and 2 only; in
        // version 3 they follow the integrity part, where the sensor reads them.
        assert!(expected.is_empty(), "a version 3 oracle record has {field}");
        assert!(
            field == "function" || events.iter().all(|e| e["opcode"].is_u64()),
            "no opcode read after the digest"
        );
        return Some(
            "version 3: the sensor reads opcode and function after the integrity part; \
             the oracle reads them for versions 1 and 2 only",
        );
    }
    if opcode_or_function && any(&|e| matches!(e["fragment"].as_str(), Some("inner" | "last"))) {
        // A continuation fragment's data is the middle of a telegram: the oracle
        // reads its octets as a header, the sensor carries the first fragment's.
        return Some("fragment continuation: the first fragment's opcode/function");
    }
    if field == "function" && any(&|e| !matches!(e["opcode"].as_u64(), Some(0x31 | 0x32 | 0x02))) {
        // Only requests and responses have a function code: in a notification
        // octets 7-8 belong to its subscription header.
        return Some("notification or unknown opcode: no function code");
    }
    if field == "data_length" && any(&|e| e["version"] == 0xff) {
        // A keep-alive has no data length: octets 2-3 are a sequence number and a reserved octet.
        return Some("keep-alive: no data length");
    }
    None
}

/// Compares the S7comm-plus events of one capture with its oracle.
fn compare_s7commplus(capture: &Path, events: &[Value], oracle: &Oracle, report: &mut Report) {
    let name = name(capture);
    let ours = events_by_packet(events, "s7commplus");
    let theirs = oracle.records("s7commplus");
    report.s7commplus.capture(capture);
    for frame in either_frames(&theirs, &ours) {
        let record = theirs.get(&frame);
        let decoded = ours.get(&frame).map_or(&[][..], Vec::as_slice);
        if decoded.is_empty() {
            report.mismatches.push(format!(
                "{name} frame {frame}: the oracle has S7comm-plus, otsensor does not"
            ));
        }
        if record.is_none() {
            report.mismatches.push(format!(
                "{name} frame {frame}: otsensor decodes S7comm-plus, the oracle does not"
            ));
        } else {
            report.pdus += decoded.len();
        }
        let expected = |field| record.map_or(Vec::new(), |r| oracle_numbers(r, field));
        // Every event of this protocol is a TSDU starting with the protocol id.
        let ids: Vec<String> = decoded.iter().map(|_| "114".to_string()).collect();
        let mut compared = vec![("proto_id", expected("proto_id"), ids, None)];
        for (theirs_name, ours_name) in S7COMMPLUS_FIELDS {
            let expected = expected(theirs_name);
            let got: Vec<String> = decoded
                .iter()
                .filter_map(|e| e[*ours_name].as_u64())
                .map(|v| v.to_string())
                .collect();
            let reason = by_design(theirs_name, &expected, decoded);
            compared.push((theirs_name, expected, got, reason));
        }
        for (field, expected, got, reason) in compared {
            if let Some(m) = report
                .s7commplus
                .compare(frame, field, &expected, &got, reason)
            {
                report.mismatches.push(format!("{name} {m}"));
            }
        }
    }
}

#[test]
fn s7comm_and_s7commplus_match_wireshark_frame_by_frame() {
    let mut report = Report {
        s7comm: Agreement::new("s7comm"),
        s7commplus: Agreement::new("s7commplus"),
        mismatches: Vec::new(),
        pdus: 0,
    };
    let mut captures = 0;
    for folder in ["s7comm", "s7commplus"] {
        let Some(dir) = shared_pcaps(folder) else {
            return;
        };
        for capture in captures_in(&dir) {
            let oracle = Oracle::for_capture(&capture);
            let events = replay(&[&capture], &[]).events();
            compare_s7comm(&capture, &events, &oracle, &mut report);
            compare_s7commplus(&capture, &events, &oracle, &mut report);
            captures += 1;
        }
    }
    assert!(
        report.mismatches.is_empty(),
        "{} mismatches:\n  {}",
        report.mismatches.len(),
        report.mismatches.join("\n  ")
    );
    assert_eq!(captures, 5);
    assert!(report.pdus >= 400, "only {} PDUs compared", report.pdus);
}

/// What the sensor must read from the SZL answers, as `tshark -V` shows them:
/// (capture, frame, field, value). The order number is Wireshark's MlfB with
/// its padding trimmed; the firmware is Wireshark's index 0x0007 `Ausbg`
/// 22019 (0x5603: 'V', 3) and `Ausbe` 518 (0x0206: 2, 6) or 519 read as a
/// version; the hardware is index 0x0006's `Ausbg`; the product is the module
/// type name (`Cputypname`), the station name the PLC name, the serial
/// `Serialn`, the vendor id `Manufacturer_id` 0x002a.
const IDENTITIES: &[(&str, &str, u64, &str, &str)] = &[
    (
        "s7comm",
        "icsnpp_s7ident.pcap",
        11,
        "order_number",
        "6ES7 315-2EH14-0AB0",
    ),
    ("s7comm", "icsnpp_s7ident.pcap", 11, "firmware", "V3.2.6"),
    ("s7comm", "icsnpp_s7ident.pcap", 11, "hardware", "4"),
    (
        "s7comm",
        "icsnpp_s7ident.pcap",
        13,
        "serial",
        "S C-C2UR28922012",
    ),
    (
        "s7comm",
        "icsnpp_s7ident.pcap",
        13,
        "product",
        "CPU 315-2 PN/DP",
    ),
    (
        "s7comm",
        "icsnpp_s7ident.pcap",
        13,
        "station_name",
        "SNAP7-SERVER",
    ),
    ("s7comm", "icsnpp_s7ident.pcap", 13, "vendor_id", "42"),
    ("s7comm", "icsnpp_s7ident.pcap", 13, "vendor", "Siemens"),
    (
        "s7comm",
        "snap7_s300_everything.pcap",
        4,
        "order_number",
        "6ES7 315-2EH14-0AB0",
    ),
    (
        "s7comm",
        "snap7_s300_everything.pcap",
        4,
        "firmware",
        "V3.2.7",
    ),
    ("s7comm", "snap7_s300_everything.pcap", 4, "hardware", "3"),
    (
        "s7comm",
        "snap7_s300_everything.pcap",
        8,
        "serial",
        "S C-B1U393142011",
    ),
    (
        "s7comm",
        "snap7_s300_everything.pcap",
        8,
        "product",
        "CPU 315-2 PN/DP",
    ),
    (
        "s7comm",
        "snap7_s300_everything.pcap",
        8,
        "station_name",
        "S7300/ET200M station_1",
    ),
    (
        "s7comm",
        "s7comm_reading_plc_status.pcap",
        59,
        "order_number",
        "6ES7 151-8AB01-0AB0",
    ),
    (
        "s7comm",
        "s7comm_reading_plc_status.pcap",
        72,
        "serial",
        "S C-C6TW74882012",
    ),
    (
        "s7comm",
        "s7comm_reading_plc_status.pcap",
        72,
        "product",
        "IM151-8 PN/DP CPU",
    ),
    (
        "s7comm",
        "s7comm_reading_plc_status.pcap",
        72,
        "station_name",
        "IM151-8-CPU",
    ),
];

#[test]
fn szl_identity_matches_what_wireshark_shows() {
    let mut by_capture: BTreeMap<(&str, &str), Vec<Value>> = BTreeMap::new();
    for &(folder, file, frame, field, expected) in IDENTITIES {
        let Some(dir) = shared_pcaps(folder) else {
            return;
        };
        let events = by_capture
            .entry((folder, file))
            .or_insert_with(|| replay(&[&dir.join(file)], &[]).events());
        let identity = events
            .iter()
            .find(|e| e["packet"] == frame && e["protocol"] == "s7comm")
            .map(|e| &e["identity"])
            .unwrap_or_else(|| panic!("{file} frame {frame}: no S7comm event"));
        let got = match &identity[field] {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => panic!("{file} frame {frame}: identity.{field} is {other}"),
        };
        assert_eq!(got, expected, "{file} frame {frame}: identity.{field}");
    }
    // Identity only on the PLC's answers.
    for ((_, file), events) in &by_capture {
        for e in events.iter().filter(|e| !e["identity"].is_null()) {
            assert_eq!(e["is_response"], true, "{file} packet {}", e["packet"]);
        }
    }
}

/// `identity.module_name` is SZL xy1C index 0x0002, "Name of the module"
/// (`PLC_1` in snap7_s300_everything frame 8), as tshark reads it now
/// (`s7comm.szl.001c.0002.name`; the stored oracles do not list SZL record
/// fields): frame by frame, on every S7comm event of every capture.
#[test]
fn module_name_is_wiresharks_szl_module_name() {
    let Some(dir) = shared_pcaps("s7comm") else {
        return;
    };
    let mut compared = 0;
    for capture in captures_in(&dir) {
        let Some(theirs) = tshark_fields(&capture, "s7comm.szl.001c.0002.name") else {
            return;
        };
        let run = replay(&[&capture], &[]);
        let events = run.events();
        let ours: BTreeMap<u64, String> = events
            .iter()
            .filter(|e| e["protocol"] == "s7comm")
            .filter_map(|e| {
                let name = e["identity"]["module_name"].as_str()?;
                Some((e["packet"].as_u64().unwrap(), name.to_string()))
            })
            .collect();
        let name = capture.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(ours, theirs, "{name}: module names by frame");
        compared += theirs.len();
        // The inventory keeps it on the PLC that said it.
        let assets: Value = serde_json::from_str(
            &std::fs::read_to_string(run.dir.path().join("assets.json")).unwrap(),
        )
        .unwrap();
        for (frame, module) in &theirs {
            let sender = &events
                .iter()
                .find(|e| e["packet"] == *frame && e["protocol"] == "s7comm")
                .unwrap()["src_ip"];
            let asset = assets["assets"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["ips"].as_array().unwrap().contains(sender))
                .unwrap_or_else(|| panic!("{name}: no asset for {sender}"));
            let kept = &asset["identity"]["module_name"];
            assert_eq!(kept["value"], module.as_str(), "{name}: {sender}");
            assert_eq!(kept["source"], "s7comm", "{name}: {sender}");
        }
    }
    // One per capture: snap7's PLC_1, icsnpp's and plc_status's module names.
    assert!(compared >= 3, "only {compared} module names compared");
}

/// The non-empty values tshark gives `field` in each frame of `capture`, or
/// `None` (with the reason printed) where tshark cannot be run.
fn tshark_fields(capture: &Path, field: &str) -> Option<BTreeMap<u64, String>> {
    let output = match std::process::Command::new("tshark")
        .arg("-r")
        .arg(capture)
        .args(["-T", "fields", "-e", "frame.number", "-e", field])
        .output()
    {
        Ok(output) if output.status.success() => output,
        Ok(output) => panic!(
            "tshark failed on {}: {}",
            capture.display(),
            stderr(&output)
        ),
        Err(e) => {
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "SKIPPED: cannot run tshark: {e}");
            return None;
        }
    };
    let text = String::from_utf8(output.stdout).unwrap();
    Some(
        text.lines()
            .filter_map(|line| {
                let (frame, value) = line.split_once('\t')?;
                (!value.is_empty()).then(|| (frame.parse().unwrap(), value.to_string()))
            })
            .collect(),
    )
}
