//! The fleet view: each sensor's assets merged into devices. Two sensors'
//! assets are one device when they share a MAC address (routers' MACs are
//! never an asset's own, so they glue nothing), or the same vendor and
//! serial number; an asset a sensor saw without any MAC address (behind a
//! router) joins the device that has its IP address.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use serde_json::Value;

/// One sensor's asset, as the hub stores it.
#[derive(Clone, Debug, PartialEq)]
pub struct SensorAsset {
    pub sensor_id: String,
    pub asset_id: String,
    pub macs: Vec<String>,
    pub ips: Vec<String>,
    pub role: String,
    /// The asset record's fields (as `assets.json` writes them).
    pub body: Value,
}

impl SensorAsset {
    /// From an `asset` record; `None` if it lacks its id.
    pub fn from_record(sensor_id: &str, body: Value) -> Option<SensorAsset> {
        let strings = |key: &str| -> Vec<String> {
            body.get(key)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        Some(SensorAsset {
            sensor_id: sensor_id.to_string(),
            asset_id: body.get("id")?.as_str()?.to_string(),
            macs: strings("macs"),
            ips: strings("ips"),
            role: body
                .get("role")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_string(),
            body,
        })
    }

    fn identity(&self, field: &str) -> Option<(&str, &str)> {
        let evidence = self.body.get("identity")?.get(field)?;
        Some((
            evidence.get("value")?.as_str()?,
            evidence
                .get("last_seen")
                .and_then(Value::as_str)
                .unwrap_or(""),
        ))
    }

    fn time(&self, key: &str) -> &str {
        let v = self.body.get(key);
        // first_seen is {ts, packet}; last_seen is a time.
        v.and_then(|v| v.get("ts").or(Some(v)))
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

/// A device as the fleet sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FleetAsset {
    /// Its smallest MAC address, or else its smallest IP address.
    pub fleet_id: String,
    pub macs: Vec<String>,
    pub ips: Vec<String>,
    pub role: String,
    pub vendor: Option<String>,
    pub product: Option<String>,
    pub firmware: Option<String>,
    /// The sensors that saw it.
    pub sensors: Vec<String>,
    pub first_seen: String,
    pub last_seen: String,
    /// (sensor, that sensor's asset id) for each piece of evidence.
    pub evidence: Vec<(String, String)>,
}

/// Roles from the most to the least telling (the inventory's rule order).
const ROLE_ORDER: &[&str] = &[
    "engineering_workstation",
    "rtu",
    "ied",
    "plc",
    "historian",
    "hmi",
    "network_device",
    "it_host",
    "unknown",
];

struct Groups(Vec<usize>);

impl Groups {
    fn root(&mut self, mut i: usize) -> usize {
        while self.0[i] != i {
            self.0[i] = self.0[self.0[i]];
            i = self.0[i];
        }
        i
    }

    fn join(&mut self, a: usize, b: usize) {
        let (a, b) = (self.root(a), self.root(b));
        let (keep, other) = if a < b { (a, b) } else { (b, a) };
        self.0[other] = keep;
    }
}

/// Merges every sensor's assets into devices, sorted by fleet id.
pub fn merge(assets: &[SensorAsset]) -> Vec<FleetAsset> {
    let mut groups = Groups((0..assets.len()).collect());
    let mut by_mac: HashMap<&str, usize> = HashMap::new();
    let mut by_ip: HashMap<&str, usize> = HashMap::new();
    let mut by_serial: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, asset) in assets.iter().enumerate() {
        for mac in &asset.macs {
            let first = *by_mac.entry(mac).or_insert(i);
            groups.join(first, i);
        }
        if let (Some((vendor, _)), Some((serial, _))) =
            (asset.identity("vendor"), asset.identity("serial"))
        {
            let first = *by_serial.entry((vendor, serial)).or_insert(i);
            groups.join(first, i);
        }
    }
    // Address-only sightings join the device that owns the address (one with a MAC).
    for (i, asset) in assets.iter().enumerate() {
        if !asset.macs.is_empty() {
            for ip in &asset.ips {
                by_ip.entry(ip).or_insert(i);
            }
        }
    }
    for (i, asset) in assets.iter().enumerate() {
        if asset.macs.is_empty() {
            for ip in &asset.ips {
                let first = *by_ip.entry(ip).or_insert(i);
                groups.join(first, i);
            }
        }
    }
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..assets.len() {
        let root = groups.root(i);
        members.entry(root).or_default().push(i);
    }
    let mut fleet: Vec<FleetAsset> = members
        .values()
        .map(|group| device(group.iter().map(|&i| &assets[i]).collect()))
        .collect();
    fleet.sort_by(|a, b| a.fleet_id.cmp(&b.fleet_id));
    fleet
}

fn device(members: Vec<&SensorAsset>) -> FleetAsset {
    let macs: BTreeSet<String> = members
        .iter()
        .flat_map(|a| a.macs.iter().cloned())
        .collect();
    let ips: BTreeSet<String> = members.iter().flat_map(|a| a.ips.iter().cloned()).collect();
    let sensors: BTreeSet<String> = members.iter().map(|a| a.sensor_id.clone()).collect();
    let role = members
        .iter()
        .map(|a| a.role.as_str())
        .min_by_key(|r| {
            ROLE_ORDER
                .iter()
                .position(|o| o == r)
                .unwrap_or(ROLE_ORDER.len())
        })
        .unwrap_or("unknown")
        .to_string();
    // The latest word on each identity field, whichever sensor heard it.
    let latest = |field: &str| {
        members
            .iter()
            .filter_map(|a| a.identity(field))
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(value, _)| value.to_string())
    };
    let first_seen = members
        .iter()
        .map(|a| a.time("first_seen"))
        .filter(|t| !t.is_empty())
        .min()
        .unwrap_or("")
        .to_string();
    let last_seen = members
        .iter()
        .map(|a| a.time("last_seen"))
        .max()
        .unwrap_or("")
        .to_string();
    let fleet_id = macs
        .iter()
        .next()
        .or_else(|| smallest_ip(&ips))
        .cloned()
        .unwrap_or_else(|| members[0].asset_id.clone());
    let mut evidence: Vec<(String, String)> = members
        .iter()
        .map(|a| (a.sensor_id.clone(), a.asset_id.clone()))
        .collect();
    evidence.sort();
    FleetAsset {
        fleet_id,
        macs: macs.into_iter().collect(),
        ips: ips.into_iter().collect(),
        role,
        vendor: latest("vendor"),
        product: latest("product"),
        firmware: latest("firmware"),
        sensors: sensors.into_iter().collect(),
        first_seen,
        last_seen,
        evidence,
    }
}

