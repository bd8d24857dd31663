//! The terminal dashboard: each tab drawn from a fixed replay of the bundled
//! capture (with the demo plant's zones) at 80×24 and 160×48 and compared
//! with insta snapshots; keys on the app state; the store's alerts and marks;
//! the publisher never holding the replay back.

mod common;

use std::sync::OnceLock;
use std::sync::atomic::Ordering;
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind,
};
use ratatui::style::Color;

use otsensor::analysis::Analyzer;
use otsensor::analysis::inventory::Inventory;
use otsensor::analysis::policy::{self, Policy, Severity, Source};
use otsensor::capture::Input;
use otsensor::output::store::Store;
use otsensor::pipeline::{ReplayConfig, ReplayReport, replay};
use otsensor::tui::conduits::Verdict;
use otsensor::tui::{self, App, Cadence, MarkStore, Marks, Snapshot, Tab, Theme, Update};

fn demo_policy() -> Policy {
    let mut sources = vec![Source::default_pack()];
    sources.extend(Source::read(&common::repo().join("rules/example-plant")).unwrap());
    policy::load(&sources).unwrap()
}

fn demo_input() -> Vec<Input> {
    vec![Input {
        path: common::demo_capture(),
        name: "demo-plant.pcap".into(),
    }]
}

fn demo_replay(analyzer: Analyzer, config: &ReplayConfig) -> ReplayReport {
    replay(&demo_input(), config, analyzer, None, &mut |_| {}).expect("replay")
}

/// What the dashboard shows at the end of a replay of the bundled capture.
fn demo() -> &'static Snapshot {
    static DEMO: OnceLock<Snapshot> = OnceLock::new();
    DEMO.get_or_init(|| {
        let policy = demo_policy();
        let report = demo_replay(
            Analyzer::new(Inventory::new(), policy.clone()),
            &ReplayConfig::default(),
        );
        Snapshot::of_replay(&report, &policy, "demo-plant.pcap")
    })
}

fn app() -> App {
    App::new(
        demo().clone(),
        Marks::new(Vec::new(), None),
        Theme { color: true },
    )
}

