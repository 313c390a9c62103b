//! A generated plant history: products built in CI (step provenance and SBOMs), releases
//! approved and deployed to the assets of several lines (with rollbacks), and production lots,
//! all signed with one key and written to a local store. Deterministic for a seed, and it
//! returns what it knows to be true, so queries over the evidence index can be checked.
//!
//! Shared by the `plant_history` example (benchmarks, walkthroughs) and the CLI's tests.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use hallmark_attester::keys::SigningKey;
use hallmark_attester::signer::{KeySigner, Signer};
use hallmark_model::approval::{APPROVAL_V1, Approval};
use hallmark_model::deployment::{DEPLOYMENT_V1, Deployment};
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::keyid::KeyKind;
use hallmark_model::lot::{LOT_V1, Lot, subject_name};
use hallmark_model::provenance::{SLSA_PROVENANCE_V1, STEP_BUILD_TYPE};
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::statement::Statement;
use hallmark_model::time::Timestamp;
use hallmark_remote::layout::{Attestation, LayoutStore, Subject};
use hallmark_remote::oci::{ANNOTATION_PREDICATE_TYPE, FILE_MEDIA_TYPE};
use serde::Serialize;
use serde_json::{Value, json};

/// The size of the history.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Products (each asset runs one).
    pub products: usize,
    /// Lines of the site.
    pub lines: usize,
    /// Assets per line.
    pub assets_per_line: usize,
    /// Production lots.
    pub lots: usize,
    /// Deployments (about one in ten a rollback).
    pub deployments: usize,
    /// Attestations in all (CI builds fill what deployments, approvals and lots leave).
    pub attestations: usize,
    /// The seed: the same spec and seed give the same history, keys aside.
    pub seed: u64,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            products: 4,
            lines: 3,
            assets_per_line: 3,
            lots: 50,
            deployments: 200,
            attestations: 10_000,
            seed: 7,
        }
    }
}

/// What the generator knows to be true.
#[derive(Debug, Clone, Serialize)]
pub struct Truth {
    /// The builds that were released (deployed at least once).
    pub releases: Vec<Release>,
    /// Every deployment, in time order.
    pub deployments: Vec<Deployed>,
    /// Every lot, with what ran on its line while it was made.
    pub lots: Vec<LotTruth>,
    /// How many attestations were written.
    pub attestations: usize,
}

/// A released build.
#[derive(Debug, Clone, Serialize)]
pub struct Release {
    /// The product.
    pub product: String,
    /// The artifact's digest.
    pub digest: String,
    /// The source commit it was built from.
    pub commit: String,
    /// The digest of the intermediate the `link` step consumed.
    pub object: String,
}

/// One deployment.
#[derive(Debug, Clone, Serialize)]
pub struct Deployed {
    /// The asset.
    pub target: String,
    /// What was deployed.
    pub digest: String,
    /// What it replaced.
    pub replaces: Option<String>,
    /// When.
    pub at: Timestamp,
    /// True when it went back to an earlier version.
    pub rollback: bool,
}

/// One lot and the software that ran on its line while it was made.
#[derive(Debug, Clone, Serialize)]
pub struct LotTruth {
    /// Its id.
    pub lot: String,
    /// Its line.
    pub line: String,
    /// Its window.
    pub from: Timestamp,
    /// Its window's end.
    pub to: Timestamp,
    /// (asset, digest) pairs in service at some time in the window, sorted.
    pub running: Vec<(String, String)>,
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

    fn hex(&mut self, bytes: usize) -> String {
        (0..bytes)
            .map(|_| format!("{:02x}", self.next() as u8))
            .collect()
    }
}

/// Start of the history: 2026-09-01T00:00:00Z; it spans 100 days.
const START: u64 = 1_788_220_800;
const DAYS: u64 = 100;

fn at(secs: u64) -> Timestamp {
    Timestamp::new(UNIX_EPOCH + Duration::from_secs(secs)).unwrap_or_else(|_| unreachable!())
}

/// A signed bundle waiting to be stored: bytes, subjects, manifest annotations.
type Pending = (Vec<u8>, Vec<Subject>, BTreeMap<String, String>);

struct Writer<'a> {
    signer: KeySigner,
    pending: Vec<Pending>,
    store: &'a LayoutStore,
    written: usize,
}

