//! What to do about an error, in this binary's flags. The libraries state what is wrong (they
//! know no command line); the advice a user needs next is added here from the typed error.

use hallmark_attester::Error as AttesterError;
use hallmark_remote::Error as RemoteError;
use hallmark_verifier::Rejection;
use hallmark_verifier::policy::{PolicyError, PolicyErrorKind};

/// The hint for the first error in `error`'s chain that has one.
pub fn for_error(error: &anyhow::Error) -> Option<String> {
    error.chain().find_map(|e| {
        if let Some(e) = e.downcast_ref::<AttesterError>() {
            attester(e).map(str::to_owned)
        } else if let Some(e) = e.downcast_ref::<RemoteError>() {
            remote(e)
        } else if let Some(e) = e.downcast_ref::<PolicyError>() {
            policy(e).map(str::to_owned)
        } else {
            None
        }
    })
}

/// The hint for an attestation `verify` rejected.
pub fn for_rejection(rejection: &Rejection) -> Option<&'static str> {
    match rejection {
        Rejection::Keyless => {
            Some("verify it with --certificate-identity and --certificate-oidc-issuer")
        }
        _ => None,
    }
}

fn attester(e: &AttesterError) -> Option<&'static str> {
    Some(match e {
        AttesterError::Glob { .. } => "--exclude and --exclude-from take gitignore-style patterns",
        AttesterError::SymlinkToDirectory { .. } => {
            "name the directory with -m/-p, replace the link, or leave it out with --exclude"
        }
        AttesterError::NonUtf8Name(_) => "rename it, or leave it out with --exclude",
        AttesterError::DirtyTree(_) => "commit or stash the changes, or drop --require-clean",
        AttesterError::CleanTreeOutsideCheckout(_) => {
            "run in a git checkout, or drop --require-clean"
        }
        AttesterError::NoCommittedIgnoreRules { .. } => {
            "--gitignore reads the .gitignore files committed at HEAD; drop it here"
        }
        AttesterError::EncryptedPkcs8Key => {
            "decrypt it with `openssl pkey -in KEY -out PLAIN`, or re-encrypt it with `hallmark keygen --import`"
        }
        AttesterError::CheckoutNotClaimed { .. } => {
            "record the build with `hallmark run`, or check out the commit the job ran for"
        }
        AttesterError::NoProducts(_) => "pass -p PATH for what the step builds",
        _ => return None,
    })
}

fn remote(e: &RemoteError) -> Option<String> {
    Some(match e {
        RemoteError::SeveralImages { .. } => "name one with --tag".into(),
        RemoteError::NotAnIndex { .. } => "drop --platform".into(),
        // Never assumed, not even for localhost: plain HTTP is spelled out per registry.
        RemoteError::PlainHttp { registry } => format!(
            "if it is meant to serve plain HTTP (a loopback test registry), pass \
             --allow-insecure-registry {registry} (insecure: anyone on the path can change what it serves)"
        ),
        _ => return None,
    })
}

fn policy(e: &PolicyError) -> Option<&'static str> {
    match e.kind {
        PolicyErrorKind::DeclarativeInDirectory => {
            Some("pass a declarative policy itself with --policy FILE")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use anyhow::Context;

    use super::*;

    #[test]
    fn finds_the_typed_error_under_context() {
        let error = Err::<(), _>(AttesterError::NoProducts("build".into()))
            .context("recording the step")
            .unwrap_err();
        assert_eq!(
            for_error(&error).as_deref(),
            Some("pass -p PATH for what the step builds")
        );
        let plain = anyhow::anyhow!("something else");
        assert_eq!(for_error(&plain), None);
        let remote: anyhow::Error = RemoteError::NotAnIndex {
            reference: "oci://r/x:1".into(),
            digest: "sha256:00".into(),
        }
        .into();
        assert_eq!(for_error(&remote).as_deref(), Some("drop --platform"));
        let plain_http: anyhow::Error = RemoteError::PlainHttp {
            registry: "127.0.0.1:5000".into(),
        }
        .into();
        let hint = for_error(&plain_http.context("resolving oci://127.0.0.1:5000/x:y")).unwrap();
        assert!(
            hint.contains("--allow-insecure-registry 127.0.0.1:5000"),
            "{hint}"
        );
        let policy: anyhow::Error = PolicyError {
            path: PathBuf::from("p/release.yaml"),
            message: "m".into(),
            kind: PolicyErrorKind::DeclarativeInDirectory,
        }
        .into();
        assert!(for_error(&policy).is_some_and(|h| h.contains("--policy FILE")));
    }
}
