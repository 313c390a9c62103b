//! RFC 7512 `pkcs11:` URIs (`Pkcs11Uri::parse`): what it prints parses to what it prints.
#![no_main]

use hallmark_attester::keys::pkcs11::Pkcs11Uri;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Pkcs11Uri::is_pkcs11(text);
    if let Ok(uri) = Pkcs11Uri::parse(text) {
        let shown = uri.to_string();
        let again = Pkcs11Uri::parse(&shown).expect("a printed URI parses");
        assert_eq!(shown, again.to_string(), "URI changed over a round trip");
    }
});
