//! `hallmark-testsvc`: runs the local Sigstore test services for demos and interop checks.
//!
//! `hallmark-testsvc OUT_DIR [SECONDS]` starts OIDC, Fulcio and Rekor on a loopback port, writes
//! `OUT_DIR/{url,trusted_root.json,trust_config.json,token}` (the token: e-mail identity
//! `ci@hallmark.test`, or the claims in `$HALLMARK_TESTSVC_CLAIMS`; audience sigstore, valid while
//! the services run and at least 10 minutes), and serves for SECONDS (default 600).
#![forbid(unsafe_code)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hallmark_testsvc::services::Services;
use serde_json::json;

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next() else {
        eprintln!("usage: hallmark-testsvc OUT_DIR [SECONDS]");
        return std::process::ExitCode::from(2);
    };
    let seconds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(600);
    let out = std::path::PathBuf::from(out);
    let run = || -> Result<(), String> {
        std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
        let services = Services::start().map_err(|e| e.to_string())?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_secs();
        // HALLMARK_TESTSVC_CLAIMS (a JSON object, or a list of them) replaces the e-mail identity,
        // e.g. with the claims of a GitLab CI ID token (ci_config_ref_uri, project_path, ref,
        // ref_type, sha): the first becomes `token`, the others `token-1`, `token-2`, ...
        let list = match std::env::var("HALLMARK_TESTSVC_CLAIMS") {
            Ok(text) => match serde_json::from_str::<serde_json::Value>(&text)
                .map_err(|e| format!("HALLMARK_TESTSVC_CLAIMS: {e}"))?
            {
                serde_json::Value::Array(items) => items,
                one => vec![one],
            },
            Err(_) => vec![
                json!({"sub": "ci@hallmark.test", "email": "ci@hallmark.test", "email_verified": true}),
            ],
        };
        let mut tokens = Vec::new();
        for mut claims in list {
            if !claims.is_object() {
                return Err("HALLMARK_TESTSVC_CLAIMS must hold JSON objects".into());
            }
            claims["aud"] = json!("sigstore");
            claims["exp"] = json!(now + seconds.max(600));
            claims["iat"] = json!(now);
            tokens.push(services.token(&claims).map_err(|e| e.to_string())?);
        }
        let write = |name: &str, bytes: Vec<u8>| {
            std::fs::write(out.join(name), bytes).map_err(|e| e.to_string())
        };
        write(
            "trusted_root.json",
            serde_json::to_vec_pretty(&services.trusted_root()).map_err(|e| e.to_string())?,
        )?;
        write(
            "trust_config.json",
            serde_json::to_vec_pretty(&services.client_trust_config())
                .map_err(|e| e.to_string())?,
        )?;
        for (i, token) in tokens.into_iter().enumerate() {
            let name = if i == 0 {
                "token".to_owned()
            } else {
                format!("token-{i}")
            };
            write(&name, token.into_bytes())?;
        }
        write("url", services.url.clone().into_bytes())?;
        eprintln!(
            "hallmark-testsvc: serving {} (oidc, fulcio, rekor) for {seconds} s; files in {}",
            services.url,
            out.display()
        );
        std::thread::sleep(Duration::from_secs(seconds));
        Ok(())
    };
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hallmark-testsvc: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
