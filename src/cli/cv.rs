//! `framelens cv`: cross-validate the training settings.

use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::time::Instant;

use super::args::*;
use super::output::*;

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub(super) struct CvArgs {
    /// Labelled data: JSONL(.gz), CSV/TSV, a folder per label, or a SemEval folder.
    #[arg(long)]
    data: PathBuf,
    /// Number of folds.
    #[arg(long, default_value = "5")]
    folds: usize,
    /// Seed of the fold assignment: the same seed, data and settings give the same output.
    #[arg(long, default_value = "0")]
    seed: u64,
    /// Also write the summary (and each fold's full report) as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    options: TrainOptions,
}

/// `framelens cv`: read the data, cross-validate with the training options, print the summary.
pub(super) fn run(a: CvArgs) -> Result<()> {
    let t0 = Instant::now();
    if let Some(out) = &a.json {
        let mut inputs = vec![a.data.as_path()];
        inputs.extend(a.input.labels.labels_file.as_deref());
        check_not_input(out, &inputs)?;
    }
    let params = a.options.params()?;
    let (docs, report) = read(&a.data, &a.input.options(true))?;
    let n_documents = docs.len();
    let what = format!(
        "cross-validating: {} folds of {n_documents} documents",
        a.folds
    );
    // The texts are freed once counted: the folds need only the counts and the labels.
    let cv = with_spinner(&what, a.options.quiet, &params.logistic.progress, || {
        params.cross_validate_owned(docs, a.folds, a.seed)
    })?;
    // Standard output carries only what the data, settings and seed determine (no timings), so
    // two runs can be compared byte for byte.
    let mut out = String::new();
    outln!(
        out,
        "framelens cv: {} ({} documents, {}, {} folds of {}, seed {})",
        a.data.display(),
        n_documents,
        if cv.multi_label {
            "multi-label: one-vs-rest"
        } else {
            "single-label: multinomial"
        },
        a.folds,
        cv.fold_sizes
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join("/"),
        a.seed
    );
    outln!(out);
    out.push_str(&cv.summary.to_string());
    // With `--json -`, standard output carries the JSON alone.
    if !a.json.as_deref().is_some_and(is_stdout) {
        emit(&out)?;
    }
    report_skips(&report);
    if let Some(path) = &a.json {
        let v = serde_json::json!({
            "data": a.data.display().to_string(),
            "n_documents": n_documents,
            "multi_label": cv.multi_label,
            "folds": a.folds,
            "seed": a.seed,
            "fold_sizes": cv.fold_sizes,
            "params": params,
            "metrics": serde_json::to_value(&cv.summary)?["metrics"],
            "fold_reports": cv.reports,
        });
        write_output(
            path,
            format!("{}\n", serde_json::to_string_pretty(&v)?).as_bytes(),
        )?;
        if !is_stdout(path) && !a.options.quiet {
            eprintln!("cross-validation written to {}", path.display());
        }
    }
    if !a.options.quiet {
        eprintln!("  time        {:.2}s", t0.elapsed().as_secs_f64());
    }
    Ok(())
}
