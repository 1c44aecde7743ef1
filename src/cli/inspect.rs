//! `framelens inspect`: what is in a model file.

use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

use super::output::*;
use framelens::explain::top_weights;
use framelens::model::{self, ModelHeader};
use framelens::Classifier;

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub(super) struct InspectArgs {
    /// Model file.
    #[arg(long)]
    model: PathBuf,
    /// Top terms by weight per label, each way.
    #[arg(long, default_value = "10")]
    top_terms: usize,
    /// Output: text or json.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    format: String,
    /// The same as --format json (an older spelling).
    #[arg(long, hide = true)]
    json: bool,
}

/// What `inspect --json` prints (and `serve` answers on `GET /v1/model`): the format, settings,
/// training summary and, per label, its bias, threshold and `top_terms` top terms each way.
pub(super) fn model_json(
    clf: &Classifier,
    version: u32,
    header: &ModelHeader,
    top_terms: usize,
) -> Result<serde_json::Value> {
    let vocab = clf.vectorizer.vocabulary();
    let labels: Vec<serde_json::Value> = clf
        .labels
        .iter()
        .enumerate()
        .map(|(k, l)| {
            let (up, down) = top_weights(&clf.model, vocab, k, top_terms);
            let evidence = header.training.threshold_evidence(l).map(|x| {
                let mut v = serde_json::to_value(x).unwrap_or_default();
                if let (Some(o), Some(r)) = (v.as_object_mut(), x.reason()) {
                    o.insert("reason".into(), r.into());
                }
                v
            });
            serde_json::json!({
                "label": l,
                "bias": clf.model.bias[k],
                "threshold": clf.thresholds.as_ref().map(|t| t[k]),
                "threshold_evidence": evidence,
                "top_positive": up,
                "top_negative": down,
            })
        })
        .collect();
    Ok(serde_json::json!({
        "format": "framelens-model",
        "format_version": version,
        "kind": header.kind,
        "n_features": header.n_features,
        "params": header.params,
        "training": header.training,
        "labels": labels,
    }))
}

pub(super) fn run(a: InspectArgs) -> Result<()> {
    let (clf, version, header) = model::load_with_header(&a.model)?;
    if a.json || a.format == "json" {
        let v = model_json(&clf, version, &header, a.top_terms)?;
        return emit(&format!("{}\n", serde_json::to_string_pretty(&v)?));
    }
    let vocab = clf.vectorizer.vocabulary();
    let tops: Vec<_> = (0..clf.labels.len())
        .map(|k| top_weights(&clf.model, vocab, k, a.top_terms))
        .collect();
    let p = &header.params;
    let an = &p.tfidf.analyzer;
    let mut out = String::new();
    outln!(out, "model        {}", a.model.display());
    outln!(out, "format       framelens-model version {version}");
    outln!(
        out,
        "kind         {}",
        if clf.is_multi_label() {
            "one-vs-rest (multi-label)"
        } else {
            "multinomial (single-label)"
        }
    );
    outln!(
        out,
        "analyzer     {:?}, ngram_range {}..{}, lowercase {}, language {}, stem {}, {} stop words",
        an.kind,
        an.ngram_range.0,
        an.ngram_range.1,
        an.lowercase,
        an.language.map_or("none".into(), |l| l.to_string()),
        an.stem,
        an.stop_words.len()
    );
    outln!(
        out,
        "tf-idf       min_df {}, max_df {}, max_features {}, sublinear_tf {}, smooth_idf {}, norm {:?}",
        p.tfidf.min_df,
        p.tfidf.max_df,
        p.tfidf.max_features.map_or("none".into(), |m| m.to_string()),
        p.tfidf.sublinear_tf,
        p.tfidf.smooth_idf,
        p.tfidf.norm
    );
    let logistic = p.logistic_for(clf.model.kind);
    outln!(
        out,
        "classifier   C {}, class_weight {:?}, solver {:?}, max_iter {}, tol {:e}",
        logistic.c,
        logistic.class_weight,
        logistic.solver,
        logistic.max_iter,
        logistic.tol
    );
    let t = &header.training;
    if clf.is_multi_label() {
        let how = match &t.threshold_tuning {
            Some(tt) => tt.describe(),
            None => "fixed".to_string(),
        };
        let empty = if p.allow_empty {
            "a document may get no label"
        } else {
            "at least one label per document"
        };
        outln!(out, "thresholds   {how}; {empty}");
    }
    outln!(out, "training     framelens {}", t.framelens_version);
    for line in clf.overview().to_string().lines() {
        outln!(out, "  {line}");
    }
    for (k, l) in clf.labels.iter().enumerate() {
        let n = t.label_counts.get(l).copied().unwrap_or(0);
        let tuned = t
            .threshold_evidence(l)
            .map(|x| {
                let pos = x
                    .positives
                    .map(|p| format!(", {p} positives"))
                    .unwrap_or_default();
                let why = x.reason().map(|r| format!("; {r}")).unwrap_or_default();
                format!(
                    " (out-of-fold F1 {:.3}; {:.3} at 0.5{pos}{why})",
                    x.f1, x.f1_at_half
                )
            })
            .unwrap_or_default();
        let thr = clf
            .thresholds
            .as_ref()
            .map(|t| format!(", threshold {:.3}{tuned}", t[k]))
            .unwrap_or_default();
        outln!(
            out,
            "\n{l}  ({n} training documents, bias {:+.3}{thr})",
            clf.model.bias[k]
        );
        let fmt = |v: &[(String, f64)]| {
            v.iter()
                .map(|(t, w)| format!("{t} ({w:+.2})"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        outln!(out, "  up:   {}", fmt(&tops[k].0));
        outln!(out, "  down: {}", fmt(&tops[k].1));
    }
    emit(&out)
}
