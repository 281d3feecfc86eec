//! pgusers: manage the users of a PostgreSQL database from a dashboard, a CLI or an API.
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod embedded;
pub mod failure;
pub mod logging;
pub mod notice;
pub mod operations;
pub mod registry;
pub mod roles;
pub mod serve;
pub mod startup;
pub mod state;
pub mod web;
