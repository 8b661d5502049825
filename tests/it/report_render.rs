//! The demo's reports as people see them: the one assessment of each module agrees across
//! `scope --json` and the reports; every PDF rendered to PNG (poppler) with its text inside
//! the page box and the phase chart drawn; the HTML report self-contained and rendered by a
//! real headless browser (Debian `chromium`).

use crate::common::{bin, code, json, pdftotext_available};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The demo, run once for this module: its folder (staged incident, bundle, reports).
fn demo() -> &'static Path {
    static DEMO: OnceLock<PathBuf> = OnceLock::new();
    DEMO.get_or_init(|| {
        // The reports cite each item's original path, which wraps in table cells, so page
        // counts depend on where the demo is staged: a folder whose path has the same length on
        // every machine (a clone's target folder does not).
        let dir = tempfile::Builder::new()
            .prefix("wscf-render-")
            .rand_bytes(8)
            .tempdir_in("/tmp")
            .unwrap()
            .keep()
            .join("demo");
        let o = bin()
            .args(["demo", "-q", "--force", "-o"])
            .arg(&dir)
            .output()
            .unwrap();
        assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
        dir
    })
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The row of a Markdown table that cites the module with this hash (first 12 hex).
fn row_citing<'a>(md: &'a str, short: &str) -> &'a str {
    md.lines()
        .find(|l| l.starts_with('|') && l.contains(&format!("`{short}`")) && l.contains("re-"))
        .unwrap_or_else(|| panic!("no table row cites {short}:\n{md}"))
}

#[test]
fn the_re_signed_module_has_one_status_in_scope_the_rca_and_the_advisory() {
    let d = demo();
    let o = bin()
        .args(["scope", "--json", "-K"])
        .arg(d.join("incident/keys/release-a.pub"))
        .arg(d.join("IR-2026-0042.zip"))
        .output()
        .unwrap();
    let v = json(&o);
    let modules = v["modules"].as_array().expect("modules");
    let resigned: Vec<&serde_json::Value> = modules
        .iter()
        .filter(|m| m["path"].as_str().unwrap().ends_with("resigned/app.wasm"))
        .collect();
    assert_eq!(resigned.len(), 1, "{v:#}");
    let m = resigned[0];
    // Scope no longer asks to re-sign it: it is already re-signed, by the same assessment the
    // reports print.
    assert_eq!(m["status"], "re-signed", "{m:#}");
    assert_eq!(m["assessment"]["status"], "re-signed", "{m:#}");
    assert_eq!(v["summary"]["re_signed"], 1, "{v:#}");
    assert_eq!(v["summary"]["valid"], 3, "{v:#}");
    // Every bundle module carries its assessment, and each agrees with the RCA's row.
    let rca = read(&d.join("reports/root-cause-analysis.md"));
    let adv = read(&d.join("reports/security-advisory.md"));
    for m in modules {
        let status = m["assessment"]["status"].as_str().expect("assessed");
        let bag = m["origin"]["bag_path"].as_str().unwrap();
        let sha = bag.rsplit('/').next().unwrap().trim_end_matches(".wasm");
        let short = &sha[..12];
        let summary = m["assessment"]["summary"].as_str().unwrap();
        let cited = format!("`{short}`");
        assert!(
            rca.lines()
                .any(|l| l.starts_with('|') && l.contains(&cited) && l.contains(summary)),
            "scope says {status} ({summary}) for {short}; the RCA does not:\n{rca}"
        );
    }
    let short = &m["origin"]["bag_path"].as_str().unwrap()["data/modules/".len()..][..12];
    for doc in [&rca, &adv] {
        let row = row_citing(doc, short);
        assert!(
            row.contains("re-signed: valid signature by the replacement key"),
            "{row}"
        );
        assert!(
            !row.contains("suspect") && !row.contains("not trusted"),
            "{row}"
        );
    }
}

