//! A small generated plant history: two products with two releases each (compile and package
//! steps from a commit, an SBOM, an approval), three lines with four assets, deployments
//! including a rollback, and lots every four hours. The generator keeps what it made, so the
//! tests can work out the true answers without the index.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hallmark_attester::keys::SigningKey;
use hallmark_attester::signer::{KeySigner, Signer};
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::keyid::KeyKind;
use hallmark_model::lot::{LOT_V1, subject_name};
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::statement::Statement;
use hallmark_model::time::Timestamp;
use hallmark_verifier::keys::TrustedKey;
use hallmark_verifier::verdict::Requirements;
use serde_json::{Value, json};

/// The plant's start: 2026-11-01T00:00:00Z.
pub const T0: u64 = 1_793_491_200;

pub fn hour(h: u64) -> Timestamp {
    Timestamp::new(UNIX_EPOCH + Duration::from_secs(T0 + h * 3600)).unwrap()
}

pub fn sha256(text: &str) -> String {
    Digest::from_bytes(
        DigestAlgorithm::Sha256,
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes()).as_ref(),
    )
    .to_string()
}

fn descriptor(name: &str, digest: &str) -> ResourceDescriptor {
    let d: Digest = digest.parse().unwrap();
    ResourceDescriptor::named(name, d.to_set())
}

#[derive(Debug, Clone)]
pub struct Release {
    pub product: &'static str,
    pub version: &'static str,
    pub commit: String,
    pub source: String,
    pub binary: String,
    pub package: String,
    pub purls: Vec<&'static str>,
}

#[derive(Debug, Clone)]
pub struct Deploy {
    pub target: &'static str,
    pub artifact: String,
    pub at: Timestamp,
    pub replaces: Option<String>,
}

#[derive(Debug, Clone)]
pub struct LotSpec {
    pub id: String,
    pub line: &'static str,
    pub from: Timestamp,
    pub to: Timestamp,
}

pub struct Plant {
    pub releases: Vec<Release>,
    pub deploys: Vec<Deploy>,
    pub lots: Vec<LotSpec>,
    /// Signed bundles, all by the trusted key.
    pub bundles: Vec<Vec<u8>>,
    /// Bundles that must never be ingested: one signed by a stranger, one tampered.
    pub bad: Vec<Vec<u8>>,
    /// The lot id only the tampered bundle records.
    pub tampered_lot: String,
    trusted: TrustedKey,
}

pub const LINES: [&str; 3] = ["plant-a/line-1", "plant-a/line-2", "plant-a/line-3"];

fn release(product: &'static str, version: &'static str, purls: Vec<&'static str>) -> Release {
    let commit = hallmark_model::hex::encode(
        aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
            format!("{product}-{version}").as_bytes(),
        )
        .as_ref(),
    );
    Release {
        product,
        version,
        source: sha256(&format!("{product}-{version}/main.c")),
        binary: sha256(&format!("{product}-{version}/bin")),
        package: sha256(&format!("{product}-{version}/pkg.tar")),
        commit,
        purls,
    }
}

fn provenance(
    step: &str,
    commit: Option<&str>,
    product: &str,
    materials: &[(&str, &str)],
) -> Value {
    let mut deps: Vec<Value> = materials
        .iter()
        .map(|(name, d)| serde_json::to_value(descriptor(name, d)).unwrap())
        .collect();
    if let Some(c) = commit {
        deps.insert(
            0,
            json!({"uri": format!("git+https://git.example/{product}@refs/heads/main"),
                   "digest": {"gitCommit": c}}),
        );
    }
    json!({
        "buildDefinition": {
            "buildType": hallmark_model::provenance::STEP_BUILD_TYPE,
            "externalParameters": {"step": step},
            "internalParameters": {"exitCode": 0, "sourceDirty": false},
            "resolvedDependencies": deps,
        },
        "runDetails": {
            "builder": {"id": format!("https://ci.example/runner/{step}")},
            "metadata": {"finishedOn": "2026-10-30T12:00:00Z"},
        },
    })
}

