//! API tokens: the state store against a real PostgreSQL, and the
//! `tokens` commands through the built binary.

use pgusers::domain::{ApiToken, OperatorName, OperatorPassword, TokenId, TokenLabel};
use pgusers::notice::Announce;
use pgusers::state::{
    Action, Event, Outcome, Source, StateError, StateSettings, StateStore, TokenHolder,
};
use sha2::{Digest, Sha256};
use tokio_postgres::Client;

use crate::cli::{Run, cli, dashboard_state, run};
use crate::helpers::{cluster, dashboard, test_db, token_of, unique_name};

/// A state database of the test's own, set up as a dashboard would (with
/// the operator `admin`), and a superuser's connection to it.
async fn state() -> (StateStore, Client) {
    let name = unique_name("tokens");
    let store = StateStore::new(StateSettings {
        config: cluster().admin_config(&name).into(),
        create_with: Some(cluster().admin_config("postgres").into()),
        admin_password: Some(OperatorPassword::parse("tokens-admin-password").unwrap()),
        announce: Announce::Stderr,
        bootstrap_operator: true,
    });
    store.ensure_ready().await.expect("the state is set up");
    let admin = pgusers::db::connect(&cluster().admin_config(&name))
        .await
        .expect("state database");
    (store, admin)
}

fn operator(name: &str) -> OperatorName {
    OperatorName::parse(name).unwrap()
}

async fn add_operator(store: &StateStore, name: &str) {
    store
        .add_operator(
            &operator(name),
            &OperatorPassword::parse("an-operator-password").unwrap(),
        )
        .await
        .expect("the operator is added");
}

fn label(text: &str) -> TokenLabel {
    TokenLabel::parse(text).unwrap()
}

/// `token` with the character at `index` replaced by another of the same
/// kind, so it still has a token's shape.
fn one_character_changed(token: &ApiToken, index: usize) -> String {
    let mut text = token.expose().to_owned().into_bytes();
    text[index] = match text[index] {
        b'0' => b'1',
        b'a' => b'b',
        b'A' => b'B',
        _ if text[index].is_ascii_digit() => b'0',
        _ if text[index].is_ascii_lowercase() => b'a',
        _ => b'A',
    };
    String::from_utf8(text).unwrap()
}

#[tokio::test]
async fn a_created_token_authenticates_as_its_operator_with_its_scope() {
    let (store, _) = state().await;
    add_operator(&store, "jane").await;

    let (full_info, full) = store
        .create_token(&operator("admin"), &label("deploys"), false)
        .await
        .unwrap();
    let (reader_info, reader) = token_of(&store, "jane", true).await;

    assert_eq!(full_info.id, full.id().as_str());
    assert_eq!(full_info.operator, "admin");
    assert_eq!(full_info.label, "deploys");
    assert!(!full_info.read_only);
    assert_eq!(full_info.last_used_at, None);
    assert_eq!(full_info.created_at.len(), "2026-11-26 02:48:30".len());
    assert_eq!(reader_info.label, "api");
    assert_eq!(
        store.authenticate(full.expose()).await.unwrap(),
        Some(TokenHolder {
            id: full_info.id.clone(),
            operator: "admin".into(),
            read_only: false,
        })
    );
    assert_eq!(
        store.authenticate(reader.expose()).await.unwrap(),
        Some(TokenHolder {
            id: reader_info.id.clone(),
            operator: "jane".into(),
            read_only: true,
        })
    );
    let listed = store.list_tokens().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().any(|t| t.id == full_info.id && !t.read_only));
    assert!(listed.iter().any(|t| t.id == reader_info.id && t.read_only));
}

#[tokio::test]
async fn a_token_for_an_operator_that_does_not_exist_is_refused() {
    let (store, admin) = state().await;

    let refused = store
        .create_token(&operator("nobody"), &TokenLabel::default(), false)
        .await;

    assert!(
        matches!(&refused, Err(StateError::OperatorNotFound(name)) if name == "nobody"),
        "{refused:?}"
    );
    let count: i64 = admin
        .query_one("SELECT count(*) FROM api_tokens", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 0);
}

