//! A syslog receiver on UDP loopback for the export tests, the
//! configuration that points a sink at it, and the check on what arrived.

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

pub struct UdpSyslog {
    socket: UdpSocket,
}

impl UdpSyslog {
    pub fn start() -> UdpSyslog {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        // What was sent is waiting once the sensor has ended: a short wait
        // tells the end of it.
        socket
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        UdpSyslog { socket }
    }

    /// Writes `dir/otsensor.toml`: one syslog sink, `siem`, sending alerts
    /// (as JSON) and assets here.
    pub fn config(&self, dir: &Path, sensor_id: &str) -> PathBuf {
        let port = self.socket.local_addr().unwrap().port();
        let path = dir.join("otsensor.toml");
        std::fs::write(
            &path,
            format!(
                "sensor_id = \"{sensor_id}\"\n\n[[sink]]\nname = \"siem\"\ntype = \"syslog\"\n\
                 url = \"udp://127.0.0.1:{port}\"\nformat = \"json\"\n\
                 records = [\"alerts\", \"assets\"]\n"
            ),
        )
        .unwrap();
        path
    }

    /// Every message received, once the sender is done.
    pub fn received(&self) -> Vec<String> {
        let mut received = Vec::new();
        let mut buf = vec![0u8; 65_536];
        while let Ok(n) = self.socket.recv(&mut buf) {
            received.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        received
    }
}

/// Asserts that every alert of `alerts_jsonl` arrived in its final state
/// (its id and rule); returns how many alerts there are.
pub fn assert_final_alerts_exported(
    received: &[String],
    alerts_jsonl: &Path,
    context: &str,
) -> usize {
    let alerts = std::fs::read_to_string(alerts_jsonl).unwrap();
    let alerts: Vec<Value> = alerts
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for alert in &alerts {
        let (rule, id) = (
            alert["rule"].as_str().unwrap(),
            alert["id"].as_str().unwrap(),
        );
        assert!(
            received.iter().any(|m| m.contains("\"state\":\"final\"")
                && m.contains(&format!("\"id\":\"{id}\""))
                && m.contains(&format!("\"rule\":\"{rule}\""))),
            "alert {id} ({rule}) was not exported; {} records came:\n{context}",
            received.len()
        );
    }
    alerts.len()
}
