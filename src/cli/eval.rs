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
#[command(allow_negative_numbers = true)]
pub(super) struct EvalArgs {
    /// Model file.
    #[arg(long)]
    model: PathBuf,
    /// Labelled test data.
    #[arg(long)]
    data: PathBuf,
    /// Also write the report as JSON here (`-`: standard output, instead of the text report).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also write the report as a self-contained HTML page here (`-`: standard output).
    #[arg(long)]
    html: Option<PathBuf>,
    #[command(flatten)]
    input: InputArgs,
}

pub(super) fn run(a: EvalArgs) -> Result<()> {
    let mut inputs = vec![a.model.as_path(), a.data.as_path()];
    inputs.extend(a.input.labels.labels_file.as_deref());
    for out in a.json.iter().chain(&a.html) {
        check_not_input(out, &inputs)?;
    }
    let to_stdout = a.json.iter().chain(&a.html).any(|p| is_stdout(p));
    let clf = model::load(&a.model)?;
    let (docs, read_report) = read(&a.data, &a.input.options(true))?;
    report_skips(&read_report);
    // The HTML report's gallery needs every prediction in full; its labels then serve the report
    // too, so no document is scored twice.
    let predictions: Option<Vec<framelens::Prediction>> = a.html.as_ref().map(|_| {
        use rayon::prelude::*;
        docs.par_iter()
            .map(|d| clf.predict(&d.id, &d.text, 8))
            .collect()
    });
    let predicted: Vec<Vec<String>> = match &predictions {
        Some(ps) => ps.iter().map(|p| p.labels.clone()).collect(),
        None => {
            let texts: Vec<&str> = docs.iter().map(|d| d.text.as_str()).collect();
            clf.predict_labels(&texts)
        }
    };
    let truth: Vec<Vec<String>> = docs.iter().map(|d| d.labels.clone()).collect();
    let report = eval::evaluate(&clf.labels, &truth, &predicted, clf.is_multi_label())?;
    // With `-` for --json or --html, standard output carries that alone.
    if !to_stdout {
        emit(&format!("{report}\n"))?;
    }
    if let Some(path) = &a.json {
        let mut json = serde_json::to_vec_pretty(&report)?;
        json.push(b'\n');
        write_output(path, &json)?;
        if !is_stdout(path) {
            eprintln!("report written to {}", path.display());
        }
    }
    if let (Some(path), Some(predictions)) = (&a.html, &predictions) {
        let title = format!("framelens: {} on {}", a.model.display(), a.data.display());
        let test: Vec<TestDocument> = docs
            .iter()
            .map(|d| TestDocument {
                id: &d.id,
                text: &d.text,
                gold: &d.labels,
            })
            .collect();
        let extra = report::eval_sections(&report, &clf, &test, predictions, 8)?;
        write_output(path, report.to_html_with(&title, &extra).as_bytes())?;
        if !is_stdout(path) {
            eprintln!("HTML report written to {}", path.display());
        }
    }
    Ok(())
}
