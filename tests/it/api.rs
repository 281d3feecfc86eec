//! The JSON API: every endpoint's answers and errors, with the effects
//! checked in PostgreSQL.

use serde_json::{Value, json};

use crate::helpers::{TestApp, dashboard, token_of, unique_name};

/// A script with a token of `app`'s operator `admin`.
struct Script {
    address: String,
    database: String,
    token: String,
    client: reqwest::Client,
}

/// What the API answered.
struct Answer {
    status: u16,
    body: Value,
    text: String,
    set_cookie: bool,
}

impl Script {
    async fn new(app: &TestApp, read_only: bool) -> Self {
        let (_, token) = token_of(&app.state_store(), "admin", read_only).await;
        Self {
            address: app.address.clone(),
            database: app.db.name.clone(),
            token: token.expose().to_owned(),
            client: reqwest::Client::new(),
        }
    }

    fn users(&self) -> String {
        format!("/api/databases/{}/users", self.database)
    }

    fn user(&self, name: &str) -> String {
        format!("{}/{name}", self.users())
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Answer {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        answer(request.send().await.expect("the API answers")).await
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    async fn patch(&self, path: &str, body: Option<Value>) -> Answer {
        self.send(reqwest::Method::PATCH, path, body).await
    }

    async fn delete(&self, path: &str) -> Answer {
        self.send(reqwest::Method::DELETE, path, None).await
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let set_cookie = response.headers().contains_key("set-cookie");
    let text = response.text().await.unwrap();
    Answer {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
        set_cookie,
    }
}

fn new_user(name: &str, read_only: bool, password: Option<&str>) -> Value {
    let mut user =
        json!({"database_id": "whatever-the-client-sends", "name": name, "read_only": read_only});
    if let Some(password) = password {
        user["password"] = json!(password);
        user["password_confirmation"] = json!(password);
    }
    json!({ "database_user": user })
}

#[tokio::test]
async fn the_users_list_has_scalingos_shape_and_marks_the_protected_user() {
    let app = dashboard().start().await;
    let script = Script::new(&app, false).await;

    let list = script.get(&script.users()).await;

    assert_eq!(list.status, 200, "{}", list.text);
    assert!(!list.set_cookie, "no cookie on the API");
    let users = list.body["database-users"]
        .as_array()
        .expect("the hyphenated key");
    let protected = users
        .iter()
        .find(|user| user["name"] == app.db.protected.as_str())
        .expect("the protected user is listed");
    assert_eq!(protected["protected"], true);
    assert_eq!(protected["read_only"], false);
    assert!(protected["dbms_attributes"]["password_encryption"].is_string());
    assert!(protected.get("password").is_none());
}

#[tokio::test]
async fn a_user_created_with_a_chosen_password_logs_in_with_it_and_the_answer_holds_no_password() {
    let app = dashboard().start().await;
    let script = Script::new(&app, false).await;
    let name = unique_name("api_rw");
    let password = crate::helpers::password();

    let created = script
        .post(
            &script.users(),
            new_user(&name, false, Some(password.expose())),
        )
        .await;

    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["database_user"]["name"], name.as_str());
    assert_eq!(created.body["database_user"]["read_only"], false);
    assert_eq!(created.body["database_user"]["protected"], false);
    assert!(created.body["database_user"].get("password").is_none());
    assert!(!created.text.contains(password.expose()));
    let client = app
        .db
        .connect_as(&name, password.expose())
        .await
        .expect("logs in");
    client
        .batch_execute("CREATE TABLE api_made (x int)")
        .await
        .expect("read-write");
}

#[tokio::test]
async fn a_read_only_user_created_without_passwords_gets_one_generated_and_cannot_write() {
    let app = dashboard().start().await;
    let script = Script::new(&app, false).await;
    let name = unique_name("api_ro");

    let created = script
        .post(&script.users(), new_user(&name, true, None))
        .await;

    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["database_user"]["read_only"], true);
    let password = created.body["database_user"]["password"]
        .as_str()
        .expect("generated, shown once");
    assert_eq!(password.len(), 64);
    let client = app.db.connect_as(&name, password).await.expect("logs in");
    let write = client
        .batch_execute("CREATE TABLE public.not_allowed (x int)")
        .await;
    assert!(write.is_err(), "a read-only user cannot create in public");
    let listed = script.get(&script.user(&name)).await;
    assert!(
        listed.body["database_user"].get("password").is_none(),
        "never shown again"
    );
}

#[tokio::test]
async fn invalid_fields_answer_422_with_the_forms_messages_per_field_and_nothing_is_created() {
    let app = dashboard().start().await;
    let script = Script::new(&app, false).await;

    let invalid = script
        .post(
            &script.users(),
            json!({"database_user": {"name": "9bad", "password": "short'", "password_confirmation": "other"}}),
        )
        .await;

    assert_eq!(invalid.status, 422, "{}", invalid.text);
    let errors = &invalid.body["errors"];
    assert!(
        errors["name"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "Username must start with a letter from a to z (or A to Z)."),
        "{}",
        invalid.text
    );
    assert!(
        errors["password"].as_array().unwrap().len() >= 2,
        "{}",
        invalid.text
    );
    assert!(
        errors["password_confirmation"].as_array().unwrap().len() == 1,
        "{}",
        invalid.text
    );
    assert!(
        !invalid.text.contains("short'"),
        "never a password in an error"
    );
    assert!(!app.db.role_exists("9bad").await);
}

#[tokio::test]
async fn a_field_longer_than_any_valid_value_answers_413_naming_it_and_nothing_is_created() {
    let app = dashboard().start().await;
    let script = Script::new(&app, false).await;
    // 10 KB in a 12 KB body: within the body limit, far past any name.
    let name = format!("{}{}", unique_name("huge"), "a".repeat(10 * 1024));
    let password = "p".repeat(1500);

    let created = script
        .post(&script.users(), new_user(&name, false, Some(&password)))
        .await;
    let searched = script
        .get(&format!("{}?q={}", script.users(), "a".repeat(10 * 1024)))
        .await;

    assert_eq!(created.status, 413, "{}", created.text);
    let message = created.body["error"].as_str().unwrap_or_default();
    assert!(
        message.contains("\"name\"") || message.contains("\"password"),
        "{}",
        created.text
    );
    assert!(!created.text.contains(&password[..100]), "never a password");
    assert!(!app.db.role_exists(&name[..63]).await);
    assert_eq!(searched.status, 413, "{}", searched.text);
    assert!(
        searched.body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("\"q\""),
        "{}",
        searched.text
    );
}

#[tokio::test]
async fn malformed_bodies_answer_400_without_quoting_them() {
    let app = dashboard().start().await;
    let script = Script::new(&app, false).await;
    let secret = "a-password-in-the-wrong-place-1234";

    let not_json = script
        .client
        .post(format!("{}{}", script.address, script.users()))
        .bearer_auth(&script.token)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let wrong_type = script
        .post(
            &script.users(),
            json!({"database_user": {"name": "api_typed", "read_only": secret}}),
        )
        .await;
    let missing = script.post(&script.users(), json!({"user": {}})).await;
    let huge = script
        .post(
            &script.users(),
            json!({"database_user": {"name": "x".repeat(20 * 1024)}}),
        )
        .await;

    assert_eq!(answer(not_json).await.status, 400);
    assert_eq!(wrong_type.status, 400, "{}", wrong_type.text);
    assert!(!wrong_type.text.contains(secret), "{}", wrong_type.text);
    assert!(
        wrong_type.body["error"]
            .as_str()
            .unwrap()
            .contains("wrong type")
    );
    assert_eq!(missing.status, 400);
    assert!(
        missing.text.contains("missing field `database_user`"),
        "{}",
        missing.text
    );
    assert_eq!(huge.status, 413, "{}", huge.text);
    assert!(
        huge.body["error"]
            .as_str()
            .unwrap()
            .contains("larger than 16 KiB")
    );
}

#[tokio::test]
async fn patch_sets_a_chosen_password_and_reset_password_generates_one_by_post_or_patch() {
    let app = dashboard().start().await;
    let script = Script::new(&app, false).await;
    let name = unique_name("api_pw");
    let first = crate::helpers::password();
    script
        .post(
            &script.users(),
            new_user(&name, false, Some(first.expose())),
        )
        .await;
    let chosen = crate::helpers::password();

    let updated = script
        .patch(
            &script.user(&name),
            Some(json!({"database_user": {"password": chosen.expose(), "password_confirmation": chosen.expose()}})),
        )
        .await;
    let by_post = script
        .post(&format!("{}/reset_password", script.user(&name)), json!({}))
        .await;
    let by_patch = script
        .patch(&format!("{}/reset_password", script.user(&name)), None)
        .await;

    assert_eq!(updated.status, 200, "{}", updated.text);
    assert!(updated.body["database_user"].get("password").is_none());
    assert_eq!(by_post.status, 200, "{}", by_post.text);
    assert_eq!(by_patch.status, 200, "{}", by_patch.text);
    let (posted, patched) = (
        by_post.body["database_user"]["password"].as_str().unwrap(),
        by_patch.body["database_user"]["password"].as_str().unwrap(),
    );
    assert_ne!(posted, patched);
    assert!(
        app.db.connect_as(&name, patched).await.is_ok(),
        "the last one works"
    );
    assert!(app.db.connect_as(&name, posted).await.is_err());
    assert!(app.db.connect_as(&name, chosen.expose()).await.is_err());
}

#[tokio::test]
async fn delete_answers_204_moves_what_the_user_owned_and_a_second_delete_answers_404() {
    let app = dashboard().start().await;
    let script = Script::new(&app, false).await;
    let name = unique_name("api_del");
    let password = crate::helpers::password();
    script
        .post(
            &script.users(),
            new_user(&name, false, Some(password.expose())),
        )
        .await;
    let table = unique_name("api_kept");
    let client = app.db.connect_as(&name, password.expose()).await.unwrap();
    client
        .batch_execute(&format!("CREATE TABLE {table} (x int)"))
        .await
        .unwrap();
    drop(client);

    let deleted = script.delete(&script.user(&name)).await;
    let again = script.delete(&script.user(&name)).await;

    assert_eq!(deleted.status, 204, "{}", deleted.text);
    assert!(!app.db.role_exists(&name).await);
    assert_eq!(app.db.table_owner(&table).await, app.db.protected);
    assert_eq!(again.status, 404);
    assert!(
        again.body["error"]
            .as_str()
            .unwrap()
            .contains("does not exist")
    );
}

#[tokio::test]
async fn the_protected_user_and_an_existing_name_answer_409() {
    let app = dashboard().start().await;
    let script = Script::new(&app, false).await;
    let protected = app.db.protected.clone();

    let deleted = script.delete(&script.user(&protected)).await;
    let reset = script
        .post(
            &format!("{}/reset_password", script.user(&protected)),
            json!({}),
        )
        .await;
    let name = unique_name("api_twice");
    script
        .post(&script.users(), new_user(&name, false, None))
        .await;
    let twice = script
        .post(&script.users(), new_user(&name, false, None))
        .await;

    assert_eq!(deleted.status, 409, "{}", deleted.text);
    assert!(
        deleted.body["error"]
            .as_str()
            .unwrap()
            .contains("protected")
    );
    assert_eq!(reset.status, 409);
    assert!(app.db.role_exists(&protected).await);
    assert_eq!(twice.status, 409);
    assert!(
        twice.body["error"]
            .as_str()
            .unwrap()
            .contains("already exists")
    );
}

#[tokio::test]
async fn unknown_databases_users_and_endpoints_answer_404_in_json() {
    let app = dashboard().start().await;
    let script = Script::new(&app, false).await;

    let database = script.get("/api/databases/no_such_database/users").await;
    let user = script.get(&script.user("no_such_user_here")).await;
    let odd_name = script.get(&script.user("%0Abad")).await;
    let endpoint = script.get("/api/nothing_here").await;

    for answer in [&database, &user, &odd_name, &endpoint] {
        assert_eq!(answer.status, 404, "{}", answer.text);
        assert!(answer.body["error"].is_string(), "{}", answer.text);
    }
}

#[tokio::test]
async fn no_token_a_wrong_one_or_a_revoked_one_answers_401_and_a_read_only_token_only_lists() {
    let app = dashboard().start().await;
    let script = Script::new(&app, false).await;
    let reader = Script::new(&app, true).await;
    let client = reqwest::Client::new();
    let url = format!("{}{}", script.address, script.users());

    let none = answer(client.get(&url).send().await.unwrap()).await;
    let cookie_only = answer(
        client
            .get(&url)
            .header("Cookie", "pgusers_session=x")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let mut wrong = script.token.clone();
    wrong.pop();
    wrong.push(if script.token.ends_with('a') {
        'b'
    } else {
        'a'
    });
    let mistyped = answer(client.get(&url).bearer_auth(&wrong).send().await.unwrap()).await;
    let listed = reader.get(&reader.users()).await;
    let refused = reader
        .post(
            &reader.users(),
            new_user(&unique_name("api_ro_tok"), false, None),
        )
        .await;
    let id = script.token.split('_').nth(1).unwrap().to_owned();
    app.state_store()
        .revoke_token(&pgusers::domain::TokenId::parse(&id).unwrap())
        .await
        .unwrap();
    let revoked = script.get(&script.users()).await;

    for answer in [&none, &cookie_only, &mistyped, &revoked] {
        assert_eq!(answer.status, 401, "{}", answer.text);
        assert!(answer.body["error"].is_string());
    }
    assert_eq!(listed.status, 200);
    assert_eq!(refused.status, 403, "{}", refused.text);
    assert!(
        refused.body["error"]
            .as_str()
            .unwrap()
            .contains("read-only")
    );
}

/// Every endpoint of the route table, with a read-only token: each change
/// is refused before it runs (the user is untouched: it still logs in with
/// its password, and keeps its limits), each read answers.
#[tokio::test]
async fn a_read_only_token_is_refused_every_change_in_the_route_table_and_allowed_every_read() {
    use pgusers::web::{ApiEffect, api_endpoints};

    let app = dashboard().start().await;
    let reader = Script::new(&app, true).await;
    let (user, password) = app
        .db
        .create_user("api_ro_all", pgusers::roles::Access::ReadWrite)
        .await;
    let endpoints = api_endpoints();
    assert!(
        endpoints.iter().any(|e| e.effect == ApiEffect::Change)
            && endpoints.iter().any(|e| e.effect == ApiEffect::Read)
    );

    for endpoint in endpoints {
        let path = format!("/api{}", endpoint.path)
            .replace("{id}", &reader.database)
            .replace("{name}", user.as_str());
        let method = reqwest::Method::from_bytes(endpoint.method.as_str().as_bytes()).unwrap();
        let body = (endpoint.effect == ApiEffect::Change).then(
            || json!({"database_user": {"name": unique_name("api_ro_new"), "connection_limit": 1}}),
        );
        let answered = reader.send(method, &path, body).await;
        let what = format!("{} {path}: {}", endpoint.method, answered.text);
        match endpoint.effect {
            ApiEffect::Change => {
                assert_eq!(answered.status, 403, "{what}");
                assert!(
                    answered.body["error"]
                        .as_str()
                        .is_some_and(|e| e.contains("read-only")),
                    "{what}"
                );
            }
            ApiEffect::Read => assert_eq!(answered.status, 200, "{what}"),
        }
    }

    app.db
        .connect_as(user.as_str(), password.expose())
        .await
        .expect("nothing changed the user's password, nor deleted it");
    let limit: i32 = app
        .db
        .admin()
        .await
        .query_one(
            "SELECT rolconnlimit FROM pg_roles WHERE rolname = $1",
            &[&user.as_str()],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(limit, -1, "its limits are unchanged");
}

#[tokio::test]
async fn the_databases_list_says_ids_names_state_and_how_pgusers_connects_but_not_where() {
    let app = dashboard().start().await;
    let script = Script::new(&app, true).await;

    let list = script.get("/api/databases").await;

    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(
        list.body,
        json!({"databases": [{
            "id": app.db.name,
            "name": app.db.name,
            "state": "ok",
            "connection": {"encrypted": false, "verified": "none", "summary": "socket"}
        }]})
    );
}

#[tokio::test]
async fn changes_through_the_api_are_recorded_with_source_api_and_the_tokens_operator() {
    let app = dashboard().start().await;
    let script = Script::new(&app, false).await;
    let name = unique_name("api_audit");

    script
        .post(&script.users(), new_user(&name, false, None))
        .await;

    let entries = app
        .state_store()
        .audit_entries(0, 10)
        .await
        .unwrap()
        .entries;
    let entry = entries
        .iter()
        .find(|entry| entry.target.as_deref() == Some(name.as_str()))
        .expect("recorded");
    assert_eq!(entry.source, "api");
    assert_eq!(entry.actor, "admin");
    assert_eq!(entry.database.as_deref(), Some(app.db.name.as_str()));
    assert_eq!(entry.outcome, "ok");
}

#[tokio::test]
async fn the_openapi_document_lists_every_endpoint_and_its_bearer_security() {
    let app = dashboard().start().await;

    let document = answer(
        reqwest::get(format!("{}/api/openapi.json", app.address))
            .await
            .unwrap(),
    )
    .await;

    assert_eq!(document.status, 200);
    assert!(document.body["openapi"].as_str().unwrap().starts_with("3."));
    let paths = document.body["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/api/databases", &["get"][..]),
        ("/api/databases/{id}/users", &["get", "post"]),
        (
            "/api/databases/{id}/users/{name}",
            &["get", "patch", "delete"],
        ),
        (
            "/api/databases/{id}/users/{name}/reset_password",
            &["post", "patch"],
        ),
    ] {
        for method in methods {
            assert!(paths[path].get(*method).is_some(), "{method} {path}");
        }
    }
    assert_eq!(
        document.body["components"]["securitySchemes"]["token"]["scheme"],
        "bearer"
    );
    let create = &paths["/api/databases/{id}/users"]["post"]["responses"];
    for status in ["201", "400", "401", "403", "404", "409", "422", "503"] {
        assert!(
            create.get(status).is_some(),
            "POST users documents {status}"
        );
    }
    let delete = &paths["/api/databases/{id}/users/{name}"]["delete"]["responses"];
    let statuses: Vec<&String> = delete.as_object().unwrap().keys().collect();
    assert_eq!(statuses, ["204", "401", "403", "404", "409", "503"]);
}

/// The names in a list answer, in order.
fn names(body: &Value) -> Vec<String> {
    body["database-users"]
        .as_array()
        .expect("a list of users")
        .iter()
        .map(|user| user["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_page_of_the_list_carries_scalingos_pagination_meta_and_no_page_keeps_the_plain_shape() {
    let app = dashboard().start().await;
    let script = Script::new(&app, true).await;
    let prefix = unique_name("apipage");
    let made: Vec<String> = (0..5).map(|i| format!("{prefix}_{i}")).collect();
    let statements: String = made
        .iter()
        .map(|name| format!("CREATE ROLE {name} LOGIN;"))
        .collect();
    app.db
        .admin()
        .await
        .batch_execute(&statements)
        .await
        .unwrap();
    let users = script.users();

    let all = script.get(&format!("{users}?q={prefix}")).await;
    let first = script
        .get(&format!(
            "{users}?q={}&page=1&per_page=2",
            prefix.to_uppercase()
        ))
        .await;
    let last = script
        .get(&format!("{users}?q={prefix}&page=3&per_page=2"))
        .await;
    let past = script
        .get(&format!("{users}?q={prefix}&page=9&per_page=2"))
        .await;

    assert_eq!(all.status, 200, "{}", all.text);
    assert_eq!(names(&all.body), made);
    assert!(
        all.body.get("meta").is_none(),
        "no page asked, Scalingo's plain shape"
    );
    assert_eq!(names(&first.body), made[..2].to_vec());
    assert_eq!(
        first.body["meta"]["pagination"],
        json!({"prev_page": null, "current_page": 1, "next_page": 2, "total_pages": 3, "total_count": 5})
    );
    assert_eq!(names(&last.body), made[4..].to_vec());
    assert_eq!(
        last.body["meta"]["pagination"],
        json!({"prev_page": 2, "current_page": 3, "next_page": null, "total_pages": 3, "total_count": 5})
    );
    assert_eq!(past.status, 200);
    assert!(names(&past.body).is_empty());
    assert_eq!(
        past.body["meta"]["pagination"]["prev_page"],
        json!(3),
        "back to the last page"
    );
}

#[tokio::test]
async fn the_list_filters_by_access_and_refuses_a_wrong_page_size_or_filter_with_422() {
    let app = dashboard().start().await;
    let script = Script::new(&app, true).await;
    let (reader, _) = app
        .db
        .create_user("apiro", pgusers::roles::Access::ReadOnly)
        .await;
    let users = script.users();

    let read_only = script
        .get(&format!("{users}?q={reader}&show=read-only"))
        .await;
    let read_write = script
        .get(&format!("{users}?q={reader}&show=read-write"))
        .await;
    let protected = script
        .get(&format!("{users}?q={}&show=protected", app.db.protected))
        .await;

    assert_eq!(names(&read_only.body), vec![reader.to_string()]);
    assert!(names(&read_write.body).is_empty());
    assert_eq!(names(&protected.body), vec![app.db.protected.clone()]);
    for (query, field) in [
        ("page=0", "page"),
        ("page=x", "page"),
        ("page=1&per_page=0", "per_page"),
        ("page=1&per_page=1001", "per_page"),
        ("per_page=10", "per_page"),
        ("show=admins", "show"),
    ] {
        let answer = script.get(&format!("{users}?{query}")).await;
        assert_eq!(answer.status, 422, "{query}: {}", answer.text);
        assert!(
            answer.body["errors"][field].is_array(),
            "{query}: {}",
            answer.text
        );
    }
    let twice = script.get(&format!("{users}?page=1&page=2")).await;
    assert_eq!(twice.status, 400, "{}", twice.text);
    assert_eq!(
        twice.body["error"], "The query cannot be read: \"page\" is given twice: give it once.",
        "in words, not serde's"
    );
    app.log_in().await;
    let page = app.get(&app.users("?q=a&q=b")).await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(
        page.body
            .contains("&#34;q&#34; is given twice: give it once")
            && !page.body.contains("deserialize"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn generated_passwords_are_answered_though_the_audit_entry_fails_and_the_answer_is_the_users_state()
 {
    let app = dashboard().start().await;
    let script = Script::new(&app, false).await;
    let name = unique_name("api_after");
    app.state_admin()
        .await
        .batch_execute(
            "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS
               $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
             CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log
               FOR EACH ROW EXECUTE FUNCTION refuse_audit();",
        )
        .await
        .unwrap();

    let created = script
        .post(&script.users(), new_user(&name, true, None))
        .await;
    let reset = script
        .post(&format!("{}/reset_password", script.user(&name)), json!({}))
        .await;
    let updated = script
        .patch(&script.user(&name), Some(json!({"database_user": {}})))
        .await;
    let shown = script.get(&script.user(&name)).await;

    for (answer, status) in [(&created, 201), (&reset, 200), (&updated, 200)] {
        assert_eq!(answer.status, status, "{}", answer.text);
        let mut user = answer.body["database_user"].clone();
        let password = user.as_object_mut().unwrap().remove("password");
        let password = password.unwrap().as_str().unwrap().to_owned();
        assert_eq!(password.len(), 64);
        // Shown once, with the password: only in the answer that made it.
        let uri = user.as_object_mut().unwrap().remove("connection_uri");
        assert!(
            uri.unwrap()
                .as_str()
                .unwrap()
                .starts_with(&format!("postgresql://{name}:{password}@"))
        );
        assert_eq!(
            user, shown.body["database_user"],
            "the answer says what the user is"
        );
    }
    assert_eq!(created.body["database_user"]["read_only"], true);
    let last = updated.body["database_user"]["password"].as_str().unwrap();
    app.db.connect_as(&name, last).await.expect("logs in");
    let recorded: i64 = app
        .state_admin()
        .await
        .query_one("SELECT count(*) FROM audit_log WHERE source = 'api'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(recorded, 0, "the state database did refuse to record them");
}