fn key(app: &mut App, code: KeyCode) {
    app.key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn keys(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

fn draw(app: &App, width: u16, height: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| frame.render_widget(app, frame.area()))
        .unwrap();
    terminal.backend().buffer().clone()
}

/// The screen as text, one line per row, trailing blanks trimmed.
fn text(buffer: &Buffer) -> String {
    let area = buffer.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut line = String::new();
        for x in 0..area.width {
            line.push_str(buffer[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn screen(app: &App, width: u16, height: u16) -> String {
    text(&draw(app, width, height))
}

#[test]
fn each_tab_at_80x24_and_160x48() {
    for (tab, name) in [
        ('1', "overview"),
        ('2', "assets"),
        ('3', "conduits"),
        ('4', "alerts"),
    ] {
        let mut app = app();
        key(&mut app, KeyCode::Char(tab));
        for (w, h) in [(80, 24), (160, 48)] {
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen(&app, w, h));
        }
    }
}

#[test]
fn detail_panes_at_80x24_and_160x48() {
    // A Rockwell controller: identity from CIP, with its evidence.
    let mut assets = app();
    keys(&mut assets, "2/1756-L71");
    key(&mut assets, KeyCode::Enter);
    key(&mut assets, KeyCode::Enter);
    // The newest conduit violation.
    let mut alerts = app();
    keys(&mut alerts, "4");
    key(&mut alerts, KeyCode::Enter);
    // The crossings of the supervisory conduit (the one with violations, picked first), focused.
    let mut conduits = app();
    keys(&mut conduits, "3");
    assert_eq!(conduits.conduit, (1, 2));
    key(&mut conduits, KeyCode::Enter);
    for (app, name) in [
        (assets, "asset"),
        (alerts, "alert"),
        (conduits, "crossings"),
    ] {
        for (w, h) in [(80, 24), (160, 48)] {
            insta::assert_snapshot!(format!("{name}_detail_{w}x{h}"), screen(&app, w, h));
        }
    }
}

#[test]
fn the_demo_shows_its_assets_alerts_and_conduits() {
    let s = demo();
    assert_eq!(s.packets, 13_465);
    assert_eq!(s.assets.len(), 40);
    assert_eq!(s.rates.iter().map(|r| r.packets).sum::<u64>(), 13_465);
    assert_eq!(s.rates.len(), 29, "08:00:00 to 08:00:28, by second");
    let violations: Vec<&str> = s
        .alerts
        .iter()
        .filter(|a| a.rule == "OT-ZONE-002")
        .map(|a| a.src.address())
        .collect();
    assert!(violations.contains(&"10.10.1.50"), "{violations:?}");
    let zones: Vec<&str> = s.zones.zones.iter().map(|z| z.name.as_str()).collect();
    assert_eq!(zones, ["site-services", "control-center", "field"]);
    let control_field = s.zones.cell(1, 2).unwrap();
    assert_eq!(control_field.conduit.as_deref(), Some("supervisory"));
    let refused: Vec<(&str, &str, &str)> = control_field
        .crossings
        .iter()
        .filter(|c| c.verdict == Verdict::Violation)
        .map(|c| (c.client.as_str(), c.server.as_str(), c.protocol.name()))
        .collect();
    // What the engine raised conduit alerts about: web browsing of the PLCs,
    // and Modbus writes from an HMI that is not one of the allowed writers.
    assert_eq!(
        refused,
        [
            ("10.10.1.50", "10.10.2.1", "http"),
            ("10.10.1.50", "10.10.2.17", "http"),
            ("10.10.1.51", "10.10.2.7", "http"),
            ("10.10.1.60", "10.10.2.1", "modbus"),
            ("10.10.1.60", "10.10.2.13", "modbus"),
            ("10.10.1.60", "10.10.2.5", "modbus"),
        ]
    );
    let polled = control_field
        .crossings
        .iter()
        .find(|c| (c.client.as_str(), c.server.as_str()) == ("10.10.1.60", "10.10.2.9"))
        .unwrap();
    assert_eq!(
        polled.verdict,
        Verdict::Permitted,
        "no write went to this one"
    );
    let plc = s
        .assets
        .iter()
        .find(|a| a.asset.id == "10.10.2.20")
        .unwrap();
    assert_eq!(
        (
            plc.vendor.as_str(),
            plc.model.as_str(),
            plc.firmware.as_str(),
            plc.zone.as_str()
        ),
        (
            "Rockwell Automation/Allen-Bradley",
            "1756-L71/B LOGIX5571",
            "20.11",
            "field"
        )
    );
    assert!(plc.new, "a fresh inventory: every asset is new");
}

#[test]
fn tabs_switch_by_number_tab_and_back_tab() {
    let mut app = app();
    assert_eq!(app.tab, Tab::Overview);
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.tab, Tab::Assets);
    key(&mut app, KeyCode::Char('4'));
    assert_eq!(app.tab, Tab::Alerts);
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.tab, Tab::Overview, "Tab wraps around");
    key(&mut app, KeyCode::BackTab);
    assert_eq!(app.tab, Tab::Alerts);
    key(&mut app, KeyCode::Char('3'));
    assert_eq!(app.tab, Tab::Conduits);
}

#[test]
fn filter_narrows_the_assets_and_esc_clears_it() {
    let mut app = app();
    keys(&mut app, "2/plc schneider");
    assert!(app.typing.is_some(), "typing the filter");
    let ids: Vec<&str> = app.asset_rows().map(|a| a.asset.id.as_str()).collect();
    // 10.10.2.7 names itself "schneider-mb006".
    assert_eq!(
        ids,
        [
            "10.10.2.1",
            "10.10.2.4",
            "10.10.2.7",
            "10.10.2.11",
            "10.10.2.12"
        ]
    );
    key(&mut app, KeyCode::Enter);
    assert!(app.typing.is_none());
    assert_eq!(app.assets.filter, "plc schneider");
    assert!(screen(&app, 80, 24).contains("Assets: 5 of 40 matching \"plc schneider\""));
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.asset_count(), 40);
    // Esc while typing puts back the filter that was there.
    keys(&mut app, "/rtu");
    assert_eq!(app.asset_count(), 5);
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.asset_count(), 40);
    assert_eq!(app.assets.filter, "");
}

