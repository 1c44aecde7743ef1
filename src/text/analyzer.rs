//! The analyzer and its configuration: normalise, segment into words (UAX #29, so Latin,
//! Cyrillic, Arabic and Persian words come out whole and CJK text as single ideographs),
//! lower-case, drop stop words, stem, then form word n-grams or character n-grams inside word
//! boundaries.

use rust_stemmers::Stemmer;
use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use super::language::Language;
use super::tokens::{
    fold_token, for_each_word, keep_token, normalize, normalize_lower, split_word,
};
use crate::error::{Error, Result};

/// What a term is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AnalyzerKind {
    /// Word n-grams (scikit-learn's `analyzer="word"`). The default.
    #[default]
    Word,
    /// Character n-grams inside word boundaries, each word padded with one space on both sides
    /// (scikit-learn's `analyzer="char_wb"`).
    CharWb,
}

impl FromStr for AnalyzerKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "word" => Ok(AnalyzerKind::Word),
            "char_wb" | "char-wb" => Ok(AnalyzerKind::CharWb),
            _ => Err(Error::UnknownChoice {
                name: "analyzer",
                value: s.to_string(),
                expected: "`word` or `char_wb`".into(),
            }),
        }
    }
}

/// The analyzer's configuration: plain data, saved in every model.
///
/// Defaults: word unigrams and bigrams, lower-casing, no language (so no stemming and no stop
/// words). Stop words and stemming are off by default because on the reference corpora they cost
/// accuracy (see BENCHMARKS.md) and stemmed terms make explanations harder to read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalyzerConfig {
    /// Word or character n-grams. Default: word.
    #[serde(rename = "type")]
    pub kind: AnalyzerKind,
    /// Smallest and largest n of the n-grams, inclusive. Default (1, 2) for words, (2, 5) for
    /// characters.
    pub ngram_range: (usize, usize),
    /// Lower-case every token. Default: true.
    pub lowercase: bool,
    /// Language for stemming (with `stem`) and the stop word list. Default: none.
    pub language: Option<Language>,
    /// Stem tokens with the language's Snowball stemmer. Default: false. Needs `language`.
    pub stem: bool,
    /// Tokens dropped before n-grams are built (lower-cased, matched before stemming). Written out
    /// in full in the model. Default: empty.
    pub stop_words: Vec<String>,
}

impl Default for AnalyzerConfig {
    fn default() -> Self {
        AnalyzerConfig {
            kind: AnalyzerKind::Word,
            ngram_range: (1, 2),
            lowercase: true,
            language: None,
            stem: false,
            stop_words: Vec::new(),
        }
    }
}

