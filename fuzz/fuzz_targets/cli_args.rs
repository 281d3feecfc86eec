//! Any command line: parsing never panics, and a parsed one turns into
//! settings and a command without panicking either.
#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use clap::Parser;
use libfuzzer_sys::fuzz_target;
use pgusers::config::Cli;

fuzz_target!(|input: &[u8]| {
    // Arguments are separated by NUL, which no real argument contains.
    let args = std::iter::once(OsString::from("pgusers")).chain(
        input
            .split(|byte| *byte == 0)
            .map(|arg| OsString::from_vec(arg.to_vec())),
    );
    if let Ok(cli) = Cli::try_parse_from(args) {
        let _ = cli.into_parts();
    }
});
