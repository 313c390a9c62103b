# Human approvals of the artifact. Setting: approvals {"required": N, "approvers": [...]}.
# An approver is a signer of a verified approval attestation
# (predicateType https://hallmark.dev/approval/v1) of the artifact, listed in approvers (when
# approvers is absent, any signer counts), who signed no step of the build: builders may not
# approve their own build. Fewer than N distinct approvers denies.
package hallmark

import rego.v1

approval_type := "https://hallmark.dev/approval/v1"

approval_signers contains s if {
	some a in input.attestations
	a.predicateType == approval_type
	some s in a.signers
	approver_listed(s)
}

approver_listed(s) if s in setting("approvals").approvers

approver_listed(_) if not setting("approvals").approvers

valid_approvers := {s | some s in approval_signers; not s in build_signers}

excluded_approvers := {s | some s in approval_signers; s in build_signers}

deny contains v if {
	required := setting("approvals").required
	count(valid_approvers) < required
	v := {
		"code": "approval.insufficient",
		"msg": sprintf("%s needs %v approvals, has %d valid (%v); excluded for having signed a step of the build: %v", [artifact_label, required, count(valid_approvers), sort(valid_approvers), sort(excluded_approvers)]),
		"expected": required,
		"actual": count(valid_approvers),
		"approvers": sort(valid_approvers),
		"excluded": sort(excluded_approvers),
	}
}
