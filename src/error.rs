//! The library's one error type. Every variant is named after the rule that was broken and carries the
//! values involved, so the binary can print an actionable message without knowing any internals.

use std::path::PathBuf;

/// Result alias used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in framelens.
#[derive(Debug, thiserror::Error)]
pub enum Error {
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

    /// An input holds no usable documents at all.
    #[error("{path}: no documents found{hint}")]
    NoDocuments { path: String, hint: String },

    /// Training needs at least two distinct labels.
    #[error("training data has {found} distinct label(s) ({labels:?}); a classifier needs at least 2 (check --label-field)")]
    TooFewLabels { found: usize, labels: Vec<String> },

    /// Pruning left no term in the vocabulary.
    #[error("no terms left after pruning {n_documents} documents with min_df={min_df}, max_df={max_df}, max_features={max_features}: lower --min-df, raise --max-df or check the text field and language")]
    EmptyVocabulary {
        min_df: String,
        max_df: String,
        max_features: String,
        n_documents: usize,
    },

    /// A parameter value is outside its valid range.
    #[error("invalid {name} = {value}: {rule}")]
    InvalidParameter {
        name: &'static str,
        value: String,
        rule: String,
    },

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

    /// The model file is recognised but broken: truncated, inconsistent lengths, non-finite numbers...
    #[error("{path}: corrupt model file: {reason}")]
    CorruptModel { path: String, reason: String },

    /// Labels given to an operation do not match what the model knows.
    #[error("{0}")]
    Label(String),
}

impl Error {
    /// Shorthand for an [`Error::Io`] on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Shorthand for an [`Error::InvalidParameter`].
    pub fn param(name: &'static str, value: impl ToString, rule: impl Into<String>) -> Self {
        Error::InvalidParameter {
            name,
            value: value.to_string(),
            rule: rule.into(),
        }
    }
}
