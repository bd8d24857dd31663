//! The prefilter in the kernel: an XDP program for the capture interface and
//! the same decision as a socket filter where XDP is unavailable. Both only
//! pass or drop (never redirect or transmit), and count every verdict per
//! protocol in a per-CPU map. The decision itself is `otsensor-prefilter`,
//! unit-tested on stable.
#![no_std]
#![no_main]

use aya_ebpf::bindings::xdp_action;
use aya_ebpf::helpers::{bpf_skb_load_bytes, bpf_xdp_load_bytes};
use aya_ebpf::macros::{map, socket_filter, xdp};
use aya_ebpf::maps::{Array, HashMap, PerCpuArray};
use aya_ebpf::programs::{SkBuffContext, XdpContext};
use otsensor_prefilter::{Counter, MAX_PROTOCOLS, NOT_LISTED, PassList, Verdict, classify};

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

/// Bytes of a frame's headers the decision may need: two VLAN tags, an IPv4
/// header with the most options, and the ports (86), rounded up to a power
/// of two for [`load_length`].
const HEADERS: usize = 128;

/// Classifies a copy of the frame's first bytes: reads from a stack buffer
/// with a bounded index satisfy the verifier where variable offsets into the
/// packet itself (VLAN tags, IP options) do not.
#[inline(always)]
fn decide(headers: &[u8; HEADERS], len: usize) -> Verdict {
    let len = len.min(HEADERS);
    classify(&headers[..len], &Maps)
}

/// How many bytes to copy from a frame of `frame_len`, in a form the verifier
/// can prove is within 1..=HEADERS. An empty frame asks for HEADERS bytes,
/// which the load helper refuses: the frame then counts as unparsed.
#[inline(always)]
fn load_length(frame_len: usize) -> usize {
    (frame_len.min(HEADERS).wrapping_sub(1) & (HEADERS - 1)) + 1
}

#[xdp]
pub fn otsensor_xdp(ctx: XdpContext) -> u32 {
    let frame_len = ctx.data_end() - ctx.data();
    let mut headers = [0u8; HEADERS];
    let copied = load_length(frame_len);
    // SAFETY: copies at most HEADERS bytes into the buffer; the helper checks the frame's end.
    let loaded =
        unsafe { bpf_xdp_load_bytes(ctx.ctx, 0, headers.as_mut_ptr().cast(), copied as u32) } == 0;
    let verdict = decide(&headers, if loaded { copied } else { 0 });
    count(verdict, frame_len as u64);
    if verdict.pass {
        xdp_action::XDP_PASS
    } else {
        xdp_action::XDP_DROP
    }
}

#[socket_filter]
pub fn otsensor_socket(ctx: SkBuffContext) -> i64 {
    let len = ctx.len();
    let mut headers = [0u8; HEADERS];
    let copied = load_length(len as usize);
    // SAFETY: as in the XDP program; the helper checks the frame's end.
    let loaded = unsafe {
        bpf_skb_load_bytes(
            ctx.skb.skb.cast(),
            0,
            headers.as_mut_ptr().cast(),
            copied as u32,
        )
    } == 0;
    let verdict = decide(&headers, if loaded { copied } else { 0 });
    count(verdict, u64::from(len));
    // A socket filter keeps this many bytes of the frame: all of it, or none.
    if verdict.pass { i64::from(len) } else { 0 }
}

#[cfg(not(test))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    loop {}
}
