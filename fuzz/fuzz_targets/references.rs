//! The reference scanner and the confidentiality nudge: any text, no panic,
//! and every span it reports holds the code it names.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use practice_companion::Framework;
use practice_companion::references::find_references;

static FRAMEWORK: LazyLock<Framework> = LazyLock::new(|| Framework::builtin().expect("framework"));

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        for r in find_references(&FRAMEWORK, text) {
            assert_eq!(text.get(r.span.clone()), Some(r.code.to_string().as_str()));
        }
        let _ = practice_companion::reflections::nudge::concerns(text);
        let _ = practice_companion::render::split_text(text, 100);
    }
});
