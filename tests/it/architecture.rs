//! The layout rules of ARCHITECTURE.md, checked on the source itself: no function in `src/` is
//! longer than 150 lines, and no two modules import each other (directly or around a loop),
//! parent and child modules aside.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use syn::spanned::Spanned;
use syn::visit::Visit;

const MAX_FUNCTION_LINES: usize = 150;

/// Every `.rs` file under `src/` with its module path (`bundle::verify`, `lib` and `main` as is).
fn source_files() -> Vec<(String, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(&root).unwrap().with_extension("");
                let mut parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if parts.last().map(String::as_str) == Some("mod") {
                    parts.pop();
                }
                out.push((parts.join("::"), p));
            }
        }
    }
    out.sort();
    out
}

struct LongFunctions<'a> {
    file: &'a Path,
    found: Vec<String>,
}

impl LongFunctions<'_> {
    fn check(&mut self, name: &syn::Ident, span: proc_macro2::Span) {
        let lines = span.end().line - span.start().line + 1;
        if lines > MAX_FUNCTION_LINES {
            self.found.push(format!(
                "{}:{} fn {name}: {lines} lines",
                self.file.display(),
                span.start().line
            ));
        }
    }
}

impl<'ast> Visit<'ast> for LongFunctions<'_> {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.check(&f.sig.ident, f.span());
        syn::visit::visit_item_fn(self, f);
    }
    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.check(&f.sig.ident, f.span());
        syn::visit::visit_impl_item_fn(self, f);
    }
    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        self.check(&f.sig.ident, f.span());
        syn::visit::visit_trait_item_fn(self, f);
    }
}

#[test]
fn no_function_in_src_is_longer_than_150_lines() {
    let mut found = Vec::new();
    for (_, path) in source_files() {
        let file = syn::parse_file(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut v = LongFunctions {
            file: &path,
            found: Vec::new(),
        };
        v.visit_file(&file);
        found.extend(v.found);
    }
    assert!(
        found.is_empty(),
        "functions over {MAX_FUNCTION_LINES} lines (split them into named phases):\n{}",
        found.join("\n")
    );
}

/// Module paths named by `crate::…` and `super::…` paths in a file's non-test code.
struct Imports {
    module: String,
    paths: BTreeSet<Vec<String>>,
}

impl<'ast> Visit<'ast> for Imports {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        let is_test = m
            .attrs
            .iter()
            .any(|a| a.path().is_ident("cfg") && a.meta.to_token_stream_string().contains("test"));
        if !is_test {
            syn::visit::visit_item_mod(self, m);
        }
    }
    fn visit_path(&mut self, p: &'ast syn::Path) {
        self.record(p.segments.iter().map(|s| s.ident.to_string()).collect());
        syn::visit::visit_path(self, p);
    }
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let mut prefix = Vec::new();
        self.use_tree(&u.tree, &mut prefix);
    }
}

trait MetaText {
    fn to_token_stream_string(&self) -> String;
}

impl MetaText for syn::Meta {
    fn to_token_stream_string(&self) -> String {
        quote::ToTokens::to_token_stream(self).to_string()
    }
}

impl Imports {
    fn use_tree(&mut self, t: &syn::UseTree, prefix: &mut Vec<String>) {
        match t {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(&p.tree, prefix);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let mut full = prefix.clone();
                full.push(n.ident.to_string());
                self.record(full);
            }
            syn::UseTree::Rename(r) => {
                let mut full = prefix.clone();
                full.push(r.ident.to_string());
                self.record(full);
            }
            syn::UseTree::Glob(_) => self.record(prefix.clone()),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(t, prefix);
                }
            }
        }
    }

    /// Resolves `crate::` and `super::` to an absolute module path.
    fn record(&mut self, segs: Vec<String>) {
        let Some(first) = segs.first() else { return };
        let absolute: Vec<String> = match first.as_str() {
            "crate" => segs[1..].to_vec(),
            "super" => {
                let mut base: Vec<String> = self.module.split("::").map(str::to_string).collect();
                let mut rest = &segs[..];
                while rest.first().map(String::as_str) == Some("super") {
                    base.pop();
                    rest = &rest[1..];
                }
                base.extend(rest.iter().cloned());
                base
            }
            _ => return,
        };
        self.paths.insert(absolute);
    }
}

#[test]
fn no_import_cycle_between_modules() {
    let files = source_files();
    let modules: BTreeSet<String> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, path) in &files {
        if module == "lib" || module == "main" {
            continue;
        }
        let file = syn::parse_file(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut v = Imports {
            module: module.clone(),
            paths: BTreeSet::new(),
        };
        v.visit_file(&file);
        for p in v.paths {
            // The longest prefix that is a module of ours.
            let target = (1..=p.len())
                .rev()
                .map(|k| p[..k].join("::"))
                .find(|m| modules.contains(m));
            if let Some(t) = target {
                let related = t == *module
                    || module.starts_with(&format!("{t}::"))
                    || t.starts_with(&format!("{module}::"));
                if !related {
                    edges.entry(module.clone()).or_default().insert(t);
                }
            }
        }
    }
    // A cycle is a module that reaches itself.
    let mut cycles = Vec::new();
    for start in edges.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<Vec<String>> = vec![vec![start.clone()]];
        while let Some(route) = stack.pop() {
            let last = route.last().unwrap();
            for next in edges.get(last).into_iter().flatten() {
                if next == start {
                    cycles.push(format!("{} -> {start}", route.join(" -> ")));
                } else if seen.insert(next.clone()) {
                    let mut r = route.clone();
                    r.push(next.clone());
                    stack.push(r);
                }
            }
        }
    }
    cycles.sort();
    cycles.dedup();
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}
