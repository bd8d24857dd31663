//! `otsensor report` on the bundled demo capture judged by the example plant
//! policy (rules/example-plant): what an auditor reads in the report.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

/// The demo replayed with the example policy into `dir/plant.db` and `dir/out`.
fn replay_demo(dir: &Path) -> (PathBuf, PathBuf) {
    let db = dir.join("plant.db");
    let out = dir.join("out");
    let policy = repo().join("rules/example-plant");
    let output = otsensor()
        .arg("replay")
        .arg(demo_capture())
        .arg("--policy")
        .arg(&policy)
        .arg("--db")
        .arg(&db)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    (db, out)
}

fn report(args: &[&str]) -> String {
    let output = otsensor().arg("report").args(args).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The lines of the Markdown section under `heading`, up to the next one of its level.
fn section<'a>(markdown: &'a str, heading: &str) -> Vec<&'a str> {
    let level = heading.split(' ').next().unwrap();
    let mut lines = markdown.lines().skip_while(|l| *l != heading);
    assert!(lines.next().is_some(), "no section {heading:?}");
    lines
        .take_while(|l| !(l.starts_with('#') && l.split(' ').next().unwrap().len() <= level.len()))
        .collect()
}

/// The rows of the report's alert list: (id, rule, source, destination).
fn alert_rows(markdown: &str) -> Vec<(String, String, String, String)> {
    section(markdown, "## Alerts")
        .into_iter()
        .filter(|l| l.starts_with("| A"))
        .map(|l| {
            let cells: Vec<&str> = l.split(" | ").collect();
            (
                cells[0].trim_start_matches("| ").to_string(),
                cells[3].trim_matches('`').to_string(),
                cells[5].to_string(),
                cells[6].to_string(),
            )
        })
        .collect()
}

