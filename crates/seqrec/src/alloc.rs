//! The global allocator of the `seqrec` program, its examples and benchmarks (feature `cli`):
//! mimalloc, or the system (glibc) allocator when `SEQREC_ALLOCATOR=system`, chosen once at
//! the first allocation so that both can be measured from the same binary.
//!
//! Why it matters (docs/performance.md): a training step allocates and frees buffers of
//! hundreds of megabytes. glibc serves them with `mmap` and returns them to the kernel on
//! `free`, so every step pays for the kernel zero-filling them again (hundreds of thousands of
//! page faults); mimalloc, told not to purge ([`keep_freed_memory`]), keeps them in its arenas.
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOCATOR: seqrec::alloc::Allocator = seqrec::alloc::Allocator;
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU8, Ordering};

use mimalloc::MiMalloc;

const UNDECIDED: u8 = 0;
const MIMALLOC: u8 = 1;
const SYSTEM: u8 = 2;

static CHOICE: AtomicU8 = AtomicU8::new(UNDECIDED);

unsafe extern "C" {
    fn getenv(name: *const std::ffi::c_char) -> *const std::ffi::c_char;
    /// mimalloc's option setter (linked in by the `mimalloc` crate).
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// `mi_option_purge_delay` in mimalloc v3's `mimalloc.h` (libmimalloc-sys 0.1.49).
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

/// Tells mimalloc never to return freed memory to the kernel (`purge_delay = -1`) unless
/// `MIMALLOC_PURGE_DELAY` says otherwise: a training step reuses the same large buffers every
/// step, and with the default 10 ms delay mimalloc still decommits some of them between uses
/// (about 4 000 page faults and 0.4 s of system time per per-position step; none with -1).
/// Call it before the first allocation, or at the start of `main`.
pub fn keep_freed_memory() {
    let set = unsafe { getenv(c"MIMALLOC_PURGE_DELAY".as_ptr()) };
    if set.is_null() {
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
}

/// mimalloc unless the environment says `SEQREC_ALLOCATOR=system`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Allocator;

fn choice() -> u8 {
    let c = CHOICE.load(Ordering::Relaxed);
    if c != UNDECIDED {
        return c;
    }
    // Decided before the first allocation returns, without allocating: `getenv` reads the
    // environment block in place.
    let value = unsafe { getenv(c"SEQREC_ALLOCATOR".as_ptr()) };
    let system =
        !value.is_null() && unsafe { std::ffi::CStr::from_ptr(value) }.to_bytes() == b"system";
    let c = if system { SYSTEM } else { MIMALLOC };
    if c == MIMALLOC {
        keep_freed_memory();
    }
    CHOICE.store(c, Ordering::Relaxed);
    c
}

/// The allocator in use: `"mimalloc"` or `"system"`.
pub fn name() -> &'static str {
    if choice() == SYSTEM {
        "system"
    } else {
        "mimalloc"
    }
}

// SAFETY: forwards every call to one of two allocators, fixed before the first allocation
// (the first call decides, before anything is allocated), so memory is always freed by the
// allocator that allocated it.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if choice() == SYSTEM {
            unsafe { System.alloc(layout) }
        } else {
            unsafe { MiMalloc.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if choice() == SYSTEM {
            unsafe { System.alloc_zeroed(layout) }
        } else {
            unsafe { MiMalloc.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if choice() == SYSTEM {
            unsafe { System.dealloc(ptr, layout) }
        } else {
            unsafe { MiMalloc.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if choice() == SYSTEM {
            unsafe { System.realloc(ptr, layout, new_size) }
        } else {
            unsafe { MiMalloc.realloc(ptr, layout, new_size) }
        }
    }
}
