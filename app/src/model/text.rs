//! What text from a request or a peer may hold: the characters that are refused wherever a name is
//! shown to people (file names, folder names, what a node reports), because they hide what the name says.

/// Why a character is refused in a name; `None` for an ordinary character.
///
/// Control characters garble logs and documents (XML 1.0 cannot carry most of them); bidirectional
/// controls turn text around as it is shown (U+202E makes `evil\u{202E}osi.exe` read as `evilexe.iso`);
/// zero-width characters make two names that look the same differ.
pub fn hidden_meaning(c: char) -> Option<&'static str> {
    match c {
        c if c.is_control() => Some("a control character"),
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
            Some("a bidirectional control character")
        }
        '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{180E}' => Some("a zero-width character"),
        _ => None,
    }
}

/// The first refused character of `s` and why, if any.
pub fn find_hidden(s: &str) -> Option<(char, &'static str)> {
    s.chars().find_map(|c| hidden_meaning(c).map(|why| (c, why)))
}

/// `s` as it can be quoted in a message: refused characters escaped, at most 80 characters.
pub fn shown(s: &str) -> String {
    s.chars()
        .take(80)
        .map(|c| if hidden_meaning(c).is_some() { c.escape_default().to_string() } else { c.to_string() })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_bidi_and_zero_width_characters_are_refused_with_a_reason() {
        assert_eq!(hidden_meaning('\u{1}'), Some("a control character"));
        assert_eq!(hidden_meaning('\u{7f}'), Some("a control character"));
        assert_eq!(hidden_meaning('\u{202E}'), Some("a bidirectional control character"));
        assert_eq!(hidden_meaning('\u{2067}'), Some("a bidirectional control character"));
        assert_eq!(hidden_meaning('\u{200B}'), Some("a zero-width character"));
        assert_eq!(hidden_meaning('\u{FEFF}'), Some("a zero-width character"));
        for ok in ['a', 'é', 'ñ', '日', ' ', '-', '\u{2013}'] {
            assert_eq!(hidden_meaning(ok), None, "{ok:?}");
        }
        assert_eq!(find_hidden("ok-name"), None);
        assert_eq!(find_hidden("x\u{202E}osi.exe").map(|(c, _)| c), Some('\u{202E}'));
        assert_eq!(shown("a\u{202E}b\nc"), "a\\u{202e}b\\nc");
    }
}
