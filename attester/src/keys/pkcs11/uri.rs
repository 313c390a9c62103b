//! RFC 7512 `pkcs11:` URIs: which module, token and key object to use, and where the PIN is.
//!
//! Path attributes (`;`-separated) select; query attributes (`&`-separated, after `?`) say how to
//! get there. Values are percent-decoded. An unknown path attribute is refused: RFC 7512 makes it
//! match nothing, and a key that silently matches nothing is worse than a clear error. An unknown
//! query attribute is ignored, as the RFC asks, and listed in [`Pkcs11Uri::ignored`] so callers
//! can warn. A PIN given as `pin-value` is kept as a secret: [`Pkcs11Uri`]'s `Debug` and
//! `Display` never show it, and no parse error quotes it.

use std::fmt;

use cryptoki::types::AuthPin;

use super::error::Pkcs11Error;

/// Longest URI read, in bytes.
pub const MAX_URI_BYTES: usize = 4096;

/// The `type` path attribute: which class of object the URI names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectType {
    /// `public`: a public key.
    Public,
    /// `private`: a private key.
    Private,
    /// `cert`: a certificate.
    Cert,
    /// `secret-key`: a secret (symmetric) key.
    SecretKey,
    /// `data`: a data object.
    Data,
}

impl ObjectType {
    fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "public" => ObjectType::Public,
            "private" => ObjectType::Private,
            "cert" => ObjectType::Cert,
            "secret-key" => ObjectType::SecretKey,
            "data" => ObjectType::Data,
            _ => return None,
        })
    }

    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectType::Public => "public",
            ObjectType::Private => "private",
            ObjectType::Cert => "cert",
            ObjectType::SecretKey => "secret-key",
            ObjectType::Data => "data",
        }
    }
}

/// Where the URI says the PIN is.
pub(crate) enum UriPin {
    /// `pin-value`: the PIN itself.
    Value(AuthPin),
    /// `pin-source`: a `file:` URI or a path.
    Source(String),
}

/// A parsed `pkcs11:` URI. Text attributes are compared with the token's (space-padded) fields
/// after trimming.
#[derive(Default)]
pub struct Pkcs11Uri {
    /// `token`: the token label.
    pub token: Option<String>,
    /// `manufacturer`: the token's manufacturer ID.
    pub manufacturer: Option<String>,
    /// `serial`: the token's serial number.
    pub serial: Option<String>,
    /// `model`: the token's model.
    pub model: Option<String>,
    /// `library-manufacturer`: the module's manufacturer ID.
    pub library_manufacturer: Option<String>,
    /// `library-description`: the module's description.
    pub library_description: Option<String>,
    /// `library-version`: the module's version, `MAJOR[.MINOR]`.
    pub library_version: Option<(u8, u8)>,
    /// `slot-description`.
    pub slot_description: Option<String>,
    /// `slot-manufacturer`.
    pub slot_manufacturer: Option<String>,
    /// `slot-id`: the slot number.
    pub slot_id: Option<u64>,
    /// `object`: the key's label (CKA_LABEL).
    pub object: Option<String>,
    /// `type`: the object class.
    pub object_type: Option<ObjectType>,
    /// `id`: the key's CKA_ID, as bytes.
    pub id: Option<Vec<u8>>,
    /// `module-path`: the module to load.
    pub module_path: Option<String>,
    /// `module-name`: the module's file name without `lib` and extension.
    pub module_name: Option<String>,
    pub(crate) pin: Option<UriPin>,
    /// Query attributes not understood, ignored (names only).
    pub ignored: Vec<String>,
}

impl Pkcs11Uri {
    /// True when `text` is meant as a PKCS#11 URI (it starts with the `pkcs11:` scheme).
    pub fn is_pkcs11(text: &str) -> bool {
        text.get(..7)
            .is_some_and(|s| s.eq_ignore_ascii_case("pkcs11:"))
    }

