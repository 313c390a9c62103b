# Integrity of the chain behind the artifact. Always on.
#
# - chain.unattested-input: a step consumed a material that no verified step of the chain
#   produced, that is not a declared external input (setting external_inputs: ["sha256:..."]),
#   and that the step may not read from the source. Source steps: the names in setting
#   source_steps, and the steps whose step_inputs name "source"; when neither names any, every
#   step that records a source (provenance sourceUri or sourceCommit) and none of whose materials
#   has a producer (it reads its inputs from the source checkout). A source step may read any
#   unproduced material, except with the object form of step_inputs: then only the materials whose
#   name matches one of its "source" patterns.
# - chain.input-from-wrong-step: with setting step_inputs, a material a step consumed that some
#   verified step produced does not come as the policy says (as in-toto's MATCH ... FROM). Two
#   forms per step:
#     list:   {"package": ["build", "test"]}: some producer of the material is named. "source"
#             makes the step a source step; for such a step, a material whose producers' products
#             with its digest all have other names is a content collision with a product, not a
#             hand-over: it counts as read from the source.
#     object: {"package": {"build": ["out/**"], "test": ["reports/**"]}}: some producer of the
#             material is a key and one of that key's glob patterns (glob.match, "/" separator)
#             matches the material's name. The key "source" makes the step a source step whose
#             unproduced materials must match its patterns. No collision exception.
# - chain.source-step-assumed (warning): no source step is named, so steps were taken as source
#   steps by the heuristic above; name them (source_steps, or "source" in step_inputs) so a chain
#   cut short and re-recorded from a tampered file cannot pass as starting at the source.
# - chain.step-failed: a step recorded a non-zero exit code, unless setting allow_failed_steps
#   names it (a step whose failure is expected and recorded, e.g. ["scan"]).
# - chain.truncated: a size limit stopped the walk, so the chain was not fully checked.
# - chain.unpinned-input: a step (source steps included) consumed a material recorded without a
#   digest (a resolvedDependency with no digest): nothing can tie it to an attested product or a
#   declared external input. One finding per material; chain.unattested-input skips it.
# - chain.artifact-from-wrong-step: with setting artifact_steps (["package"]), a step that
#   produced the artifact (input.chain.roots) has a name not in the list, or none did.
package hallmark

import rego.v1

deny contains v if {
	some st in steps
	some m in st.materials
	count(producers(m)) == 0
	pinned(m)
	not m.digest in external_digests
	not reads_from_source(st, m)
	v := {
		"code": "chain.unattested-input",
		"msg": sprintf("%s consumed %s that no attested step produced and that is not a declared external input%s%s", [step_desc(st), material_desc(m), source_patterns_desc(st), untracked_desc(m)]),
		"step": object.get(st, "step", null),
		"file": object.get(m, "name", null),
		"digest": m.digest,
		"attestation": st.origin,
	}
}

# Per-step facts computed once (Rego functions are not memoised; these are read per material).
source_step_ids := {st.id | some st in steps; source_step(st)}

patterned_step_ids := {st.id | some st in steps; has_source_patterns(st)}

# An unproduced material a step may read from the source: any, for a source step without
# source patterns; one whose name matches a pattern, for a step with them (object form).
reads_from_source(st, m) if {
	st.id in source_step_ids
	not st.id in patterned_step_ids
	not m.uncommitted
}

reads_from_source(st, m) if {
	st.id in patterned_step_ids
	name_matches(m, object_inputs(st).source)
	not m.uncommitted
}

untracked_desc(m) := "; it is not committed to the source (untracked, ignored or hidden from git status)" if m.uncommitted == true
else := ""

# The object form of the step's step_inputs has a key "source".
has_source_patterns(st) if "source" in object.keys(object_inputs(st))

source_patterns_desc(st) := sprintf(", nor a source file it may read (%v)", [object_inputs(st).source]) if has_source_patterns(st)
else := ""

