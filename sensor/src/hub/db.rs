//! The hub's PostgreSQL database: schema migrations, idempotent writes of
//! the sensors' records, and the fleet view.

use serde_json::Value;
use tokio_postgres::{Client, GenericClient, NoTls, Transaction};

use super::fleet::{self, FleetAsset, SensorAsset};
use crate::output::alerts::AlertRecord;
use crate::output::store::AlertMark;

/// Migrations in order; each runs once, in a transaction, recorded in `schema_migrations`.
const MIGRATIONS: &[(i32, &str, &str)] = &[
    (1, "fleet", include_str!("migrations/0001_fleet.sql")),
    (
        2,
        "alert_marks",
        include_str!("migrations/0002_alert_marks.sql"),
    ),
];

/// Connects, running the connection on the current tokio runtime.
pub async fn connect(url: &str) -> Result<Client, String> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(|e| format!("PostgreSQL {}: {}", redact(url), describe(&e)))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("otsensor: PostgreSQL connection: {}", describe(&e));
        }
    });
    Ok(client)
}

/// `url` without its password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// A PostgreSQL error with the server's own words: its `Display` alone says
/// only "db error" (or "error connecting to server").
pub fn describe(e: &tokio_postgres::Error) -> String {
    match std::error::Error::source(e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}

/// Brings the schema up to date; returns the migrations applied now.
pub async fn migrate(client: &mut Client) -> Result<Vec<i32>, String> {
    let fail = |e: tokio_postgres::Error| format!("migrating the schema: {}", describe(&e));
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version int PRIMARY KEY, name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await
        .map_err(fail)?;
    let mut applied = Vec::new();
    for &(version, name, sql) in MIGRATIONS {
        let tx = client.transaction().await.map_err(fail)?;
        // One hub at a time applies migrations.
        tx.batch_execute("LOCK TABLE schema_migrations IN EXCLUSIVE MODE")
            .await
            .map_err(fail)?;
        let done = tx
            .query_opt(
                "SELECT 1 FROM schema_migrations WHERE version = $1",
                &[&version],
            )
            .await
            .map_err(fail)?
            .is_some();
        if !done {
            tx.batch_execute(sql)
                .await
                .map_err(|e| format!("migration {version} ({name}): {}", describe(&e)))?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                &[&version, &name],
            )
            .await
            .map_err(fail)?;
            applied.push(version);
        }
        tx.commit().await.map_err(fail)?;
    }
    Ok(applied)
}

/// What one batch held.
#[derive(Default, Debug)]
pub struct Written {
    pub alerts: u64,
    pub changes: u64,
    pub assets: u64,
    pub skipped: u64,
}

