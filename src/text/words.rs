//! Small words in sentences: counted nouns, and the likely meant word for a typo.

/// `1 command`, `2 commands`.
pub fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// The closest of `choices` to `word`, if it is close enough to be a likely typo.
pub fn closest<'c>(word: &str, choices: &[&'c str]) -> Option<&'c str> {
    choices
        .iter()
        .map(|c| {
            (
                strsim::damerau_levenshtein(&word.to_ascii_lowercase(), &c.to_ascii_lowercase()),
                *c,
            )
        })
        // Close enough to be a typo, and never a whole replacement of a short word (`k` is not `s`).
        .filter(|(distance, c)| *distance <= (c.len() / 3).max(1) && *distance < c.len())
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(plural(1, "command"), "1 command");
        assert_eq!(plural(0, "byte"), "0 bytes");
        assert_eq!(plural(2, "more line"), "2 more lines");
    }

    #[test]
    fn a_typo_finds_its_word_and_a_short_word_is_never_replaced_whole() {
        assert_eq!(closest("lisen", &["listen", "close"]), Some("listen"));
        assert_eq!(closest("ACCEPT", &["accept"]), Some("accept"));
        assert_eq!(closest("k", &["s", "x"]), None);
        assert_eq!(closest("frobnicate", &["listen"]), None);
    }
}