/// Runs an outside program and returns its stdout; the panic shows what it said.
fn run(program: &str, args: &[&std::ffi::OsStr]) -> Vec<u8> {
    let o = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        o.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

/// Page count as poppler reads it.
fn page_count(pdf: &Path) -> usize {
    let info = String::from_utf8(run("pdfinfo", &[pdf.as_os_str()])).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no page count: {info}"))
}

/// One page as a PPM image (pdftoppm): width, height, RGB bytes.
fn raster(pdf: &Path, page: usize, dpi: u32) -> (usize, usize, Vec<u8>) {
    let p = page.to_string();
    let r = dpi.to_string();
    let ppm = run(
        "pdftoppm",
        &[
            os("-f"),
            os(&p),
            os("-l"),
            os(&p),
            os("-r"),
            os(&r),
            pdf.as_os_str(),
        ],
    );
    // P6 header: magic, width, height, max value, each followed by whitespace.
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while ppm[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !ppm[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&ppm[start..at]).into_owned());
    }
    assert_eq!(fields[0], "P6");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let pixels = ppm[at + 1..].to_vec();
    assert_eq!(pixels.len(), w * h * 3);
    (w, h, pixels)
}

/// Pixels within 40 of `rgb` in every channel.
fn pixels_like(pixels: &[u8], rgb: [u8; 3]) -> usize {
    pixels
        .chunks_exact(3)
        .filter(|p| (0..3).all(|i| (p[i] as i32 - rgb[i] as i32).abs() <= 40))
        .count()
}

/// The chart's MET green and MISSED red (src/report/phase_chart.rs).
const MET_GREEN: [u8; 3] = [26, 128, 51];
const MISSED_RED: [u8; 3] = [191, 20, 20];

/// Every word pdftotext finds, with its page and box (points, y from the top).
fn words(pdf: &Path) -> Vec<Word> {
    let html =
        String::from_utf8(run("pdftotext", &[os("-bbox"), pdf.as_os_str(), os("-")])).unwrap();
    let mut out = Vec::new();
    let (mut page, mut size) = (0, (0.0, 0.0));
    let num = |rest: &str, k: &str| -> f32 {
        let s = rest.split(&format!("{k}=\"")).nth(1).unwrap();
        s[..s.find('"').unwrap()].parse().unwrap()
    };
    for line in html.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("<page ") {
            page += 1;
            size = (num(rest, "width"), num(rest, "height"));
        }
        let Some(rest) = line.strip_prefix("<word ") else {
            continue;
        };
        let text = rest[rest.find('>').unwrap() + 1..rest.rfind("</word>").unwrap()].to_owned();
        out.push(Word {
            page,
            page_size: size,
            text,
            bbox: [
                num(rest, "xMin"),
                num(rest, "yMin"),
                num(rest, "xMax"),
                num(rest, "yMax"),
            ],
        });
    }
    out
}

/// One word of `pdftotext -bbox`: its page (from 1), that page's width and height, the text and
/// its box (x0, y0, x1, y1; y from the top).
struct Word {
    page: usize,
    page_size: (f32, f32),
    text: String,
    bbox: [f32; 4],
}

const MARGIN_X: f32 = 50.0;

/// The page of `pdf` whose text holds `needle` (1-based).
fn page_with(pdf: &Path, needle: &str) -> Option<usize> {
    let n = page_count(pdf);
    (1..=n).find(|p| {
        let p = p.to_string();
        let text = run(
            "pdftotext",
            &[os("-f"), os(&p), os("-l"), os(&p), pdf.as_os_str(), os("-")],
        );
        String::from_utf8_lossy(&text).contains(needle)
    })
}

