//! Property: any string escaped for a report reads back through a CommonMark parser
//! (pulldown-cmark, with GFM tables and strikethrough) as plain text of one paragraph, with
//! exactly the characters the escaper promises: no structure, markup or HTML can come out of
//! evidence or case-file values.

use proptest::prelude::*;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use wsc_forensics::report::escape::escape_inline;

/// What the reader should see: controls made visible, line breaks as spaces, no leading spaces.
fn visible(s: &str) -> String {
    let mapped: String = s
        .chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap(),
            '\u{7f}' => '\u{2421}',
            '\u{80}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => '\u{fffd}',
            '\u{200e}' | '\u{200f}' | '\u{feff}' => '\u{fffd}',
            c => c,
        })
        .collect();
    mapped
        .trim_start_matches(' ')
        .trim_end_matches(' ')
        .to_owned()
}

fn markdownish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => prop::sample::select(vec![
            "#", "##", "- ", "+ ", "* ", "1. ", "2) ", "> ", "    ", "\t", "\n", "\r\n", "|", "---",
            "***", "___", "`", "```", "~~", "[a](b)", "![i](x)", "<b>", "</div>", "<!-- c -->",
            "&amp;", "&#x41;", "\\", "{{ 7*7 }}", "{% if %}", "$x$", "=", "==", "[^1]", "<http://x>",
            "**", "__", "_a_", "[x]: /u", "\u{1b}[31m", "\u{0}", "\u{7f}", "\u{202e}", "\u{85}",
        ])
        .prop_map(str::to_owned),
        3 => "[a-zA-Z0-9 .,:;!?()'\"/-]{1,8}",
        1 => any::<char>().prop_map(|c| c.to_string()),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn escaped_values_are_one_plain_paragraph(s in markdownish()) {
        let md = escape_inline(&s);
        prop_assert!(!md.contains('\n') && !md.contains('\r'));
        let mut text = String::new();
        let mut structure = Vec::new();
        for ev in Parser::new_ext(&md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH) {
            match ev {
                Event::Text(t) => text.push_str(&t),
                Event::Start(Tag::Paragraph) | Event::End(TagEnd::Paragraph) => {}
                other => structure.push(format!("{other:?}")),
            }
        }
        prop_assert!(structure.is_empty(), "{:?} -> {:?} gave {:?}", s, md, structure);
        prop_assert_eq!(text.trim_end_matches(' '), visible(&s), "escaped {:?}", md);
    }

    #[test]
    fn escaped_values_stay_inside_one_table_cell(s in markdownish()) {
        let md = format!("| a | b |\n| --- | --- |\n| {} | z |\n", escape_inline(&s));
        let mut cells = Vec::new();
        let mut cur = String::new();
        let mut in_body = false;
        for ev in Parser::new_ext(&md, Options::ENABLE_TABLES) {
            match ev {
                Event::End(TagEnd::TableHead) => in_body = true,
                Event::Text(t) if in_body => cur.push_str(&t),
                Event::End(TagEnd::TableCell) if in_body => cells.push(std::mem::take(&mut cur)),
                _ => {}
            }
        }
        prop_assert_eq!(cells.len(), 2);
        let want = visible(&s);
        prop_assert_eq!(cells[0].trim(), want.trim());
        prop_assert_eq!(cells[1].as_str(), "z");
    }
}
