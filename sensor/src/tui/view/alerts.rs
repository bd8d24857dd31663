//! Alerts: the feed, newest first, coloured by severity; a detail pane with
//! the evidence, the IEC 62443-3-3 requirements and ATT&CK for ICS techniques.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Widget, Wrap};

use super::format::{clock, count, datetime};
use super::{block, render_list};
use crate::output::alerts::{AlertRecord, EndRecord};
use crate::tui::app::App;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let Some(alert) = app.selected_alert().filter(|_| app.alerts.detail) else {
        render_table(app, area, buf);
        return;
    };
    let (table, detail) = if area.width >= 120 {
        let [t, d] = Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
            .areas(area);
        (t, d)
    } else {
        let [t, d] =
            Layout::vertical([Constraint::Percentage(35), Constraint::Percentage(65)]).areas(area);
        (t, d)
    };
    render_table(app, table, buf);
    render_detail(app, alert, detail, buf);
}

fn render_table(app: &App, area: Rect, buf: &mut Buffer) {
    let s = app.snapshot();
    let mut title = format!(
        "Alerts: {} of {}",
        count(app.alert_count() as u64),
        count(s.alerts.len() as u64)
    );
    if !app.alerts.filter.is_empty() {
        title.push_str(&format!(" matching \"{}\"", app.alerts.filter));
    }
    title.push_str(if app.show_muted {
        ", muted shown"
    } else {
        ", muted hidden"
    });
    if s.alerts_untracked > 0 {
        title.push_str(&format!(", {} older not shown", count(s.alerts_untracked)));
    }
    let outer = block(&title);
    let inner = outer.inner(area);
    outer.render(area, buf);
    let w = inner.width;
    let mut columns: Vec<(&str, Constraint)> = vec![
        ("time", Constraint::Length(8)),
        ("severity", Constraint::Length(8)),
    ];
    if w >= 100 {
        columns.push(("rule", Constraint::Length(11)));
    }
    columns.push(("title", Constraint::Fill(3)));
    columns.push(("source", Constraint::Length(15)));
    if w >= 100 {
        columns.push(("target", Constraint::Length(15)));
    }
    if w >= 140 {
        columns.push(("function", Constraint::Length(26)));
    }
    columns.push(("n", Constraint::Length(4)));
    columns.push(("state", Constraint::Length(5)));
    let height = inner.height.saturating_sub(1) as usize;
    let offset = app.alerts.window(height, app.alert_count());
    let rows: Vec<Row> = app
        .alert_rows()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, alert)| alert_row(app, alert, &columns, i == app.alerts.selected))
        .collect();
    let empty = match (app.alert_count(), s.alerts.is_empty()) {
        (0, true) => Some("no alerts"),
        (0, false) => Some("no alert matches (Esc clears the filter, M shows muted)"),
        _ => None,
    };
    render_list(app, &columns, rows, empty, inner, buf);
}

fn state(app: &App, alert: &AlertRecord) -> &'static str {
    let fingerprint = alert.fingerprint();
    if app.marks().muted(&fingerprint) {
        "muted"
    } else if app.marks().acknowledged(&fingerprint) {
        "ack"
    } else {
        ""
    }
}

fn alert_row<'a>(
    app: &App,
    alert: &'a AlertRecord,
    columns: &[(&str, Constraint)],
    selected: bool,
) -> Row<'a> {
    let state = state(app, alert);
    let cells: Vec<Span> = columns
        .iter()
        .map(|(name, _)| match *name {
            "time" => Span::raw(clock(alert.ts)),
            "severity" => Span::styled(
                alert.severity().name(),
                app.theme.severity(alert.severity()),
            ),
            "rule" => Span::raw(alert.rule.clone()),
            "title" => Span::raw(alert.title.clone()),
            "source" => Span::raw(or_dash(alert.src.address())),
            "target" => Span::raw(or_dash(alert.dst.address())),
            "function" => Span::raw(match (&alert.protocol, &alert.function) {
                (Some(p), Some(f)) => format!("{p} {f}"),
                (Some(p), None) => p.clone(),
                _ => String::new(),
            }),
            "n" => Span::raw(count(alert.count)),
            _ => Span::raw(state),
        })
        .collect();
    let row = Row::new(cells);
    if selected {
        row.style(app.theme.selected())
    } else if !state.is_empty() {
        row.style(app.theme.dim())
    } else {
        row
    }
}

