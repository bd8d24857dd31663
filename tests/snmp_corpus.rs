//! SNMP against Wireshark, frame by frame, on every capture of the shared
//! corpus that holds it (`snmp/`: SNMPv2c get and get-next requests and
//! their responses): version, community (compared with `--show-secrets`;
//! redacted otherwise), PDU type, and the variable bindings' names.

mod common;
mod itcorpus;

use itcorpus::*;
use serde_json::Value;

const COMPARED: &[&str] = &["snmp.version", "snmp.community", "snmp.data", "snmp.name"];

fn ours(events: &[&Value], field: &str) -> Vec<String> {
    match field {
        "snmp.version" => numbers(events, "version"),
        "snmp.community" => strings(events, "community"),
        "snmp.data" => numbers(events, "function_code"),
        "snmp.name" => events
            .iter()
            .flat_map(|e| e["varbinds"].as_array().cloned().unwrap_or_default())
            .map(|v| v["oid"].as_str().unwrap().to_string())
            .collect(),
        _ => Vec::new(),
    }
}

const SNMP: Comparison = Comparison {
    family: "snmp",
    protocols: &["snmp"],
    fields: COMPARED,
    ours,
    not_ours: all_ours,
    theirs: same,
};

#[test]
fn snmp_matches_wireshark_frame_by_frame() {
    let Some(captures) = captures_with("snmp") else {
        return;
    };
    let mut frames = 0;
    let mut mismatches = Vec::new();
    for capture in &captures {
        let outcome = compare(capture, &SNMP, &["--show-secrets"]);
        frames += outcome.frames;
        for event in outcome.events.iter().filter(|e| e["protocol"] == "snmp") {
            assert!(event.get("anomalies").is_none(), "{event}");
            assert_eq!(event["class"], "read");
            if event["is_response"] == true {
                assert!(event["request_packet"].is_u64(), "paired: {event}");
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
    assert!(frames >= 8, "only {frames} SNMP frames compared");
}

/// Without `--show-secrets` the community is written redacted, and the
/// event still says there was one; the cleartext appears nowhere.
#[test]
fn community_is_redacted_by_default() {
    let Some(dir) = common::shared_pcaps("snmp") else {
        return;
    };
    let replay = common::replay(&[&dir.join("snmpv2c_get_requests.pcap")], &[]);
    assert!(!replay.events_text().contains("R0_C@cti"));
    let events = replay.events();
    assert_eq!(events.len(), 8);
    for event in &events {
        assert_eq!(event["community"], "<redacted>");
        assert_eq!(event["community_present"], true);
    }
}

/// A BER TLV (definite length, up to 255 octets: the messages here are short).
fn ber(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = u8::try_from(content.len()).unwrap();
    let mut tlv = if len < 0x80 {
        vec![tag, len]
    } else {
        vec![tag, 0x81, len]
    };
    tlv.extend_from_slice(content);
    tlv
}

/// An SNMPv2c message of community `plant-ro`: `pdu_tag` with request id 7
/// and the variable bindings given as (OID, value TLV).
fn snmp_v2c(pdu_tag: u8, varbinds: &[(&[u8], Vec<u8>)]) -> Vec<u8> {
    let list: Vec<u8> = varbinds
        .iter()
        .flat_map(|(oid, value)| ber(0x30, &[ber(0x06, oid), value.clone()].concat()))
        .collect();
    let pdu = [
        ber(0x02, &[7]), // request id
        ber(0x02, &[0]), // error status
        ber(0x02, &[0]), // error index
        ber(0x30, &list),
    ]
    .concat();
    let message = [
        ber(0x02, &[1]), // version: v2c
        ber(0x04, b"plant-ro"),
        ber(pdu_tag, &pdu),
    ]
    .concat();
    ber(0x30, &message)
}

/// A manager asks an agent for sysDescr, sysObjectID and sysName (crafted
/// capture; tshark reads the response's values as `snmp.value.octets` and
/// `snmp.value.oid` as written here): the response's event carries the
/// agent's identity, and the inventory keeps it on the agent.
#[test]
fn system_group_response_identifies_the_agent_in_events_and_assets() {
    const SYS_DESCR: &[u8] = &[0x2b, 6, 1, 2, 1, 1, 1, 0]; // 1.3.6.1.2.1.1.1.0
    const SYS_OBJECT_ID: &[u8] = &[0x2b, 6, 1, 2, 1, 1, 2, 0]; // 1.3.6.1.2.1.1.2.0
    const SYS_NAME: &[u8] = &[0x2b, 6, 1, 2, 1, 1, 5, 0]; // 1.3.6.1.2.1.1.5.0
    // 1.3.6.1.4.1.4329.6.1.2: enterprise 4329 (Siemens AG in IANA's registry)
    const SIEMENS_OBJECT: &[u8] = &[0x2b, 6, 1, 4, 1, 0xa1, 0x69, 6, 1, 2];
    let descr = "Siemens, SIMATIC NET, SCALANCE X208, HW: Version 7, FW: Version V4.1.0";
    let null = || ber(0x05, &[]);
    let request = snmp_v2c(
        0xa0,
        &[
            (SYS_DESCR, null()),
            (SYS_OBJECT_ID, null()),
            (SYS_NAME, null()),
        ],
    );
    let response = snmp_v2c(
        0xa2,
        &[
            (SYS_DESCR, ber(0x04, descr.as_bytes())),
            (SYS_OBJECT_ID, ber(0x06, SIEMENS_OBJECT)),
            (SYS_NAME, ber(0x04, b"sw-cell-3")),
        ],
    );
    let (manager, agent) = (
        common::craft::host("10.0.1.5"),
        common::craft::host("10.0.2.30"),
    );
    let mut craft = common::craft::Craft::new();
    craft.udp(manager, agent, 40161, 161, &request);
    craft.udp(agent, manager, 161, 40161, &response);
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("snmp_system_group.pcap");
    craft.write(&capture);
    let replay = common::replay(&[&capture], &[]);

    let events = replay.events();
    let functions: Vec<&str> = events
        .iter()
        .map(|e| e["function"].as_str().unwrap())
        .collect();
    assert_eq!(functions, ["get_request", "get_response"]);
    assert_eq!(
        events[0].get("identity"),
        None,
        "a request says nothing of its sender"
    );
    let response = &events[1];
    assert!(response.get("anomalies").is_none(), "{response}");
    assert_eq!(response["src_ip"], "10.0.2.30");
    let identity = &response["identity"];
    assert_eq!(identity["product"], descr, "sysDescr's first line");
    assert_eq!(identity["firmware"], "V4.1.0", "the version after FW:");
    assert_eq!(identity["vendor_id"], 4329);
    assert_eq!(identity["hostname"], "sw-cell-3");

    let text = std::fs::read_to_string(replay.dir.path().join("assets.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let agent_asset = doc["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["ips"] == serde_json::json!(["10.0.2.30"]))
        .expect("the agent is an asset");
    let kept = &agent_asset["identity"];
    for (field, value) in [
        ("hostname", "sw-cell-3"),
        ("product", descr),
        ("firmware", "V4.1.0"),
        ("vendor_id", "4329"),
    ] {
        assert_eq!(kept[field]["value"], value, "asset identity.{field}");
        assert_eq!(kept[field]["source"], "snmp", "asset identity.{field}");
    }
    // The manager asked; it identified nothing about itself.
    let manager_asset = doc["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["ips"] == serde_json::json!(["10.0.1.5"]))
        .expect("the manager is an asset");
    assert!(
        manager_asset["identity"]
            .as_object()
            .is_none_or(|o| o.is_empty())
    );
}
