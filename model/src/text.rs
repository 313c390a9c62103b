//! Attacker-supplied text on its way to a terminal.

/// `text` with control characters (escape sequences, newlines, carriage returns) replaced by `?`
/// and cut at 300 characters, so an unsigned hint or a subject name cannot repaint the screen
/// (for example print a fake "ALLOWED" line under a denial).
pub fn printable(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(300)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.chars().count() > 300 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_and_newlines_are_neutralised() {
        assert_eq!(super::printable("a\u{1b}[2J\nALLOWED"), "a?[2J?ALLOWED");
        assert_eq!(super::printable(&"x".repeat(400)).chars().count(), 301);
    }
}
