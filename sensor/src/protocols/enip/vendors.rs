//! ODVA vendor ids and the names their holders registered, for naming the
//! vendor of a device (ListIdentity, Identity object, Forward Open originator).

use crate::protocols::vendors::{self, Registry};

/// The registered name of ODVA vendor `id`, if any.
pub fn vendor_name(id: u16) -> Option<&'static str> {
    vendors::name(Registry::Cip, u32::from(id))
}
