//! An AF_PACKET socket with a TPACKET_V3 receive ring: the kernel writes
//! frames into blocks of a memory-mapped ring, and user space hands each
//! block back once it has copied the frames out.
//!
//! Several sockets on one interface join a PACKET_FANOUT group in hash mode:
//! the kernel spreads frames over them by its symmetric flow hash, so both
//! directions of a connection reach the same socket. That hash is not the
//! pipeline's shard hash, so each socket's dispatcher still re-shards its
//! frames to the worker that owns their flow (see `pipeline::dispatch`); the
//! fanout's job is to spread the kernel-to-user work and keep each flow's
//! frames in order on one path.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr;
use std::sync::atomic::{Ordering, fence};

use super::{Capture, Interface, LiveCounters, LiveError, RawFrame, bump};
use crate::time::Timestamp;

// From linux/if_packet.h and linux/if_ether.h (stable kernel ABI).
const ETH_P_ALL: u16 = 0x0003;
const PACKET_ADD_MEMBERSHIP: libc::c_int = 1;
const PACKET_MR_PROMISC: libc::c_int = 1;
const PACKET_RX_RING: libc::c_int = 5;
const PACKET_STATISTICS: libc::c_int = 6;
const PACKET_VERSION: libc::c_int = 10;
const PACKET_FANOUT: libc::c_int = 18;
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
const TPACKET_V3: libc::c_int = 2;
const PACKET_FANOUT_HASH: u32 = 0;
const PACKET_OUTGOING: u8 = 4;
const TP_STATUS_KERNEL: u32 = 0;
const TP_STATUS_USER: u32 = 1;
const TP_STATUS_VLAN_VALID: u32 = 1 << 4;
const TP_STATUS_VLAN_TPID_VALID: u32 = 1 << 6;
const ETH_P_8021Q: u16 = 0x8100;

// Offsets in struct tpacket_block_desc (version, offset_to_priv, tpacket_hdr_v1).
const BLOCK_STATUS: usize = 8;
const BLOCK_NUM_PKTS: usize = 12;
const BLOCK_FIRST_PKT: usize = 16;
// Offsets in struct tpacket3_hdr.
const PKT_NEXT: usize = 0;
const PKT_SEC: usize = 4;
const PKT_NSEC: usize = 8;
const PKT_SNAPLEN: usize = 12;
const PKT_LEN: usize = 16;
const PKT_STATUS: usize = 20;
const PKT_MAC: usize = 24;
const PKT_VLAN_TCI: usize = 32;
const PKT_VLAN_TPID: usize = 36;
/// struct sockaddr_ll follows the header at TPACKET_ALIGN(sizeof(tpacket3_hdr)).
const PKT_SLL: usize = 48;
const SLL_PKTTYPE: usize = 10;

#[repr(C)]
struct TpacketReq3 {
    block_size: u32,
    block_nr: u32,
    frame_size: u32,
    frame_nr: u32,
    retire_blk_tov: u32,
    sizeof_priv: u32,
    feature_req_word: u32,
}

#[repr(C)]
#[derive(Default)]
struct TpacketStatsV3 {
    packets: u32,
    drops: u32,
    freeze_q_cnt: u32,
}

#[repr(C)]
struct PacketMreq {
    ifindex: libc::c_int,
    kind: libc::c_ushort,
    alen: libc::c_ushort,
    address: [u8; 8],
}

/// Ring geometry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RingConfig {
    /// Bytes per block (a power of two, a multiple of the page size).
    pub block_size: u32,
    pub blocks: u32,
    /// How long the kernel keeps a block open before handing it over part-filled.
    pub block_timeout_ms: u32,
    /// Frames longer than this are cut (counted); 64 KiB keeps offloaded super-frames whole.
    pub snaplen: u32,
}

impl Default for RingConfig {
    fn default() -> Self {
        RingConfig {
            block_size: 1 << 20,
            blocks: 64,
            block_timeout_ms: 10,
            snaplen: 65_535,
        }
    }
}

