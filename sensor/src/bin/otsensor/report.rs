//! `otsensor report`: writes the IEC 62443 compliance report (Markdown and
//! HTML) from a store or from a replay's output directory.

use std::fs;
use std::io::Write as _;
use std::path::PathBuf;

use otsensor::analysis::conduits::DeclaredPolicy;
use otsensor::output::report::{self, Report};
use otsensor::output::store::Store;

use crate::{Failure, print};

const MARKDOWN_FILE: &str = "report.md";
const HTML_FILE: &str = "report.html";

/// One format of the report.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// Markdown.
    Md,
    /// Self-contained HTML (styles inline, no scripts, no external resources).
    Html,
}

#[derive(clap::Args)]
pub struct ReportArgs {
    /// The store written by `otsensor replay --db FILE`: every run it recorded.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "from",
        conflicts_with = "from"
    )]
    pub db: Option<PathBuf>,
    /// A directory written by `otsensor replay --out DIR`.
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
    /// Judge by this plant policy (TOML files or directories) instead of the one
    /// the findings recorded. May be repeated.
    #[arg(long, value_name = "PATH")]
    pub policy: Vec<PathBuf>,
    /// Write one format, to standard output or to --output FILE.
    #[arg(long, value_enum, conflicts_with = "out")]
    pub format: Option<Format>,
    /// With --format: write the report to FILE instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE", requires = "format")]
    pub output: Option<PathBuf>,
    /// Without --format: write report.md and report.html into DIR (default:
    /// the --from directory).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(args: ReportArgs) -> Result<(), Failure> {
    let mut input = match (&args.db, &args.from) {
        (Some(db), _) => {
            if !db.is_file() {
                return Err(Failure::Input(format!("{}: no such store", db.display())));
            }
            let store = Store::open(db).map_err(|e| Failure::Runtime(e.to_string()))?;
            report::from_store(&store, &db.display().to_string())
                .map_err(|e| Failure::Runtime(e.to_string()))?
        }
        (None, Some(dir)) => report::from_dir(dir).map_err(|e| Failure::Input(e.to_string()))?,
        (None, None) => return Err(Failure::Input("give --db FILE or --from DIR".into())),
    };
    if !args.policy.is_empty() {
        let policy = crate::rules::load_policy(&args.policy)?;
        input = input.with_policy(DeclaredPolicy::from_policy(&policy));
    }
    let report = Report::new(input);
    if let Some(format) = args.format {
        let text = match format {
            Format::Md => report.markdown(),
            Format::Html => report.html(),
        };
        return match &args.output {
            Some(path) => fs::write(path, text)
                .map_err(|e| Failure::Runtime(format!("{}: {e}", path.display()))),
            None => print(|o| o.write_all(text.as_bytes())),
        };
    }
    let Some(out) = args.out.clone().or_else(|| args.from.clone()) else {
        return Err(Failure::Input(
            "give --format md|html (to standard output or -o FILE) or --out DIR".into(),
        ));
    };
    fs::create_dir_all(&out).map_err(|e| {
        Failure::Runtime(format!("{}: cannot create directory: {e}", out.display()))
    })?;
    for (name, text) in [
        (MARKDOWN_FILE, report.markdown()),
        (HTML_FILE, report.html()),
    ] {
        let path = out.join(name);
        fs::write(&path, text).map_err(|e| Failure::Runtime(format!("{}: {e}", path.display())))?;
    }
    if !args.quiet {
        print(|o| {
            writeln!(
                o,
                "Wrote {} and {}",
                out.join(MARKDOWN_FILE).display(),
                out.join(HTML_FILE).display()
            )
        })?;
    }
    Ok(())
}
