//! A user's expiry (`VALID UNTIL`) and connection limit, as the role module
//! sets them, checked by logging in as the user.

use pgusers::domain::{ConnectionLimit, Expiry, Limits, LimitsChange, NewPassword, RoleName};
use pgusers::roles::{Access, RoleError};

use serde_json::{Value, json};

use crate::cli::{cli, run};
use crate::helpers::{
    Page, TestApp, TestDb, csrf_token, dashboard, password, sqlstate, test_db, token_of, username,
};

fn limits(expires: Option<&str>, connection_limit: Option<u32>) -> Limits {
    Limits {
        expires: expires.map(|day| Expiry::parse(day).unwrap()),
        connection_limit: connection_limit.map(|n| ConnectionLimit::new(n).unwrap()),
    }
}

/// A new user with `limits`: its name and password.
async fn user_with(db: &TestDb, access: Access, limits: &Limits) -> (String, String) {
    let name = username("limited");
    let secret = password();
    db.roles
        .create_with(&name, NewPassword::Chosen(secret.clone()), access, limits)
        .await
        .expect("the user is created");
    (name.to_string(), secret.expose().to_owned())
}

#[tokio::test]
async fn a_user_created_with_an_expiry_and_a_connection_limit_is_listed_with_them() {
    let db = test_db().await;
    let (name, _) = user_with(&db, Access::ReadOnly, &limits(Some("2030-06-30"), Some(3))).await;
    let (plain, _) = user_with(&db, Access::ReadWrite, &Limits::default()).await;

    let listed = db.listed(&name).await;
    let unlimited = db.listed(&plain).await;

    assert_eq!(listed.expires.as_deref(), Some("2030-06-30T00:00:00Z"));
    assert_eq!(listed.expires_shown().as_deref(), Some("2030-06-30"));
    assert!(!listed.expired);
    assert_eq!(listed.connection_limit, Some(3));
    assert_eq!(
        (
            unlimited.expires,
            unlimited.expired,
            unlimited.connection_limit
        ),
        (None, false, None)
    );
    assert!(listed.read_only, "limits change nothing of its access");
}

#[tokio::test]
async fn a_connection_limit_of_1_refuses_a_second_session() {
    let db = test_db().await;
    let (name, secret) = user_with(&db, Access::ReadWrite, &limits(None, Some(1))).await;

    let first = db.connect_as(&name, &secret).await;
    let second = db.connect_as(&name, &secret).await;

    assert!(first.is_ok());
    assert_eq!(sqlstate(second), "53300", "too many connections for role");
}

#[tokio::test]
async fn an_expired_user_cannot_log_in_is_flagged_and_comes_back_when_the_expiry_is_cleared() {
    let db = test_db().await;
    let (name, secret) = user_with(&db, Access::ReadWrite, &limits(Some("2099-01-01"), None)).await;
    db.connect_as(&name, &secret)
        .await
        .expect("not expired yet");
    let user = RoleName::parse(&name).unwrap();

    db.roles
        .set_limits(
            &user,
            &LimitsChange::all(limits(Some("2001-01-01"), Some(2))),
        )
        .await
        .unwrap();

    let listed = db.listed(&name).await;
    assert!(listed.expired);
    assert_eq!(listed.connection_limit, Some(2));
    assert_eq!(
        sqlstate(db.connect_as(&name, &secret).await),
        "28P01",
        "an expired password fails like a wrong one"
    );

    db.roles
        .set_limits(&user, &LimitsChange::all(Limits::default()))
        .await
        .unwrap();

    let listed = db.listed(&name).await;
    assert_eq!(
        (listed.expires, listed.expired, listed.connection_limit),
        (None, false, None)
    );
    db.connect_as(&name, &secret)
        .await
        .expect("it logs in again");
}

#[tokio::test]
async fn the_protected_users_limits_cannot_be_set() {
    let db = test_db().await;
    let protected = RoleName::parse(&db.protected).unwrap();

    let result = db
        .roles
        .set_limits(
            &protected,
            &LimitsChange::all(limits(Some("2001-01-01"), Some(1))),
        )
        .await;

    assert!(matches!(result, Err(RoleError::Protected(_))), "{result:?}");
    let listed = db.listed(&db.protected).await;
    assert_eq!((listed.expires, listed.connection_limit), (None, None));
}

