//! `hallmark keygen`: write a key pair, or import a cosign key.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use hallmark_attester::keys::SigningKey;
use hallmark_attester::keys::pkcs11::KeyAlgorithm;
use hallmark_model::keyid::KeyKind;

use crate::signing::load_key;
use crate::{Outcome, password};

/// Key algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Algorithm {
    /// ECDSA P-256 with SHA-256 (what cosign uses).
    EcdsaP256,
    /// Ed25519.
    Ed25519,
    /// RSA 3072 signing PKCS#1 v1.5 with SHA-256: only in a token (--pkcs11), for tokens that
    /// hold RSA keys only.
    #[value(name = "rsa-3072")]
    Rsa3072,
}

/// Arguments of `hallmark keygen`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  hallmark keygen --output k                   # k.key (unencrypted PKCS#8) and k.pub\n  \
HALLMARK_PASSWORD=... hallmark keygen --encrypt --output ci   # cosign-compatible encrypted key\n  \
COSIGN_PASSWORD=... hallmark keygen --import cosign.key --output k\n  \
HALLMARK_PKCS11_PIN=... hallmark keygen --pkcs11 'pkcs11:token=plant;object=release' --output release   # key in a token; writes release.pub"
)]
pub struct Args {
    /// Base name of the files written: NAME.key and NAME.pub.
    #[arg(long, short = 'o', value_name = "NAME", default_value = "hallmark")]
    pub output: PathBuf,
    /// Key algorithm.
    #[arg(long, value_enum, default_value = "ecdsa-p256")]
    pub algorithm: Algorithm,
    /// Encrypt the private key with a password ($HALLMARK_PASSWORD, or asked on the terminal),
    /// in cosign's format, so cosign can use it too.
    #[arg(long)]
    pub encrypt: bool,
    /// Import an existing private key (cosign.key, PKCS#8 or SEC1 PEM) instead of generating one.
    #[arg(long, value_name = "FILE")]
    pub import: Option<PathBuf>,
    /// Generate the key pair inside a PKCS#11 token (HSM, smart card, SoftHSM2) named by an RFC
    /// 7512 URI with the new key's label: `pkcs11:token=T;object=LABEL`. The private key is
    /// sensitive and never leaves the token; only NAME.pub is written. PIN: $HALLMARK_PKCS11_PIN,
    /// pin-source=file:… in the URI, or a prompt (docs/pkcs11.md).
    #[arg(long, value_name = "URI", conflicts_with_all = ["encrypt", "import"])]
    pub pkcs11: Option<PathBuf>,
    /// Replace existing files (or symlinks) with new ones; never writes through them.
    #[arg(long)]
    pub force: bool,
}

impl Algorithm {
    fn kind(self) -> Result<KeyKind> {
        Ok(match self {
            Algorithm::EcdsaP256 => KeyKind::EcdsaP256,
            Algorithm::Ed25519 => KeyKind::Ed25519,
            Algorithm::Rsa3072 => bail!("rsa-3072 keys are made only in a token (--pkcs11)"),
        })
    }

    fn in_token(self) -> KeyAlgorithm {
        match self {
            Algorithm::EcdsaP256 => KeyAlgorithm::EcdsaP256,
            Algorithm::Ed25519 => KeyAlgorithm::Ed25519,
            Algorithm::Rsa3072 => KeyAlgorithm::RsaPkcs1Sha256,
        }
    }
}

/// `keygen --pkcs11 URI`: the key pair is made in the token; only its public key is written.
fn in_token(args: &Args, uri: &Path) -> Result<Outcome> {
    if !crate::pkcs11::is_uri(uri) {
        bail!("--pkcs11 takes a pkcs11: URI (pkcs11:token=T;object=LABEL)");
    }
    let public_path = with_extension(&args.output, "pub");
    // Checked first: a key made in the token cannot be taken back out to retry.
    if !args.force && std::fs::symlink_metadata(&public_path).is_ok() {
        bail!(
            "{} already exists; pass --force to overwrite it",
            public_path.display()
        );
    }
    let (key, sign_with) = crate::pkcs11::generate(uri, args.algorithm.in_token())?;
    write_file(
        &public_path,
        key.public_key_pem().as_bytes(),
        0o644,
        args.force,
    )?;
    eprintln!(
        "hallmark: generated a key pair ({}) in token {:?} (sensitive, not extractable: it never leaves \
         the token) and wrote {}; keyid {}\nhallmark: sign with --key '{sign_with}'",
        key.kind().name(),
        key.token(),
        public_path.display(),
        key.keyid()
    );
    Ok(Outcome::Success)
}

fn with_extension(base: &Path, ext: &str) -> PathBuf {
    let mut name = base.as_os_str().to_owned();
    name.push(".");
    name.push(ext);
    PathBuf::from(name)
}

/// Writes a key file so that it never lands anywhere but a new file at `path`: the content goes
/// to a fresh file in the same directory (created with O_EXCL and O_NOFOLLOW, `mode` from the
/// start, synced), which is then renamed over `path`. A symlink or an existing file at `path` is
/// replaced, never written through or kept with its old mode; without `force` it is refused.
fn write_file(path: &Path, content: &[u8], mode: u32, force: bool) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".hallmark-keygen-")
        .make_in(dir, |temp_path| {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(mode)
                .custom_flags(libc::O_NOFOLLOW)
                .open(temp_path)
        })
        .with_context(|| format!("creating a new file in {}", dir.display()))?;
    temp.as_file_mut()
        .write_all(content)
        .and_then(|()| temp.as_file().sync_all())
        .with_context(|| format!("writing {}", temp.path().display()))?;
    let placed = if force {
        temp.persist(path)
    } else {
        // Atomic: refuses anything already there, a dangling symlink included.
        temp.persist_noclobber(path)
    };
    placed.map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!(
                "{} already exists; pass --force to overwrite it",
                path.display()
            )
        } else {
            anyhow::Error::new(e.error).context(format!("writing {}", path.display()))
        }
    })?;
    // Make the rename itself durable.
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))
}

/// Runs `hallmark keygen`.
pub fn run(args: Args) -> Result<Outcome> {
    if let Some(uri) = &args.pkcs11 {
        return in_token(&args, uri);
    }
    let private_path = with_extension(&args.output, "key");
    let public_path = with_extension(&args.output, "pub");
    if !args.force {
        for p in [&private_path, &public_path] {
            // lstat: a dangling symlink is something there too.
            if std::fs::symlink_metadata(p).is_ok() {
                bail!(
                    "{} already exists; pass --force to overwrite it",
                    p.display()
                );
            }
        }
    }
    let key = match &args.import {
        Some(path) => load_key(path)?,
        None => SigningKey::generate(args.algorithm.kind()?)?,
    };
    let private_pem = if args.encrypt {
        key.encrypted_private_key_pem(password::read_new()?.as_bytes())?
    } else {
        key.private_key_pem()
    };
    write_file(&private_path, private_pem.as_bytes(), 0o600, args.force)?;
    write_file(
        &public_path,
        key.public_key_pem().as_bytes(),
        0o644,
        args.force,
    )?;
    eprintln!(
        "hallmark: wrote {} ({}{}) and {}; keyid {}",
        private_path.display(),
        key.kind().name(),
        if args.encrypt {
            ", encrypted"
        } else {
            ", unencrypted: keep it secret"
        },
        public_path.display(),
        key.keyid()
    );
    Ok(Outcome::Success)
}
