//! A bad export configuration stops the sensor before it starts, saying
//! where (file:line:column) and why.

mod common;

use common::{demo_capture, otsensor, stderr};

/// Runs a replay with `config` as the export configuration; returns (exit
/// code, stderr, whether it wrote its output folder).
fn start(config: &str) -> (Option<i32>, String, bool) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("client.pem"), "not a certificate").unwrap();
    let path = dir.path().join("otsensor.toml");
    std::fs::write(&path, config).unwrap();
    let output = otsensor()
        .current_dir(dir.path())
        .arg("replay")
        .arg(demo_capture())
        .args(["--config", "otsensor.toml", "--out", "out"])
        .output()
        .unwrap();
    let wrote = dir.path().join("out").exists();
    (output.status.code(), stderr(&output), wrote)
}

fn refused(config: &str, message: &str) {
    let (code, stderr, wrote) = start(config);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        !wrote,
        "nothing is written when the configuration is refused"
    );
    assert_eq!(stderr.trim_end(), message);
}

#[test]
fn an_unknown_sink_type_is_refused() {
    refused(
        "sensor_id = \"s1\"\n\n[[sink]]\ntype = \"kafka\"\nurl = \"tcp://127.0.0.1:9092\"\n",
        "otsensor.toml:4:8: unknown sink type `kafka` (known: syslog, mqtt, nats)",
    );
}

#[test]
fn bad_urls_are_refused() {
    refused(
        "sensor_id = \"s1\"\n[[sink]]\ntype = \"syslog\"\nurl = \"tcp//siem.example\"\n",
        "otsensor.toml:4:7: bad URL `tcp//siem.example`: relative URL without a base",
    );
    refused(
        "sensor_id = \"s1\"\n[[sink]]\ntype = \"nats\"\nurls = [\"nats://a:4222\", \"http://b:4222\"]\n",
        "otsensor.toml:4:26: bad URL `http://b:4222`: scheme `http` is not one of nats, tls",
    );
    refused(
        "sensor_id = \"s1\"\n[[sink]]\ntype = \"mqtt\"\nurl = \"mqtt://:1883\"\n",
        "otsensor.toml:4:7: bad URL `mqtt://:1883`: empty host",
    );
}

#[test]
fn missing_tls_files_are_refused() {
    refused(
        "sensor_id = \"s1\"\n[[sink]]\ntype = \"mqtt\"\nurl = \"mqtts://broker.example\"\n\
         [sink.tls]\nca = \"ca.pem\"\ncert = \"client.pem\"\nkey = \"client.key\"\n",
        "otsensor.toml:6:6: TLS CA file `ca.pem` cannot be read: No such file or directory (os error 2)\n\
         otsensor.toml:8:7: TLS key file `client.key` cannot be read: No such file or directory (os error 2)",
    );
    refused(
        "sensor_id = \"s1\"\n[[sink]]\ntype = \"syslog\"\nurl = \"tls://siem.example\"\n",
        "otsensor.toml:2:1: a TLS sink needs a [sink.tls] table with `ca` (the certificates to trust)",
    );
}

#[test]
fn unknown_keys_and_misplaced_settings_are_refused() {
    refused(
        "sensor_id = \"s1\"\ncolour = \"blue\"\n",
        "otsensor.toml:2:1: unknown field `colour`, expected one of `sensor_id`, `spool_dir`, `drain_timeout_secs`, `sink`",
    );
    refused(
        "sensor_id = \"s1\"\n[[sink]]\ntype = \"mqtt\"\nurl = \"mqtt://127.0.0.1\"\nstream = \"X\"\n",
        "otsensor.toml:5:10: `stream` is not a setting of a mqtt sink",
    );
    refused(
        "sensor_id = \"s1\"\n[[sink]]\ntype = \"syslog\"\nurl = \"udp://127.0.0.1\"\nrecords = [\"alerts\", \"flows\"]\n",
        "otsensor.toml:5:22: unknown record kind `flows` (known: alerts, assets, events)",
    );
}

#[test]
fn a_sensor_id_that_cannot_name_topics_is_refused() {
    refused(
        "sensor_id = \"plant 1/north\"\n",
        "otsensor.toml:1:13: sensor_id `plant 1/north` must be 1 to 64 letters, digits, `-` or `_` (it is part of MQTT topics and NATS subjects)",
    );
    refused(
        "[[sink]]\ntype = \"syslog\"\nurl = \"udp://127.0.0.1\"\n",
        "otsensor.toml:1:1: missing `sensor_id`: every record names its sensor",
    );
}

#[test]
fn a_good_configuration_starts_even_with_its_destinations_down() {
    // Port 9 (discard) on loopback has no listener: the sink spools and says so.
    let (code, stderr, _) = start(
        "sensor_id = \"s1\"\ndrain_timeout_secs = 1\n[[sink]]\nname = \"siem\"\ntype = \"syslog\"\nurl = \"tcp://127.0.0.1:9\"\n",
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("otsensor: export siem: ")
            && stderr.contains("left in the spool for the next run"),
        "{stderr}"
    );
}