impl Plant {
    pub fn generate() -> Plant {
        let key = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
        let trusted = TrustedKey::from_pem(key.public_key_pem().as_bytes(), "plant.pub").unwrap();
        let signer = KeySigner::new(key);
        let sign = |subjects: Vec<ResourceDescriptor>, t: &str, p: Value| {
            signer
                .sign_statement(&Statement::new(subjects, t, p).unwrap())
                .unwrap()
                .to_json()
        };
        let releases = vec![
            release(
                "valve",
                "1.0",
                vec!["pkg:npm/lodash@4.17.20", "pkg:cargo/serde@1.0.100"],
            ),
            release(
                "valve",
                "1.1",
                vec!["pkg:npm/lodash@4.17.21", "pkg:cargo/serde@1.0.100"],
            ),
            release("pump", "2.0", vec!["pkg:npm/lodash@4.17.20"]),
            release("pump", "2.1", vec![]),
        ];
        let mut bundles = Vec::new();
        for r in &releases {
            let bin = format!("{}-{}/bin", r.product, r.version);
            let pkg = format!("{}-{}.tar", r.product, r.version);
            bundles.push(sign(
                vec![descriptor(&bin, &r.binary)],
                hallmark_model::provenance::SLSA_PROVENANCE_V1,
                provenance(
                    "compile",
                    Some(&r.commit),
                    r.product,
                    &[("main.c", &r.source)],
                ),
            ));
            bundles.push(sign(
                vec![descriptor(&pkg, &r.package)],
                hallmark_model::provenance::SLSA_PROVENANCE_V1,
                provenance("package", None, r.product, &[(&bin, &r.binary)]),
            ));
            let components: Vec<Value> = r
                .purls
                .iter()
                .map(|p| {
                    let name = p.rsplit('/').next().unwrap().split('@').next().unwrap();
                    json!({"type": "library", "name": name, "purl": p})
                })
                .collect();
            bundles.push(sign(
                vec![descriptor(&pkg, &r.package)],
                "https://cyclonedx.org/bom",
                json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": components}),
            ));
            bundles.push(sign(
                vec![descriptor(&pkg, &r.package)],
                hallmark_model::approval::APPROVAL_V1,
                json!({"reason": format!("release {} {}", r.product, r.version),
                       "ticket": format!("CHG-{}{}", r.product, r.version),
                       "environment": "production", "approvedAt": "2026-10-31T08:00:00Z"}),
            ));
        }
        let pkg = |i: usize| releases[i].package.clone();
        // (target, release, hour): line-1 rolls back from valve 1.1 to 1.0.
        let plan: [(&str, usize, u64); 8] = [
            ("plant-a/line-1/hmi", 0, 0),
            ("plant-a/line-1/hmi", 1, 10),
            ("plant-a/line-1/hmi", 0, 20),
            ("plant-a/line-2/hmi", 2, 0),
            ("plant-a/line-2/hmi", 3, 15),
            ("plant-a/line-3/hmi", 1, 5),
            ("plant-a/line-3/plc", 2, 2),
            ("plant-a/line-3/plc", 3, 16),
        ];
        let mut deploys: Vec<Deploy> = Vec::new();
        for (target, i, h) in plan {
            let replaces = deploys
                .iter()
                .rfind(|d| d.target == target)
                .map(|d| d.artifact.clone());
            let at = hour(h);
            let mut predicate = json!({"target": target, "environment": "production",
                "replaces": replaces, "deployedAt": at.to_string(),
                "change": format!("CHG-deploy-{h}")});
            if h == 0 {
                predicate["lots"] = json!(["L-planned"]);
            }
            bundles.push(sign(
                vec![descriptor(&format!("{}.tar", releases[i].product), &pkg(i))],
                hallmark_model::deployment::DEPLOYMENT_V1,
                predicate,
            ));
            deploys.push(Deploy {
                target,
                artifact: pkg(i),
                at,
                replaces,
            });
        }
        let mut lots = Vec::new();
        for line in LINES {
            for k in 0..7u64 {
                lots.push(LotSpec {
                    id: format!("L-{}-{k}", line.rsplit('/').next().unwrap()),
                    line,
                    from: hour(4 * k + 1),
                    to: hour(4 * k + 3),
                });
            }
        }
        // Ends the instant valve 1.1 replaces 1.0 on line 1: both count (boundaries included).
        lots.push(LotSpec {
            id: "L-edge".into(),
            line: "plant-a/line-1",
            from: hour(6),
            to: hour(10),
        });
        let lot_bundle = |l: &LotSpec, s: &KeySigner| {
            let name = subject_name(&l.id);
            let statement = Statement::new(
                vec![descriptor(&name, &sha256(&name))],
                LOT_V1,
                json!({"lot": l.id, "target": l.line, "from": l.from.to_string(),
                       "to": l.to.to_string(), "product": "valve-body"}),
            )
            .unwrap();
            s.sign_statement(&statement).unwrap()
        };
        for l in &lots {
            bundles.push(lot_bundle(l, &signer).to_json());
        }
        // Never to be ingested: a deployment signed by a stranger, and a lot record tampered
        // after signing.
        let stranger = KeySigner::new(SigningKey::generate(KeyKind::EcdsaP256).unwrap());
        let forged = stranger
            .sign_statement(
                &Statement::new(
                    vec![descriptor("pump.tar", &pkg(3))],
                    hallmark_model::deployment::DEPLOYMENT_V1,
                    json!({"target": "plant-a/line-1/hmi", "deployedAt": hour(25).to_string()}),
                )
                .unwrap(),
            )
            .unwrap()
            .to_json();
        let tampered_lot = "L-tampered".to_owned();
        let mut tampered = lot_bundle(
            &LotSpec {
                id: "L-tamper".into(),
                line: "plant-a/line-2",
                from: hour(1),
                to: hour(2),
            },
            &signer,
        );
        let env = tampered.dsse_envelope.as_mut().unwrap();
        env.payload = String::from_utf8(env.payload.clone())
            .unwrap()
            .replace("L-tamper", &tampered_lot)
            .into_bytes();
        Plant {
            releases,
            deploys,
            lots,
            bundles,
            bad: vec![forged, tampered.to_json()],
            tampered_lot,
            trusted,
        }
    }

    /// Requirements that trust the plant's key.
    pub fn requirements(&self) -> Requirements {
        Requirements {
            keys: vec![self.trusted.clone()],
            ..Requirements::at(SystemTime::now())
        }
    }

    /// Each deployment's window end: the next deployment on its target.
    pub fn until(&self, d: &Deploy) -> Option<Timestamp> {
        self.deploys
            .iter()
            .filter(|o| o.target == d.target && o.at > d.at)
            .map(|o| o.at)
            .min()
    }

    /// The truth of the documented rule: a lot on a line overlaps a deployment on an asset of
    /// that line when `[deployedAt, until]` and `[from, to]` meet (boundaries included).
    pub fn overlaps(&self, d: &Deploy, l: &LotSpec) -> bool {
        d.target.starts_with(&format!("{}/", l.line))
            && d.at <= l.to
            && self.until(d).is_none_or(|u| u >= l.from)
    }
}
