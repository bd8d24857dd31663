//! The system requirements of IEC 62443-3-3, by number, with their titles,
//! the lowest security level that asks for each (SL-C, as the standard's
//! table of requirements by level assigns them), and what each asks in a
//! few words of our own. Only the enhancements this report cites are listed.

/// One system requirement (`SR 5.2`) or requirement enhancement (`SR 5.2 RE 1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requirement {
    pub id: &'static str,
    pub title: &'static str,
    /// The lowest security level that requires it.
    pub from_sl: u8,
    /// What it asks, briefly.
    pub asks: &'static str,
}

const fn sr(id: &'static str, title: &'static str, from_sl: u8, asks: &'static str) -> Requirement {
    Requirement {
        id,
        title,
        from_sl,
        asks,
    }
}

/// The foundational requirements (FR 1–7).
pub const FOUNDATIONAL: &[(u8, &str)] = &[
    (1, "Identification and authentication control"),
    (2, "Use control"),
    (3, "System integrity"),
    (4, "Data confidentiality"),
    (5, "Restricted data flow"),
    (6, "Timely response to events"),
    (7, "Resource availability"),
];

/// SR 1.1 … SR 7.8.
pub const SYSTEM_REQUIREMENTS: &[Requirement] = &[
    sr(
        "SR 1.1",
        "Human user identification and authentication",
        1,
        "people are identified and authenticated on every interface they use",
    ),
    sr(
        "SR 1.2",
        "Software process and device identification and authentication",
        2,
        "programs and devices prove who they are before they are trusted",
    ),
    sr(
        "SR 1.3",
        "Account management",
        1,
        "accounts are created, changed and removed under control",
    ),
    sr(
        "SR 1.4",
        "Identifier management",
        1,
        "identifiers are assigned and kept unambiguous",
    ),
    sr(
        "SR 1.5",
        "Authenticator management",
        1,
        "passwords, keys and certificates are protected, also while they travel",
    ),
    sr(
        "SR 1.6",
        "Wireless access management",
        1,
        "wireless users and devices are identified and authenticated",
    ),
    sr(
        "SR 1.7",
        "Strength of password-based authentication",
        1,
        "passwords have a configurable minimum strength",
    ),
    sr(
        "SR 1.8",
        "Public key infrastructure certificates",
        2,
        "certificates are issued and checked by a sound PKI",
    ),
    sr(
        "SR 1.9",
        "Strength of public key authentication",
        2,
        "certificate chains, revocation and private keys are verified",
    ),
    sr(
        "SR 1.10",
        "Authenticator feedback",
        1,
        "authentication never echoes the secret",
    ),
    sr(
        "SR 1.11",
        "Unsuccessful login attempts",
        1,
        "repeated failed logins are limited",
    ),
    sr(
        "SR 1.12",
        "System use notification",
        1,
        "a notice is shown before access",
    ),
    sr(
        "SR 1.13",
        "Access via untrusted networks",
        1,
        "access from untrusted networks is monitored and controlled",
    ),
    sr(
        "SR 2.1",
        "Authorization enforcement",
        1,
        "every action is checked against the permissions of who asks",
    ),
    sr(
        "SR 2.2",
        "Wireless use control",
        1,
        "wireless use is authorized, monitored and restricted",
    ),
    sr(
        "SR 2.3",
        "Use control for portable and mobile devices",
        1,
        "portable devices are restricted",
    ),
    sr(
        "SR 2.4",
        "Mobile code",
        1,
        "mobile code is restricted and monitored",
    ),
    sr("SR 2.5", "Session lock", 1, "idle sessions lock"),
    sr(
        "SR 2.6",
        "Remote session termination",
        2,
        "remote sessions end after inactivity or on demand",
    ),
    sr(
        "SR 2.7",
        "Concurrent session control",
        3,
        "concurrent sessions are limited",
    ),
    sr(
        "SR 2.8",
        "Auditable events",
        1,
        "security-relevant events are recorded",
    ),
    sr(
        "SR 2.9",
        "Audit storage capacity",
        1,
        "there is room for audit records",
    ),
    sr(
        "SR 2.10",
        "Response to audit processing failures",
        1,
        "audit failures are handled without losing essential functions",
    ),
    sr(
        "SR 2.11",
        "Timestamps",
        1,
        "audit records carry trustworthy time",
    ),
    sr(
        "SR 2.12",
        "Non-repudiation",
        3,
        "actions can be attributed beyond dispute",
    ),
    sr(
        "SR 3.1",
        "Communication integrity",
        1,
        "transmitted information is protected against change",
    ),
    sr(
        "SR 3.2",
        "Malicious code protection",
        1,
        "malware is prevented, detected and reported",
    ),
    sr(
        "SR 3.3",
        "Security functionality verification",
        1,
        "security functions are tested",
    ),
    sr(
        "SR 3.4",
        "Software and information integrity",
        2,
        "unauthorized changes to software and data are detected",
    ),
    sr(
        "SR 3.5",
        "Input validation",
        1,
        "inputs are checked for syntax and content",
    ),
    sr(
        "SR 3.6",
        "Deterministic output",
        1,
        "outputs go to a safe state when things fail",
    ),
    sr(
        "SR 3.7",
        "Error handling",
        2,
        "errors are handled without revealing what helps an attacker",
    ),
    sr(
        "SR 3.8",
        "Session integrity",
        2,
        "sessions cannot be hijacked or replayed",
    ),
    sr(
        "SR 3.9",
        "Protection of audit information",
        2,
        "audit records are protected",
    ),
    sr(
        "SR 4.1",
        "Information confidentiality",
        1,
        "information that needs read permission is kept confidential, at rest and in transit",
    ),
    sr(
        "SR 4.2",
        "Information persistence",
        2,
        "information is purged from components taken out of service",
    ),
    sr(
        "SR 4.3",
        "Use of cryptography",
        1,
        "cryptography, where used, follows recognised practice",
    ),
    sr(
        "SR 5.1",
        "Network segmentation",
        1,
        "control networks are segmented from other networks",
    ),
    sr(
        "SR 5.2",
        "Zone boundary protection",
        1,
        "traffic at zone boundaries is monitored and controlled",
    ),
    sr(
        "SR 5.3",
        "General purpose person-to-person communication restrictions",
        1,
        "e-mail, messaging and the like do not reach the control system",
    ),
    sr(
        "SR 5.4",
        "Application partitioning",
        1,
        "data, applications and services are partitioned by criticality",
    ),
    sr(
        "SR 6.1",
        "Audit log accessibility",
        1,
        "authorized people and tools can read the audit logs",
    ),
    sr(
        "SR 6.2",
        "Continuous monitoring",
        2,
        "security is monitored continuously to detect and report breaches",
    ),
    sr(
        "SR 7.1",
        "Denial of service protection",
        1,
        "essential functions survive a denial of service",
    ),
    sr(
        "SR 7.2",
        "Resource management",
        1,
        "resources are limited so that none exhausts them",
    ),
    sr(
        "SR 7.3",
        "Control system backup",
        1,
        "backups are taken without disturbing the plant",
    ),
    sr(
        "SR 7.4",
        "Control system recovery and reconstitution",
        1,
        "the system can be restored to a known secure state",
    ),
    sr(
        "SR 7.5",
        "Emergency power",
        1,
        "power loss does not compromise security",
    ),
    sr(
        "SR 7.6",
        "Network and security configuration settings",
        1,
        "network and security settings follow documented guidance",
    ),
    sr(
        "SR 7.7",
        "Least functionality",
        1,
        "unnecessary functions, ports, protocols and services are off",
    ),
    sr(
        "SR 7.8",
        "Control system component inventory",
        2,
        "an inventory of components is kept",
    ),
];

