package hallmark_test.runners

import rego.v1

import data.hallmark_test.fixtures as f

cfg := {"allow_self_hosted_runners": false}

self_hosted := f.with_steps([f.build_step({"runnerEnvironment": "self-hosted"}), f.test_step({}), f.package_step({})])

test_self_hosted_step_is_denied if {
	vs := f.denied(self_hosted, cfg, "runner.self-hosted")
	count(vs) == 1
	some v in vs
	v.step == "build"
	v.attestation == "store sha256:01"
	v.actual == "self-hosted"
}

test_hosted_runners_pass if {
	not "runner.self-hosted" in f.codes(f.good, cfg)
}

test_self_hosted_allowed_unless_configured if {
	not "runner.self-hosted" in f.codes(self_hosted, {})
	not "runner.self-hosted" in f.codes(self_hosted, {"allow_self_hosted_runners": true})
}

test_github_provenance_runner_is_read if {
	gh := {
		"origin": "registry ghcr.io/acme/app sha256:77",
		"predicateType": "https://slsa.dev/provenance/v1",
		"statement": {"predicateType": "https://slsa.dev/provenance/v1", "predicate": {"buildDefinition": {"internalParameters": {"github": {"runner_environment": "self-hosted"}}}}},
		"signers": ["https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main (issuer https://token.actions.githubusercontent.com)"],
		"step": null,
		"provenance": {"buildType": "https://actions.github.io/buildtypes/workflow/v1", "builderId": "https://github.com/actions/runner/self-hosted"},
	}
	doc := object.union(f.good, {"attestations": array.concat(f.good.attestations, [gh])})
	some v in f.denied(doc, cfg, "runner.self-hosted")
	v.attestation == "registry ghcr.io/acme/app sha256:77"
}

test_unnamed_self_hosted_step_names_its_origin_once if {
	doc := f.with_steps([f.build_step({"step": null, "runnerEnvironment": "self-hosted"}), f.test_step({}), f.package_step({})])
	some v in f.denied(doc, cfg, "runner.self-hosted")
	v.msg == "the step of store sha256:01 ran on a self-hosted runner, which is not allowed"
}