impl AnalyzerConfig {
    /// Check the rules that setters cannot: n-gram bounds, stemming without a language.
    pub fn validate(&self) -> Result<()> {
        let (lo, hi) = self.ngram_range;
        if lo == 0 || hi < lo || hi > 16 {
            return Err(Error::OutOfRange {
                name: "ngram_range",
                value: format!("{lo},{hi}"),
                range: "1 <= min <= max <= 16",
            });
        }
        if self.stem {
            match self.language {
                None => {
                    return Err(Error::Incompatible {
                        name: "stem",
                        value: "true".into(),
                        reason: "stemming needs a language (--language)".into(),
                    })
                }
                Some(l) if !l.has_stemmer() => {
                    return Err(Error::Incompatible {
                        name: "stem",
                        value: "true".into(),
                        reason: format!("no stemmer exists for {l}"),
                    })
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// A ready-to-run analyzer built from an [`AnalyzerConfig`].
pub struct Analyzer {
    config: AnalyzerConfig,
    stop_words: FxHashSet<String>,
    stemmer: Option<Stemmer>,
}

impl fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Analyzer")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Clone for Analyzer {
    fn clone(&self) -> Self {
        Analyzer::new(self.config.clone()).expect("config was validated when first built")
    }
}

impl Analyzer {
    /// Build an analyzer, validating the configuration.
    pub fn new(config: AnalyzerConfig) -> Result<Analyzer> {
        config.validate()?;
        let stop_words = config.stop_words.iter().map(|w| fold_token(w)).collect();
        let stemmer = if config.stem {
            config
                .language
                .and_then(Language::stemmer_algorithm)
                .map(Stemmer::create)
        } else {
            None
        };
        Ok(Analyzer {
            config,
            stop_words,
            stemmer,
        })
    }

    /// The configuration this analyzer runs.
    pub fn config(&self) -> &AnalyzerConfig {
        &self.config
    }

    /// The tokens of `text` after normalisation, lower-casing, stop words and stemming (no n-grams).
    pub fn tokens(&self, text: &str) -> Vec<String> {
        self.with_tokens(text, |tokens| {
            tokens.iter().map(|t| t.to_string()).collect()
        })
    }

    /// Run `f` on the tokens of `text`. Tokens borrow from one lower-cased copy of the text, so
    /// nothing is allocated per token unless the stemmer changes it.
    fn with_tokens<R>(&self, text: &str, f: impl FnOnce(&[Cow<'_, str>]) -> R) -> R {
        let lowered = if self.config.lowercase {
            normalize_lower(text)
        } else {
            normalize(text)
        };
        let mut tokens: Vec<Cow<'_, str>> = Vec::new();
        for_each_word(&lowered, |word| {
            for piece in split_word(word) {
                if !keep_token(piece) || self.stop_words.contains(piece) {
                    continue;
                }
                tokens.push(match &self.stemmer {
                    Some(s) => s.stem(piece),
                    None => Cow::Borrowed(piece),
                });
            }
        });
        f(&tokens)
    }

    /// Call `emit` once for every term occurrence of `text`. A term is a window of consecutive
    /// units (words, or for char_wb the characters of one space-padded word), its units joined by
    /// a space (words) or nothing (characters): for each n of the n-gram range, every window of n
    /// units, in order. The `&str` is only valid during the call.
    pub fn for_each_term(&self, text: &str, mut emit: impl FnMut(&str)) {
        let sep = self.separator();
        let mut buf = String::new();
        self.for_each_sequence(text, |units| {
            self.for_each_window(units.len(), |n, start| {
                if n == 1 {
                    emit(units[start]);
                    return;
                }
                buf.clear();
                for (i, unit) in units[start..start + n].iter().enumerate() {
                    if i > 0 {
                        buf.push_str(sep);
                    }
                    buf.push_str(unit);
                }
                emit(&buf);
            })
        })
    }

    /// Call `f` on each sequence of units whose windows are the terms of `text`: for word
    /// n-grams, one sequence of all the tokens; for char_wb, one sequence per token, the
    /// characters of the token padded with a space on each side.
    pub(crate) fn for_each_sequence(&self, text: &str, mut f: impl FnMut(&[&str])) {
        let kind = self.config.kind;
        self.with_tokens(text, |tokens| match kind {
            AnalyzerKind::Word => {
                let units: Vec<&str> = tokens.iter().map(|t| &**t).collect();
                f(&units);
            }
            AnalyzerKind::CharWb => {
                let mut padded = String::new();
                let mut bounds: Vec<usize> = Vec::new();
                for token in tokens {
                    padded.clear();
                    padded.push(' ');
                    padded.push_str(token);
                    padded.push(' ');
                    bounds.clear();
                    bounds.extend(padded.char_indices().map(|(i, _)| i));
                    bounds.push(padded.len());
                    let units: Vec<&str> = bounds.windows(2).map(|w| &padded[w[0]..w[1]]).collect();
                    f(&units);
                }
            }
        })
    }

    /// Call `f(n, start)` for each term window of a sequence of `len` units (units
    /// `start..start + n`), in the order terms are emitted: for each n of the n-gram range,
    /// every window of n units. For char_wb, as scikit-learn's, a padded word no longer than n is
    /// one term (its whole length), counted once, and larger n add nothing.
    pub(crate) fn for_each_window(&self, len: usize, mut f: impl FnMut(usize, usize)) {
        let (lo, hi) = self.config.ngram_range;
        for n in lo..=hi {
            if self.config.kind == AnalyzerKind::CharWb && len <= n {
                f(len, 0);
                return;
            }
            for start in 0..(len + 1).saturating_sub(n) {
                f(n, start);
            }
        }
    }

    /// What joins the units of a term: a space between words, nothing between characters.
    pub(crate) fn separator(&self) -> &'static str {
        match self.config.kind {
            AnalyzerKind::Word => " ",
            AnalyzerKind::CharWb => "",
        }
    }

    /// The tokens of `text` with the byte range of the original text each comes from: every
    /// UAX #29 word segment is analysed on its own, so the tokens are those of
    /// [`Analyzer::tokens`] wherever normalisation does not join or split segments (it joins
    /// none in practice: NFC and lower-casing keep word boundaries). For highlighting.
    pub fn token_spans(&self, text: &str) -> Vec<(std::ops::Range<usize>, String)> {
        use unicode_segmentation::UnicodeSegmentation;
        let mut out = Vec::new();
        for (start, segment) in text.split_word_bound_indices() {
            if !segment.chars().any(char::is_alphanumeric) {
                continue;
            }
            for token in self.tokens(segment) {
                out.push((start..start + segment.len(), token));
            }
        }
        out
    }

    /// Call `f(term, first, end)` for every term occurrence made from the token sequence
    /// `tokens` (as [`Analyzer::tokens`] gives them), with the range `first..end` of the tokens it
    /// is made of: word n-grams cover n tokens; a char_wb n-gram lies inside one token.
    pub fn for_each_term_of_tokens(
        &self,
        tokens: &[String],
        mut f: impl FnMut(&str, usize, usize),
    ) {
        let sep = self.separator();
        let mut buf = String::new();
        match self.config.kind {
            AnalyzerKind::Word => self.for_each_window(tokens.len(), |n, start| {
                buf.clear();
                for (i, t) in tokens[start..start + n].iter().enumerate() {
                    if i > 0 {
                        buf.push_str(sep);
                    }
                    buf.push_str(t);
                }
                f(&buf, start, start + n);
            }),
            AnalyzerKind::CharWb => {
                for (i, token) in tokens.iter().enumerate() {
                    let padded = format!(" {token} ");
                    let mut bounds: Vec<usize> = padded.char_indices().map(|(b, _)| b).collect();
                    bounds.push(padded.len());
                    self.for_each_window(bounds.len() - 1, |n, start| {
                        f(&padded[bounds[start]..bounds[start + n]], i, i + 1);
                    });
                }
            }
        }
    }

    /// All term occurrences of `text`, in the order [`Analyzer::for_each_term`] emits them.
    pub fn terms(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.for_each_term(text, |t| out.push(t.to_string()));
        out
    }
}
