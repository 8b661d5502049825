//! The phase chart: the compromise window and the four response phases (detect, contain,
//! recover, review) on one time axis, each against its runbook target, with MET / MISSED
//! written as a word beside the colour (print and colour-blind readers keep it). One geometry,
//! drawn twice: as vector operations in the PDF (`markdown_pdf`) and as inline SVG in the HTML
//! report. A template places it with a line `<!-- phase-chart -->`.

use super::metrics::{self, Metric, MetricVerdict};
use crate::model::case::CaseInfo;
use chrono::{DateTime, Duration, Utc};

/// The line a template writes where the chart goes.
pub const MARKER: &str = "<!-- phase-chart -->";

/// Width the chart is laid out for, in points (the PDF's content width).
pub const WIDTH: f32 = 495.0;

/// How a row stands against its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowVerdict {
    Met,
    Missed,
    Unknown,
    /// A span with no target (the compromise window).
    Span,
}

impl RowVerdict {
    /// The word printed beside the colour.
    pub fn word(self) -> &'static str {
        match self {
            RowVerdict::Met => "MET",
            RowVerdict::Missed => "MISSED",
            RowVerdict::Unknown => "NOT RECORDED",
            RowVerdict::Span => "",
        }
    }
}

/// One row of the chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhaseRow {
    pub label: String,
    /// The runbook target, as written there ("< 4 hours"); empty for the window.
    pub target: String,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// When the target ran out (`from` + the target).
    pub deadline: Option<DateTime<Utc>>,
    pub verdict: RowVerdict,
    /// Elapsed time, or why the row is not recorded.
    pub note: String,
}

/// The chart's data: the rows, all from the case file's declared times.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PhaseChart {
    pub rows: Vec<PhaseRow>,
}

impl PhaseChart {
    /// From the case file: the declared compromise window (else the estimated compromise time
    /// to detection), then the four runbook metrics.
    pub fn of_case(case: &CaseInfo) -> Self {
        let mut rows = Vec::new();
        let (from, to, what) = match &case.window {
            Some(w) => (Some(w.from), w.to, "declared"),
            None => (
                case.times.compromise_estimated,
                case.times.detected,
                "estimated",
            ),
        };
        let note = match (from, to) {
            (Some(f), Some(t)) => format!("{} to {}", short_date(f), short_date(t)),
            (Some(f), None) => format!("from {}, end not recorded", short_date(f)),
            _ => "not recorded".to_owned(),
        };
        let note = if from.is_some() {
            format!("{what}: {note}")
        } else {
            note
        };
        rows.push(PhaseRow {
            label: "Compromise window".into(),
            target: String::new(),
            from,
            to,
            deadline: None,
            verdict: if from.is_some() {
                RowVerdict::Span
            } else {
                RowVerdict::Unknown
            },
            note,
        });
        rows.extend(metrics::compute_all(&case.times).iter().map(metric_row));
        PhaseChart { rows }
    }

    /// The time axis: earliest to latest of every time and deadline; `None` with no time.
    fn axis(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let all = self
            .rows
            .iter()
            .flat_map(|r| [r.from, r.to, r.deadline])
            .flatten();
        let (mut lo, mut hi) = (None::<DateTime<Utc>>, None::<DateTime<Utc>>);
        for t in all {
            lo = Some(lo.map_or(t, |l| l.min(t)));
            hi = Some(hi.map_or(t, |h| h.max(t)));
        }
        let (lo, hi) = (lo?, hi?);
        Some((lo, if hi > lo { hi } else { lo + Duration::hours(1) }))
    }

    /// The chart as shapes in a box [`WIDTH`] wide, y growing downwards; returns its height.
    pub fn shapes(&self) -> (f32, Vec<Shape>) {
        let mut s = Vec::new();
        let axis = self.axis();
        let top = 14.0;
        let height = top + ROW_H * self.rows.len() as f32 + 16.0;
        // Plot frame and the axis ends.
        s.push(Shape::Rect {
            x: PLOT_X,
            y: top,
            w: PLOT_W,
            h: ROW_H * self.rows.len() as f32,
            fill: Paint::Shade,
        });
        match axis {
            Some((lo, hi)) => {
                let bottom = top + ROW_H * self.rows.len() as f32 + 10.0;
                s.push(text(PLOT_X, bottom, 6.5, false, &date(lo), Paint::Grey));
                s.push(Shape::Text {
                    x: PLOT_X + PLOT_W,
                    y: bottom,
                    size: 6.5,
                    bold: false,
                    text: date(hi),
                    fill: Paint::Grey,
                    anchor_end: true,
                });
            }
            None => s.push(text(
                PLOT_X + 6.0,
                top + 12.0,
                7.0,
                false,
                "no declared times: nothing to draw",
                Paint::Grey,
            )),
        }
        s.push(text(0.0, 9.0, 7.5, true, "Phase", Paint::Ink));
        s.push(text(PLOT_X, 9.0, 7.5, true, "Time (UTC)", Paint::Ink));
        s.push(text(
            VERDICT_X,
            9.0,
            7.5,
            true,
            "Against target",
            Paint::Ink,
        ));
        for (i, r) in self.rows.iter().enumerate() {
            row_shapes(r, top + ROW_H * i as f32, axis, &mut s);
        }
        (height, s)
    }

