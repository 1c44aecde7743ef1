//! Corpus analysis: questions about a whole corpus rather than one document. Owns the
//! distinguishing terms of one group of documents against another (`compare`: term counts in one
//! streaming pass, ranked by the statistics of `keyness`), and label prevalence by group and
//! period (`prevalence`: the exact, mergeable aggregate state and its bootstrap; `quantify`: the
//! estimators CC, PCC, ACC, PACC and EMQ). Does not own reading files, the analyzer (it uses
//! `text`'s, or a model's), scoring (it takes probabilities), nor printing; `render` and
//! `prevalence_render` turn results into text, CSV, JSON and self-contained HTML pages with SVG
//! charts.

mod compare;
mod counter;
mod keyness;
mod prevalence;
mod prevalence_render;
mod quantify;
mod render;

pub use compare::{CompareParams, Comparison, Groups, Statistic, TermCounter, TermScore};
pub use keyness::{Keyness, TermCounts};
pub use prevalence::{
    Observation, PrevalenceRow, PrevalenceSpec, PrevalenceState, JOINT_LABELS, STATE_FORMAT,
    STATE_VERSION,
};
pub use prevalence_render::{PrevalenceReport, PREVALENCE_COLUMNS};
pub use quantify::{binary_adjust, em_binary, em_shares, simplex_least_squares, Method};
pub use render::{
    comparisons_csv, comparisons_html, comparisons_text, write_comparisons_csv, CSV_COLUMNS,
};

#[cfg(test)]
mod tests;
