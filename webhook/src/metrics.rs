//! Prometheus metrics (text format 0.0.4). Every label value comes from a closed set (the
//! endpoint, the decision, the image result, the cache answer, the rule's mode, a known reason
//! code): never from error text, image names or namespaces, so a hostile object cannot blow up
//! the series count.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hallmark_admission::config::Mode;
use hallmark_admission::gate::{ImageResult, Outcome, Reviewed};
use hallmark_admission::response::Endpoint;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The violation codes the verifier's verdicts use (besides `ALL_CODES`' rejection codes).
const VERDICT_CODES: &[&str] = &[
    "attestation.none",
    "attestation.none-verified",
    "chain.truncated",
    "predicate.missing",
    "step.failed",
    "step.missing",
    "vsa.not-accepted",
];

/// A code as a label: itself when it is one of Hallmark's own, else `policy` (a policy rule's
/// code is the policy author's text).
pub fn code_label(code: &str) -> &'static str {
    hallmark_verifier_codes()
        .iter()
        .chain(hallmark_admission::error::ADMISSION_CODES)
        .chain(VERDICT_CODES)
        .find(|c| **c == code)
        .copied()
        .unwrap_or("policy")
}

fn hallmark_verifier_codes() -> &'static [&'static str] {
    hallmark_admission::verifier_codes()
}

#[derive(Default)]
struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.counts[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
    }
}

/// The counters.
#[derive(Default)]
pub struct Metrics {
    /// requests by (endpoint, outcome).
    requests: [[AtomicU64; Outcome::ALL.len()]; 2],
    latency: [Histogram; 2],
    /// images by (result, cache, mode).
    images: Mutex<BTreeMap<(&'static str, &'static str, &'static str), u64>>,
    /// denials and waived failures by code.
    codes: Mutex<BTreeMap<&'static str, u64>>,
    fail_open: AtomicU64,
    /// reloads by (what, ok|error).
    reloads: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    config_ok: AtomicU64,
    in_flight: AtomicU64,
}

fn endpoint_index(e: Endpoint) -> usize {
    match e {
        Endpoint::Validate => 0,
        Endpoint::Mutate => 1,
    }
}

fn mode_label(m: Mode) -> &'static str {
    m.as_str()
}

impl Metrics {
    /// Counts one answered review.
    pub fn record(&self, endpoint: Endpoint, reviewed: &Reviewed, latency: Duration) {
        let e = endpoint_index(endpoint);
        let o = Outcome::ALL
            .iter()
            .position(|o| *o == reviewed.outcome)
            .unwrap_or(0);
        self.requests[e][o].fetch_add(1, Ordering::Relaxed);
        self.latency[e].observe(latency);
        if reviewed.outcome == Outcome::FailedOpen {
            self.fail_open.fetch_add(1, Ordering::Relaxed);
        }
        let mut images = self.images.lock().unwrap_or_else(|p| p.into_inner());
        for i in &reviewed.images {
            let result = match i.result {
                ImageResult::Exempt => "exempt",
                ImageResult::Allowed => "allowed",
                ImageResult::Denied(_) => "denied",
                ImageResult::Failed(_) => "failed",
            };
            let cache = i.cache.map_or("none", |h| h.as_str());
            *images
                .entry((result, cache, mode_label(i.mode)))
                .or_default() += 1;
        }
        drop(images);
        let mut codes = self.codes.lock().unwrap_or_else(|p| p.into_inner());
        for c in reviewed.codes() {
            *codes.entry(code_label(&c)).or_default() += 1;
        }
    }

    /// Counts a reload of `what` (`config`, `certificate`).
    pub fn reload(&self, what: &'static str, ok: bool) {
        let mut reloads = self.reloads.lock().unwrap_or_else(|p| p.into_inner());
        *reloads
            .entry((what, if ok { "ok" } else { "error" }))
            .or_default() += 1;
        if what == "config" {
            self.config_ok.store(u64::from(ok), Ordering::Relaxed);
        }
    }

