//! The input readers of `framelens::dataset` on small fixtures (tests/fixtures/dataset/) and on
//! files written into a temp dir (gzip, invalid UTF-8, order of creation).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use framelens::dataset::{
    detect_format, read_documents, Document, InputFormat, JsonlReader, ReadOptions, ReadReport,
};
use framelens::Error;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/dataset")
        .join(name)
}

fn read(path: &Path, opts: &ReadOptions) -> (Vec<Document>, ReadReport) {
    read_documents(path, opts).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_err(path: &Path, opts: &ReadOptions) -> String {
    match read_documents(path, opts) {
        Ok((docs, _)) => panic!("expected an error, read {} documents", docs.len()),
        Err(e) => e.to_string(),
    }
}

fn ids(docs: &[Document]) -> Vec<&str> {
    docs.iter().map(|d| d.id.as_str()).collect()
}

fn labels(doc: &Document) -> Vec<&str> {
    doc.labels.iter().map(String::as_str).collect()
}

fn skipping() -> ReadOptions {
    ReadOptions {
        skip_invalid: true,
        ..ReadOptions::default()
    }
}

fn scoring() -> ReadOptions {
    ReadOptions {
        labels_required: false,
        ..ReadOptions::default()
    }
}

fn with_labels_file(path: PathBuf) -> ReadOptions {
    ReadOptions {
        labels_file: Some(path),
        ..ReadOptions::default()
    }
}

#[test]
fn jsonl_fixture_ids_labels_label_fallback_and_meta() {
    let (docs, report) = read(&fixture("articles.jsonl"), &ReadOptions::default());
    assert_eq!(ids(&docs), ["a1", "2", "articles:4"]);
    assert_eq!(labels(&docs[0]), ["resistance", "occupation"]);
    // `label` (one string) stands in for the default `labels`.
    assert_eq!(labels(&docs[1]), ["martyrdom"]);
    assert_eq!(labels(&docs[2]), ["interference"]);
    assert_eq!(docs[0].meta["source"], "PressTV");
    assert_eq!(docs[0].meta["date"], "2024-01-05");
    assert!(!docs[1].meta.contains_key("label"));
    assert_eq!(
        report,
        ReadReport {
            documents: 3,
            ..ReadReport::default()
        }
    );
}

#[test]
fn gzip_jsonl_reads_like_the_plain_file() {
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("articles.jsonl.gz");
    let plain = fs::read(fixture("articles.jsonl")).unwrap();
    let (first, second) = plain.split_at(plain.len() / 2);
    // Two gzip members back to back (what `cat a.gz b.gz` or pigz produce): both must be read.
    let mut bytes = Vec::new();
    for part in [first, second] {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(part).unwrap();
        bytes.extend(encoder.finish().unwrap());
    }
    fs::write(&gz, bytes).unwrap();
    assert_eq!(detect_format(&gz), InputFormat::Jsonl);
    let (from_gz, _) = read(&gz, &ReadOptions::default());
    let (from_plain, _) = read(&fixture("articles.jsonl"), &ReadOptions::default());
    assert_eq!(from_gz, from_plain);
}

#[test]
fn corrupt_gzip_is_an_io_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("broken.jsonl.gz");
    fs::write(&gz, b"this is not gzip at all").unwrap();
    let err = read_documents(&gz, &skipping()).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("broken.jsonl.gz"), "{err}");
}

#[test]
fn jsonl_renamed_fields() {
    let opts = ReadOptions {
        text_field: "body".into(),
        label_field: "frame".into(),
        id_field: "doc".into(),
        ..ReadOptions::default()
    };
    let (docs, _) = read(&fixture("renamed.jsonl"), &opts);
    assert_eq!(ids(&docs), ["x1", "x2"]);
    assert!(docs[0].text.starts_with("Washington's sanctions"));
    assert_eq!(labels(&docs[0]), ["terrorism", "economy"]);
    // The default text field is just another field once renamed.
    assert_eq!(docs[0].meta["text"], "ignored");
}

#[test]
fn bad_json_line_error_names_path_and_line() {
    let path = fixture("bad_line.jsonl");
    let err = read_err(&path, &ReadOptions::default());
    assert!(
        err.starts_with(&format!("{}:3: invalid JSON", path.display())),
        "{err}"
    );
}

