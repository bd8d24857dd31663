//! `otsensor rules check`: every kind of mistake in a policy file is reported
//! as `file:line:column: reason` with exit status 1, and `replay` refuses to
//! start on the same file with the same message.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// Writes `text` as `name` in `dir` and returns its path.
fn policy_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `rules check` on `path` and returns its error output, checking it failed.
fn rejected(path: &Path) -> String {
    let out = run(&["rules", "check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    stderr(&out)
}

/// The message for one bad file, with the file's path replaced by its name.
fn message(dir: &Path, name: &str, text: &str) -> String {
    let path = policy_file(dir, name, text);
    rejected(&path).replace(&format!("{}/", dir.display()), "")
}

#[test]
fn an_unknown_field_names_the_field_and_the_ones_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[[zone]]\nname = \"control\"\ncidrs = [\"10.0.1.0/24\"]\nsecurity_levle = 3\n";
    assert_eq!(
        message(dir.path(), "zones.toml", text),
        "zones.toml:4:1: unknown field `security_levle`, expected one of `name`, \
         `description`, `cidrs`, `macs`, `security_level`, `purdue_level`\n"
    );
}

#[test]
fn an_unknown_protocol_lists_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[[rule]]\nid = \"X-1\"\ntitle = \"t\"\nseverity = \"high\"\n\
                match = { protocol = \"modbusx\" }\n";
    assert_eq!(
        message(dir.path(), "rules.toml", text),
        "rules.toml:5:22: unknown protocol \"modbusx\" (known: modbus, iec104, enip, cip, \
         dnp3, cotp, s7comm, s7commplus, goose, sv, profinet_dcp, profinet_rt, profinet_io, \
         bacnet, mms, opcua, mqtt, http, tls, ssh, telnet, ftp, arp, dhcp, dns, llmnr, mdns, \
         lldp, cdp, snmp, nbns, nbdgm)\n"
    );
}

#[test]
fn an_unknown_function_points_at_the_list_item() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[[rule]]\nid = \"X-1\"\ntitle = \"t\"\nseverity = \"high\"\n\
                match = { protocol = \"dnp3\", function = [\"read\", \"cold_restrat\"] }\n";
    assert_eq!(
        message(dir.path(), "rules.toml", text),
        "rules.toml:5:50: unknown function name \"cold_restrat\" for dnp3\n"
    );
}

#[test]
fn overlapping_zones_name_both_networks() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[[zone]]\nname = \"a\"\ncidrs = [\"10.0.0.0/16\"]\nsecurity_level = 2\n\n\
                [[zone]]\nname = \"b\"\ncidrs = [\"10.0.5.0/24\"]\nsecurity_level = 3\n";
    assert_eq!(
        message(dir.path(), "zones.toml", text),
        "zones.toml:8:10: 10.0.5.0/24 overlaps 10.0.0.0/16 of zone \"a\": \
         an address must belong to one zone\n"
    );
}

#[test]
fn zones_sharing_a_mac_address_name_the_first_zone() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[[zone]]\nname = \"a\"\nmacs = [\"00:1B:1B:00:00:01\"]\nsecurity_level = 2\n\n\
                [[zone]]\nname = \"b\"\nmacs = [\"00:1b:1b:00:00:02\", \"00:1b:1b:00:00:01\"]\n\
                security_level = 3\n";
    assert_eq!(
        message(dir.path(), "zones.toml", text),
        "zones.toml:8:30: 00:1b:1b:00:00:01 is already in zone \"a\": \
         an address must belong to one zone\n"
    );
}

