//! Re-reads the configuration and the certificate when their files change. Changes are found by
//! polling file metadata (inode, size, modification time), which also sees Kubernetes' atomic
//! symlink swap of a mounted ConfigMap or Secret; a file that appears changed is loaded and
//! checked in full before it replaces what serves.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hallmark_admission::config::Config;
use serde_json::json;

use crate::log;
use crate::state::State;
use crate::tls;

/// Most files looked at under one directory (a policy directory).
const MAX_FILES: usize = 1000;

fn walk(path: &Path, hasher: &mut DefaultHasher, budget: &mut usize) {
    if *budget == 0 {
        return;
    }
    *budget -= 1;
    path.hash(hasher);
    match std::fs::metadata(path) {
        Ok(m) => {
            (m.ino(), m.dev(), m.len(), m.mtime(), m.mtime_nsec()).hash(hasher);
            if m.is_dir()
                && let Ok(entries) = std::fs::read_dir(path)
            {
                let mut names: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
                names.sort();
                for p in names {
                    walk(&p, hasher, budget);
                }
            }
        }
        Err(e) => e.kind().hash(hasher),
    }
}

/// A fingerprint of the files' metadata.
pub fn fingerprint(paths: &[PathBuf]) -> u64 {
    let mut hasher = DefaultHasher::new();
    let mut budget = MAX_FILES;
    for p in paths {
        walk(p, &mut hasher, &mut budget);
    }
    hasher.finish()
}

/// The files a configuration was made from.
fn config_inputs(state: &State) -> Vec<PathBuf> {
    let mut inputs = vec![state.config_path.clone()];
    inputs.extend(state.gate().config().inputs.iter().cloned());
    inputs
}

/// Polls every `interval` until the process ends.
pub async fn run(state: Arc<State>, cert: PathBuf, key: PathBuf, interval: Duration) {
    let cert_files = vec![cert.clone(), key.clone()];
    let mut config_seen = fingerprint(&config_inputs(&state));
    let mut cert_seen = fingerprint(&cert_files);
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let now = fingerprint(&config_inputs(&state));
        if now != config_seen {
            config_seen = now;
            let path = state.config_path.clone();
            let loaded = tokio::task::spawn_blocking(move || {
                Config::load(&path, std::time::SystemTime::now())
            })
            .await;
            // A series of revocation lists never goes back: an older list than the one serving
            // is refused like any other bad configuration.
            let serving = state.gate().config().revocations.sequences();
            let loaded = loaded.map(|r| {
                r.and_then(|config| match config.revocations.check_rollback(&serving) {
                    Ok(()) => Ok(config),
                    Err(e) => Err(hallmark_admission::Error::Config {
                        path: config.path.display().to_string(),
                        message: format!("{}: {e}", e.code()),
                    }),
                })
            });
            match loaded {
                Ok(Ok(config)) => {
                    state.swap(config);
                    state.metrics.reload("config", true);
                    // The new configuration may name other files.
                    config_seen = fingerprint(&config_inputs(&state));
                }
                Ok(Err(e)) => {
                    state.metrics.reload("config", false);
                    log::event(
                        "error",
                        "configuration refused; the previous one keeps serving",
                        &[("code", json!(e.code())), ("error", json!(e.to_string()))],
                    );
                }
                Err(e) => log::event(
                    "error",
                    "configuration reload failed",
                    &[("error", json!(e.to_string()))],
                ),
            }
        }
        let now = fingerprint(&cert_files);
        if now != cert_seen {
            cert_seen = now;
            match tls::certified_key(&cert, &key) {
                Ok(k) => {
                    state.certificates.swap(k);
                    state.metrics.reload("certificate", true);
                    log::event(
                        "info",
                        "certificate reloaded",
                        &[("path", json!(cert.display().to_string()))],
                    );
                }
                Err(e) => {
                    state.metrics.reload("certificate", false);
                    log::event(
                        "error",
                        "certificate refused; the previous one keeps serving",
                        &[("error", json!(format!("{e:#}")))],
                    );
                }
            }
        }
    }
}
