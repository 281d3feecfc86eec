//! The command line, run as the built binary against real PostgreSQL.

use std::os::unix::fs::PermissionsExt;

use assert_cmd::Command;
use pgusers::domain::RoleName;
use pgusers::roles::Access;

use crate::helpers::{
    AdminKind, OwnCluster, TestDb, admin_kind, conninfo, password, sqlstate, test_db, test_db_on,
    unique_name,
};

const PROMPTS: &str = "Password (Will be generated if left empty): \nPassword Confirmation: \n";

/// `pgusers` with no configuration but what the test gives it.
fn pgusers() -> Command {
    Command::from_std(crate::helpers::pgusers_binary())
}

/// `pgusers` managing `db`.
pub fn cli(db: &TestDb) -> Command {
    let mut command = pgusers();
    command
        .env("DATABASE_URL", db.database_url())
        // A state database of the test's own (absent unless the test makes
        // it): the server-wide default, `pgusers`, is shared by every test
        // and, made by one administrator, closed to the others.
        .env("PGUSERS_STATE_URL", db.state_url())
        // Chosen, so no generated-operator notice mixes with the prompts.
        .env("PGUSERS_ADMIN_PASSWORD", "cli-tests-operator-password");
    command
}

/// A state database as a running dashboard would have set it up; its URL.
pub(crate) async fn dashboard_state(db: &TestDb) -> String {
    let mut config = db.admin_config();
    config.dbname(unique_name("state"));
    let mut server = db.admin_config();
    server.dbname("postgres");
    pgusers::state::StateStore::new(pgusers::state::StateSettings {
        config: config.clone().into(),
        create_with: Some(server.into()),
        admin_password: Some(
            pgusers::domain::OperatorPassword::parse("dashboard-password").unwrap(),
        ),
        announce: pgusers::notice::Announce::Stderr,
        bootstrap_operator: true,
    })
    .ensure_ready()
    .await
    .expect("the state database is set up");
    conninfo(&config)
}

/// What the list shows for passwords stored as `facts`: the facts to a
/// superuser; "unknown" to a CREATEROLE administrator, which cannot read
/// pg_authid.
fn encryption_shown<const N: usize>(facts: [&'static str; N]) -> [&'static str; N] {
    match admin_kind() {
        AdminKind::Superuser => facts,
        AdminKind::CreateRole => ["unknown"; N],
    }
}

/// What `database-users-list` says on standard error about "unknown".
fn unknown_encryption_note() -> String {
    match admin_kind() {
        AdminKind::Superuser => String::new(),
        AdminKind::CreateRole => format!("Note: {}\n", pgusers::roles::UNKNOWN_ENCRYPTION),
    }
}

#[derive(Debug)]
pub(crate) struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(command: &mut Command, stdin: &str) -> Run {
    let output = command.write_stdin(stdin).output().expect("pgusers runs");
    Run {
        code: output.status.code().expect("an exit code"),
        stdout: String::from_utf8(output.stdout).expect("UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8"),
    }
}

/// The generated password in a guide-style result line, checked whole.
fn generated_password(stdout: &str, user: &str, action: &str) -> String {
    let prefix = format!("User \"{user}\" {action} with password \"");
    let password = stdout
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix("\".\n"))
        .unwrap_or_else(|| panic!("unexpected output {stdout:?}"));
    assert_eq!(password.len(), 64);
    assert!(
        password
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    );
    password.to_owned()
}

#[tokio::test]
async fn database_users_list_prints_the_guides_table_byte_for_byte() {
    // A server of its own: roles are server-wide, and the table must hold
    // exactly this database's users.
    let server = OwnCluster::start().await;
    let db = test_db_on(server.server()).await;
    let writer = format!("{}_rw", db.protected);
    let reader = format!("{}_ro", db.protected);
    // Made by hand, as the administrator pgusers uses would have.
    db.as_admin_in_use()
        .await
        .batch_execute(&format!(
            "SET password_encryption = 'md5'; CREATE ROLE {writer} LOGIN PASSWORD 'legacy-password-0000000000';"
        ))
        .await
        .unwrap();
    db.roles
        .create(
            &pgusers::domain::Username::parse(&reader).unwrap(),
            pgusers::domain::NewPassword::Generate,
            Access::ReadOnly,
        )
        .await
        .unwrap();
    let width = db.protected.len() + 3;
    let pad = |s: &str| format!("{s:<width$}");
    let header_gap = width - "USERNAME".len();
    let header = format!(
        "{}USERNAME{}",
        " ".repeat(header_gap / 2),
        " ".repeat(header_gap - header_gap / 2)
    );
    let border = format!(
        "+{}+-----------+-----------+---------------------+\n",
        "-".repeat(width + 2)
    );

    let list = run(cli(&db).arg("database-users-list"), "");

    assert_eq!(list.code, 0, "{}", list.stderr);
    let [scram, md5] = encryption_shown(["SCRAM-SHA-256", "MD5"]);
    let expected = format!(
        "{border}\
         | {header} | READ-ONLY | PROTECTED | PASSWORD ENCRYPTION |\n\
         {border}\
         | {} | false     | true      | {scram:<19} |\n\
         | {} | true      | false     | {scram:<19} |\n\
         | {} | false     | false     | {md5:<19} |\n\
         {border}",
        pad(&db.protected),
        pad(&reader),
        pad(&writer),
    );
    assert_eq!(list.stdout, expected);
    assert_eq!(list.stderr, unknown_encryption_note());
    let alias = run(cli(&db).arg("database-list-users"), "");
    assert_eq!(alias.stdout, expected, "the alias prints the same");
}

