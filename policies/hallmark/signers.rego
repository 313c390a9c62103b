# Who may sign which step. Setting: step_signers {"<step>": ["<keyid or identity>", ...]}.
# A step of the chain with a listed name must carry at least one listed signer; steps with
# other names are not checked here.
#
# Approvers may not sign steps: with approvals.approvers set, a signer listed there and nowhere
# in step_signers is an approver only, and a chain step signed by approvers only is denied
# (step.signed-by-approver), whatever its name. Otherwise an approval key could sign a
# step of a name step_signers does not list.
package hallmark

import rego.v1

# The records whose signers are judged: the chain's steps (copies of one statement merged, so
# every genuine signer counts), or the provenance attestations when there is no chain.
signed_steps := steps if count(steps) > 0
else := [p | some p in provenances]

deny contains v if {
	signers_by_step := step_signers
	some p in signed_steps
	expected := signers_by_step[p.step]
	count([s | some s in p.signers; s in expected]) == 0
	name := p.step
	v := {
		"code": "step.signer-not-allowed",
		"msg": sprintf("%s was signed by %v, which is not allowed for that step (expected one of %v)", [step_ref(p), p.signers, expected]),
		"attestation": p.origin,
		"step": name,
		"expected": expected,
		"actual": p.signers,
	}
}

step_signers := s if {
	s := settings.step_signers
	is_object(s)
} else := {}

# Every signer step_signers names, for any step.
step_signer_names := {s | some _, list in settings.step_signers; some s in list}

# The approvers who may sign no step.
approver_only := {s | some s in settings.approvals.approvers; not s in step_signer_names}

deny contains v if {
	count(approver_only) > 0
	some st in steps
	signers := object.get(st, "signers", [])
	count(signers) > 0
	every s in signers {
		s in approver_only
	}
	v := {
		"code": "step.signed-by-approver",
		"msg": sprintf("%s was signed only by %v, listed as approvers and not as step signers: an approver may not sign a step of the build", [step_ref(st), signers]),
		"attestation": st.origin,
		"step": object.get(st, "step", null),
		"expected": sort(step_signer_names),
		"actual": signers,
	}
}
