//! Any operator name: parsing never panics and accepts exactly 3 to 32
//! lowercase ASCII letters, digits, `_`, `-` and `.`, starting with a letter.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pgusers::domain::OperatorName;

fuzz_target!(|input: &str| {
    let allowed = (3..=32).contains(&input.len())
        && input.starts_with(|c: char| c.is_ascii_lowercase())
        && input
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.'));
    match OperatorName::parse(input) {
        Ok(name) => {
            assert!(allowed, "accepted {input:?}");
            assert_eq!(name.as_str(), input);
        }
        Err(error) => {
            assert!(!allowed, "refused {input:?}");
            assert!(!error.to_string().is_empty());
        }
    }
});