/// The requirement enhancements this report cites.
pub const ENHANCEMENTS: &[Requirement] = &[
    sr(
        "SR 1.1 RE 1",
        "Unique identification and authentication",
        2,
        "each person is identified on their own, not by a shared secret",
    ),
    sr(
        "SR 1.1 RE 2",
        "Multifactor authentication for untrusted networks",
        3,
        "people reaching in from untrusted networks use more than a password",
    ),
    sr(
        "SR 1.13 RE 1",
        "Explicit access request approval",
        2,
        "access from untrusted networks is denied unless explicitly approved",
    ),
    sr(
        "SR 2.1 RE 1",
        "Authorization enforcement for all users",
        2,
        "permissions are checked for programs and devices too, not only people",
    ),
    sr(
        "SR 3.1 RE 1",
        "Cryptographic integrity protection",
        3,
        "integrity is protected cryptographically",
    ),
    sr(
        "SR 4.1 RE 1",
        "Protection of confidentiality at rest or in transit via untrusted networks",
        2,
        "information crossing untrusted networks is encrypted",
    ),
    sr(
        "SR 4.1 RE 2",
        "Protection of confidentiality across zone boundaries",
        4,
        "information crossing zone boundaries is encrypted",
    ),
    sr(
        "SR 5.1 RE 1",
        "Physical network segmentation",
        2,
        "control networks are separated physically",
    ),
    sr(
        "SR 5.1 RE 2",
        "Independence from non-control system networks",
        3,
        "the control network works without, and apart from, other networks",
    ),
    sr(
        "SR 5.2 RE 1",
        "Deny by default, allow by exception",
        2,
        "boundaries deny all traffic except what is explicitly allowed",
    ),
];

