//! The fleet end to end: sensors export to a 3-node NATS JetStream cluster
//! (one node is killed mid-run), the hub writes PostgreSQL, and what the
//! database holds is what each sensor found on its own. Also: a syslog
//! receiver and an MQTT broker that stop mid-run and come back get every
//! record exactly once. The services are Debian's, started here on loopback.

mod common;
mod services;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use socket2::{Domain, Socket, Type};

use common::tmux::Tmux;
use common::{demo_capture, otsensor};
use services::{Service, wait_for};

/// A rule on every Modbus request, so that the demo raises alerts from all its Modbus pairs.
const POLICY: &str = r#"
[[rule]]
id = "TEST-MODBUS-001"
title = "Modbus request"
severity = "low"
match = { protocol = "modbus", is_response = false }
iec62443 = ["SR 3.1"]
"#;

fn write(path: &Path, text: &str) -> PathBuf {
    std::fs::write(path, text).unwrap();
    path.to_path_buf()
}

/// The packets of a classic pcap from number `from` (1-based) on: another
/// sensor's view of the same plant, later in the day.
fn capture_from(source: &Path, from: usize, out: &Path) {
    let bytes = std::fs::read(source).unwrap();
    let little = bytes[..4] == [0xd4, 0xc3, 0xb2, 0xa1] || bytes[..4] == [0x4d, 0x3c, 0xb2, 0xa1];
    let u32_at = |at: usize| {
        let b = [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
        if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    };
    let mut kept = bytes[..24].to_vec();
    let (mut at, mut number) = (24, 1);
    while at + 16 <= bytes.len() {
        let len = u32_at(at + 8) as usize;
        if number >= from {
            kept.extend_from_slice(&bytes[at..at + 16 + len]);
        }
        at += 16 + len;
        number += 1;
    }
    std::fs::write(out, kept).unwrap();
}

/// `export NAME: N records queued, M delivered…` lines of a sensor's stderr.
fn exported(output: &Output) -> BTreeMap<String, (u64, u64, String)> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut sinks = BTreeMap::new();
    for line in stderr.lines() {
        let Some(rest) = line.strip_prefix("otsensor: export ") else {
            continue;
        };
        let Some((name, rest)) = rest.split_once(": ") else {
            continue;
        };
        let numbers: Vec<u64> = rest
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse().ok())
            .collect();
        if numbers.len() >= 2 {
            sinks.insert(name.to_string(), (numbers[0], numbers[1], rest.to_string()));
        }
    }
    sinks
}

fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn assets_of(dir: &Path) -> Vec<Value> {
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("assets.json")).unwrap()).unwrap();
    doc["assets"].as_array().unwrap().clone()
}

