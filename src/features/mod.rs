//! TF-IDF features. Owns the vocabulary (term ↔ id), document frequencies, idf, pruning
//! (`min_df`, `max_df`, `max_features`) and the transform of text to sparse rows:
//! [`TfidfParams::fit_factored`] gives a [`TfidfVectorizer`] and the training matrix as neutral
//! [`crate::sparse`] data. Does not own labels, nor how a solver lays the matrix out.
//! The parallel counting and n-gram interning behind the fits are private (`counting`);
//! [`TermCounts`] keeps the counts of many documents, to fit on subsets of them without
//! analysing their texts again.

mod counting;
mod term_counts;
mod tfidf;

pub use term_counts::TermCounts;
pub use tfidf::{DfLimit, Norm, TfidfParams, TfidfVectorizer, VocabularyStats};

#[cfg(test)]
mod tests;
