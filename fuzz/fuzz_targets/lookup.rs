//! The lookup parser and resolver, search and autocomplete: any text, no panic.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use practice_companion::Framework;

static FRAMEWORK: LazyLock<Framework> = LazyLock::new(|| Framework::builtin().expect("framework"));

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = FRAMEWORK.lookup(text);
        let _ = FRAMEWORK.search_index().search(text, 5);
        let _ = practice_companion::commands::suggest_codes(&FRAMEWORK, text);
    }
});
