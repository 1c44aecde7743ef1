//! Flags shared by several subcommands: where fields are in input records, how labelled input is
//! read, and the training settings (the one place that turns flags into library parameters).

use anyhow::{bail, Result};
use clap::Args;
use std::path::PathBuf;

use framelens::dataset::{InputFormat, ReadOptions};
use framelens::features::{DfLimit, Norm, TfidfParams};
use framelens::logistic::{ClassWeight, LogisticParams, Solver};
use framelens::text::{AnalyzerConfig, AnalyzerKind, Language};
use framelens::{ClassifierParams, LabelMode, ThresholdMode};

/// Where fields are in input records, and what to do with bad ones (every command that reads
/// documents).
#[derive(Args, Clone)]
pub(super) struct RecordArgs {
    /// JSONL field / CSV column holding the text.
    #[arg(long, default_value = "text")]
    pub(super) text_field: String,
    /// JSONL field / CSV column holding the document id.
    #[arg(long, default_value = "id")]
    pub(super) id_field: String,
    /// Skip malformed records (counted in the summary) instead of stopping at the first one.
    #[arg(long)]
    pub(super) skip_invalid: bool,
}

/// Where records keep their labels (the commands that read labels).
#[derive(Args, Clone)]
pub(super) struct LabelArgs {
    /// JSONL field / CSV column holding the labels (JSONL: a list or a string; CSV: `a|b`).
    #[arg(long, default_value = "labels")]
    pub(super) label_field: String,
    /// Labels file of the SemEval layout (`<ID><TAB>label1,label2`).
    #[arg(long = "labels")]
    pub(super) labels_file: Option<PathBuf>,
}

impl RecordArgs {
    /// How to read records; `labels`, when the command reads labels, says where they are.
    pub(super) fn options(
        &self,
        format: InputFormat,
        labels: Option<&LabelArgs>,
        labels_required: bool,
    ) -> ReadOptions {
        let defaults = ReadOptions::default();
        ReadOptions {
            format,
            text_field: self.text_field.clone(),
            label_field: labels.map_or(defaults.label_field.clone(), |l| l.label_field.clone()),
            id_field: self.id_field.clone(),
            labels_required,
            skip_invalid: self.skip_invalid,
            labels_file: labels.and_then(|l| l.labels_file.clone()),
            ..defaults
        }
    }
}

/// How labelled input files are read (train, cv, eval).
#[derive(Args, Clone)]
pub(super) struct InputArgs {
    /// Input layout: auto (by extension; a folder is one sub-folder per label), jsonl, csv, dir,
    /// txt, semeval. (`--format` is an older spelling.)
    #[arg(long = "input-format", alias = "format", default_value = "auto")]
    pub(super) input_format: InputFormat,
    #[command(flatten)]
    pub(super) records: RecordArgs,
    #[command(flatten)]
    pub(super) labels: LabelArgs,
}

impl InputArgs {
    pub(super) fn options(&self, labels_required: bool) -> ReadOptions {
        self.records
            .options(self.input_format, Some(&self.labels), labels_required)
    }
}

/// How text becomes terms (train, cv, compare).
#[derive(Args)]
pub(super) struct AnalyzerArgs {
    /// Analyzer: word n-grams, or char_wb (character n-grams inside words).
    #[arg(long, default_value = "word")]
    pub(super) analyzer: AnalyzerKind,
    /// Smallest and largest n-gram length, e.g. `1,2` (default 1,2 for words, 2,5 for char_wb).
    #[arg(long, value_parser = parse_range)]
    pub(super) ngram_range: Option<(usize, usize)>,
    /// Language for stop words and stemming (name or ISO code, e.g. english, ru, fa).
    #[arg(long)]
    pub(super) language: Option<Language>,
    /// Remove the language's stop words (needs --language).
    #[arg(long)]
    pub(super) stop_words: bool,
    /// Stem tokens with the language's Snowball stemmer (needs --language).
    #[arg(long)]
    pub(super) stem: bool,
}

