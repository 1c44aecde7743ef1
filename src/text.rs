//! The analyzer: text → terms. Unicode normalisation (NFC, Arabic diacritics and tatweel removed,
//! typographic apostrophes folded), word segmentation by Unicode's word-boundary rules (UAX #29, so
//! Latin, Cyrillic, Arabic and Persian words come out whole and CJK text as single ideographs),
//! lower-casing, stop words, stemming, then word n-grams or character n-grams inside word boundaries.
//!
//! Order rules: stop words are matched on the lower-cased, unstemmed token; the stemmer sees
//! lower-cased tokens; n-grams are built from the tokens that survive (as scikit-learn does).
//!
//! The configuration ([`AnalyzerConfig`]) is plain serde data stored in every model, with the stop
//! word list written out in full, so a model scores the same way whatever crate versions read it.

use rust_stemmers::{Algorithm, Stemmer};
use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};
use unicode_segmentation::UnicodeSegmentation;

use crate::error::{Error, Result};

/// A language for stemming and stop words. Stemming comes from rust-stemmers (Snowball) and is
/// available for every variant but [`Language::Persian`]; stop words come from the stop-words crate
/// (NLTK lists where NLTK has one, else Stopwords ISO).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Arabic,
    Danish,
    Dutch,
    English,
    Finnish,
    French,
    German,
    Greek,
    Hungarian,
    Italian,
    Norwegian,
    Persian,
    Portuguese,
    Romanian,
    Russian,
    Spanish,
    Swedish,
    Tamil,
    Turkish,
}

impl Language {
    /// Every language, in alphabetical order.
    pub const ALL: [Language; 19] = [
        Language::Arabic,
        Language::Danish,
        Language::Dutch,
        Language::English,
        Language::Finnish,
        Language::French,
        Language::German,
        Language::Greek,
        Language::Hungarian,
        Language::Italian,
        Language::Norwegian,
        Language::Persian,
        Language::Portuguese,
        Language::Romanian,
        Language::Russian,
        Language::Spanish,
        Language::Swedish,
        Language::Tamil,
        Language::Turkish,
    ];

