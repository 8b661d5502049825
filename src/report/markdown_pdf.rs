//! Markdown → PDF: pulldown-cmark events laid out as printpdf ops (headings, wrapped paragraphs,
//! lists, tables with wrapped cells and repeated headers, code blocks, page headers/footers),
//! with the embedded DejaVu fonts subset to the glyphs used, and a deterministic byte output.

use super::phase_chart::{self, Paint, PhaseChart, Shape};
use super::{Integrity, PageFrame};
use printpdf::{
    Color, FontId, Line, LinePoint, Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFont,
    PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt, Rect, Rgb, TextItem, TextMatrix,
    WindingOrder,
};
use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

const SANS_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");
const MONO_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansMono.ttf");

/// A4 in points, portrait.
const A4_SHORT: f32 = 595.276;
const A4_LONG: f32 = 841.89;
const MARGIN_X: f32 = 50.0;
/// Space above the body: the running header.
const HEAD_ROOM: f32 = 62.0;
const BOTTOM: f32 = 56.0;
/// The Markdown comments that turn the following pages landscape (for wide tables) and back.
pub const LANDSCAPE_MARKER: &str = "<!-- landscape -->";
pub const PORTRAIT_MARKER: &str = "<!-- portrait -->";

/// A page's orientation; every page is A4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Orientation {
    Portrait,
    Landscape,
}

impl Orientation {
    /// Width and height in points.
    fn size(self) -> (f32, f32) {
        match self {
            Orientation::Portrait => (A4_SHORT, A4_LONG),
            Orientation::Landscape => (A4_LONG, A4_SHORT),
        }
    }
    fn width(self) -> f32 {
        self.size().0
    }
    fn height(self) -> f32 {
        self.size().1
    }
    /// Top of the body (below the running header).
    fn top(self) -> f32 {
        self.height() - HEAD_ROOM
    }
    /// Width between the side margins.
    fn content_w(self) -> f32 {
        self.width() - 2.0 * MARGIN_X
    }
}
const BODY_SIZE: f32 = 10.0;
const TABLE_SIZE: f32 = 8.0;
const CODE_SIZE: f32 = 8.5;
const CELL_PAD: f32 = 3.0;

/// The three faces; ids are fixed so the PDF does not depend on printpdf's random resource
/// names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Face {
    Sans,
    Bold,
    Mono,
}

impl Face {
    const ALL: [Face; 3] = [Face::Sans, Face::Bold, Face::Mono];
    fn id(self) -> &'static str {
        match self {
            Face::Sans => "FSans",
            Face::Bold => "FSansBold",
            Face::Mono => "FSansMono",
        }
    }
    fn handle(self) -> PdfFontHandle {
        PdfFontHandle::External(FontId(self.id().to_owned()))
    }
}

struct Metrics {
    font: ParsedFont,
    ascii: [f32; 128],
    units: f32,
}

impl Metrics {
    fn load(bytes: &[u8]) -> Metrics {
        let mut warn = Vec::new();
        let font = ParsedFont::from_bytes(bytes, 0, &mut warn).expect("bundled DejaVu font parses");
        let units = font.units_per_em.max(1) as f32;
        let mut ascii = [0.0; 128];
        for (i, w) in ascii.iter_mut().enumerate() {
            *w = font
                .lookup_glyph_index(i as u32)
                .and_then(|g| font.get_glyph_width(g))
                .unwrap_or(0) as f32
                / units;
        }
        Metrics { font, ascii, units }
    }

    fn has(&self, c: char) -> bool {
        self.font.lookup_glyph_index(c as u32).is_some()
    }

    /// Advance width of `c` in em.
    fn em(&self, c: char) -> f32 {
        if (c as u32) < 128 {
            return self.ascii[c as usize];
        }
        self.font
            .lookup_glyph_index(c as u32)
            .and_then(|g| self.font.get_glyph_width(g))
            .unwrap_or(0) as f32
            / self.units
    }
}

fn metrics(face: Face) -> &'static Metrics {
    static FONTS: OnceLock<[Metrics; 3]> = OnceLock::new();
    let all = FONTS.get_or_init(|| {
        [
            Metrics::load(SANS_TTF),
            Metrics::load(BOLD_TTF),
            Metrics::load(MONO_TTF),
        ]
    });
    &all[face as usize]
}

/// Replaces characters the face cannot draw (so nothing silently renders as a blank box).
fn drawable(face: Face, s: &str) -> String {
    let m = metrics(face);
    s.chars()
        .map(|c| {
            if c == ' ' || c == '\n' || m.has(c) {
                c
            } else if c == '\t' {
                ' '
            } else if m.has('\u{fffd}') {
                '\u{fffd}'
            } else {
                '?'
            }
        })
        .collect()
}

fn text_width(face: Face, size: f32, s: &str) -> f32 {
    let m = metrics(face);
    s.chars().map(|c| m.em(c)).sum::<f32>() * size
}

/// Plain text of inline Markdown (for titles): the text events, without syntax.
pub fn plain_text(md: &str) -> String {
    let mut s = String::new();
    for ev in Parser::new(md) {
        match ev {
            Event::Text(t) | Event::Code(t) => s.push_str(&t),
            Event::SoftBreak | Event::HardBreak => s.push(' '),
            _ => {}
        }
    }
    s
}

#[derive(Clone, Debug)]
struct Run {
    face: Face,
    text: String,
}

/// A laid-out line: pieces with x offsets.
type LineRuns = Vec<(f32, Face, String)>;

