//! The HTTP JSON service: `POST /recommend`, `GET /health`, `GET /metrics`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use seqrec_data::ItemVocabulary;
use seqrec_train::{ModelKind, resolve_history};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::api::{BatchRecommendations, ErrorBody, Health, RecommendRequest, Recommendations};
use crate::batcher::{Job, Queue, Refused, spawn_worker};
use crate::config::ServeConfig;
use crate::error::ServeError;
use crate::metrics::{Endpoint, Metrics};
use crate::ranker::Ranker;

/// What every request handler shares.
struct AppState {
    queue: Queue,
    items: ItemVocabulary,
    health: Health,
    config: ServeConfig,
    metrics: Arc<Metrics>,
}

/// A service ready to accept connections: the model loaded, its ranking worker started.
pub struct Server {
    state: Arc<AppState>,
    worker: std::thread::JoinHandle<()>,
}

impl Server {
    /// Starts the ranking worker for `ranker` with `config`.
    pub fn new(ranker: Box<dyn Ranker>, config: ServeConfig) -> Result<Self, ServeError> {
        config.validate()?;
        let metrics = Arc::new(Metrics::new());
        let (queue, receiver) = Queue::bounded(config.queue_capacity, Arc::clone(&metrics));
        let items = ranker.items().clone();
        let health = Health {
            status: "ok".into(),
            model: kind_name(ranker.kind()).into(),
            items: items.len(),
            max_len: ranker.max_len(),
        };
        let worker =
            spawn_worker(ranker, receiver, &config, Arc::clone(&metrics)).map_err(|source| {
                ServeError::Server {
                    addr: "(ranking worker)".into(),
                    source,
                }
            })?;
        let state = Arc::new(AppState {
            queue,
            items,
            health,
            config,
            metrics,
        });
        Ok(Self { state, worker })
    }

    /// The routes, for serving on a listener of one's own (or testing without one).
    pub fn router(&self) -> Router {
        router(Arc::clone(&self.state))
    }

    /// Serves on `listener` until `shutdown` completes, then finishes the requests in flight
    /// and stops the ranking worker.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let addr = listener
            .local_addr()
            .map_or_else(|_| "?".to_string(), |a| a.to_string());
        let Server { state, worker } = self;
        let app = router(state);
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|source| ServeError::Server { addr, source })?;
        // Every handler (and so every queue sender) is gone: the worker drains and ends.
        tokio::task::spawn_blocking(move || worker.join())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or(ServeError::WorkerStopped)
    }
}

/// A server running on a thread of its own (with its own tokio runtime), as
/// [`Server::spawn`] starts it: for tests, benchmarks and programs that are not async.
pub struct ServerHandle {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), ServeError>>>,
}

