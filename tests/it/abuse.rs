//! Injection and abuse payloads in every field a person or a script can
//! fill — usernames, passwords, IDs in paths, searches, headers, cookies —
//! through the dashboard, the API and the command line. None runs SQL:
//! the canary table and the roles are untouched, and the server's
//! statement log never holds a payload outside a bound parameter. Each
//! gets a clear refusal (or, for a search, which any text may be, a list
//! of nobody).

use std::collections::BTreeSet;

use pgusers::state::Action;
use serde_json::json;

use crate::cli::{cli, run};
use crate::helpers::{TestApp, cluster, csrf_token, dashboard, token_of};

/// Payloads, each built around the test's own canary table, so the
/// statement log can be searched for them without seeing other tests'.
fn payloads(canary: &str, protected: &str) -> Vec<String> {
    vec![
        format!("x'; DROP TABLE {canary}; --"),
        format!("x\"; DROP TABLE {canary}; --"),
        format!("x'); DROP ROLE {protected}; -- {canary}"),
        format!("$$; DROP TABLE {canary}; $$"),
        format!("' OR '1'='1' -- {canary}"),
        format!("{canary}\\'; SELECT pg_sleep(10); --"),
        format!("{canary}%27%3B%20DROP%20TABLE%20{canary}"),
        format!("{canary}\u{0}nul"),
        format!("{canary}\r\nSet-Cookie: pgusers_session=x"),
        format!("<script>alert('{canary}')</script>"),
        format!("../../{canary}/../etc/passwd"),
        format!("\u{202e}{canary}\u{1b}[31m"),
        format!("{canary}{}", "A".repeat(300)),
        "postgres".to_owned(),
        "pg_read_server_files".to_owned(),
        protected.to_owned(),
    ]
}

