//! Reports regenerated from a bundle alone: templates (`report-templates/`) render the evidence
//! to Markdown, and the PDF is laid out from that same Markdown, so both always say the same.

pub mod context;
pub mod escape;
pub mod html;
pub mod markdown_pdf;
pub mod metrics;
pub mod phase_chart;
pub mod runbook;
pub mod templates;
pub mod timeline_table;

pub use context::{ReportContext, ReportInput};
pub use templates::{TemplateError, TemplateSet};

use crate::io::output::{OutputDir, OutputError};
use std::path::{Path, PathBuf};

/// Whether the bundle a report is made from passed verification. An altered bundle still gets
/// its reports, but every report and every PDF page says it failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Integrity {
    Intact,
    /// Intact, with the statement of exactly what verification proved (signed by which
    /// examiner key, not signed, signature not checked): the report's banner says it.
    Proven {
        statement: String,
    },
    Altered {
        problems: Vec<String>,
    },
}

/// One rendered report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedReport {
    /// Output file stem (`root-cause-analysis`).
    pub name: String,
    /// First heading of the Markdown, used as the PDF title.
    pub title: String,
    pub markdown: String,
    /// The phase chart a `<!-- phase-chart -->` line of the Markdown stands for.
    pub chart: phase_chart::PhaseChart,
}

/// Output formats of the `report` command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum ReportFormat {
    Md,
    Pdf,
    /// One self-contained HTML file per report (inline CSS and SVG, no script).
    Html,
}

/// A report that could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("{report}.pdf: {message}")]
    Pdf { report: String, message: String },
}

/// Renders every report template to Markdown.
pub fn render_markdown(
    input: &ReportInput<'_>,
    templates: &TemplateSet,
) -> Result<Vec<RenderedReport>, ReportError> {
    let ctx = context::build(input, &templates.runbook()?);
    render_markdown_with(&ctx, templates)
}

/// Renders every report template with an already built context.
pub fn render_markdown_with(
    ctx: &ReportContext,
    templates: &TemplateSet,
) -> Result<Vec<RenderedReport>, ReportError> {
    let env = templates.environment()?;
    let value = minijinja::Value::from(minijinja::value::Serde(ctx));
    let mut out = Vec::new();
    for name in templates::report_template_names() {
        // The key-compromise notice only when a key compromise is declared.
        if name == templates::KEY_NOTICE && !ctx.notice.key_compromise {
            continue;
        }
        let md = templates::render_bounded(&env, name, &value, templates.max_output())?;
        let stem = name.trim_end_matches(".md.j2").to_owned();
        let title = md
            .lines()
            .find_map(|l| l.strip_prefix("# "))
            .map(markdown_pdf::plain_text)
            .unwrap_or_else(|| stem.clone());
        out.push(RenderedReport {
            name: stem,
            title,
            markdown: md,
            chart: ctx.phase_chart.clone(),
        });
    }
    Ok(out)
}

/// What the PDF prints on every page besides the report itself, and its document metadata.
#[derive(Clone, Debug)]
pub struct PageFrame {
    /// Printed in every page footer; empty for an external document (no bundle internals).
    pub bundle_digest: String,
    pub integrity: Integrity,
    /// PDF Author: the organisation.
    pub author: String,
    /// PDF CreationDate and ModDate: the collection time, never the clock.
    pub date: chrono::DateTime<chrono::Utc>,
    /// TLP marking printed on every page ("" for none).
    pub tlp: String,
}

/// The documents meant for people outside the response team.
pub const EXTERNAL_REPORTS: &[&str] = &["key-compromise-notification", "security-advisory"];

impl PageFrame {
    /// The frame of one report of `input`: external documents carry no bundle digest unless
    /// `input.internal`.
    pub fn for_report(input: &ReportInput<'_>, report: &str) -> Self {
        let case = &input.evidence.case;
        let external = EXTERNAL_REPORTS.contains(&report) && !input.internal;
        PageFrame {
            bundle_digest: if external {
                String::new()
            } else {
                input.bundle_digest.to_hex()
            },
            integrity: input.integrity.clone(),
            author: case.organization.clone().unwrap_or_default(),
            date: input.evidence.collected_at,
            tlp: case.disclosure.tlp.clone().unwrap_or_default(),
        }
    }
}

/// Lays out one report as PDF bytes (deterministic: same Markdown and frame, same bytes).
pub fn render_pdf(report: &RenderedReport, frame: &PageFrame) -> Result<Vec<u8>, ReportError> {
    markdown_pdf::render(&report.markdown, &report.title, frame, &report.chart).map_err(|message| {
        ReportError::Pdf {
            report: report.name.clone(),
            message,
        }
    })
}

/// Lays out one report as a self-contained HTML document (deterministic).
pub fn render_html(report: &RenderedReport, frame: &PageFrame) -> String {
    html::render(&report.markdown, &report.title, frame, &report.chart)
}

/// Renders every report and writes `DIR/<name>.md`, `DIR/<name>.pdf` and/or `DIR/<name>.html`; returns the paths
/// written, in order. Files are created inside `DIR` without following links; an existing one
/// is replaced only with `force`.
pub fn write_reports(
    input: &ReportInput<'_>,
    templates: &TemplateSet,
    out_dir: &Path,
    formats: &[ReportFormat],
    force: bool,
) -> Result<Vec<PathBuf>, ReportError> {
    let dir = OutputDir::create(out_dir)?;
    let reports = render_markdown(input, templates)?;
    // PDF layout is the costly step and each report's is independent: laid out in parallel,
    // written in report order (the bytes do not depend on which thread made them).
    let pdfs: Vec<Vec<u8>> = if formats.contains(&ReportFormat::Pdf) {
        use rayon::prelude::*;
        reports
            .par_iter()
            .map(|r| render_pdf(r, &PageFrame::for_report(input, &r.name)))
            .collect::<Result<_, _>>()?
    } else {
        Vec::new()
    };
    let mut written = Vec::new();
    for (i, r) in reports.iter().enumerate() {
        if formats.contains(&ReportFormat::Md) {
            let name = format!("{}.md", r.name);
            written.push(dir.write_file(&name, r.markdown.as_bytes(), force)?);
        }
        if let Some(bytes) = pdfs.get(i) {
            let name = format!("{}.pdf", r.name);
            written.push(dir.write_file(&name, bytes, force)?);
        }
        if formats.contains(&ReportFormat::Html) {
            let page = render_html(r, &PageFrame::for_report(input, &r.name));
            let name = format!("{}.html", r.name);
            written.push(dir.write_file(&name, page.as_bytes(), force)?);
        }
    }
    Ok(written)
}
