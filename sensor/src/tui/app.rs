//! The dashboard's state, owned by the UI thread: the snapshot shown, the
//! tab, selections, filters and sort orders, and the operator's marks on
//! alerts. Keys and mouse events change it; drawing only reads it.

use std::cell::Cell;
use std::cmp::Reverse;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind,
};

use crate::analysis::policy::Severity;
use crate::output::alerts::AlertRecord;

use super::marks::Marks;
use super::publish::{Counters, Update};
use super::snapshot::{AssetView, Snapshot};
use super::theme::Theme;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Overview,
    Assets,
    Conduits,
    Alerts,
}

impl Tab {
    pub const ALL: [Tab; 4] = [Tab::Overview, Tab::Assets, Tab::Conduits, Tab::Alerts];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::Assets => "Assets",
            Tab::Conduits => "Conduits",
            Tab::Alerts => "Alerts",
        }
    }

    fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssetSort {
    Address,
    Role,
    Vendor,
    Zone,
    LastSeen,
    Traffic,
}

impl AssetSort {
    const ALL: [AssetSort; 6] = [
        AssetSort::Address,
        AssetSort::Role,
        AssetSort::Vendor,
        AssetSort::Zone,
        AssetSort::LastSeen,
        AssetSort::Traffic,
    ];

    pub fn name(self) -> &'static str {
        match self {
            AssetSort::Address => "address",
            AssetSort::Role => "role",
            AssetSort::Vendor => "vendor",
            AssetSort::Zone => "zone",
            AssetSort::LastSeen => "last seen",
            AssetSort::Traffic => "traffic",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertSort {
    /// Newest first, as a feed.
    Time,
    /// Most severe first, then newest.
    Severity,
    Rule,
    /// Most repeated first.
    Count,
}

impl AlertSort {
    const ALL: [AlertSort; 4] = [
        AlertSort::Time,
        AlertSort::Severity,
        AlertSort::Rule,
        AlertSort::Count,
    ];

    pub fn name(self) -> &'static str {
        match self {
            AlertSort::Time => "time",
            AlertSort::Severity => "severity",
            AlertSort::Rule => "rule",
            AlertSort::Count => "count",
        }
    }
}

fn next<T: Copy + PartialEq>(all: &[T], current: T) -> T {
    let at = all.iter().position(|x| *x == current).unwrap_or(0);
    all[(at + 1) % all.len()]
}

/// A scrolling list: the selected row, the first row drawn (kept by drawing),
/// the filter, and whether the detail pane is open.
#[derive(Debug, Default)]
pub struct ListState {
    pub selected: usize,
    pub offset: Cell<usize>,
    pub filter: String,
    pub detail: bool,
}

impl ListState {
    fn step(&mut self, delta: isize, len: usize) {
        if len == 0 {
            self.selected = 0;
            return;
        }
        let target = self.selected as isize + delta;
        self.selected = target.clamp(0, len as isize - 1) as usize;
    }

    /// The first row to draw so that the selected one shows in `height` rows,
    /// moving the view as little as possible.
    pub fn window(&self, height: usize, len: usize) -> usize {
        let mut offset = self.offset.get().min(len.saturating_sub(height));
        if self.selected < offset {
            offset = self.selected;
        } else if height > 0 && self.selected >= offset + height {
            offset = self.selected + 1 - height;
        }
        self.offset.set(offset);
        offset
    }
}

pub struct App {
    snapshot: Snapshot,
    /// The latest snapshot that arrived while the view was paused.
    waiting: Option<Snapshot>,
    pub tab: Tab,
    pub paused: bool,
    pub help: bool,
    /// The filter being typed, and the one it replaces (restored by Esc).
    pub typing: Option<String>,
    typing_before: String,
    pub assets: ListState,
    pub asset_sort: AssetSort,
    pub asset_reverse: bool,
    asset_rows: Vec<usize>,
    pub alerts: ListState,
    pub alert_sort: AlertSort,
    pub show_muted: bool,
    alert_rows: Vec<usize>,
    /// The selected cell of the zone matrix (row, column).
    pub conduit: (usize, usize),
    /// The operator moved across the matrix (until then, the busiest cell is picked).
    conduit_chosen: bool,
    /// The drill-down list of the selected cell (`detail`: it has the keys).
    pub crossings: ListState,
    marks: Marks,
    pub notice: Option<String>,
    pub theme: Theme,
    pub quit: bool,
    counters: Option<Arc<Counters>>,
    /// Something changed since the last draw.
    pub dirty: bool,
}

impl App {
    pub fn new(snapshot: Snapshot, marks: Marks, theme: Theme) -> App {
        let mut app = App {
            snapshot,
            waiting: None,
            tab: Tab::Overview,
            paused: false,
            help: false,
            typing: None,
            typing_before: String::new(),
            assets: ListState::default(),
            asset_sort: AssetSort::Address,
            asset_reverse: false,
            asset_rows: Vec::new(),
            alerts: ListState::default(),
            alert_sort: AlertSort::Time,
            show_muted: false,
            alert_rows: Vec::new(),
            conduit: (0, 0),
            conduit_chosen: false,
            crossings: ListState::default(),
            marks,
            notice: None,
            theme,
            quit: false,
            counters: None,
            dirty: true,
        };
        app.refresh();
        app
    }

