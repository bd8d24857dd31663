//! What the dashboard shows: an owned copy of the analysis at one moment,
//! built on the analysis thread (or from a finished replay, or from a store)
//! and handed whole to the UI thread, which never looks at the analysis itself.

use std::collections::HashMap;
use std::time::Duration;

use crate::analysis::inventory::{Asset, ChangeKind, HostKey, Role, Seen, format_mac, parse_mac};
use crate::analysis::policy::{Alert, Policy};
use crate::analysis::{Analyzer, Rates, Talker, TrafficReport};
use crate::hub::fleet::FleetAsset;
use crate::output::alerts::AlertRecord;
use crate::output::store::{Store, StoreError};
use crate::pipeline::{ReplayReport, SecondCount};
use crate::time::Timestamp;

use super::conduits::{ZoneMap, asset_zone};

/// Alerts a snapshot carries (the latest); older ones are counted.
pub const MAX_ALERTS: usize = 5_000;
/// Assets a snapshot carries (by address order); beyond, they are counted.
pub const MAX_ASSETS: usize = 20_000;

/// What is being shown.
#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    /// A replay in progress, paced at `speed` × capture time, or as fast as possible.
    Replaying { speed: Option<f64> },
    /// A replay that reached the end of its captures.
    Finished,
    /// A live capture on this interface.
    Live { interface: String },
    /// A live capture that stopped (its duration ran out, or it was asked to).
    CaptureEnded { interface: String },
    /// What a store kept from its runs.
    Stored { runs: u64 },
    /// What the hub's database holds from a fleet of sensors.
    Fleet { sensors: usize },
}

/// A drop counter of one pipeline stage; `None` where the stage does not
/// apply (kernel and ring in a replay) or is not known yet (counted at the end).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    pub name: &'static str,
    pub count: Option<u64>,
    pub what: &'static str,
}

/// What only a live capture loses, by stage (the first four [`Stage`]s),
/// and what the eBPF prefilter passed and dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LiveDrops {
    /// The NIC and the kernel's receive path.
    pub kernel: u64,
    pub ring: u64,
    /// Dropped on purpose by the eBPF prefilter.
    pub prefilter: u64,
    pub queue: u64,
    /// The prefilter's counts by protocol (empty without `--xdp`).
    pub prefilter_protocols: Vec<PrefilterLine>,
}

/// Packets the prefilter passed and dropped for one protocol (or class of
/// traffic not on its pass list: `other_tcp`, `other_udp`…).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrefilterLine {
    pub name: &'static str,
    pub passed: u64,
    pub dropped: u64,
}

/// One protocol's share of the traffic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolLine {
    pub name: &'static str,
    pub pdus: u64,
    /// Flows recognised as this protocol that ended.
    pub flows: u64,
    pub anomalous: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnomalyLine {
    /// `modbus.bad_length`, `frame.truncated_ipv4`…
    pub name: String,
    pub count: u64,
}

/// An asset with the columns the table shows worked out once.
#[derive(Clone, Debug, PartialEq)]
pub struct AssetView {
    pub asset: Asset,
    pub zone: String,
    pub vendor: String,
    pub model: String,
    pub firmware: String,
    /// Protocols served, then used, by name.
    pub protocols: Vec<&'static str>,
    /// First seen in this run (or, from a store, in its latest run).
    pub new: bool,
    /// Changed in this run (firmware, identity, addresses).
    pub changed: bool,
}

/// How fast the sensor itself goes (wall-clock; left out where output must be deterministic).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WallClock {
    pub elapsed: Duration,
    pub packets: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// What is shown: the captures' names, or the store's path.
    pub source: String,
    pub phase: Phase,
    /// The latest packet time seen.
    pub now: Option<Timestamp>,
    pub packets: u64,
    /// Bytes on the wire.
    pub bytes: u64,
    pub events: u64,
    /// The latest seconds of packet time, oldest first.
    pub rates: Vec<SecondCount>,
    /// By PDUs, most first.
    pub protocols: Vec<ProtocolLine>,
    pub anomalies: Vec<AnomalyLine>,
    pub talkers: Vec<Talker>,
    pub stages: Vec<Stage>,
    /// The live prefilter's counts, most packets first (empty without one).
    pub prefilter: Vec<PrefilterLine>,
    /// In address order.
    pub assets: Vec<AssetView>,
    /// Assets not carried ([`MAX_ASSETS`]) and hosts the inventory could not track.
    pub assets_untracked: u64,
    pub zones: ZoneMap,
    /// Oldest first.
    pub alerts: Vec<AlertRecord>,
    /// Alerts not carried: older than [`MAX_ALERTS`], or beyond the engine's bound.
    pub alerts_untracked: u64,
    pub wall: Option<WallClock>,
}

