//! What `eval --html` adds to the report's tables: the model's settings, a chart (the confusion
//! matrix as a heat map for single-label models, per-label precision / recall / F1 bars for
//! multi-label ones) drawn by plotters as inline SVG, and the error gallery: per label, the most
//! confident false positives and the most confidently missed documents, each shown highlighted.

use plotters::prelude::*;
use std::fmt::Write as _;

use super::document::{document_css, document_html, legend_html};
use crate::classifier::{Classifier, Prediction};
use crate::error::{Error, Result};
use crate::eval::{html_escape, ConfusionMatrix, Report, MATRIX_LABELS};

/// A test document as the gallery needs it.
pub struct TestDocument<'a> {
    /// Its id.
    pub id: &'a str,
    /// Its text.
    pub text: &'a str,
    /// Its gold labels.
    pub gold: &'a [String],
}

/// Documents shown per label and kind of error.
pub const GALLERY_PER_LABEL: usize = 3;

/// The HTML sections `eval --html` adds before the report's footer. `predictions[i]` is the
/// prediction of `docs[i]`.
pub fn eval_sections(
    report: &Report,
    clf: &Classifier,
    docs: &[TestDocument<'_>],
    predictions: &[Prediction],
    top_terms: usize,
) -> Result<String> {
    let mut h = String::new();
    let _ = writeln!(
        h,
        "<style>\n{}.settings td{{text-align:left}}\n</style>",
        document_css()
    );
    settings(&mut h, clf);
    h.push_str("<h2>Chart</h2>\n");
    h.push_str(&match &report.confusion_matrix {
        // Past MATRIX_LABELS a heat map is unreadable and grows as labels² (a million cells at
        // a thousand): the per-label bars instead.
        ConfusionMatrix::SingleLabel(m) if m.len() <= MATRIX_LABELS => heat_map(report, m)?,
        ConfusionMatrix::SingleLabel(_) => label_bars(report)?,
        ConfusionMatrix::MultiLabel(_) => label_bars(report)?,
    });
    gallery(&mut h, clf, docs, predictions, top_terms);
    Ok(h)
}

/// The model's settings, as `inspect` shows them.
fn settings(h: &mut String, clf: &Classifier) {
    let p = &clf.params;
    let a = &p.tfidf.analyzer;
    let rows = [
        (
            "kind",
            if clf.is_multi_label() {
                "one-vs-rest (multi-label)".to_string()
            } else {
                "multinomial (single-label)".to_string()
            },
        ),
        (
            "analyzer",
            format!(
                "{:?} {}–{}-grams, language {}, {} stop words, stemming {}",
                a.kind,
                a.ngram_range.0,
                a.ngram_range.1,
                a.language.map_or("none".into(), |l| l.to_string()),
                a.stop_words.len(),
                if a.stem { "on" } else { "off" }
            ),
        ),
        (
            "tf-idf",
            format!(
                "min_df {}, max_df {}, sublinear_tf {}, {} terms",
                p.tfidf.min_df,
                p.tfidf.max_df,
                p.tfidf.sublinear_tf,
                clf.vectorizer.n_features()
            ),
        ),
        (
            "logistic",
            format!(
                "C {}, class weight {:?}",
                p.logistic.c, p.logistic.class_weight
            ),
        ),
        (
            "thresholds",
            match &clf.thresholds {
                Some(t) => format!(
                    "{:?}: {}",
                    p.threshold_mode,
                    t.iter()
                        .map(|x| format!("{x:.3}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None => "none (the most probable label)".to_string(),
            },
        ),
        (
            "training",
            format!(
                "{} documents, framelens {}",
                clf.summary.n_documents, clf.summary.framelens_version
            ),
        ),
    ];
    h.push_str("<h2>Model</h2>\n<table class=\"settings\">\n<tbody>\n");
    for (k, v) in rows {
        let _ = writeln!(
            h,
            "<tr><th scope=\"row\">{k}</th><td>{}</td></tr>",
            html_escape(&v)
        );
    }
    h.push_str("</tbody>\n</table>\n");
}

fn chart_error(e: impl std::fmt::Display) -> Error {
    Error::Render {
        what: "SVG chart",
        reason: e.to_string(),
    }
}

/// Label names cut to `n` characters for chart axes (the tables carry them whole).
fn short(label: &str, n: usize) -> String {
    if label.chars().count() <= n {
        label.to_string()
    } else {
        format!("{}…", label.chars().take(n - 1).collect::<String>())
    }
}

/// The confusion matrix as an SVG heat map: rows gold, columns predicted, each cell shaded by its
/// share of its row and labelled with its count.
fn heat_map(report: &Report, m: &[Vec<usize>]) -> Result<String> {
    let rows = &report.labels;
    let cols = report
        .confusion_columns
        .clone()
        .unwrap_or_else(|| rows.clone());
    let cell = 44i32;
    let (left, top) = (170i32, 130i32);
    let width = (left + cell * cols.len() as i32 + 20).max(360) as u32;
    let height = (top + cell * rows.len() as i32 + 20) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let font = ("sans-serif", 13).into_font();
        root.draw(&Text::new(
            "gold label (rows) × predicted label (columns)".to_string(),
            (8, 8),
            font.clone(),
        ))
        .map_err(chart_error)?;
        for (c, name) in cols.iter().enumerate() {
            let x = left + cell * c as i32 + cell / 2;
            let style = font
                .clone()
                .transform(FontTransform::Rotate270)
                .color(&BLACK);
            root.draw(&Text::new(short(name, 16), (x - 6, top - 6), style))
                .map_err(chart_error)?;
        }
        for (r, name) in rows.iter().enumerate() {
            let y = top + cell * r as i32;
            root.draw(&Text::new(
                short(name, 22),
                (8, y + cell / 2 - 7),
                font.clone(),
            ))
            .map_err(chart_error)?;
            let total: usize = m[r].iter().sum();
            for (c, &n) in m[r].iter().enumerate() {
                let x = left + cell * c as i32;
                let share = if total > 0 {
                    n as f64 / total as f64
                } else {
                    0.0
                };
                let shade = RGBColor(
                    (255.0 - 228.0 * share) as u8,
                    (255.0 - 145.0 * share) as u8,
                    (255.0 - 76.0 * share) as u8,
                );
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell - 2, y + cell - 2)],
                    shade.filled(),
                ))
                .map_err(chart_error)?;
                let ink = if share > 0.5 { WHITE } else { BLACK };
                root.draw(&Text::new(
                    n.to_string(),
                    (x + 8, y + cell / 2 - 7),
                    font.clone().color(&ink),
                ))
                .map_err(chart_error)?;
            }
        }
        root.present().map_err(chart_error)?;
    }
    Ok(format!("<figure class=\"chart\">\n{svg}\n<figcaption>Confusion matrix: the shade is the cell's share of its gold row.</figcaption>\n</figure>\n"))
}

