//! `lowercase` and `uppercase` with Go's `strings.ToLower`/`ToUpper`
//! meaning: each character is mapped on its own by Unicode's simple case
//! mapping. Rust's `str::to_lowercase` uses the full mapping instead (`ß`
//! upper-cases to `SS`, a final `Σ` lower-cases to `ς`), so the mapping is
//! done per character here, falling back to the simple mapping where the
//! full one has more than one character.

/// Go's `strings.ToLower`.
pub(crate) fn to_lower(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    s.chars()
        .map(|c| {
            let mut full = c.to_lowercase();
            match (full.next(), full.next()) {
                (Some(one), None) => one,
                // U+0130 (İ) is the only character whose full lower-case
                // mapping is longer than one; its simple mapping is `i`.
                _ if c == '\u{130}' => 'i',
                _ => c,
            }
        })
        .collect()
}

/// Go's `strings.ToUpper`.
pub(crate) fn to_upper(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_uppercase();
    }
    s.chars()
        .map(|c| {
            let mut full = c.to_uppercase();
            match (full.next(), full.next()) {
                (Some(one), None) => one,
                _ => simple_upper(c),
            }
        })
        .collect()
}

/// The simple upper-case mapping of a character whose full mapping has
/// more than one character: the Greek letters with ypogegrammeni map to
/// their prosgegrammeni forms; all others (`ß`, ligatures, …) to
/// themselves.
fn simple_upper(c: char) -> char {
    let shifted = |base: u32| char::from_u32(base).unwrap_or(c);
    match c {
        '\u{1F80}'..='\u{1F87}' | '\u{1F90}'..='\u{1F97}' | '\u{1FA0}'..='\u{1FA7}' => {
            shifted(c as u32 + 8)
        }
        '\u{1FB3}' => '\u{1FBC}',
        '\u{1FC3}' => '\u{1FCC}',
        '\u{1FF3}' => '\u{1FFC}',
        _ => c,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ascii_and_simple_unicode() {
        assert_eq!(to_lower("AbC"), "abc");
        assert_eq!(to_upper("AbC"), "ABC");
        assert_eq!(to_lower("ÄbC"), "äbc");
        assert_eq!(to_upper("ÄbC"), "ÄBC");
    }

    #[test]
    fn simple_mapping_as_go() {
        assert_eq!(to_upper("straße"), "STRAßE");
        assert_eq!(to_upper("ﬁ"), "ﬁ");
        assert_eq!(to_lower("ΟΔΟΣ"), "οδοσ");
        assert_eq!(to_lower("İ"), "i");
        assert_eq!(to_upper("\u{1F80}"), "\u{1F88}");
        assert_eq!(to_upper("\u{1FB3}"), "\u{1FBC}");
    }
}
