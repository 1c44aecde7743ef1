//! Normalisation and tokenisation: NFC, Arabic diacritics and tatweel removed, typographic
//! apostrophes folded, words found by Unicode's word-boundary rules with a fast path for ASCII.

use std::borrow::Cow;
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};
use unicode_segmentation::UnicodeSegmentation;

/// [`normalize`], then lower-cased as `str::to_lowercase` does, in one pass over the text: runs
/// of ASCII are copied and lower-cased as bytes, other characters folded, dropped or lower-cased
/// one by one. (A text that needs no change is not copied.)
pub(super) fn normalize_lower(text: &str) -> Cow<'_, str> {
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
pub(super) fn normalize(text: &str) -> Cow<'_, str> {
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
pub(super) fn for_each_word<'a>(text: &'a str, mut f: impl FnMut(&'a str)) {
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
pub(super) struct AsciiWords<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> AsciiWords<'a> {
    pub(super) fn new(text: &'a str) -> Self {
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
pub(super) fn split_word(word: &str) -> impl Iterator<Item = &str> {
    let w = word.trim_matches('\'');
    let w = w
        .strip_suffix("'s")
        .or_else(|| w.strip_suffix("'S"))
        .unwrap_or(w);
    std::iter::once(w).filter(|w| !w.is_empty())
}

/// Lower-case a token (fast path for ASCII).
pub(super) fn fold_token(token: &str) -> String {
    if token.is_ascii() {
        token.to_ascii_lowercase()
    } else {
        token.to_lowercase()
    }
}

/// Keep tokens of two or more characters (scikit-learn's `\w\w+`), and single characters of
/// scripts that write a word in one character (CJK ideographs, kana, hangul).
pub(super) fn keep_token(token: &str) -> bool {
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
