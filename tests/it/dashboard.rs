//! The dashboard through real HTTP, checked in PostgreSQL.

use pgusers::domain::NewPassword;
use pgusers::roles::Access;
use pgusers::state::Action;

use crate::helpers::{
    Browser, Page, cluster, csrf_token, dashboard, form_id, login_for, password, unique_name,
    username,
};

#[tokio::test]
async fn every_page_except_login_and_health_requires_logging_in() {
    let app = dashboard().start().await;

    for path in [
        "/",
        &app.users(""),
        &app.users("/new"),
        &app.users("/x/delete"),
        "/api-tokens/0123456789/revoke",
        &app.database_page("/floor"),
        // (Whether a database exists is no visitor's to learn.)
        "/databases/no_such_db/floor",
    ] {
        let page = app.get(path).await;
        assert_eq!(page.status, 303, "{path}");
        assert_eq!(page.location, Some(login_for(path)), "{path}");
    }
    for probe in ["/healthz", "/readyz", "/livez"] {
        let answer = app.get(probe).await;
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (200, "ok\n"),
            "{probe}"
        );
        // A cache between the prober and pgusers would answer for a
        // server that may be gone.
        assert_eq!(answer.cache_control.as_deref(), Some("no-store"), "{probe}");
    }
    assert_eq!(app.get("/login").await.status, 200);
}

#[tokio::test]
async fn a_wrong_operator_password_is_refused_and_the_name_kept() {
    let app = dashboard().start().await;

    let page = app
        .submit(
            "/login",
            "/login",
            &[("username", "admin"), ("password", "wrong-password")],
        )
        .await;

    assert_eq!(page.status, 401);
    assert!(page.body.contains("Invalid name or password."));
    assert!(
        page.body.contains("aria-describedby=\"login-error\""),
        "the message is tied to the fields"
    );
    assert!(page.body.contains("value=\"admin\""));
    assert!(!page.body.contains("wrong-password"));
    // The name is kept: the cursor waits in the password field.
    let field = |id: &str| {
        let start = page.body.find(&format!("id=\"{id}\"")).expect(id);
        let end = start + page.body[start..].find('>').unwrap();
        page.body[start..end].to_owned()
    };
    assert!(
        field("password").contains("autofocus"),
        "{}",
        field("password")
    );
    assert!(
        !field("username").contains("autofocus"),
        "{}",
        field("username")
    );
    let fresh = app.get("/login").await.body;
    let name_field = &fresh[fresh.find("id=\"username\"").unwrap()..];
    assert!(
        name_field[..name_field.find('>').unwrap()].contains("autofocus"),
        "a fresh login form starts at the name"
    );
    assert_eq!(
        app.get(&app.users("")).await.status,
        303,
        "still logged out"
    );
}

#[tokio::test]
async fn the_users_page_shows_the_guides_labels_and_the_protected_user() {
    let app = dashboard().start().await;
    app.log_in().await;

    // The cluster is shared with other tests: their users fill the first
    // pages, so look for this database's protected user.
    let page = app
        .get(&app.users(&format!("?q={}", app.db.protected)))
        .await;

    assert_eq!(page.status, 200);
    for label in [
        "Settings",
        "Database Users",
        "Manage database users",
        "Add a database user",
        "Username",
        "Read-only",
        "Protected",
        "Password encryption",
        "SCRAM-SHA-256",
    ] {
        assert!(page.body.contains(label), "the page shows {label:?}");
    }
    assert!(page.body.contains(&app.db.protected));
}

#[tokio::test]
async fn every_form_posted_with_another_sessions_csrf_token_is_rejected_and_changes_nothing() {
    let app = dashboard().start().await;
    app.log_in().await;
    let (existing, secret) = app.db.create_user("kept", Access::ReadWrite).await;
    // The session has a token of its own by now; the attacker's page carries a
    // valid token of a different session.
    let own_token = csrf_token(&app.get(&app.users("")).await.body);
    let other = Browser::on(app.address.clone(), &app.database);
    let foreign_token = csrf_token(&other.get("/login").await.body);
    assert_ne!(own_token, foreign_token);
    let name = unique_name("csrf");

    for (path, fields) in [
        (
            app.users(""),
            vec![
                ("username", name.as_str()),
                ("password", ""),
                ("password_confirmation", ""),
            ],
        ),
        (app.users(&format!("/{}/reset", existing.as_str())), vec![]),
        (app.users(&format!("/{}/delete", existing.as_str())), vec![]),
        ("/logout".to_owned(), vec![]),
    ] {
        for token in [foreign_token.as_str(), ""] {
            let mut form = vec![("csrf_token", token)];
            form.extend_from_slice(&fields);
            assert_eq!(
                app.post(&path, &form).await.status,
                403,
                "{path} with token {token:?}"
            );
        }
    }

    let users = app.db.roles.list().await.unwrap();
    assert!(
        users.iter().all(|u| u.username != name),
        "no user was created"
    );
    app.db
        .connect_as(existing.as_str(), secret.expose())
        .await
        .expect("the password was not reset and the user not deleted");
    assert_eq!(app.get(&app.users("")).await.status, 200, "still logged in");
}

/// A form's fields but its CSRF token.
type Fields = Vec<(&'static str, String)>;

/// What a wrong or missing CSRF token could have changed: the roles, the
/// API tokens and the login sessions.
/// Other tests make and drop roles on the same server meanwhile, and the
/// list shows every role that may log in to the database: only this
/// test's own (named `guard…`) and the protected user are compared.
async fn dashboard_effects(app: &crate::helpers::TestApp) -> (Vec<String>, i64, i64) {
    let roles = app
        .db
        .roles
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .filter(|name| name.starts_with("guard") || *name == app.db.protected)
        .collect();
    let state = app.state_admin().await;
    let count = |table: &'static str| {
        let state = &state;
        async move {
            state
                .query_one(&format!("SELECT count(*) FROM {table}"), &[])
                .await
                .unwrap()
                .get::<_, i64>(0)
        }
    };
    (
        roles,
        count("api_tokens").await,
        count("operator_sessions").await,
    )
}

