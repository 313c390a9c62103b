package hallmark_test.approvals

import rego.v1

import data.hallmark_test.fixtures as f

cfg := {"approvals": {"required": 2, "approvers": ["alice", "bob", "carol", "ci-key"]}}

with_approvals(approvals) := f.doc_with([f.build_step({}), f.test_step({}), f.package_step({})], approvals)

test_enough_approvals_pass if {
	not "approval.insufficient" in f.codes(f.good, cfg)
}

test_one_signature_with_two_approvers_counts_twice if {
	doc := with_approvals([f.approval("store sha256:a1", ["alice", "bob"])])
	not "approval.insufficient" in f.codes(doc, cfg)
}

test_too_few_approvals_are_denied if {
	doc := with_approvals([f.approval("store sha256:a1", ["alice"])])
	some v in f.denied(doc, cfg, "approval.insufficient")
	v.expected == 2
	v.actual == 1
	v.approvers == ["alice"]
}

test_same_approver_counts_once if {
	doc := with_approvals([f.approval("store sha256:a1", ["alice"]), f.approval("store sha256:a2", ["alice"])])
	"approval.insufficient" in f.codes(doc, cfg)
}

test_builder_may_not_approve_own_build if {
	# ci-key signed the build steps: its approval does not count.
	doc := with_approvals([f.approval("store sha256:a1", ["alice"]), f.approval("store sha256:a2", ["ci-key"])])
	some v in f.denied(doc, cfg, "approval.insufficient")
	v.actual == 1
	v.excluded == ["ci-key"]
	v.msg == `dist/app.tar needs 2 approvals, has 1 valid (["alice"]); excluded for having signed a step of the build: ["ci-key"]`
}

test_unlisted_approver_does_not_count if {
	doc := with_approvals([f.approval("store sha256:a1", ["alice"]), f.approval("store sha256:a2", ["mallory"])])
	"approval.insufficient" in f.codes(doc, cfg)
}

test_other_predicates_are_not_approvals if {
	doc := with_approvals([f.approval("store sha256:a1", ["alice"]), f.attestation("store sha256:a2", "https://example.com/other/v1", ["bob"])])
	"approval.insufficient" in f.codes(doc, cfg)
}

test_without_approvers_list_any_signer_counts if {
	doc := with_approvals([f.approval("store sha256:a1", ["alice"]), f.approval("store sha256:a2", ["mallory"])])
	not "approval.insufficient" in f.codes(doc, {"approvals": {"required": 2}})
	"approval.insufficient" in f.codes(doc, {"approvals": {"required": 3}})
}

test_approvals_not_required_by_default if {
	not "approval.insufficient" in f.codes(with_approvals([]), {})
}

# --- the environment and the age of approvals ---

in_env(doc, env) := object.union(doc, {"context": {"facts": {"environment": env}}})

test_approval_for_another_environment_is_set_aside if {
	doc := in_env(with_approvals([f.approval_with("store sha256:a1", ["alice"], {"environment": "prod"}), f.approval_with("store sha256:a2", ["bob"], {"environment": "staging"})]), "prod")
	vs := f.denied(doc, cfg, "approval.insufficient")
	count(vs) == 1
	some v in vs
	v.actual == 1
	v.approvers == ["alice"]
	v.set_aside == [{"attestation": "store sha256:a2", "signers": ["bob"], "reason": `approved for environment "staging", not "prod"`}]
	v.msg == `dist/app.tar needs 2 approvals, has 1 valid (["alice"]); excluded for having signed a step of the build: []; set aside: store sha256:a2 signed by ["bob"] (approved for environment "staging", not "prod")`
}

