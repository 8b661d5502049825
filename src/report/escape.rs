//! Markdown escaping of every value that comes from evidence or the case file, so hostile text
//! (Markdown or HTML syntax, template syntax, control characters, huge lines) is shown as text
//! and never interpreted by a Markdown reader, the PDF renderer or a template engine.

/// Longest value shown in a report, in characters. Longer values are cut and say so: a report is
/// read by people, and the full value stays in the bundle's evidence.json.
pub const MAX_VALUE_CHARS: usize = 16 * 1024;

/// Characters that are Markdown (CommonMark + GFM tables/strikethrough), HTML or template syntax
/// anywhere in a line. All are ASCII punctuation, so CommonMark reads `\x` as the literal `x`.
const ALWAYS_ESCAPED: &[char] = &[
    '\\', '`', '*', '_', '[', ']', '<', '>', '|', '~', '#', '!', '&', '{', '}', '$',
];

/// Maps a control or direction-override character to something visible; `None` keeps it.
fn visible(c: char) -> Option<char> {
    match c {
        '\n' | '\r' | '\t' => Some(' '),
        // C0 controls → the Unicode "Control Pictures" block (␀ … ␟).
        '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32),
        '\u{7f}' => Some('\u{2421}'),
        // C1 controls, bidi overrides/isolates (trojan-source style reordering), BOM.
        '\u{80}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{feff}' => Some('\u{fffd}'),
        _ => None,
    }
}

/// Escapes `s` for use inside one line of Markdown (a paragraph, list item or table cell).
pub fn escape_inline(s: &str) -> String {
    let total = s.chars().count();
    let mut out = String::with_capacity(s.len().min(MAX_VALUE_CHARS * 2) + 16);
    let mut at_start = true;
    let mut leading_digits = false;
    for (n, c) in s.chars().enumerate() {
        if n == MAX_VALUE_CHARS {
            out.push_str(&format!(" … \\[truncated: {total} characters in total\\]"));
            break;
        }
        let c = visible(c).unwrap_or(c);
        if at_start {
            if c == ' ' {
                // Leading spaces would make an indented code block; drop them.
                continue;
            }
            at_start = false;
            if matches!(c, '-' | '+' | '=') {
                out.push('\\');
                out.push(c);
                continue;
            }
            leading_digits = c.is_ascii_digit();
        } else if leading_digits {
            if matches!(c, '.' | ')') {
                out.push('\\');
            }
            leading_digits = c.is_ascii_digit();
        }
        if ALWAYS_ESCAPED.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Escapes multi-line text: each paragraph (blank-line separated) is escaped like
/// [`escape_inline`] and paragraphs are joined by a blank line.
pub fn escape_block(s: &str) -> String {
    let clipped: String = s.chars().take(MAX_VALUE_CHARS + 1).collect();
    let paras: Vec<String> = clipped
        .replace("\r\n", "\n")
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(escape_inline)
        .collect();
    let mut out = paras.join("\n\n");
    if s.chars().count() > MAX_VALUE_CHARS {
        out.push_str(&format!(
            " … \\[truncated: {} characters in total\\]",
            s.chars().count()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_html_and_template_syntax_is_escaped() {
        assert_eq!(escape_inline("a|b"), "a\\|b");
        assert_eq!(escape_inline("# x"), "\\# x");
        assert_eq!(escape_inline("- item"), "\\- item");
        assert_eq!(escape_inline("12. x"), "12\\. x");
        assert_eq!(escape_inline("v1.2"), "v1.2");
        assert_eq!(escape_inline("<script>"), "\\<script\\>");
        assert_eq!(escape_inline("{{ 7*7 }}"), "\\{\\{ 7\\*7 \\}\\}");
        assert_eq!(escape_inline("INC-1 c858d5ec"), "INC-1 c858d5ec");
    }

    #[test]
    fn control_characters_become_visible_and_lines_cannot_break() {
        assert_eq!(escape_inline("a\nb\x1b[31m"), "a b␛\\[31m");
        assert_eq!(escape_inline("x\u{202e}y"), "x\u{fffd}y");
        assert_eq!(escape_inline("    code"), "code");
    }

    #[test]
    fn huge_values_are_cut_and_say_so() {
        let s = "A".repeat(MAX_VALUE_CHARS + 10);
        let e = escape_inline(&s);
        assert!(e.ends_with(&format!("\\[truncated: {} characters in total\\]", s.len())));
        assert!(e.len() < MAX_VALUE_CHARS + 100);
    }

    #[test]
    fn blocks_keep_paragraphs() {
        assert_eq!(escape_block("one\ntwo\n\n# three"), "one two\n\n\\# three");
    }
}
