//! A confirmation form acts once: a reload, the back button or a double
//! click sends it again, and the dashboard says what was already done.

use std::time::Duration;

use pgusers::domain::RoleName;
use pgusers::roles::Access;
use pgusers::state::{Action, FormClaim, FormKey, FormRequest};

use crate::dashboard::shown_password;
use crate::helpers::{Browser, Page, TestApp, csrf_token, dashboard, form_id, unique_name};

/// The fields of the form on the page at `path`, as the browser would send
/// them (CSRF token and single-use id), plus `fields`.
async fn filled_form(
    browser: &Browser,
    path: &str,
    fields: &[(&str, &str)],
) -> Vec<(String, String)> {
    let html = browser.get(path).await.body;
    let mut form = vec![
        ("csrf_token".to_owned(), csrf_token(&html)),
        (
            "form_id".to_owned(),
            form_id(&html).expect("the form has an id"),
        ),
    ];
    form.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    form
}

async fn send(browser: &Browser, action: &str, form: &[(String, String)]) -> Page {
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    browser.post(action, &form).await
}

/// How many audit entries record `action`, and how many of them were refused.
async fn audited(app: &TestApp, action: &str) -> (i64, i64) {
    let row = app
        .state_admin()
        .await
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE outcome = 'refused')
               FROM audit_log WHERE action = $1",
            &[&action],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

