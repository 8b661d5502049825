//! The timeline as a Markdown table: the one Markdown rendering of [`TimelineEvent`]s, used by
//! `timeline --format md`. It lives with the renderers so that the timeline itself (facts and
//! their data formats) never depends on Markdown escaping.

use super::escape::escape_inline;
use crate::timeline::TimelineEvent;
use std::io::{self, Write};

/// Escapes text for one Markdown table cell: Markdown and HTML syntax is backslash-escaped, `|`
/// cannot end the cell, line breaks and control characters cannot end the row.
pub fn md_cell(s: &str) -> String {
    escape_inline(s)
}

/// A Markdown table: datetime, what, message, source, severity, evidence (SHA-256 and path).
pub fn write_markdown<W: Write>(events: &[TimelineEvent], mut w: W) -> io::Result<()> {
    w.write_all(markdown_table(events).as_bytes())?;
    w.flush()
}

/// The Markdown table [`write_markdown`] writes, as a string (reports embed it).
pub fn markdown_table(events: &[TimelineEvent]) -> String {
    let mut s = String::with_capacity(events.len() * 200 + 200);
    s.push_str("| time (UTC) | event | message | source | severity | evidence |\n");
    s.push_str("| --- | --- | --- | --- | --- | --- |\n");
    for e in events {
        let evidence = match (&e.evidence_sha256, &e.evidence_path) {
            (Some(d), Some(p)) => format!("`{}` {}", d.to_hex(), md_cell(p)),
            (Some(d), None) => format!("`{}`", d.to_hex()),
            (None, Some(p)) => md_cell(p),
            (None, None) => String::new(),
        };
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            md_cell(&e.datetime),
            md_cell(&e.timestamp_desc),
            md_cell(&e.message),
            e.source.as_str(),
            e.severity.map(|x| x.to_string()).unwrap_or_default(),
            evidence
        ));
    }
    s
}