impl Writer<'_> {
    fn sign(&mut self, subjects: Vec<(String, Digest)>, predicate_type: &str, predicate: Value) {
        let descriptors = subjects
            .iter()
            .map(|(name, d)| ResourceDescriptor::named(name.clone(), d.to_set()))
            .collect();
        let statement = Statement::new(descriptors, predicate_type, predicate)
            .unwrap_or_else(|e| panic!("generated statement: {e}"));
        let bundle = self
            .signer
            .sign_statement(&statement)
            .unwrap_or_else(|e| panic!("signing: {e}"));
        let subjects = subjects
            .into_iter()
            .map(|(_, digest)| Subject {
                digest,
                size: 0,
                media_type: FILE_MEDIA_TYPE.to_owned(),
            })
            .collect();
        let annotations = BTreeMap::from([(
            ANNOTATION_PREDICATE_TYPE.to_owned(),
            predicate_type.to_owned(),
        )]);
        self.pending.push((bundle.to_json(), subjects, annotations));
        if self.pending.len() >= 5_000 {
            self.flush();
        }
    }

    fn flush(&mut self) {
        let batch: Vec<Attestation<'_>> = self
            .pending
            .iter()
            .map(|(bundle, subjects, annotations)| Attestation {
                bundle,
                subjects,
                annotations,
            })
            .collect();
        self.store
            .put_all(&batch)
            .unwrap_or_else(|e| panic!("storing: {e}"));
        self.written += batch.len();
        self.pending.clear();
    }
}

/// A made-up file digest (the history has no files).
fn random_digest(rng: &mut Rng) -> Digest {
    Digest::from_hex(DigestAlgorithm::Sha256, &rng.hex(32)).unwrap_or_else(|_| unreachable!())
}

