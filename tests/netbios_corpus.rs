//! NetBIOS against Wireshark, frame by frame, on every capture of the shared
//! corpus that holds it (`netbios/`, and the PROFINET, mixed and IEC 104
//! captures): the name service's response flag, opcode, names, types and
//! addresses; the datagram service's type and names; browser announcements'
//! command, server name and OS version. And the host names they give.

mod common;
mod itcorpus;

use itcorpus::*;
use serde_json::{Map, Value};

const COMPARED: &[&str] = &[
    "nbns.flags.response",
    "nbns.flags.opcode",
    "nbns.name",
    "nbns.type",
    "nbns.addr",
    "nbdgm.type",
    "nbdgm.source_name",
    "nbdgm.destination_name",
    "browser.command",
    "browser.server",
    "browser.os_major",
    "browser.os_minor",
];

fn ours(events: &[&Value], field: &str) -> Vec<String> {
    let nbns: Vec<&Value> = events
        .iter()
        .copied()
        .filter(|e| e["protocol"] == "nbns")
        .collect();
    let nbdgm: Vec<&Value> = events
        .iter()
        .copied()
        .filter(|e| e["protocol"] == "nbdgm")
        .collect();
    // Questions, then records, in message order.
    let items = |key: &str| -> Vec<String> {
        nbns.iter()
            .flat_map(|e| {
                ["questions", "records"]
                    .iter()
                    .flat_map(|list| e[*list].as_array().cloned().unwrap_or_default())
                    .collect::<Vec<_>>()
            })
            .map(|i| match &i[key] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect()
    };
    let browser: Vec<&Value> = nbdgm
        .iter()
        .map(|e| &e["browser"])
        .filter(|b| b.is_object())
        .collect();
    let os = |part: usize| -> Vec<String> {
        browser
            .iter()
            .filter_map(|b| b["os_version"].as_str())
            .map(|v| v.split('.').nth(part).unwrap().to_string())
            .collect()
    };
    match field {
        "nbns.flags.response" => nbns
            .iter()
            .filter(|e| e["function_code"].is_u64())
            .map(|e| flag(e["is_response"] == true))
            .collect(),
        "nbns.flags.opcode" => numbers(&nbns, "function_code"),
        "nbns.name" => items("name"),
        "nbns.type" => items("type"),
        "nbns.addr" => nbns
            .iter()
            .flat_map(|e| e["addresses"].as_array().cloned().unwrap_or_default())
            .map(|a| a.as_str().unwrap().to_string())
            .collect(),
        "nbdgm.type" => numbers(&nbdgm, "msg_type"),
        "nbdgm.source_name" => strings(&nbdgm, "source_name"),
        "nbdgm.destination_name" => strings(&nbdgm, "destination_name"),
        "browser.command" => browser
            .iter()
            .filter_map(|b| b["command"].as_u64())
            .map(|c| format!("0x{c:02x}"))
            .collect(),
        "browser.server" => browser
            .iter()
            .filter_map(|b| b["server_name"].as_str().map(str::to_string))
            .collect(),
        "browser.os_major" => os(0),
        "browser.os_minor" => os(1),
        _ => Vec::new(),
    }
}

/// The NetBIOS session service (TCP 139) is not decoded: SMB sessions are
/// not these decoders' business.
fn not_ours(record: &Map<String, Value>) -> Option<&'static str> {
    record
        .contains_key("tcp.srcport")
        .then_some("the NetBIOS session service (TCP 139) is not decoded")
}

/// Wireshark appends the NB service's description to record names
/// (`GUNNAR<00> (Workstation/Redirector)`); the events do not.
fn theirs(field: &str, value: String) -> String {
    match (field, value.split_once(" (")) {
        ("nbns.name", Some((name, _))) if value.ends_with(')') => name.to_string(),
        _ => value,
    }
}

const NETBIOS: Comparison = Comparison {
    family: "netbios",
    protocols: &["nbns", "nbdgm"],
    fields: COMPARED,
    ours,
    not_ours,
    theirs,
};

#[test]
fn netbios_matches_wireshark_frame_by_frame() {
    let Some(captures) = captures_with("netbios") else {
        return;
    };
    let mut frames = 0;
    let mut mismatches = Vec::new();
    for capture in &captures {
        let outcome = compare(capture, &NETBIOS, &[]);
        frames += outcome.frames;
        for event in &outcome.events {
            if event["protocol"] == "nbns" || event["protocol"] == "nbdgm" {
                assert!(event.get("anomalies").is_none(), "{event}");
            }
        }
        mismatches.extend(
            outcome
                .mismatches
                .iter()
                .map(|m| format!("{}: {m}", outcome.capture)),
        );
    }
    assert!(mismatches.is_empty(), "\n  {}", mismatches.join("\n  "));
    assert!(frames >= 995, "only {frames} NetBIOS frames compared");
}

/// Host names the name service and browser give, by sender.
#[test]
fn host_names_from_registrations_node_status_and_announcements() {
    let Some(root) = common::shared_pcaps("") else {
        return;
    };
    let named = |capture: &str| -> Vec<(String, String)> {
        let events = common::replay(&[&root.join(capture)], &[]).events();
        let mut names: Vec<(String, String)> = events
            .iter()
            .filter(|e| e["protocol"] == "nbns" || e["protocol"] == "nbdgm")
            .filter_map(|e| {
                let host = e["identity"]["hostname"].as_str()?;
                Some((e["src_ip"].as_str().unwrap().to_string(), host.to_string()))
            })
            .collect();
        names.sort();
        names.dedup();
        names
    };
    let pair = |ip: &str, name: &str| (ip.to_string(), name.to_string());
    let ndpi = named("netbios/ndpi_netbios.pcapng");
    assert!(ndpi.contains(&pair("10.0.4.24", "GUNNAR")), "{ndpi:?}");
    assert!(ndpi.contains(&pair("10.0.5.9", "NVR9")), "{ndpi:?}");
    let iec104 = named("iec104/iec104_090813_diverse.pcap");
    assert_eq!(iec104, [pair("10.0.0.10", "EVON")]);
    let profinet = named("profinet/profinet_io_cm_mixed_2.pcapng");
    assert!(
        profinet.contains(&pair("192.168.1.1", "KW-VLIPC")),
        "{profinet:?}"
    );
    assert!(
        profinet.contains(&pair("169.254.216.43", "LT-US-DSWANSON")),
        "{profinet:?}"
    );
    // Every name is the sender's own: one name per address.
    for names in [&ndpi, &iec104, &profinet] {
        let mut ips: Vec<&String> = names.iter().map(|(ip, _)| ip).collect();
        ips.dedup();
        assert_eq!(ips.len(), names.len(), "{names:?}");
    }
}