test_approvals_for_the_environment_or_none_count if {
	doc := in_env(with_approvals([f.approval_with("store sha256:a1", ["alice"], {"environment": "prod"}), f.approval("store sha256:a2", ["bob"])]), "prod")
	not "approval.insufficient" in f.codes(doc, cfg)
	# Without an environment fact, an approval's environment is not checked.
	other := with_approvals([f.approval_with("store sha256:a1", ["alice"], {"environment": "staging"}), f.approval("store sha256:a2", ["bob"])])
	not "approval.insufficient" in f.codes(other, cfg)
}

test_old_approval_is_set_aside if {
	aged := {"approvals": {"required": 2, "approvers": ["alice", "bob"], "max_age_hours": 72}}
	doc := with_approvals([f.approval("store sha256:a1", ["alice"]), f.approval_with("store sha256:a2", ["bob"], {"approvedAt": "2026-11-01T00:00:00Z"})])
	some v in f.denied(doc, aged, "approval.insufficient")
	v.actual == 1
	v.set_aside == [{"attestation": "store sha256:a2", "signers": ["bob"], "reason": "approved at 2026-11-01T00:00:00Z (claimed approvedAt, not verified), more than 72 hours before 2026-11-25T12:00:00Z"}]
	v.msg == `dist/app.tar needs 2 approvals, has 1 valid (["alice"]); excluded for having signed a step of the build: []; set aside: store sha256:a2 signed by ["bob"] (approved at 2026-11-01T00:00:00Z (claimed approvedAt, not verified), more than 72 hours before 2026-11-25T12:00:00Z)`
	# Without a maximum age it counts.
	not "approval.insufficient" in f.codes(doc, cfg)
}

test_approval_without_approved_at_is_set_aside_when_age_is_limited if {
	aged := {"approvals": {"required": 2, "approvers": ["alice", "bob"], "max_age_hours": 72}}
	doc := with_approvals([f.approval("store sha256:a1", ["alice"]), f.attestation("store sha256:a2", "https://hallmark.dev/approval/v1", ["bob"])])
	some v in f.denied(doc, aged, "approval.insufficient")
	v.set_aside == [{"attestation": "store sha256:a2", "signers": ["bob"], "reason": "it has no verified time and records no approvedAt, so its age cannot be checked against approvals.max_age_hours 72"}]
	not "approval.insufficient" in f.codes(doc, {"approvals": {"required": 2, "approvers": ["alice", "bob"]}})
	bad := with_approvals([f.approval("store sha256:a1", ["alice"]), f.approval_with("store sha256:a2", ["bob"], {"approvedAt": "last week"})])
	some w in f.denied(bad, aged, "approval.insufficient")
	w.set_aside[0].reason == `it has no verified time and its approvedAt "last week" is not an RFC 3339 time, so its age cannot be checked against approvals.max_age_hours 72`
}

test_recent_approvals_count if {
	aged := {"approvals": {"required": 2, "approvers": ["alice", "bob"], "max_age_hours": 72}}
	not "approval.insufficient" in f.codes(f.good, aged)
	some v in f.denied(with_approvals([f.approval("store sha256:a1", ["alice"])]), aged, "approval.insufficient")
	v.set_aside == []
}

# --- the time of an approval: verified, else claimed; and approvals in the future ---

aged := {"approvals": {"required": 2, "approvers": ["alice", "bob"], "max_age_hours": 72}}

# An approval whose signing time a transparency log proved.
verified_approval(origin, signers, times, patch) := object.union(f.approval_with(origin, signers, patch), {"verifiedTimes": times})

test_approval_claimed_in_the_future_is_set_aside if {
	# approvedAt a year ahead would otherwise pass any age limit.
	doc := with_approvals([f.approval("store sha256:a1", ["alice"]), f.approval_with("store sha256:a2", ["bob"], {"approvedAt": "2027-11-25T12:00:00Z"})])
	some v in f.denied(doc, aged, "approval.insufficient")
	v.actual == 1
	v.set_aside == [{"attestation": "store sha256:a2", "signers": ["bob"], "reason": "approved at 2027-11-25T12:00:00Z (claimed approvedAt, not verified), in the future: more than 300 seconds after the verification time 2026-11-25T12:00:00Z"}]
	# Only with a maximum age.
	not "approval.insufficient" in f.codes(doc, cfg)
}