fn step(name: &str, commit: Option<(&str, &str)>, inputs: &[(String, Digest)], time: u64) -> Value {
    let mut deps: Vec<Value> = Vec::new();
    if let Some((repo, commit)) = commit {
        deps.push(
            json!({"uri": format!("git+{repo}@refs/heads/main"), "digest": {"gitCommit": commit}}),
        );
    }
    for (n, d) in inputs {
        deps.push(json!({"name": n, "digest": {"sha256": d.hex()}}));
    }
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

/// Writes the history into `store`, signed with a new ECDSA P-256 key; returns that key's
/// public key (PEM) and what is true of the history.
pub fn generate(store: &LayoutStore, spec: &Spec) -> (String, Truth) {
    let key = SigningKey::generate(KeyKind::EcdsaP256).unwrap_or_else(|e| panic!("key: {e}"));
    let mut w = Writer {
        signer: KeySigner::new(key),
        pending: Vec::new(),
        store,
        written: 0,
    };
    let mut rng = Rng(spec.seed);
    let products: Vec<String> = (0..spec.products).map(|p| format!("product-{p}")).collect();
    let assets: Vec<(String, usize)> = (0..spec.lines)
        .flat_map(|l| (0..spec.assets_per_line).map(move |a| (l, a)))
        .map(|(l, a)| {
            let product = (l * spec.assets_per_line + a) % spec.products.max(1);
            (format!("plant-a/line-{l}/asset-{a}"), product)
        })
        .collect();
    // Deployment times first: builds are spread before them.
    let mut times: Vec<u64> = (0..spec.deployments)
        .map(|_| START + 86_400 + rng.below((DAYS - 2) * 86_400))
        .collect();
    times.sort_unstable();
    let fixed = spec.deployments * 2 + spec.lots;
    let builds = spec.attestations.saturating_sub(fixed) / 4;
    // Each build: compile (source → object), link (object → artifact), test (artifact →
    // report), SBOM (artifact).
    let mut built: Vec<Vec<(u64, Release)>> = vec![Vec::new(); spec.products];
    for b in 0..builds {
        let product = b % spec.products.max(1);
        let name = &products[product];
        let time = START + (b as u64 * DAYS * 86_400) / builds.max(1) as u64;
        let commit = rng.hex(20);
        let repo = format!("https://git.example/plant/{name}");
        let src = random_digest(&mut rng);
        let obj = random_digest(&mut rng);
        let bin = random_digest(&mut rng);
        let report = random_digest(&mut rng);
        let bin_name = format!("{name}-{b}.bin");
        w.sign(
            vec![("build/app.o".into(), obj.clone())],
            SLSA_PROVENANCE_V1,
            step(
                "compile",
                Some((&repo, &commit)),
                &[("src.tar".into(), src)],
                time,
            ),
        );
        w.sign(
            vec![(bin_name.clone(), bin.clone())],
            SLSA_PROVENANCE_V1,
            step(
                "link",
                None,
                &[("build/app.o".into(), obj.clone())],
                time + 120,
            ),
        );
        w.sign(
            vec![("test-report.xml".into(), report)],
            SLSA_PROVENANCE_V1,
            step("test", None, &[(bin_name.clone(), bin.clone())], time + 240),
        );
        let zlib = format!("pkg:generic/zlib@1.3.{}", b % 3);
        w.sign(
            vec![(bin_name, bin.clone())],
            "https://cyclonedx.org/bom",
            json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
                "components": [{"type": "library", "name": "zlib", "version": format!("1.3.{}", b % 3), "purl": zlib}]}),
        );
        built[product].push((
            time,
            Release {
                product: name.clone(),
                digest: bin.to_string(),
                commit,
                object: obj.to_string(),
            },
        ));
    }
    // Deployments: an asset gets the newest build of its product, or (one time in ten) goes
    // back to the version before; each new release is approved for production an hour before.
    let mut current: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut approved: BTreeMap<String, ()> = BTreeMap::new();
    let mut releases: BTreeMap<String, Release> = BTreeMap::new();
    let mut deployments = Vec::new();
    for (n, &time) in times.iter().enumerate() {
        let (target, product) = &assets[rng.below(assets.len() as u64) as usize];
        let history = current.entry(target.clone()).or_default();
        let newest = built[*product]
            .iter()
            .rev()
            .find(|(t, _)| *t + 3_600 < time);
        let Some((_, newest)) = newest else { continue };
        let rollback = history.len() >= 2 && rng.below(10) == 0;
        let digest = if rollback {
            history[history.len() - 2].clone()
        } else {
            newest.digest.clone()
        };
        if !rollback {
            releases
                .entry(digest.clone())
                .or_insert_with(|| newest.clone());
        }
        let replaces = history.last().cloned();
        if replaces.as_deref() == Some(digest.as_str()) {
            continue;
        }
        let d: Digest = digest.parse().unwrap_or_else(|_| unreachable!());
        if approved.insert(digest.clone(), ()).is_none() {
            let approval = Approval::new(
                "release tested on the pilot line",
                Some(format!("CHG-{n}")),
                Some("production".into()),
                at(time - 3_600),
            )
            .unwrap_or_else(|e| panic!("{e}"));
            w.sign(
                vec![("release".into(), d.clone())],
                APPROVAL_V1,
                approval.to_value(),
            );
        }
        let record = Deployment {
            target: target.parse().unwrap_or_else(|e| panic!("{e}")),
            environment: Some("production".into()),
            replaces: replaces.clone(),
            lots: Vec::new(),
            work_order: None,
            change: Some(format!("CHG-{n}")),
            deployed_at: at(time),
        };
        w.sign(
            vec![("release".into(), d)],
            DEPLOYMENT_V1,
            record.to_value(),
        );
        history.push(digest.clone());
        deployments.push(Deployed {
            target: target.clone(),
            digest,
            replaces,
            at: at(time),
            rollback,
        });
    }
    // Lots: eight hours on one line, somewhere in the hundred days.
    let mut lots = Vec::new();
    for n in 0..spec.lots {
        let line = format!("plant-a/line-{}", rng.below(spec.lines as u64));
        let from = START + rng.below((DAYS - 1) * 86_400);
        let to = from + 8 * 3_600;
        let id = format!("L-{n:04}");
        let record = Lot {
            lot: id.clone(),
            target: line.parse().unwrap_or_else(|e| panic!("{e}")),
            from: at(from),
            to: at(to),
            product: Some("valve-body".into()),
            work_order: Some(format!("WO-{n}")),
        };
        let name = subject_name(&id);
        let digest = hallmark_attester::hashing::sha256(name.as_bytes());
        w.sign(vec![(name, digest)], LOT_V1, record.to_value());
        let mut running: Vec<(String, String)> = deployments
            .iter()
            .enumerate()
            .filter(|(_, d)| d.target.starts_with(&format!("{line}/")))
            .filter(|(i, d)| {
                let until = deployments[i + 1..]
                    .iter()
                    .find(|next| next.target == d.target)
                    .map(|next| next.at);
                d.at <= at(to) && until.is_none_or(|u| u > at(from))
            })
            .map(|(_, d)| (d.target.clone(), d.digest.clone()))
            .collect();
        running.sort();
        running.dedup();
        lots.push(LotTruth {
            lot: id,
            line,
            from: at(from),
            to: at(to),
            running,
        });
    }
    w.flush();
    let truth = Truth {
        releases: releases.into_values().collect(),
        deployments,
        lots,
        attestations: w.written,
    };
    (w.signer.key().public_key_pem(), truth)
}
