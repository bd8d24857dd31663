//! MAC address vendors, from IEEE's registry compiled in by `build.rs`.

mod tables {
    include!(concat!(env!("OUT_DIR"), "/oui_tables.rs"));
}

use crate::event::Mac;

/// The organisation IEEE assigned the block `mac` belongs to. Locally
/// administered and multicast addresses have none.
pub fn vendor(mac: &Mac) -> Option<&'static str> {
    if mac[0] & 0x03 != 0 {
        return None;
    }
    let value = mac.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b));
    // The most specific assignment wins: 36-bit, then 28-bit, then 24-bit blocks.
    [(tables::MA_S, 12), (tables::MA_M, 20), (tables::MA_L, 24)]
        .into_iter()
        .find_map(|(table, shift)| {
            let prefix = value >> shift;
            let at = table.binary_search_by_key(&prefix, |&(p, _)| p).ok()?;
            tables::VENDORS.get(usize::from(table[at].1)).copied()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendors_of_ot_equipment() {
        // Blocks as IEEE lists them (the registry's names, not marketing names).
        assert_eq!(
            vendor(&[0x00, 0x0e, 0x8c, 0x01, 0x02, 0x03]),
            Some("Siemens AG")
        );
        assert_eq!(
            vendor(&[0x00, 0x80, 0xf4, 0xfa, 0xd7, 0x14]),
            Some("TELEMECANIQUE ELECTRIQUE")
        );
        assert_eq!(
            vendor(&[0x00, 0xa0, 0x45, 0xc9, 0xbd, 0xfa]),
            Some("PHOENIX CONTACT Electronics GmbH")
        );
    }

    #[test]
    fn more_specific_blocks_win() {
        // 70:B3:D5 is an IEEE block split into 36-bit MA-S assignments.
        assert_eq!(
            vendor(&[0x70, 0xb3, 0xd5, 0xf2, 0xf0, 0x00]),
            Some("TELEPLATFORMS")
        );
    }

    #[test]
    fn multicast_and_local_addresses_have_no_vendor() {
        assert_eq!(vendor(&[0x01, 0x0c, 0xcd, 0x01, 0x00, 0x01]), None);
        assert_eq!(vendor(&[0x02, 0x00, 0x4c, 0x4f, 0x4f, 0x50]), None);
        assert_eq!(vendor(&[0xff; 6]), None);
    }
}
