//! Where each payload goes in the bag. Most kinds are named by their SHA-256; case files and
//! attachments keep a readable name under `data/case/`, made portable: it unpacks the same on a
//! case-insensitive or normalising filesystem (macOS, Windows) and every BagIt tool reads its
//! manifest line the same way. The original path is always in evidence.json.

use crate::model::digest::Sha256Digest;
use crate::model::evidence::ItemKind;
use std::collections::HashMap;
use std::path::Path;
use unicode_normalization::UnicodeNormalization;

/// Bag path of a hash-named kind (`None` for secret keys, and for case files and attachments,
/// which keep their names and are placed by [`CaseNames`]).
pub fn hashed_bag_path(kind: ItemKind, sha256: &Sha256Digest) -> Option<String> {
    let (dir, ext) = match kind {
        ItemKind::Module => ("modules", "wasm"),
        ItemKind::DetachedSignature => ("signatures", "sig"),
        ItemKind::PublicKey => ("keys", "pub"),
        ItemKind::RekorEntry
        | ItemKind::SigstoreBundle
        | ItemKind::TrustRoot
        | ItemKind::TrustBundle => ("transparency", "json"),
        ItemKind::Certificate => ("transparency", "pem"),
        ItemKind::AuditLog => ("logs", "log"),
        ItemKind::SecretKey | ItemKind::CaseFile | ItemKind::Attachment => return None,
    };
    Some(format!("data/{dir}/{sha256}.{ext}"))
}

/// Whether an entry of this kind is text (deflated with `--compress`).
pub fn is_text(kind: ItemKind) -> bool {
    !matches!(
        kind,
        ItemKind::Module | ItemKind::DetachedSignature | ItemKind::PublicKey | ItemKind::Attachment
    )
}

