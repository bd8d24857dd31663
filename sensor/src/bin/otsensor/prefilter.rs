//! The eBPF prefilter for `otsensor live --xdp` (placeholder until the loader lands).

use std::fmt;

use otsensor::capture::live::Interface;
use serde::Serialize;

use crate::live::LiveArgs;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum XdpMode {
    Auto,
    Native,
    Skb,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct PrefilterStats {
    pub dropped_packets: u64,
}

pub struct PrefilterSetup;

impl PrefilterSetup {
    pub fn describe(&self) -> String {
        String::new()
    }
    pub fn stats(&self) -> PrefilterStats {
        PrefilterStats::default()
    }
    pub fn detach(self) {}
}

pub struct SetupError(String);

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub fn setup(
    _args: &LiveArgs,
    _interface: &Interface,
    _fds: &[Option<libc::c_int>],
) -> Result<PrefilterSetup, SetupError> {
    Err(SetupError("the prefilter is not available yet".into()))
}