#[tokio::test]
async fn database_users_list_json_holds_the_same_facts() {
    let db = test_db().await;
    let (reader, _) = db.create_user("json", Access::ReadOnly).await;

    let list = run(cli(&db).args(["database-users-list", "--json"]), "");

    assert_eq!(list.code, 0, "{}", list.stderr);
    let users: Vec<serde_json::Value> = serde_json::from_str(&list.stdout).unwrap();
    let find = |name: &str| {
        users
            .iter()
            .find(|u| u["username"] == name)
            .cloned()
            .unwrap()
    };
    let row = find(reader.as_str());
    assert_eq!(row["name"], reader.as_str(), "the API's name for it too");
    assert_eq!(row["read_only"], true);
    assert_eq!(row["protected"], false);
    assert_eq!(
        row["password_encryption"],
        encryption_shown(["SCRAM-SHA-256"])[0]
    );
    assert_eq!(row["not_manageable"], serde_json::Value::Null);
    assert_eq!(find(&db.protected)["protected"], true);
}

#[tokio::test]
async fn creating_with_two_empty_lines_prints_the_generated_password_once() {
    let db = test_db().await;
    let name = unique_name("cligen");

    let created = run(cli(&db).args(["database-users-create", &name]), "\n\n");

    assert_eq!(created.code, 0, "{}", created.stderr);
    let password = generated_password(&created.stdout, &name, "created");
    assert_eq!(created.stderr, PROMPTS, "prompts go to standard error");
    db.connect_as(&name, &password).await.unwrap();
}

#[tokio::test]
async fn creating_with_a_chosen_password_prints_created_and_never_the_password() {
    let db = test_db().await;
    let name = unique_name("clichosen");
    let chosen = password();

    let created = run(
        cli(&db).args(["database-users-create", &name]),
        &format!("{0}\n{0}\n", chosen.expose()),
    );

    assert_eq!(created.code, 0, "{}", created.stderr);
    assert_eq!(created.stdout, format!("User \"{name}\" created.\n"));
    assert!(!created.stderr.contains(chosen.expose()));
    let client = db.connect_as(&name, chosen.expose()).await.unwrap();
    client
        .batch_execute("CREATE TABLE from_cli (v int)")
        .await
        .unwrap();
}

#[tokio::test]
async fn the_read_only_flag_makes_a_user_that_cannot_write() {
    let db = test_db().await;
    let name = unique_name("cliro");
    let chosen = password();

    let created = run(
        cli(&db).args(["database-create-user", "--read-only", &name]),
        &format!("{0}\n{0}\n", chosen.expose()),
    );

    assert_eq!(created.code, 0, "{}", created.stderr);
    let client = db.connect_as(&name, chosen.expose()).await.unwrap();
    assert_eq!(
        sqlstate(client.batch_execute("CREATE TABLE nope (v int)").await),
        "42501"
    );
    let listed = db
        .roles
        .find(&RoleName::parse(&name).unwrap())
        .await
        .unwrap();
    assert!(listed.read_only);
}

// Retries on a terminal (a wrong entry explained, three tries) are unit
// tests of src/cli/prompt.rs: piped answers get one try.

#[tokio::test]
async fn a_piped_password_that_is_too_short_ends_the_command_with_that_reason() {
    let db = test_db().await;
    let name = unique_name("clishort");
    let chosen = password();

    let created = run(
        cli(&db).args(["database-users-create", &name]),
        &format!("short\nshort\n{0}\n{0}\n", chosen.expose()),
    );

    assert_eq!(created.code, 2, "{}", created.stderr);
    assert_eq!(created.stdout, "");
    assert_eq!(
        created.stderr,
        format!(
            "{PROMPTS}Error: Password must be between 24 and 64 characters long (it has 5). \
             No password was set.\n"
        )
    );
    assert!(!db.role_exists(&name).await, "the next lines are no retry");
}

#[tokio::test]
async fn a_piped_mismatch_ends_the_command_with_that_reason() {
    let db = test_db().await;
    let name = unique_name("climismatch");

    let created = run(
        cli(&db).args(["database-users-create", &name]),
        &format!("{0}\n{0}x\n", "b".repeat(30)),
    );

    assert_eq!(created.code, 2);
    assert!(
        created
            .stderr
            .ends_with("Error: Password and confirmation do not match. No password was set.\n"),
        "{}",
        created.stderr
    );
    assert!(!db.role_exists(&name).await);
}

