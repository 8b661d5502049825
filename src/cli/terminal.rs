//! The one gate between evidence-derived text and a terminal: control characters (C0, DEL,
//! C1) and bidirectional-override characters are shown as escapes, as `ls
//! --quoting-style=escape` does, so a file name or a field from a bundle can neither redraw the
//! screen (ESC, CR, OSC sequences) nor forge a line of output. JSON output does not pass here:
//! serde_json escapes control characters itself.

use std::borrow::Cow;

/// `s` with every character that could act on a terminal written as an escape: `\n`, `\r`,
/// `\t`, `\a`, `\b`, `\f`, `\v`, other C0 and DEL as octal (`\033`), C1 and bidi controls as
/// `\u{…}`, and the backslash itself doubled so the escapes stay unambiguous.
pub fn escape_for_terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\{:03o}", c as u32)),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c == '\\'
        || c.is_control()
        // Bidi embeddings, overrides and isolates reorder what follows them on screen.
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

/// `println!` for human output: the formatted line passes [`escape_for_terminal`] whole (a
/// line of human output never needs a control character of its own).
macro_rules! say {
    ($($arg:tt)*) => {
        println!("{}", $crate::cli::terminal::escape_for_terminal(&format!($($arg)*)))
    };
}

/// `eprintln!` for human messages, escaped as [`say!`] does.
macro_rules! say_err {
    ($($arg:tt)*) => {
        eprintln!("{}", $crate::cli::terminal::escape_for_terminal(&format!($($arg)*)))
    };
}

/// `writeln!` for human output to a writer, escaped as [`say!`] does.
macro_rules! say_to {
    ($out:expr, $($arg:tt)*) => {
        writeln!($out, "{}", $crate::cli::terminal::escape_for_terminal(&format!($($arg)*)))
    };
}

/// Multi-line human text (a rendered block), escaped line by line, its newlines kept.
pub fn escape_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        out.push_str(&escape_for_terminal(body));
        out.push_str(nl);
    }
    out
}

pub(crate) use {say, say_err, say_to};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_bytes_never_pass_and_plain_text_is_untouched() {
        assert!(matches!(
            escape_for_terminal("case/README.md"),
            Cow::Borrowed(_)
        ));
        let hostile = "a\x1b[2J\x1b]0;intact\x07b\rc\nd\u{9b}e\u{202e}f\\";
        let shown = escape_for_terminal(hostile);
        assert_eq!(
            shown,
            "a\\033[2J\\033]0;intact\\ab\\rc\\nd\\u{9b}e\\u{202e}f\\\\"
        );
        assert!(!shown.chars().any(|c| c.is_control()));
    }
}
