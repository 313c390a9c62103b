//! What is installed or running, as (what, digest) pairs: a directory tree hashed as
//! `hallmark run` hashes products, a list of digests (`sha256sum` output or `sha256:HEX NAME`
//! lines), or the images of Kubernetes pods (`kubectl get pods -A -o json`).

use std::path::Path;

use anyhow::{Context, Result, bail};
use hallmark_attester::hashing::{HashOptions, hash_paths};
use hallmark_model::digest::{Digest, DigestAlgorithm};
use serde_json::Value;

/// Largest digest list or pod list read, in bytes.
pub const MAX_LIST_BYTES: u64 = 64 << 20;

/// One installed file, listed digest or running container image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// What it is: a path under the audited directory, a listed name, or
    /// `NAMESPACE/POD/CONTAINER`.
    pub what: String,
    /// Its digest.
    pub digest: Digest,
}

/// Every file under `root`, named relative to it.
pub fn from_dir(root: &Path, options: &HashOptions) -> Result<Vec<Observed>> {
    let root = root
        .canonicalize()
        .with_context(|| format!("{} does not exist", root.display()))?;
    let files = hash_paths(&root, std::slice::from_ref(&root), options)
        .with_context(|| format!("hashing {}", root.display()))?;
    Ok(files
        .into_iter()
        .map(|f| Observed {
            digest: f.digest.sha256(),
            what: f.name,
        })
        .collect())
}

/// A digest list: `sha256sum` lines (`HEX  NAME`, `HEX *NAME`) or `ALGORITHM:HEX [NAME]`;
/// blank lines and `#` comments are skipped.
pub fn from_list(text: &str) -> Result<Vec<Observed>> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (first, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let name = rest.trim().trim_start_matches('*');
        let digest = if first.contains(':') {
            first.parse::<Digest>()
        } else {
            Digest::from_hex(DigestAlgorithm::Sha256, first)
        }
        .with_context(|| format!("line {}: not a digest", n + 1))?;
        out.push(Observed {
            what: if name.is_empty() {
                digest.to_string()
            } else {
                name.to_owned()
            },
            digest,
        });
    }
    Ok(out)
}

/// The images of every container of every pod in a `kubectl get pods -o json` list (or one
/// pod), by the digest the kubelet reports as running (`status.*containerStatuses[].imageID`).
/// A container without a digest there (not started yet, or an image ID that is not
/// `...@sha256:HEX`) is refused: what runs must be named by digest to be audited.
pub fn from_pods(json: &[u8]) -> Result<Vec<Observed>> {
    let doc: Value = serde_json::from_slice(json).context("the pod list is not JSON")?;
    let pods: Vec<&Value> = match doc.get("kind").and_then(Value::as_str) {
        Some("Pod") => vec![&doc],
        Some("List" | "PodList") => doc
            .get("items")
            .and_then(Value::as_array)
            .map(|items| items.iter().collect())
            .unwrap_or_default(),
        other => bail!("expected a Pod or a List of pods, got kind {other:?}"),
    };
    let mut out = Vec::new();
    for pod in pods {
        let meta = |key: &str| {
            pod.pointer(&format!("/metadata/{key}"))
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_owned()
        };
        let (namespace, name) = (meta("namespace"), meta("name"));
        for (spec, field) in [
            ("initContainers", "initContainerStatuses"),
            ("containers", "containerStatuses"),
            ("ephemeralContainers", "ephemeralContainerStatuses"),
        ] {
            let statuses = pod
                .pointer(&format!("/status/{field}"))
                .and_then(Value::as_array);
            // Every container the spec names must have a status: a pod listed without its
            // statuses (pending, or an edited list) would otherwise be audited as nothing.
            let reported: Vec<&str> = statuses
                .into_iter()
                .flatten()
                .filter_map(|s| s.get("name").and_then(Value::as_str))
                .collect();
            let declared = pod
                .pointer(&format!("/spec/{spec}"))
                .and_then(Value::as_array);
            for c in declared.into_iter().flatten() {
                let container = c.get("name").and_then(Value::as_str).unwrap_or("?");
                if !reported.contains(&container) {
                    bail!(
                        "{namespace}/{name}/{container}: no status in status.{field}, so no \
                         running image digest to audit"
                    );
                }
            }
            for status in statuses.into_iter().flatten() {
                let container = status.get("name").and_then(Value::as_str).unwrap_or("?");
                let what = format!("{namespace}/{name}/{container}");
                let image_id = status.get("imageID").and_then(Value::as_str).unwrap_or("");
                let digest = image_digest(image_id)
                    .with_context(|| format!("{what}: imageID {image_id:?} names no digest"))?;
                out.push(Observed { what, digest });
            }
        }
    }
    Ok(out)
}