#[tokio::test]
async fn a_command_writing_to_a_file_logs_without_colour_codes() {
    let db = test_db().await;

    let listed = run(
        cli(&db).env("RUST_LOG", "trace").arg("database-users-list"),
        "",
    );

    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(listed.stderr.contains("TRACE"), "something was logged");
    assert!(!listed.stderr.contains('\x1b'), "{:?}", listed.stderr);
}

#[tokio::test]
async fn password_stdin_reads_one_line_without_confirmation() {
    let db = test_db().await;
    let chosen_name = unique_name("clistdin");
    let generated_name = unique_name("clistdingen");
    let chosen = password();

    let chosen_run = run(
        cli(&db).args(["database-users-create", "--password-stdin", &chosen_name]),
        &format!("{}\n", chosen.expose()),
    );
    let generated_run = run(
        cli(&db).args(["database-users-create", "--password-stdin", &generated_name]),
        "\n",
    );

    assert_eq!(
        chosen_run.stdout,
        format!("User \"{chosen_name}\" created.\n")
    );
    assert_eq!(chosen_run.stderr, "", "no prompt with --password-stdin");
    db.connect_as(&chosen_name, chosen.expose()).await.unwrap();
    let password = generated_password(&generated_run.stdout, &generated_name, "created");
    db.connect_as(&generated_name, &password).await.unwrap();
}

#[tokio::test]
async fn update_password_sets_or_generates_and_the_old_password_stops_working() {
    let db = test_db().await;
    let (name, old) = db.create_user("cliupd", Access::ReadWrite).await;
    let chosen = password();

    let set = run(
        cli(&db).args(["database-users-update-password", name.as_str()]),
        &format!("{0}\n{0}\n", chosen.expose()),
    );
    assert_eq!(set.code, 0, "{}", set.stderr);
    assert_eq!(set.stdout, format!("User \"{name}\" updated.\n"));
    assert!(db.connect_as(name.as_str(), old.expose()).await.is_err());
    db.connect_as(name.as_str(), chosen.expose()).await.unwrap();

    let reset = run(
        cli(&db).args(["database-update-user-password", name.as_str()]),
        "\n\n",
    );
    assert_eq!(reset.code, 0, "{}", reset.stderr);
    let fresh = generated_password(&reset.stdout, name.as_str(), "updated");
    assert!(db.connect_as(name.as_str(), chosen.expose()).await.is_err());
    db.connect_as(name.as_str(), &fresh).await.unwrap();
}

#[tokio::test]
async fn delete_prints_deleted_and_the_users_tables_move_to_the_protected_user() {
    let db = test_db().await;
    let (name, secret) = db.create_user("clidel", Access::ReadWrite).await;
    let client = db.connect_as(name.as_str(), secret.expose()).await.unwrap();
    client
        .batch_execute("CREATE TABLE left_behind (v int)")
        .await
        .unwrap();
    drop(client);

    let deleted = run(cli(&db).args(["database-users-delete", name.as_str()]), "");

    assert_eq!(deleted.code, 0, "{}", deleted.stderr);
    assert_eq!(deleted.stdout, format!("User \"{name}\" deleted.\n"));
    assert!(!db.role_exists(name.as_str()).await);
    assert_eq!(db.table_owner("left_behind").await, db.protected);
    let again = run(cli(&db).args(["database-delete-user", name.as_str()]), "");
    assert_eq!(again.code, 3);
    assert_eq!(
        again.stderr,
        format!("Error: User \"{name}\" does not exist.\n")
    );
}

#[tokio::test]
async fn the_protected_user_is_refused_before_any_password_is_asked() {
    let db = test_db().await;

    let update = run(
        cli(&db).args(["database-users-update-password", &db.protected]),
        "",
    );
    let delete = run(cli(&db).args(["database-users-delete", &db.protected]), "");

    for refused in [&update, &delete] {
        assert_eq!(refused.code, 3);
        assert_eq!(refused.stdout, "");
        assert!(refused.stderr.starts_with(&format!(
            "Error: User \"{}\" is the protected default user",
            db.protected
        )));
        assert!(!refused.stderr.contains("Password"), "nothing was asked");
    }
    db.connect_as_protected().await;
}