/// The smallest address by value (10.0.0.9 before 10.0.0.10).
fn smallest_ip(ips: &BTreeSet<String>) -> Option<&String> {
    ips.iter()
        .min_by_key(|ip| ip.parse::<std::net::IpAddr>().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn asset(
        sensor: &str,
        id: &str,
        macs: &[&str],
        ips: &[&str],
        role: &str,
        identity: Value,
    ) -> SensorAsset {
        SensorAsset::from_record(
            sensor,
            json!({
                "id": id, "macs": macs, "ips": ips, "role": role, "identity": identity,
                "first_seen": {"ts": format!("2024-01-15T08:00:0{}.000000Z", sensor.len() % 10), "packet": 1},
                "last_seen": format!("2024-01-15T09:00:0{}.000000Z", sensor.len() % 10),
            }),
        )
        .unwrap()
    }

    fn said(value: &str, last_seen: &str) -> Value {
        json!({"value": value, "source": "s7comm", "last_seen": last_seen})
    }

    #[test]
    fn the_same_mac_seen_by_two_sensors_is_one_device_with_both_as_evidence() {
        let assets = [
            asset(
                "north",
                "10.0.0.5",
                &["00:1b:1b:00:00:01"],
                &["10.0.0.5"],
                "plc",
                json!({"firmware": said("V3.2", "2024-01-15T08:00:00Z")}),
            ),
            asset(
                "south",
                "10.0.0.5",
                &["00:1b:1b:00:00:01"],
                &["10.0.0.5", "10.0.9.5"],
                "unknown",
                json!({"firmware": said("V3.3", "2024-01-16T08:00:00Z"), "vendor": said("Siemens", "2024-01-15T08:00:00Z")}),
            ),
            asset(
                "south",
                "10.0.0.7",
                &["00:1b:1b:00:00:07"],
                &["10.0.0.7"],
                "hmi",
                json!({}),
            ),
        ];
        let fleet = merge(&assets);
        assert_eq!(fleet.len(), 2);
        let plc = &fleet[0];
        assert_eq!(plc.fleet_id, "00:1b:1b:00:00:01");
        assert_eq!(plc.ips, ["10.0.0.5", "10.0.9.5"]);
        assert_eq!(plc.role, "plc");
        assert_eq!(plc.firmware.as_deref(), Some("V3.3"));
        assert_eq!(plc.vendor.as_deref(), Some("Siemens"));
        assert_eq!(plc.sensors, ["north", "south"]);
        assert_eq!(
            plc.evidence,
            [
                ("north".to_string(), "10.0.0.5".to_string()),
                ("south".to_string(), "10.0.0.5".to_string())
            ]
        );
        assert_eq!(fleet[1].sensors, ["south"]);
    }

    #[test]
    fn an_address_seen_behind_a_router_joins_the_device_that_owns_it() {
        let assets = [
            asset(
                "cell",
                "10.0.0.5",
                &["00:1b:1b:00:00:01"],
                &["10.0.0.5"],
                "plc",
                json!({}),
            ),
            asset("dmz", "10.0.0.5", &[], &["10.0.0.5"], "unknown", json!({})),
            asset(
                "dmz",
                "192.168.1.1",
                &[],
                &["192.168.1.1"],
                "unknown",
                json!({}),
            ),
        ];
        let fleet = merge(&assets);
        assert_eq!(fleet.len(), 2);
        assert_eq!(fleet[0].fleet_id, "00:1b:1b:00:00:01");
        assert_eq!(fleet[0].sensors, ["cell", "dmz"]);
        assert_eq!(fleet[1].fleet_id, "192.168.1.1");
    }

    #[test]
    fn vendor_and_serial_number_identify_a_device_whose_macs_differ() {
        let id = json!({"vendor": said("Rockwell", "x"), "serial": said("0x00c0ffee", "x")});
        let assets = [
            asset(
                "a",
                "10.1.0.2",
                &["00:00:bc:00:00:01"],
                &["10.1.0.2"],
                "plc",
                id.clone(),
            ),
            asset(
                "b",
                "10.2.0.2",
                &["00:00:bc:00:00:02"],
                &["10.2.0.2"],
                "plc",
                id,
            ),
        ];
        let fleet = merge(&assets);
        assert_eq!(fleet.len(), 1);
        assert_eq!(fleet[0].macs.len(), 2);
    }

    #[test]
    fn different_devices_stay_apart() {
        let assets = [
            asset(
                "a",
                "10.0.0.9",
                &["00:00:00:00:00:09"],
                &["10.0.0.9"],
                "plc",
                json!({}),
            ),
            asset(
                "b",
                "10.0.0.10",
                &["00:00:00:00:00:10"],
                &["10.0.0.10"],
                "plc",
                json!({}),
            ),
        ];
        assert_eq!(merge(&assets).len(), 2);
    }
}