    /// Shows the publisher's counts (snapshots dropped) with the pipeline's.
    pub fn with_counters(mut self, counters: Arc<Counters>) -> App {
        self.counters = Some(counters);
        self
    }

    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// Snapshots the publisher dropped because this side was slow.
    pub fn snapshots_dropped(&self) -> Option<u64> {
        self.counters
            .as_ref()
            .map(|c| c.dropped.load(Ordering::Relaxed))
    }

    pub fn marks(&self) -> &Marks {
        &self.marks
    }

    pub fn update(&mut self, update: Update) {
        match update {
            Update::Snapshot(snapshot) if self.paused => self.waiting = Some(*snapshot),
            Update::Snapshot(snapshot) => self.show(*snapshot),
            Update::Notice(text) => self.notice = Some(text),
        }
        self.dirty = true;
    }

    fn show(&mut self, snapshot: Snapshot) {
        self.snapshot = snapshot;
        self.refresh();
    }

    // Rows, filtered and sorted.

    pub fn asset_rows(&self) -> impl ExactSizeIterator<Item = &AssetView> {
        self.asset_rows.iter().map(|&i| &self.snapshot.assets[i])
    }

    pub fn asset_count(&self) -> usize {
        self.asset_rows.len()
    }

    pub fn selected_asset(&self) -> Option<&AssetView> {
        self.asset_rows
            .get(self.assets.selected)
            .map(|&i| &self.snapshot.assets[i])
    }

    pub fn alert_rows(&self) -> impl ExactSizeIterator<Item = &AlertRecord> {
        self.alert_rows.iter().map(|&i| &self.snapshot.alerts[i])
    }

    pub fn alert_count(&self) -> usize {
        self.alert_rows.len()
    }

    pub fn selected_alert(&self) -> Option<&AlertRecord> {
        self.alert_rows
            .get(self.alerts.selected)
            .map(|&i| &self.snapshot.alerts[i])
    }

    /// Alerts neither acknowledged nor muted, by severity.
    pub fn open_alerts(&self) -> [(Severity, u64); 5] {
        let mut counts = [0u64; 5];
        for alert in &self.snapshot.alerts {
            let fingerprint = alert.fingerprint();
            if !self.marks.acknowledged(&fingerprint) && !self.marks.muted(&fingerprint) {
                counts[alert.severity() as usize] += 1;
            }
        }
        let mut out = [(Severity::Info, 0); 5];
        for (i, severity) in Severity::ALL.iter().enumerate() {
            out[i] = (*severity, counts[*severity as usize]);
        }
        out
    }