/// How many seconds ago the token was last used, by PostgreSQL's clock.
async fn last_use(admin: &Client, id: &str) -> Option<f64> {
    admin
        .query_one(
            "SELECT extract(epoch FROM now() - last_used_at)::float8
               FROM api_tokens WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap()
        .get(0)
}

async fn set_last_use(admin: &Client, id: &str, seconds_ago: f64) {
    admin
        .execute(
            "UPDATE api_tokens SET last_used_at = now() - make_interval(secs => $2) WHERE id = $1",
            &[&id, &seconds_ago],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn using_a_token_records_its_last_use_at_most_once_a_minute() {
    let (store, admin) = state().await;
    let (info, token) = token_of(&store, "admin", false).await;
    let before = last_use(&admin, &info.id).await;
    store.authenticate(token.expose()).await.unwrap().unwrap();
    let first = last_use(&admin, &info.id).await;
    set_last_use(&admin, &info.id, 30.0).await;
    store.authenticate(token.expose()).await.unwrap().unwrap();
    let within_a_minute = last_use(&admin, &info.id).await;
    set_last_use(&admin, &info.id, 90.0).await;
    store.authenticate(token.expose()).await.unwrap().unwrap();
    let after_a_minute = last_use(&admin, &info.id).await;
    let listed = store.list_tokens().await.unwrap();

    assert_eq!(before, None, "never used");
    assert!(first.is_some_and(|ago| ago < 5.0), "{first:?}");
    assert!(
        within_a_minute.is_some_and(|ago| (30.0..35.0).contains(&ago)),
        "not written again within a minute: {within_a_minute:?}"
    );
    assert!(
        after_a_minute.is_some_and(|ago| ago < 5.0),
        "written again after a minute: {after_a_minute:?}"
    );
    assert!(listed[0].last_used_at.is_some());
}

#[tokio::test]
async fn a_revoked_token_and_a_token_with_one_character_changed_do_not_authenticate() {
    let (store, _) = state().await;
    let (info, token) = token_of(&store, "admin", false).await;
    let (_, kept) = token_of(&store, "admin", false).await;

    let last_of_secret = one_character_changed(&token, token.expose().len() - 1);
    let first_of_secret = one_character_changed(&token, 15);
    let in_id = one_character_changed(&token, 4);
    let before = store.authenticate(token.expose()).await.unwrap();
    let mut changed = Vec::new();
    for text in [&last_of_secret, &first_of_secret, &in_id] {
        assert!(ApiToken::parse(text).is_ok(), "still shaped like a token");
        changed.push(store.authenticate(text).await.unwrap());
    }
    let malformed = store
        .authenticate(&token.expose()[..token.expose().len() - 1])
        .await
        .unwrap();
    let revoked = store
        .revoke_token(&TokenId::parse(&info.id).unwrap())
        .await
        .unwrap();
    let after = store.authenticate(token.expose()).await.unwrap();
    let again = store.revoke_token(&TokenId::parse(&info.id).unwrap()).await;

    assert!(before.is_some());
    assert_eq!(changed, [None, None, None]);
    assert_eq!(malformed, None);
    assert_eq!(revoked.id, info.id);
    assert_eq!(after, None, "revoked");
    assert!(
        matches!(&again, Err(StateError::TokenNotFound(id)) if *id == info.id),
        "{again:?}"
    );
    assert!(
        store.authenticate(kept.expose()).await.unwrap().is_some(),
        "the other token still works"
    );
}

#[tokio::test]
async fn removing_an_operator_revokes_its_tokens() {
    let (store, _) = state().await;
    add_operator(&store, "jane").await;
    let (_, janes) = token_of(&store, "jane", false).await;
    let (_, admins) = token_of(&store, "admin", false).await;

    let before = store.authenticate(janes.expose()).await.unwrap();
    store.remove_operator(&operator("jane")).await.unwrap();

    assert!(before.is_some());
    assert_eq!(store.authenticate(janes.expose()).await.unwrap(), None);
    assert!(store.authenticate(admins.expose()).await.unwrap().is_some());
    let listed = store.list_tokens().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].operator, "admin");
}

#[tokio::test]
async fn only_the_hash_of_a_token_is_stored_and_its_secret_reaches_no_log() {
    let (store, admin) = state().await;
    let (info, token) = token_of(&store, "admin", false).await;
    store.authenticate(token.expose()).await.unwrap();
    let secret = &token.expose()[15..];

    let rows = admin
        .query("SELECT t::text, secret_hash FROM api_tokens t", &[])
        .await
        .unwrap();

    assert_eq!(rows.len(), 1);
    let (row, hash): (String, Vec<u8>) = (rows[0].get(0), rows[0].get(1));
    assert!(row.contains(&info.id), "{row}");
    assert!(
        !row.contains(secret),
        "the secret is nowhere in the row: {row}"
    );
    // Computed here, not by PostgreSQL: sending the token to compute it
    // would put it in the server's log.
    let expected: [u8; 32] = Sha256::digest(token.expose().as_bytes()).into();
    assert_eq!(hash, expected, "the stored hash is the token's SHA-256");
    assert!(
        !cluster().log().contains(secret),
        "the server (log_statement = all) never saw the secret"
    );
}

/// The `tokens` commands on a state database a dashboard set up (operator
/// `admin`), and the state store on the same database.
struct TokensCli {
    db: crate::helpers::TestDb,
    state_url: String,
    store: StateStore,
}

impl TokensCli {
    async fn new() -> Self {
        let db = test_db().await;
        let state_url = dashboard_state(&db).await;
        let store = StateStore::new(StateSettings {
            config: pgusers::db::parse_config(&state_url).unwrap(),
            create_with: None,
            admin_password: None,
            announce: Announce::Stderr,
            bootstrap_operator: false,
        });
        Self {
            db,
            state_url,
            store,
        }
    }

    fn tokens(&self, args: &[&str]) -> Run {
        let mut command = cli(&self.db);
        command
            .env("PGUSERS_STATE_URL", &self.state_url)
            .arg("tokens")
            .args(args);
        run(&mut command, "")
    }

    /// `tokens create` with `args`, which must succeed; the token printed.
    fn create(&self, args: &[&str]) -> (Run, ApiToken) {
        let created = self.tokens(&[&["create"], args].concat());
        assert_eq!(created.code, 0, "{}", created.stderr);
        let token = ApiToken::parse(created.stdout.trim_end_matches('\n'))
            .unwrap_or_else(|_| panic!("one token on stdout: {:?}", created.stdout));
        (created, token)
    }
}

#[tokio::test]
async fn create_prints_only_the_token_on_standard_output_and_it_authenticates() {
    let app = TokensCli::new().await;

    let (full_run, full) = app.create(&["--operator", "admin"]);
    let (reader_run, reader) = app.create(&["--operator", "admin", "--read-only", "--label", "ci"]);

    assert_eq!(full_run.stdout, format!("{}\n", full.expose()));
    assert_eq!(
        full_run.stderr,
        format!(
            "API token {} created for operator \"admin\" (full access). \
             It is shown once and not stored: keep it now.\n",
            full.id()
        )
    );
    assert_eq!(reader_run.stdout.lines().count(), 1);
    assert!(
        reader_run.stderr.contains("(read-only)"),
        "{}",
        reader_run.stderr
    );
    let holder = app.store.authenticate(full.expose()).await.unwrap();
    assert_eq!(
        holder,
        Some(TokenHolder {
            id: full.id().to_string(),
            operator: "admin".into(),
            read_only: false,
        })
    );
    let reading = app.store.authenticate(reader.expose()).await.unwrap();
    assert!(reading.is_some_and(|holder| holder.read_only));
}

#[tokio::test]
async fn list_shows_each_token_and_its_last_use_but_never_a_secret() {
    let app = TokensCli::new().await;
    let (_, used) = app.create(&["--operator", "admin", "--label", "deploys"]);
    let (_, unused) = app.create(&["--operator", "admin", "--read-only"]);
    app.store.authenticate(used.expose()).await.unwrap();

    let table = app.tokens(&["list"]);
    let json = app.tokens(&["list", "--json"]);

    assert_eq!(table.code, 0, "{}", table.stderr);
    let header = table.stdout.lines().nth(1).unwrap();
    for column in [
        "ID",
        "OPERATOR",
        "LABEL",
        "ACCESS",
        "CREATED (UTC)",
        "LAST USED (UTC)",
    ] {
        assert!(header.contains(column), "{header}");
    }
    let line = |token: &ApiToken| {
        table
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("| {} ", token.id())))
            .unwrap_or_else(|| panic!("{} is listed:\n{}", token.id(), table.stdout))
            .to_owned()
    };
    let (used_line, unused_line) = (line(&used), line(&unused));
    assert!(
        used_line.contains("| admin ")
            && used_line.contains("| deploys ")
            && used_line.contains("| full "),
        "{used_line}"
    );
    assert!(!used_line.contains("never"), "{used_line}");
    assert!(
        unused_line.contains("| api ")
            && unused_line.contains("| read-only ")
            && unused_line.contains("| never "),
        "{unused_line}"
    );
    assert_eq!(json.code, 0, "{}", json.stderr);
    let entries: Vec<serde_json::Value> = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(entries.len(), 2);
    let unused_entry = entries
        .iter()
        .find(|e| e["id"] == unused.id().as_str())
        .unwrap();
    assert_eq!(unused_entry["read_only"], true);
    assert_eq!(unused_entry["last_used_at"], serde_json::Value::Null);
    for token in [&used, &unused] {
        let secret = &token.expose()[15..];
        assert!(!table.stdout.contains(secret) && !json.stdout.contains(secret));
    }
}

