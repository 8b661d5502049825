//! A counting global allocator for the memory tests: bytes allocated in total, and the most
//! held at once. Each memory test registers it in its own test binary (the allocator is
//! process-wide) and measures under [`ONE_AT_A_TIME`], so only one test measures at a time.
#![allow(dead_code)] // each test binary uses a different part

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::SeqCst};
use std::sync::Mutex;

pub struct Counting;

static TOTAL: AtomicU64 = AtomicU64::new(0);
static LIVE: AtomicI64 = AtomicI64::new(0);
static PEAK: AtomicI64 = AtomicI64::new(0);

/// Held by a test while it measures.
pub static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn grew(by: usize) {
    TOTAL.fetch_add(by as u64, SeqCst);
    let live = LIVE.fetch_add(by as i64, SeqCst) + by as i64;
    PEAK.fetch_max(live, SeqCst);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size() as i64, SeqCst);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                LIVE.fetch_sub((layout.size() - new_size) as i64, SeqCst);
            }
        }
        p
    }
}

/// (bytes allocated in total, most bytes held at once above the starting level, `f`'s value)
/// while `f` runs.
pub fn measure<T>(f: impl FnOnce() -> T) -> (u64, u64, T) {
    let total0 = TOTAL.load(SeqCst);
    let live0 = LIVE.load(SeqCst);
    PEAK.store(live0, SeqCst);
    let v = f();
    let total = TOTAL.load(SeqCst) - total0;
    let peak = (PEAK.load(SeqCst) - live0).max(0) as u64;
    (total, peak, v)
}

/// Most bytes held at once above the starting level while `f` runs, and `f`'s value.
pub fn peak_while<T>(f: impl FnOnce() -> T) -> (u64, T) {
    let (_, peak, v) = measure(f);
    (peak, v)
}
