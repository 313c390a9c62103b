//! Passwords for encrypted keys: from an environment variable, else a terminal prompt.
//! Passwords are never logged or echoed.

use anyhow::{Context, Result, bail};

/// Environment variables consulted, in order.
const PASSWORD_VARS: &[&str] = &["HALLMARK_PASSWORD", "COSIGN_PASSWORD"];

/// The password from the environment, if set.
pub fn from_env() -> Option<String> {
    PASSWORD_VARS.iter().find_map(|v| std::env::var(v).ok())
}

/// Reads a password from the environment or the terminal.
pub fn read(prompt: &str) -> Result<String> {
    if let Some(p) = from_env() {
        return Ok(p);
    }
    rpassword::prompt_password(prompt).with_context(|| {
        format!(
            "no terminal to ask for the password: set {}",
            PASSWORD_VARS[0]
        )
    })
}

/// Reads a new password twice (or once from the environment) and checks it is not empty.
pub fn read_new() -> Result<String> {
    if let Some(p) = from_env() {
        if p.is_empty() {
            bail!(
                "{} is empty; an encrypted key needs a password",
                PASSWORD_VARS[0]
            );
        }
        return Ok(p);
    }
    let first = read("Password for the new key: ")?;
    let second = read("Repeat the password: ")?;
    if first != second {
        bail!("the passwords do not match");
    }
    if first.is_empty() {
        bail!("an encrypted key needs a non-empty password");
    }
    Ok(first)
}
