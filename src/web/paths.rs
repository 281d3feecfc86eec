//! Where the dashboard's pages are: every path it builds to one of its own
//! pages comes from here, and the route table takes its patterns from the
//! same constants, so a page that moves moves everywhere at once.
//! (Templates build the links under a user from [`users`], through
//! `Chrome::users_href`.)

use crate::domain::percent_encode;

/// The users pages of database `{db}`: Settings › Database Users.
pub const USERS: &str = "/databases/{db}/settings/database-users";

/// A database's overview: `/databases/{id}`.
pub fn database(id: &str) -> String {
    format!("/databases/{id}")
}

/// A database's users page.
pub fn users(id: &str) -> String {
    format!("{}/settings/database-users", database(id))
}

/// A database's Health page.
pub fn health(id: &str) -> String {
    format!("{}/settings/health", database(id))
}

/// The page `page` (`details`, `reset`, `delete`, …) of user `user` of
/// database `id`, the name percent-encoded.
pub fn user(id: &str, user: &str, page: &str) -> String {
    format!("{}/{}/{page}", users(id), percent_encode(user))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_paths_are_the_route_tables() {
        assert_eq!(users("app_db"), USERS.replace("{db}", "app_db"));
        assert_eq!(health("app_db"), "/databases/app_db/settings/health");
        assert_eq!(
            user("app_db", "Mixed Case/x", "details"),
            "/databases/app_db/settings/database-users/Mixed%20Case%2Fx/details"
        );
    }
}