    /// ISO 639-1 code.
    pub fn code(self) -> &'static str {
        match self {
            Language::Arabic => "ar",
            Language::Danish => "da",
            Language::Dutch => "nl",
            Language::English => "en",
            Language::Finnish => "fi",
            Language::French => "fr",
            Language::German => "de",
            Language::Greek => "el",
            Language::Hungarian => "hu",
            Language::Italian => "it",
            Language::Norwegian => "no",
            Language::Persian => "fa",
            Language::Portuguese => "pt",
            Language::Romanian => "ro",
            Language::Russian => "ru",
            Language::Spanish => "es",
            Language::Swedish => "sv",
            Language::Tamil => "ta",
            Language::Turkish => "tr",
        }
    }

    /// Lower-case English name, as accepted by `--language`.
    pub fn name(self) -> &'static str {
        match self {
            Language::Arabic => "arabic",
            Language::Danish => "danish",
            Language::Dutch => "dutch",
            Language::English => "english",
            Language::Finnish => "finnish",
            Language::French => "french",
            Language::German => "german",
            Language::Greek => "greek",
            Language::Hungarian => "hungarian",
            Language::Italian => "italian",
            Language::Norwegian => "norwegian",
            Language::Persian => "persian",
            Language::Portuguese => "portuguese",
            Language::Romanian => "romanian",
            Language::Russian => "russian",
            Language::Spanish => "spanish",
            Language::Swedish => "swedish",
            Language::Tamil => "tamil",
            Language::Turkish => "turkish",
        }
    }

    fn stemmer_algorithm(self) -> Option<Algorithm> {
        Some(match self {
            Language::Arabic => Algorithm::Arabic,
            Language::Danish => Algorithm::Danish,
            Language::Dutch => Algorithm::Dutch,
            Language::English => Algorithm::English,
            Language::Finnish => Algorithm::Finnish,
            Language::French => Algorithm::French,
            Language::German => Algorithm::German,
            Language::Greek => Algorithm::Greek,
            Language::Hungarian => Algorithm::Hungarian,
            Language::Italian => Algorithm::Italian,
            Language::Norwegian => Algorithm::Norwegian,
            Language::Persian => return None,
            Language::Portuguese => Algorithm::Portuguese,
            Language::Romanian => Algorithm::Romanian,
            Language::Russian => Algorithm::Russian,
            Language::Spanish => Algorithm::Spanish,
            Language::Swedish => Algorithm::Swedish,
            Language::Tamil => Algorithm::Tamil,
            Language::Turkish => Algorithm::Turkish,
        })
    }

    /// Whether a Snowball stemmer exists for this language.
    pub fn has_stemmer(self) -> bool {
        self.stemmer_algorithm().is_some()
    }

    /// The stop word list of this language (lower-case, deduplicated, sorted).
    pub fn stop_words(self) -> Vec<String> {
        let mut words: Vec<String> = stop_words::lookup(self.code())
            .unwrap_or(&[])
            .iter()
            .map(|w| fold_token(w))
            .filter(|w| !w.is_empty())
            .collect();
        words.sort();
        words.dedup();
        words
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Language {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim().to_lowercase();
        Language::ALL
            .into_iter()
            .find(|l| l.name() == s || l.code() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Language::ALL.iter().map(|l| l.name()).collect();
                Error::param(
                    "language",
                    &s,
                    format!("expected a name or ISO code of: {}", names.join(", ")),
                )
            })
    }
}

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
            _ => Err(Error::param("analyzer", s, "expected `word` or `char_wb`")),
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
            return Err(Error::param(
                "ngram_range",
                format!("{lo},{hi}"),
                "expected 1 <= min <= max <= 16",
            ));
        }
        if self.stem {
            match self.language {
                None => {
                    return Err(Error::param(
                        "stem",
                        true,
                        "stemming needs a language (--language)",
                    ))
                }
                Some(l) if !l.has_stemmer() => {
                    return Err(Error::param(
                        "stem",
                        true,
                        format!("no stemmer exists for {l}"),
                    ))
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

    /// All term occurrences of `text`, in the order [`Analyzer::for_each_term`] emits them.
    pub fn terms(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.for_each_term(text, |t| out.push(t.to_string()));
        out
    }
}

/// [`normalize`], then lower-cased as `str::to_lowercase` does, in one pass over the text: runs
/// of ASCII are copied and lower-cased as bytes, other characters folded, dropped or lower-cased
/// one by one. (A text that needs no change is not copied.)
fn normalize_lower(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        return if text.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(text.to_ascii_lowercase())
        } else {
            Cow::Borrowed(text)
        };
    }
    let nfc: Cow<'_, str> = if is_nfc_quick(text.chars()) == IsNormalized::Yes {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.nfc().collect())
    };
    if nfc.contains('Σ') {
        // Capital sigma lower-cases by its context (final ς or σ): str::to_lowercase knows how.
        return Cow::Owned(normalize(&nfc).to_lowercase());
    }
    let mut out = String::with_capacity(nfc.len());
    let mut rest: &str = &nfc;
    loop {
        let ascii = rest
            .bytes()
            .position(|b| !b.is_ascii())
            .unwrap_or(rest.len());
        let start = out.len();
        out.push_str(&rest[..ascii]);
        out[start..].make_ascii_lowercase();
        rest = &rest[ascii..];
        let Some(c) = rest.chars().next() else {
            break;
        };
        rest = &rest[c.len_utf8()..];
        if is_apostrophe(c) {
            out.push('\'');
        } else if !is_dropped(c) {
            out.extend(c.to_lowercase());
        }
    }
    Cow::Owned(out)
}

/// NFC, without Arabic diacritics (harakat) and tatweel, typographic apostrophes folded to `'`.
fn normalize(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        // ASCII is NFC and holds none of the characters dropped or folded.
        return Cow::Borrowed(text);
    }
    let needs_nfc = is_nfc_quick(text.chars()) != IsNormalized::Yes;
    let needs_fold = text.chars().any(|c| is_dropped(c) || is_apostrophe(c));
    if !needs_nfc && !needs_fold {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let fold = |c: char, out: &mut String| {
        if is_apostrophe(c) {
            out.push('\'');
        } else if !is_dropped(c) {
            out.push(c);
        }
    };
    if needs_nfc {
        text.nfc().for_each(|c| fold(c, &mut out));
    } else {
        text.chars().for_each(|c| fold(c, &mut out));
    }
    Cow::Owned(out)
}

