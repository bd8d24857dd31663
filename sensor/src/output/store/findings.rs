//! What a run found beyond the inventory, in the store: alerts (one row per
//! alert identity), observed conduits (merged across runs), the zones and
//! conduits of the policy last loaded, and each run's capture period.

use rusqlite::{OptionalExtension, Row, Transaction, params};

use crate::analysis::conduits::{
    DeclaredAllow, DeclaredConduit, DeclaredPolicy, DeclaredZone, ObservedConduits, ZonePair,
};
use crate::analysis::policy::Alert;
use crate::output::alerts::{AlertRecord, EndRecord, EvidenceRecord};
use crate::time::Timestamp;

/// What a run found, saved with its inventory.
pub struct RunFindings<'a> {
    pub alerts: &'a [Alert],
    pub conduits: &'a ObservedConduits,
    /// The run's first and last packet.
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
}

/// A run, as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRecord {
    pub id: i64,
    pub captures: Vec<String>,
    pub packets: u64,
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
}

impl RunRecord {
    /// Whether it replayed the same traffic as `earlier` (same packets, same period).
    pub fn replays(&self, earlier: &RunRecord) -> bool {
        self.packets == earlier.packets
            && self.first_ts.is_some()
            && (self.first_ts, self.last_ts) == (earlier.first_ts, earlier.last_ts)
    }
}

pub(super) enum ReadError {
    Sqlite(rusqlite::Error),
    /// What, and why it cannot be read.
    Corrupt(String, String),
}

impl From<rusqlite::Error> for ReadError {
    fn from(e: rusqlite::Error) -> Self {
        ReadError::Sqlite(e)
    }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("store records serialise")
}

pub(super) fn save(tx: &Transaction, run: i64, findings: &RunFindings) -> rusqlite::Result<()> {
    let (first, last) = (
        findings.first_ts.map(|t| t.to_string()),
        findings.last_ts.map(|t| t.to_string()),
    );
    // A run over exactly the packets of an earlier one replays the same
    // traffic: what crossed is on record already.
    let replayed: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM runs r JOIN runs this ON this.id = ?1
             WHERE r.id != ?1 AND r.packets = this.packets AND r.first_ts IS ?2 AND r.last_ts IS ?3)",
        params![run, first, last],
        |r| r.get(0),
    )?;
    tx.execute(
        "UPDATE runs SET first_ts = ?1, last_ts = ?2 WHERE id = ?3",
        params![first, last, run],
    )?;
    save_alerts(tx, run, findings.alerts)?;
    if !replayed {
        save_pairs(tx, &findings.conduits.pairs)?;
    }
    // A run without zones (no plant policy) leaves the plant's zones on record.
    if !findings.conduits.declared.zones.is_empty() {
        save_policy(tx, &findings.conduits.declared)?;
    }
    Ok(())
}

/// An alert seen before (same identity) keeps its row: its last time and
/// count grow, and it remembers the run that saw it last.
fn save_alerts(tx: &Transaction, run: i64, alerts: &[Alert]) -> rusqlite::Result<()> {
    let mut upsert = tx.prepare(
        "INSERT INTO alerts (rule, src, dst, function, ts, last_ts, severity, title, description,
             src_ip, src_mac, src_name, src_asset, src_zone, src_role,
             dst_ip, dst_mac, dst_name, dst_asset, dst_zone, dst_role,
             zones, conduit, protocol, evidence, iec62443, mitre, count, first_run, last_run)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
             ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?29)
         ON CONFLICT (rule, src, dst, function, ts) DO UPDATE SET
             last_ts = max(last_ts, excluded.last_ts),
             count = max(count, excluded.count),
             last_run = excluded.last_run",
    )?;
    for alert in alerts {
        let a = AlertRecord::from_alert(alert);
        let (rule, src, dst, function, ts) = a.identity();
        upsert.execute(params![
            rule,
            src,
            dst,
            function,
            ts,
            a.last_ts.to_string(),
            a.severity,
            a.title,
            a.description,
            a.src.ip,
            a.src.mac,
            a.src.name,
            a.src.asset,
            a.src.zone,
            a.src.role,
            a.dst.ip,
            a.dst.mac,
            a.dst.name,
            a.dst.asset,
            a.dst.zone,
            a.dst.role,
            json(&a.zones),
            a.conduit,
            a.protocol,
            json(&a.evidence),
            json(&a.iec62443),
            json(&a.mitre),
            a.count as i64,
            run,
        ])?;
    }
    Ok(())
}

