//! `otsensor rules check`: validates policy files without capturing, and
//! loads the policy the other commands use.

use std::path::PathBuf;

use otsensor::analysis::policy::{self, Policy, Source};
use otsensor::event::Protocol;
use otsensor::output::store::Store;
use otsensor::protocols;

use std::io::Write as _;

use crate::{Failure, print};

#[derive(clap::Subcommand)]
pub enum RulesCommand {
    /// Check policy files (zones, conduits, rules) together with the built-in rule pack.
    Check {
        /// TOML files or directories of them; none checks the built-in pack alone.
        paths: Vec<PathBuf>,
    },
    /// List the protocol, function and anomaly names rules can match.
    Names {
        /// Only this protocol.
        protocol: Option<String>,
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
        RulesCommand::Names { protocol } => names(protocol.as_deref()),
    }
}

fn names(only: Option<&str>) -> Result<(), Failure> {
    let chosen: Vec<Protocol> = match only {
        None => Protocol::ALL.to_vec(),
        Some(name) => vec![Protocol::from_name(name).ok_or_else(|| {
            let known: Vec<&str> = Protocol::ALL.iter().map(|p| p.name()).collect();
            Failure::Input(format!(
                "unknown protocol {name:?} (known: {})",
                known.join(", ")
            ))
        })?],
    };
    print(|out| {
        for protocol in &chosen {
            writeln!(out, "{}", protocol.name())?;
            writeln!(
                out,
                "  functions: {}",
                protocols::function_names(*protocol).join(" ")
            )?;
            writeln!(
                out,
                "  anomalies: {}",
                protocols::anomaly_names(*protocol).join(" ")
            )?;
        }
        Ok(())
    })
}

/// The built-in rule pack, then the files at `paths` in order.
pub fn load_policy(paths: &[PathBuf]) -> Result<Policy, Failure> {
    read_policy(paths).map_err(Failure::Policy)
}

/// As [`load_policy`], its mistakes one per line (file:line:column: reason).
pub fn read_policy(paths: &[PathBuf]) -> Result<Policy, String> {
    let mut sources = vec![Source::default_pack()];
    for path in paths {
        sources.extend(Source::read(path).map_err(|e| e.to_string())?);
    }
    policy::load(&sources).map_err(|e| e.to_string())
}

/// The built-in rule pack with the zones and conduits that `store` recorded
/// from the policy of its runs: what views of a store use without `--policy`.
pub fn recorded_policy(store: &Store, name: &str) -> Result<Policy, Failure> {
    let declared = store
        .load_policy()
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    let text = declared
        .to_toml()
        .map_err(|e| Failure::Runtime(format!("{name}: the recorded policy: {e}")))?;
    let recorded = Source {
        name: format!("{name} (the policy it recorded)"),
        text,
    };
    policy::load(&[Source::default_pack(), recorded]).map_err(|e| Failure::Policy(e.to_string()))
}