# The material's name matches one of the glob patterns ("/" separates segments: "*" within
# one, "**" across). A non-list of patterns or a non-string name matches nothing.
name_matches(m, patterns) if {
	name := object.get(m, "name", null)
	is_string(name)
	is_array(patterns)
	some pattern in patterns
	is_string(pattern)
	glob.match(pattern, ["/"], name)
}

# Every material of every step, source steps included, records a digest.
deny contains v if {
	some st in steps
	some m in st.materials
	not pinned(m)
	v := {
		"code": "chain.unpinned-input",
		"msg": sprintf("%s consumed %s with no digest: an unpinned input cannot be checked", [step_desc(st), quote(object.get(m, "name", null))]),
		"step": object.get(st, "step", null),
		"file": object.get(m, "name", null),
		"digest": null,
		"attestation": st.origin,
	}
}

# The artifact comes from one of the named steps, when the list is configured.
deny contains v if {
	allowed := setting("artifact_steps")
	some st in root_steps
	name := object.get(st, "step", null)
	not name in allowed
	v := {
		"code": "chain.artifact-from-wrong-step",
		"msg": sprintf("%s was produced by %s, not by one of %v", [artifact_label, step_ref(st), allowed]),
		"step": name,
		"attestation": st.origin,
		"expected": allowed,
		"actual": name,
	}
}

deny contains v if {
	allowed := setting("artifact_steps")
	count(root_steps) == 0
	v := {
		"code": "chain.artifact-from-wrong-step",
		"msg": sprintf("no verified step of the chain produced %s (expected one of %v)", [artifact_label, allowed]),
		"step": null,
		"expected": allowed,
		"actual": null,
	}
}

# The declared external inputs, as a set (read per material).
external_digests := {d | some d in setting("external_inputs")}

# Source steps are named when source_steps is set, or when step_inputs lists "source" for them.
source_steps_named if setting("source_steps")

source_steps_named if {
	some _, inputs in setting("step_inputs")
	names_source(inputs)
}

# The step_inputs entry of a step: a list, an object, or undefined when it has none.
step_inputs_of(st) := inputs if {
	name := object.get(st, "step", null)
	is_string(name)
	inputs := setting("step_inputs")[name]
	inputs != null
}

# The object form of a step's step_inputs; undefined for the list form or none.
object_inputs(st) := inputs if {
	inputs := step_inputs_of(st)
	is_object(inputs)
}

# "source" in a list of inputs, or a key "source" of an object of inputs.
names_source(inputs) if {
	is_array(inputs)
	"source" in inputs
}

names_source(inputs) if {
	is_object(inputs)
	"source" in object.keys(inputs)
}

source_step(st) if st.step in setting("source_steps")

source_step(st) if names_source(step_inputs_of(st))

source_step(st) if assumed_source_step(st)

assumed_source_step(st) if {
	not source_steps_named
	records_source(st)
	not consumes_produced_material(st)
}

assumed_source_step_ids := {st.id | some st in steps; assumed_source_step(st)}

warn contains v if {
	some st in steps
	st.id in assumed_source_step_ids
	some m in st.materials
	count(producers(m)) == 0
	v := {
		"code": "chain.source-step-assumed",
		"msg": sprintf("%s was taken as reading from the source checkout because it consumed nothing an attested step produced; name the source steps in the policy (sourceSteps, or inputs: [source])", [step_desc(st)]),
		"step": object.get(st, "step", null),
		"attestation": st.origin,
	}
}

# Step names by id, built once.
step_name_by_id := {st.id: object.get(st, "step", null) | some st in steps}

# The names of the steps that produced a material.
producer_names(m) := {n | some id in producers(m); n := step_name_by_id[id]}

# Each material a step consumed must come only from steps named for it (list form).
deny contains v if {
	some st in steps
	allowed := step_inputs_of(st)
	is_array(allowed)
	some m in st.materials
	count(producers(m)) > 0
	names := producer_names(m)
	# Every step that produced it must be allowed: an old or sibling output of an allowed step,
	# copied over the file by a step that is not, is still a hand-over by that step.
	some n in names
	not n in allowed
	not source_lookalike(m, allowed)
	v := {
		"code": "chain.input-from-wrong-step",
		"msg": sprintf("%s consumed %s, produced by %v, not by one of the steps it may take inputs from (%v)", [step_desc(st), material_desc(m), names, allowed]),
		"step": object.get(st, "step", null),
		"file": object.get(m, "name", null),
		"digest": material_digest(m),
		"attestation": st.origin,
		"expected": allowed,
		"actual": names,
	}
}

