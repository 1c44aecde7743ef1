//! One scored document as HTML: its id, its labels with their probabilities (a label forced by
//! the at-least-one-label rule marked as such), a switch between its labels, the text with every
//! known word highlighted by its share of the selected label's logit, and the table of the terms
//! behind each label (tf-idf × weight = contribution).
//!
//! The switch is plain radio buttons: the CSS rule of the checked one colours the words, so the
//! page needs no script and keyboards and screen readers use it as any radio group.

use std::fmt::Write as _;

use crate::classifier::{Classifier, Prediction};
use crate::eval::html_escape;
use crate::sparse::SparseRow;

/// Intensity steps of a highlight, each way: |share| / (the document's largest |share| for the
/// label) is rounded up to one of them, so that the page carries a short class, not a colour.
const STEPS: usize = 5;

/// Labels that get a switch position (and CSS rules): the predicted ones, at most this many.
const MAX_SWITCH: usize = 6;

/// The fixed part of the CSS the document view needs.
const DOCUMENT_CSS: &str = r#".doc{border:1px solid #ddd;border-radius:6px;padding:.8rem 1rem;margin:1rem 0}
.doc h3{margin:.1rem 0 .4rem;font-size:1.05rem}
.doc .labels{margin:.2rem 0 .5rem}
.doc .lab{display:inline-block;margin-right:.6rem}
.doc .forced{font-style:italic;color:#666}
.doc .note{color:#8a4b00}
.doc input.sw{position:absolute;opacity:0;width:1px;height:1px}
.doc label.sw{display:inline-block;padding:.1rem .6rem;margin:0 .3rem .4rem 0;border:1px solid #bbb;border-radius:1rem;cursor:pointer}
.doc input.sw:checked+label.sw{background:#222;color:#fff;border-color:#222}
.doc input.sw:focus-visible+label.sw{outline:3px solid #1b6eb3;outline-offset:2px}
.doc .text{white-space:pre-wrap;line-height:1.6}
.doc .text i{font-style:normal;border-radius:3px}
.doc table.terms{display:none;border-collapse:collapse;margin-top:.5rem;font-variant-numeric:tabular-nums}
.doc table.terms caption{text-align:left;font-weight:600;padding:.2rem 0}
.doc table.terms td,.doc table.terms th{padding:.1rem .5rem;border-bottom:1px solid #eee;text-align:right}
.doc table.terms td:first-child,.doc table.terms th:first-child{text-align:left}
.legend i{font-style:normal;padding:0 .4rem;border-radius:3px}
"#;

/// The CSS rules of switch position `s`: the words' classes `{a..}p{1..5}` / `n{1..5}` coloured,
/// and the term table of that label shown.
fn switch_css() -> String {
    let mut css = String::new();
    for s in 0..MAX_SWITCH {
        let _ = writeln!(css, ".doc .s{s}:checked~table.t{s}{{display:table}}");
        let key = (b'a' + s as u8) as char;
        for step in 1..=STEPS {
            let alpha = 0.12 + 0.68 * step as f64 / STEPS as f64;
            let _ = writeln!(
                css,
                ".doc .s{s}:checked~.text i[data-{key}=p{step}]{{background:rgba(217,95,2,{alpha:.2})}}\
                 .doc .s{s}:checked~.text i[data-{key}=n{step}]{{background:rgba(27,110,179,{alpha:.2})}}"
            );
        }
    }
    css
}

/// The CSS the document view needs (once per page): its fixed rules and the switch rules.
pub fn document_css() -> String {
    format!("{DOCUMENT_CSS}{}", switch_css())
}

/// The legend of the colours, for the top of a page.
pub fn legend_html() -> &'static str {
    "<p class=\"legend\">Words are coloured by their share of the selected label's logit: \
     <i style=\"background:rgba(217,95,2,.6)\">toward the label</i> \
     <i style=\"background:rgba(27,110,179,.6)\">away from it</i>, darker = larger (relative to \
     the document's largest share). A term's contribution, tf-idf × weight, is split equally \
     among its occurrences, and each occurrence's share equally among its words (half to each \
     word of a bigram). Hover a strongly coloured word for its shares.</p>\n"
}

/// Append the HTML of one scored document to `out`. `n` makes its element ids unique on the
/// page; `note` is shown under its labels (e.g. the gold labels in an error gallery).
/// `row` is the document's TF-IDF row ([`Classifier::predict_with_row`]).
pub fn document_html(
    out: &mut String,
    clf: &Classifier,
    p: &Prediction,
    row: &SparseRow,
    text: &str,
    n: usize,
    note: Option<&str>,
) {
    let _ = write!(
        out,
        "<article class=\"doc\" id=\"d{n}\" aria-labelledby=\"h{n}\">\n<h3 id=\"h{n}\">{}</h3>\n<p class=\"labels\">",
        html_escape(&p.id)
    );
    let probability = |label: &str| {
        p.probabilities
            .iter()
            .find(|(l, _)| l == label)
            .map_or(0.0, |x| x.1)
    };
    let threshold = |label: &str| {
        let k = clf.labels.iter().position(|l| l == label)?;
        clf.thresholds.as_ref().map(|t| t[k])
    };
    if p.labels.is_empty() {
        out.push_str("<span class=\"lab\">no label reached its threshold</span>");
    }
    for l in &p.labels {
        let prob = probability(l);
        let forced = threshold(l).is_some_and(|t| prob < t);
        if forced {
            let _ = write!(
                out,
                "<span class=\"lab forced\" title=\"no label reached its threshold; the most probable one is predicted\">{} {prob:.3} (forced)</span>",
                html_escape(l)
            );
        } else {
            let _ = write!(
                out,
                "<span class=\"lab\">{} {prob:.3}</span>",
                html_escape(l)
            );
        }
    }
    out.push_str("</p>\n");
    if let Some(note) = note {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", html_escape(note));
    }
    if p.no_known_terms {
        out.push_str("<p class=\"note\">No term of this document is in the model's vocabulary: its probabilities come from the biases alone.</p>\n");
    }
    // The switch: one position per explained label.
    let switch: Vec<(usize, &crate::explain::LabelExplanation)> = p
        .explanation
        .iter()
        .take(MAX_SWITCH)
        .filter_map(|e| {
            clf.labels
                .iter()
                .position(|l| *l == e.label)
                .map(|k| (k, e))
        })
        .collect();
    for (s, (_, e)) in switch.iter().enumerate() {
        let not = if p.labels.contains(&e.label) {
            ""
        } else {
            " <small>(not predicted)</small>"
        };
        let _ = write!(
            out,
            "<input type=\"radio\" class=\"sw s{s}\" name=\"d{n}\" id=\"d{n}s{s}\"{}>\
             <label class=\"sw\" for=\"d{n}s{s}\">{}{not}</label>",
            if s == 0 { " checked" } else { "" },
            html_escape(&e.label)
        );
    }
    // Each word's share for each switch label, as an intensity step.
    let ks: Vec<usize> = switch.iter().map(|(k, _)| *k).collect();
    let shares = clf.highlights(text, row, &ks);
    let scale: Vec<f64> = shares
        .iter()
        .map(|h| h.iter().map(|x| x.contribution.abs()).fold(0.0, f64::max))
        .collect();
    out.push_str("\n<div class=\"text\">");
    let mut cursor = 0;
    let words = shares.first().map_or(0, Vec::len);
    for w in 0..words {
        let (start, end) = (shares[0][w].start, shares[0][w].end);
        let mut attrs = String::new();
        let mut title = String::new();
        for (s, h) in shares.iter().enumerate() {
            let c = h[w].contribution;
            if c == 0.0 || scale[s] == 0.0 {
                continue;
            }
            let step = ((c.abs() / scale[s]) * STEPS as f64)
                .ceil()
                .clamp(1.0, STEPS as f64);
            let key = (b'a' + s as u8) as char;
            let sign = if c > 0.0 { 'p' } else { 'n' };
            let _ = write!(attrs, " data-{key}={sign}{step}");
            // Exact shares as a tooltip on the strongest words only: on every word they would
            // double the page's size (the terms table has the exact figures).
            if step >= 3.0 {
                let _ = write!(
                    title,
                    "{}{c:+.3} {}",
                    if title.is_empty() { "" } else { "; " },
                    switch[s].1.label
                );
            }
        }
        if attrs.is_empty() || start < cursor {
            continue;
        }
        out.push_str(&html_escape(&text[cursor..start]));
        if title.is_empty() {
            let _ = write!(out, "<i{attrs}>{}</i>", html_escape(&text[start..end]));
        } else {
            let _ = write!(
                out,
                "<i{attrs} title=\"{}\">{}</i>",
                html_escape(&title),
                html_escape(&text[start..end])
            );
        }
        cursor = end;
    }
    out.push_str(&html_escape(&text[cursor..]));
    out.push_str("</div>\n");
    for (s, (_, e)) in switch.iter().enumerate() {
        let _ = write!(
            out,
            "<table class=\"terms t{s}\"><caption>{}: logit {:+.3} = bias {:+.3} + the terms' contributions</caption>\
             <thead><tr><th>term</th><th>tf-idf</th><th>× weight</th><th>= contribution</th></tr></thead><tbody>",
            html_escape(&e.label),
            e.logit,
            e.bias
        );
        for c in e.up.iter().chain(&e.down) {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{:.3}</td><td>{:+.3}</td><td>{:+.3}</td></tr>",
                html_escape(&c.term),
                c.tfidf,
                c.weight,
                c.contribution
            );
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("</article>\n");
}
