//! Tests of policies derived from pipelines: the example pipeline, the job graph rules, what is
//! reported instead of guessed, the limits, GitHub workflows, and drift.

use serde_json::json;

use super::*;

fn gitlab_options() -> Options {
    Options {
        repository: "https://gitlab.com/acme/app".into(),
        refs: vec!["refs/heads/main".into()],
        issuer: None,
        config_path: None,
        file_name: ".gitlab-ci.yml".into(),
        jobs: Vec::new(),
    }
}

const IDENTITY: &str = "https://gitlab.com/acme/app//.gitlab-ci.yml@refs/heads/main";

#[test]
fn the_gitlab_example_gives_one_step_per_recording_job_with_inputs_per_file() {
    let text = include_str!("../../../../examples/gitlab/.gitlab-ci.yml");
    let d = derive(text, &gitlab_options()).unwrap();
    assert_eq!(d.platform, Platform::GitLab);
    let p = &d.policy;
    assert_eq!(
        p["steps"]["build"]["inputs"],
        json!({"source": ["src", "src/**"]})
    );
    assert_eq!(
        p["steps"]["test"]["inputs"],
        json!({"build": ["out", "out/**"], "source": ["tests", "tests/**"]})
    );
    assert_eq!(
        p["steps"]["package"]["inputs"],
        json!({"build": ["out", "out/**"], "test": ["reports", "reports/**"]})
    );
    assert_eq!(
        p["steps"]["container"]["inputs"],
        json!({"package": ["dist", "dist/**"], "source": ["ci/image.sh", "ci/image.sh/**"]})
    );
    assert_eq!(p["artifactFrom"], json!(["container"]));
    assert_eq!(
        p["steps"]["build"]["signers"],
        json!([{"identity": IDENTITY, "issuer": "https://gitlab.com"}])
    );
    assert_eq!(
        p["sources"],
        json!({"repositories": ["https://gitlab.com/acme/app"], "refs": ["refs/heads/main"]})
    );
    // The attest and gate jobs record no step; the component include is known.
    assert_eq!(d.jobs.len(), 4, "{:?}", d.jobs);
    assert!(d.notes.is_empty(), "{:?}", d.notes);
    // And the committed policy is exactly what is derived.
    let committed = include_str!("../../../../examples/gitlab/release.yaml");
    assert_eq!(diff(&d, committed).unwrap(), Vec::new());
}

#[test]
fn without_needs_a_job_takes_the_artifacts_of_every_earlier_stage() {
    let text = r#"
stages: [build, test, package]
build:
  stage: build
  script: [hallmark run --step build -m src -p out --keyless -- make]
  artifacts: {paths: [out/]}
lint:
  stage: build
  script: [make lint]
unit:
  stage: test
  script: ["hallmark run --step unit -m out -p reports -- make test"]
  artifacts: {paths: [reports/]}
package:
  stage: package
  script:
    - |
      hallmark run --step package \
        -m out -m reports -p dist -- make dist
  artifacts: {paths: [dist/]}
"#;
    let d = derive(text, &gitlab_options()).unwrap();
    assert_eq!(
        d.policy["steps"]["package"]["inputs"],
        json!({"build": ["out", "out/**"], "unit": ["reports", "reports/**"]})
    );
    assert_eq!(d.policy["artifactFrom"], json!(["package"]));
}

#[test]
fn dependencies_limit_what_a_job_receives() {
    let text = r#"
build:
  stage: build
  script: [hallmark run --step build -m src -p out -- make]
  artifacts: {paths: [out/]}
package:
  stage: deploy
  dependencies: []
  script: [hallmark run --step package -m out -p dist -- make dist]
"#;
    let d = derive(text, &gitlab_options()).unwrap();
    // With no artifacts received, out/ is the checkout's: a source file, as the job graph says.
    assert_eq!(
        d.policy["steps"]["package"]["inputs"],
        json!({"source": ["out", "out/**"]})
    );
}

#[test]
fn a_job_that_hands_over_files_without_recording_a_step_is_reported() {
    let text = r#"
build:
  stage: build
  script: [hallmark run --step build -m src -p out -- make]
  artifacts: {paths: [out/]}
vendor:
  stage: build
  script: [make vendor, "echo done"]
  artifacts: {paths: [vendor/]}
package:
  stage: test
  needs: [build, vendor]
  script: [hallmark run --step package -m out -m vendor -p dist -- make dist]
"#;
    let d = derive(text, &gitlab_options()).unwrap();
    assert!(
        d.notes.iter().any(|n| n.job.as_deref() == Some("package")
            && n.message.contains("\"vendor\", which records no step")),
        "{:?}",
        d.notes
    );
    // vendor/ is neither a step's nor the source's: the policy does not allow it as an input.
    assert_eq!(
        d.policy["steps"]["package"]["inputs"],
        json!({"build": ["out", "out/**"]})
    );
}

