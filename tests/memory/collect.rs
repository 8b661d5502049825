//! Collect's memory does not grow with the number of items beyond the zip's own per-entry
//! bookkeeping: a counting global allocator measures the most bytes held at once while
//! collecting 400 and then 2,400 tiny modules, with the external sorts' memory budget small
//! enough that both runs spill. Own test binary, because the allocator is process-wide.

use std::path::Path;
use wsc_forensics::acquire::{collect, CollectOutcome};

/// A minimal valid module, made unique by a custom section holding `i`.
fn tiny_module(i: usize) -> Vec<u8> {
    let name = b"n";
    let data = i.to_le_bytes();
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    m.push(0); // custom section
    m.push((1 + name.len() + data.len()) as u8);
    m.push(name.len() as u8);
    m.extend_from_slice(name);
    m.extend_from_slice(&data);
    m
}

/// Collects `n` tiny modules; returns the outcome and the most bytes held at once meanwhile.
fn collect_tiny(dir: &Path, n: usize) -> (CollectOutcome, u64) {
    let src = dir.join(format!("src-{n}"));
    for i in 0..n {
        let sub = src.join(format!("d{:02}", i % 50));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join(format!("m{i:05}.wasm")), tiny_module(i)).unwrap();
    }
    let mut req =
        crate::common::collect_request("IR-MEM", vec![src], &dir.join(format!("c{n}.zip")));
    req.spill_run_bytes = Some(64 << 10);
    let (peak, outcome) = crate::counting_alloc::peak_while(|| collect(&req).unwrap());
    (outcome, peak)
}

#[test]
fn memory_per_item_is_the_zip_entry_not_the_evidence() {
    let _g = crate::counting_alloc::ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let (small_n, large_n) = (400usize, 2_400usize);
    let (small, small_peak) = collect_tiny(dir.path(), small_n);
    let (large, large_peak) = collect_tiny(dir.path(), large_n);
    assert_eq!(small.summary.items, small_n as u64);
    assert_eq!(large.summary.items, large_n as u64);
    // Both runs went through the on-disk sort.
    assert!(small.spilled_bytes > 0 && large.spilled_bytes > 0);
    // Each item's evidence, custody and timeline text is well over 2 KiB (held until the end
    // before the records were sorted on disk); what may remain per item is the zip writer's
    // entry (name and central-directory record) and the bag's entry table, a few hundred
    // bytes, doubled at most by the growth of their tables.
    let per_item = large_peak.saturating_sub(small_peak) / (large_n - small_n) as u64;
    eprintln!(
        "peak {small_peak} bytes for {small_n} items, {large_peak} for {large_n}: {per_item} bytes per extra item"
    );
    assert!(
        per_item < 1024,
        "{per_item} bytes per item: memory grows with the evidence"
    );
}
