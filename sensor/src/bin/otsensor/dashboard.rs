//! The terminal dashboard from the command line: `otsensor replay … --tui`
//! (the replay runs on its own thread and publishes snapshots; this thread
//! draws), `otsensor live … --tui` (the capture keeps its thread; the
//! dashboard gets one) and `otsensor tui --db FILE` (a store, browsed).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::thread;

use otsensor::export::{ExportReport, Exporter};
use otsensor::hub::db;
use otsensor::output::events::Renderer;
use otsensor::output::store::{AlertMark, Store};
use otsensor::output::summary;
use otsensor::pipeline::{self, Observer, ReplayReport};
use otsensor::tui::publish::INTERVAL;
use otsensor::tui::snapshot::WallClock;
use otsensor::tui::{
    self, App, Cadence, Counters, Exit, MarkStore, Marks, Phase, Snapshot, Theme, Update,
};

use crate::replay::{Setup, nothing_read, print_throughput, save, warn_about_captures};
use crate::{Failure, ReplayArgs};

/// Bytes read at a time when the replay is paced: smaller epochs, so that
/// the dashboard moves smoothly (a 1 MiB chunk can hold seconds of traffic).
const PACED_CHUNK: usize = 16 * 1024;

#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("source").required(true))]
pub struct TuiArgs {
    /// The store written by `otsensor replay --db FILE`.
    #[arg(long, value_name = "FILE", group = "source")]
    pub db: Option<PathBuf>,
    /// The hub's PostgreSQL database: the fleet's merged inventory and every sensor's alerts
    /// (acknowledgements and mutes are kept there).
    #[arg(long, value_name = "URL", group = "source")]
    pub postgres: Option<String>,
    /// Plant policy whose zones and conduits the Conduits tab shows (as for
    /// `replay --policy`); by default, the one the store recorded.
    #[arg(long, value_name = "PATH")]
    pub policy: Vec<PathBuf>,
}

pub fn need_terminal() -> Result<(), Failure> {
    if std::io::stdout().is_terminal() {
        Ok(())
    } else {
        Err(Failure::Input(
            "the dashboard needs a terminal, and stdout is not one".into(),
        ))
    }
}

/// Where the replay thread is, so that quitting early knows what it cuts short.
const REPLAYING: u8 = 0;
const SAVING: u8 = 1;
const DONE: u8 = 2;

