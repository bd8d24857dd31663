//! `otsensor assets`: lists the inventory kept in a store, or the fleet's in the hub's database.

use std::io::Write;
use std::path::PathBuf;

use otsensor::hub::fleet::FleetAsset;
use otsensor::output::assets::{Filter, write_csv, write_json, write_table};
use otsensor::output::store::Store;

use crate::{Failure, print};

#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("source").required(true))]
pub struct AssetsArgs {
    /// The store written by `otsensor replay --db FILE`.
    #[arg(long, value_name = "FILE", group = "source")]
    pub db: Option<PathBuf>,
    /// The hub's PostgreSQL database: the fleet view, merged across sensors.
    #[arg(long, value_name = "URL", group = "source")]
    pub postgres: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Only assets matching, e.g. `role=plc` or `vendor~siemens,protocol=s7comm` (store only).
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<Filter>,
    /// Plant policy (file or folder) whose `[[asset]]` tags the assets carry,
    /// as with `replay --policy` (store only).
    #[arg(long, value_name = "PATH")]
    pub policy: Vec<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

pub fn run(args: AssetsArgs) -> Result<(), Failure> {
    if let Some(url) = &args.postgres {
        if args.filter.is_some() || !args.policy.is_empty() {
            return Err(Failure::Input(
                "--filter and --policy apply to --db stores only".into(),
            ));
        }
        return fleet(url, args.format);
    }
    let db = args.db.expect("clap requires --db or --postgres");
    if !db.is_file() {
        return Err(Failure::Input(format!("{}: no such store", db.display())));
    }
    let store = Store::open(&db).map_err(|e| Failure::Runtime(e.to_string()))?;
    let inventory = store
        .load_inventory()
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    let mut assets = inventory.assets();
    if !args.policy.is_empty() {
        let policy = crate::rules::load_policy(&args.policy)?;
        for asset in &mut assets {
            asset.tags = policy.tags_of(&asset.ips, &asset.macs);
        }
    }
    if let Some(filter) = &args.filter {
        assets.retain(|a| filter.matches(a));
    }
    print(|out| match args.format {
        Format::Table => write_table(&assets, out),
        Format::Json => write_json(&assets, inventory.untracked_hosts(), out),
        Format::Csv => write_csv(&assets, out),
    })
}

fn fleet(url: &str, format: Format) -> Result<(), Failure> {
    let assets = crate::hub::block_on(async {
        let client = otsensor::hub::db::connect(url).await?;
        otsensor::hub::db::fleet_assets(&client).await
    })?;
    print(|out| match format {
        Format::Table => fleet_table(&assets, out),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &assets)?;
            writeln!(out)
        }
        Format::Csv => fleet_csv(&assets, out),
    })
}

fn fleet_table(assets: &[FleetAsset], out: &mut impl Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<19} {:<24} {:<16} {:<24} {:<10} SENSORS",
        "FLEET ID", "ROLE", "IP", "VENDOR / PRODUCT", "FIRMWARE"
    )?;
    for a in assets {
        let product = [a.vendor.as_deref(), a.product.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        writeln!(
            out,
            "{:<19} {:<24} {:<16} {:<24} {:<10} {}",
            a.fleet_id,
            a.role,
            a.ips.first().map_or("-", String::as_str),
            if product.is_empty() { "-" } else { &product },
            a.firmware.as_deref().unwrap_or("-"),
            a.sensors.join(",")
        )?;
    }
    writeln!(out, "{} assets", assets.len())
}

fn fleet_csv(assets: &[FleetAsset], out: &mut impl Write) -> std::io::Result<()> {
    let field = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    writeln!(
        out,
        "fleet_id,role,ips,macs,vendor,product,firmware,sensors,first_seen,last_seen"
    )?;
    for a in assets {
        let row = [
            a.fleet_id.clone(),
            a.role.clone(),
            a.ips.join(" "),
            a.macs.join(" "),
            a.vendor.clone().unwrap_or_default(),
            a.product.clone().unwrap_or_default(),
            a.firmware.clone().unwrap_or_default(),
            a.sensors.join(" "),
            a.first_seen.clone(),
            a.last_seen.clone(),
        ];
        let row: Vec<String> = row.iter().map(|s| field(s)).collect();
        writeln!(out, "{}", row.join(","))?;
    }
    Ok(())
}
