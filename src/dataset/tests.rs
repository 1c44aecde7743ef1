//! Unit tests of the readers.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use super::read::*;
use super::*;
use crate::error::{Error, Result};

/// Bytes `i % 251` for i below `len`, then an error if `fail`, else the end.
struct Source {
    at: usize,
    len: usize,
    fail: bool,
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.len {
            return if self.fail {
                Err(std::io::Error::other("broken at the end"))
            } else {
                Ok(0)
            };
        }
        // Odd-sized reads, as a decoder gives.
        let n = buf.len().min(self.len - self.at).min(70_001);
        for (k, b) in buf[..n].iter_mut().enumerate() {
            *b = ((self.at + k) % 251) as u8;
        }
        self.at += n;
        Ok(n)
    }
}

#[test]
fn read_ahead_gives_every_byte_in_order_then_the_error() {
    for (len, fail) in [
        (0, false),
        (5, false),
        (BUFFER_CAPACITY, false),
        (3 * BUFFER_CAPACITY + 17, false),
        (0, true),
        (2 * BUFFER_CAPACITY + 3, true),
        (9 * BUFFER_CAPACITY, true),
    ] {
        let mut reader = ReadAhead::spawn(Source { at: 0, len, fail });
        let mut got = Vec::new();
        let result = reader.read_to_end(&mut got);
        assert_eq!(got.len(), len, "{len} {fail}");
        assert!(got.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
        assert_eq!(result.is_err(), fail, "{len} {fail}");
    }
    // A reader dropped early: the thread must not keep it waiting (this would hang).
    let mut reader = ReadAhead::spawn(Source {
        at: 0,
        len: 20 * BUFFER_CAPACITY,
        fail: false,
    });
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line).unwrap();
    drop(reader);
}

fn jsonl(input: &str, opts: &ReadOptions) -> Vec<Result<Document>> {
    JsonlReader::new(input.as_bytes(), "mem/test.jsonl", opts).collect()
}

fn one(input: &str, opts: &ReadOptions) -> Result<Document> {
    let mut all = jsonl(input, opts);
    assert_eq!(all.len(), 1, "{all:?}");
    all.remove(0)
}

fn scoring() -> ReadOptions {
    ReadOptions {
        labels_required: false,
        ..ReadOptions::default()
    }
}

#[test]
fn input_format_parses_every_name_and_lists_choices_on_error() {
    for format in InputFormat::ALL {
        assert_eq!(format.name().parse::<InputFormat>().unwrap(), format);
    }
    assert_eq!(
        " JSONL ".parse::<InputFormat>().unwrap(),
        InputFormat::Jsonl
    );
    let message = "xml".parse::<InputFormat>().unwrap_err().to_string();
    assert!(message.contains("xml"), "{message}");
    assert!(
        message.contains("auto, jsonl, csv, dir, txt, semeval"),
        "{message}"
    );
}

#[test]
fn read_options_defaults() {
    let o = ReadOptions::default();
    assert_eq!(o.format, InputFormat::Auto);
    assert_eq!(
        (
            o.text_field.as_str(),
            o.label_field.as_str(),
            o.id_field.as_str()
        ),
        ("text", "labels", "id")
    );
    assert!(o.labels_required && !o.skip_invalid && o.labels_file.is_none());
    assert_eq!(o.label_separator, '|');
}

#[test]
fn detect_format_from_extensions() {
    let cases = [
        ("a.jsonl", InputFormat::Jsonl),
        ("a.json", InputFormat::Jsonl),
        ("a.NDJSON.gz", InputFormat::Jsonl),
        ("a.csv", InputFormat::Csv),
        ("a.tsv.gz", InputFormat::Csv),
        ("a.txt", InputFormat::Txt),
        ("a.parquet", InputFormat::Auto),
        ("a.gz", InputFormat::Auto),
        ("noext", InputFormat::Auto),
    ];
    for (name, expected) in cases {
        assert_eq!(detect_format(Path::new(name)), expected, "{name}");
    }
}

#[test]
fn jsonl_record_with_every_kind_of_field() {
    let doc = one(
        r#"{"id": 7, "text": "Resistance axis", "labels": [" war ", "war", "politics"], "source": "PressTV", "year": 2024, "paywall": false, "tags": ["x"], "n": null}"#,
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(doc.id, "7");
    assert_eq!(doc.text, "Resistance axis");
    assert_eq!(doc.labels, ["war", "politics"]);
    let meta: Vec<(&str, &str)> = doc
        .meta
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        meta,
        [
            ("paywall", "false"),
            ("source", "PressTV"),
            ("year", "2024")
        ]
    );
}

