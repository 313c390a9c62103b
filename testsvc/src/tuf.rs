//! A TUF repository for tests, made with tough's editor, and a loopback mirror that serves it.
//!
//! The repository is laid out as tuf-on-ci publishes Sigstore's (consistent snapshots: metadata
//! at the base URL as `N.root.json`, `timestamp.json`, `V.snapshot.json`, `V.targets.json`;
//! targets under `targets/` as `SHA256.NAME`). Every role has its own ECDSA P-256 key, so a test
//! can rotate one, let one expire, roll one back or tamper with a target.

use std::collections::HashMap;
use std::net::TcpListener;
use std::num::NonZeroU64;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
use tough::editor::RepositoryEditor;
use tough::editor::signed::SignedRole;
use tough::key_source::KeySource;
use tough::schema::{KeyHolder, RoleKeys, RoleType, Root, Signed};
use tough::sign::{Sign, parse_keypair};

/// A failure while making the repository (tests only: a message is enough).
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A signing key held in memory, as tough's editor wants it.
#[derive(Debug, Clone)]
pub struct Key {
    pkcs8: Vec<u8>,
}

impl Key {
    /// A fresh ECDSA P-256 key.
    pub fn generate() -> Result<Key, Error> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|_| "key generation failed")?;
        Ok(Key {
            pkcs8: pkcs8.as_ref().to_vec(),
        })
    }

    fn signer(&self) -> Result<Box<dyn Sign>, Error> {
        Ok(Box::new(parse_keypair(&self.pkcs8)?))
    }

    fn source(&self) -> Box<dyn KeySource> {
        Box::new(self.clone())
    }
}

#[tough::async_trait]
impl KeySource for Key {
    async fn as_sign(&self) -> Result<Box<dyn Sign>, Error> {
        self.signer()
    }

    async fn write(&self, _value: &str, _key_id_hex: &str) -> Result<(), Error> {
        Err("an in-memory test key cannot be written".into())
    }
}

/// The keys of the four top-level roles.
#[derive(Debug, Clone)]
pub struct Keys {
    /// root
    pub root: Key,
    /// timestamp
    pub timestamp: Key,
    /// snapshot
    pub snapshot: Key,
    /// targets
    pub targets: Key,
}

impl Keys {
    /// Fresh keys for every role.
    pub fn generate() -> Result<Keys, Error> {
        Ok(Keys {
            root: Key::generate()?,
            timestamp: Key::generate()?,
            snapshot: Key::generate()?,
            targets: Key::generate()?,
        })
    }
}

/// A TUF repository being published into a directory.
#[derive(Debug)]
pub struct Repository {
    /// The directory a mirror serves: metadata at its top, targets under `targets/`.
    pub dir: PathBuf,
    /// The keys the current root names.
    pub keys: Keys,
    root: Signed<Root>,
    versions: [u64; 3],
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    Ok(tokio::runtime::Builder::new_current_thread().build()?)
}

fn expires_in(days: i64) -> Result<jiff::Timestamp, Error> {
    Ok(jiff::Timestamp::now().checked_add(jiff::SignedDuration::from_hours(days * 24))?)
}

impl Repository {
    /// A new repository with root version 1 in `dir`; nothing published yet.
    pub fn create(dir: &Path) -> Result<Repository, Error> {
        std::fs::create_dir_all(dir.join("targets"))?;
        let keys = Keys::generate()?;
        let mut repo = Repository {
            dir: dir.to_owned(),
            keys: keys.clone(),
            root: Signed {
                signed: root_of(&keys, 1)?,
                signatures: Vec::new(),
            },
            versions: [0; 3],
        };
        repo.write_root(&[keys.root])?;
        Ok(repo)
    }

    /// The current root.json, to bootstrap a client with.
    pub fn root_json(&self) -> Result<Vec<u8>, Error> {
        Ok(std::fs::read(self.root_path())?)
    }

    fn root_path(&self) -> PathBuf {
        self.dir
            .join(format!("{}.root.json", self.root.signed.version))
    }

    /// Publishes root version N+1 naming `keys`, signed by the old root key and the new one
    /// (TUF 5.3.4: a rotation is signed by both thresholds).
    pub fn rotate(&mut self, keys: Keys) -> Result<(), Error> {
        let version = self.root.signed.version.get() + 1;
        self.root.signed = root_of(&keys, version)?;
        let old = std::mem::replace(&mut self.keys, keys);
        self.write_root(&[old.root, self.keys.root.clone()])
    }

    /// Publishes root version N+1 naming `keys`, signed by the new root key only: a rotation
    /// clients must refuse.
    pub fn rotate_signed_only_by_new(&mut self, keys: Keys) -> Result<(), Error> {
        let version = self.root.signed.version.get() + 1;
        self.root.signed = root_of(&keys, version)?;
        let signer = keys.root.clone();
        self.keys = keys;
        self.write_root(std::slice::from_ref(&signer))
    }

    fn write_root(&mut self, signers: &[Key]) -> Result<(), Error> {
        let rng = SystemRandom::new();
        let role = self.root.signed.clone();
        let rt = runtime()?;
        let mut signatures = Vec::new();
        for key in signers {
            let holder = KeyHolder::Root(with_root_key(&role, key)?);
            let signed = rt.block_on(SignedRole::new(
                role.clone(),
                &holder,
                &[key.source()],
                &rng,
            ))?;
            signatures.extend(signed.signed().signatures.clone());
        }
        self.root = Signed {
            signed: role,
            signatures,
        };
        let mut json = serde_json::to_vec_pretty(&self.root)?;
        json.push(b'\n');
        std::fs::write(self.root_path(), json)?;
        Ok(())
    }

