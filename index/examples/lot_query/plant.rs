//! A plant history that grows with the number of attestations asked for: CI builds (compile,
//! link and test step provenance and an SBOM each), approvals, deployments to the assets of eight
//! lines (one in ten a rollback) and production lots, all in proportion, over a span of days
//! that grows with the size. Events are small; statements are made from them a chunk at a time,
//! so a million attestations never sit in memory at once.
//!
//! Proportions for N attestations: N/25 lots, N/100 deployments (an approval before each new
//! release), the rest builds (four attestations each), spread over max(30, N/1000) days. For a
//! million: 40,000 lots, 10,000 deployments (about 156 per asset), 3 years.

use std::time::{Duration, UNIX_EPOCH};

use hallmark_model::approval::{APPROVAL_V1, Approval};
use hallmark_model::deployment::{DEPLOYMENT_V1, Deployment};
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::lot::{LOT_V1, Lot, subject_name};
use hallmark_model::provenance::{SLSA_PROVENANCE_V1, STEP_BUILD_TYPE};
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::statement::Statement;
use hallmark_model::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Lines of the site, assets per line, products.
pub const LINES: usize = 8;
pub const ASSETS_PER_LINE: usize = 8;
pub const PRODUCTS: usize = 16;
/// 2026-01-01T00:00:00Z.
const START: u64 = 1_767_225_600;

/// One event of the history; each becomes one or more statements.
pub enum Event {
    /// A CI build: compile (from a commit), link, test, SBOM.
    Build {
        product: usize,
        n: usize,
        time: u64,
        commit: String,
        src: Digest,
        obj: Digest,
        bin: Digest,
        report: Digest,
    },
    Approval {
        digest: Digest,
        n: usize,
        time: u64,
    },
    Deploy {
        target: String,
        digest: Digest,
        replaces: Option<String>,
        n: usize,
        time: u64,
    },
    Lot {
        n: usize,
        line: String,
        from: u64,
        to: u64,
    },
}

/// What is true of the history: enough to check each backward trace.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Truth {
    /// (target, digest, Unix seconds) in time order.
    pub deployments: Vec<(String, String, u64)>,
    /// (lot, line, from, to) in Unix seconds.
    pub lots: Vec<(String, String, u64, u64)>,
    /// Attestations the events make.
    pub attestations: usize,
}