impl Snapshot {
    /// Nothing yet (before the first snapshot arrives).
    pub fn empty(source: &str, phase: Phase) -> Snapshot {
        Snapshot {
            source: source.to_string(),
            phase,
            now: None,
            packets: 0,
            bytes: 0,
            events: 0,
            rates: Vec::new(),
            protocols: Vec::new(),
            anomalies: Vec::new(),
            talkers: Vec::new(),
            stages: stages(None),
            prefilter: Vec::new(),
            assets: Vec::new(),
            assets_untracked: 0,
            zones: ZoneMap::default(),
            alerts: Vec::new(),
            alerts_untracked: 0,
            wall: None,
        }
    }

    /// The analysis while it runs. Costs a copy of the inventory and of the
    /// latest alerts: the publisher decides how often.
    pub fn of_analysis(analyzer: &Analyzer, source: &str, phase: Phase) -> Snapshot {
        let traffic = analyzer.traffic();
        let alerts = numbered(analyzer.alerts());
        let new_or_changed = flags(
            analyzer
                .changes()
                .iter()
                .map(|c| (c.host.to_string(), c.kind)),
        );
        let mut snapshot = Snapshot::empty(source, phase);
        snapshot.fill_traffic(&traffic, analyzer.rates());
        snapshot.alerts_untracked = (analyzer.alerts().len() - alerts.len()) as u64;
        let assets = analyzer.inventory().assets();
        snapshot.zones = ZoneMap::build(analyzer.policy(), &assets, &alerts);
        snapshot.fill_assets(
            assets,
            analyzer.inventory().untracked_hosts(),
            analyzer.policy(),
            &new_or_changed,
        );
        snapshot.alerts = alerts;
        snapshot
    }

    /// A finished replay: everything it found, with the pipeline's counts.
    pub fn of_replay(report: &ReplayReport, policy: &Policy, source: &str) -> Snapshot {
        let findings = &report.findings;
        let mut snapshot = Snapshot::empty(source, Phase::Finished);
        snapshot.fill_traffic(&findings.traffic, &findings.rates);
        for (name, count) in &report.malformed {
            snapshot.anomalies.push(AnomalyLine {
                name: format!("frame.{name}"),
                count: *count,
            });
        }
        snapshot.stages = stages(Some(report));
        let mut alerts: Vec<AlertRecord> = findings.alerts.iter().map(AlertRecord::from).collect();
        let new_or_changed = flags(
            findings
                .changes
                .iter()
                .map(|c| (c.host.to_string(), c.kind)),
        );
        snapshot.fill_assets(
            findings.assets.clone(),
            findings.inventory.untracked_hosts(),
            policy,
            &new_or_changed,
        );
        snapshot.zones = ZoneMap::build(policy, &findings.assets, &alerts);
        snapshot.alerts_untracked = findings.alerts_dropped + latest(&mut alerts);
        snapshot.alerts = alerts;
        snapshot
    }

    /// What a store kept: its inventory, the latest alerts, and what its
    /// latest run changed. Traffic counters are not kept by stores.
    pub fn of_store(store: &Store, policy: &Policy, source: &str) -> Result<Snapshot, StoreError> {
        let inventory = store.load_inventory()?;
        let assets = inventory.assets();
        let mut alerts = store.load_alerts()?;
        let older = latest(&mut alerts);
        let changes = store.last_run_changes()?;
        let new_or_changed = flags(changes.iter().filter_map(|(host, kind)| {
            let kind: ChangeKind =
                serde_json::from_value(serde_json::Value::String(kind.clone())).ok()?;
            Some((host.clone(), kind))
        }));
        let mut snapshot = Snapshot::empty(
            source,
            Phase::Stored {
                runs: store.runs()?,
            },
        );
        snapshot.stages = Vec::new();
        snapshot.now = assets.iter().map(|a| a.last_seen).max();
        snapshot.zones = ZoneMap::build(policy, &assets, &alerts);
        snapshot.fill_assets(assets, inventory.untracked_hosts(), policy, &new_or_changed);
        snapshot.alerts = alerts;
        snapshot.alerts_untracked = older;
        Ok(snapshot)
    }

