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
    // GIT_AUTHOR_NAME names a person, not a credential (AUTHORIZATION stays secret).
    let upper = name
        .trim_start_matches('-')
        .to_ascii_uppercase()
        .replace('-', "_")
        .replace("AUTHOR_", "");
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

/// Removes `user:password@` from every URL in `text`
/// (`clone https://tok@h/x and https://u:p@g/y` → `clone https://h/x and https://g/y`), also in
/// JSON-escaped (`https:\/\/`) and scheme-relative (`//u:p@h`) forms, and when the password holds
/// a `/` or `#`. scp-style `git@host:path` names a user, not a secret, and is kept.
pub fn strip_url_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((at, sep)) = next_authority(rest) {
        let authority_start = at + sep;
        out.push_str(&rest[..authority_start]);
        let tail = &rest[authority_start..];
        let word_end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>'))
            .unwrap_or(tail.len());
        let host_end = tail[..word_end]
            .find(['/', '?', '#', '\\'])
            .unwrap_or(word_end);
        // `user@host` or `user:pass@host`: the last `@` before the path; a password holding a
        // `/` or `#` puts the `@` after it, recognised by the `:` of `user:pass` before it.
        let at_sign = tail[..host_end].rfind('@').or_else(|| {
            let i = tail[..word_end].rfind('@')?;
            tail[..i].contains(':').then_some(i)
        });
        match at_sign {
            Some(i) => rest = &tail[i + 1..],
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

/// The next place an authority starts: after `://`, `:\/\/`, or a `//` that begins a word.
fn next_authority(text: &str) -> Option<(usize, usize)> {
    let plain = text.find("://").map(|i| (i, 3));
    let escaped = text.find(":\\/\\/").map(|i| (i, 5));
    let relative = text
        .match_indices("//")
        .find(|(i, _)| *i == 0 || text[..*i].ends_with([' ', '=', '"', '\'']))
        .map(|(i, _)| (i, 2));
    [plain, escaped, relative]
        .into_iter()
        .flatten()
        .min_by_key(|(i, _)| *i)
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
            let mut state = Hide::No;
            let mut out = Vec::with_capacity(args.len());
            for arg in args {
                // A secret-named flag (`--password`) hides the whole next argument, whatever it
                // looks like; `--` between them does not end it. Otherwise the words of the
                // arguments run on as one text (`-H Authorization: Bearer x` as three arguments).
                if state == Hide::Value {
                    if arg == "--" {
                        out.push(arg.clone());
                    } else {
                        out.push(REDACTED.to_owned());
                        state = Hide::No;
                    }
                    continue;
                }
                let (text, next) = redact_words(arg, state);
                out.push(text);
                state = next;
            }
            Some(out)
        }
    }
}

/// What the next word is, given the words before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hide {
    /// An ordinary word.
    No,
    /// The value of a secret-named flag or variable.
    Value,
    /// A secret-named header's value: an optional scheme (`Bearer`, `SSWS`), then the secret.
    Header,
    /// `-u user:password`: the part after the first `:`.
    UserPass,
    /// Inside a quoted secret value that ends with this quote character.
    Quoted(char),
}

/// Redacts one recorded string (an argument, a shell script, a value): every whitespace-separated
/// word goes through the rules of this module, and a word after a secret-named flag, after
/// `Bearer`/`Basic`/`token`, or after a secret-named header (`X-Api-Key: abc`) is hidden.
pub fn redact_text(text: &str) -> String {
    redact_words(text, Hide::No).0
}

fn redact_words(text: &str, mut state: Hide) -> (String, Hide) {
    let text = strip_url_credentials(text);
    let mut out = String::with_capacity(text.len());
    let mut word_start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if let Some(start) = word_start.take() {
                state = push_word(&mut out, &text[start..i], state);
            }
            out.push(c);
        } else if word_start.is_none() {
            word_start = Some(i);
        }
    }
    if let Some(start) = word_start {
        state = push_word(&mut out, &text[start..], state);
    }
    (out, state)
}

/// Appends `word` as recorded; returns what the next word is.
fn push_word(out: &mut String, word: &str, state: Hide) -> Hide {
    match state {
        Hide::Quoted(q) => {
            // `--password='two words'`: everything up to the closing quote is the secret.
            if let Some(i) = word.find(q) {
                out.push_str(&word[i..]);
                return Hide::No;
            }
            out.push_str(REDACTED);
            Hide::Quoted(q)
        }
        Hide::Header if is_known_scheme(word) => {
            out.push_str(word);
            Hide::Value
        }
        Hide::Header => {
            // An unknown word may be a scheme (`SSWS x`) or the secret itself: hide it, and the
            // next word too when it could be a scheme.
            let next = hide_value(out, word);
            if next == Hide::No && could_be_scheme(word) {
                Hide::Value
            } else {
                next
            }
        }
        Hide::Value => hide_value(out, word),
        Hide::UserPass => {
            out.push_str(&hide_password(word));
            Hide::No
        }
        Hide::No => redact_word(out, word),
    }
}