#[test]
fn sort_cycles_columns_and_keeps_the_selected_asset() {
    let mut app = app();
    keys(&mut app, "2");
    keys(&mut app, "jjjj");
    let chosen = app.selected_asset().unwrap().asset.id.clone();
    key(&mut app, KeyCode::Char('s'));
    assert_eq!(app.asset_sort.name(), "role");
    let roles: Vec<&str> = app.asset_rows().map(|a| a.asset.role.name()).collect();
    let mut sorted = roles.clone();
    sorted.sort();
    assert_eq!(roles, sorted);
    assert_eq!(
        app.selected_asset().unwrap().asset.id,
        chosen,
        "same asset selected"
    );
    key(&mut app, KeyCode::Char('S'));
    let reversed: Vec<&str> = app.asset_rows().map(|a| a.asset.role.name()).collect();
    assert_eq!(reversed.first(), sorted.last());
    for _ in 0..4 {
        key(&mut app, KeyCode::Char('s'));
    }
    assert_eq!(app.asset_sort.name(), "traffic");
    key(&mut app, KeyCode::Char('S'));
    let busiest = app.asset_rows().next().unwrap();
    assert_eq!(busiest.asset.id, "10.10.1.10", "the top talker");
}

#[test]
fn moving_stays_within_the_rows_and_the_mouse_wheel_scrolls() {
    let mut app = app();
    keys(&mut app, "2");
    key(&mut app, KeyCode::Up);
    assert_eq!(app.assets.selected, 0);
    key(&mut app, KeyCode::End);
    assert_eq!(app.assets.selected, 39);
    key(&mut app, KeyCode::Down);
    assert_eq!(app.assets.selected, 39);
    key(&mut app, KeyCode::Char('g'));
    app.event(&Event::Mouse(MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: 10,
        row: 10,
        modifiers: KeyModifiers::NONE,
    }));
    assert_eq!(app.assets.selected, 3);
    // The selected row is drawn even when it is below the first screenful.
    key(&mut app, KeyCode::End);
    assert!(screen(&app, 80, 24).contains("10.10.2.27"));
}

#[test]
fn acknowledging_and_muting_alerts_change_what_is_open() {
    let mut app = app();
    keys(&mut app, "4");
    let open = |app: &App| app.open_alerts().iter().map(|(_, n)| n).sum::<u64>();
    let all = open(&app);
    assert_eq!(all, demo().alerts.len() as u64);
    let first = app.selected_alert().unwrap().fingerprint();
    key(&mut app, KeyCode::Char('a'));
    assert!(app.marks().acknowledged(&first));
    assert_eq!(open(&app), all - 1);
    assert!(app.notice.as_deref().unwrap().contains("this session"));
    assert_eq!(
        app.alert_count(),
        demo().alerts.len(),
        "acknowledged alerts stay listed"
    );
    key(&mut app, KeyCode::Char('a'));
    assert!(!app.marks().acknowledged(&first), "a again reopens it");
    key(&mut app, KeyCode::Char('m'));
    assert!(app.marks().muted(&first));
    assert_eq!(
        app.alert_count(),
        demo().alerts.len() - 1,
        "muted alerts are hidden"
    );
    key(&mut app, KeyCode::Char('M'));
    assert_eq!(app.alert_count(), demo().alerts.len(), "M shows them");
}

