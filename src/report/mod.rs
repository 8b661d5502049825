//! Reports regenerated from a bundle alone: templates (`report-templates/`) render the evidence
//! to Markdown, and the PDF is laid out from that same Markdown, so both always say the same.

pub mod context;
pub mod escape;
pub mod markdown_pdf;
pub mod metrics;
pub mod templates;

pub use context::{ReportContext, ReportInput};
pub use templates::{TemplateError, TemplateSet};

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
}

/// Output formats of the `report` command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum ReportFormat {
    Md,
    Pdf,
}

/// A report that could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("{path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("{report}.pdf: {message}")]
    Pdf { report: String, message: String },
}

/// Renders every report template to Markdown.
pub fn render_markdown(
    input: &ReportInput<'_>,
    templates: &TemplateSet,
) -> Result<Vec<RenderedReport>, ReportError> {
    let ctx = context::build(input);
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
        let md = templates::render(&env, name, &value)?;
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
        });
    }
    Ok(out)
}

/// What the PDF prints on every page besides the report itself.
#[derive(Clone, Debug)]
pub struct PageFrame {
    pub bundle_digest: String,
    pub integrity: Integrity,
}

/// Lays out one report as PDF bytes (deterministic: same Markdown and frame, same bytes).
pub fn render_pdf(report: &RenderedReport, frame: &PageFrame) -> Result<Vec<u8>, ReportError> {
    markdown_pdf::render(&report.markdown, &report.title, frame).map_err(|message| {
        ReportError::Pdf {
            report: report.name.clone(),
            message,
        }
    })
}

/// Renders every report and writes `DIR/<name>.md` and/or `DIR/<name>.pdf`; returns the paths
/// written, in order.
pub fn write_reports(
    input: &ReportInput<'_>,
    templates: &TemplateSet,
    out_dir: &Path,
    formats: &[ReportFormat],
) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(out_dir).map_err(|e| ReportError::Write {
        path: out_dir.display().to_string(),
        source: e,
    })?;
    let reports = render_markdown(input, templates)?;
    let frame = PageFrame {
        bundle_digest: input.bundle_digest.to_hex(),
        integrity: input.integrity.clone(),
    };
    let mut written = Vec::new();
    for r in &reports {
        if formats.contains(&ReportFormat::Md) {
            let p = out_dir.join(format!("{}.md", r.name));
            write_file(&p, r.markdown.as_bytes())?;
            written.push(p);
        }
        if formats.contains(&ReportFormat::Pdf) {
            let bytes = render_pdf(r, &frame)?;
            let p = out_dir.join(format!("{}.pdf", r.name));
            write_file(&p, &bytes)?;
            written.push(p);
        }
    }
    Ok(written)
}

fn write_file(p: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    std::fs::write(p, bytes).map_err(|e| ReportError::Write {
        path: p.display().to_string(),
        source: e,
    })
}
