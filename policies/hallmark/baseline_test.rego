package hallmark_test

import rego.v1

attestation(step, builder, source, finished) := {
	"origin": sprintf("store %s", [step]),
	"step": step,
	"provenance": {"builderId": builder, "sourceUri": source, "finishedOn": finished},
}

good := {
	"artifact": {"digest": "sha256:aa"},
	"attestations": [
		attestation("build", "https://ci.example/builder", "git+https://git.example/acme/app@refs/heads/main", "2026-11-25T10:00:00Z"),
		attestation("package", "https://ci.example/builder", "git+https://git.example/acme/app@refs/heads/main", "2026-11-25T10:05:00Z"),
	],
	"context": {"time": "2026-11-25T12:00:00Z"},
}

config := {
	"required_steps": ["build", "package"],
	"trusted_builders": ["https://ci.example/builder"],
	"source_repositories": ["https://git.example/acme/app"],
	"max_age_hours": 24,
}

codes(input_doc) := {v.code | some v in data.hallmark.deny with input as input_doc with data.hallmark_config as config}

test_intact_chain_is_allowed if {
	count(codes(good)) == 0
}

test_missing_step_is_denied if {
	doc := object.union(good, {"attestations": [good.attestations[0]]})
	"step.missing" in codes(doc)
}

test_untrusted_builder_is_denied if {
	doc := object.union(good, {"attestations": [attestation("build", "https://evil.example/b", "git+https://git.example/acme/app@refs/heads/main", "2026-11-25T10:00:00Z")]})
	"builder.untrusted" in codes(doc)
}

test_foreign_source_is_denied if {
	doc := object.union(good, {"attestations": [attestation("build", "https://ci.example/builder", "git+https://git.example/fork/app@refs/heads/main", "2026-11-25T10:00:00Z")]})
	"source.untrusted" in codes(doc)
}

test_old_provenance_is_denied if {
	doc := object.union(good, {"context": {"time": "2026-11-28T12:00:00Z"}})
	"provenance.too-old" in codes(doc)
}

test_nothing_verified_is_denied if {
	doc := object.union(good, {"attestations": []})
	"attestation.none" in codes(doc)
}