/// The requirement or enhancement `id` (`SR 5.2`, `SR 5.2 RE 1`).
pub fn find(id: &str) -> Option<&'static Requirement> {
    SYSTEM_REQUIREMENTS
        .iter()
        .chain(ENHANCEMENTS)
        .find(|r| r.id == id)
}

/// The system requirement an SR or RE reference belongs to (`SR 5.2 RE 1` → `SR 5.2`).
pub fn base(id: &str) -> &str {
    id.split(" RE ").next().unwrap_or(id)
}

/// Sort key of an SR reference: by foundational requirement, number and enhancement.
pub fn order(id: &str) -> (u32, u32, u32, String) {
    let mut parts = id.trim_start_matches("SR ").split(" RE ");
    let number = parts.next().unwrap_or("");
    let enhancement = parts.next().and_then(|e| e.parse().ok()).unwrap_or(0);
    let mut digits = number.split('.').map(|d| d.parse().unwrap_or(u32::MAX));
    let fr = digits.next().unwrap_or(u32::MAX);
    let n = digits.next().unwrap_or(u32::MAX);
    (fr, n, enhancement, id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_system_requirement_from_1_1_to_7_8_is_listed_once_in_order() {
        let counts = [13, 12, 9, 3, 4, 2, 8];
        let mut expected = Vec::new();
        for (fr, count) in counts.iter().enumerate() {
            for n in 1..=*count {
                expected.push(format!("SR {}.{n}", fr + 1));
            }
        }
        let listed: Vec<&str> = SYSTEM_REQUIREMENTS.iter().map(|r| r.id).collect();
        assert_eq!(listed, expected);
        assert!(
            SYSTEM_REQUIREMENTS
                .iter()
                .all(|r| (1..=4).contains(&r.from_sl))
        );
    }

    #[test]
    fn references_sort_by_number_not_text() {
        let mut ids = vec!["SR 5.2 RE 1", "SR 1.13", "SR 1.2", "SR 5.2"];
        ids.sort_by_key(|id| order(id));
        assert_eq!(ids, ["SR 1.2", "SR 1.13", "SR 5.2", "SR 5.2 RE 1"]);
        assert_eq!(base("SR 5.2 RE 1"), "SR 5.2");
        assert_eq!(find("SR 4.1 RE 2").unwrap().from_sl, 4);
    }
}
