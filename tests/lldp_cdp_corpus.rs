//! LLDP and CDP against Wireshark, frame by frame, on every capture of the
//! shared corpus that holds them (`lldp_cdp/`, and the EtherNet/IP and
//! PROFINET captures): chassis and port ids with their subtypes, TTL,
//! management address, system description; CDP device id, platform,
//! software version, port, capabilities, addresses, native VLAN. And what
//! they tell the asset inventory.

mod common;
mod itcorpus;

use common::*;
use itcorpus::*;
use serde_json::Value;

const LLDP_FIELDS: &[&str] = &[
    "lldp.chassis.subtype",
    "lldp.chassis.id.mac",
    "lldp.chassis.id",
    "lldp.port.subtype",
    "lldp.port.id",
    "lldp.time_to_live",
    "lldp.mgn.addr.ip4",
    "lldp.tlv.system.desc",
];

/// Hex of text, as Wireshark shows chassis ids that are neither MAC nor
/// network addresses (locally assigned, interface names…).
fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

fn lldp(events: &[&Value], field: &str) -> Vec<String> {
    let chassis = |mac: bool| {
        events
            .iter()
            .filter(|e| (e["chassis_id_subtype"] == 4) == mac)
            .filter_map(|e| e["chassis_id"].as_str())
            .map(|id| if mac { id.to_string() } else { hex(id) })
            .collect()
    };
    match field {
        "lldp.chassis.subtype" => numbers(events, "chassis_id_subtype"),
        "lldp.chassis.id.mac" => chassis(true),
        "lldp.chassis.id" => chassis(false),
        "lldp.port.subtype" => numbers(events, "port_id_subtype"),
        // Wireshark shows MAC port ids (subtype 3) as `lldp.port.id.mac`.
        "lldp.port.id" => events
            .iter()
            .filter(|e| e["port_id_subtype"] != 3)
            .filter_map(|e| e["port_id"].as_str().map(str::to_string))
            .collect(),
        "lldp.time_to_live" => numbers(events, "ttl"),
        "lldp.mgn.addr.ip4" => strings(events, "management_address")
            .into_iter()
            .filter(|a| !a.contains(':'))
            .collect(),
        "lldp.tlv.system.desc" => strings(events, "system_description"),
        _ => Vec::new(),
    }
}

const CDP_FIELDS: &[&str] = &[
    "cdp.deviceid",
    "cdp.platform",
    "cdp.software_version",
    "cdp.portid",
    "cdp.capabilities",
    "cdp.nrgyz.ip_address",
    "cdp.native_vlan",
];

fn cdp(events: &[&Value], field: &str) -> Vec<String> {
    match field {
        "cdp.deviceid" => strings(events, "device_id"),
        "cdp.platform" => strings(events, "platform"),
        // Wireshark shows one value per line of the software version.
        "cdp.software_version" => strings(events, "software_version")
            .iter()
            .flat_map(|s| s.lines().map(str::to_string).collect::<Vec<_>>())
            .collect(),
        "cdp.portid" => strings(events, "port_id"),
        "cdp.capabilities" => events
            .iter()
            .filter_map(|e| e["capability_bits"].as_u64())
            .map(|b| format!("0x{b:08x}"))
            .collect(),
        // The Addresses TLV's, then the Management Addresses TLV's (IPv4).
        "cdp.nrgyz.ip_address" => events
            .iter()
            .flat_map(|e| {
                let list = |name: &str| e[name].as_array().cloned().unwrap_or_default();
                let mut all = list("addresses");
                all.extend(list("management_addresses"));
                all
            })
            .filter_map(|a| a.as_str().filter(|a| !a.contains(':')).map(str::to_string))
            .collect(),
        "cdp.native_vlan" => numbers(events, "native_vlan"),
        _ => Vec::new(),
    }
}

const LLDP: Comparison = Comparison {
    family: "lldp",
    protocols: &["lldp"],
    fields: LLDP_FIELDS,
    ours: lldp,
    not_ours: all_ours,
    theirs: same,
};

const CDP: Comparison = Comparison {
    family: "cdp",
    protocols: &["cdp"],
    fields: CDP_FIELDS,
    ours: cdp,
    not_ours: all_ours,
    theirs: same,
};

fn check(family: &str, cmp: &Comparison, least: usize) {
    let Some(captures) = captures_with(family) else {
        return;
    };
    let mut frames = 0;
    let mut mismatches = Vec::new();
    for capture in &captures {
        let outcome = compare(capture, cmp, &[]);
        frames += outcome.frames;
        for event in outcome.events.iter().filter(|e| e["protocol"] == family) {
            assert!(event.get("anomalies").is_none(), "{event}");
            assert_eq!(event["transport"], "ethernet");
        }
        mismatches.extend(
            outcome
                .mismatches
                .iter()
                .map(|m| format!("{}: {m}", outcome.capture)),
        );
    }
    assert!(mismatches.is_empty(), "\n  {}", mismatches.join("\n  "));
    assert!(frames >= least, "only {frames} {family} frames compared");
}

#[test]
fn lldp_matches_wireshark_frame_by_frame() {
    check("lldp", &LLDP, 207);
}

#[test]
fn cdp_matches_wireshark_frame_by_frame() {
    check("cdp", &CDP, 2);
}

fn assets(replay: &Replay) -> Vec<Value> {
    let text = std::fs::read_to_string(replay.dir.path().join("assets.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["assets"].as_array().unwrap().clone()
}

fn with_mac<'a>(assets: &'a [Value], mac: &str) -> &'a Value {
    assets
        .iter()
        .find(|a| a["macs"].as_array().unwrap().iter().any(|m| m == mac))
        .unwrap_or_else(|| panic!("no asset with MAC {mac}"))
}

