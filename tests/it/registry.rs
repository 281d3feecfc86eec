//! Several databases in one dashboard and one CLI: the registry.

use std::io::Write;

use pgusers::domain::DatabaseId;
use pgusers::registry::{ManagedDatabase, Registry};
use pgusers::roles::RoleManager;

use crate::helpers::{
    Browser, OwnCluster, TestDb, dashboard, pgusers_binary, state_of, test_db, unique_name,
};

fn managed(id: &str, name: &str, roles: RoleManager) -> ManagedDatabase {
    ManagedDatabase {
        id: DatabaseId::parse(id).unwrap(),
        name: name.to_owned(),
        roles,
    }
}

/// Adds a user through the dashboard's form on database `id`'s pages.
async fn add_user(browser: &Browser, id: &str, name: &str) -> u16 {
    let users = format!("/databases/{id}/settings/database-users");
    let page = browser
        .submit(
            &format!("{users}/new"),
            &users,
            &[
                ("username", name),
                ("password", ""),
                ("password_confirmation", ""),
            ],
        )
        .await;
    page.status
}

async fn role_exists_on(config: &tokio_postgres::Config, name: &str) -> bool {
    let client = pgusers::db::connect(config).await.expect("connects");
    client
        .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&name])
        .await
        .unwrap()
        .is_some()
}

#[tokio::test]
async fn two_databases_on_two_servers_are_managed_at_once_and_one_stopped_leaves_the_other_working()
{
    let db = test_db().await;
    // Stopped when dropped, also when an assertion fails first.
    let mut other = OwnCluster::start().await;
    let other_admin = other.server();
    let (state, _, operator_password) = state_of(&db).await;
    let (_, token) = crate::helpers::token_of(&state, "admin", true).await;
    let databases = Registry::new(vec![
        managed(
            "first",
            "First <shared server>",
            RoleManager::new(db.roles_config(), 2, None),
        ),
        managed(
            "second",
            "Second",
            RoleManager::new(other_admin.clone(), 2, None),
        ),
    ]);
    let browser = dashboard().tune(|_| {}).serve(databases, state).await;
    assert_eq!(browser.log_in_with(&operator_password).await.status, 303);
    let (on_first, on_second) = (unique_name("reg_first"), unique_name("reg_second"));

    assert_eq!(add_user(&browser, "first", &on_first).await, 200);
    assert_eq!(add_user(&browser, "second", &on_second).await, 200);
    assert!(role_exists_on(&db.admin_config(), &on_first).await);
    assert!(!role_exists_on(&db.admin_config(), &on_second).await);
    assert!(role_exists_on(&other_admin, &on_second).await);
    assert!(!role_exists_on(&other_admin, &on_first).await);
    let home = browser.get("/").await.body;
    assert!(
        home.contains("<a href=\"/databases/first\">First &#60;shared server&#62;</a>"),
        "{home}"
    );
    assert!(
        home.contains("<a href=\"/databases/second\">Second</a>"),
        "{home}"
    );
    assert!(!home.contains("unreachable"), "{home}");

    other.stop().await;

    let home = browser.get("/").await;
    assert_eq!(home.status, 200, "the home still answers");
    let second_row = home.body.split("data-database=\"second\"").nth(1).unwrap();
    assert!(second_row.contains("unreachable"), "{}", home.body);
    let first_row = home.body.split("data-database=\"first\"").nth(1).unwrap();
    let first_row = first_row.split("</tr>").next().unwrap();
    assert!(
        first_row.contains("reachable") && !first_row.contains("unreachable"),
        "{first_row}"
    );
    let later = unique_name("reg_later");
    assert_eq!(
        add_user(&browser, "first", &later).await,
        200,
        "the first still works"
    );
    assert!(role_exists_on(&db.admin_config(), &later).await);
    let down = browser
        .get("/databases/second/settings/database-users")
        .await;
    assert_eq!(down.status, 503);
    assert!(
        down.body.contains("The database is unavailable right now"),
        "{}",
        down.body
    );
    assert!(
        down.body
            .contains("<a href=\"/databases/second/settings\">Settings</a>"),
        "the page keeps the stopped database's tabs: {}",
        down.body
    );
    let api = |path: &str| {
        browser
            .client
            .get(format!("{}{path}", browser.address))
            .bearer_auth(token.expose())
            .send()
    };
    let api_down = api("/api/databases/second/users").await.unwrap();
    assert_eq!(api_down.status(), 503);
    let api_down: serde_json::Value = api_down.json().await.unwrap();
    let said = api_down["error"].as_str().unwrap();
    assert!(said.starts_with("The database is unavailable"), "{said}");
    let port = other_admin.get_ports()[0].to_string();
    assert!(
        !said.contains(&port),
        "no connection detail for a token: {said}"
    );
    assert_eq!(
        api("/api/databases/first/users").await.unwrap().status(),
        200
    );
    let states: serde_json::Value = api("/api/databases").await.unwrap().json().await.unwrap();
    assert_eq!(states["databases"][0]["state"], "ok");
    assert_eq!(states["databases"][1]["state"], "unreachable");
    let health = browser.get("/healthz").await;
    assert_eq!(health.status, 503);
    assert!(
        health.body.contains("1 of 2 databases cannot be used"),
        "{}",
        health.body
    );
    // A load balancer keeps routing here: every replica would say the same.
    let ready = browser.get("/readyz").await;
    assert_eq!((ready.status, ready.body.as_str()), (200, "ok\n"));
}

