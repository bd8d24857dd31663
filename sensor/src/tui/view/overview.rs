//! Overview: traffic and its rates, the protocol mix, drops at each stage,
//! assets by role, open alerts by severity, top talkers, decode anomalies.

use std::collections::BTreeMap;

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline, Widget};

use super::block;
use super::format::{bytes, count, fit, mbits, short};
use crate::analysis::policy::Severity;
use crate::tui::app::App;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    // Taller terminals get taller sparklines.
    let top_height = (area.height * 2 / 5).max(9);
    let [top, bottom] =
        Layout::vertical([Constraint::Length(top_height), Constraint::Min(0)]).areas(area);
    let [traffic, mix] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(top);
    render_traffic(app, traffic, buf);
    render_mix(app, mix, buf);
    let [drops, inventory, talkers] = Layout::horizontal([
        Constraint::Ratio(1, 3),
        Constraint::Ratio(1, 3),
        Constraint::Ratio(1, 3),
    ])
    .areas(bottom);
    render_drops(app, drops, buf);
    render_inventory(app, inventory, buf);
    let anomalies = (app.snapshot().anomalies.len().max(1) as u16 + 2).min(bottom.height / 2);
    let [talkers, anomalies_area] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(anomalies)]).areas(talkers);
    render_talkers(app, talkers, buf);
    render_anomalies(app, anomalies_area, buf);
}

fn render_traffic(app: &App, area: Rect, buf: &mut Buffer) {
    let s = app.snapshot();
    let outer = block("Traffic (per second of packet time)");
    let inner = outer.inner(area);
    outer.render(area, buf);
    let spark_height = inner.height.saturating_sub(3) / 2;
    let rows = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(spark_height),
        Constraint::Length(1),
        Constraint::Length(spark_height),
    ])
    .areas::<5>(inner);
    Line::from(format!(
        "{} packets · {} · {} PDUs",
        count(s.packets),
        bytes(s.bytes),
        count(s.events)
    ))
    .render(rows[0], buf);
    let width = inner.width as usize;
    let packets: Vec<u64> = s.rates.iter().map(|r| r.packets).collect();
    let bits: Vec<u64> = s.rates.iter().map(|r| r.bytes * 8).collect();
    let (last_pkts, peak_pkts) = last_and_peak(&packets);
    let (last_bits, peak_bits) = last_and_peak(&bits);
    rate_line(
        app,
        "packets/s",
        &short(last_pkts as f64),
        &short(peak_pkts as f64),
    )
    .render(rows[1], buf);
    spark(app, &packets, width).render(rows[2], buf);
    rate_line(app, "Mbit/s", &mbits(last_bits / 8), &mbits(peak_bits / 8)).render(rows[3], buf);
    spark(app, &bits, width).render(rows[4], buf);
}

/// The last complete second (the latest may still be filling) and the peak.
fn last_and_peak(values: &[u64]) -> (u64, u64) {
    let last = match values.len() {
        0 => 0,
        1 => values[0],
        n => values[n - 2],
    };
    (last, values.iter().copied().max().unwrap_or(0))
}

fn rate_line<'a>(app: &App, what: &'a str, last: &str, peak: &str) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{what:<10}"), app.theme.heading()),
        Span::raw(format!("{last} last second · {peak} peak")),
    ])
}

/// The latest `width` seconds, newest at the right.
fn spark<'a>(app: &App, values: &'a [u64], width: usize) -> Sparkline<'a> {
    let from = values.len().saturating_sub(width);
    Sparkline::default()
        .data(values[from..].iter().copied())
        .style(app.theme.sparkline())
}

fn render_mix(app: &App, area: Rect, buf: &mut Buffer) {
    let s = app.snapshot();
    let outer = block("Protocol mix (PDUs)");
    let inner = outer.inner(area);
    outer.render(area, buf);
    let total: u64 = s.protocols.iter().map(|p| p.pdus).sum::<u64>().max(1);
    let bar_width = (inner.width as usize).saturating_sub(27);
    let mut lines: Vec<Line> = Vec::new();
    for p in s.protocols.iter().take(inner.height as usize) {
        let share = p.pdus as f64 / total as f64;
        let bar =
            "█".repeat(((share * bar_width as f64).round() as usize).max(usize::from(p.pdus > 0)));
        let mut spans = vec![
            Span::raw(format!(
                "{:<9}{:>10} {:>5.1}% ",
                p.name,
                count(p.pdus),
                share * 100.0
            )),
            Span::styled(bar, app.theme.sparkline()),
        ];
        if p.anomalous > 0 {
            spans.push(Span::styled(
                format!(" {} bad", count(p.anomalous)),
                app.theme.alarm(),
            ));
        }
        lines.push(Line::from(spans));
    }
    if lines.is_empty() {
        lines.push(Line::from(Span::styled(
            "no industrial PDUs yet",
            app.theme.dim(),
        )));
    }
    Paragraph::new(lines).render(inner, buf);
}

fn render_drops(app: &App, area: Rect, buf: &mut Buffer) {
    let s = app.snapshot();
    let outer = block("Drops by stage");
    let inner = outer.inner(area);
    outer.render(area, buf);
    let mut lines = Vec::new();
    let mut counter = |name: &str, value: Option<u64>| {
        let (text, style) = match value {
            None => ("—".to_string(), app.theme.dim()),
            Some(0) => ("0".to_string(), Style::new()),
            Some(n) => (format!("! {}", count(n)), app.theme.alarm()),
        };
        let width = (inner.width as usize).saturating_sub(12).max(1);
        lines.push(Line::from(vec![
            Span::raw(format!("{name:<12}")),
            Span::styled(format!("{text:>width$}"), style),
        ]));
    };
    for stage in &s.stages {
        counter(stage.name, stage.count);
    }
    counter("dashboard", app.snapshots_dropped());
    prefilter_table(app, inner, &mut lines);
    Paragraph::new(lines).render(inner, buf);
}

