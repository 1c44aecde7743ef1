//! Input data. Owns [`Document`] (`id`, `text`, `labels`, `meta`), the readers of every input
//! format (JSONL plain or gzip'd, CSV/TSV, a folder per label, `.txt` files, the SemEval layout)
//! with clear errors naming the file, line and field, the walk over input paths that the
//! scoring subcommands share, and the dates of records with the periods they fall in (`dates`).
//! Does not own models or any computation on the text.

mod csv_file;
mod dates;
mod folders;
mod jsonl;
mod read;
mod walk;

pub use chrono::NaiveDate;
use csv_file::*;
pub use dates::{parse_date, DateProblem, Period};
use folders::*;
use jsonl::*;
pub use jsonl::{open_text, JsonlReader};
use read::*;
pub use read::{detect_format, read_documents, Document, InputFormat, ReadOptions, ReadReport};
pub use walk::stream_documents;

#[cfg(test)]
mod tests;
