#![allow(deprecated)] // `Device::ndarray` is deprecated upstream but is the test backend.
//! The HTTP service over loopback: the same answers as the library, bad requests refused with
//! 400 and their reason, overload shed with 503, in-flight requests finished at shutdown.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use burn::tensor::Device;
use seqrec_data::ItemVocabulary;
use seqrec_model::GsasRec;
use seqrec_serve::api::{BatchRecommendations, ErrorBody, Health, Recommendations};
use seqrec_serve::{RankedIds, Ranker, ServeConfig, Server};
use seqrec_train::{ModelKind, Recommender, TrainError};
use serde_json::json;

mod common;

use common::name;

const ITEMS: usize = 30;

fn recommender(seed: u64) -> Recommender<GsasRec> {
    common::recommender(ITEMS, 6, seed)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn post(url: &str, body: &serde_json::Value) -> (u16, String) {
    let mut response = agent()
        .post(format!("{url}/recommend"))
        .send_json(body)
        .unwrap();
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap())
}

fn histories() -> Vec<Vec<String>> {
    vec![
        vec![name(3), name(7), name(7), name(12)],
        vec![name(1)],
        (1..=20).map(|i| name(i % 9 + 1)).collect(),
        vec![name(30), name(29)],
    ]
}

#[test]
fn answers_the_same_items_as_the_library_alone_and_batched() {
    let library = recommender(5);
    // The same weights (the seed is global to the device, and tests run in parallel).
    let served = Recommender::new(
        library.model().clone(),
        library.manifest().clone(),
        library.items().clone(),
        &Device::ndarray(),
    );
    let server = Server::new(Box::new(served), ServeConfig::default())
        .unwrap()
        .spawn("127.0.0.1:0", 2)
        .unwrap();
    let url = server.url();
    for exclude in [false, true] {
        for history in histories() {
            let expected = library.recommend(&history, 7, exclude).unwrap();
            let (status, body) = post(
                &url,
                &json!({"history": history, "k": 7, "exclude_history": exclude}),
            );
            assert_eq!(status, 200, "{body}");
            let got: Recommendations = serde_json::from_str(&body).unwrap();
            let items: Vec<&str> = expected.iter().map(|r| r.item.as_str()).collect();
            assert_eq!(got.items, items);
            for (score, r) in got.scores.iter().zip(&expected) {
                assert!((score - r.score).abs() < 1e-5, "{score} vs {}", r.score);
            }
            if exclude {
                assert!(got.items.iter().all(|item| !history.contains(item)));
            }
        }
        // The batch form answers each history in order, as the single form does.
        let (status, body) = post(
            &url,
            &json!({"histories": histories(), "k": 5, "exclude_history": exclude}),
        );
        assert_eq!(status, 200, "{body}");
        let batch: BatchRecommendations = serde_json::from_str(&body).unwrap();
        assert_eq!(batch.results.len(), histories().len());
        for (history, got) in histories().iter().zip(&batch.results) {
            let expected: Vec<String> = library
                .recommend(history, 5, exclude)
                .unwrap()
                .into_iter()
                .map(|r| r.item)
                .collect();
            assert_eq!(got.items, expected);
        }
    }
    // Concurrent requests with different k and exclusions, batched together by the worker.
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let url = url.clone();
            std::thread::spawn(move || {
                let history = histories()[t % 4].clone();
                let k = 1 + t % 6;
                let exclude = t % 3 == 0;
                let (status, body) = post(
                    &url,
                    &json!({"history": history, "k": k, "exclude_history": exclude}),
                );
                assert_eq!(status, 200, "{body}");
                let got: Recommendations = serde_json::from_str(&body).unwrap();
                (history, k, exclude, got.items)
            })
        })
        .collect();
    for thread in threads {
        let (history, k, exclude, items) = thread.join().unwrap();
        let expected: Vec<String> = library
            .recommend(&history, k, exclude)
            .unwrap()
            .into_iter()
            .map(|r| r.item)
            .collect();
        assert_eq!(items, expected);
    }
    // A k above the catalogue returns every item once.
    let (status, body) = post(&url, &json!({"history": [name(2)], "k": 500}));
    assert_eq!(status, 200, "{body}");
    let all: Recommendations = serde_json::from_str(&body).unwrap();
    assert_eq!(all.items.len(), ITEMS);
    server.shutdown().unwrap();
}

#[test]
fn bad_requests_get_400_with_the_reason() {
    let server = Server::new(Box::new(recommender(1)), ServeConfig::default())
        .unwrap()
        .spawn("127.0.0.1:0", 1)
        .unwrap();
    let url = server.url();
    let raw = |body: &str| {
        let mut response = agent()
            .post(format!("{url}/recommend"))
            .header("content-type", "application/json")
            .send(body)
            .unwrap();
        let status = response.status().as_u16();
        (status, response.body_mut().read_to_string().unwrap())
    };
    let cases: Vec<(String, &str)> = vec![
        ("{\"history\": [".into(), "invalid request body"),
        ("not json".into(), "invalid request body"),
        ("{\"history\": \"a b\"}".into(), "invalid type"),
        ("{\"histroy\": []}".into(), "unknown field"),
        ("{}".into(), "missing field `history`"),
        (json!({"history": []}).to_string(), "the history is empty"),
        (
            json!({"history": [name(1), "nope"]}).to_string(),
            "unknown item `nope` at position 1",
        ),
        (
            json!({"histories": [[name(1)], ["nope"]]}).to_string(),
            "history 1: unknown item `nope` at position 0",
        ),
        (
            json!({"history": [name(1)], "k": 0}).to_string(),
            "`k` must be between 1 and",
        ),
        (
            json!({"history": [name(1)], "histories": [[name(1)]]}).to_string(),
            "not both",
        ),
        (
            json!({"histories": []}).to_string(),
            "`histories` must hold",
        ),
    ];
    for (body, reason) in cases {
        let (status, text) = raw(&body);
        assert_eq!(status, 400, "{body} -> {text}");
        let error: ErrorBody = serde_json::from_str(&text).unwrap();
        assert!(error.error.contains(reason), "{body}: {}", error.error);
    }
    // The service still answers after refusing.
    let (status, _) = post(&url, &json!({"history": [name(4)]}));
    assert_eq!(status, 200);
    server.shutdown().unwrap();
}

