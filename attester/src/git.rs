//! The one way Hallmark runs `git`: read-only queries about the checkout, in an environment that
//! cannot run anything the build could have planted or see anything Hallmark holds.
//!
//! A build step runs as the same user and can write `.git/config`, `~/.gitconfig` and the work
//! tree, so git must not run programs named there (`core.fsmonitor`, hooks) and must not inherit
//! Hallmark's environment (signing passwords, identity tokens). Checkouts owned by another uid
//! (CI containers) are read with `safe.directory=*` (docs/threat-model.md).

use std::path::Path;
use std::process::{Command, Stdio};

use crate::{Error, Result};

#[cfg(test)]
thread_local! {
    /// Environment a unit test adds to git on its own thread: git's test knobs, such as
    /// `GIT_TEST_ASSUME_DIFFERENT_OWNER`, which make git see a foreign owner without root.
    static TEST_ENV: std::cell::RefCell<Vec<(&'static str, &'static str)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with `env` added to every git this thread runs, then removes it again.
#[cfg(test)]
pub(crate) fn with_test_env<T>(env: &[(&'static str, &'static str)], f: impl FnOnce() -> T) -> T {
    TEST_ENV.with_borrow_mut(|e| e.extend_from_slice(env));
    let out = f();
    TEST_ENV.with_borrow_mut(Vec::clear);
    out
}

/// Runs `git -C dir ARGS` and returns its stdout, or `None` when git reports failure.
pub(crate) fn output(dir: &Path, args: &[&str]) -> Result<Option<Vec<u8>>> {
    let mut command = Command::new("git");
    // Only PATH (to find git) survives: no signing secrets, no GIT_DIR/GIT_* overrides, no
    // global or system configuration.
    command.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    command
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_OPTIONAL_LOCKS", "0");
    #[cfg(test)]
    TEST_ENV.with_borrow(|env| {
        command.envs(env.iter().copied());
    });
    // Command-line configuration wins over the repository's own.
    for setting in [
        "safe.directory=*",
        "core.fsmonitor=false",
        "core.hooksPath=/dev/null",
        "core.untrackedCache=false",
    ] {
        command.arg("-c").arg(setting);
    }
    let out = command
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| Error::Git(format!("cannot run git: {e}")))?;
    Ok(out.status.success().then_some(out.stdout))
}

/// [`output`] as one trimmed line of text.
pub(crate) fn line(dir: &Path, args: &[&str]) -> Result<Option<String>> {
    Ok(output(dir, args)?.map(|out| String::from_utf8_lossy(&out).trim().to_owned()))
}
