//! Top-k for every user of a file: every input format gives the library's recommendations,
//! in chunks or not, and bad rows are reported with their file, line and field.

use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{ArrayRef, Int64Array, RecordBatch};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use seqrec_model::GsasRec;
use seqrec_serve::{BulkOptions, ServeError, UnknownItems, recommend_file};
use seqrec_train::Recommender;

mod common;

use common::name;

const ITEMS: usize = 25;

fn recommender() -> Recommender<GsasRec> {
    common::recommender(ITEMS, 5, 17)
}

fn users() -> Vec<(String, Vec<String>)> {
    (0..7)
        .map(|u| {
            let history = (0..=u).map(|j| name((u * 5 + j * 3) % ITEMS + 1)).collect();
            (format!("user{u}"), history)
        })
        .collect()
}

/// Rows `(user, rank, item)` the library gives.
fn expected(library: &Recommender<GsasRec>, k: usize, exclude: bool) -> Vec<(String, u32, String)> {
    users()
        .into_iter()
        .flat_map(|(user, history)| {
            library
                .recommend(&history, k, exclude)
                .unwrap()
                .into_iter()
                .enumerate()
                .map(move |(rank, r)| (user.clone(), rank as u32 + 1, r.item))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn read_csv(path: &Path) -> Vec<(String, u32, String)> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    assert_eq!(
        reader.headers().unwrap(),
        vec!["user", "rank", "item", "score"]
    );
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_string(), r[1].parse().unwrap(), r[2].to_string())
        })
        .collect()
}

fn read_parquet(path: &Path) -> Vec<(String, u32, String)> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::UInt32Type;
    let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        let users = batch.column(0).as_string::<i32>();
        let ranks = batch.column(1).as_primitive::<UInt32Type>();
        let items = batch.column(2).as_string::<i32>();
        for i in 0..batch.num_rows() {
            rows.push((
                users.value(i).to_string(),
                ranks.value(i),
                items.value(i).to_string(),
            ));
        }
    }
    rows
}

fn write_csv_users(path: &Path) {
    let mut writer = csv::Writer::from_path(path).unwrap();
    writer.write_record(["user", "history"]).unwrap();
    for (user, history) in users() {
        // Ids with spaces: the history is a JSON array.
        writer
            .write_record([user, serde_json::to_string(&history).unwrap()])
            .unwrap();
    }
    writer.flush().unwrap();
}

#[test]
fn every_format_gives_the_library_recommendations() {
    let library = recommender();
    let dir = tempfile::tempdir().unwrap();
    let csv_users = dir.path().join("users.csv");
    write_csv_users(&csv_users);
    let jsonl_users = dir.path().join("users.jsonl");
    let lines: Vec<String> = users()
        .into_iter()
        .map(|(user, history)| serde_json::json!({"user": user, "history": history}).to_string())
        .collect();
    std::fs::write(&jsonl_users, lines.join("\n\n") + "\n").unwrap();
    let parquet_users = dir.path().join("users.parquet");
    {
        let mut histories = ListBuilder::new(StringBuilder::new());
        for (_, history) in users() {
            for item in history {
                histories.values().append_value(item);
            }
            histories.append(true);
        }
        let user_ids: Vec<i64> = (0..users().len() as i64).collect();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(user_ids)),
            Arc::new(histories.finish()),
        ];
        let batch =
            RecordBatch::try_from_iter(["user_id", "history"].into_iter().zip(columns)).unwrap();
        let mut writer = ArrowWriter::try_new(
            std::fs::File::create(&parquet_users).unwrap(),
            batch.schema(),
            None,
        )
        .unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
    }
    for (exclude, k) in [(false, 4), (true, 6)] {
        let want = expected(&library, k, exclude);
        for input in [&csv_users, &jsonl_users, &parquet_users] {
            for (out, chunk) in [("recs.csv", 1024), ("recs.parquet", 2), ("chunked.csv", 3)] {
                let out = dir.path().join(out);
                let options = BulkOptions {
                    k,
                    exclude_history: exclude,
                    chunk,
                    ..BulkOptions::default()
                };
                let mut seen = Vec::new();
                let report =
                    recommend_file(&library, input, &out, &options, &mut |n| seen.push(n)).unwrap();
                assert_eq!(report.users, users().len() as u64);
                assert_eq!(report.recommendations, want.len() as u64);
                assert_eq!(*seen.last().unwrap(), users().len() as u64);
                assert_eq!(seen.len(), users().len().div_ceil(chunk));
                let mut got = if out.extension().unwrap() == "csv" {
                    read_csv(&out)
                } else {
                    read_parquet(&out)
                };
                if input == &parquet_users {
                    // Integer user ids come back as their decimal text.
                    for row in &mut got {
                        row.0 = format!("user{}", row.0);
                    }
                }
                assert_eq!(got, want, "{} -> {}", input.display(), out.display());
            }
        }
    }
}

#[test]
fn bad_rows_name_the_file_line_and_field() {
    let library = recommender();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("recs.csv");
    let run = |name: &str, text: &str, options: &BulkOptions| {
        let input = dir.path().join(name);
        std::fs::write(&input, text).unwrap();
        recommend_file(&library, &input, &out, options, &mut |_| {})
    };
    let strict = BulkOptions::default();
    let known = name(1);
    let text =
        format!("user,history\nu1,\"[\"\"{known}\"\"]\"\nu2,\"[\"\"{known}\"\", \"\"nope\"\"]\"\n");
    let error = run("unknown.csv", &text, &strict).unwrap_err();
    assert!(
        matches!(error, ServeError::Row { line: 3, .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.ends_with("unknown.csv:3: field `history`: unknown item `nope` at position 1"),
        "{message}"
    );
    // Skipping counts what it leaves out: one unknown item, and a user with nothing known.
    let skip = BulkOptions {
        unknown_items: UnknownItems::Skip,
        ..BulkOptions::default()
    };
    let text = format!("{text}u3,nope\n");
    let report = run("skip.csv", &text, &skip).unwrap();
    assert_eq!(
        (report.users, report.skipped_items, report.skipped_users),
        (2, 2, 1)
    );
    let cases = [
        ("nohistory.csv", "user,items\nu1,a\n", "no `history` column"),
        (
            "bad.jsonl",
            "{\"user\": \"u1\", \"history\": [\"a\"]}\n{\"user\": 1\n",
            "bad.jsonl:2: field `user/history`",
        ),
        (
            "empty.csv",
            "user,history\nu1,\n",
            "empty.csv:2: field `history`: the history is empty",
        ),
        (
            "json.csv",
            "user,history\nu1,\"[1, 2]\"\n",
            "json.csv:2: field `history`: not a JSON array of strings",
        ),
        ("users.txt", "u1 a\n", "unknown users file extension `txt`"),
    ];
    for (file, text, reason) in cases {
        let message = run(file, text, &strict).unwrap_err().to_string();
        assert!(message.contains(reason), "{file}: {message}");
    }
    let input = dir.path().join("users.csv");
    write_csv_users(&input);
    let message = recommend_file(
        &library,
        &input,
        &dir.path().join("recs.json"),
        &strict,
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(message.contains("expected csv or parquet"), "{message}");
}
