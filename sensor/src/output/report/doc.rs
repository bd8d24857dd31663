//! A small document model — headings, paragraphs, tables, lists — rendered
//! as Markdown and as self-contained HTML, so that both say the same thing.
//! Every piece of text is escaped by the renderer: device names and other
//! values from the wire cannot inject markup.

use std::fmt::Write as _;

/// A run of text with a style.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Span {
    Text(String),
    Strong(String),
    Code(String),
    /// A status word, styled by its class in HTML (`violated`, `observed`…).
    Status(&'static str, String),
}

pub fn text(s: impl Into<String>) -> Span {
    Span::Text(s.into())
}

pub fn strong(s: impl Into<String>) -> Span {
    Span::Strong(s.into())
}

pub fn code(s: impl Into<String>) -> Span {
    Span::Code(s.into())
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    /// Level 1–4, text, anchor id.
    Heading(u8, String, String),
    Paragraph(Vec<Span>),
    List(Vec<Vec<Span>>),
    Table {
        header: Vec<String>,
        rows: Vec<Vec<Vec<Span>>>,
    },
}

#[derive(Default)]
pub struct Document {
    pub title: String,
    pub blocks: Vec<Block>,
}

impl Document {
    pub fn heading(&mut self, level: u8, text: impl Into<String>) {
        let text = text.into();
        let id = anchor(&text);
        self.blocks.push(Block::Heading(level, text, id));
    }

    pub fn paragraph(&mut self, spans: Vec<Span>) {
        self.blocks.push(Block::Paragraph(spans));
    }

    pub fn list(&mut self, items: Vec<Vec<Span>>) {
        if !items.is_empty() {
            self.blocks.push(Block::List(items));
        }
    }

    pub fn table(&mut self, header: &[&str], rows: Vec<Vec<Vec<Span>>>) {
        self.blocks.push(Block::Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows,
        });
    }

    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# {}", md_escape(&self.title));
        for block in &self.blocks {
            out.push('\n');
            match block {
                Block::Heading(level, text, _) => {
                    let _ = writeln!(out, "{} {}", "#".repeat(*level as usize), md_escape(text));
                }
                Block::Paragraph(spans) => {
                    let _ = writeln!(out, "{}", md_spans(spans));
                }
                Block::List(items) => {
                    for item in items {
                        let _ = writeln!(out, "- {}", md_spans(item));
                    }
                }
                Block::Table { header, rows } => {
                    let header: Vec<String> = header.iter().map(|h| md_escape(h)).collect();
                    let _ = writeln!(out, "| {} |", header.join(" | "));
                    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
                    for row in rows {
                        let cells: Vec<String> = row.iter().map(|c| md_spans(c)).collect();
                        let _ = writeln!(out, "| {} |", cells.join(" | "));
                    }
                }
            }
        }
        out
    }

    pub fn html(&self) -> String {
        let mut out = String::new();
        out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        let _ = writeln!(out, "<title>{}</title>", html_escape(&self.title));
        out.push_str("<style>\n");
        out.push_str(STYLE);
        out.push_str("</style>\n</head>\n<body>\n");
        let _ = writeln!(out, "<h1>{}</h1>", html_escape(&self.title));
        for block in &self.blocks {
            match block {
                Block::Heading(level, text, id) => {
                    let _ = writeln!(
                        out,
                        "<h{level} id=\"{}\">{}</h{level}>",
                        html_escape(id),
                        html_escape(text)
                    );
                }
                Block::Paragraph(spans) => {
                    let _ = writeln!(out, "<p>{}</p>", html_spans(spans));
                }
                Block::List(items) => {
                    out.push_str("<ul>\n");
                    for item in items {
                        let _ = writeln!(out, "<li>{}</li>", html_spans(item));
                    }
                    out.push_str("</ul>\n");
                }
                Block::Table { header, rows } => {
                    out.push_str("<table>\n<thead><tr>");
                    for h in header {
                        let _ = write!(out, "<th>{}</th>", html_escape(h));
                    }
                    out.push_str("</tr></thead>\n<tbody>\n");
                    for row in rows {
                        out.push_str("<tr>");
                        for cell in row {
                            let class = cell.iter().find_map(|s| match s {
                                Span::Status(class, _) => Some(*class),
                                _ => None,
                            });
                            match class {
                                Some(class) => {
                                    let _ = write!(out, "<td class=\"{class}\">");
                                }
                                None => out.push_str("<td>"),
                            }
                            out.push_str(&html_spans(cell));
                            out.push_str("</td>");
                        }
                        out.push_str("</tr>\n");
                    }
                    out.push_str("</tbody>\n</table>\n");
                }
            }
        }
        out.push_str("</body>\n</html>\n");
        out
    }
}

