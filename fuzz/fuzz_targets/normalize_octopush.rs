//! `normalize_page(Vendor::Octopush, body)` on arbitrary bytes: it must return
//! messages or a `PageError`, never panic, overflow the stack or hang; and
//! whatever it returns must serialize.
#![no_main]

use convo_normalize::{Vendor, normalize_page};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    match normalize_page(Vendor::Octopush, body) {
        Ok(messages) => {
            let json = serde_json::to_vec(&messages).expect("normalized messages serialize");
            assert!(!json.is_empty());
        }
        Err(error) => {
            let text = error.to_string();
            assert!(text.starts_with("not a octopush page: "), "{text}");
        }
    }
});
