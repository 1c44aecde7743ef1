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
