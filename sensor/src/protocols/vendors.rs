//! Vendor id registries of industrial protocols (ODVA for CIP, ASHRAE for
//! BACnet), as the installed Wireshark lists them: `sensor/data/*_vendors.tsv`,
//! regenerated with `cargo xtask vendors`.

use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registry {
    /// ODVA vendor ids (EtherNet/IP, CIP, DeviceNet).
    Cip,
    /// ASHRAE BACnet vendor identifiers.
    Bacnet,
}

const CIP: &str = include_str!("../../data/cip_vendors.tsv");
const BACNET: &str = include_str!("../../data/bacnet_vendors.tsv");

/// The name registered for vendor `id`, if any.
pub fn name(registry: Registry, id: u32) -> Option<&'static str> {
    static CIP_TABLE: OnceLock<Vec<(u32, &'static str)>> = OnceLock::new();
    static BACNET_TABLE: OnceLock<Vec<(u32, &'static str)>> = OnceLock::new();
    let table = match registry {
        Registry::Cip => CIP_TABLE.get_or_init(|| parse(CIP)),
        Registry::Bacnet => BACNET_TABLE.get_or_init(|| parse(BACNET)),
    };
    let at = table.binary_search_by_key(&id, |&(id, _)| id).ok()?;
    Some(table[at].1)
}

/// `ID<TAB>NAME` lines, sorted by id (the generator sorts them).
fn parse(text: &'static str) -> Vec<(u32, &'static str)> {
    let mut rows: Vec<(u32, &'static str)> = text
        .lines()
        .filter_map(|line| {
            let (id, name) = line.split_once('\t')?;
            Some((id.parse().ok()?, name))
        })
        .collect();
    rows.sort_by_key(|&(id, _)| id);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_vendors_are_named() {
        assert_eq!(
            name(Registry::Cip, 1),
            Some("Rockwell Automation/Allen-Bradley")
        );
        assert_eq!(name(Registry::Cip, 0), None, "reserved ids have no name");
        assert!(name(Registry::Bacnet, 5).is_some_and(|n| n.contains("Johnson Controls")));
        assert_eq!(name(Registry::Bacnet, u32::MAX), None);
    }
}