#[tokio::test]
async fn every_form_post_of_the_dashboard_refuses_a_wrong_or_missing_csrf_token_and_changes_nothing()
 {
    let app = dashboard().start().await;
    app.log_in().await;
    let (existing, secret) = app.db.create_user("guarded", Access::ReadWrite).await;
    let (token, api_token) = crate::helpers::token_of(&app.state_store(), "admin", false).await;
    let other = Browser::on(app.address.clone(), &app.database);
    let foreign = csrf_token(&other.get("/login").await.body);
    let name = unique_name("guard");
    let users = app.users("");
    let reset = app.users(&format!("/{}/reset", existing.as_str()));
    let delete = app.users(&format!("/{}/delete", existing.as_str()));
    let end_sessions = app.users(&format!("/{}/end-sessions", existing.as_str()));
    let limits = app.users(&format!("/{}/limits", existing.as_str()));
    // A session to end: the confirmation offers its form only then.
    let connected = app
        .db
        .connect_as(existing.as_str(), secret.expose())
        .await
        .unwrap();
    let revoke = format!("/api-tokens/{}/revoke", token.id);
    let form_of = |html: String| form_id(&html).expect("the form has an id");
    // Each form the dashboard takes, by its route, as its page sends it
    // (with a genuine single-use id), but for the CSRF token.
    let forms: Vec<(&str, String, Fields)> = vec![
        (
            "/login",
            "/login".to_owned(),
            vec![
                ("username", "admin".to_owned()),
                ("password", app.operator_password.clone()),
            ],
        ),
        ("/logout", "/logout".to_owned(), vec![]),
        (
            "/api-tokens",
            "/api-tokens".to_owned(),
            vec![
                ("form_id", form_of(app.get("/api-tokens").await.body)),
                ("label", "forged".to_owned()),
            ],
        ),
        ("/api-tokens/{id}/revoke", revoke, vec![]),
        (
            "/databases/{db}/settings/database-users",
            users,
            vec![
                ("form_id", form_of(app.get(&app.users("/new")).await.body)),
                ("username", name.clone()),
                ("password", String::new()),
                ("password_confirmation", String::new()),
            ],
        ),
        (
            "/databases/{db}/settings/health/fix",
            app.database_page("/settings/health/fix"),
            vec![("finding", "unreadable:public.nothing_here".to_owned())],
        ),
        (
            "/databases/{db}/settings/database-users/{name}/end-sessions",
            end_sessions.clone(),
            vec![("form_id", form_of(app.get(&end_sessions).await.body))],
        ),
        (
            "/databases/{db}/settings/database-users/{name}/limits",
            limits.clone(),
            vec![("connection_limit", "1".to_owned())],
        ),
        (
            "/databases/{db}/settings/database-users/{name}/reset",
            reset.clone(),
            vec![("form_id", form_of(app.get(&reset).await.body))],
        ),
        (
            "/databases/{db}/settings/database-users/{name}/delete",
            delete.clone(),
            vec![("form_id", form_of(app.get(&delete).await.body))],
        ),
    ];
    let mut routed = pgusers::web::form_posts();
    routed.sort();
    let mut covered: Vec<String> = forms.iter().map(|f| f.0.to_owned()).collect();
    covered.sort();
    assert_eq!(
        routed, covered,
        "every POST route is a form checked here: add a new one to this test"
    );
    let before = dashboard_effects(&app).await;

    for (route, path, fields) in &forms {
        for token in [Some(foreign.as_str()), None] {
            let mut form: Vec<(&str, &str)> =
                token.map(|t| ("csrf_token", t)).into_iter().collect();
            form.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
            let page = app.post(path, &form).await;
            // A wrong token is refused as a stale form; a form without one
            // is not the dashboard's (a 400, as for any missing field).
            let expected = if token.is_some() { 403 } else { 400 };
            assert_eq!(
                page.status, expected,
                "{route} with {token:?}: {}",
                page.body
            );
            if token.is_some() {
                assert!(
                    page.body
                        .contains("This form has expired or did not come from this dashboard.")
                );
            }
        }
    }

    assert_eq!(dashboard_effects(&app).await, before, "nothing was changed");
    app.db
        .connect_as(existing.as_str(), secret.expose())
        .await
        .expect("the password was not reset and the user not deleted");
    connected
        .batch_execute("SELECT 1")
        .await
        .expect("the session was not ended");
    assert_eq!(
        app.db.listed(existing.as_str()).await.connection_limit,
        None,
        "the limits were not set"
    );
    connected
        .batch_execute("SELECT 1")
        .await
        .expect("the session was not ended");
    assert_eq!(
        app.db.listed(existing.as_str()).await.connection_limit,
        None,
        "the limits were not set"
    );
    assert!(
        app.state_store()
            .authenticate(api_token.expose())
            .await
            .unwrap()
            .is_some(),
        "the API token was not revoked"
    );
    // The same forms with this session's token are taken: the refusals
    // above were the token's.
    // Logging out and in last, so the other forms are sent logged in.
    for i in [2, 3, 4, 5, 6, 7, 8, 9, 1, 0] {
        let (route, path, fields) = &forms[i];
        let page_with_form = if *route == "/login" {
            "/login".to_owned()
        } else {
            app.users("")
        };
        let own = csrf_token(&app.get(&page_with_form).await.body);
        let mut form = vec![("csrf_token", own.as_str())];
        form.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
        let page = app.post(path, &form).await;
        assert!(
            [200, 303].contains(&page.status) && page.location.as_deref() != Some("/login"),
            "{route} with the session's token: {} {}",
            page.status,
            page.body
        );
    }
}

#[tokio::test]
async fn forms_posted_without_logging_in_are_sent_to_the_login_page_and_change_nothing() {
    let app = dashboard().start().await;
    let (existing, secret) = app.db.create_user("anon", Access::ReadWrite).await;
    let token = csrf_token(&app.get("/login").await.body);

    for path in [
        app.users(""),
        app.users(&format!("/{}/reset", existing.as_str())),
        app.users(&format!("/{}/delete", existing.as_str())),
    ] {
        let page = app
            .post(
                &path,
                &[
                    ("csrf_token", token.as_str()),
                    ("username", "anon_created"),
                    ("password", ""),
                    ("password_confirmation", ""),
                ],
            )
            .await;
        assert_eq!(page.status, 303, "{path}");
        let location = page.location.unwrap_or_default();
        assert!(
            location.starts_with("/login?next=") && location.ends_with("&unsent"),
            "{path}: {location}"
        );
    }
    app.db
        .connect_as(existing.as_str(), secret.expose())
        .await
        .unwrap();
    assert!(
        app.db
            .roles
            .list()
            .await
            .unwrap()
            .iter()
            .all(|u| u.username != "anon_created")
    );
}