    /// Recomputes the rows after the snapshot, a filter, a sort or a mark
    /// changed, keeping the same asset and alert selected.
    fn refresh(&mut self) {
        let asset_id = self.selected_asset().map(|a| a.asset.id.clone());
        let alert_id = self.selected_alert().map(|a| a.fingerprint());

        let wanted = words(&self.assets.filter);
        let mut rows: Vec<usize> = (0..self.snapshot.assets.len())
            .filter(|&i| asset_matches(&self.snapshot.assets[i], &wanted))
            .collect();
        let assets = &self.snapshot.assets;
        match self.asset_sort {
            // Assets arrive in address order.
            AssetSort::Address => {}
            AssetSort::Role => rows.sort_by_key(|&i| assets[i].asset.role.name()),
            AssetSort::Vendor => rows.sort_by_key(|&i| assets[i].vendor.to_lowercase()),
            AssetSort::Zone => rows.sort_by_key(|&i| &assets[i].zone),
            AssetSort::LastSeen => rows.sort_by_key(|&i| Reverse(assets[i].asset.last_seen)),
            AssetSort::Traffic => rows.sort_by_key(|&i| {
                let a = &assets[i].asset;
                Reverse(a.bytes_sent + a.bytes_received)
            }),
        }
        if self.asset_reverse {
            rows.reverse();
        }
        self.asset_rows = rows;

        let wanted = words(&self.alerts.filter);
        let alerts = &self.snapshot.alerts;
        let mut rows: Vec<usize> = (0..alerts.len())
            .filter(|&i| {
                (self.show_muted || !self.marks.muted(&alerts[i].fingerprint()))
                    && alert_matches(&alerts[i], &wanted)
            })
            .collect();
        // Newest first, then by the chosen key (stable sorts keep that order within).
        rows.reverse();
        match self.alert_sort {
            AlertSort::Time => {}
            AlertSort::Severity => rows.sort_by_key(|&i| Reverse(alerts[i].severity())),
            AlertSort::Rule => rows.sort_by(|&a, &b| alerts[a].rule.cmp(&alerts[b].rule)),
            AlertSort::Count => rows.sort_by_key(|&i| Reverse(alerts[i].count)),
        }
        self.alert_rows = rows;

        let found = asset_id.and_then(|id| self.asset_rows().position(|a| a.asset.id == id));
        if let Some(at) = found {
            self.assets.selected = at;
        }
        let found = alert_id.and_then(|f| self.alert_rows().position(|a| a.fingerprint() == f));
        if let Some(at) = found {
            self.alerts.selected = at;
        }
        self.assets.selected = self
            .assets
            .selected
            .min(self.asset_rows.len().saturating_sub(1));
        self.alerts.selected = self
            .alerts
            .selected
            .min(self.alert_rows.len().saturating_sub(1));
        let zones = self.snapshot.zones.zones.len().max(1);
        if !self.conduit_chosen {
            self.conduit = self.busiest_cell();
        }
        self.conduit = (self.conduit.0.min(zones - 1), self.conduit.1.min(zones - 1));
        self.crossings.selected = self
            .crossings
            .selected
            .min(self.crossing_count().saturating_sub(1));
    }

    /// The pair of zones most worth a look: the most violations, then the
    /// most crossings between different zones.
    fn busiest_cell(&self) -> (usize, usize) {
        self.snapshot
            .zones
            .cells()
            .filter(|((a, b), _)| a != b)
            .max_by_key(|((a, b), cell)| (cell.violations, cell.crossings.len(), Reverse((*a, *b))))
            .map_or((0, 0), |(pair, _)| pair)
    }

    /// Rows in the drill-down of the selected conduit cell.
    pub fn crossing_count(&self) -> usize {
        self.snapshot
            .zones
            .cell(self.conduit.0, self.conduit.1)
            .map_or(0, |c| c.crossings.len())
    }

    // Input.

    pub fn event(&mut self, event: &Event) {
        match event {
            Event::Key(key) if key.kind != KeyEventKind::Release => self.key(*key),
            Event::Mouse(mouse) => self.mouse(*mouse),
            Event::Resize(..) => {}
            _ => return,
        }
        self.dirty = true;
    }