/// The digest in an image ID: `[docker-pullable://]REPO@sha256:HEX` or `sha256:HEX`.
fn image_digest(image_id: &str) -> Option<Digest> {
    let digest = image_id.rsplit_once('@').map_or(image_id, |(_, d)| d);
    digest.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    #[test]
    fn reads_sha256sum_and_prefixed_lines() {
        let list = format!(
            "# installed\n{A}  bin/plc-runtime\n{A} *fw.bin\n\nsha256:{A} hmi.exe\nsha256:{A}\n"
        );
        let got = from_list(&list).unwrap();
        let names: Vec<_> = got.iter().map(|o| o.what.as_str()).collect();
        assert_eq!(
            names,
            [
                "bin/plc-runtime",
                "fw.bin",
                "hmi.exe",
                &format!("sha256:{A}")
            ]
        );
        assert!(got.iter().all(|o| o.digest.hex() == A));
        assert!(from_list("nothex  file\n").is_err());
        assert!(from_list(&format!("md5:{A} x\n")).is_err());
    }

    #[test]
    fn reads_running_images_from_kubectl_and_refuses_undigested_ones() {
        let pods = format!(
            r#"{{"kind":"List","items":[{{"metadata":{{"namespace":"plant","name":"hmi-0"}},
            "status":{{"initContainerStatuses":[{{"name":"init","imageID":"sha256:{A}"}}],
            "containerStatuses":[{{"name":"app","imageID":"docker-pullable://reg.local/hmi@sha256:{A}"}}]}}}}]}}"#
        );
        let got = from_pods(pods.as_bytes()).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].what, "plant/hmi-0/app");
        assert_eq!(got[1].digest.hex(), A);
        let pending = r#"{"kind":"Pod","metadata":{"namespace":"p","name":"x"},
            "status":{"containerStatuses":[{"name":"app","imageID":""}]}}"#;
        assert!(from_pods(pending.as_bytes()).is_err());
        assert!(from_pods(br#"{"kind":"Deployment"}"#).is_err());
    }

    #[test]
    fn refuses_a_pod_whose_containers_have_no_status() {
        let running = format!(
            r#"{{"kind":"List","items":[{{"metadata":{{"namespace":"p","name":"x"}},
            "spec":{{"containers":[{{"name":"app"}},{{"name":"sidecar"}}]}},
            "status":{{"containerStatuses":[{{"name":"app","imageID":"sha256:{A}"}}]}}}}]}}"#
        );
        let err = from_pods(running.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("p/x/sidecar"), "{err}");
        let no_status = r#"{"kind":"Pod","metadata":{"namespace":"p","name":"x"},
            "spec":{"containers":[{"name":"app"}]}}"#;
        assert!(from_pods(no_status.as_bytes()).is_err());
        let both = format!(
            r#"{{"kind":"Pod","metadata":{{"namespace":"p","name":"x"}},
            "spec":{{"containers":[{{"name":"app"}}]}},
            "status":{{"containerStatuses":[{{"name":"app","imageID":"sha256:{A}"}}]}}}}"#
        );
        assert_eq!(from_pods(both.as_bytes()).unwrap().len(), 1);
    }
}
