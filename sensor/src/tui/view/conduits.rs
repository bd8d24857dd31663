//! Conduits: the zone × zone matrix (declared, observed, violated) and the
//! crossings of the selected pair of zones.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table, Widget};

use super::block;
use super::format::{count, fit};
use crate::tui::app::App;
use crate::tui::conduits::{Cell, Verdict};

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let zones = &app.snapshot().zones;
    let matrix_height = (zones.zones.len() as u16 + 3).clamp(5, area.height / 2 + 1);
    let [matrix, drill] =
        Layout::vertical([Constraint::Length(matrix_height), Constraint::Min(0)]).areas(area);
    render_matrix(app, matrix, buf);
    render_drill(app, drill, buf);
}

/// What a cell says, and how it looks.
fn cell_text(app: &App, cell: Option<&Cell>, within: bool) -> (String, Style) {
    let Some(cell) = cell else {
        return ("·".into(), app.theme.dim());
    };
    let observed = cell.crossings.len() as u64 + cell.crossings_untracked;
    if cell.violations > 0 {
        (format!("✗ {}", count(cell.violations)), app.theme.alarm())
    } else if within {
        (format!("· {}", count(observed)), app.theme.dim())
    } else if cell.conduit.is_none() && observed > 0 {
        (format!("! {}", count(observed)), app.theme.alarm())
    } else if cell.conduit.is_some() && observed > 0 {
        if cell.crossings.iter().any(|c| c.verdict.is_problem()) {
            (format!("! {}", count(observed)), app.theme.alarm())
        } else {
            (format!("✓ {}", count(observed)), app.theme.good())
        }
    } else if cell.conduit.is_some() {
        ("○".into(), app.theme.dim())
    } else if cell.alerts > 0 {
        (format!("{} alerts", count(cell.alerts)), Style::new())
    } else {
        ("·".into(), app.theme.dim())
    }
}

fn render_matrix(app: &App, area: Rect, buf: &mut Buffer) {
    let zones = &app.snapshot().zones;
    let outer = block("Zones × zones: ✓ in use ○ unused ! no conduit ✗ violations");
    let inner = outer.inner(area);
    outer.render(area, buf);
    if zones.zones.is_empty() {
        Line::from(Span::styled("no traffic yet", app.theme.dim())).render(inner, buf);
        return;
    }
    let n = zones.zones.len();
    let name_width: u16 = 14;
    let column = ((inner.width.saturating_sub(name_width + 1)) / n as u16).clamp(6, 14);
    let mut widths = vec![Constraint::Length(name_width)];
    widths.extend(std::iter::repeat_n(Constraint::Length(column), n));
    let label = |i: usize| {
        let z = &zones.zones[i];
        match z.security_level {
            Some(sl) => format!("{} SL{sl}", fit(&z.name, name_width as usize - 4)),
            None => fit(&z.name, name_width as usize),
        }
    };
    let header = Row::new(
        std::iter::once(String::new())
            .chain((0..n).map(|i| fit(&zones.zones[i].name, column as usize))),
    )
    .style(app.theme.heading());
    let (sr, sc) = app.conduit;
    let height = inner.height.saturating_sub(1) as usize;
    let first = sr.saturating_sub(height.saturating_sub(1));
    let rows: Vec<Row> = (first..n)
        .take(height)
        .map(|r| {
            let mut cells = vec![Span::styled(label(r), app.theme.heading())];
            for c in 0..n {
                let (text, style) = cell_text(app, zones.cell(r, c), r == c);
                let style = if (r, c) == (sr, sc) {
                    style.patch(app.theme.selected())
                } else {
                    style
                };
                cells.push(Span::styled(text, style));
            }
            Row::new(cells)
        })
        .collect();
    Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .render(inner, buf);
}