#[test]
fn a_built_in_check_can_be_switched_off_but_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let off = policy_file(
        dir.path(),
        "off.toml",
        "[[rule]]\nid = \"OT-NET-001\"\nenabled = false\n\n\
         [[rule]]\nid = \"OT-BASE-001\"\nenabled = false\n",
    );
    let out = run(&["rules", "check", off.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = "[[rule]]\nid = \"OT-ZONE-001\"\ntitle = \"Zones that talk\"\nseverity = \"low\"\n";
    assert_eq!(
        message(dir.path(), "rules.toml", text),
        "rules.toml:2:6: \"OT-ZONE-001\" is a built-in check: it can be switched off \
         (enabled = false), not replaced\n"
    );
    let text = "[[rule]]\nid = \"OT-NET-01\"\nenabled = false\n";
    assert_eq!(
        message(dir.path(), "typo.toml", text),
        "typo.toml:2:6: rule \"OT-NET-01\" is disabled but no earlier rule or built-in \
         check has that id\n"
    );
}

/// Two zones, an asset tagged `scada`, and a conduit whose allow names the writers that follow.
const TAGGED: &str = "[[zone]]\nname = \"a\"\ncidrs = [\"10.0.1.0/24\"]\nsecurity_level = 2\n\n\
                      [[zone]]\nname = \"b\"\ncidrs = [\"10.0.2.0/24\"]\nsecurity_level = 3\n\n\
                      [[asset]]\nip = \"10.0.1.10\"\ntags = [\"scada\"]\n\n\
                      [[conduit]]\nname = \"c\"\nzones = [\"a\", \"b\"]\n\n\
                      [[conduit.allow]]\nprotocols = [\"modbus\"]\nwriters = ";

#[test]
fn conduit_writers_by_tag_name_a_tag_an_asset_has() {
    let dir = tempfile::tempdir().unwrap();
    let ok = policy_file(
        dir.path(),
        "ok.toml",
        &format!("{TAGGED}[\"tag:scada\", \"role:hmi\"]\n"),
    );
    let out = run(&["rules", "check", ok.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        message(
            dir.path(),
            "typo.toml",
            &format!("{TAGGED}[\"tag:scadaa\"]\n")
        ),
        "typo.toml:21:12: unknown tag \"scadaa\" (tags: scada)\n"
    );
    let untagged = "[[zone]]\nname = \"a\"\ncidrs = [\"10.0.1.0/24\"]\nsecurity_level = 2\n\n\
                    [[zone]]\nname = \"b\"\ncidrs = [\"10.0.2.0/24\"]\nsecurity_level = 3\n\n\
                    [[conduit]]\nname = \"c\"\nzones = [\"a\", \"b\"]\n\n\
                    [[conduit.allow]]\nprotocols = [\"modbus\"]\nwriters = [\"tag:scada\"]\n";
    assert_eq!(
        message(dir.path(), "none.toml", untagged),
        "none.toml:17:12: unknown tag \"scada\" (no [[asset]] has tags)\n"
    );
    assert_eq!(
        message(dir.path(), "writer.toml", &format!("{TAGGED}[\"scada\"]\n")),
        "writer.toml:21:12: bad writer \"scada\" (expected an IP address, a CIDR, \
         role:NAME or tag:NAME)\n"
    );
}

#[test]
fn an_asset_is_named_by_one_address_and_has_good_tags() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[[asset]]\nip = \"10.0.1.300\"\ntags = [\"scada\"]\n\n\
                [[asset]]\nip = \"10.0.1.10\"\nmac = \"00:1b:1b:00:00:01\"\ntags = [\"scada\"]\n\n\
                [[asset]]\ntags = [\"scada\"]\n\n\
                [[asset]]\nip = \"10.0.1.11\"\ntags = [\"hmi 2\"]\n";
    assert_eq!(
        message(dir.path(), "assets.toml", text),
        "assets.toml:2:6: bad IP address \"10.0.1.300\"\n\
         assets.toml:7:7: an asset is named by its ip or by its mac, not both\n\
         assets.toml:11:8: an asset needs its ip (or, for a device seen only at layer 2, its mac)\n\
         assets.toml:15:9: bad tag \"hmi 2\" (letters, digits, '-', '_' and '.')\n"
    );
}

#[test]
fn a_conduit_naming_an_unknown_zone_lists_the_zones() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[[zone]]\nname = \"a\"\ncidrs = [\"10.0.0.0/24\"]\nsecurity_level = 2\n\n\
                [[conduit]]\nname = \"c\"\nzones = [\"a\", \"fieldd\"]\n";
    assert_eq!(
        message(dir.path(), "conduits.toml", text),
        "conduits.toml:8:15: unknown zone \"fieldd\" (zones: a)\n"
    );
}