#[tokio::test]
async fn adding_a_user_redirects_to_the_list_with_a_message_and_the_user_logs_in() {
    let app = dashboard().start().await;
    app.log_in().await;
    let name = unique_name("web");
    let chosen = password();

    let page = app
        .submit(
            &app.users("/new"),
            &app.users(""),
            &[
                ("username", &name),
                ("password", chosen.expose()),
                ("password_confirmation", chosen.expose()),
            ],
        )
        .await;

    assert_eq!(page.status, 303);
    assert_eq!(page.location.as_deref(), Some(app.users("").as_str()));
    let list = app.get(&app.users("")).await;
    assert!(
        list.body
            .contains(&format!("User &#34;{name}&#34; created."))
            || list
                .body
                .contains(&format!("User &quot;{name}&quot; created.")),
        "{}",
        list.body
    );
    assert!(
        !app.get(&app.users("")).await.body.contains("created."),
        "the message shows once"
    );
    app.db.connect_as(&name, chosen.expose()).await.unwrap();
}

#[tokio::test]
async fn the_read_only_checkbox_makes_a_user_that_cannot_write() {
    let app = dashboard().start().await;
    app.log_in().await;
    let name = unique_name("webro");
    let chosen = password();

    app.submit(
        &app.users("/new"),
        &app.users(""),
        &[
            ("username", &name),
            ("password", chosen.expose()),
            ("password_confirmation", chosen.expose()),
            ("read_only", "on"),
        ],
    )
    .await;

    let user = app.db.listed(&name).await;
    assert!(user.read_only);
    let client = app.db.connect_as(&name, chosen.expose()).await.unwrap();
    assert!(
        client
            .batch_execute("CREATE TABLE nope (v int)")
            .await
            .is_err()
    );
    let list = app.get(&app.users(&format!("?q={name}"))).await;
    let row = &list.body[list
        .body
        .find(&format!("data-username=\"{name}\""))
        .unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("Read only"), "{row}");
}

#[tokio::test]
async fn form_errors_come_back_with_422_a_message_per_field_and_the_input_kept_but_no_password() {
    let app = dashboard().start().await;
    app.log_in().await;
    let short_password = "x".repeat(23);

    let page = app
        .submit(
            &app.users("/new"),
            &app.users(""),
            &[
                ("username", "abcde"),
                ("password", &short_password),
                ("password_confirmation", &short_password),
                ("read_only", "on"),
            ],
        )
        .await;

    assert_eq!(page.status, 422);
    assert!(
        page.body
            .contains("Username must be between 6 and 32 characters long (it has 5).")
    );
    assert!(
        page.body
            .contains("Password must be between 24 and 64 characters long (it has 23).")
    );
    assert!(
        page.body.contains("value=\"abcde\""),
        "the username is kept"
    );
    assert!(page.body.contains("checked"), "the checkbox is kept");
    assert!(
        !page.body.contains(&short_password),
        "the password is never echoed"
    );
    assert!(page.body.contains("aria-describedby=\"username-error"));

    // A name's characters are named as a person reads them, all of them,
    // quoted once, with no programming language's escapes.
    let odd = app
        .submit(
            &app.users("/new"),
            &app.users(""),
            &[("username", "Ölaf's user")],
        )
        .await;
    assert_eq!(odd.status, 422);
    assert!(
        odd.body
            .contains("Username must start with a letter from a to z (or A to Z)."),
        "{}",
        odd.body
    );
    assert!(
        odd.body.contains(
            "Username can only contain letters a to z (or A to Z), digits and underscores: \
             it has “Ö”, “&#39;” and a space."
        ),
        "{}",
        odd.body
    );
    assert!(!odd.body.contains("\\'"), "{}", odd.body);
}

#[tokio::test]
async fn a_confirmation_that_differs_and_a_taken_name_are_reported_at_their_fields() {
    let app = dashboard().start().await;
    app.log_in().await;
    let taken = username("taken");
    app.db
        .roles
        .create(&taken, NewPassword::Generate, Access::ReadWrite)
        .await
        .unwrap();
    let first = password();
    let second = password();

    let mismatch = app
        .submit(
            &app.users("/new"),
            &app.users(""),
            &[
                ("username", &unique_name("okname")),
                ("password", first.expose()),
                ("password_confirmation", second.expose()),
            ],
        )
        .await;
    let exists = app
        .submit(
            &app.users("/new"),
            &app.users(""),
            &[
                ("username", taken.as_str()),
                ("password", ""),
                ("password_confirmation", ""),
            ],
        )
        .await;

    assert_eq!(mismatch.status, 422);
    assert!(
        mismatch
            .body
            .contains("id=\"confirmation-error\"><p>Password and confirmation do not match.")
    );
    assert_eq!(exists.status, 422);
    assert!(exists.body.contains("already exists."));
    assert!(
        exists
            .body
            .contains(&format!("value=\"{}\"", taken.as_str()))
    );
}

#[tokio::test]
async fn leaving_both_passwords_empty_shows_a_generated_password_once_and_not_cached() {
    let app = dashboard().start().await;
    app.log_in().await;
    let name = unique_name("gen");

    let page = app
        .submit(
            &app.users("/new"),
            &app.users(""),
            &[
                ("username", &name),
                ("password", ""),
                ("password_confirmation", ""),
            ],
        )
        .await;

    assert_eq!(page.status, 200);
    assert_eq!(page.cache_control.as_deref(), Some("no-store"));
    let password = shown_password(&page.body);
    assert_eq!(password.len(), 64);
    app.db.connect_as(&name, &password).await.unwrap();
    assert!(
        !app.get(&app.users("")).await.body.contains(&password),
        "shown only once"
    );
    assert!(
        !cluster().log().contains(&password),
        "never reaches the server log"
    );
    assert!(
        !cluster().log().contains(&app.operator_password),
        "nor does the operator's"
    );
}

#[tokio::test]
async fn reset_asks_for_confirmation_then_shows_the_new_password_once() {
    let app = dashboard().start().await;
    app.log_in().await;
    let (name, old) = app.db.create_user("reset", Access::ReadWrite).await;
    let list = app.get(&app.users(&format!("?q={}", name.as_str()))).await;
    assert!(
        list.body
            .contains(&app.users(&format!("/{}/reset", name.as_str()))),
        "the ... menu offers Reset password"
    );

    let confirm = app
        .get(&app.users(&format!("/{}/reset", name.as_str())))
        .await;
    assert_eq!(confirm.status, 200);
    assert!(
        app.db.connect_as(name.as_str(), old.expose()).await.is_ok(),
        "asking changes nothing"
    );

    let page = app
        .submit(
            &app.users(&format!("/{}/reset", name.as_str())),
            &app.users(&format!("/{}/reset", name.as_str())),
            &[],
        )
        .await;

    assert_eq!(page.status, 200);
    assert_eq!(page.cache_control.as_deref(), Some("no-store"));
    // Sessions opened with the old password stay: the page leads to
    // ending them, as the confirmation recommends.
    let end = app.users(&format!("/{}/end-sessions", name.as_str()));
    assert!(
        page.body.contains(&format!("href=\"{end}\""))
            && page.body.contains(">End its sessions</a>"),
        "{}",
        page.body
    );
    let fresh = shown_password(&page.body);
    app.db.connect_as(name.as_str(), &fresh).await.unwrap();
    assert!(
        app.db
            .connect_as(name.as_str(), old.expose())
            .await
            .is_err()
    );
    assert!(!app.get(&app.users("")).await.body.contains(&fresh));
    assert!(
        !cluster().log().contains(&fresh),
        "never reaches the server log"
    );
}

