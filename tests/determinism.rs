//! The same capture gives byte-identical events and statistics whatever the
//! thread count, and run after run (audits depend on it).

mod common;

use common::*;

#[test]
fn events_and_stats_do_not_depend_on_threads_or_runs() {
    let demo = demo_capture();
    let one = replay(&[&demo], &["--threads", "1"]);
    let two = replay(&[&demo], &["--threads", "2"]);
    let again = replay(&[&demo], &["--threads", "2"]);
    let seven = replay(&[&demo], &["--threads", "7"]);
    assert!(
        one.events().len() > 1000,
        "the demo capture decodes to events"
    );
    for other in [&two, &again, &seven] {
        assert!(
            one.events_text() == other.events_text(),
            "events.jsonl differs"
        );
        assert_eq!(one.stats_text(), other.stats_text());
    }
}

#[test]
fn a_small_flow_table_evicts_the_same_flows_whatever_the_thread_count() {
    // 64 shards of one flow each: the demo's flows overflow most shards.
    let demo = demo_capture();
    let one = replay(&[&demo], &["--threads", "1", "--max-flows", "64"]);
    let two = replay(&[&demo], &["--threads", "2", "--max-flows", "64"]);
    assert!(
        one.stats()["flows"]["evicted"].as_u64().unwrap() > 0,
        "flows were evicted"
    );
    assert_eq!(one.stats_text(), two.stats_text());
    assert!(
        one.events_text() == two.events_text(),
        "events.jsonl differs"
    );
}

#[test]
fn alerts_and_assets_do_not_depend_on_threads() {
    let demo = demo_capture();
    let policy = repo().join("rules/example-plant");
    let policy = ["--policy", policy.to_str().unwrap()];
    let one = replay(&[&demo], &[&["--threads", "1"][..], &policy].concat());
    let three = replay(&[&demo], &[&["--threads", "3"][..], &policy].concat());
    let read =
        |run: &Replay, name: &str| std::fs::read_to_string(run.dir.path().join(name)).unwrap();
    assert!(
        read(&one, "alerts.jsonl").lines().count() > 0,
        "the example policy raises alerts"
    );
    assert!(
        read(&one, "alerts.jsonl") == read(&three, "alerts.jsonl"),
        "alerts.jsonl differs"
    );
    assert!(
        read(&one, "assets.json") == read(&three, "assets.json"),
        "assets.json differs"
    );
}
