//! Who is connected: a user's sessions, as the role module, the dashboard,
//! the API and the CLI show them, and ending them; each checked against
//! sessions opened by a real client.

use pgusers::domain::RoleName;
use pgusers::roles::{Access, RoleError};
use serde_json::Value;
use tokio_postgres::{Client, NoTls};

use crate::cli::{cli, run};
use crate::helpers::{TestDb, dashboard, test_db, token_of};

/// Logs in as `user` over TCP, saying it is application `application`.
async fn session_of(db: &TestDb, user: &str, password: &str, application: &str) -> Client {
    let mut config = db.login_config(user, password);
    config.application_name(application);
    let (client, connection) = config.connect(NoTls).await.expect("the user logs in");
    tokio::spawn(connection);
    client
}

/// Whether pgusers' role may see the client address and state of role
/// `user`'s sessions: PostgreSQL shows them to a superuser, to a role with
/// `user`'s privileges and to a member of `pg_read_all_stats`.
async fn admin_sees_details_of(db: &TestDb, user: &str) -> bool {
    db.as_admin_in_use()
        .await
        .query_one(
            "SELECT r.rolsuper OR pg_has_role(current_user, u.oid, 'USAGE')
                    OR pg_has_role(current_user, 'pg_read_all_stats', 'USAGE')
               FROM pg_roles r, pg_roles u
              WHERE r.rolname = current_user AND u.rolname = $1",
            &[&user],
        )
        .await
        .unwrap()
        .get(0)
}

/// Whether `client`'s session was ended.
async fn ended(client: &Client) -> bool {
    client.batch_execute("SELECT 1").await.is_err()
}

fn role(name: &str) -> RoleName {
    RoleName::parse(name).unwrap()
}

#[tokio::test]
async fn a_users_sessions_are_counted_in_the_list_and_shown_with_application_and_database() {
    let db = test_db().await;
    let (name, secret) = db.create_user("online", Access::ReadOnly).await;
    let user = name.as_str();
    assert_eq!(db.listed(user).await.sessions, 0, "nobody is connected yet");
    let first = session_of(&db, user, secret.expose(), "billing-worker").await;
    let _second = session_of(&db, user, secret.expose(), "billing-web").await;
    first.batch_execute("SELECT 1").await.unwrap();

    assert_eq!(db.listed(user).await.sessions, 2);
    let found = db.roles.sessions(&role(user)).await.unwrap();

    assert_eq!(found.user.username, user);
    let applications: Vec<&str> = found
        .sessions
        .iter()
        .map(|s| s.application_name.as_str())
        .collect();
    assert_eq!(
        applications,
        ["billing-worker", "billing-web"],
        "oldest first"
    );
    assert!(
        found
            .sessions
            .iter()
            .all(|s| s.database.as_deref() == Some(db.name.as_str()))
    );
    if admin_sees_details_of(&db, user).await {
        for session in &found.sessions {
            assert_eq!(session.client_address.as_deref(), Some("127.0.0.1"));
            assert_eq!(session.state.as_deref(), Some("idle"));
            let since = session.since.as_deref().expect("a start time");
            assert!(since.len() == 20 && since.ends_with('Z'), "{since}");
        }
        assert_eq!(found.hidden_note, None);
    } else {
        assert!(
            found
                .sessions
                .iter()
                .all(|s| s.hidden() && s.state.is_none())
        );
        let note = found.hidden_note.expect("says why details are hidden");
        assert!(note.contains("GRANT pg_read_all_stats TO"), "{note}");
    }
}

#[tokio::test]
async fn a_session_in_another_database_of_the_server_counts_too() {
    let db = test_db().await;
    let (name, secret) = db.create_user("elsewhere", Access::ReadWrite).await;
    let _other = db
        .connect_to("postgres", name.as_str(), secret.expose())
        .await
        .expect("PUBLIC may connect to postgres");

    let found = db.roles.sessions(&role(name.as_str())).await.unwrap();

    assert_eq!(db.listed(name.as_str()).await.sessions, 1);
    assert_eq!(found.sessions.len(), 1);
    assert_eq!(found.sessions[0].database.as_deref(), Some("postgres"));
}

#[tokio::test]
async fn ending_a_users_sessions_closes_each_one_and_it_may_log_in_again() {
    let db = test_db().await;
    let (name, secret) = db.create_user("kicked", Access::ReadWrite).await;
    let user = name.as_str();
    let first = session_of(&db, user, secret.expose(), "app").await;
    let second = session_of(&db, user, secret.expose(), "app").await;
    second
        .batch_execute("BEGIN; CREATE TABLE half_done (v int);")
        .await
        .unwrap();

    let count = db.roles.end_sessions(&role(user)).await.unwrap();

    assert_eq!(count, 2);
    assert!(ended(&first).await && ended(&second).await);
    assert_eq!(db.listed(user).await.sessions, 0, "gone when it answers");
    assert_eq!(
        db.count("SELECT count(*) FROM pg_class WHERE relname = 'half_done'")
            .await,
        0,
        "the open transaction was rolled back"
    );
    let again = session_of(&db, user, secret.expose(), "app").await;
    assert!(!ended(&again).await, "ending sessions locks nobody out");
    assert_eq!(db.roles.end_sessions(&role(user)).await.unwrap(), 1);
}