#[tokio::test]
async fn exit_codes_tell_usage_refusal_and_unavailability_apart() {
    let db = test_db().await;
    let (existing, _) = db.create_user("cliexists", Access::ReadWrite).await;

    let bad_name = run(cli(&db).args(["database-users-create", "1nvalid"]), "");
    let bad_flag = run(cli(&db).args(["database-users-list", "--nope"]), "");
    let taken = run(
        cli(&db).args(["database-users-create", existing.as_str()]),
        "",
    );
    let malformed = run(
        pgusers()
            .env("DATABASE_URL", "host=/tmp port=notaport")
            .arg("database-users-list"),
        "",
    );
    let unreachable = run(
        pgusers()
            .env(
                "DATABASE_URL",
                "host=127.0.0.1 port=1 user=postgres dbname=nothing",
            )
            .arg("database-users-list"),
        "",
    );

    assert_eq!(bad_name.code, 2);
    assert_eq!(
        bad_name.stderr,
        "Error: Username must start with a letter from a to z (or A to Z).\n"
    );
    assert_eq!(bad_flag.code, 2);
    assert_eq!(taken.code, 3);
    assert_eq!(
        taken.stderr,
        format!("Error: User \"{existing}\" already exists.\n"),
        "refused before asking"
    );
    assert_eq!(
        malformed.code, 2,
        "a wrong setting is a usage error: {}",
        malformed.stderr
    );
    assert!(
        malformed
            .stderr
            .starts_with("Error: DATABASE_URL is not a valid connection string")
    );
    assert_eq!(unreachable.code, 4);
    assert!(
        unreachable
            .stderr
            .starts_with("Error: The database is unavailable"),
        "{}",
        unreachable.stderr
    );
}

#[tokio::test]
async fn a_name_any_role_has_in_any_case_is_refused_before_a_password_is_asked() {
    let db = test_db().await;
    // A group role: pgusers never lists it, yet the name is taken.
    let group = unique_name("cligroup");
    db.as_admin_in_use()
        .await
        .batch_execute(&format!("CREATE ROLE {group} NOLOGIN"))
        .await
        .unwrap();

    let taken = run(
        cli(&db).args(["database-users-create", &group.to_uppercase()]),
        "\n\n",
    );

    assert_eq!(taken.code, 3, "{}", taken.stderr);
    assert_eq!(
        taken.stderr,
        format!("Error: User \"{group}\" already exists.\n"),
        "refused before asking, naming the role that has the name"
    );
    assert!(taken.stdout.is_empty());
}

#[tokio::test]
async fn a_generated_password_that_cannot_be_printed_is_an_error_that_says_the_user_was_created() {
    use std::io::Write;
    use std::process::Stdio;
    let db = test_db().await;
    let name = unique_name("clifull");
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full: every write fails, as on a full disk");

    let mut child = crate::helpers::pgusers_binary()
        .env("DATABASE_URL", db.database_url())
        .env("PGUSERS_STATE_URL", db.state_url())
        .args(["database-users-create", "--password-stdin", &name])
        .stdin(Stdio::piped())
        .stdout(full)
        .stderr(Stdio::piped())
        .spawn()
        .expect("pgusers runs");
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();

    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "Error: User \"{name}\" created. Writing the result failed: "
        )) && stderr.contains(
            "Its generated password was not shown: set a new one with \
             database-users-update-password."
        ),
        "{stderr}"
    );
    assert!(db.role_exists(&name).await, "the user was created");
    assert!(!stderr.contains("with password"), "no password on stderr");
}

#[tokio::test]
async fn databases_lists_the_id_that_database_accepts() {
    let db = test_db().await;

    let databases = run(cli(&db).arg("databases"), "");
    let right = run(
        cli(&db).args(["--database", &db.name, "database-users-list"]),
        "",
    );
    let wrong = run(
        cli(&db).args(["--database", "not_this_one", "database-users-list"]),
        "",
    );

    assert_eq!(databases.code, 0, "{}", databases.stderr);
    let lines: Vec<&str> = databases.stdout.lines().collect();
    assert!(
        lines[5].starts_with("Connection URL (add the password): ")
            && lines[6]
                == "pgusers' connection: Over a Unix socket on this machine: nothing crosses a network."
            && lines[7].starts_with("Administrator: "),
        "the table, the connection URL, pgusers' connection, then the administrator: {}",
        databases.stdout
    );
    assert!(lines[1].contains(" ID ") && lines[1].contains("PROTECTED USER"));
    assert!(
        lines[1].trim_end_matches([' ', '|']).ends_with(" TLS"),
        "{}",
        lines[1]
    );
    assert!(
        lines[3].trim_end_matches([' ', '|']).ends_with(" socket"),
        "{}",
        lines[3]
    );
    assert!(
        lines[3].starts_with(&format!("| {} ", db.name)),
        "{}",
        databases.stdout
    );
    assert!(lines[3].contains(&format!("| {} ", db.protected)));
    assert_eq!(right.code, 0);
    assert_eq!(wrong.code, 2);
    assert!(
        wrong
            .stderr
            .contains("There is no database with ID \"not_this_one\"")
    );
}