    /// Parses a `pkcs11:` URI.
    pub fn parse(text: &str) -> Result<Self, Pkcs11Error> {
        let bad = |m: String| Pkcs11Error::Uri(m);
        if text.len() > MAX_URI_BYTES {
            return Err(bad(format!("longer than {MAX_URI_BYTES} bytes")));
        }
        if !Self::is_pkcs11(text) {
            return Err(bad("it does not start with pkcs11:".to_owned()));
        }
        // A fragment has no meaning in RFC 7512; refuse it rather than guess.
        if text.contains('#') {
            return Err(bad("'#' must be percent-encoded (%23)".to_owned()));
        }
        let rest = &text[7..];
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let mut uri = Pkcs11Uri::default();
        for attr in path.split(';').filter(|a| !a.is_empty()) {
            let (name, raw) = attr
                .split_once('=')
                .ok_or_else(|| bad(format!("path attribute {:?} has no '='", printable(attr))))?;
            uri.set_path(name, raw)?;
        }
        for attr in query
            .into_iter()
            .flat_map(|q| q.split('&'))
            .filter(|a| !a.is_empty())
        {
            // Without '=' the text may be a misplaced secret: it is not quoted.
            let (name, raw) = attr
                .split_once('=')
                .ok_or_else(|| bad("a query attribute has no '='".to_owned()))?;
            uri.set_query(name, raw)?;
        }
        // What a URI prints (percent-encoded, up to three bytes per input byte) must parse
        // again: the limit holds for the printed form too.
        let printed = uri.to_string().len();
        if printed > MAX_URI_BYTES {
            return Err(bad(format!(
                "longer than {MAX_URI_BYTES} bytes once percent-encoded ({printed} bytes)"
            )));
        }
        Ok(uri)
    }

    fn set_path(&mut self, name: &str, raw: &str) -> Result<(), Pkcs11Error> {
        let text = || decode_text(name, raw);
        macro_rules! once {
            ($field:expr, $value:expr) => {{
                if $field.is_some() {
                    return Err(Pkcs11Error::Uri(format!("{name} appears twice")));
                }
                $field = Some($value);
            }};
        }
        match name {
            "token" => once!(self.token, text()?),
            "manufacturer" => once!(self.manufacturer, text()?),
            "serial" => once!(self.serial, text()?),
            "model" => once!(self.model, text()?),
            "library-manufacturer" => once!(self.library_manufacturer, text()?),
            "library-description" => once!(self.library_description, text()?),
            "library-version" => once!(self.library_version, parse_version(&text()?)?),
            "slot-description" => once!(self.slot_description, text()?),
            "slot-manufacturer" => once!(self.slot_manufacturer, text()?),
            "slot-id" => {
                let value = text()?;
                let id = value.parse().map_err(|_| {
                    Pkcs11Error::Uri(format!(
                        "slot-id {:?} is not a decimal number",
                        printable(&value)
                    ))
                })?;
                once!(self.slot_id, id)
            }
            "object" => once!(self.object, text()?),
            "type" => {
                let value = text()?;
                let kind = ObjectType::parse(&value).ok_or_else(|| {
                    Pkcs11Error::Uri(format!(
                        "type {:?} is none of public, private, cert, secret-key, data",
                        printable(&value)
                    ))
                })?;
                once!(self.object_type, kind)
            }
            "id" => once!(self.id, decode(name, raw)?),
            other => {
                return Err(Pkcs11Error::Uri(format!(
                    "unknown path attribute {:?}: RFC 7512 makes it match no object",
                    printable(other)
                )));
            }
        }
        Ok(())
    }

    fn set_query(&mut self, name: &str, raw: &str) -> Result<(), Pkcs11Error> {
        let twice = || Pkcs11Error::Uri(format!("{name} appears twice"));
        match name {
            "pin-value" | "pin-source" if self.pin.is_some() => {
                return Err(Pkcs11Error::Uri(
                    "give one PIN: pin-value or pin-source, once".to_owned(),
                ));
            }
            // The value is secret: an error here names the attribute only.
            "pin-value" => {
                let pin = decode_text(name, raw).map_err(|_| {
                    Pkcs11Error::Uri("pin-value is not valid percent-encoded UTF-8".to_owned())
                })?;
                self.pin = Some(UriPin::Value(AuthPin::from(pin)));
            }
            "pin-source" => self.pin = Some(UriPin::Source(decode_text(name, raw)?)),
            "module-path" if self.module_path.is_some() => return Err(twice()),
            "module-path" => self.module_path = Some(decode_text(name, raw)?),
            "module-name" if self.module_name.is_some() => return Err(twice()),
            "module-name" => {
                let value = decode_text(name, raw)?;
                if value.is_empty() || value.contains('/') || value.starts_with('.') {
                    return Err(Pkcs11Error::Uri(format!(
                        "module-name {:?} must be a bare file name (use module-path for a path)",
                        printable(&value)
                    )));
                }
                self.module_name = Some(value);
            }
            other => self.ignored.push(printable(other)),
        }
        Ok(())
    }

    /// True when the URI carries the PIN itself (`pin-value`), which anyone who can list
    /// processes can read from a command line.
    pub fn has_pin_value(&self) -> bool {
        matches!(self.pin, Some(UriPin::Value(_)))
    }

