//! `otsensor rules check`: validates policy files without capturing, and
//! loads the policy the other commands use.

use std::path::PathBuf;

use otsensor::analysis::policy::{self, Policy, Source};

use std::io::Write as _;

use crate::{Failure, print};

#[derive(clap::Subcommand)]
pub enum RulesCommand {
    /// Check policy files (zones, conduits, rules) together with the built-in rule pack.
    Check {
        /// TOML files or directories of them; none checks the built-in pack alone.
        paths: Vec<PathBuf>,
    },
}

pub fn run(command: RulesCommand) -> Result<(), Failure> {
    match command {
        RulesCommand::Check { paths } => {
            let policy = load_policy(&paths)?;
            print(|out| {
                writeln!(
                    out,
                    "ok: {} zones, {} conduits, {} rules",
                    policy.zones.len(),
                    policy.conduits.len(),
                    policy.rules.len()
                )
            })
        }
    }
}

/// The built-in rule pack, then the files at `paths` in order.
pub fn load_policy(paths: &[PathBuf]) -> Result<Policy, Failure> {
    let mut sources = vec![Source::default_pack()];
    for path in paths {
        sources.extend(Source::read(path).map_err(|e| Failure::Policy(e.to_string()))?);
    }
    policy::load(&sources).map_err(|e| Failure::Policy(e.to_string()))
}
