//! The `seqrec` program as a user runs it: train on a tiny dataset in the gSASRec layout,
//! evaluate with `--json`, recommend with `--json`, and clear errors for bad input.

mod common;

use common::{dataset, seqrec, text};

#[test]
fn train_evaluate_recommend() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let model = tmp.path().join("model");
    dataset(&data);
    let (data_s, model_s) = (data.to_str().unwrap(), model.to_str().unwrap());
    let out = seqrec(&[
        "train",
        "--data",
        data_s,
        "--out",
        model_s,
        "--device",
        "ndarray",
        "--dim",
        "8",
        "--max-len",
        "10",
        "--blocks",
        "1",
        "--negatives",
        "8",
        "--batch-size",
        "16",
        "--steps",
        "6",
        "--eval-every",
        "3",
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("trained 6 steps"), "{}", text(&out));
    for file in [
        "config.json",
        "items.json",
        "model.safetensors",
        "training.json",
    ] {
        assert!(model.join(file).is_file(), "{file} missing");
    }

    let out = seqrec(&[
        "evaluate", "--model", model_s, "--data", data_s, "--split", "test", "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let metrics: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        metrics.as_object().unwrap().len(),
        4,
        "exactly the four metrics: {metrics}"
    );
    for key in ["ndcg@10", "recall@10", "recall@1", "mrr"] {
        let v = metrics[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing in {metrics}"));
        assert!((0.0..=1.0).contains(&v));
    }

    // Other metrics by name (RecBole's hit@k is recall@k with one target), and every user's
    // rank and values as CSV, whose means are the printed figures.
    let per_user = tmp.path().join("users.csv");
    let evaluate = |metrics: &str, extra: &[&str]| {
        let mut argv = vec![
            "evaluate",
            "--model",
            model_s,
            "--data",
            data_s,
            "--metrics",
            metrics,
        ];
        argv.extend_from_slice(extra);
        seqrec(&argv)
    };
    let evaluate_per_user = |path: &std::path::Path| {
        let out = evaluate(
            "hit@10,ndcg@20,MRR",
            &["--per-user", path.to_str().unwrap(), "--json"],
        );
        assert!(out.status.success(), "{}", text(&out));
        out
    };
    let out = evaluate_per_user(&per_user);
    let chosen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(chosen.as_object().unwrap().len(), 3, "{chosen}");
    assert_eq!(chosen["hit@10"], metrics["recall@10"]);
    assert_eq!(chosen["mrr"], metrics["mrr"]);
    let csv = std::fs::read_to_string(&per_user).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("user,target,rank,hit@10,ndcg@20,mrr"));
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    assert!(!rows.is_empty());
    for (column, key) in [(3, "hit@10"), (4, "ndcg@20"), (5, "mrr")] {
        let mean = rows.iter().map(|r| r[column]).sum::<f64>() / rows.len() as f64;
        let printed = chosen[key].as_f64().unwrap();
        assert!((mean - printed).abs() < 1e-12, "{key}: {mean} vs {printed}");
    }
    for row in &rows {
        let rank = row[2];
        assert_eq!(
            row[3],
            if (1.0..=10.0).contains(&rank) {
                1.0
            } else {
                0.0
            }
        );
        assert_eq!(row[5], if rank >= 1.0 { 1.0 / rank } else { 0.0 });
    }
    // The same rows as Parquet, for a `.parquet` file name.
    let parquet_path = tmp.path().join("users.parquet");
    evaluate_per_user(&parquet_path);
    let file = std::fs::File::open(&parquet_path).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut from_parquet: Vec<Vec<f64>> = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        let names: Vec<String> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(
            names,
            ["user", "target", "rank", "hit@10", "ndcg@20", "mrr"]
        );
        let column = |c: usize| -> Vec<f64> {
            use arrow_array::cast::AsArray;
            match batch
                .column(c)
                .as_primitive_opt::<arrow_array::types::Float64Type>()
            {
                Some(floats) => floats.values().to_vec(),
                None => integers_as_floats(batch.column(c)),
            }
        };
        let columns: Vec<Vec<f64>> = (0..6).map(column).collect();
        for r in 0..batch.num_rows() {
            from_parquet.push(columns.iter().map(|c| c[r]).collect());
        }
    }
    assert_eq!(from_parquet, rows);
    let out = evaluate("mrr@10", &[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("mrr has no cutoff"), "{}", text(&out));

    let out = seqrec(&[
        "recommend",
        "--model",
        model_s,
        "--history",
        "3 5 7",
        "-k",
        "4",
        "--exclude-history",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let rec: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let items: Vec<&str> = rec["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(items.len(), 4);
    assert!(items.iter().all(|i| !["3", "5", "7"].contains(i)));
    assert_eq!(rec["scores"].as_array().unwrap().len(), 4);

    let out = seqrec(&[
        "recommend",
        "--model",
        model_s,
        "--history",
        "3 999",
        "--json",
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("unknown item `999` at position 1"),
        "{}",
        text(&out)
    );

    // A JSON array of ids is the same history as ids separated by spaces.
    let out = seqrec(&[
        "recommend",
        "--model",
        model_s,
        "--history",
        r#"["3", "5", "7"]"#,
        "-k",
        "4",
        "--exclude-history",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let from_json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(from_json["items"], rec["items"]);

    // Every user of a file, to CSV: the same top items as one history at a time.
    let users = tmp.path().join("users.csv");
    std::fs::write(&users, "user,history\nalice,3 5 7\nbob,\"[\"\"12\"\"]\"\n").unwrap();
    let recs = tmp.path().join("recs.csv");
    let out = seqrec(&[
        "recommend",
        "--model",
        model_s,
        "--input",
        users.to_str().unwrap(),
        "--out",
        recs.to_str().unwrap(),
        "-k",
        "4",
        "--exclude-history",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["users"], 2);
    assert_eq!(report["recommendations"], 8);
    let written = std::fs::read_to_string(&recs).unwrap();
    let alice: Vec<&str> = written
        .lines()
        .filter(|line| line.starts_with("alice,"))
        .map(|line| line.split(',').nth(2).unwrap())
        .collect();
    assert_eq!(alice, items);
    assert!(written.starts_with("user,rank,item,score\n"), "{written}");

    // The same over HTTP: `seqrec serve` on a free port, stopped with SIGTERM; and through
    // the approximate index (`--ann`), which on this small catalogue with a wide search
    // returns the exact lists.
    let exact = serve_top(model_s, &[]);
    assert_eq!(exact, rec["items"]);
    let ann_dir = tmp.path().join("ann");
    let ann_args = [
        "--ann",
        "--ann-ef",
        "512",
        "--ann-dir",
        ann_dir.to_str().unwrap(),
    ];
    assert_eq!(serve_top(model_s, &ann_args), rec["items"]);
    assert!(ann_dir.is_dir(), "the index is saved in --ann-dir");
    // A second start loads the saved index.
    assert_eq!(serve_top(model_s, &ann_args), rec["items"]);
}

/// Starts `seqrec serve` for `model` with `extra` flags on a free port, asks for the top 4 of
/// the history 3, 5, 7 (history excluded), stops the server with SIGTERM and returns the items.
fn serve_top(model: &str, extra: &[&str]) -> serde_json::Value {
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_seqrec"))
        .args(["serve", "--model", model, "--addr", "127.0.0.1:0"])
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    let url = first
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(30)))
        .build()
        .into();
    let served: serde_json::Value = agent
        .post(format!("{url}/recommend"))
        .send_json(serde_json::json!({"history": ["3", "5", "7"], "k": 4, "exclude_history": true}))
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = server.wait().unwrap();
    assert!(exit.success(), "seqrec serve {extra:?} exited with {exit}");
    served["items"].clone()
}

#[test]
fn bad_input_is_a_clear_error_and_a_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    dataset(&data);
    std::fs::write(data.join("train/input.txt"), "1 2 3\n4 x 6\n").unwrap();
    let out = seqrec(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--out",
        tmp.path().join("m").to_str().unwrap(),
        "--steps",
        "1",
    ]);
    assert!(!out.status.success());
    let message = text(&out);
    assert!(
        message.contains("input.txt") && message.contains("line 2"),
        "{message}"
    );

    let out = seqrec(&[
        "evaluate",
        "--model",
        "/nonexistent",
        "--data",
        data.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(text(&out).contains("/nonexistent"), "{}", text(&out));

    let out = seqrec(&["train", "--out", "x", "--device", "tpu"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("unknown device `tpu`"),
        "{}",
        text(&out)
    );
    let out = seqrec(&[
        "ablation",
        "--out",
        "x",
        "--variants",
        "no-mask-pe,mask-rope",
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("unknown variant \"mask-rope\""),
        "{}",
        text(&out)
    );
    if !cfg!(feature = "cuda") {
        let out = seqrec(&["train", "--out", "x", "--device", "cuda"]);
        assert!(text(&out).contains("--features cuda"), "{}", text(&out));
    }
}

#[test]
fn simulate_then_train_on_the_events() {
    let tmp = tempfile::tempdir().unwrap();
    let events = tmp.path().join("events.csv");
    let model = tmp.path().join("model");
    simulate(&events, "150", "300", "3");
    let header = std::fs::read_to_string(&events).unwrap();
    assert!(
        header.starts_with("user_id,track_id,timestamp,ms_played"),
        "{}",
        &header[..80.min(header.len())]
    );
    let out = seqrec(&[
        "train",
        "--data",
        events.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
        "--device",
        "ndarray",
        "--dim",
        "8",
        "--max-len",
        "10",
        "--blocks",
        "1",
        "--negatives",
        "8",
        "--batch-size",
        "16",
        "--steps",
        "2",
        "--eval-every",
        "2",
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    // The model takes and returns the log's own track ids.
    let items: Vec<String> =
        serde_json::from_str(&std::fs::read_to_string(model.join("items.json")).unwrap()).unwrap();
    let history = items[..3].join(" ");
    let out = seqrec(&[
        "recommend",
        "--model",
        model.to_str().unwrap(),
        "--history",
        &history,
        "-k",
        "3",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let rec: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        rec["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| items.contains(&i.as_str().unwrap().to_string()))
    );
}

/// `bytes` as a gzip file of stored (uncompressed) deflate blocks, so that the test needs no
/// compression library.
fn gzip_stored(bytes: &[u8]) -> Vec<u8> {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut chunks = bytes.chunks(0xffff).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        out.push(u8::from(chunks.peek().is_none()));
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&(!crc).to_le_bytes());
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out
}

/// Events as a user may hold them: gzipped, `;`-separated, with their own column names, read
/// through `--user-col`, `--item-col`, `--time-col`, `--played-col`, `--time-format` and
/// `--delimiter`.
#[test]
fn train_on_a_gzipped_csv_with_renamed_columns() {
    let tmp = tempfile::tempdir().unwrap();
    let events = tmp.path().join("events.csv");
    simulate(&events, "150", "300", "3");
    let content = std::fs::read_to_string(&events).unwrap();
    let (header, rows) = content.split_once('\n').unwrap();
    assert_eq!(
        header,
        "user_id,track_id,timestamp,ms_played,track_length_ms,skipped"
    );
    assert!(!rows.contains(';') && !rows.contains('"'));
    let renamed = format!(
        "listener;song;played_at;duration;length;skip\n{}",
        rows.replace(',', ";")
    );
    let listens = tmp.path().join("listens.csv.gz");
    std::fs::write(&listens, gzip_stored(renamed.as_bytes())).unwrap();
    let train = |extra: &[&str], model: &std::path::Path| {
        let mut argv = vec![
            "train",
            "--data",
            listens.to_str().unwrap(),
            "--out",
            model.to_str().unwrap(),
            "--device",
            "ndarray",
            "--dim",
            "8",
            "--max-len",
            "10",
            "--blocks",
            "1",
            "--negatives",
            "8",
            "--batch-size",
            "16",
            "--steps",
            "2",
            "--eval-every",
            "2",
            "--quiet",
            "--delimiter",
            ";",
            "--time-format",
            "rfc3339",
        ];
        argv.extend_from_slice(extra);
        seqrec(&argv)
    };
    let model = tmp.path().join("model");
    let flags = [
        "--user-col",
        "listener",
        "--item-col",
        "song",
        "--time-col",
        "played_at",
        "--played-col",
        "duration",
    ];
    let out = train(&flags, &model);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("listens.csv.gz"), "{}", text(&out));
    let items: Vec<String> =
        serde_json::from_str(&std::fs::read_to_string(model.join("items.json")).unwrap()).unwrap();
    assert!(!items.is_empty() && items.iter().all(|i| rows.contains(i.as_str())));

    // Without the mapping: refused, naming the file, the column and the file's columns.
    let out = train(&[], &tmp.path().join("unmapped"));
    assert!(!out.status.success());
    let message = text(&out);
    assert!(
        message.contains("listens.csv.gz")
            && message.contains("\"user_id\"")
            && message.contains("listener, song, played_at, duration, length, skip"),
        "{message}"
    );
    // A named play-time column that the file lacks is refused too.
    let mut missing = flags;
    missing[7] = "seconds_played";
    let out = train(&missing, &tmp.path().join("missing"));
    assert!(!out.status.success());
    assert!(text(&out).contains("\"seconds_played\""), "{}", text(&out));
}

/// FNV-1a (64 bits) of every byte written, and their number.
struct Fnv1a {
    hash: u64,
    bytes: u64,
}

impl Fnv1a {
    fn new() -> Self {
        Self {
            hash: 0xcbf2_9ce4_8422_2325,
            bytes: 0,
        }
    }
}

impl std::io::Write for Fnv1a {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for &b in buf {
            self.hash ^= u64::from(b);
            self.hash = self.hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.bytes += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn fnv1a_matches_its_reference_values() {
    use std::io::Write;
    // The published FNV-1a 64 test vectors.
    for (input, expected) in [
        (&b""[..], 0xcbf2_9ce4_8422_2325u64),
        (b"a", 0xaf63_dc4c_8601_ec8c),
        (b"foobar", 0x8594_4171_f739_67e8),
    ] {
        let mut h = Fnv1a::new();
        h.write_all(input).unwrap();
        assert_eq!(h.hash, expected, "{input:?}");
    }
}

/// The built-in simulator's default output is pinned: the exact bytes that
/// `seqrec simulate --out events.csv` writes with default settings (a 57 MB file, about a
/// second in the test profile), and the same bytes from the library
/// (`Simulation::run(&SimulatorConfig::default())` written by `write_events_csv_to`,
/// comma-delimited as for `.csv`). Any change to the simulator's output, or to the CSV
/// writer, fails this test.
///
/// To recompute after an intended change: `seqrec simulate --out events.csv`, then FNV-1a 64
/// of the file's bytes (e.g. `python3 -c "h=0xcbf29ce484222325
/// for b in open('events.csv','rb').read(): h=((h^b)*0x100000001b3)%2**64
/// print(hex(h))"`) and its length in bytes; or run this test, whose failure message prints
/// both. Then update the two constants.
#[test]
fn the_default_simulation_is_byte_for_byte_pinned() {
    use std::io::Write;
    const EXPECTED_FNV1A: u64 = 0xbe51_ff8d_2c26_c5a4;
    const EXPECTED_BYTES: u64 = 56_831_629;
    let tmp = tempfile::tempdir().unwrap();
    let events = tmp.path().join("events.csv");
    let out = seqrec(&["simulate", "--out", events.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let mut file = Fnv1a::new();
    file.write_all(&std::fs::read(&events).unwrap()).unwrap();
    assert_eq!(
        (file.hash, file.bytes),
        (EXPECTED_FNV1A, EXPECTED_BYTES),
        "`seqrec simulate` changed its default output: FNV-1a {:#018x} of {} bytes",
        file.hash,
        file.bytes
    );

    let simulation =
        seqrec::simulator::Simulation::run(&seqrec::simulator::SimulatorConfig::default()).unwrap();
    let mut memory = Fnv1a::new();
    seqrec::events::write_events_csv_to(&simulation.log, &mut memory, b',').unwrap();
    assert_eq!(
        (memory.hash, memory.bytes),
        (EXPECTED_FNV1A, EXPECTED_BYTES),
        "the default simulation changed: FNV-1a {:#018x} of {} bytes",
        memory.hash,
        memory.bytes
    );
}

/// `seqrec simulate --out PATH --users U --tracks T --seed S`, which must succeed.
fn simulate(path: &std::path::Path, users: &str, tracks: &str, seed: &str) {
    let out = seqrec(&[
        "simulate",
        "--out",
        path.to_str().unwrap(),
        "--users",
        users,
        "--tracks",
        tracks,
        "--seed",
        seed,
    ]);
    assert!(out.status.success(), "{}", text(&out));
}

/// The flags of a tiny `train` run on the tiny gSASRec-layout dataset.
const TINY_TRAIN: [&str; 16] = [
    "--device",
    "ndarray",
    "--dim",
    "8",
    "--max-len",
    "10",
    "--blocks",
    "1",
    "--negatives",
    "8",
    "--batch-size",
    "16",
    "--steps",
    "4",
    "--eval-every",
    "2",
];

fn json_stdout(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", text(out));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}): {}", text(out)))
}

/// The header (its metadata is written in any order) and the tensor bytes of a SafeTensors
/// file.
fn safetensors(path: &std::path::Path) -> (serde_json::Value, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap();
    let len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = serde_json::from_slice(&bytes[8..8 + len]).unwrap();
    (header, bytes[8 + len..].to_vec())
}

fn read_json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `train --config` reads back the `config.json` a run wrote: the same configuration, the
/// same weights and validations; flags given override a TOML file's values, the defaults of
/// flags not given do not; an unknown field is refused with the file named. `--json` of
/// `train`, `export` and `import-gsasrec` print one JSON object.
#[test]
fn train_config_files_round_trip_and_flags_override_them() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    dataset(&data);
    let (first, second) = (tmp.path().join("first"), tmp.path().join("second"));
    let data_s = data.to_str().unwrap();
    let mut argv = vec!["train", "--data", data_s, "--quiet", "--json", "--out"];
    argv.push(first.to_str().unwrap());
    argv.extend(TINY_TRAIN);
    let report = json_stdout(&seqrec(&argv));
    assert_eq!(report["steps"], 4, "{report}");
    assert_eq!(report["model_dir"], first.to_str().unwrap());
    for key in ["ndcg@10", "recall@10", "recall@1", "mrr"] {
        assert!(report["test"][key].is_f64(), "{key} in {report}");
    }

    let written = first.join("config.json");
    let report_again = json_stdout(&seqrec(&[
        "train",
        "--data",
        data_s,
        "--quiet",
        "--json",
        "--device",
        "ndarray",
        "--out",
        second.to_str().unwrap(),
        "--config",
        written.to_str().unwrap(),
    ]));
    assert_eq!(read_json(&written), read_json(&second.join("config.json")));
    let (a, b) = (
        read_json(&first.join("training.json")),
        read_json(&second.join("training.json")),
    );
    assert_eq!(a["validations"], b["validations"]);
    assert_eq!(a["best_step"], b["best_step"]);
    assert_eq!(report["test"], report_again["test"]);
    assert!(
        safetensors(&first.join("model.safetensors"))
            == safetensors(&second.join("model.safetensors")),
        "the same configuration trains the same weights"
    );

    // A TOML file of some settings; `--dim` given overrides the file's, `--blocks` (not
    // given, default 2) does not override its 1.
    let file = tmp.path().join("tiny.toml");
    std::fs::write(
        &file,
        "negatives = 8\nbatch_size = 16\neval_every = 2\n\
         [model]\ndim = 8\nmax_len = 10\nblocks = 1\n[limit]\nsteps = 2\n",
    )
    .unwrap();
    let third = tmp.path().join("third");
    let out = seqrec(&[
        "train",
        "--data",
        data_s,
        "--quiet",
        "--device",
        "ndarray",
        "--out",
        third.to_str().unwrap(),
        "--config",
        file.to_str().unwrap(),
        "--dim",
        "4",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("trained 2 steps"), "{}", text(&out));
    let training = &read_json(&third.join("config.json"))["training"];
    assert_eq!(training["model"]["dim"], 4);
    assert_eq!(training["model"]["blocks"], 1);
    assert_eq!(training["model"]["max_len"], 10);
    assert_eq!(training["negatives"], 8);
    assert_eq!(training["limit"]["steps"], 2);

    // An unknown field: a clear error naming the file and the field, no panic.
    let bad = tmp.path().join("bad.toml");
    std::fs::write(&bad, "[model]\ndimm = 8\n").unwrap();
    let out = seqrec(&[
        "train",
        "--data",
        data_s,
        "--out",
        tmp.path().join("bad").to_str().unwrap(),
        "--config",
        bad.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let message = text(&out);
    assert!(
        message.contains("bad.toml") && message.contains("unknown field `model.dimm`"),
        "{message}"
    );
    assert!(!message.contains("panicked"), "{message}");

    // `export --json` and `import-gsasrec --json` of the exported file.
    let exported = tmp.path().join("first.safetensors");
    let export = json_stdout(&seqrec(&[
        "export",
        "--model",
        first.to_str().unwrap(),
        "--safetensors",
        exported.to_str().unwrap(),
        "--device",
        "ndarray",
        "--json",
    ]));
    assert_eq!(export["embedding_dim"], 8, "{export}");
    assert_eq!(export["sequence_length"], 10, "{export}");
    let import = json_stdout(&seqrec(&[
        "import-gsasrec",
        "--checkpoint",
        exported.to_str().unwrap(),
        "--heads",
        "1",
        "--out",
        tmp.path().join("imported").to_str().unwrap(),
        "--device",
        "ndarray",
        "--json",
    ]));
    assert_eq!(import["num_items"], export["num_items"], "{import}");
    assert_eq!(import["dim"], 8, "{import}");
}

/// `ablation --config` with a tiny budget writes the same `run.json` configuration as the
/// equivalent flags, from a TOML file and from the first run's `run.json`; `simulate --json`
/// prints one JSON object.
#[test]
fn ablation_config_file_equals_the_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let events = tmp.path().join("events.csv");
    let simulated = json_stdout(&seqrec(&[
        "simulate",
        "--out",
        events.to_str().unwrap(),
        "--users",
        "60",
        "--tracks",
        "400",
        "--median-plays",
        "60",
        "--json",
    ]));
    assert_eq!(simulated["users"], 60, "{simulated}");
    assert!(simulated["plays"].as_u64().unwrap() > 0, "{simulated}");
    let events_s = events.to_str().unwrap();
    let run = |out: &std::path::Path, extra: &[&str]| {
        let mut argv = vec!["ablation", "--data", events_s, "--quiet", "--out"];
        argv.push(out.to_str().unwrap());
        argv.extend_from_slice(extra);
        let out = seqrec(&argv);
        assert!(out.status.success(), "{}", text(&out));
        read_json(&std::path::Path::new(argv[5]).join("run.json"))["config"].clone()
    };
    let flags = run(
        &tmp.path().join("flags"),
        &[
            "--variants",
            "no-mask-pe",
            "--max-len",
            "12",
            "--dim",
            "8",
            "--negatives",
            "16",
            "--budget",
            "2",
            "--eval-every",
            "2",
        ],
    );
    assert_eq!(flags["dim"], 8, "{flags}");
    let file = tmp.path().join("tiny.toml");
    std::fs::write(
        &file,
        "variants = [{ attention = \"Bidirectional\", positions = \"Learned\" }]\n\
         max_len = 12\ndim = 8\nnegatives = 16\nbudget = { steps = 2 }\neval_every = 2\n",
    )
    .unwrap();
    let from_toml = run(
        &tmp.path().join("toml"),
        &["--config", file.to_str().unwrap()],
    );
    assert_eq!(from_toml, flags);
    let from_run_json = run(
        &tmp.path().join("again"),
        &[
            "--config",
            tmp.path().join("flags/run.json").to_str().unwrap(),
        ],
    );
    assert_eq!(from_run_json, flags);
}

#[test]
fn completions_are_printed_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = seqrec(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", text(&out));
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains("seqrec"), "{shell}: {script}");
        assert!(script.contains("ablation"), "{shell}: {script}");
    }
    let out = seqrec(&["completions", "tcsh"]);
    assert!(!out.status.success());
}

/// `evaluate` on the listening log a model was trained on splits it as `train` did and ranks
/// with the history as `train`'s test did: the same test metrics to the last digit. A second
/// log's unknown tracks are matched by id (its users skipped, with a note), and
/// `--history excluded` ranks without the history.
#[test]
fn evaluate_on_a_listening_log_gives_the_test_metrics_of_train() {
    let tmp = tempfile::tempdir().unwrap();
    let events = tmp.path().join("events.csv");
    let model = tmp.path().join("model");
    simulate(&events, "150", "300", "3");
    let mut argv = vec![
        "train",
        "--data",
        events.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
        "--quiet",
        "--json",
    ];
    argv.extend_from_slice(&TINY_TRAIN);
    let trained = json_stdout(&seqrec(&argv));
    assert_eq!(trained["test"]["history"], "ranked", "{trained}");
    let evaluate = |data: &std::path::Path, extra: &[&str]| {
        let mut argv = vec![
            "evaluate",
            "--model",
            model.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--device",
            "ndarray",
            "--json",
        ];
        argv.extend_from_slice(extra);
        seqrec(&argv)
    };
    let evaluated = json_stdout(&evaluate(&events, &[]));
    for metric in ["ndcg@10", "recall@10", "recall@1", "mrr"] {
        assert_eq!(
            evaluated[metric], trained["test"][metric],
            "{metric}: {evaluated}"
        );
    }
    let excluded = json_stdout(&evaluate(&events, &["--history", "excluded"]));
    assert_ne!(excluded["ndcg@10"], evaluated["ndcg@10"], "{excluded}");

    // Another simulated log: other users and more tracks than the model knows.
    let other = tmp.path().join("other.csv");
    simulate(&other, "80", "600", "9");
    let out = evaluate(&other, &[]);
    let scored = json_stdout(&out);
    assert!(
        (0.0..=1.0).contains(&scored["ndcg@10"].as_f64().unwrap()),
        "{scored}"
    );
    assert!(text(&out).contains("users skipped"), "{}", text(&out));
}

/// An integer column (`UInt64` or `UInt32`) as floats.
fn integers_as_floats(array: &arrow_array::ArrayRef) -> Vec<f64> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{UInt32Type, UInt64Type};
    if let Some(a) = array.as_primitive_opt::<UInt64Type>() {
        return a.values().iter().map(|&v| v as f64).collect();
    }
    let a = array.as_primitive::<UInt32Type>();
    a.values().iter().map(|&v| f64::from(v)).collect()
}