#[tokio::test]
async fn limits_are_not_set_while_the_user_is_being_deleted() {
    let db = test_db().await;
    let (name, secret) = db.create_user("limited", Access::ReadWrite).await;

    let (deleted, result) = db
        .while_deleting(
            &name,
            &secret,
            db.roles.set_limits(
                &RoleName::from(name.clone()),
                &LimitsChange::all(limits(None, Some(5))),
            ),
        )
        .await;

    assert!(matches!(result, Err(RoleError::Busy)), "{result:?}");
    deleted.expect("the delete goes on");
}

#[tokio::test]
async fn the_add_form_takes_an_expiry_and_a_connection_limit_and_keeps_them_when_refused() {
    let app = dashboard().start().await;
    app.log_in().await;
    let name = username("formed").to_string();
    let new = app.users("/new");

    let refused = app
        .submit(
            &new,
            &app.users(""),
            &[
                ("username", &name),
                ("expires", "2020-01-01"),
                ("connection_limit", "0"),
            ],
        )
        .await;

    assert_eq!(refused.status, 422);
    assert!(
        refused
            .body
            .contains("Expires must be a later day than today (2020-01-01 is not)")
    );
    assert!(refused.body.contains("Connection limit must be at least 1"));
    assert!(
        refused
            .body
            .contains(r#"name="expires" type="date" value="2020-01-01""#)
    );
    assert!(refused.body.contains(r#"value="0""#));
    assert!(!app.db.role_exists(&name).await, "nothing was created");

    let added = app
        .submit(
            &new,
            &app.users(""),
            &[
                ("username", &name),
                ("expires", "2031-03-15"),
                ("connection_limit", "2"),
            ],
        )
        .await;

    assert_eq!(added.status, 200, "a generated password is shown");
    let listed = app.db.listed(&name).await;
    assert_eq!(listed.expires.as_deref(), Some("2031-03-15T00:00:00Z"));
    assert_eq!(listed.connection_limit, Some(2));
    let list = app.get(&app.users(&format!("?q={name}"))).await;
    assert!(list.body.contains(
        r#"<td data-label="Expires" class="expires"><span class="nowrap">2031-03-15</span></td>"#
    ));
    assert!(
        list.body.contains(
            r#"<td data-label="Connection limit" class="connection-limit optional">2</td>"#
        )
    );
}

/// The value of the form field `name` on a page.
fn field(html: &str, name: &str) -> String {
    let start = html
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("the page has field {name}"));
    let value = html[start..].find("value=\"").unwrap() + start + 7;
    let end = value + html[value..].find('"').unwrap();
    html[value..end].to_owned()
}

/// Posts the form of `html` (a limits page) as it is, but for `changed`.
async fn post_with(app: &TestApp, page: &str, html: &str, changed: &[(&str, &str)]) -> Page {
    let mut form: Vec<(String, String)> = [
        "expires_was",
        "connection_limit_was",
        "expires",
        "connection_limit",
        "cut_off",
    ]
    .into_iter()
    .filter(|name| html.contains(&format!("name=\"{name}\"")))
    .map(|name| (name.to_owned(), field(html, name)))
    .collect();
    form.push(("csrf_token".to_owned(), csrf_token(html)));
    for (name, value) in changed {
        form.retain(|(n, _)| n != name);
        form.push(((*name).to_owned(), (*value).to_owned()));
    }
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    app.post(page, &form).await
}

/// Saves the limits form at `page` as a browser would: with what the
/// page was shown with in its hidden fields, and `expires` and
/// `connection_limit` typed.
async fn save_limits(app: &TestApp, page: &str, expires: &str, connection_limit: &str) -> Page {
    let html = app.get(page).await.body;
    let form = [
        ("csrf_token", csrf_token(&html)),
        ("expires_was", field(&html, "expires_was")),
        ("connection_limit_was", field(&html, "connection_limit_was")),
        ("expires", expires.to_owned()),
        ("connection_limit", connection_limit.to_owned()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.post(page, &form).await
}

#[tokio::test]
async fn a_limit_left_as_shown_is_kept_exactly_however_it_was_set() {
    let app = dashboard().start().await;
    app.log_in().await;
    let (odd, _) = user_with(&app.db, Access::ReadWrite, &Limits::default()).await;
    let (off, _) = user_with(&app.db, Access::ReadWrite, &Limits::default()).await;
    app.db
        .as_admin_in_use()
        .await
        .batch_execute(&format!(
            "ALTER ROLE {odd} VALID UNTIL '2040-05-06 15:30:00+00';
             ALTER ROLE {off} VALID UNTIL '-infinity';"
        ))
        .await
        .unwrap();
    let list = app.get(&app.users(&format!("?q={off}"))).await;

    let odd_page = app.users(&format!("/{odd}/limits"));
    let shown = app.get(&odd_page).await;
    let saved = save_limits(&app, &odd_page, &field(&shown.body, "expires"), "4").await;
    let off_page = app.users(&format!("/{off}/limits"));
    save_limits(&app, &off_page, "", "2").await;
    let (_, token) = token_of(&app.state_store(), "admin", false).await;
    let api = reqwest::Client::new()
        .put(format!(
            "{}/api/databases/{}/users/{off}/limits",
            app.address, app.db.name
        ))
        .bearer_auth(token.expose())
        .json(&json!({"database_user": {"connection_limit": 3}}))
        .send()
        .await
        .unwrap();

    assert!(
        list.body
            .contains(r#"-infinity</span> <span class="badge expired">Expired</span>"#),
        "a role cut off by hand shows so"
    );
    assert!(shown.body.contains("Now: 2040-05-06 15:30:00 UTC."));
    assert_eq!(saved.status, 303);
    let odd_listed = app.db.listed(&odd).await;
    assert_eq!(
        odd_listed.expires.as_deref(),
        Some("2040-05-06T15:30:00Z"),
        "not moved to midnight"
    );
    assert_eq!(odd_listed.connection_limit, Some(4));
    assert_eq!(api.status().as_u16(), 200);
    let off_listed = app.db.listed(&off).await;
    assert_eq!(
        (off_listed.expires.as_deref(), off_listed.expired),
        (Some("-infinity"), true),
        "neither the form nor the API turned it back on"
    );
    assert_eq!(off_listed.connection_limit, Some(3));
}

#[tokio::test]
async fn a_new_user_expiring_today_is_refused_by_the_api_and_the_cli() {
    let db = test_db().await;
    let today = Expiry::today().to_string();
    let name = username("today").to_string();

    let cli_run = run(
        cli(&db).args([
            "database-users-create",
            "--password-stdin",
            "--expires",
            &today,
            &name,
        ]),
        "\n",
    );

    assert_eq!(cli_run.code, 2, "{}", cli_run.stderr);
    assert!(
        cli_run.stderr.contains(&format!(
            "Expires must be a later day than today ({today} is not)"
        )),
        "{}",
        cli_run.stderr
    );
    assert!(!db.role_exists(&name).await);
}

#[tokio::test]
async fn the_limits_page_shows_them_as_they_are_and_a_past_day_cuts_the_user_off() {
    let app = dashboard().start().await;
    app.log_in().await;
    let (name, secret) = user_with(
        &app.db,
        Access::ReadWrite,
        &limits(Some("2040-05-06"), Some(7)),
    )
    .await;
    let page = app.users(&format!("/{name}/limits"));

    let shown = app.get(&page).await;
    let wrong = save_limits(&app, &page, "2040-02-30", "ten").await;
    let asked = save_limits(&app, &page, "2001-01-01", "").await;
    let logs_in_while_asked = app.db.connect_as(&name, &secret).await.is_ok();
    // Confirmed for one day but sent with another past day: asked again.
    let other_day = post_with(&app, &page, &asked.body, &[("expires", "2002-02-02")]).await;
    let saved = post_with(&app, &page, &asked.body, &[]).await;

    assert_eq!(asked.status, 200, "{}", asked.body);
    assert!(
        asked.body.contains(&format!("Cut \"{name}\" off now?")),
        "{}",
        asked.body
    );
    assert!(asked.body.contains(">Cut it off now</button>"));
    assert!(
        logs_in_while_asked,
        "nothing changed before the confirmation"
    );
    assert_eq!(other_day.status, 200);
    assert!(
        other_day
            .body
            .contains("2002-02-02 is not a later day than today")
    );
    assert!(shown.body.contains(r#"value="2040-05-06""#));
    assert!(shown.body.contains(r#"value="7""#));
    assert_eq!(wrong.status, 422);
    assert!(
        wrong
            .body
            .contains("Expires is not a day of the calendar (2040-02-30).")
    );
    assert!(
        wrong
            .body
            .contains("Connection limit must be a whole number")
    );
    assert!(
        wrong.body.contains(r#"value="ten""#),
        "what was typed is kept"
    );
    assert_eq!(saved.status, 303);
    let details = app.get(saved.location.as_deref().unwrap()).await;
    assert!(
        details
            .body
            .contains("Expiry and connection limit of user &#34;")
    );
    assert!(
        details
            .body
            .contains(r#"<span class="badge expired">Expired</span>"#)
    );
    let listed = app.db.listed(&name).await;
    assert!(listed.expired);
    assert_eq!(listed.connection_limit, None);
    assert_eq!(sqlstate(app.db.connect_as(&name, &secret).await), "28P01");
    let audited: i64 = app
        .state_admin()
        .await
        .query_one(
            "SELECT count(*) FROM audit_log WHERE action = 'set limits' AND target = $1",
            &[&name],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        audited, 1,
        "the refused form changed nothing and was not a change"
    );
}

#[tokio::test]
async fn the_api_creates_with_limits_refuses_wrong_ones_by_field_and_sets_them() {
    let app = dashboard().start().await;
    let (_, token) = token_of(&app.state_store(), "admin", false).await;
    let (_, reader) = token_of(&app.state_store(), "admin", true).await;
    let http = reqwest::Client::new();
    let users = format!("{}/api/databases/{}/users", app.address, app.db.name);
    let name = username("apilimits").to_string();

    let refused = http
        .post(&users)
        .bearer_auth(token.expose())
        .json(&json!({"database_user": {"name": name, "expires": "2027-02-30", "connection_limit": 0}}))
        .send()
        .await
        .unwrap();
    let refused_status = refused.status().as_u16();
    let refused: Value = refused.json().await.unwrap();
    let created = http
        .post(&users)
        .bearer_auth(token.expose())
        .json(&json!({"database_user": {"name": name, "expires": "2035-12-31", "connection_limit": 4}}))
        .send()
        .await
        .unwrap();
    let created_status = created.status().as_u16();
    let created: Value = created.json().await.unwrap();
    let limits = format!("{users}/{name}/limits");
    let body = json!({"database_user": {"expires": null, "connection_limit": 9}});
    let by_reader = http
        .put(&limits)
        .bearer_auth(reader.expose())
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    let set = http
        .put(&limits)
        .bearer_auth(token.expose())
        .json(&body)
        .send()
        .await
        .unwrap();
    let set_status = set.status().as_u16();
    let set: Value = set.json().await.unwrap();

    assert_eq!(refused_status, 422, "{refused}");
    assert!(
        refused["errors"]["expires"][0]
            .as_str()
            .unwrap()
            .contains("2027-02-30"),
        "{refused}"
    );
    assert!(
        refused["errors"]["connection_limit"][0]
            .as_str()
            .unwrap()
            .contains("at least 1")
    );
    assert_eq!(created_status, 201, "{created}");
    assert_eq!(created["database_user"]["expires"], "2035-12-31T00:00:00Z");
    assert_eq!(created["database_user"]["connection_limit"], 4);
    assert_eq!(by_reader, 403);
    assert_eq!(set_status, 200, "{set}");
    assert_eq!(set["database_user"]["expires"], Value::Null);
    assert_eq!(set["database_user"]["connection_limit"], 9);
    let listed = app.db.listed(&name).await;
    assert_eq!((listed.expires, listed.connection_limit), (None, Some(9)));
}

#[tokio::test]
async fn the_cli_creates_a_user_with_limits_and_refuses_wrong_ones_before_asking_anything() {
    let db = test_db().await;
    let name = username("clilimits").to_string();

    let wrong = run(
        cli(&db).args([
            "database-users-create",
            "--password-stdin",
            "--expires",
            "2027-13-01",
            "--connection-limit",
            "0",
            &name,
        ]),
        "\n",
    );
    let created = run(
        cli(&db).args([
            "database-users-create",
            "--password-stdin",
            "--expires",
            "2033-07-01",
            "--connection-limit",
            "3",
            &name,
        ]),
        "\n",
    );

    assert_eq!(wrong.code, 2, "{}", wrong.stderr);
    assert!(
        wrong
            .stderr
            .contains("Expires is not a day of the calendar (2027-13-01).")
    );
    assert!(wrong.stderr.contains("Connection limit must be at least 1"));
    assert!(wrong.stdout.is_empty());
    assert_eq!(created.code, 0, "{}", created.stderr);
    let listed = db.listed(&name).await;
    assert_eq!(listed.expires.as_deref(), Some("2033-07-01T00:00:00Z"));
    assert_eq!(listed.connection_limit, Some(3));
}

/// `pgusers database-users-set-limits ARGS USER` on `db`.
fn set_limits_of(db: &TestDb, user: &str, args: &[&str]) -> crate::cli::Run {
    let mut command = cli(db);
    command
        .arg("database-users-set-limits")
        .args(args)
        .arg(user);
    run(&mut command, "")
}

#[tokio::test]
async fn the_cli_sets_removes_and_keeps_limits_and_a_past_day_cuts_the_user_off() {
    let db = test_db().await;
    let (name, secret) =
        user_with(&db, Access::ReadWrite, &limits(Some("2031-01-01"), Some(4))).await;
    let set_limits = |args: &[&str]| set_limits_of(&db, &name, args);

    let limit_only = set_limits(&["--connection-limit", "2"]);
    let after_limit = db.listed(&name).await;
    let removed = set_limits(&["--no-expiry", "--no-connection-limit"]);
    let after_removal = db.listed(&name).await;
    let cut_off = set_limits(&["--expires", "2001-02-03"]);

    assert_eq!(limit_only.code, 0, "{}", limit_only.stderr);
    assert_eq!(
        limit_only.stdout,
        format!("User \"{name}\": password expires 2031-01-01 (UTC); connection limit 2.\n")
    );
    assert_eq!(
        (after_limit.expires.as_deref(), after_limit.connection_limit),
        (Some("2031-01-01T00:00:00Z"), Some(2)),
        "the expiry no flag named is kept"
    );
    assert_eq!(
        removed.stdout,
        format!("User \"{name}\": no expiry; no connection limit.\n")
    );
    assert_eq!(
        (after_removal.expires, after_removal.connection_limit),
        (None, None)
    );
    assert_eq!(cut_off.code, 0, "{}", cut_off.stderr);
    assert_eq!(
        cut_off.stdout,
        format!(
            "User \"{name}\": password expired 2001-02-03 (UTC): it can no longer log in with \
             its password; no connection limit.\n"
        )
    );
    assert!(db.listed(&name).await.expired);
    assert_eq!(
        sqlstate(db.connect_as(&name, &secret).await),
        "28P01",
        "an expired password no longer logs in"
    );
    let past = db
        .count(&format!(
            "SELECT count(*) FROM pg_roles WHERE rolname = '{name}' AND rolvaliduntil < now()"
        ))
        .await;
    assert_eq!(past, 1, "the catalog holds the past day");
}

#[tokio::test]
async fn the_cli_refuses_a_limits_change_that_changes_nothing_or_says_it_twice() {
    let db = test_db().await;
    let (name, _) = user_with(&db, Access::ReadOnly, &limits(Some("2031-01-01"), Some(4))).await;
    let set_limits = |args: &[&str]| set_limits_of(&db, &name, args);

    let nothing = set_limits(&[]);
    let both = set_limits(&["--expires", "2032-01-01", "--no-expiry"]);
    let empty = set_limits(&["--connection-limit", " "]);
    let wrong = set_limits(&["--expires", "2031-02-30", "--connection-limit", "10001"]);

    assert_eq!(nothing.code, 2);
    assert!(
        nothing.stderr.contains("Nothing to change: give --expires"),
        "{}",
        nothing.stderr
    );
    assert_eq!(both.code, 2);
    assert!(
        both.stderr.contains("cannot be used with"),
        "{}",
        both.stderr
    );
    assert_eq!(empty.code, 2);
    assert!(
        empty
            .stderr
            .contains("--connection-limit needs a value; --no-connection-limit removes it."),
        "{}",
        empty.stderr
    );
    assert_eq!(wrong.code, 2);
    assert!(wrong.stderr.contains("(2031-02-30)"), "{}", wrong.stderr);
    assert!(wrong.stderr.contains("10000"), "{}", wrong.stderr);
    let listed = db.listed(&name).await;
    assert_eq!(
        (listed.expires.as_deref(), listed.connection_limit),
        (Some("2031-01-01T00:00:00Z"), Some(4)),
        "nothing was changed"
    );
}

#[tokio::test]
async fn the_cli_sets_no_limits_on_the_protected_user_nor_a_role_pgusers_does_not_manage() {
    let db = test_db().await;
    let builder = crate::helpers::unique_name("builder");
    db.as_admin_in_use()
        .await
        .batch_execute(&format!("CREATE ROLE {builder} LOGIN CREATEDB"))
        .await
        .unwrap();

    for (role, why) in [(db.protected.as_str(), "protected"), (&builder, "CREATEDB")] {
        let refused = run(
            cli(&db).args(["database-users-set-limits", "--connection-limit", "1", role]),
            "",
        );

        assert_eq!(refused.code, 3, "{}", refused.stderr);
        assert!(refused.stderr.contains(why), "{}", refused.stderr);
        assert!(refused.stdout.is_empty());
        assert_eq!(db.listed(role).await.connection_limit, None, "{role}");
    }
}

#[tokio::test]
async fn the_cli_sets_limits_of_a_quoted_name_made_outside_and_records_it_in_the_audit_log() {
    let db = test_db().await;
    // Made by hand: a space, quotes and capitals, as only SQL's quoting allows.
    let hostile = format!("Odd \"{}\"", crate::helpers::unique_name("name"));
    db.as_admin_in_use()
        .await
        .batch_execute(&format!(
            "CREATE ROLE {} LOGIN",
            crate::helpers::ident(&hostile)
        ))
        .await
        .unwrap();
    let state_url = crate::cli::dashboard_state(&db).await;

    let set = run(
        cli(&db).env("PGUSERS_STATE_URL", &state_url).args([
            "database-users-set-limits",
            "--connection-limit",
            "7",
            &hostile,
        ]),
        "",
    );

    assert_eq!(set.code, 0, "{}", set.stderr);
    assert_eq!(
        set.stdout,
        format!("User \"{hostile}\": no expiry; connection limit 7.\n")
    );
    assert_eq!(db.listed(&hostile).await.connection_limit, Some(7));
    let audit = run(
        cli(&db)
            .env("PGUSERS_STATE_URL", &state_url)
            .args(["audit", "--json"]),
        "",
    );
    let entries: Vec<Value> = serde_json::from_str(&audit.stdout).unwrap();
    let recorded: Vec<&Value> = entries
        .iter()
        .filter(|e| e["target"] == hostile.as_str() && e["action"] == "set limits")
        .collect();
    assert_eq!(recorded.len(), 1, "{entries:?}");
    assert_eq!(
        (&recorded[0]["actor"], &recorded[0]["outcome"]),
        (&json!("cli"), &json!("ok"))
    );
}

#[tokio::test]
async fn a_limit_cleared_in_a_form_sent_after_its_session_ended_comes_back_cleared() {
    let app = dashboard().start().await;
    app.log_in().await;
    let (name, _) = user_with(
        &app.db,
        Access::ReadWrite,
        &limits(Some("2040-05-06"), Some(7)),
    )
    .await;
    let page = app.users(&format!("/{name}/limits"));
    let html = app.get(&page).await.body;
    app.state_admin()
        .await
        .execute("DELETE FROM operator_sessions", &[])
        .await
        .unwrap();

    let sent = post_with(
        &app,
        &page,
        &html,
        &[("expires", ""), ("connection_limit", "9")],
    )
    .await;
    let login = sent.location.expect("to the login page");
    let back = app
        .submit(
            &login,
            "/login",
            &[
                ("username", "admin"),
                ("password", app.operator_password.as_str()),
                ("next", page.as_str()),
            ],
        )
        .await;
    let form = app.get(back.location.as_deref().unwrap()).await;

    assert!(
        form.body.contains(r#"name="expires" type="date" value="""#),
        "{}",
        form.body
    );
    assert!(form.body.contains(r#"value="9""#), "{}", form.body);
    assert!(
        form.body
            .contains(r#"name="expires_was" value="2040-05-06""#),
        "what it is now stays the reference: {}",
        form.body
    );
    let listed = app.db.listed(&name).await;
    assert_eq!(listed.connection_limit, Some(7), "nothing was changed");
}
