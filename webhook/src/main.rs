//! `hallmark-webhook`: the Kubernetes admission server. Config → build → spawn → drain, as
//! linkerd2-proxy lays a server out: the configuration, trust, policies and TLS certificate are
//! loaded and checked before anything binds; `/readyz` turns ready once they are; SIGTERM (or
//! SIGINT) drops readiness first, stops accepting after `--shutdown-delay`, and lets in-flight
//! requests finish within `--drain-timeout`.
//!
//! Every decision is `hallmark_admission::gate::Gate::review`, which reaches each image's
//! verdict through the verification engine, as `hallmark verify` and `hallmark admission` do.

#![forbid(unsafe_code)]

/// mimalloc rather than the C library's malloc: allocation was a fifth of a policy decision, and
/// the webhook makes decisions all day (docs/decisions/0029-allocator.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod admin;
mod log;
mod metrics;
mod serve;
mod state;
mod tls;
mod watch;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;

/// The admission webhook's options.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "hallmark-webhook",
    version,
    about = "A fail-closed Kubernetes admission webhook: every image a workload would run must prove its provenance",
    long_about = "A fail-closed Kubernetes admission webhook. For each AdmissionReview (admission.k8s.io/v1) of a Pod, \
Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob or ReplicationController, every image in containers, \
initContainers and ephemeralContainers is resolved to its digest and decided by Hallmark's verification engine under \
the rule its namespace and repository match (docs/webhook.md). /validate answers allowed or denied; /mutate gives the \
same answer and pins each verified image to its digest with a JSONPatch. When no verdict can be reached (registry \
down, deadline passed, policy error) the request is denied with the reason, unless the rule says failOpen.",
    after_help = "Endpoints:\n  https://LISTEN/validate, /mutate    AdmissionReview v1 in, AdmissionReview v1 out\n  \
http://ADMIN-LISTEN/livez            200 while the process serves\n  \
http://ADMIN-LISTEN/readyz           200 once configuration, trust, policies and certificate are loaded; 503 while draining\n  \
http://ADMIN-LISTEN/metrics          Prometheus text format\n\n\
Example:\n  hallmark-webhook --config /etc/hallmark/config.yaml --tls-cert /tls/tls.crt --tls-key /tls/tls.key\n\n\
Logs: one JSON line per decision on stdout (uid, namespace, kind, images, verdict, codes, latency); events and \
errors as JSON lines too. Never a token or a password."
)]
pub struct Args {
    /// The gate's configuration file (YAML, apiVersion hallmark.dev/admission/v1; see
    /// docs/webhook.md): trust, registries, rules, exemptions, deadline, cache. Re-read when it
    /// or a file it names changes; a configuration that does not load is refused and the last
    /// good one keeps serving.
    #[arg(long, env = "HALLMARK_WEBHOOK_CONFIG", value_name = "FILE")]
    pub config: PathBuf,
    /// The serving certificate chain (PEM, leaf first). Re-read when it changes (cert-manager
    /// rotates it in place).
    #[arg(long, env = "HALLMARK_WEBHOOK_TLS_CERT", value_name = "FILE")]
    pub tls_cert: PathBuf,
    /// The serving certificate's private key (PEM: PKCS#8, SEC1 or PKCS#1). Re-read with the
    /// certificate.
    #[arg(long, env = "HALLMARK_WEBHOOK_TLS_KEY", value_name = "FILE")]
    pub tls_key: PathBuf,
    /// The address of the HTTPS admission port (/validate, /mutate).
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8443")]
    pub listen: SocketAddr,
    /// The address of the plain-HTTP admin port (/livez, /readyz, /metrics). Keep it off the
    /// admission Service.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:9090")]
    pub admin_listen: SocketAddr,
    /// How often the configuration and certificate files are checked for changes.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = humantime::parse_duration)]
    pub watch_interval: Duration,
    /// After SIGTERM: how long /readyz reports not ready before the admission port stops
    /// accepting, so the Service stops sending new requests first.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = humantime::parse_duration)]
    pub shutdown_delay: Duration,
    /// After the admission port closes: how long in-flight requests may take to finish.
    #[arg(long, value_name = "DURATION", default_value = "20s", value_parser = humantime::parse_duration)]
    pub drain_timeout: Duration,
    /// Worker threads serving connections (the decisions run on a separate bounded pool).
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub workers: usize,
    /// Most decisions running at once; a request waiting longer than its deadline for a slot is
    /// answered as undecided (denied, or warned under failOpen).
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub max_decisions: usize,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            log::event("error", "exiting", &[("error", format!("{e:#}").into())]);
            std::process::ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> Result<()> {
    if args.workers == 0 || args.max_decisions == 0 {
        anyhow::bail!("--workers and --max-decisions must be at least 1");
    }
    // Config: everything is loaded and checked before anything binds.
    let state = Arc::new(state::State::load(&args)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.workers)
        .max_blocking_threads(args.max_decisions + 4)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(serve::run(args, state))
}