    pub fn key(&mut self, key: KeyEvent) {
        self.dirty = true;
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            self.quit = true;
            return;
        }
        if self.typing.is_some() {
            self.type_filter(key.code);
            return;
        }
        if self.help {
            match key.code {
                KeyCode::Char('q') => self.quit = true,
                _ => self.help = false,
            }
            return;
        }
        self.notice = None;
        match key.code {
            KeyCode::Char('q') => self.quit = true,
            KeyCode::Char('?') => self.help = true,
            KeyCode::Tab => self.tab = Tab::ALL[(self.tab.index() + 1) % Tab::ALL.len()],
            KeyCode::BackTab => {
                self.tab = Tab::ALL[(self.tab.index() + Tab::ALL.len() - 1) % Tab::ALL.len()]
            }
            KeyCode::Char(c @ '1'..='4') => self.tab = Tab::ALL[c as usize - '1' as usize],
            KeyCode::Char('p') => self.toggle_pause(),
            KeyCode::Char('/') if self.tab != Tab::Overview => {
                let current = self.list().map(|l| l.filter.clone()).unwrap_or_default();
                self.typing_before = current.clone();
                self.typing = Some(current);
            }
            KeyCode::Char('s') => self.cycle_sort(),
            KeyCode::Char('S') if self.tab == Tab::Assets => {
                self.asset_reverse = !self.asset_reverse;
                self.refresh();
            }
            KeyCode::Char('a') if self.tab == Tab::Alerts => self.toggle_acknowledged(),
            KeyCode::Char('m') if self.tab == Tab::Alerts => self.toggle_muted(),
            KeyCode::Char('M') if self.tab == Tab::Alerts => {
                self.show_muted = !self.show_muted;
                self.refresh();
            }
            KeyCode::Enter => self.enter(),
            KeyCode::Esc => self.escape(),
            KeyCode::Up | KeyCode::Char('k') => self.move_by(-1),
            KeyCode::Down | KeyCode::Char('j') => self.move_by(1),
            KeyCode::PageUp => self.move_by(-10),
            KeyCode::PageDown => self.move_by(10),
            KeyCode::Home | KeyCode::Char('g') => self.move_by(isize::MIN / 2),
            KeyCode::End | KeyCode::Char('G') => self.move_by(isize::MAX / 2),
            KeyCode::Left | KeyCode::Char('h') if self.tab == Tab::Conduits => {
                self.move_cell(0, -1)
            }
            KeyCode::Right | KeyCode::Char('l') if self.tab == Tab::Conduits => {
                self.move_cell(0, 1)
            }
            _ => {}
        }
    }

    pub fn mouse(&mut self, mouse: MouseEvent) {
        match mouse.kind {
            MouseEventKind::ScrollUp => self.move_by(-3),
            MouseEventKind::ScrollDown => self.move_by(3),
            _ => {}
        }
    }

    fn type_filter(&mut self, code: KeyCode) {
        let Some(text) = &mut self.typing else {
            return;
        };
        match code {
            KeyCode::Char(c) => text.push(c),
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Enter => {
                self.typing = None;
                return;
            }
            KeyCode::Esc => {
                let before = std::mem::take(&mut self.typing_before);
                self.typing = None;
                self.set_filter(before);
                return;
            }
            _ => return,
        }
        let text = text.clone();
        self.set_filter(text);
    }

    fn set_filter(&mut self, text: String) {
        if let Some(list) = self.list_mut() {
            list.filter = text;
            list.selected = 0;
            list.offset.set(0);
        }
        self.refresh();
    }

    fn list(&self) -> Option<&ListState> {
        match self.tab {
            Tab::Assets => Some(&self.assets),
            Tab::Alerts => Some(&self.alerts),
            Tab::Conduits => Some(&self.crossings),
            Tab::Overview => None,
        }
    }

    fn list_mut(&mut self) -> Option<&mut ListState> {
        match self.tab {
            Tab::Assets => Some(&mut self.assets),
            Tab::Alerts => Some(&mut self.alerts),
            Tab::Conduits => Some(&mut self.crossings),
            Tab::Overview => None,
        }
    }

    fn toggle_pause(&mut self) {
        self.paused = !self.paused;
        if !self.paused
            && let Some(snapshot) = self.waiting.take()
        {
            self.show(snapshot);
        }
    }

    fn cycle_sort(&mut self) {
        match self.tab {
            Tab::Assets => self.asset_sort = next(&AssetSort::ALL, self.asset_sort),
            Tab::Alerts => self.alert_sort = next(&AlertSort::ALL, self.alert_sort),
            _ => return,
        }
        self.refresh();
    }

