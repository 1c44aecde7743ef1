//! The analyzer: text → terms. Owns Unicode normalisation, tokenisation, lower-casing, stop
//! words, stemming (rust-stemmers) and word or character n-grams, with its configuration as serde
//! data ([`AnalyzerConfig`], stored in every model with the stop-word list written out in full).
//! Does not own the vocabulary or any number.
//!
//! Order rules: stop words are matched on the lower-cased, unstemmed token; the stemmer sees
//! lower-cased tokens; n-grams are built from the tokens that survive (as scikit-learn does).

mod analyzer;
mod language;
mod tokens;

pub use analyzer::{Analyzer, AnalyzerConfig, AnalyzerKind};
pub use language::Language;

/// A xorshift64 generator with a fixed seed, for tests that draw random inputs.
#[cfg(test)]
pub(crate) fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}

#[cfg(test)]
mod tests;