    /// The `pin-source` attribute, if any.
    pub fn pin_source(&self) -> Option<&str> {
        match &self.pin {
            Some(UriPin::Source(s)) => Some(s),
            _ => None,
        }
    }
}

/// The URI again, percent-encoded, without `pin-value` (a PIN is never shown).
impl fmt::Display for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut path: Vec<String> = Vec::new();
        let mut text = |name: &str, v: &Option<String>| {
            if let Some(v) = v {
                path.push(format!("{name}={}", encode(v.as_bytes())));
            }
        };
        text("token", &self.token);
        text("manufacturer", &self.manufacturer);
        text("serial", &self.serial);
        text("model", &self.model);
        text("library-manufacturer", &self.library_manufacturer);
        text("library-description", &self.library_description);
        text("slot-description", &self.slot_description);
        text("slot-manufacturer", &self.slot_manufacturer);
        text("object", &self.object);
        if let Some((major, minor)) = self.library_version {
            path.push(format!("library-version={major}.{minor}"));
        }
        if let Some(id) = self.slot_id {
            path.push(format!("slot-id={id}"));
        }
        if let Some(kind) = self.object_type {
            path.push(format!("type={}", kind.as_str()));
        }
        if let Some(id) = &self.id {
            let hex: String = id.iter().map(|b| format!("%{b:02x}")).collect();
            path.push(format!("id={hex}"));
        }
        let mut query: Vec<String> = Vec::new();
        if let Some(p) = &self.module_path {
            query.push(format!("module-path={}", encode(p.as_bytes())));
        }
        if let Some(n) = &self.module_name {
            query.push(format!("module-name={}", encode(n.as_bytes())));
        }
        if let Some(s) = self.pin_source() {
            query.push(format!("pin-source={}", encode(s.as_bytes())));
        }
        write!(f, "pkcs11:{}", path.join(";"))?;
        if !query.is_empty() {
            write!(f, "?{}", query.join("&"))?;
        }
        Ok(())
    }
}

impl fmt::Debug for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pin = match &self.pin {
            None => "none",
            Some(UriPin::Value(_)) => "pin-value (redacted)",
            Some(UriPin::Source(_)) => "pin-source",
        };
        f.debug_struct("Pkcs11Uri")
            .field("uri", &self.to_string())
            .field("pin", &pin)
            .field("ignored", &self.ignored)
            .finish()
    }
}

/// Percent-decodes `raw` (the value of attribute `name`).
fn decode(name: &str, raw: &str) -> Result<Vec<u8>, Pkcs11Error> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    Pkcs11Error::Uri(format!("{name}: '%' is not followed by two hex digits"))
                })?;
            out.push(hex);
            i += 3;
        } else if b.is_ascii_graphic() {
            out.push(b);
            i += 1;
        } else {
            return Err(Pkcs11Error::Uri(format!(
                "{name}: spaces, control and non-ASCII characters must be percent-encoded"
            )));
        }
    }
    Ok(out)
}

fn decode_text(name: &str, raw: &str) -> Result<String, Pkcs11Error> {
    String::from_utf8(decode(name, raw)?)
        .map_err(|_| Pkcs11Error::Uri(format!("{name} is not UTF-8 once decoded")))
}

fn parse_version(value: &str) -> Result<(u8, u8), Pkcs11Error> {
    let bad = || {
        Pkcs11Error::Uri(format!(
            "library-version {:?} is not MAJOR[.MINOR]",
            printable(value)
        ))
    };
    let (major, minor) = value.split_once('.').unwrap_or((value, "0"));
    Ok((
        major.parse().map_err(|_| bad())?,
        minor.parse().map_err(|_| bad())?,
    ))
}

