//! The HTTPS admission port and the lifecycle: spawn the listeners and the file watcher, then
//! on SIGTERM/SIGINT drop readiness, wait `--shutdown-delay`, stop accepting, and let open
//! connections finish their requests within `--drain-timeout`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};
use bytes::Bytes;
use hallmark_admission::gate::Reviewed;
use hallmark_admission::response::{self, Endpoint};
use hallmark_admission::review::MAX_REVIEW_BYTES;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;

use crate::Args;
use crate::log;
use crate::state::State;

/// Longest a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a client may take to send request headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Builds, spawns and drains.
pub async fn run(args: Args, state: Arc<State>) -> Result<()> {
    let tls = TlsAcceptor::from(Arc::new(crate::tls::server_config(
        state.certificates.clone(),
    )?));
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let admin = TcpListener::bind(args.admin_listen)
        .await
        .with_context(|| format!("binding {}", args.admin_listen))?;
    state.metrics.config_loaded();
    log::event(
        "info",
        "serving",
        &[
            ("admission", json!(listener.local_addr()?.to_string())),
            ("admin", json!(admin.local_addr()?.to_string())),
        ],
    );
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(crate::admin::run(admin, state.clone()));
    tokio::spawn(crate::watch::run(
        state.clone(),
        args.tls_cert.clone(),
        args.tls_key.clone(),
        args.watch_interval,
    ));
    let decisions = Arc::new(Semaphore::new(args.max_decisions));
    let server = tokio::spawn(accept(listener, tls, state.clone(), decisions, stop_rx));

    signal().await?;
    // Readiness drops first, so endpoints stop sending; then the port closes and in-flight
    // requests finish.
    state.unready();
    log::event(
        "info",
        "draining",
        &[(
            "shutdownDelayMs",
            json!(args.shutdown_delay.as_millis() as u64),
        )],
    );
    tokio::time::sleep(args.shutdown_delay).await;
    let _ = stop_tx.send(true);
    let graceful = server.await.context("the accept loop")?;
    match tokio::time::timeout(args.drain_timeout, graceful.shutdown()).await {
        Ok(()) => log::event("info", "drained", &[]),
        Err(_) => log::event("warn", "drain timeout: open connections closed", &[]),
    }
    Ok(())
}

async fn signal() -> Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    tokio::select! {
        _ = term.recv() => {},
        r = tokio::signal::ctrl_c() => r.context("installing the SIGINT handler")?,
    }
    Ok(())
}

/// Accepts connections until told to stop; returns the connections' shutdown handle.
async fn accept(
    listener: TcpListener,
    tls: TlsAcceptor,
    state: Arc<State>,
    decisions: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) -> GracefulShutdown {
    let graceful = GracefulShutdown::new();
    loop {
        let (tcp, _) = tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    log::event("warn", "accept failed", &[("error", json!(e.to_string()))]);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let watcher = graceful.watcher();
        let (tls, state, decisions) = (tls.clone(), state.clone(), decisions.clone());
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(tcp)).await {
                Ok(Ok(s)) => s,
                _ => return,
            };
            let service = service_fn(move |req| {
                let (state, decisions) = (state.clone(), decisions.clone());
                async move { Ok::<_, Infallible>(handle(req, state, decisions).await) }
            });
            let conn = http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            let _ = watcher.watch(conn).await;
        });
    }
    graceful
}

fn plain(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(text.to_owned())));
    *r.status_mut() = status;
    r
}

fn json_response(value: &Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(
        serde_json::to_vec(value).unwrap_or_default(),
    )));
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

