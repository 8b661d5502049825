//! The minijinja environment that renders report templates: built-in templates and runbook
//! tables from `report-templates/`, overridable by file name from a `--templates DIR`, a fuel
//! limit so a user template cannot run forever, and an output formatter that Markdown-escapes
//! every value.

use super::escape::{escape_block, escape_inline, MAX_VALUE_CHARS};
use super::runbook::{Runbook, RunbookError, BUILTIN_RUNBOOK, RUNBOOK_FILE};
use crate::io::bounded_read::{read_regular_file, BoundedReadError};
use minijinja::value::Value;
use minijinja::{Environment, Error, UndefinedBehavior};
use std::collections::BTreeMap;
use std::path::Path;

/// Instruction budget of one template render. A 10,000-event timeline needs well under a
/// million; the limit only stops runaway user templates (`{% for i in range(10**9) %}`).
pub const TEMPLATE_FUEL: u64 = 50_000_000;

/// Largest output of one template render, in bytes. A 10,000-event timeline report is about
/// 3 MiB; the bound only stops a template that prints without end (fuel counts steps, and one
/// step can print 100 MB).
pub const MAX_OUTPUT_BYTES: usize = 64 << 20;

/// Largest template file read from a `--templates` directory.
pub const MAX_TEMPLATE_BYTES: u64 = 1 << 20;

/// The built-in templates (file name, source). Reports are the `.md.j2` files not starting
/// with `_`; `_header.md.j2` is included by each of them.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "_header.md.j2",
        include_str!("../../report-templates/_header.md.j2"),
    ),
    (
        "_external_header.md.j2",
        include_str!("../../report-templates/_external_header.md.j2"),
    ),
    (
        "incident-timeline.md.j2",
        include_str!("../../report-templates/incident-timeline.md.j2"),
    ),
    (
        "root-cause-analysis.md.j2",
        include_str!("../../report-templates/root-cause-analysis.md.j2"),
    ),
    (
        "key-compromise-notification.md.j2",
        include_str!("../../report-templates/key-compromise-notification.md.j2"),
    ),
    (
        "security-advisory.md.j2",
        include_str!("../../report-templates/security-advisory.md.j2"),
    ),
    (
        "metrics.md.j2",
        include_str!("../../report-templates/metrics.md.j2"),
    ),
];

/// The key-compromise notice's template: rendered only when a key compromise is declared.
pub const KEY_NOTICE: &str = "key-compromise-notification.md.j2";

/// The reports rendered by default, in order (template names).
pub fn report_template_names() -> Vec<&'static str> {
    BUILTIN
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| !n.starts_with('_'))
        .collect()
}

/// A template that could not be loaded or rendered.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("{path}: template file is {size} bytes, over the {max}-byte limit")]
    TooLarge { path: String, size: u64, max: u64 },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: template is not valid UTF-8")]
    NotUtf8 { path: String },
    #[error(transparent)]
    Runbook(#[from] RunbookError),
    #[error("template {template}: output passed the {max}-byte limit; rendering stopped")]
    OutputTooLarge { template: String, max: usize },
    #[error("template {template}{}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Template {
        template: String,
        line: Option<usize>,
        message: String,
    },
}

impl TemplateError {
    fn from_minijinja(fallback_name: &str, e: &Error) -> Self {
        let mut message = e.kind().to_string();
        if let Some(d) = e.detail() {
            message.push_str(": ");
            message.push_str(d);
        }
        TemplateError::Template {
            template: e.name().unwrap_or(fallback_name).to_owned(),
            line: e.line(),
            message,
        }
    }
}

/// The template sources in use: built-ins, with any overrides applied.
#[derive(Clone, Debug)]
pub struct TemplateSet {
    sources: BTreeMap<String, String>,
    /// The runbook tables' source and where it came from (for errors).
    runbook: (String, String),
    overridden: Vec<String>,
    fuel: u64,
    max_output: usize,
}

impl Default for TemplateSet {
    fn default() -> Self {
        Self::builtin()
    }
}

impl TemplateSet {
    /// The built-in templates only.
    pub fn builtin() -> Self {
        TemplateSet {
            sources: BUILTIN
                .iter()
                .map(|(n, s)| ((*n).to_owned(), (*s).to_owned()))
                .collect(),
            runbook: (
                BUILTIN_RUNBOOK.to_owned(),
                format!("report-templates/{RUNBOOK_FILE}"),
            ),
            overridden: vec![],
            fuel: TEMPLATE_FUEL,
            max_output: MAX_OUTPUT_BYTES,
        }
    }

