//! The short human summary printed after a replay without `--out`.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::analysis::policy::{Alert, Severity};
use crate::capture::dlt_name;
use crate::pipeline::ReplayReport;

/// Protocol functions listed per protocol.
const TOP_FUNCTIONS: usize = 5;
/// Identified assets listed.
const TOP_ASSETS: usize = 10;
/// Alerts listed, most severe first.
const TOP_ALERTS: usize = 15;

pub fn write(report: &ReplayReport, out: &mut impl Write) -> io::Result<()> {
    let p = &report.packets;
    let files = report.captures.len();
    write!(
        out,
        "Replayed {} capture file{}: {} packets, {}",
        files,
        if files == 1 { "" } else { "s" },
        count(p.packets),
        bytes(p.captured_bytes)
    )?;
    if let (Some(first), Some(last)) = (report.first_ts, report.last_ts) {
        let span = (last.0 - first.0) as f64 / 1e9;
        write!(out, ", {first} to {last} ({span:.1} s)")?;
    }
    writeln!(out)?;
    let f = &report.workers.flows;
    writeln!(
        out,
        "Flows: {} (TCP {}, UDP {}, other {}); {} expired, {} evicted",
        count(f.created),
        count(f.tcp),
        count(f.udp),
        count(f.other),
        count(f.expired),
        count(f.evicted)
    )?;

    writeln!(out, "\nProtocols")?;
    if report.findings.traffic.protocols.is_empty() {
        writeln!(out, "  (no industrial protocol recognised)")?;
    }
    for (protocol, stats) in &report.findings.traffic.protocols {
        writeln!(
            out,
            "  {:<10} {:>12} PDUs in {} flows ({} requests, {} responses, {} with anomalies)",
            protocol.name(),
            count(stats.pdus),
            count(stats.flows),
            count(stats.requests),
            count(stats.responses),
            count(stats.anomalous_pdus)
        )?;
        let mut functions: Vec<_> = stats.functions.iter().collect();
        functions.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let top: Vec<String> = functions
            .iter()
            .take(TOP_FUNCTIONS)
            .map(|(name, n)| format!("{name} {}", count(**n)))
            .collect();
        writeln!(out, "  {:<10} {}", "", top.join(", "))?;
    }

    let assets = &report.findings.assets;
    let mut roles: BTreeMap<&str, usize> = BTreeMap::new();
    for asset in assets {
        *roles.entry(asset.role.name()).or_default() += 1;
    }
    let roles: Vec<String> = roles
        .iter()
        .map(|(role, n)| format!("{n} {role}"))
        .collect();
    writeln!(out, "\nAssets: {} ({})", assets.len(), roles.join(", "))?;
    for asset in assets
        .iter()
        .filter(|a| a.field("vendor").is_some())
        .take(TOP_ASSETS)
    {
        let model = asset
            .field("product")
            .or(asset.field("product_code"))
            .or(asset.field("order_number"));
        writeln!(
            out,
            "  {:<17} {:<8} {} {} {}",
            asset.id,
            asset.role.name(),
            asset.field("vendor").unwrap_or_default(),
            model.unwrap_or_default(),
            asset.field("firmware").unwrap_or_default()
        )?;
    }

    write_alerts(report, out)?;

    writeln!(out, "\nTop talkers (bytes)")?;
    for t in &report.findings.traffic.top_talkers {
        writeln!(
            out,
            "  {:<39} {:>10} {:>12} packets {:>8} flows",
            t.ip.to_string(),
            bytes(t.bytes),
            count(t.packets),
            count(t.flows)
        )?;
    }

    let anomalies = &report.findings.traffic.anomalies;
    let malformed = &report.malformed;
    writeln!(out, "\nDecode anomalies")?;
    if anomalies.is_empty() && malformed.is_empty() {
        writeln!(out, "  none")?;
    }
    for ((protocol, name), n) in anomalies {
        writeln!(
            out,
            "  {:<44} {:>10}",
            format!("{}.{name}", protocol.name()),
            count(*n)
        )?;
    }
    for (name, n) in malformed {
        writeln!(out, "  {:<44} {:>10}", format!("frame.{name}"), count(*n))?;
    }
    let tcp = &report.workers.tcp;
    if tcp.gaps > 0 {
        writeln!(
            out,
            "  {:<44} {:>10}",
            format!("tcp.gaps ({} bytes missing)", count(tcp.gap_bytes)),
            count(tcp.gaps)
        )?;
    }

    for capture in &report.captures {
        if let Some(error) = &capture.error {
            writeln!(out, "\n{}: not replayed: {error}", capture.name)?;
        }
        if let Some(damage) = &capture.damage {
            writeln!(
                out,
                "\n{}: damaged {damage}; everything before it was decoded",
                capture.name
            )?;
        }
        for &(dlt, n) in &capture.unsupported_link_types {
            writeln!(
                out,
                "\n{}: {} packets skipped: unsupported link type {dlt} ({})",
                capture.name,
                count(n),
                dlt_name(dlt)
            )?;
        }
    }
    Ok(())
}

fn write_alerts(report: &ReplayReport, out: &mut impl Write) -> io::Result<()> {
    let alerts = &report.findings.alerts;
    let mut by_severity: BTreeMap<Severity, usize> = BTreeMap::new();
    for alert in alerts {
        *by_severity.entry(alert.severity).or_default() += 1;
    }
    let severities: Vec<String> = by_severity
        .iter()
        .rev()
        .map(|(severity, n)| format!("{n} {}", severity.name()))
        .collect();
    write!(out, "\nAlerts: {}", alerts.len())?;
    if !severities.is_empty() {
        write!(out, " ({})", severities.join(", "))?;
    }
    if report.findings.alerts_dropped > 0 {
        write!(
            out,
            "; {} more not kept (limit reached)",
            count(report.findings.alerts_dropped)
        )?;
    }
    writeln!(out)?;
    let mut ranked: Vec<&Alert> = alerts.iter().collect();
    // Stable sort: alerts of equal severity stay in the order they happened.
    ranked.sort_by_key(|a| std::cmp::Reverse(a.severity));
    for alert in ranked.iter().take(TOP_ALERTS) {
        writeln!(
            out,
            "  {:<8} {:<12} {:>15} -> {:<15} {:<8} x{:<5} {}",
            alert.severity.name(),
            alert.rule,
            alert.src.label(),
            alert.dst.label(),
            alert.protocol.unwrap_or("-"),
            alert.count,
            alert.title
        )?;
    }
    if alerts.len() > TOP_ALERTS {
        writeln!(
            out,
            "  … {} more in alerts.jsonl (--out DIR)",
            alerts.len() - TOP_ALERTS
        )?;
    }
    Ok(())
}

/// 1234567 → "1,234,567".
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes in decimal units, as capture tools show them.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_bytes_read_well() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(2_630_606), "2,630,606");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(300_008_181), "300.0 MB");
    }
}
