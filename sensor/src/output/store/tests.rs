use super::*;
use crate::analysis::conduits::{ConduitMap, DeclaredPolicy};
use crate::analysis::policy::{Alert, AlertEnd, Policy, Severity, Source, load};
use crate::event::Event;
use crate::time::Timestamp;

const POLICY: &str = r#"
[[zone]]
name = "supervisory"
description = "HMIs and SCADA servers"
cidrs = ["10.10.1.0/24"]
security_level = 2
purdue_level = 2

[[zone]]
name = "control"
cidrs = ["10.10.2.0/24"]
security_level = 3

[[conduit]]
name = "scada"
zones = ["supervisory", "control"]
initiator = "supervisory"
allow = [{ protocols = ["modbus"], classes = ["read"] }, { protocols = ["modbus"], classes = ["write"], writers = ["role:hmi", "10.10.1.10"] }]
"#;

fn policy() -> Policy {
    load(&[Source {
        name: "plant.toml".into(),
        text: POLICY.into(),
    }])
    .unwrap()
}

fn alert(rule: &str, ts: i64, count: u64) -> Alert {
    let mut alert = Alert {
        id: "A000001".into(),
        ts: Timestamp::from_secs(ts),
        last_ts: Timestamp::from_secs(ts + 10),
        severity: Severity::High,
        rule: rule.into(),
        title: "Traffic the conduit does not permit".into(),
        description: String::new(),
        src: AlertEnd {
            ip: Some("10.10.1.10".parse().unwrap()),
            mac: Some([0, 0x14, 0x22, 0x2e, 0xd9, 0x1e]),
            asset: Some("10.10.1.10".into()),
            zone: "supervisory".into(),
            role: Some("hmi"),
            ..AlertEnd::default()
        },
        dst: AlertEnd {
            ip: Some("10.10.2.1".parse().unwrap()),
            name: Some("plc-1.plant.example".into()),
            zone: "control".into(),
            ..AlertEnd::default()
        },
        zones: vec!["supervisory".into(), "control".into()],
        conduit: Some("scada".into()),
        protocol: Some("modbus"),
        function: Some("write_single_register"),
        evidence: Default::default(),
        iec62443: vec!["SR 5.2".into()],
        mitre: vec!["T0886".into()],
        count,
        seq: 1,
    };
    alert.evidence.packets = vec![7, 9];
    alert.evidence.flow = Some(3);
    alert.evidence.detail = "modbus write_single_register (6)".into();
    alert
}

fn observed(policy: &Policy, polls: u64) -> ObservedConduits {
    let inventory = Inventory::new();
    let mut map = ConduitMap::new(policy);
    for n in 0..polls {
        let mut event = Event::modbus_read_request(
            n,
            "10.10.1.10".parse().unwrap(),
            "10.10.2.1".parse().unwrap(),
        );
        event.header.ts = Timestamp::from_secs(100 + n as i64);
        map.event(&event, policy, &inventory);
    }
    map.finish(policy, &[])
}

fn save(store: &mut Store, alerts: &[Alert], conduits: &ObservedConduits, run_start: i64) {
    let findings = RunFindings {
        alerts,
        conduits,
        first_ts: Some(Timestamp::from_secs(run_start)),
        last_ts: Some(Timestamp::from_secs(run_start + 60)),
    };
    store
        .save_run(
            &Inventory::new(),
            &[],
            &["plant.pcap".into()],
            42,
            Some(&findings),
        )
        .unwrap();
}

#[test]
fn alerts_round_trip_and_a_replay_does_not_repeat_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plant.db");
    let policy = policy();
    let conduits = observed(&policy, 3);
    let alerts = [alert("OT-ZONE-002", 1000, 4), alert("OT-CMD-001", 1000, 1)];
    let mut store = Store::open(&path).unwrap();
    save(&mut store, &alerts, &conduits, 1000);
    // The same capture again, then a later one in which the first alert happens anew.
    save(&mut store, &alerts, &conduits, 1000);
    save(
        &mut store,
        &[alert("OT-ZONE-002", 5000, 2)],
        &conduits,
        5000,
    );
    drop(store);

    let store = Store::open(&path).unwrap();
    let kept = store.load_alerts().unwrap();
    let seen: Vec<(&str, i64, u64)> = kept
        .iter()
        .map(|a| (a.rule.as_str(), a.ts.secs(), a.count))
        .collect();
    assert_eq!(
        seen,
        [
            ("OT-CMD-001", 1000, 1),
            ("OT-ZONE-002", 1000, 4),
            ("OT-ZONE-002", 5000, 2)
        ]
    );
    // Every field comes back as alerts.jsonl has it.
    let mut expected = AlertRecord::from_alert(&alerts[0]);
    expected.id = kept[1].id.clone();
    assert_eq!(kept[1], expected);
    assert_eq!(kept[1].src.mac.as_deref(), Some("00:14:22:2e:d9:1e"));
    assert_eq!(kept[1].evidence.packets, [7, 9]);

    // Observed conduits add up over the runs, but the replay of the same
    // traffic (same packets, same period) adds nothing; the policy is the one loaded.
    let stored = store.load_conduits().unwrap();
    let pair = stored.pair("supervisory", "control").unwrap();
    assert_eq!(pair.events, 6);
    assert_eq!(pair.talkers[0].events, 6);
    assert_eq!(pair.conduit.as_ref().unwrap().name, "scada");
    assert_eq!(stored.declared, DeclaredPolicy::from_policy(&policy));
    assert_eq!(
        stored.declared.conduits[0].allow[1].writers,
        Some(vec!["role:hmi".to_string(), "10.10.1.10/32".to_string()])
    );
    let runs = store.load_runs().unwrap();
    assert_eq!(runs.len(), 3);
    assert!(runs[1].replays(&runs[0]) && !runs[2].replays(&runs[0]));
    assert_eq!(runs[2].first_ts, Some(Timestamp::from_secs(5000)));
    assert_eq!(runs[2].captures, ["plant.pcap"]);
}