fn save_pairs(tx: &Transaction, pairs: &[ZonePair]) -> rusqlite::Result<()> {
    let mut select =
        tx.prepare("SELECT state FROM observed_conduits WHERE from_zone = ?1 AND to_zone = ?2")?;
    let mut upsert = tx.prepare(
        "INSERT INTO observed_conduits (from_zone, to_zone, state) VALUES (?1, ?2, ?3)
         ON CONFLICT (from_zone, to_zone) DO UPDATE SET state = ?3",
    )?;
    for pair in pairs {
        let kept: Option<String> = select
            .query_row(params![pair.from, pair.to], |r| r.get(0))
            .optional()?;
        // A row that no longer reads (written by hand) is replaced rather than blocking the run.
        let merged = match kept.and_then(|k| serde_json::from_str::<ZonePair>(&k).ok()) {
            Some(mut kept) => {
                kept.merge(pair);
                kept
            }
            None => pair.clone(),
        };
        upsert.execute(params![pair.from, pair.to, json(&merged)])?;
    }
    Ok(())
}

fn save_policy(tx: &Transaction, declared: &DeclaredPolicy) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM policy_zones", [])?;
    tx.execute("DELETE FROM policy_conduits", [])?;
    let mut zone = tx.prepare(
        "INSERT INTO policy_zones (position, name, description, cidrs, macs, security_level, purdue_level)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for (at, z) in declared.zones.iter().enumerate() {
        zone.execute(params![
            at as i64,
            z.name,
            z.description,
            json(&z.cidrs),
            json(&z.macs),
            z.security_level,
            z.purdue_level
        ])?;
    }
    let mut conduit = tx.prepare(
        "INSERT INTO policy_conduits (position, name, description, zone_a, zone_b, initiator, allow)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for (at, c) in declared.conduits.iter().enumerate() {
        conduit.execute(params![
            at as i64,
            c.name,
            c.description,
            c.zones[0],
            c.zones[1],
            c.initiator,
            json(&c.allow)
        ])?;
    }
    Ok(())
}

fn parse<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, ReadError> {
    serde_json::from_str(text).map_err(|e| ReadError::Corrupt(what.to_string(), e.to_string()))
}

fn timestamp(what: &str, text: &str) -> Result<Timestamp, ReadError> {
    Timestamp::parse_rfc3339(text)
        .ok_or_else(|| ReadError::Corrupt(what.to_string(), format!("bad time {text:?}")))
}

pub(super) fn load_alerts(conn: &rusqlite::Connection) -> Result<Vec<AlertRecord>, ReadError> {
    let mut stmt = conn.prepare(
        "SELECT id, rule, function, ts, last_ts, severity, title, description,
             src_ip, src_mac, src_name, src_asset, src_zone, src_role,
             dst_ip, dst_mac, dst_name, dst_asset, dst_zone, dst_role,
             zones, conduit, protocol, evidence, iec62443, mitre, count
         FROM alerts ORDER BY ts, rule, src, dst, function",
    )?;
    let mut rows = stmt.query([])?;
    let mut alerts = Vec::new();
    while let Some(row) = rows.next()? {
        alerts.push(alert(row)?);
    }
    Ok(alerts)
}