impl Truth {
    /// (target, digest) of every deployment whose window `[at, next on the target)` meets
    /// `[from, to]` on a target under `line` (boundaries included, as docs/index.md says).
    pub fn running(&self, line: &str, from: u64, to: u64) -> Vec<(String, String)> {
        let prefix = format!("{line}/");
        let mut out = Vec::new();
        for (i, (target, digest, at)) in self.deployments.iter().enumerate() {
            if !target.starts_with(&prefix) || *at > to {
                continue;
            }
            let until = self.deployments[i + 1..]
                .iter()
                .find(|(t, _, _)| t == target)
                .map(|(_, _, at)| *at);
            if until.is_none_or(|u| u >= from) {
                out.push((target.clone(), digest.clone()));
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

/// splitmix64: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn digest(&mut self) -> Digest {
        let hex: String = (0..4).map(|_| format!("{:016x}", self.next())).collect();
        Digest::from_hex(DigestAlgorithm::Sha256, &hex).unwrap()
    }
}

pub fn at(secs: u64) -> Timestamp {
    Timestamp::new(UNIX_EPOCH + Duration::from_secs(secs)).unwrap()
}

/// The events of a history of about `n` attestations, in time order per kind, and its truth.
pub fn events(n: usize, seed: u64) -> (Vec<Event>, Truth) {
    let mut rng = Rng(seed);
    let days = (n as u64 / 1_000).max(30);
    let span = days * 86_400;
    let n_lots = n / 25;
    let n_deployments = n / 100;
    let builds = n.saturating_sub(n_lots + 2 * n_deployments) / 4;
    let mut events = Vec::with_capacity(builds + 2 * n_deployments + n_lots);
    let mut truth = Truth::default();
    // Builds, evenly over the span, products in turn; built[product] = (time, bin).
    let mut built: Vec<Vec<(u64, Digest)>> = vec![Vec::new(); PRODUCTS];
    for b in 0..builds {
        let time = START + (b as u64 * span) / builds.max(1) as u64;
        let product = b % PRODUCTS;
        let bin = rng.digest();
        built[product].push((time, bin.clone()));
        events.push(Event::Build {
            product,
            n: b,
            time,
            commit: format!(
                "{:016x}{:016x}{:08x}",
                rng.next(),
                rng.next(),
                rng.next() as u32
            ),
            src: rng.digest(),
            obj: rng.digest(),
            bin,
            report: rng.digest(),
        });
        truth.attestations += 4;
    }
    // Deployments: an asset gets the newest build of its product at least an hour old, or
    // (one time in ten) goes back to the version before; a new release is approved first.
    let assets: Vec<(String, usize)> = (0..LINES * ASSETS_PER_LINE)
        .map(|i| {
            let (line, asset) = (i / ASSETS_PER_LINE, i % ASSETS_PER_LINE);
            (format!("plant-a/line-{line}/asset-{asset}"), i % PRODUCTS)
        })
        .collect();
    let mut times: Vec<u64> = (0..n_deployments)
        .map(|_| START + 86_400 + rng.below(span - 86_400))
        .collect();
    times.sort_unstable();
    let mut history: Vec<Vec<String>> = vec![Vec::new(); assets.len()];
    let mut approved = std::collections::BTreeSet::new();
    for (k, &time) in times.iter().enumerate() {
        let a = rng.below(assets.len() as u64) as usize;
        let product = assets[a].1;
        let i = built[product].partition_point(|(t, _)| t + 3_600 < time);
        let Some((_, newest)) = i.checked_sub(1).map(|i| &built[product][i]) else {
            continue;
        };
        let h = &history[a];
        let digest = if h.len() >= 2 && rng.below(10) == 0 {
            h[h.len() - 2].parse::<Digest>().unwrap()
        } else {
            newest.clone()
        };
        let replaces = h.last().cloned();
        if replaces.as_deref() == Some(digest.to_string().as_str()) {
            continue;
        }
        if approved.insert(digest.to_string()) {
            events.push(Event::Approval {
                digest: digest.clone(),
                n: k,
                time: time - 1_800,
            });
            truth.attestations += 1;
        }
        truth
            .deployments
            .push((assets[a].0.clone(), digest.to_string(), time));
        history[a].push(digest.to_string());
        events.push(Event::Deploy {
            target: assets[a].0.clone(),
            digest,
            replaces,
            n: k,
            time,
        });
        truth.attestations += 1;
    }
    // Lots: eight hours on one line.
    for k in 0..n_lots {
        let line = format!("plant-a/line-{}", rng.below(LINES as u64));
        let from = START + rng.below(span - 8 * 3_600);
        let to = from + 8 * 3_600;
        truth
            .lots
            .push((format!("L-{k:07}"), line.clone(), from, to));
        events.push(Event::Lot {
            n: k,
            line,
            from,
            to,
        });
        truth.attestations += 1;
    }
    (events, truth)
}

fn step(name: &str, commit: Option<(&str, &str)>, input: (&str, &Digest), time: u64) -> Value {
    let mut deps: Vec<Value> = Vec::new();
    if let Some((repo, commit)) = commit {
        deps.push(
            json!({"uri": format!("git+{repo}@refs/heads/main"), "digest": {"gitCommit": commit}}),
        );
    }
    deps.push(json!({"name": input.0, "digest": {"sha256": input.1.hex()}}));
    json!({
        "buildDefinition": {
            "buildType": STEP_BUILD_TYPE,
            "externalParameters": {"step": name, "command": ["make", name], "env": {}, "workingDirectory": "."},
            "internalParameters": {"ci": {"platform": "local", "selfAsserted": true},
                "commandRecording": "redacted", "exitCode": 0, "sourceDirty": false},
            "resolvedDependencies": deps,
        },
        "runDetails": {
            "builder": {"id": "https://ci.plant.example/runners/build-01"},
            "metadata": {"startedOn": at(time).to_string(), "finishedOn": at(time + 60).to_string()},
        }
    })
}

fn statement(subject: (&str, &Digest), predicate_type: &str, predicate: Value) -> Statement {
    Statement::new(
        vec![ResourceDescriptor::named(subject.0, subject.1.to_set())],
        predicate_type,
        predicate,
    )
    .unwrap()
}

/// The statements of one event.
pub fn statements(event: &Event) -> Vec<Statement> {
    match event {
        Event::Build {
            product,
            n,
            time,
            commit,
            src,
            obj,
            bin,
            report,
        } => {
            let repo = format!("https://git.plant.example/product-{product}");
            let bin_name = format!("product-{product}-{n}.bin");
            let zlib = format!("pkg:generic/zlib@1.3.{}", n % 3);
            vec![
                statement(
                    ("build/app.o", obj),
                    SLSA_PROVENANCE_V1,
                    step("compile", Some((&repo, commit)), ("src.tar", src), *time),
                ),
                statement(
                    (&bin_name, bin),
                    SLSA_PROVENANCE_V1,
                    step("link", None, ("build/app.o", obj), time + 120),
                ),
                statement(
                    ("test-report.xml", report),
                    SLSA_PROVENANCE_V1,
                    step("test", None, (&bin_name, bin), time + 240),
                ),
                statement(
                    (&bin_name, bin),
                    "https://cyclonedx.org/bom",
                    json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
                        "components": [{"type": "library", "name": "zlib",
                            "version": format!("1.3.{}", n % 3), "purl": zlib}]}),
                ),
            ]
        }
        Event::Approval { digest, n, time } => {
            let approval = Approval::new(
                "release tested on the pilot line",
                Some(format!("CHG-{n}")),
                Some("production".into()),
                at(*time),
            )
            .unwrap();
            vec![statement(
                ("release", digest),
                APPROVAL_V1,
                approval.to_value(),
            )]
        }
        Event::Deploy {
            target,
            digest,
            replaces,
            n,
            time,
        } => {
            let record = Deployment {
                target: target.parse().unwrap(),
                environment: Some("production".into()),
                replaces: replaces.clone(),
                lots: Vec::new(),
                work_order: None,
                change: Some(format!("CHG-{n}")),
                deployed_at: at(*time),
            };
            vec![statement(
                ("release", digest),
                DEPLOYMENT_V1,
                record.to_value(),
            )]
        }
        Event::Lot { n, line, from, to } => {
            let id = format!("L-{n:07}");
            let record = Lot {
                lot: id.clone(),
                target: line.parse().unwrap(),
                from: at(*from),
                to: at(*to),
                product: Some("valve-body".into()),
                work_order: Some(format!("WO-{n}")),
            };
            let name = subject_name(&id);
            let digest = Digest::from_bytes(
                DigestAlgorithm::Sha256,
                aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, name.as_bytes()).as_ref(),
            );
            vec![statement((&name, &digest), LOT_V1, record.to_value())]
        }
    }
}
