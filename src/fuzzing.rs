//! The bodies of the fuzz targets (`fuzz/`, `scripts/fuzz.sh`), here so that `cargo test` replays
//! their seed corpora and every input that once crashed (`tests/fuzz_regressions.rs`). Each takes
//! arbitrary bytes and must return without panicking; each checks what it can of the result.

use std::io::Write;

use crate::analysis::{Method, PrevalenceState};
use crate::dataset::{parse_date, read_documents, InputFormat, JsonlReader, Period, ReadOptions};
use crate::text::{Analyzer, AnalyzerConfig, AnalyzerKind};

/// The model loader: an error or a model; a model that loads scores a document to finite
/// probabilities and saves again. The input is tried as it is and, when its first byte is odd,
/// with its checksum made right, so that mutations reach the checks behind the checksum.
pub fn model_load(data: &[u8]) {
    let fixed;
    let data = match data.split_first() {
        Some((&b, rest)) if b & 1 == 1 => {
            fixed = crate::model::with_valid_checksum(rest);
            &fixed[..]
        }
        _ => data,
    };
    if let Ok(clf) = crate::model::from_bytes(data, "fuzz.flm") {
        let p = clf.predict("d", "resistance occupation talks aid economy the of", 3);
        assert!(p.probabilities.iter().all(|(_, v)| v.is_finite()));
        assert!(!p.labels.is_empty() || clf.params.allow_empty);
        let _ = crate::model::to_bytes(&clf);
    }
}

/// The JSONL (first byte ≡ 0 mod 3) and CSV/TSV readers, with the options the first byte's bits
/// choose: documents or errors, never a panic.
pub fn readers(data: &[u8]) {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let opts = ReadOptions {
        labels_required: mode & 1 == 1,
        skip_invalid: mode & 2 == 2,
        ..ReadOptions::default()
    };
    match mode % 3 {
        0 => {
            for d in JsonlReader::new(body, "fuzz.jsonl", &opts).flatten() {
                assert!(!opts.labels_required || !d.labels.is_empty());
            }
        }
        m => {
            let ext = if m == 1 { "csv" } else { "tsv" };
            let dir = std::env::temp_dir().join(format!("framelens-fuzz-{}", std::process::id()));
            let _ = std::fs::create_dir_all(&dir);
            let path = dir.join(format!("in.{ext}"));
            let written = std::fs::File::create(&path).and_then(|mut f| f.write_all(body));
            if written.is_err() {
                return;
            }
            let csv = ReadOptions {
                format: InputFormat::Csv,
                ..opts
            };
            if let Ok((docs, _)) = read_documents(&path, &csv) {
                assert!(docs
                    .iter()
                    .all(|d| !csv.labels_required || !d.labels.is_empty()));
            }
        }
    }
}

/// The prevalence-state loader (first byte ≥ 0x80), else the text analyzer (word or character
/// n-grams, by the first byte) and the date reader on the rest as text.
pub fn analysis(data: &[u8]) {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    if mode & 0x80 != 0 {
        if let Ok(state) = PrevalenceState::from_bytes(body, "fuzz.state") {
            for method in [Method::Cc, Method::Pcc, Method::Emq] {
                if let Ok(rows) = state.estimate(method, 0.9) {
                    assert!(rows.iter().all(|r| (0.0..=1.0).contains(&r.cc)));
                }
            }
        }
        return;
    }
    let text = String::from_utf8_lossy(body);
    let config = AnalyzerConfig {
        kind: if mode & 1 == 0 {
            AnalyzerKind::Word
        } else {
            AnalyzerKind::CharWb
        },
        ngram_range: (1, 1 + (mode as usize >> 1) % 3),
        ..AnalyzerConfig::default()
    };
    if let Ok(analyzer) = Analyzer::new(config) {
        analyzer.for_each_term(&text, |t| assert!(!t.is_empty()));
    }
    let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).expect("a valid constant date");
    if let Ok(d) = parse_date(&text, (day(1800, 1, 1), day(2100, 1, 1))) {
        for p in [
            Period::Day,
            Period::Week,
            Period::Month,
            Period::Quarter,
            Period::Year,
        ] {
            assert!(!p.label(d).is_empty());
        }
    }
}