#[test]
fn every_demo_pdf_renders_with_its_pages_its_text_inside_the_margins_and_the_chart() {
    if !pdftotext_available() || !crate::report_support::pdftoppm_available() {
        return;
    }
    let reports = demo().join("reports");
    // Page counts of the demo's reports (A4 portrait): a change in layout that adds pages shows.
    let expected = [
        ("incident-timeline", 4..=8),
        ("root-cause-analysis", 4..=7),
        ("key-compromise-notification", 1..=2),
        ("security-advisory", 1..=2),
        ("metrics", 1..=2),
    ];
    for (name, pages) in expected {
        let pdf = reports.join(format!("{name}.pdf"));
        let n = page_count(&pdf);
        assert!(pages.contains(&n), "{name}: {n} pages, expected {pages:?}");
        let info = String::from_utf8(run("pdfinfo", &[pdf.as_os_str()])).unwrap();
        let field = |k: &str| {
            info.lines()
                .find_map(|l| l.strip_prefix(k))
                .map(str::trim)
                .unwrap_or_default()
        };
        assert_eq!(field("PDF version:"), "1.7", "{name}: {info}");
        assert_eq!(field("Page size:"), "595.276 x 841.89 pts (A4)", "{info}");
        let bytes = std::fs::read(&pdf).unwrap();
        for claim in [&b"pdfaid"[..], b"GTS_PDFX"] {
            assert!(!bytes.windows(claim.len()).any(|w| w == claim), "{name}");
        }
        // Every page rasterises, and none is blank.
        for p in 1..=n {
            let (w, h, px) = raster(&pdf, p, 30);
            assert!(
                [(249, 351), (351, 249)].contains(&(w, h)),
                "{name} page {p}: A4 at 30 dpi, portrait or landscape: {w}x{h}"
            );
            let ink = px
                .chunks_exact(3)
                .filter(|c| c.iter().all(|v| *v < 128))
                .count();
            assert!(ink > 100, "{name} page {p} is blank");
        }
        // No word outside the page box: inside the side margins, above the footer's bottom and
        // below the header's top.
        let ws = words(&pdf);
        assert!(ws.len() > 50, "{name}: {} words", ws.len());
        for Word {
            page,
            page_size: (page_w, page_h),
            text,
            bbox: [x0, y0, x1, y1],
        } in &ws
        {
            assert!(
                *x0 >= MARGIN_X - 0.5 && *x1 <= page_w - MARGIN_X + 0.5,
                "{name} page {page}: {text:?} runs into the side margin ({x0}..{x1})"
            );
            assert!(
                *y0 >= 20.0 && *y1 <= page_h - 20.0,
                "{name} page {page}: {text:?} is outside the page box ({y0}..{y1})"
            );
        }
        // No long hex value is split across lines: each run of 25+ hex digits in the text is a
        // whole SHA-1, SHA-256 or Rekor entry id, and each such value of the Markdown report
        // appears intact (tables shorten them; they are printed in full on lines of their own).
        let text = String::from_utf8(run("pdftotext", &[pdf.as_os_str(), os("-")])).unwrap();
        let runs = |t: &str| -> Vec<String> {
            t.split(|c: char| !c.is_ascii_hexdigit())
                .filter(|r| r.len() >= 25)
                .map(str::to_owned)
                .collect()
        };
        for r in runs(&text) {
            assert!(
                [40, 64, 80].contains(&r.len()),
                "{name}: hex value split across lines: {r}"
            );
        }
        // Short values that tables cite (12-digit short hashes, 24-digit key ids, evidence
        // numbers) keep their line too: the widest columns wrap first.
        let md = read(&reports.join(format!("{name}.md")));
        let cited = md
            .split(|c: char| !c.is_ascii_hexdigit())
            .filter(|r| r.len() >= 12)
            .map(str::to_owned)
            .chain(
                md.match_indices("E-0")
                    .map(|(i, _)| md[i..i + 5].to_owned()),
            );
        for r in cited {
            assert!(
                text.contains(&r),
                "{name}: {r} is not intact in the PDF text"
            );
        }
        // The footer's page numbers agree with the page count.
        let last = format!("{n}");
        assert!(
            ws.iter().any(|w| w.page == n && w.text == last),
            "{name}: no 'Page {n} of {n}' on the last page"
        );
    }
    // The timeline's wide tables (dated facts, custody and file times) are on landscape A4
    // pages from their heading to the end, where each time fits its column on one line.
    let pdf = reports.join("incident-timeline.pdf");
    let ws = words(&pdf);
    let first_wide = ws
        .iter()
        .find(|w| w.text == "Dated")
        .map(|w| w.page)
        .expect("timeline: no 'Dated facts' section");
    for w in &ws {
        let landscape = w.page_size.0 > w.page_size.1;
        assert_eq!(
            landscape,
            w.page >= first_wide,
            "timeline page {}: {:?}",
            w.page,
            w.page_size
        );
    }
    let md = read(&reports.join("incident-timeline.md"));
    let wide = &md[md.find("## Dated facts").unwrap()..];
    let text = String::from_utf8(run("pdftotext", &[pdf.as_os_str(), os("-")])).unwrap();
    let times: Vec<&str> = wide
        .lines()
        .filter_map(|l| l.strip_prefix("| 20"))
        .map(|l| &l[..l.find(' ').unwrap()])
        .collect();
    assert!(times.len() > 10, "{times:?}");
    for t in times {
        assert!(
            text.contains(&format!("20{t}")),
            "timeline: time 20{t} wraps"
        );
    }
    // The phase chart is drawn (vector graphics: MET bars in green, its words beside them)
    // in the RCA and the metrics report.
    for name in ["root-cause-analysis", "metrics"] {
        let pdf = reports.join(format!("{name}.pdf"));
        let page = page_with(&pdf, "Against target").unwrap_or_else(|| panic!("{name}: no chart"));
        let (_, _, px) = raster(&pdf, page, 100);
        let green = pixels_like(&px, MET_GREEN);
        assert!(green > 400, "{name} page {page}: {green} MET-green pixels");
        let text = String::from_utf8(run("pdftotext", &[pdf.as_os_str(), os("-")])).unwrap();
        for word in [
            "Compromise window",
            "Time to contain",
            "target < 4 hours",
            "MET",
        ] {
            assert!(text.contains(word), "{name}: chart text {word:?} missing");
        }
    }
    // A report without the chart has no chart colours.
    let pdf = reports.join("security-advisory.pdf");
    for p in 1..=page_count(&pdf) {
        let (_, _, px) = raster(&pdf, p, 100);
        assert_eq!(pixels_like(&px, MET_GREEN), 0, "advisory page {p}");
    }
}