const STYLE: &str = "body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #1d1d1f; line-height: 1.4; }
h1, h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; }
h2 { margin-top: 2em; }
table { border-collapse: collapse; margin: .8em 0; font-size: .92em; }
th, td { border: 1px solid #bbb; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #eef1f5; }
code { background: #f2f2f2; padding: 0 .25em; border-radius: 3px; }
td.violated { background: #f8d4d0; font-weight: bold; color: #8a1c12; }
td.unzoned, td.adjacent { background: #fbecc2; }
td.observed { background: #d8efd8; }
td.allowed { background: #e4ebf5; }
td.internal { background: #f4f4f4; color: #555; }
td.critical, td.high { color: #8a1c12; font-weight: bold; }
td.medium { color: #8a5a00; }
";

fn md_spans(spans: &[Span]) -> String {
    spans
        .iter()
        .map(|span| match span {
            Span::Text(t) => md_escape(t),
            Span::Strong(t) => format!("**{}**", md_escape(t)),
            Span::Code(t) => format!("`{}`", t.replace('`', "'").replace(['\n', '\r'], " ")),
            Span::Status(class, t) if *class == "violated" => format!("**{}**", md_escape(t)),
            Span::Status(_, t) => md_escape(t),
        })
        .collect()
}

fn html_spans(spans: &[Span]) -> String {
    spans
        .iter()
        .map(|span| match span {
            Span::Text(t) | Span::Status(_, t) => html_escape(t),
            Span::Strong(t) => format!("<strong>{}</strong>", html_escape(t)),
            Span::Code(t) => format!("<code>{}</code>", html_escape(t)),
        })
        .collect()
}

/// Text that Markdown shows as it is: markup characters are backslash-escaped
/// and line breaks (which would end a table row) become spaces.
pub fn md_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '|' | '*' | '`' | '<' | '>' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A heading's anchor: lowercase letters and digits, dashes between words.
fn anchor(text: &str) -> String {
    let mut id = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            id.extend(c.to_lowercase());
        } else if !id.ends_with('-') && !id.is_empty() {
            id.push('-');
        }
    }
    id.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_from_the_wire_cannot_inject_markup() {
        let mut doc = Document {
            title: "t".into(),
            ..Document::default()
        };
        doc.table(
            &["name"],
            vec![vec![vec![text("<script>x</script> | *a* \n[l](u)")]]],
        );
        let md = doc.markdown();
        assert!(
            md.contains("| \\<script\\>x\\</script\\> \\| \\*a\\*  \\[l\\](u) |"),
            "{md}"
        );
        let html = doc.html();
        assert!(
            html.contains("<td>&lt;script&gt;x&lt;/script&gt; | *a* \n[l](u)</td>"),
            "{html}"
        );
        assert!(!html.contains("<script>"));
    }

    #[test]
    fn headings_get_stable_anchors() {
        assert_eq!(anchor("supervisory → control"), "supervisory-control");
        assert_eq!(
            anchor("SR 5.2 Zone boundary protection"),
            "sr-5-2-zone-boundary-protection"
        );
    }
}