async fn handle(
    req: Request<Incoming>,
    state: Arc<State>,
    decisions: Arc<Semaphore>,
) -> Response<Full<Bytes>> {
    let endpoint = match (req.method(), req.uri().path()) {
        (&Method::POST, "/validate") => Endpoint::Validate,
        (&Method::POST, "/mutate") => Endpoint::Mutate,
        (_, "/validate" | "/mutate") => {
            return plain(StatusCode::METHOD_NOT_ALLOWED, "POST an AdmissionReview\n");
        }
        _ => return plain(StatusCode::NOT_FOUND, "not found\n"),
    };
    let started = Instant::now();
    state.metrics.in_flight(true);
    let gate = state.gate();
    let deadline = started + gate.config().deadline;
    // The body is read within the deadline too: a client that trickles it gets an answer.
    let read = tokio::time::timeout(
        deadline.saturating_duration_since(Instant::now()),
        Limited::new(req.into_body(), MAX_REVIEW_BYTES).collect(),
    )
    .await;
    let reviewed = match read {
        Err(_) => Reviewed::refused(
            None,
            &hallmark_admission::Error::Review(
                "the body did not arrive before the deadline".into(),
            ),
        ),
        Ok(Err(e)) => Reviewed::refused(
            None,
            &hallmark_admission::Error::Review(format!(
                "the body could not be read whole (at most {MAX_REVIEW_BYTES} bytes): {e}"
            )),
        ),
        Ok(Ok(collected)) => {
            let body = collected.to_bytes();
            decide(gate, body, started, deadline, decisions).await
        }
    };
    let latency = started.elapsed();
    state.metrics.record(endpoint, &reviewed, latency);
    state.metrics.in_flight(false);
    log_decision(endpoint, &reviewed, latency);
    json_response(&response::review(&reviewed, endpoint))
}

/// Runs the gate on the blocking pool, bounded by the slots and the deadline: a decision that
/// is not done by then is answered as undecided (fail closed, or warned under failOpen).
async fn decide(
    gate: Arc<hallmark_admission::gate::Gate>,
    body: Bytes,
    started: Instant,
    deadline: Instant,
    decisions: Arc<Semaphore>,
) -> Reviewed {
    let left = deadline.saturating_duration_since(Instant::now());
    let work = async {
        let permit = decisions.acquire_owned().await.ok()?;
        let (g, b) = (gate.clone(), body.clone());
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            // Work queued past its deadline is not started.
            if Instant::now() >= deadline {
                return None;
            }
            Some(g.review_body(&b, SystemTime::now(), started))
        })
        .await
        .ok()
        .flatten()
    };
    match tokio::time::timeout(left, work).await {
        Ok(Some(reviewed)) => reviewed,
        _ => gate.out_of_time(&body, SystemTime::now()),
    }
}

fn log_decision(endpoint: Endpoint, r: &Reviewed, latency: Duration) {
    let images: Vec<Value> = r
        .images
        .iter()
        .map(|i| {
            json!({
                "image": log::strip_credentials(&i.image),
                "digest": i.digest,
                "rule": i.rule,
                "mode": i.mode.as_str(),
                "result": match &i.result {
                    hallmark_admission::gate::ImageResult::Exempt => "exempt",
                    hallmark_admission::gate::ImageResult::Allowed => "allowed",
                    hallmark_admission::gate::ImageResult::Denied(_) => "denied",
                    hallmark_admission::gate::ImageResult::Failed(_) => "failed",
                },
                "codes": i.codes(),
                "cache": i.cache.map(|c| c.as_str()),
            })
        })
        .collect();
    let mut fields = Map::new();
    fields.insert("level".into(), json!("info"));
    fields.insert("msg".into(), json!("decision"));
    fields.insert(
        "endpoint".into(),
        json!(match endpoint {
            Endpoint::Validate => "validate",
            Endpoint::Mutate => "mutate",
        }),
    );
    fields.insert("uid".into(), json!(r.uid));
    fields.insert("namespace".into(), json!(r.namespace));
    fields.insert("kind".into(), json!(r.kind));
    fields.insert("operation".into(), json!(r.operation));
    fields.insert("dryRun".into(), json!(r.dry_run));
    fields.insert("verdict".into(), json!(r.outcome.as_str()));
    fields.insert("allowed".into(), json!(r.allowed()));
    fields.insert("codes".into(), json!(r.codes()));
    if let Some(m) = &r.message {
        fields.insert("message".into(), json!(log::strip_credentials(m)));
    }
    if !r.warnings.is_empty() {
        let w: Vec<String> = r
            .warnings
            .iter()
            .map(|w| log::strip_credentials(w))
            .collect();
        fields.insert("warnings".into(), json!(w));
    }
    fields.insert("images".into(), Value::Array(images));
    fields.insert("latencyMs".into(), json!(latency.as_secs_f64() * 1000.0));
    log::line(fields);
}
