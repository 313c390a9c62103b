//! The derived facts of the policy input (docs/policy-input.md, "Derived facts"): what the policy
//! library would otherwise recompute in Rego for every material of every step, computed once here
//! from the verified chain. Rego functions are not memoised and a call costs microseconds, so a
//! fact read per material belongs in the input, not in a rule.
//!
//! Every fact is a function of the evidence alone, never of the policy's settings: what a step
//! may consume stays a policy decision. [`add_facts`] works on the document as JSON so that
//! `hallmark policy test` can complete hand-written inputs with the same code
//! (`hallmark.with_facts`, registered for tests only).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::str::FromStr;
use std::sync::LazyLock;
use std::time::UNIX_EPOCH;

use hallmark_model::time::Timestamp;
use serde_json::{Map, Value, json};

/// Build types of whole-job provenance: it records the job that ran the steps, not a step.
const JOB_BUILD_TYPES: [&str; 2] = [
    "https://actions.github.io/buildtypes/workflow/v1",
    "https://hallmark.dev/buildtypes/local-job/v1",
];
/// The facts a produced material gets (and any other loses, should a document carry them).
const PRODUCER_FACTS: [&str; 4] = [
    "producers",
    "producerNames",
    "producerCommits",
    "producerRuns",
];
const GITLAB_RUNNER_PREFIX: &str = "https://gitlab.com/gitlab-org/gitlab-runner/-/blob/";
const GITLAB_RUNNER_SUFFIX: &str = "/PROVENANCE.md";

/// Adds the derived facts to a policy input document, in place: per chain step `job`, `failed`,
/// `superseded`, `startsFromSource`, `time`, the indices of its materials split into
/// `produced`, `unproduced` and `unpinned`, of the unproduced ones recorded as not committed
/// (`uncommitted`), and of the produced ones that crossed from another commit or pipeline run
/// (`crossed`); per produced material `producers`, `producerNames`, `producerCommits` and
/// `producerRuns`;
/// per provenance `sourceRepository` and `sourceRef`; `time` for provenance attestations; and
/// `summary`, the distinct values over all of them ([`summary`]).
/// Anything missing or of the wrong type counts as absent: a hand-written input gets the facts
/// its fields support.
pub fn add_facts(input: &mut Value) {
    complete_records(input);
    let roots: HashSet<String> = input
        .pointer("/chain/roots")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if let Some(steps) = input
        .pointer_mut("/chain/steps")
        .and_then(Value::as_array_mut)
    {
        chain_facts(steps, &roots);
    }
    if let Some(attestations) = input.get_mut("attestations").and_then(Value::as_array_mut) {
        for a in attestations {
            if a.get("provenance").is_some_and(Value::is_object) {
                let time = provenance_time(a);
                if let Some(obj) = a.as_object_mut() {
                    obj.insert("time".into(), time);
                    if let Some(p) = obj.get_mut("provenance") {
                        source_facts(p);
                    }
                }
            }
        }
    }
    in_chain(input);
    let summary = summarisable(input).then(|| summary(input));
    if let Some(obj) = input.as_object_mut() {
        // A summary the document brought is never kept: the rules trust it.
        match summary {
            Some(summary) => obj.insert("summary".into(), summary),
            None => obj.remove("summary"),
        };
    }
}

/// The fields of a provenance record (the library's `provenances`).
const RECORD_FIELDS: [&str; 6] = [
    "origin",
    "step",
    "signers",
    "verifiedTimes",
    "time",
    "provenance",
];
/// The value a record field takes when a step or attestation lacks it (the library's
/// `object.get` defaults): an empty list for the lists, an empty object for the provenance (a
/// record without one names no builder and no source, which the rules deny where they are
/// configured), null for the rest.
static NO_LIST: Value = Value::Array(Vec::new());
static NO_PROVENANCE: LazyLock<Value> = LazyLock::new(|| Value::Object(Map::new()));

