//! Everything else that reads what people type or click: tags, modes, times,
//! zones, weekdays, and the custom ids of buttons, menus and forms.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use practice_companion::Framework;
use practice_companion::discord::reply::custom_id;

static FRAMEWORK: LazyLock<Framework> = LazyLock::new(|| Framework::builtin().expect("framework"));

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = practice_companion::reflections::parse_tags(&FRAMEWORK, text);
        let _ = practice_companion::reflections::Mode::parse(text);
        let _ = practice_companion::schedule::parse_time(text);
        let _ = practice_companion::schedule::parse_zone(text);
        let _ = practice_companion::schedule::parse_weekday(text);
        if let Some(action) = custom_id::parse(text) {
            assert_eq!(custom_id::parse(&custom_id::action(&action)), Some(action));
        }
        let _ = custom_id::parse_modal(text);
    }
});