#[tokio::test]
async fn delete_confirmation_lists_what_moves_to_the_protected_user_then_the_user_is_gone() {
    let app = dashboard().start().await;
    app.log_in().await;
    let (name, secret) = app.db.create_user("bye", Access::ReadWrite).await;
    let client = app
        .db
        .connect_as(name.as_str(), secret.expose())
        .await
        .unwrap();
    client
        .batch_execute("CREATE TABLE invoices (v int)")
        .await
        .unwrap();
    drop(client);
    let path = app.users(&format!("/{}/delete", name.as_str()));

    let confirm = app.get(&path).await;
    assert_eq!(confirm.status, 200);
    assert!(
        confirm.body.contains("invoices"),
        "the confirmation lists the table"
    );
    assert!(
        confirm.body.contains(&app.db.protected),
        "and names the protected user it moves to"
    );

    let page = app.submit(&path, &path, &[]).await;

    assert_eq!(page.status, 303);
    assert_eq!(page.location.as_deref(), Some(app.users("").as_str()));
    let list = app.get(&app.users(&format!("?q={}", name.as_str()))).await;
    assert!(list.body.contains("deleted."));
    assert!(
        !list
            .body
            .contains(&format!("data-username=\"{}\"", name.as_str()))
    );
    assert!(list.body.contains("No user matches"), "{}", list.body);
    let protected = app.db.connect_as_protected().await;
    protected
        .batch_execute("SELECT * FROM invoices")
        .await
        .unwrap();
}

#[tokio::test]
async fn the_protected_row_offers_no_actions_and_its_action_pages_are_refused() {
    let app = dashboard().start().await;
    app.log_in().await;

    let list = app
        .get(&app.users(&format!("?q={}", app.db.protected)))
        .await;
    let row_start = list
        .body
        .find(&format!("data-username=\"{}\"", app.db.protected))
        .unwrap();
    let row = &list.body[row_start..row_start + list.body[row_start..].find("</tr>").unwrap()];
    assert!(row.contains("Protected"));
    assert!(
        !row.contains("<details"),
        "no ... menu on the protected row"
    );

    let reset_path = app.users(&format!("/{}/reset", app.db.protected));
    let delete_path = app.users(&format!("/{}/delete", app.db.protected));
    assert_eq!(app.get(&reset_path).await.status, 403);
    assert_eq!(app.get(&delete_path).await.status, 403);
    // Even a POST with a valid form id, skipping the confirmation page, is
    // refused: by the role module, not as a stale form.
    let token = crate::helpers::csrf_token(&app.get(&app.users("")).await.body);
    for (path, action) in [
        (&reset_path, Action::ResetPassword),
        (&delete_path, Action::DeleteUser),
    ] {
        let id = app.issued_form_id(action, &app.db.protected).await;
        let posted = app
            .post(path, &[("csrf_token", &token), ("form_id", &id)])
            .await;
        assert_eq!(posted.status, 403, "{path}");
        assert!(!posted.body.contains("reload the page"), "{}", posted.body);
    }
    app.db.connect_as_protected().await;
}

#[tokio::test]
async fn logging_out_ends_the_session() {
    let app = dashboard().start().await;
    app.log_in().await;

    let page = app.submit(&app.users(""), "/logout", &[]).await;

    assert_eq!(page.status, 303);
    assert_eq!(app.get(&app.users("")).await.status, 303);
}

/// The password shown on a "created"/"updated" page.
pub(crate) fn shown_password(html: &str) -> String {
    let marker = "id=\"new-password\"";
    let start = html.find(marker).expect("the page shows a password");
    let value = html[start..].find("value=\"").unwrap() + start + 7;
    let end = value + html[value..].find('"').unwrap();
    html[value..end].to_owned()
}

#[tokio::test]
async fn the_database_dashboard_has_a_settings_tab_that_leads_to_database_users() {
    let app = dashboard().start().await;
    app.log_in().await;

    let home = app.get("/").await;
    let overview = app.get(&app.database_page("")).await;
    let settings = app.get(&app.database_page("/settings")).await;
    let former = app.get("/settings/users").await;

    assert_eq!(home.status, 200);
    assert!(
        home.body
            .contains(&format!("<a href=\"/databases/{0}\">{0}</a>", app.db.name)),
        "the home lists the database, linked to its overview: {}",
        home.body
    );
    assert_eq!(overview.status, 200);
    assert!(overview.body.contains(&format!("<h1>{}</h1>", app.db.name)));
    assert!(overview.body.contains(&format!(
        "<a href=\"{}\" >Settings</a>",
        app.database_page("/settings")
    )));
    assert_eq!(settings.status, 303);
    assert_eq!(settings.location.as_deref(), Some(app.users("").as_str()));
    assert_eq!(former.status, 303, "a bookmark from before still works");
    assert_eq!(former.location.as_deref(), Some(app.users("").as_str()));
}