# A source step (list form) read a file whose content happens to equal a product of another
# step under another name (an empty file, a license text): a content collision, not a hand-over,
# so the material counts as read from the source. Every product with the material's digest of
# every step that produced it has a name other than the material's.
source_lookalike(m, allowed) if {
	"source" in allowed
	pinned(m)
	name := object.get(m, "name", null)
	same := [pr |
		some id in producers(m)
		some p in steps
		p.id == id
		some pr in object.get(p, "products", [])
		object.get(pr, "digest", null) == m.digest
	]
	count(same) > 0
	every pr in same {
		object.get(pr, "name", null) != name
	}
}

# Each material a step consumed that a step produced comes from a step named for it, under a
# name one of that step's patterns matches (object form; strict: no collision exception).
deny contains v if {
	some st in steps
	allowed := object_inputs(st)
	some m in st.materials
	count(producers(m)) > 0
	names := producer_names(m)
	not object_input_allowed(allowed, names, m)
	patterns := {n: ps | some n in names; is_string(n); ps := object.get(allowed, n, [])}
	v := {
		"code": "chain.input-from-wrong-step",
		"msg": sprintf("%s consumed %s, produced by %v, but it may take from those steps only files matching %v", [step_desc(st), material_desc(m), names, patterns]),
		"step": object.get(st, "step", null),
		"file": object.get(m, "name", null),
		"digest": material_digest(m),
		"attestation": st.origin,
		"expected": patterns,
		"actual": names,
	}
}

# Every step that produced the material is named for it, and its patterns match the file.
object_input_allowed(allowed, names, m) if {
	every n in names {
		is_string(n)
		name_matches(m, allowed[n])
	}
}

records_source(st) if is_string(st.provenance.sourceUri)

records_source(st) if is_string(st.provenance.sourceCommit)

consumes_produced_material(st) if {
	some m in st.materials
	count(producers(m)) > 0
}

deny contains v if {
	some st in steps
	code := object.get(st, "exitCode", null)
	is_number(code)
	code != 0
	not object.get(st, "step", null) in allowed_failed_steps
	not superseded(st)
	v := {
		"code": "chain.step-failed",
		"msg": sprintf("%s exited with code %v", [step_ref(st), code]),
		"step": object.get(st, "step", null),
		"attestation": st.origin,
		"expected": 0,
		"actual": code,
	}
}

# Ids of the steps that recorded a non-zero exit code.
failed_step_ids := {st.id |
	some st in steps
	code := object.get(st, "exitCode", null)
	is_number(code)
	code != 0
}

# A failed step is superseded when the chain uses something of it and everything of it the chain
# uses also came, byte for byte, from a step that succeeded (a failed attempt and its successful
# re-run produce the same file). A failed step nothing uses (a failed test run) is not.
superseded(st) if {
	used(st)
	not relied_on(st)
}

used(st) if st.id in root_ids

used(st) if {
	some consumer in steps
	some m in consumer.materials
	st.id in producers(m)
}

relied_on(st) if {
	st.id in root_ids
	not any_succeeded(root_ids)
}

relied_on(st) if {
	some consumer in steps
	some m in consumer.materials
	st.id in producers(m)
	not any_succeeded(producers(m))
}

any_succeeded(ids) if {
	some id in ids
	not id in failed_step_ids
}

# The steps allowed to record a failure (setting allow_failed_steps; none by default).
allowed_failed_steps := s if {
	s := setting("allow_failed_steps")
	is_array(s)
} else := []

deny contains v if {
	object.get(input, ["chain", "truncated"], false) == true
	v := {
		"code": "chain.truncated",
		"msg": sprintf("the chain of %s was cut short by a size limit (%d steps walked), so it could not be fully checked", [artifact_label, count(steps)]),
	}
}
