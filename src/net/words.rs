//! [`Words`]: how a typed value is read from the word a user types (`stream`, `rdwr`, `below`). Each
//! type lists its words once, beside the values they name, with the [`words!`] macro; the parser
//! reads through that list and the command table points completion at it, so no word is ever
//! matched by its position in a list kept somewhere else.

/// A value a user names with a word.
pub trait Words: Sized {
    /// The words, in the order an error and Tab completion list them.
    const WORDS: &'static [&'static str];

    /// The value `word` names (any case), if it names one.
    fn from_word(word: &str) -> Option<Self>;
}

/// Implements [`Words`] for a type from one list of `"word" => value` pairs.
macro_rules! words {
    ($type:ty { $($word:literal => $value:expr),+ $(,)? }) => {
        impl $crate::net::Words for $type {
            const WORDS: &'static [&'static str] = &[$($word),+];

            fn from_word(word: &str) -> Option<Self> {
                $(
                    if word.eq_ignore_ascii_case($word) {
                        return Some($value);
                    }
                )+
                None
            }
        }
    };
}
pub(crate) use words;

/// Two word lists as one, for an argument that takes the words of two types (FAMILY: the families,
/// then `tcp` and `udp`). `N` must be the sum of their lengths.
pub const fn joined<const N: usize>(
    first: &[&'static str],
    second: &[&'static str],
) -> [&'static str; N] {
    assert!(
        first.len() + second.len() == N,
        "N is the two lengths added"
    );
    let mut words = [""; N];
    let mut i = 0;
    while i < first.len() {
        words[i] = first[i];
        i += 1;
    }
    let mut j = 0;
    while j < second.len() {
        words[i + j] = second[j];
        j += 1;
    }
    words
}
