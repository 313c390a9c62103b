//! What the server shares between connections: the current gate (swapped on reload), the TLS
//! certificate, readiness and the metrics.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use anyhow::{Context, Result};
use hallmark_admission::cache::VerdictCache;
use hallmark_admission::config::Config;
use hallmark_admission::gate::Gate;

use crate::Args;
use crate::metrics::Metrics;
use crate::tls::Certificates;

/// The shared state.
pub struct State {
    gate: RwLock<Arc<Gate>>,
    /// The verdict cache, kept across configuration reloads (its keys hold the policy and
    /// trust digests).
    pub cache: Arc<VerdictCache>,
    /// The serving certificate.
    pub certificates: Arc<Certificates>,
    /// False until loaded, and again once draining.
    ready: AtomicBool,
    /// The metrics.
    pub metrics: Metrics,
    /// The configuration file.
    pub config_path: PathBuf,
}

impl State {
    /// Loads the configuration and the certificate; fails when either does not load.
    pub fn load(args: &Args) -> Result<State> {
        let config = Config::load(&args.config, std::time::SystemTime::now())
            .context("loading the configuration")?;
        let certificates = Certificates::load(&args.tls_cert, &args.tls_key)?;
        let cache = Arc::new(VerdictCache::new(config.cache));
        log_config("loaded", &config);
        let gate = Gate::new(Arc::new(config), cache.clone());
        Ok(State {
            gate: RwLock::new(Arc::new(gate)),
            cache,
            certificates: Arc::new(certificates),
            ready: AtomicBool::new(true),
            metrics: Metrics::default(),
            config_path: args.config.clone(),
        })
    }

    /// The gate deciding now.
    pub fn gate(&self) -> Arc<Gate> {
        self.gate
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Serves `config` from now on.
    pub fn swap(&self, config: Config) {
        log_config("reloaded", &config);
        let gate = Arc::new(Gate::new(Arc::new(config), self.cache.clone()));
        *self
            .gate
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = gate;
    }

    /// Ready to take requests.
    pub fn ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    /// Drops readiness (draining).
    pub fn unready(&self) {
        self.ready.store(false, Ordering::SeqCst);
    }
}

fn log_config(what: &str, config: &Config) {
    crate::log::event(
        "info",
        &format!("configuration {what}"),
        &[
            ("path", config.path.display().to_string().into()),
            ("digest", config.digest.clone().into()),
            ("rules", config.rules.len().into()),
            ("deadlineMs", (config.deadline.as_millis() as u64).into()),
        ],
    );
}
