//! BagIt 1.0 (RFC 8493) text: `bagit.txt`, `bag-info.txt`, manifest lines and their path
//! encoding, written by the bundle writer and parsed back by the verifier.

use crate::model::digest::Sha256Digest;

/// The exact `bagit.txt` this tool writes.
pub const BAGIT_TXT: &str = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
pub const BAGIT_TXT_NAME: &str = "bagit.txt";
pub const BAG_INFO_NAME: &str = "bag-info.txt";
pub const MANIFEST_NAME: &str = "manifest-sha256.txt";
pub const TAG_MANIFEST_NAME: &str = "tagmanifest-sha256.txt";

/// Encodes a path for a manifest line (RFC 8493 §2.1.3): `%` → `%25`, LF → `%0A`, CR → `%0D`.
pub fn encode_manifest_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\n' => out.push_str("%0A"),
            '\r' => out.push_str("%0D"),
            c => out.push(c),
        }
    }
    out
}

/// Reverses [`encode_manifest_path`]. Only the three RFC escapes are decoded (either case);
/// any other `%xx` is kept as written, as bagit-python does.
pub fn decode_manifest_path(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut rest = encoded;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let esc = rest.get(i..i + 3).map(|s| s.to_ascii_uppercase());
        match esc.as_deref() {
            Some("%25") => out.push('%'),
            Some("%0A") => out.push('\n'),
            Some("%0D") => out.push('\r'),
            _ => {
                out.push('%');
                rest = &rest[i + 1..];
                continue;
            }
        }
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    out
}

/// Renders a manifest: one `<hex>  <encoded path>` line per entry, sorted by path bytes.
pub fn render_manifest(entries: &[(String, Sha256Digest)]) -> String {
    let mut sorted: Vec<_> = entries.iter().collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = String::new();
    for (path, digest) in sorted {
        out.push_str(&digest.to_hex());
        out.push_str("  ");
        out.push_str(&encode_manifest_path(path));
        out.push('\n');
    }
    out
}

/// One manifest line that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ManifestLineError {
    pub line: usize,
    pub message: String,
}

/// Parses manifest text into (decoded path, digest) pairs, in file order.
pub fn parse_manifest(text: &str) -> Result<Vec<(String, Sha256Digest)>, ManifestLineError> {
    let mut out = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        if let Some(entry) = parse_manifest_line(i + 1, raw)? {
            out.push(entry);
        }
    }
    Ok(out)
}

/// Parses one manifest line (`number` is 1-based, `raw` has no `\n`): `None` for a blank line.
/// The verifier feeds it line by line, so a manifest of any length is read in little memory.
pub fn parse_manifest_line(
    number: usize,
    raw: &str,
) -> Result<Option<(String, Sha256Digest)>, ManifestLineError> {
    let line = raw.strip_suffix('\r').unwrap_or(raw);
    if line.trim().is_empty() {
        return Ok(None);
    }
    let err = |message: &str| ManifestLineError {
        line: number,
        message: message.to_owned(),
    };
    let (hex, path) = line
        .split_once([' ', '\t'])
        .ok_or_else(|| err("expected `<checksum> <path>`"))?;
    let path = path.trim_start_matches([' ', '\t']);
    if path.is_empty() {
        return Err(err("missing path"));
    }
    let digest = Sha256Digest::from_hex(hex)
        .filter(|_| hex.len() == 64)
        .ok_or_else(|| err("checksum is not 64 hex characters"))?;
    Ok(Some((decode_manifest_path(path), digest)))
}

/// The metadata of `bag-info.txt` this tool writes (fields with no value are omitted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BagInfo {
    pub external_identifier: String,
    pub contact_name: Option<String>,
    pub source_organization: Option<String>,
    /// `YYYY-MM-DD`.
    pub bagging_date: String,
    pub payload_octets: u64,
    pub payload_streams: u64,
    pub software_agent: String,
    pub incident_type: Option<String>,
    pub severity: Option<String>,
}

