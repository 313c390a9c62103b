//! Attacker-supplied text on its way to a terminal.

/// `text` with control characters (escape sequences, newlines, carriage returns) replaced by `?`
/// and cut at 300 characters, so an unsigned hint or a subject name cannot repaint the screen
/// (for example print a fake "ALLOWED" line under a denial).
pub fn printable(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(300)
        .map(|c| if is_unsafe(c) { '?' } else { c })
        .collect();
    if text.chars().count() > 300 {
        out.push('…');
    }
    out
}

/// Characters that must not reach a terminal from attacker-supplied text: control characters,
/// and the bidirectional overrides and isolates that make text display in another order than it
/// reads (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C).
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_and_newlines_are_neutralised() {
        assert_eq!(super::printable("a\u{1b}[2J\nALLOWED"), "a?[2J?ALLOWED");
        assert_eq!(super::printable(&"x".repeat(400)).chars().count(), 301);
        assert_eq!(super::printable("evil\u{202E}txt.exe"), "evil?txt.exe");
    }
}
