//! The policy input as a regorus value, converted in memory. Writing the document out as JSON
//! text for regorus to parse again cost about a tenth of an evaluation, and going through serde
//! still copies every string twice; object keys repeat in every step and material, so each
//! distinct key is allocated once.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value as Json;

/// `value` as regorus reads JSON: the same numbers (unsigned, signed, else a float), strings,
/// arrays and objects.
pub(super) fn to_rego(value: &Json) -> regorus::Value {
    Converter::default().convert(value)
}

#[derive(Default)]
struct Converter {
    keys: HashMap<String, regorus::Value>,
}

impl Converter {
    fn convert(&mut self, value: &Json) -> regorus::Value {
        match value {
            Json::Null => regorus::Value::Null,
            Json::Bool(b) => regorus::Value::Bool(*b),
            Json::Number(n) => {
                if let Some(u) = n.as_u64() {
                    regorus::Value::from(u)
                } else if let Some(i) = n.as_i64() {
                    regorus::Value::from(i)
                } else {
                    // serde_json holds no NaN or infinity, so every other number is a finite f64.
                    regorus::Value::from(n.as_f64().unwrap_or_default())
                }
            }
            Json::String(s) => regorus::Value::from(s.as_str()),
            Json::Array(items) => {
                regorus::Value::from(items.iter().map(|v| self.convert(v)).collect::<Vec<_>>())
            }
            Json::Object(map) => {
                let mut out = BTreeMap::new();
                for (k, v) in map {
                    let key = self.key(k);
                    out.insert(key, self.convert(v));
                }
                regorus::Value::from(out)
            }
        }
    }

    fn key(&mut self, k: &str) -> regorus::Value {
        if let Some(key) = self.keys.get(k) {
            return key.clone();
        }
        let key = regorus::Value::from(k);
        self.keys.insert(k.to_owned(), key.clone());
        key
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn converts_as_regorus_parses_json() {
        let doc = json!({
            "n": [0, 1, -1, 18446744073709551615u64, -9223372036854775808i64, 1.5, -2.25e-3, 1e300],
            "s": ["", "é\u{0}\"\\", "sha256:ab"],
            "o": {"b": {"x": null}, "a": [true, false, {}], "": []},
            "steps": [{"id": "1", "materials": [{"name": "a"}, {"name": "b"}]}],
        });
        let parsed = regorus::Value::from_json_str(&doc.to_string()).expect("regorus parses");
        assert_eq!(to_rego(&doc), parsed);
    }
}
