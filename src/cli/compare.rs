//! `framelens compare`: the terms that set one group of documents apart from another.

use anyhow::{bail, Result};
use clap::Args;
use rayon::prelude::*;
use std::path::PathBuf;

use super::args::*;
use super::output::*;
use framelens::analysis::{self, CompareParams, Comparison, Groups, Statistic, TermCounter};
use framelens::dataset::InputFormat;
use framelens::text::Analyzer;
use framelens::{model, Classifier, Document};

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub(super) struct CompareArgs {
    /// JSONL files, .txt files or folders of .txt files; none or `-` reads JSONL from standard
    /// input.
    paths: Vec<PathBuf>,
    /// The record field whose values form the groups (`labels`: each of a record's labels).
    #[arg(long)]
    by: String,
    /// The group to describe (default: every value of --by, each against the rest).
    #[arg(long)]
    target: Option<String>,
    /// The group to compare it with (default: every record outside the target).
    #[arg(long, requires = "target")]
    reference: Option<String>,
    /// Compare only the records that carry this label: the model's predictions with --model,
    /// the records' own labels without it or with --gold.
    #[arg(long)]
    label: Option<String>,
    /// A model: its analyzer makes the terms, and with --label its predictions select records.
    #[arg(long, conflicts_with_all = ["analyzer", "ngram_range", "language", "stop_words", "stem"])]
    model: Option<PathBuf>,
    /// With --label and --model: select records by their own labels, not the model's.
    #[arg(long, requires = "label")]
    gold: bool,
    /// Terms listed each way.
    #[arg(long, default_value = "20")]
    top: usize,
    /// Compare only terms that occur at least this often in the two groups together.
    #[arg(long, default_value = "5")]
    min_count: u64,
    /// α0, the prior's total: each term's prior is α0 × its share of all corpus terms.
    #[arg(long, default_value = "10000")]
    prior_scale: f64,
    /// Ranking statistic: logodds (informative-Dirichlet z-score), chi2, lr or pmi.
    #[arg(long, default_value = "logodds")]
    stat: Statistic,
    /// Output: table, json, csv (every compared term) or html (a page with the plot).
    #[arg(long, default_value = "table", value_parser = ["table", "json", "csv", "html"])]
    format: String,
    /// Write the output here instead of standard output (`-`: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Input layout of the PATHs: auto (by extension), jsonl, csv (CSV or TSV) or txt.
    #[arg(long, default_value = "auto")]
    input_format: InputFormat,
    #[command(flatten)]
    records: RecordArgs,
    /// (With --gold: where the records keep their labels.)
    #[command(flatten)]
    labels: LabelArgs,
    #[command(flatten)]
    text: AnalyzerArgs,
}

/// Documents counted per batch: enough to keep both cores busy, few enough to bound memory.
const BATCH: usize = 2048;

/// Why records were left out.
#[derive(Default)]
struct Skipped {
    invalid: u64,
    no_field: u64,
    other_label: u64,
}

pub(super) fn run(a: CompareArgs) -> Result<()> {
    let groups = match (&a.target, &a.reference) {
        (Some(t), Some(r)) => Groups::Pair {
            target: t.clone(),
            reference: r.clone(),
        },
        (Some(t), None) => Groups::AgainstRest { target: t.clone() },
        _ => Groups::EachAgainstRest,
    };
    let params = CompareParams {
        groups: groups.clone(),
        min_count: a.min_count,
        prior_scale: a.prior_scale,
        statistic: a.stat,
    };
    params.validate()?;
    if let Some(out) = &a.out {
        let mut inputs: Vec<&std::path::Path> = a.paths.iter().map(|p| p.as_path()).collect();
        inputs.extend(a.model.as_deref());
        check_not_input(out, &inputs)?;
    }
    let classifier = a.model.as_deref().map(model::load).transpose()?;
    let analyzer = match &classifier {
        Some(clf) => clf.vectorizer.analyzer().clone(),
        None => Analyzer::new(a.text.config()?)?,
    };
    if let (Some(label), Some(clf)) = (&a.label, &classifier) {
        if !a.gold && !clf.labels.contains(label) {
            bail!(
                "--label {label}: the model does not predict it (its labels: {})",
                clf.labels.join(", ")
            );
        }
    }
    let predicted = if a.gold { None } else { classifier.as_ref() };

    let (rx, reader) = spawn_reader(
        &a.paths,
        a.records.options(a.input_format, Some(&a.labels), false),
        BATCH * 2,
    );
    let progress = stream_spinner("{spinner} {human_pos} documents read ({per_sec}) {msg}");

    let mut counter = TermCounter::new(analyzer, groups);
    let mut skipped = Skipped::default();
    let mut read = 0u64;
    let mut failure = None;
    let mut batch: Vec<Document> = Vec::with_capacity(BATCH);
    let mut more = true;
    while more {
        // A bad record ends the stream; the documents read before it are still counted.
        match next_batch(
            &rx,
            &mut batch,
            BATCH,
            a.records.skip_invalid,
            &mut skipped.invalid,
            &progress,
        ) {
            Ok(m) => more = m,
            Err(e) => {
                failure = Some(e);
                more = false;
            }
        }
        read += batch.len() as u64;
        progress.set_position(read);
        let selected = select(&batch, &a, predicted, &mut skipped);
        counter.add_batch(&selected);
    }
    progress.finish_and_clear();
    drop(rx);
    let _ = reader.join();
    if let Some(e) = failure {
        return Err(stopped(e, read));
    }
    report(&a, read, &skipped, counter.documents());
    if counter.documents() == 0 && read > 0 && skipped.no_field == read {
        return Err(framelens::Error::MissingGroupField {
            field: a.by.clone(),
            documents: read,
            hint: "name a field the records have with --by (`labels` groups by label)".to_string(),
        }
        .into());
    }
    let comparisons = counter.compare(&a.by, &params)?;
    write_comparisons(&a, &comparisons)
}

