//! `hallmark admission REVIEW.json`: decides one AdmissionReview the way `hallmark-webhook`
//! would (the same `hallmark_admission` call, the same configuration file), to debug a denial.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use anyhow::{Context, Result};
use hallmark_admission::cache::VerdictCache;
use hallmark_admission::config::Config;
use hallmark_admission::gate::{Gate, ImageResult};
use hallmark_admission::response::{self, Endpoint};
use hallmark_admission::review::MAX_REVIEW_BYTES;
use hallmark_model::text::printable;

use crate::Outcome;

/// Which answer to print.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum EndpointArg {
    /// `/validate`: allowed or denied.
    Validate,
    /// `/mutate`: the same, with the JSONPatch pinning verified images to their digests.
    Mutate,
}

/// Arguments of `hallmark admission`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  hallmark admission review.json --config /etc/hallmark/config.yaml\n  \
kubectl create deployment app --image=r.example/app:v1 --dry-run=client -o json | jq '{apiVersion:\"admission.k8s.io/v1\",kind:\"AdmissionReview\",request:{uid:\"1\",kind:{group:\"apps\",version:\"v1\",kind:\"Deployment\"},namespace:\"default\",operation:\"CREATE\",object:.}}' | hallmark admission - --config config.yaml\n\n\
Prints the AdmissionReview answer on stdout and each image's fate on stderr.\n\
Exit codes: 0 allowed, 1 denied, 2 error."
)]
pub struct Args {
    /// The AdmissionReview (admission.k8s.io/v1) file, or - for stdin.
    #[arg(value_name = "REVIEW")]
    pub review: PathBuf,
    /// The webhook's configuration file (docs/webhook.md).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Answer as this endpoint.
    #[arg(long, value_enum, default_value = "validate")]
    pub endpoint: EndpointArg,
}

fn read_review(path: &PathBuf) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let limit = MAX_REVIEW_BYTES as u64 + 1;
    if path.as_os_str() == "-" {
        std::io::stdin().take(limit).read_to_end(&mut bytes)?;
    } else {
        std::fs::File::open(path)
            .with_context(|| format!("opening {}", path.display()))?
            .take(limit)
            .read_to_end(&mut bytes)?;
    }
    Ok(bytes)
}

/// Runs `hallmark admission`.
pub fn run(args: Args) -> Result<Outcome> {
    let config = Config::load(&args.config, std::time::SystemTime::now())?;
    let body = read_review(&args.review)?;
    let cache = Arc::new(VerdictCache::new(config.cache));
    let gate = Gate::new(Arc::new(config), cache);
    let reviewed = gate.review_body(&body, SystemTime::now(), Instant::now());
    for image in &reviewed.images {
        let fate = match &image.result {
            ImageResult::Exempt => "exempt".to_owned(),
            ImageResult::Allowed => "allowed".to_owned(),
            ImageResult::Denied(j) => format!("denied: {}: {}", j.codes.join(","), j.message),
            ImageResult::Failed(f) => format!("undecided: {}: {}", f.code, f.message),
        };
        eprintln!(
            "hallmark: {} {} (rule {}, {}): {}",
            printable(&image.image),
            image.digest.as_deref().unwrap_or("-"),
            image.rule.as_deref().unwrap_or("-"),
            image.mode.as_str(),
            printable(&fate)
        );
    }
    for w in &reviewed.warnings {
        eprintln!("hallmark: warning: {}", printable(w));
    }
    let endpoint = match args.endpoint {
        EndpointArg::Validate => Endpoint::Validate,
        EndpointArg::Mutate => Endpoint::Mutate,
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&response::review(&reviewed, endpoint))?
    );
    Ok(if reviewed.allowed() {
        Outcome::Success
    } else {
        Outcome::Denied
    })
}