#[test]
fn skip_invalid_counts_bad_records_and_keeps_reading() {
    let (docs, report) = read(&fixture("bad_line.jsonl"), &skipping());
    assert_eq!(ids(&docs), ["ok1", "ok2", "ok3"]);
    assert_eq!((report.documents, report.skipped), (3, 1));
    assert!(
        report.skipped_examples[0].contains("bad_line.jsonl:3:"),
        "{report:?}"
    );
}

#[test]
fn skip_invalid_keeps_only_five_examples() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.jsonl");
    let mut lines: Vec<String> = (0..12).map(|i| format!("{{\"text\": \"t{i}\"}}")).collect();
    lines.push(r#"{"text": "kept", "labels": ["x"]}"#.into());
    fs::write(&path, lines.join("\n")).unwrap();
    let (docs, report) = read(&path, &skipping());
    assert_eq!(ids(&docs), ["many:13"]);
    assert_eq!(report.skipped, 12);
    assert_eq!(report.skipped_examples.len(), 5);
    assert!(report.skipped_examples[4].contains("many.jsonl:5: field `labels`: missing"));
}

#[test]
fn invalid_utf8_line_is_a_bad_record_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.jsonl");
    let mut bytes = b"{\"text\": \"ok\", \"labels\": [\"a\"]}\n\n".to_vec();
    bytes.extend_from_slice(b"{\"text\": \"Caf\xe9\", \"labels\": [\"a\"]}\n");
    fs::write(&path, &bytes).unwrap();
    let err = read_documents(&path, &ReadOptions::default()).unwrap_err();
    match &err {
        Error::BadRecord { line, reason, .. } => {
            assert_eq!(*line, 3);
            assert!(reason.contains("invalid UTF-8"), "{reason}");
        }
        other => panic!("expected BadRecord, got {other:?}"),
    }
    let (docs, report) = read(&path, &skipping());
    assert_eq!((docs.len(), report.skipped), (1, 1));
}

#[test]
fn all_records_skipped_is_no_documents_with_a_field_hint() {
    let opts = ReadOptions {
        text_field: "content".into(),
        skip_invalid: true,
        ..ReadOptions::default()
    };
    let err = read_documents(&fixture("articles.jsonl"), &opts).unwrap_err();
    assert!(matches!(err, Error::NoDocuments { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("all 3 record(s) were skipped"),
        "{message}"
    );
    assert!(message.contains("--text-field"), "{message}");
}

#[test]
fn blank_jsonl_is_no_documents() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.jsonl");
    fs::write(&path, "\n  \n").unwrap();
    let err = read_documents(&path, &ReadOptions::default()).unwrap_err();
    assert!(matches!(err, Error::NoDocuments { .. }), "{err:?}");
    assert!(err.to_string().contains("blank"), "{err}");
}

#[test]
fn jsonl_reader_streams_from_any_bufread() {
    let input = "{\"text\": \"one\"}\n{\"text\": \"two\", \"labels\": \"x\"}\n";
    let docs: Vec<Document> = JsonlReader::new(input.as_bytes(), "<stdin>", &scoring())
        .map(Result::unwrap)
        .collect();
    assert_eq!(ids(&docs), ["<stdin>:1", "<stdin>:2"]);
    assert!(docs[0].labels.is_empty());
}

#[test]
fn csv_multi_label_cell_quoted_newline_and_meta() {
    let (docs, _) = read(&fixture("articles.csv"), &ReadOptions::default());
    assert_eq!(ids(&docs), ["c1", "c2", "c3"]);
    assert_eq!(labels(&docs[0]), ["occupation", "economy"]);
    assert_eq!(docs[0].text, "Sanctions, siege and occupation.");
    assert_eq!(docs[1].text, "A two-line\ntext about martyrdom.");
    // Trimmed, then de-duplicated.
    assert_eq!(labels(&docs[2]), ["diplomacy"]);
    assert_eq!(docs[2].meta["source"], "Mehr");
    assert_eq!(docs[2].meta.len(), 1);
}

#[test]
fn csv_custom_label_separator() {
    let opts = ReadOptions {
        label_separator: ';',
        ..ReadOptions::default()
    };
    let (docs, _) = read(&fixture("articles.csv"), &opts);
    assert_eq!(labels(&docs[0]), ["occupation|economy"]);
}

#[test]
fn tsv_is_tab_separated() {
    let path = fixture("articles.tsv");
    assert_eq!(detect_format(&path), InputFormat::Csv);
    let (docs, _) = read(&path, &ReadOptions::default());
    assert_eq!(ids(&docs), ["t1", "t2"]);
    assert_eq!(docs[0].text, "Resistance, they said, is the only answer.");
    assert_eq!(labels(&docs[0]), ["resistance", "defiance"]);
}

#[test]
fn csv_renamed_columns_and_generated_ids() {
    let opts = ReadOptions {
        text_field: "body".into(),
        label_field: "frame".into(),
        ..ReadOptions::default()
    };
    let (docs, _) = read(&fixture("renamed.csv"), &opts);
    // No id column: "<stem>:<physical line>", the header being line 1.
    assert_eq!(ids(&docs), ["renamed:2", "renamed:3"]);
    assert_eq!(labels(&docs[1]), ["diplomacy"]);
}

#[test]
fn csv_missing_column_names_it_and_lists_the_header() {
    let err = read_err(&fixture("renamed.csv"), &ReadOptions::default());
    assert!(err.contains(":1: field `text`: no such column"), "{err}");
    assert!(err.contains("`body`, `frame`"), "{err}");
    let opts = ReadOptions {
        text_field: "body".into(),
        ..ReadOptions::default()
    };
    let err = read_err(&fixture("renamed.csv"), &opts);
    assert!(err.contains("field `labels`: no such column"), "{err}");
    assert!(err.contains("--label-field"), "{err}");
    // Not needed for scoring.
    let (docs, _) = read(
        &fixture("renamed.csv"),
        &ReadOptions {
            labels_required: false,
            ..opts
        },
    );
    assert_eq!(docs[0].meta["frame"], "occupation");
}

#[test]
fn csv_row_errors_name_the_physical_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rows.csv");
    // Line 2-3 is one quoted row spanning two lines, so the short row is on physical line 4.
    fs::write(
        &path,
        "id,text,labels\n1,\"multi\nline\",a\n2,short row\n3,fine,\n4,ok,b\n",
    )
    .unwrap();
    let err = read_err(&path, &ReadOptions::default());
    assert!(
        err.contains("rows.csv:4: the row has 2 fields but the header has 3"),
        "{err}"
    );
    let (docs, report) = read(&path, &skipping());
    assert_eq!(ids(&docs), ["1", "4"]);
    assert_eq!(report.skipped, 2);
    assert!(
        report.skipped_examples[1].contains("rows.csv:5: field `labels`: empty"),
        "{report:?}"
    );
}

