//! The connection URI shown once with a generated password, and where it
//! says clients connect (`PGUSERS_PUBLIC_HOST`).

use serde_json::{Value, json};
use tokio_postgres::{Config, NoTls};

use crate::cli::{cli, run};
use crate::dashboard::shown_password;
use crate::helpers::{dashboard, test_db, token_of, username};

/// The value of the read-only field `id` on a page.
fn field(html: &str, id: &str) -> String {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("the page has #{id}"));
    let value = html[start..].find("value=\"").unwrap() + start + 7;
    let end = value + html[value..].find('"').unwrap();
    html[value..end].replace("&#38;", "&").replace("&amp;", "&")
}

/// Logs in with a connection URI, as an application given it would.
async fn logs_in_with(uri: &str) -> bool {
    let config: Config = uri.parse().expect("a connection URI libpq would read");
    match config.connect(NoTls).await {
        Ok((client, connection)) => {
            tokio::spawn(connection);
            client.batch_execute("SELECT 1").await.is_ok()
        }
        Err(_) => false,
    }
}

#[tokio::test]
async fn a_generated_password_comes_with_a_connection_uri_that_logs_in_shown_once() {
    let app = dashboard().start().await;
    app.log_in().await;
    let name = username("uri").to_string();
    let port = app.db.login_config("x", "y").get_ports()[0];

    let created = app
        .submit(&app.users("/new"), &app.users(""), &[("username", &name)])
        .await;
    let password = shown_password(&created.body);
    let uri = field(&created.body, "connection-uri");
    let reset = app
        .submit(
            &app.users(&format!("/{name}/reset")),
            &app.users(&format!("/{name}/reset")),
            &[],
        )
        .await;
    let new_password = shown_password(&reset.body);
    let new_uri = field(&reset.body, "connection-uri");

    // The host is where pgusers connects here: the test cluster's socket.
    assert!(
        uri.starts_with(&format!("postgresql://{name}:{password}@"))
            && uri.ends_with(&format!(":{port}/{}", app.db.name)),
        "{uri}"
    );
    assert!(new_uri.contains(&format!(":{new_password}@")), "{new_uri}");
    assert!(
        !logs_in_with(&uri).await,
        "the reset replaced the first password"
    );
    assert!(logs_in_with(&new_uri).await);
    let list = app.get(&app.users("")).await;
    assert!(!list.body.contains(&new_uri) && !list.body.contains(&new_password));
}

#[tokio::test]
async fn the_api_gives_a_connection_uri_with_a_generated_password_only() {
    let app = dashboard().start().await;
    let (_, token) = token_of(&app.state_store(), "admin", false).await;
    let users = format!("{}/api/databases/{}/users", app.address, app.db.name);
    let http = reqwest::Client::new();
    let generated = username("apiuri").to_string();
    let chosen = username("apiuri").to_string();
    let secret = "chosen-password-0123456789-abcdef";

    let with: Value = http
        .post(&users)
        .bearer_auth(token.expose())
        .json(&json!({"database_user": {"name": generated}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let without: Value = http
        .post(&users)
        .bearer_auth(token.expose())
        .json(&json!({"database_user": {"name": chosen, "password": secret, "password_confirmation": secret}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let uri = with["database_user"]["connection_uri"].as_str().unwrap();
    let password = with["database_user"]["password"].as_str().unwrap();
    assert!(uri.starts_with(&format!("postgresql://{generated}:{password}@")));
    assert!(logs_in_with(uri).await);
    assert_eq!(without["database_user"].get("connection_uri"), None);
    assert_eq!(without["database_user"].get("password"), None);
}

#[tokio::test]
async fn pgusers_public_host_is_where_connection_urls_say_clients_connect() {
    let db = test_db().await;

    let shown = run(
        cli(&db)
            .env("PGUSERS_PUBLIC_HOST", "db.example.com:6543")
            .args(["databases"]),
        "",
    );
    let host_only = run(
        cli(&db)
            .env("PGUSERS_PUBLIC_HOST", "[2001:db8::7]")
            .args(["databases"]),
        "",
    );
    let wrong = run(
        cli(&db)
            .env("PGUSERS_PUBLIC_HOST", "db.example.com:http")
            .args(["databases"]),
        "",
    );

    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert!(
        shown.stdout.contains(&format!(
            "Connection URL (add the password): postgresql://{}@db.example.com:6543/{}",
            db.protected, db.name
        )),
        "{}",
        shown.stdout
    );
    let port = db.login_config("x", "y").get_ports()[0];
    assert!(
        host_only
            .stdout
            .contains(&format!("@[2001:db8::7]:{port}/")),
        "the port stays the server's: {}",
        host_only.stdout
    );
    assert_eq!(wrong.code, 2);
    assert!(
        wrong
            .stderr
            .contains("PGUSERS_PUBLIC_HOST: the public port must be a number from 1 to 65535."),
        "{}",
        wrong.stderr
    );
}
