//! Deployment and lot records (`hallmark_model::{deployment::Deployment, lot::Lot}::from_value`)
//! and the `SITE/LINE/ASSET` targets they name, round-tripped; containment is checked against
//! its definition (whole segments).
#![no_main]

use hallmark_model::deployment::Deployment;
use hallmark_model::lot::Lot;
use hallmark_model::target::Target;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Some((a, b)) = text.split_once('\n')
        && let (Ok(a), Ok(b)) = (a.parse::<Target>(), b.parse::<Target>())
    {
        let by_segments = {
            let (x, y): (Vec<&str>, Vec<&str>) = (a.segments().collect(), b.segments().collect());
            y.len() >= x.len() && x.iter().zip(&y).all(|(p, q)| p == q)
        };
        assert_eq!(a.contains(&b), by_segments, "{a} contains {b}");
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Ok(d) = Deployment::from_value(&value) {
        let again = Deployment::from_value(&d.to_value()).expect("a written deployment parses");
        assert_eq!(d, again, "deployment changed over a round trip");
    }
    if let Ok(lot) = Lot::from_value(&value) {
        let again = Lot::from_value(&lot.to_value()).expect("a written lot parses");
        assert_eq!(lot, again, "lot changed over a round trip");
    }
});
