//! The asset inventory: what `--out` and `--db` keep, and how runs merge.

mod common;

use std::net::Ipv4Addr;
use std::path::Path;

use common::*;
use etherparse::PacketBuilder;
use otsensor::capture::write::PcapWriter;
use otsensor::time::Timestamp;
use serde_json::Value;

fn asset<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .unwrap_or_else(|| panic!("no asset {id}"))
}

/// A Modbus FC 43/14 exchange in which the demo's PLC 10.10.2.1 reports `firmware`.
fn write_identity_capture(path: &Path, firmware: &str) {
    let hmi = (
        [0x00, 0x14, 0x22, 0x2e, 0xd9, 0x1e],
        Ipv4Addr::new(10, 10, 1, 10),
    );
    let plc = (
        [0x00, 0x80, 0xf4, 0xfa, 0xd7, 0x14],
        Ipv4Addr::new(10, 10, 2, 1),
    );
    let request = [
        0x00, 0x07, 0x00, 0x00, 0x00, 0x05, 0x01, // MBAP: transaction 7, length 5, unit 1
        0x2b, 0x0e, 0x01, 0x00, // FC 43, MEI 14, basic device id, from object 0
    ];
    let mut objects = Vec::new();
    for (id, value) in [
        (0u8, "Schneider Electric"),
        (1, "TM241CE40R"),
        (2, firmware),
    ] {
        objects.extend_from_slice(&[id, value.len() as u8]);
        objects.extend_from_slice(value.as_bytes());
    }
    let mut response = vec![0x00, 0x07, 0x00, 0x00];
    response.extend_from_slice(&((objects.len() + 8) as u16).to_be_bytes()); // MBAP length
    response.extend_from_slice(&[0x01, 0x2b, 0x0e, 0x01, 0x01, 0x00, 0x00, 0x03]); // unit, FC, MEI, code, conformity, more, next, count
    response.extend_from_slice(&objects);

    let mut pcap = PcapWriter::new(std::fs::File::create(path).unwrap(), 1, false, false).unwrap();
    let frames = [
        (hmi, plc, 40000u16, 502u16, 1000u32, 5000u32, &request[..]),
        (plc, hmi, 502, 40000, 5000, 1011, &response[..]),
    ];
    for (n, (src, dst, sport, dport, seq, ack, payload)) in frames.into_iter().enumerate() {
        let builder = PacketBuilder::ethernet2(src.0, dst.0)
            .ipv4(src.1.octets(), dst.1.octets(), 64)
            .tcp(sport, dport, seq, 8192)
            .ack(ack)
            .psh();
        let mut frame = Vec::new();
        builder.write(&mut frame, payload).unwrap();
        pcap.packet(
            Timestamp::from_secs(1_705_400_000 + n as i64),
            &frame,
            frame.len() as u32,
        )
        .unwrap();
    }
}

#[test]
fn replays_into_one_store_merge_and_record_a_firmware_change() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("plant.db");
    let upgrade = dir.path().join("upgrade.pcap");
    write_identity_capture(&upgrade, "v5.2.0");
    let demo = demo_capture();
    for (n, capture) in [&demo, &upgrade].into_iter().enumerate() {
        let results = dir.path().join(format!("run-{n}"));
        replay_into_store(capture, &db, &["--out", results.to_str().unwrap()]);
    }
    // The default pack turns the recorded change into an alert (OT-FW-002).
    let alerts = std::fs::read_to_string(dir.path().join("run-1/alerts.jsonl")).unwrap();
    let firmware: Vec<Value> = alerts
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|a| a["rule"] == "OT-FW-002")
        .collect();
    assert_eq!(firmware.len(), 1, "{alerts}");
    assert_eq!(firmware[0]["src"]["ip"], "10.10.2.1");
    assert_eq!(firmware[0]["severity"], "high");
    let doc = assets_json(&db, &[]);
    assert_eq!(
        doc["assets"].as_array().unwrap().len(),
        40,
        "the second run adds no asset"
    );
    let plc = asset(&doc, "10.10.2.1");
    assert_eq!(plc["identity"]["firmware"]["value"], "v5.2.0");
    assert_eq!(plc["identity"]["firmware"]["source"], "modbus");
    let changes: Vec<&Value> = plc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "firmware_changed")
        .collect();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["detail"], "firmware v5.1.9 → v5.2.0 (modbus)");
    assert_eq!(changes[0]["seen"]["packet"], 2);

    // Replaying what the store already knows changes nothing: no new asset, no new change.
    replay_into_store(&upgrade, &db, &[]);
    let after = assets_json(&db, &[]);
    assert_eq!(after["assets"].as_array().unwrap().len(), 40);
    let count = |asset: &Value, kind: &str| {
        asset["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["kind"] == kind)
            .count()
    };
    let plc_after = asset(&after, "10.10.2.1");
    assert_eq!(
        (
            count(plc_after, "new_asset"),
            count(plc_after, "firmware_changed")
        ),
        (1, 1)
    );
}

