//! Where a report's findings come from: a replay's output directory
//! (`stats.json`, `assets.json`, `alerts.jsonl`, `conduits.json`) or the store.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::ReportInput;
use crate::analysis::conduits::ZoneAsset;
use crate::output::alerts;
use crate::output::store::{Store, StoreError};
use crate::time::Timestamp;

/// A file of a replay's output that is missing or cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct InputError {
    pub path: String,
    pub reason: String,
}

fn read(dir: &Path, name: &str) -> Result<(String, String), InputError> {
    let path = dir.join(name);
    let shown = path.display().to_string();
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok((shown, text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(InputError {
            path: shown,
            reason: "missing (write it with `otsensor replay CAPTURE --out DIR`)".into(),
        }),
        Err(e) => Err(InputError {
            path: shown,
            reason: e.to_string(),
        }),
    }
}

fn bad(path: &str, reason: impl std::fmt::Display) -> InputError {
    InputError {
        path: path.to_string(),
        reason: reason.to_string(),
    }
}

/// The findings `otsensor replay --out DIR` wrote.
pub fn from_dir(dir: &Path) -> Result<ReportInput, InputError> {
    let (path, text) = read(dir, "stats.json")?;
    let stats: Value = serde_json::from_str(&text).map_err(|e| bad(&path, e))?;
    let time = |name: &str| -> Result<Option<Timestamp>, InputError> {
        match stats.get(name).and_then(Value::as_str) {
            None => Ok(None),
            Some(t) => Timestamp::parse_rfc3339(t)
                .map(Some)
                .ok_or_else(|| bad(&path, format!("{name}: bad time {t:?}"))),
        }
    };
    let (first_ts, last_ts) = (time("first_packet")?, time("last_packet")?);
    let captures = stats
        .get("captures")
        .and_then(Value::as_array)
        .map(|captures| {
            captures
                .iter()
                .filter_map(|c| c.get("file").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let packets = stats
        .pointer("/traffic/packets")
        .and_then(Value::as_u64)
        .unwrap_or(0);

    let (path, text) = read(dir, "assets.json")?;
    let doc: AssetsDoc = serde_json::from_str(&text).map_err(|e| bad(&path, e))?;
    let assets = doc
        .assets
        .into_iter()
        .map(AssetJson::into_zone_asset)
        .collect();

    let (path, text) = read(dir, "alerts.jsonl")?;
    let alerts = alerts::read_jsonl(&text).map_err(|e| bad(&path, e))?;

    let (path, text) = read(dir, "conduits.json")?;
    let observed = crate::output::conduits::read_json(&text).map_err(|e| bad(&path, e))?;

    Ok(ReportInput {
        source: format!("the replay output in {}", dir.display()),
        captures,
        packets,
        first_ts,
        last_ts,
        assets,
        observed,
        alerts,
    })
}

/// The findings kept in a store, over all its runs.
pub fn from_store(store: &Store, name: &str) -> Result<ReportInput, StoreError> {
    let runs = store.load_runs()?;
    let mut captures: Vec<String> = Vec::new();
    for run in &runs {
        for capture in &run.captures {
            if !captures.contains(capture) {
                captures.push(capture.clone());
            }
        }
    }
    let first_ts = runs.iter().filter_map(|r| r.first_ts).min();
    let last_ts = runs.iter().filter_map(|r| r.last_ts).max();
    let assets = store
        .load_inventory()?
        .assets()
        .iter()
        .map(ZoneAsset::from_asset)
        .collect();
    Ok(ReportInput {
        source: format!(
            "the store {name} ({} run{})",
            runs.len(),
            if runs.len() == 1 { "" } else { "s" }
        ),
        captures,
        // A run that replayed an earlier one's traffic adds no packets.
        packets: runs
            .iter()
            .enumerate()
            .filter(|(i, r)| !runs[..*i].iter().any(|e| r.replays(e)))
            .map(|(_, r)| r.packets)
            .sum(),
        first_ts,
        last_ts,
        assets,
        observed: store.load_conduits()?,
        alerts: store.load_alerts()?,
    })
}

#[derive(Deserialize)]
struct AssetsDoc {
    assets: Vec<AssetJson>,
}

/// The parts of an `assets.json` asset a report shows.
#[derive(Deserialize)]
struct AssetJson {
    id: String,
    #[serde(default)]
    ips: Vec<String>,
    #[serde(default)]
    macs: Vec<String>,
    #[serde(default)]
    mac_vendor: Option<String>,
    role: String,
    #[serde(default)]
    identity: std::collections::BTreeMap<String, IdentityJson>,
}

#[derive(Deserialize)]
struct IdentityJson {
    value: String,
}

impl AssetJson {
    fn into_zone_asset(self) -> ZoneAsset {
        let field = |name: &str| self.identity.get(name).map(|e| e.value.clone());
        ZoneAsset {
            vendor: field("vendor").or(self.mac_vendor.clone()),
            model: field("product")
                .or(field("product_code"))
                .or(field("order_number")),
            firmware: field("firmware"),
            id: self.id,
            role: self.role,
            ips: self.ips,
            macs: self.macs,
        }
    }
}