    /// Fills in the drop counters that only a live capture knows.
    pub fn fill_live_drops(&mut self, drops: LiveDrops) {
        let mut prefilter = drops.prefilter_protocols;
        prefilter.sort_by_key(|p| std::cmp::Reverse(p.passed + p.dropped));
        self.prefilter = prefilter;
        for stage in &mut self.stages {
            stage.count = match stage.name {
                KERNEL => Some(drops.kernel),
                RING => Some(drops.ring),
                PREFILTER => Some(drops.prefilter),
                QUEUE => Some(drops.queue),
                _ => continue,
            };
        }
    }

    /// The fleet as the hub keeps it: assets merged across sensors (their
    /// addresses, role, identity and sensors) and every sensor's alerts.
    /// Neither traffic counters nor protocols are kept there.
    pub fn of_fleet(
        fleet: &[FleetAsset],
        mut alerts: Vec<AlertRecord>,
        policy: &Policy,
        source: &str,
    ) -> Snapshot {
        let older = latest(&mut alerts);
        let mut sensors: Vec<&str> = fleet
            .iter()
            .flat_map(|a| a.sensors.iter().map(String::as_str))
            .collect();
        sensors.sort_unstable();
        sensors.dedup();
        let mut snapshot = Snapshot::empty(
            source,
            Phase::Fleet {
                sensors: sensors.len(),
            },
        );
        snapshot.stages = Vec::new();
        let assets: Vec<Asset> = fleet.iter().map(fleet_asset).collect();
        snapshot.now = assets.iter().map(|a| a.last_seen).max();
        snapshot.zones = ZoneMap::build(policy, &assets, &alerts);
        snapshot.fill_assets(assets, 0, policy, &HashMap::new());
        // What the hub merged from its sensors' evidence.
        for (view, merged) in snapshot.assets.iter_mut().zip(fleet) {
            view.vendor = merged
                .vendor
                .clone()
                .or(view.asset.mac_vendor.map(str::to_string))
                .unwrap_or_default();
            view.model = merged.product.clone().unwrap_or_default();
            view.firmware = merged.firmware.clone().unwrap_or_default();
        }
        snapshot.alerts = alerts;
        snapshot.alerts_untracked = older;
        snapshot
    }

    fn fill_traffic(&mut self, traffic: &TrafficReport, rates: &Rates) {
        self.now = rates.now;
        self.packets = rates.packets;
        self.bytes = rates.bytes;
        self.events = traffic.events;
        self.rates = rates.history().copied().collect();
        let mut protocols: Vec<ProtocolLine> = traffic
            .protocols
            .iter()
            .map(|(protocol, stats)| ProtocolLine {
                name: protocol.name(),
                pdus: stats.pdus,
                flows: stats.flows,
                anomalous: stats.anomalous_pdus,
            })
            .collect();
        protocols.sort_by(|a, b| b.pdus.cmp(&a.pdus).then(a.name.cmp(b.name)));
        self.protocols = protocols;
        self.anomalies = traffic
            .anomalies
            .iter()
            .map(|((protocol, name), count)| AnomalyLine {
                name: format!("{}.{name}", protocol.name()),
                count: *count,
            })
            .collect();
        self.talkers = traffic.top_talkers.clone();
    }

    fn fill_assets(
        &mut self,
        mut assets: Vec<Asset>,
        untracked_hosts: u64,
        policy: &Policy,
        flags: &HashMap<String, (bool, bool)>,
    ) {
        let beyond = assets.len().saturating_sub(MAX_ASSETS);
        assets.truncate(MAX_ASSETS);
        self.assets_untracked = untracked_hosts + beyond as u64;
        self.assets = assets
            .into_iter()
            .map(|asset| view(asset, policy, flags))
            .collect();
    }
}

fn view(asset: Asset, policy: &Policy, flags: &HashMap<String, (bool, bool)>) -> AssetView {
    let field = |name: &str| asset.field(name).unwrap_or_default().to_string();
    let vendor = asset
        .field("vendor")
        .or(asset.mac_vendor)
        .unwrap_or_default()
        .to_string();
    let model = asset
        .field("product")
        .or(asset.field("product_code"))
        .or(asset.field("order_number"))
        .or(asset.field("device_type"))
        .unwrap_or_default()
        .to_string();
    let mut protocols: Vec<&'static str> = asset.served.keys().map(|p| p.name()).collect();
    for protocol in asset.used.keys() {
        if !protocols.contains(&protocol.name()) {
            protocols.push(protocol.name());
        }
    }
    let keys = asset
        .ips
        .iter()
        .map(|ip| HostKey::Ip(*ip).to_string())
        .chain(asset.macs.iter().map(format_mac));
    let (mut new, mut changed) = (false, false);
    for key in keys {
        if let Some((n, c)) = flags.get(&key) {
            new |= n;
            changed |= c;
        }
    }
    AssetView {
        zone: asset_zone(policy, &asset),
        vendor,
        model,
        firmware: field("firmware"),
        protocols,
        new,
        changed,
        asset,
    }
}

