//! Sessions, login throttling and operators, through the real dashboard.

use std::time::Duration;

use pgusers::domain::{OperatorName, OperatorPassword};
use pgusers::roles::RoleManager;
use pgusers::state::LoginPolicy;
use pgusers::web::SessionPolicy;

use crate::helpers::{Browser, spawn_app, spawn_app_with, spawn_server_with};

/// Throttling without waiting: lock out after four failures.
fn quick_lockout() -> LoginPolicy {
    LoginPolicy {
        slow_after: 2,
        lock_after: 4,
        first_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
        ..LoginPolicy::default()
    }
}

#[tokio::test]
async fn a_login_ends_after_the_idle_timeout() {
    let app = spawn_app_with(
        SessionPolicy {
            idle: Duration::from_secs(1),
            lifetime: Duration::from_secs(3600),
        },
        LoginPolicy::default(),
    )
    .await;
    app.log_in().await;
    assert_eq!(app.get("/settings/users").await.status, 200);

    tokio::time::sleep(Duration::from_millis(2100)).await;

    let page = app.get("/settings/users").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location.as_deref(), Some("/login"));
}

#[tokio::test]
async fn a_login_ends_after_its_lifetime_even_when_active() {
    let app = spawn_app_with(
        SessionPolicy {
            idle: Duration::from_secs(3600),
            lifetime: Duration::from_secs(2),
        },
        LoginPolicy::default(),
    )
    .await;
    app.log_in().await;

    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(1100)).await;
        app.get("/settings/users").await;
    }

    assert_eq!(
        app.get("/settings/users").await.status,
        303,
        "expired despite activity"
    );
}

#[tokio::test]
async fn repeated_failures_lock_out_the_name_and_the_address_across_restarts_without_saying_why() {
    let app = spawn_app_with(SessionPolicy::default(), quick_lockout()).await;

    for _ in 0..4 {
        let page = app.log_in_with("not-the-password").await;
        assert_eq!(page.status, 401);
        assert!(page.body.contains("Invalid name or password."));
    }
    let locked = app.log_in_with(&app.operator_password).await;

    assert_eq!(locked.status, 429, "even the right password is refused now");
    assert!(locked.body.contains("Too many failed logins."));
    assert!(
        !locked.body.to_lowercase().contains("password is"),
        "nothing says which part was wrong"
    );
    // The count lives in the state database: another dashboard process on
    // the same state refuses too.
    let replica = Browser::new(spawn_server_with(
        RoleManager::new(pgusers::db::pool(app.db.admin_config(), 1), None),
        app.state_store(),
        SessionPolicy::default(),
        quick_lockout(),
    ));
    assert_eq!(
        replica.log_in_with(&app.operator_password).await.status,
        429
    );
    let stored: i64 = app
        .state_admin()
        .await
        .query_one(
            "SELECT count(*) FROM login_failures WHERE operator = 'admin'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, 4);
}

#[tokio::test]
async fn a_successful_login_clears_the_names_failures() {
    let app = spawn_app_with(SessionPolicy::default(), quick_lockout()).await;

    for _ in 0..3 {
        app.log_in_with("not-the-password").await;
    }
    app.log_in().await;
    app.submit("/settings/users", "/logout", &[]).await;
    app.log_in_with("not-the-password").await;

    // 3 cleared, then 1: far from the lockout by name.
    let failures: i64 = app
        .state_admin()
        .await
        .query_one(
            "SELECT count(*) FROM login_failures WHERE operator = 'admin'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(failures, 1);
}

#[tokio::test]
async fn a_removed_operator_is_logged_out_at_its_next_request() {
    let app = spawn_app().await;
    let state = app.state_store();
    let jane = OperatorName::parse("jane").unwrap();
    state
        .add_operator(
            &jane,
            &OperatorPassword::parse("janes-long-password").unwrap(),
        )
        .await
        .unwrap();
    let browser = Browser::new(app.address.clone());
    let login = browser
        .submit(
            "/login",
            "/login",
            &[("username", "jane"), ("password", "janes-long-password")],
        )
        .await;
    assert_eq!(login.status, 303);
    assert_eq!(browser.get("/settings/users").await.status, 200);

    state.remove_operator(&jane).await.unwrap();

    assert_eq!(browser.get("/settings/users").await.status, 303);
}

#[tokio::test]
async fn the_last_operator_cannot_be_removed() {
    let app = spawn_app().await;
    let state = app.state_store();

    let result = state
        .remove_operator(&OperatorName::parse("admin").unwrap())
        .await;

    assert!(
        matches!(result, Err(pgusers::state::StateError::LastOperator(_))),
        "{result:?}"
    );
    app.log_in().await;
}
