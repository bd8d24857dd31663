//! The prefilter in the kernel: an XDP program for the capture interface and
//! the same decision as a socket filter where XDP is unavailable. Both only
//! pass or drop (never redirect or transmit), and count every verdict per
//! protocol in a per-CPU map. The decision itself is `otsensor-prefilter`,
//! unit-tested on stable.
#![no_std]
#![no_main]

use aya_ebpf::bindings::xdp_action;
use aya_ebpf::macros::{map, socket_filter, xdp};
use aya_ebpf::maps::{Array, HashMap, PerCpuArray};
use aya_ebpf::programs::{SkBuffContext, XdpContext};
use otsensor_prefilter::{Counter, Frame, MAX_PROTOCOLS, NOT_LISTED, PassList, Verdict, classify};

/// TCP port → protocol id (0: not listed). Filled by the sensor.
#[map]
static TCP_PORTS: Array<u8> = Array::with_max_entries(65536, 0);
/// UDP port → protocol id.
#[map]
static UDP_PORTS: Array<u8> = Array::with_max_entries(65536, 0);
/// Ethertype (0 for LLC frames) → protocol id.
#[map]
static ETHER_TYPES: HashMap<u16, u8> = HashMap::with_max_entries(256, 0);
/// Packets and bytes per protocol id × verdict (pass, drop), per CPU.
#[map]
static COUNTERS: PerCpuArray<Counter> = PerCpuArray::with_max_entries(MAX_PROTOCOLS * 2, 0);

struct Maps;

impl PassList for Maps {
    #[inline(always)]
    fn tcp_port(&self, port: u16) -> u8 {
        TCP_PORTS
            .get(u32::from(port))
            .copied()
            .unwrap_or(NOT_LISTED)
    }

    #[inline(always)]
    fn udp_port(&self, port: u16) -> u8 {
        UDP_PORTS
            .get(u32::from(port))
            .copied()
            .unwrap_or(NOT_LISTED)
    }

    #[inline(always)]
    fn ether_type(&self, ether_type: u16) -> u8 {
        // SAFETY: the value is copied out at once.
        unsafe { ETHER_TYPES.get(&ether_type) }
            .copied()
            .unwrap_or(NOT_LISTED)
    }
}

#[inline(always)]
fn count(verdict: Verdict, bytes: u64) {
    if let Some(counter) = COUNTERS.get_ptr_mut(verdict.counter_index()) {
        // SAFETY: a per-CPU slot: no other writer while this program runs on this CPU.
        unsafe {
            (*counter).packets += 1;
            (*counter).bytes += bytes;
        }
    }
}

/// The packet between `data` and `data_end`, every read checked against the end.
struct XdpFrame {
    start: usize,
    end: usize,
}

impl Frame for XdpFrame {
    #[inline(always)]
    fn u8_at(&self, offset: usize) -> Option<u8> {
        if self.start + offset + 1 > self.end {
            return None;
        }
        // SAFETY: inside the packet (checked just above).
        Some(unsafe { *((self.start + offset) as *const u8) })
    }
}

#[xdp]
pub fn otsensor_xdp(ctx: XdpContext) -> u32 {
    let frame = XdpFrame {
        start: ctx.data(),
        end: ctx.data_end(),
    };
    let verdict = classify(&frame, &Maps);
    count(verdict, (frame.end - frame.start) as u64);
    if verdict.pass {
        xdp_action::XDP_PASS
    } else {
        xdp_action::XDP_DROP
    }
}

/// The frame of a packet socket (MAC header first), read with bpf_skb_load_bytes.
struct SkbFrame<'a> {
    ctx: &'a SkBuffContext,
}

impl Frame for SkbFrame<'_> {
    #[inline(always)]
    fn u8_at(&self, offset: usize) -> Option<u8> {
        self.ctx.load::<u8>(offset).ok()
    }
}

#[socket_filter]
pub fn otsensor_socket(ctx: SkBuffContext) -> i64 {
    let verdict = classify(&SkbFrame { ctx: &ctx }, &Maps);
    let len = ctx.len();
    count(verdict, u64::from(len));
    // A socket filter keeps this many bytes of the frame: all of it, or none.
    if verdict.pass { i64::from(len) } else { 0 }
}

#[cfg(not(test))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    loop {}
}
