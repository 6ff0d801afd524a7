//! Text for a terminal. A plan name, a meter's serial number or a finding
//! can carry escape sequences (clear the screen, set the window title, hide
//! the text that follows); printed raw, they would change what the operator
//! sees. Control characters other than newline and tab are dropped, so an
//! escape sequence's remains print as plain text.

/// `s` without terminal control characters (C0 but newline and tab, DEL, C1).
pub fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| *c == '\n' || *c == '\t' || !c.is_control())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn escape_sequences_lose_their_escape() {
        assert_eq!(clean("a\u{1b}[2Jb"), "a[2Jb");
        assert_eq!(clean("\u{1b}]0;title\u{7}x"), "]0;titlex");
        assert_eq!(clean("\u{9b}31mred"), "31mred");
        assert_eq!(clean("line\r\nnext\ttab\u{7f}"), "line\nnext\ttab");
        assert_eq!(clean("±0.2 % — Ω"), "±0.2 % — Ω");
    }
}
