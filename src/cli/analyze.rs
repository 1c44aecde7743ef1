//! `framelens analyze`: label prevalence by group and period, corrected for the classifier's
//! errors, with bootstrap intervals; partial states for splitting the work, and their merge.

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use clap::Args;
use rayon::prelude::*;
use std::path::PathBuf;

use super::args::*;
use super::output::*;
use framelens::analysis::{Method, Observation, PrevalenceSpec, PrevalenceState};
use framelens::dataset::{parse_date, InputFormat, Period};
use framelens::{model, Classifier, Document};

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub(super) struct AnalyzeArgs {
    /// Model file (not with --merge: the states carry what they were computed with).
    #[arg(long, required_unless_present = "merge")]
    model: Option<PathBuf>,
    /// JSONL or CSV files, .txt files or folders of .txt files; none or `-` reads JSONL from
    /// standard input.
    #[arg(conflicts_with = "merge")]
    paths: Vec<PathBuf>,
    /// Group by this record field (repeatable: --by source --by topic). Numbers and booleans
    /// count as their text.
    #[arg(long)]
    by: Vec<String>,
    /// Group by period of this date field too (ISO 8601, RFC 2822, M/D/YYYY, D Month YYYY...).
    #[arg(long, requires = "every")]
    time: Option<String>,
    /// The period: day, week (ISO), month, quarter or year.
    #[arg(long, requires = "time")]
    every: Option<Period>,
    /// Count the records' own labels instead of the model's predictions (annotated corpora).
    #[arg(long)]
    gold: bool,
    /// The estimate reported as `share` (and given an interval): cc, pcc, acc, pacc or emq. All
    /// five are reported; the default is the one most accurate in the measurements of the README
    /// ("Frame prevalence").
    #[arg(long, default_value = "emq")]
    method: Method,
    /// Output: table, json, csv (tidy, one row per group and label) or html (charts).
    #[arg(long, default_value = "table", value_parser = ["table", "json", "csv", "html"])]
    format: String,
    /// Write the output here instead of standard output (`-`: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Coverage of the share's interval.
    #[arg(long, default_value = "0.95")]
    ci: f64,
    /// Bootstrap replicates (0: no intervals). Memory grows with groups × labels × replicates.
    #[arg(long, default_value = "200")]
    bootstrap: usize,
    /// Seed of the bootstrap weights (each document's come from a hash of its id and the seed).
    #[arg(long, default_value = "1")]
    seed: u64,
    /// Write the mergeable aggregate state of the input to this file instead of estimates.
    #[arg(long, conflicts_with = "merge")]
    partial: Option<PathBuf>,
    /// Combine states written by --partial (same model and settings) and report on their union:
    /// the same output as one pass over all their inputs.
    #[arg(long, num_args = 1..)]
    merge: Vec<PathBuf>,
    /// Input layout of the PATHs: auto (by extension), jsonl, csv (CSV or TSV) or txt.
    #[arg(long, default_value = "auto")]
    input_format: InputFormat,
    #[command(flatten)]
    records: RecordArgs,
    /// (With --gold: where the records keep their labels.)
    #[command(flatten)]
    labels: LabelArgs,
}

/// Documents scored per batch: enough to keep the cores busy, few enough to bound memory.
const BATCH: usize = 1024;

/// Dates before this are out of range.
const EARLIEST: (i32, u32, u32) = (1800, 1, 1);

pub(super) fn run(a: AnalyzeArgs) -> Result<()> {
    if !(a.ci > 0.0 && a.ci < 1.0) {
        bail!("--ci {}: must be between 0 and 1, such as 0.95", a.ci);
    }
    if let Some(out) = a.out.as_ref().or(a.partial.as_ref()) {
        let mut inputs: Vec<&std::path::Path> = a.paths.iter().map(|p| p.as_path()).collect();
        inputs.extend(a.model.as_deref());
        inputs.extend(a.merge.iter().map(|p| p.as_path()));
        check_not_input(out, &inputs)?;
    }
    let state = if a.merge.is_empty() {
        let path = a
            .model
            .as_deref()
            .expect("clap requires --model without --merge");
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let clf = model::from_bytes(&bytes, &path.display().to_string())?;
        let spec = PrevalenceSpec {
            // The file's checksum (its last 8 bytes) identifies the model.
            model: bytes[bytes.len().saturating_sub(8)..]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            labels: clf.labels.clone(),
            multi_label: clf.is_multi_label(),
            by: a.by.clone(),
            time: a.time.clone(),
            every: a.every,
            gold: a.gold,
            bootstrap: a.bootstrap,
            seed: a.seed,
            rates: clf.summary.rates.clone(),
        };
        // Before the input is read: a long read must not end in this refusal.
        spec.check_rates(a.method)?;
        accumulate(&a, &clf, spec)?
    } else {
        let mut merged: Option<PrevalenceState> = None;
        for p in &a.merge {
            let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
            let s = PrevalenceState::from_bytes(&bytes, &p.display().to_string())?;
            match merged.as_mut() {
                None => merged = Some(s),
                Some(m) => m
                    .merge(&s)
                    .with_context(|| format!("merging {}", p.display()))?,
            }
        }
        merged.expect("clap requires at least one --merge file")
    };
    report_state_skips(&state);
    if let Some(path) = &a.partial {
        write_output(path, &state.to_bytes()?)?;
        let to = if is_stdout(path) {
            "standard output".to_string()
        } else {
            path.display().to_string()
        };
        eprintln!(
            "framelens analyze: state of {} documents written to {to}",
            state.documents()
        );
        return Ok(());
    }
    if state.documents() == 0 {
        bail!("no document to analyse{}", skipped_note(&state));
    }
    // With --gold every estimate is the count of the records' own labels.
    let method = if state.spec().gold {
        Method::Cc
    } else {
        a.method
    };
    let report = state.report(method, a.ci)?;
    let bytes = match a.format.as_str() {
        "json" => {
            let mut v = serde_json::to_vec_pretty(&report.to_json())?;
            v.push(b'\n');
            v
        }
        "csv" => report.to_csv()?,
        "html" => {
            let title = if a.merge.is_empty() {
                page_title("analyze", &a.paths)
            } else {
                "framelens analyze: merged states".to_string()
            };
            report.to_html(&title)?.into_bytes()
        }
        _ => report.to_text().into_bytes(),
    };
    match a.out.as_deref() {
        Some(path) if !is_stdout(path) => {
            write_output(path, &bytes)?;
            eprintln!("written to {}", path.display());
            Ok(())
        }
        _ => emit(&String::from_utf8_lossy(&bytes)),
    }
}