impl BagInfo {
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut field = |label: &str, value: Option<&str>| {
            if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
                // Tag values must not span lines unless continued; fold any line break to a space.
                let v = v.replace(['\r', '\n'], " ");
                out.push_str(&format!("{label}: {v}\n"));
            }
        };
        field("External-Identifier", Some(&self.external_identifier));
        field("Contact-Name", self.contact_name.as_deref());
        field("Source-Organization", self.source_organization.as_deref());
        field("Bagging-Date", Some(&self.bagging_date));
        field(
            "Payload-Oxum",
            Some(&format!("{}.{}", self.payload_octets, self.payload_streams)),
        );
        field("Bag-Software-Agent", Some(&self.software_agent));
        field("Incident-Type", self.incident_type.as_deref());
        field("Severity", self.severity.as_deref());
        out
    }
}

/// Parses tag-file text of `Label: value` lines (continuation lines start with whitespace)
/// into (label, value) pairs in order. Returns the 1-based number of a line that is neither.
pub fn parse_tag_file(text: &str) -> Result<Vec<(String, String)>, usize> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            match out.last_mut() {
                Some((_, v)) => {
                    v.push(' ');
                    v.push_str(line.trim());
                }
                None => return Err(i + 1),
            }
            continue;
        }
        let (label, value) = line.split_once(':').ok_or(i + 1)?;
        out.push((label.trim().to_owned(), value.trim().to_owned()));
    }
    Ok(out)
}

/// Parses a `Payload-Oxum` value `octets.streams`.
pub fn parse_oxum(value: &str) -> Option<(u64, u64)> {
    let (a, b) = value.trim().split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_paths_use_the_rfc_escapes_and_round_trip() {
        let p = "data/case/100% sure\nreally\r.txt";
        let e = encode_manifest_path(p);
        assert_eq!(e, "data/case/100%25 sure%0Areally%0D.txt");
        assert_eq!(decode_manifest_path(&e), p);
        assert_eq!(decode_manifest_path("a%0a%2F%"), "a\n%2F%");
    }

    #[test]
    fn manifest_renders_sorted_and_parses_back() {
        let d = Sha256Digest::of(b"x");
        let text = render_manifest(&[("data/b c".into(), d), ("data/a%".into(), d)]);
        assert_eq!(text, format!("{d}  data/a%25\n{d}  data/b c\n"));
        let parsed = parse_manifest(&text).unwrap();
        assert_eq!(parsed[0].0, "data/a%");
        assert_eq!(parsed[1].0, "data/b c");
        let e = parse_manifest("zz data/x\n").unwrap_err();
        assert_eq!(e.line, 1);
    }

    /// The verifier reads a manifest line by line, each made lossy UTF-8 on its own; that must
    /// parse as the whole text made lossy and then split did.
    #[test]
    fn line_by_line_parsing_equals_parsing_the_whole_lossy_text() {
        let d = Sha256Digest::of(b"x").to_hex();
        let pieces: [&[u8]; 12] = [
            d.as_bytes(),
            b"  ",
            b"\t",
            b"data/a",
            b"%0A",
            b"\n",
            b"\r\n",
            b"\xff",
            b"\xe2\x82",
            b"\xc3\xa9",
            b"\xe3\x80\x80",
            b"zz",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..5_000 {
            let mut text = Vec::new();
            for _ in 0..seed % 24 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                text.extend_from_slice(pieces[(seed % 12) as usize]);
            }
            let whole = parse_manifest(&String::from_utf8_lossy(&text));
            let by_line: Result<Vec<_>, _> = text
                .split(|&b| b == b'\n')
                .enumerate()
                .filter_map(|(i, l)| {
                    parse_manifest_line(i + 1, &String::from_utf8_lossy(l)).transpose()
                })
                .collect();
            assert_eq!(by_line, whole, "{:?}", String::from_utf8_lossy(&text));
        }
    }

    #[test]
    fn bag_info_omits_empty_fields_and_parses_back() {
        let info = BagInfo {
            external_identifier: "IR-1".into(),
            contact_name: Some("A. Examiner".into()),
            bagging_date: "2026-11-25".into(),
            payload_octets: 10,
            payload_streams: 2,
            software_agent: "wsc-forensics 0.1.0".into(),
            severity: Some("high".into()),
            ..Default::default()
        };
        let text = info.render();
        assert!(!text.contains("Source-Organization"));
        let tags = parse_tag_file(&text).unwrap();
        let oxum = tags.iter().find(|(l, _)| l == "Payload-Oxum").unwrap();
        assert_eq!(parse_oxum(&oxum.1), Some((10, 2)));
        assert_eq!(parse_tag_file("no colon here"), Err(1));
    }
}
