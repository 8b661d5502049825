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
    let Some((hex, path)) = split_manifest_line(number, line, 64)? else {
        return Ok(None);
    };
    let digest = Sha256Digest::from_hex(hex).ok_or_else(|| ManifestLineError {
        line: number,
        message: "checksum is not 64 hex characters".to_owned(),
    })?;
    Ok(Some((path, digest)))
}

/// Splits one manifest line (no line end) into its checksum, checked to be `hex_len` hex
/// characters, and its decoded path: `None` for a blank line. The one reading of the
/// `<checksum> <whitespace> <path>` syntax, for the SHA-256 manifests of our bundles and the
/// manifests of any algorithm of any bag.
fn split_manifest_line(
    number: usize,
    line: &str,
    hex_len: usize,
) -> Result<Option<(&str, String)>, ManifestLineError> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    let err = |message: String| ManifestLineError {
        line: number,
        message,
    };
    let (hex, path) = line
        .split_once([' ', '\t'])
        .ok_or_else(|| err("expected `<checksum> <path>`".into()))?;
    let path = path.trim_start_matches([' ', '\t']);
    if path.is_empty() {
        return Err(err("missing path".into()));
    }
    if hex.len() != hex_len || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(err(format!("checksum is not {hex_len} hex characters")));
    }
    Ok(Some((hex, decode_manifest_path(path))))
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

/// BagIt versions this verifier knows: those of the Library of Congress conformance suite,
/// 0.93 to 1.0 (RFC 8493).
pub const KNOWN_VERSIONS: [&str; 6] = ["0.93", "0.94", "0.95", "0.96", "0.97", "1.0"];

/// What a bag's `bagit.txt` declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BagitDeclaration {
    pub version: String,
    pub encoding: String,
}

/// Splits text at LF, CRLF or CR; a last line end is optional (no empty last line).
fn text_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.split('\n').collect();
    if lines.last() == Some(&"") {
        lines.pop();
    }
    let mut out = Vec::with_capacity(lines.len());
    for l in lines {
        let l = l.strip_suffix('\r').unwrap_or(l);
        out.extend(l.split('\r'));
    }
    out
}

/// Parses `bagit.txt` exactly (RFC 8493 §2.1.1): UTF-8 with no byte-order mark, two lines,
/// `BagIt-Version: M.N` then `Tag-File-Character-Encoding: ENCODING`, each label followed by
/// exactly `: ` and a value with no whitespace around it. The error is a sentence for the
/// examiner, quoting the bag's own words.
pub fn parse_bagit_txt(bytes: &[u8]) -> Result<BagitDeclaration, String> {
    if bytes.starts_with(b"\xef\xbb\xbf") {
        return Err("starts with a byte-order mark, which BagIt forbids".into());
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "is not UTF-8".to_owned())?;
    let lines = text_lines(text);
    if lines.len() != 2 {
        return Err(format!(
            "has {} line(s); BagIt calls for exactly two (BagIt-Version, Tag-File-Character-Encoding)",
            lines.len()
        ));
    }
    let field = |line: &str, label: &str| -> Result<String, String> {
        let value = line
            .strip_prefix(label)
            .and_then(|rest| rest.strip_prefix(": "))
            .filter(|v| !v.is_empty() && v.trim() == *v)
            .ok_or_else(|| format!("line `{line}` is not `{label}: <value>` exactly"))?;
        Ok(value.to_owned())
    };
    let version = field(lines[0], "BagIt-Version")?;
    let encoding = field(lines[1], "Tag-File-Character-Encoding")?;
    let well_formed = version.split_once('.').is_some_and(|(a, b)| {
        !a.is_empty() && !b.is_empty() && (a.bytes().chain(b.bytes())).all(|c| c.is_ascii_digit())
    });
    if !well_formed {
        return Err(format!("BagIt-Version {version} is not of the form M.N"));
    }
    if !KNOWN_VERSIONS.contains(&version.as_str()) {
        return Err(format!(
            "BagIt-Version {version} is not a version this verifier knows (0.93 to 1.0)"
        ));
    }
    Ok(BagitDeclaration { version, encoding })
}