#[test]
fn alerts_filter_and_sort_by_severity() {
    let mut app = app();
    keys(&mut app, "4/dnp3");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.alert_count(), 3);
    assert!(app.alert_rows().all(|a| a.rule == "OT-SEC-002"));
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('s'));
    assert_eq!(app.alert_sort.name(), "severity");
    let severities: Vec<Severity> = app.alert_rows().map(|a| a.severity()).collect();
    assert!(
        severities.windows(2).all(|w| w[0] >= w[1]),
        "{severities:?}"
    );
    // As a feed: newest first.
    key(&mut app, KeyCode::Char('s'));
    key(&mut app, KeyCode::Char('s'));
    key(&mut app, KeyCode::Char('s'));
    assert_eq!(app.alert_sort.name(), "time");
    let times: Vec<_> = app.alert_rows().map(|a| a.ts).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]));
}

#[test]
fn a_filter_that_matches_nothing_says_so_below_the_heading() {
    for (tab, note) in [
        ('2', "no asset matches the filter (Esc clears it)"),
        (
            '4',
            "no alert matches (Esc clears the filter, M shows muted)",
        ),
    ] {
        let mut app = app();
        keys(&mut app, &format!("{tab}/no such thing"));
        key(&mut app, KeyCode::Enter);
        let lines: Vec<String> = screen(&app, 80, 24).lines().map(str::to_string).collect();
        // The table's heading is on the line after the block's title, the note under it.
        let heading = (lines.iter())
            .position(|l| l.contains("address") || l.contains("severity"))
            .expect("the table's heading");
        assert!(lines[heading + 1].contains(note), "{:?}", &lines[heading..]);
        key(&mut app, KeyCode::Esc);
        assert!(
            !screen(&app, 80, 24).contains(note),
            "a full list has no note"
        );
    }
}

#[test]
fn pause_holds_the_view_until_resumed() {
    let mut app = app();
    key(&mut app, KeyCode::Char('p'));
    let mut newer = demo().clone();
    newer.packets += 1;
    app.update(Update::Snapshot(Box::new(newer)));
    assert_eq!(app.snapshot().packets, 13_465, "paused: the view holds");
    assert!(screen(&app, 80, 24).contains("PAUSED"));
    key(&mut app, KeyCode::Char('p'));
    assert_eq!(
        app.snapshot().packets,
        13_466,
        "resumed: the latest is shown"
    );
}

#[test]
fn help_opens_and_any_key_closes_it() {
    let mut app = app();
    key(&mut app, KeyCode::Char('?'));
    assert!(screen(&app, 80, 24).contains("Keys (any key closes)"));
    key(&mut app, KeyCode::Char('x'));
    assert!(!app.help);
    assert!(!app.quit);
    key(&mut app, KeyCode::Char('q'));
    assert!(app.quit);
    let mut app = self::app();
    app.key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(app.quit, "Ctrl-C quits");
}

#[test]
fn without_colour_severity_shows_in_words_and_style_only() {
    for color in [true, false] {
        let mut app = App::new(
            demo().clone(),
            Marks::new(Vec::new(), None),
            Theme { color },
        );
        keys(&mut app, "4");
        let buffer = draw(&app, 160, 48);
        let colours: Vec<Color> = buffer
            .content()
            .iter()
            .flat_map(|c| [c.fg, c.bg])
            .filter(|c| *c != Color::Reset)
            .collect();
        assert_eq!(
            colours.is_empty(),
            !color,
            "colour {color}: {:?}",
            colours.first()
        );
        assert!(text(&buffer).contains("high"));
    }
    assert!(
        Theme { color: false }
            .severity(Severity::High)
            .add_modifier
            .contains(ratatui::style::Modifier::BOLD)
    );
}