#[test]
fn folder_per_label_in_sorted_order_ignoring_hidden_and_other_files() {
    let (docs, _) = read(&fixture("by_label"), &ReadOptions::default());
    assert_eq!(
        ids(&docs),
        [
            "diplomacy/talks.txt",
            "resistance/a.txt",
            "resistance/b.txt"
        ]
    );
    assert_eq!(labels(&docs[1]), ["resistance"]);
    assert_eq!(docs[1].text, "Fighters of the resistance axis regrouped.\n");
}

#[test]
fn folder_order_does_not_depend_on_creation_order() {
    let dir = tempfile::tempdir().unwrap();
    let names = ["zeta", "alpha", "mid"];
    for label in ["z", "a"] {
        fs::create_dir(dir.path().join(label)).unwrap();
        for name in names {
            fs::write(dir.path().join(label).join(format!("{name}.txt")), name).unwrap();
        }
    }
    let (docs, _) = read(dir.path(), &ReadOptions::default());
    assert_eq!(
        ids(&docs),
        [
            "a/alpha.txt",
            "a/mid.txt",
            "a/zeta.txt",
            "z/alpha.txt",
            "z/mid.txt",
            "z/zeta.txt"
        ]
    );
}

#[test]
fn folder_loose_txt_files_are_unlabelled_documents_when_scoring() {
    let (docs, _) = read(&fixture("by_label"), &scoring());
    assert_eq!(ids(&docs)[0], "README.txt");
    assert!(docs[0].labels.is_empty());
    assert_eq!(docs.len(), 4);
}

#[test]
fn folder_non_utf8_file_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("x")).unwrap();
    fs::write(dir.path().join("x/good.txt"), "fine").unwrap();
    fs::write(
        dir.path().join("x/latin1.txt"),
        b"line one\nline two\ncaf\xe9\n",
    )
    .unwrap();
    let err = read_documents(dir.path(), &ReadOptions::default()).unwrap_err();
    match &err {
        Error::BadRecord { path, line, .. } => {
            assert!(path.ends_with("latin1.txt"), "{path}");
            assert_eq!(*line, 3);
        }
        other => panic!("expected BadRecord, got {other:?}"),
    }
    let (docs, report) = read(dir.path(), &skipping());
    assert_eq!((ids(&docs), report.skipped), (vec!["x/good.txt"], 1));
}