/// A file name made safe for a zip entry and a manifest line: the original name in Unicode NFC,
/// with `/`, `\`, `%` and control characters (CR, LF among them) replaced by `_`, and trailing
/// whitespace and dots replaced by `_` (zip names are UTF-8; non-UTF-8 bytes become U+FFFD).
///
/// Why `%` too: RFC 8493 wants `%` in a manifest path written as `%25`, but bagit-python 1.9
/// neither writes nor decodes `%25` (its issue #157), so such a bag fails its validation. A
/// bag path without `%`, CR or LF reads the same under both, so every BagIt tool agrees.
/// Why the end: bagit-python strips a manifest line's trailing whitespace (so a name ending in
/// a space fails its validation), and Windows drops trailing spaces and dots from names.
fn safe_file_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut s: String = name
        .nfc()
        .map(|c| {
            if c == '/' || c == '\\' || c == '%' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let kept = s
        .trim_end_matches(|c: char| c.is_whitespace() || c == '.')
        .len();
    if kept < s.len() && kept > 0 {
        let cut = s.len() - kept;
        s.truncate(kept);
        s.extend(std::iter::repeat_n('_', cut.min(1)));
    }
    if s.is_empty() || s.chars().all(|c| c.is_whitespace() || c == '.') {
        "unnamed".to_owned()
    } else {
        s
    }
}

/// Longest file name most filesystems accept (bytes): a bag must unpack anywhere.
const NAME_MAX: usize = 255;

/// `name` cut to at most `max` bytes (at a char boundary), keeping a short extension: a 255-byte
/// source name grows past the limit with a collision prefix, and a non-UTF-8 one with U+FFFD
/// (3 bytes for each bad byte).
fn fit_name(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let ext = match name.rfind('.') {
        Some(i) if i > 0 && name.len() - i <= 16 => &name[i..],
        _ => "",
    };
    let mut cut = max - ext.len();
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{ext}", &name[..cut])
}

/// How a filesystem that ignores case and normalisation sees a name: NFC, then full-width case
/// folding as `to_uppercase().to_lowercase()` approximates it (`ß` and `SS` fold alike).
pub fn folded(name: &str) -> String {
    name.nfc()
        .collect::<String>()
        .to_uppercase()
        .to_lowercase()
        .nfc()
        .collect()
}

/// The names given under `data/case/`, each unique after case folding and normalisation.
#[derive(Default)]
pub struct CaseNames {
    /// Folded bag path → (bag path, content).
    taken: HashMap<String, (String, Sha256Digest)>,
}

impl CaseNames {
    /// `data/case/<name>` for a case file or attachment. The same content under a name that
    /// folds alike shares its entry; different content gets `<sha256 prefix>-<name>` (12 hex
    /// digits, then the whole digest, then a counter, until the folded name is free).
    pub fn name_for(&mut self, path: &Path, d: Sha256Digest) -> String {
        let name = safe_file_name(path);
        let hex = d.to_hex();
        let mut candidates = vec![
            fit_name(&name, NAME_MAX),
            format!("{}-{}", &hex[..12], fit_name(&name, NAME_MAX - 13)),
            format!("{hex}-{}", fit_name(&name, NAME_MAX - 65)),
        ];
        for n in 2.. {
            if let Some(c) = candidates.first() {
                let bag = format!("data/case/{c}");
                let key = folded(&bag);
                match self.taken.get(&key) {
                    None => {
                        self.taken.insert(key, (bag.clone(), d));
                        return bag;
                    }
                    Some((existing, digest)) if *digest == d => return existing.clone(),
                    Some(_) => {
                        candidates.remove(0);
                    }
                }
            } else {
                candidates.push(format!("{hex}-{n}-{}", fit_name(&name, NAME_MAX - 86)));
            }
        }
        unreachable!("the counter always finds a free name")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_names_are_kept_and_collisions_disambiguated() {
        let mut taken = CaseNames::default();
        let a = Sha256Digest::of(b"a");
        let b = Sha256Digest::of(b"b");
        assert_eq!(
            taken.name_for(Path::new("/x/100% notes.txt"), a),
            "data/case/100_ notes.txt"
        );
        assert_eq!(
            taken.name_for(Path::new("/y/100% notes.txt"), a),
            "data/case/100_ notes.txt"
        );
        let alt = taken.name_for(Path::new("/z/100% notes.txt"), b);
        assert_eq!(
            alt,
            format!("data/case/{}-100_ notes.txt", &b.to_hex()[..12])
        );
        assert_eq!(safe_file_name(Path::new("/a/x\ny\\z")), "x_y_z");
        // Long names fit a 255-byte file name, with or without the prefix, extension kept.
        let long = format!("%{}.txt", "é".repeat(200));
        let c = Sha256Digest::of(b"c");
        let first = taken.name_for(Path::new(&format!("/p/{long}")), a);
        let second = taken.name_for(Path::new(&format!("/q/{long}")), c);
        for n in [&first, &second] {
            let file = n.strip_prefix("data/case/").unwrap();
            assert!(file.len() <= 255 && file.ends_with("é.txt"), "{file}");
        }
        assert_ne!(first, second);
    }

    #[test]
    fn names_are_unique_after_case_folding_and_nfc_and_never_end_in_space() {
        let mut taken = CaseNames::default();
        let names = [
            "Case.TXT",
            "case.txt",
            "CASE.txt",
            "caf\u{e9}.md",
            "cafe\u{301}.md",
            "CAF\u{c9}.md",
            "stra\u{df}e",
            "STRASSE",
            "notes ",
            "notes",
            "notes.",
            "notes_",
        ];
        let mut bags = Vec::new();
        for (i, n) in names.iter().enumerate() {
            let d = Sha256Digest::of(&[i as u8]);
            bags.push(taken.name_for(Path::new(n), d));
        }
        let mut seen = std::collections::HashSet::new();
        for b in &bags {
            assert!(seen.insert(folded(b)), "{b} collides in {bags:?}");
            assert!(
                !b.ends_with(|c: char| c.is_whitespace() || c == '.'),
                "{b:?}"
            );
            assert_eq!(b.nfc().collect::<String>(), *b, "{b:?} is NFC");
        }
        assert_eq!(bags[0], "data/case/Case.TXT");
        assert_eq!(bags[8], "data/case/notes_");
        // A pre-planted `<prefix>-name` cannot take the name a collision needs.
        let mut taken = CaseNames::default();
        let (x, y) = (Sha256Digest::of(b"x"), Sha256Digest::of(b"y"));
        let planted = format!("{}-a.txt", &y.to_hex()[..12]);
        let p1 = taken.name_for(Path::new("a.txt"), x);
        let p2 = taken.name_for(Path::new(&planted), x);
        let p3 = taken.name_for(Path::new("A.TXT"), y);
        assert_eq!(
            [p1, p2.clone()],
            ["data/case/a.txt".to_owned(), format!("data/case/{planted}")]
        );
        assert_eq!(p3, format!("data/case/{}-A.TXT", y.to_hex()));
    }
}