/// The words of `text` exactly as `unicode_words()` finds them, faster: no UAX #29 rule joins
/// across ASCII white space, so the text is cut there, and each piece that is pure ASCII (most
/// of them, even in texts with typographic quotes or accented names) goes through
/// [`AsciiWords`]; the others through unicode-segmentation.
fn for_each_word<'a>(text: &'a str, mut f: impl FnMut(&'a str)) {
    if text.is_ascii() {
        AsciiWords::new(text).for_each(f);
        return;
    }
    for piece in text.split(|c: char| c.is_ascii_whitespace()) {
        if piece.is_ascii() {
            AsciiWords::new(piece).for_each(&mut f);
        } else {
            piece.unicode_words().for_each(&mut f);
        }
    }
}

/// The words of an ASCII text exactly as `unicode_words()` finds them (the UAX #29 word rules
/// restricted to ASCII, tested against unicode-segmentation), at a fraction of the cost: a word
/// is a run of letters, digits and `_` in which one `:`, `.` or `'` between two letters (WB6/7),
/// or one `,`, `;`, `.` or `'` between two digits (WB11/12), does not break; runs with no letter
/// or digit (only `_`) are not words.
struct AsciiWords<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> AsciiWords<'a> {
    fn new(text: &'a str) -> Self {
        debug_assert!(text.is_ascii());
        AsciiWords { text, pos: 0 }
    }
}

impl<'a> Iterator for AsciiWords<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let b = self.text.as_bytes();
        let n = b.len();
        let in_word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
        loop {
            while self.pos < n && !in_word(b[self.pos]) {
                self.pos += 1;
            }
            if self.pos == n {
                return None;
            }
            let start = self.pos;
            let mut alphanumeric = false;
            loop {
                while self.pos < n && in_word(b[self.pos]) {
                    alphanumeric |= b[self.pos] != b'_';
                    self.pos += 1;
                }
                if self.pos + 1 < n {
                    let (before, mid, after) = (b[self.pos - 1], b[self.pos], b[self.pos + 1]);
                    let letters = before.is_ascii_alphabetic()
                        && after.is_ascii_alphabetic()
                        && matches!(mid, b':' | b'.' | b'\'');
                    let digits = before.is_ascii_digit()
                        && after.is_ascii_digit()
                        && matches!(mid, b',' | b';' | b'.' | b'\'');
                    if letters || digits {
                        self.pos += 1;
                        continue;
                    }
                }
                break;
            }
            if alphanumeric {
                return Some(&self.text[start..self.pos]);
            }
        }
    }
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\u{2019}' | '\u{2018}' | '\u{02BC}' | '\u{FF07}')
}

/// Arabic harakat (U+064B–U+065F), superscript alef (U+0670) and tatweel (U+0640): they vary
/// freely between writers of the same word.
fn is_dropped(c: char) -> bool {
    matches!(c, '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{0640}')
}

/// Split a UAX #29 word on apostrophes: a possessive `'s` is dropped ("Lebanon's" → "Lebanon"),
/// contractions stay whole ("don't"), and an apostrophe at either end is trimmed.
fn split_word(word: &str) -> impl Iterator<Item = &str> {
    let w = word.trim_matches('\'');
    let w = w
        .strip_suffix("'s")
        .or_else(|| w.strip_suffix("'S"))
        .unwrap_or(w);
    std::iter::once(w).filter(|w| !w.is_empty())
}

/// Lower-case a token (fast path for ASCII).
fn fold_token(token: &str) -> String {
    if token.is_ascii() {
        token.to_ascii_lowercase()
    } else {
        token.to_lowercase()
    }
}

