//! Pages a person reads: scored documents with their words highlighted by what they contributed
//! to each label, as self-contained HTML (no script, no network). Owns the document view that the
//! score page and the evaluation's error gallery share, and the score page itself. Does not own
//! the numbers (`classifier`, `explain`) nor the evaluation report's tables (`eval::render`).

mod document;
mod eval_page;
mod score_page;

pub use document::{document_css, document_html, legend_html};
pub use eval_page::{eval_sections, TestDocument, GALLERY_PER_LABEL};
pub use score_page::ScorePage;

/// Labels a page lets the reader switch to: the predicted ones, then the most probable others
/// until [`SWITCH_LABELS`] are offered (why a document was *not* given a label is the other half
/// of checking a model). A two-label single-label model offers only its prediction: the other
/// label's colours would be its mirror image.
pub const SWITCH_LABELS: usize = 3;

/// Add to `p` the explanations of the runner-up labels (see [`SWITCH_LABELS`]) from its `row`.
pub fn explain_runners_up(
    clf: &crate::classifier::Classifier,
    p: &mut crate::classifier::Prediction,
    row: &crate::sparse::SparseRow,
    top_terms: usize,
) {
    if !clf.is_multi_label() && clf.labels.len() == 2 {
        return;
    }
    let mut others: Vec<usize> = (0..clf.labels.len())
        .filter(|&k| !p.explanation.iter().any(|e| e.label == clf.labels[k]))
        .collect();
    others.sort_by(|&a, &b| {
        p.probabilities[b]
            .1
            .total_cmp(&p.probabilities[a].1)
            .then(a.cmp(&b))
    });
    let wanted = SWITCH_LABELS.saturating_sub(p.explanation.len());
    for k in others.into_iter().take(wanted) {
        p.explanation.push(clf.explain_row(row, k, top_terms));
    }
}

/// Text safe to print on a terminal: control characters (escape sequences included) are shown as
/// `\u{..}` escapes, everything else as it is.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_unicode().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests;