    /// A request started (`+1`) or ended.
    pub fn in_flight(&self, started: bool) {
        if started {
            self.in_flight.fetch_add(1, Ordering::Relaxed);
        } else {
            self.in_flight.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Marks the configuration loaded at start.
    pub fn config_loaded(&self) {
        self.config_ok.store(1, Ordering::Relaxed);
    }

    /// The text exposition.
    pub fn render(&self, cache_entries: usize, ready: bool) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP hallmark_webhook_requests_total Admission reviews answered, by endpoint and decision.\n# TYPE hallmark_webhook_requests_total counter"
        );
        for (e, endpoint) in ["validate", "mutate"].iter().enumerate() {
            for (o, outcome) in Outcome::ALL.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "hallmark_webhook_requests_total{{endpoint=\"{endpoint}\",decision=\"{}\"}} {}",
                    outcome.as_str(),
                    self.requests[e][o].load(Ordering::Relaxed)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP hallmark_webhook_request_duration_seconds Time from request to answer.\n# TYPE hallmark_webhook_request_duration_seconds histogram"
        );
        for (e, endpoint) in ["validate", "mutate"].iter().enumerate() {
            let h = &self.latency[e];
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "hallmark_webhook_request_duration_seconds_bucket{{endpoint=\"{endpoint}\",le=\"{b}\"}} {}",
                    h.counts[i].load(Ordering::Relaxed)
                );
            }
            let count = h.count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "hallmark_webhook_request_duration_seconds_bucket{{endpoint=\"{endpoint}\",le=\"+Inf\"}} {count}\nhallmark_webhook_request_duration_seconds_sum{{endpoint=\"{endpoint}\"}} {}\nhallmark_webhook_request_duration_seconds_count{{endpoint=\"{endpoint}\"}} {count}",
                h.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
            );
        }
        let _ = writeln!(
            out,
            "# HELP hallmark_webhook_images_total Images judged, by result, cache answer and rule mode.\n# TYPE hallmark_webhook_images_total counter"
        );
        for ((result, cache, mode), n) in
            self.images.lock().unwrap_or_else(|p| p.into_inner()).iter()
        {
            let _ = writeln!(
                out,
                "hallmark_webhook_images_total{{result=\"{result}\",cache=\"{cache}\",mode=\"{mode}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP hallmark_webhook_reasons_total Reason codes of denied, warned, audited or undecided images.\n# TYPE hallmark_webhook_reasons_total counter"
        );
        for (code, n) in self.codes.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(out, "hallmark_webhook_reasons_total{{code=\"{code}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP hallmark_webhook_fail_open_total Reviews allowed because a failOpen rule let an undecided image through.\n# TYPE hallmark_webhook_fail_open_total counter\nhallmark_webhook_fail_open_total {}",
            self.fail_open.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP hallmark_webhook_reloads_total Configuration and certificate reloads, by result.\n# TYPE hallmark_webhook_reloads_total counter"
        );
        for ((what, result), n) in self
            .reloads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "hallmark_webhook_reloads_total{{what=\"{what}\",result=\"{result}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP hallmark_webhook_config_last_reload_ok 1 when the last configuration read loaded, 0 when it was refused (the previous one serves).\n# TYPE hallmark_webhook_config_last_reload_ok gauge\nhallmark_webhook_config_last_reload_ok {}",
            self.config_ok.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP hallmark_webhook_cache_entries Verdicts in the cache.\n# TYPE hallmark_webhook_cache_entries gauge\nhallmark_webhook_cache_entries {cache_entries}"
        );
        let _ = writeln!(
            out,
            "# HELP hallmark_webhook_in_flight Reviews being decided.\n# TYPE hallmark_webhook_in_flight gauge\nhallmark_webhook_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP hallmark_webhook_ready 1 when ready for requests.\n# TYPE hallmark_webhook_ready gauge\nhallmark_webhook_ready {}",
            u64::from(ready)
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_from_closed_sets() {
        assert_eq!(code_label("attestation.none"), "attestation.none");
        assert_eq!(code_label("dsse.signature"), "dsse.signature");
        assert_eq!(code_label("admission.registry"), "admission.registry");
        assert_eq!(code_label("my.policy.rule\"} 1\nevil"), "policy");
    }
}