/// Greedy word wrap of styled runs into lines no wider than `width`; words longer than a line
/// are broken between characters.
fn wrap(runs: &[Run], size: f32, width: f32) -> Vec<LineRuns> {
    let mut lines: Vec<LineRuns> = Vec::new();
    let mut cur: LineRuns = Vec::new();
    let mut x = 0.0f32;
    let mut pending_space = false;
    // Width of the space that separates two words: the font of the run the space was in.
    let mut pending_space_w = 0.0f32;
    let mut pending_space_face = Face::Sans;
    let push_piece = |cur: &mut LineRuns, x0: f32, face: Face, s: &str| {
        if let Some(last) = cur.last_mut() {
            if last.1 == face {
                last.2.push_str(s);
                return;
            }
        }
        cur.push((x0, face, s.to_owned()));
    };
    for run in runs {
        let text = drawable(run.face, &run.text);
        let space_w = text_width(run.face, size, " ");
        let mut word = String::new();
        let mut chars = text.chars().peekable();
        loop {
            let c = chars.next();
            let at_break = matches!(c, None | Some(' ') | Some('\n'));
            if !at_break {
                word.push(c.unwrap_or(' '));
                continue;
            }
            if !word.is_empty() {
                let ww = text_width(run.face, size, &word);
                let lead = if pending_space && x > 0.0 {
                    pending_space_w
                } else {
                    0.0
                };
                if x + lead + ww <= width {
                    if lead > 0.0 {
                        push_piece(&mut cur, x, pending_space_face, " ");
                        x += lead;
                    }
                    push_piece(&mut cur, x, run.face, &word);
                    x += ww;
                } else {
                    if !cur.is_empty() {
                        lines.push(std::mem::take(&mut cur));
                    }
                    // Break an over-long word, after a path or list separator when there is one
                    // on the line, else between characters.
                    let mut piece = String::new();
                    let mut pw = 0.0;
                    let mut last_break: Option<(usize, f32)> = None;
                    for ch in word.chars() {
                        let cw = metrics(run.face).em(ch) * size;
                        if pw + cw > width && !piece.is_empty() {
                            match last_break {
                                Some((at, w)) if at < piece.len() => {
                                    let rest = piece.split_off(at);
                                    cur.push((0.0, run.face, std::mem::replace(&mut piece, rest)));
                                    pw -= w;
                                }
                                _ => {
                                    cur.push((0.0, run.face, std::mem::take(&mut piece)));
                                    pw = 0.0;
                                }
                            }
                            lines.push(std::mem::take(&mut cur));
                            last_break = None;
                        }
                        piece.push(ch);
                        pw += cw;
                        if matches!(ch, '/' | '-' | '_' | '.' | ',' | ';' | ':') {
                            last_break = Some((piece.len(), pw));
                        }
                    }
                    cur.push((0.0, run.face, piece));
                    x = pw;
                }
                word.clear();
                pending_space = false;
            }
            match c {
                None => break,
                Some('\n') => {
                    lines.push(std::mem::take(&mut cur));
                    x = 0.0;
                    pending_space = false;
                }
                Some(_) => {
                    pending_space = true;
                    pending_space_w = space_w;
                    pending_space_face = run.face;
                }
            }
        }
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

/// `widths` cut down to sum to `total` by lowering the widest to one level: every column wider
/// than the level gets the level, the others keep their width.
fn level_widths(widths: &[f32], total: f32) -> Vec<f32> {
    let mut sorted = widths.to_vec();
    sorted.sort_by(f32::total_cmp);
    // Columns narrower than the level keep their width; the rest share what is left equally.
    let mut kept = 0.0;
    let mut level = f32::INFINITY;
    for (i, w) in sorted.iter().enumerate() {
        let rest = (widths.len() - i) as f32;
        let candidate = (total - kept) / rest;
        if *w >= candidate {
            level = candidate;
            break;
        }
        kept += w;
    }
    widths.iter().map(|w| w.min(level)).collect()
}

struct Layout {
    pages: Vec<(Orientation, Vec<Op>)>,
    ops: Vec<Op>,
    /// Orientation of the page being laid out.
    orientation: Orientation,
    y: f32,
    used: HashMap<Face, BTreeSet<char>>,
    quote_depth: usize,
}

/// The words a template sets in bold to mark what went wrong (a missed target, a Critical or
/// High finding) are also printed in red: colour plus the word, so print and colour-blind
/// readers keep it.
const ALARM_WORDS: &[&str] = &["MISSED", "CRITICAL", "HIGH"];

fn alarm_color(face: Face, s: &str) -> Option<Color> {
    (face == Face::Bold && ALARM_WORDS.contains(&s.trim())).then(|| rgb(0.75, 0.08, 0.08))
}

fn rgb(r: f32, g: f32, b: f32) -> Color {
    Color::Rgb(Rgb::new(r, g, b, None))
}

impl Layout {
    fn new() -> Self {
        Layout {
            pages: Vec::new(),
            ops: Vec::new(),
            orientation: Orientation::Portrait,
            y: Orientation::Portrait.top(),
            used: HashMap::new(),
            quote_depth: 0,
        }
    }

    fn new_page(&mut self) {
        let ops = std::mem::take(&mut self.ops);
        self.pages.push((self.orientation, ops));
        self.y = self.top();
    }

    /// Lays out what follows on pages of `orientation`, from a new page unless this one is
    /// still empty.
    fn turn(&mut self, orientation: Orientation) {
        if orientation == self.orientation {
            return;
        }
        if self.y < self.top() {
            self.new_page();
        }
        self.orientation = orientation;
        self.y = self.top();
    }

    fn top(&self) -> f32 {
        self.orientation.top()
    }

    fn content_w(&self) -> f32 {
        self.orientation.content_w()
    }

    /// Starts a new page unless `h` more points fit on this one.
    fn ensure(&mut self, h: f32) {
        if self.y - h < BOTTOM && self.y < self.top() {
            self.new_page();
        }
    }

    fn text_at(&mut self, x: f32, baseline: f32, face: Face, size: f32, s: &str, col: Color) {
        if s.is_empty() {
            return;
        }
        let s = drawable(face, s);
        self.used.entry(face).or_default().extend(s.chars());
        self.ops.push(Op::StartTextSection);
        self.ops.push(Op::SetFillColor { col });
        self.ops.push(Op::SetFont {
            font: face.handle(),
            size: Pt(size),
        });
        self.ops.push(Op::SetTextMatrix {
            matrix: TextMatrix::Translate(Pt(x), Pt(baseline)),
        });
        self.ops.push(Op::ShowText {
            items: vec![TextItem::Text(s)],
        });
        self.ops.push(Op::EndTextSection);
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, col: Color) {
        self.ops.push(Op::SaveGraphicsState);
        self.ops.push(Op::SetFillColor { col });
        self.ops.push(Op::DrawRectangle {
            rectangle: Rect {
                x: Pt(x),
                y: Pt(y),
                width: Pt(w),
                height: Pt(h),
                mode: Some(PaintMode::Fill),
                winding_order: Some(WindingOrder::NonZero),
            },
        });
        self.ops.push(Op::RestoreGraphicsState);
    }

    fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, thickness: f32, col: Color) {
        self.ops.push(Op::SaveGraphicsState);
        self.ops.push(Op::SetOutlineColor { col });
        self.ops.push(Op::SetOutlineThickness { pt: Pt(thickness) });
        self.ops.push(Op::DrawLine {
            line: Line {
                points: vec![
                    LinePoint {
                        p: Point {
                            x: Pt(x1),
                            y: Pt(y1),
                        },
                        bezier: false,
                    },
                    LinePoint {
                        p: Point {
                            x: Pt(x2),
                            y: Pt(y2),
                        },
                        bezier: false,
                    },
                ],
                is_closed: false,
            },
        });
        self.ops.push(Op::RestoreGraphicsState);
    }

    /// Draws the phase chart as vector graphics at the current position (one block: moved to
    /// the next page whole when it does not fit).
    fn phase_chart(&mut self, chart: &PhaseChart) {
        let (h, shapes) = chart.shapes();
        self.ensure(h + 8.0);
        let (x0, y0) = (MARGIN_X, self.y - 4.0);
        let paint = |p: Paint| {
            let (r, g, b) = p.rgb();
            rgb(r, g, b)
        };
        for shape in shapes {
            match shape {
                Shape::Rect { x, y, w, h, fill } => {
                    self.rect(x0 + x, y0 - y - h, w, h, paint(fill));
                }
                Shape::Line {
                    x1,
                    y1,
                    x2,
                    y2,
                    width,
                    stroke,
                } => self.line(x0 + x1, y0 - y1, x0 + x2, y0 - y2, width, paint(stroke)),
                Shape::Text {
                    x,
                    y,
                    size,
                    bold,
                    text,
                    fill,
                    anchor_end,
                } => {
                    let face = if bold { Face::Bold } else { Face::Sans };
                    let x = if anchor_end {
                        x - text_width(face, size, &text)
                    } else {
                        x
                    };
                    self.text_at(x0 + x, y0 - y, face, size, &text, paint(fill));
                }
            }
        }
        self.y = y0 - h - 8.0;
    }

    fn text_color(&self) -> Color {
        if self.quote_depth > 0 {
            rgb(0.65, 0.0, 0.0)
        } else {
            rgb(0.0, 0.0, 0.0)
        }
    }

    /// Lays out wrapped runs at `indent`, with an optional marker (bullet/number) before it.
    fn paragraph(&mut self, runs: &[Run], size: f32, indent: f32, marker: Option<&str>) {
        let quote_indent = self.quote_depth as f32 * 12.0;
        let x0 = MARGIN_X + indent + quote_indent;
        let width = self.content_w() - indent - quote_indent;
        let lh = size * 1.35;
        let lines = wrap(runs, size, width);
        let col = self.text_color();
        for (i, line) in lines.iter().enumerate() {
            self.ensure(lh);
            let baseline = self.y - size;
            if i == 0 {
                if let Some(m) = marker {
                    let mw = text_width(Face::Sans, size, m);
                    self.text_at(x0 - mw - 4.0, baseline, Face::Sans, size, m, col.clone());
                }
            }
            if self.quote_depth > 0 {
                let bar_x = MARGIN_X + quote_indent - 6.0;
                self.line(bar_x, self.y, bar_x, self.y - lh, 2.0, rgb(0.75, 0.1, 0.1));
            }
            for (dx, face, s) in line {
                let c = alarm_color(*face, s).unwrap_or_else(|| col.clone());
                self.text_at(x0 + dx, baseline, *face, size, s, c);
            }
            self.y -= lh;
        }
    }

    fn heading(&mut self, runs: &[Run], level: HeadingLevel) {
        let size = match level {
            HeadingLevel::H1 => 17.0,
            HeadingLevel::H2 => 13.5,
            HeadingLevel::H3 => 11.5,
            _ => 10.5,
        };
        // Keep a heading with a few lines of what follows (a section heading with its first
        // sub-heading and table rows).
        let keep = match level {
            HeadingLevel::H1 | HeadingLevel::H2 => 90.0,
            _ => 40.0,
        };
        self.ensure(size * 1.4 + keep);
        if self.y < self.top() {
            self.y -= size * 0.6;
        }
        let bold: Vec<Run> = runs
            .iter()
            .map(|r| Run {
                face: if r.face == Face::Mono {
                    Face::Mono
                } else {
                    Face::Bold
                },
                text: r.text.clone(),
            })
            .collect();
        self.paragraph(&bold, size, 0.0, None);
        if level == HeadingLevel::H1 {
            let y = self.y - 2.0;
            self.line(
                MARGIN_X,
                y,
                MARGIN_X + self.content_w(),
                y,
                0.8,
                rgb(0.3, 0.3, 0.3),
            );
            self.y -= 6.0;
        }
        self.y -= 3.0;
    }

    fn code_block(&mut self, text: &str) {
        let size = CODE_SIZE;
        let lh = size * 1.3;
        let width = self.content_w() - 8.0;
        let m = metrics(Face::Mono);
        // Code keeps its spaces and line breaks; lines longer than the block wrap at any
        // character.
        let mut lines: Vec<String> = Vec::new();
        for src in text.trim_end_matches('\n').split('\n') {
            let src = drawable(Face::Mono, &src.replace('\t', "    "));
            let mut cur = String::new();
            let mut w = 0.0;
            for c in src.chars() {
                let cw = m.em(c) * size;
                if w + cw > width && !cur.is_empty() {
                    lines.push(std::mem::take(&mut cur));
                    w = 0.0;
                }
                cur.push(c);
                w += cw;
            }
            lines.push(cur);
        }
        for line in &lines {
            self.ensure(lh);
            self.rect(
                MARGIN_X,
                self.y - lh,
                self.content_w(),
                lh,
                rgb(0.93, 0.93, 0.93),
            );
            self.text_at(
                MARGIN_X + 4.0,
                self.y - size,
                Face::Mono,
                size,
                line,
                rgb(0.0, 0.0, 0.0),
            );
            self.y -= lh;
        }
        self.y -= 6.0;
    }

    fn table(&mut self, header: &[Vec<Run>], rows: &[Vec<Vec<Run>>]) {
        let ncols = header
            .len()
            .max(rows.iter().map(|r| r.len()).max().unwrap_or(0));
        if ncols == 0 {
            return;
        }
        let size = TABLE_SIZE;
        let lh = size * 1.3;
        // Header cells are set in bold: measure them in bold too.
        let header: Vec<Vec<Run>> = header
            .iter()
            .map(|cell| {
                cell.iter()
                    .map(|r| Run {
                        face: if r.face == Face::Sans {
                            Face::Bold
                        } else {
                            r.face
                        },
                        text: r.text.clone(),
                    })
                    .collect()
            })
            .collect();
        let header = header.as_slice();
        // Natural (one-line) and minimum (longest word, capped) widths per column. The cap keeps
        // one long word from taking the table, yet lets a timestamp or a finding code keep its
        // line in a five-column table.
        let mut natural = vec![0.0f32; ncols];
        let mut minimum = vec![0.0f32; ncols];
        let cap = self.content_w() * 0.3;
        for row in std::iter::once(header).chain(rows.iter().map(|r| r.as_slice())) {
            for (i, cell) in row.iter().enumerate() {
                let mut w = 0.0;
                for r in cell {
                    let t = drawable(r.face, &r.text);
                    w += text_width(r.face, size, &t);
                    for word in t.split(' ') {
                        let ww = text_width(r.face, size, word).min(cap);
                        minimum[i] = minimum[i].max(ww);
                    }
                }
                natural[i] = natural[i].max(w + 2.0 * CELL_PAD);
            }
        }
        let widths: Vec<f32> = {
            let total: f32 = natural.iter().sum();
            if total <= self.content_w() {
                let extra = (self.content_w() - total) / ncols as f32;
                natural.iter().map(|w| w + extra).collect()
            } else {
                let base: Vec<f32> = (0..ncols)
                    .map(|i| (minimum[i] + 2.0 * CELL_PAD).min(natural[i]))
                    .collect();
                let base_total: f32 = base.iter().sum();
                if base_total > self.content_w() {
                    // Even the longest words do not fit side by side: the widest columns give
                    // way first, so short values that must stay whole (evidence numbers, short
                    // hashes, key ids, times) keep their line and long paths wrap.
                    level_widths(&base, self.content_w())
                } else {
                    let want: Vec<f32> = (0..ncols).map(|i| natural[i] - base[i]).collect();
                    let want_total: f32 = want.iter().sum::<f32>().max(1e-3);
                    let room = self.content_w() - base_total;
                    (0..ncols)
                        .map(|i| base[i] + room * want[i] / want_total)
                        .collect()
                }
            }
        };
        let wrap_row = |row: &[Vec<Run>]| -> Vec<Vec<LineRuns>> {
            (0..ncols)
                .map(|i| match row.get(i) {
                    Some(cell) => wrap(cell, size, (widths[i] - 2.0 * CELL_PAD).max(4.0)),
                    None => vec![],
                })
                .collect()
        };
        // A header row with no text (`| | |`) is not drawn or repeated.
        let header_empty = header
            .iter()
            .all(|cell| cell.iter().all(|r| r.text.trim().is_empty()));
        let head_lines = if header_empty {
            Vec::new()
        } else {
            wrap_row(header)
        };
        let head_h =
            head_lines.iter().map(|c| c.len()).max().unwrap_or(1) as f32 * lh + 2.0 * CELL_PAD;
        let page_room = self.top() - BOTTOM - head_h;
        // Keep the header with the first row (when that row fits on a page at all).
        let first_h = rows
            .first()
            .map(|r| {
                wrap_row(r).iter().map(|c| c.len()).max().unwrap_or(1) as f32 * lh + 2.0 * CELL_PAD
            })
            .unwrap_or(0.0);
        self.ensure(head_h + if first_h <= page_room { first_h } else { lh });
        self.table_row(&head_lines, &widths, lh, true);
        for row in rows {
            let cells = wrap_row(row);
            let n = cells.iter().map(|c| c.len()).max().unwrap_or(1).max(1);
            let row_h = n as f32 * lh + 2.0 * CELL_PAD;
            // A row that fits on a page is never split: it moves to the next page instead.
            if row_h <= page_room && self.y - row_h < BOTTOM {
                self.new_page();
                self.table_row(&head_lines, &widths, lh, true);
            }
            let mut start = 0;
            let mut fresh_page = false;
            while start < n {
                let avail = self.y - BOTTOM - 2.0 * CELL_PAD;
                let mut fit = ((avail / lh).floor().max(0.0) as usize).min(n - start);
                if fit == 0 {
                    if fresh_page {
                        // The header alone fills the page: draw at least one line anyway.
                        fit = 1;
                    } else {
                        self.new_page();
                        self.table_row(&head_lines, &widths, lh, true);
                        fresh_page = true;
                        continue;
                    }
                }
                fresh_page = false;
                let part: Vec<Vec<LineRuns>> = cells
                    .iter()
                    .map(|c| c.iter().skip(start).take(fit).cloned().collect())
                    .collect();
                self.table_row(&part, &widths, lh, false);
                start += fit;
                if start < n {
                    self.new_page();
                    self.table_row(&head_lines, &widths, lh, true);
                    fresh_page = true;
                }
            }
        }
        self.y -= 8.0;
    }

    fn table_row(&mut self, cells: &[Vec<LineRuns>], widths: &[f32], lh: f32, header: bool) {
        if header && cells.is_empty() {
            return;
        }
        let n = cells.iter().map(|c| c.len()).max().unwrap_or(1).max(1);
        let h = n as f32 * lh + 2.0 * CELL_PAD;
        let top = self.y;
        if header {
            self.rect(
                MARGIN_X,
                top - h,
                widths.iter().sum(),
                h,
                rgb(0.88, 0.90, 0.94),
            );
        }
        let mut x = MARGIN_X;
        let col = self.text_color();
        for (i, cell) in cells.iter().enumerate() {
            for (li, line) in cell.iter().enumerate() {
                let baseline = top - CELL_PAD - li as f32 * lh - TABLE_SIZE;
                for (dx, face, s) in line {
                    self.text_at(
                        x + CELL_PAD + dx,
                        baseline,
                        *face,
                        TABLE_SIZE,
                        s,
                        alarm_color(*face, s).unwrap_or_else(|| col.clone()),
                    );
                }
            }
            x += widths[i];
        }
        let grey = rgb(0.7, 0.7, 0.7);
        self.line(MARGIN_X, top - h, x, top - h, 0.4, grey.clone());
        if header {
            self.line(MARGIN_X, top, x, top, 0.4, grey);
        }
        self.y = top - h;
    }
}

/// A table being collected: header cells, body rows (cells of runs), inside-the-head flag.
type TableDraft = (Vec<Vec<Run>>, Vec<Vec<Vec<Run>>>, bool);

/// Inline collection state while walking events.
#[derive(Default)]
struct Inline {
    runs: Vec<Run>,
    bold: usize,
}

impl Inline {
    fn push(&mut self, face: Face, s: &str) {
        let face = if face == Face::Sans && self.bold > 0 {
            Face::Bold
        } else {
            face
        };
        match self.runs.last_mut() {
            Some(r) if r.face == face => r.text.push_str(s),
            _ => self.runs.push(Run {
                face,
                text: s.to_owned(),
            }),
        }
    }
    fn take(&mut self) -> Vec<Run> {
        std::mem::take(&mut self.runs)
    }
}

fn lay_out(markdown: &str, chart: &PhaseChart) -> Layout {
    let mut l = Layout::new();
    let mut inl = Inline::default();
    let mut lists: Vec<Option<u64>> = Vec::new();
    let mut item_marker: Option<String> = None;
    let mut in_code: Option<String> = None;
    let mut table: Option<TableDraft> = None;
    let mut cell: Vec<Vec<Run>> = Vec::new();
    let mut heading: Option<HeadingLevel> = None;

    let flush_item =
        |l: &mut Layout, inl: &mut Inline, marker: &mut Option<String>, depth: usize| {
            let runs = inl.take();
            if runs.iter().all(|r| r.text.trim().is_empty()) && marker.is_none() {
                return;
            }
            let indent = 16.0 * depth as f32;
            l.paragraph(&runs, BODY_SIZE, indent, marker.take().as_deref());
        };

    let opts = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    for ev in Parser::new_ext(markdown, opts) {
        if let Some(code) = in_code.as_mut() {
            match ev {
                Event::Text(t) => code.push_str(&t),
                Event::End(TagEnd::CodeBlock) => {
                    let text = in_code.take().unwrap_or_default();
                    l.code_block(&text);
                }
                _ => {}
            }
            continue;
        }
        match ev {
            Event::Start(Tag::Heading { level, .. }) => heading = Some(level),
            Event::End(TagEnd::Heading(_)) => {
                let runs = inl.take();
                l.heading(&runs, heading.take().unwrap_or(HeadingLevel::H4));
            }
            Event::Start(Tag::Paragraph) => {}
            Event::End(TagEnd::Paragraph) => {
                if lists.is_empty() {
                    let runs = inl.take();
                    l.paragraph(&runs, BODY_SIZE, 0.0, None);
                    l.y -= 4.0;
                } else {
                    flush_item(&mut l, &mut inl, &mut item_marker, lists.len());
                }
            }
            Event::Start(Tag::BlockQuote(_)) => l.quote_depth += 1,
            Event::End(TagEnd::BlockQuote(_)) => {
                l.quote_depth = l.quote_depth.saturating_sub(1);
                l.y -= 4.0;
            }
            Event::Start(Tag::List(start)) => {
                if !lists.is_empty() {
                    flush_item(&mut l, &mut inl, &mut item_marker, lists.len());
                }
                lists.push(start);
            }
            Event::End(TagEnd::List(_)) => {
                lists.pop();
                if lists.is_empty() {
                    l.y -= 4.0;
                }
            }
            Event::Start(Tag::Item) => {
                let marker = match lists.last_mut() {
                    Some(Some(n)) => {
                        let m = format!("{n}.");
                        *n += 1;
                        m
                    }
                    _ => "•".to_owned(),
                };
                item_marker = Some(marker);
            }
            Event::End(TagEnd::Item) => {
                flush_item(&mut l, &mut inl, &mut item_marker, lists.len());
            }
            Event::Start(Tag::CodeBlock(_)) => in_code = Some(String::new()),
            Event::Start(Tag::Table(_)) => table = Some((Vec::new(), Vec::new(), false)),
            Event::Start(Tag::TableHead) => {
                if let Some(t) = table.as_mut() {
                    t.2 = true;
                }
            }
            Event::End(TagEnd::TableHead) => {
                if let Some(t) = table.as_mut() {
                    t.0 = std::mem::take(&mut cell);
                    t.2 = false;
                }
            }
            Event::Start(Tag::TableRow) => cell.clear(),
            Event::End(TagEnd::TableRow) => {
                if let Some(t) = table.as_mut() {
                    t.1.push(std::mem::take(&mut cell));
                }
            }
            Event::Start(Tag::TableCell) => {}
            Event::End(TagEnd::TableCell) => cell.push(inl.take()),
            Event::End(TagEnd::Table) => {
                if let Some((h, rows, _)) = table.take() {
                    l.table(&h, &rows);
                }
            }
            Event::Start(Tag::Strong) => inl.bold += 1,
            Event::End(TagEnd::Strong) => inl.bold = inl.bold.saturating_sub(1),
            Event::Text(t) => inl.push(Face::Sans, &t),
            Event::Code(t) => inl.push(Face::Mono, &t),
            // A template may force a page break with an HTML comment `<!-- pagebreak -->`; data
            // can never produce one (values are escaped). Other HTML is shown as text.
            Event::Html(t) if t.trim() == "<!-- pagebreak -->" && l.y < l.top() => l.new_page(),
            Event::Html(t) if t.trim() == LANDSCAPE_MARKER => l.turn(Orientation::Landscape),
            Event::Html(t) if t.trim() == PORTRAIT_MARKER => l.turn(Orientation::Portrait),
            Event::Html(t) if t.trim() == "<!-- pagebreak -->" => {}
            Event::Html(t) if t.trim() == phase_chart::MARKER => l.phase_chart(chart),
            Event::Html(t) | Event::InlineHtml(t) => inl.push(Face::Sans, &t),
            Event::SoftBreak => inl.push(Face::Sans, " "),
            Event::HardBreak => inl.push(Face::Sans, "\n"),
            Event::Rule => {
                l.ensure(10.0);
                let y = l.y - 5.0;
                l.line(
                    MARGIN_X,
                    y,
                    MARGIN_X + l.content_w(),
                    y,
                    0.5,
                    rgb(0.6, 0.6, 0.6),
                );
                l.y -= 10.0;
            }
            Event::FootnoteReference(t) => inl.push(Face::Sans, &t),
            Event::TaskListMarker(done) => inl.push(Face::Sans, if done { "[x] " } else { "[ ] " }),
            _ => {}
        }
    }
    let rest = inl.take();
    if !rest.is_empty() {
        l.paragraph(&rest, BODY_SIZE, 0.0, None);
    }
    if !l.ops.is_empty() || l.pages.is_empty() {
        l.new_page();
    }
    l
}

/// Adds the running header (title, verification warning) and footer (bundle digest, page
/// number) to every page.
fn frame_pages(l: &mut Layout, title: &str, frame: &PageFrame) {
    let total = l.pages.len();
    let pages = std::mem::take(&mut l.pages);
    for (i, (orientation, body)) in pages.into_iter().enumerate() {
        let (page_w, page_h) = orientation.size();
        l.ops = Vec::new();
        let grey = rgb(0.35, 0.35, 0.35);
        let head_y = page_h - 30.0;
        let title_text: String = title.chars().take(110).collect();
        l.text_at(MARGIN_X, head_y, Face::Sans, 8.0, &title_text, grey.clone());
        if let Integrity::Altered { .. } = frame.integrity {
            l.text_at(
                MARGIN_X,
                head_y - 12.0,
                Face::Bold,
                8.5,
                "WARNING: THIS BUNDLE FAILED VERIFICATION - the evidence may have been altered",
                rgb(0.75, 0.0, 0.0),
            );
        }
        l.line(
            MARGIN_X,
            page_h - 48.0,
            page_w - MARGIN_X,
            page_h - 48.0,
            0.4,
            grey.clone(),
        );
        l.line(MARGIN_X, 40.0, page_w - MARGIN_X, 40.0, 0.4, grey.clone());
        if !frame.bundle_digest.is_empty() {
            let digest = format!("Bundle SHA-256 {}", frame.bundle_digest);
            l.text_at(MARGIN_X, 28.0, Face::Mono, 7.0, &digest, grey.clone());
        }
        if !frame.tlp.is_empty() {
            let tlp: String = frame.tlp.chars().take(40).collect();
            let w = text_width(Face::Bold, 8.0, &tlp);
            l.text_at(
                page_w - MARGIN_X - w,
                head_y,
                Face::Bold,
                8.0,
                &tlp,
                grey.clone(),
            );
        }
        let pn = format!("Page {} of {}", i + 1, total);
        let w = text_width(Face::Sans, 8.0, &pn);
        l.text_at(page_w - MARGIN_X - w, 28.0, Face::Sans, 8.0, &pn, grey);
        let mut ops = std::mem::take(&mut l.ops);
        ops.extend(body);
        l.pages.push((orientation, ops));
    }
}

/// Subsets one face to the characters used (plus .notdef), keeping a Unicode cmap so printpdf
/// maps text to the renumbered glyphs, and hmtx so widths are unchanged.
fn subset_face(face: Face, used: &BTreeSet<char>) -> Result<ParsedFont, String> {
    use allsorts::binary::read::ReadScope;
    use allsorts::font_data::FontData;
    use allsorts::subset::{subset, CmapTarget, SubsetProfile};
    use allsorts::tag;
    let full = &metrics(face).font;
    let mut gids: BTreeSet<u16> = used
        .iter()
        .filter_map(|c| full.lookup_glyph_index(*c as u32))
        .collect();
    gids.remove(&0);
    let ids: Vec<u16> = std::iter::once(0).chain(gids).collect();
    let bytes = match face {
        Face::Sans => SANS_TTF,
        Face::Bold => BOLD_TTF,
        Face::Mono => MONO_TTF,
    };
    let data = ReadScope::new(bytes)
        .read::<FontData<'_>>()
        .map_err(|e| format!("reading {face:?} font: {e}"))?;
    let provider = data
        .table_provider(0)
        .map_err(|e| format!("reading {face:?} font: {e}"))?;
    // Only what a PDF CIDFontType2 program needs (glyf and loca are always kept): the `name`
    // table (DejaVu's carries its whole licence text, ~4 KB a face) and the hinting programs
    // (cvt, fpgm, prep) are left out. The licence ships next to the fonts instead.
    let profile = SubsetProfile::Custom(vec![
        tag::CMAP,
        tag::HEAD,
        tag::HHEA,
        tag::HMTX,
        tag::MAXP,
        tag::POST,
    ]);
    let sub = subset(&provider, &ids, &profile, CmapTarget::Unicode)
        .map_err(|e| format!("subsetting {face:?} font: {e:?}"))?;
    let mut warn = Vec::new();
    ParsedFont::from_bytes(&sub, 0, &mut warn)
        .ok_or_else(|| format!("subset {face:?} font does not parse"))
}

/// Lays out `markdown` and returns the PDF bytes.
pub fn render(
    markdown: &str,
    title: &str,
    frame: &PageFrame,
    chart: &PhaseChart,
) -> Result<Vec<u8>, String> {
    let mut l = lay_out(markdown, chart);
    frame_pages(&mut l, title, frame);

    let mut doc = PdfDocument::new(title);
    doc.metadata.info.producer = format!("{} {}", crate::TOOL_NAME, crate::TOOL_VERSION);
    doc.metadata.info.creator = doc.metadata.info.producer.clone();
    for face in Face::ALL {
        let used = l.used.get(&face).cloned().unwrap_or_default();
        let font = subset_face(face, &used)?;
        doc.resources
            .fonts
            .map
            .insert(FontId(face.id().to_owned()), PdfFont::new(font));
    }
    let pages = std::mem::take(&mut l.pages)
        .into_iter()
        .map(|(orientation, ops)| {
            let (w, h) = match orientation {
                Orientation::Portrait => (Mm(210.0), Mm(297.0)),
                Orientation::Landscape => (Mm(297.0), Mm(210.0)),
            };
            PdfPage::new(w, h, ops)
        })
        .collect();
    doc.pages = pages;

    let opts = PdfSaveOptions::default();
    let mut warnings = Vec::new();
    let mut lo = doc.to_lopdf_document(&opts, &mut warnings);
    // printpdf seeds /ID from a process-global PRNG; a content hash keeps the file reproducible.
    let id = crate::model::digest::Sha256Digest::of(
        format!("{}\n{}\n{}", frame.bundle_digest, title, markdown).as_bytes(),
    );
    let id_bytes = id.0[..16].to_vec();
    lo.trailer.set(
        "ID",
        lopdf::Object::Array(vec![
            lopdf::Object::String(id_bytes.clone(), lopdf::StringFormat::Hexadecimal),
            lopdf::Object::String(id_bytes, lopdf::StringFormat::Hexadecimal),
        ]),
    );
    set_document_info(&mut lo, frame);
    // Plain PDF 1.7 (ISO 32000-1), which is what the file is; printpdf writes a 1.3 header.
    // No PDF/A or PDF/X conformance is claimed: none is checked here.
    lo.version = "1.7".to_owned();
    lo.compress();
    let mut out = Vec::new();
    lo.save_to(&mut out)
        .map_err(|e| format!("writing PDF: {e}"))?;
    Ok(out)
}

/// Document information that is true: dates are the collection time, the author is the
/// organisation, and no PDF/X (or other) conformance is claimed, since none is checked: the
/// file is plain PDF.
fn set_document_info(lo: &mut lopdf::Document, frame: &PageFrame) {
    let Ok(info_ref) = lo.trailer.get(b"Info").and_then(|o| o.as_reference()) else {
        return;
    };
    let Ok(info) = lo.get_object_mut(info_ref).and_then(|o| o.as_dict_mut()) else {
        return;
    };
    let date = frame.date.format("D:%Y%m%d%H%M%S+00'00'").to_string();
    for key in ["CreationDate", "ModDate"] {
        info.set(
            key,
            lopdf::Object::String(date.clone().into_bytes(), lopdf::StringFormat::Literal),
        );
    }
    let mut author = vec![0xfe, 0xff];
    for u in frame.author.encode_utf16() {
        author.extend_from_slice(&u.to_be_bytes());
    }
    info.set(
        "Author",
        lopdf::Object::String(author, lopdf::StringFormat::Literal),
    );
    for key in [
        "GTS_PDFXVersion",
        "Trapped",
        "Identifier",
        "Keywords",
        "Subject",
    ] {
        info.remove(key.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_widest_columns_give_way_first() {
        // Short columns keep their width; the two wide ones share the rest equally.
        assert_eq!(
            level_widths(&[30.0, 300.0, 60.0, 400.0], 400.0),
            vec![30.0, 155.0, 60.0, 155.0]
        );
        // Widths that fit are unchanged.
        assert_eq!(level_widths(&[10.0, 20.0], 100.0), vec![10.0, 20.0]);
        let w = level_widths(&[100.0, 100.0, 100.0], 150.0);
        assert_eq!(w, vec![50.0, 50.0, 50.0]);
    }

    fn shown_texts(l: &Layout) -> Vec<String> {
        l.pages
            .iter()
            .flat_map(|(_, ops)| ops)
            .filter_map(|op| match op {
                Op::ShowText { items } => match items.as_slice() {
                    [TextItem::Text(t)] => Some(t.clone()),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }

    #[test]
    fn code_blocks_keep_lines_and_indentation_and_tabs_never_show_as_boxes() {
        let l = lay_out("```\nfn f() {\n    x\t1\n}\n```\n", &PhaseChart::default());
        assert_eq!(shown_texts(&l), ["fn f() {", "    x    1", "}"]);
        let l = lay_out("a\u{1}b\tc", &PhaseChart::default());
        assert_eq!(shown_texts(&l), ["a\u{fffd}b c"]);
    }

    #[test]
    fn landscape_and_portrait_markers_turn_the_following_pages() {
        let l = lay_out(
            "# One\n\n<!-- landscape -->\n\n# Wide\n\n<!-- portrait -->\n\n# Tall\n",
            &PhaseChart::default(),
        );
        let orientations: Vec<Orientation> = l.pages.iter().map(|(o, _)| *o).collect();
        use Orientation::*;
        assert_eq!(orientations, [Portrait, Landscape, Portrait]);
        // A marker at the top of an empty page turns that page, adding none.
        let l = lay_out("<!-- landscape -->\n\n# Wide\n", &PhaseChart::default());
        assert_eq!(l.pages.len(), 1);
        assert_eq!(l.pages[0].0, Landscape);
    }

    #[test]
    fn page_breaks_long_tables_and_explicit_breaks_make_pages() {
        let l = lay_out(
            "# One\n\ntext\n\n<!-- pagebreak -->\n\n# Two\n",
            &PhaseChart::default(),
        );
        assert_eq!(l.pages.len(), 2);
        let mut md = String::from("| a | b |\n| --- | --- |\n");
        for i in 0..200 {
            md.push_str(&format!("| row {i} | value |\n"));
        }
        let l = lay_out(&md, &PhaseChart::default());
        assert!(l.pages.len() >= 3, "{}", l.pages.len());
        // The header row is repeated on every page: its bold text is on each one.
        for (_, page) in &l.pages {
            let bold_a = page.windows(4).any(|w| {
                matches!(&w[0], Op::SetFont { font, .. } if *font == Face::Bold.handle())
                    && matches!(&w[2], Op::ShowText { items } if items == &vec![TextItem::Text("a".into())])
            });
            assert!(bold_a, "header missing on a page");
        }
    }

    #[test]
    fn wrapping_respects_width_and_breaks_long_words() {
        let runs = [Run {
            face: Face::Sans,
            text: "lorem ipsum dolor sit amet ".repeat(20),
        }];
        let lines = wrap(&runs, 10.0, 200.0);
        assert!(lines.len() > 5);
        for line in &lines {
            let (x, f, s) = line.last().unwrap();
            assert!(x + text_width(*f, 10.0, s) <= 200.01);
        }
        let long = [Run {
            face: Face::Mono,
            text: "A".repeat(1000),
        }];
        let lines = wrap(&long, 10.0, 100.0);
        assert!(lines.len() >= 60, "{}", lines.len());
        let path = [Run {
            face: Face::Sans,
            text: "/srv/release/module-00001.wasm".into(),
        }];
        let lines = wrap(&path, 8.0, 70.0);
        let texts: Vec<String> = lines
            .iter()
            .map(|l| l.iter().map(|p| p.2.as_str()).collect())
            .collect();
        assert_eq!(texts.concat(), "/srv/release/module-00001.wasm");
        assert!(
            texts[0].ends_with('/') || texts[0].ends_with('-'),
            "{texts:?}"
        );
    }
}
