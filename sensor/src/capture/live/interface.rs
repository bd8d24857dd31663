//! The interface to capture on: that it exists and is up, and the drop
//! counters the kernel keeps for it (before any socket sees a frame).

use std::ffi::CString;
use std::fs;
use std::io;

use super::LiveError;

/// A network interface, checked to exist and to be up.
#[derive(Clone, Debug)]
pub struct Interface {
    pub name: String,
    pub index: i32,
}

impl Interface {
    pub fn open(name: &str) -> Result<Interface, LiveError> {
        let missing = || LiveError::NoSuchInterface(name.to_string());
        let c_name = CString::new(name).map_err(|_| missing())?;
        if name.is_empty() || name.len() >= libc::IFNAMSIZ {
            return Err(missing());
        }
        // SAFETY: c_name is a valid NUL-terminated string.
        let index = unsafe { libc::if_nametoindex(c_name.as_ptr()) };
        if index == 0 {
            return Err(missing());
        }
        if !is_up(name)? {
            return Err(LiveError::InterfaceDown(name.to_string()));
        }
        Ok(Interface {
            name: name.to_string(),
            index: index as i32,
        })
    }

    /// The kernel's receive drop counters for this interface, now.
    pub fn counters(&self) -> InterfaceCounters {
        let read = |file: &str| {
            fs::read_to_string(format!("/sys/class/net/{}/statistics/{file}", self.name))
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .unwrap_or(0)
        };
        InterfaceCounters {
            nic_dropped: read("rx_missed_errors") + read("rx_fifo_errors"),
            kernel_dropped: read("rx_dropped"),
        }
    }
}

/// Frames lost before any socket saw them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InterfaceCounters {
    /// The NIC had no room (missed, FIFO overruns).
    pub nic_dropped: u64,
    /// The kernel's receive path dropped them (backlog full, no handler, …).
    pub kernel_dropped: u64,
}

impl InterfaceCounters {
    /// What was counted since `start`.
    pub fn since(self, start: InterfaceCounters) -> InterfaceCounters {
        InterfaceCounters {
            nic_dropped: self.nic_dropped.saturating_sub(start.nic_dropped),
            kernel_dropped: self.kernel_dropped.saturating_sub(start.kernel_dropped),
        }
    }
}

/// Whether the interface is administratively up (IFF_UP).
fn is_up(name: &str) -> Result<bool, LiveError> {
    // SAFETY: a plain datagram socket, closed below; used only for the ioctl.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(LiveError::os(
            "socket for SIOCGIFFLAGS",
            io::Error::last_os_error(),
        ));
    }
    // SAFETY: ifreq is plain data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(name.bytes()) {
        *dst = src as libc::c_char;
    }
    // SAFETY: fd is open, req is a valid ifreq with a NUL-terminated name.
    let rc = unsafe { libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut req) };
    let err = io::Error::last_os_error();
    // SAFETY: fd was opened above and is not used afterwards.
    unsafe { libc::close(fd) };
    if rc < 0 {
        return Err(LiveError::os(format!("reading the flags of {name:?}"), err));
    }
    // SAFETY: SIOCGIFFLAGS filled the flags member of the union.
    let flags = unsafe { req.ifr_ifru.ifru_flags };
    Ok(flags & libc::IFF_UP as libc::c_short != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_interface_is_named() {
        let err = Interface::open("no-such-if0").unwrap_err();
        assert_eq!(
            err.to_string(),
            "interface \"no-such-if0\" does not exist (see `ip link`)"
        );
    }

    #[test]
    fn loopback_exists_and_is_up() {
        let lo = Interface::open("lo").expect("lo");
        assert!(lo.index > 0);
    }
}
