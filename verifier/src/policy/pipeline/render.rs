//! Writes a derived policy as YAML that reads well: fields in the order of docs/policy-file.md,
//! every string quoted (JSON strings are YAML), the notes as comments.

use serde_json::Value;

use super::Derived;

fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

/// Text safe inside a `#` comment: no line breaks of any kind (YAML's, Unicode's) and no other
/// control characters, so a note cannot end its comment and write policy lines.
fn comment_text(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{85}' | '\u{2028}' | '\u{2029}' => ' ',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

fn flow(v: &Value) -> String {
    match v {
        Value::String(s) => q(s),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(flow).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", q(k), flow(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// The YAML text of `d`, with a header naming `source`.
pub(super) fn yaml(d: &Derived, source: &str) -> String {
    let p = &d.policy;
    let mut out = String::new();
    out.push_str(&format!(
        "# Derived by `hallmark policy init` from {source} ({} pipeline).\n# Check it, commit it, and keep it in step with `hallmark policy diff --from {source} POLICY`.\n",
        d.platform.name()
    ));
    for n in &d.notes {
        let who = n
            .job
            .as_deref()
            .map(|j| format!("job {j:?}: "))
            .unwrap_or_default();
        out.push_str(&format!("# NOTE {who}{}\n", comment_text(&n.message)));
    }
    out.push_str(&format!(
        "apiVersion: {}\nkind: ReleasePolicy\nsteps:\n",
        q(p["apiVersion"].as_str().unwrap_or_default())
    ));
    if let Some(steps) = p["steps"].as_object() {
        for (name, rule) in steps {
            out.push_str(&format!("  {}:\n", q(name)));
            if let Some(by) = d.jobs.iter().find(|(_, s)| *s == name).map(|(j, _)| j) {
                out.truncate(out.len() - 1);
                // Quoted: a job name from the pipeline file never starts a YAML line of its own.
                out.push_str(&format!("   # job {}\n", q(by)));
            }
            match &rule["inputs"] {
                Value::Null => {}
                Value::Object(map) => {
                    out.push_str("    inputs:\n");
                    for (from, globs) in map {
                        out.push_str(&format!("      {}: {}\n", q(from), flow(globs)));
                    }
                }
                other => out.push_str(&format!("    inputs: {}\n", flow(other))),
            }
            if let Some(signers) = rule.get("signers").and_then(Value::as_array) {
                out.push_str("    signers:\n");
                for s in signers {
                    out.push_str(&format!("      - {}\n", flow(s)));
                }
            }
        }
    }
    out.push_str(&format!("artifactFrom: {}\n", flow(&p["artifactFrom"])));
    out.push_str("sources:\n");
    if let Some(src) = p["sources"].as_object() {
        for (k, v) in src {
            out.push_str(&format!("  {k}: {}\n", flow(v)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_cannot_be_ended_by_the_pipeline_file() {
        let hostile = "x\n    signers: [{identity: \".*\"}]\r\u{2028}y\u{85}z";
        let text = comment_text(hostile);
        assert!(
            !text.contains(['\n', '\r', '\u{2028}', '\u{85}']),
            "{text:?}"
        );
        assert!(!q("build\nsigners: x").contains('\n'));
    }
}