#[tokio::test]
async fn a_form_made_for_one_database_does_not_act_on_another() {
    let db = test_db().await;
    let (state, _, operator_password) = state_of(&db).await;
    let databases = Registry::new(vec![
        managed("one", "One", RoleManager::new(db.roles_config(), 2, None)),
        managed("two", "Two", RoleManager::new(db.roles_config(), 2, None)),
    ]);
    let browser = dashboard().tune(|_| {}).serve(databases, state).await;
    assert_eq!(browser.log_in_with(&operator_password).await.status, 303);
    let name = unique_name("reg_cross");

    let form = browser
        .get("/databases/one/settings/database-users/new")
        .await
        .body;
    let posted = browser
        .post(
            "/databases/two/settings/database-users",
            &[
                ("csrf_token", crate::helpers::csrf_token(&form).as_str()),
                ("form_id", crate::helpers::form_id(&form).unwrap().as_str()),
                ("username", name.as_str()),
                ("password", ""),
                ("password_confirmation", ""),
            ],
        )
        .await;

    assert_eq!(posted.status, 403, "{}", posted.body);
    assert!(!role_exists_on(&db.admin_config(), &name).await);
}

/// A registry file naming `databases` (ID, connection string), and a
/// database on a port nothing listens on, as a stopped server.
fn registry_file(databases: &[(&str, String)]) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    for (id, url) in databases {
        writeln!(file, "[[database]]\nid = \"{id}\"\nurl = \"{url}\"\n").unwrap();
    }
    file.flush().unwrap();
    file
}

fn cli_with(file: &tempfile::NamedTempFile, state_of: &TestDb) -> assert_cmd::Command {
    let mut command = assert_cmd::Command::from_std(pgusers_binary());
    command
        .env("PGUSERS_CONFIG", file.path())
        .env("PGUSERS_STATE_URL", state_of.state_url());
    command
}