#[test]
fn a_run_without_zones_keeps_the_plant_policy_on_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plant.db");
    let mut store = Store::open(&path).unwrap();
    let plant = policy();
    save(&mut store, &[], &observed(&plant, 1), 0);
    let bare = Policy::default_pack();
    save(&mut store, &[], &observed(&bare, 2), 100);
    let stored = store.load_conduits().unwrap();
    assert_eq!(stored.declared.zones.len(), 2);
    let zoned = stored.pair("supervisory", "control").unwrap();
    let unzoned = stored.pair("unzoned", "unzoned").unwrap();
    assert_eq!((zoned.events, unzoned.events), (1, 2));
}

#[test]
fn a_store_of_the_first_schema_is_migrated_and_keeps_its_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO runs (captures, packets) VALUES ('old.pcap', 7)",
            [],
        )
        .unwrap();
    }
    let mut store = Store::open(&path).unwrap();
    let version: i64 = store
        .conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, MIGRATIONS.len() as i64);
    let runs = store.load_runs().unwrap();
    assert_eq!(
        runs,
        [RunRecord {
            id: 1,
            captures: vec!["old.pcap".into()],
            packets: 7,
            first_ts: None,
            last_ts: None,
        }]
    );
    assert!(store.load_alerts().unwrap().is_empty());
    assert_eq!(store.load_policy().unwrap(), DeclaredPolicy::default());
    save(
        &mut store,
        &[alert("OT-ZONE-002", 1, 1)],
        &observed(&policy(), 1),
        1,
    );
    assert_eq!(store.load_alerts().unwrap().len(), 1);
    assert_eq!(store.runs().unwrap(), 2);
}

#[test]
fn a_store_with_a_learned_baseline_is_migrated_and_keeps_it() {
    // Schema 2: inventory and runs, and the baseline table, as written by an
    // otsensor that knew no alerts or conduits.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("learned.db");
    let learned = SavedBaseline {
        complete: true,
        until: Some(Timestamp::from_secs(3600)),
        pairs: Vec::new(),
        conduits: Vec::new(),
    };
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.execute_batch(MIGRATIONS[1]).unwrap();
        conn.pragma_update(None, "user_version", 2).unwrap();
        conn.execute(
            "INSERT INTO runs (captures, packets) VALUES ('learn.pcap', 9)",
            [],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO baseline (id, state) VALUES (1, ?1)",
            [serde_json::to_string(&learned).unwrap()],
        )
        .unwrap();
    }
    let mut store = Store::open(&path).unwrap();
    let version: i64 = store
        .conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, MIGRATIONS.len() as i64);
    assert_eq!(store.load_baseline().unwrap(), Some(learned));
    assert_eq!(store.load_runs().unwrap()[0].captures, ["learn.pcap"]);
    assert!(store.load_alerts().unwrap().is_empty());
    save(
        &mut store,
        &[alert("OT-ZONE-002", 1, 1)],
        &observed(&policy(), 1),
        1,
    );
    assert_eq!(store.load_alerts().unwrap()[0].rule, "OT-ZONE-002");
    assert_eq!(store.runs().unwrap(), 2);
}

#[test]
fn a_store_with_alerts_gains_the_operators_marks_and_keeps_its_alerts() {
    // Schema 3: alerts, conduits and the policy, before acknowledgements and mutes.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alerts.db");
    {
        let mut store = Store::open(&path).unwrap();
        save(
            &mut store,
            &[alert("OT-ZONE-002", 1, 3)],
            &observed(&policy(), 1),
            1,
        );
        store
            .conn
            .execute_batch("DROP TABLE alert_marks; PRAGMA user_version = 3;")
            .unwrap();
    }
    let store = Store::open(&path).unwrap();
    let alerts = store.load_alerts().unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].count, 3);
    assert!(store.load_marks().unwrap().is_empty());
    let mark = AlertMark {
        fingerprint: alerts[0].fingerprint(),
        acknowledged: true,
        muted: false,
    };
    store.save_mark(&mark, "2024-01-15T08:00:00Z").unwrap();
    assert_eq!(store.load_marks().unwrap(), [mark]);
}

#[test]
fn a_store_of_every_earlier_schema_opens_at_the_latest() {
    for applied in 0..=MIGRATIONS.len() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plant.db");
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            for migration in &MIGRATIONS[..applied] {
                conn.execute_batch(migration).unwrap();
            }
            conn.pragma_update(None, "user_version", applied as i64)
                .unwrap();
        }
        let mut store = Store::open(&path).unwrap();
        let version: i64 = store
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64, "from schema {applied}");
        save(
            &mut store,
            &[alert("OT-ZONE-002", 1, 1)],
            &observed(&policy(), 1),
            1,
        );
        let alerts = store.load_alerts().unwrap();
        assert_eq!(alerts.len(), 1, "from schema {applied}");
        let mark = AlertMark {
            fingerprint: alerts[0].fingerprint(),
            acknowledged: false,
            muted: true,
        };
        store.save_mark(&mark, "2024-01-15T08:00:00Z").unwrap();
        assert_eq!(store.load_marks().unwrap(), [mark], "from schema {applied}");
    }
}
