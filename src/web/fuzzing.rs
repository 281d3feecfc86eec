//! Entry points for the fuzz targets in `fuzz/`, not an interface of
//! pgusers: each runs the decoders of the dashboard or the API on any
//! bytes, then the handlers' own reading of what they decoded, without a
//! server or a database.

/// Every form and list query of the dashboard, from `input`.
pub fn dashboard_forms(input: &[u8]) {
    super::routes::read_every_form(input);
}

/// Every JSON body and query of the API, from `input`.
pub fn api_inputs(input: &[u8]) {
    super::api::read_every_input(input);
}
