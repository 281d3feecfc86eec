//! The audit log: what it records, where it shows, what it never holds.

use std::time::Duration;

use pgusers::notice::Announce;
use pgusers::roles::Access;
use pgusers::state::{Action, Event, Outcome, Source, StateSettings, StateStore};
use pgusers::web::SessionPolicy;

use crate::helpers::{csrf_token, dashboard, password, unique_name};

#[tokio::test]
async fn changes_refusals_and_logins_are_recorded_without_any_password() {
    let app = dashboard().start().await;
    let wrong = "a-wrong-operator-password";
    app.log_in_with(wrong).await;
    app.log_in().await;
    let chosen_name = unique_name("audited");
    let chosen = password();
    app.submit(
        &app.users("/new"),
        &app.users(""),
        &[
            ("username", chosen_name.as_str()),
            ("password", chosen.expose()),
            ("password_confirmation", chosen.expose()),
        ],
    )
    .await;
    let (reset_name, _) = app.db.create_user("resetme", Access::ReadWrite).await;
    let reset_path = app.users(&format!("/{reset_name}/reset"));
    let reset_page = app.submit(&reset_path, &reset_path, &[]).await;
    let delete_path = app.users(&format!("/{chosen_name}/delete"));
    app.submit(&delete_path, &delete_path, &[]).await;
    let token = csrf_token(&app.get(&app.users("")).await.body);
    let protected_reset = app.users(&format!("/{}/reset", app.db.protected));
    assert_eq!(
        app.post(
            &protected_reset,
            &[
                ("csrf_token", &token),
                (
                    "form_id",
                    &app.issued_form_id(Action::ResetPassword, &app.db.protected)
                        .await
                )
            ]
        )
        .await
        .status,
        403
    );

    let rows = app
        .state_admin()
        .await
        .query(
            "SELECT actor, source, action, database_name, target, outcome, client_address
               FROM audit_log ORDER BY id",
            &[],
        )
        .await
        .unwrap();
    let seen: Vec<(String, String, Option<String>, String)> = rows
        .iter()
        .map(|row| (row.get(0), row.get(2), row.get(4), row.get(5)))
        .collect();
    let entry = |actor: &str, action: &str, target: Option<&str>, outcome: &str| {
        (
            actor.to_owned(),
            action.to_owned(),
            target.map(str::to_owned),
            outcome.to_owned(),
        )
    };
    assert_eq!(
        seen,
        [
            entry("admin", "failed login", None, "refused"),
            entry("admin", "login", None, "ok"),
            entry("admin", "create user", Some(&chosen_name), "ok"),
            entry("admin", "reset password", Some(reset_name.as_str()), "ok"),
            entry("admin", "delete user", Some(&chosen_name), "ok"),
            entry(
                "admin",
                "reset password",
                Some(&app.db.protected),
                "refused"
            ),
        ]
    );
    for row in &rows {
        assert_eq!(row.get::<_, String>(1), "dashboard");
        assert_eq!(
            row.get::<_, Option<String>>(6).as_deref(),
            Some("127.0.0.1")
        );
    }
    assert_eq!(
        rows[2].get::<_, Option<String>>(3).as_deref(),
        Some(app.db.name.as_str())
    );
    let everything: String = app
        .state_admin()
        .await
        .query_one(
            "SELECT coalesce(string_agg(a::text, ' '), '') FROM audit_log a",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let reset_password = reset_page
        .body
        .split("id=\"new-password\"")
        .nth(1)
        .unwrap_or_default();
    let new_password = reset_password
        .split("value=\"")
        .nth(1)
        .unwrap_or_default()
        .split('"')
        .next()
        .unwrap();
    assert_eq!(new_password.len(), 64);
    for secret in [
        chosen.expose(),
        wrong,
        app.operator_password.as_str(),
        new_password,
    ] {
        assert!(
            !everything.contains(secret),
            "a password reached the audit log"
        );
    }
    assert!(!everything.contains("SCRAM-SHA-256$"), "nor a verifier");
}

#[tokio::test]
async fn the_activity_tab_shows_the_newest_first_a_page_at_a_time() {
    let app = dashboard().start().await;
    let state = app.state_store();
    for n in 0..30 {
        let event = Event {
            actor: "cli".into(),
            source: Source::Cli,
            action: Action::CreateUser,
            database: Some(app.db.name.clone()),
            target: Some(format!("user_number_{n:02}")),
            outcome: Outcome::Ok,
            detail: None,
            client_address: None,
        };
        state.record(&event).await.unwrap();
    }
    app.log_in().await;

    let first = app.get("/activity").await;
    let second = app.get("/activity?page=1").await;

    assert_eq!(first.status, 200);
    assert!(first.body.contains("<h1>Activity</h1>"));
    assert_eq!(
        first.body.matches(">Activity</h").count(),
        1,
        "one heading says Activity: {}",
        first.body
    );
    let rows = |body: &str| body.matches("<span class=\"outcome").count();
    assert_eq!(rows(&first.body), 25);
    let newest = first
        .body
        .find("login")
        .expect("the login, newest, comes first");
    let older = first
        .body
        .find("user_number_29")
        .expect("then the last insert");
    assert!(newest < older);
    assert!(first.body.contains("href=\"/activity?page=1\">Older"));
    assert!(!first.body.contains(">Newer<"));
    assert_eq!(
        rows(&second.body),
        6,
        "30 inserted plus the login, 25 on the first page"
    );
    assert!(second.body.contains("user_number_00"));
    assert!(second.body.contains("href=\"/activity?page=0\">Newer"));
    assert!(!second.body.contains(">Older<"));
    assert!(second.body.contains("CLI"), "CLI entries are marked");
}

#[tokio::test]
async fn a_locked_out_address_adds_one_audit_entry_however_often_it_tries() {
    let app = dashboard()
        .sessions(SessionPolicy::default())
        .logins(crate::helpers::quick_lockout())
        .start()
        .await;
    for _ in 0..4 {
        assert_eq!(app.log_in_with("a-wrong-password").await.status, 401);
    }
    // 200 attempts under names of the client's choosing, 20 at a time.
    for round in 0..10 {
        let names: Vec<String> = (0..20).map(|n| format!("flood-{round}-{n}")).collect();
        let answers = app.logins_all_at_once(&names, "a-wrong-password").await;
        assert!(answers.iter().all(|s| *s == 429), "{answers:?}");
    }

    let rows = app
        .state_admin()
        .await
        .query(
            "SELECT actor, detail FROM audit_log WHERE action = 'failed login' ORDER BY id",
            &[],
        )
        .await
        .unwrap();
    let refusals: Vec<(String, Option<String>)> = rows
        .iter()
        .map(|row| (row.get(0), row.get::<_, Option<String>>(1)))
        .filter(|(_, detail)| detail.is_some())
        .collect();
    assert_eq!(
        rows.len(),
        5,
        "four failures, then one lockout: {} refusals recorded",
        refusals.len()
    );
    assert_eq!(refusals.len(), 1);
    assert!(
        refusals[0]
            .1
            .as_deref()
            .is_some_and(|d| d.starts_with("locked out"))
    );
}

#[tokio::test]
async fn audit_entries_older_than_the_retention_are_deleted_and_newer_ones_kept() {
    let app = dashboard().start().await;
    let event = |target: &str| Event {
        actor: "cli".into(),
        source: Source::Cli,
        action: Action::DeleteUser,
        database: Some(app.db.name.clone()),
        target: Some(target.to_owned()),
        outcome: Outcome::Ok,
        detail: None,
        client_address: None,
    };
    let state = app.state_store();
    for target in ["from_last_year", "from_last_quarter", "from_last_week"] {
        state.record(&event(target)).await.unwrap();
    }
    let admin = app.state_admin().await;
    admin
        .batch_execute(
            "UPDATE audit_log SET at = now() - interval '365 days' WHERE target = 'from_last_year';
             UPDATE audit_log SET at = now() - interval '31 days' WHERE target = 'from_last_quarter';
             UPDATE audit_log SET at = now() - interval '7 days' WHERE target = 'from_last_week';",
        )
        .await
        .unwrap();

    // A process keeping 30 days prunes when it first records something.
    let month = app
        .state_store()
        .with_audit_retention(Duration::from_secs(30 * 86_400));
    month.record(&event("from_today")).await.unwrap();

    let kept: Vec<String> = admin
        .query(
            "SELECT target FROM audit_log WHERE target IS NOT NULL ORDER BY at",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(kept, ["from_last_week", "from_today"]);
}

#[tokio::test]
async fn an_entry_the_state_database_cannot_take_during_an_outage_is_written_when_it_is_back() {
    let (mut cluster, root) = crate::helpers::ephemeral_cluster().await;
    let state = StateStore::new(StateSettings {
        config: cluster.admin_config("pgusers").into(),
        create_with: Some(cluster.admin_config("postgres").into()),
        admin_password: None,
        announce: Announce::Stdout,
        bootstrap_operator: false,
    });
    let event = |target: &str| Event {
        actor: "jane".into(),
        source: Source::Api,
        action: Action::DeleteUser,
        database: Some("shop".into()),
        target: Some(target.to_owned()),
        outcome: Outcome::Ok,
        detail: None,
        client_address: None,
    };
    state.record(&event("before_the_outage")).await.unwrap();
    cluster = tokio::task::spawn_blocking(move || {
        cluster.stop().expect("PostgreSQL stops");
        cluster
    })
    .await
    .unwrap();

    // The user was deleted just before PostgreSQL went away; its entry
    // cannot be written now, and the answer does not wait for it.
    let asked = std::time::Instant::now();
    state.record_or_retry(&event("deleted_at_the_outage")).await;
    assert!(
        asked.elapsed() < Duration::from_secs(6),
        "{:?}",
        asked.elapsed()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    cluster = tokio::task::spawn_blocking(move || {
        cluster.start().expect("PostgreSQL starts again");
        cluster
    })
    .await
    .unwrap();
    let back = std::time::Instant::now();

    let admin = pgusers::db::connect(&cluster.admin_config("pgusers"))
        .await
        .unwrap();
    let (mut written, mut since_back) = (None, Duration::ZERO);
    while written.is_none() && back.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        since_back = back.elapsed();
        written = admin
            .query_opt(
                "SELECT actor, source, outcome, extract(epoch FROM now() - at)::float8
                   FROM audit_log WHERE target = 'deleted_at_the_outage'",
                &[],
            )
            .await
            .unwrap()
            .map(|row| {
                let fields: (String, String, String, f64) =
                    (row.get(0), row.get(1), row.get(2), row.get(3));
                fields
            });
    }
    let _ = cluster.stop();
    let _ = std::fs::remove_dir_all(&root);
    let (actor, source, outcome, age) =
        written.expect("the entry is written once PostgreSQL is back");
    assert_eq!(
        (actor.as_str(), source.as_str(), outcome.as_str()),
        ("jane", "api", "ok")
    );
    // Written after PostgreSQL came back, yet dated two seconds before.
    assert!(
        age > since_back.as_secs_f64() + 1.0,
        "the entry keeps the time of the change, not of its writing ({age:.1} s old, \
         PostgreSQL back {since_back:?} before)"
    );
}