#[test]
fn jsonl_missing_id_is_stem_and_line_and_blank_lines_are_skipped() {
    let docs = jsonl(
        "\n{\"text\": \"a\", \"labels\": \"x\"}\n   \r\n{\"text\": \"b\", \"labels\": \"y\", \"id\": \"\"}\n",
        &ReadOptions::default(),
    );
    let ids: Vec<String> = docs.into_iter().map(|d| d.unwrap().id).collect();
    assert_eq!(ids, ["test:2", "test:4"]);
}

#[test]
fn jsonl_label_string_fallback_only_with_default_field() {
    let line = r#"{"text": "a", "label": "economy"}"#;
    let doc = one(line, &ReadOptions::default()).unwrap();
    assert_eq!(doc.labels, ["economy"]);
    assert!(!doc.meta.contains_key("label"));
    let renamed = ReadOptions {
        label_field: "frame".into(),
        ..ReadOptions::default()
    };
    let err = one(line, &renamed).unwrap_err().to_string();
    assert!(err.contains("field `frame`: missing"), "{err}");
    // The list names every field of the record in its order, the text included.
    assert!(err.contains("fields `text`, `label`"), "{err}");
}

#[test]
fn jsonl_text_errors_name_the_field_and_line() {
    let err = one(r#"{"body": "a", "labels": ["x"]}"#, &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("mem/test.jsonl:1: field `text`: missing"),
        "{err}"
    );
    assert!(err.contains("`body`"), "{err}");
    let err = one(r#"{"text": 3, "labels": ["x"]}"#, &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("field `text`: expected a string, found a number"),
        "{err}"
    );
}

