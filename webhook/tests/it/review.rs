//! Decisions on real objects against a real registry: signed, unsigned, tags pinned, every
//! workload kind, init and ephemeral containers, modes, exemptions, malformed reviews.

use serde_json::{Value, json};

use crate::common::{Fixture, RULES, kubectl, message, metric, patch_of, review};

fn deployment(image: &str) -> Value {
    kubectl(&["create", "deployment", "app", "--image", image])
}

#[test]
fn signed_images_pass_unsigned_are_denied_and_tags_are_pinned() {
    let f = Fixture::new();
    let app = f.image("demo/app:v1", true);
    let _init = f.image("demo/init:v1", true);
    let bad = f.image("demo/bad:v1", false);
    f.write_config("8s", RULES);
    let w = f.start();
    let ca = &f.pki.ca_pem;
    let (h, app_ref) = (&f.host, format!("{}/demo/app:v1", f.host));

    // Signed, by tag: allowed; the mutating answer pins the tag to the verified digest.
    let r = w.post(
        ca,
        "/validate",
        &review(&deployment(&app_ref), "default", "CREATE"),
    );
    assert_eq!(r["allowed"], true, "{r}");
    assert!(r.get("patch").is_none(), "validate never patches: {r}");
    let r = w.post(
        ca,
        "/mutate",
        &review(&deployment(&app_ref), "default", "CREATE"),
    );
    assert_eq!(r["allowed"], true, "{r}");
    assert_eq!(
        patch_of(&r),
        json!([{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": format!("{h}/demo/app@{app}")}])
    );
    // By digest: allowed, nothing to pin.
    let pinned = format!("{h}/demo/app@{app}");
    let r = w.post(
        ca,
        "/mutate",
        &review(&deployment(&pinned), "default", "CREATE"),
    );
    assert_eq!(
        (r["allowed"].clone(), r.get("patch")),
        (json!(true), None),
        "{r}"
    );

    // Unsigned: denied, naming the image, its digest and the code.
    let bad_ref = format!("{h}/demo/bad:v1");
    for path in ["/validate", "/mutate"] {
        let r = w.post(
            ca,
            path,
            &review(&deployment(&bad_ref), "default", "CREATE"),
        );
        assert_eq!(r["allowed"], false, "{r}");
        assert_eq!(r["status"]["code"], 403);
        let m = message(&r);
        assert!(m.starts_with("denied: attestation.none: image "), "{m}");
        assert!(m.contains(&bad_ref) && m.contains(&bad[..19]), "{m}");
        assert!(r.get("patch").is_none(), "a denial carries no patch: {r}");
    }
    // An UPDATE is judged on what it would run; a dry run is answered the same way.
    let mut update = review(&deployment(&bad_ref), "default", "UPDATE");
    update["request"]["dryRun"] = json!(true);
    assert_eq!(w.post(ca, "/validate", &update)["allowed"], false);
    // A DELETE runs nothing.
    let mut delete = review(&deployment(&bad_ref), "default", "DELETE");
    delete["request"]["object"] = Value::Null;
    assert_eq!(w.post(ca, "/validate", &delete)["allowed"], true);

    // A missing tag is undecided: denied (fail closed) with the registry's reason.
    let r = w.post(
        ca,
        "/validate",
        &review(
            &deployment(&format!("{h}/demo/app:nope")),
            "default",
            "CREATE",
        ),
    );
    assert_eq!(r["allowed"], false);
    assert!(message(&r).contains("admission.registry"), "{r}");

    // Modes: warn allows with a warning; audit allows silently; exemptions skip the check.
    let r = w.post(
        ca,
        "/validate",
        &review(&deployment(&bad_ref), "relaxed", "CREATE"),
    );
    assert_eq!(r["allowed"], true, "{r}");
    let warning = r["warnings"][0].as_str().unwrap();
    assert!(
        warning.starts_with("hallmark: warn: attestation.none: image ")
            && warning.contains(&bad_ref),
        "{warning}"
    );
    let r = w.post(
        ca,
        "/mutate",
        &review(&deployment(&bad_ref), "quiet", "CREATE"),
    );
    assert_eq!(
        (r["allowed"].clone(), r.get("warnings"), r.get("patch")),
        (json!(true), None, None),
        "{r}"
    );
    let r = w.post(
        ca,
        "/validate",
        &review(&deployment(&bad_ref), "kube-system", "CREATE"),
    );
    assert_eq!(r["allowed"], true, "{r}");
    f.image("exempt/tool:v1", false);
    let r = w.post(
        ca,
        "/validate",
        &review(
            &deployment(&format!("{h}/exempt/tool:v1")),
            "default",
            "CREATE",
        ),
    );
    assert_eq!(r["allowed"], true, "{r}");
    // An image glob's `*` does not cross `/`: a nested repository is not exempt.
    f.image("exempt/deeper/tool:v1", false);
    let r = w.post(
        ca,
        "/validate",
        &review(
            &deployment(&format!("{h}/exempt/deeper/tool:v1")),
            "default",
            "CREATE",
        ),
    );
    assert_eq!(r["allowed"], false, "{r}");

    // One decision line per review, with uid, namespace, kind, images, verdict, codes, latency.
    let log = w.log();
    let line = log
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["msg"] == "decision" && l["verdict"] == "denied" && l["namespace"] == "default")
        .expect("a decision line");
    for field in ["uid", "kind", "images", "codes", "latencyMs"] {
        assert!(!line[field].is_null(), "{field} missing: {line}");
    }
    assert_eq!(line["images"][0]["result"], "denied");

    // Metrics: labels from closed sets only.
    let (status, text) = w.admin("/metrics");
    assert_eq!(status, 200);
    assert!(
        metric(
            &text,
            "hallmark_webhook_requests_total{endpoint=\"validate\",decision=\"denied\"}"
        ) >= 3.0,
        "{text}"
    );
    assert!(
        metric(
            &text,
            "hallmark_webhook_requests_total{endpoint=\"validate\",decision=\"warned\"}"
        ) >= 1.0
    );
    assert!(
        metric(
            &text,
            "hallmark_webhook_reasons_total{code=\"attestation.none\"}"
        ) >= 1.0
    );
    assert!(
        metric(
            &text,
            "hallmark_webhook_images_total{result=\"allowed\",cache=\"hit\",mode=\"enforce\"}"
        ) >= 1.0,
        "{text}"
    );
    assert!(!text.contains(&f.host), "an image name became a label");
    assert_eq!(w.admin("/readyz").0, 200);
    assert_eq!(w.admin("/livez").0, 200);
}

#[test]
fn every_workload_kind_and_every_container_list() {
    let f = Fixture::new();
    f.image("demo/app:v1", true);
    f.image("demo/init:v1", true);
    f.image("demo/debug:v1", true);
    f.image("demo/bad:v1", false);
    f.write_config("8s", RULES);
    let w = f.start();
    let ca = &f.pki.ca_pem;
    let h = &f.host;
    let app = format!("{h}/demo/app:v1");
    let bad = format!("{h}/demo/bad:v1");

    let mut objects = vec![
        (kubectl(&["run", "app", "--image", &app]), "/spec"),
        (deployment(&app), "/spec/template/spec"),
        (
            kubectl(&["create", "job", "app", "--image", &app]),
            "/spec/template/spec",
        ),
        (
            kubectl(&[
                "create",
                "cronjob",
                "app",
                "--image",
                &app,
                "--schedule",
                "*/5 * * * *",
            ]),
            "/spec/jobTemplate/spec/template/spec",
        ),
    ];
    // kubectl cannot create these; they carry the same pod template as a Deployment.
    for (kind, api) in [
        ("ReplicaSet", "apps/v1"),
        ("StatefulSet", "apps/v1"),
        ("DaemonSet", "apps/v1"),
        ("ReplicationController", "v1"),
    ] {
        let mut o = deployment(&app);
        o["kind"] = json!(kind);
        o["apiVersion"] = json!(api);
        objects.push((o, "/spec/template/spec"));
    }
    for (object, spec) in objects {
        let kind = object["kind"].as_str().unwrap().to_owned();
        let r = w.post(ca, "/mutate", &review(&object, "default", "CREATE"));
        assert_eq!(r["allowed"], true, "{kind}: {r}");
        assert_eq!(
            patch_of(&r)[0]["path"],
            format!("{spec}/containers/0/image"),
            "{kind}"
        );

        // The same object with an unsigned image in each container list is denied, naming it.
        for list in ["containers", "initContainers", "ephemeralContainers"] {
            let mut o = object.clone();
            let pointer = format!("{spec}/{list}");
            let entry = json!({"name": format!("x-{list}"), "image": bad});
            match o.pointer_mut(&pointer) {
                Some(Value::Array(a)) => a.push(entry),
                _ => {
                    let s = o.pointer_mut(spec).unwrap();
                    s[list] = json!([entry]);
                }
            }
            let r = w.post(ca, "/validate", &review(&o, "default", "CREATE"));
            assert_eq!(r["allowed"], false, "{kind} {list}: {r}");
            let m = message(&r);
            assert!(
                m.contains(&bad) && !m.contains(&app),
                "{kind} {list}: only the bad image is named: {m}"
            );
        }
    }

    // A pod with signed init, app and debug containers: allowed, each pinned in place.
    let mut pod = kubectl(&["run", "app", "--image", &app]);
    pod["spec"]["initContainers"] = json!([{"name": "init", "image": format!("{h}/demo/init:v1")}]);
    pod["spec"]["ephemeralContainers"] =
        json!([{"name": "dbg", "image": format!("{h}/demo/debug:v1")}]);
    let r = w.post(ca, "/mutate", &review(&pod, "default", "UPDATE"));
    assert_eq!(r["allowed"], true, "{r}");
    let paths: Vec<String> = patch_of(&r)
        .as_array()
        .unwrap()
        .iter()
        .map(|op| op["path"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        paths,
        [
            "/spec/initContainers/0/image",
            "/spec/containers/0/image",
            "/spec/ephemeralContainers/0/image"
        ]
    );
    // Two bad images among good ones: both named, the good ones not.
    pod["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "side", "image": format!("{h}/demo/bad:v1")}));
    pod["spec"]["ephemeralContainers"][0]["image"] = json!(format!("{h}/demo/unknown:v1"));
    let r = w.post(ca, "/validate", &review(&pod, "default", "CREATE"));
    let m = message(&r);
    assert_eq!(r["allowed"], false);
    assert!(
        m.contains(&bad) && m.contains("demo/unknown:v1") && !m.contains("demo/init"),
        "{m}"
    );
}

#[test]
fn malformed_and_oversized_reviews_are_denied_with_a_clear_message() {
    let f = Fixture::new();
    f.write_config("8s", RULES);
    let w = f.start();
    let ca = &f.pki.ca_pem;
    let deep = Value::String("x".repeat(7 * 1024 * 1024));
    let cases = [
        (
            json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}),
            "no request",
        ),
        (
            json!({"apiVersion": "v1", "kind": "Pod"}),
            "expected kind AdmissionReview",
        ),
        (
            json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "u-1", "kind": {"kind": "Pod"}, "operation": "CREATE", "namespace": "default", "object": {"kind": "Pod", "spec": {"containers": [{"name": "a"}]}}}}),
            "has no image",
        ),
        (
            json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "u-2", "kind": {"kind": "Pod"}, "operation": "CREATE", "namespace": "default", "object": {"kind": "Pod", "spec": {"containers": [{"name": "a", "image": "Not A Ref"}]}}}}),
            "admission.image",
        ),
        (json!({"padding": deep}), "at most"),
    ];
    for (body, needle) in cases {
        let r = match w.try_post(ca, "/validate", &body) {
            Ok(r) => r,
            // The server answers after reading its limit and closes; a client still writing the
            // rest of an oversized body may see the connection closed before it reads the answer.
            Err(ureq::Error::Io(e))
                if needle == "at most"
                    && matches!(
                        e.kind(),
                        std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
                    ) =>
            {
                continue;
            }
            Err(e) => panic!("{needle}: {e}"),
        };
        assert_eq!(r["allowed"], false, "{r}");
        let m = message(&r);
        assert!(m.contains(needle), "{needle}: {m}");
        if body["request"]["uid"].is_string() {
            assert_eq!(r["uid"], body["request"]["uid"], "answered under its uid");
        }
    }
    // The server still serves.
    assert_eq!(w.admin("/readyz").0, 200);
}