/// Reports of the demo bundle in `formats`, into a fresh folder under the demo.
fn report_formats(into: &str, formats: &str) -> PathBuf {
    let out = demo().join(into);
    let o = bin()
        .args(["report", "--force", "--format", formats, "-o"])
        .arg(&out)
        .arg(demo().join("IR-2026-0042.zip"))
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    out
}

#[test]
fn html_reports_are_self_contained_reproducible_and_render_in_a_real_browser() {
    let a = report_formats("html-a", "html");
    let b = report_formats("html-b", "html");
    let names = [
        "incident-timeline",
        "root-cause-analysis",
        "key-compromise-notification",
        "security-advisory",
        "metrics",
    ];
    for name in names {
        let file = format!("{name}.html");
        let page = read(&a.join(&file));
        assert_eq!(
            page,
            read(&b.join(&file)),
            "{file} differs between two runs"
        );
        assert!(
            !a.join(format!("{name}.pdf")).exists(),
            "only HTML was asked for"
        );
        // Self-contained: no script, nothing fetched, everything inline.
        let lower = page.to_ascii_lowercase();
        for bad in ["<script", "src=", "href=", "<link", "@import", "url("] {
            assert!(!lower.contains(bad), "{file} contains {bad:?}");
        }
        assert!(page.contains("Content-Security-Policy\" content=\"default-src 'none'"));
        assert!(page.contains("TLP:AMBER"), "{file}: TLP marking");
        // The same Markdown: every table row of the Markdown report is a row of the HTML one.
        let md = read(&demo().join(format!("reports/{name}.md")));
        let md_rows = md
            .lines()
            .filter(|l| l.starts_with('|') && !l.starts_with("| ---"))
            .count();
        let html_rows = page.matches("<tr>").count();
        assert_eq!(
            md_rows, html_rows,
            "{file}: {md_rows} Markdown rows, {html_rows} HTML rows"
        );
    }
    let rca = read(&a.join("root-cause-analysis.html"));
    assert_eq!(
        rca.matches("<svg ").count(),
        1,
        "the RCA has one phase chart"
    );
    assert!(
        rca.contains(">MET</text>"),
        "the chart writes its verdicts as words"
    );
    // External documents carry no bundle digest; internal ones do.
    let digest = run_digest();
    assert!(rca.contains(&digest));
    assert!(!read(&a.join("security-advisory.html")).contains(&digest));

    if !crate::report_support::chromium_available()
        || !pdftotext_available()
        || !crate::report_support::pdftoppm_available()
    {
        return;
    }
    // Rendered by headless Chromium: the page prints, its text is there and the chart is drawn.
    for name in ["root-cause-analysis", "metrics"] {
        let html = a.join(format!("{name}.html"));
        let printed = a.join(format!("{name}.chromium.pdf"));
        let shot = a.join(format!("{name}.chromium.png"));
        let profile = tempfile::tempdir().unwrap();
        let url = format!("file://{}", html.display());
        let _ = std::fs::remove_file(&printed);
        for what in [
            format!("--print-to-pdf={}", printed.display()),
            format!("--screenshot={}", shot.display()),
        ] {
            // A browser that hangs fails the test instead of holding it.
            let o = assert_cmd::Command::new("chromium")
                .args([
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--no-first-run",
                    "--disable-dev-shm-usage",
                ])
                .args([
                    "--no-pdf-header-footer",
                    "--hide-scrollbars",
                    "--window-size=1000,1400",
                ])
                .arg(format!("--user-data-dir={}", profile.path().display()))
                .arg(&what)
                .arg(&url)
                .timeout(std::time::Duration::from_secs(120))
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "chromium {what}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        let png = std::fs::read(&shot).unwrap();
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 10_000,
            "{name}: screenshot"
        );
        let text = String::from_utf8(run("pdftotext", &[printed.as_os_str(), os("-")])).unwrap();
        for word in [
            "Response metrics",
            "Against target",
            "Time to recover",
            "MET",
        ] {
            if name == "metrics" && word == "Response metrics" {
                continue;
            }
            assert!(
                text.contains(word),
                "{name}: Chromium's rendering lacks {word:?}"
            );
        }
        let page = page_with(&printed, "Against target").expect("chart page");
        let (_, _, px) = raster(&printed, page, 100);
        let green = pixels_like(&px, MET_GREEN);
        assert!(
            green > 400,
            "{name}: {green} MET-green pixels in Chromium's rendering"
        );
        assert_eq!(
            pixels_like(&px, MISSED_RED),
            0,
            "{name}: the demo misses no target"
        );
    }
}