/// Decodes a tag file (bag-info.txt, manifests, fetch.txt) in the bag's declared
/// Tag-File-Character-Encoding: UTF-8, US-ASCII, ISO-8859-1, UTF-16 (byte-order mark, else big
/// endian), UTF-16BE, UTF-16LE. Any other encoding cannot be read, which is an error.
pub fn decode_tag_text(bytes: &[u8], encoding: &str) -> Result<String, String> {
    let enc = encoding.to_ascii_uppercase().replace('_', "-");
    let utf16 = |bytes: &[u8], big: bool| -> Result<String, String> {
        if !bytes.len().is_multiple_of(2) {
            return Err(format!("odd number of bytes for {encoding}"));
        }
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| {
                if big {
                    u16::from_be_bytes([c[0], c[1]])
                } else {
                    u16::from_le_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16(&units).map_err(|_| format!("not valid {encoding}"))
    };
    match enc.as_str() {
        "UTF-8" | "UTF8" => std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| "not valid UTF-8".into()),
        "US-ASCII" | "ASCII" if bytes.is_ascii() => Ok(String::from_utf8_lossy(bytes).into_owned()),
        "US-ASCII" | "ASCII" => Err("not US-ASCII".into()),
        "ISO-8859-1" | "LATIN1" | "LATIN-1" | "ISO8859-1" => {
            Ok(bytes.iter().map(|&b| char::from(b)).collect())
        }
        "UTF-16" => match bytes {
            [0xfe, 0xff, rest @ ..] => utf16(rest, true),
            [0xff, 0xfe, rest @ ..] => utf16(rest, false),
            _ => utf16(bytes, true),
        },
        "UTF-16BE" => utf16(bytes.strip_prefix(&[0xfe, 0xff]).unwrap_or(bytes), true),
        "UTF-16LE" => utf16(bytes.strip_prefix(&[0xff, 0xfe]).unwrap_or(bytes), false),
        _ => Err(format!(
            "Tag-File-Character-Encoding {encoding} is not one this verifier can decode"
        )),
    }
}

/// One line of a manifest of any algorithm, as written: the checksum (lower case) and the path
/// (percent-escapes decoded, any leading `*` or `./` kept for the caller to judge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnyManifestLine {
    pub line: usize,
    pub checksum: String,
    pub path: String,
}

/// Parses manifest text of an algorithm whose checksums are `hex_len` hex characters: one
/// `<checksum> <whitespace> <path>` per line (blank lines skipped).
pub fn parse_any_manifest(
    text: &str,
    hex_len: usize,
) -> Result<Vec<AnyManifestLine>, ManifestLineError> {
    let mut out = Vec::new();
    for (i, line) in text_lines(text).into_iter().enumerate() {
        if let Some((hex, path)) = split_manifest_line(i + 1, line, hex_len)? {
            out.push(AnyManifestLine {
                line: i + 1,
                checksum: hex.to_ascii_lowercase(),
                path,
            });
        }
    }
    Ok(out)
}

/// One line of `fetch.txt`: `URL LENGTH PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchLine {
    pub line: usize,
    pub url: String,
    pub length: Option<u64>,
    pub path: String,
}

/// Parses `fetch.txt` (RFC 8493 §2.2.3). Each URL must be http, https or ftp with a host, the
/// length a number or `-`; the path is checked by the caller ([`unsafe_bag_path`]).
pub fn parse_fetch(text: &str) -> Result<Vec<FetchLine>, ManifestLineError> {
    let mut out = Vec::new();
    for (i, line) in text_lines(text).into_iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let err = |message: String| ManifestLineError {
            line: i + 1,
            message,
        };
        let mut rest = line;
        let mut token = || {
            let t = rest.trim_start_matches([' ', '\t']);
            let end = t.find([' ', '\t']).unwrap_or(t.len());
            rest = &t[end..];
            &t[..end]
        };
        let (url, length) = (token(), token());
        let path = rest.trim_start_matches([' ', '\t']);
        if path.is_empty() {
            return Err(err("expected `<url> <length> <path>`".into()));
        }
        if let Some(why) = unsafe_url(url) {
            return Err(err(format!("URL {url} refused: {why}")));
        }
        let length = match length {
            "-" => None,
            n => Some(
                n.parse()
                    .map_err(|_| err(format!("length {n} is neither a number nor -")))?,
            ),
        };
        out.push(FetchLine {
            line: i + 1,
            url: url.to_owned(),
            length,
            path: decode_manifest_path(path),
        });
    }
    Ok(out)
}

/// Why a fetch URL is refused: only http, https and ftp URLs with a host are fetchable.
fn unsafe_url(url: &str) -> Option<&'static str> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Some("not an absolute URL");
    };
    if !["http", "https", "ftp"].contains(&scheme.to_ascii_lowercase().as_str()) {
        return Some("scheme other than http, https or ftp");
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() {
        return Some("no host");
    }
    if url.chars().any(char::is_control) {
        return Some("contains a control character");
    }
    None
}