fn sensor(capture: &Path, policy: &Path, config: &Path, out: &Path) -> Child {
    otsensor()
        .arg("replay")
        .arg(capture)
        .arg("--policy")
        .arg(policy)
        .arg("--config")
        .arg(config)
        .arg("--out")
        .arg(out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The stream's state as a node reports it: (messages, leader's name).
fn stream_state(monitor_port: u16) -> Option<(u64, String)> {
    let body = services::http_get(monitor_port, "/jsz?accounts=true&streams=true")?;
    let doc: Value = serde_json::from_str(&body).ok()?;
    for account in doc["account_details"].as_array()? {
        for stream in account["stream_detail"].as_array().into_iter().flatten() {
            if stream["name"] == "OTSENSOR" {
                return Some((
                    stream["state"]["messages"].as_u64()?,
                    stream["cluster"]["leader"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                ));
            }
        }
    }
    None
}

#[test]
fn two_sensors_and_a_hub_add_up_to_the_fleet_through_a_nats_node_failure() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mut nodes) = services::nats_cluster(&mkdir(dir.path(), "nats"), 3) else {
        return;
    };
    let Some(pg) = services::postgres(&mkdir(dir.path(), "pg")) else {
        return;
    };
    let urls: Vec<String> = nodes.iter().map(|n| n.url()).collect();
    let policy = write(&dir.path().join("policy.toml"), POLICY);
    let later = dir.path().join("plant-later.pcap");
    capture_from(&demo_capture(), 6000, &later);
    let captures = [("north", demo_capture()), ("south", later)];

    // The hub runs from the start, through the node failure.
    let mut hub = Service::spawn(
        "hub",
        otsensor().args([
            "hub",
            "--nats",
            &urls.join(","),
            "--postgres",
            &pg.url,
            "--replicas",
            "3",
        ]),
        &dir.path().join("hub.log"),
    );
    let mut children = Vec::new();
    for (id, capture) in &captures {
        let config = write(
            &dir.path().join(format!("{id}.toml")),
            &format!(
                "sensor_id = \"{id}\"\nspool_dir = \"spool-{id}\"\ndrain_timeout_secs = 120\n\n\
                 [[sink]]\nname = \"fleet\"\ntype = \"nats\"\nurls = [{}]\nreplicas = 3\n\
                 records = [\"alerts\", \"assets\", \"events\"]\ntimeout_secs = 2\n",
                urls.iter()
                    .map(|u| format!("\"{u}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        let out = dir.path().join(format!("out-{id}"));
        children.push((
            id.to_string(),
            out.clone(),
            sensor(capture, &policy, &config, &out),
        ));
    }
    // Mid-run: once the stream holds part of the records, its leader dies.
    let monitor = nodes[0].monitor_port;
    wait_for(
        "the first records in the stream",
        Duration::from_secs(60),
        || stream_state(monitor).is_some_and(|(messages, _)| messages >= 2_000),
    );
    let (_, leader) = stream_state(monitor).unwrap();
    let victim = leader.trim_start_matches('n').parse::<usize>().unwrap_or(0);
    nodes[victim].service.kill();
    let survivor = nodes[(victim + 1) % 3].monitor_port;

    let mut queued_total = 0;
    let mut expected: BTreeMap<String, (PathBuf, Vec<Value>)> = BTreeMap::new();
    for (id, out, child) in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "sensor {id}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let sinks = exported(&output);
        let (queued, delivered, line) = sinks.get("fleet").cloned().unwrap_or_else(|| {
            panic!(
                "sensor {id} reported no export: {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        assert_eq!(delivered, queued, "sensor {id}: {line}");
        assert!(
            !line.contains("DROPPED") && !line.contains("left in"),
            "sensor {id}: {line}"
        );
        queued_total += queued;
        let alerts = jsonl(&out.join("alerts.jsonl"));
        assert!(
            alerts.len() >= 5,
            "sensor {id} raised {} alerts",
            alerts.len()
        );
        expected.insert(id, (out, alerts));
    }

    // Nothing lost, nothing stored twice: the stream holds each record once.
    wait_for(
        "the surviving replicas to agree",
        Duration::from_secs(60),
        || stream_state(survivor).is_some_and(|(messages, _)| messages == queued_total),
    );

    // The hub wrote every alert, final, with the id and count the sensor gave it.
    let total_alerts: usize = expected.values().map(|(_, a)| a.len()).sum();
    // The hub wrote every final alert and every sensor's view of each asset
    // (in the stream, a sensor's last asset changes may follow its final alerts).
    let total_views: usize = expected.values().map(|(out, _)| assets_of(out).len()).sum();
    let written = || {
        services::psql(
            &pg.url,
            "SELECT (SELECT count(*) FROM alerts WHERE state = 'final') || ' final alerts, ' \
             || (SELECT count(*) FROM sensor_assets) || ' asset views'",
        )
        .concat()
    };
    let want = format!("{total_alerts} final alerts, {total_views} asset views");
    assert!(
        services::poll(Duration::from_secs(120), || written() == want),
        "the hub wrote {} of {want}; its log:\n{}",
        written(),
        std::fs::read_to_string(dir.path().join("hub.log")).unwrap_or_default()
    );
    hub.stop();
    for (id, (out, alerts)) in &expected {
        let mut want: Vec<String> = alerts
            .iter()
            .map(|a| {
                format!(
                    "{}|{}|{}",
                    a["id"].as_str().unwrap(),
                    a["rule"].as_str().unwrap(),
                    a["count"]
                )
            })
            .collect();
        want.sort();
        let got = services::psql(
            &pg.url,
            &format!(
                "SELECT alert_id, rule, count FROM alerts WHERE sensor_id = '{id}' ORDER BY 1, 2, 3"
            ),
        );
        assert_eq!(got, want, "alerts of {id}");
        let assets = assets_of(out);
        let rows = services::psql(
            &pg.url,
            &format!("SELECT count(*) FROM sensor_assets WHERE sensor_id = '{id}'"),
        );
        assert_eq!(rows, [assets.len().to_string()], "asset views of {id}");
    }

    // The fleet view: a device both sensors saw is one asset with both as evidence.
    let north = assets_of(&expected["north"].0);
    let south = assets_of(&expected["south"].0);
    let macs = |assets: &[Value]| -> BTreeSet<String> {
        assets
            .iter()
            .flat_map(|a| {
                a["macs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m.as_str().unwrap().to_string())
            })
            .collect()
    };
    let output = otsensor()
        .args(["assets", "--postgres", &pg.url, "--format", "json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let fleet: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    let (north_macs, south_macs) = (macs(&north), macs(&south));
    assert!(
        south_macs.is_subset(&north_macs),
        "the later capture shows no new device"
    );
    assert_eq!(fleet.len(), north.len(), "one fleet asset per device");
    let both = fleet
        .iter()
        .filter(|a| a["sensors"] == serde_json::json!(["north", "south"]))
        .count();
    assert_eq!(
        both,
        south.len(),
        "every device the south sensor saw is also the north's"
    );
    for asset in &fleet {
        let evidence = asset["evidence"].as_array().unwrap();
        assert_eq!(
            evidence.len(),
            asset["sensors"].as_array().unwrap().len(),
            "{asset}"
        );
    }
    let table = otsensor()
        .args(["assets", "--postgres", &pg.url])
        .output()
        .unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(
        table.ends_with(&format!("{} assets\n", north.len())),
        "{table}"
    );

    // The same fleet in the dashboard: merged assets, every sensor's alerts.
    let dashboard =
        |url: &str| format!("{} tui --postgres '{url}'", env!("CARGO_BIN_EXE_otsensor"));
    let command = dashboard(&pg.url);
    let Some(tmux) = Tmux::start("fleet", &command) else {
        return;
    };
    let assets_tab = format!("2 Assets ({})", north.len());
    let alerts_tab = format!("4 Alerts ({total_alerts})");
    tmux.wait_for(&["fleet of 2 sensor(s)", &assets_tab, &alerts_tab]);
    tmux.keys("2");
    tmux.wait_for(&["10.10.0.1", "Cisco Systems"]);
    tmux.keys("4");
    let first = &expected["north"].1[0];
    tmux.wait_for(&[
        &format!("Alerts: {total_alerts} of {total_alerts}"),
        first["title"].as_str().unwrap(),
    ]);

    // A mute is kept in the hub's database: the next dashboard hides the
    // muted alert and its repeats (same rule, ends and function) too.
    tmux.keys("m");
    tmux.wait_for(&["muted (M shows muted alerts); saved in the hub's database"]);
    tmux.keys("q");
    drop(tmux);
    let (marks, alerts) = fleet_marks_and_alerts(&pg.url);
    assert_eq!(marks.len(), 1, "{marks:?}");
    assert!(marks[0].muted && !marks[0].acknowledged, "{marks:?}");
    let hidden = (alerts.iter())
        .filter(|a| a.fingerprint() == marks[0].fingerprint)
        .count();
    assert!(hidden >= 1, "the muted alert is one of the fleet's");
    let muted_hidden = format!(
        "Alerts: {} of {total_alerts}, muted hidden",
        total_alerts - hidden
    );
    let tmux = Tmux::start("fleet-again", &command).unwrap();
    tmux.keys("4");
    tmux.wait_for(&[&muted_hidden]);
    drop(tmux);

    // A user who may only read the fleet gets the dashboard and the kept
    // mute, and is told why an acknowledgement cannot be kept.
    services::psql(
        &pg.url,
        "CREATE ROLE reader LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader",
    );
    let reader = dashboard(&pg.url.replacen("otsensor@", "reader@", 1));
    let tmux = Tmux::start("fleet-reader", &reader).unwrap();
    tmux.keys("4");
    tmux.wait_for(&[&muted_hidden]);
    tmux.keys("a");
    tmux.wait_for(&["could not save", "permission denied"]);
}

/// What the hub's database holds: the dashboard's marks, and the fleet's alerts.
fn fleet_marks_and_alerts(
    url: &str,
) -> (
    Vec<otsensor::output::store::AlertMark>,
    Vec<otsensor::output::alerts::AlertRecord>,
) {
    use otsensor::hub::db;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(async {
            let client = db::connect(url).await?;
            Ok::<_, String>((
                db::load_marks(&client).await?,
                db::fleet_alerts(&client).await?,
            ))
        })
        .unwrap()
}

#[test]
fn a_hub_database_that_refuses_the_connection_is_named_with_the_reason() {
    // A loopback port nothing listens on any more.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgresql://otsensor:secret@127.0.0.1:{port}/postgres");
    let output = otsensor()
        .args(["assets", "--postgres", &url])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let redacted = format!("postgresql://otsensor:***@127.0.0.1:{port}/postgres");
    assert!(
        stderr.contains(&redacted) && stderr.contains("Connection refused"),
        "{stderr}"
    );
    assert!(!stderr.contains("secret"), "{stderr}");
}

fn mkdir(base: &Path, name: &str) -> PathBuf {
    let dir = base.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A loopback port the test keeps while its receiver is down: a socket bound
/// with SO_REUSEPORT but not listening, so the sensor's connections are
/// refused and nothing else (a test's or a service's outgoing connection)
/// can take the port before the receiver comes back on it.
struct ReservedPort {
    _held: Socket,
    port: u16,
}

impl ReservedPort {
    fn new() -> Self {
        let port = services::free_port();
        let held = reusable_socket(port);
        Self { _held: held, port }
    }
}

/// A TCP socket bound to 127.0.0.1:`port` that shares it with the reservation.
fn reusable_socket(port: u16) -> Socket {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.set_reuse_address(true).unwrap();
    socket.set_reuse_port(true).unwrap();
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    socket
        .bind(&address.into())
        .unwrap_or_else(|e| panic!("bind {address}: {e}"));
    socket
}

/// Octet-counted syslog frames (RFC 6587) read by a listener the test can
/// stop (cleanly: it reads what was sent before its close) and start again.
struct SyslogReceiver;

impl SyslogReceiver {
    /// Listens on the reserved port for one connection; stops after
    /// `stop_after` frames (once), then returns to let the test restart it.
    fn serve(
        port: &ReservedPort,
        frames: Arc<Mutex<Vec<String>>>,
        stop_after: Option<usize>,
    ) -> std::thread::JoinHandle<()> {
        let socket = reusable_socket(port.port);
        socket.listen(16).unwrap();
        let listener = TcpListener::from(socket);
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            drop(listener);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut stream = stream;
            let mut stopping = false;
            loop {
                let mut length = Vec::new();
                if reader.read_until(b' ', &mut length).unwrap_or(0) == 0 {
                    break;
                }
                let len: usize = String::from_utf8_lossy(&length).trim().parse().unwrap();
                let mut frame = vec![0u8; len];
                reader.read_exact(&mut frame).unwrap();
                let mut all = frames.lock().unwrap();
                all.push(String::from_utf8(frame).unwrap());
                if !stopping && stop_after.is_some_and(|n| all.len() >= n) {
                    // A clean stop: say so, and read what the sensor sent before it noticed.
                    stopping = true;
                    stream.shutdown(Shutdown::Write).unwrap();
                }
            }
            let _ = stream.flush();
        })
    }
}

/// (key, state) of an alert's CEF message; `None` for other records.
fn cef_alert(frame: &str) -> Option<(String, String)> {
    let cef = &frame[frame.find("CEF:0|")?..];
    let field = |name: &str| {
        cef.split(' ')
            .find_map(|part| part.strip_prefix(&format!("{name}=")))
            .map(str::to_string)
    };
    Some((field("externalId")?, field("cat")?))
}

#[test]
fn a_syslog_receiver_that_restarts_mid_run_gets_every_alert_once() {
    let dir = tempfile::tempdir().unwrap();
    let reserved = ReservedPort::new();
    let port = reserved.port;
    let policy = write(&dir.path().join("policy.toml"), POLICY);
    let config = write(
        &dir.path().join("otsensor.toml"),
        &format!(
            "sensor_id = \"plant-1\"\nspool_dir = \"spool\"\ndrain_timeout_secs = 120\n\n\
             [[sink]]\nname = \"siem\"\ntype = \"syslog\"\nurl = \"tcp://127.0.0.1:{port}\"\n\
             format = \"cef\"\nrecords = [\"alerts\", \"assets\", \"events\"]\ntimeout_secs = 2\n"
        ),
    );
    let frames = Arc::new(Mutex::new(Vec::new()));
    let first = SyslogReceiver::serve(&reserved, frames.clone(), Some(3_000));
    let out = dir.path().join("out");
    let child = sensor(&demo_capture(), &policy, &config, &out);
    first.join().unwrap();
    let before_restart = frames.lock().unwrap().len();
    // Down for a moment: the sensor keeps going, into its spool.
    std::thread::sleep(Duration::from_millis(500));
    let second = SyslogReceiver::serve(&reserved, frames.clone(), None);
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    second.join().unwrap();

    let (queued, delivered, line) = exported(&output)["siem"].clone();
    assert_eq!(delivered, queued, "{line}");
    assert!(
        line.contains("failed attempts"),
        "the sensor saw the receiver go: {line}"
    );
    let frames = frames.lock().unwrap();
    assert!(
        before_restart < frames.len(),
        "records came after the restart"
    );
    assert_eq!(frames.len() as u64, queued, "every record exactly once");
    let alerts = jsonl(&out.join("alerts.jsonl"));
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    for frame in frames.iter() {
        assert!(
            frame.starts_with('<') && frame.contains(" plant-1 otsensor "),
            "{frame}"
        );
        if let Some(key) = cef_alert(frame) {
            *seen.entry(key).or_default() += 1;
        }
    }
    assert!(seen.values().all(|&n| n == 1), "an alert arrived twice");
    let states = |state: &str| seen.keys().filter(|(_, s)| s == state).count();
    assert_eq!(states("raised"), alerts.len());
    assert_eq!(states("final"), alerts.len());
}

#[test]
fn an_mqtt_broker_that_restarts_mid_run_gets_every_record() {
    for version in ["3.1.1", "5"] {
        mqtt_restart(version);
    }
}

fn mqtt_restart(version: &str) {
    let dir = tempfile::tempdir().unwrap();
    let Some(mut broker) = services::mosquitto(dir.path()) else {
        return;
    };
    let port = broker.port.to_string();
    let sub_program = services::program("mosquitto_sub", &[]).unwrap();
    let received = dir.path().join("received.txt");
    let protocol = if version == "5" { "mqttv5" } else { "mqttv311" };
    // A subscriber with a lasting session: it reconnects by itself when the
    // broker is back, which kept its session and messages.
    let _subscriber = Service::spawn(
        "mosquitto_sub",
        Command::new(&sub_program).args([
            "-p",
            &port,
            "-V",
            protocol,
            "-q",
            "1",
            "-c",
            "-i",
            "otsensor-test",
            "-t",
            "otsensor/#",
            "-v",
        ]),
        &received,
    );
    let pub_program = services::program("mosquitto_pub", &[]).unwrap();
    wait_for("the subscription", Duration::from_secs(30), || {
        let _ = Command::new(&pub_program)
            .args([
                "-p",
                &port,
                "-q",
                "1",
                "-t",
                "otsensor/probe",
                "-m",
                "probe",
            ])
            .output();
        std::fs::read_to_string(&received).is_ok_and(|t| t.contains("otsensor/probe"))
    });

    let policy = write(&dir.path().join("policy.toml"), POLICY);
    let config = write(
        &dir.path().join("otsensor.toml"),
        &format!(
            "sensor_id = \"plant-1\"\nspool_dir = \"spool\"\ndrain_timeout_secs = 120\n\n\
             [[sink]]\nname = \"broker\"\ntype = \"mqtt\"\nurl = \"mqtt://127.0.0.1:{port}\"\n\
             version = \"{version}\"\nrecords = [\"alerts\", \"assets\", \"events\"]\ntimeout_secs = 2\n"
        ),
    );
    let out = dir.path().join("out");
    let child = sensor(&demo_capture(), &policy, &config, &out);
    let lines = |path: &Path| std::fs::read_to_string(path).map_or(0, |t| t.lines().count());
    wait_for(
        "the first records at the subscriber",
        Duration::from_secs(60),
        || lines(&received) >= 2_000,
    );
    broker.stop();
    // Down for a moment: the sensor keeps going, into its spool.
    std::thread::sleep(Duration::from_millis(500));
    broker.start();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (queued, delivered, line) = exported(&output)["broker"].clone();
    assert_eq!(delivered, queued, "MQTT {version}: {line}");
    assert!(
        line.contains("failed attempts"),
        "the sensor saw the broker go: {line}"
    );

    let messages = || -> Vec<String> {
        std::fs::read_to_string(&received)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with("otsensor/plant-1/"))
            .map(str::to_string)
            .collect()
    };
    let arrived = || messages().len() as u64 >= queued;
    let waited = std::time::Instant::now();
    while !arrived() && waited.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let messages = messages();
    let mut records: BTreeMap<(String, String, String), &str> = BTreeMap::new();
    let mut repeats = 0;
    for message in &messages {
        let (topic, payload) = message.split_once(' ').unwrap();
        let record: Value = serde_json::from_str(payload).unwrap();
        assert_eq!(record["sensor_id"], "plant-1");
        let kind = record["record"].as_str().unwrap();
        let subtopic = match kind {
            "alert" => "alerts",
            "event" => "events",
            _ => "assets",
        };
        assert_eq!(topic, format!("otsensor/plant-1/{subtopic}"));
        let state = record["state"].as_str().unwrap_or("").to_string();
        let key = (
            kind.to_string(),
            record["key"].as_str().unwrap().to_string(),
            state,
        );
        // A repeat is the same record again, so that dropping it by key loses nothing.
        if let Some(first) = records.insert(key, payload) {
            assert_eq!(first, payload, "MQTT {version}: one key, two records");
            repeats += 1;
        }
    }
    // Every record arrived. QoS 1 repeats what was in flight when the broker
    // went: the sensor's window (32) per failed attempt, the broker's towards
    // the subscriber (mosquitto's default, 20) at its restart; on a loaded
    // machine a few windows more (CI once saw 207 after 3 failed attempts),
    // still a small share of the run.
    assert_eq!(records.len() as u64, queued, "MQTT {version}: every record");
    let failures = count_before(&line, " failed attempts");
    assert!(failures >= 1, "{line}");
    assert!(
        repeats <= (queued / 20).max(32 * failures + 20),
        "MQTT {version}: {repeats} repeats: {line}"
    );
    let expected = jsonl(&out.join("alerts.jsonl")).len();
    let alerts = records.keys().filter(|(kind, ..)| kind == "alert").count();
    assert_eq!(
        alerts,
        expected * 2,
        "MQTT {version}: each alert raised and final"
    );
}

/// A CA and a certificate it signed for 127.0.0.1, made with openssl in `dir`.
fn certificates(dir: &Path, ca_name: &str) -> Option<()> {
    let Some(openssl) = services::program("openssl", &[]) else {
        services::unavailable("openssl");
        return None;
    };
    let run = |args: &[&str]| {
        let output = Command::new(&openssl)
            .current_dir(dir)
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    run(&[
        &["req", "-x509"][..],
        &ec,
        &[
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            &format!("/CN={ca_name}"),
        ],
    ]
    .concat());
    run(&[
        &["req"][..],
        &ec,
        &[
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    ]
    .concat());
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    ]);
    Some(())
}

/// A TLS syslog receiver with `dir`'s server certificate: it serves one
/// connection after another (each handshake the sensor retries meets the same
/// certificate) until `stop`, and returns the frames of all of them.
struct TlsReceiver {
    port: u16,
    stopping: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<String>>,
}

impl TlsReceiver {
    fn start(dir: &Path) -> TlsReceiver {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(dir.join("server.pem"))
                .unwrap()
                .map(Result::unwrap)
                .collect();
        let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
        let config = Arc::new(
            rustls::ServerConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stopping = Arc::new(AtomicBool::new(false));
        let stop = stopping.clone();
        let thread = std::thread::spawn(move || {
            let mut frames = Vec::new();
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                stream
                    .set_read_timeout(Some(Duration::from_secs(30)))
                    .unwrap();
                let connection = rustls::ServerConnection::new(config.clone()).unwrap();
                let mut reader = BufReader::new(rustls::StreamOwned::new(connection, stream));
                while let Some(frame) = read_frame(&mut reader) {
                    frames.push(frame);
                }
            }
            frames
        });
        TlsReceiver {
            port,
            stopping,
            thread,
        }
    }

    /// Stops listening (a last connection wakes the thread) and returns every frame received.
    fn stop(self) -> Vec<String> {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
        self.thread.join().unwrap()
    }
}

/// One octet-counted frame (RFC 6587); `None` at the end of the connection
/// or when it is not syslog over TLS (a failed handshake).
fn read_frame(reader: &mut impl BufRead) -> Option<String> {
    let mut length = Vec::new();
    if reader.read_until(b' ', &mut length).unwrap_or(0) == 0 {
        return None;
    }
    let len: usize = String::from_utf8_lossy(&length).trim().parse().ok()?;
    let mut frame = vec![0u8; len];
    reader.read_exact(&mut frame).ok()?;
    String::from_utf8(frame).ok()
}

#[test]
fn a_tls_syslog_sink_checks_the_receiver_and_sends_leef_alerts() {
    let dir = tempfile::tempdir().unwrap();
    if certificates(dir.path(), "plant SIEM CA").is_none() {
        return;
    }
    let receiver = TlsReceiver::start(dir.path());
    let port = receiver.port;
    let policy = write(&dir.path().join("policy.toml"), POLICY);
    let config = write(
        &dir.path().join("otsensor.toml"),
        &format!(
            "sensor_id = \"plant-1\"\ndrain_timeout_secs = 60\n\n[[sink]]\nname = \"siem\"\n\
             type = \"syslog\"\nurl = \"tls://127.0.0.1:{port}\"\nformat = \"leef\"\n\
             [sink.tls]\nca = \"ca.pem\"\n"
        ),
    );
    let out = dir.path().join("out");
    let output = sensor(&demo_capture(), &policy, &config, &out)
        .wait_with_output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (queued, delivered, line) = exported(&output)["siem"].clone();
    assert_eq!(delivered, queued, "{line}");
    let frames = receiver.stop();
    assert_eq!(frames.len() as u64, queued);
    let alerts = jsonl(&out.join("alerts.jsonl"));
    let leef: Vec<&String> = frames
        .iter()
        .filter(|f| f.contains(" alert - LEEF:2.0|otsensor|"))
        .collect();
    assert_eq!(leef.len(), alerts.len() * 2, "each alert raised and final");
    let first = &alerts[0];
    assert!(
        leef.iter().any(
            |f| f.contains(&format!("|{}|^|", first["rule"].as_str().unwrap()))
                && f.contains(&format!("^alertId={}^", first["id"].as_str().unwrap()))
                && f.contains("^cat=final")
        ),
        "the first alert's final LEEF message"
    );
}

#[test]
fn a_tls_syslog_sink_refuses_a_receiver_it_cannot_trust() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    if certificates(dir.path(), "plant SIEM CA").is_none()
        || certificates(&other, "someone else").is_none()
    {
        return;
    }
    // The receiver presents a certificate from a CA the sensor does not trust.
    let receiver = TlsReceiver::start(&other);
    let port = receiver.port;
    let policy = write(&dir.path().join("policy.toml"), POLICY);
    let config = write(
        &dir.path().join("otsensor.toml"),
        &format!(
            "sensor_id = \"plant-1\"\ndrain_timeout_secs = 1\n\n[[sink]]\nname = \"siem\"\n\
             type = \"syslog\"\nurl = \"tls://127.0.0.1:{port}\"\n[sink.tls]\nca = \"ca.pem\"\n"
        ),
    );
    let output = sensor(&demo_capture(), &policy, &config, &dir.path().join("out"))
        .wait_with_output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (queued, delivered, line) = exported(&output)["siem"].clone();
    assert_eq!(delivered, 0, "{line}");
    assert!(
        line.contains(&format!("{queued} left in the spool")),
        "{line}"
    );
    assert!(line.contains("invalid peer certificate"), "{line}");
    assert!(receiver.stop().is_empty());
}

/// The numbers before `what` in an export line (`… 12 left in the spool …`).
fn count_before(line: &str, what: &str) -> u64 {
    let Some(at) = line.find(what) else {
        return 0;
    };
    let number = line[..at].trim_end();
    let digits = number.rsplit(|c: char| !c.is_ascii_digit()).next().unwrap();
    digits.parse().unwrap()
}

#[test]
fn a_receiver_that_is_down_fills_a_bounded_spool_counts_the_overflow_and_gets_the_rest_later() {
    let dir = tempfile::tempdir().unwrap();
    let reserved = ReservedPort::new();
    let port = reserved.port;
    let policy = write(&dir.path().join("policy.toml"), POLICY);
    let config = |records: &str, drain: u64| {
        write(
            &dir.path().join("otsensor.toml"),
            &format!(
                "sensor_id = \"plant-1\"\nspool_dir = \"spool\"\ndrain_timeout_secs = {drain}\n\n\
                 [[sink]]\nname = \"siem\"\ntype = \"syslog\"\nurl = \"tcp://127.0.0.1:{port}\"\n\
                 records = [{records}]\nspool_max_mb = 1\ntimeout_secs = 2\n"
            ),
        )
    };

    // The receiver is down for the whole run: the spool fills to its bound, the rest is counted.
    let down = config(r#""alerts", "assets", "events""#, 1);
    let output = sensor(&demo_capture(), &policy, &down, &dir.path().join("out-1"))
        .wait_with_output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (queued, delivered, line) = exported(&output)["siem"].clone();
    assert_eq!(delivered, 0, "{line}");
    let left = count_before(&line, " left in the spool");
    let dropped = count_before(&line, " DROPPED (spool full)");
    assert!(left > 0 && dropped > 0, "{line}");
    assert_eq!(
        left + dropped,
        queued,
        "every record spooled or counted: {line}"
    );
    let spooled: u64 = std::fs::read_dir(dir.path().join("spool/siem"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(spooled <= (1 << 20) + 4096, "{spooled} bytes on disk");

    // The next run, with the receiver back, sends what the spool kept first, then its own.
    let frames = Arc::new(Mutex::new(Vec::new()));
    let receiver = SyslogReceiver::serve(&reserved, frames.clone(), None);
    let up = config(r#""alerts""#, 120);
    let out = dir.path().join("out-2");
    let output = sensor(&demo_capture(), &policy, &up, &out)
        .wait_with_output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    receiver.join().unwrap();
    let (queued_now, delivered, line) = exported(&output)["siem"].clone();
    assert_eq!(delivered, left + queued_now, "{line}");
    assert!(
        !line.contains("DROPPED") && !line.contains("left in"),
        "{line}"
    );
    let frames = frames.lock().unwrap();
    assert_eq!(frames.len() as u64, left + queued_now);
    let alerts = jsonl(&out.join("alerts.jsonl")).len();
    assert_eq!(
        queued_now as usize,
        alerts * 2,
        "each alert raised and final"
    );
    let this_run = frames.iter().skip(left as usize);
    assert!(
        this_run.filter(|f| cef_alert(f).is_some()).count() as u64 == queued_now,
        "this run's alerts come after what the spool kept"
    );
}