/// Hides a secret value that starts this word; a quote opened and not closed here hides the
/// words up to its end.
fn hide_value(out: &mut String, word: &str) -> Hide {
    let quote = word.chars().next().filter(|c| matches!(c, '"' | '\''));
    match quote {
        Some(q) if !word[1..].contains(q) => {
            out.push(q);
            out.push_str(REDACTED);
            Hide::Quoted(q)
        }
        Some(q) => {
            out.push(q);
            out.push_str(REDACTED);
            out.push_str(&word[1 + word[1..].find(q).unwrap_or(0)..]);
            Hide::No
        }
        None => {
            out.push_str(REDACTED);
            Hide::No
        }
    }
}

/// `user:password` → `user:[REDACTED]`.
fn hide_password(word: &str) -> String {
    match word.split_once(':') {
        Some((user, _)) => format!("{user}:{REDACTED}"),
        None => word.to_owned(),
    }
}

/// Characters that separate a name from its value or one field from the next inside a word
/// (`a=b`, `"a":"b"`, `?a=b&c=d`, `{a:b,c:d}`).
const SEPARATORS: &[char] = &[
    '=', ':', ',', ';', '&', '?', '"', '\'', '{', '}', '[', ']', '(', ')',
];

/// One word without a pending secret: credential-shaped pieces and the values of secret-named
/// pairs inside it are hidden. Returns what the next word is.
fn redact_word(out: &mut String, word: &str) -> Hide {
    if is_user_flag(word) {
        out.push_str(word);
        return Hide::UserPass;
    }
    let mut rest = word;
    let mut next = Hide::No;
    // The last name seen: in `"password":` the name ends before the closing quote.
    let mut name = "";
    while !rest.is_empty() {
        // The next piece up to a separator, and the separator.
        let cut = rest.find(SEPARATORS).unwrap_or(rest.len());
        let (piece, after) = rest.split_at(cut);
        if looks_like_credential(piece) {
            out.push_str(REDACTED);
        } else {
            out.push_str(piece);
        }
        let Some(sep) = after.chars().next() else {
            // The word ends with a name: a secret flag (`--token`) hides the next word.
            next = if is_secret_flag(piece) {
                Hide::Value
            } else {
                Hide::No
            };
            break;
        };
        out.push(sep);
        rest = &after[sep.len_utf8()..];
        if !piece.is_empty() {
            name = piece;
        }
        if matches!(sep, '=' | ':') && secret_pair_name(name) {
            // `name=value`, `"name": "value"`, `Name:value`: hide the value up to the next field.
            let value_start = rest.trim_start_matches(['"', '\'']);
            let quotes = rest.len() - value_start.len();
            out.push_str(&rest[..quotes]);
            if value_start.is_empty() {
                // `"password":` then the value in the next word; a header keeps its scheme.
                next = if sep == ':' && !name.starts_with('-') && quotes == 0 {
                    Hide::Header
                } else if quotes > 0 {
                    Hide::Quoted(rest.chars().next().unwrap_or('"'))
                } else {
                    Hide::Value
                };
                break;
            }
            // A quoted value ends at its own quote (or goes on into the next words); a bare one
            // at the next field separator.
            let opening = rest[..quotes].chars().last();
            let end = match opening {
                Some(q) => value_start.find(q),
                None => Some(
                    value_start
                        .find([',', ';', '&', '}', ']', ')'])
                        .unwrap_or(value_start.len()),
                ),
            };
            out.push_str(REDACTED);
            let Some(end) = end else {
                // `--password='two words'`: the quote closes in a later word.
                next = Hide::Quoted(opening.unwrap_or('"'));
                break;
            };
            rest = &value_start[end..];
            name = "";
        }
    }
    if next == Hide::No && is_auth_scheme(word) {
        return Hide::Value;
    }
    next
}

/// `Bearer x`, `Basic x`, `token x`: the word after these is a credential.
fn is_auth_scheme(word: &str) -> bool {
    let scheme = word.trim_start_matches(['"', '\'']).to_ascii_lowercase();
    ["bearer", "basic", "token"].contains(&scheme.as_str())
}