#[test]
fn jsonl_label_rules() {
    let opts = ReadOptions::default();
    let cases = [
        (r#"{"text": "a"}"#, "field `labels`: missing"),
        (r#"{"text": "a", "labels": []}"#, "field `labels`: empty"),
        (r#"{"text": "a", "labels": ["x", " "]}"#, "empty label"),
        (
            r#"{"text": "a", "labels": [{"x": 1}]}"#,
            "element 1 of the list is an object",
        ),
        (r#"{"text": "a", "labels": true}"#, "found a boolean"),
        (
            r#"{"text": "a", "labels": ["x"], "id": [1]}"#,
            "field `id`: expected a string or a number",
        ),
    ];
    for (line, expected) in cases {
        let err = one(line, &opts).unwrap_err().to_string();
        assert!(err.contains(expected), "{line}: {err}");
    }
    // Numbers are not labels (the data README says so): write "5".
    for line in [
        r#"{"text": "a", "labels": 5}"#,
        r#"{"text": "a", "labels": [3, "3"]}"#,
    ] {
        let err = one(line, &opts).unwrap_err().to_string();
        assert!(err.contains("a number"), "{line}: {err}");
    }
    // An empty text is a bad labelled record; scoring accepts it.
    let err = one(r#"{"text": " ", "labels": ["x"]}"#, &opts)
        .unwrap_err()
        .to_string();
    assert!(err.contains("field `text`: empty"), "{err}");
    assert!(one(r#"{"text": ""}"#, &scoring()).is_ok());
}

#[test]
fn jsonl_labels_optional_when_scoring() {
    let doc = one(r#"{"text": "a"}"#, &scoring()).unwrap();
    assert!(doc.labels.is_empty());
    let doc = one(r#"{"text": "a", "labels": []}"#, &scoring()).unwrap();
    assert!(doc.labels.is_empty());
}

#[test]
fn jsonl_malformed_and_non_object_lines() {
    let docs = jsonl(
        "{\"text\": \"a\", \"labels\": \"x\"}\n{\"text\": \"b\",\n[1, 2]\n",
        &ReadOptions::default(),
    );
    assert!(docs[0].is_ok());
    let err = docs[1].as_ref().unwrap_err().to_string();
    assert!(
        err.starts_with("mem/test.jsonl:2: invalid JSON at column"),
        "{err}"
    );
    assert!(!err.contains("at line 1"), "{err}");
    assert!(err.contains("one line"), "{err}");
    let err = docs[2].as_ref().unwrap_err().to_string();
    assert!(
        err.contains("mem/test.jsonl:3: expected a JSON object, found a list"),
        "{err}"
    );
}

#[test]
fn jsonl_array_file_gets_a_conversion_hint() {
    let err = one(r#"[{"text": "a", "labels": "x"}]"#, &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("jq -c"), "{err}");
}

#[test]
fn jsonl_invalid_utf8_is_a_bad_record_and_reading_resumes() {
    let mut input = b"{\"text\": \"a\", \"labels\": \"x\"}\n{\"text\": \"caf".to_vec();
    input.extend_from_slice(&[0xe9, b'"', b'}', b'\n']);
    input.extend_from_slice(b"{\"text\": \"c\", \"labels\": \"x\"}\n");
    let docs: Vec<_> = JsonlReader::new(&input[..], "in.jsonl", &scoring()).collect();
    assert_eq!(docs.len(), 3);
    let err = docs[1].as_ref().unwrap_err().to_string();
    assert_eq!(
        err,
        "in.jsonl:2: invalid UTF-8 at byte 14 of the line (the file must be UTF-8)"
    );
    assert_eq!(docs[2].as_ref().unwrap().text, "c");
}

#[test]
fn jsonl_reader_skips_and_counts_when_asked() {
    let opts = ReadOptions {
        skip_invalid: true,
        ..ReadOptions::default()
    };
    let input = (0..8)
        .map(|i| {
            if i % 4 == 0 {
                format!("{{\"text\": \"ok{i}\", \"labels\": \"x\"}}")
            } else {
                "{bad".to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut reader = JsonlReader::new(input.as_bytes(), "s.jsonl", &opts);
    let docs: Vec<Document> = reader.by_ref().map(|d| d.unwrap()).collect();
    assert_eq!(docs.len(), 2);
    let report = reader.into_report();
    assert_eq!((report.documents, report.skipped), (2, 6));
    assert_eq!(report.skipped_examples.len(), 5);
    assert!(report.skipped_examples[0].starts_with("s.jsonl:2: invalid JSON"));
}

#[test]
fn jsonl_bom_on_first_line_is_ignored() {
    let doc = one(
        "\u{feff}{\"text\": \"a\", \"labels\": \"x\"}",
        &ReadOptions::default(),
    );
    assert_eq!(doc.unwrap().text, "a");
}

#[test]
fn jsonl_io_error_ends_the_stream() {
    struct Failing;
    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
    }
    let opts = ReadOptions {
        skip_invalid: true,
        ..ReadOptions::default()
    };
    let mut reader = JsonlReader::new(BufReader::new(Failing), "f.jsonl", &opts);
    assert!(matches!(reader.next(), Some(Err(Error::Io { .. }))));
    assert!(reader.next().is_none());
}

#[test]
fn labels_line_rules() {
    assert_eq!(
        parse_labels_line("111\t Economic, Political ,Economic", true).unwrap(),
        (
            "111".to_string(),
            vec!["Economic".to_string(), "Political".to_string()]
        )
    );
    assert_eq!(
        parse_labels_line("112", false).unwrap().1,
        Vec::<String>::new()
    );
    assert_eq!(
        parse_labels_line("112\t", false).unwrap().1,
        Vec::<String>::new()
    );
    assert!(parse_labels_line("112\t", true)
        .unwrap_err()
        .contains("no labels"));
    assert!(parse_labels_line("1 2\tA", true)
        .unwrap_err()
        .contains("expected"));
    assert!(parse_labels_line("1\tA\tB", true)
        .unwrap_err()
        .contains("3 tab-separated"));
    assert!(parse_labels_line("1\tA,,B", true)
        .unwrap_err()
        .contains("empty label"));
}

#[test]
fn decode_utf8_reports_line_of_first_invalid_byte() {
    let err = decode_utf8(b"one\ntwo\nth\xffree".to_vec(), Path::new("x.txt"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "x.txt:3: invalid UTF-8 at byte 3 of the line (the file must be UTF-8)"
    );
    assert_eq!(
        decode_utf8(b"\xef\xbb\xbfhi".to_vec(), Path::new("x")).unwrap(),
        "hi"
    );
}

#[test]
fn file_stem_strips_gz_and_extension() {
    assert_eq!(file_stem(Path::new("d/train.jsonl.gz")), "train");
    assert_eq!(file_stem(Path::new("d/train.jsonl")), "train");
    assert_eq!(file_stem(Path::new("<stdin>")), "<stdin>");
}