/// The demo bundle's digest, from its verification.
fn run_digest() -> String {
    let o = bin()
        .args(["verify", "--json"])
        .arg(demo().join("IR-2026-0042.zip"))
        .output()
        .unwrap();
    json(&o)["digest"].as_str().expect("digest").to_owned()
}

#[test]
fn a_missed_target_is_red_and_written_missed_in_the_pdf_chart_and_html() {
    use crate::report_support::{bundle_digest, custody, evidence};
    use wsc_forensics::report::{self, Integrity, PageFrame, ReportInput, TemplateSet};
    let ev = evidence();
    let c = custody(&ev);
    let input = ReportInput {
        evidence: &ev,
        custody: &c,
        bundle_digest: bundle_digest(),
        integrity: &Integrity::Intact,
        timestamp: "not recorded",
        internal: false,
    };
    let reports = report::render_markdown(&input, &TemplateSet::builtin()).unwrap();
    let m = reports.iter().find(|r| r.name == "metrics").unwrap();
    // The fixture's case misses the time-to-detect target and does not declare `recovered`.
    let words: Vec<&str> = m.chart.rows.iter().map(|r| r.verdict.word()).collect();
    assert_eq!(words, ["", "MISSED", "MET", "NOT RECORDED", "NOT RECORDED"]);
    let frame = PageFrame::for_report(&input, "metrics");
    let html = report::render_html(m, &frame);
    assert!(html.contains(">MISSED</text>") && html.contains("fill=\"#bf1414\""));
    assert!(
        html.contains("<strong class=\"alarm\">MISSED</strong>"),
        "{html}"
    );
    if !pdftotext_available() || !crate::report_support::pdftoppm_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("metrics.pdf");
    std::fs::write(&pdf, report::render_pdf(m, &frame).unwrap()).unwrap();
    let page = page_with(&pdf, "Against target").expect("chart drawn");
    let text = String::from_utf8(run("pdftotext", &[pdf.as_os_str(), os("-")])).unwrap();
    assert!(
        text.contains("MISSED") && text.contains("NOT RECORDED"),
        "{text}"
    );
    let (_, _, px) = raster(&pdf, page, 100);
    let (red, green) = (pixels_like(&px, MISSED_RED), pixels_like(&px, MET_GREEN));
    assert!(red > 150, "{red} MISSED-red pixels");
    assert!(green > 30, "{green} MET-green pixels");
}
