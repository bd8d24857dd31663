//! Assets: the inventory as a table (filtered, sorted), and a detail pane
//! with the identity evidence, what the asset serves and uses, its peers,
//! its changes and the alerts about it.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Widget, Wrap};

use super::format::{age, bytes, clock, count, datetime, fit};
use super::{block, render_list};
use crate::analysis::inventory::{Asset, ChangeKind, UsageMap, format_mac};
use crate::tui::app::App;
use crate::tui::snapshot::AssetView;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let selected = app.selected_asset().filter(|_| app.assets.detail);
    let Some(view) = selected else {
        render_table(app, area, buf);
        return;
    };
    let (table, detail) = if area.width >= 120 {
        let [t, d] = Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
            .areas(area);
        (t, d)
    } else {
        let [t, d] =
            Layout::vertical([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(area);
        (t, d)
    };
    render_table(app, table, buf);
    render_detail(app, view, detail, buf);
}

fn render_table(app: &App, area: Rect, buf: &mut Buffer) {
    let s = app.snapshot();
    let mut title = format!(
        "Assets: {} of {}",
        count(app.asset_count() as u64),
        count(s.assets.len() as u64)
    );
    if !app.assets.filter.is_empty() {
        title.push_str(&format!(" matching \"{}\"", app.assets.filter));
    }
    if s.assets_untracked > 0 {
        title.push_str(&format!(", {} more not shown", count(s.assets_untracked)));
    }
    let outer = block(&title);
    let inner = outer.inner(area);
    outer.render(area, buf);
    let w = inner.width;
    let mut columns: Vec<(&str, Constraint)> = vec![
        ("", Constraint::Length(1)),
        ("address", Constraint::Length(15)),
    ];
    if w >= 150 {
        columns.push(("MAC", Constraint::Length(17)));
    }
    columns.extend([
        ("role", Constraint::Length(8)),
        ("vendor", Constraint::Fill(3)),
        ("model", Constraint::Fill(3)),
        ("firmware", Constraint::Length(9)),
        ("zone", Constraint::Length(9)),
    ]);
    if w >= 110 {
        columns.push(("protocols", Constraint::Fill(2)));
    }
    columns.push(("seen", Constraint::Length(4)));
    let height = inner.height.saturating_sub(1) as usize;
    let offset = app.assets.window(height, app.asset_count());
    let rows: Vec<Row> = app
        .asset_rows()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, view)| asset_row(app, view, &columns, i == app.assets.selected))
        .collect();
    let empty = match (app.asset_count(), s.assets.is_empty()) {
        (0, true) => Some("no assets yet"),
        (0, false) => Some("no asset matches the filter (Esc clears it)"),
        _ => None,
    };
    render_list(app, &columns, rows, empty, inner, buf);
}

fn asset_row<'a>(
    app: &App,
    view: &'a AssetView,
    columns: &[(&str, Constraint)],
    selected: bool,
) -> Row<'a> {
    let a = &view.asset;
    let (flag, flag_style) = if view.changed {
        ("~", app.theme.changed_asset())
    } else if view.new {
        ("+", app.theme.new_asset())
    } else {
        (" ", Style::new())
    };
    let cells: Vec<Span> = columns
        .iter()
        .map(|(name, _)| match *name {
            "" => Span::styled(flag, flag_style),
            "address" => Span::styled(a.id.clone(), flag_style),
            "MAC" => Span::raw(a.macs.first().map(format_mac).unwrap_or_default()),
            "role" => Span::raw(a.role.name()),
            "vendor" => Span::raw(view.vendor.clone()),
            "model" => Span::raw(view.model.clone()),
            "firmware" => Span::raw(view.firmware.clone()),
            "zone" => Span::raw(view.zone.clone()),
            "protocols" => Span::raw(view.protocols.join(" ")),
            _ => Span::raw(age(app.snapshot().now, a.last_seen)),
        })
        .collect();
    let row = Row::new(cells);
    if selected {
        row.style(app.theme.selected())
    } else {
        row
    }
}