/// Every byte but letters and digits as `%XX`, for a path segment.
fn encoded(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The refusal a dashboard page states: its error notice, which every
/// refusal has, in words.
fn notice(body: &str) -> Option<&str> {
    let start = body.find("class=\"notice error\" role=\"alert\"")?;
    let text = &body[start..];
    let text = &text[text.find('>')? + 1..];
    let text = &text[..text.find("</p>")?];
    (!text.trim().is_empty()).then_some(text)
}

/// The refusal an API answer states: `{"error": "..."}` with words, or
/// `{"errors": {field: [...]}}`.
fn api_error(text: &str) -> Option<String> {
    let body: serde_json::Value = serde_json::from_str(text).ok()?;
    match (&body["error"], &body["errors"]) {
        (serde_json::Value::String(message), _) if !message.trim().is_empty() => {
            Some(message.clone())
        }
        (_, serde_json::Value::Object(fields)) if !fields.is_empty() => Some(text.to_owned()),
        _ => None,
    }
}

/// Names of every role on the server.
async fn roles(app: &TestApp) -> BTreeSet<String> {
    app.db
        .admin()
        .await
        .query("SELECT rolname::text FROM pg_roles", &[])
        .await
        .expect("roles")
        .into_iter()
        .map(|row| row.get(0))
        .collect()
}

/// The protected user's row of `pg_authid`, password verifier included.
async fn protected_row(app: &TestApp) -> String {
    app.db
        .admin()
        .await
        .query_one(
            "SELECT row(a.*)::text FROM pg_authid a WHERE rolname = $1",
            &[&app.db.protected],
        )
        .await
        .expect("the protected user")
        .get(0)
}

#[tokio::test]
async fn injection_payloads_in_every_field_run_no_sql_and_each_gets_a_clear_refusal() {
    let app = dashboard().start().await;
    let canary = crate::helpers::unique_name("canary");
    let protected = app.db.protected.clone();
    app.db
        .admin()
        .await
        .batch_execute(&format!(
            "CREATE TABLE {canary} (v int); INSERT INTO {canary} VALUES (1)"
        ))
        .await
        .unwrap();
    let roles_before = roles(&app).await;
    let protected_before = protected_row(&app).await;
    app.log_in().await;
    let (_, token) = token_of(&app.state_store(), "admin", false).await;
    let api = reqwest::Client::new();
    let valid_password = "a-valid-password-0123456789";
    // Valid names for the fields beside a payload: they may be made.
    let targets = [
        crate::helpers::unique_name("abuse_form"),
        crate::helpers::unique_name("abuse_api"),
        crate::helpers::unique_name("abuse_cli"),
    ];
    let mut checked = 0;

    for payload in payloads(&canary, &protected) {
        let shown = format!("{payload:?}");
        // The dashboard: a new user's name, then its password.
        let answer = app
            .submit(
                &app.users("/new"),
                &app.users(""),
                &[
                    ("username", payload.as_str()),
                    ("password", valid_password),
                    ("password_confirmation", valid_password),
                ],
            )
            .await;
        assert!(
            [409, 422].contains(&answer.status),
            "username {shown}: {} {}",
            answer.status,
            answer.body
        );
        assert!(
            notice(&answer.body).is_some(),
            "username {shown}: {}",
            answer.body
        );
        let answer = app
            .submit(
                &app.users("/new"),
                &app.users(""),
                &[
                    ("username", targets[0].as_str()),
                    ("password", payload.as_str()),
                    ("password_confirmation", payload.as_str()),
                ],
            )
            .await;
        if payload.chars().count() < 24
            || payload.contains(['\'', '"'])
            || payload.chars().any(char::is_control)
        {
            assert_eq!(answer.status, 422, "password {shown}: {}", answer.body);
            assert!(
                answer.body.contains("Password must"),
                "password {shown}: {}",
                answer.body
            );
            assert!(
                !answer.body.contains(&payload),
                "a refused password is shown back"
            );
        }
        // The dashboard: a user's name and a database's ID in the path.
        let in_path = encoded(&payload);
        for confirm in ["reset", "delete"] {
            let page = app.get(&app.users(&format!("/{in_path}/{confirm}"))).await;
            assert!(
                [403, 404].contains(&page.status),
                "{confirm} of {shown}: {} {}",
                page.status,
                page.body
            );
            assert!(
                notice(&page.body).is_some(),
                "{confirm} of {shown}: {}",
                page.body
            );
            let token = csrf_token(&app.get(&app.users("")).await.body);
            let form_id = app.issued_form_id(Action::DeleteUser, &payload).await;
            let posted = app
                .post(
                    &app.users(&format!("/{in_path}/{confirm}")),
                    &[("csrf_token", &token), ("form_id", &form_id)],
                )
                .await;
            assert!(
                [403, 404].contains(&posted.status),
                "POST {confirm} of {shown}: {} {}",
                posted.status,
                posted.body
            );
            assert!(
                notice(&posted.body).is_some(),
                "POST {confirm} of {shown}: {}",
                posted.body
            );
        }
        let page = app
            .get(&format!("/databases/{in_path}/settings/database-users"))
            .await;
        assert_eq!(page.status, 404, "database {shown}: {}", page.body);
        assert!(notice(&page.body).is_some_and(|n| n.contains("There is no database")));
        // The dashboard: a search, which may be any text, finds nobody
        // and is shown back escaped.
        let page = app.get(&app.users(&format!("?q={in_path}"))).await;
        if payload != protected {
            assert!(
                [200, 400].contains(&page.status),
                "search {shown}: {} {}",
                page.status,
                page.body
            );
            assert!(
                !page.body.contains("<script>alert"),
                "search {shown} shown raw"
            );
        }
        // A page number that is not one is named, and page 1 shown.
        let page = app.get(&app.users(&format!("?page={in_path}"))).await;
        assert_eq!(page.status, 200, "page number {shown}: {}", page.body);
        assert!(
            page.body.contains("is not a page number"),
            "page number {shown}"
        );

        // The API: the same fields, as JSON and in paths.
        let users = format!("{}/api/databases/{}/users", app.address, app.db.name);
        for body in [
            json!({"database_user": {"name": payload, "password": valid_password, "password_confirmation": valid_password}}),
            json!({"database_user": {"name": targets[1].as_str(), "password": payload, "password_confirmation": payload}}),
        ] {
            let answer = api
                .post(&users)
                .bearer_auth(token.expose())
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = answer.status().as_u16();
            let text = answer.text().await.unwrap();
            if body["database_user"]["name"] == payload.as_str() || status != 201 {
                assert!([409, 422].contains(&status), "API {shown}: {status} {text}");
                assert!(api_error(&text).is_some(), "API {shown}: {text}");
            }
        }
        for path in [
            format!("{users}/{in_path}"),
            format!("{}/api/databases/{in_path}/users", app.address),
        ] {
            let answer = api
                .get(&path)
                .bearer_auth(token.expose())
                .send()
                .await
                .unwrap();
            let status = answer.status().as_u16();
            let text = answer.text().await.unwrap();
            if payload != protected {
                assert!(
                    [404, 409].contains(&status),
                    "API GET {shown}: {status} {text}"
                );
                assert!(api_error(&text).is_some(), "API GET {shown}: {text}");
            }
        }
        let answer = api
            .get(&users)
            .query(&[("q", payload.as_str())])
            .bearer_auth(token.expose())
            .send()
            .await
            .unwrap();
        assert!(
            [200, 400].contains(&answer.status().as_u16()),
            "API search {shown}"
        );
        // Headers and cookies carrying the payload.
        if let Ok(value) = reqwest::header::HeaderValue::from_str(&payload) {
            let answer = api
                .get(&users)
                .header("Authorization", value.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status().as_u16(), 401, "Authorization {shown}");
            let bearer = reqwest::header::HeaderValue::from_str(&format!("Bearer {payload}"));
            if let Ok(bearer) = bearer {
                let answer = api
                    .get(&users)
                    .header("Authorization", bearer)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(answer.status().as_u16(), 401, "Bearer {shown}");
            }
            let cookie = format!("pgusers_session={}", encoded(&payload));
            let answer = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap()
                .get(format!("{}{}", app.address, app.users("")))
                .header("Cookie", cookie)
                .header("X-Forwarded-For", value.clone())
                .header("X-Forwarded-Host", value)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status().as_u16(), 303, "cookie {shown}");
            assert_eq!(
                answer.headers()["location"].to_str().unwrap(),
                crate::helpers::login_for(&app.users("")),
                "cookie {shown}"
            );
        }

        // The command line: the name as an argument, the password on
        // standard input (an argument cannot hold a NUL).
        if !payload.contains('\0') {
            for args in [
                vec!["database-users-create", payload.as_str()],
                vec!["database-users-update-password", payload.as_str()],
                vec!["database-users-delete", payload.as_str()],
                vec!["--database", payload.as_str(), "database-users-list"],
            ] {
                let done = run(
                    cli(&app.db).args(&args),
                    &format!("{valid_password}\n{valid_password}\n"),
                );
                assert_ne!(done.code, 0, "CLI {args:?}: {}", done.stdout);
                assert!(
                    done.stderr
                        .lines()
                        .last()
                        .is_some_and(|l| l.starts_with("Error: ") && l.len() > 10),
                    "CLI {args:?}: {}",
                    done.stderr
                );
            }
            if payload.chars().count() < 24 || payload.contains(['\'', '"']) {
                let done = run(
                    cli(&app.db).args([
                        "database-users-create",
                        "--password-stdin",
                        targets[2].as_str(),
                    ]),
                    &format!("{payload}\n"),
                );
                assert_ne!(done.code, 0, "CLI password {shown}");
                assert!(done.stderr.contains("Password must"), "{}", done.stderr);
                assert!(
                    !done.stderr.contains(&payload),
                    "the CLI shows a refused password back"
                );
            }
        }
        checked += 1;
    }
    assert_eq!(checked, payloads(&canary, &protected).len());

    // Nothing ran: the canary and its row are there, and the protected
    // user is as it was.
    let rows: i64 = app
        .db
        .admin()
        .await
        .query_one(&format!("SELECT count(*) FROM {canary}"), &[])
        .await
        .expect("the canary table still exists")
        .get(0);
    assert_eq!(rows, 1);
    // Other tests make and drop roles on the same server meanwhile: no
    // role carries a payload, this test's own are the ones its valid
    // fields allowed, and the protected user and the superuser remain.
    let after = roles(&app).await;
    assert!(
        after.iter().all(|role| !role.contains(&canary)),
        "a role carries a payload"
    );
    let made: BTreeSet<&String> = after
        .difference(&roles_before)
        .filter(|role| role.starts_with("abuse_"))
        .collect();
    assert!(
        made.iter().all(|role| targets.contains(role)),
        "roles made: {made:?}"
    );
    assert!(after.contains(&protected) && after.contains("postgres"));
    assert_eq!(protected_row(&app).await, protected_before);
    // The statement log holds the canary's name only where this test
    // wrote it itself, or as a bound parameter's value.
    for line in cluster().log().lines() {
        if line.contains(&canary)
            && !line.contains("CREATE TABLE")
            && !line.contains("SELECT count(*)")
            // "parameters:" up to PostgreSQL 16, "Parameters:" from 17.
            && !line.to_ascii_lowercase().contains("parameters:")
        {
            panic!("a payload reached the server as SQL: {line}");
        }
    }
}