#[tokio::test]
async fn a_revoked_token_no_longer_authenticates_and_the_audit_log_names_it_by_id() {
    let app = TokensCli::new().await;
    let (_, token) = app.create(&["--operator", "admin"]);
    let id = token.id().to_string();

    let revoked = app.tokens(&["revoke", &id]);
    let again = app.tokens(&["revoke", &id]);
    let audit = run(
        cli(&app.db)
            .env("PGUSERS_STATE_URL", &app.state_url)
            .args(["audit", "--json"]),
        "",
    );

    assert_eq!(revoked.code, 0, "{}", revoked.stderr);
    assert_eq!(revoked.stdout, format!("API token {id} revoked.\n"));
    assert_eq!(app.store.authenticate(token.expose()).await.unwrap(), None);
    assert_eq!(again.code, 3, "{}", again.stderr);
    assert!(again.stderr.contains("does not exist"), "{}", again.stderr);
    let entries: Vec<serde_json::Value> = serde_json::from_str(&audit.stdout).unwrap();
    let find = |action: &str, outcome: &str| {
        entries
            .iter()
            .find(|e| e["action"] == action && e["outcome"] == outcome)
            .unwrap_or_else(|| panic!("{action} {outcome} in {entries:?}"))
    };
    for entry in [
        find("create API token", "ok"),
        find("revoke API token", "ok"),
        find("revoke API token", "refused"),
    ] {
        assert_eq!(entry["actor"], "cli");
        assert_eq!(entry["source"], "cli");
        assert_eq!(entry["target"], id.as_str());
        assert_eq!(entry["database"], serde_json::Value::Null);
    }
    assert!(!audit.stdout.contains(&token.expose()[15..]));
}

