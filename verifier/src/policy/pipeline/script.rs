//! Finding `hallmark run` in a job's shell script: the words of each command line, and the
//! step name and materials of every `hallmark run` among them.

use std::collections::BTreeMap;

/// One `hallmark run` found in a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RunCall {
    /// `--step`, with the job's variables substituted; `None` when it stays a variable.
    pub step: Option<String>,
    /// `-m/--materials`, substituted; `None` when one of them stays a variable.
    pub materials: Option<Vec<String>>,
}

/// Splits shell text into words: quotes and backslashes as the shell reads them, `\`-newline
/// joins lines, and `;`, `&&`, `||`, `|` and newlines end a command (returned as `;`).
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars().peekable();
    let end = |out: &mut Vec<String>, word: &mut String, in_word: &mut bool| {
        if *in_word {
            out.push(std::mem::take(word));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('\n') | None => {}
                Some(n) => {
                    word.push(n);
                    in_word = true;
                }
            },
            '\'' => {
                in_word = true;
                for n in chars.by_ref() {
                    if n == '\'' {
                        break;
                    }
                    word.push(n);
                }
            }
            '"' => {
                in_word = true;
                while let Some(n) = chars.next() {
                    match n {
                        '"' => break,
                        '\\' => {
                            if let Some(e) = chars.next() {
                                word.push(e);
                            }
                        }
                        _ => word.push(n),
                    }
                }
            }
            ' ' | '\t' => end(&mut out, &mut word, &mut in_word),
            '\n' | ';' | '&' | '|' => {
                end(&mut out, &mut word, &mut in_word);
                if out.last().is_none_or(|l| l != ";") {
                    out.push(";".into());
                }
            }
            '#' if !in_word => {
                // A comment runs to the end of the line.
                for n in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
                end(&mut out, &mut word, &mut in_word);
                out.push(";".into());
            }
            _ => {
                word.push(c);
                in_word = true;
            }
        }
    }
    end(&mut out, &mut word, &mut in_word);
    out
}

/// Replaces `$NAME` and `${NAME}` from `vars`; `None` when a variable is not known there.
pub(super) fn substitute(text: &str, vars: &BTreeMap<String, String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, len) = if let Some(inner) = after.strip_prefix('{') {
            let close = inner.find('}')?;
            (&inner[..close], close + 2)
        } else {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..len], len)
        };
        if name.is_empty() {
            return None;
        }
        out.push_str(vars.get(name)?);
        rest = &after[len..];
    }
    out.push_str(rest);
    Some(out)
}

/// True when `word` names the hallmark binary (`hallmark`, `./hallmark`, `/usr/bin/hallmark`).
fn is_hallmark(word: &str) -> bool {
    word == "hallmark" || word.ends_with("/hallmark")
}

/// The value of a flag at `i` (`--flag V` or `--flag=V`), and how many words it took.
fn flag_value<'a>(ws: &'a [String], i: usize, names: &[&str]) -> Option<(&'a str, usize)> {
    let w = ws.get(i)?;
    for n in names {
        if w == n {
            return ws.get(i + 1).map(|v| (v.as_str(), 2));
        }
        if let Some(v) = w.strip_prefix(n).and_then(|r| r.strip_prefix('=')) {
            return Some((v, 1));
        }
    }
    None
}

/// Every `hallmark run` in `script`, with variables from `vars` substituted.
pub(super) fn run_calls(script: &str, vars: &BTreeMap<String, String>) -> Vec<RunCall> {
    let ws = words(script);
    let mut calls = Vec::new();
    let mut i = 0;
    while i + 1 < ws.len() {
        let at_command = i == 0 || ws[i - 1] == ";";
        if !(at_command && is_hallmark(&ws[i]) && ws[i + 1] == "run") {
            i += 1;
            continue;
        }
        let mut step: Option<Option<String>> = None;
        let mut materials = Some(Vec::new());
        let mut j = i + 2;
        while j < ws.len() && ws[j] != "--" && ws[j] != ";" {
            if let Some((v, n)) = flag_value(&ws, j, &["--step"]) {
                step = Some(substitute(v, vars));
                j += n;
            } else if let Some((v, n)) = flag_value(&ws, j, &["-m", "--materials"]) {
                match (substitute(v, vars), materials.as_mut()) {
                    (Some(v), Some(list)) => list.push(v),
                    _ => materials = None,
                }
                j += n;
            } else {
                j += 1;
            }
        }
        calls.push(RunCall {
            step: step.flatten(),
            materials,
        });
        i = j;
    }
    calls
}

/// True when the script calls `hallmark SUBCOMMAND` (e.g. `verify`, `attest`, `push`).
#[cfg(test)]
pub(super) fn calls_subcommand(script: &str, sub: &str) -> bool {
    let ws = words(script);
    ws.windows(2)
        .enumerate()
        .any(|(i, w)| (i == 0 || ws[i - 1] == ";") && is_hallmark(&w[0]) && w[1] == sub)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn finds_steps_and_materials_through_quotes_and_continuations() {
        let s = "echo hi && hallmark run --step build -m src \\\n  --materials='lib dir' -p out --keyless -- make -m x\nhallmark run --step=\"$STEP\" -m \"${DIR}/a\" -- true";
        let calls = run_calls(s, &vars(&[("STEP", "test"), ("DIR", "out")]));
        assert_eq!(
            calls,
            vec![
                RunCall {
                    step: Some("build".into()),
                    materials: Some(vec!["src".into(), "lib dir".into()]),
                },
                RunCall {
                    step: Some("test".into()),
                    materials: Some(vec!["out/a".into()]),
                },
            ]
        );
    }

    #[test]
    fn unknown_variables_are_not_guessed() {
        let calls = run_calls("hallmark run --step $X -m $Y -- true", &vars(&[]));
        assert_eq!(
            calls,
            vec![RunCall {
                step: None,
                materials: None
            }]
        );
    }

    #[test]
    fn only_commands_count_not_arguments_or_comments() {
        assert!(run_calls("echo hallmark run --step x", &vars(&[])).is_empty());
        assert!(run_calls("# hallmark run --step x", &vars(&[])).is_empty());
        assert!(calls_subcommand(
            "set -e; ./bin/hallmark verify x",
            "verify"
        ));
        assert!(!calls_subcommand("echo hallmark verify", "verify"));
    }
}
