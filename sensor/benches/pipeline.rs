//! The whole replay of the bundled `captures/demo-plant.pcap`: reading,
//! layers 2–4, flows, TCP reassembly, Modbus decoding, merge and analysis,
//! with one worker. `events_json` also renders every event as JSON (into
//! `io::sink()`), to show what serialisation adds.
//!
//! Throughput is in packets, so criterion prints packets/s; the time is per
//! replay of the whole file.
//!
//! `events_json/render` renders the file's events alone, on one thread, with
//! the renderer `EventLog` uses: the serialisation cost per event, apart from
//! the thread it runs on in a replay. Its throughput is in events.
//!
//! With `threads: 1` the replay still runs the dispatcher, the worker, the
//! analyzer and (with a sink) the sink on threads of their own, so on a
//! machine with several cores the stages overlap.

use std::hint::black_box;
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use otsensor::analysis::Analyzer;
use otsensor::capture::Input;
use otsensor::event::Event;
use otsensor::output::events::{EventLog, Renderer};
use otsensor::pipeline::{ReplayConfig, ReplayReport, Sink, replay};

/// Packets in `captures/demo-plant.pcap`.
const DEMO_PACKETS: u64 = 13_465;

fn run(input: &[Input], config: &ReplayConfig, json: bool) -> ReplayReport {
    let sink: Option<Box<dyn Sink>> = if json {
        let names = input.iter().map(|i| i.name.clone()).collect();
        Some(Box::new(EventLog::new(io::sink(), Renderer::new(names))))
    } else {
        None
    };
    replay(input, config, Analyzer::default(), sink, &mut |_| {}).expect("replay")
}

/// Keeps a copy of every event of a replay.
struct Collect(Arc<Mutex<Vec<Event>>>);

impl Sink for Collect {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        self.0.lock().expect("not poisoned").push(event.clone());
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn pipeline(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../captures/demo-plant.pcap");
    let input = [Input {
        name: "demo-plant.pcap".into(),
        path,
    }];
    let config = ReplayConfig {
        threads: 1,
        ..ReplayConfig::default()
    };

    // Once, before timing: the whole file is read and decoded.
    let report = run(&input, &config, true);
    assert_eq!(report.packets.packets, DEMO_PACKETS);
    assert!(
        report
            .captures
            .iter()
            .all(|c| c.damage.is_none() && c.error.is_none())
    );
    assert!(report.findings.traffic.events > 0, "no events decoded");

    let mut group = c.benchmark_group("pipeline");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(DEMO_PACKETS));
    for (name, json) in [("replay", false), ("replay_events_json", true)] {
        group.bench_function(name, |b| b.iter(|| run(&input, &config, json)));
    }
    group.finish();

    let events = Arc::new(Mutex::new(Vec::new()));
    replay(
        &input,
        &config,
        Analyzer::default(),
        Some(Box::new(Collect(events.clone()))),
        &mut |_| {},
    )
    .expect("replay");
    let events = std::mem::take(&mut *events.lock().expect("not poisoned"));
    assert_eq!(events.len() as u64, report.findings.traffic.events);
    let mut renderer = Renderer::new(vec!["demo-plant.pcap".into()]);
    let mut out = Vec::new();
    let mut group = c.benchmark_group("events_json");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("render", |b| {
        b.iter(|| {
            out.clear();
            for event in &events {
                renderer.render(black_box(event), &mut out);
                out.push(b'\n');
            }
            black_box(out.len())
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // Drawing the plots takes longer than measuring here; pass
    // `-- --plotting-backend plotters` to get them.
    config = Criterion::default().without_plots();
    targets = pipeline
}
criterion_main!(benches);