#[tokio::test]
async fn unknown_ids_and_operators_are_refused_and_malformed_ones_are_usage_errors() {
    let app = TokensCli::new().await;
    let (_, token) = app.create(&["--operator", "admin"]);

    let unknown_id = app.tokens(&["revoke", "0000000000"]);
    let unknown_operator = app.tokens(&["create", "--operator", "nobody"]);
    let pasted_token = app.tokens(&["revoke", token.expose()]);
    let bad_label = app.tokens(&["create", "--operator", "admin", "--label", ""]);
    let bad_operator = app.tokens(&["create", "--operator", "No Body"]);

    assert_eq!(unknown_id.code, 3, "{}", unknown_id.stderr);
    assert_eq!(
        unknown_id.stderr,
        "Error: API token 0000000000 does not exist (`pgusers tokens list` shows them).\n"
    );
    assert_eq!(unknown_operator.code, 3, "{}", unknown_operator.stderr);
    assert_eq!(
        unknown_operator.stderr,
        "Error: Operator \"nobody\" does not exist.\n"
    );
    assert_eq!(unknown_operator.stdout, "");
    assert_eq!(pasted_token.code, 2, "{}", pasted_token.stderr);
    assert!(
        !pasted_token.stderr.contains(&token.expose()[15..]),
        "a pasted token is not echoed: {}",
        pasted_token.stderr
    );
    assert_eq!(bad_label.code, 2, "{}", bad_label.stderr);
    assert_eq!(bad_operator.code, 2, "{}", bad_operator.stderr);
    assert!(
        app.store
            .authenticate(token.expose())
            .await
            .unwrap()
            .is_some(),
        "nothing was revoked"
    );
    assert_eq!(app.store.list_tokens().await.unwrap().len(), 1);
}