    /// The chart as an inline SVG element (no script, no external reference).
    pub fn to_svg(&self) -> String {
        let (h, shapes) = self.shapes();
        let mut out = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"phase-chart\" role=\"img\" \
             aria-label=\"Phase chart against the runbook targets\" width=\"{w}\" height=\"{h}\" \
             viewBox=\"0 0 {w} {h}\" font-family=\"DejaVu Sans, Verdana, sans-serif\">\n",
            w = WIDTH,
        );
        for shape in &shapes {
            match shape {
                Shape::Rect { x, y, w, h, fill } => out.push_str(&format!(
                    "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{}\"/>\n",
                    fill.css()
                )),
                Shape::Line {
                    x1,
                    y1,
                    x2,
                    y2,
                    width,
                    stroke,
                } => out.push_str(&format!(
                    "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"{}\" stroke-width=\"{width}\"/>\n",
                    stroke.css()
                )),
                Shape::Text {
                    x,
                    y,
                    size,
                    bold,
                    text,
                    fill,
                    anchor_end,
                } => out.push_str(&format!(
                    "<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"{size}\"{}{} fill=\"{}\">{}</text>\n",
                    if *bold { " font-weight=\"bold\"" } else { "" },
                    if *anchor_end { " text-anchor=\"end\"" } else { "" },
                    fill.css(),
                    super::html::escape(text)
                )),
            }
        }
        out.push_str("</svg>");
        out
    }
}

/// Colours of the chart, each with a meaning (never the only carrier of it: words go beside).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paint {
    Ink,
    Grey,
    Shade,
    Target,
    Met,
    Missed,
    Window,
}

impl Paint {
    /// RGB, 0–1.
    pub fn rgb(self) -> (f32, f32, f32) {
        match self {
            Paint::Ink => (0.0, 0.0, 0.0),
            Paint::Grey => (0.35, 0.35, 0.35),
            Paint::Shade => (0.95, 0.95, 0.95),
            Paint::Target => (0.80, 0.80, 0.80),
            Paint::Met => (0.10, 0.50, 0.20),
            Paint::Missed => (0.75, 0.08, 0.08),
            Paint::Window => (0.85, 0.45, 0.05),
        }
    }

    fn css(self) -> String {
        let (r, g, b) = self.rgb();
        let c = |v: f32| (v * 255.0).round() as u8;
        format!("#{:02x}{:02x}{:02x}", c(r), c(g), c(b))
    }
}

/// One drawing operation, in points, y downwards from the chart's top.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        fill: Paint,
    },
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        width: f32,
        stroke: Paint,
    },
    /// `y` is the baseline; `anchor_end`: `x` is where the text ends.
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        text: String,
        fill: Paint,
        anchor_end: bool,
    },
}

const ROW_H: f32 = 26.0;
const PLOT_X: f32 = 112.0;
const PLOT_W: f32 = 236.0;
const VERDICT_X: f32 = PLOT_X + PLOT_W + 8.0;
/// Characters of a note that fit the verdict column at 6.5 pt.
const NOTE_CHARS: usize = 38;

fn text(x: f32, y: f32, size: f32, bold: bool, t: &str, fill: Paint) -> Shape {
    Shape::Text {
        x,
        y,
        size,
        bold,
        text: t.to_owned(),
        fill,
        anchor_end: false,
    }
}

fn short_date(t: DateTime<Utc>) -> String {
    t.format("%m-%d %H:%M").to_string()
}

fn date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

fn metric_row(m: &Metric) -> PhaseRow {
    let (verdict, note) = match &m.verdict {
        MetricVerdict::Met { elapsed_seconds } => {
            (RowVerdict::Met, metrics::human_duration(*elapsed_seconds))
        }
        MetricVerdict::Missed { elapsed_seconds } => (
            RowVerdict::Missed,
            metrics::human_duration(*elapsed_seconds),
        ),
        MetricVerdict::Unknown { reason } => (RowVerdict::Unknown, reason.clone()),
    };
    PhaseRow {
        label: m.kind.title().to_owned(),
        target: m.kind.target_text().to_owned(),
        from: m.from,
        to: m.to,
        deadline: m.from.map(|f| f + m.kind.limit().0),
        verdict,
        note,
    }
}