#[test]
fn a_bad_cidr_is_pointed_at() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[[zone]]\nname = \"a\"\ncidrs = [\"10.0.1.0/24\", \"10.0.300.0/24\"]\n\
                security_level = 2\n";
    assert_eq!(
        message(dir.path(), "zones.toml", text),
        "zones.toml:3:25: bad CIDR \"10.0.300.0/24\" (expected like 10.10.1.0/24)\n"
    );
}

#[test]
fn a_toml_syntax_error_is_pointed_at() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[[zone]]\nname = \"a\"\ncidrs = [\"10.0.0.0/24\"\n";
    assert_eq!(
        message(dir.path(), "zones.toml", text),
        "zones.toml:3:23: unclosed array, expected `]`\n"
    );
}

#[test]
fn every_file_of_a_directory_is_checked_and_every_mistake_reported() {
    let dir = tempfile::tempdir().unwrap();
    policy_file(
        dir.path(),
        "a-zones.toml",
        "[[zone]]\nname = \"a\"\ncidrs = [\"10.0.300.0/24\"]\nsecurity_level = 2\n",
    );
    policy_file(
        dir.path(),
        "b-rules.toml",
        "[[rule]]\nid = \"X-1\"\ntitle = \"t\"\nseverity = \"hihg\"\n",
    );
    let errors = rejected(dir.path()).replace(&format!("{}/", dir.path().display()), "");
    let lines: Vec<&str> = errors.lines().collect();
    assert_eq!(lines.len(), 2, "{errors}");
    assert!(
        lines[0].starts_with("a-zones.toml:3:10: bad CIDR"),
        "{errors}"
    );
    assert!(lines[1].starts_with("b-rules.toml:4:12: "), "{errors}");
    assert!(lines[1].contains("hihg"), "{errors}");
}

#[test]
fn a_missing_or_empty_policy_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere.toml");
    let message = rejected(&missing);
    assert!(
        message.starts_with(&format!("{}: cannot read: ", missing.display())),
        "{message}"
    );
    let message = rejected(dir.path());
    assert_eq!(
        message,
        format!(
            "{}: no .toml policy files in this directory\n",
            dir.path().display()
        )
    );
}

#[test]
fn replay_refuses_an_invalid_policy_with_the_same_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = policy_file(
        dir.path(),
        "conduits.toml",
        "[[conduit]]\nname = \"c\"\nzones = [\"a\", \"b\"]\n",
    );
    let check = rejected(&path);
    let out = run(&[
        "replay",
        demo_capture().to_str().unwrap(),
        "--policy",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).is_empty(),
        "nothing was replayed: {}",
        stdout(&out)
    );
    assert!(stderr(&out).contains(check.trim_end()), "{}", stderr(&out));
}

#[test]
fn the_bundled_policies_are_valid() {
    let out = run(&[
        "rules",
        "check",
        repo().join("rules/example-plant").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "ok: 3 zones, 2 conduits, 37 rules\n");
    let out = run(&["rules", "check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "ok: 0 zones, 0 conduits, 37 rules\n");
}

#[test]
fn a_bad_prefilter_pass_port_points_at_the_item() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[prefilter]\npass_ports = [\"tcp/5020=modbus\", \"tcp/70000\"]\n";
    assert_eq!(
        message(dir.path(), "plant.toml", text),
        "plant.toml:2:34: pass_ports: \"70000\": not a port number (0 to 65535)\n"
    );
    let text = "[prefilter]\npass_port = [\"tcp/5020\"]\n";
    assert!(
        message(dir.path(), "plant.toml", text)
            .starts_with("plant.toml:2:1: unknown field `pass_port`, expected `pass_ports`"),
    );
}