#[tokio::test]
async fn users_the_dashboard_creates_cannot_reach_its_own_state_database() {
    let app = dashboard().start().await;
    app.log_in().await;
    let (name, secret) = app.db.create_user("nosy", Access::ReadWrite).await;

    let attempt = app
        .db
        .connect_to(
            &format!("{}_state", app.db.name),
            name.as_str(),
            secret.expose(),
        )
        .await;

    assert_eq!(
        crate::helpers::sqlstate(attempt),
        "42501",
        "no CONNECT on the state database"
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = dashboard().start().await;
    let anonymous = Browser::on(app.address.clone(), &app.database);
    app.log_in().await;

    for (browser, path) in [
        (&anonymous, "/login"),
        (&anonymous, "/healthz"),
        (&anonymous, "/readyz"),
        (&anonymous, "/static/style.css"),
        (&*app, &app.users("")),
        (&*app, &app.users("/nobody_at_all/delete")),
    ] {
        let response = browser
            .client
            .get(format!("{}{path}", browser.address))
            .send()
            .await
            .unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let csp = header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(
            header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            header("referrer-policy").as_deref(),
            Some("no-referrer"),
            "{path}"
        );
    }
    let page = app.get(&app.users("")).await;
    assert_eq!(page.cache_control.as_deref(), Some("no-store"));
    assert!(!page.body.contains("<script"), "the pages need no script");
    // A form refused before any handler runs carries them too.
    let refused = app
        .client
        .post(format!("{}/logout", app.address))
        .header("Origin", "http://evil.example")
        .form(&[("csrf_token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused.headers().get("content-security-policy").is_some());
    assert!(refused.headers().get("x-content-type-options").is_some());
}

#[tokio::test]
async fn a_form_from_another_origin_is_refused_even_with_this_sessions_token() {
    let app = dashboard().start().await;
    app.log_in().await;
    let form_page = app.get(&app.users("/new")).await.body;
    let token = csrf_token(&form_page);
    let id = form_id(&form_page).expect("the form has an id");
    let name = unique_name("xorigin");
    let form = [
        ("csrf_token", token.as_str()),
        ("form_id", id.as_str()),
        ("username", name.as_str()),
        ("password", ""),
        ("password_confirmation", ""),
    ];
    let post = |header: &'static str, value: &'static str| {
        app.client
            .post(format!("{}{}", app.address, app.users("")))
            .header(header, value)
            .form(&form)
            .send()
    };

    let by_origin = post("Origin", "http://evil.example").await.unwrap();
    let by_referer = post("Referer", "http://evil.example/page").await.unwrap();

    assert_eq!(by_origin.status(), 403);
    assert_eq!(by_referer.status(), 403);
    assert!(!app.db.role_exists(&name).await, "nothing was created");
    let same_origin = app
        .client
        .post(format!("{}{}", app.address, app.users("")))
        .header("Origin", app.address.clone())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        same_origin.status(),
        200,
        "the dashboard's own form still works"
    );
    assert!(app.db.role_exists(&name).await);
}

#[tokio::test]
async fn a_privileged_role_is_listed_as_not_manageable_with_its_reason_and_every_action_is_refused()
{
    let app = dashboard().start().await;
    app.log_in().await;
    let name = unique_name("monitor");
    let admin = app.db.admin().await;
    admin
        .batch_execute(&format!(
            "CREATE ROLE {name} LOGIN PASSWORD 'kept-password-of-the-monitor-role';
             GRANT pg_execute_server_program TO {name};"
        ))
        .await
        .unwrap();

    let list = app.get(&app.users(&format!("?q={name}"))).await;
    let row_start = list
        .body
        .find(&format!("data-username=\"{name}\""))
        .expect("the role is listed");
    let row = &list.body[row_start..row_start + list.body[row_start..].find("</tr>").unwrap()];
    assert!(row.contains("Not manageable"), "{row}");
    assert!(
        row.contains("pg_execute_server_program"),
        "the reason: {row}"
    );
    assert!(!row.contains("<details"), "no ... menu");

    let reset_path = app.users(&format!("/{name}/reset"));
    let delete_path = app.users(&format!("/{name}/delete"));
    let refused = app.get(&reset_path).await;
    assert_eq!(refused.status, 403);
    assert!(
        refused.body.contains("not managed by pgusers"),
        "{}",
        refused.body
    );
    assert_eq!(app.get(&delete_path).await.status, 403);
    let token = csrf_token(&list.body);
    for (path, action) in [
        (&reset_path, Action::ResetPassword),
        (&delete_path, Action::DeleteUser),
    ] {
        let id = app.issued_form_id(action, &name).await;
        let posted = app
            .post(path, &[("csrf_token", &token), ("form_id", &id)])
            .await;
        assert_eq!(posted.status, 403, "{path}");
        assert!(
            posted.body.contains("not managed by pgusers"),
            "{}",
            posted.body
        );
        assert!(!posted.body.contains("password\""), "no password shown");
    }
    let unchanged = app
        .db
        .connect_as(&name, "kept-password-of-the-monitor-role")
        .await;
    assert!(unchanged.is_ok(), "its password was not changed");
}

#[tokio::test]
async fn the_delete_confirmation_says_what_happens_to_code_that_runs_with_its_owners_rights() {
    let app = dashboard().start().await;
    app.log_in().await;
    let (name, secret) = app.db.create_user("coder", Access::ReadWrite).await;
    app.db
        .run_as(
            &name,
            &secret,
            "CREATE FUNCTION innocent() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1';",
        )
        .await;

    let confirm = app
        .get(&app.users(&format!("/{}/delete", name.as_str())))
        .await;

    assert_eq!(confirm.status, 200);
    assert!(
        confirm.body.contains("function public.innocent()"),
        "{}",
        confirm.body
    );
    assert!(
        confirm.body.contains("it will run with its caller"),
        "{}",
        confirm.body
    );
}

#[tokio::test]
async fn a_role_name_with_a_bidi_override_is_shown_escaped_on_the_users_page() {
    let app = dashboard().start().await;
    app.log_in().await;
    let prefix = unique_name("bidi");
    let name = format!("{prefix}\u{202e}gpj.exe");
    let quoted = postgres_protocol::escape::escape_identifier(&name);
    app.db
        .as_admin_in_use()
        .await
        .batch_execute(&format!("CREATE ROLE {quoted} LOGIN"))
        .await
        .unwrap();
    let shown = name.replace('\u{202e}', r"\u{202e}");

    let page = app.get(&app.users(&format!("?q={prefix}"))).await;

    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(&format!(">{shown}<")),
        "the name as shown"
    );
    // The real name stays only where nobody reads it: the row's data
    // attribute (links are percent-encoded).
    assert_eq!(
        page.body.matches(name.as_str()).count(),
        page.body
            .matches(&format!("data-username=\"{name}\""))
            .count(),
    );
    assert!(page.body.contains("%E2%80%AE"), "links keep the real name");
    app.db
        .admin()
        .await
        .batch_execute(&format!("DROP ROLE {quoted}"))
        .await
        .unwrap();
}

/// A Unix socket directory as the host of a URL, as libpq reads it.
fn socket_host(config: &tokio_postgres::Config) -> (String, u16) {
    let Some(tokio_postgres::config::Host::Unix(dir)) = config.get_hosts().first() else {
        panic!("the test cluster is reached over its socket");
    };
    let dir = dir.to_str().unwrap();
    assert!(
        dir.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-_.".contains(c)),
        "{dir}"
    );
    (dir.replace('/', "%2F"), config.get_ports()[0])
}

#[tokio::test]
async fn the_overview_shows_host_port_database_and_a_connection_url_without_a_password() {
    let app = dashboard().start().await;
    app.log_in().await;
    let (host, port) = socket_host(&app.db.admin_config());
    let url = format!(
        "postgresql://{}@{host}:{port}/{}",
        app.db.protected, app.db.name
    );

    let overview = app.get(&app.database_page("")).await;

    assert_eq!(overview.status, 200);
    assert!(overview.body.contains("(Unix socket)"), "{}", overview.body);
    assert!(
        overview
            .body
            .contains(&format!("<dd class=\"mono\">{port}</dd>"))
    );
    assert!(
        overview.body.contains(&url),
        "{url} is not on the page: {}",
        overview.body
    );
    assert!(!overview.body.contains(app.db.protected_password.expose()));
    // The URL is one the protected user connects with, once given its password.
    let with_password = url.replacen('@', &format!(":{}@", app.db.protected_password.expose()), 1);
    let config: tokio_postgres::Config = with_password.parse().unwrap();
    let (client, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let row = client
        .query_one("SELECT current_user::text", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), app.db.protected);
}

#[tokio::test]
async fn a_password_that_is_short_has_a_quote_and_differs_from_its_confirmation_shows_all_three_problems()
 {
    let app = dashboard().start().await;
    app.log_in().await;
    let name = unique_name("three");

    let page = app
        .submit(
            &app.users("/new"),
            &app.users(""),
            &[
                ("username", &name),
                ("password", "short'one"),
                ("password_confirmation", "other"),
            ],
        )
        .await;

    assert_eq!(page.status, 422);
    for problem in [
        "Password must be between 24 and 64 characters long (it has 9).",
        "Password must not contain the character &#39;.",
        "Password and confirmation do not match.",
    ] {
        assert!(page.body.contains(problem), "{problem}: {}", page.body);
    }
    assert!(!app.db.role_exists(&name).await);
}

#[tokio::test]
async fn a_user_owning_one_table_owns_1_object_not_1_object_s() {
    let app = dashboard().start().await;
    app.log_in().await;
    let (name, secret) = app.db.create_user("one", Access::ReadWrite).await;
    app.db
        .run_as(&name, &secret, "CREATE TABLE only_one (v int)")
        .await;

    let page = app
        .get(&app.users(&format!("/{}/delete", name.as_str())))
        .await;

    assert_eq!(page.status, 200);
    assert!(page.body.contains("owns 1 object."), "{}", page.body);
    assert!(!page.body.contains("object(s)"));
}

#[tokio::test]
async fn logging_out_leads_to_a_login_page_that_says_logged_out() {
    let app = dashboard().start().await;
    app.log_in().await;

    let out = app.submit(&app.users(""), "/logout", &[]).await;
    let login = app.get(out.location.as_deref().expect("a redirect")).await;
    let plain = app.get("/login").await;

    assert_eq!(login.status, 200);
    assert!(login.body.contains("Logged out."), "{}", login.body);
    assert!(!plain.body.contains("Logged out."));
}

#[tokio::test]
async fn the_login_page_says_how_to_recover_an_operator_password() {
    let app = dashboard().start().await;

    let login = app.get("/login").await;

    assert!(
        login
            .body
            .contains("<code>pgusers operators set-password &lt;name&gt;</code>"),
        "{}",
        login.body
    );
}

#[tokio::test]
async fn an_error_page_keeps_the_navigation_and_links_to_a_page_that_works() {
    let app = dashboard().start().await;
    app.log_in().await;

    let missing = app.get(&app.users("/no_such_user_here/reset")).await;

    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("does not exist"), "{}", missing.body);
    assert!(missing.body.contains(&format!(
        "<a href=\"{}\">Settings</a>",
        app.database_page("/settings")
    )));
    assert!(missing.body.contains(">Log out</button>"));
    assert!(missing.body.contains(&app.db.name));
    let link = format!(
        "<a class=\"button\" href=\"{}\">Back to database users</a>",
        app.users("")
    );
    assert!(missing.body.contains(&link), "{}", missing.body);
    assert_eq!(app.get(&app.users("")).await.status, 200);
}

#[tokio::test]
async fn an_error_page_for_someone_not_logged_in_links_to_the_login_page() {
    let app = dashboard().start().await;

    let refused = app
        .post(
            "/login",
            &[
                ("csrf_token", "not-this-sessions"),
                ("username", "admin"),
                ("password", "x"),
            ],
        )
        .await;

    assert_eq!(refused.status, 403);
    assert!(refused.body.contains("href=\"/login\""), "{}", refused.body);
    assert!(!refused.body.contains("Log out"));
}

/// The address of an error page's one button.
fn button_link(html: &str) -> String {
    let marker = "<a class=\"button\" href=\"";
    let start = html.find(marker).expect("the page has a button link") + marker.len();
    let end = start + html[start..].find('"').expect("closing quote");
    html[start..end]
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

/// An error page in the dashboard's layout, with the logged-in operator's
/// navigation and a link to a page that works.
async fn assert_error_page_with_navigation(operator: &Browser, what: &str, page: &Page) {
    assert!(page.body.contains("<h1>"), "{what}: {}", page.body);
    assert!(
        page.body.contains("<a href=\"/\">Databases</a>"),
        "{what}: {}",
        page.body
    );
    assert!(
        page.body.contains(">Log out</button>"),
        "{what}: {}",
        page.body
    );
    assert!(!page.body.contains("Go to the login page"), "{what}");
    let link = button_link(&page.body);
    assert_eq!(operator.get(&link).await.status, 200, "{what}: {link}");
}

#[tokio::test]
async fn addresses_and_requests_the_dashboard_does_not_understand_answer_pages_with_the_navigation()
{
    let app = dashboard().start().await;
    app.log_in().await;
    let visitor = Browser::on(app.address.clone(), &app.database);
    let token = csrf_token(&app.get(&app.users("/new")).await.body);

    let mut answers = Vec::new();
    let (slash, deeper, undecodable) = (app.users("/"), app.users("/x/y"), app.users("/%FF/reset"));
    let elsewhere = "/databases/no_such_database/settings/database-users/x_user/reset";
    for path in [
        "/nonexistent",
        "/databases/no_such_database",
        elsewhere,
        &slash,
        &deeper,
        &undecodable,
    ] {
        answers.push((path, 404, app.get(path).await));
    }
    for path in ["/activity?page=-1", "/activity?page=abc"] {
        answers.push((path, 400, app.get(path).await));
    }
    let unnamed = app
        .post(&app.users(""), &[("csrf_token", token.as_str())])
        .await;
    answers.push(("a form without username", 400, unnamed));
    let json = app
        .client
        .post(format!("{}{}", app.address, app.users("")))
        .header("Content-Type", "application/json")
        .body(format!(r#"{{"csrf_token":"{token}","username":"x_user"}}"#))
        .send()
        .await
        .unwrap();
    answers.push(("a JSON form", 415, crate::helpers::page(json).await));

    for (what, status, page) in &answers {
        assert_eq!(page.status, *status, "{what}: {}", page.body);
        assert_error_page_with_navigation(&app, what, page).await;
    }
    assert!(
        answers[6]
            .2
            .body
            .contains("is not understood: a parameter has a value of the wrong kind")
    );
    assert!(answers[8].2.body.contains("missing field `username`"));
    assert!(
        answers[1]
            .2
            .body
            .contains("There is no database with ID &#34;no_such_database&#34;"),
        "{}",
        answers[1].2.body
    );
    assert!(
        answers[5].2.body.contains(&format!(
            "<a href=\"{}\">Settings</a>",
            app.database_page("/settings")
        )),
        "an error on a database's page keeps that database's tabs: {}",
        answers[5].2.body
    );
    let stranger = visitor.get("/nonexistent").await;
    assert_eq!(stranger.status, 404);
    assert_eq!(button_link(&stranger.body), "/login");
    assert!(!stranger.body.contains("Log out"));
}

#[tokio::test]
async fn the_408_and_413_pages_keep_the_logged_in_operators_navigation() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = dashboard()
        .tune(|settings| {
            settings.limits.body_timeout = std::time::Duration::from_secs(1);
        })
        .start()
        .await;
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let operator = Browser {
        address: app.address.clone(),
        client: reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        database: app.database.clone(),
    };
    assert_eq!(
        operator.log_in_with(&app.operator_password).await.status,
        303
    );

    let large = operator
        .client
        .post(format!("{}{}", app.address, app.users("")))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("username={}", "a".repeat(32 * 1024)))
        .send()
        .await
        .unwrap();
    let large = crate::helpers::page(large).await;
    let cookie = reqwest::cookie::CookieStore::cookies(&*jar, &app.address.parse().unwrap())
        .expect("the session cookie");
    let authority = app.address.trim_start_matches("http://");
    let mut connection = tokio::net::TcpStream::connect(authority).await.unwrap();
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {authority}\r\nCookie: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\na",
        app.users(""),
        cookie.to_str().unwrap()
    );
    connection.write_all(head.as_bytes()).await.unwrap();
    let mut slow = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        connection.read_to_end(&mut slow),
    )
    .await
    .expect("the server answers and closes the connection")
    .unwrap();
    let slow = String::from_utf8_lossy(&slow);

    assert!(slow.starts_with("HTTP/1.1 408"), "{slow}");
    assert!(slow.contains(">Log out</button>"), "{slow}");
    assert!(!slow.contains("Go to the login page"), "{slow}");
    assert_eq!(large.status, 413, "{}", large.body);
    assert_error_page_with_navigation(&operator, "413", &large).await;
}