/// One rule for spaces around a new user's name on every front end: the
/// dashboard, the API and the CLI refuse it with the same words (the
/// dashboard keeps what was typed in the field), and create nothing, not
/// even the name between the spaces.
#[tokio::test]
async fn spaces_around_a_new_name_are_refused_alike_by_the_dashboard_the_api_and_the_cli() {
    let app = dashboard().start().await;
    app.log_in().await;
    let (_, token) = token_of(&app.state_store(), "admin", false).await;
    let words = "Username has spaces or invisible characters before or after it: remove them.";
    let names = [
        crate::helpers::unique_name("spaced_form"),
        crate::helpers::unique_name("spaced_api"),
        crate::helpers::unique_name("spaced_cli"),
    ];

    let typed = format!("  {} ", names[0]);
    let form = app
        .submit(
            &app.users("/new"),
            &app.users(""),
            &[("username", typed.as_str())],
        )
        .await;
    let api = reqwest::Client::new()
        .post(format!(
            "{}/api/databases/{}/users",
            app.address, app.db.name
        ))
        .bearer_auth(token.expose())
        .json(&json!({"database_user": {"name": format!("{}\t", names[1])}}))
        .send()
        .await
        .unwrap();
    let api_status = api.status().as_u16();
    let api_body: serde_json::Value = api.json().await.unwrap();
    let command = run(
        cli(&app.db).args(["database-users-create", &format!(" {}", names[2])]),
        "\n\n",
    );

    assert_eq!(form.status, 422, "{}", form.body);
    assert!(form.body.contains(words), "{}", form.body);
    assert!(
        form.body.contains(&format!("value=\"{typed}\"")),
        "what was typed is kept as typed: {}",
        form.body
    );
    assert_eq!(api_status, 422, "{api_body}");
    assert_eq!(api_body["errors"]["name"], json!([words]));
    assert_eq!(command.code, 2, "{}", command.stderr);
    assert!(command.stderr.contains(words), "{}", command.stderr);
    let made = roles(&app).await;
    for name in &names {
        assert!(!made.contains(name.as_str()), "{name} was created");
    }
}