    fn enter(&mut self) {
        match self.tab {
            Tab::Assets => self.assets.detail = !self.assets.detail,
            Tab::Alerts => self.alerts.detail = !self.alerts.detail,
            Tab::Conduits => {
                self.crossings.detail = !self.crossings.detail;
            }
            Tab::Overview => {}
        }
    }

    fn escape(&mut self) {
        let Some(list) = self.list_mut() else {
            return;
        };
        if list.detail {
            list.detail = false;
        } else if !list.filter.is_empty() {
            self.set_filter(String::new());
        }
    }

    fn move_by(&mut self, delta: isize) {
        match self.tab {
            Tab::Assets => self.assets.step(delta, self.asset_rows.len()),
            Tab::Alerts => self.alerts.step(delta, self.alert_rows.len()),
            Tab::Conduits if self.crossings.detail => {
                let len = self.crossing_count();
                self.crossings.step(delta, len);
            }
            Tab::Conduits => self.move_cell(delta.signum(), 0),
            Tab::Overview => {}
        }
    }

    fn move_cell(&mut self, rows: isize, columns: isize) {
        if self.crossings.detail && rows == 0 {
            return;
        }
        let n = self.snapshot.zones.zones.len().max(1) as isize;
        self.conduit_chosen = true;
        let (r, c) = self.conduit;
        self.conduit = (
            (r as isize + rows).clamp(0, n - 1) as usize,
            (c as isize + columns).clamp(0, n - 1) as usize,
        );
        self.crossings.selected = 0;
        self.crossings.offset.set(0);
    }

    fn toggle_acknowledged(&mut self) {
        let Some(fingerprint) = self.selected_alert().map(AlertRecord::fingerprint) else {
            return;
        };
        self.notice = Some(match self.marks.toggle_acknowledged(&fingerprint) {
            Ok(true) => self.saved("acknowledged"),
            Ok(false) => self.saved("acknowledgement withdrawn"),
            Err(e) => format!("could not save: {e}"),
        });
        self.refresh();
    }

    fn toggle_muted(&mut self) {
        let Some(fingerprint) = self.selected_alert().map(AlertRecord::fingerprint) else {
            return;
        };
        self.notice = Some(match self.marks.toggle_muted(&fingerprint) {
            Ok(true) => self.saved("muted (M shows muted alerts)"),
            Ok(false) => self.saved("unmuted"),
            Err(e) => format!("could not save: {e}"),
        });
        self.refresh();
    }

    fn saved(&self, what: &str) -> String {
        match self.marks.kept_in() {
            Some(place) => format!("{what}; saved in {place}"),
            None => format!("{what} for this session (no --db store)"),
        }
    }
}

/// Lowercased words of a filter; a row matches when it contains them all.
fn words(filter: &str) -> Vec<String> {
    filter.split_whitespace().map(str::to_lowercase).collect()
}

fn contains_all(haystack: &str, words: &[String]) -> bool {
    let haystack = haystack.to_lowercase();
    words.iter().all(|w| haystack.contains(w.as_str()))
}

fn asset_matches(view: &AssetView, words: &[String]) -> bool {
    if words.is_empty() {
        return true;
    }
    let a = &view.asset;
    let mut text = format!(
        "{} {} {} {} {} {} {}",
        a.id,
        a.role.name(),
        view.vendor,
        view.model,
        view.firmware,
        view.zone,
        view.protocols.join(" ")
    );
    for ip in &a.ips {
        text.push_str(&format!(" {ip}"));
    }
    for mac in &a.macs {
        text.push(' ');
        text.push_str(&crate::analysis::inventory::format_mac(mac));
    }
    contains_all(&text, words)
}

fn alert_matches(alert: &AlertRecord, words: &[String]) -> bool {
    if words.is_empty() {
        return true;
    }
    let text = format!(
        "{} {} {} {} {} {} {} {} {} {} {}",
        alert.id,
        alert.severity,
        alert.rule,
        alert.title,
        alert.src.address(),
        alert.dst.address(),
        alert.zones.join(" "),
        alert.protocol.as_deref().unwrap_or_default(),
        alert.function.as_deref().unwrap_or_default(),
        alert.iec62443.join(" "),
        alert.mitre.join(" "),
    );
    contains_all(&text, words)
}
