//! The memory allocator: mimalloc, told to keep the memory it frees.
//!
//! mimalloc gives freed pages back to the kernel after `purge_delay`
//! milliseconds. The pipeline's memory is bounded by its queues and reused
//! batch after batch, so what is given back is soon asked for again, and the
//! kernel must zero it once more. On a virtual machine whose host reclaims
//! guest memory that is dear: keeping it took a replay of ot.pcap from 1.27 s
//! to 1.06 s of CPU, and its system time from 0.24 s to 0.06 s
//! (docs/benchmarks.md). Peak memory is unchanged.

use std::os::raw::{c_int, c_long};

// mimalloc: 8 % less CPU for a replay than glibc's allocator (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's `mi_option_t` (v3 `mimalloc.h`).
const PURGE_DELAY: c_int = 15;

// The bindings of libmimalloc-sys lack this option; the functions are in the
// library it links either way.
unsafe extern "C" {
    fn mi_option_set(option: c_int, value: c_long);
    #[cfg(test)]
    fn mi_option_get(option: c_int) -> c_long;
}

/// Makes mimalloc keep freed memory for reuse, unless the operator set
/// `MIMALLOC_PURGE_DELAY` themselves.
pub fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one integer option; -1 means "never purge".
        unsafe { mi_option_set(PURGE_DELAY, -1) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_option_set_is_the_purge_delay() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            eprintln!("skipped: MIMALLOC_PURGE_DELAY is set, so the default cannot be seen");
            return;
        }
        // mimalloc's purge delay defaults to 1000 ms, a value no neighbouring
        // option has: a renumbered enum in a newer mimalloc fails here.
        // SAFETY: reads one integer option.
        assert_eq!(unsafe { mi_option_get(PURGE_DELAY) }, 1000);
        keep_freed_memory();
        assert_eq!(unsafe { mi_option_get(PURGE_DELAY) }, -1);
    }
}
