//! `framelens score`: score and explain documents as a stream (JSON lines or a table).

use anyhow::Result;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

use super::args::*;
use super::output::*;
use framelens::dataset::{self, InputFormat};
use framelens::Document;
use framelens::{model, Prediction};
use std::sync::mpsc;

#[derive(Args)]
pub(super) struct ScoreArgs {
    /// Model file.
    #[arg(long)]
    model: PathBuf,
    /// JSONL files, .txt files (one document each) or folders of .txt files; none or `-` reads
    /// JSONL from standard input.
    paths: Vec<PathBuf>,
    /// Terms listed per predicted label, each way.
    #[arg(long, default_value = "10")]
    top_terms: usize,
    /// Output: json (one JSON object per line) or table (a readable summary).
    #[arg(long, visible_alias = "output", default_value = "json", value_parser = ["json", "table"])]
    format: String,
    /// Input layout of the PATHs: auto (by extension), jsonl or txt.
    #[arg(long, default_value = "auto")]
    input_format: InputFormat,
    #[command(flatten)]
    records: RecordArgs,
}

pub(super) fn run(a: ScoreArgs) -> Result<()> {
    let clf = model::load(&a.model)?;
    let (tx, rx) = mpsc::sync_channel::<framelens::Result<Document>>(4096);
    let paths = a.paths.clone();
    let opts = a.records.options(a.input_format, false);
    let reader = std::thread::spawn(move || {
        let stdin = || -> Box<dyn std::io::BufRead + Send> {
            Box::new(std::io::BufReader::new(std::io::stdin()))
        };
        dataset::stream_documents(&paths, &opts, stdin, |item| tx.send(item).is_ok());
    });

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let table = a.format == "table";
    let mut scored = 0usize;
    let mut errors = 0usize;
    let mut first_error: Option<framelens::Error> = None;
    // Take whatever has arrived (at least one document, at most 1024), score it in parallel,
    // write it in input order and flush: a stream filter when input trickles, full speed on files.
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < 1024 {
            match rx.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        let mut docs = Vec::with_capacity(batch.len());
        for item in batch {
            match item {
                Ok(d) => docs.push(d),
                Err(e) if a.records.skip_invalid => {
                    errors += 1;
                    eprintln!("skipped: {e:#}");
                }
                Err(e) => {
                    first_error = Some(e);
                    break;
                }
            }
        }
        let predictions: Vec<Prediction> = {
            use rayon::prelude::*;
            docs.par_iter()
                .map(|d| clf.predict(&d.id, &d.text, a.top_terms))
                .collect()
        };
        for p in &predictions {
            let r = if table {
                write_table_row(&mut out, p)
            } else {
                serde_json::to_writer(&mut out, &prediction_json(&clf, p))
                    .map_err(std::io::Error::from)
                    .and_then(|_| out.write_all(b"\n"))
            };
            if let Err(e) = r {
                return handle_write_error(e);
            }
        }
        scored += predictions.len();
        if let Err(e) = out.flush() {
            return handle_write_error(e);
        }
        if first_error.is_some() {
            break;
        }
    }
    drop(rx);
    let _ = reader.join();
    if let Some(e) = first_error {
        return Err(anyhow::Error::new(e).context(format!(
            "stopped after {scored} document(s); use --skip-invalid to skip bad records"
        )));
    }
    if errors > 0 {
        eprintln!("framelens score: {scored} scored, {errors} skipped");
    }
    Ok(())
}

fn write_table_row(out: &mut impl Write, p: &Prediction) -> std::io::Result<()> {
    writeln!(out, "{}", p.id)?;
    let mut probs = p.probabilities.clone();
    probs.sort_by(|a, b| b.1.total_cmp(&a.1));
    let shown: Vec<String> = probs
        .iter()
        .take(5)
        .map(|(l, v)| format!("{l} {v:.3}"))
        .collect();
    writeln!(out, "  labels:  {}", p.labels.join(", "))?;
    writeln!(out, "  probs:   {}", shown.join("  "))?;
    if p.no_known_terms {
        writeln!(
            out,
            "  note:    no known term: probabilities come from the biases alone"
        )?;
    }
    for e in &p.explanation {
        let fmt = |cs: &[framelens::explain::TermContribution]| {
            cs.iter()
                .map(|c| format!("{} ({:+.3})", c.term, c.contribution))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(out, "  {} up:    {}", e.label, fmt(&e.up))?;
        writeln!(out, "  {} down:  {}", e.label, fmt(&e.down))?;
    }
    writeln!(out)
}