fn row_shapes(
    r: &PhaseRow,
    y: f32,
    axis: Option<(DateTime<Utc>, DateTime<Utc>)>,
    s: &mut Vec<Shape>,
) {
    s.push(Shape::Line {
        x1: 0.0,
        y1: y + ROW_H,
        x2: WIDTH,
        y2: y + ROW_H,
        width: 0.3,
        stroke: Paint::Target,
    });
    s.push(text(0.0, y + 11.0, 7.5, true, &r.label, Paint::Ink));
    if !r.target.is_empty() {
        let t = format!("target {}", r.target);
        s.push(text(0.0, y + 20.5, 6.5, false, &t, Paint::Grey));
    }
    let colour = match r.verdict {
        RowVerdict::Met => Paint::Met,
        RowVerdict::Missed => Paint::Missed,
        RowVerdict::Unknown => Paint::Grey,
        RowVerdict::Span => Paint::Window,
    };
    if let Some((lo, hi)) = axis {
        let span = (hi - lo).num_seconds().max(1) as f32;
        let x_of = |t: DateTime<Utc>| PLOT_X + PLOT_W * ((t - lo).num_seconds() as f32 / span);
        if let (Some(f), Some(d)) = (r.from, r.deadline) {
            // The target: the time allowed, as a light band ending in a dark tick.
            let (x0, x1) = (x_of(f), x_of(d));
            s.push(Shape::Rect {
                x: x0,
                y: y + 15.0,
                w: (x1 - x0).max(0.5),
                h: 5.0,
                fill: Paint::Target,
            });
            s.push(Shape::Line {
                x1,
                y1: y + 3.0,
                x2: x1,
                y2: y + ROW_H - 3.0,
                width: 1.0,
                stroke: Paint::Ink,
            });
        }
        match (r.from, r.to) {
            (Some(f), Some(t)) if t >= f => {
                let (x0, x1) = (x_of(f), x_of(t));
                s.push(Shape::Rect {
                    x: x0,
                    y: y + 5.0,
                    w: (x1 - x0).max(1.5),
                    h: 9.0,
                    fill: colour,
                });
            }
            (Some(f), _) | (None, Some(f)) => {
                let x = x_of(f);
                s.push(Shape::Rect {
                    x: x - 1.0,
                    y: y + 4.0,
                    w: 2.0,
                    h: 11.0,
                    fill: colour,
                });
            }
            (None, None) => {}
        }
    }
    let word = r.verdict.word();
    if !word.is_empty() {
        s.push(text(VERDICT_X, y + 11.0, 7.5, true, word, colour));
    }
    let note: String = if r.note.chars().count() > NOTE_CHARS {
        let cut: String = r.note.chars().take(NOTE_CHARS - 1).collect();
        format!("{cut}…")
    } else {
        r.note.clone()
    };
    s.push(text(VERDICT_X, y + 20.5, 6.5, false, &note, Paint::Grey));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::case::DeclaredTimes;

    fn t(s: &str) -> Option<DateTime<Utc>> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn rows_follow_the_metrics_and_every_shape_stays_in_the_box() {
        let case = CaseInfo {
            times: DeclaredTimes {
                compromise_estimated: t("2026-11-16T14:05:00Z"),
                detected: t("2026-11-17T09:00:00Z"),
                contained: t("2026-11-17T15:00:00Z"),
                recovered: t("2026-11-18T10:30:00Z"),
                ..Default::default()
            },
            ..Default::default()
        };
        let c = PhaseChart::of_case(&case);
        let words: Vec<&str> = c.rows.iter().map(|r| r.verdict.word()).collect();
        assert_eq!(words, ["", "MET", "MISSED", "MET", "NOT RECORDED"]);
        let (h, shapes) = c.shapes();
        for s in &shapes {
            let (x, y) = match s {
                Shape::Rect { x, y, w, .. } => (x + w, *y),
                Shape::Line { x1, x2, y2, .. } => (x1.max(*x2), *y2),
                Shape::Text { x, y, .. } => (*x, *y),
            };
            assert!(
                (0.0..=WIDTH + 0.01).contains(&x) && (0.0..=h).contains(&y),
                "{s:?}"
            );
        }
        let svg = c.to_svg();
        assert!(
            svg.contains(">MISSED</text>") && svg.contains("#bf1414"),
            "{svg}"
        );
        assert!(!svg.contains("<script") && !svg.contains("href"), "{svg}");
    }
}
