//! pgusers' integration tests: everything against a real PostgreSQL.

mod helpers;

mod abuse;
mod admin_kind;
mod api;
mod audit;
mod binary;
mod browser;
mod cli;
mod connect;
mod connection_uri;
mod dashboard;
mod doctor;
mod embedded;
mod left_code;
mod locks;
mod properties;
mod registry;
mod replay;
mod replicas;
mod request_limits;
mod roles_create;
mod roles_delete;
mod roles_list;
mod roles_managed;
mod roles_passwords;
mod roles_protected;
mod roles_read_only;
mod roles_standing;
mod security;
mod sessions;
mod tls;
mod tokens;
mod upgrade;
mod user_limits;
mod users_list;
