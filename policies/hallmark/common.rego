# Shared helpers of Hallmark's policy library. They read the settings only through `config`
# (config.rego), never data.hallmark_config.
package hallmark

import rego.v1

# The value of a config key; undefined when the key is absent or null (a rule reading it then
# does nothing).
setting(key) := v if {
	v := config[key]
	v != null
}

# The artifact as people name it: its name, else its digest.
artifact_label := name if {
	name := input.artifact.name
	is_string(name)
	name != ""
} else := input.artifact.digest

# Every verified SLSA-provenance step reachable backwards from the artifact.
steps := object.get(input, ["chain", "steps"], [])

# Ids of the steps that produced the artifact itself.
root_ids := object.get(input, ["chain", "roots"], [])

# Every verified provenance: the chain's steps, plus any provenance attestation of the artifact
# itself (the same records as the roots; kept so the rules hold if the chain is absent).
# Duplicates collapse because both sides build identical objects.
provenances contains p if {
	some st in steps
	p := {"origin": st.origin, "step": object.get(st, "step", null), "signers": object.get(st, "signers", []), "provenance": st.provenance}
}

provenances contains p if {
	some a in input.attestations
	is_object(a.provenance)
	p := {"origin": a.origin, "step": object.get(a, "step", null), "signers": object.get(a, "signers", []), "provenance": a.provenance}
}

# Everyone who signed a step of the build.
build_signers := {s | some p in provenances; some s in p.signers}

# "step \"build\"" for a named step, "the step of <origin>" otherwise (p is a chain step or a
# provenance record).
step_desc(p) := sprintf("step %q", [p.step]) if is_string(p.step)
else := sprintf("the step of %s", [p.origin])

# A material's producers (ids of chain steps); [] when no verified step produced it.
producers(m) := object.get(m, "producedBy", [])