fn render_detail(app: &App, view: &AssetView, area: Rect, buf: &mut Buffer) {
    let a = &view.asset;
    let outer = block(&a.id);
    let inner = outer.inner(area);
    outer.render(area, buf);
    let h = app.theme.heading();
    let label = |text: &str| Span::styled(format!("{text:<10}"), h);
    let mut lines = vec![Line::from(vec![
        label("role"),
        Span::styled(a.role.name(), Style::new().add_modifier(Modifier::BOLD)),
        Span::raw(
            a.purdue_level
                .map(|l| format!(" (Purdue level {l})"))
                .unwrap_or_default(),
        ),
        Span::styled(flags(view), app.theme.changed_asset()),
    ])];
    if !a.role_reason.is_empty() {
        lines.push(Line::from(vec![
            label(""),
            Span::styled(a.role_reason.clone(), app.theme.dim()),
        ]));
    }
    let mut addresses: Vec<String> = a.ips.iter().map(|ip| ip.to_string()).collect();
    addresses.extend(a.macs.iter().map(format_mac));
    lines.push(Line::from(vec![
        label("addresses"),
        Span::raw(addresses.join(" ")),
    ]));
    if let Some(vendor) = a.mac_vendor {
        lines.push(Line::from(vec![label("MAC OUI"), Span::raw(vendor)]));
    }
    lines.push(Line::from(vec![
        label("zone"),
        Span::raw(view.zone.clone()),
    ]));
    lines.push(Line::from(vec![
        label("seen"),
        Span::raw(format!(
            "{} to {} (packet {})",
            datetime(a.first_seen.ts),
            clock(a.last_seen),
            a.first_seen.packet
        )),
    ]));
    lines.push(Line::from(vec![
        label("traffic"),
        Span::raw(format!(
            "sent {} pkts {}, received {} pkts {}, {} flows",
            count(a.packets_sent),
            bytes(a.bytes_sent),
            count(a.packets_received),
            bytes(a.bytes_received),
            count(a.flows)
        )),
    ]));
    lines.push(Line::from(Span::styled(
        "identity (value · said by · first packet)",
        h,
    )));
    if a.identity.is_empty() {
        lines.push(Line::from(Span::styled(
            "  nothing said on the wire",
            app.theme.dim(),
        )));
    }
    // Values line up after the longest name, with one space at least.
    let width = a
        .identity
        .keys()
        .map(String::len)
        .max()
        .unwrap_or(0)
        .max(12)
        + 1;
    for (field, evidence) in &a.identity {
        lines.push(Line::from(vec![
            Span::raw(format!("  {field:<width$}")),
            Span::styled(
                evidence.value.clone(),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::styled(
                format!(
                    " · {} · {}",
                    evidence.source.name(),
                    evidence.first_seen.packet
                ),
                app.theme.dim(),
            ),
        ]));
    }
    usage_lines(app, "serves", &a.served, &mut lines);
    usage_lines(app, "uses", &a.used, &mut lines);
    if !a.peers.is_empty() {
        let peers: Vec<String> = a.peers.iter().map(|p| p.to_string()).collect();
        let mut text = peers.join(" ");
        if a.peers_untracked > 0 {
            text.push_str(&format!(" (+{} more)", count(a.peers_untracked)));
        }
        lines.push(Line::from(vec![label("peers"), Span::raw(text)]));
    }
    changes(app, a, &mut lines);
    alerts_about(app, a, &mut lines);
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .render(inner, buf);
}

fn flags(view: &AssetView) -> String {
    match (view.new, view.changed) {
        (true, true) => "  new, changed".into(),
        (true, false) => "  new".into(),
        (false, true) => "  changed".into(),
        _ => String::new(),
    }
}

fn usage_lines(app: &App, what: &str, usage: &UsageMap, lines: &mut Vec<Line<'_>>) {
    if usage.is_empty() {
        return;
    }
    lines.push(Line::from(Span::styled(
        what.to_string(),
        app.theme.heading(),
    )));
    for (protocol, u) in usage {
        let classes: Vec<&str> = u.classes.iter().map(|c| c.name()).collect();
        lines.push(Line::from(format!(
            "  {:<10} {} · {} flows · {} peers",
            protocol.name(),
            if classes.is_empty() {
                "-".to_string()
            } else {
                classes.join(", ")
            },
            count(u.flows),
            u.peers.len()
        )));
    }
}

fn changes(app: &App, a: &Asset, lines: &mut Vec<Line<'_>>) {
    if a.changes.is_empty() {
        return;
    }
    lines.push(Line::from(Span::styled("changes", app.theme.heading())));
    for change in a.changes.iter().rev().take(8) {
        let style = if change.kind == ChangeKind::NewAsset {
            app.theme.dim()
        } else {
            app.theme.changed_asset()
        };
        lines.push(Line::from(vec![
            Span::raw(format!("  {} ", clock(change.seen.ts))),
            Span::styled(kind_name(change.kind), style),
            Span::raw(format!(" {}", change.detail)),
        ]));
    }
}

fn alerts_about(app: &App, a: &Asset, lines: &mut Vec<Line<'_>>) {
    let ids: Vec<String> = a
        .ips
        .iter()
        .map(|ip| ip.to_string())
        .chain(a.macs.iter().map(format_mac))
        .collect();
    let about: Vec<_> = app
        .snapshot()
        .alerts
        .iter()
        .rev()
        .filter(|alert| {
            [&alert.src, &alert.dst].iter().any(|end| {
                end.asset.as_deref() == Some(a.id.as_str())
                    || ids.iter().any(|id| id == end.address())
            })
        })
        .take(8)
        .collect();
    if about.is_empty() {
        return;
    }
    lines.push(Line::from(Span::styled("alerts", app.theme.heading())));
    for alert in about {
        lines.push(Line::from(vec![
            Span::raw(format!("  {} ", alert.id)),
            Span::styled(
                format!("{:<8}", alert.severity().name()),
                app.theme.severity(alert.severity()),
            ),
            Span::raw(fit(&alert.title, 60)),
        ]));
    }
}

/// A change kind as the store and JSON write it (`firmware_changed`).
pub fn kind_name(kind: ChangeKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
