//! Showing text that came from a database to a person.
//!
//! PostgreSQL accepts any character in a role name (`CREATE ROLE "\x1b]0;x\x07"`),
//! and roles can be created outside pgusers. Printed raw, an escape
//! sequence would drive the reader's terminal (colours, its title, worse),
//! and a bidirectional override (U+202E) or an invisible character would
//! make one name look like another, in a terminal or a web page alike.
//! Such characters are shown as Rust-style escapes instead: `\x1b`,
//! `\u{202e}`.
//!
//! A backslash is left as it is, so ordinary names print unchanged; the
//! price is that a name containing the six characters `\x1b` looks like one
//! containing ESC.

use std::borrow::Cow;
use std::fmt::Write;

/// `text` with every hidden character (see [`is_hidden`]) written as an
/// escape; borrowed when there is none, which is nearly always.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hidden) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !is_hidden(c) {
            shown.push(c);
        } else if c.is_ascii() {
            let _ = write!(shown, "\\x{:02x}", u32::from(c));
        } else {
            let _ = write!(shown, "\\u{{{:x}}}", u32::from(c));
        }
    }
    Cow::Owned(shown)
}

/// Like [`visible`], but keeps line breaks: for messages that are several
/// lines long on purpose and may quote a name (errors from PostgreSQL).
pub fn visible_lines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| is_hidden(c) && c != '\n') {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.split('\n').map(visible).collect::<Vec<_>>().join("\n"))
}

/// A JSON document safe to print on a terminal: hidden characters left
/// inside its strings (serde escapes only U+0000 to U+001F) become `\uXXXX`
/// escapes, so a parser still reads exactly the same values. Line breaks
/// outside strings (pretty-printing) stay; inside strings serde has
/// already escaped them.
pub fn terminal_safe_json(json: &str) -> Cow<'_, str> {
    if !json.chars().any(|c| is_hidden(c) && c != '\n') {
        return Cow::Borrowed(json);
    }
    let mut safe = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if is_hidden(c) && c != '\n' {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(safe, "\\u{unit:04x}");
            }
        } else {
            safe.push(c);
        }
    }
    Cow::Owned(safe)
}

/// Control characters (Unicode category Cc: C0, DEL, C1), format
/// characters (Cf: bidirectional controls, zero-width characters, the byte
/// order mark, tags…), and the line and paragraph separators, which some
/// programs treat as line breaks.
pub fn is_hidden(c: char) -> bool {
    c.is_control() || is_format(c) || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Unicode general category Cf (Unicode 16). The standard library has no
/// test for it; the list is short and changes rarely.
fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061c}'
            | '\u{06dd}'
            | '\u{070f}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08e2}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{110bd}'
            | '\u{110cd}'
            | '\u{13430}'..='\u{1343f}'
            | '\u{1bca0}'..='\u{1bca3}'
            | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0001}'
            | '\u{e0020}'..='\u{e007f}'
    )
}

/// Characters a rule refuses, as a person reads them: each quoted once, in
/// the order typed, a blank or hidden one by its name (`“é”, “'” and a
/// space`); past five, how many more.
pub fn characters(found: &[char]) -> String {
    // Distinct as read: a carriage return and a line feed are one "line
    // break".
    let mut distinct: Vec<String> = Vec::new();
    for &c in found {
        let shown = character(c);
        if !distinct.contains(&shown) {
            distinct.push(shown);
        }
    }
    let shown: Vec<String> = distinct.iter().take(5).cloned().collect();
    let more = distinct.len().saturating_sub(5);
    match (shown.as_slice(), more) {
        ([], _) => String::new(),
        ([only], 0) => only.clone(),
        (all, 0) => format!(
            "{} and {}",
            all[..all.len() - 1].join(", "),
            all[all.len() - 1]
        ),
        (all, more) => format!(
            "{} and {}",
            all.join(", "),
            count(more as u64, "other", "others")
        ),
    }
}

/// One character as [`characters`] shows it.
fn character(c: char) -> String {
    match c {
        ' ' => "a space".to_owned(),
        '\t' => "a tab".to_owned(),
        '\n' | '\r' => "a line break".to_owned(),
        c if c.is_whitespace() || is_hidden(c) => format!("the invisible U+{:04X}", u32::from(c)),
        c => format!("“{c}”"),
    }
}

/// A count with its noun in English: "1 object", "2 objects", "0 objects",
/// "10,001 users".
pub fn count(n: u64, singular: &str, plural: &str) -> String {
    format!(
        "{} {}",
        thousands(n),
        if n == 1 { singular } else { plural }
    )
}

/// A number with a comma between each group of three digits: "10,001".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_counts_have_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(10_001), "10,001");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(count(1, "user", "users"), "1 user");
        assert_eq!(count(10_001, "user", "users"), "10,001 users");
    }

    #[test]
    fn ordinary_names_are_shown_as_they_are_without_copying() {
        for name in ["my_app_4553", "Zoë", "名前", "a b", r"back\slash"] {
            assert!(matches!(visible(name), Cow::Borrowed(shown) if shown == name));
        }
    }

    #[test]
    fn terminal_escape_sequences_are_shown_not_obeyed() {
        assert_eq!(visible("\x1b[31mred\x1b[0m"), r"\x1b[31mred\x1b[0m");
        assert_eq!(visible("\x1b]0;title\x07x"), r"\x1b]0;title\x07x");
        assert_eq!(visible("a\nb\tc\rd\x7f"), r"a\x0ab\x09c\x0dd\x7f");
        // C1 CSI, which some terminals obey in UTF-8 too.
        assert_eq!(visible("\u{9b}31m"), r"\u{9b}31m");
    }

    #[test]
    fn characters_that_reorder_or_hide_text_are_shown() {
        assert_eq!(visible("user\u{202e}nimda"), r"user\u{202e}nimda");
        assert_eq!(visible("ad\u{200b}min"), r"ad\u{200b}min");
        assert_eq!(visible("\u{2066}x\u{2069}"), r"\u{2066}x\u{2069}");
        assert_eq!(visible("\u{feff}bom"), r"\u{feff}bom");
        assert_eq!(visible("tag\u{e0041}"), r"tag\u{e0041}");
        assert_eq!(visible("line\u{2028}break"), r"line\u{2028}break");
    }

    #[test]
    fn line_breaks_of_a_long_message_stay_and_nothing_else_hidden_does() {
        assert_eq!(
            visible_lines("first \x1b[2J\nsecond\u{202e}"),
            "first \\x1b[2J\nsecond\\u{202e}"
        );
        assert!(matches!(visible_lines("a\nb"), Cow::Borrowed("a\nb")));
    }

    #[test]
    fn json_keeps_its_values_and_loses_its_hidden_characters() {
        let name = "x\u{202e}\u{7f}\u{9b}\u{e0041}\x1b";
        let json = serde_json::to_string_pretty(&[name]).unwrap();

        let safe = terminal_safe_json(&json);

        assert!(!safe.chars().any(|c| is_hidden(c) && c != '\n'), "{safe}");
        assert!(safe.contains(r"\u202e") && safe.contains(r"\udb40\udc41"));
        let back: Vec<String> = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, [name]);
        assert_eq!(terminal_safe_json("[\n  \"a\"\n]"), "[\n  \"a\"\n]");
    }

    #[test]
    fn a_count_reads_as_english() {
        assert_eq!(count(1, "object", "objects"), "1 object");
        assert_eq!(count(2, "object", "objects"), "2 objects");
        assert_eq!(count(0, "object", "objects"), "0 objects");
    }
}