#[tokio::test]
async fn a_503_page_for_a_logged_in_operator_offers_to_try_again_not_to_log_in() {
    let (mut pg, root, address) = crate::helpers::dashboard_on_own_cluster().await;
    let operator = Browser::on(address, "postgres");
    assert_eq!(operator.log_in_with("operator-password").await.status, 303);
    let token = csrf_token(&operator.get(&operator.users("/new")).await.body);

    let mut pg = tokio::task::spawn_blocking(move || {
        pg.stop().unwrap();
        pg
    })
    .await
    .unwrap();
    let page = operator.get("/activity?page=1").await;
    let form = operator
        .post(
            &operator.users(""),
            &[("csrf_token", token.as_str()), ("username", "x_user")],
        )
        .await;
    let login = operator.get("/login").await;

    tokio::task::spawn_blocking(move || pg.stop())
        .await
        .unwrap()
        .unwrap();
    let _ = std::fs::remove_dir_all(root);
    assert_eq!(page.status, 503, "{}", page.body);
    assert!(page.body.contains(">Try again</a>"), "{}", page.body);
    assert_eq!(button_link(&page.body), "/activity?page=1");
    assert_eq!(form.status, 503, "{}", form.body);
    assert_eq!(button_link(&form.body), "/");
    assert!(!form.body.contains("Go to the login page"), "{}", form.body);
    // Nobody's session can be checked: no page tells an operator who may
    // still be logged in to log in.
    for (what, body) in [("the page", &page.body), ("the form", &form.body)] {
        assert!(!body.contains(">Log in</a>"), "{what}: {body}");
    }
    // Logging in needs the state database, which is on the same server.
    assert_eq!(login.status, 503, "{}", login.body);
    assert!(!login.body.contains("type=\"password\""), "{}", login.body);
    assert_eq!(button_link(&login.body), "/login");
}

