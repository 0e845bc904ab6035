//! The payload probe on arbitrary bytes: never panics, and on every body serde reads as a JSON
//! object it finds the same top-level `id` and `type` (a repeated key: the last, for both).
#![no_main]

use hookscope::probe::event_fields;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let found = event_fields(body);
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(body) {
        let text = |v: Option<&serde_json::Value>| match v? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        assert_eq!(found, (text(map.get("id")), text(map.get("type"))));
    }
});
