# Who may sign which step. Setting: step_signers {"<step>": ["<keyid or identity>", ...]}.
# A step of the chain with a listed name must carry at least one listed signer; steps with
# other names are not checked here.
package hallmark

import rego.v1

deny contains v if {
	some name, expected in setting("step_signers")
	some p in provenances
	p.step == name
	not signed_by_one_of(p, expected)
	v := {
		"code": "step.signer-not-allowed",
		"msg": sprintf("step %q (%s) was signed by %v, which is not allowed for that step (expected one of %v)", [name, p.origin, p.signers, expected]),
		"attestation": p.origin,
		"step": name,
		"expected": expected,
		"actual": p.signers,
	}
}

signed_by_one_of(p, expected) if {
	some s in p.signers
	s in expected
}