#[test]
fn acknowledgements_and_mutes_are_kept_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("plant.db");
    let policy_file = common::repo().join("rules/example-plant");
    let out = common::run(&[
        "replay",
        common::demo_capture().to_str().unwrap(),
        "--policy",
        policy_file.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "-q",
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));

    let policy = demo_policy();
    let store = Store::open(&db).unwrap();
    let stored = Snapshot::of_store(&store, &policy, "plant.db").unwrap();
    assert_eq!(stored.assets.len(), 40);
    let ids: Vec<&str> = stored.alerts.iter().map(|a| a.id.as_str()).collect();
    let replayed: Vec<&str> = demo().alerts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, replayed, "the store keeps the run's alerts");
    assert_eq!(stored.alerts, demo().alerts);
    assert!(
        stored.assets.iter().all(|a| a.new),
        "the latest run found them all"
    );

    let marks = Marks::new(
        store.load_marks().unwrap(),
        Some(Box::new(store) as Box<dyn MarkStore>),
    );
    let mut app = App::new(stored, marks, Theme { color: false });
    keys(&mut app, "4");
    let first = app.selected_alert().unwrap().fingerprint();
    keys(&mut app, "aj");
    let second = app.selected_alert().unwrap().fingerprint();
    keys(&mut app, "m");
    assert!(
        app.notice
            .as_deref()
            .unwrap()
            .contains("saved in the store")
    );
    drop(app);

    let again = Store::open(&db).unwrap().load_marks().unwrap();
    let acknowledged: Vec<&str> = again
        .iter()
        .filter(|m| m.acknowledged)
        .map(|m| m.fingerprint.as_str())
        .collect();
    let muted: Vec<&str> = again
        .iter()
        .filter(|m| m.muted)
        .map(|m| m.fingerprint.as_str())
        .collect();
    assert_eq!(acknowledged, [first.as_str()]);
    assert_eq!(muted, [second.as_str()]);
}

#[test]
fn an_older_store_gains_the_alert_tables_and_keeps_its_inventory() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.db");
    // The schema as version 1 left it, with one host.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "CREATE TABLE hosts (key TEXT PRIMARY KEY, state TEXT NOT NULL);
         CREATE TABLE macs (mac TEXT PRIMARY KEY, state TEXT NOT NULL);
         CREATE TABLE changes (id INTEGER PRIMARY KEY, host TEXT NOT NULL, kind TEXT NOT NULL,
             ts TEXT NOT NULL, packet INTEGER NOT NULL, detail TEXT NOT NULL, run INTEGER NOT NULL);
         CREATE INDEX changes_by_host ON changes (host);
         CREATE TABLE runs (id INTEGER PRIMARY KEY, captures TEXT NOT NULL, packets INTEGER NOT NULL);
         PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(conn);
    let store = Store::open(&db).unwrap();
    assert!(store.load_alerts().unwrap().is_empty());
    assert!(store.load_marks().unwrap().is_empty());
    let snapshot = Snapshot::of_store(&store, &demo_policy(), "old.db").unwrap();
    assert!(snapshot.assets.is_empty() && snapshot.alerts.is_empty());
}

#[test]
fn a_dashboard_that_never_reads_does_not_hold_the_replay_back() {
    let policy = demo_policy();
    let (publisher, updates, counters) =
        tui::channel("demo", Cadence::Packet(Duration::from_secs(1)));
    let mut analyzer = Analyzer::new(Inventory::new(), policy.clone());
    analyzer.set_publisher(Box::new(publisher));
    let config = ReplayConfig {
        chunk_size: 16 * 1024,
        ..ReplayConfig::default()
    };
    let report = demo_replay(analyzer, &config);
    let published = counters.published.load(Ordering::Relaxed);
    let dropped = counters.dropped.load(Ordering::Relaxed);
    // One snapshot for each second of packet time an epoch reached.
    assert!((20..=29).contains(&published), "{published}");
    let waiting: Vec<Snapshot> = updates
        .try_iter()
        .map(|u| match u {
            Update::Snapshot(s) => *s,
            Update::Notice(n) => panic!("unexpected notice {n}"),
        })
        .collect();
    assert_eq!(waiting.len(), 2, "only the latest two wait");
    assert_eq!(
        dropped,
        published - 2,
        "every other one was dropped and counted"
    );
    assert!(waiting[0].packets < waiting[1].packets);
    assert!(waiting[1].packets <= report.packets.packets);
    assert!(waiting[1].now <= report.last_ts);
}