/// Keep tokens of two or more characters (scikit-learn's `\w\w+`), and single characters of
/// scripts that write a word in one character (CJK ideographs, kana, hangul).
fn keep_token(token: &str) -> bool {
    let mut chars = token.chars();
    match (chars.next(), chars.next()) {
        (None, _) => false,
        (Some(c), None) => is_cjk(c),
        _ => true,
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}'   // hiragana, katakana
        | '\u{3400}'..='\u{4DBF}' // CJK extension A
        | '\u{4E00}'..='\u{9FFF}' // CJK unified ideographs
        | '\u{AC00}'..='\u{D7AF}' // hangul syllables
        | '\u{F900}'..='\u{FAFF}' // CJK compatibility ideographs
        | '\u{20000}'..='\u{2FFFF}')
}

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
mod tests {
    use super::*;

    fn word(ngram: (usize, usize)) -> Analyzer {
        Analyzer::new(AnalyzerConfig {
            ngram_range: ngram,
            ..Default::default()
        })
        .unwrap()
    }

    fn char_wb(ngram: (usize, usize)) -> Analyzer {
        Analyzer::new(AnalyzerConfig {
            kind: AnalyzerKind::CharWb,
            ngram_range: ngram,
            ..Default::default()
        })
        .unwrap()
    }