#[test]
fn folder_without_label_subfolders_hints_at_the_layout() {
    let err = read_err(&fixture("semeval/articles"), &ReadOptions::default());
    assert!(err.contains("no documents found"), "{err}");
    assert!(err.contains("--labels"), "{err}");
}

#[test]
fn txt_file_is_one_unlabelled_document() {
    let path = fixture("single.txt");
    assert_eq!(detect_format(&path), InputFormat::Txt);
    let (docs, _) = read(&path, &scoring());
    assert_eq!(ids(&docs), ["single.txt"]);
    assert!(docs[0]
        .text
        .starts_with("Resistance commanders met in Damascus.\nThey"));
    assert!(docs[0].labels.is_empty());
}

#[test]
fn txt_file_is_refused_when_labels_are_required() {
    let err = read_err(&fixture("single.txt"), &ReadOptions::default());
    assert!(err.contains("carries no labels"), "{err}");
}

#[test]
fn semeval_in_labels_file_order_with_unlisted_articles_skipped() {
    let opts = with_labels_file(fixture("semeval/labels.txt"));
    let (docs, report) = read(&fixture("semeval/articles"), &opts);
    assert_eq!(ids(&docs), ["222", "111"]);
    assert_eq!(labels(&docs[0]), ["Terrorism", "Interference"]);
    assert_eq!(
        docs[0].meta["title"],
        "Sanctions are economic terrorism, minister says"
    );
    assert!(docs[0].text.starts_with("Sanctions are economic terrorism"));
    assert!(docs[0].text.contains("\n\nThe foreign minister"));
    assert_eq!(report.skipped, 1);
    assert!(
        report.skipped_examples[0].contains("article 333 has no line in the labels file"),
        "{report:?}"
    );
}

#[test]
fn semeval_unlisted_articles_are_kept_when_scoring() {
    let opts = ReadOptions {
        labels_required: false,
        ..with_labels_file(fixture("semeval/labels.txt"))
    };
    let (docs, report) = read(&fixture("semeval/articles"), &opts);
    assert_eq!(ids(&docs), ["222", "111", "333"]);
    assert!(docs[2].labels.is_empty());
    assert_eq!(report.skipped, 0);
}

#[test]
fn semeval_explicit_format_needs_a_labels_file() {
    let opts = ReadOptions {
        format: InputFormat::Semeval,
        ..ReadOptions::default()
    };
    let err = read_err(&fixture("semeval/articles"), &opts);
    assert!(err.contains("labels file"), "{err}");
}

#[test]
fn semeval_missing_article_and_malformed_line() {
    let dir = tempfile::tempdir().unwrap();
    let labels = dir.path().join("labels.tsv");
    fs::write(
        &labels,
        "111\tResistance\n\n999\tTerrorism\n222 Terrorism\n",
    )
    .unwrap();
    let opts = with_labels_file(labels.clone());
    let err = read_err(&fixture("semeval/articles"), &opts);
    assert!(
        err.starts_with(&format!("{}:3: article 999: no file", labels.display())),
        "{err}"
    );
    let opts = ReadOptions {
        skip_invalid: true,
        ..opts
    };
    let (docs, report) = read(&fixture("semeval/articles"), &opts);
    assert_eq!(ids(&docs), ["111"]);
    // 999 (no file), line 4 (space instead of tab), and articles 222, 333 not in the labels file.
    assert_eq!(report.skipped, 4);
    assert!(
        report.skipped_examples[1].contains("labels.tsv:4: expected `<ID><TAB>"),
        "{report:?}"
    );
}

#[test]
fn labels_file_with_a_non_semeval_input_is_refused() {
    let opts = with_labels_file(fixture("semeval/labels.txt"));
    let err = read_err(&fixture("articles.jsonl"), &opts);
    assert!(err.contains("only used by the SemEval layout"), "{err}");
}

#[test]
fn unknown_extension_and_missing_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.parquet");
    fs::write(&path, "PAR1").unwrap();
    let err = read_err(&path, &ReadOptions::default());
    assert!(err.contains("cannot tell the format"), "{err}");
    let explicit = ReadOptions {
        format: InputFormat::Jsonl,
        skip_invalid: true,
        ..ReadOptions::default()
    };
    // Explicit format wins over the extension.
    assert!(read_err(&path, &explicit).contains("all 1 record(s) were skipped"));
    let err = read_documents(&dir.path().join("nope.jsonl"), &ReadOptions::default()).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
}