#[tokio::test]
async fn the_delete_page_of_a_user_others_may_act_as_says_why_and_offers_no_button() {
    let app = dashboard().start().await;
    app.log_in().await;
    let (user, _) = app.db.create_user("shared", Access::ReadWrite).await;
    let member = app.db.make_member_of(user.as_str(), "").await;

    let page = app
        .get(&app.users(&format!("/{}/delete", user.as_str())))
        .await;

    assert_eq!(page.status, 200, "{}", page.body);
    let refused = page
        .body
        .split("id=\"delete-refused\">")
        .nth(1)
        .expect("the reason, where the button would be");
    assert!(
        refused.starts_with(&format!(
            "It cannot be deleted now. User &#34;{user}&#34; can be acted as by &#34;{member}&#34;"
        )),
        "{refused}"
    );
    assert!(refused.contains("REVOKE"), "{refused}");
    assert!(!page.body.contains("Delete user</button>"));
    assert!(app.db.role_exists(user.as_str()).await);
}

#[tokio::test]
async fn pages_link_the_stylesheet_by_a_digest_of_its_content_so_an_upgrade_is_never_styled_by_a_cached_old_one()
 {
    let app = dashboard().start().await;
    let anonymous = Browser::on(app.address.clone(), &app.database);
    let login = anonymous.get("/login").await.body;
    let href = login
        .split("<link rel=\"stylesheet\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page links its stylesheet")
        .to_owned();
    let fetch = |path: String| {
        let client = anonymous.client.clone();
        let address = anonymous.address.clone();
        async move {
            let response = client.get(format!("{address}{path}")).send().await.unwrap();
            let cache = response.headers()["cache-control"]
                .to_str()
                .unwrap()
                .to_owned();
            (cache, response.text().await.unwrap())
        }
    };

    let (cache, css) = fetch(href.clone()).await;
    let digest: String = <sha2::Sha256 as sha2::Digest>::digest(css.as_bytes())
        .iter()
        .take(8)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    assert_eq!(href, format!("/static/style.css?v={digest}"));
    assert!(css.contains(".card"), "the stylesheet itself");
    assert_eq!(cache, "public, max-age=31536000, immutable");
    // Another version's address, or none, gets the current stylesheet but
    // no promise it stays.
    for other in [
        "/static/style.css".to_owned(),
        "/static/style.css?v=0123456789abcdef".to_owned(),
    ] {
        let (cache, body) = fetch(other.clone()).await;
        assert_eq!(cache, "no-cache", "{other}");
        assert_eq!(body, css, "{other}");
    }
    app.log_in().await;
    assert!(
        app.get(&app.users(""))
            .await
            .body
            .contains(&format!("href=\"{href}\"")),
        "a logged-in page links the same address"
    );
}

