#![no_main]
//! The JWT claim readers, and the times derived from their answers.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for token in [text.to_owned(), format!("e30.{text}.sig")] {
        if let Ok(c) = token_common::jwt::read_claims(&token) {
            let _ = (c.expires_at(), c.issued_at());
        }
        if let Ok(t) = token_common::jwt::read_times(&token) {
            let _ = (t.expires_at(), t.issued_at(), t.lifetime());
        }
    }
});
