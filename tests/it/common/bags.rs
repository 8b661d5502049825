//! Bags for the verify tests: a zip's entries read and rewritten (valid CRCs, only the content
//! changed), and BagIt bags built from a file map with their manifests computed (any algorithm),
//! written as a directory, a zip with one top folder, or a zip with the bag at its root.

use sha2::Digest;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

pub type Entries = Vec<(String, Vec<u8>)>;

pub fn read_entries(zip: &Path) -> Entries {
    let mut za = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    (0..za.len())
        .map(|i| {
            let mut f = za.by_index(i).unwrap();
            let mut v = Vec::new();
            f.read_to_end(&mut v).unwrap();
            (f.name().unwrap().into_owned(), v)
        })
        .collect()
}

/// Writes `entries` as a new, well-formed zip (valid CRCs): only the bag content is altered.
pub fn write_entries(zip: &Path, entries: &Entries) {
    let mut zw = zip::ZipWriter::new(std::fs::File::create(zip).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .unix_permissions(0o644);
    for (name, bytes) in entries {
        zw.start_file(name.as_str(), opts).unwrap();
        zw.write_all(bytes).unwrap();
    }
    zw.finish().unwrap();
}

/// The bytes of the first entry whose name ends with `suffix`.
pub fn entry<'a>(e: &'a mut Entries, suffix: &str) -> &'a mut Vec<u8> {
    &mut e.iter_mut().find(|(n, _)| n.ends_with(suffix)).unwrap().1
}

pub fn tamper(zip: &Path, f: impl FnOnce(&mut Entries)) {
    let mut e = read_entries(zip);
    f(&mut e);
    write_entries(zip, &e);
}

/// Lower-case hex checksum of `bytes` by a BagIt algorithm name (md5, sha1, sha224, sha256,
/// sha512).
pub fn checksum(alg: &str, bytes: &[u8]) -> String {
    match alg {
        "md5" => hex::encode(md5::Md5::digest(bytes)),
        "sha1" => hex::encode(sha1::Sha1::digest(bytes)),
        "sha224" => hex::encode(sha2::Sha224::digest(bytes)),
        "sha256" => hex::encode(sha2::Sha256::digest(bytes)),
        "sha512" => hex::encode(sha2::Sha512::digest(bytes)),
        other => panic!("no algorithm {other}"),
    }
}

/// Manifest text: `<checksum>  <path>` per file, paths percent-encoded as RFC 8493 says.
pub fn manifest<'a>(alg: &str, files: impl Iterator<Item = (&'a String, &'a Vec<u8>)>) -> String {
    files
        .map(|(p, b)| {
            let enc = p
                .replace('%', "%25")
                .replace('\n', "%0A")
                .replace('\r', "%0D");
            format!("{}  {enc}\n", checksum(alg, b))
        })
        .collect()
}

/// A bag as a map of bag path to bytes.
#[derive(Clone, Debug)]
pub struct Bag {
    pub files: BTreeMap<String, Vec<u8>>,
    pub algs: Vec<&'static str>,
}

impl Bag {
    /// A complete, valid bag: bagit.txt of `version`, the payload, bag-info.txt (when given,
    /// with its Payload-Oxum appended), a payload manifest and a tag manifest per algorithm.
    pub fn new(
        version: &str,
        algs: &[&'static str],
        payload: &[(&str, &[u8])],
        info: Option<&str>,
    ) -> Bag {
        let mut bag = Bag {
            files: BTreeMap::new(),
            algs: algs.to_vec(),
        };
        bag.set(
            "bagit.txt",
            format!("BagIt-Version: {version}\nTag-File-Character-Encoding: UTF-8\n").as_bytes(),
        );
        for (p, b) in payload {
            bag.set(p, b);
        }
        if let Some(info) = info {
            let bytes: usize = payload.iter().map(|(_, b)| b.len()).sum();
            let text = format!("{info}Payload-Oxum: {bytes}.{}\n", payload.len());
            bag.set("bag-info.txt", text.as_bytes());
        }
        bag.remanifest();
        bag
    }

    pub fn set(&mut self, path: &str, bytes: &[u8]) -> &mut Self {
        self.files.insert(path.to_owned(), bytes.to_vec());
        self
    }

    pub fn text(&self, path: &str) -> String {
        String::from_utf8(self.files[path].clone()).unwrap()
    }

    /// Payload manifests (and bag-info.txt's Payload-Oxum, when it has one) from the data/
    /// files, then the tag manifests.
    pub fn remanifest(&mut self) -> &mut Self {
        if let Some(info) = self.files.get("bag-info.txt") {
            let payload = self.files.iter().filter(|(p, _)| p.starts_with("data/"));
            let (n, bytes) = payload.fold((0, 0), |(n, s), (_, b)| (n + 1, s + b.len()));
            let text: String = String::from_utf8_lossy(info)
                .lines()
                .map(|l| match l.starts_with("Payload-Oxum:") {
                    true => format!("Payload-Oxum: {bytes}.{n}\n"),
                    false => format!("{l}\n"),
                })
                .collect();
            self.set("bag-info.txt", text.as_bytes());
        }
        for alg in self.algs.clone() {
            let text = manifest(
                alg,
                self.files.iter().filter(|(p, _)| p.starts_with("data/")),
            );
            self.set(&format!("manifest-{alg}.txt"), text.as_bytes());
        }
        self.retag()
    }

    /// Tag manifests over every tag file (all but data/ and the tag manifests themselves).
    pub fn retag(&mut self) -> &mut Self {
        self.files.retain(|p, _| !p.starts_with("tagmanifest-"));
        for alg in self.algs.clone() {
            let text = manifest(
                alg,
                self.files.iter().filter(|(p, _)| !p.starts_with("data/")),
            );
            self.set(&format!("tagmanifest-{alg}.txt"), text.as_bytes());
        }
        self
    }

    pub fn write_dir(&self, dir: &Path) {
        for (p, b) in &self.files {
            let at = dir.join(p);
            std::fs::create_dir_all(at.parent().unwrap()).unwrap();
            std::fs::write(at, b).unwrap();
        }
    }

    /// A zip of the bag, in folder `folder` (our layout) or at the root (`None`).
    pub fn write_zip(&self, zip: &Path, folder: Option<&str>) {
        let entries: Entries = self
            .files
            .iter()
            .map(|(p, b)| match folder {
                Some(f) => (format!("{f}/{p}"), b.clone()),
                None => (p.clone(), b.clone()),
            })
            .collect();
        write_entries(zip, &entries);
    }
}