fn or_dash(text: &str) -> String {
    if text.is_empty() {
        "-".into()
    } else {
        text.to_string()
    }
}

fn end(end: &EndRecord) -> String {
    let mut text = or_dash(end.address());
    let mut about = Vec::new();
    if let Some(name) = &end.name {
        about.push(name.clone());
    }
    if let Some(role) = &end.role {
        about.push(role.clone());
    }
    if !end.zone.is_empty() {
        about.push(format!("zone {}", end.zone));
    }
    if let (Some(_), Some(mac)) = (&end.ip, &end.mac) {
        about.push(mac.clone());
    }
    if let Some(asset) = &end.asset
        && asset != end.address()
    {
        about.push(format!("asset {asset}"));
    }
    if !about.is_empty() {
        text.push_str(&format!(" ({})", about.join(", ")));
    }
    text
}

fn render_detail(app: &App, alert: &AlertRecord, area: Rect, buf: &mut Buffer) {
    let outer = block(&alert.id);
    let inner = outer.inner(area);
    outer.render(area, buf);
    let h = app.theme.heading();
    let label = |text: &str| Span::styled(format!("{text:<10}"), h);
    let mut lines = vec![
        Line::from(vec![
            Span::styled(
                format!(" {} ", alert.severity().name()),
                app.theme
                    .severity(alert.severity())
                    .add_modifier(Modifier::REVERSED),
            ),
            Span::raw(" "),
            Span::styled(
                alert.title.clone(),
                Style::new().add_modifier(Modifier::BOLD),
            ),
        ]),
        Line::from(vec![
            label("rule"),
            Span::raw(format!("{} · {}× · ", alert.rule, count(alert.count))),
            Span::raw(if alert.last_ts > alert.ts {
                format!("{} to {}", datetime(alert.ts), clock(alert.last_ts))
            } else {
                datetime(alert.ts)
            }),
        ]),
    ];
    lines.push(Line::from(vec![
        label("source"),
        Span::raw(end(&alert.src)),
    ]));
    if alert.dst.ip.is_some() || alert.dst.mac.is_some() {
        lines.push(Line::from(vec![
            label("target"),
            Span::raw(end(&alert.dst)),
        ]));
    }
    let mut crossing = alert.zones.join(" → ");
    if let Some(conduit) = &alert.conduit {
        crossing.push_str(&format!(" (conduit {conduit})"));
    }
    lines.push(Line::from(vec![label("zones"), Span::raw(crossing)]));
    if let Some(protocol) = &alert.protocol {
        let function = alert.function.as_deref().unwrap_or("-");
        lines.push(Line::from(vec![
            label("protocol"),
            Span::raw(format!("{protocol} · {function}")),
        ]));
    }
    lines.push(Line::from(vec![
        label("IEC 62443"),
        Span::raw(alert.iec62443.join(", ")),
    ]));
    lines.push(Line::from(vec![
        label("ATT&CK"),
        Span::raw(alert.mitre.join(", ")),
    ]));
    let e = &alert.evidence;
    let mut place = Vec::new();
    if !e.detail.is_empty() {
        place.push(e.detail.clone());
    }
    if !e.packets.is_empty() {
        let packets: Vec<String> = e.packets.iter().map(u64::to_string).collect();
        place.push(format!("packets {}", packets.join(", ")));
    }
    if let Some(capture) = e.capture {
        place.push(format!("capture #{capture}"));
    }
    if let Some(flow) = e.flow {
        place.push(format!("flow {flow}"));
    }
    lines.push(Line::from(vec![
        label("evidence"),
        Span::raw(place.join(" · ")),
    ]));
    let state = match state(app, alert) {
        "" => "open (a acknowledges, m mutes)",
        "ack" => "acknowledged (a reopens)",
        _ => "muted (m unmutes)",
    };
    lines.push(Line::from(vec![label("state"), Span::raw(state)]));
    if !alert.description.is_empty() {
        lines.push(Line::from(Span::styled(
            alert.description.clone(),
            app.theme.dim(),
        )));
    }
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .render(inner, buf);
}