#[test]
fn health_and_metrics_report_the_model_and_the_traffic() {
    let server = Server::new(Box::new(recommender(2)), ServeConfig::default())
        .unwrap()
        .spawn("127.0.0.1:0", 1)
        .unwrap();
    let url = server.url();
    let mut response = agent().get(format!("{url}/health")).call().unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let health: Health = response.body_mut().read_json().unwrap();
    assert_eq!(health.status, "ok");
    assert_eq!(health.model, "gsasrec");
    assert_eq!(health.items, ITEMS);
    assert_eq!(health.max_len, 6);
    for _ in 0..3 {
        assert_eq!(post(&url, &json!({"history": [name(4)]})).0, 200);
    }
    assert_eq!(post(&url, &json!({"history": ["nope"]})).0, 400);
    assert_eq!(
        post(&url, &json!({"histories": [[name(1)], [name(2)]]})).0,
        200
    );
    let text = agent()
        .get(format!("{url}/metrics"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    for line in [
        r#"seqrec_requests_total{endpoint="Recommend",status="200"} 4"#,
        r#"seqrec_requests_total{endpoint="Recommend",status="400"} 1"#,
        r#"seqrec_requests_total{endpoint="Health",status="200"} 1"#,
        "seqrec_histories_total 5",
        "seqrec_recommend_latency_seconds_count 5",
        "seqrec_queue_depth 0",
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
    server.shutdown().unwrap();
}

/// A ranker that says when it starts ranking and waits to be released: the worker is held
/// busy for as long as a test needs.
struct HeldRanker {
    inner: Recommender<GsasRec>,
    started: Mutex<Sender<()>>,
    release: Mutex<Receiver<()>>,
}

impl Ranker for HeldRanker {
    fn kind(&self) -> ModelKind {
        ModelKind::GsasRec
    }
    fn items(&self) -> &ItemVocabulary {
        Ranker::items(&self.inner)
    }
    fn max_len(&self) -> usize {
        Ranker::max_len(&self.inner)
    }
    fn rank(
        &self,
        histories: &[Vec<u32>],
        exclusions: &[Vec<u32>],
        k: usize,
    ) -> Result<RankedIds, TrainError> {
        self.started.lock().unwrap().send(()).unwrap();
        self.release.lock().unwrap().recv().unwrap();
        self.inner.rank(histories, exclusions, k)
    }
}

fn held() -> (HeldRanker, Receiver<()>, Sender<()>) {
    let (started_tx, started) = channel();
    let (release, release_rx) = channel();
    let ranker = HeldRanker {
        inner: recommender(3),
        started: Mutex::new(started_tx),
        release: Mutex::new(release_rx),
    };
    (ranker, started, release)
}

fn metrics(url: &str) -> String {
    agent()
        .get(format!("{url}/metrics"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap()
}

fn wait_for(url: &str, line: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !metrics(url).contains(line) {
        assert!(Instant::now() < deadline, "never saw {line}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_full_queue_sheds_load_with_503_and_the_queued_requests_are_answered() {
    let (ranker, started, release) = held();
    let config = ServeConfig {
        queue_capacity: 1,
        max_batch: 1,
        max_wait_us: 0,
        ..ServeConfig::default()
    };
    let server = Server::new(Box::new(ranker), config)
        .unwrap()
        .spawn("127.0.0.1:0", 2)
        .unwrap();
    let url = Arc::new(server.url());
    let request = |item: usize| {
        let url = Arc::clone(&url);
        std::thread::spawn(move || post(&url, &json!({"history": [name(item)]})))
    };
    // The first request is being ranked (the worker is held), the second waits in the queue.
    let first = request(1);
    started.recv().unwrap();
    let second = request(2);
    wait_for(&url, "seqrec_queue_depth 1");
    // The queue is full: the third is refused at once.
    let (status, body) = post(&url, &json!({"history": [name(3)]}));
    assert_eq!(status, 503, "{body}");
    let error: ErrorBody = serde_json::from_str(&body).unwrap();
    assert!(error.error.contains("overloaded"), "{}", error.error);
    release.send(()).unwrap();
    assert_eq!(first.join().unwrap().0, 200);
    started.recv().unwrap();
    release.send(()).unwrap();
    assert_eq!(second.join().unwrap().0, 200);
    assert!(metrics(&url).contains("seqrec_rejected_total 1"));
    server.shutdown().unwrap();
}

#[test]
fn shutdown_finishes_the_requests_in_flight() {
    let (ranker, started, release) = held();
    let server = Server::new(Box::new(ranker), ServeConfig::default())
        .unwrap()
        .spawn("127.0.0.1:0", 2)
        .unwrap();
    let url = server.url();
    let in_flight = std::thread::spawn(move || post(&url, &json!({"history": [name(5)]})));
    started.recv().unwrap();
    // Shut down while the request is being ranked; release it from another thread.
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        release.send(()).unwrap();
    });
    server.shutdown().unwrap();
    releaser.join().unwrap();
    let (status, body) = in_flight.join().unwrap();
    assert_eq!(status, 200, "{body}");
    let got: Recommendations = serde_json::from_str(&body).unwrap();
    assert_eq!(got.items.len(), 10);
}