/// Percent-encodes all but RFC 3986 unreserved characters.
fn encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An attribute name or value made safe to print (bounded, no control characters).
fn printable(s: &str) -> String {
    s.chars()
        .take(64)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_path_and_query_with_percent_decoding() {
        let uri = Pkcs11Uri::parse(
            "pkcs11:token=Plant%20HSM;object=release;type=private;id=%01%02%ff;serial=42;\
             library-version=2.6;slot-id=7?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin",
        )
        .unwrap();
        assert_eq!(uri.token.as_deref(), Some("Plant HSM"));
        assert_eq!(uri.object.as_deref(), Some("release"));
        assert_eq!(uri.object_type, Some(ObjectType::Private));
        assert_eq!(uri.id.as_deref(), Some(&[1u8, 2, 0xff][..]));
        assert_eq!(uri.serial.as_deref(), Some("42"));
        assert_eq!(uri.library_version, Some((2, 6)));
        assert_eq!(uri.slot_id, Some(7));
        assert_eq!(
            uri.module_path.as_deref(),
            Some("/usr/lib/softhsm/libsofthsm2.so")
        );
        assert_eq!(uri.pin_source(), Some("file:/run/pin"));
        assert!(!uri.has_pin_value());
        // Display re-encodes; parsing it again gives the same selection.
        let again = Pkcs11Uri::parse(&uri.to_string()).unwrap();
        assert_eq!(again.token, uri.token);
        assert_eq!(again.id, uri.id);
        assert_eq!(again.object_type, uri.object_type);
    }

    #[test]
    fn the_scheme_is_case_insensitive_and_an_empty_path_matches_anything() {
        let uri = Pkcs11Uri::parse("PKCS11:").unwrap();
        assert!(uri.token.is_none() && uri.object.is_none());
        assert!(Pkcs11Uri::is_pkcs11("Pkcs11:token=a"));
        assert!(!Pkcs11Uri::is_pkcs11("./pkcs11:token=a"));
    }

    #[test]
    fn unknown_path_attributes_are_refused_and_unknown_query_attributes_ignored() {
        let err = Pkcs11Uri::parse("pkcs11:token=a;x-vendor=1").unwrap_err();
        assert!(err.to_string().contains("x-vendor"), "{err}");
        assert_eq!(err.code(), "pkcs11.uri");
        let uri = Pkcs11Uri::parse("pkcs11:token=a?x-vendor=1&module-name=softhsm2").unwrap();
        assert_eq!(uri.ignored, vec!["x-vendor".to_owned()]);
        assert_eq!(uri.module_name.as_deref(), Some("softhsm2"));
    }

    #[test]
    fn malformed_uris_are_refused() {
        for bad in [
            "pkcs11:token=a;token=b",
            "pkcs11:token",
            "pkcs11:id=%zz",
            "pkcs11:id=%1",
            "pkcs11:type=secret",
            "pkcs11:token=a b",
            "pkcs11:token=%ff%fe",
            "pkcs11:slot-id=x",
            "pkcs11:library-version=a.b",
            "pkcs11:token=a#frag",
            "pkcs11:?module-name=../evil",
            "pkcs11:?pin-source=a&pin-source=b",
            "file:k.key",
        ] {
            let err = Pkcs11Uri::parse(bad).err();
            assert!(
                matches!(err, Some(Pkcs11Error::Uri(_))),
                "{bad} was accepted"
            );
        }
        let long = format!("pkcs11:token={}", "a".repeat(MAX_URI_BYTES));
        assert!(Pkcs11Uri::parse(&long).is_err());
    }

    /// Found by fuzzing (fuzz/regressions/pkcs11_uri/): 1,684 bytes of text printed as more than
    /// 4096 bytes, so the URI Hallmark showed did not parse. Now refused when parsed.
    #[test]
    fn a_uri_that_prints_over_the_limit_is_refused_and_what_prints_parses() {
        let expands = format!("pkcs11:object={}", "[".repeat(MAX_URI_BYTES / 2));
        assert!(expands.len() <= MAX_URI_BYTES);
        let err = Pkcs11Uri::parse(&expands).err();
        assert!(
            matches!(&err, Some(Pkcs11Error::Uri(m)) if m.contains("percent-encoded")),
            "{err:?}"
        );
        let fits = format!("pkcs11:object={}", "[".repeat(MAX_URI_BYTES / 4));
        let printed = Pkcs11Uri::parse(&fits).expect("fits").to_string();
        let again = Pkcs11Uri::parse(&printed).expect("what prints parses");
        assert_eq!(printed, again.to_string());
    }

    #[test]
    fn a_pin_value_never_shows_in_debug_display_or_errors() {
        let pin = "s3cret-PIN-4711";
        let uri = Pkcs11Uri::parse(&format!("pkcs11:token=t;object=k?pin-value={pin}")).unwrap();
        assert!(uri.has_pin_value());
        let shown = format!("{uri} {uri:?} {uri:#?}");
        assert!(!shown.contains(pin), "{shown}");
        assert!(shown.contains("redacted"));
        for bad in [
            format!("pkcs11:token=t?pin-value={pin}%"),
            format!("pkcs11:token=t?pin-value={pin}&pin-source=f"),
            format!("pkcs11:token=t?pin-value={pin} x"),
        ] {
            let err = Pkcs11Uri::parse(&bad).unwrap_err();
            let text = format!("{err} {err:?}");
            assert!(!text.contains(pin), "{text}");
        }
    }
}