#[test]
fn what_is_not_understood_is_reported_never_guessed() {
    let text = r#"
include:
  - project: other/templates
    file: build.yml
  - component: gitlab.com/hallmark-dev/hallmark/hallmark@1.0.0
build:
  extends: .other-build
  script: ["hallmark run --step $STEP -m $DIR -- make"]
package:
  extends: .hallmark-record
  variables: {HALLMARK_MATERIALS: "$UNKNOWN"}
  needs: [{pipeline: $PARENT, job: build}]
"#;
    let d = derive(text, &gitlab_options()).unwrap();
    let all: Vec<String> = d.notes.iter().map(|n| n.message.clone()).collect();
    let has = |s: &str| all.iter().any(|m| m.contains(s));
    assert!(has("other/templates"), "{all:?}");
    assert!(!has("hallmark-dev/hallmark"), "{all:?}");
    assert!(has("extends \".other-build\""), "{all:?}");
    assert!(has("--step that is not known statically"), "{all:?}");
    assert!(
        has("materials of step \"package\" are not known"),
        "{all:?}"
    );
    assert!(has("another pipeline"), "{all:?}");
    // The yaml carries the notes as comments.
    assert!(d.to_yaml("x").contains("# NOTE job \"build\""));
}

#[test]
fn job_selection_keeps_the_jobs_behind_the_named_one() {
    let text = r#"
build:
  stage: build
  script: [hallmark run --step build -m src -p out -- make]
  artifacts: {paths: [out/]}
docs:
  stage: build
  script: [hallmark run --step docs -m doc -p site -- make site]
  artifacts: {paths: [site/]}
package:
  stage: test
  needs: [build]
  script: [hallmark run --step package -m out -p dist -- make dist]
"#;
    let mut o = gitlab_options();
    o.jobs = vec!["package".into()];
    let d = derive(text, &o).unwrap();
    let steps: Vec<&String> = d.policy["steps"].as_object().unwrap().keys().collect();
    assert_eq!(steps, ["build", "package"]);
    o.jobs = vec!["nope".into()];
    assert!(matches!(
        derive(text, &o),
        Err(PipelineError::UnknownJob(j)) if j == "nope"
    ));
}

#[test]
fn identities_follow_the_platform_mapping_and_patterns_are_reported() {
    let text = "build:\n  script: [hallmark run --step build -m src -p out -- make]\n";
    let mut o = gitlab_options();
    o.refs = vec!["refs/heads/main".into(), "refs/tags/v*".into()];
    o.issuer = Some("https://gitlab.example.com".into());
    o.repository = "https://gitlab.example.com/group/sub/app.git".into();
    let d = derive(text, &o).unwrap();
    assert_eq!(
        d.policy["steps"]["build"]["signers"],
        json!([{"identity": "https://gitlab.example.com/group/sub/app//.gitlab-ci.yml@refs/heads/main", "issuer": "https://gitlab.example.com"}])
    );
    assert!(d.notes.iter().any(|n| n.message.contains("refs/tags/v*")));
}

#[test]
fn limits_and_bad_options_are_errors() {
    let big = "a".repeat(MAX_PIPELINE_BYTES + 1);
    assert!(matches!(
        derive(&big, &gitlab_options()),
        Err(PipelineError::TooLarge { .. })
    ));
    let text = "build:\n  script: [hallmark run --step build -m src -p out -- make]\n";
    for repo in [
        "http://gitlab.com/a/b",
        "gitlab.com/a/b",
        "https://gitlab.com",
        "https://u:p@gitlab.com/a/b",
    ] {
        let mut o = gitlab_options();
        o.repository = repo.into();
        assert!(
            matches!(derive(text, &o), Err(PipelineError::Repository(_))),
            "{repo}"
        );
    }
    let mut o = gitlab_options();
    o.refs = vec!["main".into()];
    assert!(matches!(derive(text, &o), Err(PipelineError::Ref(_))));
    assert!(matches!(
        derive("build:\n  script: [make]\n", &gitlab_options()),
        Err(PipelineError::NoSteps)
    ));
    assert!(matches!(
        derive("a: [\n", &gitlab_options()),
        Err(PipelineError::Yaml(_))
    ));
    let looped = ".a: {extends: .b}\n.b: {extends: .a}\nbuild: {extends: .a, script: [make]}\n";
    assert!(matches!(
        derive(looped, &gitlab_options()),
        Err(PipelineError::Extends { .. })
    ));
    let many: String = (0..=MAX_JOBS)
        .map(|i| format!("j{i}: {{script: [make]}}\n"))
        .collect();
    assert!(matches!(
        derive(&many, &gitlab_options()),
        Err(PipelineError::TooManyJobs { .. })
    ));
}

