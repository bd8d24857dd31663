//! Drawing: `impl Widget for &App` lays out the header, the tab bar, the
//! current tab (one module each) and the key line; it only reads the state.

mod alerts;
mod assets;
mod conduits;
pub mod format;
mod overview;

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Row, Table, Widget, Wrap};

use super::app::{App, Tab};
use super::snapshot::Phase;
use format::{clock, count, datetime, short};

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let [header, tabs, body, footer] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Min(0),
            Constraint::Length(1),
        ])
        .areas(area);
        render_header(self, header, buf);
        render_tabs(self, tabs, buf);
        match self.tab {
            Tab::Overview => overview::render(self, body, buf),
            Tab::Assets => assets::render(self, body, buf),
            Tab::Conduits => conduits::render(self, body, buf),
            Tab::Alerts => alerts::render(self, body, buf),
        }
        render_footer(self, footer, buf);
        if self.help {
            render_help(self, area, buf);
        }
    }
}

fn render_header(app: &App, area: Rect, buf: &mut Buffer) {
    let snapshot = app.snapshot();
    let phase = match &snapshot.phase {
        Phase::Replaying { speed: None } => "replaying, fast".to_string(),
        Phase::Replaying { speed: Some(speed) } => format!("replaying at {speed}×"),
        Phase::Finished => "replay finished".to_string(),
        Phase::Live { interface } => format!("live on {interface}"),
        Phase::CaptureEnded { interface } => format!("capture on {interface} ended"),
        Phase::Stored { runs } => format!("store of {runs} run(s)"),
        Phase::Fleet { sensors } => format!("fleet of {sensors} sensor(s)"),
    };
    let mut right = Vec::new();
    if let Some(wall) = snapshot.wall.as_ref().filter(|_| area.width >= 100) {
        let secs = wall.elapsed.as_secs_f64().max(1e-3);
        right.push(Span::styled(
            format!(
                " {:.1} s, {} pkt/s ",
                secs,
                short(wall.packets as f64 / secs)
            ),
            app.theme.dim(),
        ));
    }
    if app.paused {
        right.push(Span::styled(" PAUSED ", app.theme.selected()));
    }
    let right_width: usize = right.iter().map(|s| s.width()).sum();
    let mut left = vec![
        Span::styled(" otsensor ", app.theme.bar()),
        Span::raw(" "),
        Span::styled(
            snapshot.source.clone(),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!(" · {phase}")),
    ];
    if let Some(now) = snapshot.now {
        // The date only where it fits beside the rest.
        let used: usize = left.iter().map(|s| s.width()).sum::<usize>() + right_width;
        let when = if used + 22 <= area.width as usize {
            datetime(now)
        } else {
            clock(now)
        };
        left.push(Span::raw(format!(" · {when}")));
    }
    let [l, r] = Layout::horizontal([Constraint::Min(0), Constraint::Length(right_width as u16)])
        .areas(area);
    Line::from(left).render(l, buf);
    Line::from(right).render(r, buf);
}

fn render_tabs(app: &App, area: Rect, buf: &mut Buffer) {
    let snapshot = app.snapshot();
    let mut spans = Vec::new();
    for (n, tab) in Tab::ALL.iter().enumerate() {
        let label = match tab {
            Tab::Assets => format!(
                " {} {} ({}) ",
                n + 1,
                tab.title(),
                count(snapshot.assets.len() as u64)
            ),
            Tab::Alerts => {
                let open: u64 = app.open_alerts().iter().map(|(_, n)| n).sum();
                format!(" {} {} ({}) ", n + 1, tab.title(), count(open))
            }
            _ => format!(" {} {} ", n + 1, tab.title()),
        };
        let style = if *tab == app.tab {
            app.theme.selected().add_modifier(Modifier::BOLD)
        } else {
            Style::new()
        };
        spans.push(Span::styled(label, style));
        spans.push(Span::raw("│"));
    }
    spans.pop();
    Line::from(spans).render(area, buf);
}