/// Everything the single-use form table holds, as text.
async fn form_uses_text(app: &TestApp) -> String {
    app.state_admin()
        .await
        .query_one(
            "SELECT coalesce(string_agg(f::text, ' '), '') FROM form_uses f",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_reset_form_sent_twice_resets_once_and_the_first_password_still_works() {
    let app = dashboard().start().await;
    app.log_in().await;
    let (name, _) = app.db.create_user("reload", Access::ReadWrite).await;
    let path = app.users(&format!("/{name}/reset"));
    let form = filled_form(&app, &path, &[]).await;

    let first = send(&app, &path, &form).await;
    let again = send(&app, &path, &form).await;

    assert_eq!(first.status, 200);
    let password = shown_password(&first.body);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.cache_control.as_deref(), Some("no-store"));
    assert!(again.body.contains("Already done"), "{}", again.body);
    assert!(
        again
            .body
            .contains(&format!("the password of \"{name}\" was reset")),
        "{}",
        again.body
    );
    assert!(
        again.body.contains("The new password was shown once, at ")
            && again
                .body
                .contains("and is not stored: if you did not copy it, reset the password again"),
        "{}",
        again.body
    );
    assert!(
        again.body.contains(&format!("href=\"{path}\"")),
        "a link to a fresh reset form"
    );
    assert!(!again.body.contains("id=\"new-password\""), "no password");
    app.db
        .connect_as(name.as_str(), &password)
        .await
        .expect("the password shown first still logs in");
    assert_eq!(audited(&app, "reset password").await, (1, 0));
    assert!(!form_uses_text(&app).await.contains(&password));
}

#[tokio::test]
async fn a_create_form_with_a_generated_password_sent_twice_creates_once_and_refuses_nothing() {
    let app = dashboard().start().await;
    app.log_in().await;
    let name = unique_name("twice");
    let fields = [
        ("username", name.as_str()),
        ("password", ""),
        ("password_confirmation", ""),
    ];
    let form = filled_form(&app, &app.users("/new"), &fields).await;

    let first = send(&app, &app.users(""), &form).await;
    let again = send(&app, &app.users(""), &form).await;

    assert_eq!(first.status, 200);
    let password = shown_password(&first.body);
    assert_eq!(again.status, 200, "{}", again.body);
    assert!(!again.body.contains("already exists"), "{}", again.body);
    assert!(
        again.body.contains(&format!("user \"{name}\" was created")),
        "{}",
        again.body
    );
    // It was never reset: nothing says "again".
    assert!(
        again.body.contains("Its password was shown once, at ",)
            && again
                .body
                .contains("if you did not copy it, reset the password.</p>"),
        "{}",
        again.body
    );
    assert!(!again.body.contains("password again"), "{}", again.body);
    assert!(again.body.contains(&format!(
        "href=\"{}\">Reset the password</a>",
        app.users(&format!("/{name}/reset"))
    )));
    app.db
        .connect_as(&name, &password)
        .await
        .expect("the generated password logs in");
    assert_eq!(
        audited(&app, "create user").await,
        (1, 0),
        "no refused entry"
    );
    assert!(!form_uses_text(&app).await.contains(&password));
}

#[tokio::test]
async fn a_delete_form_sent_twice_says_the_user_was_already_deleted() {
    let app = dashboard().start().await;
    app.log_in().await;
    let (name, _) = app.db.create_user("gone", Access::ReadWrite).await;
    let path = app.users(&format!("/{name}/delete"));
    let form = filled_form(&app, &path, &[]).await;

    let first = send(&app, &path, &form).await;
    let again = send(&app, &path, &form).await;

    assert_eq!(first.status, 303);
    assert!(!app.db.role_exists(name.as_str()).await);
    assert_eq!(again.status, 200, "{}", again.body);
    assert!(
        again.body.contains(&format!("user \"{name}\" was deleted")),
        "{}",
        again.body
    );
    assert!(!again.body.contains("shown once"), "no password involved");
    assert_eq!(audited(&app, "delete user").await, (1, 0));
}

#[tokio::test]
async fn two_sends_of_one_reset_form_at_once_reset_the_password_once() {
    let app = dashboard().start().await;
    app.log_in().await;
    let (name, _) = app.db.create_user("double", Access::ReadWrite).await;
    let path = app.users(&format!("/{name}/reset"));
    let form = filled_form(&app, &path, &[]).await;

    let (one, two) = tokio::join!(send(&app, &path, &form), send(&app, &path, &form));

    let shown: Vec<&Page> = [&one, &two]
        .into_iter()
        .filter(|page| page.body.contains("id=\"new-password\""))
        .collect();
    assert_eq!(shown.len(), 1, "exactly one answer shows a password");
    let other = if shown[0].body == one.body {
        &two
    } else {
        &one
    };
    assert!(
        other.body.contains("Already done") || other.body.contains("Being done"),
        "{}",
        other.body
    );
    assert_ne!(other.status, 500);
    app.db
        .connect_as(name.as_str(), &shown_password(&shown[0].body))
        .await
        .expect("the one password shown is the user's");
    assert_eq!(audited(&app, "reset password").await, (1, 0));
}

#[tokio::test]
async fn a_form_sent_without_its_id_is_refused_as_stale_and_changes_nothing() {
    let app = dashboard().start().await;
    app.log_in().await;
    let (name, secret) = app.db.create_user("stale", Access::ReadWrite).await;
    let path = app.users(&format!("/{name}/reset"));
    let token = csrf_token(&app.get(&path).await.body);

    let page = app.post(&path, &[("csrf_token", &token)]).await;

    assert_eq!(page.status, 403);
    assert!(page.body.contains("reload the page"), "{}", page.body);
    app.db
        .connect_as(name.as_str(), secret.expose())
        .await
        .expect("the password did not change");
}

/// How many single-use form ids were claimed.
async fn claims(app: &TestApp) -> i64 {
    app.state_admin()
        .await
        .query_one("SELECT count(*) FROM form_uses", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_form_id_is_refused_in_a_session_that_did_not_render_it() {
    let app = dashboard().start().await;
    app.log_in().await;
    let other = Browser::on(app.address.clone(), &app.database);
    assert_eq!(other.log_in_with(&app.operator_password).await.status, 303);
    let (borrower, owner) = (unique_name("borrowed"), unique_name("owned"));
    let form = filled_form(&app, &app.users("/new"), &[]).await;
    let mut borrowed = filled_form(&other, &app.users("/new"), &[]).await;
    borrowed[1] = form[1].clone();
    let with_name = |form: &[(String, String)], name: &str| {
        let mut form = form.to_vec();
        form.push(("username".to_owned(), name.to_owned()));
        form
    };

    let by_other = send(&other, &app.users(""), &with_name(&borrowed, &borrower)).await;
    let by_owner = send(&app, &app.users(""), &with_name(&form, &owner)).await;

    assert_eq!(by_other.status, 403, "{}", by_other.body);
    assert!(
        by_other.body.contains("reload the page"),
        "{}",
        by_other.body
    );
    assert!(!app.db.role_exists(&borrower).await, "nothing was created");
    assert_eq!(by_owner.status, 200, "{}", by_owner.body);
    assert!(
        app.db.role_exists(&owner).await,
        "the owner's form still acts"
    );
    assert_eq!(claims(&app).await, 1, "the refused form claimed nothing");
}

#[tokio::test]
async fn a_made_up_form_id_is_refused_and_changes_nothing() {
    let app = dashboard().start().await;
    app.log_in().await;
    let (name, secret) = app.db.create_user("madeup", Access::ReadWrite).await;
    let path = app.users(&format!("/{name}/reset"));
    let token = csrf_token(&app.get(&path).await.body);

    for made_up in ["0".repeat(32), "0".repeat(64)] {
        let page = app
            .post(&path, &[("csrf_token", &token), ("form_id", &made_up)])
            .await;
        assert_eq!(page.status, 403, "{made_up}: {}", page.body);
        assert!(page.body.contains("reload the page"), "{}", page.body);
    }

    app.db
        .connect_as(name.as_str(), secret.expose())
        .await
        .expect("the password did not change");
    assert_eq!(claims(&app).await, 0, "no claim was written");
}

#[tokio::test]
async fn a_form_id_acts_only_for_the_action_and_user_it_was_rendered_for() {
    let app = dashboard().start().await;
    app.log_in().await;
    let (shown, _) = app.db.create_user("shown", Access::ReadWrite).await;
    let (other, secret) = app.db.create_user("other", Access::ReadWrite).await;
    let delete_shown = app.users(&format!("/{shown}/delete"));
    let delete_form = filled_form(&app, &delete_shown, &[]).await;
    let reset_form = filled_form(&app, &app.users(&format!("/{other}/reset")), &[]).await;

    let other_user = send(&app, &app.users(&format!("/{other}/delete")), &delete_form).await;
    let other_action = send(&app, &app.users(&format!("/{other}/delete")), &reset_form).await;
    let reset_with_delete = send(&app, &app.users(&format!("/{shown}/reset")), &delete_form).await;

    for page in [&other_user, &other_action, &reset_with_delete] {
        assert_eq!(page.status, 403, "{}", page.body);
        assert!(page.body.contains("reload the page"), "{}", page.body);
    }
    assert!(app.db.role_exists(other.as_str()).await, "not deleted");
    app.db
        .connect_as(other.as_str(), secret.expose())
        .await
        .expect("the other user's password did not change");
    assert_eq!(claims(&app).await, 0, "no claim was written");
    let own = send(&app, &delete_shown, &delete_form).await;
    assert_eq!(own.status, 303, "the form still acts where it belongs");
    assert!(!app.db.role_exists(shown.as_str()).await);
}

#[tokio::test]
async fn a_form_whose_action_failed_can_be_sent_again_once_the_cause_is_gone() {
    let app = dashboard().start().await;
    app.log_in().await;
    let (taken, _) = app.db.create_user("taken", Access::ReadWrite).await;
    let fields = [
        ("username", taken.as_str()),
        ("password", ""),
        ("password_confirmation", ""),
    ];
    let form = filled_form(&app, &app.users("/new"), &fields).await;
    let refused = send(&app, &app.users(""), &form).await;
    assert!(refused.body.contains("already exists"), "{}", refused.body);
    let role = RoleName::parse(taken.as_str()).unwrap();
    app.db
        .roles
        .delete(&role)
        .await
        .expect("the name is free again");

    let again = send(&app, &app.users(""), &form).await;

    assert_eq!(again.status, 200, "{}", again.body);
    app.db
        .connect_as(taken.as_str(), &shown_password(&again.body))
        .await
        .expect("the user was created by the same form");
}

#[tokio::test]
async fn claims_older_than_the_session_lifetime_are_forgotten_at_the_next_claim() {
    let app = dashboard().start().await;
    let state = app.state_store();
    let request = FormRequest {
        operator: "admin",
        action: Action::ResetPassword,
        target: "someone",
    };
    let session = pgusers::state::session_hash("a-session");
    let old = FormKey {
        session_hash: &session,
        form_id: "old",
    };
    let new = FormKey {
        session_hash: &session,
        form_id: "new",
    };
    let day = Duration::from_secs(86_400);
    assert_eq!(
        state.claim_form(&old, &request, day).await.unwrap(),
        FormClaim::First
    );
    tokio::time::sleep(Duration::from_millis(20)).await;

    state
        .claim_form(&new, &request, Duration::from_millis(10))
        .await
        .unwrap();

    let ids: Vec<String> = app
        .state_admin()
        .await
        .query("SELECT form_id FROM form_uses", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(ids, ["new"]);
}

/// Makes the state database refuse what the dashboard records after a
/// change: the audit entry, and the form's "done".
async fn refuse_bookkeeping(app: &TestApp) {
    app.state_admin()
        .await
        .batch_execute(
            "CREATE FUNCTION refuse_bookkeeping() RETURNS trigger LANGUAGE plpgsql AS
               $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
             CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log
               FOR EACH ROW EXECUTE FUNCTION refuse_bookkeeping();
             CREATE TRIGGER refuse_done BEFORE UPDATE ON form_uses
               FOR EACH ROW EXECUTE FUNCTION refuse_bookkeeping();",
        )
        .await
        .expect("triggers");
}

#[tokio::test]
async fn a_generated_password_is_shown_though_recording_the_form_and_the_audit_entry_fail_after_the_change()
 {
    let app = dashboard().start().await;
    app.log_in().await;
    let (existing, _) = app.db.create_user("after", Access::ReadWrite).await;
    let name = unique_name("after");
    let reset_path = app.users(&format!("/{}/reset", existing.as_str()));
    let create = filled_form(
        &app,
        &app.users("/new"),
        &[
            ("username", &name),
            ("password", ""),
            ("password_confirmation", ""),
        ],
    )
    .await;
    let reset = filled_form(&app, &reset_path, &[]).await;
    refuse_bookkeeping(&app).await;

    let created = send(&app, &app.users(""), &create).await;
    let was_reset = send(&app, &reset_path, &reset).await;

    assert_eq!(created.status, 200, "{}", created.body);
    app.db
        .connect_as(&name, &shown_password(&created.body))
        .await
        .expect("the password shown is the new user's");
    assert_eq!(was_reset.status, 200, "{}", was_reset.body);
    app.db
        .connect_as(existing.as_str(), &shown_password(&was_reset.body))
        .await
        .expect("the password shown is the user's new one");
    assert_eq!(
        audited(&app, "create user").await.0 + audited(&app, "reset password").await.0,
        0,
        "the state database did refuse to record them"
    );
}

#[tokio::test]
async fn a_generated_password_is_shown_after_a_bounded_wait_while_the_audit_log_is_locked() {
    let app = dashboard().start().await;
    app.log_in().await;
    let name = unique_name("locked");
    let create = filled_form(
        &app,
        &app.users("/new"),
        &[
            ("username", &name),
            ("password", ""),
            ("password_confirmation", ""),
        ],
    )
    .await;
    let locker = app.state_admin().await;
    locker
        .batch_execute("BEGIN; LOCK TABLE audit_log IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();

    let created =
        tokio::time::timeout(Duration::from_secs(30), send(&app, &app.users(""), &create))
            .await
            .expect("the answer does not wait for the audit log's lock");
    locker.batch_execute("ROLLBACK").await.unwrap();

    assert_eq!(created.status, 200, "{}", created.body);
    app.db
        .connect_as(&name, &shown_password(&created.body))
        .await
        .expect("the password shown is the new user's");
}
