//! The lookup parser and resolver, search, the guide's finder and autocomplete: any text, no panic.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use practice_companion::Library;

static FRAMEWORK: LazyLock<Library> = LazyLock::new(|| Library::builtin().expect("framework"));

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = FRAMEWORK.lookup(text);
        let _ = FRAMEWORK.search_index().search(text, 5);
        let _ = practice_companion::commands::suggest_codes(&FRAMEWORK, text);
        let _ = practice_companion::commands::guide(&FRAMEWORK, text, None);
        let _ = practice_companion::commands::suggest_sections(&FRAMEWORK, text);
    }
});