const WORKFLOW: &str = r#"
name: release
on: {push: {branches: [main]}}
permissions: {id-token: write}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: hallmark run --step build -m src -p dist/app --keyless -- make
      - uses: actions/upload-artifact@v4
        with:
          name: app
          path: dist/app
  test:
    runs-on: ubuntu-latest
    needs: build
    steps:
      - uses: actions/download-artifact@v4
        with: {name: app, path: bin}
      - uses: hallmark-dev/hallmark@v1
        with:
          mode: run
          step: test
          materials: |
            bin
            tests
          products: reports
          command: make check
      - uses: actions/upload-artifact@v4
        with: {name: reports, path: reports/}
  publish:
    runs-on: ubuntu-latest
    needs: test
    steps:
      - uses: actions/download-artifact@v4
        with: {name: app, path: dist}
      - uses: actions/download-artifact@v4
        with: {name: reports, path: reports}
      - run: hallmark run --step package -m dist -m reports -p pkg -- make pkg
      - uses: hallmark-dev/hallmark@v1
        with: {mode: verify, policy: release.yaml}
"#;

#[test]
fn a_github_workflow_maps_artifacts_to_where_they_land() {
    let o = Options {
        repository: "https://github.com/acme/app".into(),
        refs: vec!["refs/heads/main".into()],
        issuer: None,
        config_path: None,
        file_name: "release.yml".into(),
        jobs: Vec::new(),
    };
    let d = derive(WORKFLOW, &o).unwrap();
    assert_eq!(d.platform, Platform::GitHub);
    let p = &d.policy;
    // upload-artifact strips the common directory: dist/app lands in bin (as bin/app if it is a
    // file, its files if a directory); bin and bin/** cover both.
    assert_eq!(
        p["steps"]["test"]["inputs"],
        json!({"build": ["bin", "bin/**"], "source": ["tests", "tests/**"]})
    );
    assert_eq!(
        p["steps"]["package"]["inputs"],
        json!({"build": ["dist", "dist/**"], "test": ["reports", "reports/**"]})
    );
    assert_eq!(p["artifactFrom"], json!(["package"]));
    assert_eq!(
        p["steps"]["build"]["signers"],
        json!([{"identity": "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main",
                "issuer": "https://token.actions.githubusercontent.com"}])
    );
    assert_eq!(d.jobs.get("publish").map(String::as_str), Some("package"));
    // publish needs build through test: no note about the order.
    assert!(d.notes.is_empty(), "{:?}", d.notes);
}

#[test]
fn drift_names_missing_steps_and_changed_inputs() {
    let text = include_str!("../../../../examples/gitlab/.gitlab-ci.yml");
    let d = derive(text, &gitlab_options()).unwrap();
    let committed = include_str!("../../../../examples/gitlab/release.yaml");
    // The policy lost the test step and lets package take reports from anywhere in build.
    let edited = committed
        .replace(
            "\"test\": [\"reports\", \"reports/**\"]",
            "\"build\": [\"reports/**\"]",
        )
        .replace("  \"test\":   # job test\n", "  \"check\":   # job check\n");
    let drift = diff(&d, &edited).unwrap();
    let fields: Vec<&str> = drift.iter().map(|x| x.field.as_str()).collect();
    assert!(fields.contains(&"steps.test"), "{fields:?}");
    assert!(fields.contains(&"steps.check"), "{fields:?}");
    assert!(fields.contains(&"steps.package.inputs"), "{fields:?}");
    assert!(
        drift
            .iter()
            .any(|x| x.message.contains("requires step \"check\"")),
        "{drift:?}"
    );
    assert!(matches!(
        diff(&d, "apiVersion: v0\n"),
        Err(PipelineError::Policy(_))
    ));
}

#[test]
fn references_anchors_and_merge_keys_are_followed() {
    let text = r#"
.defaults: &defaults
  stage: build
  artifacts: {paths: [out/]}
.steps:
  record: ["hallmark run --step build -m src -p out -- make"]
build:
  <<: *defaults
  before_script:
    - !reference [.hallmark, before_script]
  script:
    - !reference [.steps, record]
package:
  stage: test
  script:
    - !reference [.elsewhere, script]
    - hallmark run --step package -m out -p dist -- make dist
"#;
    let d = derive(text, &gitlab_options()).unwrap();
    assert_eq!(
        d.policy["steps"]["package"]["inputs"],
        json!({"build": ["out", "out/**"]})
    );
    let refs: Vec<&Note> = d
        .notes
        .iter()
        .filter(|n| n.message.contains("refers to"))
        .collect();
    assert_eq!(refs.len(), 1, "{:?}", d.notes);
    assert!(refs[0].message.contains(".elsewhere.script"));
}