    /// Publishes `targets` (name, bytes) as new targets, snapshot and timestamp versions, each
    /// expiring after `days` (negative: already expired), signed by `keys` as root version
    /// `root` names them (the current root and keys unless a test signs with rotated-out ones).
    pub fn publish_with(
        &mut self,
        targets: &[(&str, &[u8])],
        days: i64,
        keys: &Keys,
        root: u64,
    ) -> Result<(), Error> {
        let root_path = self.dir.join(format!("{root}.root.json"));
        for v in &mut self.versions {
            *v += 1;
        }
        let rt = runtime()?;
        let staging = tempfile::tempdir()?;
        let mut paths = Vec::new();
        for (name, bytes) in targets {
            let path = staging.path().join(name);
            std::fs::write(&path, bytes)?;
            paths.push(path);
        }
        let sources = [
            keys.timestamp.source(),
            keys.snapshot.source(),
            keys.targets.source(),
        ];
        let [t, s, ts] = self
            .versions
            .map(|v| NonZeroU64::new(v).unwrap_or(NonZeroU64::MIN));
        rt.block_on(async {
            let mut editor = RepositoryEditor::new(&root_path).await?;
            editor
                .targets_version(t)?
                .targets_expires(expires_in(days)?)?
                .snapshot_version(s)
                .snapshot_expires(expires_in(days)?)
                .timestamp_version(ts)
                .timestamp_expires(expires_in(days)?);
            editor.add_target_paths(paths.clone()).await?;
            let signed = editor.sign(&sources).await?;
            signed.write(&self.dir).await?;
            signed
                .copy_targets(
                    staging.path(),
                    self.dir.join("targets"),
                    tough::editor::signed::PathExists::Replace,
                )
                .await?;
            Ok::<(), Error>(())
        })?;
        Ok(())
    }

    /// Publishes `targets` signed by the current keys, valid for 30 days.
    pub fn publish(&mut self, targets: &[(&str, &[u8])]) -> Result<(), Error> {
        let keys = self.keys.clone();
        let root = self.root.signed.version.get();
        self.publish_with(targets, 30, &keys, root)
    }

    /// The path of the published target `name` (its consistent-snapshot file).
    pub fn target_path(&self, name: &str) -> Result<PathBuf, Error> {
        for entry in std::fs::read_dir(self.dir.join("targets"))? {
            let path = entry?.path();
            let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("");
            if file.split_once('.').is_some_and(|(_, rest)| rest == name) {
                return Ok(path);
            }
        }
        Err(format!("no target {name}").into())
    }
}

/// A root naming one key per role, threshold 1, consistent snapshots, a year's validity.
fn root_of(keys: &Keys, version: u64) -> Result<Root, Error> {
    let mut tuf_keys = HashMap::new();
    let mut roles = HashMap::new();
    for (role, key) in [
        (RoleType::Root, &keys.root),
        (RoleType::Timestamp, &keys.timestamp),
        (RoleType::Snapshot, &keys.snapshot),
        (RoleType::Targets, &keys.targets),
    ] {
        let key = key.signer()?.tuf_key();
        let id = key.key_id()?;
        tuf_keys.insert(id.clone(), key);
        roles.insert(
            role,
            RoleKeys {
                keyids: vec![id],
                threshold: NonZeroU64::MIN,
                _extra: HashMap::new(),
            },
        );
    }
    Ok(Root {
        spec_version: "1.0.31".into(),
        consistent_snapshot: true,
        version: NonZeroU64::new(version).ok_or("version 0")?,
        expires: expires_in(365)?,
        keys: tuf_keys,
        roles,
        _extra: HashMap::new(),
    })
}

/// `root` as a key holder that lets `key` sign the root role: the old root's key signs the new
/// root's content during a rotation.
fn with_root_key(root: &Root, key: &Key) -> Result<Root, Error> {
    let mut root = root.clone();
    let tuf_key = key.signer()?.tuf_key();
    let id = tuf_key.key_id()?;
    root.keys.insert(id.clone(), tuf_key);
    if let Some(keys) = root.roles.get_mut(&RoleType::Root)
        && !keys.keyids.contains(&id)
    {
        keys.keyids.push(id);
    }
    Ok(root)
}

/// Serves the files under `dir` on a loopback port (GET only; no `..`); returns the base URL.
pub fn serve_dir(dir: &Path) -> Result<String, Error> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let base = format!("http://{}/", listener.local_addr()?);
    let dir = dir.to_owned();
    crate::http::serve(
        listener,
        Arc::new(move |request| {
            let relative = Path::new(request.path.trim_start_matches('/'));
            if request.method != "GET"
                || relative
                    .components()
                    .any(|c| !matches!(c, Component::Normal(_)))
            {
                return (400, "text/plain", b"bad request".to_vec());
            }
            match std::fs::read(dir.join(relative)) {
                Ok(bytes) => (200, "application/octet-stream", bytes),
                Err(_) => (404, "text/plain", b"not found".to_vec()),
            }
        }),
    );
    Ok(base)
}
