//! What hashing learns from the repository itself, read through `git` and never from files a
//! build step could have written: the repository's own git directory (left out of hashing) and
//! the `.gitignore` rules committed at the recorded commit (`--gitignore`).
//!
//! git runs through the crate's one git routine (`git.rs`), as for [`crate::source`].

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::{Error, Result};

use crate::git::{line as git_line, output as git};

/// Largest committed `.gitignore` read.
const MAX_IGNORE_FILE_BYTES: usize = 1024 * 1024;

/// What git cannot vouch for among a step's materials.
#[derive(Debug, Default)]
pub struct Uncommitted {
    /// Files the commit does not hold: untracked or ignored.
    pub untracked: BTreeSet<String>,
    /// Tracked files git is told not to look at (`--skip-worktree`, `--assume-unchanged`):
    /// `git status` would call them clean whatever their content.
    pub hidden: BTreeSet<String>,
}

/// Which of `names` (files under `dir`, `/`-separated, relative to it) git cannot vouch for. A
/// source step reading one of them reads something the commit may not hold, so the step records
/// it (material annotation `uncommitted`) and the policy library does not count it as read from
/// the source; a hidden tracked file also makes the source dirty. `None` outside a checkout.
pub fn uncommitted(dir: &Path, names: &[&str]) -> Result<Option<Uncommitted>> {
    if names.is_empty() {
        return Ok(Some(Uncommitted::default()));
    }
    // Two git calls, limited to the top-level entries the names live under (a pathspec per file
    // would not fit on a command line for large trees).
    let mut tops: Vec<&str> = names
        .iter()
        .map(|n| n.split('/').next().unwrap_or(n))
        .map(|t| if t.starts_with(':') { "." } else { t })
        .collect();
    tops.sort_unstable();
    tops.dedup();
    let wanted: BTreeSet<&str> = names.iter().copied().collect();
    let list = |extra: &[&str]| -> Result<Option<Vec<u8>>> {
        let mut args = vec!["ls-files", "-z"];
        args.extend_from_slice(extra);
        args.push("--");
        args.extend(tops.iter().copied());
        git(dir, &args)
    };
    let (Some(others), Some(tagged)) = (list(&["--others"])?, list(&["-v"])?) else {
        return Ok(None);
    };
    let entries = |listing: &[u8]| -> Vec<String> {
        listing
            .split(|b| *b == 0)
            .filter_map(|name| std::str::from_utf8(name).ok())
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let untracked = entries(&others)
        .into_iter()
        .filter(|n| wanted.contains(n.as_str()))
        .collect();
    // `ls-files -v`: "H path" for a plain tracked file; "S" (skip-worktree) or a lower-case tag
    // (assume-unchanged) when git has been told not to check it.
    let hidden = entries(&tagged)
        .into_iter()
        .filter_map(|entry| {
            let (tag, name) = entry.split_once(' ')?;
            (tag != "H" && wanted.contains(name)).then(|| name.to_owned())
        })
        .collect();
    Ok(Some(Uncommitted { untracked, hidden }))
}

/// The canonical top of the checkout containing `dir`, if any.
fn top(dir: &Path) -> Result<Option<PathBuf>> {
    let Some(top) = git_line(dir, &["rev-parse", "--show-toplevel"])? else {
        return Ok(None);
    };
    Ok(PathBuf::from(&top).canonicalize().ok())
}

/// Paths under `dir` that hashing must leave out: the repository's own `.git` at the top of the
/// checkout (the directory git really uses, or a worktree's `gitdir:` file), and `store` when it
/// is a real directory. Nothing is left out by name, and never through a symlink: a `.git` or
/// store that is a link could point at build outputs and hide them.
pub fn never_hashed(dir: &Path, store: Option<&Path>) -> Vec<PathBuf> {
    let mut skip = Vec::new();
    // One git call for both answers: this runs before every step. Without git (or outside a
    // checkout) there is no repository to leave out, as for `source::discover`.
    let answer = git_line(dir, &["rev-parse", "--show-toplevel", "--absolute-git-dir"])
        .ok()
        .flatten();
    let mut lines = answer.as_deref().unwrap_or_default().lines();
    let real = |line: Option<&str>| line.and_then(|l| PathBuf::from(l).canonicalize().ok());
    if let (Some(top), git_dir) = (real(lines.next()), real(lines.next())) {
        let dot_git = top.join(".git");
        match std::fs::symlink_metadata(&dot_git) {
            Ok(meta) if meta.is_dir() && git_dir.as_deref() == Some(dot_git.as_path()) => {
                skip.push(dot_git);
            }
            // A worktree's or submodule's pointer file holds only a path: nothing can hide in it.
            Ok(meta) if meta.is_file() => skip.push(dot_git),
            _ => {}
        }
    }
    if let Some(store) = store.and_then(real_directory) {
        skip.push(store);
    }
    skip
}

/// `path` with its parent resolved, when it is a directory and not a symlink.
fn real_directory(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let real = parent.canonicalize().ok()?.join(name);
    std::fs::symlink_metadata(&real)
        .ok()
        .filter(std::fs::Metadata::is_dir)
        .map(|_| real)
}

/// The ignore rules of the `.gitignore` files committed at one commit, matched against absolute
/// paths as git would: the nearest file with a matching pattern decides, and the last matching
/// line within it.
#[derive(Debug, Clone)]
pub struct IgnoreRules {
    commit: String,
    /// One matcher per file, deepest directory first.
    matchers: Vec<Gitignore>,
}

impl IgnoreRules {
    /// Reads the `.gitignore` files committed at HEAD of the checkout containing `dir`. Files in
    /// the working tree, `.git/info/exclude` and global excludes are never read: a build step can
    /// write those.
    pub fn committed(dir: &Path) -> Result<IgnoreRules> {
        let top = top(dir)?.ok_or_else(|| Error::NoCommittedIgnoreRules {
            path: dir.to_path_buf(),
            reason: "not in a git checkout",
        })?;
        let commit = git_line(&top, &["rev-parse", "--verify", "-q", "HEAD^{commit}"])?
            .ok_or_else(|| Error::NoCommittedIgnoreRules {
                path: top.clone(),
                reason: "the repository has no commit",
            })?;
        let listing = git(&top, &["ls-tree", "-r", "-z", "--full-tree", &commit])?
            .ok_or_else(|| Error::Git(format!("git ls-tree {commit} failed")))?;
        let mut files = Vec::new();
        for (dir, blob) in committed_ignore_files(&listing) {
            let content = git(&top, &["cat-file", "blob", blob])?
                .ok_or_else(|| Error::Git(format!("git cat-file blob {blob} failed")))?;
            if content.len() > MAX_IGNORE_FILE_BYTES {
                return Err(Error::IgnoreFile {
                    file: format!("{commit}:{dir}.gitignore"),
                    message: format!("larger than {MAX_IGNORE_FILE_BYTES} bytes"),
                });
            }
            files.push((dir.to_owned(), content));
        }
        Self::from_files(&top, commit, &files)
    }

    /// Rules from `.gitignore` contents, each given with its directory relative to `top`
    /// (`""` or `"sub/"`).
    pub(crate) fn from_files(
        top: &Path,
        commit: String,
        files: &[(String, Vec<u8>)],
    ) -> Result<Self> {
        let mut matchers = Vec::with_capacity(files.len());
        for (dir, content) in files {
            let file = format!("{commit}:{dir}.gitignore");
            let mut builder = GitignoreBuilder::new(top.join(dir));
            for line in String::from_utf8_lossy(content).lines() {
                builder
                    .add_line(None, line)
                    .map_err(|e| Error::IgnoreFile {
                        file: file.clone(),
                        message: e.to_string(),
                    })?;
            }
            matchers.push(builder.build().map_err(|e| Error::IgnoreFile {
                file,
                message: e.to_string(),
            })?);
        }
        matchers.sort_by_key(|m| std::cmp::Reverse(m.path().components().count()));
        Ok(IgnoreRules { commit, matchers })
    }

    /// The commit the rules were read at.
    pub fn commit(&self) -> &str {
        &self.commit
    }

    /// Whether `path` (absolute, inside the checkout) is ignored.
    pub fn is_ignored(&self, path: &Path, is_dir: bool) -> bool {
        for matcher in &self.matchers {
            if !path.starts_with(matcher.path()) {
                continue;
            }
            match matcher.matched(path, is_dir) {
                Match::Ignore(_) => return true,
                Match::Whitelist(_) => return false,
                Match::None => {}
            }
        }
        false
    }
}

/// `(directory, blob id)` of every regular `.gitignore` in `git ls-tree -r -z` output. Symlinked
/// ones (mode 120000) are left out, as git itself does.
fn committed_ignore_files(listing: &[u8]) -> impl Iterator<Item = (&str, &str)> {
    listing.split(|b| *b == 0).filter_map(|record| {
        let record = std::str::from_utf8(record).ok()?;
        let (meta, path) = record.split_once('\t')?;
        let mut fields = meta.split(' ');
        let (mode, kind, blob) = (fields.next()?, fields.next()?, fields.next()?);
        let dir = path.strip_suffix(".gitignore")?;
        let regular = matches!(mode, "100644" | "100755") && kind == "blob";
        (regular && (dir.is_empty() || dir.ends_with('/'))).then_some((dir, blob))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git_ok(dir: &Path, args: &[&str]) {
        let out = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn lists_only_regular_gitignore_files() {
        let listing = b"100644 blob aaa\t.gitignore\x00100644 blob bbb\tsub/.gitignore\x00\
120000 blob ccc\tlink/.gitignore\x00100644 blob ddd\tnot.gitignore\x00040000 tree eee\tx/.gitignore\x00";
        let found: Vec<_> = committed_ignore_files(listing).collect();
        assert_eq!(found, [("", "aaa"), ("sub/", "bbb")]);
    }

    #[test]
    fn the_nearest_file_decides() {
        let top = Path::new("/r");
        let rules = IgnoreRules::from_files(
            top,
            "c".into(),
            &[
                (String::new(), b"*.o\nbuild/\n".to_vec()),
                ("keep/".into(), b"!*.o\n".to_vec()),
            ],
        )
        .unwrap();
        assert!(rules.is_ignored(Path::new("/r/a.o"), false));
        assert!(rules.is_ignored(Path::new("/r/build"), true));
        assert!(!rules.is_ignored(Path::new("/r/keep/a.o"), false));
        assert!(!rules.is_ignored(Path::new("/r/a.c"), false));
    }

    /// Attack variant: with `--gitignore`, a `.gitignore` written by an earlier step hid files.
    /// Only what is committed at HEAD counts.
    #[test]
    fn only_committed_gitignore_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().canonicalize().unwrap();
        git_ok(&d, &["init", "-q"]);
        std::fs::create_dir_all(d.join("out")).unwrap();
        std::fs::write(d.join(".gitignore"), "*.o\n").unwrap();
        git_ok(&d, &["add", ".gitignore"]);
        git_ok(&d, &["commit", "-qm", "c"]);
        std::fs::write(d.join(".gitignore"), "*.o\nevil.sh\n").unwrap();
        std::fs::write(d.join("out/.gitignore"), "*\n").unwrap();
        std::fs::write(d.join(".git/info/exclude"), "evil.sh\n").unwrap();
        let rules = IgnoreRules::committed(&d.join("out")).unwrap();
        assert_eq!(rules.commit().len(), 40);
        assert!(rules.is_ignored(&d.join("out/a.o"), false));
        assert!(!rules.is_ignored(&d.join("out/evil.sh"), false));
        assert!(!rules.is_ignored(&d.join("evil.sh"), false));
        let outside = tempfile::tempdir().unwrap();
        let err = IgnoreRules::committed(outside.path()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::NoCommittedIgnoreRules {
                    reason: "not in a git checkout",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn the_git_directory_is_left_out_only_where_git_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().canonicalize().unwrap();
        git_ok(&d, &["init", "-q"]);
        std::fs::create_dir_all(d.join("store")).unwrap();
        std::os::unix::fs::symlink(d.join("out"), d.join("linked-store")).unwrap();
        let skip = never_hashed(&d, Some(&d.join("store")));
        assert_eq!(skip, [d.join(".git"), d.join("store")]);
        // A store that is a symlink is never left out: it could point at build outputs.
        let skip = never_hashed(&d, Some(&d.join("linked-store")));
        assert_eq!(skip, [d.join(".git")]);
        let outside = tempfile::tempdir().unwrap();
        assert!(never_hashed(outside.path(), None).is_empty());
    }
}