/// A name whose value, after `=` or `:`, is secret: the last path-like part of the piece
/// (`//registry.npmjs.org/:_authToken`, `?access_token`, `"password"`).
fn secret_pair_name(piece: &str) -> bool {
    let name = piece
        .rsplit(['/', '?', '&', '{', ',', '"', '\''])
        .next()
        .unwrap_or(piece);
    is_name(name.trim_start_matches('-')) && secret_name(name)
}

/// Authentication schemes kept in the record before the hidden credential.
fn is_known_scheme(word: &str) -> bool {
    const SCHEMES: &[&str] = &[
        "bearer",
        "basic",
        "token",
        "bot",
        "ssws",
        "digest",
        "negotiate",
        "hmac",
        "apikey",
    ];
    let scheme = word.trim_matches(['"', '\'']).to_ascii_lowercase();
    SCHEMES.contains(&scheme.as_str())
}

/// A short alphabetic word, which after a secret header may be an unknown scheme.
fn could_be_scheme(word: &str) -> bool {
    let w = word.trim_matches(['"', '\'']);
    (2..=12).contains(&w.len()) && w.chars().all(|c| c.is_ascii_alphabetic())
}

/// `-u` / `--user` / `--proxy-user`: curl-style `user:password`.
fn is_user_flag(word: &str) -> bool {
    matches!(word, "-u" | "-U" | "--user" | "--proxy-user")
}

fn is_secret_flag(word: &str) -> bool {
    word.starts_with('-') && !word.contains('=') && secret_name(word)
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
        assert_eq!(strip_url_credentials("https://tok@h/a@b"), "https://h/a@b");
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

    #[test]
    fn the_reviewers_bypasses_are_closed() {
        let leaks = [
            ("--authorization X1", "X1"),
            ("-H 'Authorization: SSWS x2x2'", "x2x2"),
            ("-H Authorization:Bearer_x3x3", "x3x3"),
            ("-H PRIVATE-TOKEN:x4x4", "x4x4"),
            ("-H x-api-key:x5x5", "x5x5"),
            ("curl -u alice:pw6pw6 https://h", "pw6pw6"),
            ("GH=ghp_0123456789abcdefghijklmn", "ghp_0123456789"),
            ("a,ghp_0123456789abcdefghijklmn", "ghp_0123456789"),
            (r#"{"password":"x7x7"}"#, "x7x7"),
            (r#"{"password": "x8x8"}"#, "x8x8"),
            ("//registry.npmjs.org/:_authToken=x9x9", "x9x9"),
            ("https://h/api?access_token=x10x10&a=1", "x10x10"),
            ("--password='two x11x11'", "x11x11"),
            ("https://u:p/x12x12@h/r", "x12x12"),
            ("//u:x13x13@h/r", "x13x13"),
            (r"https:\/\/u:x14x14@h", "x14x14"),
            // An alphabetic secret after a header is not taken for a scheme and kept.
            ("-H 'X-Api-Key: alphasecretx'", "alphasecretx"),
            ("-H 'Authorization: Custom x18x18'", "x18x18"),
            // A quoted value ends at its quote, not at a comma inside it.
            ("--password='a,x19x19 x20x20'", "x19x19"),
            ("--password='a,x19x19 x20x20'", "x20x20"),
        ];
        for (text, secret) in leaks {
            let recorded = redact_text(text);
            assert!(!recorded.contains(secret), "{text} -> {recorded}");
        }
        assert!(secret_name("HTTP_AUTHORIZATION"));
        assert!(!secret_name("GIT_AUTHOR_NAME"));
        // Values starting with `-`, `--` in between, and header parts split over arguments.
        for cmd in [
            args(&["x", "--password", "-x15x15"]),
            args(&["x", "--token", "--", "x16x16"]),
            args(&["curl", "-H", "Authorization:", "Bearer", "x17x17"]),
        ] {
            let recorded = command(&cmd, CommandRecording::Redacted).unwrap().join(" ");
            assert!(
                !recorded.contains("x15x15")
                    && !recorded.contains("x16x16")
                    && !recorded.contains("x17x17"),
                "{recorded}"
            );
        }
        // Ordinary words survive.
        assert_eq!(
            redact_text("mkdir -p out && make all"),
            "mkdir -p out && make all"
        );
        assert_eq!(
            redact_text("echo a=b c:d https://h/p@v"),
            "echo a=b c:d https://h/p@v"
        );
    }
}
