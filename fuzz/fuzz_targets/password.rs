//! Any password and confirmation: parsing never panics, accepts exactly the
//! guide's passwords, and no refusal carries the password.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pgusers::domain::{NewPassword, Password, PasswordError};

fuzz_target!(|input: (&str, &str)| {
    let (password, confirmation) = input;
    let allowed = (24..=64).contains(&password.chars().count())
        && !password.contains(['\'', '"'])
        && !password.chars().any(char::is_control);
    match Password::parse(password) {
        Ok(parsed) => {
            assert!(allowed, "accepted a password that breaks the rules");
            assert_eq!(parsed.expose(), password);
            assert!(!format!("{parsed:?}").contains(password));
        }
        Err(problems) => {
            assert!(!allowed, "refused a password that follows the rules");
            // A refusal carries the length or a quote, never the password.
            for problem in problems.all() {
                match problem {
                    PasswordError::Length(n) => assert_eq!(*n, password.chars().count()),
                    PasswordError::Quote(c) => assert!(matches!(c, '\'' | '"')),
                    PasswordError::Control => {}
                    PasswordError::Mismatch => panic!("one password cannot mismatch"),
                }
            }
        }
    }
    let typed = NewPassword::from_entry(password, confirmation);
    if password.is_empty() && confirmation.is_empty() {
        // Both empty: one is generated.
        assert!(typed.is_ok());
    } else if typed.is_ok() {
        assert!(allowed && password == confirmation);
    }
});