fn render_drill(app: &App, area: Rect, buf: &mut Buffer) {
    let zones = &app.snapshot().zones;
    let (r, c) = app.conduit;
    let (Some(a), Some(b)) = (zones.zones.get(r), zones.zones.get(c)) else {
        let outer = block("Crossings");
        let inner = outer.inner(area);
        outer.render(area, buf);
        Paragraph::new(hint(app)).render(inner, buf);
        return;
    };
    let cell = zones.cell(r, c);
    let title = match cell.and_then(|c| c.conduit.as_deref()) {
        _ if r == c => format!("Within {}", a.name),
        Some(conduit) => format!("{} ↔ {}: conduit {conduit}", a.name, b.name),
        None => format!("{} ↔ {}: no conduit", a.name, b.name),
    };
    let outer = block(&title);
    let inner = outer.inner(area);
    outer.render(area, buf);
    let mut lines = hint(app);
    if let Some(cell) = cell {
        for allow in &cell.allows {
            lines.push(Line::from(vec![
                Span::styled("allows  ", app.theme.heading()),
                Span::raw(allow.clone()),
            ]));
        }
        if cell.alerts > 0 {
            lines.push(Line::from(vec![
                Span::styled("alerts  ", app.theme.heading()),
                Span::styled(
                    format!(
                        "{} ({} conduit violations): Alerts tab, filter by zone",
                        count(cell.alerts),
                        count(cell.violations)
                    ),
                    if cell.violations > 0 {
                        app.theme.alarm()
                    } else {
                        Style::new()
                    },
                ),
            ]));
        }
    }
    let header_lines = lines.len() as u16;
    let [text, table] =
        Layout::vertical([Constraint::Length(header_lines), Constraint::Min(0)]).areas(inner);
    Paragraph::new(lines).render(text, buf);
    let Some(cell) = cell.filter(|c| c.observed()) else {
        Line::from(Span::styled("nothing observed crossing", app.theme.dim())).render(table, buf);
        return;
    };
    let height = table.height.saturating_sub(1) as usize;
    let offset = app.crossings.window(height, cell.crossings.len());
    let rows: Vec<Row> = cell
        .crossings
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, x)| {
            let classes: Vec<&str> = x.classes.iter().map(|c| c.name()).collect();
            let style = match x.verdict {
                Verdict::Violation | Verdict::NoConduit => app.theme.alarm(),
                Verdict::Permitted => app.theme.good(),
                Verdict::Within => app.theme.dim(),
            };
            let verdict = Span::styled(x.verdict.name(), style);
            let row = Row::new(vec![
                Span::raw(x.client.clone()),
                Span::raw("→"),
                Span::raw(x.server.clone()),
                Span::raw(x.protocol.name()),
                Span::raw(classes.join(", ")),
                verdict,
            ]);
            if app.crossings.detail && i == app.crossings.selected {
                row.style(app.theme.selected())
            } else {
                row
            }
        })
        .collect();
    let header = Row::new([
        "client",
        "",
        "server",
        "protocol",
        "request classes",
        "conduit",
    ])
    .style(app.theme.heading());
    let widths = [
        Constraint::Length(15),
        Constraint::Length(1),
        Constraint::Length(15),
        Constraint::Length(9),
        Constraint::Fill(1),
        Constraint::Length(13),
    ];
    Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .render(table, buf);
    if cell.crossings_untracked > 0 && table.height > 0 {
        let y = table.bottom() - 1;
        Line::from(Span::styled(
            format!("{} more not listed", count(cell.crossings_untracked)),
            app.theme.dim(),
        ))
        .render(
            Rect {
                y,
                height: 1,
                ..table
            },
            buf,
        );
    }
}

fn hint(app: &App) -> Vec<Line<'static>> {
    if app.snapshot().zones.declared {
        Vec::new()
    } else {
        vec![Line::from(Span::styled(
            "No zones declared: everything is unzoned. Declare [[zone]] and [[conduit]] in a --policy file.",
            app.theme.dim(),
        ))]
    }
}