fn skipped_note(state: &PrevalenceState) -> String {
    let n: u64 = state.skipped().values().sum();
    if n == 0 {
        String::new()
    } else {
        format!(" ({n} records left out; see above)")
    }
}

fn report_state_skips(state: &PrevalenceState) {
    let skipped = state.skipped();
    let n: u64 = skipped.values().sum();
    if n > 0 {
        eprintln!(
            "framelens analyze: {n} record(s) left out: {}",
            skipped
                .iter()
                .map(|(r, n)| format!("{r} ({n})"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

/// Where a document goes, or why it is left out.
fn group_of(
    d: &Document,
    a: &AnalyzeArgs,
    range: (NaiveDate, NaiveDate),
) -> std::result::Result<Vec<String>, String> {
    let mut key = Vec::with_capacity(a.by.len() + 1);
    for f in &a.by {
        match d.meta.get(f) {
            Some(v) if !v.trim().is_empty() => key.push(v.clone()),
            Some(_) => return Err(format!("field \"{f}\" empty")),
            None => return Err(format!("field \"{f}\" missing or not a string")),
        }
    }
    if let (Some(field), Some(every)) = (&a.time, a.every) {
        let text = d.meta.get(field).map_or("", String::as_str);
        match parse_date(text, range) {
            Ok(day) => key.push(every.label(day)),
            Err(p) => return Err(format!("date field \"{field}\" {}", p.as_str())),
        }
    }
    Ok(key)
}

/// One pass over the input into a state: batches scored in parallel, added in input order.
fn accumulate(a: &AnalyzeArgs, clf: &Classifier, spec: PrevalenceSpec) -> Result<PrevalenceState> {
    let today = {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        chrono::DateTime::from_timestamp(secs, 0)
            .map(|t| t.date_naive())
            .unwrap_or(NaiveDate::MAX)
    };
    let earliest =
        NaiveDate::from_ymd_opt(EARLIEST.0, EARLIEST.1, EARLIEST.2).expect("a valid constant date");
    // A day of slack: a record dated "tomorrow" in a zone east of here is not a typo.
    let range = (earliest, today.succ_opt().unwrap_or(today));
    let mut state = PrevalenceState::new(spec);
    let (rx, reader) = spawn_reader(
        &a.paths,
        a.records.options(a.input_format, Some(&a.labels), false),
        BATCH * 2,
    );
    let progress = stream_spinner("{spinner} {human_pos} documents analysed ({per_sec})");
    let mut batch: Vec<Document> = Vec::with_capacity(BATCH);
    let mut invalid = 0u64;
    let mut failure = None;
    let mut more = true;
    while more {
        match next_batch(
            &rx,
            &mut batch,
            BATCH,
            a.records.skip_invalid,
            &mut invalid,
            &progress,
        ) {
            Ok(m) => more = m,
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
        // Score in parallel; the state is then filled in input order (its sums are exact, so the
        // order does not change them, but the skip counts read naturally).
        let scored: Vec<std::result::Result<Scored, String>> = batch
            .par_iter()
            .map(|d| {
                let key = group_of(d, a, range)?;
                if a.gold {
                    let (probs, labels) = gold_labels(d, &clf.labels)?;
                    return Ok((key, probs, labels));
                }
                let (probs, labels) = clf.probabilities_and_labels(&d.text);
                Ok((key, probs, labels))
            })
            .collect();
        for (d, s) in batch.iter().zip(scored) {
            match s {
                Ok((key, probs, labels)) => state.add(
                    &key,
                    Observation {
                        id: &d.id,
                        probabilities: &probs,
                        labels: &labels,
                    },
                ),
                Err(reason) => state.skip(&reason, 1),
            }
        }
        progress.inc(batch.len() as u64);
    }
    progress.finish_and_clear();
    let _ = reader.join();
    state.skip("invalid record (--skip-invalid)", invalid);
    if let Some(e) = failure {
        return Err(stopped(e, state.documents()));
    }
    Ok(state)
}

/// A document's group key, label probabilities and label indices.
type Scored = (Vec<String>, Vec<f64>, Vec<usize>);

/// A record's own labels as indicator probabilities and label indices.
fn gold_labels(
    d: &Document,
    labels: &[String],
) -> std::result::Result<(Vec<f64>, Vec<usize>), String> {
    if d.labels.is_empty() {
        return Err("no labels of its own (--gold)".into());
    }
    let mut idx = Vec::with_capacity(d.labels.len());
    for l in &d.labels {
        match labels.iter().position(|m| m == l) {
            Some(i) => idx.push(i),
            None => return Err(format!("label \"{l}\" not in the model (--gold)")),
        }
    }
    let mut probs = vec![0.0; labels.len()];
    for &i in &idx {
        probs[i] = 1.0;
    }
    Ok((probs, idx))
}