impl AnalyzerArgs {
    /// The analyzer these flags ask for (not yet validated by the library).
    pub(super) fn config(&self) -> Result<AnalyzerConfig> {
        if (self.stop_words || self.stem) && self.language.is_none() {
            bail!("--stop-words and --stem need --language (e.g. --language english)");
        }
        Ok(AnalyzerConfig {
            kind: self.analyzer,
            ngram_range: self.ngram_range.unwrap_or(match self.analyzer {
                AnalyzerKind::Word => (1, 2),
                AnalyzerKind::CharWb => (2, 5),
            }),
            lowercase: true,
            language: self.language,
            stem: self.stem,
            stop_words: match (self.stop_words, self.language) {
                (true, Some(l)) => l.stop_words(),
                _ => Vec::new(),
            },
        })
    }
}

/// The training settings: the one place that turns these flags into library parameters.
#[derive(Args)]
pub(super) struct TrainOptions {
    #[command(flatten)]
    pub(super) text: AnalyzerArgs,
    /// Drop terms in fewer documents: a count (`2`) or a fraction (`0.01`).
    #[arg(long, default_value = "2")]
    pub(super) min_df: DfLimit,
    /// Drop terms in more documents: a count or a fraction (`1.0` keeps all).
    #[arg(long, default_value = "1.0")]
    pub(super) max_df: DfLimit,
    /// Keep only the N most frequent terms.
    #[arg(long)]
    pub(super) max_features: Option<usize>,
    /// Sublinear tf (1 + ln tf).
    #[arg(long, default_value = "true", action = clap::ArgAction::Set)]
    pub(super) sublinear_tf: bool,
    /// Inverse regularisation strength, as scikit-learn's C (linfa's alpha = 1/C).
    #[arg(long = "c", default_value = "10")]
    pub(super) c: f64,
    /// Class weights: none or balanced [default: balanced; in one-vs-rest models, per label: its
    /// positives against its negatives].
    #[arg(long)]
    pub(super) class_weight: Option<ClassWeight>,
    /// Solver iteration limit (non-convergence is reported).
    #[arg(long, default_value = "1000")]
    pub(super) max_iter: usize,
    /// Convergence: stop when the objective fell by less than this fraction over the last 10
    /// iterations (with --solver linfa: its gradient tolerance).
    #[arg(long, default_value = "1e-3")]
    pub(super) tol: f64,
    /// Solver: lbfgs (sparse, default) or linfa (dense linfa-logistic, small data only).
    #[arg(long, default_value = "lbfgs")]
    pub(super) solver: Solver,
    /// Train one-vs-rest even if every document has one label.
    #[arg(long, conflicts_with = "single_label")]
    pub(super) multi_label: bool,
    /// Refuse documents with several labels (multinomial model).
    #[arg(long)]
    pub(super) single_label: bool,
    /// One-vs-rest thresholds: evidence (0.5, or a threshold common to all labels, then per label,
    /// each moved only when out-of-fold probabilities of the training data, --threshold-folds
    /// folds, show a gain larger than its noise and no loss of micro-F1 beyond its floor), tuned
    /// (per label, maximising its out-of-fold F1) or fixed (--threshold for every label)
    /// [default: evidence; fixed when --threshold is given].
    #[arg(long)]
    pub(super) thresholds: Option<ThresholdMode>,
    /// The fixed one-vs-rest threshold of every label [default: 0.5].
    #[arg(long)]
    pub(super) threshold: Option<f64>,
    /// Cross-validation folds of the out-of-fold probabilities that evidence and tuned
    /// thresholds are chosen on: at least 2 (one-vs-rest models; single-label models have no
    /// thresholds and ignore it).
    #[arg(long, default_value = "5")]
    pub(super) threshold_folds: usize,
    /// Let a one-vs-rest prediction be empty when no label reaches its threshold (default: the
    /// most probable label is predicted).
    #[arg(long)]
    pub(super) allow_empty: bool,
    /// Folds of the out-of-fold predictions of the training data that estimate the model's error
    /// rates, which `analyze` corrects prevalence with (ACC, PACC); 0 skips them.
    #[arg(long, default_value = "5")]
    pub(super) rate_folds: usize,
    /// Memory a single-label (multinomial) fit may take, e.g. 4G or 512M: a fit that needs more
    /// (its margins grow with documents × labels, its weights with terms × labels) is refused
    /// before it starts [default: the memory available when the command starts].
    #[arg(long, value_parser = parse_bytes)]
    pub(super) max_memory: Option<u64>,
    /// Print only errors and warnings: no progress, no summary (cv still prints its table).
    #[arg(long, short)]
    pub(super) quiet: bool,
}