fn record_field<'v>(v: &'v Value, key: &str) -> &'v Value {
    v.get(key).unwrap_or(match key {
        "signers" | "verifiedTimes" => &NO_LIST,
        "provenance" => &*NO_PROVENANCE,
        _ => &Value::Null,
    })
}

/// Gives every chain step every field of a provenance record (a hand-written step may lack
/// some), so the library takes steps as records as they are and no rule goes undefined on a
/// missing field. First of all facts: a provenance given here gets its own facts like any.
fn complete_records(input: &mut Value) {
    if let Some(steps) = input
        .pointer_mut("/chain/steps")
        .and_then(Value::as_array_mut)
    {
        for obj in steps.iter_mut().filter_map(Value::as_object_mut) {
            for key in RECORD_FIELDS {
                if !obj.contains_key(key) {
                    let default = record_field(&Value::Null, key).clone();
                    obj.insert(key.into(), default);
                }
            }
        }
    }
}

/// Marks `inChain` each provenance attestation whose record a step of the chain already is: the
/// same origin, step, signers, verified times, time and provenance. Whole-job steps count: they
/// are records of `provenances` too.
fn in_chain(input: &mut Value) {
    let same = |a: &Value, b: &Value| {
        RECORD_FIELDS
            .iter()
            .all(|k| record_field(a, k) == record_field(b, k))
    };
    let marks: Vec<Option<bool>> = {
        let steps: Vec<&Value> = input
            .pointer("/chain/steps")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|st| st.is_object())
            .collect();
        input
            .get("attestations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|a| {
                a.get("provenance")
                    .is_some_and(Value::is_object)
                    .then(|| steps.iter().any(|st| same(st, a)))
            })
            .collect()
    };
    if let Some(attestations) = input.get_mut("attestations").and_then(Value::as_array_mut) {
        for (a, mark) in attestations.iter_mut().zip(marks) {
            if let (Some(in_chain), Some(obj)) = (mark, a.as_object_mut()) {
                obj.insert("inChain".into(), Value::Bool(in_chain));
            }
        }
    }
}

/// Whether the containers the summary reads from the document are lists where the input
/// document (docs/policy-input.md) has them (a step's `crossed` is always written here). Rego iterates an object's values as it iterates a list, so
/// a hand-written input with an object where a list belongs would hide records from the summary
/// while the rules still see them: such an input gets no summary, and the rules look at every
/// record.
fn summarisable(input: &Value) -> bool {
    let list_or_absent = |v: Option<&Value>| v.is_none_or(Value::is_array);
    let steps = input.pointer("/chain/steps");
    let attestations = input.get("attestations");
    list_or_absent(steps)
        && list_or_absent(attestations)
        && steps
            .and_then(Value::as_array)
            .into_iter()
            .chain(attestations.and_then(Value::as_array))
            .flatten()
            .all(|r| list_or_absent(r.get("signerDetails")))
}