/// Records what the dashboard would be shown after every epoch.
struct Recorder(std::sync::Arc<std::sync::Mutex<Vec<(u64, usize, usize)>>>);

impl otsensor::analysis::Publisher for Recorder {
    fn epoch(&mut self, analyzer: &Analyzer) {
        let s = Snapshot::of_analysis(analyzer, "demo", tui::Phase::Replaying { speed: None });
        self.0
            .lock()
            .unwrap()
            .push((s.packets, s.assets.len(), s.alerts.len()));
    }
}

#[test]
fn snapshots_during_a_replay_grow_and_are_the_same_whatever_the_threads() {
    let run = |threads| {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut analyzer = Analyzer::new(Inventory::new(), demo_policy());
        analyzer.set_publisher(Box::new(Recorder(seen.clone())));
        let config = ReplayConfig {
            chunk_size: 64 * 1024,
            threads,
            ..ReplayConfig::default()
        };
        demo_replay(analyzer, &config);
        std::mem::take(&mut *seen.lock().unwrap())
    };
    let one = run(1);
    assert!(one.len() >= 20, "{}", one.len());
    // The last epoch only ends the flows still open: no packets of its own.
    assert!(
        one.windows(2)
            .all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1 && w[0].2 <= w[1].2)
    );
    assert!(one[..one.len() - 1].windows(2).all(|w| w[0].0 < w[1].0));
    let last = *one.last().unwrap();
    assert_eq!(last, (13_465, demo().assets.len(), demo().alerts.len()));
    assert!(
        one.first().unwrap().1 < 40,
        "assets appear as the replay goes"
    );
    assert_eq!(one, run(3));
}

#[test]
fn a_live_capture_shows_what_the_prefilter_passed_and_dropped_by_protocol() {
    use otsensor::tui::snapshot::{LiveDrops, PrefilterLine};
    let line = |name, passed, dropped| PrefilterLine {
        name,
        passed,
        dropped,
    };
    let mut snapshot = demo().clone();
    snapshot.fill_live_drops(LiveDrops {
        prefilter: 10_042,
        prefilter_protocols: vec![
            line("other_udp", 0, 5_000),
            line("arp", 42, 0),
            line("modbus", 12_064, 0),
            line("other_tcp", 0, 5_042),
        ],
        ..LiveDrops::default()
    });
    let app = App::new(
        snapshot,
        Marks::new(Vec::new(), None),
        Theme { color: true },
    );
    // Columns of the drops box: name, passed, dropped; most packets first.
    let rows = |screen: &str| -> Vec<String> {
        screen
            .lines()
            .filter_map(|l| l.split('│').nth(1))
            .map(|cell| cell.split_whitespace().collect::<Vec<_>>().join(" "))
            .skip_while(|cell| !cell.starts_with("prefilter passed"))
            .take_while(|cell| !cell.is_empty())
            .collect()
    };
    assert_eq!(
        rows(&screen(&app, 160, 48)),
        [
            "prefilter passed dropped",
            "modbus 12.1k 0",
            "other_tcp 0 5042",
            "other_udp 0 5000",
            "arp 42 0"
        ]
    );
    // A small terminal shows what fits: the protocol with the most packets.
    assert_eq!(
        rows(&screen(&app, 80, 24)),
        ["prefilter passed dropped", "modbus 12.1k 0"]
    );
    // The stage counter is the total dropped.
    let small = screen(&app, 80, 24);
    assert!(
        small
            .lines()
            .any(|l| l.starts_with("│prefilter") && l.contains("! 10,042")),
        "{small}"
    );
}
