//! Any body or query string, read as every JSON body and query of the
//! API, decoded as its extractor does and read by its handler's own code:
//! nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    pgusers::web::fuzzing::api_inputs(input);
});