#[tokio::test]
async fn without_configuration_the_cli_uses_the_embedded_database_and_stops_what_it_started() {
    let dir = tempfile::Builder::new()
        .prefix("pgusers-cli-")
        .permissions(std::fs::Permissions::from_mode(0o755))
        .tempdir()
        .unwrap();
    let data_dir = dir.path().to_str().unwrap().to_owned();
    let pid_file = dir.path().join("postgres/data/postmaster.pid");

    let first = run(
        pgusers()
            .env("PGUSERS_DATA_DIR", &data_dir)
            .arg("database-users-list"),
        "",
    );

    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(
        first.stderr.starts_with("Created database \""),
        "the one-time notice goes to stderr"
    );
    assert_eq!(
        first.stdout.lines().count(),
        5,
        "stdout holds only the table: {}",
        first.stdout
    );
    assert!(first.stdout.contains("| true      | SCRAM-SHA-256       |"));
    assert!(!pid_file.exists(), "the CLI stopped the cluster it started");

    // A dashboard (here: this test) is using the cluster: the CLI leaves it running.
    let cluster_root = dir.path().join("postgres");
    let mut dashboard = tokio::task::spawn_blocking(move || {
        let mut cluster = pgusers::embedded::Cluster::open(
            &cluster_root,
            &pgusers::embedded::ClusterOptions::default(),
        )
        .unwrap();
        cluster.start().unwrap();
        cluster
    })
    .await
    .unwrap();
    let name = unique_name("embedded");
    let created = run(
        pgusers().env("PGUSERS_DATA_DIR", &data_dir).args([
            "database-users-create",
            "--password-stdin",
            &name,
        ]),
        "\n",
    );
    assert_eq!(created.code, 0, "{}", created.stderr);
    assert!(
        !created.stderr.contains("Created database"),
        "no database notice the second time"
    );
    assert!(
        pid_file.exists(),
        "the dashboard's cluster is still running"
    );
    tokio::task::spawn_blocking(move || dashboard.stop())
        .await
        .unwrap()
        .unwrap();
    assert!(!pid_file.exists());
}

#[tokio::test]
async fn cli_actions_are_in_the_audit_log_with_source_cli() {
    let db = test_db().await;
    let state_url = dashboard_state(&db).await;
    let cli = |db: &TestDb| {
        let mut command = cli(db);
        command.env("PGUSERS_STATE_URL", &state_url);
        command
    };
    let name = unique_name("cliaudit");
    let created = run(
        cli(&db).args(["database-users-create", "--password-stdin", &name]),
        "\n",
    );
    let generated = generated_password(&created.stdout, &name, "created");
    run(cli(&db).args(["database-users-delete", &db.protected]), "");
    run(cli(&db).args(["database-users-create", &db.protected]), "");

    let json = run(cli(&db).args(["audit", "--json", "--limit", "1000"]), "");
    let table = run(cli(&db).args(["audit", "--limit", "5"]), "");

    assert_eq!(json.code, 0, "{}", json.stderr);
    let entries: Vec<serde_json::Value> = serde_json::from_str(&json.stdout).unwrap();
    let created = entries
        .iter()
        .find(|e| e["target"] == name.as_str())
        .expect("the create is recorded");
    assert_eq!(created["actor"], "cli");
    assert_eq!(created["source"], "cli");
    assert_eq!(created["action"], "create user");
    assert_eq!(created["outcome"], "ok");
    assert_eq!(created["database"], db.name.as_str());
    let refused = entries
        .iter()
        .find(|e| e["target"] == db.protected.as_str() && e["action"] == "delete user")
        .expect("the refused delete is recorded");
    assert_eq!(refused["outcome"], "refused");
    assert!(
        !json.stdout.contains(&generated),
        "no password, not even a generated one"
    );
    let taken = entries
        .iter()
        .find(|e| e["target"] == db.protected.as_str() && e["action"] == "create user")
        .expect("a create refused before any prompt is recorded too");
    assert_eq!(taken["outcome"], "refused");
    assert_eq!(table.code, 0);
    assert!(
        table
            .stdout
            .lines()
            .nth(1)
            .unwrap()
            .contains(" TIME (UTC) ")
            && table.stdout.contains(" OUTCOME ")
    );
    // Times read as `tokens list` prints them: `2026-12-06 16:55:47`.
    let first_time = table.stdout.lines().nth(3).unwrap()[1..]
        .split('|')
        .next()
        .unwrap()
        .trim()
        .to_owned();
    let shape: String = first_time
        .chars()
        .map(|c| if c.is_ascii_digit() { '9' } else { c })
        .collect();
    assert_eq!(shape, "9999-99-99 99:99:99", "{first_time}");
}

