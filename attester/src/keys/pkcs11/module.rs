//! Finding and loading the PKCS#11 module, and choosing the token a URI names.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::slot::{Slot, TokenInfo};

use super::error::Pkcs11Error;
use super::uri::Pkcs11Uri;
use crate::ci::Env;

/// The environment variable naming the module when the URI names none.
pub const MODULE_ENV: &str = "HALLMARK_PKCS11_MODULE";

/// Where SoftHSM2 lives on Debian and other common systems: the default module.
pub const DEFAULT_MODULES: &[&str] = &[
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
];

/// Directories `module-name` is looked up in.
const MODULE_DIRS: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/pkcs11",
    "/usr/lib/aarch64-linux-gnu/pkcs11",
    "/usr/lib/pkcs11",
    "/usr/lib64/pkcs11",
    "/usr/lib/softhsm",
    "/usr/lib/x86_64-linux-gnu/softhsm",
    "/usr/lib/aarch64-linux-gnu/softhsm",
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib",
    "/usr/local/lib",
];

/// The module to load: the URI's `module-path`, else its `module-name` looked up in the usual
/// directories, else `$HALLMARK_PKCS11_MODULE`, else SoftHSM2 where it is installed.
pub fn module_path(uri: &Pkcs11Uri, env: &Env) -> Result<PathBuf, Pkcs11Error> {
    if let Some(path) = &uri.module_path {
        return Ok(PathBuf::from(path));
    }
    if let Some(name) = &uri.module_name {
        let candidates = MODULE_DIRS.iter().flat_map(|dir| {
            [
                Path::new(dir).join(format!("{name}.so")),
                Path::new(dir).join(format!("lib{name}.so")),
            ]
        });
        return candidates.into_iter().find(|p| p.is_file()).ok_or_else(|| {
            Pkcs11Error::Module(format!(
                "module-name {name:?}: no {name}.so or lib{name}.so in {}",
                MODULE_DIRS.join(", ")
            ))
        });
    }
    if let Some(path) = env.get(MODULE_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    DEFAULT_MODULES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| {
            Pkcs11Error::Module(format!(
                "no module named: add module-path=/path/to/module.so to the URI or set \
                 ${MODULE_ENV} (SoftHSM2 was not found in {})",
                DEFAULT_MODULES.join(", ")
            ))
        })
}

/// Loads and initializes a module once per process: PKCS#11 allows one C_Initialize per
/// module, and keys opened later (a signing key, then a trusted key) share it.
pub fn load(path: &Path) -> Result<Pkcs11, Pkcs11Error> {
    static LOADED: OnceLock<Mutex<BTreeMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let loaded = LOADED.get_or_init(Default::default);
    let mut loaded = loaded
        .lock()
        .map_err(|_| Pkcs11Error::Module("a previous load panicked".to_owned()))?;
    if let Some(ctx) = loaded.get(path) {
        return Ok(ctx.clone());
    }
    if !path.is_file() {
        return Err(Pkcs11Error::Module(format!(
            "{} does not exist or is not a file",
            path.display()
        )));
    }
    let ctx = Pkcs11::new(path)
        .map_err(|e| Pkcs11Error::Module(format!("loading {}: {e}", path.display())))?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => {
            return Err(Pkcs11Error::Module(format!(
                "initializing {}: {e}",
                path.display()
            )));
        }
    }
    loaded.insert(path.to_owned(), ctx.clone());
    Ok(ctx)
}

/// The one initialized token the URI's library, slot and token attributes select.
pub fn find_token(ctx: &Pkcs11, uri: &Pkcs11Uri) -> Result<(Slot, TokenInfo), Pkcs11Error> {
    let device = |operation, e| Pkcs11Error::from_module("(module)", operation, e);
    let library = ctx.get_library_info().map_err(|e| device("C_GetInfo", e))?;
    let library_matches = matches(&uri.library_manufacturer, library.manufacturer_id())
        && matches(&uri.library_description, library.library_description())
        && uri.library_version.is_none_or(|(major, minor)| {
            let v = library.library_version();
            v.major() == major && v.minor() == minor
        });
    let slots = ctx
        .get_slots_with_token()
        .map_err(|e| device("C_GetSlotList", e))?;
    let mut present = Vec::new();
    let mut found = Vec::new();
    for slot in slots {
        let token = ctx
            .get_token_info(slot)
            .map_err(|e| device("C_GetTokenInfo", e))?;
        if !token.token_initialized() {
            continue;
        }
        present.push(format!("{:?}", token.label().trim_end()));
        let slot_info = ctx
            .get_slot_info(slot)
            .map_err(|e| device("C_GetSlotInfo", e))?;
        let selected = library_matches
            && uri.slot_id.is_none_or(|id| id == slot.id())
            && matches(&uri.slot_description, slot_info.slot_description())
            && matches(&uri.slot_manufacturer, slot_info.manufacturer_id())
            && matches(&uri.token, token.label())
            && matches(&uri.manufacturer, token.manufacturer_id())
            && matches(&uri.serial, token.serial_number())
            && matches(&uri.model, token.model());
        if selected {
            found.push((slot, token));
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(Pkcs11Error::TokenNotFound {
            uri: uri.to_string(),
            present: if present.is_empty() {
                "none".to_owned()
            } else {
                present.join(", ")
            },
        }),
        count => Err(Pkcs11Error::Ambiguous {
            count,
            what: "tokens",
            uri: uri.to_string(),
            hint: "add token=, serial= or slot-id=",
        }),
    }
}

/// Fixed-width PKCS#11 text fields are padded with spaces; an absent attribute matches all.
fn matches(wanted: &Option<String>, field: &str) -> bool {
    wanted
        .as_deref()
        .is_none_or(|w| w == field.trim_end_matches([' ', '\0']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_uri_names_the_module_before_the_environment_and_the_default() {
        let env: Env = [(MODULE_ENV.to_owned(), "/opt/hsm/vendor.so".to_owned())].into();
        let uri = Pkcs11Uri::parse("pkcs11:?module-path=/opt/other.so").unwrap();
        assert_eq!(module_path(&uri, &env).unwrap(), Path::new("/opt/other.so"));
        let uri = Pkcs11Uri::parse("pkcs11:token=t").unwrap();
        assert_eq!(
            module_path(&uri, &env).unwrap(),
            Path::new("/opt/hsm/vendor.so")
        );
        let uri = Pkcs11Uri::parse("pkcs11:?module-name=no-such-module-anywhere").unwrap();
        let err = module_path(&uri, &env).unwrap_err();
        assert_eq!(err.code(), "pkcs11.module");
    }

    #[test]
    fn a_missing_module_file_is_a_module_error() {
        let err = load(Path::new("/nonexistent/libnothing.so")).unwrap_err();
        assert_eq!(err.code(), "pkcs11.module");
        assert!(
            err.to_string().contains("/nonexistent/libnothing.so"),
            "{err}"
        );
    }

    #[test]
    fn padded_fields_match_trimmed() {
        assert!(matches(
            &Some("plant".into()),
            "plant                           "
        ));
        assert!(!matches(&Some("plant".into()), "plant2"));
        assert!(matches(&None, "anything"));
    }
}