fn alert(row: &Row) -> Result<AlertRecord, ReadError> {
    let id: i64 = row.get(0)?;
    let what = format!("alert {id}");
    let end = |at: usize| -> rusqlite::Result<EndRecord> {
        Ok(EndRecord {
            ip: row.get(at)?,
            mac: row.get(at + 1)?,
            name: row.get(at + 2)?,
            asset: row.get(at + 3)?,
            zone: row.get(at + 4)?,
            role: row.get(at + 5)?,
        })
    };
    let function: String = row.get(2)?;
    Ok(AlertRecord {
        id: format!("A{id:06}"),
        rule: row.get(1)?,
        function: (!function.is_empty()).then_some(function),
        ts: timestamp(&what, &row.get::<_, String>(3)?)?,
        last_ts: timestamp(&what, &row.get::<_, String>(4)?)?,
        severity: row.get(5)?,
        title: row.get(6)?,
        description: row.get(7)?,
        src: end(8)?,
        dst: end(14)?,
        zones: parse(&what, &row.get::<_, String>(20)?)?,
        conduit: row.get(21)?,
        protocol: row.get(22)?,
        evidence: parse::<EvidenceRecord>(&what, &row.get::<_, String>(23)?)?,
        iec62443: parse(&what, &row.get::<_, String>(24)?)?,
        mitre: parse(&what, &row.get::<_, String>(25)?)?,
        count: row.get::<_, i64>(26)?.max(0) as u64,
    })
}

pub(super) fn load_pairs(conn: &rusqlite::Connection) -> Result<Vec<ZonePair>, ReadError> {
    let mut stmt = conn.prepare(
        "SELECT from_zone, to_zone, state FROM observed_conduits ORDER BY from_zone, to_zone",
    )?;
    let mut rows = stmt.query([])?;
    let mut pairs = Vec::new();
    while let Some(row) = rows.next()? {
        let (from, to): (String, String) = (row.get(0)?, row.get(1)?);
        pairs.push(parse(
            &format!("observed conduit {from} → {to}"),
            &row.get::<_, String>(2)?,
        )?);
    }
    Ok(pairs)
}

pub(super) fn load_policy(conn: &rusqlite::Connection) -> Result<DeclaredPolicy, ReadError> {
    let mut declared = DeclaredPolicy::default();
    let mut stmt = conn.prepare(
        "SELECT name, description, cidrs, macs, security_level, purdue_level
         FROM policy_zones ORDER BY position",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let name: String = row.get(0)?;
        let what = format!("zone {name}");
        declared.zones.push(DeclaredZone {
            description: row.get(1)?,
            cidrs: parse(&what, &row.get::<_, String>(2)?)?,
            macs: parse(&what, &row.get::<_, String>(3)?)?,
            security_level: row.get(4)?,
            purdue_level: row.get(5)?,
            name,
        });
    }
    let mut stmt = conn.prepare(
        "SELECT name, description, zone_a, zone_b, initiator, allow
         FROM policy_conduits ORDER BY position",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let name: String = row.get(0)?;
        let allow: Vec<DeclaredAllow> =
            parse(&format!("conduit {name}"), &row.get::<_, String>(5)?)?;
        declared.conduits.push(DeclaredConduit {
            description: row.get(1)?,
            zones: [row.get(2)?, row.get(3)?],
            initiator: row.get(4)?,
            allow,
            name,
        });
    }
    Ok(declared)
}

pub(super) fn load_runs(conn: &rusqlite::Connection) -> Result<Vec<RunRecord>, ReadError> {
    let mut stmt =
        conn.prepare("SELECT id, captures, packets, first_ts, last_ts FROM runs ORDER BY id")?;
    let mut rows = stmt.query([])?;
    let mut runs = Vec::new();
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let what = format!("run {id}");
        let time = |at: usize| -> Result<Option<Timestamp>, ReadError> {
            row.get::<_, Option<String>>(at)?
                .map(|t| timestamp(&what, &t))
                .transpose()
        };
        let captures: String = row.get(1)?;
        runs.push(RunRecord {
            id,
            captures: captures.lines().map(str::to_string).collect(),
            packets: row.get::<_, i64>(2)?.max(0) as u64,
            first_ts: time(3)?,
            last_ts: time(4)?,
        });
    }
    Ok(runs)
}
