#![no_main]
//! The INI reader of the profile files.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(ini) = token_common::credentials::Ini::parse(text, "fuzz") {
        for name in ["default", "DEFAULT", "basic", "global"] {
            if let Some(s) = ini.section(name) {
                let _ = (s.get("ak"), s.line_of("sk"));
            }
        }
    }
});
