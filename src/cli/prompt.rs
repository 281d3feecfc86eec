//! Asking for a new password: hidden input on a terminal, lines of standard
//! input otherwise, so scripts can pipe the answers in.

use std::io::{BufRead, IsTerminal, Write};

use super::CliError;
use crate::domain::{NewPassword, OperatorPassword, Password, PasswordError, Problems};

pub const PASSWORD_PROMPT: &str = "Password (Will be generated if left empty): ";
pub const CONFIRMATION_PROMPT: &str = "Password Confirmation: ";
/// How many times a person may try before the command gives up.
pub const TRIES: usize = 3;

pub const OPERATOR_PASSWORD_PROMPT: &str = "Operator password (Will be generated if left empty): ";

/// Asks for a password twice, saying why it was refused. On a terminal a
/// person may try [`TRIES`] times; piped answers get one try, since a
/// script's next lines are not a correction, and its error must be the real
/// reason rather than "standard input ended". Both entries empty means
/// "generate one". Prompts and reasons go to standard error; nothing typed
/// is ever printed.
pub fn ask_new_password() -> Result<NewPassword, CliError> {
    ask_twice(PASSWORD_PROMPT, |password, confirmation| {
        NewPassword::from_entry(password, confirmation).map_err(|e| e.to_string())
    })
}

/// The same for an operator's password; `None` means "generate one".
pub fn ask_operator_password() -> Result<Option<OperatorPassword>, CliError> {
    ask_twice(OPERATOR_PASSWORD_PROMPT, |password, confirmation| {
        if password.is_empty() && confirmation.is_empty() {
            return Ok(None);
        }
        OperatorPassword::from_entry(password, confirmation)
            .map(Some)
            .map_err(|e| e.to_string())
    })
}

fn ask_twice<T>(
    prompt: &str,
    parse: impl Fn(&str, &str) -> Result<T, String>,
) -> Result<T, CliError> {
    let mut input = Input::new();
    let tries = if input.terminal { TRIES } else { 1 };
    ask_with(|prompt| input.read(prompt), tries, prompt, parse)
}

/// Up to `tries` pairs of answers from `read`, each failure explained.
fn ask_with<T>(
    mut read: impl FnMut(&str) -> Result<String, CliError>,
    tries: usize,
    prompt: &str,
    parse: impl Fn(&str, &str) -> Result<T, String>,
) -> Result<T, CliError> {
    let mut attempt = 1;
    loop {
        let password = read(prompt)?;
        let confirmation = read(CONFIRMATION_PROMPT)?;
        match parse(&password, &confirmation) {
            Ok(value) => return Ok(value),
            Err(reason) if attempt < tries => eprintln!("{reason} Try again."),
            Err(reason) if tries == 1 => {
                return Err(CliError::Usage(format!("{reason} No password was set.")));
            }
            Err(reason) => {
                return Err(CliError::Usage(format!(
                    "{reason} No password was set after {tries} tries."
                )));
            }
        }
        attempt += 1;
    }
}

/// Reads one line of standard input as the password: `--password-stdin`.
/// An empty line means "generate one".
pub fn read_password_line() -> Result<NewPassword, CliError> {
    let line = Input::new().line()?;
    if line.is_empty() {
        return Ok(NewPassword::Generate);
    }
    Password::parse(&line)
        .map(NewPassword::Chosen)
        .map_err(|reasons: Problems<PasswordError>| CliError::Usage(reasons.to_string()))
}

struct Input {
    terminal: bool,
    lines: std::io::StdinLock<'static>,
}

impl Input {
    fn new() -> Self {
        let stdin = std::io::stdin();
        Self {
            terminal: stdin.is_terminal(),
            lines: stdin.lock(),
        }
    }

    fn read(&mut self, prompt: &str) -> Result<String, CliError> {
        eprint!("{prompt}");
        let _ = std::io::stderr().flush();
        if self.terminal {
            return rpassword::read_password()
                .map_err(|e| CliError::Usage(format!("Reading the password failed: {e}")));
        }
        let line = self.line();
        // Standard input does not echo a newline for us.
        eprintln!();
        line
    }

    /// One line without its line ending; the end of input is an error.
    fn line(&mut self) -> Result<String, CliError> {
        let mut line = String::new();
        let read = self
            .lines
            .read_line(&mut line)
            .map_err(|e| CliError::Usage(format!("Reading standard input failed: {e}")))?;
        if read == 0 {
            return Err(CliError::Usage(
                "Standard input ended before a password was given. Send two lines \
                 (password and confirmation; two empty lines generate one), or use --password-stdin."
                    .into(),
            ));
        }
        let trimmed = line.strip_suffix('\n').unwrap_or(&line);
        Ok(trimmed.strip_suffix('\r').unwrap_or(trimmed).to_owned())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;

    /// Answers as a person would type them, one per prompt.
    fn answers(lines: &[&str]) -> impl FnMut(&str) -> Result<String, CliError> + use<> {
        let mut lines: VecDeque<String> = lines.iter().map(|l| (*l).to_owned()).collect();
        move |_prompt| {
            lines
                .pop_front()
                .ok_or_else(|| CliError::Usage("no more answers".into()))
        }
    }

    fn new_password(password: &str, confirmation: &str) -> Result<NewPassword, String> {
        NewPassword::from_entry(password, confirmation).map_err(|e| e.to_string())
    }

    #[test]
    fn on_a_terminal_a_wrong_entry_is_explained_and_the_next_try_counts() {
        let good = "a-good-password-of-thirty-chars";
        let read = answers(&["short", "short", good, "other", good, good]);

        let asked = ask_with(read, TRIES, PASSWORD_PROMPT, new_password).unwrap();

        assert!(matches!(asked, NewPassword::Chosen(p) if p.expose() == good));
    }

    #[test]
    fn on_a_terminal_three_failed_tries_end_with_the_last_reason() {
        let long = "b".repeat(30);
        let read = answers(&["short", "short", "x", "x", &long, "y"]);

        let error = ask_with(read, TRIES, PASSWORD_PROMPT, new_password)
            .err()
            .unwrap();

        assert_eq!(
            error.to_string(),
            "Password and confirmation do not match. No password was set after 3 tries."
        );
        assert_eq!(error.exit_code(), super::super::exit::USAGE);
    }

    #[test]
    fn piped_answers_get_one_try_whose_reason_is_the_error() {
        let read = answers(&["short", "short", "never", "read"]);

        let error = ask_with(read, 1, PASSWORD_PROMPT, new_password)
            .err()
            .unwrap();

        assert_eq!(
            error.to_string(),
            "Password must be between 24 and 64 characters long (it has 5). No password was set."
        );
    }
}