/// `otsensor replay CAPTURE… --tui [--config FILE]`.
pub fn replay(
    args: ReplayArgs,
    mut setup: Setup,
    mut exporter: Option<Exporter>,
) -> Result<(), Failure> {
    need_terminal()?;
    let speed = match (args.fast, args.speed) {
        (true, _) => None,
        (false, None) => Some(1.0),
        (false, Some(n)) if n.is_finite() && n > 0.0 => Some(n),
        (false, Some(n)) => {
            return Err(Failure::Input(format!(
                "--speed must be a positive number, not {n}"
            )));
        }
    };
    if speed.is_some() {
        setup.config.chunk_size = PACED_CHUNK;
    }
    let source = source_name(&setup.names());
    let label = source.clone();
    let (publisher, updates, counters) = tui::channel(&source, Cadence::Wall(INTERVAL));
    let publisher = match speed {
        Some(speed) => publisher.paced(speed),
        None => publisher,
    };
    let finals = publisher.sender();
    let mut analyzer = setup.analyzer();
    analyzer.set_publisher(Box::new(publisher));

    // Acknowledgements and mutes go to the store through a connection of this thread's own.
    let marks = marks(
        args.db
            .as_deref()
            .map(Store::open)
            .transpose()
            .map_err(runtime)?,
    )?;

    let stage = Arc::new(AtomicU8::new(REPLAYING));
    let worker_stage = stage.clone();
    let names = setup.names();
    let policy = setup.policy.clone();
    let out = args.out.clone();
    let db = args.db.clone();
    let show_secrets = args.show_secrets;
    let worker = thread::Builder::new()
        .name("replay".into())
        .spawn(
            move || -> Result<(ReplayReport, Option<ExportReport>), Failure> {
                let sink = crate::export::event_sink(
                    exporter.as_ref(),
                    setup.sink.take(),
                    Renderer::new(names.clone()).show_secrets(show_secrets),
                );
                let observer = exporter.as_mut().map(|e| e as &mut dyn Observer);
                let report = pipeline::replay_observed(
                    &setup.inputs,
                    &setup.config,
                    analyzer,
                    sink,
                    observer,
                    &mut |_| {},
                )
                .map_err(|e| Failure::Runtime(e.to_string()))?;
                let exported = exporter.map(|e| e.finish(&report.findings));
                if let Some(exported) = &exported {
                    for line in exported.lines() {
                        let _ = finals.send(Update::Notice(line));
                    }
                }
                let mut last = Snapshot::of_replay(&report, &policy, &source);
                last.wall = Some(WallClock {
                    elapsed: report.elapsed,
                    packets: report.packets.packets,
                });
                let _ = finals.send(Update::Snapshot(Box::new(last)));
                worker_stage.store(SAVING, Ordering::SeqCst);
                let saved = save(out.as_deref(), setup.store.as_mut(), &names, &report);
                worker_stage.store(DONE, Ordering::SeqCst);
                let _ = finals.send(Update::Notice(match (&saved, &out, &db) {
                    (Err(Failure::Runtime(e) | Failure::Input(e) | Failure::Policy(e)), _, _) => {
                        format!("saving failed: {e}")
                    }
                    (Err(Failure::Signal(_)), _, _) => "saving stopped".into(),
                    (Ok(()), None, None) => "replay finished".into(),
                    (Ok(()), Some(dir), _) => {
                        format!("replay finished; results in {}", dir.display())
                    }
                    (Ok(()), None, Some(db)) => {
                        format!("replay finished; saved in {}", db.display())
                    }
                }));
                saved.map(|()| (report, exported))
            },
        )
        .map_err(|e| Failure::Runtime(format!("cannot start the replay thread: {e}")))?;

    let phase = Phase::Replaying { speed };
    let mut app =
        App::new(Snapshot::empty(&label, phase), marks, Theme::from_env()).with_counters(counters);
    let exit =
        tui::run(&mut app, &updates).map_err(|e| Failure::Runtime(format!("terminal: {e}")))?;

    match stage.load(Ordering::SeqCst) {
        // Saving is under way: let it finish rather than leave a half-written file.
        SAVING | DONE => {}
        _ => {
            eprintln!("otsensor: the replay was stopped before the end; nothing was saved");
            return exit_status(exit);
        }
    }
    let (report, exported) = worker
        .join()
        .map_err(|_| Failure::Runtime("the replay thread failed".into()))??;
    if let Some(exported) = &exported {
        crate::export::print_report(exported, args.quiet);
    }
    warn_about_captures(&report);
    if !args.quiet {
        eprintln!(
            "Replayed {} packets: {} assets, {} alerts",
            summary::count(report.packets.packets),
            report.findings.assets.len(),
            report.findings.alerts.len()
        );
    }
    if args.stats {
        print_throughput(&report, args.out.is_some());
    }
    exit_status(exit)?;
    nothing_read(&report)
}

/// `otsensor tui --db FILE` and `otsensor tui --postgres URL`.
pub fn browse(args: TuiArgs) -> Result<(), Failure> {
    let Some(db) = &args.db else {
        let url = args.postgres.as_deref().unwrap_or_default();
        return browse_fleet(url, &args.policy);
    };
    if !db.is_file() {
        return Err(Failure::Input(format!("{}: no such store", db.display())));
    }
    need_terminal()?;
    let store = Store::open(db).map_err(runtime)?;
    let name = db.display().to_string();
    let policy = if args.policy.is_empty() {
        crate::rules::recorded_policy(&store, &name)?
    } else {
        crate::rules::load_policy(&args.policy)?
    };
    let snapshot = Snapshot::of_store(&store, &policy, &name).map_err(runtime)?;
    show(snapshot, marks(Some(store))?)
}

