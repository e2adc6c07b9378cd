//! The settings of the HTTP service.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::ServeError;

/// How the service batches and bounds its work. Every field has a default (below) and the
/// serde form of this struct is what `seqrec serve` reads and prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServeConfig {
    /// The most histories ranked in one forward pass. Requests arriving together are put in
    /// one pass until it holds this many histories; 1 turns batching off (each request is
    /// ranked alone; a request with several histories is still one pass). Default 64.
    pub max_batch: usize,
    /// How long the ranking worker waits for more requests once it has one, in microseconds.
    /// Requests that queue while a pass runs are batched anyway; this only adds waiting when
    /// the queue is empty, which costs latency at low load. Default 0.
    pub max_wait_us: u64,
    /// Requests waiting for the ranking worker; one more gets 503 Service Unavailable.
    /// Default 256.
    pub queue_capacity: usize,
    /// The largest `k` a request may ask for. Default 1 000.
    pub max_k: usize,
    /// The most histories in one request. Default 1 024.
    pub max_histories_per_request: usize,
    /// The largest request body in bytes. Default 16 MiB.
    pub max_body_bytes: usize,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            max_batch: 64,
            max_wait_us: 0,
            queue_capacity: 256,
            max_k: 1_000,
            max_histories_per_request: 1_024,
            max_body_bytes: 16 << 20,
        }
    }
}

impl ServeConfig {
    /// The wait as a [`Duration`].
    pub fn max_wait(&self) -> Duration {
        Duration::from_micros(self.max_wait_us)
    }

    /// Refuses settings that cannot work: zero batch, queue, `k` or histories per request.
    pub fn validate(&self) -> Result<(), ServeError> {
        let positive = [
            ("max_batch", self.max_batch),
            ("queue_capacity", self.queue_capacity),
            ("max_k", self.max_k),
            ("max_histories_per_request", self.max_histories_per_request),
            ("max_body_bytes", self.max_body_bytes),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(ServeError::Config(format!("{name} must be at least 1")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_zeros_are_refused() {
        ServeConfig::default().validate().unwrap();
        let zero_queue = ServeConfig {
            queue_capacity: 0,
            ..ServeConfig::default()
        };
        let message = zero_queue.validate().unwrap_err().to_string();
        assert!(message.contains("queue_capacity"), "{message}");
    }

    #[test]
    fn json_form_round_trips_and_rejects_unknown_fields() {
        let config = ServeConfig {
            max_batch: 1,
            ..ServeConfig::default()
        };
        let text = serde_json::to_string(&config).unwrap();
        assert_eq!(serde_json::from_str::<ServeConfig>(&text).unwrap(), config);
        let partial: ServeConfig = serde_json::from_str(r#"{"max_wait_us": 500}"#).unwrap();
        assert_eq!(partial.max_wait_us, 500);
        assert_eq!(partial.max_batch, 64);
        assert!(serde_json::from_str::<ServeConfig>(r#"{"max_bach": 2}"#).is_err());
    }
}