#[tokio::test]
async fn the_protected_users_sessions_are_never_ended() {
    let db = test_db().await;
    let protected = db.connect_as_protected().await;

    let result = db.roles.end_sessions(&role(&db.protected)).await;

    assert!(matches!(result, Err(RoleError::Protected(_))), "{result:?}");
    assert!(!ended(&protected).await, "the application keeps running");
    let seen = db.roles.sessions(&role(&db.protected)).await.unwrap();
    assert!(!seen.sessions.is_empty(), "its sessions may be looked at");
}

#[tokio::test]
async fn the_sessions_of_a_user_that_does_not_exist_or_a_superuser_are_refused() {
    let db = test_db().await;

    let superuser: String = db
        .admin()
        .await
        .query_one(
            "SELECT rolname::text FROM pg_roles WHERE rolsuper ORDER BY oid LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);

    let missing = db.roles.sessions(&role("nobody_connected_here")).await;
    let superuser = db.roles.end_sessions(&role(&superuser)).await;

    assert!(
        matches!(missing, Err(RoleError::NotFound(_))),
        "{missing:?}"
    );
    assert!(
        matches!(superuser, Err(RoleError::NotManageable { .. })),
        "{superuser:?}"
    );
}

#[tokio::test]
async fn the_dashboard_shows_sessions_asks_before_ending_them_and_a_resent_form_ends_nothing_new() {
    let app = dashboard().start().await;
    app.log_in().await;
    let (name, secret) = app.db.create_user("dashed", Access::ReadWrite).await;
    let user = name.as_str();
    let first = session_of(&app.db, user, secret.expose(), "nightly-report").await;

    let list = app.get(&app.users(&format!("?q={user}"))).await;
    let details = app.get(&app.users(&format!("/{user}/details"))).await;
    let reset = app.get(&app.users(&format!("/{user}/reset"))).await;
    let delete = app.get(&app.users(&format!("/{user}/delete"))).await;
    let confirm = app.get(&app.users(&format!("/{user}/end-sessions"))).await;

    assert!(
        list.body
            .contains(r#"<td data-label="Sessions" class="sessions">1</td>"#),
        "the table counts the session"
    );
    assert!(list.body.contains(&format!("/{user}/details")));
    assert_eq!(details.status, 200);
    assert!(details.body.contains("nightly-report"));
    assert!(details.body.contains("1 open session on the server."));
    assert!(reset.body.contains(&format!(
        "\"{user}\" has 1 open session now.\n    They stay open"
    )));
    assert!(delete.body.contains(&format!(
        "\"{user}\" has 1 open session now:\n    the delete ends them first"
    )));
    assert!(
        confirm
            .body
            .contains(&format!("\"{user}\" has 1 open session now."))
    );
    assert!(!ended(&first).await, "asking ends nothing");

    let html = confirm.body;
    let form = [
        ("csrf_token", crate::helpers::csrf_token(&html)),
        (
            "form_id",
            crate::helpers::form_id(&html).expect("a form id"),
        ),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let action = app.users(&format!("/{user}/end-sessions"));
    let done = app.post(&action, &form).await;

    assert_eq!(done.status, 303);
    assert!(ended(&first).await);
    let shown = app.get(done.location.as_deref().unwrap()).await;
    assert!(
        shown
            .body
            .contains(&format!("Ended 1 session of user &#34;{user}&#34;."))
    );
    assert!(shown.body.contains("No open session."));

    let later = session_of(&app.db, user, secret.expose(), "nightly-report").await;
    let again = app.post(&action, &form).await;
    assert_eq!(again.status, 200);
    assert!(again.body.contains("Already done"));
    assert!(again.body.contains("were ended"));
    assert!(!ended(&later).await, "the form sent again ends nothing");
    let audited: i64 = app
        .state_admin()
        .await
        .query_one(
            "SELECT count(*) FROM audit_log WHERE action = 'end sessions' AND target = $1",
            &[&user],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(audited, 1);
}

#[tokio::test]
async fn the_protected_users_page_lists_its_sessions_but_offers_no_end_and_refuses_it() {
    let app = dashboard().start().await;
    app.log_in().await;
    let _protected = app.db.connect_as_protected().await;
    let protected = app.db.protected.clone();

    let details = app.get(&app.users(&format!("/{protected}/details"))).await;
    let confirm = app
        .get(&app.users(&format!("/{protected}/end-sessions")))
        .await;

    assert_eq!(details.status, 200);
    assert!(!details.body.contains("End sessions"));
    assert_eq!(confirm.status, 403);
}

#[tokio::test]
async fn the_api_lists_sessions_and_ends_them_with_a_token_that_may_change() {
    let app = dashboard().start().await;
    let (name, secret) = app.db.create_user("scripted", Access::ReadOnly).await;
    let user = name.as_str();
    let session = session_of(&app.db, user, secret.expose(), "etl").await;
    let path = format!(
        "{}/api/databases/{}/users/{user}/sessions",
        app.address, app.db.name
    );
    let (_, token) = token_of(&app.state_store(), "admin", false).await;
    let (_, reader) = token_of(&app.state_store(), "admin", true).await;
    let http = reqwest::Client::new();

    let listed: Value = http
        .get(&path)
        .bearer_auth(token.expose())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refused = http
        .delete(&path)
        .bearer_auth(reader.expose())
        .send()
        .await
        .unwrap();
    let refused_status = refused.status().as_u16();
    let alive_after_refusal = !ended(&session).await;
    let done = http
        .delete(&path)
        .bearer_auth(token.expose())
        .send()
        .await
        .unwrap();

    assert_eq!(listed["name"], user);
    assert_eq!(listed["sessions"][0]["application_name"], "etl");
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(refused_status, 403, "a read-only token ends nothing");
    assert!(alive_after_refusal);
    assert_eq!(done.status().as_u16(), 200);
    assert_eq!(done.json::<Value>().await.unwrap()["ended"], 1);
    assert!(ended(&session).await);
}

#[tokio::test]
async fn the_cli_prints_sessions_as_a_table_and_json_and_ends_them() {
    let db = test_db().await;
    let (name, secret) = db.create_user("terminal", Access::ReadWrite).await;
    let user = name.as_str();
    let session = session_of(&db, user, secret.expose(), "cron-job").await;

    let table = run(cli(&db).args(["database-users-sessions", user]), "");
    let json = run(
        cli(&db).args(["database-users-sessions", "--json", user]),
        "",
    );
    let end = run(cli(&db).args(["database-users-end-sessions", user]), "");
    let none = run(cli(&db).args(["database-users-sessions", user]), "");

    assert_eq!(table.code, 0, "{}", table.stderr);
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{}", table.stdout);
    for header in [
        "CLIENT ADDRESS",
        "APPLICATION",
        "DATABASE",
        "STATE",
        "SINCE",
        "PID",
    ] {
        assert!(lines[1].contains(header), "{}", lines[1]);
    }
    assert!(lines[3].contains("| cron-job ") && lines[3].contains(&db.name));
    let sessions: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(sessions[0]["application_name"], "cron-job");
    assert_eq!(end.code, 0, "{}", end.stderr);
    assert_eq!(end.stdout, format!("Ended 1 session of user \"{user}\".\n"));
    assert!(ended(&session).await);
    assert_eq!(none.stdout.lines().count(), 4, "a header and no row");
}

#[tokio::test]
async fn the_cli_refuses_to_end_the_protected_users_sessions_with_exit_3() {
    let db = test_db().await;
    let protected = db.connect_as_protected().await;

    let end = run(
        cli(&db).args(["database-users-end-sessions", &db.protected]),
        "",
    );

    assert_eq!(end.code, 3, "{}", end.stderr);
    assert!(end.stdout.is_empty());
    assert!(!ended(&protected).await);
}

#[tokio::test]
async fn the_dashboard_ends_the_sessions_of_a_user_it_does_not_manage_saying_it_cannot_reset_it() {
    let app = dashboard().start().await;
    app.log_in().await;
    let (name, secret) = app.db.create_user("leaked", Access::ReadWrite).await;
    let user = name.as_str();
    // It made itself a user of database postgres: pgusers no longer
    // changes it, but a leaked credential must still be cut off.
    let elsewhere = app
        .db
        .connect_to("postgres", user, secret.expose())
        .await
        .unwrap();
    elsewhere
        .batch_execute("ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC")
        .await
        .unwrap();
    let open = session_of(&app.db, user, secret.expose(), "leaked-script").await;

    let details = app.get(&app.users(&format!("/{user}/details"))).await;
    let confirm = app.get(&app.users(&format!("/{user}/end-sessions"))).await;

    assert!(details.body.contains("Not manageable"), "{}", details.body);
    assert!(details.body.contains(&format!("/{user}/end-sessions")));
    assert_eq!(confirm.status, 200);
    assert!(
        confirm
            .body
            .contains("pgusers does not manage this user here"),
        "{}",
        confirm.body
    );
    let page = app.users(&format!("/{user}/end-sessions"));
    let done = app.submit(&page, &page, &[]).await;
    assert_eq!(done.status, 303);
    assert!(ended(&open).await);
    assert!(ended(&elsewhere).await, "in every database");
    crate::helpers::drop_owned_in_postgres(user).await;
}
