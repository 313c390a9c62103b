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
