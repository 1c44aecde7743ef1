//! Unit tests of the pages: escaping of hostile input, highlights, forced labels, paging, the
//! evaluation's extra sections.

use super::*;
use crate::classifier::{Classifier, ClassifierParams, ThresholdMode};
use crate::dataset::Document;
use crate::eval::evaluate;

fn hostile() -> Classifier {
    let doc = |text: &str, label: &str| Document {
        id: String::new(),
        text: text.into(),
        labels: vec![label.into()],
        ..Default::default()
    };
    let mut docs = Vec::new();
    for i in 0..8 {
        docs.push(doc(
            &format!("resistance fighters and the occupation {i}"),
            "<b>resist</b>",
        ));
        docs.push(doc(
            &format!("talks and ceasefire envoys met {i}"),
            "talks & \"peace\"",
        ));
        docs.push(doc(&format!("markets prices and currency {i}"), "economy"));
    }
    ClassifierParams::default().fit(&docs).unwrap().0
}

#[test]
fn printable_escapes_control_characters_only() {
    assert_eq!(printable("plain ümlaut"), "plain ümlaut");
    let shown = printable("a\u{1b}[31mred\nline");
    assert!(
        !shown.contains('\u{1b}') && !shown.contains('\n'),
        "{shown}"
    );
    assert!(
        shown.contains("\\u{1b}") && shown.contains("red"),
        "{shown}"
    );
}

#[test]
fn a_document_is_escaped_highlighted_and_switchable() {
    let clf = hostile();
    let text = "<script>alert(1)</script> The resistance fighters rejected the occupation.";
    let (p, row) = clf.predict_with_row("<img src=x onerror=alert(1)>", text, 5, &[2]);
    let mut h = String::new();
    document_html(&mut h, &clf, &p, &row, text, 7, Some("note <b>"));
    for raw in ["<script>", "<img", "<b>resist</b>", "note <b>"] {
        assert!(!h.contains(raw), "{raw} unescaped in {h}");
    }
    assert!(h.contains("&lt;b&gt;resist&lt;/b&gt;"));
    // One switch position per explained label, the first checked; the words carry their steps.
    assert_eq!(h.matches("type=\"radio\"").count(), p.explanation.len());
    assert!(h.contains("id=\"d7s0\" checked"));
    assert!(h.contains("data-a=p"), "{h}");
    assert!(h.contains(">resistance</i>"), "{h}");
    // The table of terms shows tf-idf × weight = contribution for each explained label.
    assert_eq!(
        h.matches("<table class=\"terms").count(),
        p.explanation.len()
    );
}

#[test]
fn a_forced_label_is_marked() {
    // Thresholds of 0.99: no label reaches its threshold, the most probable one is forced.
    let doc = |text: &str, labels: &[&str]| Document {
        id: String::new(),
        text: text.into(),
        labels: labels.iter().map(|l| l.to_string()).collect(),
        ..Default::default()
    };
    let docs: Vec<Document> = (0..10)
        .flat_map(|i| {
            [
                doc(&format!("war and siege {i}"), &["war", "siege"]),
                doc(&format!("peace talks {i}"), &["peace"]),
                doc(&format!("siege of the city {i}"), &["siege"]),
            ]
        })
        .collect();
    let params = ClassifierParams {
        threshold: Some(0.99),
        threshold_mode: ThresholdMode::Fixed,
        ..Default::default()
    };
    let (clf, _) = params.fit(&docs).unwrap();
    let text = "a quiet day";
    let (p, row) = clf.predict_with_row("x", text, 3, &[]);
    assert_eq!(p.labels.len(), 1);
    let mut h = String::new();
    document_html(&mut h, &clf, &p, &row, text, 1, None);
    assert!(h.contains("(forced)"), "{h}");
}

#[test]
fn the_score_page_is_paged_by_css() {
    let clf = hostile();
    let mut page = ScorePage::new(Vec::new(), &clf, "t <i>").unwrap();
    for i in 0..250 {
        let text = format!("resistance and talks {i}");
        let (p, row) = clf.predict_with_row(&i.to_string(), &text, 3, &[]);
        let mut h = String::new();
        document_html(&mut h, &clf, &p, &row, &text, i + 1, None);
        page.add(&h).unwrap();
    }
    let html = String::from_utf8(page.finish(Some("2 skipped")).unwrap()).unwrap();
    assert_eq!(html.matches("<section class=\"page\"").count(), 3);
    assert!(html.contains("id=\"p3\"") && !html.contains("id=\"p4\""));
    assert!(html.contains("250 documents in 3 page(s)"));
    assert!(html.contains("t &lt;i&gt;") && !html.contains("t <i>"));
    assert_eq!(html.matches("<article").count(), 250);
    assert!(html.ends_with("</html>\n"));
}

#[test]
fn eval_sections_draw_a_chart_and_show_errors() {
    let clf = hostile();
    let texts = [
        "resistance fighters and the occupation",
        "talks and ceasefire envoys met about markets prices",
        "markets prices and currency",
    ];
    let gold: Vec<Vec<String>> = vec![
        vec!["<b>resist</b>".into()],
        vec!["economy".into()],
        vec!["economy".into()],
    ];
    let predictions: Vec<_> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| clf.predict(&i.to_string(), t, 5))
        .collect();
    let predicted: Vec<Vec<String>> = predictions.iter().map(|p| p.labels.clone()).collect();
    let report = evaluate(&clf.labels, &gold, &predicted, false).unwrap();
    let ids: Vec<String> = (0..3).map(|i| i.to_string()).collect();
    let docs: Vec<TestDocument> = (0..3)
        .map(|i| TestDocument {
            id: &ids[i],
            text: texts[i],
            gold: &gold[i],
        })
        .collect();
    let h = eval_sections(&report, &clf, &docs, &predictions, 5).unwrap();
    assert!(h.contains("<svg") && h.contains("<rect"), "no chart");
    assert!(h.contains("<h2>Model</h2>"));
    assert!(!h.contains("<b>resist</b>"), "unescaped label");
    if predicted[1] != gold[1] {
        assert!(h.contains("missed for economy"), "{h}");
    }
    let page = report.to_html_with("t", &h);
    assert!(page.contains("<h2>Errors</h2>") && page.ends_with("</html>\n"));
}
