//! DHCP against Wireshark, frame by frame, on every capture of the shared
//! corpus that holds it (`dhcp/`, whose offers and acks put options in
//! `sname` with option 52, and the PROFINET capture): BOOTP op, message
//! type, client MAC (and option 61's), client and your addresses, host
//! name, vendor class id, server id, router, domain name, requested
//! address. And the identities clients give.

mod common;
mod itcorpus;

use common::*;
use itcorpus::*;
use serde_json::Value;

const COMPARED: &[&str] = &[
    "dhcp.type",
    "dhcp.option.dhcp",
    "dhcp.hw.mac_addr",
    "dhcp.ip.client",
    "dhcp.ip.your",
    "dhcp.option.hostname",
    "dhcp.option.vendor_class_id",
    "dhcp.option.dhcp_server_id",
    "dhcp.option.router",
    "dhcp.option.domain_name",
    "dhcp.option.requested_ip_address",
];

/// Option 61 with hardware type 1 and six bytes, as a MAC address.
fn client_id_mac(event: &Value) -> Option<String> {
    let id = event["client_id"].as_str()?;
    let mac = id.strip_prefix("01").filter(|m| m.len() == 12)?;
    Some(
        (0..6)
            .map(|i| &mac[2 * i..2 * i + 2])
            .collect::<Vec<_>>()
            .join(":"),
    )
}

fn ours(events: &[&Value], field: &str) -> Vec<String> {
    // Addresses left out when 0.0.0.0, which Wireshark shows.
    let address = |name: &str| -> Vec<String> {
        events
            .iter()
            .map(|e| e[name].as_str().unwrap_or("0.0.0.0").to_string())
            .collect()
    };
    match field {
        "dhcp.type" => numbers(events, "op"),
        "dhcp.option.dhcp" => numbers(events, "message_type"),
        // chaddr, then option 61 when it holds a MAC address.
        "dhcp.hw.mac_addr" => events
            .iter()
            .flat_map(|e| {
                e["client_mac"]
                    .as_str()
                    .map(str::to_string)
                    .into_iter()
                    .chain(client_id_mac(e))
            })
            .collect(),
        "dhcp.ip.client" => address("client_ip"),
        "dhcp.ip.your" => address("assigned_ip"),
        "dhcp.option.hostname" => strings(events, "hostname"),
        "dhcp.option.vendor_class_id" => strings(events, "vendor_class_id"),
        "dhcp.option.dhcp_server_id" => strings(events, "server_id"),
        "dhcp.option.router" => events
            .iter()
            .flat_map(|e| e["routers"].as_array().cloned().unwrap_or_default())
            .map(|r| r.as_str().unwrap().to_string())
            .collect(),
        "dhcp.option.domain_name" => strings(events, "domain_name"),
        "dhcp.option.requested_ip_address" => strings(events, "requested_ip"),
        _ => Vec::new(),
    }
}

const DHCP: Comparison = Comparison {
    family: "dhcp",
    protocols: &["dhcp"],
    fields: COMPARED,
    ours,
    not_ours: all_ours,
    theirs: same,
};

#[test]
fn dhcp_matches_wireshark_frame_by_frame() {
    let Some(captures) = captures_with("dhcp") else {
        return;
    };
    let mut frames = 0;
    let mut mismatches = Vec::new();
    for capture in &captures {
        let outcome = compare(capture, &DHCP, &[]);
        frames += outcome.frames;
        for event in outcome.events.iter().filter(|e| e["protocol"] == "dhcp") {
            assert!(event.get("anomalies").is_none(), "{event}");
            assert_eq!(event["class"], "discovery");
        }
        mismatches.extend(
            outcome
                .mismatches
                .iter()
                .map(|m| format!("{}: {m}", outcome.capture)),
        );
    }
    assert!(mismatches.is_empty(), "\n  {}", mismatches.join("\n  "));
    assert!(frames >= 70, "only {frames} DHCP frames compared");
}

/// The option 52 capture: two servers answer; the rogue one's router,
/// DNS server and domain are in `sname`, and it names a PXE server.
#[test]
fn overloaded_options_and_the_rogue_server() {
    let Some(dir) = shared_pcaps("dhcp") else {
        return;
    };
    let events = replay(&[&dir.join("dhcp_option52_overload.pcap")], &[]).events();
    let offers: Vec<&Value> = events.iter().filter(|e| e["function"] == "offer").collect();
    assert_eq!(offers.len(), 2);
    let legit = offers
        .iter()
        .find(|e| e["domain_name"] == "legit.local")
        .unwrap();
    assert_eq!(legit["server_hostname"], "evil-pxe.attacker.local");
    let rogue = offers
        .iter()
        .find(|e| e["domain_name"] == "evil.corp")
        .unwrap();
    assert_eq!(rogue["overload"], 2);
    assert_eq!(rogue["routers"], serde_json::json!(["10.100.0.2"]));
    assert!(rogue.get("server_hostname").is_none());
    // The client describes itself on its discover and request.
    let discover = events.iter().find(|e| e["function"] == "discover").unwrap();
    assert_eq!(discover["identity"]["device_type"], "udhcp 1.36.1");
    assert_eq!(
        discover["parameter_request_list"],
        "1,3,6,12,15,28,42,54,66,67,119"
    );
}

/// PROFINET capture: the host names clients give reach the inventory under
/// their MAC addresses (they have no address yet).
#[test]
fn client_host_names_reach_the_inventory() {
    let Some(dir) = shared_pcaps("profinet") else {
        return;
    };
    let replay = replay(&[&dir.join("profinet_io_cm_mixed_2.pcapng")], &[]);
    let text = std::fs::read_to_string(replay.dir.path().join("assets.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let assets = doc["assets"].as_array().unwrap();
    let laptop = assets
        .iter()
        .find(|a| {
            a["macs"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m == "e4:11:5b:5a:d9:73")
        })
        .unwrap();
    assert_eq!(laptop["identity"]["hostname"]["value"], "LT-US-DSWANSON");
    assert_eq!(laptop["identity"]["hostname"]["source"], "dhcp");
    assert_eq!(laptop["identity"]["device_type"]["value"], "MSFT 5.0");
}