/// Keeps the latest [`MAX_ALERTS`] of `alerts` (oldest first); returns how
/// many older ones it left out.
fn latest(alerts: &mut Vec<AlertRecord>) -> u64 {
    let older = alerts.len().saturating_sub(MAX_ALERTS);
    alerts.drain(..older);
    older as u64
}

/// A fleet asset as an asset of the dashboard: addresses, role and times.
fn fleet_asset(merged: &FleetAsset) -> Asset {
    let seen = |text: &str| Timestamp::parse_rfc3339(text).unwrap_or_default();
    let ips = merged.ips.iter().filter_map(|ip| ip.parse().ok()).collect();
    let macs = merged.macs.iter().filter_map(|m| parse_mac(m)).collect();
    let first_seen = Seen {
        ts: seen(&merged.first_seen),
        capture: 0,
        packet: 0,
    };
    // Named as a sensor names its assets: by first IP address, else MAC.
    let mut asset = Asset::new(ips, macs, first_seen);
    asset.role = Role::from_name(&merged.role).unwrap_or(Role::Unknown);
    asset.role_reason = format!("as merged by the hub from {}", merged.sensors.join(", "));
    asset.purdue_level = asset.role.purdue_level();
    asset.last_seen = seen(&merged.last_seen);
    asset
}

/// For each host a change names: whether it is new, and whether it changed otherwise.
fn flags(changes: impl Iterator<Item = (String, ChangeKind)>) -> HashMap<String, (bool, bool)> {
    let mut flags: HashMap<String, (bool, bool)> = HashMap::new();
    for (host, kind) in changes {
        let entry = flags.entry(host).or_default();
        match kind {
            ChangeKind::NewAsset => entry.0 = true,
            _ => entry.1 = true,
        }
    }
    flags
}

/// Alerts raised so far, numbered as [`Analyzer::finish`] will number them
/// (by when they first happened); the latest [`MAX_ALERTS`].
fn numbered(alerts: &[Alert]) -> Vec<AlertRecord> {
    let mut order: Vec<&Alert> = alerts.iter().collect();
    order.sort_by_key(|a| (a.seq, a.ts));
    let keep = order.len().saturating_sub(MAX_ALERTS);
    order[keep..]
        .iter()
        .enumerate()
        .map(|(n, alert)| {
            let mut record = AlertRecord::from(*alert);
            record.id = format!("A{:06}", keep + n + 1);
            record
        })
        .collect()
}

const KERNEL: &str = "kernel";
const RING: &str = "ring";
const PREFILTER: &str = "prefilter";
const QUEUE: &str = "queue";

/// The drop counters of each stage, as far as a replay knows them.
fn stages(report: Option<&ReplayReport>) -> Vec<Stage> {
    let live_only = |name, what| Stage {
        name,
        count: None,
        what,
    };
    let mut stages = vec![
        live_only(KERNEL, "dropped by the NIC or the kernel (live capture)"),
        live_only(RING, "ring buffer full (live capture)"),
        live_only(PREFILTER, "dropped by the eBPF prefilter (live capture)"),
        live_only(
            QUEUE,
            "worker queues full (live capture; a replay waits instead)",
        ),
    ];
    let known = |f: &dyn Fn(&ReplayReport) -> u64| report.map(f);
    stages.push(Stage {
        name: "capture",
        count: known(&|r| {
            r.captures
                .iter()
                .map(|c| c.unsupported_link_types.iter().map(|(_, n)| n).sum::<u64>())
                .sum()
        }),
        what: "packets skipped: unsupported link types",
    });
    stages.push(Stage {
        name: "flow table",
        count: known(&|r| r.workers.flows.evicted),
        what: "flows evicted from a full flow table (--max-flows)",
    });
    stages.push(Stage {
        name: "reassembly",
        count: known(&|r| {
            let t = &r.workers.tcp;
            t.gaps + t.out_of_window + t.buffer_overflows
        }),
        what: "TCP holes given up, out-of-window segments, decoder buffer overflows",
    });
    stages
}
