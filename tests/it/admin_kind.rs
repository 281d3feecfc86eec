//! Which kind of administrator pgusers runs as, said wherever a person
//! looks (the Overview, `pgusers databases`), why password encryption
//! is "unknown" to a non-superuser administrator, and how the dashboard
//! tells of a privilege such an administrator lacks.

use assert_cmd::Command;
use pgusers::roles::{Access, RoleManager};
use pgusers::state::{StateSettings, StateStore};
use postgres_protocol::escape::escape_identifier;
use tokio_postgres::Config;

use crate::helpers::{
    Browser, TestDb, cluster, conninfo, createrole_admin, csrf_token, dashboard, form_id, password,
    test_db, unique_name,
};

/// The dashboard over `db`, connecting to it as `admin`; its state lives
/// on the shared cluster, as the superuser's.
async fn dashboard_as(db: &TestDb, admin: Config) -> Browser {
    let operator_password = unique_name("operator");
    let state = StateStore::new(StateSettings {
        config: cluster().admin_config(&format!("{}_state", db.name)).into(),
        create_with: Some(cluster().admin_config("postgres").into()),
        admin_password: Some(pgusers::domain::OperatorPassword::parse(&operator_password).unwrap()),
        announce: pgusers::notice::Announce::Stdout,
        bootstrap_operator: true,
    });
    state.ensure_ready().await.expect("the state database");
    let browser = dashboard()
        .serve_one(&db.name, RoleManager::new(admin, 2, None), state)
        .await;
    let login = browser.log_in_with(&operator_password).await;
    assert_eq!(login.status, 303, "{}", login.body);
    browser
}

/// The server's major version, asked of PostgreSQL itself.
async fn major_version(db: &TestDb) -> i32 {
    let row = db
        .admin()
        .await
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .await
        .unwrap();
    row.get::<_, i32>(0) / 10_000
}

/// `pgusers` with only the settings the test gives it.
fn pgusers(database_url: &str) -> Command {
    let mut command = Command::from_std(crate::helpers::pgusers_binary());
    command.env("DATABASE_URL", database_url);
    command
}

/// A key=value DATABASE_URL for a TCP configuration with a password.
fn tcp_url(config: &Config) -> String {
    format!(
        "host=127.0.0.1 port={} user={} password={} dbname={}",
        config.get_ports()[0],
        config.get_user().unwrap(),
        config_password(config),
        config.get_dbname().unwrap()
    )
}