#[tokio::test]
async fn operators_are_added_listed_given_passwords_and_removed_but_never_the_last() {
    let db = test_db().await;
    let state_db = unique_name("operators");
    db.admin()
        .await
        .batch_execute(&format!("CREATE DATABASE {state_db}"))
        .await
        .unwrap();
    let state_url = conninfo(&{
        let mut config = db.admin_config();
        config.dbname(&state_db);
        config
    });
    let operators = |args: &[&str], stdin: &str| {
        let mut command = cli(&db);
        command
            .env("PGUSERS_STATE_URL", &state_url)
            .arg("operators")
            .args(args);
        run(&mut command, stdin)
    };

    let added = operators(&["add", "jane"], "janes-password-1\njanes-password-1\n");
    let listed = operators(&["list"], "");
    let reset = operators(&["set-password", "jane"], "\n\n");
    let state = pgusers::state::StateStore::new(pgusers::state::StateSettings {
        config: pgusers::db::parse_config(&state_url).unwrap(),
        create_with: None,
        admin_password: None,
        announce: pgusers::notice::Announce::Stderr,
        bootstrap_operator: false,
    });
    let jane_password = reset
        .stdout
        .strip_prefix("Operator \"jane\" updated with password \"")
        .and_then(|rest| rest.strip_suffix("\".\n"))
        .unwrap_or_default()
        .to_owned();
    let jane_could_log_in = state.verify_operator("jane", jane_password).await.unwrap();
    let old_password_worked = state
        .verify_operator("jane", "janes-password-1".into())
        .await
        .unwrap();
    let bad_name = operators(&["add", "Jane Doe"], "");
    let duplicate = operators(&["add", "jane"], "");
    let last = operators(&["remove", "jane"], "");
    operators(&["add", "bob"], "bobs-password-01\nbobs-password-01\n");
    let removed = operators(&["remove", "jane"], "");
    let listed_after = operators(&["list"], "");

    assert_eq!(added.code, 0, "{}", added.stderr);
    assert_eq!(added.stdout, "Operator \"jane\" added.\n");
    assert!(!added.stderr.contains("janes-password-1"));
    assert_eq!(
        listed
            .stdout
            .lines()
            .filter(|l| l.starts_with("| "))
            .count(),
        2,
        "the header and jane: the CLI creates no operator of its own accord\n{}",
        listed.stdout
    );
    assert!(listed.stdout.contains("| jane "));
    let generated = reset
        .stdout
        .strip_prefix("Operator \"jane\" updated with password \"")
        .and_then(|rest| rest.strip_suffix("\".\n"))
        .expect("a generated password, shown once");
    assert_eq!(generated.len(), 32);
    assert_eq!(bad_name.code, 2);
    assert_eq!(duplicate.code, 3);
    assert_eq!(last.code, 3);
    assert!(last.stderr.contains("is the last one"), "{}", last.stderr);
    assert_eq!(removed.stdout, "Operator \"jane\" removed.\n");
    assert!(listed_after.stdout.contains("| bob ") && !listed_after.stdout.contains("| jane "));
    assert!(jane_could_log_in, "the generated password worked");
    assert!(!old_password_worked, "the old one did not");
    assert!(
        state
            .verify_operator("bob", "bobs-password-01".into())
            .await
            .unwrap()
    );
    assert!(
        !state
            .verify_operator("jane", generated.to_owned())
            .await
            .unwrap(),
        "removed"
    );
}

#[tokio::test]
async fn without_a_dashboard_the_cli_creates_no_state_database_and_no_operator() {
    let db = test_db().await;
    let missing = unique_name("nostate");
    let mut config = db.admin_config();
    config.dbname(&missing);
    let name = unique_name("nostate");

    let created = run(
        cli(&db)
            .env("PGUSERS_STATE_URL", conninfo(&config))
            .env_remove("PGUSERS_ADMIN_PASSWORD")
            .args(["database-users-create", "--password-stdin", &name]),
        "\n",
    );
    let audit = run(
        cli(&db)
            .env("PGUSERS_STATE_URL", conninfo(&config))
            .args(["audit", "--json"]),
        "",
    );

    assert_eq!(created.code, 0, "{}", created.stderr);
    assert_eq!(created.stderr, "", "no operator notice, no warning");
    assert_eq!(audit.code, 0, "{}", audit.stderr);
    assert_eq!(audit.stdout, "[]\n");
    let exists = db
        .admin()
        .await
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&missing])
        .await
        .unwrap();
    assert!(
        exists.is_none(),
        "the CLI did not create the state database"
    );
}

#[tokio::test]
async fn another_databases_owner_is_refused_with_the_reason_before_any_prompt() {
    let db = test_db().await;
    let other = test_db().await;

    let update = run(
        cli(&db).args(["database-users-update-password", &other.protected]),
        "",
    );

    assert_eq!(update.code, 3);
    assert_eq!(update.stdout, "");
    assert!(
        update.stderr.starts_with(&format!(
            "Error: User \"{}\" owns database {}",
            other.protected, other.name
        )),
        "{}",
        update.stderr
    );
    assert!(!update.stderr.contains("Password"), "nothing was asked");
}

