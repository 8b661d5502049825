//! The entries of a bag, wherever it is: files under a directory (walked without following a
//! link, each opened as the inode the walk found) or entries of a zip (under the bag folder, or
//! at the root). Every phase of the generic checks reads the bag through [`BagSource`] only.

use super::super::{Problem, Zip};
use crate::source::open::open_walked;
use crate::source::walk::{walk_entries, WalkEntry};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// One file of the bag: its bag path (`/`-separated, relative to the bag) and size.
#[derive(Debug, Clone)]
pub(crate) struct BagFile {
    pub rel: String,
    pub size: u64,
}

/// The files of a bag and a way to stream each one.
pub(crate) trait BagSource: Sync {
    fn files(&self) -> &[BagFile];
    /// Streams file `index` through `f`; what went wrong is a problem naming the file.
    fn read(
        &self,
        index: usize,
        f: &mut dyn FnMut(&mut dyn Read) -> io::Result<()>,
    ) -> Result<(), Problem>;
}

fn unreadable(rel: &str, e: impl std::fmt::Display) -> Problem {
    Problem::EntryUnreadable {
        entry: rel.to_owned(),
        message: e.to_string(),
    }
}

/// A bag directory, walked once; links, FIFOs, devices and names that are not UTF-8 are
/// problems (never followed, never read).
pub(crate) struct DirBag {
    files: Vec<BagFile>,
    /// Per file: its path and the (device, inode) the walk found.
    at: Vec<(PathBuf, u64, u64)>,
}

impl DirBag {
    pub fn walk(root: &Path) -> (DirBag, Vec<Problem>) {
        let mut bag = DirBag {
            files: Vec::new(),
            at: Vec::new(),
        };
        let mut problems = Vec::new();
        let rel_of = |p: &Path| -> Result<String, String> {
            let rel = p.strip_prefix(root).unwrap_or(p);
            rel.to_str()
                .map(str::to_owned)
                .ok_or_else(|| rel.to_string_lossy().into_owned())
        };
        walk_entries(&[root.to_path_buf()], true, |e| match e {
            WalkEntry::File(f) => match rel_of(&f.path) {
                Ok(rel) => {
                    bag.files.push(BagFile {
                        rel,
                        size: f.stat.size,
                    });
                    bag.at.push((f.path, f.stat.dev, f.stat.inode));
                }
                Err(lossy) => problems.push(Problem::UnsafeEntryName {
                    entry: lossy,
                    reason: "not UTF-8".into(),
                }),
            },
            WalkEntry::Skipped(s) => {
                let path = rel_of(&s.path).unwrap_or_else(|l| l);
                problems.push(Problem::NotRegularFile {
                    path,
                    detail: s.reason.to_string(),
                });
            }
        });
        (bag, problems)
    }
}

impl BagSource for DirBag {
    fn files(&self) -> &[BagFile] {
        &self.files
    }

    fn read(
        &self,
        index: usize,
        f: &mut dyn FnMut(&mut dyn Read) -> io::Result<()>,
    ) -> Result<(), Problem> {
        let rel = &self.files[index].rel;
        let (path, dev, ino) = &self.at[index];
        let (mut file, _) = open_walked(path, *dev, *ino).map_err(|e| unreadable(rel, e))?;
        f(&mut file).map_err(|e| unreadable(rel, e))
    }
}

/// The accepted entries of a zip (by the structure phase) under `prefix`.
pub(crate) struct ZipBag<'a> {
    za: &'a Zip,
    files: Vec<BagFile>,
    index: Vec<usize>,
}

impl<'a> ZipBag<'a> {
    /// `accepted`: zip indexes of the file entries to read; `prefix` is stripped from names.
    pub fn new(za: &'a Zip, prefix: &str, accepted: impl Iterator<Item = usize>) -> Self {
        let mut bag = ZipBag {
            za,
            files: Vec::new(),
            index: Vec::new(),
        };
        for i in accepted {
            let Ok(e) = za.by_index_data(i) else { continue };
            let raw = e.name_raw();
            let rel = String::from_utf8_lossy(raw.get(prefix.len()..).unwrap_or(raw)).into_owned();
            bag.files.push(BagFile {
                rel,
                size: e.size(),
            });
            bag.index.push(i);
        }
        bag
    }
}

impl BagSource for ZipBag<'_> {
    fn files(&self) -> &[BagFile] {
        &self.files
    }

    fn read(
        &self,
        index: usize,
        f: &mut dyn FnMut(&mut dyn Read) -> io::Result<()>,
    ) -> Result<(), Problem> {
        let file = &self.files[index];
        let mut za = self.za.clone();
        let mut entry = za
            .by_index(self.index[index])
            .map_err(|e| unreadable(&file.rel, e))?;
        let mut counted = CountingReader {
            inner: &mut entry,
            count: 0,
        };
        f(&mut counted).map_err(|e| unreadable(&file.rel, e))?;
        // Drain what the reader left, so the zip crate checks the CRC and the size.
        io::copy(&mut counted, &mut io::sink()).map_err(|e| unreadable(&file.rel, e))?;
        if counted.count != file.size {
            return Err(Problem::SizeMismatch {
                entry: file.rel.clone(),
                declared: file.size,
                actual: counted.count,
            });
        }
        Ok(())
    }
}

struct CountingReader<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}
