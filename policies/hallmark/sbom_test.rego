package hallmark_test.sbom

import rego.v1

import data.hallmark_test.fixtures as f

cfg := {"sbom_required": true}

without_sbom := f.doc_with([f.build_step({}), f.test_step({}), f.package_step({})], [])

with_sbom(predicate_type) := f.doc_with([f.build_step({}), f.test_step({}), f.package_step({})], [f.attestation("store sha256:5b", predicate_type, ["ci-key"])])

test_missing_sbom_is_denied if {
	some v in f.denied(without_sbom, cfg, "sbom.missing")
	v.msg == "no verified SBOM (SPDX or CycloneDX) attests dist/app.tar"
}

test_spdx_sbom_passes if {
	not "sbom.missing" in f.codes(with_sbom("https://spdx.dev/Document"), cfg)
	not "sbom.missing" in f.codes(with_sbom("https://spdx.dev/Document/v2.3"), cfg)
}

test_cyclonedx_sbom_passes if {
	not "sbom.missing" in f.codes(with_sbom("https://cyclonedx.org/bom"), cfg)
	not "sbom.missing" in f.codes(with_sbom("https://cyclonedx.org/bom/v1.5"), cfg)
}

test_other_predicate_is_not_an_sbom if {
	"sbom.missing" in f.codes(with_sbom("https://spdx.dev/DocumentX"), cfg)
	"sbom.missing" in f.codes(with_sbom("https://in-toto.io/attestation/test-result/v0.1"), cfg)
}

test_sbom_not_required_by_default if {
	not "sbom.missing" in f.codes(without_sbom, {})
	not "sbom.missing" in f.codes(without_sbom, {"sbom_required": false})
}