#[tokio::test]
async fn a_role_with_more_power_than_a_user_is_refused_with_the_reason_and_noted_in_the_list() {
    let db = test_db().await;
    let name = unique_name("replicator");
    db.admin()
        .await
        .batch_execute(&format!("CREATE ROLE {name} LOGIN REPLICATION"))
        .await
        .unwrap();

    let update = run(cli(&db).args(["database-users-update-password", &name]), "");
    let delete = run(cli(&db).args(["database-users-delete", &name]), "");
    let list = run(cli(&db).arg("database-users-list"), "");

    for refused in [&update, &delete] {
        assert_eq!(refused.code, 3, "{}", refused.stderr);
        assert_eq!(refused.stdout, "");
        assert!(
            refused.stderr.starts_with(&format!(
                "Error: User \"{name}\" is not managed by pgusers: it can replicate"
            )),
            "{}",
            refused.stderr
        );
    }
    assert!(!update.stderr.contains("Password"), "nothing was asked");
    let row = list
        .stdout
        .lines()
        .find(|line| line.contains(&name))
        .expect("listed");
    assert!(
        row.contains("| true      |"),
        "shown as not changeable: {row}"
    );
    assert!(
        list.stderr
            .contains(&format!("Note: \"{name}\" is not managed by pgusers")),
        "{}",
        list.stderr
    );
    let json = run(cli(&db).args(["database-users-list", "--json"]), "");
    let users: Vec<serde_json::Value> = serde_json::from_str(&json.stdout).unwrap();
    let listed = users
        .iter()
        .find(|u| u["username"] == name.as_str())
        .unwrap();
    assert_eq!(
        listed["not_manageable"],
        "it can replicate the whole server (REPLICATION)"
    );
    assert!(db.role_exists(&name).await);
}

/// Creates a login role named `name` behind pgusers' back, as anyone with
/// CREATEROLE could.
async fn create_role_directly(db: &TestDb, name: &str) {
    let quoted = postgres_protocol::escape::escape_identifier(name);
    db.as_admin_in_use()
        .await
        .batch_execute(&format!("CREATE ROLE {quoted} LOGIN"))
        .await
        .expect("PostgreSQL takes any character in a role name");
}

#[tokio::test]
async fn role_names_with_terminal_escapes_or_bidi_overrides_are_printed_escaped() {
    // A server of its own: these names must not show up in other tests' lists.
    let server = OwnCluster::start().await;
    let db = test_db_on(server.server()).await;
    let state_url = dashboard_state(&db).await;
    let cli = |db: &TestDb| {
        let mut command = cli(db);
        command.env("PGUSERS_STATE_URL", &state_url);
        command
    };
    let escapes = "esc\x1b]0;pwned\x07\x1b[31m";
    let reversed = "rev\u{202e}txt.exe";
    create_role_directly(&db, escapes).await;
    create_role_directly(&db, reversed).await;
    let raw =
        |text: &str| text.contains('\x1b') || text.contains('\u{202e}') || text.contains('\x07');

    let list = run(cli(&db).arg("database-users-list"), "");
    let json = run(cli(&db).args(["database-users-list", "--json"]), "");
    let deleted = run(cli(&db).args(["database-users-delete", reversed]), "");
    let missing = run(cli(&db).args(["database-users-delete", reversed]), "");
    let audit = run(cli(&db).args(["audit", "--limit", "10"]), "");
    let audit_json = run(cli(&db).args(["audit", "--json"]), "");

    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(!raw(&list.stdout), "{:?}", list.stdout);
    assert!(list.stdout.contains(r"| esc\x1b]0;pwned\x07\x1b[31m "));
    assert!(list.stdout.contains(r"| rev\u{202e}txt.exe "));
    let widths: Vec<usize> = list.stdout.lines().map(|l| l.chars().count()).collect();
    assert!(widths.windows(2).all(|w| w[0] == w[1]), "columns line up");

    assert!(!raw(&json.stdout), "{:?}", json.stdout);
    let users: Vec<serde_json::Value> = serde_json::from_str(&json.stdout).unwrap();
    for name in [escapes, reversed] {
        assert!(
            users.iter().any(|user| user["username"] == name),
            "JSON still holds the exact name {name:?}"
        );
    }

    assert_eq!(deleted.code, 0, "{}", deleted.stderr);
    assert_eq!(deleted.stdout, "User \"rev\\u{202e}txt.exe\" deleted.\n");
    assert_eq!(missing.code, 3);
    assert!(!raw(&missing.stderr), "{:?}", missing.stderr);
    assert!(missing.stderr.contains(r"rev\u{202e}txt.exe"));

    assert_eq!(audit.code, 0, "{}", audit.stderr);
    assert!(!raw(&audit.stdout), "{:?}", audit.stdout);
    assert!(audit.stdout.contains(r"rev\u{202e}txt.exe"));
    assert!(!raw(&audit_json.stdout), "{:?}", audit_json.stdout);
    let entries: Vec<serde_json::Value> = serde_json::from_str(&audit_json.stdout).unwrap();
    assert!(entries.iter().any(|entry| entry["target"] == reversed));
}

