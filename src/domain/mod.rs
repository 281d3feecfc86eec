//! Domain types: values that cannot hold invalid input.
//!
//! Parsing happens once, at the edge (a form, a command line). Everything
//! downstream takes these types and never re-checks them.

mod api_token;
mod connection;
mod database_id;
mod display;
mod limits;
mod list_query;
mod operator;
mod password;
mod problems;
mod role_name;
mod trusted_proxies;
mod username;

pub use api_token::{ApiToken, TokenError, TokenId, TokenIdError, TokenLabel, TokenLabelError};
pub use connection::{
    ConnectionDetails, Host, PublicAddress, PublicAddressError, SslMode, percent_encode,
};
pub use database_id::{DATABASE_ID_MAX, DatabaseId, DatabaseIdError};
pub use display::{count, is_hidden, terminal_safe_json, thousands, visible, visible_lines};
pub use limits::{
    CONNECTION_LIMIT_MAX, ConnectionLimit, ConnectionLimitError, Expiry, ExpiryError,
    LimitProblems, Limits, LimitsChange,
};
pub use list_query::{PAGE_SIZE, PageNumber, SEARCH_MAX, Search, Show};
pub use operator::{
    OPERATOR_PASSWORD_MIN, OperatorName, OperatorNameError, OperatorPassword, OperatorPasswordError,
};
pub use password::{EntryProblems, NewPassword, Password, PasswordError};
pub use problems::Problems;
pub use role_name::{RoleName, RoleNameError};
pub use trusted_proxies::{IpBlock, IpBlockError, TrustedProxies};
pub use username::{Username, UsernameError};
