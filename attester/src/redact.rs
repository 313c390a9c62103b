//! One redaction routine for everything a step records: the command line, allowed environment
//! variables and source URLs. Provenance is signed, stored and shared, so a secret that reaches
//! it cannot be taken back.
//!
//! Three rules, applied to every word of every recorded value:
//! - credentials in URLs (`scheme://user:secret@host`) are removed, wherever the URL appears;
//! - values named by a secret-looking name (`--password=…`, `--token …`, `API_KEY=…`,
//!   `Authorization: Bearer …`) are replaced by [`REDACTED`];
//! - words shaped like well-known credentials (JWTs, PEM blocks, GitHub/GitLab/Slack/AWS tokens)
//!   are replaced whatever their name.

/// Placeholder recorded instead of a secret.
pub const REDACTED: &str = "[REDACTED]";

/// How much of the command line a step records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CommandRecording {
    /// The command with secrets removed (the default).
    #[default]
    Redacted,
    /// The command exactly as run: only for commands known to carry no secret.
    Full,
    /// No command at all.
    None,
}

impl CommandRecording {
    /// The name recorded in provenance: `redacted`, `full` or `none`.
    pub fn name(self) -> &'static str {
        match self {
            CommandRecording::Redacted => "redacted",
            CommandRecording::Full => "full",
            CommandRecording::None => "none",
        }
    }
}

/// Parts of a name that mark its value as secret (matched case-insensitively anywhere in the
/// name). Broad on purpose: recording `[REDACTED]` for a harmless value costs little.
const SECRET_MARKERS: &[&str] = &[
    "PASS", // PASSWORD, PASSWD, PASSPHRASE
    "PWD",  // MYSQL_PWD (PWD and OLDPWD themselves are directories, see secret_name)
    "SECRET",
    "TOKEN",
    "JWT",
    "KEY",
    "AUTH",
    "CREDENTIAL",
    "WEBHOOK",
    "COOKIE",
    "SESSION",
    "PRIVATE",
    "SIGNATURE",
    "DSN",
    "CONNECTION_STRING",
    "CONN_STR",
];

/// True when a variable, flag or header name says its value is secret.
pub fn secret_name(name: &str) -> bool {
    // GIT_AUTHOR_NAME names a person, not a credential.
    let upper = name
        .trim_start_matches('-')
        .to_ascii_uppercase()
        .replace('-', "_")
        .replace("AUTHOR", "");
    if upper.is_empty() || upper == "PWD" || upper == "OLDPWD" {
        return false;
    }
    SECRET_MARKERS.iter().any(|m| upper.contains(m))
}

/// Prefixes of well-known credential formats.
const TOKEN_PREFIXES: &[&str] = &[
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "gldt-",
    "glrt-",
    "glcbt-",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "xoxs-",
    "xapp-",
    "AKIA",
    "ASIA",
    "npm_",
    "pypi-",
    "sk-",
    "hvs.",
];

/// True when a word looks like a credential whatever it is called.
pub fn looks_like_credential(word: &str) -> bool {
    let word = word.trim_matches(|c| matches!(c, '"' | '\'' | ',' | ';'));
    if word.contains("-----BEGIN") || word.contains("PRIVATE KEY") {
        return true;
    }
    // A JWT: three base64url parts, the first a JSON object ("eyJ" is base64 of `{"`).
    if word.starts_with("eyJ") && word.split('.').filter(|p| !p.is_empty()).count() >= 3 {
        return true;
    }
    TOKEN_PREFIXES
        .iter()
        .any(|p| word.len() >= p.len() + 12 && word.starts_with(p))
}

/// Removes `user:password@` from every URL with a scheme in `text`
/// (`clone https://tok@h/x and https://u:p@g/y` → `clone https://h/x and https://g/y`).
/// scp-style `git@host:path` names a user, not a secret, and is kept.
pub fn strip_url_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let authority_start = at + 3;
        out.push_str(&rest[..authority_start]);
        let tail = &rest[authority_start..];
        let end = tail
            .find(|c: char| {
                matches!(c, '/' | '?' | '#') || c.is_whitespace() || c == '"' || c == '\''
            })
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(i) => out.push_str(&authority[i + 1..]),
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// A recorded environment variable's value: redacted when its name looks secret, otherwise with
/// URL credentials and credential-shaped words removed.
pub fn env_value(name: &str, value: &str) -> String {
    if secret_name(name) {
        REDACTED.to_owned()
    } else {
        redact_text(value)
    }
}

/// A command line as recorded under `mode`; `None` when nothing is recorded.
pub fn command(args: &[String], mode: CommandRecording) -> Option<Vec<String>> {
    match mode {
        CommandRecording::None => None,
        CommandRecording::Full => Some(args.to_vec()),
        CommandRecording::Redacted => {
            let mut out = Vec::with_capacity(args.len());
            let mut hide_next = false;
            for arg in args {
                if hide_next && !arg.starts_with('-') {
                    out.push(REDACTED.to_owned());
                    hide_next = false;
                    continue;
                }
                // `--password VALUE`: a secret-named flag with no `=` hides the next argument.
                hide_next = is_secret_flag(arg);
                out.push(redact_text(arg));
            }
            Some(out)
        }
    }
}

fn is_secret_flag(word: &str) -> bool {
    word.starts_with('-') && !word.contains('=') && secret_name(word)
}

