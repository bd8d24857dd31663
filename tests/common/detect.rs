//! Running the detections in-process over a crafted or real capture, and
//! picking alerts out of the result.

use std::path::Path;

use otsensor::analysis::Analyzer;
use otsensor::analysis::inventory::Inventory;
use otsensor::analysis::policy::baseline::Baseline;
use otsensor::analysis::policy::load::parse_duration;
use otsensor::analysis::policy::{Alert, Source, load};
use otsensor::capture::expand_inputs;
use otsensor::pipeline::{ReplayConfig, replay};

use super::craft::{Craft, Host, Tcp, modbus};

/// Replays `craft` with the default pack and `policy` (TOML text), learning
/// for `learn` first if given; returns the alerts.
pub fn run(craft: &Craft, policy: &str, learn: Option<&str>) -> Vec<Alert> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crafted.pcap");
    craft.write(&path);
    run_file(&path, policy, learn)
}

/// Replays the capture at `path` as [`run`] does.
pub fn run_file(path: &Path, policy: &str, learn: Option<&str>) -> Vec<Alert> {
    let mut sources = vec![Source::default_pack()];
    if !policy.is_empty() {
        sources.push(Source {
            name: "test.toml".into(),
            text: policy.into(),
        });
    }
    let policy = load(&sources).unwrap_or_else(|e| panic!("{e}"));
    let mut analyzer = Analyzer::new(Inventory::new(), policy);
    if let Some(learn) = learn {
        analyzer = analyzer.with_baseline(Baseline::learn(parse_duration(learn).unwrap()));
    }
    let (inputs, _) = expand_inputs(&[path.to_path_buf()]).unwrap();
    let config = ReplayConfig {
        threads: 2,
        ..ReplayConfig::default()
    };
    let report = replay(&inputs, &config, analyzer, None, &mut |_| {}).unwrap();
    report.findings.alerts
}

pub fn rules(alerts: &[Alert]) -> Vec<&str> {
    alerts.iter().map(|a| a.rule.as_str()).collect()
}

pub fn only<'a>(alerts: &'a [Alert], rule: &str) -> Vec<&'a Alert> {
    alerts.iter().filter(|a| a.rule == rule).collect()
}

/// The one alert of `rule`, with its ends checked.
pub fn the<'a>(alerts: &'a [Alert], rule: &str, src: &str, dst: &str) -> &'a Alert {
    let found = only(alerts, rule);
    assert_eq!(found.len(), 1, "{rule}: {:?}", rules(alerts));
    let alert = found[0];
    assert_eq!(
        alert.src.ip.map(|ip| ip.to_string()).as_deref(),
        Some(src),
        "{alert:?}"
    );
    assert_eq!(
        alert.dst.ip.map(|ip| ip.to_string()).as_deref(),
        Some(dst),
        "{alert:?}"
    );
    alert
}

/// An HMI polling a PLC's holding registers `cycles` times, once a second.
pub fn poll(craft: &mut Craft, hmi: Host, plc: Host, cycles: u16) -> Tcp {
    let mut tcp = craft.connect(hmi, plc, 40000, 502);
    for t in 0..cycles {
        craft.exchange(
            &mut tcp,
            &modbus(t, 1, &[0x03, 0x00, 0x00, 0x00, 0x02]),
            &modbus(t, 1, &[0x03, 0x04, 0x00, 0x2a, 0x00, 0x2b]),
        );
        craft.wait(1.0);
    }
    tcp
}