impl ServerHandle {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL, `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections, finishes the requests in flight and waits for the end.
    pub fn shutdown(mut self) -> Result<(), ServeError> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> Result<(), ServeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take() {
            Some(thread) => thread.join().map_err(|_| ServeError::WorkerStopped)?,
            None => Ok(()),
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        let _ = self.stop_and_join();
    }
}

impl Server {
    /// Binds `addr` (port 0 picks a free port) and serves on a new thread with a tokio
    /// runtime of `threads` worker threads, until [`ServerHandle::shutdown`] (or its drop).
    pub fn spawn(self, addr: &str, threads: usize) -> Result<ServerHandle, ServeError> {
        let server_error = |source| ServeError::Server {
            addr: addr.to_string(),
            source,
        };
        let runtime = runtime(threads).map_err(server_error)?;
        let listener = runtime
            .block_on(TcpListener::bind(addr))
            .map_err(server_error)?;
        let bound = listener.local_addr().map_err(server_error)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("seqrec-serve".into())
            .spawn(move || {
                runtime.block_on(self.run(listener, async {
                    let _ = stopped.await;
                }))
            })
            .map_err(server_error)?;
        Ok(ServerHandle {
            addr: bound,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

/// Binds `addr` and serves until SIGTERM or Ctrl-C ([`shutdown_signal`]); `on_ready` gets the
/// bound address (useful with port 0).
pub async fn serve(
    ranker: Box<dyn Ranker>,
    config: ServeConfig,
    addr: &str,
    on_ready: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let server = Server::new(ranker, config)?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Server {
            addr: addr.to_string(),
            source,
        })?;
    if let Ok(bound) = listener.local_addr() {
        on_ready(bound);
    }
    server.run(listener, shutdown_signal()).await
}

/// [`serve`] for programs that are not async: builds a tokio runtime of `threads` worker
/// threads and serves on it until SIGTERM or Ctrl-C.
pub fn serve_blocking(
    ranker: Box<dyn Ranker>,
    config: ServeConfig,
    addr: &str,
    threads: usize,
    on_ready: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let runtime = runtime(threads).map_err(|source| ServeError::Server {
        addr: addr.to_string(),
        source,
    })?;
    runtime.block_on(serve(ranker, config, addr, on_ready))
}

/// A multi-threaded tokio runtime of `threads` workers (at least one).
fn runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
}

/// Completes on SIGTERM or Ctrl-C (SIGINT).
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// The name of a model kind in `/health`.
pub fn kind_name(kind: ModelKind) -> &'static str {
    match kind {
        ModelKind::GsasRec => "gsasrec",
        ModelKind::ItemItem => "item-item",
        ModelKind::PersonalPopularity => "personal-popularity",
    }
}

fn router(state: Arc<AppState>) -> Router {
    let limit = state.config.max_body_bytes;
    Router::new()
        .route("/recommend", post(recommend))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

async fn health(State(state): State<Arc<AppState>>) -> Response {
    state.metrics.request(Endpoint::Health, 200);
    axum::Json(state.health.clone()).into_response()
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    state.metrics.request(Endpoint::Metrics, 200);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// A refused request: its status and reason.
struct Failure(StatusCode, String);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.0, axum::Json(ErrorBody { error: self.1 })).into_response()
    }
}

async fn recommend(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let started = Instant::now();
    let response = match answer(&state, &body).await {
        Ok(response) => response,
        Err(failure) => failure.into_response(),
    };
    state
        .metrics
        .request(Endpoint::Recommend, response.status().as_u16());
    state.metrics.latency(started.elapsed().as_secs_f64());
    response
}

async fn answer(state: &AppState, body: &[u8]) -> Result<Response, Failure> {
    let bad = |message: String| Failure(StatusCode::BAD_REQUEST, message);
    let request: RecommendRequest =
        serde_json::from_slice(body).map_err(|e| bad(format!("invalid request body: {e}")))?;
    let (names, single) = match (request.history, request.histories) {
        (Some(history), None) => (vec![history], true),
        (None, Some(histories)) => (histories, false),
        (Some(_), Some(_)) => {
            return Err(bad("give `history` or `histories`, not both".into()));
        }
        (None, None) => return Err(bad("missing field `history` (or `histories`)".into())),
    };
    if request.k == 0 || request.k > state.config.max_k {
        return Err(bad(format!(
            "`k` must be between 1 and {}, got {}",
            state.config.max_k, request.k
        )));
    }
    if names.is_empty() || names.len() > state.config.max_histories_per_request {
        return Err(bad(format!(
            "`histories` must hold between 1 and {} histories, got {}",
            state.config.max_histories_per_request,
            names.len()
        )));
    }
    let histories = names
        .iter()
        .enumerate()
        .map(|(index, history)| {
            resolve_history(&state.items, history).map_err(|e| {
                bad(if single {
                    e.to_string()
                } else {
                    format!("history {index}: {e}")
                })
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (reply, answer) = oneshot::channel();
    let job = Job {
        count: histories.len(),
        histories,
        k: request.k,
        exclude_history: request.exclude_history,
        reply,
    };
    match state.queue.submit(job) {
        Ok(()) => {}
        Err(Refused::Full) => {
            state.metrics.rejected();
            return Err(Failure(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "overloaded: {} requests are waiting; retry later",
                    state.config.queue_capacity
                ),
            ));
        }
        Err(Refused::Stopped) => {
            return Err(Failure(
                StatusCode::SERVICE_UNAVAILABLE,
                "the ranking worker has stopped".into(),
            ));
        }
    }
    let ranked = answer
        .await
        .map_err(|_| {
            Failure(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the ranking worker stopped".into(),
            )
        })?
        .map_err(|message| Failure(StatusCode::INTERNAL_SERVER_ERROR, message))?;
    let mut results: Vec<Recommendations> = ranked
        .into_iter()
        .map(|list| Recommendations::from_ranked(&state.items, list))
        .collect();
    Ok(if single {
        axum::Json(results.swap_remove(0)).into_response()
    } else {
        axum::Json(BatchRecommendations { results }).into_response()
    })
}
