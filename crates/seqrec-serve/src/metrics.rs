//! The service's counters and histograms, in the Prometheus text format at `GET /metrics`.

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The endpoints counted.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq, EncodeLabelValue)]
pub enum Endpoint {
    /// `POST /recommend`.
    Recommend,
    /// `GET /health`.
    Health,
    /// `GET /metrics`.
    Metrics,
}

/// The labels of a request count: its endpoint and HTTP status.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// The HTTP status code.
    pub status: u32,
}

/// Everything `GET /metrics` reports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Histogram,
    batch_histories: Histogram,
    histories: Counter,
    rejected: Counter,
    queue_depth: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers the metrics, all at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("seqrec");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "HTTP requests answered, by endpoint and status",
            requests.clone(),
        );
        // 0.25 ms .. about 4 s.
        let latency = Histogram::new(exponential_buckets(0.000_25, 2.0, 15));
        registry.register(
            "recommend_latency_seconds",
            "Time from receiving a recommend request to its answer",
            latency.clone(),
        );
        // 1 .. 4096 histories.
        let batch_histories = Histogram::new(exponential_buckets(1.0, 2.0, 13));
        registry.register(
            "batch_histories",
            "Histories ranked per forward pass of the ranking worker",
            batch_histories.clone(),
        );
        let histories = Counter::default();
        registry.register("histories", "Histories ranked", histories.clone());
        let rejected = Counter::default();
        registry.register(
            "rejected",
            "Requests refused with 503 because the queue was full",
            rejected.clone(),
        );
        let queue_depth = Gauge::default();
        registry.register(
            "queue_depth",
            "Requests waiting for the ranking worker",
            queue_depth.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            batch_histories,
            histories,
            rejected,
            queue_depth,
        }
    }

    /// Counts an answered request.
    pub fn request(&self, endpoint: Endpoint, status: u16) {
        self.requests
            .get_or_create(&RequestLabels {
                endpoint,
                status: u32::from(status),
            })
            .inc();
    }

    /// Records the latency of a recommend request.
    pub fn latency(&self, seconds: f64) {
        self.latency.observe(seconds);
    }

    /// Records one forward pass of `histories` histories.
    pub fn batch(&self, histories: usize) {
        self.batch_histories.observe(histories as f64);
        self.histories.inc_by(histories as u64);
    }

    /// Counts a request refused because the queue was full.
    pub fn rejected(&self) {
        self.rejected.inc();
    }

    /// A request entered (+1) or left (-1) the queue.
    pub fn queue_change(&self, delta: i64) {
        self.queue_depth.inc_by(delta);
    }

    /// The current values in the text exposition format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_appear_in_the_text_format() {
        let metrics = Metrics::new();
        metrics.request(Endpoint::Recommend, 200);
        metrics.request(Endpoint::Recommend, 200);
        metrics.request(Endpoint::Recommend, 503);
        metrics.batch(3);
        metrics.batch(5);
        metrics.latency(0.002);
        let text = metrics.render();
        assert!(
            text.contains(r#"seqrec_requests_total{endpoint="Recommend",status="200"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"seqrec_requests_total{endpoint="Recommend",status="503"} 1"#),
            "{text}"
        );
        assert!(text.contains("seqrec_histories_total 8"), "{text}");
        assert!(text.contains("seqrec_batch_histories_sum 8.0"), "{text}");
        assert!(text.contains("seqrec_batch_histories_count 2"), "{text}");
        assert!(
            text.contains("seqrec_recommend_latency_seconds_count 1"),
            "{text}"
        );
    }
}
