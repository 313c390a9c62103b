//! The git source of a build: commit, ref, remote URL (credentials stripped) and dirty state.
//!
//! Read through the `git` command, which every CI runner has. Checkouts owned by another uid
//! (common on CI runners and in containers) are read with `safe.directory=*` for these read-only
//! queries; the threat model (docs/threat-model.md) explains why that is acceptable here.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// What git says about the working tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo {
    /// Top of the working tree.
    pub root: PathBuf,
    /// The checked-out commit.
    pub commit: String,
    /// The ref checked out (`refs/heads/main`), if HEAD is not detached.
    pub git_ref: Option<String>,
    /// The `origin` remote URL (or the first remote), without credentials.
    pub remote_url: Option<String>,
    /// True when tracked files have uncommitted changes.
    pub dirty: bool,
}

impl SourceInfo {
    /// The in-toto URI of this source: `git+<url>@<ref>`, or `git+<url>` when detached.
    pub fn uri(&self) -> Option<String> {
        let url = self.remote_url.as_ref()?;
        Some(match &self.git_ref {
            Some(r) => format!("git+{url}@{r}"),
            None => format!("git+{url}"),
        })
    }
}

fn git(dir: &Path, args: &[&str]) -> Result<Option<String>> {
    crate::git::line(dir, args)
}

/// The top of the git checkout containing `dir` (the nearest ancestor holding `.git`, a directory
/// or a worktree's file), without running git: cheap enough for every command that only needs
/// the default store location.
pub fn toplevel(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// Describes the git checkout containing `dir`, or `None` when `dir` is not in one (or git is not
/// installed).
pub fn discover(dir: &Path) -> Result<Option<SourceInfo>> {
    let Ok(Some(root)) = git(dir, &["rev-parse", "--show-toplevel"]) else {
        return Ok(None);
    };
    let root = PathBuf::from(root);
    let Some(commit) = git(&root, &["rev-parse", "--verify", "-q", "HEAD"])? else {
        // A repository without commits has no source to record.
        return Ok(None);
    };
    let git_ref = git(&root, &["symbolic-ref", "-q", "HEAD"])?.filter(|r| !r.is_empty());
    let remote_url = match git(&root, &["config", "--get", "remote.origin.url"])? {
        Some(url) if !url.is_empty() => Some(url),
        _ => first_remote_url(&root)?,
    }
    .map(|u| crate::redact::strip_url_credentials(&u));
    let status = git(&root, &["status", "--porcelain", "--untracked-files=no"])?
        .ok_or_else(|| Error::Git(format!("git status failed in {}", root.display())))?;
    Ok(Some(SourceInfo {
        root,
        commit,
        git_ref,
        remote_url,
        dirty: !status.is_empty(),
    }))
}

fn first_remote_url(root: &Path) -> Result<Option<String>> {
    let Some(remotes) = git(root, &["remote"])? else {
        return Ok(None);
    };
    match remotes.lines().next() {
        Some(name) => git(root, &["config", "--get", &format!("remote.{name}.url")]),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn run(dir: &Path, args: &[&str]) {
        let ok = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .unwrap();
        assert!(
            ok.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&ok.stderr)
        );
    }

    fn commit_one_file(d: &Path) {
        if !d.join(".git").exists() {
            run(d, &["init", "-q"]);
        }
        std::fs::write(d.join("f"), "1").unwrap();
        run(d, &["add", "f"]);
        run(
            d,
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "commit",
                "-qm",
                "c",
            ],
        );
    }

    #[test]
    fn describes_a_checkout_and_its_dirty_state() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        run(d, &["init", "-q", "-b", "main"]);
        run(
            d,
            &[
                "remote",
                "add",
                "origin",
                "https://user:pw@git.example/o/r.git",
            ],
        );
        commit_one_file(d);
        let info = discover(d).unwrap().unwrap();
        assert_eq!(info.commit.len(), 40);
        assert_eq!(info.git_ref.as_deref(), Some("refs/heads/main"));
        assert_eq!(
            info.uri().unwrap(),
            "git+https://git.example/o/r.git@refs/heads/main"
        );
        assert!(!info.dirty);
        std::fs::write(d.join("f"), "2").unwrap();
        assert!(discover(d).unwrap().unwrap().dirty);
        // Untracked build outputs do not make the source dirty.
        std::fs::write(d.join("f"), "1").unwrap();
        std::fs::write(d.join("new"), "x").unwrap();
        assert!(!discover(d).unwrap().unwrap().dirty);
    }

    #[test]
    fn outside_a_checkout_there_is_no_source() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(discover(dir.path()).unwrap(), None);
    }

    /// `git rev-parse HEAD` in `d` without Hallmark's settings, with `env` added: the command a
    /// user would type, to show what git itself makes of the checkout.
    fn plain_git_head(d: &Path, env: &[(&str, &str)]) -> std::process::Output {
        Command::new("git")
            .arg("-C")
            .arg(d)
            .args(["rev-parse", "HEAD"])
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .envs(env.iter().copied())
            .output()
            .unwrap()
    }

    /// CI runners often check out as another uid; git then refuses the repository ("dubious
    /// ownership") unless told it is safe. git's own test knob makes it see a foreign owner without
    /// root, so this runs everywhere: plain git must refuse (the simulation is in force), Hallmark
    /// must still read the same commit.
    #[test]
    fn reads_a_checkout_git_sees_as_foreign_owned() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        commit_one_file(d);
        let own = discover(d).unwrap().expect("source of an own checkout");
        assert!(plain_git_head(d, &[]).status.success());

        let foreign = [("GIT_TEST_ASSUME_DIFFERENT_OWNER", "1")];
        let plain = plain_git_head(d, &foreign);
        assert!(
            !plain.status.success()
                && String::from_utf8_lossy(&plain.stderr).contains("dubious ownership"),
            "git itself should refuse a checkout it sees as foreign-owned: {plain:?}"
        );
        let info = crate::git::with_test_env(&foreign, || discover(d))
            .unwrap()
            .expect("source despite foreign ownership");
        assert_eq!(info, own);
    }

    /// The same with a real foreign owner: the checkout is chowned to another uid, which needs
    /// root. CI runs as root and `scripts/test.sh` runs the ignored tests there.
    #[test]
    #[ignore = "needs root: chowns the checkout to another uid (scripts/test.sh runs it as root)"]
    fn reads_a_checkout_owned_by_another_user() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        commit_one_file(d);
        let own = discover(d).unwrap().expect("source of an own checkout");
        let mut stack = vec![d.to_path_buf()];
        while let Some(p) = stack.pop() {
            std::os::unix::fs::lchown(&p, Some(54321), Some(54321))
                .unwrap_or_else(|e| panic!("chown {} (needs root): {e}", p.display()));
            if p.is_dir() && !p.is_symlink() {
                stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            }
        }
        let plain = plain_git_head(d, &[]);
        assert!(
            !plain.status.success(),
            "git itself should refuse a foreign-owned checkout"
        );
        let info = discover(d)
            .unwrap()
            .expect("source despite foreign ownership");
        assert_eq!(info, own);
    }
}