#[test]
fn assets_are_listed_filtered_and_identical_whatever_the_thread_count() {
    let demo = demo_capture();
    let one = replay(&[&demo], &["--threads", "1"]);
    let two = replay(&[&demo], &["--threads", "2"]);
    let read = |r: &Replay, name: &str| std::fs::read_to_string(r.dir.path().join(name)).unwrap();
    assert_eq!(read(&one, "assets.json"), read(&two, "assets.json"));
    assert_eq!(read(&one, "assets.csv"), read(&two, "assets.csv"));
    let doc: Value = serde_json::from_str(&read(&one, "assets.json")).unwrap();
    let roles = |id: &str| asset(&doc, id)["role"].as_str().unwrap().to_string();
    // Modbus, S7 and CIP controllers, DNP3 and IEC 104 outstations, their masters.
    for (id, role) in [
        ("10.10.2.1", "plc"),
        ("10.10.2.15", "plc"),
        ("10.10.2.20", "plc"),
        ("10.10.2.23", "rtu"),
        ("10.10.2.26", "rtu"),
        ("10.10.1.20", "hmi"),
        ("10.10.0.53", "it_host"),
    ] {
        assert_eq!(roles(id), role, "{id}");
    }
    let plc = asset(&doc, "10.10.2.6");
    assert_eq!(plc["role"], "plc");
    assert_eq!(plc["mac_vendor"], "PHOENIX CONTACT Electronics GmbH");
    assert_eq!(plc["identity"]["product_code"]["value"], "ILC 151 ETH");
    assert_eq!(plc["purdue_level"], 1);
    let csv = read(&one, "assets.csv");
    assert!(
        csv.lines()
            .any(|l| l.starts_with("10.10.2.6,plc,1,10.10.2.6,00:a0:45:3b:fc:1e,")),
        "{csv}"
    );

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("plant.db");
    replay_into_store(&demo, &db, &[]);
    let listed = list_assets(&db, &["--filter", "role=plc,vendor~phoenix"]);
    let table = stdout(&listed);
    let rows: Vec<&str> = table.lines().skip(1).collect();
    assert_eq!(rows.len(), 3, "{table}");
    assert!(rows.iter().all(|r| r.starts_with("plc")), "{table}");
    let bad = list_assets(&db, &["--filter", "colour=red"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn tags_the_policy_gives_assets_show_in_assets_json() {
    use common::craft::{Craft, host, modbus};
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("poll.pcap");
    let mut craft = Craft::new();
    let mut tcp = craft.connect(host("10.0.1.10"), host("10.0.2.1"), 40000, 502);
    craft.exchange(
        &mut tcp,
        &modbus(1, 1, &[0x03, 0x00, 0x00, 0x00, 0x01]),
        &modbus(1, 1, &[0x03, 0x02, 0x00, 0x07]),
    );
    craft.write(&capture);
    // The SCADA server by IP; the PLC by its MAC, in two files.
    let policy = dir.path().join("policy");
    std::fs::create_dir(&policy).unwrap();
    std::fs::write(
        policy.join("a.toml"),
        "[[asset]]\nip = \"10.0.1.10\"\ntags = [\"scada\"]\n\n\
         [[asset]]\nmac = \"02:00:0a:00:02:01\"\ntags = [\"line-1\"]\n",
    )
    .unwrap();
    std::fs::write(
        policy.join("b.toml"),
        "[[asset]]\nmac = \"02:00:0a:00:02:01\"\ntags = [\"s7-1500\", \"line-1\"]\n",
    )
    .unwrap();
    let run = replay(
        &[&capture],
        &["--policy", policy.to_str().unwrap(), "--quiet"],
    );
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(run.dir.path().join("assets.json")).unwrap())
            .unwrap();
    assert_eq!(
        asset(&doc, "10.0.1.10")["tags"],
        serde_json::json!(["scada"])
    );
    assert_eq!(
        asset(&doc, "10.0.2.1")["tags"],
        serde_json::json!(["line-1", "s7-1500"])
    );
    // A store lists the same tags when given the policy, and none without it.
    let db = dir.path().join("plant.db");
    replay_into_store(&capture, &db, &[]);
    let with_policy = ["--policy", policy.to_str().unwrap()];
    let doc = assets_json(&db, &with_policy);
    assert_eq!(
        asset(&doc, "10.0.2.1")["tags"],
        serde_json::json!(["line-1", "s7-1500"])
    );
    assert!(
        asset(&assets_json(&db, &[]), "10.0.2.1")
            .get("tags")
            .is_none()
    );
    let tagged = list_assets(
        &db,
        &[
            &with_policy[..],
            &["--filter", "tag=scada", "--format", "csv"],
        ]
        .concat(),
    );
    let csv = stdout(&tagged);
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{csv}");
    assert!(rows[0].starts_with("10.0.1.10,"), "{csv}");
    // Without the policy, no tags.
    let plain = replay(&[&capture], &["--quiet"]);
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(plain.dir.path().join("assets.json")).unwrap(),
    )
    .unwrap();
    assert!(asset(&doc, "10.0.1.10").get("tags").is_none());
}