/// A port on loopback that nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn the_cli_works_on_the_database_its_id_names_and_lists_them_all_with_the_down_one() {
    let (alpha, beta) = (test_db().await, test_db().await);
    let secret = "s3cret-never-shown";
    let down = format!(
        "host=127.0.0.1 port={} user=nobody password={secret} dbname=gone connect_timeout=2",
        closed_port()
    );
    let file = registry_file(&[
        ("alpha", alpha.database_url()),
        ("beta", beta.database_url()),
        ("gamma", down),
    ]);
    let reader = unique_name("reg_reader");

    let listed = cli_with(&file, &alpha).arg("databases").output().unwrap();
    let created = cli_with(&file, &alpha)
        .args([
            "--database",
            "beta",
            "database-users-create",
            "--read-only",
            "--password-stdin",
        ])
        .arg(&reader)
        .write_stdin("\n")
        .output()
        .unwrap();
    let unnamed = cli_with(&file, &alpha)
        .arg("database-users-list")
        .output()
        .unwrap();
    let stateless = cli_with(&file, &alpha)
        .env_remove("PGUSERS_STATE_URL")
        .arg("database-users-list")
        .output()
        .unwrap();
    let unknown = cli_with(&file, &alpha)
        .args(["--database", "delta", "database-users-list"])
        .output()
        .unwrap();

    let stdout = String::from_utf8(listed.stdout).unwrap();
    let stderr = String::from_utf8(listed.stderr).unwrap();
    assert_eq!(
        listed.status.code(),
        Some(4),
        "one is down: {stdout}{stderr}"
    );
    let row = |id: &str| {
        stdout
            .lines()
            .find(|line| line.starts_with(&format!("| {id} ")))
            .unwrap_or_else(|| panic!("{id} is listed: {stdout}"))
            .to_owned()
    };
    assert!(row("alpha").contains("| ok "), "{stdout}");
    assert!(
        row("beta").contains(&format!("| {} ", beta.protected)),
        "{stdout}"
    );
    assert!(row("gamma").contains("| unreachable "), "{stdout}");
    assert!(stderr.contains("Database \"gamma\":"), "{stderr}");
    assert!(!stdout.contains(secret) && !stderr.contains(secret));
    assert_eq!(
        created.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let admin = beta.admin().await;
    let groups: Vec<String> = admin
        .query(
            "SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
              JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1
              ORDER BY 1",
            &[&reader],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(
        groups,
        vec![
            format!("pgusers-readonly-{}", beta.name),
            format!("pgusers-users-{}", beta.name)
        ],
        "read-only in beta, made for beta, nothing in alpha"
    );
    assert_eq!(unnamed.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&unnamed.stderr)
            .contains("pgusers manages 3 databases: say which with --database <ID> (one of alpha, beta, gamma)."),
        "{}",
        String::from_utf8_lossy(&unnamed.stderr)
    );
    assert_eq!(stateless.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&stateless.stderr).contains("set PGUSERS_STATE_URL"),
        "several databases need a state of their own: {}",
        String::from_utf8_lossy(&stateless.stderr)
    );
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("There is no database with ID \"delta\"")
    );
}

#[tokio::test]
async fn a_registry_file_with_database_url_too_or_one_that_does_not_parse_is_refused_without_its_secrets()
 {
    let db = test_db().await;
    let file = registry_file(&[("alpha", db.database_url())]);
    let mut broken = tempfile::NamedTempFile::new().unwrap();
    write!(
        broken,
        "[[database]]\nid = \"x\"\nurl = \"postgres://u:s3cret@h/db\"\nport = 1\n"
    )
    .unwrap();

    let both = cli_with(&file, &db)
        .env("DATABASE_URL", db.database_url())
        .arg("database-users-list")
        .output()
        .unwrap();
    let malformed = cli_with(&broken, &db)
        .arg("database-users-list")
        .output()
        .unwrap();

    assert_eq!(both.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&both.stderr).contains(
        "DATABASE_URL, PGUSERS_PROTECTED_USER, PGUSERS_PUBLIC_HOST and PGUSERS_CLIENT_SSLMODE \
         must not be set with it"
    ));
    let said = String::from_utf8_lossy(&malformed.stderr);
    assert_eq!(malformed.status.code(), Some(2), "{said}");
    assert!(said.contains(", line 4: unknown field `port`"), "{said}");
    assert!(!said.contains("s3cret"), "{said}");
}