    /// Sets the instruction budget of one render (default [`TEMPLATE_FUEL`]).
    pub fn with_fuel(mut self, fuel: u64) -> Self {
        self.fuel = fuel;
        self
    }

    /// Sets the largest output of one render (default [`MAX_OUTPUT_BYTES`]).
    pub fn with_max_output(mut self, bytes: usize) -> Self {
        self.max_output = bytes;
        self
    }

    /// The largest output of one render.
    pub fn max_output(&self) -> usize {
        self.max_output
    }

    /// Built-ins (templates and `runbook.toml`), each replaced by `dir/<same file name>` when
    /// that file exists.
    pub fn with_overrides(dir: &Path) -> Result<Self, TemplateError> {
        let mut set = Self::builtin();
        for (name, _) in BUILTIN {
            if let Some(text) = read_override(&dir.join(name))? {
                set.sources.insert((*name).to_owned(), text);
                set.overridden.push((*name).to_owned());
            }
        }
        let p = dir.join(RUNBOOK_FILE);
        if let Some(text) = read_override(&p)? {
            // Checked now, so a broken runbook fails before anything is written.
            Runbook::parse(&text, &p.display().to_string())?;
            set.runbook = (text, p.display().to_string());
            set.overridden.push(RUNBOOK_FILE.to_owned());
        }
        Ok(set)
    }

    /// The runbook tables in use.
    pub fn runbook(&self) -> Result<Runbook, TemplateError> {
        Ok(Runbook::parse(&self.runbook.0, &self.runbook.1)?)
    }

    /// Replaces one template's source (tests and embedding callers).
    pub fn set(&mut self, name: &str, source: impl Into<String>) {
        self.sources.insert(name.to_owned(), source.into());
        self.overridden.push(name.to_owned());
    }

    /// Names of the templates that were overridden.
    pub fn overridden(&self) -> &[String] {
        &self.overridden
    }

    /// Builds the rendering environment.
    pub fn environment(&self) -> Result<Environment<'static>, TemplateError> {
        let mut env = Environment::new();
        env.set_fuel(Some(self.fuel));
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .keep_trailing_newline(true)
                .build()
                .map_err(|e| TemplateError::from_minijinja("syntax", &e))?,
        );
        // HTML auto-escaping is off; this formatter is the Markdown equivalent, applied to every
        // `{{ … }}` whose value is not already marked safe by one of the filters below.
        env.set_formatter(|out, _state, value| {
            if value.is_safe() {
                write!(out, "{value}").map_err(Error::from)
            } else if value.is_none() || value.is_undefined() {
                out.write_str("unknown").map_err(Error::from)
            } else if let Some(s) = value.as_str() {
                out.write_str(&escape_inline(s)).map_err(Error::from)
            } else {
                out.write_str(&escape_inline(&value.to_string()))
                    .map_err(Error::from)
            }
        });
        env.add_filter("md", |v: Value| {
            Value::from_safe_string(escape_inline(&display(&v)))
        });
        env.add_filter("md_block", |v: Value| {
            Value::from_safe_string(escape_block(&display(&v)))
        });
        env.add_filter("code", |v: Value| {
            Value::from_safe_string(code_span(&display(&v)))
        });
        env.add_filter("short_hex", |v: Value| {
            Value::from_safe_string(escape_inline(&shorten_long_hex(&display(&v))))
        });
        env.add_filter("duration", |secs: i64| super::metrics::human_duration(secs));
        for (name, src) in &self.sources {
            env.add_template_owned(name.clone(), src.clone())
                .map_err(|e| TemplateError::from_minijinja(name, &e))?;
        }
        Ok(env)
    }
}

/// Shortest run of hex digits that [`shorten_long_hex`] shortens: a SHA-1 (40). Key ids (24 hex)
/// and short hashes stay whole.
const LONG_HEX: usize = 40;
/// Hex digits kept of a shortened run, as the reports' short hashes elsewhere.
const SHORT_HEX: usize = 12;