/// The fleet view of the hub's database, where acknowledgements and mutes are kept too.
fn browse_fleet(url: &str, policy: &[PathBuf]) -> Result<(), Failure> {
    need_terminal()?;
    let policy = crate::rules::load_policy(policy)?;
    let runtime = crate::hub::runtime()?;
    let (mut client, assets, alerts) = runtime
        .block_on(async {
            let client = db::connect(url).await?;
            let assets = db::fleet_assets(&client).await?;
            let alerts = db::fleet_alerts(&client).await?;
            Ok((client, assets, alerts))
        })
        .map_err(Failure::Runtime)?;
    let snapshot = Snapshot::of_fleet(&assets, alerts, &policy, &db::redact(url));
    let marks = match runtime.block_on(fleet_marks(&mut client)) {
        Ok(initial) => Marks::new(initial, Some(Box::new(FleetMarks { runtime, client }))),
        // A user who may only read the fleet still gets the dashboard.
        Err(e) => {
            eprintln!(
                "otsensor: acknowledgements and mutes will last as long as the dashboard: {e}"
            );
            Marks::new(Vec::new(), None)
        }
    };
    show(snapshot, marks)
}

/// The marks kept in the hub's database; one made by an older hub gets
/// their table first.
async fn fleet_marks(client: &mut tokio_postgres::Client) -> Result<Vec<AlertMark>, String> {
    if let Ok(marks) = db::load_marks(client).await {
        return Ok(marks);
    }
    db::migrate(client).await?;
    db::load_marks(client).await
}

/// Marks saved in the hub's database, on the runtime its connection runs on.
struct FleetMarks {
    runtime: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
}

impl MarkStore for FleetMarks {
    fn save(&mut self, mark: &AlertMark) -> Result<(), String> {
        self.runtime.block_on(db::save_mark(&self.client, mark))
    }

    fn place(&self) -> &'static str {
        "the hub's database"
    }
}

/// Shows what was kept (a store, the fleet) until the operator quits.
fn show(snapshot: Snapshot, marks: Marks) -> Result<(), Failure> {
    let mut app = App::new(snapshot, marks, Theme::from_env());
    // Nothing will be published: the channel only has to exist.
    let (_tx, updates) = crossbeam_channel::bounded::<Update>(1);
    let exit =
        tui::run(&mut app, &updates).map_err(|e| Failure::Runtime(format!("terminal: {e}")))?;
    exit_status(exit)
}

/// `otsensor live … --tui`: the dashboard, until the operator quits or a
/// signal arrives; then it asks the capture to stop. Acknowledgements and
/// mutes go to `store`, a connection of the dashboard's own.
pub fn watch_live(
    interface: &str,
    store: Option<Store>,
    updates: &crossbeam_channel::Receiver<Update>,
    counters: Arc<Counters>,
    stop: &AtomicBool,
) -> Result<Exit, Failure> {
    let phase = Phase::Live {
        interface: interface.to_string(),
    };
    let app = marks(store).map(|marks| {
        App::new(Snapshot::empty(interface, phase), marks, Theme::from_env())
            .with_counters(counters)
    });
    let exit = app.and_then(|mut app| {
        tui::run(&mut app, updates).map_err(|e| Failure::Runtime(format!("terminal: {e}")))
    });
    stop.store(true, Ordering::Relaxed);
    exit
}

/// The operator's acknowledgements and mutes, kept in `store` if there is one.
fn marks(store: Option<Store>) -> Result<Marks, Failure> {
    Ok(match store {
        Some(store) => {
            let initial = store.load_marks().map_err(runtime)?;
            Marks::new(initial, Some(Box::new(store) as Box<dyn MarkStore>))
        }
        None => Marks::new(Vec::new(), None),
    })
}

fn runtime(e: impl std::fmt::Display) -> Failure {
    Failure::Runtime(e.to_string())
}

pub fn exit_status(exit: Exit) -> Result<(), Failure> {
    match exit {
        Exit::Quit => Ok(()),
        Exit::Signal(n) => Err(Failure::Signal(n)),
    }
}

/// The captures, as the header names them.
fn source_name(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} and {} more", rest.len()),
    }
}
