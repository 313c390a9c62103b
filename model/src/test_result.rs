//! The in-toto test-result predicate (`https://in-toto.io/attestation/test-result/v0.1`): the
//! outcome of one test-suite run over the artifacts it tested (the statement's subjects).

use serde::{Deserialize, Serialize};

use crate::resource::ResourceDescriptor;

/// predicateType of a test result.
pub const TEST_RESULT_V0_1: &str = "https://in-toto.io/attestation/test-result/v0.1";

/// Most test names read from a summary, over all three lists.
pub const MAX_TEST_NAMES: usize = 100_000;

/// The outcome of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TestOutcome {
    /// Every test passed without warnings.
    Passed,
    /// Passed, with warnings.
    Warned,
    /// A test failed (or the suite did).
    Failed,
}

/// The test-result predicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestResult {
    /// The outcome.
    pub result: TestOutcome,
    /// The configuration the suite ran with (required; may be empty).
    pub configuration: Vec<ResourceDescriptor>,
    /// A link to the run (the CI job), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Tests that passed.
    #[serde(default)]
    pub passed_tests: Vec<String>,
    /// Tests that passed with warnings.
    #[serde(default)]
    pub warned_tests: Vec<String>,
    /// Tests that failed.
    #[serde(default)]
    pub failed_tests: Vec<String>,
}

/// Per-test names a test harness reports (a summary file), each list optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestNames {
    /// Tests that passed.
    #[serde(default)]
    pub passed_tests: Vec<String>,
    /// Tests that passed with warnings.
    #[serde(default)]
    pub warned_tests: Vec<String>,
    /// Tests that failed.
    #[serde(default)]
    pub failed_tests: Vec<String>,
}

impl TestNames {
    /// How many names in all.
    pub fn len(&self) -> usize {
        self.passed_tests.len() + self.warned_tests.len() + self.failed_tests.len()
    }

    /// True when no test is named.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl TestResult {
    /// The result of a run whose command exited with `exit_code`: FAILED when it failed or a
    /// test is named as failed, WARNED when one is named as warned, else PASSED. A suite that
    /// exits 0 while naming a failed test is still FAILED.
    pub fn of_run(
        exit_code: i32,
        names: TestNames,
        configuration: Vec<ResourceDescriptor>,
        url: Option<String>,
    ) -> Self {
        let result = if exit_code != 0 || !names.failed_tests.is_empty() {
            TestOutcome::Failed
        } else if !names.warned_tests.is_empty() {
            TestOutcome::Warned
        } else {
            TestOutcome::Passed
        };
        TestResult {
            result,
            configuration,
            url,
            passed_tests: names.passed_tests,
            warned_tests: names.warned_tests,
            failed_tests: names.failed_tests,
        }
    }

    /// The predicate as JSON.
    pub fn to_value(&self) -> serde_json::Value {
        // A struct of strings and lists always serializes.
        serde_json::to_value(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outcome_follows_the_exit_code_and_the_named_failures() {
        let names = |failed: &[&str], warned: &[&str]| TestNames {
            passed_tests: vec!["a".into()],
            warned_tests: warned.iter().map(|s| s.to_string()).collect(),
            failed_tests: failed.iter().map(|s| s.to_string()).collect(),
        };
        let r = TestResult::of_run(0, names(&[], &[]), Vec::new(), None);
        assert_eq!(r.result, TestOutcome::Passed);
        assert_eq!(
            TestResult::of_run(0, names(&[], &["w"]), Vec::new(), None).result,
            TestOutcome::Warned
        );
        assert_eq!(
            TestResult::of_run(0, names(&["f"], &[]), Vec::new(), None).result,
            TestOutcome::Failed
        );
        assert_eq!(
            TestResult::of_run(1, names(&[], &[]), Vec::new(), None).result,
            TestOutcome::Failed
        );
        let v = r.to_value();
        assert_eq!(v["result"], "PASSED");
        assert_eq!(v["passedTests"][0], "a");
        assert!(v["configuration"].as_array().is_some_and(Vec::is_empty));
        assert!(v.get("url").is_none());
        assert!(serde_json::from_str::<TestNames>(r#"{"passed": []}"#).is_err());
    }
}