/// A byte count with an optional K, M, G or T suffix (powers of 1024): "512M", "4G", "1000".
fn parse_bytes(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim();
    let (digits, unit) = match t
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
    {
        Some((i, _)) => t.split_at(i),
        None => (t, ""),
    };
    let shift = match unit
        .trim()
        .to_ascii_uppercase()
        .trim_end_matches(['B', 'I'])
    {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(format!("unknown unit {unit:?}: use K, M, G or T (e.g. 4G)")),
    };
    let value: f64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a size such as 4G, 512M or 1000000"))?;
    let bytes = value * (1u64 << shift) as f64;
    if !(bytes.is_finite() && (1.0..1.8e19).contains(&bytes)) {
        return Err(format!("{s:?} is not a size from 1 byte to 16 exabytes"));
    }
    Ok(bytes as u64)
}

impl TrainOptions {
    /// The library parameters these flags ask for, checked.
    pub(super) fn params(&self) -> Result<ClassifierParams> {
        let analyzer = self.text.config()?;
        let threshold_mode = match (self.thresholds, self.threshold) {
            (Some(mode @ (ThresholdMode::Tuned | ThresholdMode::Evidence)), Some(t)) => {
                let name = if mode == ThresholdMode::Tuned {
                    "tuned"
                } else {
                    "evidence"
                };
                bail!("--threshold {t} sets a fixed threshold; it cannot be used with --thresholds {name}")
            }
            (Some(mode), _) => mode,
            (None, Some(_)) => ThresholdMode::Fixed,
            (None, None) => ClassifierParams::default().threshold_mode,
        };
        let defaults = ClassifierParams::default();
        // linfa-logistic has no sample weights: with it, the default is no class weights.
        let default_weight = match (self.solver, self.class_weight) {
            (Solver::Linfa, None) => {
                eprintln!("note: --solver linfa trains without class weights (it has none)");
                ClassWeight::None
            }
            _ => defaults.logistic.class_weight,
        };
        let params = ClassifierParams {
            tfidf: TfidfParams {
                analyzer,
                min_df: self.min_df,
                max_df: self.max_df,
                max_features: self.max_features,
                sublinear_tf: self.sublinear_tf,
                smooth_idf: true,
                norm: Norm::L2,
            },
            logistic: LogisticParams {
                c: self.c,
                class_weight: self.class_weight.unwrap_or(default_weight),
                max_iter: self.max_iter,
                tol: self.tol,
                solver: self.solver,
                memory_limit: self.max_memory.or_else(super::output::available_memory),
                progress: framelens::logistic::Progress::new(),
            },
            label_mode: if self.multi_label {
                LabelMode::Multi
            } else if self.single_label {
                LabelMode::Single
            } else {
                LabelMode::Auto
            },
            threshold: self.threshold,
            threshold_mode,
            threshold_folds: self.threshold_folds,
            threshold_seed: defaults.threshold_seed,
            one_vs_rest_class_weight: match (self.class_weight, self.solver) {
                (Some(w), _) => Some(w),
                (None, Solver::Linfa) => Some(ClassWeight::None),
                (None, Solver::Lbfgs) => defaults.one_vs_rest_class_weight,
            },
            allow_empty: self.allow_empty,
            rate_folds: self.rate_folds,
        };
        // Check parameters before spending time on reading.
        params.validate()?;
        Ok(params)
    }
}

pub(super) fn parse_range(s: &str) -> Result<(usize, usize), String> {
    let parts: Vec<&str> = s.split([',', ':']).map(str::trim).collect();
    match parts.as_slice() {
        [a, b] => match (a.parse(), b.parse()) {
            (Ok(a), Ok(b)) => Ok((a, b)),
            _ => Err(format!("expected two whole numbers like 1,2; got {s:?}")),
        },
        [a] => a
            .parse()
            .map(|a| (a, a))
            .map_err(|_| format!("expected MIN,MAX like 1,2; got {s:?}")),
        _ => Err(format!("expected MIN,MAX like 1,2; got {s:?}")),
    }
}