#[test]
fn the_demo_report_shows_zones_conduits_violations_and_every_alert() {
    let dir = tempfile::tempdir().unwrap();
    let (db, out) = replay_demo(dir.path());
    let md = report(&["--db", path(&db), "--format", "md"]);

    for heading in [
        "## Summary",
        "## Zones and assets",
        "### site-services (SL-T 2, Purdue level 3)",
        "### control-center (SL-T 3, Purdue level 2)",
        "### field (SL-T 3, Purdue level 1)",
        "## Conduits: declared and observed",
        "## Violations by IEC 62443-3-3 system requirement",
        "## Insecure protocols",
        "## SL-T requirements the observed traffic contradicts",
        "## Alerts",
    ] {
        assert!(md.lines().any(|l| l == heading), "missing {heading}");
    }
    assert!(md.contains("| **Alerts** | 9: critical 0, high 6, medium 0, low 3, info 0 |"));

    // Zones list their assets with roles.
    let field = section(&md, "### field (SL-T 3, Purdue level 1)");
    assert_eq!(
        field
            .iter()
            .filter(|l| l.starts_with("| `10.10.2."))
            .count(),
        27
    );
    assert!(
        field
            .iter()
            .any(|l| l.starts_with("| `10.10.2.23` | rtu |"))
    );

    // The conduit matrix: rows initiate, columns respond. Supervisory traffic
    // into the field zone carries HTTP, which its conduit does not permit;
    // only ARP crosses from the field zone.
    let matrix = section(&md, "## Conduits: declared and observed");
    for row in [
        "| Initiating zone | site-services | control-center | field |",
        "| **site-services** | internal | allowed | adjacent |",
        "| **control-center** | observed | internal | **violated** |",
        "| **field** | adjacent | adjacent | internal |",
    ] {
        assert!(matrix.contains(&row), "matrix lacks {row}");
    }
    let pair = section(&md, "### control-center → field");
    assert!(pair.contains(&"- Why: not permitted: http"));
    assert!(pair.contains(&"- Why: boundary alerts: OT-ZONE-002 ×3, OT-ZONE-004 ×3"));
    assert!(
        pair.iter()
            .any(|l| l.starts_with("| `http` | 6 | 3 | 3 | 3 |") && l.ends_with("| **no** |"))
    );

    // Violations grouped by requirement: every boundary rule under SR 5.2.
    let boundary = section(&md, "### SR 5.2 Zone boundary protection");
    for (rule, alerts) in [("OT-ZONE-002", 3), ("OT-ZONE-004", 3), ("OT-SEC-002", 3)] {
        let row = boundary
            .iter()
            .find(|l| l.starts_with(&format!("| `{rule}` |")))
            .unwrap_or_else(|| panic!("SR 5.2 lacks {rule}"));
        assert!(row.contains(&format!(" | {alerts} | ")), "{row}");
    }
    let insecure = section(&md, "## Insecure protocols");
    assert!(insecure.contains(
        &"| control-center → field | `http` | HTTP: web traffic without TLS | 6 | **yes** |"
    ));
    let contradicted = section(&md, "### field (SL-T 3)");
    assert!(
        contradicted
            .iter()
            .any(|l| l.starts_with("| **SR 5.2 RE 1** |"))
    );

    // The alert list is the replay's alerts.jsonl, one row each.
    let rows = alert_rows(&md);
    let jsonl: Vec<Value> = std::fs::read_to_string(out.join("alerts.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 9);
    assert_eq!(rows.len(), jsonl.len());
    for (row, alert) in rows.iter().zip(&jsonl) {
        assert_eq!(row.1, alert["rule"].as_str().unwrap());
        assert!(
            row.2.starts_with(alert["src"]["ip"].as_str().unwrap()),
            "{row:?}"
        );
        assert!(
            row.3.starts_with(alert["dst"]["ip"].as_str().unwrap()),
            "{row:?}"
        );
    }
    for rule in ["OT-ZONE-002", "OT-SEC-002", "OT-ZONE-004"] {
        assert_eq!(rows.iter().filter(|r| r.1 == rule).count(), 3, "{rule}");
    }
    assert!(rows.contains(&(
        "A000006".into(),
        "OT-ZONE-004".into(),
        "10.10.1.60 (hmi) in control-center".into(),
        "10.10.2.1 (plc) in field".into()
    )));
}

#[test]
fn the_html_report_is_self_contained_and_has_the_same_content() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = replay_demo(dir.path());
    let file = dir.path().join("report.html");
    let printed = report(&["--db", path(&db), "--format", "html", "-o", path(&file)]);
    assert_eq!(printed, "");
    let html = std::fs::read_to_string(&file).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for outside in ["<script", "<link", "src=", "@import"] {
        assert!(
            !html.contains(outside),
            "the report loads something: {outside}"
        );
    }
    assert!(html.contains(
        "<tr><td><strong>control-center</strong></td><td class=\"observed\">observed</td>\
         <td class=\"internal\">internal</td><td class=\"violated\">violated</td></tr>"
    ));
    for id in 1..=9 {
        assert!(html.contains(&format!("<td>A{id:06}</td>")), "alert {id}");
    }
    assert!(!html.contains("<td>A000010</td>"));
    assert!(html.contains("<td>10.10.1.60 (hmi) in control-center</td>"));
}

#[test]
fn a_replay_directory_and_a_store_give_the_same_findings_and_a_second_replay_repeats_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (db, out) = replay_demo(dir.path());
    let from_store = report(&["--db", path(&db), "--format", "md"]);
    // Without --format, --from writes report.md and report.html beside the replay's files.
    report(&["--from", path(&out), "--quiet"]);
    let from_dir = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(out.join("report.html").is_file());
    let body = |md: &str| md.split_once("## Zones and assets").unwrap().1.to_string();
    assert_eq!(body(&from_dir), body(&from_store));

    // The same capture again into the same store: the same alerts, not twice as many.
    replay_demo(dir.path());
    let again = report(&["--db", path(&db), "--format", "md"]);
    assert!(again.contains("(2 runs)"));
    assert_eq!(alert_rows(&again), alert_rows(&from_store));
    assert_eq!(body(&again), body(&from_store));
}

#[test]
fn a_missing_store_or_no_destination_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.db");
    let output = run(&["report", "--db", path(&missing), "--format", "md"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains(&format!("{}: no such store", missing.display())),
        "{}",
        stderr(&output)
    );
    assert!(!missing.exists(), "a report must not create a store");

    let (db, _) = replay_demo(dir.path());
    let output = run(&["report", "--db", path(&db)]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("give --format md|html"),
        "{}",
        stderr(&output)
    );
}