/// Writes one record (a parsed JSON object) within `tx`. Writing it again changes nothing.
pub async fn write(
    tx: &Transaction<'_>,
    record: &Value,
    written: &mut Written,
) -> Result<(), String> {
    let text = |key: &str| {
        record
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let sensor = text("sensor_id");
    let key = text("key");
    if sensor.is_empty() || key.is_empty() {
        written.skipped += 1;
        return Ok(());
    }
    let fail = |e: tokio_postgres::Error| format!("writing {sensor}/{key}: {}", describe(&e));
    tx.execute(
        "INSERT INTO sensors (sensor_id) VALUES ($1)
         ON CONFLICT (sensor_id) DO UPDATE SET last_record = now()",
        &[&sensor],
    )
    .await
    .map_err(fail)?;
    match text("record").as_str() {
        "alert" => {
            let end = |side: &str| {
                record
                    .get(side)
                    .and_then(|e| e.get("ip"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            let alert_id = Some(text("id")).filter(|id| !id.is_empty());
            let count = record.get("count").and_then(Value::as_i64).unwrap_or(1);
            // A final record wins over a raised one, a larger count over a smaller;
            // nothing goes back, whatever order the records arrive in.
            tx.execute(
                "INSERT INTO alerts (sensor_id, key, state, alert_id, rule, severity, title,
                                     ts, last_ts, count, src_ip, dst_ip, body)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, ($8::text)::timestamptz,
                         ($9::text)::timestamptz, $10, $11, $12, $13)
                 ON CONFLICT (sensor_id, key) DO UPDATE SET
                     state = EXCLUDED.state, alert_id = EXCLUDED.alert_id,
                     last_ts = EXCLUDED.last_ts, count = EXCLUDED.count, body = EXCLUDED.body
                 WHERE alerts.state = 'raised'
                   AND (EXCLUDED.state = 'final' OR EXCLUDED.count > alerts.count)",
                &[
                    &sensor,
                    &key,
                    &text("state"),
                    &alert_id,
                    &text("rule"),
                    &text("severity"),
                    &text("title"),
                    &text("ts"),
                    &text("last_ts"),
                    &count,
                    &end("src"),
                    &end("dst"),
                    record,
                ],
            )
            .await
            .map_err(fail)?;
            written.alerts += 1;
        }
        "change" => {
            let seen = record
                .get("seen")
                .and_then(|s| s.get("ts"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            tx.execute(
                "INSERT INTO asset_changes (sensor_id, key, kind, host, ts, detail, body)
                 VALUES ($1, $2, $3, $4, ($5::text)::timestamptz, $6, $7)
                 ON CONFLICT (sensor_id, key) DO NOTHING",
                &[
                    &sensor,
                    &key,
                    &text("kind"),
                    &text("host"),
                    &seen,
                    &text("detail"),
                    record,
                ],
            )
            .await
            .map_err(fail)?;
            written.changes += 1;
        }
        "asset" => {
            let Some(asset) = SensorAsset::from_record(&sensor, record.clone()) else {
                written.skipped += 1;
                return Ok(());
            };
            // A newer view of the asset replaces an older one, never the reverse.
            tx.execute(
                "INSERT INTO sensor_assets (sensor_id, asset_id, macs, ips, role, last_seen, body)
                 VALUES ($1, $2, $3, $4, $5, ($6::text)::timestamptz, $7)
                 ON CONFLICT (sensor_id, asset_id) DO UPDATE SET
                     macs = EXCLUDED.macs, ips = EXCLUDED.ips, role = EXCLUDED.role,
                     last_seen = EXCLUDED.last_seen, body = EXCLUDED.body, updated_at = now()
                 WHERE EXCLUDED.last_seen >= sensor_assets.last_seen",
                &[
                    &sensor,
                    &asset.asset_id,
                    &asset.macs,
                    &asset.ips,
                    &asset.role,
                    &text("last_seen"),
                    record,
                ],
            )
            .await
            .map_err(fail)?;
            written.assets += 1;
        }
        _ => written.skipped += 1,
    }
    Ok(())
}

/// Every sensor's assets.
pub async fn sensor_assets(client: &impl GenericClient) -> Result<Vec<SensorAsset>, String> {
    let rows = client
        .query(
            "SELECT sensor_id, asset_id, macs, ips, role, body FROM sensor_assets
             ORDER BY sensor_id, asset_id",
            &[],
        )
        .await
        .map_err(|e| format!("reading sensor assets: {}", describe(&e)))?;
    Ok(rows
        .iter()
        .map(|row| SensorAsset {
            sensor_id: row.get(0),
            asset_id: row.get(1),
            macs: row.get(2),
            ips: row.get(3),
            role: row.get(4),
            body: row.get(5),
        })
        .collect())
}

/// Every sensor's alerts, oldest first, each as its sensor wrote it (final
/// when the sensor's run ended, else as raised). Ids are `<sensor>:<id>`.
pub async fn fleet_alerts(client: &impl GenericClient) -> Result<Vec<AlertRecord>, String> {
    let rows = client
        .query(
            "SELECT sensor_id, key, alert_id, body FROM alerts ORDER BY ts, sensor_id, key",
            &[],
        )
        .await
        .map_err(|e| format!("reading alerts: {}", describe(&e)))?;
    rows.iter()
        .map(|row| {
            let (sensor, key): (String, String) = (row.get(0), row.get(1));
            let alert_id: Option<String> = row.get(2);
            let mut record: AlertRecord = serde_json::from_value(row.get::<_, Value>(3))
                .map_err(|e| format!("alert {key} of {sensor}: {e}"))?;
            record.id = format!("{sensor}:{}", alert_id.unwrap_or(key));
            Ok(record)
        })
        .collect()
}

/// The dashboard's acknowledgements and mutes of the fleet's alerts.
pub async fn load_marks(client: &impl GenericClient) -> Result<Vec<AlertMark>, String> {
    let rows = client
        .query(
            "SELECT fingerprint, acknowledged, muted FROM alert_marks ORDER BY fingerprint",
            &[],
        )
        .await
        .map_err(|e| format!("reading alert marks: {}", describe(&e)))?;
    Ok(rows
        .iter()
        .map(|row| AlertMark {
            fingerprint: row.get(0),
            acknowledged: row.get(1),
            muted: row.get(2),
        })
        .collect())
}

/// Records what an operator did with an alert (the database's clock says when).
pub async fn save_mark(client: &impl GenericClient, mark: &AlertMark) -> Result<(), String> {
    client
        .execute(
            "INSERT INTO alert_marks (fingerprint, acknowledged, muted) VALUES ($1, $2, $3)
             ON CONFLICT (fingerprint) DO UPDATE
             SET acknowledged = $2, muted = $3, updated = now()",
            &[&mark.fingerprint, &mark.acknowledged, &mark.muted],
        )
        .await
        .map(|_| ())
        .map_err(|e| format!("saving the alert mark: {}", describe(&e)))
}

/// Rebuilds the fleet view from the sensors' assets (within `tx`).
pub async fn rebuild_fleet(tx: &Transaction<'_>) -> Result<usize, String> {
    let fail = |e: tokio_postgres::Error| format!("rebuilding the fleet view: {}", describe(&e));
    let fleet = fleet::merge(&sensor_assets(tx).await?);
    tx.batch_execute("DELETE FROM fleet_assets")
        .await
        .map_err(fail)?;
    for device in &fleet {
        tx.execute(
            "INSERT INTO fleet_assets (fleet_id, macs, ips, role, vendor, product, firmware,
                                       sensors, first_seen, last_seen)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
                     (NULLIF($9::text, ''))::timestamptz, ($10::text)::timestamptz)",
            &[
                &device.fleet_id,
                &device.macs,
                &device.ips,
                &device.role,
                &device.vendor,
                &device.product,
                &device.firmware,
                &device.sensors,
                &device.first_seen,
                &device.last_seen,
            ],
        )
        .await
        .map_err(fail)?;
        for (sensor, asset) in &device.evidence {
            tx.execute(
                "INSERT INTO fleet_asset_evidence (fleet_id, sensor_id, asset_id) VALUES ($1, $2, $3)",
                &[&device.fleet_id, sensor, asset],
            )
            .await
            .map_err(fail)?;
        }
    }
    Ok(fleet.len())
}

/// The fleet view as stored.
pub async fn fleet_assets(client: &Client) -> Result<Vec<FleetAsset>, String> {
    let fail = |e: tokio_postgres::Error| format!("reading the fleet view: {}", describe(&e));
    let rows = client
        .query(
            "SELECT f.fleet_id, f.macs, f.ips, f.role, f.vendor, f.product, f.firmware, f.sensors,
                    coalesce(to_char(f.first_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), ''),
                    to_char(f.last_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),
                    coalesce(array_agg(e.sensor_id || '\u{1f}' || e.asset_id ORDER BY e.sensor_id, e.asset_id)
                             FILTER (WHERE e.sensor_id IS NOT NULL), '{}')
             FROM fleet_assets f LEFT JOIN fleet_asset_evidence e USING (fleet_id)
             GROUP BY f.fleet_id ORDER BY f.fleet_id",
            &[],
        )
        .await
        .map_err(fail)?;
    Ok(rows
        .iter()
        .map(|row| {
            let evidence: Vec<String> = row.get(10);
            FleetAsset {
                fleet_id: row.get(0),
                macs: row.get(1),
                ips: row.get(2),
                role: row.get(3),
                vendor: row.get(4),
                product: row.get(5),
                firmware: row.get(6),
                sensors: row.get(7),
                first_seen: row.get(8),
                last_seen: row.get(9),
                evidence: evidence
                    .iter()
                    .filter_map(|e| e.split_once('\u{1f}'))
                    .map(|(s, a)| (s.to_string(), a.to_string()))
                    .collect(),
            }
        })
        .collect())
}
