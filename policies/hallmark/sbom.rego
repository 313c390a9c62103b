# An SBOM must attest the artifact. Setting: sbom_required: true.
# SBOMs: predicateType https://spdx.dev/Document (any version, e.g. .../Document/v2.3) or
# https://cyclonedx.org/bom (any version).
package hallmark

import rego.v1

deny contains v if {
	setting("sbom_required") == true
	not has_sbom
	v := {
		"code": "sbom.missing",
		"msg": sprintf("no verified SBOM (SPDX or CycloneDX) attests %s", [artifact_label]),
	}
}

has_sbom if {
	some a in input.attestations
	is_sbom(predicate_type(a))
}

predicate_type(a) := a.predicateType if is_string(a.predicateType)
else := a.statement.predicateType

is_sbom(t) if t == "https://spdx.dev/Document"

is_sbom(t) if startswith(t, "https://spdx.dev/Document/")

is_sbom(t) if startswith(t, "https://cyclonedx.org/bom")