fn superuser_name() -> String {
    cluster()
        .admin_config("postgres")
        .get_user()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_overview_says_the_administrator_is_a_superuser() {
    let db = test_db().await;
    let browser = dashboard_as(&db, db.admin_config()).await;

    let overview = browser.get(&browser.database_page("")).await;

    assert_eq!(overview.status, 200);
    assert!(
        overview.body.contains(&format!(
            "<dt>Administrator</dt><dd id=\"administrator\">&#34;{}&#34;, a superuser, on PostgreSQL ",
            superuser_name()
        )),
        "{}",
        overview.body
    );
    assert!(!overview.body.contains("ADMIN OPTION"));
    assert!(!overview.body.contains("pg_authid"));
}

#[tokio::test]
async fn databases_says_the_administrator_is_a_superuser() {
    let db = test_db().await;

    let output = pgusers(&conninfo(&db.admin_config()))
        .arg("databases")
        .output()
        .unwrap();

    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{stdout}");
    let last = stdout.lines().last().unwrap();
    assert!(
        last.starts_with(&format!(
            "Administrator: \"{}\", a superuser, on PostgreSQL ",
            superuser_name()
        )),
        "{stdout}"
    );
}

#[tokio::test]
async fn the_overview_names_a_createrole_administrator_and_what_its_version_lets_it_manage() {
    let db = test_db().await;
    let (master, config) = createrole_admin(&db, "").await;
    let browser = dashboard_as(&db, config).await;

    let overview = browser.get(&browser.database_page("")).await;

    assert_eq!(overview.status, 200, "{}", overview.body);
    assert!(
        overview.body.contains(&format!(
            "&#34;{master}&#34;, a non-superuser with CREATEROLE (as managed services give), on PostgreSQL "
        )),
        "{}",
        overview.body
    );
    let rule = if major_version(&db).await >= 16 {
        "it manages only roles it has ADMIN OPTION on"
    } else {
        "CREATEROLE lets it manage any role that is not a superuser"
    };
    assert!(overview.body.contains(rule), "{}", overview.body);
}

#[tokio::test]
async fn the_users_page_explains_unknown_password_encryption_to_a_createrole_administrator() {
    let db = test_db().await;
    let (_, config) = createrole_admin(&db, "").await;
    let browser = dashboard_as(&db, config).await;
    let other = test_db().await;
    let superuser_app = dashboard_as(&other, other.admin_config()).await;

    let users = browser.get(&browser.users("")).await;
    let superusers_users = superuser_app.get(&browser.users("")).await;

    assert_eq!(users.status, 200, "{}", users.body);
    assert!(
        users
            .body
            .contains("data-label=\"Password encryption\" class=\"optional\">unknown</td>"),
        "{}",
        users.body
    );
    let note = paragraph(&users.body, "<p class=\"hint\" id=\"encryption-note\">");
    assert!(note.contains("cannot read pg_authid"), "{note}");
    assert!(
        note.contains("Passwords pgusers sets are always stored as SCRAM-SHA-256"),
        "{note}"
    );
    assert!(!superusers_users.body.contains("encryption-note"));
    assert!(
        !superusers_users
            .body
            .contains("data-label=\"Password encryption\" class=\"optional\">unknown</td>")
    );
}

#[tokio::test]
async fn database_users_list_as_a_createrole_administrator_explains_unknown_on_standard_error() {
    let db = test_db().await;
    db.create_user("reader", Access::ReadOnly).await;
    let (_, config) = createrole_admin(&db, "").await;

    let (stdout, stderr) = listed(pgusers(&tcp_url(&config)));

    assert!(
        stdout
            .lines()
            .any(|line| line.starts_with(&format!("| {} ", db.protected))
                && line.ends_with(&format!("| {:<19} |", "unknown"))),
        "{stdout}"
    );
    assert!(!stdout.contains("pg_authid"), "the table stays the guide's");
    assert!(
        stderr.contains(
            "Note: Password encryption shows \"unknown\" because the role pgusers connects as \
             cannot read pg_authid"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains(config_password(&config).as_str()));
}

#[tokio::test]
async fn database_users_list_shows_the_administrator_as_the_protected_user_without_a_note() {
    let db = test_db().await;
    let (master, config) = createrole_admin(&db, "").await;

    let mut command = pgusers(&tcp_url(&config));
    command.env("PGUSERS_PROTECTED_USER", &master);

    let (stdout, stderr) = listed(command);

    assert!(
        stdout
            .lines()
            .any(|line| line.starts_with(&format!("| {master} "))
                && line.contains("| false     | true      |")),
        "{stdout}"
    );
    assert!(
        !stderr.contains(&format!("\"{master}\" is not managed")),
        "{stderr}"
    );
}

/// `pgusers database-users-list` run by `command`, which must succeed: its
/// standard output and error.
fn listed(mut command: Command) -> (String, String) {
    let output = command.arg("database-users-list").output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    );
    assert!(output.status.success(), "{stderr}");
    (stdout, stderr)
}

/// The text of the paragraph `opening` starts, which the page must have.
fn paragraph<'a>(html: &'a str, opening: &str) -> &'a str {
    let start = html
        .find(opening)
        .unwrap_or_else(|| panic!("no {opening} in {html}"))
        + opening.len();
    let end = start + html[start..].find("</p>").expect("the paragraph ends");
    &html[start..end]
}

fn config_password(config: &Config) -> String {
    String::from_utf8(config.get_password().unwrap().to_vec()).unwrap()
}

