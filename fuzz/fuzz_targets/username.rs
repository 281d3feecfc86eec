//! Any string given as a username: `Username::parse` never panics, and what
//! it accepts is exactly what the guide allows, unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pgusers::domain::Username;

fuzz_target!(|input: &str| {
    let allowed = (6..=32).contains(&input.len())
        && input.starts_with(|c: char| c.is_ascii_alphabetic())
        && input.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !input.to_ascii_lowercase().starts_with("pg_")
        && !["public", "current_user", "current_role", "session_user"]
            .contains(&input.to_ascii_lowercase().as_str());
    match Username::parse(input) {
        Ok(name) => {
            assert!(allowed, "accepted {input:?}");
            assert_eq!(name.as_str(), input);
        }
        Err(problems) => {
            assert!(!allowed, "refused {input:?}");
            // Every refusal says why, in words.
            assert!(problems.all().iter().all(|p| !p.to_string().is_empty()));
        }
    }
});