/// `s` with every run of [`LONG_HEX`] or more hex digits cut to its first [`SHORT_HEX`] and `…`.
/// Table cells are narrow: a full hash in one breaks mid-value in the PDF, and a value split
/// across lines cannot be searched for; the full text is printed where it has a line of its own.
pub fn shorten_long_hex(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= LONG_HEX {
            out.push_str(&run[..SHORT_HEX]);
            out.push('…');
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in s.chars() {
        if c.is_ascii_hexdigit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// The runs of [`LONG_HEX`] or more hex digits in `s`, in order: the values
/// [`shorten_long_hex`] cuts, for the report to print in full where each has a line of its own.
pub fn long_hex_runs(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_ascii_hexdigit())
        .filter(|run| run.len() >= LONG_HEX)
        .map(str::to_owned)
        .collect()
}

/// Reads one override file: `None` when it does not exist; a regular file of at most
/// [`MAX_TEMPLATE_BYTES`] of UTF-8 otherwise.
fn read_override(p: &Path) -> Result<Option<String>, TemplateError> {
    let path = p.display().to_string();
    let bytes = match read_regular_file(p, MAX_TEMPLATE_BYTES) {
        Ok(b) => b,
        Err(BoundedReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(None)
        }
        Err(BoundedReadError::TooLarge { size, max }) => {
            return Err(TemplateError::TooLarge { path, size, max })
        }
        Err(BoundedReadError::Io(e)) => return Err(TemplateError::Io { path, source: e }),
        Err(e @ BoundedReadError::NotRegularFile(_)) => {
            return Err(TemplateError::Io {
                path,
                source: std::io::Error::other(e.to_string()),
            })
        }
    };
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| TemplateError::NotUtf8 { path })
}

fn display(v: &Value) -> String {
    if v.is_none() || v.is_undefined() {
        "unknown".to_owned()
    } else if let Some(s) = v.as_str() {
        s.to_owned()
    } else {
        v.to_string()
    }
}

/// An inline code span holding `s` verbatim (control characters made visible, cut at
/// [`MAX_VALUE_CHARS`]): the fence is one backtick longer than the longest run inside. A value
/// holding `|` is escaped text instead, because a GFM table ends a cell at `|` even inside a
/// code span.
pub fn code_span(s: &str) -> String {
    if s.contains('|') {
        return escape_inline(s);
    }
    let clean: String = escape_inline_controls(s);
    let mut longest = 0;
    let mut run = 0;
    for c in clean.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    let pad = if clean.starts_with('`') || clean.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{clean}{pad}{fence}")
}

fn escape_inline_controls(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(MAX_VALUE_CHARS)
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
            '\u{7f}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => '\u{fffd}',
            c => c,
        })
        .collect();
    if s.chars().count() > MAX_VALUE_CHARS {
        out.push_str(" …");
    }
    out
}

/// A render's output buffer that refuses to grow past its bound, so a runaway template stops at
/// the first write over it instead of filling memory.
struct BoundedOutput {
    bytes: Vec<u8>,
    max: usize,
    over: bool,
}

