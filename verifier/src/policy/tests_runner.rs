//! `hallmark policy test`: every `test_*` rule in a policy directory must be true, as with
//! `opa test`.

use std::path::Path;

use super::{Policy, PolicyError};

/// One test's result.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TestOutcome {
    /// `data.<package>.<rule>`.
    pub name: String,
    /// True when the rule evaluated to `true`.
    pub passed: bool,
    /// Why not, when it did not.
    pub detail: String,
}

/// `hallmark.with_facts(doc)`, for tests only: a hand-written policy input completed with the
/// derived facts ([`super::facts::add_facts`], the code that completes real inputs), so tests of
/// the library run on what a real decision sees. regorus's extension API takes `anyhow` results.
fn with_facts(args: Vec<regorus::Value>) -> anyhow::Result<regorus::Value> {
    let [doc] = <[regorus::Value; 1]>::try_from(args)
        .map_err(|_| anyhow::anyhow!("hallmark.with_facts takes one argument"))?;
    let mut input: serde_json::Value = serde_json::from_str(&doc.to_json_str()?)?;
    super::facts::add_facts(&mut input);
    regorus::Value::from_json_str(&serde_json::to_string(&input)?)
}

/// Runs the tests of the policies under `dir`.
pub fn run_tests(dir: &Path) -> Result<Vec<TestOutcome>, PolicyError> {
    let policy = Policy::load(dir, true)?;
    let mut outcomes = Vec::new();
    for (file, text) in &policy.sources {
        let package = text
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("package ")
                    .map(|p| p.trim().to_owned())
            })
            .ok_or_else(|| super::error(Path::new(file), "no package"))?;
        let mut names: Vec<String> = text
            .lines()
            .filter_map(|l| {
                let name: String = l
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                (name.starts_with("test_")
                    && l[name.len()..]
                        .trim_start()
                        .starts_with(['i', '{', ':', '=']))
                .then_some(name)
            })
            .collect();
        names.dedup();
        for name in names {
            let full = format!("data.{package}.{name}");
            let mut engine = policy.engine()?;
            engine
                .add_extension("hallmark.with_facts".into(), 1, Box::new(with_facts))
                .map_err(|e| super::error(Path::new(file), e.to_string()))?;
            let (passed, detail) = match engine.eval_rule(full.clone()) {
                Ok(regorus::Value::Bool(true)) => (true, String::new()),
                Ok(v) => (
                    false,
                    format!(
                        "evaluated to {}",
                        v.to_json_str().unwrap_or_else(|_| "undefined".into())
                    ),
                ),
                Err(e) => (false, e.to_string()),
            };
            outcomes.push(TestOutcome {
                name: full,
                passed,
                detail,
            });
        }
    }
    Ok(outcomes)
}