#[tokio::test]
async fn logging_in_leads_back_to_the_page_asked_for_and_a_form_sent_after_its_session_ended_comes_back_as_typed()
 {
    let app = dashboard().start().await;
    let wanted = format!("{}?q=abc", app.users("/new"));

    // A page asked for without a session: the login page leads there.
    let asked = app.get(&wanted).await;
    assert_eq!(asked.location, Some(login_for(&wanted)));
    let login = app.get(asked.location.as_deref().unwrap()).await;
    assert!(
        login.body.contains("Log in to go on to that page."),
        "{}",
        login.body
    );
    let logged_in = app
        .submit(
            asked.location.as_deref().unwrap(),
            "/login",
            &[
                ("username", "admin"),
                ("password", app.operator_password.as_str()),
                ("next", wanted.as_str()),
            ],
        )
        .await;
    assert_eq!(logged_in.status, 303);
    assert_eq!(logged_in.location.as_deref(), Some(wanted.as_str()));

    // The session ends elsewhere (logged out in another tab, timed out)
    // while the add form is open; the form is sent anyway.
    let name = unique_name("came_back");
    let token = csrf_token(&app.get(&app.users("/new")).await.body);
    app.state_admin()
        .await
        .execute("DELETE FROM operator_sessions", &[])
        .await
        .unwrap();
    let sent = app
        .post(
            &format!("{}?q=abc", app.users("")),
            &[
                ("csrf_token", token.as_str()),
                ("username", name.as_str()),
                ("password", "a-password-that-never-travels-01"),
                ("password_confirmation", "a-password-that-never-travels-01"),
                ("read_only", "on"),
                ("expires", "2031-02-03"),
                ("connection_limit", "7"),
            ],
        )
        .await;

    assert_eq!(sent.status, 303);
    let location = sent.location.unwrap();
    // What was typed travels in the sealed session cookie, never in an
    // address (a browser's history, a proxy's log).
    assert_eq!(
        location,
        format!(
            "/login?next={}&unsent",
            pgusers::domain::percent_encode(&app.users("/new?q=abc"))
        )
    );
    let login = app.get(&location).await;
    assert!(
        login
            .body
            .contains("Your session ended before that form was sent: nothing was changed."),
        "{}",
        login.body
    );
    assert!(!app.db.role_exists(&name).await, "nothing was created");
    let next = login
        .body
        .split("name=\"next\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the login form carries where to go")
        .replace("&#38;", "&");
    let back = app
        .submit(
            &location,
            "/login",
            &[
                ("username", "admin"),
                ("password", app.operator_password.as_str()),
                ("next", next.as_str()),
            ],
        )
        .await;
    let form_page = back.location.expect("logging in leads on");
    assert_eq!(form_page, app.users("/new?q=abc"));
    let form = app.get(&form_page).await;
    assert_eq!(form.status, 200, "{}", form.body);
    for typed in [
        format!("value=\"{name}\""),
        "value=\"2031-02-03\"".to_owned(),
        "value=\"7\"".to_owned(),
    ] {
        assert!(
            form.body.contains(&typed),
            "{typed} at {form_page}: {}",
            form.body
        );
    }
    assert!(
        form.body.contains("checked"),
        "read only kept: {}",
        form.body
    );
    assert!(!form.body.contains("never-travels"));
    assert!(
        !app.db.role_exists(&name).await,
        "shown again, not sent again"
    );
    // Shown once: a reload shows the empty form.
    let again = app.get(&form_page).await;
    assert!(!again.body.contains(&format!("value=\"{name}\"")));
    // And a link cannot fill a form in for someone else.
    let linked = app
        .get(&app.users("/new?username=planted_name&connection_limit=1"))
        .await;
    assert!(!linked.body.contains("planted_name"), "{}", linked.body);

    // Only pages of this site: another one is not followed.
    for elsewhere in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let page = app
            .get(&format!(
                "/login?next={}",
                pgusers::domain::percent_encode(elsewhere)
            ))
            .await;
        assert!(!page.body.contains("name=\"next\""), "{elsewhere}");
    }
}

#[tokio::test]
async fn a_user_deleted_in_another_tab_gets_a_page_that_says_so_and_leads_to_the_list() {
    let app = dashboard().start().await;
    app.log_in().await;
    let (name, _) = app.db.create_user("other_tab", Access::ReadWrite).await;
    let reset = app.users(&format!("/{}/reset", name.as_str()));
    let form = app.get(&reset).await.body;
    let (token, id) = (
        csrf_token(&form),
        form_id(&form).expect("a single-use form"),
    );
    // Deleted elsewhere: by the role module, as another tab would.
    app.db
        .roles
        .delete(&pgusers::domain::RoleName::from(name.clone()))
        .await
        .unwrap();

    let details = app
        .get(&app.users(&format!("/{}/details", name.as_str())))
        .await;
    let sent = app
        .post(
            &reset,
            &[("csrf_token", token.as_str()), ("form_id", id.as_str())],
        )
        .await;

    for (what, page) in [("the user's page", &details), ("a form sent", &sent)] {
        assert_eq!(page.status, 404, "{what}: {}", page.body);
        assert!(
            page.body.contains("<h1>Not found</h1>"),
            "{what}: {}",
            page.body
        );
        assert!(
            page.body
                .contains("It may have been deleted since this page was opened"),
            "{what}: {}",
            page.body
        );
        assert!(
            page.body.contains(">Back to database users</a>"),
            "{what}: {}",
            page.body
        );
    }
}
