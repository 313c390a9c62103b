//! JSON log lines on stdout: one per decision, and one per event. Strings that may carry a URL
//! have any user:password@ removed; tokens and passwords never reach a log.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

/// Removes `user:password@` from every URL in `text`.
pub fn strip_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let authority_end = tail
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace())
            .unwrap_or(tail.len());
        match tail[..authority_end].rfind('@') {
            Some(at) => rest = &tail[at + 1..],
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| (d.as_millis() as f64) / 1000.0)
        .unwrap_or_default()
}

/// Writes one JSON line.
pub fn line(mut fields: Map<String, Value>) {
    fields.insert("ts".to_owned(), json!(now()));
    let mut bytes = serde_json::to_vec(&Value::Object(fields)).unwrap_or_default();
    bytes.push(b'\n');
    // A closed stdout must not stop decisions.
    let _ = std::io::stdout().lock().write_all(&bytes);
}

/// An event line: level, message, fields (strings stripped of credentials).
pub fn event(level: &str, msg: &str, fields: &[(&str, Value)]) {
    let mut map = Map::new();
    map.insert("level".to_owned(), json!(level));
    map.insert("msg".to_owned(), json!(strip_credentials(msg)));
    for (k, v) in fields {
        let v = match v {
            Value::String(s) => Value::String(strip_credentials(s)),
            other => other.clone(),
        };
        map.insert((*k).to_owned(), v);
    }
    line(map);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_stripped_from_urls() {
        assert_eq!(
            strip_credentials(
                "GET https://bob:s3cret@r.example/v2/x: 401; also http://tok@h:5000/a"
            ),
            "GET https://r.example/v2/x: 401; also http://h:5000/a"
        );
        assert_eq!(strip_credentials("no url here @ all"), "no url here @ all");
        assert_eq!(
            strip_credentials("https://r.example/a@b"),
            "https://r.example/a@b"
        );
    }
}
