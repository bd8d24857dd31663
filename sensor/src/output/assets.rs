//! `assets.json` and `assets.csv`: the inventory, in a deterministic order.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::analysis::inventory::{Asset, format_mac};

#[derive(Serialize)]
struct AssetsDoc<'a> {
    /// Assets by role.
    roles: BTreeMap<&'static str, usize>,
    assets: &'a [Asset],
    /// Hosts not kept because the inventory was full.
    untracked_hosts: u64,
}

pub fn write_json(assets: &[Asset], untracked_hosts: u64, out: &mut impl Write) -> io::Result<()> {
    let mut roles = BTreeMap::new();
    for asset in assets {
        *roles.entry(asset.role.name()).or_default() += 1;
    }
    let doc = AssetsDoc {
        roles,
        assets,
        untracked_hosts,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}

/// The identity fields that get a column of their own.
const IDENTITY_COLUMNS: &[&str] = &[
    "vendor",
    "product",
    "product_code",
    "order_number",
    "firmware",
    "serial",
    "hostname",
    "station_name",
];

pub fn write_csv(assets: &[Asset], out: &mut impl Write) -> io::Result<()> {
    let mut header = vec!["id", "role", "purdue_level", "ips", "macs", "mac_vendor"];
    header.extend_from_slice(IDENTITY_COLUMNS);
    header.extend_from_slice(&[
        "protocols_served",
        "protocols_used",
        "first_seen",
        "last_seen",
        "packets_sent",
        "bytes_sent",
        "packets_received",
        "bytes_received",
        "role_reason",
    ]);
    write_row(out, header.iter().map(|h| h.to_string()))?;
    for a in assets {
        let mut row = vec![
            a.id.clone(),
            a.role.name().to_string(),
            a.purdue_level.map(|l| l.to_string()).unwrap_or_default(),
            join(a.ips.iter().map(|ip| ip.to_string())),
            join(a.macs.iter().map(format_mac)),
            a.mac_vendor.unwrap_or_default().to_string(),
        ];
        row.extend(
            IDENTITY_COLUMNS
                .iter()
                .map(|f| a.field(f).unwrap_or_default().to_string()),
        );
        row.extend([
            join(a.served.keys().map(|p| p.name().to_string())),
            join(a.used.keys().map(|p| p.name().to_string())),
            a.first_seen.ts.to_string(),
            a.last_seen.to_string(),
            a.packets_sent.to_string(),
            a.bytes_sent.to_string(),
            a.packets_received.to_string(),
            a.bytes_received.to_string(),
            a.role_reason.clone(),
        ]);
        write_row(out, row.into_iter())?;
    }
    Ok(())
}

fn join(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(" ")
}

/// One RFC 4180 row: fields with commas, quotes or line breaks are quoted.
fn write_row(out: &mut impl Write, fields: impl Iterator<Item = String>) -> io::Result<()> {
    let fields: Vec<String> = fields
        .map(|f| {
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f
            }
        })
        .collect();
    out.write_all(fields.join(",").as_bytes())?;
    out.write_all(b"\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        let mut out = Vec::new();
        write_row(
            &mut out,
            ["plain".to_string(), "a,b".into(), "say \"hi\"".into()].into_iter(),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "plain,\"a,b\",\"say \"\"hi\"\"\"\r\n"
        );
    }
}
