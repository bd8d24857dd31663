//! `otsensor assets`: lists the inventory kept in a store.

use std::path::PathBuf;

use otsensor::output::assets::{Filter, write_csv, write_json, write_table};
use otsensor::output::store::Store;

use crate::{Failure, print};

#[derive(clap::Args)]
pub struct AssetsArgs {
    /// The store written by `otsensor replay --db FILE`.
    #[arg(long, value_name = "FILE")]
    pub db: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Only assets matching, e.g. `role=plc` or `vendor~siemens,protocol=s7comm`.
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<Filter>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

pub fn run(args: AssetsArgs) -> Result<(), Failure> {
    if !args.db.is_file() {
        return Err(Failure::Input(format!(
            "{}: no such store",
            args.db.display()
        )));
    }
    let store = Store::open(&args.db).map_err(|e| Failure::Runtime(e.to_string()))?;
    let inventory = store
        .load_inventory()
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    let mut assets = inventory.assets();
    if let Some(filter) = &args.filter {
        assets.retain(|a| filter.matches(a));
    }
    print(|out| match args.format {
        Format::Table => write_table(&assets, out),
        Format::Json => write_json(&assets, inventory.untracked_hosts(), out),
        Format::Csv => write_csv(&assets, out),
    })
}