/// Redacts one recorded string (an argument, a shell script, a value): every whitespace-separated
/// word goes through the rules of this module, and a word after a secret-named flag, after
/// `Bearer`/`Basic`/`token`, or after a secret-named header (`X-Api-Key:`) is hidden.
pub fn redact_text(text: &str) -> String {
    let text = strip_url_credentials(text);
    let mut out = String::with_capacity(text.len());
    let mut hide_next = false;
    let mut word_start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if let Some(start) = word_start.take() {
                push_word(&mut out, &text[start..i], &mut hide_next);
            }
            out.push(c);
        } else if word_start.is_none() {
            word_start = Some(i);
        }
    }
    if let Some(start) = word_start {
        push_word(&mut out, &text[start..], &mut hide_next);
    }
    out
}

/// Appends `word` as recorded; `hide_next` carries "the next word is a secret" across words.
fn push_word(out: &mut String, word: &str, hide_next: &mut bool) {
    if *hide_next {
        // `Authorization: Bearer x`: the scheme is kept and the word after it hidden.
        if is_auth_scheme(word) {
            out.push_str(word);
        } else {
            out.push_str(REDACTED);
            *hide_next = false;
        }
        return;
    }
    let (redacted, hides) = redact_word(word);
    out.push_str(&redacted);
    *hide_next = hides;
}

fn is_auth_scheme(word: &str) -> bool {
    let scheme = word.trim_start_matches(['"', '\'']).to_ascii_lowercase();
    ["bearer", "basic", "token"].contains(&scheme.as_str())
}

/// One word: its recorded form, and whether the next word must be hidden.
fn redact_word(word: &str) -> (String, bool) {
    if looks_like_credential(word) {
        return (REDACTED.to_owned(), false);
    }
    // `NAME=value`, `--name=value`: hide the value of a secret name.
    if let Some((name, _)) = word.split_once('=') {
        let bare = name.trim_start_matches(['"', '\'']);
        if secret_name(bare) && is_name(bare.trim_start_matches('-')) {
            return (format!("{name}={REDACTED}"), false);
        }
        return (word.to_owned(), false);
    }
    // `Authorization:` / `X-Api-Key:` headers, and `Bearer x` / `Basic x` / `token x` schemes.
    if let Some(header) = word.strip_suffix(':') {
        let header = header.trim_start_matches(['"', '\'']);
        return (word.to_owned(), secret_name(header) && is_name(header));
    }
    if is_auth_scheme(word) {
        return (word.to_owned(), true);
    }
    (word.to_owned(), is_secret_flag(word))
}

/// A variable, flag or header name: letters, digits, `_`, `-`, `.`.
fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn secret_names_cover_the_usual_spellings() {
        for name in [
            "GPG_PASSPHRASE",
            "CI_JOB_JWT_V2",
            "DOCKER_AUTH_CONFIG",
            "MYSQL_PWD",
            "HALLMARK_KEY_PEM",
            "SLACK_WEBHOOK_URL",
            "GH_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "SENTRY_DSN",
            "--password",
            "--api-key",
            "session_cookie",
        ] {
            assert!(secret_name(name), "{name}");
        }
        for name in [
            "PWD", "OLDPWD", "CC", "PATH", "HOME", "--output", "RUST_LOG",
        ] {
            assert!(!secret_name(name), "{name}");
        }
    }

    #[test]
    fn every_url_in_a_value_loses_its_credentials() {
        assert_eq!(
            strip_url_credentials(
                "a=https://x-access-token:ghp_s@github.com/o/r.git,b=https://u:p@h/y ssh://git@h:22/z"
            ),
            "a=https://github.com/o/r.git,b=https://h/y ssh://h:22/z"
        );
        assert_eq!(
            strip_url_credentials("git@github.com:o/r.git"),
            "git@github.com:o/r.git"
        );
        assert_eq!(strip_url_credentials("https://h/a@b"), "https://h/a@b");
    }

    #[test]
    fn the_command_line_is_recorded_without_secrets() {
        let recorded = command(
            &args(&[
                "git",
                "clone",
                "https://x-access-token:ghp_0123456789abcdefghij@github.com/o/r.git",
                "--password=hunter2",
                "--token",
                "abc",
                "-o",
                "out",
            ]),
            CommandRecording::Redacted,
        )
        .unwrap();
        assert_eq!(
            recorded,
            args(&[
                "git",
                "clone",
                "https://github.com/o/r.git",
                "--password=[REDACTED]",
                "--token",
                "[REDACTED]",
                "-o",
                "out",
            ])
        );
    }

    #[test]
    fn shell_scripts_are_redacted_word_by_word() {
        let script = "API_KEY=s3cr3t make && curl -H 'Authorization: Bearer abc.def' https://u:p@h/x \
                      --user-password 'pw' && echo ok";
        let recorded = redact_text(script);
        assert!(!recorded.contains("s3cr3t"), "{recorded}");
        assert!(!recorded.contains("abc.def"), "{recorded}");
        assert!(!recorded.contains("u:p@"), "{recorded}");
        assert!(!recorded.contains("'pw'"), "{recorded}");
        assert!(recorded.contains("make && curl"), "{recorded}");
        assert!(recorded.ends_with("&& echo ok"), "{recorded}");
    }

    #[test]
    fn credential_shaped_words_are_hidden_whatever_their_name() {
        let jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
        assert_eq!(redact_text(&format!("echo {jwt}")), "echo [REDACTED]");
        assert_eq!(
            env_value("NOTE", "glpat-abcdefghijklmnopqrst"),
            REDACTED.to_owned()
        );
        assert_eq!(env_value("REPO", "https://u:pw@h/r"), "https://h/r");
        assert_eq!(env_value("CC", "gcc"), "gcc");
    }

    #[test]
    fn full_and_none_record_as_asked() {
        let a = args(&["deploy", "--password=x"]);
        assert_eq!(command(&a, CommandRecording::Full), Some(a.clone()));
        assert_eq!(command(&a, CommandRecording::None), None);
    }
}
