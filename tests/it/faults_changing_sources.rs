//! Sources that shrink, grow, or are replaced (another file renamed over them) while `collect`
//! reads them, on both acquisition paths (held in memory after one read, and hashed then
//! re-read into the zip): each is flagged (`changed_during_acquisition`, the
//! `changed-during-acquisition` finding, a custody event), the digest recorded is that of the
//! bytes in the bag, those bytes are a state the file really had, and the run goes on.
//! (tests/collect.rs covers an append to a small module and a same-size rewrite of a large
//! file; this covers the rest.)

use crate::common::fixture;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use wsc_forensics::acquire::{collect, AcquireOptions};
use wsc_forensics::bundle::{open_bundle, verify_bundle, Verdict, VerifyOptions};
use wsc_forensics::model::custody::CustodyAction;
use wsc_forensics::model::digest::Sha256Digest;

const MIB: usize = 1 << 20;
/// Files up to this size are held in memory between the read and the zip entry.
const IN_MEMORY: u64 = 4 << 20;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Change {
    Grow,
    Shrink,
    Replace,
}

fn content(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3] ^ seed)
        .collect()
}

/// Replacement content for `Replace`: other bytes, another length.
fn replacement(seed: u8) -> Vec<u8> {
    content(seed.wrapping_add(100), 5 * MIB / 2)
}

fn apply(change: Change, path: &Path, seed: u8) {
    use std::io::Write;
    match change {
        Change::Grow => {
            let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
            f.write_all(&content(seed.wrapping_add(50), MIB / 2))
                .unwrap();
        }
        Change::Shrink => {
            let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
            f.set_len(f.metadata().unwrap().len() / 2).unwrap();
        }
        Change::Replace => {
            // Written beside it, then renamed over it: the path names a new inode at once.
            let tmp = path.with_extension("new");
            std::fs::write(&tmp, replacement(seed)).unwrap();
            std::fs::rename(&tmp, path).unwrap();
        }
    }
}

#[test]
fn shrinking_growing_and_replaced_sources_are_flagged_and_the_copy_is_hashed() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::copy(fixture("wsc/modules/signed-a.wasm"), src.join("a.wasm")).unwrap();
    // (name, change, size): 3 MiB files are held in memory, 6 MiB files are re-read.
    let cases: Vec<(String, Change, usize)> = [Change::Grow, Change::Shrink, Change::Replace]
        .into_iter()
        .flat_map(|c| {
            [
                (format!("{c:?}-held.bin").to_lowercase(), c, 3 * MIB),
                (format!("{c:?}-reread.bin").to_lowercase(), c, 6 * MIB),
            ]
        })
        .collect();
    let mut original: HashMap<PathBuf, Vec<u8>> = HashMap::new();
    let mut plan: HashMap<PathBuf, (Change, u8)> = HashMap::new();
    for (seed, (name, change, size)) in cases.iter().enumerate() {
        let p = src.join(name);
        let bytes = content(seed as u8, *size);
        std::fs::write(&p, &bytes).unwrap();
        original.insert(p.clone(), bytes);
        plan.insert(p, (*change, seed as u8));
    }

    let out = dir.path().join("c.zip");
    let mut acquire = AcquireOptions {
        in_memory_limit: IN_MEMORY,
        ..Default::default()
    };
    let done = Arc::new(Mutex::new(HashSet::new()));
    let hook_plan = plan.clone();
    acquire.after_first_chunk = Some(Arc::new(move |p: &Path| {
        if let Some((change, seed)) = hook_plan.get(p) {
            if done.lock().unwrap().insert(p.to_owned()) {
                apply(*change, p, *seed);
            }
        }
    }));
    let mut req = crate::common::collect_request("IR-CHG", vec![src.clone()], &out);
    req.acquire = acquire;
    // The run goes on: every source but one is collected, the untouched module unflagged. The
    // replaced file that is copied by a second read is not: that read reaches another inode
    // than the walk found (the anchored walk never copies a file it did not find).
    let outcome = collect(&req).unwrap();
    assert_eq!(outcome.summary.items, cases.len() as u64);
    assert_eq!(
        outcome.summary.changed_during_acquisition.len(),
        cases.len() - 1
    );
    let evidence = wsc_forensics::bundle::open_bundle(&out).unwrap().evidence;
    let items = &evidence.items;
    assert_eq!(items.len(), cases.len());
    let replaced = src.join("replace-reread.bin");
    assert!(
        evidence
            .not_collected
            .iter()
            .any(|n| n.path.text == replaced.to_str().unwrap()
                && n.reason.contains("changed during the walk")),
        "{:?}",
        evidence.not_collected
    );
    let module = items
        .iter()
        .find(|i| i.source.text.ends_with("/a.wasm"))
        .unwrap();
    assert!(module.changed_during_acquisition.is_empty());

    assert_eq!(
        verify_bundle(&out, &VerifyOptions::default()).verdict,
        Verdict::Intact
    );
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    for (name, change, _) in &cases {
        let path = src.join(name);
        if path == replaced {
            continue;
        }
        let item = items
            .iter()
            .find(|i| i.source.text == path.to_str().unwrap())
            .unwrap_or_else(|| panic!("{name} not collected"));
        assert!(
            !item.changed_during_acquisition.is_empty(),
            "{name}: not flagged"
        );
        assert!(
            item.findings
                .iter()
                .any(|f| f.code == "changed-during-acquisition"),
            "{name}: no finding"
        );
        // The recorded digest is that of the bytes in the bag.
        let mut copied = Vec::new();
        zip.by_name(&format!("IR-CHG/{}", item.bag_path.as_deref().unwrap()))
            .unwrap()
            .read_to_end(&mut copied)
            .unwrap();
        assert_eq!(item.sha256, Sha256Digest::of(&copied), "{name}");
        assert_eq!(item.size, copied.len() as u64, "{name}");
        // And those bytes are a state the file really had.
        let orig = &original[&path];
        let seed = plan[&path].1;
        let what = &item.changed_during_acquisition;
        eprintln!("{name}: {} bytes copied; {what:?}", copied.len());
        match change {
            Change::Grow => {
                assert!(copied.len() > orig.len(), "{name}: growth not copied");
                assert_eq!(&copied[..orig.len()], &orig[..], "{name}");
                assert!(what.iter().any(|c| c.contains("size")), "{name}: {what:?}");
            }
            Change::Shrink => {
                assert!(copied.len() < orig.len(), "{name}: shrink not seen");
                assert_eq!(&copied[..], &orig[..copied.len()], "{name}");
            }
            Change::Replace => {
                assert!(
                    copied == *orig || copied == replacement(seed),
                    "{name}: the copy is neither the old nor the new file"
                );
                assert!(
                    what.iter()
                        .any(|c| c.contains("different file") || c.contains("content differs")),
                    "{name}: {what:?}"
                );
            }
        }
    }
    // One custody event per changed source.
    let c = open_bundle(&out).unwrap();
    let flagged: HashSet<String> = c
        .custody
        .iter()
        .filter(|e| e.action == CustodyAction::ChangedDuringAcquisition)
        .map(|e| e.source.as_ref().unwrap().text.clone())
        .collect();
    let expected: HashSet<String> = cases
        .iter()
        .map(|(n, _, _)| src.join(n).to_str().unwrap().to_owned())
        .collect();
    assert_eq!(flagged, expected);
}
