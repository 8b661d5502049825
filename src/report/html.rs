//! Markdown → one self-contained HTML file, from the same Markdown the PDF is laid out from
//! (pulldown-cmark's HTML writer): inline CSS, the phase chart as inline SVG, no script, no
//! external reference (a Content-Security-Policy forbids loading anything), the page frame
//! (title, verification warning, TLP, bundle digest) at the top and bottom.

use super::markdown_pdf;
use super::phase_chart::{self, PhaseChart};
use super::{Integrity, PageFrame};
use pulldown_cmark::{CowStr, Event, Options, Parser};

/// Text escaped for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    // Writing to a String cannot fail.
    let _ = pulldown_cmark_escape::escape_html(&mut out, s);
    out
}

const STYLE: &str = "\
body{font-family:'DejaVu Sans',Verdana,sans-serif;font-size:10pt;line-height:1.4;max-width:60em;margin:1.5em auto;padding:0 1.5em;color:#000}
header,footer{color:#595959;font-size:8pt;border-bottom:1px solid #999;padding-bottom:.3em;margin-bottom:1em;display:flex;justify-content:space-between;gap:1em}
footer{border-bottom:none;border-top:1px solid #999;padding-top:.3em;margin-top:2em}
.altered{color:#bf0000;font-weight:bold;font-size:9pt}
.alarm{color:#bf1414}
.tlp{font-weight:bold}
h1{font-size:16pt}h2{font-size:13pt;margin-top:1.4em}h3{font-size:11pt}
table{border-collapse:collapse;margin:.6em 0;font-size:8pt}
th,td{border:1px solid #bbb;padding:2px 4px;vertical-align:top;text-align:left}
th{background:#eee}
code,pre{font-family:'DejaVu Sans Mono',monospace;font-size:8pt}
pre{white-space:pre-wrap;background:#f6f6f6;padding:.4em}
blockquote{color:#a60000;margin-left:1em}
svg.phase-chart{display:block;margin:.8em 0;width:100%;max-width:50em;height:auto}
@media print{body{max-width:none;margin:0}}
";

/// The whole HTML document of one report.
pub fn render(markdown: &str, title: &str, frame: &PageFrame, chart: &PhaseChart) -> String {
    let opts = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    // Template HTML is shown as text (as in the PDF), except the markers a template may write:
    // page break and page orientation (kept as comments; a browser page reflows) and the phase
    // chart (inline SVG).
    let events = Parser::new_ext(markdown, opts).map(|ev| match ev {
        Event::Html(t) | Event::InlineHtml(t) => {
            let trimmed = t.trim();
            if trimmed == phase_chart::MARKER {
                Event::Html(CowStr::from(format!("{}\n", chart.to_svg())))
            } else if [
                "<!-- pagebreak -->",
                markdown_pdf::LANDSCAPE_MARKER,
                markdown_pdf::PORTRAIT_MARKER,
            ]
            .contains(&trimmed)
            {
                Event::Html(t)
            } else {
                Event::Text(t)
            }
        }
        other => other,
    });
    let mut body = String::new();
    pulldown_cmark::html::push_html(&mut body, events);
    // The words marking what went wrong, in red as in the PDF (colour plus the word).
    for word in ["MISSED", "CRITICAL", "HIGH"] {
        body = body.replace(
            &format!("<strong>{word}</strong>"),
            &format!("<strong class=\"alarm\">{word}</strong>"),
        );
    }
    let mut out = String::with_capacity(body.len() + 4096);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n",
    );
    out.push_str(&format!("<title>{}</title>\n", escape(title)));
    if !frame.author.is_empty() {
        out.push_str(&format!(
            "<meta name=\"author\" content=\"{}\">\n",
            escape(&frame.author)
        ));
    }
    out.push_str(&format!(
        "<meta name=\"dcterms.created\" content=\"{}\">\n",
        crate::timeline::iso_utc(frame.date)
    ));
    out.push_str(&format!(
        "<style>\n{STYLE}</style>\n</head>\n<body>\n<header>"
    ));
    out.push_str(&format!("<span>{}</span>", escape(title)));
    if !frame.tlp.is_empty() {
        out.push_str(&format!(
            "<span class=\"tlp\">{}</span>",
            escape(&frame.tlp)
        ));
    }
    out.push_str("</header>\n");
    if let Integrity::Altered { .. } = frame.integrity {
        out.push_str("<p class=\"altered\">WARNING: THIS BUNDLE FAILED VERIFICATION - the evidence may have been altered</p>\n");
    }
    out.push_str("<main>\n");
    out.push_str(&body);
    out.push_str("</main>\n<footer>");
    if !frame.bundle_digest.is_empty() {
        out.push_str(&format!(
            "<code>Bundle SHA-256 {}</code>",
            escape(&frame.bundle_digest)
        ));
    }
    if !frame.tlp.is_empty() {
        out.push_str(&format!(
            "<span class=\"tlp\">{}</span>",
            escape(&frame.tlp)
        ));
    }
    out.push_str("</footer>\n</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> PageFrame {
        PageFrame {
            bundle_digest: "ab".repeat(32),
            integrity: Integrity::Intact,
            author: "Org <x>".into(),
            date: "2026-11-17T12:30:00Z".parse().unwrap(),
            tlp: "TLP:AMBER".into(),
        }
    }

    #[test]
    fn template_html_is_text_markers_become_the_chart_and_nothing_loads() {
        let md = "# T\n\n<script>alert(1)</script>\n\n<!-- phase-chart -->\n\n| a |\n| --- |\n| <img src=x> |\n";
        let html = render(md, "T", &frame(), &PhaseChart::default());
        assert!(
            !html.contains("<script") && !html.contains("<img"),
            "{html}"
        );
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(html.contains("<svg ") && html.contains("class=\"phase-chart\""));
        assert!(html.contains("Org &lt;x&gt;") && html.contains("TLP:AMBER"));
        assert!(html.contains(&"ab".repeat(32)));
    }
}