fn render_footer(app: &App, area: Rect, buf: &mut Buffer) {
    if let Some(text) = &app.typing {
        Line::from(vec![
            Span::styled(" filter: ", app.theme.heading()),
            Span::raw(text.clone()),
            Span::styled("▏", app.theme.selected()),
            Span::styled("  Enter keep · Esc cancel", app.theme.dim()),
        ])
        .render(area, buf);
        return;
    }
    let hints = match app.tab {
        Tab::Overview => "Tab/1-4 tabs · p pause · ? help · q quit".to_string(),
        Tab::Assets => format!(
            "↑↓ move · Enter detail · / filter · s sort: {}{} · ? help · q quit",
            app.asset_sort.name(),
            if app.asset_reverse { " (reversed)" } else { "" }
        ),
        Tab::Conduits if app.crossings.detail => {
            "↑↓ scroll · Enter/Esc back to the matrix · ? help · q quit".to_string()
        }
        Tab::Conduits => "←→↑↓ pick zones · Enter crossings · ? help · q quit".to_string(),
        Tab::Alerts => format!(
            "↑↓ move · Enter detail · a ack · m mute · / filter · s sort: {} · ? help",
            app.alert_sort.name()
        ),
    };
    let line = match &app.notice {
        Some(notice) => Line::from(vec![
            Span::styled(format!(" {notice} "), app.theme.selected()),
            Span::raw(" "),
            Span::styled(hints, app.theme.dim()),
        ]),
        None => Line::from(Span::styled(format!(" {hints}"), app.theme.dim())),
    };
    line.render(area, buf);
}

const HELP: &[(&str, &str)] = &[
    (
        "Tab / Shift-Tab, 1-4",
        "switch tabs: Overview, Assets, Conduits, Alerts",
    ),
    (
        "↑ ↓  j k, PgUp PgDn",
        "move the selection (mouse wheel too)",
    ),
    ("g G, Home End", "first and last row"),
    ("Enter", "detail pane; Conduits: the crossings list"),
    ("← → h l", "Conduits: move across the zone matrix"),
    ("/", "filter the table: words that must all appear"),
    ("Esc", "close the detail pane, then clear the filter"),
    ("s  S", "sort by the next column; Assets: reverse"),
    ("a  m  M", "Alerts: acknowledge, mute, show muted alerts"),
    ("p", "pause the view (the sensor keeps going)"),
    ("?", "this help"),
    ("q, Ctrl-C", "quit"),
];

fn render_help(app: &App, area: Rect, buf: &mut Buffer) {
    let width = area.width.min(72);
    let height = (HELP.len() as u16 + 4).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    Clear.render(popup, buf);
    let mut lines: Vec<Line> = HELP
        .iter()
        .map(|(keys, what)| {
            Line::from(vec![
                Span::styled(format!("{keys:<22}"), app.theme.heading()),
                Span::raw(*what),
            ])
        })
        .collect();
    let saving = match app.marks().kept_in() {
        Some(place) => format!("Acknowledgements and mutes are saved in {place}."),
        None => "Without --db, acknowledgements and mutes last this session only.".to_string(),
    };
    lines.push(Line::from(Span::styled(saving, app.theme.dim())));
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Keys (any key closes) "),
        )
        .render(popup, buf);
}

/// A list tab's table in `area`: the column names as its heading, then
/// `rows`; for an empty list, `empty` (dim) says why on the line below the
/// heading.
fn render_list(
    app: &App,
    columns: &[(&str, Constraint)],
    rows: Vec<Row>,
    empty: Option<&str>,
    area: Rect,
    buf: &mut Buffer,
) {
    let header = Row::new(columns.iter().map(|(name, _)| *name)).style(app.theme.heading());
    let widths: Vec<Constraint> = columns.iter().map(|(_, c)| *c).collect();
    Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .render(area, buf);
    let y = area.y + 1;
    if let Some(empty) = empty.filter(|_| y < area.bottom()) {
        Line::from(Span::styled(empty, app.theme.dim())).render(
            Rect {
                y,
                height: 1,
                ..area
            },
            buf,
        );
    }
}

/// A bordered block with a title.
fn block(title: &str) -> Block<'_> {
    Block::default().borders(Borders::ALL).title(Span::styled(
        format!(" {title} "),
        Style::new().add_modifier(Modifier::BOLD),
    ))
}