#[tokio::test]
async fn a_privilege_the_administrator_lacks_redraws_the_add_form_with_the_fix_and_what_was_typed()
{
    let db = test_db().await;
    db.open_public_schema_to_everyone().await;
    let (master, config) = createrole_admin(&db, "").await;
    if major_version(&db).await >= 16 {
        // What the service gives the role that made the database, so that
        // only the schema stands in the way.
        db.admin()
            .await
            .batch_execute(&format!(
                "GRANT {} TO {} WITH ADMIN OPTION, INHERIT TRUE",
                escape_identifier(&db.protected),
                escape_identifier(&master)
            ))
            .await
            .unwrap();
    }
    let browser = dashboard_as(&db, config).await;
    let name = unique_name("ro");
    let chosen = password();
    let form = browser.get(&browser.users("/new")).await.body;

    let refused = browser
        .post(
            &browser.users(""),
            &[
                ("csrf_token", csrf_token(&form).as_str()),
                ("form_id", form_id(&form).unwrap().as_str()),
                ("username", name.as_str()),
                ("password", chosen.expose()),
                ("password_confirmation", chosen.expose()),
                ("read_only", "on"),
            ],
        )
        .await;

    assert_eq!(refused.status, 503, "{}", refused.body);
    let alert = paragraph(
        &refused.body,
        "<p class=\"notice error\" role=\"alert\" id=\"form-error\">",
    );
    assert!(alert.starts_with("The user was not added. "), "{alert}");
    assert!(
        alert.contains("REVOKE CREATE ON SCHEMA public FROM PUBLIC"),
        "{alert}"
    );
    assert!(!alert.contains("permission denied"), "{alert}");
    assert!(refused.body.contains(&format!("value=\"{name}\"")));
    assert!(
        refused
            .body
            .contains("name=\"read_only\" type=\"checkbox\" value=\"on\"")
    );
    assert!(refused.body.contains(" checked>"), "Read only stays ticked");
    assert!(
        !refused.body.contains(chosen.expose()),
        "never the password"
    );
    assert!(!db.role_exists(&name).await, "nothing was made");
}

#[tokio::test]
async fn an_administrator_that_loses_pg_authid_still_lists_its_users_without_a_restart() {
    // pgusers remembers whether its role reads pg_authid. A CREATEROLE
    // administrator given SELECT on it through a group, then losing it,
    // must not see its lists refused until pgusers restarts.
    let db = test_db().await;
    let (user, _) = db.create_user("authid_ro", Access::ReadOnly).await;
    let (master, config) = createrole_admin(&db, "").await;
    let group = unique_name("authid_readers");
    let superuser = db.admin().await;
    let give = format!(
        "CREATE ROLE {group} NOLOGIN; GRANT {group} TO {master}; \
         GRANT SELECT ON pg_authid TO {group}",
        group = escape_identifier(&group),
        master = escape_identifier(&master)
    );
    let take_back = format!(
        "REVOKE SELECT ON pg_authid FROM {}",
        escape_identifier(&group)
    );
    let give_again = format!("GRANT SELECT ON pg_authid TO {}", escape_identifier(&group));
    superuser.batch_execute(&give).await.unwrap();
    let roles = RoleManager::new(config.clone(), 2, None);
    let encryptions = |users: &[pgusers::roles::DatabaseUser]| {
        users
            .iter()
            .map(|user| user.password_encryption.to_string())
            .collect::<Vec<_>>()
    };

    let before = roles.list().await.expect("listed while it reads pg_authid");
    assert!(roles.admin_kind().await.unwrap().reads_authid);
    let of_user = |users: &[pgusers::roles::DatabaseUser]| {
        users
            .iter()
            .find(|listed| listed.username == user.as_str())
            .map(|listed| listed.password_encryption.to_string())
    };
    assert_eq!(
        of_user(&before).as_deref(),
        Some("SCRAM-SHA-256"),
        "{before:?}"
    );
    superuser.batch_execute(&take_back).await.unwrap();
    // A right taken back without pgusers: the kept list stands its time,
    // then the list is judged again, from pg_roles.
    tokio::time::sleep(pgusers::roles::KEPT_FOR).await;
    let after = roles
        .list()
        .await
        .expect("listed once it may not read pg_authid");
    assert_eq!(of_user(&after).as_deref(), Some("unknown"), "{after:?}");
    assert!(
        encryptions(&after).iter().all(|e| e == "unknown"),
        "{after:?}"
    );
    assert!(!roles.admin_kind().await.unwrap().reads_authid);

    // The same through the listing read a part at a time (Health, the CLI).
    superuser.batch_execute(&give_again).await.unwrap();
    let roles = RoleManager::new(config, 2, None);
    roles.list().await.unwrap();
    superuser.batch_execute(&take_back).await.unwrap();
    let mut parts = Vec::new();
    roles
        .list_in_parts(1, |users| {
            parts.extend(users.iter().cloned());
            Ok::<_, pgusers::roles::RoleError>(())
        })
        .await
        .expect("listed a part at a time once it may not read pg_authid");
    assert_eq!(of_user(&parts).as_deref(), Some("unknown"), "{parts:?}");
    assert!(
        encryptions(&parts).iter().all(|e| e == "unknown"),
        "{parts:?}"
    );
}