impl RingConfig {
    /// A ring of about `megabytes` MiB with the default block size.
    pub fn with_size_mb(megabytes: u32) -> RingConfig {
        let default = RingConfig::default();
        let blocks = (megabytes.max(1) << 20) / default.block_size;
        RingConfig {
            blocks: blocks.max(2),
            ..default
        }
    }
}

/// A receive-only AF_PACKET socket bound to one interface, with its mapped ring.
pub struct RingSocket {
    fd: OwnedFd,
    ring: *mut u8,
    ring_len: usize,
    config: RingConfig,
    next_block: u32,
    /// Frames of the current block already handed over (a block can be
    /// handed over in several calls when the caller runs out of room).
    block_done: u32,
    block_offset: usize,
    /// Outgoing frames skipped since the last `update_drops`.
    outgoing: u64,
    /// The interface bound to, to tell one that went down from one that went away.
    ifindex: libc::c_int,
}

// SAFETY: the ring is owned by this socket alone; the kernel is the only other party.
unsafe impl Send for RingSocket {}

impl RingSocket {
    /// Opens a promiscuous receive ring on `interface`, joined to fanout
    /// group `fanout_group` when given (all sockets of one capture use the same id).
    pub fn open(
        interface: &Interface,
        config: RingConfig,
        fanout_group: Option<u16>,
    ) -> Result<RingSocket, LiveError> {
        // Protocol 0: the socket receives nothing until it is bound below,
        // so no frame of another interface slips into the ring meanwhile.
        // SAFETY: plain socket(2) call.
        let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            return Err(LiveError::os(
                "opening a packet socket",
                io::Error::last_os_error(),
            ));
        }
        // SAFETY: raw is a fresh descriptor owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        setsockopt(
            &fd,
            PACKET_VERSION,
            &TPACKET_V3,
            "PACKET_VERSION (TPACKET_V3)",
        )?;
        // Not every kernel knows this option; outgoing frames are skipped by type anyway.
        let _ = setsockopt(&fd, PACKET_IGNORE_OUTGOING, &1i32, "PACKET_IGNORE_OUTGOING");
        let frame_size = 2048u32.min(config.block_size);
        let req = TpacketReq3 {
            block_size: config.block_size,
            block_nr: config.blocks,
            frame_size,
            frame_nr: config.block_size / frame_size * config.blocks,
            retire_blk_tov: config.block_timeout_ms,
            sizeof_priv: 0,
            feature_req_word: 0,
        };
        setsockopt(
            &fd,
            PACKET_RX_RING,
            &req,
            "setting up the receive ring (PACKET_RX_RING)",
        )?;
        let ring_len = config.block_size as usize * config.blocks as usize;
        // SAFETY: maps the ring the kernel just allocated for this socket.
        let ring = unsafe {
            libc::mmap(
                ptr::null_mut(),
                ring_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_POPULATE,
                fd.as_raw_fd(),
                0,
            )
        };
        if ring == libc::MAP_FAILED {
            return Err(LiveError::os(
                format!("mapping a {} MiB receive ring", ring_len >> 20),
                io::Error::last_os_error(),
            ));
        }
        let socket = RingSocket {
            fd,
            ring: ring.cast(),
            ring_len,
            config,
            next_block: 0,
            block_done: 0,
            block_offset: 0,
            outgoing: 0,
            ifindex: interface.index,
        };
        socket.bind(interface)?;
        let mreq = PacketMreq {
            ifindex: interface.index,
            kind: PACKET_MR_PROMISC as u16,
            alen: 0,
            address: [0; 8],
        };
        setsockopt(
            &socket.fd,
            PACKET_ADD_MEMBERSHIP,
            &mreq,
            "promiscuous mode (PACKET_ADD_MEMBERSHIP)",
        )?;
        if let Some(group) = fanout_group {
            let arg = u32::from(group) | PACKET_FANOUT_HASH << 16;
            setsockopt(&socket.fd, PACKET_FANOUT, &arg, "joining the fanout group")?;
        }
        Ok(socket)
    }

    fn bind(&self, interface: &Interface) -> Result<(), LiveError> {
        // SAFETY: sockaddr_ll is plain data; all-zero is valid.
        let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = ETH_P_ALL.to_be();
        addr.sll_ifindex = interface.index;
        // SAFETY: addr is a valid sockaddr_ll of the given length.
        let rc = unsafe {
            libc::bind(
                self.fd.as_raw_fd(),
                (&raw const addr).cast(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(LiveError::os(
                format!("binding to {}", interface.name),
                io::Error::last_os_error(),
            ));
        }
        Ok(())
    }

    pub fn fd(&self) -> libc::c_int {
        self.fd.as_raw_fd()
    }

    fn block(&self, index: u32) -> *mut u8 {
        // SAFETY: index < blocks, so the offset stays inside the mapping.
        unsafe {
            self.ring
                .add(index as usize * self.config.block_size as usize)
        }
    }

    fn wait(&self, timeout_ms: i32) -> io::Result<()> {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN | libc::POLLERR,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let rc = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
        if rc < 0 {
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
        if pfd.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 {
            // ENETDOWN when the interface went down or away. Taking the error
            // lets the next poll wait again instead of returning at once.
            let err = self.take_error();
            if !interface_exists(self.ifindex) {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("the interface went away ({err})"),
                ));
            }
            // Down, not gone (a link flap on the SPAN port): wait for it
            // rather than spin.
            std::thread::sleep(std::time::Duration::from_millis(timeout_ms.max(1) as u64));
        }
        Ok(())
    }

    /// The socket's pending error (SO_ERROR), which reading clears.
    fn take_error(&self) -> io::Error {
        let mut code: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: an int-sized buffer and its length, as SO_ERROR expects.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_ERROR,
                (&mut code as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        if rc != 0 {
            io::Error::last_os_error()
        } else {
            io::Error::from_raw_os_error(code)
        }
    }
}

/// Whether an interface with this index still exists (in this network namespace).
fn interface_exists(ifindex: libc::c_int) -> bool {
    let mut name = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: a buffer of IF_NAMESIZE bytes, as if_indextoname expects.
    !unsafe { libc::if_indextoname(ifindex as libc::c_uint, name.as_mut_ptr()) }.is_null()
}

/// Reads a native-endian u32 at `at` bytes past `base`.
///
/// # Safety
/// `base + at .. + 4` must lie inside the ring.
unsafe fn read_u32(base: *const u8, at: usize) -> u32 {
    // SAFETY: the caller guarantees the range; the kernel may write it, hence volatile.
    unsafe { ptr::read_volatile(base.add(at).cast::<u32>()) }
}

/// # Safety
/// As [`read_u32`].
unsafe fn read_u16(base: *const u8, at: usize) -> u16 {
    // SAFETY: as read_u32.
    unsafe { ptr::read_volatile(base.add(at).cast::<u16>()) }
}

impl Capture for RingSocket {
    fn next_frames(
        &mut self,
        timeout_ms: i32,
        each: &mut dyn FnMut(&RawFrame<'_>) -> bool,
    ) -> io::Result<()> {
        let block = self.block(self.next_block);
        // SAFETY: the block header lies at the start of the block.
        let mut status = unsafe { read_u32(block, BLOCK_STATUS) };
        if status & TP_STATUS_USER == 0 {
            self.wait(timeout_ms)?;
            // SAFETY: as above.
            status = unsafe { read_u32(block, BLOCK_STATUS) };
            if status & TP_STATUS_USER == 0 {
                return Ok(());
            }
        }
        // The kernel filled the block before setting its status: read after it.
        fence(Ordering::Acquire);
        let block_size = self.config.block_size as usize;
        // SAFETY: header fields of a block the kernel handed over.
        let (count, first) = unsafe {
            (
                read_u32(block, BLOCK_NUM_PKTS),
                read_u32(block, BLOCK_FIRST_PKT) as usize,
            )
        };
        if self.block_done == 0 {
            self.block_offset = first;
        }
        while self.block_done < count {
            let at = self.block_offset;
            if at + PKT_SLL + 12 > block_size {
                break; // a corrupt offset: give the block back rather than read outside it
            }
            // SAFETY: `at` plus the header and sockaddr_ll lie inside the block (checked above).
            let (next, sec, nsec, snaplen, len, pkt_status, mac, pkttype) = unsafe {
                let p = block.add(at);
                (
                    read_u32(p, PKT_NEXT) as usize,
                    read_u32(p, PKT_SEC),
                    read_u32(p, PKT_NSEC),
                    read_u32(p, PKT_SNAPLEN) as usize,
                    read_u32(p, PKT_LEN),
                    read_u32(p, PKT_STATUS),
                    read_u16(p, PKT_MAC) as usize,
                    *p.add(PKT_SLL + SLL_PKTTYPE),
                )
            };
            if at + mac + snaplen > block_size {
                break;
            }
            if pkttype == PACKET_OUTGOING {
                self.outgoing += 1;
            } else {
                let stripped_vlan = (pkt_status & TP_STATUS_VLAN_VALID != 0).then(|| {
                    // SAFETY: inside the header, checked above.
                    let (tci, tpid) = unsafe {
                        (
                            read_u32(block.add(at), PKT_VLAN_TCI) as u16,
                            read_u16(block.add(at), PKT_VLAN_TPID),
                        )
                    };
                    let tpid = if pkt_status & TP_STATUS_VLAN_TPID_VALID != 0 && tpid != 0 {
                        tpid
                    } else {
                        ETH_P_8021Q
                    };
                    (tpid, tci)
                });
                // SAFETY: the frame's bytes lie inside the block (checked above)
                // and stay put until the block is handed back below.
                let bytes = unsafe { std::slice::from_raw_parts(block.add(at + mac), snaplen) };
                let frame = RawFrame {
                    bytes,
                    orig_len: len,
                    ts: Timestamp::from_parts(i64::from(sec), nsec),
                    stripped_vlan,
                };
                if !each(&frame) {
                    return Ok(()); // no room: this frame comes first next time
                }
            }
            self.block_done += 1;
            if next == 0 {
                break;
            }
            self.block_offset = at + next;
        }
        // Everything copied out: give the block back to the kernel.
        fence(Ordering::Release);
        // SAFETY: the status word of the block we own.
        unsafe { ptr::write_volatile(block.add(BLOCK_STATUS).cast::<u32>(), TP_STATUS_KERNEL) };
        self.block_done = 0;
        self.next_block = (self.next_block + 1) % self.config.blocks;
        Ok(())
    }

    fn update_drops(&mut self, counters: &LiveCounters) {
        let mut stats = TpacketStatsV3::default();
        let mut len = size_of::<TpacketStatsV3>() as libc::socklen_t;
        // SAFETY: stats is a valid buffer of `len` bytes. Reading resets the kernel's counts.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                PACKET_STATISTICS,
                (&raw mut stats).cast(),
                &mut len,
            )
        };
        if rc == 0 {
            bump(&counters.ring_dropped, u64::from(stats.drops));
        }
        bump(
            &counters.outgoing_skipped,
            std::mem::take(&mut self.outgoing),
        );
    }

    fn max_frame_bytes(&self) -> usize {
        self.config.snaplen.min(self.config.block_size) as usize + 4
    }
}

impl Drop for RingSocket {
    fn drop(&mut self) {
        // SAFETY: unmaps the mapping made in `open`; nothing refers to it any more.
        unsafe { libc::munmap(self.ring.cast(), self.ring_len) };
    }
}

fn setsockopt<T>(
    fd: &OwnedFd,
    option: libc::c_int,
    value: &T,
    what: &str,
) -> Result<(), LiveError> {
    // SAFETY: value points to a live T of the given size.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_PACKET,
            option,
            (value as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(LiveError::os(what, io::Error::last_os_error()));
    }
    Ok(())
}
