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

/// A condition on assets: `FIELD=VALUE` (equal, ignoring case) or
/// `FIELD~TEXT` (contains, ignoring case), several joined by `,` (all must hold).
/// Fields: id, role, ip, mac, vendor, mac_vendor, product, product_code,
/// order_number, firmware, serial, hostname, station_name, module_name, protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter(Vec<(String, bool, String)>);

const FILTER_FIELDS: &[&str] = &[
    "id",
    "role",
    "ip",
    "mac",
    "vendor",
    "mac_vendor",
    "product",
    "product_code",
    "order_number",
    "firmware",
    "serial",
    "hostname",
    "station_name",
    "module_name",
    "protocol",
    "tag",
];

impl std::str::FromStr for Filter {
    type Err = String;

    fn from_str(text: &str) -> Result<Filter, String> {
        let mut terms = Vec::new();
        for term in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (field, exact, value) = match (term.split_once('='), term.split_once('~')) {
                (Some((f, v)), _) => (f, true, v),
                (None, Some((f, v))) => (f, false, v),
                (None, None) => {
                    return Err(format!("{term:?}: expected FIELD=VALUE or FIELD~TEXT"));
                }
            };
            let field = field.trim().to_ascii_lowercase();
            if !FILTER_FIELDS.contains(&field.as_str()) {
                return Err(format!(
                    "{term:?}: unknown field {field:?} (known: {})",
                    FILTER_FIELDS.join(", ")
                ));
            }
            terms.push((field, exact, value.trim().to_lowercase()));
        }
        Ok(Filter(terms))
    }
}

impl Filter {
    pub fn matches(&self, asset: &Asset) -> bool {
        self.0.iter().all(|(field, exact, wanted)| {
            let values: Vec<String> = match field.as_str() {
                "id" => vec![asset.id.clone()],
                "role" => vec![asset.role.name().to_string()],
                "ip" => asset.ips.iter().map(|ip| ip.to_string()).collect(),
                "mac" => asset.macs.iter().map(format_mac).collect(),
                "mac_vendor" => asset.mac_vendor.map(str::to_string).into_iter().collect(),
                "tag" => asset.tags.clone(),
                "protocol" => asset
                    .served
                    .keys()
                    .chain(asset.used.keys())
                    .map(|p| p.name().to_string())
                    .collect(),
                "vendor" => asset
                    .field("vendor")
                    .or(asset.mac_vendor)
                    .map(str::to_string)
                    .into_iter()
                    .collect(),
                other => asset.field(other).map(str::to_string).into_iter().collect(),
            };
            values.iter().any(|v| {
                let v = v.to_lowercase();
                if *exact {
                    v == *wanted
                } else {
                    v.contains(wanted.as_str())
                }
            })
        })
    }
}

/// A readable table: role, addresses, vendor, model, firmware, protocols, last seen.
pub fn write_table(assets: &[Asset], out: &mut impl Write) -> io::Result<()> {
    let rows: Vec<[String; 8]> = assets
        .iter()
        .map(|a| {
            let protocols: Vec<&str> = a
                .served
                .keys()
                .chain(a.used.keys())
                .map(|p| p.name())
                .collect();
            let mut last_seen = a.last_seen.to_string();
            last_seen.truncate(19);
            [
                a.role.name().to_string(),
                a.ips.first().map(|ip| ip.to_string()).unwrap_or_default(),
                a.macs.first().map(format_mac).unwrap_or_default(),
                a.field("vendor")
                    .or(a.mac_vendor)
                    .unwrap_or_default()
                    .to_string(),
                a.field("product")
                    .or(a.field("product_code"))
                    .or(a.field("order_number"))
                    .unwrap_or_default()
                    .to_string(),
                a.field("firmware").unwrap_or_default().to_string(),
                protocols.join(" "),
                last_seen,
            ]
        })
        .collect();
    let header = [
        "ROLE",
        "IP",
        "MAC",
        "VENDOR",
        "MODEL",
        "FIRMWARE",
        "PROTOCOLS",
        "LAST SEEN",
    ];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count()).min(32);
        }
    }
    let line = |cells: &[&str]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| {
                let cut: String = c.chars().take(w).collect();
                format!("{cut:<w$}")
            })
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    writeln!(out, "{}", line(&header))?;
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        writeln!(out, "{}", line(&cells))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_reject_unknown_fields() {
        let filter: Filter = "role=plc, vendor~Schneider".parse().unwrap();
        assert_eq!(
            filter,
            Filter(vec![
                ("role".into(), true, "plc".into()),
                ("vendor".into(), false, "schneider".into())
            ])
        );
        let err = "colour=red".parse::<Filter>().unwrap_err();
        assert!(err.contains("unknown field \"colour\""), "{err}");
        assert!(
            "role"
                .parse::<Filter>()
                .unwrap_err()
                .contains("expected FIELD=VALUE")
        );
    }

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
