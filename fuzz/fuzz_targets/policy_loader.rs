//! The policy loader: arbitrary UTF-8 text as a policy file, loaded after
//! the built-in rule pack as `otsensor` loads a policy directory
//! (`analysis::policy::load`).
//!
//! Checks: loading returns a policy or a list of errors, never panics; every
//! error names one of the two sources and a line and column inside that
//! source's text (1-based; the column may be one past the end of its line),
//! and says something.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otsensor::analysis::policy::{self, Source};

const NAME: &str = "fuzz.toml";

/// Whether line `line`, column `column` (1-based, in characters) lies in `text`.
fn inside(text: &str, line: usize, column: usize) -> bool {
    let Some(at) = line.checked_sub(1) else {
        return false;
    };
    match text.split('\n').nth(at) {
        Some(l) => (1..=l.chars().count() + 1).contains(&column),
        None => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let sources = [
        Source::default_pack(),
        Source {
            name: NAME.to_string(),
            text: text.to_string(),
        },
    ];
    let result = policy::load(&sources);
    if let Err(errors) = &result {
        assert!(!errors.0.is_empty(), "an error list without errors");
        for error in &errors.0 {
            let source = sources
                .iter()
                .find(|s| s.name == error.file)
                .unwrap_or_else(|| panic!("error in unknown file: {error}"));
            assert!(
                inside(&source.text, error.line, error.column),
                "error outside its text: {error}"
            );
            assert!(
                !error.message.is_empty(),
                "an error without a message: {error}"
            );
        }
    }
});