fn identity(asset: &Value, field: &str) -> (String, String) {
    let evidence = &asset["identity"][field];
    (
        evidence["value"].as_str().unwrap_or_default().to_string(),
        evidence["source"].as_str().unwrap_or_default().to_string(),
    )
}

/// The CDP device id, platform and software version of the LLDP/CDP
/// capture's Cisco switch reach the inventory, which calls it a network
/// device. The D-Link's LLDPDUs name no system (no system name or
/// description TLV): its asset is the one its management address and IGMP
/// traffic give, joined by its MAC address. The ARP bindings make assets of
/// the hosts seen only in ARP.
#[test]
fn lldp_cdp_capture_identities_reach_the_inventory() {
    let Some(dir) = shared_pcaps("lldp_cdp") else {
        return;
    };
    let capture = dir.join("openics_eip_swdl_failure_lldp_cdp_arp.pcap");
    let replay = replay(&[&capture], &[]);
    let events = replay.events();
    let system_names: Vec<&Value> = events
        .iter()
        .filter(|e| e["protocol"] == "lldp")
        .filter_map(|e| e.get("system_name"))
        .collect();
    assert!(system_names.is_empty(), "the D-Link names no system");
    let assets = assets(&replay);
    let cisco = with_mac(&assets, "00:1e:f6:73:59:81");
    assert_eq!(identity(cisco, "hostname"), ("Ns5gt".into(), "cdp".into()));
    assert_eq!(
        identity(cisco, "product"),
        ("cisco WS-CE500-24TT".into(), "cdp".into())
    );
    assert_eq!(
        identity(cisco, "firmware"),
        ("12.2(25)SEG4".into(), "cdp".into())
    );
    assert_eq!(cisco["role"], "network_device");
    assert_eq!(
        cisco["role_reason"],
        "announces itself as a switch over cdp"
    );
    let dlink = with_mac(&assets, "00:21:91:06:f1:66");
    assert_eq!(dlink["id"], "208.73.217.142");
    assert!(dlink["used"].get("lldp").is_some());
    // Hosts seen only in ARP, with their bindings.
    for (ip, mac) in [
        ("192.168.10.1", "00:15:17:68:39:f4"),
        ("192.168.10.105", "00:1d:09:99:b2:2c"),
        ("192.168.10.136", "00:e0:62:60:35:d0"),
    ] {
        let host = with_mac(&assets, mac);
        assert_eq!(host["id"], ip, "{host}");
    }
}

/// The PROFINET capture's LLDP system descriptions (SCALANCE X208 ports)
/// reach the inventory as products, and the switch's DHCP host name too.
#[test]
fn profinet_lldp_descriptions_reach_the_inventory() {
    let Some(dir) = shared_pcaps("profinet") else {
        return;
    };
    let capture = dir.join("profinet_io_cm_mixed_2.pcapng");
    let replay = replay(&[&capture], &[]);
    let assets = assets(&replay);
    for port in ["00:0e:8c:ef:75:c9", "00:0e:8c:ef:75:cd"] {
        assert_eq!(
            identity(with_mac(&assets, port), "product"),
            (
                "Siemens AG SIMATIC S7 MULTIPORT SCALANCE X 200 FAM".into(),
                "lldp".into()
            )
        );
    }
    assert_eq!(
        identity(with_mac(&assets, "00:0e:8c:ef:75:c5"), "hostname"),
        ("siemens-x208-switch".into(), "dhcp".into())
    );
}

/// CDP and LLDP in 802.1Q-tagged frames are decoded like untagged ones.
#[test]
fn tagged_cdp_and_lldp() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("tagged.pcap");
    let switch = [0x00, 0x1e, 0xf6, 0x73, 0x59, 0x81];
    let mut cdp = vec![0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00]; // LLC/SNAP, CDP
    cdp.extend_from_slice(&[0x02, 0xb4, 0x00, 0x00]); // version 2, TTL 180, checksum
    cdp.extend_from_slice(&[0x00, 0x01, 0x00, 0x09, b'N', b's', b'5', b'g', b't']); // device id
    cdp.extend_from_slice(&[0x00, 0x06, 0x00, 0x08, b'W', b'S', b'-', b'C']); // platform
    let lldp = [
        0x02, 0x07, 0x04, 0x00, 0x1e, 0xf6, 0x73, 0x59, 0x81, // chassis id: MAC
        0x04, 0x03, 0x05, b'g', b'1', // port id: interface name "g1"
        0x06, 0x02, 0x00, 0x78, // TTL 120
        0x0a, 0x05, b'N', b's', b'5', b'g', b't', // system name
        0x0e, 0x04, 0x00, 0x04, 0x00, 0x04, // capabilities: bridge, enabled
        0x00, 0x00, // end
    ];
    let frames = [
        ethernet(
            [0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc],
            switch,
            Some(3),
            cdp.len() as u16,
            &cdp,
        ),
        ethernet(
            [0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e],
            switch,
            Some(3),
            0x88cc,
            &lldp,
        ),
    ];
    write_capture(&capture, &frames);
    let events = replay(&[&capture], &[]).events();
    let protocols: Vec<&str> = events
        .iter()
        .map(|e| e["protocol"].as_str().unwrap())
        .collect();
    assert_eq!(protocols, ["cdp", "lldp"]);
    assert_eq!(events[0]["device_id"], "Ns5gt");
    assert_eq!(events[0]["platform"], "WS-C");
    assert!(events[0].get("anomalies").is_none(), "{}", events[0]);
    assert_eq!(events[1]["system_name"], "Ns5gt");
    assert_eq!(events[1]["identity"]["device_type"], "switch");
}
