//! `framelens eval`: a test report of a model on labelled documents.

use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

use super::args::*;
use super::output::*;
use framelens::eval;
use framelens::model;
use framelens::report::{self, TestDocument};

#[derive(Args)]
pub(super) struct EvalArgs {
    /// Model file.
    #[arg(long)]
    model: PathBuf,
    /// Labelled test data.
    #[arg(long)]
    data: PathBuf,
    /// Also write the report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also write the report as a self-contained HTML page here.
    #[arg(long)]
    html: Option<PathBuf>,
    #[command(flatten)]
    input: InputArgs,
}

pub(super) fn run(a: EvalArgs) -> Result<()> {
    let clf = model::load(&a.model)?;
    let (docs, read_report) = read(&a.data, &a.input.options(true))?;
    report_skips(&read_report);
    let texts: Vec<&str> = docs.iter().map(|d| d.text.as_str()).collect();
    let predicted = clf.predict_labels(&texts);
    let truth: Vec<Vec<String>> = docs.iter().map(|d| d.labels.clone()).collect();
    let report = eval::evaluate(&clf.labels, &truth, &predicted, clf.is_multi_label())?;
    emit(&format!("{report}\n"))?;
    if let Some(path) = &a.json {
        let json = serde_json::to_vec_pretty(&report)?;
        model::write_atomic(path, &json)?;
        eprintln!("report written to {}", path.display());
    }
    if let Some(path) = &a.html {
        let title = format!("framelens: {} on {}", a.model.display(), a.data.display());
        let predictions: Vec<framelens::Prediction> = {
            use rayon::prelude::*;
            docs.par_iter()
                .map(|d| clf.predict(&d.id, &d.text, 8))
                .collect()
        };
        let test: Vec<TestDocument> = docs
            .iter()
            .map(|d| TestDocument {
                id: &d.id,
                text: &d.text,
                gold: &d.labels,
            })
            .collect();
        let extra = report::eval_sections(&report, &clf, &test, &predictions, 8)?;
        model::write_atomic(path, report.to_html_with(&title, &extra).as_bytes())?;
        eprintln!("HTML report written to {}", path.display());
    }
    Ok(())
}