/// The distinct values the provenance records hold, and counts of what is rare, for rules that
/// judge a value once rather than once per step (a chain of ten steps usually has one builder,
/// one source, one ref) and look at the steps only when something is wrong. The records are
/// the chain's steps (whole-job ones included) and the attestations whose `provenance` is an
/// object: every record of the library's `provenances` and `provenance_records`, so that the
/// values and counts cover every record a rule would look at (a record without a provenance
/// counts as one without a source).
fn summary(input: &Value) -> Value {
    let steps = input
        .pointer("/chain/steps")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    let attestations = input
        .get("attestations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|a| a.get("provenance").is_some_and(Value::is_object));
    let none = Value::Object(Map::new());
    let records = steps
        .chain(attestations)
        .map(|r| (r, r.get("provenance").unwrap_or(&none)));
    let (mut builders, mut uris, mut refs) = (
        Distinct::default(),
        Distinct::default(),
        Distinct::default(),
    );
    let (mut oldest, mut newest) = (None::<i64>, None::<i64>);
    let (mut without_source, mut crossed, mut certified) = (0u64, 0u64, 0u64);
    for (record, provenance) in records {
        if !provenance
            .get("sourceRepository")
            .is_some_and(Value::is_string)
        {
            without_source += 1;
        }
        crossed += ["commit", "run"]
            .iter()
            .filter_map(|f| record.get("crossed")?.get(*f)?.as_array())
            .map(|a| a.len() as u64)
            .sum::<u64>();
        certified += record
            .get("signerDetails")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|d| d.get("extensions").is_some_and(Value::is_object))
            .count() as u64;
        builders.add(provenance.get("builderId").unwrap_or(&Value::Null));
        if provenance
            .get("sourceRepository")
            .is_some_and(Value::is_string)
            && let Some(uri) = provenance.get("sourceUri")
        {
            uris.add(uri);
        }
        if let Some(r) = provenance.get("sourceRef").filter(|r| r.is_string()) {
            refs.add(r);
        }
        if let Some(ns) = record.pointer("/time/ns").and_then(Value::as_i64) {
            oldest = Some(oldest.map_or(ns, |o| o.min(ns)));
            newest = Some(newest.map_or(ns, |n| n.max(ns)));
        }
    }
    json!({
        "builderIds": builders.0.into_values().collect::<Vec<_>>(),
        "sourceUris": uris.0.into_values().collect::<Vec<_>>(),
        "sourceRefs": refs.0.into_values().collect::<Vec<_>>(),
        "oldestNs": oldest,
        "newestNs": newest,
        "withoutSource": without_source,
        "crossed": crossed,
        "certifiedSigners": certified,
    })
}

/// Distinct JSON values, in the order of their text.
#[derive(Default)]
struct Distinct(BTreeMap<String, Value>);

impl Distinct {
    fn add(&mut self, v: &Value) {
        self.0.entry(v.to_string()).or_insert_with(|| v.clone());
    }
}