/// The prefilter's packets passed and dropped by protocol, as many as fit
/// below the drop counters.
fn prefilter_table(app: &App, area: Rect, lines: &mut Vec<Line<'_>>) {
    let s = app.snapshot();
    let room = (area.height as usize).saturating_sub(lines.len() + 1);
    if s.prefilter.is_empty() || room == 0 {
        return;
    }
    let name_width = (area.width as usize).saturating_sub(16).max(1);
    lines.push(Line::from(Span::styled(
        format!(
            "{:<name_width$}{:>8}{:>8}",
            "prefilter", "passed", "dropped"
        ),
        app.theme.heading(),
    )));
    for p in s.prefilter.iter().take(room) {
        lines.push(Line::from(format!(
            "{:<name_width$}{:>8}{:>8}",
            fit(p.name, name_width),
            short(p.passed as f64),
            short(p.dropped as f64)
        )));
    }
}

fn render_inventory(app: &App, area: Rect, buf: &mut Buffer) {
    let s = app.snapshot();
    let outer = block("Assets · open alerts");
    let inner = outer.inner(area);
    outer.render(area, buf);
    let mut roles: BTreeMap<&str, u64> = BTreeMap::new();
    for view in &s.assets {
        *roles.entry(view.asset.role.name()).or_default() += 1;
    }
    let mut roles: Vec<(&str, u64)> = roles.into_iter().collect();
    roles.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let new = s.assets.iter().filter(|a| a.new).count() as u64;
    let changed = s.assets.iter().filter(|a| a.changed).count() as u64;
    let mut lines = vec![
        Line::from(Span::styled(
            format!("{} assets", count(s.assets.len() as u64)),
            app.theme.heading(),
        )),
        Line::from(vec![
            Span::styled(
                format!("  {:>6} new", count(new)),
                if new > 0 {
                    app.theme.new_asset()
                } else {
                    app.theme.dim()
                },
            ),
            Span::styled(
                format!(" · {} changed", count(changed)),
                if changed > 0 {
                    app.theme.changed_asset()
                } else {
                    app.theme.dim()
                },
            ),
        ]),
    ];
    let open: Vec<(Severity, u64)> = app
        .open_alerts()
        .into_iter()
        .rev()
        .filter(|(_, n)| *n > 0)
        .collect();
    let alert_lines = 1 + open.len().max(1);
    let room = (inner.height as usize).saturating_sub(lines.len() + alert_lines);
    let shown = if roles.len() > room {
        room.saturating_sub(1)
    } else {
        roles.len()
    };
    for (role, n) in &roles[..shown] {
        lines.push(Line::from(format!("  {:>6} {role}", count(*n))));
    }
    if shown < roles.len() && room > 0 {
        let rest: u64 = roles[shown..].iter().map(|(_, n)| n).sum();
        lines.push(Line::from(Span::styled(
            format!("  {:>6} other roles", count(rest)),
            app.theme.dim(),
        )));
    }
    let total: u64 = open.iter().map(|(_, n)| n).sum();
    lines.push(Line::from(Span::styled(
        format!("{} open alerts", count(total)),
        app.theme.heading(),
    )));
    if open.is_empty() {
        lines.push(Line::from(Span::styled("  none open", app.theme.dim())));
    }
    for (severity, n) in open {
        lines.push(Line::from(vec![
            Span::raw("  "),
            Span::styled(
                format!("{:>6} {}", count(n), severity.name()),
                app.theme.severity(severity),
            ),
        ]));
    }
    Paragraph::new(lines).render(inner, buf);
}

fn render_talkers(app: &App, area: Rect, buf: &mut Buffer) {
    let s = app.snapshot();
    let outer = block("Top talkers");
    let inner = outer.inner(area);
    outer.render(area, buf);
    let width = inner.width as usize;
    let lines: Vec<Line> = if s.talkers.is_empty() {
        vec![Line::from(Span::styled("none yet", app.theme.dim()))]
    } else {
        s.talkers
            .iter()
            .map(|t| {
                let volume = bytes(t.bytes);
                let ip = fit(&t.ip.to_string(), width.saturating_sub(volume.len() + 1));
                Line::from(format!(
                    "{ip:<w$} {volume}",
                    w = width.saturating_sub(volume.len() + 1)
                ))
            })
            .collect()
    };
    Paragraph::new(lines).render(inner, buf);
}

fn render_anomalies(app: &App, area: Rect, buf: &mut Buffer) {
    let s = app.snapshot();
    let outer = block("Decode anomalies");
    let inner = outer.inner(area);
    outer.render(area, buf);
    let width = inner.width as usize;
    let lines: Vec<Line> = if s.anomalies.is_empty() {
        vec![Line::from(Span::styled("none", app.theme.dim()))]
    } else {
        s.anomalies
            .iter()
            .map(|a| {
                let n = count(a.count);
                let name = fit(&a.name, width.saturating_sub(n.len() + 1));
                Line::from(Span::styled(
                    format!("{name:<w$} {n}", w = width.saturating_sub(n.len() + 1)),
                    app.theme.alarm(),
                ))
            })
            .collect()
    };
    Paragraph::new(lines).render(inner, buf);
}