#[tokio::test]
async fn databases_shows_host_port_and_a_connection_url_without_a_password() {
    let db = test_db().await;
    let config = db.admin_config();
    let Some(tokio_postgres::config::Host::Unix(socket)) = config.get_hosts().first() else {
        panic!("the test cluster is reached over its socket");
    };
    let port = config.get_ports()[0];
    let host = socket.to_str().unwrap().replace('/', "%2F");

    let databases = run(cli(&db).arg("databases"), "");

    assert_eq!(databases.code, 0, "{}", databases.stderr);
    let lines: Vec<&str> = databases.stdout.lines().collect();
    assert!(lines[1].contains(" HOST ") && lines[1].contains(" PORT "));
    assert!(
        lines[3].contains(&format!("(Unix socket) | {port} |")),
        "{}",
        lines[3]
    );
    assert_eq!(
        lines[5],
        format!(
            "Connection URL (add the password): postgresql://{}@{host}:{port}/{}",
            db.protected, db.name
        )
    );
    assert!(!databases.stdout.contains(db.protected_password.expose()));
}

#[tokio::test]
async fn databases_on_the_embedded_cluster_shows_its_loopback_port_and_the_protected_users_url() {
    let dir = tempfile::Builder::new()
        .prefix("pgusers-cli-")
        .permissions(std::fs::Permissions::from_mode(0o755))
        .tempdir()
        .unwrap();

    let databases = run(
        pgusers()
            .env("PGUSERS_DATA_DIR", dir.path())
            .arg("databases"),
        "",
    );

    assert_eq!(databases.code, 0, "{}", databases.stderr);
    // The one-time notice on standard error has the password; stdout never.
    let notice_url = databases
        .stderr
        .lines()
        .find_map(|line| line.strip_prefix("Connection URL: postgresql://"))
        .expect("the first run announces the protected user's URL");
    let (user, rest) = notice_url.split_once(':').unwrap();
    let (password, address) = rest.split_once('@').unwrap();
    let url_line = format!("Connection URL (add the password): postgresql://{user}@{address}");
    assert!(
        databases.stdout.lines().any(|line| line == url_line),
        "{}",
        databases.stdout
    );
    let port = address
        .split_once(':')
        .unwrap()
        .1
        .split_once('/')
        .unwrap()
        .0;
    assert!(
        databases
            .stdout
            .contains(&format!("| 127.0.0.1 | {port} |")),
        "{}",
        databases.stdout
    );
    assert!(!databases.stdout.contains(password));
}

#[tokio::test]
async fn a_piped_password_with_several_problems_is_refused_with_all_of_them() {
    let db = test_db().await;
    let name = unique_name("many");

    let created = run(
        cli(&db).args(["database-users-create", &name]),
        "short'one\nother\n",
    );

    assert_eq!(created.code, 2, "{}", created.stderr);
    assert!(
        created.stderr.contains(
            "Password must be between 24 and 64 characters long (it has 9). \
             Password must not contain the character '. \
             Password and confirmation do not match. No password was set."
        ),
        "{}",
        created.stderr
    );
    assert!(!db.role_exists(&name).await);
}

#[tokio::test]
async fn database_users_list_prints_every_user_past_a_thousand_as_a_table_and_as_json() {
    let db = test_db().await;
    let prefix = unique_name("many");
    let names: Vec<String> = (0..1001).map(|i| format!("{prefix}_{i:04}")).collect();
    let statements: String = names
        .iter()
        .map(|name| format!("CREATE ROLE {name} LOGIN;"))
        .collect();
    db.admin().await.batch_execute(&statements).await.unwrap();

    let table = run(cli(&db).arg("database-users-list"), "");
    let json = run(cli(&db).args(["database-users-list", "--json"]), "");

    assert_eq!(table.code, 0, "{}", table.stderr);
    let rows: Vec<&str> = table
        .stdout
        .lines()
        .filter(|line| line.starts_with(&format!("| {prefix}_")))
        .collect();
    assert_eq!(rows.len(), 1001, "every user has its row");
    assert!(rows[0].starts_with(&format!("| {}", names[0])));
    assert!(rows[1000].starts_with(&format!("| {}", names[1000])));
    let widths: std::collections::BTreeSet<usize> = table
        .stdout
        .lines()
        .map(|line| line.chars().count())
        .collect();
    assert_eq!(widths.len(), 1, "every line of the table is as wide");
    assert_eq!(json.code, 0, "{}", json.stderr);
    let users: Vec<serde_json::Value> = serde_json::from_str(&json.stdout).unwrap();
    let listed: Vec<&str> = users
        .iter()
        .filter_map(|user| user["username"].as_str())
        .filter(|name| name.starts_with(&prefix))
        .collect();
    assert_eq!(listed, names.iter().map(String::as_str).collect::<Vec<_>>());
    let mut sorted: Vec<&str> = users
        .iter()
        .filter_map(|u| u["username"].as_str())
        .collect();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), users.len(), "no user is printed twice");
}