test_approval_within_the_clock_skew_counts if {
	doc := with_approvals([f.approval("store sha256:a1", ["alice"]), f.approval_with("store sha256:a2", ["bob"], {"approvedAt": "2026-11-25T12:05:00Z"})])
	not "approval.insufficient" in f.codes(doc, aged)
	late := with_approvals([f.approval("store sha256:a1", ["alice"]), f.approval_with("store sha256:a2", ["bob"], {"approvedAt": "2026-11-25T12:05:01Z"})])
	"approval.insufficient" in f.codes(late, aged)
}

test_approval_verified_in_the_future_is_set_aside if {
	# The log proves it was signed after the verification time (say, verifying as of a past
	# date): it is set aside whatever approvedAt claims.
	doc := with_approvals([f.approval("store sha256:a1", ["alice"]), verified_approval("store sha256:a2", ["bob"], ["2026-11-26T09:00:00Z"], {})])
	some v in f.denied(doc, aged, "approval.insufficient")
	v.set_aside == [{"attestation": "store sha256:a2", "signers": ["bob"], "reason": "signed at 2026-11-26T09:00:00Z (verified time), in the future: more than 300 seconds after the verification time 2026-11-25T12:00:00Z"}]
}

test_verified_time_wins_over_approved_at if {
	# Signed long ago, claiming to be recent: too old.
	old := with_approvals([f.approval("store sha256:a1", ["alice"]), verified_approval("store sha256:a2", ["bob"], ["2026-11-01T00:00:00Z"], {})])
	some v in f.denied(old, aged, "approval.insufficient")
	v.set_aside == [{"attestation": "store sha256:a2", "signers": ["bob"], "reason": "signed at 2026-11-01T00:00:00Z (verified time), more than 72 hours before 2026-11-25T12:00:00Z"}]
	# Signed recently, claiming an old or a future date, or none: the verified time counts.
	for_old_claim := with_approvals([f.approval("store sha256:a1", ["alice"]), verified_approval("store sha256:a2", ["bob"], ["2026-11-25T11:30:00Z"], {"approvedAt": "2026-11-01T00:00:00Z"})])
	not "approval.insufficient" in f.codes(for_old_claim, aged)
	for_future_claim := with_approvals([f.approval("store sha256:a1", ["alice"]), verified_approval("store sha256:a2", ["bob"], ["2026-11-25T11:30:00Z"], {"approvedAt": "2027-01-01T00:00:00Z"})])
	not "approval.insufficient" in f.codes(for_future_claim, aged)
	unclaimed := with_approvals([f.approval("store sha256:a1", ["alice"]), verified_approval("store sha256:a2", ["bob"], ["2026-11-25T11:30:00Z"], {"approvedAt": null})])
	not "approval.insufficient" in f.codes(unclaimed, aged)
}

test_earliest_verified_time_is_the_approval_time if {
	# Two log entries: the earliest, in range, is the time; one unparseable entry is ignored.
	doc := with_approvals([f.approval("store sha256:a1", ["alice"]), verified_approval("store sha256:a2", ["bob"], ["2026-11-26T09:00:00Z", "soon", "2026-11-25T11:00:00Z"], {})])
	not "approval.insufficient" in f.codes(doc, aged)
	# Only unparseable verified times: the claimed approvedAt is used.
	claimed := with_approvals([f.approval("store sha256:a1", ["alice"]), verified_approval("store sha256:a2", ["bob"], ["soon"], {"approvedAt": "2027-11-25T12:00:00Z"})])
	some v in f.denied(claimed, aged, "approval.insufficient")
	startswith(v.set_aside[0].reason, "approved at 2027-11-25T12:00:00Z (claimed approvedAt, not verified), in the future")
}