    /// 20,000 strings of up to 23 characters drawn from `alphabet` (xorshift, fixed seed).
    fn random_texts(alphabet: &str, seed: u64) -> Vec<String> {
        let alphabet: Vec<char> = alphabet.chars().collect();
        let mut next = xorshift(seed);
        (0..20_000)
            .map(|_| {
                let len = (next() % 24) as usize;
                (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect()
            })
            .collect()
    }

    #[test]
    fn ascii_words_match_unicode_segmentation() {
        // Random strings over the characters the ASCII rules single out, and some others.
        for text in random_texts("abZ09_:.',;- \n\t!?\"()/", 0x9E3779B97F4A7C15) {
            let fast: Vec<&str> = AsciiWords::new(&text).collect();
            let reference: Vec<&str> = text.unicode_words().collect();
            assert_eq!(fast, reference, "{text:?}");
        }
        let text = "e.g. 3.14, 1,000;2 don't a:b a_b __ _x_ x. .x 4'5 a'1 1'a";
        let fast: Vec<&str> = AsciiWords::new(text).collect();
        assert_eq!(fast, text.unicode_words().collect::<Vec<_>>());
    }

    #[test]
    fn words_of_mixed_texts_match_unicode_segmentation() {
        // ASCII with the non-ASCII characters news text holds: typographic quotes, accents,
        // combining marks, no-break space, zero-width joiner, CJK, Arabic, Cyrillic, an emoji.
        let alphabet = "ab9_:.',; \n\t-\u{2019}\u{201C}\u{e9}\u{301}\u{a0}\u{200d}\u{4e2d}\u{627}\u{434}\u{1F600}\u{2014}";
        for text in random_texts(alphabet, 0x2545F4914F6CDD1D) {
            let mut fast = Vec::new();
            for_each_word(&text, |w| fast.push(w));
            let reference: Vec<&str> = text.unicode_words().collect();
            assert_eq!(fast, reference, "{text:?}");
        }
    }

    #[test]
    fn scripts_come_out_as_words() {
        let a = word((1, 1));
        // (input, expected tokens)
        let table: &[(&str, &[&str])] = &[
            ("", &[]),
            ("   \n\t ", &[]),
            (
                "Hello, World! It's a test.",
                &["hello", "world", "it", "test"],
            ),
            ("Lebanon’s Hezbollah", &["lebanon", "hezbollah"]),
            ("don't stop", &["don't", "stop"]),
            ("Сопротивление и оккупация", &["сопротивление", "оккупация"]),
            ("المقاومة الإسلامية", &["المقاومة", "الإسلامية"]),
            // harakat are dropped: مُقاوَمة == مقاومة
            ("مُقاوَمة", &["مقاومة"]),
            // Persian keeps the zero-width non-joiner inside the word
            ("می\u{200C}خواهم صلح", &["می\u{200C}خواهم", "صلح"]),
            (
                "Bundesverteidigungsministerium Waffenstillstandsverhandlungen",
                &[
                    "bundesverteidigungsministerium",
                    "waffenstillstandsverhandlungen",
                ],
            ),
            ("中国外交部", &["中", "国", "外", "交", "部"]),
            ("peace 🕊️ talks 🇮🇷", &["peace", "talks"]),
            ("2024 budget 7", &["2024", "budget"]),
        ];
        for (input, expected) in table {
            assert_eq!(&a.tokens(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn one_pass_normalisation_equals_normalize_then_lowercase() {
        let reference = |t: &str| normalize(t).to_lowercase();
        let alphabet = "aZ ’‘ʼ＇'ًٌـ Σσς İIÉée\u{301}北АДдÑ.ΣΑ";
        for text in random_texts(alphabet, 0x5DEE_CE66_D1CE_4E5B) {
            assert_eq!(normalize_lower(&text), reference(&text), "{text:?}");
        }
        for text in random_texts("aZ Éée\u{301}’.", 0x2545_F491_4F6C_DD1D) {
            assert_eq!(normalize_lower(&text), reference(&text), "{text:?}");
        }
    }

    #[test]
    fn nfc_makes_composed_and_decomposed_equal() {
        let a = word((1, 1));
        assert_eq!(a.tokens("Cafe\u{301}"), a.tokens("Café"));
    }

    #[test]
    fn word_ngrams_follow_sklearn_order() {
        let a = word((1, 2));
        assert_eq!(
            a.terms("the axis of resistance"),
            [
                "the",
                "axis",
                "of",
                "resistance",
                "the axis",
                "axis of",
                "of resistance"
            ]
        );
        assert!(word((2, 3)).terms("one").is_empty());
    }

    #[test]
    fn char_wb_matches_sklearn() {
        // sklearn: TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3)).build_analyzer()("ab cde")
        // -> [' a', 'ab', 'b ', ' ab', 'ab ', ' c', 'cd', 'de', 'e ', ' cd', 'cde', 'de ']
        assert_eq!(
            char_wb((2, 3)).terms("ab cde"),
            [" a", "ab", "b ", " ab", "ab ", " c", "cd", "de", "e ", " cd", "cde", "de "]
        );
        // A padded word no longer than n is one n-gram, counted once (" ab " not again for n = 5):
        // the same call with ngram_range=(2, 5).
        assert_eq!(
            char_wb((2, 5)).terms("ab cde"),
            [
                " a", "ab", "b ", " ab", "ab ", " ab ", " c", "cd", "de", "e ", " cd", "cde",
                "de ", " cde", "cde ", " cde "
            ]
        );
    }

    #[test]
    fn stop_words_are_removed_before_ngrams_and_stemming_applies() {
        let a = Analyzer::new(AnalyzerConfig {
            language: Some(Language::English),
            stem: true,
            stop_words: Language::English.stop_words(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            a.terms("The resisting of occupations"),
            ["resist", "occup", "resist occup"]
        );
        let ru = Analyzer::new(AnalyzerConfig {
            language: Some(Language::Russian),
            stem: true,
            ngram_range: (1, 1),
            stop_words: Language::Russian.stop_words(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(ru.terms("и сопротивления"), ["сопротивлен"]);
    }

    #[test]
    fn every_language_has_stop_words_and_parses() {
        for l in Language::ALL {
            assert!(!l.stop_words().is_empty(), "{l} has no stop words");
            assert_eq!(l.name().parse::<Language>().unwrap(), l);
            assert_eq!(l.code().parse::<Language>().unwrap(), l);
        }
        assert!("klingon".parse::<Language>().is_err());
    }

    #[test]
    fn invalid_configs_are_rejected() {
        let bad = |c: AnalyzerConfig| Analyzer::new(c).is_err();
        assert!(bad(AnalyzerConfig {
            ngram_range: (0, 1),
            ..Default::default()
        }));
        assert!(bad(AnalyzerConfig {
            ngram_range: (3, 2),
            ..Default::default()
        }));
        assert!(bad(AnalyzerConfig {
            stem: true,
            ..Default::default()
        }));
        assert!(bad(AnalyzerConfig {
            stem: true,
            language: Some(Language::Persian),
            ..Default::default()
        }));
    }
}