#[tokio::test]
async fn entries_from_the_api_are_recorded_and_marked_on_the_activity_tab() {
    let app = dashboard().start().await;
    let event = Event {
        actor: "admin".into(),
        source: Source::Api,
        action: Action::CreateUser,
        database: Some(app.db.name.clone()),
        target: Some("made_by_a_script".into()),
        outcome: Outcome::Ok,
        detail: None,
        client_address: Some("192.0.2.7".into()),
    };
    app.state_store().record(&event).await.unwrap();
    let revoked = Event {
        action: Action::RevokeToken,
        target: Some("4711".into()),
        ..event.clone()
    };
    app.state_store().record(&revoked).await.unwrap();
    app.log_in().await;

    let page = app.get("/activity").await;
    let entries = app
        .state_store()
        .audit_entries(0, 10)
        .await
        .unwrap()
        .entries;

    assert!(entries.iter().any(|e| e.source == "api"));
    let row = page
        .body
        .split("<tr")
        .find(|row| row.contains("made_by_a_script"))
        .expect("the entry is shown");
    assert!(row.contains("<span class=\"badge\">API</span>"), "{row}");
    assert!(!row.contains(">CLI<"), "{row}");
    // A token is named with its action, not under User.
    let row = page
        .body
        .split("<tr")
        .find(|row| row.contains("revoke API token"))
        .expect("the revocation is shown");
    assert!(row.contains("token 4711"), "{row}");
    assert!(row.contains(r#"data-label="User"></td>"#), "{row}");
}

/// The token a created-token page shows.
fn shown_token(html: &str) -> String {
    let marker = "id=\"new-token\" class=\"mono\" readonly autofocus value=\"";
    let start = html.find(marker).expect("the page shows the token") + marker.len();
    let end = start + html[start..].find('"').unwrap();
    html[start..end].to_owned()
}

#[tokio::test]
async fn a_token_made_on_the_api_tokens_page_is_shown_once_works_and_a_reload_makes_no_second() {
    let app = dashboard().start().await;
    app.log_in().await;
    let form = app.get("/api-tokens").await.body;
    let fields = [
        ("csrf_token", crate::helpers::csrf_token(&form)),
        ("form_id", crate::helpers::form_id(&form).unwrap()),
        ("label", "terraform".to_owned()),
        ("read_only", "on".to_owned()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let created = app.post("/api-tokens", &fields).await;
    let reloaded = app.post("/api-tokens", &fields).await;
    let list = app.get("/api-tokens").await.body;

    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.cache_control.as_deref(), Some("no-store"));
    let token = shown_token(&created.body);
    let holder = app
        .state_store()
        .authenticate(&token)
        .await
        .unwrap()
        .expect("it works");
    assert_eq!(holder.operator, "admin");
    assert!(holder.read_only);
    assert_eq!(reloaded.status, 200);
    assert!(reloaded.body.contains("Already done"), "{}", reloaded.body);
    assert!(!reloaded.body.contains(&token), "never shown twice");
    assert_eq!(
        app.state_store().list_tokens().await.unwrap().len(),
        1,
        "one token"
    );
    assert!(list.contains(&format!("data-token=\"{}\"", holder.id)));
    assert!(list.contains("terraform"));
    assert!(!list.contains(&token), "the list never holds a token");
}

#[tokio::test]
async fn a_wrong_label_keeps_what_was_typed_and_a_form_without_its_csrf_token_makes_nothing() {
    let app = dashboard().start().await;
    app.log_in().await;
    let long = "x".repeat(65);

    let refused = app
        .submit(
            "/api-tokens",
            "/api-tokens",
            &[("label", long.as_str()), ("read_only", "on")],
        )
        .await;
    let forged = app.post("/api-tokens", &[("label", "forged")]).await;

    assert_eq!(refused.status, 422);
    assert!(
        refused
            .body
            .contains("Token labels are 1 to 64 characters long (this one has 65).")
    );
    // The field error as every form shows one: styled, and named by the field.
    assert!(
        refused
            .body
            .contains(r#"<p class="field-error" id="label-error">Token labels"#)
            && refused
                .body
                .contains(r#"aria-describedby="label-error label-hint""#),
        "{}",
        refused.body
    );
    assert!(refused.body.contains(&format!("value=\"{long}\"")));
    assert!(
        refused
            .body
            .contains("name=\"read_only\" value=\"on\" checked")
    );
    assert_eq!(forged.status, 400, "{}", forged.body);
    assert!(app.state_store().list_tokens().await.unwrap().is_empty());
}

#[tokio::test]
async fn revoking_on_the_page_stops_the_token_and_revoking_again_says_it_already_is() {
    let app = dashboard().start().await;
    app.log_in().await;
    let (info, token) = token_of(&app.state_store(), "admin", false).await;
    let revoke = format!("/api-tokens/{}/revoke", info.id);

    // The list only links to a page that asks first.
    let list = app.get("/api-tokens").await.body;
    let asked = app.get(&revoke).await;
    let revoked = app.submit(&revoke, &revoke, &[]).await;
    let flash = app.get("/api-tokens").await.body;
    let again = app.submit("/api-tokens", &revoke, &[]).await;
    let second_flash = app.get("/api-tokens").await.body;
    let asked_again = app.get(&revoke).await;

    assert!(list.contains(&format!(r#"href="{revoke}""#)), "{list}");
    assert!(
        !list.contains(&format!(r#"action="{revoke}""#)),
        "no button on the list revokes at once: {list}"
    );
    assert_eq!(asked.status, 200);
    assert!(
        asked
            .body
            .contains(&format!("Revoke API token {}?", info.id)),
        "{}",
        asked.body
    );
    assert!(asked.body.contains(&format!(r#"action="{revoke}""#)));
    assert!(asked.body.contains("Revoke this token"));
    let pasted = app
        .get("/api-tokens/pgu_0123456789_Secret%E2%80%AEtext/revoke")
        .await;
    assert_eq!(pasted.status, 404);
    assert!(
        pasted.body.contains("API token IDs are 10 characters"),
        "{}",
        pasted.body
    );
    assert!(!pasted.body.contains("Secret"), "the address is not quoted");
    assert_eq!(asked_again.status, 404);
    assert!(
        asked_again
            .body
            .contains("does not exist or is already revoked"),
        "{}",
        asked_again.body
    );
    assert_eq!(revoked.status, 303);
    assert!(
        flash.contains(&format!("API token {} revoked", info.id)),
        "{flash}"
    );
    assert_eq!(
        app.state_store()
            .authenticate(token.expose())
            .await
            .unwrap(),
        None
    );
    assert_eq!(again.status, 303);
    assert!(
        second_flash.contains("is already revoked"),
        "{second_flash}"
    );
    let entries = app
        .state_store()
        .audit_entries(0, 10)
        .await
        .unwrap()
        .entries;
    assert!(entries.iter().any(|e| e.action == "revoke API token"
        && e.actor == "admin"
        && e.target.as_deref() == Some(info.id.as_str())));
}
