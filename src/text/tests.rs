//! Analyzer tests: table-driven, with non-Latin scripts, emoji and empty input.

use super::tokens::*;
use super::*;
use unicode_segmentation::UnicodeSegmentation;

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
            " a", "ab", "b ", " ab", "ab ", " ab ", " c", "cd", "de", "e ", " cd", "cde", "de ",
            " cde", "cde ", " cde "
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
