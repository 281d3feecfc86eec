//! Any command line: parsing never panics, and a parsed one turns into
//! settings and a command without panicking either.
//!
//! The command definition is built once (as `Cli::try_parse_from` would on
//! every call, with clap's debug checks of the definition itself) and kept:
//! each input is parsed by it with `try_get_matches_from_mut`, clap's way to
//! parse several command lines with one definition. Copying the definition
//! for each input took a fifth of the time.
#![no_main]

use std::cell::RefCell;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use clap::{CommandFactory, FromArgMatches};
use libfuzzer_sys::fuzz_target;
use pgusers::config::Cli;

thread_local! {
    static COMMAND: RefCell<clap::Command> = RefCell::new({
        let mut command = Cli::command();
        command.build();
        command
    });
}

fuzz_target!(|input: &[u8]| {
    // Arguments are separated by NUL, which no real argument contains.
    let args = std::iter::once(OsString::from("pgusers")).chain(
        input
            .split(|byte| *byte == 0)
            .map(|arg| OsString::from_vec(arg.to_vec())),
    );
    let parsed = COMMAND.with(|command| command.borrow_mut().try_get_matches_from_mut(args));
    let Ok(mut matches) = parsed else {
        return;
    };
    if let Ok(cli) = Cli::from_arg_matches_mut(&mut matches) {
        let _ = cli.into_parts();
    }
});