impl std::io::Write for BoundedOutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len().saturating_add(buf.len()) > self.max {
            self.over = true;
            return Err(std::io::Error::other("report output bound reached"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Renders one template with `ctx` (output bounded by [`MAX_OUTPUT_BYTES`]); errors name the
/// template and line.
pub fn render(
    env: &Environment<'static>,
    name: &str,
    ctx: &Value,
) -> Result<String, TemplateError> {
    render_bounded(env, name, ctx, MAX_OUTPUT_BYTES)
}

/// Renders one template with `ctx`, stopping with [`TemplateError::OutputTooLarge`] once the
/// output would pass `max` bytes.
pub fn render_bounded(
    env: &Environment<'static>,
    name: &str,
    ctx: &Value,
    max: usize,
) -> Result<String, TemplateError> {
    let tmpl = env
        .get_template(name)
        .map_err(|e| TemplateError::from_minijinja(name, &e))?;
    let mut out = BoundedOutput {
        bytes: Vec::new(),
        max,
        over: false,
    };
    let rendered = tmpl.render_captured_to(ctx, &mut out).map(drop);
    if out.over {
        return Err(TemplateError::OutputTooLarge {
            template: name.to_owned(),
            max,
        });
    }
    rendered.map_err(|e| {
        // An error inside an included template names the included one.
        let mut inner: &Error = &e;
        while let Some(src) =
            std::error::Error::source(inner).and_then(|s| s.downcast_ref::<Error>())
        {
            inner = src;
        }
        if inner.line().is_some() {
            TemplateError::from_minijinja(name, inner)
        } else {
            TemplateError::from_minijinja(name, &e)
        }
    })?;
    // minijinja writes whole `str`s, so the bytes are UTF-8.
    String::from_utf8(out.bytes).map_err(|_| TemplateError::Template {
        template: name.to_owned(),
        line: None,
        message: "output is not UTF-8".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_hex_runs_are_shortened_and_short_ones_kept() {
        let h64 = "6ca99a86d85ce2e9b364185d4e4579e52982e1906e44f978f0064454c88237c8";
        assert_eq!(
            shorten_long_hex(&format!("module's {h64}: x")),
            "module's 6ca99a86d85c…: x"
        );
        // A key id (24 hex) and a 39-digit run stay whole; 40 is shortened.
        let id = "c858d5ec82d976c190cb33d0";
        assert_eq!(shorten_long_hex(id), id);
        assert_eq!(shorten_long_hex(&"a".repeat(39)), "a".repeat(39));
        assert_eq!(
            shorten_long_hex(&"b".repeat(40)),
            format!("{}…", "b".repeat(12))
        );
        assert_eq!(shorten_long_hex(&format!("({h64})")), "(6ca99a86d85c…)");
        assert_eq!(shorten_long_hex("héllo"), "héllo");
        assert_eq!(
            long_hex_runs(&format!("entry {h64} of {id}, {}", "b".repeat(40))),
            vec![h64.to_owned(), "b".repeat(40)]
        );
    }

    #[test]
    fn code_spans_survive_backticks() {
        assert_eq!(code_span("abc"), "`abc`");
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("`x"), "`` `x ``");
        assert_eq!(code_span("a|b"), "a\\|b");
        assert_eq!(code_span("a\nb"), "`a b`");
    }

    #[test]
    fn values_are_escaped_and_not_executed() {
        let mut set = TemplateSet::builtin();
        set.set(
            "t.md.j2",
            "{{ v }}|{{ v|md }}|{{ missing_ok or 'x' }}|{{ n }}",
        );
        let env = set.environment().unwrap();
        let ctx = minijinja::context! { v => "{{ 7*7 }} *x*", n => Value::from(()) , missing_ok => Value::from(())};
        let out = render(&env, "t.md.j2", &ctx).unwrap();
        assert_eq!(
            out,
            "\\{\\{ 7\\*7 \\}\\} \\*x\\*|\\{\\{ 7\\*7 \\}\\} \\*x\\*|x|unknown"
        );
    }

    #[test]
    fn errors_name_template_and_line_and_fuel_stops_loops() {
        let mut set = TemplateSet::builtin();
        set.set("bad.md.j2", "ok\nok\n{{ nope.field }}\n");
        let env = set.environment().unwrap();
        let e = render(&env, "bad.md.j2", &minijinja::context! {}).unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("template bad.md.j2 line 3"), "{msg}");

        let mut set = TemplateSet::builtin();
        set.set("syntax.md.j2", "a\n{% for %}\n");
        let e = set.environment().unwrap_err().to_string();
        assert!(e.contains("syntax.md.j2 line 2"), "{e}");

        let mut set = TemplateSet::builtin().with_fuel(200_000);
        set.set(
            "loop.md.j2",
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        );
        let env = set.environment().unwrap();
        let e = render(&env, "loop.md.j2", &minijinja::context! {}).unwrap_err();
        assert!(e.to_string().contains("fuel"), "{e}");
    }

    #[test]
    fn output_past_the_bound_stops_with_a_clear_error() {
        let mut set = TemplateSet::builtin();
        set.set(
            "big.md.j2",
            "{% for i in range(n) %}{{ 'x' * 10000 }}{% endfor %}",
        );
        let env = set.environment().unwrap();
        let n = |n: u32| minijinja::context! { n => n };
        let e = render_bounded(&env, "big.md.j2", &n(1000), 1 << 20).unwrap_err();
        assert!(matches!(e, TemplateError::OutputTooLarge { .. }), "{e}");
        assert_eq!(
            e.to_string(),
            "template big.md.j2: output passed the 1048576-byte limit; rendering stopped"
        );
        let ok = render_bounded(&env, "big.md.j2", &n(50), 1 << 20).unwrap();
        assert_eq!(ok.len(), 500_000);
    }
}