/// The records of a batch that the comparison uses, each as its text and its values of the
/// grouping field; the others are counted in `skipped`.
fn select<'d>(
    batch: &'d [Document],
    a: &CompareArgs,
    predicted: Option<&Classifier>,
    skipped: &mut Skipped,
) -> Vec<(&'d str, Vec<String>)> {
    let carries_label: Vec<bool> = match (&a.label, predicted) {
        (None, _) => vec![true; batch.len()],
        (Some(label), Some(clf)) => batch
            .par_iter()
            .map(|d| clf.predict(&d.id, &d.text, 0).labels.contains(label))
            .collect(),
        (Some(label), None) => batch.iter().map(|d| d.labels.contains(label)).collect(),
    };
    let mut out = Vec::with_capacity(batch.len());
    for (d, keep) in batch.iter().zip(carries_label) {
        if !keep {
            skipped.other_label += 1;
            continue;
        }
        let values = if a.by == "labels" {
            d.labels.clone()
        } else {
            d.meta.get(&a.by).cloned().into_iter().collect()
        };
        if values.is_empty() {
            skipped.no_field += 1;
            continue;
        }
        out.push((d.text.as_str(), values));
    }
    out
}

/// What was read and left out, on stderr.
fn report(a: &CompareArgs, read: u64, skipped: &Skipped, used: u64) {
    eprintln!("framelens compare: {read} documents read, {used} compared");
    if skipped.other_label > 0 {
        let by = if a.gold || a.model.is_none() {
            "their own labels"
        } else {
            "the model's prediction"
        };
        eprintln!(
            "  {} without the label {} ({by}), left out",
            skipped.other_label,
            a.label.as_deref().unwrap_or("")
        );
    }
    if skipped.no_field > 0 {
        eprintln!(
            "  {} without a value for \"{}\" (missing, empty, a list or null), left out",
            skipped.no_field, a.by
        );
    }
    if skipped.invalid > 0 {
        eprintln!("  {} invalid records skipped", skipped.invalid);
    }
}

fn write_comparisons(a: &CompareArgs, comparisons: &[Comparison]) -> Result<()> {
    // CSV holds every compared term and can be large: it is written as it is made.
    if a.format == "csv" {
        let write =
            |w: &mut dyn std::io::Write| analysis::write_comparisons_csv(&a.by, comparisons, w);
        return match a.out.as_deref().filter(|p| !is_stdout(p)) {
            Some(path) => {
                model::write_atomic_with(path, |f| write(f))?;
                eprintln!("written to {}", path.display());
                Ok(())
            }
            None => {
                stdout_open()?;
                let stdout = std::io::stdout();
                let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
                match write(&mut out).and_then(|_| std::io::Write::flush(&mut out)) {
                    Ok(()) => Ok(()),
                    Err(e) => handle_write_error(e),
                }
            }
        };
    }
    let bytes = match a.format.as_str() {
        "json" => {
            let json: Vec<serde_json::Value> = comparisons
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "field": a.by,
                        "target": c.target,
                        "reference": c.reference_name(),
                        "reference_is_rest": c.reference.is_none(),
                        "target_documents": c.target_documents,
                        "reference_documents": c.reference_documents,
                        "target_total": c.target_total,
                        "reference_total": c.reference_total,
                        "corpus_documents": c.corpus_documents,
                        "prior_total": c.prior_total,
                        "statistic": c.statistic,
                        "min_count": c.min_count,
                        "terms_compared": c.terms.len(),
                        "top_target": c.top_target(a.top).collect::<Vec<_>>(),
                        "top_reference": c.top_reference(a.top).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let mut v = serde_json::to_vec_pretty(&json)?;
            v.push(b'\n');
            v
        }
        "html" => {
            let title = format!("framelens compare: {}", a.by);
            analysis::comparisons_html(&title, &a.by, comparisons, a.top)?.into_bytes()
        }
        _ => analysis::comparisons_text(&a.by, comparisons, a.top).into_bytes(),
    };
    let path = a.out.as_deref().unwrap_or(std::path::Path::new("-"));
    write_output(path, &bytes)?;
    if !is_stdout(path) {
        eprintln!("written to {}", path.display());
    }
    Ok(())
}