/// Per label, three horizontal bars: precision, recall and F1.
fn label_bars(report: &Report) -> Result<String> {
    let row = 54i32;
    let (left, top, bar_w) = (190i32, 40i32, 420i32);
    let height = (top + row * report.per_label.len() as i32 + 20) as u32;
    let colours = [
        ("precision", RGBColor(27, 110, 179)),
        ("recall", RGBColor(217, 95, 2)),
        ("F1", RGBColor(60, 60, 60)),
    ];
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, ((left + bar_w + 80) as u32, height))
            .into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let font = ("sans-serif", 13).into_font();
        for (i, (name, colour)) in colours.iter().enumerate() {
            let x = left + 110 * i as i32;
            root.draw(&Rectangle::new([(x, 10), (x + 14, 24)], colour.filled()))
                .map_err(chart_error)?;
            root.draw(&Text::new(name.to_string(), (x + 20, 10), font.clone()))
                .map_err(chart_error)?;
        }
        for (r, m) in report.per_label.iter().enumerate() {
            let y = top + row * r as i32;
            root.draw(&Text::new(short(&m.label, 24), (8, y + 18), font.clone()))
                .map_err(chart_error)?;
            for (i, v) in [m.precision, m.recall, m.f1].into_iter().enumerate() {
                let by = y + 4 + 15 * i as i32;
                let w = (v.clamp(0.0, 1.0) * bar_w as f64).round() as i32;
                root.draw(&Rectangle::new(
                    [(left, by), (left + w.max(1), by + 12)],
                    colours[i].1.filled(),
                ))
                .map_err(chart_error)?;
                root.draw(&Text::new(
                    format!("{v:.3}"),
                    (left + w + 6, by - 1),
                    ("sans-serif", 11).into_font(),
                ))
                .map_err(chart_error)?;
            }
        }
        root.present().map_err(chart_error)?;
    }
    Ok(format!("<figure class=\"chart\">\n{svg}\n<figcaption>Precision, recall and F1 per label.</figcaption>\n</figure>\n"))
}

/// Per label, the most confident false positives and the most confidently missed documents.
fn gallery(
    h: &mut String,
    clf: &Classifier,
    docs: &[TestDocument<'_>],
    predictions: &[Prediction],
    top_terms: usize,
) {
    h.push_str("<h2>Errors</h2>\n<p>For each label: the false positives the model was surest of, and the documents of the label it missed with the lowest probability, each with its words coloured for that label.</p>\n");
    h.push_str(legend_html());
    let mut n = 0;
    for (k, label) in clf.labels.iter().enumerate() {
        let prob = |i: usize| predictions[i].probabilities[k].1;
        let predicted = |i: usize| predictions[i].labels.iter().any(|l| l == label);
        let gold = |i: usize| docs[i].gold.iter().any(|l| l == label);
        let mut fp: Vec<usize> = (0..docs.len())
            .filter(|&i| predicted(i) && !gold(i))
            .collect();
        let mut fn_: Vec<usize> = (0..docs.len())
            .filter(|&i| !predicted(i) && gold(i))
            .collect();
        if fp.is_empty() && fn_.is_empty() {
            continue;
        }
        fp.sort_by(|&a, &b| prob(b).total_cmp(&prob(a)).then(a.cmp(&b)));
        fn_.sort_by(|&a, &b| prob(a).total_cmp(&prob(b)).then(a.cmp(&b)));
        let _ = writeln!(
            h,
            "<details class=\"errors\"{}><summary>{}: {} false positive(s), {} false negative(s)</summary>",
            if n == 0 { " open" } else { "" },
            html_escape(label),
            fp.len(),
            fn_.len()
        );
        for (kind, list) in [("false positive", &fp), ("missed", &fn_)] {
            for &i in list.iter().take(GALLERY_PER_LABEL) {
                let d = &docs[i];
                // Explain this label first, whether predicted or not.
                let (mut p, row) = clf.predict_with_row(d.id, d.text, top_terms, &[k]);
                if let Some(pos) = p.explanation.iter().position(|e| e.label == *label) {
                    let e = p.explanation.remove(pos);
                    p.explanation.insert(0, e);
                }
                let note = format!(
                    "{kind} for {label} (probability {:.3}); gold: {}",
                    prob(i),
                    if d.gold.is_empty() {
                        "none".to_string()
                    } else {
                        d.gold.join(", ")
                    }
                );
                n += 1;
                document_html(h, clf, &p, &row, d.text, n, Some(&note));
            }
        }
        h.push_str("</details>\n");
    }
    if n == 0 {
        h.push_str("<p>No errors.</p>\n");
    }
}