fn chain_facts(steps: &mut [Value], roots: &HashSet<String>) {
    let id = |st: &Value| st.get("id").and_then(Value::as_str).map(str::to_owned);
    let job: Vec<bool> = steps.iter().map(is_job).collect();
    // The chain's steps proper (whole-job provenance left out), by id: their names, failures.
    let mut names: HashMap<String, Value> = HashMap::new();
    let mut failed_ids: HashSet<String> = HashSet::new();
    // Each step's source commit and pipeline run, where it records them as strings.
    let mut commits: HashMap<String, String> = HashMap::new();
    let mut runs: HashMap<String, String> = HashMap::new();
    for (st, &is_job) in steps.iter().zip(&job) {
        if let (Some(i), false) = (id(st), is_job) {
            let text = |key: &str| {
                st.pointer(&format!("/provenance/{key}"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            if let Some(c) = text("sourceCommit") {
                commits.insert(i.clone(), c);
            }
            if let Some(r) = text("pipelineRun") {
                runs.insert(i.clone(), r);
            }
            names.insert(i.clone(), st.get("step").cloned().unwrap_or(Value::Null));
            if failed(st) {
                failed_ids.insert(i);
            }
        }
    }
    // Per material: its producers among the steps proper, in the order producedBy lists them.
    for st in steps.iter_mut() {
        for m in materials_mut(st) {
            let producers: Vec<String> = m
                .get("producedBy")
                .and_then(Value::as_array)
                .map(|p| {
                    p.iter()
                        .filter_map(Value::as_str)
                        .filter(|p| names.contains_key(*p))
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            let producer_names: BTreeSet<NameKey> = producers
                .iter()
                .filter_map(|p| names.get(p))
                .map(NameKey::of)
                .collect();
            // Facts about producers only where there are some: most materials of a real chain are
            // source files, and every value in the input costs the policy engine to read.
            if producers.is_empty() {
                if let Some(obj) = m.as_object_mut() {
                    for key in PRODUCER_FACTS {
                        obj.remove(key);
                    }
                }
                continue;
            }
            let of = |map: &HashMap<String, String>| -> BTreeSet<String> {
                producers
                    .iter()
                    .filter_map(|p| map.get(p).cloned())
                    .collect()
            };
            let (producer_commits, producer_runs) = (of(&commits), of(&runs));
            if let Some(obj) = m.as_object_mut() {
                obj.insert("producerCommits".into(), json!(producer_commits));
                obj.insert("producerRuns".into(), json!(producer_runs));
                obj.insert(
                    "producerNames".into(),
                    producer_names.into_iter().map(NameKey::value).collect(),
                );
                obj.insert("producers".into(), json!(producers));
            }
        }
    }
    let any_succeeded = |ids: &[&str]| ids.iter().any(|i| !failed_ids.contains(*i));
    // How the steps proper use each step's products: used at all, and used only where no step
    // that succeeded produced the same thing (relied on).
    // Only the steps proper among the roots count: a whole-job provenance over the artifact
    // never "succeeded" in place of the step that produced it (else a failed step, re-attested
    // by a job provenance, would look superseded).
    let roots: Vec<&str> = roots
        .iter()
        .map(String::as_str)
        .filter(|r| names.contains_key(*r))
        .collect();
    let mut used: HashSet<String> = roots.iter().map(|r| (*r).to_owned()).collect();
    let mut relied_on: HashSet<String> = HashSet::new();
    if !any_succeeded(&roots) {
        relied_on.extend(roots.iter().map(|r| (*r).to_owned()));
    }
    for (st, &is_job) in steps.iter().zip(&job) {
        if is_job {
            continue;
        }
        for m in materials(st) {
            let producers = producers_of(m);
            used.extend(producers.iter().map(|p| (*p).to_owned()));
            if !any_succeeded(&producers) {
                relied_on.extend(producers.iter().map(|p| (*p).to_owned()));
            }
        }
    }
    for (st, &is_job) in steps.iter_mut().zip(&job) {
        let step_id = id(st).unwrap_or_default();
        let failed = failed(st);
        let records_source = ["sourceUri", "sourceCommit"].iter().any(|k| {
            st.pointer(&format!("/provenance/{k}"))
                .is_some_and(Value::is_string)
        });
        // The materials by how the chain accounts for them: a verified step produced it; it is
        // pinned and no step did (a source file, an external input, or a gap); it has no digest
        // (producers are found by digest, so only a hand-written input has one with producers).
        // Indices into `materials`: copies would double the input the policy engine parses.
        let (mut produced, mut unproduced, mut unpinned) = (Vec::new(), Vec::new(), Vec::new());
        let mut uncommitted = Vec::new();
        for (i, m) in materials(st).enumerate() {
            let pinned = m
                .get("digest")
                .and_then(Value::as_str)
                .is_some_and(|d| !d.is_empty());
            let has_producers = !producers_of(m).is_empty();
            if !pinned {
                unpinned.push(i);
            }
            if has_producers {
                produced.push(i);
            } else if pinned {
                unproduced.push(i);
                if m.get("uncommitted") == Some(&Value::Bool(true)) {
                    uncommitted.push(i);
                }
            }
        }
        let consumes_produced = !produced.is_empty();
        let crossed = json!({
            "commit": crossed(st, &produced, "sourceCommit", "producerCommits"),
            "run": crossed(st, &produced, "pipelineRun", "producerRuns"),
        });
        let time = provenance_time(st);
        if let Some(obj) = st.as_object_mut() {
            obj.insert("job".into(), Value::Bool(is_job));
            obj.insert("failed".into(), Value::Bool(failed));
            obj.insert(
                "superseded".into(),
                Value::Bool(failed && used.contains(&step_id) && !relied_on.contains(&step_id)),
            );
            obj.insert(
                "startsFromSource".into(),
                Value::Bool(records_source && !consumes_produced),
            );
            obj.insert("time".into(), time);
            obj.insert("produced".into(), json!(produced));
            obj.insert("unproduced".into(), json!(unproduced));
            obj.insert("unpinned".into(), json!(unpinned));
            obj.insert("uncommitted".into(), json!(uncommitted));
            obj.insert("crossed".into(), crossed);
            if let Some(p) = obj.get_mut("provenance") {
                source_facts(p);
            }
        }
    }
}

/// The indices (of `produced`) of the materials that crossed over from another build: for a step
/// whose provenance records `key` as a string, those none of whose producers share it; for a
/// step without one, those any producer has one for (it cannot show it belongs to their build).
/// Reads the `producers_key` facts, so it runs after they are written.
fn crossed(st: &Value, produced: &[usize], key: &str, producers_key: &str) -> Vec<usize> {
    let mine = st.get("provenance").and_then(|p| p.get(key));
    let mine = mine.and_then(Value::as_str);
    let Some(materials) = st.get("materials").and_then(Value::as_array) else {
        return Vec::new();
    };
    produced
        .iter()
        .copied()
        .filter(|&i| {
            let values: Vec<&str> = materials
                .get(i)
                .and_then(|m| m.get(producers_key))
                .and_then(Value::as_array)
                .map(|v| v.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            match mine {
                Some(mine) => !values.contains(&mine),
                None => !values.is_empty(),
            }
        })
        .collect()
}

/// A producer's name as a set member: null (an unnamed step) sorts first, as in Rego.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum NameKey {
    Null,
    Name(String),
    Other(String),
}

impl NameKey {
    fn of(v: &Value) -> Self {
        match v {
            Value::Null => NameKey::Null,
            Value::String(s) => NameKey::Name(s.clone()),
            other => NameKey::Other(other.to_string()),
        }
    }

    fn value(self) -> Value {
        match self {
            NameKey::Null => Value::Null,
            NameKey::Name(s) => Value::String(s),
            NameKey::Other(text) => serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }
}

fn materials(st: &Value) -> impl Iterator<Item = &Value> {
    st.get("materials")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn materials_mut(st: &mut Value) -> impl Iterator<Item = &mut Value> {
    st.get_mut("materials")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
}

fn producers_of(m: &Value) -> Vec<&str> {
    m.get("producers")
        .and_then(Value::as_array)
        .map(|p| p.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Whole-job provenance: it names no step and has a job's build type.
fn is_job(st: &Value) -> bool {
    let unnamed = st.get("step").is_none_or(Value::is_null);
    let build_type = st
        .pointer("/provenance/buildType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    unnamed
        && (JOB_BUILD_TYPES.contains(&build_type)
            || (build_type.starts_with(GITLAB_RUNNER_PREFIX)
                && build_type.ends_with(GITLAB_RUNNER_SUFFIX)))
}

/// The step recorded a non-zero exit code.
fn failed(st: &Value) -> bool {
    st.get("exitCode")
        .and_then(Value::as_f64)
        .is_some_and(|c| c != 0.0)
}

/// `{"basis": "verified", "time", "ns"}` for the earliest of the record's verifiedTimes that
/// parses (the first written, on a tie); else `{"basis": "claimed", ...}` for its provenance's
/// finishedOn; else null. `time` is as written, `ns` nanoseconds since the epoch.
fn provenance_time(record: &Value) -> Value {
    let earliest = record
        .get("verifiedTimes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| Some((t.as_str()?, nanos(t.as_str()?)?)))
        .fold(None::<(&str, i64)>, |best, (t, ns)| match best {
            Some((_, b)) if b <= ns => best,
            _ => Some((t, ns)),
        });
    if let Some((time, ns)) = earliest {
        return json!({"basis": "verified", "time": time, "ns": ns});
    }
    let claimed = record
        .pointer("/provenance/finishedOn")
        .and_then(Value::as_str)
        .and_then(|t| Some((t, nanos(t)?)));
    match claimed {
        Some((time, ns)) => json!({"basis": "claimed", "time": time, "ns": ns}),
        None => Value::Null,
    }
}

/// Nanoseconds since the epoch of an RFC 3339 time (`Z` or `±HH:MM`; 1970 to 2262, what 64 bits
/// of nanoseconds hold, as Rego's `time.parse_rfc3339_ns`).
fn nanos(text: &str) -> Option<i64> {
    let t = Timestamp::from_str(text).ok()?;
    let d = t.time().duration_since(UNIX_EPOCH).ok()?;
    i64::try_from(d.as_nanos()).ok()
}

/// `sourceRepository` and `sourceRef` of a provenance's `sourceUri` (`git+<repo>@<ref>`), null
/// when it names none (`sourceRepository` is a string exactly when `sourceUri` is a non-empty
/// string). A git ref may hold "@" (a branch named `feature@refs/heads/main`), so
/// when the URI names a full ref (`@refs/…`) the ref is everything from the first `@refs/` on;
/// otherwise it is the text after the last "@" (a repository URL may hold one:
/// `ssh://git@host/…`).
fn source_facts(provenance: &mut Value) {
    let Some(obj) = provenance.as_object_mut() else {
        return;
    };
    let (repository, reference) = match obj.get("sourceUri").and_then(Value::as_str) {
        Some(uri) if !uri.is_empty() => split_source(uri),
        _ => (None, None),
    };
    let text = |s: Option<&str>| s.map_or(Value::Null, |s| Value::String(s.to_owned()));
    let facts: Map<String, Value> = [
        ("sourceRepository".to_owned(), text(repository)),
        ("sourceRef".to_owned(), text(reference)),
    ]
    .into_iter()
    .collect();
    obj.extend(facts);
}

fn split_source(uri: &str) -> (Option<&str>, Option<&str>) {
    let reference = match uri.find("@refs/") {
        Some(i) => Some(&uri[i + 1..]),
        None => uri
            .rsplit_once('@')
            .map(|(_, r)| r)
            .filter(|r| !r.is_empty()),
    };
    let repository = match reference {
        Some(r) => &uri[..uri.len() - r.len() - 1],
        None => uri,
    };
    (
        Some(repository.strip_prefix("git+").unwrap_or(repository)),
        reference,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_uri_splits_at_the_first_full_ref_else_the_last_at() {
        assert_eq!(
            split_source("git+https://x/app.git@refs/heads/feature@refs/heads/main"),
            (
                Some("https://x/app.git"),
                Some("refs/heads/feature@refs/heads/main")
            )
        );
        assert_eq!(
            split_source("git+ssh://git@host/app@v1"),
            (Some("ssh://git@host/app"), Some("v1"))
        );
        assert_eq!(split_source("https://x/app"), (Some("https://x/app"), None));
        assert_eq!(
            split_source("git+https://x/app@"),
            (Some("https://x/app@"), None)
        );
    }

    fn step(id: &str, name: Value, exit: i64, materials: Value) -> Value {
        json!({"id": id, "step": name, "exitCode": exit, "provenance": {"buildType": "b", "sourceCommit": "c"},
               "verifiedTimes": [], "materials": materials, "products": []})
    }

    #[test]
    fn producers_leave_out_job_provenance_and_failures_are_superseded_only_by_a_success() {
        let mut job = step("j", Value::Null, 0, json!([]));
        job["provenance"]["buildType"] = json!("https://hallmark.dev/buildtypes/local-job/v1");
        let mut input = json!({"chain": {"roots": ["p"], "steps": [
            step("a", json!("build"), 1, json!([])),
            step("b", json!("build"), 0, json!([])),
            step("t", json!("test"), 1, json!([])),
            step("p", json!("package"), 0, json!([
                {"name": "bin", "digest": "sha256:1", "producedBy": ["a", "b", "j"]},
                {"name": "x", "digest": "sha256:2", "producedBy": ["j"]},
            ])),
            job,
        ]}});
        add_facts(&mut input);
        let steps = &input["chain"]["steps"];
        let m = &steps[3]["materials"];
        assert_eq!(m[0]["producers"], json!(["a", "b"]));
        assert_eq!(m[0]["producerNames"], json!(["build"]));
        assert!(m[1].get("producers").is_none(), "only the job produced it");
        // a failed, but b produced the same file: superseded. t failed and nothing used it.
        assert_eq!(steps[0]["superseded"], json!(true));
        assert_eq!(steps[2]["superseded"], json!(false));
        assert_eq!(steps[2]["failed"], json!(true));
        assert_eq!(steps[4]["job"], json!(true));
        assert_eq!(steps[3]["startsFromSource"], json!(false));
        assert_eq!(steps[0]["startsFromSource"], json!(true));
    }

    #[test]
    fn crossings_are_inputs_no_producer_of_the_same_commit_or_run_made() {
        let mut a = step("a", json!("build"), 0, json!([]));
        a["provenance"]["pipelineRun"] = json!("r1");
        let mut b = step("b", json!("build"), 0, json!([]));
        b["provenance"]["sourceCommit"] = json!("other");
        let materials = json!([
            {"name": "x", "digest": "sha256:1", "producedBy": ["a"]},
            {"name": "y", "digest": "sha256:2", "producedBy": ["b"]},
            {"name": "z", "digest": "sha256:3", "producedBy": ["a", "b"]},
            {"name": "s", "digest": "sha256:4"},
        ]);
        let mut same = step("p", json!("package"), 0, materials.clone());
        same["provenance"]["pipelineRun"] = json!("r1");
        let mut bare = step("q", json!("package"), 0, materials);
        bare["provenance"] = json!({"buildType": "b"});
        let mut input = json!({"chain": {"roots": ["p"], "steps": [a, b, same, bare]}});
        add_facts(&mut input);
        let steps = &input["chain"]["steps"];
        // Commit "c" and run r1: y came only from another commit (z has one producer of "c"),
        // y and nothing else from outside the run (b recorded none).
        assert_eq!(steps[2]["crossed"], json!({"commit": [1], "run": [1]}));
        // No commit, no run: everything produced by a step that records one crossed.
        assert_eq!(
            steps[3]["crossed"],
            json!({"commit": [0, 1, 2], "run": [0, 2]})
        );
        assert_eq!(steps[0]["crossed"], json!({"commit": [], "run": []}));
    }

    #[test]
    fn an_attestation_is_in_the_chain_only_when_a_step_is_the_same_record() {
        let root = step("p", json!("package"), 0, json!([]));
        let mut job = step("j", Value::Null, 0, json!([]));
        job["provenance"]["buildType"] = json!("https://hallmark.dev/buildtypes/local-job/v1");
        let record = |st: &Value| {
            json!({"origin": "o", "step": st["step"], "signers": [], "verifiedTimes": [],
                   "provenance": st["provenance"]})
        };
        let mut resigned = record(&root);
        resigned["signers"] = json!(["someone else"]);
        let mut root = root;
        root["origin"] = json!("o");
        job["origin"] = json!("o");
        let mut input = json!({
            "chain": {"roots": ["p"], "steps": [root.clone(), job.clone()]},
            "attestations": [record(&root), resigned, record(&job), {"origin": "o"}],
        });
        add_facts(&mut input);
        let a = &input["attestations"];
        assert_eq!(a[0]["inChain"], json!(true));
        assert_eq!(
            a[1]["inChain"],
            json!(false),
            "other signers: another record"
        );
        assert_eq!(
            a[2]["inChain"],
            json!(true),
            "a job step is a record like any step"
        );
        assert!(a[3].get("inChain").is_none(), "no provenance: no record");
        // The steps got the record fields they lacked.
        assert_eq!(input["chain"]["steps"][0]["signers"], json!([]));
    }

    #[test]
    fn a_step_missing_record_fields_gets_them_and_a_twin_with_null_is_the_same_record() {
        let mut bare = step("p", json!("package"), 0, json!([]));
        if let Some(obj) = bare.as_object_mut() {
            obj.remove("origin");
            obj.remove("provenance");
        }
        let mut input = json!({
            "chain": {"roots": ["p"], "steps": [bare]},
            "attestations": [{"origin": null, "step": "package", "signers": [], "verifiedTimes": [],
                              "provenance": {}}],
        });
        add_facts(&mut input);
        let st = &input["chain"]["steps"][0];
        assert_eq!(st["origin"], Value::Null);
        assert_eq!(st["provenance"]["sourceRepository"], Value::Null, "{st}");
        assert!(st["provenance"].get("builderId").is_none());
        // The step stands for the attestation, and is itself a record the rules judge.
        assert_eq!(input["attestations"][0]["inChain"], json!(true));
        assert_eq!(input["summary"]["builderIds"], json!([null]));
        assert_eq!(input["summary"]["withoutSource"], json!(2));
    }

    #[test]
    fn odd_containers_get_no_summary_and_a_brought_summary_is_never_kept() {
        let forged = json!({"builderIds": ["https://ci.example/builder"]});
        let good = || json!({"chain": {"roots": ["p"], "steps": [step("p", json!("package"), 0, json!([]))]}});
        let mut input = good();
        input["summary"] = forged.clone();
        add_facts(&mut input);
        assert_ne!(input["summary"], forged, "recomputed");
        assert!(input["summary"]["builderIds"].is_array());
        let odd = [
            json!({"chain": {"steps": {"a": step("p", json!("package"), 0, json!([]))}}}),
            json!({"attestations": {"a": {"provenance": {}}}}),
            json!({"attestations": [{"provenance": {}, "signerDetails": {"x": {"extensions": {}}}}]}),
        ];
        for mut input in odd {
            input["summary"] = forged.clone();
            add_facts(&mut input);
            assert!(input.get("summary").is_none(), "{input}");
        }
    }

    #[test]
    fn a_job_provenance_over_the_artifact_does_not_supersede_a_failed_root() {
        let mut job = step("j", Value::Null, 0, json!([]));
        job["provenance"]["buildType"] = json!("https://actions.github.io/buildtypes/workflow/v1");
        let mut input = json!({"chain": {"roots": ["p", "j"], "steps": [
            step("p", json!("package"), 1, json!([])),
            job,
        ]}});
        add_facts(&mut input);
        assert_eq!(input["chain"]["steps"][0]["superseded"], json!(false));
    }

    #[test]
    fn a_failure_nothing_else_produced_is_relied_on() {
        let mut input = json!({"chain": {"roots": ["p"], "steps": [
            step("a", json!("build"), 1, json!([])),
            step("p", json!("package"), 0, json!([{"name": "bin", "producedBy": ["a"]}])),
        ]}});
        add_facts(&mut input);
        assert_eq!(input["chain"]["steps"][0]["superseded"], json!(false));
    }

    #[test]
    fn time_is_the_earliest_verified_time_else_the_claimed_finish() {
        let mut input = json!({"attestations": [
            {"verifiedTimes": ["2026-01-02T00:00:00Z", "bad", "2026-01-01T01:00:00+01:00"],
             "provenance": {"finishedOn": "2020-01-01T00:00:00Z"}},
            {"verifiedTimes": ["bad"], "provenance": {"finishedOn": "2020-01-01T00:00:00Z"}},
            {"verifiedTimes": [], "provenance": {"finishedOn": "yesterday"}},
        ]});
        add_facts(&mut input);
        let a = &input["attestations"];
        assert_eq!(
            a[0]["time"],
            json!({"basis": "verified", "time": "2026-01-01T01:00:00+01:00", "ns": 1_767_225_600_000_000_000_i64})
        );
        assert_eq!(a[1]["time"]["basis"], json!("claimed"));
        assert_eq!(a[2]["time"], Value::Null);
    }
}
