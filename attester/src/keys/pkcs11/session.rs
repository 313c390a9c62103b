//! Sessions on the token a URI selects: open, log in (the PIN's sources in order, a PIN pad),
//! and find the one object a template matches.

use cryptoki::context::Pkcs11;
use cryptoki::object::{Attribute, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::{Slot, TokenInfo};

use super::Pk;
use super::error::{self, Pkcs11Error};
use super::module::{self, module_path};
use super::pin::{self, PinPrompt};
use super::uri::Pkcs11Uri;
use crate::ci::Env;

/// An open session on the token a URI selects.
pub(super) struct Opened {
    pub(super) session: Session,
    pub(super) token: String,
    ctx: Pkcs11,
    slot: Slot,
}

pub(super) fn open(uri: &Pkcs11Uri, env: &Env, read_write: bool) -> Pk<(Opened, TokenInfo)> {
    let path = module_path(uri, env)?;
    let ctx = module::load(&path)?;
    let (slot, info) = module::find_token(&ctx, uri)?;
    let token = info.label().trim_end().to_owned();
    let session = if read_write {
        ctx.open_rw_session(slot)
    } else {
        ctx.open_ro_session(slot)
    }
    .map_err(|e| Pkcs11Error::from_module(&token, "C_OpenSession", e))?;
    Ok((
        Opened {
            session,
            token,
            ctx,
            slot,
        },
        info,
    ))
}

pub(super) fn login(
    opened: &Opened,
    info: &TokenInfo,
    uri: &Pkcs11Uri,
    env: &Env,
    prompt: PinPrompt<'_>,
) -> Pk<()> {
    if !info.login_required() {
        return Ok(());
    }
    if info.user_pin_locked() {
        return Err(Pkcs11Error::PinLocked {
            token: opened.token.clone(),
            state: "locked",
        });
    }
    let pin = pin::resolve(uri, env, &opened.token, prompt)?;
    if pin.is_none() && !info.protected_authentication_path() {
        return Err(Pkcs11Error::PinMissing {
            token: opened.token.clone(),
        });
    }
    // A PIN pad reader takes the PIN itself when none is passed.
    match opened.session.login(UserType::User, pin.as_ref()) {
        Ok(()) => Ok(()),
        Err(cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::UserAlreadyLoggedIn, _)) => {
            Ok(())
        }
        Err(e) => Err(
            match Pkcs11Error::from_module(&opened.token, "C_Login", e) {
                Pkcs11Error::PinIncorrect { token, .. } => Pkcs11Error::PinIncorrect {
                    tries: tries_left(opened),
                    token,
                },
                other => other,
            },
        ),
    }
}

/// What the token now says about the user PIN's remaining attempts, so that a script or a
/// person stops before the PIN locks.
fn tries_left(opened: &Opened) -> &'static str {
    match opened.ctx.get_token_info(opened.slot) {
        Ok(info) if info.user_pin_locked() => "the PIN is now locked",
        Ok(info) if info.user_pin_final_try() => "one more wrong PIN locks it",
        Ok(info) if info.user_pin_count_low() => "few attempts are left before it locks",
        _ => error::TRIES_COUNTED,
    }
}

/// The search template of the URI's `object` (CKA_LABEL) and `id` (CKA_ID).
pub(super) fn selection(class: ObjectClass, uri: &Pkcs11Uri) -> Vec<Attribute> {
    let mut template = vec![Attribute::Class(class)];
    if let Some(label) = &uri.object {
        template.push(Attribute::Label(label.as_bytes().to_vec()));
    }
    if let Some(id) = &uri.id {
        template.push(Attribute::Id(id.clone()));
    }
    template
}

pub(super) fn one(
    opened: &Opened,
    template: &[Attribute],
    class: &'static str,
    uri: &Pkcs11Uri,
) -> Pk<ObjectHandle> {
    let mut found = opened
        .session
        .find_objects(template)
        .map_err(|e| Pkcs11Error::from_module(&opened.token, "C_FindObjects", e))?;
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(Pkcs11Error::ObjectNotFound {
            class,
            uri: uri.to_string(),
            token: opened.token.clone(),
        }),
        count => Err(Pkcs11Error::Ambiguous {
            count,
            what: if class == "private key" {
                "private keys"
            } else {
                "public keys"
            },
            uri: uri.to_string(),
            hint: "add object= or id=",
        }),
    }
}

pub(super) fn find(opened: &Opened, template: &[Attribute]) -> Pk<Vec<ObjectHandle>> {
    opened
        .session
        .find_objects(template)
        .map_err(|e| Pkcs11Error::from_module(&opened.token, "C_FindObjects", e))
}