/// Why a path written in a manifest or fetch.txt is unsafe, judged on the text as written: it
/// must stay inside the bag on every system (relative, no `.`/`..`/empty components, no home
/// directory shortcut, no drive letter or backslash, no NUL).
pub fn unsafe_bag_path(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        return Some("empty");
    }
    if path.starts_with('/') {
        return Some("absolute path");
    }
    if path.starts_with('~') {
        return Some("home-directory shortcut");
    }
    if path.contains('\0') {
        return Some("contains NUL");
    }
    if path.contains('\\') {
        return Some("contains a backslash (a separator on Windows)");
    }
    let b = path.as_bytes();
    if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
        return Some("drive letter");
    }
    for comp in path.split('/') {
        match comp {
            "" => return Some("empty path component"),
            "." => return Some("`.` path component"),
            ".." => return Some("`..` path component (outside the bag)"),
            _ => {}
        }
    }
    None
}

/// Parses bag-info.txt leniently as RFC 8493 §2.2.2 allows: labels may have whitespace before
/// the colon, values are trimmed, a line starting with whitespace continues the value before
/// (folded values), labels may repeat. Returns the 1-based number of a line that is neither.
pub fn parse_bag_info(text: &str) -> Result<Vec<(String, String)>, usize> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, line) in text_lines(text).into_iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            match out.last_mut() {
                Some((_, v)) => {
                    if !v.is_empty() {
                        v.push(' ');
                    }
                    v.push_str(line.trim());
                }
                None => return Err(i + 1),
            }
            continue;
        }
        let (label, value) = line.split_once(':').ok_or(i + 1)?;
        let label = label.trim_end();
        if label.is_empty() || label.contains(char::is_whitespace) {
            return Err(i + 1);
        }
        out.push((label.to_owned(), value.trim().to_owned()));
    }
    Ok(out)
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

    #[test]
    fn bagit_txt_is_parsed_exactly() {
        let ok =
            parse_bagit_txt(b"BagIt-Version: 0.97\r\nTag-File-Character-Encoding: UTF-8").unwrap();
        assert_eq!(ok.version, "0.97");
        for (bad, why) in [
            (
                &b"BagIt-Version : 1.0\nTag-File-Character-Encoding : UTF-8\n"[..],
                "`BagIt-Version : 1.0`",
            ),
            (
                b"\xef\xbb\xbfBagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n",
                "byte-order mark",
            ),
            (
                b"BagIt-Version: .97\nTag-File-Character-Encoding: UTF-8\n",
                "BagIt-Version .97 is not",
            ),
            (
                b"BagIt-Version: 1.0 \nTag-File-Character-Encoding: UTF-8\n",
                "`BagIt-Version: 1.0 `",
            ),
            (b"BagIt-Version: 0.97\n", "1 line(s)"),
            (
                b"BagIt-Version: 2.0\nTag-File-Character-Encoding: UTF-8\n",
                "BagIt-Version 2.0 is not a version",
            ),
        ] {
            let e = parse_bagit_txt(bad).unwrap_err();
            assert!(e.contains(why), "{e}");
            assert!(!e.contains("Some("), "{e}");
        }
    }

    #[test]
    fn fetch_lines_and_paths_are_judged() {
        let f = parse_fetch("http://h/x - data/a b\r\nftp://h/y 12 data/c%0Ad\n").unwrap();
        assert_eq!(f[0].path, "data/a b");
        assert_eq!((f[1].length, f[1].path.as_str()), (Some(12), "data/c\nd"));
        assert!(parse_fetch("file:///etc/passwd - data/x\n").is_err());
        assert!(parse_fetch("javascript:x - data/x\n").is_err());
        assert!(parse_fetch("http:// - data/x\n").is_err());
        for p in [
            "../../../README.md",
            "/tmp/test.txt",
            "~/x",
            "~root/foo",
            "data/./x",
            "a\\b",
            "C:x",
            "data//x",
        ] {
            assert!(unsafe_bag_path(p).is_some(), "{p}");
        }
        assert_eq!(unsafe_bag_path("data/%7Edir/x y"), None);
    }

    #[test]
    fn tag_text_decodes_in_the_declared_encoding() {
        assert_eq!(decode_tag_text(b"\xe9", "ISO-8859-1").unwrap(), "é");
        assert_eq!(decode_tag_text(b"\xfe\xff\x00a", "UTF-16").unwrap(), "a");
        assert_eq!(decode_tag_text(b"\xff\xfea\x00", "utf-16").unwrap(), "a");
        assert!(decode_tag_text(b"\xe9", "UTF-8").is_err());
        assert!(decode_tag_text(b"x", "EBCDIC").is_err());
    }

    #[test]
    fn bag_info_allows_folded_repeated_and_spaced_labels() {
        let t = parse_bag_info("A : 1\nA:   2\nB: x\n   y\n").unwrap();
        assert_eq!(
            t,
            vec![
                ("A".into(), "1".into()),
                ("A".into(), "2".into()),
                ("B".into(), "x y".into())
            ]
        );
        assert_eq!(parse_bag_info("no colon"), Err(1));
        assert_eq!(parse_bag_info("  leading continuation"), Err(1));
    }
}
