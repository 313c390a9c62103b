//! Vendor trust profiles (docs/vendor-profiles.md): who signs a third party's deliveries (keys,
//! keyless identities), what they must deliver (predicate types), how old a delivery may be, and
//! when the profile is valid. `engine::Request::vendor` applies one: only the vendor's signers
//! count, an expired profile retires them like a revocation at `validUntil`, and a missing
//! predicate type or a stale delivery denies.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use hallmark_model::time::Timestamp;
use serde::Deserialize;

use crate::keys::TrustedKey;

/// The `apiVersion` of a vendor profile file.
pub const API_VERSION: &str = "hallmark.dev/vendor/v1";

/// Largest profile file read.
const MAX_PROFILE_BYTES: u64 = 1024 * 1024;

/// Most profiles in one directory or file.
const MAX_PROFILES: usize = 1000;

/// Why profiles cannot be used (no decision: exit 2).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum VendorError {
    /// A profile file cannot be read or is invalid.
    #[error("vendor profile {path}: {message}")]
    Profile {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// No profile has the name asked for.
    #[error("no vendor profile named {name:?} (known: {known})")]
    Unknown {
        /// The name asked for.
        name: String,
        /// The names known.
        known: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ProfileFile {
    #[serde(default)]
    api_version: Option<String>,
    name: String,
    #[serde(default)]
    keys: Vec<PathBuf>,
    #[serde(default)]
    identities: Vec<IdentityFile>,
    #[serde(default)]
    predicate_types: Vec<String>,
    #[serde(default)]
    max_age: Option<String>,
    #[serde(default)]
    valid_from: Option<Timestamp>,
    #[serde(default)]
    valid_until: Option<Timestamp>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentityFile {
    identity: String,
    issuer: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ListFile {
    api_version: String,
    vendors: Vec<ProfileFile>,
}

/// One vendor's profile, its keys read.
#[derive(Debug, Clone)]
pub struct VendorProfile {
    /// The vendor's name.
    pub name: String,
    /// The keys it signs with.
    pub keys: Vec<TrustedKey>,
    /// The keyless identities it signs with (identity, issuer; exact).
    pub identities: Vec<(String, String)>,
    /// Predicate types each delivery must include (each one, verified).
    pub predicate_types: Vec<String>,
    /// The oldest delivery accepted (the newest verified provenance's time).
    pub max_age: Option<Duration>,
    /// Before this the profile is not valid.
    pub valid_from: Option<SystemTime>,
    /// From this on the vendor's signers are retired (as a revocation at this time).
    pub valid_until: Option<SystemTime>,
}

/// Profiles by name.
#[derive(Debug, Clone, Default)]
pub struct VendorProfiles {
    profiles: Vec<VendorProfile>,
}

fn problem(path: &Path, message: impl Into<String>) -> VendorError {
    VendorError::Profile {
        path: path.display().to_string(),
        message: message.into(),
    }
}

fn read(path: &Path) -> Result<String, VendorError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| problem(path, e.to_string()))?;
    let mut text = String::new();
    file.take(MAX_PROFILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| problem(path, e.to_string()))?;
    if text.len() as u64 > MAX_PROFILE_BYTES {
        return Err(problem(
            path,
            format!("larger than {MAX_PROFILE_BYTES} bytes"),
        ));
    }
    Ok(text)
}

impl VendorProfiles {
    /// Loads a directory of `*.yaml`/`*.yml` profiles, or one file holding a profile or a
    /// `vendors:` list. Key paths are relative to the file naming them. Names must be unique.
    pub fn load(path: &Path) -> Result<Self, VendorError> {
        let files: Vec<PathBuf> = if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| problem(path, e.to_string()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
                .collect();
            files.sort();
            files
        } else {
            vec![path.to_path_buf()]
        };
        let mut profiles: Vec<VendorProfile> = Vec::new();
        for file in files {
            let text = read(&file)?;
            let value: serde_json::Value =
                yaml_serde::from_str(&text).map_err(|e| problem(&file, e.to_string()))?;
            let entries = if value.get("vendors").is_some() {
                let list: ListFile =
                    serde_json::from_value(value).map_err(|e| problem(&file, e.to_string()))?;
                if list.api_version != API_VERSION {
                    return Err(problem(&file, format!("apiVersion is not {API_VERSION}")));
                }
                list.vendors
            } else {
                let one: ProfileFile =
                    serde_json::from_value(value).map_err(|e| problem(&file, e.to_string()))?;
                if one.api_version.as_deref() != Some(API_VERSION) {
                    return Err(problem(&file, format!("apiVersion is not {API_VERSION}")));
                }
                vec![one]
            };
            for entry in entries {
                let profile = resolve(&file, entry)?;
                if profiles.iter().any(|p| p.name == profile.name) {
                    return Err(problem(
                        &file,
                        format!("vendor {:?} is defined twice", profile.name),
                    ));
                }
                profiles.push(profile);
                if profiles.len() > MAX_PROFILES {
                    return Err(problem(path, format!("more than {MAX_PROFILES} profiles")));
                }
            }
        }
        Ok(VendorProfiles { profiles })
    }

    /// The profile named `name`.
    pub fn get(&self, name: &str) -> Result<&VendorProfile, VendorError> {
        self.profiles
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| VendorError::Unknown {
                name: name.to_owned(),
                known: self
                    .profiles
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Every profile.
    pub fn all(&self) -> &[VendorProfile] {
        &self.profiles
    }
}

fn resolve(file: &Path, p: ProfileFile) -> Result<VendorProfile, VendorError> {
    let base = file.parent().unwrap_or(Path::new("."));
    if p.name.trim().is_empty() {
        return Err(problem(file, "a profile needs a name"));
    }
    if p.keys.is_empty() && p.identities.is_empty() {
        return Err(problem(
            file,
            format!(
                "vendor {:?} names no keys and no identities: nothing it delivers could verify",
                p.name
            ),
        ));
    }
    let mut keys = Vec::new();
    for k in &p.keys {
        let path = base.join(k);
        let text = read(&path)?;
        keys.push(
            TrustedKey::from_pem(text.as_bytes(), &path.display().to_string())
                .map_err(|e| problem(&path, e.to_string()))?,
        );
    }
    let max_age = p
        .max_age
        .as_deref()
        .map(|m| {
            humantime::parse_duration(m)
                .map_err(|e| problem(file, format!("maxAge {m:?}: {e} (e.g. 90d)")))
        })
        .transpose()?;
    if let (Some(from), Some(until)) = (p.valid_from, p.valid_until)
        && until <= from
    {
        return Err(problem(file, "validUntil is not after validFrom"));
    }
    Ok(VendorProfile {
        name: p.name,
        keys,
        identities: p
            .identities
            .into_iter()
            .map(|i| (i.identity, i.issuer))
            .collect(),
        predicate_types: p.predicate_types,
        max_age,
        valid_from: p.valid_from.map(Timestamp::time),
        valid_until: p.valid_until.map(Timestamp::time),
    })
}

/// A declarative policy's `vendors:` entry: artifacts whose name matches `pattern` are judged
/// as deliveries of `profile` (first match wins).
#[derive(Debug, Clone)]
pub struct VendorRule {
    pattern: String,
    regex: regex_lite::Regex,
    profile: VendorProfile,
}

impl VendorRule {
    /// `pattern` is a glob over the artifact's name (a path or an `oci://` reference): `*` and
    /// `?` stay within one `/` segment, `**` crosses them.
    pub fn new(pattern: &str, profile: VendorProfile) -> Result<Self, String> {
        let mut re = String::from("^");
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '*' if chars.peek() == Some(&'*') => {
                    chars.next();
                    re.push_str(".*");
                }
                '*' => re.push_str("[^/]*"),
                '?' => re.push_str("[^/]"),
                c => re.push_str(&regex_lite::escape(&c.to_string())),
            }
        }
        re.push('$');
        let regex = regex_lite::Regex::new(&re).map_err(|e| format!("glob {pattern:?}: {e}"))?;
        Ok(VendorRule {
            pattern: pattern.to_owned(),
            regex,
            profile,
        })
    }

    /// True when the artifact `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        self.regex.is_match(name)
    }

    /// The profile.
    pub fn profile(&self) -> &VendorProfile {
        &self.profile
    }

    /// Everything the rule decides with, as text (part of the policy digest a VSA records).
    pub fn fingerprint(&self) -> String {
        let p = &self.profile;
        let keys: Vec<&str> = p.keys.iter().map(TrustedKey::keyid).collect();
        let time = |t: Option<SystemTime>| {
            t.map(|t| humantime::format_rfc3339_seconds(t).to_string())
                .unwrap_or_default()
        };
        format!(
            "vendor {:?} {:?} keys={keys:?} identities={:?} types={:?} maxAge={:?} from={} until={}",
            self.pattern,
            p.name,
            p.identities,
            p.predicate_types,
            p.max_age.map(|d| d.as_secs()),
            time(p.valid_from),
            time(p.valid_until)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(pattern: &str) -> VendorRule {
        let profile = VendorProfile {
            name: "v".into(),
            keys: Vec::new(),
            identities: vec![("i".into(), "o".into())],
            predicate_types: Vec::new(),
            max_age: None,
            valid_from: None,
            valid_until: None,
        };
        VendorRule::new(pattern, profile).unwrap()
    }

    #[test]
    fn globs_match_whole_names_and_stars_stay_in_a_segment() {
        assert!(rule("firmware/*.bin").matches("firmware/plc-1.2.bin"));
        assert!(!rule("firmware/*.bin").matches("firmware/old/plc.bin"));
        assert!(rule("firmware/**.bin").matches("firmware/old/plc.bin"));
        assert!(!rule("*.bin").matches("fw.bin.sig"));
        assert!(rule("oci://r.example/acme/**").matches("oci://r.example/acme/hmi:1.0"));
        assert!(!rule("fw?.bin").matches("fw.bin"));
        assert!(rule("a+b(1).bin").matches("a+b(1).bin"));
    }
}
