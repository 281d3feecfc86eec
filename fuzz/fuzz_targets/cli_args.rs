//! Any command line: parsing never panics, and a parsed one turns into
//! settings and a command without panicking either.
//!
//! The command definition is built once (as `Cli::try_parse_from` would on
//! every call, with clap's debug checks of the definition itself), then each
//! input is parsed by a copy of it: the same parser, run many times faster.
#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::sync::OnceLock;

use clap::{CommandFactory, FromArgMatches};
use libfuzzer_sys::fuzz_target;
use pgusers::config::Cli;

fn built() -> &'static clap::Command {
    static COMMAND: OnceLock<clap::Command> = OnceLock::new();
    COMMAND.get_or_init(|| {
        let mut command = Cli::command();
        command.build();
        command
    })
}

fuzz_target!(|input: &[u8]| {
    // Arguments are separated by NUL, which no real argument contains.
    let args = std::iter::once(OsString::from("pgusers")).chain(
        input
            .split(|byte| *byte == 0)
            .map(|arg| OsString::from_vec(arg.to_vec())),
    );
    let Ok(mut matches) = built().clone().try_get_matches_from(args) else {
        return;
    };
    if let Ok(cli) = Cli::from_arg_matches_mut(&mut matches) {
        let _ = cli.into_parts();
    }
});
