//! The library's one error type. Every variant is named after the rule that was broken and carries
//! the values involved, so the binary can print an actionable message without knowing any
//! internals; an error caused by another keeps it as its `source`.

use std::path::PathBuf;

/// Result alias used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in framelens.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // ---- files and records ----
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// One record (JSONL line, CSV row, labels-file line) of an input file is malformed.
    /// `line` is 1-based; `field` names the offending field where there is one.
    #[error("{path}:{line}: {}{reason}", field.as_ref().map(|f| format!("field `{f}`: ")).unwrap_or_default())]
    BadRecord {
        path: String,
        line: usize,
        field: Option<String>,
        reason: String,
    },

    /// A malformed record that a whole-file reader (CSV) skipped with `skip_invalid`, passed on
    /// to a stream of documents so that its consumer counts it.
    #[error("{message}")]
    SkippedRecord { message: String },

    /// An input holds no usable documents at all.
    #[error("{path}: no documents found{hint}")]
    NoDocuments { path: String, hint: String },

    /// The input format asked for does not fit the path (a folder format for a file, a labelled
    /// format without labels...).
    #[error("invalid format = {format}: {reason}")]
    FormatMismatch { format: String, reason: String },

    /// The format of a path cannot be told from its name.
    #[error("invalid format = auto: {reason}")]
    UndetectableFormat { reason: String },

    /// A labels file was given where no format reads one, or is missing where one is needed.
    #[error("invalid labels_file = {path}: {reason}")]
    LabelsFileMismatch { path: String, reason: String },

    /// Standard input (`-`) was given together with file paths.
    #[error("`-` (standard input) cannot be mixed with file paths")]
    StdinWithPaths,

    /// A file of a stream of documents has a name that tells no format.
    #[error(
        "{path}: cannot tell the format from the name; use .jsonl/.csv/.tsv/.txt or --input-format"
    )]
    UndetectableStreamFormat { path: String },

    /// A stream of documents reads JSONL and `.txt` files only.
    #[error("{path}: this command reads JSONL, CSV/TSV or .txt files, not {format}")]
    UnstreamableFormat { path: String, format: String },

    // ---- settings ----
    /// A setting names none of its choices.
    #[error("invalid {name} = {value}: expected {expected}")]
    UnknownChoice {
        name: &'static str,
        value: String,
        expected: String,
    },

    /// A setting is outside its range.
    #[error("invalid {name} = {value}: must be {range}")]
    OutOfRange {
        name: &'static str,
        value: String,
        range: &'static str,
    },

    /// Two settings that do not go together (stemming without a language, linfa with class
    /// weights...).
    #[error("invalid {name} = {value}: {reason}")]
    Incompatible {
        name: &'static str,
        value: String,
        reason: String,
    },

    // ---- training data ----
    /// There is nothing to train or evaluate on.
    #[error("{what}: no documents")]
    EmptyCorpus { what: &'static str },

    /// A fit would need more memory than it may take: refused before it starts.
    #[error("{what} needs about {} of memory and may use {} (--max-memory; by default the memory available); train one-vs-rest (--multi-label, memory grows with the terms, not the documents × labels), keep fewer terms (--max-features) or merge rare labels", crate::error::human_bytes(*needed), crate::error::human_bytes(*available))]
    TooLarge {
        what: String,
        needed: u64,
        available: u64,
    },

    /// Training needs at least two distinct labels.
    #[error("training data has {found} distinct label(s) ({labels:?}); a classifier needs at least 2 (check --label-field)")]
    TooFewLabels { found: usize, labels: Vec<String> },

    /// A training document carries no label.
    #[error("document {id:?} has no label; every training document needs one")]
    UnlabelledDocument { id: String },

    /// A document has several labels but single-label training was asked for.
    #[error("document {id:?} has {n} labels but single-label training was asked for; drop --single-label to train one-vs-rest")]
    SeveralLabels { id: String, n: usize },

    /// A one-vs-rest label is on every training document or on none.
    #[error("label {label:?} is on {positives} of {n} training documents; one-vs-rest needs positives and negatives for every label")]
    OneSidedLabel {
        label: String,
        positives: usize,
        n: usize,
    },

    /// Targets and matrix rows differ in number, or a label index is out of range.
    #[error("{what}: {found} given, expected {expected}")]
    TargetMismatch {
        what: &'static str,
        found: usize,
        expected: String,
    },

    /// Pruning left no term in the vocabulary.
    #[error("no terms left after pruning {n_documents} documents with min_df={min_df}, max_df={max_df}, max_features={max_features}: lower --min-df, raise --max-df or check the text field and language")]
    EmptyVocabulary {
        min_df: String,
        max_df: String,
        max_features: String,
        n_documents: usize,
    },

    /// The counting tables of the vectorizer are full.
    #[error("too many distinct terms: {detail}")]
    TooManyTerms { detail: String },

    /// Two n-grams gave the same term: an internal invariant broke.
    #[error(
        "the same term {term:?} was counted as two different n-grams (a bug: please report it)"
    )]
    AmbiguousTerm { term: String },

    /// The training matrix exceeds what its index types hold.
    #[error("{found} {what} in one training matrix, more than {limit}: train on fewer documents, or keep fewer terms (--min-df, --max-features)")]
    MatrixTooLarge {
        what: &'static str,
        found: u64,
        limit: u64,
    },

    /// linfa-logistic would need too large a dense matrix.
    #[error("invalid solver = linfa: linfa-logistic needs a dense {rows} × {cols} matrix ({cells} cells, limit {limit}); use the default lbfgs solver")]
    DenseTooLarge {
        rows: usize,
        cols: usize,
        cells: usize,
        limit: usize,
    },

    /// linfa-logistic failed.
    #[error("the linfa solver failed")]
    SolverFailed {
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    // ---- folds ----
    /// The number of folds does not fit the documents.
    #[error("invalid {name} = {k}: {rule}")]
    BadFoldCount {
        name: &'static str,
        k: usize,
        rule: String,
    },

    /// Training one fold of cross-validation or threshold tuning failed.
    #[error("{purpose}, fold {fold} of {k} ({n_train} training documents){hint}")]
    FoldFailed {
        purpose: &'static str,
        fold: usize,
        k: usize,
        n_train: usize,
        hint: &'static str,
        #[source]
        source: Box<Error>,
    },

    // ---- evaluation ----
    /// A model label is listed twice.
    #[error("model label {label:?} is listed twice; labels must be unique")]
    DuplicateLabel { label: String },

    /// A single-label prediction holds several labels.
    #[error("document {doc} has {n} predicted labels {labels:?}; single-label evaluation expects at most one (evaluate as multi-label?)")]
    SeveralPredictions {
        doc: usize,
        n: usize,
        labels: Vec<String>,
    },

    /// A predicted label is not one of the model's.
    #[error("document {doc}: predicted label {label:?} is not one of the model's labels {model_labels:?}")]
    UnknownPrediction {
        doc: usize,
        label: String,
        model_labels: Vec<String>,
    },

    /// A single-label evaluation met a document without gold label.
    #[error("document {doc} has no gold label; single-label evaluation needs one per document")]
    MissingGoldLabel { doc: usize },

    /// There is no label at all to evaluate.
    #[error("nothing to evaluate: the model has no labels and no document has a gold label")]
    NothingToEvaluate,

    // ---- models ----
    /// The file is not a framelens model at all.
    #[error("{path}: not a framelens model (found {found:?}, expected {expected:?})")]
    UnsupportedModelFormat {
        path: String,
        found: String,
        expected: String,
    },

    /// The model was written by another (usually newer) format version.
    #[error("{path}: model format version {found} is not supported (this framelens reads versions {supported}); upgrade framelens or retrain")]
    UnsupportedModelVersion {
        path: String,
        found: u32,
        supported: String,
    },

    /// The model file is recognised but broken: truncated, damaged, unreadable header...
    #[error("{path}: corrupt model file: {reason}")]
    CorruptModel { path: String, reason: String },

    /// The model file reads, but its parts break an invariant that scoring relies on.
    #[error("{path}: corrupt model file")]
    InvalidModelFile {
        path: String,
        #[source]
        source: Box<Error>,
    },

    /// The parts of a model do not fit together (lengths, duplicate terms, non-finite numbers,
    /// thresholds outside (0, 1)...).
    #[error("inconsistent model: {reason}")]
    InconsistentModel { reason: String },

    // ---- corpus analysis ----
    /// A comparison names the same group twice.
    #[error("--target and --reference are both \"{value}\": compare two different groups")]
    SameGroups { value: String },

    /// No document carries the grouping field at all.
    #[error("no document has a string field \"{field}\" to group by ({documents} read); {hint}")]
    MissingGroupField {
        field: String,
        documents: u64,
        hint: String,
    },

    /// A group asked for does not occur in the data.
    #[error("no document has {field} = \"{value}\"; the most frequent values are: {seen}")]
    UnknownGroup {
        field: String,
        value: String,
        seen: String,
    },

    /// A comparison has no documents (or no terms) on one side.
    #[error("{group}: {reason}")]
    EmptyGroup { group: String, reason: String },

    /// No term is frequent enough to compare.
    #[error("no term occurs at least {min_count} times in {target} and {reference} together; lower --min-count")]
    NoTermsToCompare {
        target: String,
        reference: String,
        min_count: u64,
    },

    /// Prevalence states computed differently cannot be merged.
    #[error("cannot merge these prevalence states: {reason}")]
    StateMismatch { reason: String },

    /// A file is not a usable prevalence state.
    #[error("{path}: {reason}")]
    BadState { path: String, reason: String },

    /// A correction method needs rates the model does not have.
    #[error("--method {method} corrects with the model's out-of-fold error rates, which this model does not store (trained before framelens stored them, with --rate-folds 0 or with --solver linfa); retrain it, or use --method emq, pcc or cc")]
    NoRates { method: &'static str },

    /// A report could not be rendered.
    #[error("rendering the {what}: {reason}")]
    Render { what: &'static str, reason: String },

    /// The model header could not be written as JSON.
    #[error("writing the model header")]
    ModelHeader {
        #[source]
        source: serde_json::Error,
    },
}

impl Error {
    /// Shorthand for an [`Error::Io`] on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Shorthand for an [`Error::InconsistentModel`].
    pub(crate) fn inconsistent(reason: impl Into<String>) -> Self {
        Error::InconsistentModel {
            reason: reason.into(),
        }
    }
}

/// Bytes for messages, in the largest decimal unit below them: "5.42 GB", "512.0 MB", "1.0 kB".
pub(crate) fn human_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        0..1_000 => format!("{bytes} bytes"),
        1_000..1_000_000 => format!("{:.1} kB", b / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", b / 1e6),
        _ => format!("{:.2} GB", b / 1e9),
    }
}
