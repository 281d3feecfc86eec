//! The access doctor: drift made by hand outside pgusers is found, and
//! after its fix the users can do what their kind may (checked by logging
//! in as them).

use pgusers::domain::{ConnectionLimit, Expiry, Limits, LimitsChange, RoleName};
use pgusers::roles::{Access, Finding, Problem, Severity};

use crate::helpers::{
    AdminKind, TestDb, admin_kind, dashboard, ident, password, sqlstate, test_db, test_db_alone,
    unique_name,
};

/// A login role made by hand, as the administrator in use, that may create
/// in `public`, as a migration or restore role not made by pgusers would;
/// its name and password.
async fn outside_creator(db: &TestDb) -> (String, String) {
    let name = unique_name("migrator");
    let secret = password();
    db.make_role_as_admin(&name, &secret, "").await;
    db.admin()
        .await
        .batch_execute(&format!(
            "GRANT CREATE, USAGE ON SCHEMA public TO {}",
            ident(&name)
        ))
        .await
        .unwrap();
    (name, secret.expose().to_owned())
}

/// A new table in `public`, made by `creator` as its application would.
async fn table_made_by(db: &TestDb, creator: &str, secret: &str, prefix: &str) -> String {
    let table = unique_name(prefix);
    db.connect_as(creator, secret)
        .await
        .unwrap()
        .batch_execute(&format!("CREATE TABLE public.{table} (v int)"))
        .await
        .unwrap();
    table
}

fn keys(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.key.as_str()).collect()
}

/// The finding of key `key` among `found`; fails, showing them all, when
/// there is none.
fn finding_in<'a>(found: &'a [Finding], key: &str) -> &'a Finding {
    found
        .iter()
        .find(|f| f.key == key)
        .unwrap_or_else(|| panic!("{key} in {found:#?}"))
}

#[tokio::test]
async fn a_table_made_outside_pgusers_is_found_and_after_its_fix_the_read_only_user_reads_it() {
    let db = test_db().await;
    let (reader, reader_secret) = db.create_user("reader", Access::ReadOnly).await;
    let (creator, creator_secret) = outside_creator(&db).await;
    let table = unique_name("drifted");
    db.connect_as(&creator, &creator_secret)
        .await
        .unwrap()
        .batch_execute(&format!(
            "CREATE TABLE public.{table} (v int); INSERT INTO public.{table} VALUES (1);"
        ))
        .await
        .unwrap();
    let reads = |table: String| {
        let (db, reader, secret) = (&db, reader.as_str(), reader_secret.expose());
        async move {
            db.connect_as(reader, secret)
                .await
                .unwrap()
                .query_one(&format!("SELECT count(*) FROM public.{table}"), &[])
                .await
        }
    };
    assert_eq!(sqlstate(reads(table.clone()).await), "42501");

    let found = db.roles.check_access().await.unwrap();

    let unreadable = format!("unreadable:public.{table}");
    let future = format!("future:{creator}");
    assert!(keys(&found).contains(&unreadable.as_str()), "{found:#?}");
    assert!(keys(&found).contains(&future.as_str()), "{found:#?}");
    let finding = found.iter().find(|f| f.key == unreadable).unwrap();
    assert_eq!(
        finding.problem,
        Problem::Unreadable {
            relation: format!("public.{table}"),
            relation_kind: "table".into(),
            owner: creator.clone(),
        }
    );
    assert!(finding.fix_sql.as_deref().unwrap().starts_with(&format!(
        "GRANT SELECT ON TABLE public.{table} TO \"pgusers-readonly-"
    )));

    let fixed = db.roles.fix_access(&unreadable).await.unwrap();
    assert_eq!(fixed.map(|f| f.key), Some(unreadable.clone()));
    assert!(reads(table.clone()).await.is_ok(), "it reads the table now");
    db.roles.fix_access(&future).await.unwrap().expect("fixed");
    let later = unique_name("later");
    db.connect_as(&creator, &creator_secret)
        .await
        .unwrap()
        .batch_execute(&format!("CREATE TABLE public.{later} (v int)"))
        .await
        .unwrap();
    assert!(
        reads(later).await.is_ok(),
        "and what it creates from now on"
    );
    let after = db.roles.check_access().await.unwrap();
    assert!(!keys(&after).contains(&unreadable.as_str()));
    assert!(!keys(&after).contains(&future.as_str()));
    assert_eq!(
        db.roles.fix_access(&unreadable).await.unwrap(),
        None,
        "a fix sent again finds nothing to do"
    );
    assert!(
        !keys(&after).contains(&format!("future:{}", db.protected).as_str()),
        "pgusers covers the protected user's tables itself"
    );
}

#[tokio::test]
async fn a_table_the_read_write_group_lost_is_found_and_fixed() {
    let db = test_db().await;
    let (writer, writer_secret) = db.create_user("writer", Access::ReadWrite).await;
    let writers = format!("pgusers-writers-{}", db.name);
    let table = unique_name("restored");
    // A restore applies the dump's grants: here, one without the group's.
    db.connect_as_protected()
        .await
        .batch_execute(&format!(
            "CREATE TABLE public.{table} (v int); CREATE TABLE public.{table}_kept (v int);
             REVOKE ALL ON public.{table} FROM {};",
            ident(&writers)
        ))
        .await
        .unwrap();
    let writes = || async {
        db.logged_in(&writer, &writer_secret)
            .await
            .batch_execute(&format!("INSERT INTO public.{table} VALUES (1)"))
            .await
    };
    assert_eq!(sqlstate(writes().await), "42501");

    let found = db.roles.check_access().await.unwrap();

    let key = format!("unwritable:public.{table}");
    let finding = finding_in(&found, &key);
    assert!(finding.fixable && finding.is_problem());
    assert_eq!(
        finding.fix_sql.as_deref(),
        Some(
            format!(
                "GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON TABLE public.{table} TO {};",
                ident(&writers)
            )
            .as_str()
        ),
        "the one table the group lacks, not every table of the schema"
    );
    assert!(!keys(&found).contains(&format!("unwritable:public.{table}_kept").as_str()));
    db.roles.fix_access(&key).await.unwrap().expect("fixed");
    writes().await.expect("it writes the table now");
    assert!(!keys(&db.roles.check_access().await.unwrap()).contains(&key.as_str()));
}

#[tokio::test]
async fn the_read_write_groups_database_and_schema_grants_taken_are_found_and_fixed() {
    let db = test_db().await;
    let (writer, writer_secret) = db.create_user("writer", Access::ReadWrite).await;
    let writers = ident(&format!("pgusers-writers-{}", db.name));
    // (Before PostgreSQL 15 PUBLIC may create in public: not any more.)
    db.admin()
        .await
        .batch_execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        .await
        .unwrap();
    db.as_admin_in_use()
        .await
        .batch_execute(&format!(
            "REVOKE CREATE ON SCHEMA public FROM {writers}; REVOKE CREATE ON DATABASE {d} FROM {writers};",
            d = ident(&db.name)
        ))
        .await
        .unwrap();
    let creates = || async {
        db.logged_in(&writer, &writer_secret)
            .await
            .batch_execute(&format!(
                "CREATE TABLE public.{} (v int); CREATE SCHEMA {};",
                unique_name("mine"),
                unique_name("own")
            ))
            .await
    };
    assert_eq!(sqlstate(creates().await), "42501");

    let found = db.roles.check_access().await.unwrap();

    let expected = [
        format!(
            "groups:GRANT CONNECT, CREATE, TEMPORARY ON DATABASE {} TO {writers};",
            db.name
        ),
        format!("groups:GRANT USAGE, CREATE ON SCHEMA public TO {writers};"),
    ];
    // Before PostgreSQL 15 public belongs to the bootstrap superuser, a
    // role pgusers does not act for: its SQL is shown, for a person to run.
    let acts_for_public_owner = db.version_num().await >= 150_000;
    for key in &expected {
        let finding = found
            .iter()
            .find(|f| &f.key == key)
            .unwrap_or_else(|| panic!("no {key} in {found:#?}"));
        assert!(finding.is_problem(), "{finding:?}");
        if finding.fixable {
            db.roles.fix_access(key).await.unwrap().expect("fixed");
        } else {
            assert!(
                !acts_for_public_owner && key.contains("SCHEMA public"),
                "{finding:?}"
            );
            db.admin()
                .await
                .batch_execute(finding.fix_sql.as_deref().unwrap())
                .await
                .unwrap();
        }
    }
    creates()
        .await
        .expect("it creates in public and its own schema again");
    let after = db.roles.check_access().await.unwrap();
    assert!(
        !after.iter().any(|f| f.key.starts_with("groups:")),
        "{after:#?}"
    );
}

#[tokio::test]
async fn another_read_write_users_table_is_shared_but_never_its_triggers() {
    let db = test_db().await;
    let (first, first_secret) = db.create_user("first", Access::ReadWrite).await;
    let (second, second_secret) = db.create_user("second", Access::ReadWrite).await;
    let table = table_made_by(&db, first.as_str(), first_secret.expose(), "own").await;

    let found = db.roles.check_access().await.unwrap();

    assert!(
        !keys(&found).contains(&format!("unwritable:public.{table}").as_str()),
        "{found:#?}"
    );
    db.logged_in(&second, &second_secret)
        .await
        .batch_execute(&format!("INSERT INTO public.{table} VALUES (1)"))
        .await
        .expect("a read-write user writes another's table");
    assert_eq!(
        sqlstate(
            db.logged_in(&second, &second_secret)
        .await
                .batch_execute(&format!("CREATE TRIGGER t BEFORE INSERT ON public.{table} FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()"))
                .await
        ),
        "42501",
        "no fix gave it the first user's table"
    );
}

#[tokio::test]
async fn views_and_what_superusers_own_are_shown_with_their_sql_but_never_fixed_by_pgusers() {
    let db = test_db().await;
    let (reader, _) = db.create_user("reader", Access::ReadOnly).await;
    let (creator, creator_secret) = outside_creator(&db).await;
    let view = unique_name("view");
    db.connect_as(&creator, &creator_secret)
        .await
        .unwrap()
        .batch_execute(&format!(
            "CREATE VIEW public.{view} AS SELECT 1 AS v; REVOKE ALL ON public.{view} FROM PUBLIC;"
        ))
        .await
        .unwrap();
    let owned = unique_name("owned");
    db.admin()
        .await
        .batch_execute(&format!("CREATE TABLE public.{owned} (v int)"))
        .await
        .unwrap();

    let found = db.roles.check_access().await.unwrap();

    let by_key = |key: String| {
        found
            .iter()
            .find(|f| f.key == key)
            .unwrap_or_else(|| panic!("{key}: {found:#?}"))
            .clone()
    };
    let view_finding = by_key(format!("unreadable:public.{view}"));
    assert!(!view_finding.fixable);
    assert!(
        view_finding
            .advice
            .unwrap()
            .contains("reads with its owner's rights")
    );
    assert!(
        view_finding
            .fix_sql
            .unwrap()
            .starts_with("GRANT SELECT ON TABLE")
    );
    let superuser_table = by_key(format!("unreadable:public.{owned}"));
    assert!(!superuser_table.fixable);
    assert!(
        superuser_table
            .advice
            .unwrap()
            .contains("pgusers does not act for")
    );
    for key in [
        format!("unreadable:public.{view}"),
        format!("unreadable:public.{owned}"),
    ] {
        assert_eq!(db.roles.fix_access(&key).await.unwrap(), None, "{key}");
    }
    assert!(
        db.listed(reader.as_str()).await.manageable(),
        "the read-only users stay manageable"
    );
    let superuser_future = found
        .iter()
        .find(
            |f| matches!(&f.problem, Problem::FutureNotShared { role } | Problem::CannotAct { role } if role != &creator),
        )
        .expect("the superuser that owns a table");
    assert!(!superuser_future.fixable);
    assert_eq!(
        superuser_future.fix_sql, None,
        "no default privileges for a privileged role: they would give the groups its views"
    );
    assert!(
        !superuser_future
            .advice
            .as_deref()
            .unwrap()
            .contains("GRANT "),
        "and no GRANT of a superuser: {superuser_future:#?}"
    );
}

#[tokio::test]
async fn a_user_with_pgusers_grants_of_its_own_is_not_taken_for_a_read_write_user() {
    let db = test_db().await;
    // A reporting role someone limited on purpose: no fix may widen it.
    let name = unique_name("reporting");
    db.make_role_as_admin(&name, &password(), "").await;

    let found = db.roles.check_access().await.unwrap();

    assert!(!keys(&found).contains(&format!("read-write:{name}").as_str()));
}

#[tokio::test]
async fn md5_passwordless_expired_and_unmanageable_users_are_named_with_what_to_do() {
    let db = test_db().await;
    let md5 = unique_name("legacy");
    let open = unique_name("passwordless");
    let power = unique_name("builder");
    db.as_admin_in_use()
        .await
        .batch_execute(&format!(
            "SET password_encryption = 'md5';
             CREATE ROLE {md5} LOGIN PASSWORD 'legacy-password-0000000000';
             CREATE ROLE {open} LOGIN;
             CREATE ROLE {power} LOGIN CREATEDB;"
        ))
        .await
        .unwrap();
    let (expired, _) = db.create_user("expiring", Access::ReadOnly).await;
    db.roles
        .set_limits(
            &RoleName::from(expired.clone()),
            &LimitsChange::all(Limits {
                expires: Some(Expiry::parse("2001-02-03").unwrap()),
                connection_limit: ConnectionLimit::new(2).ok(),
            }),
        )
        .await
        .unwrap();

    let found = db.roles.check_access().await.unwrap();

    let keys = keys(&found);
    // A CREATEROLE administrator may not read how passwords are stored.
    let reads_passwords = admin_kind() == AdminKind::Superuser;
    assert_eq!(
        keys.contains(&format!("md5:{md5}").as_str()),
        reads_passwords,
        "{keys:?}"
    );
    assert_eq!(
        keys.contains(&format!("no-password:{open}").as_str()),
        reads_passwords
    );
    let expired = found
        .iter()
        .find(|f| f.key == format!("expired:{expired}"))
        .expect("the expired user");
    assert!(expired.words.contains("expired (2001-02-03 UTC)"));
    assert_eq!(
        expired.fix_sql, None,
        "pgusers fixes none of these by itself"
    );
    let builder = found
        .iter()
        .find(|f| f.key == format!("not-manageable:{power}"))
        .expect("the CREATEDB role");
    assert!(builder.words.contains("CREATEDB"), "{}", builder.words);
    assert_eq!(
        (expired.severity, builder.severity),
        (Severity::Notice, Severity::Notice),
        "someone's decision, not drift"
    );
    assert_eq!(db.roles.fix_access(&builder.key).await.unwrap(), None);
    if reads_passwords {
        // A weak password is a problem whoever's role it is.
        for key in [
            format!("md5:{md5}"),
            format!("no-password:{open}"),
            format!("no-password:{power}"),
        ] {
            let finding = found.iter().find(|f| f.key == key).expect(&key);
            assert_eq!(finding.severity, Severity::Problem, "{key}");
        }
        let unmanaged = found
            .iter()
            .find(|f| f.key == format!("no-password:{power}"))
            .unwrap();
        assert!(
            unmanaged
                .advice
                .as_deref()
                .unwrap()
                .contains("(a role it does not manage)"),
            "{unmanaged:?}"
        );
        db.roles
            .reset_password(&RoleName::parse(&md5).unwrap())
            .await
            .unwrap();
        let after = db.roles.check_access().await.unwrap();
        assert!(
            !after.iter().any(|f| f.key == format!("md5:{md5}")),
            "a reset stores SCRAM-SHA-256"
        );
    }
}

#[tokio::test]
async fn the_protected_users_expiry_is_a_problem_not_a_notice() {
    let db = test_db().await;
    db.as_admin_in_use()
        .await
        .batch_execute(&format!(
            "ALTER ROLE {} VALID UNTIL '2001-02-03'",
            ident(&db.protected)
        ))
        .await
        .unwrap();

    let found = db.roles.check_access().await.unwrap();

    let expired = found
        .iter()
        .find(|f| f.key == format!("expired:{}", db.protected))
        .expect("the protected user's expiry");
    assert_eq!(expired.severity, Severity::Problem);
    assert!(
        expired.words.ends_with(
            "It is the protected user: whatever logs in as it with its password is refused."
        ),
        "{}",
        expired.words
    );
}

#[tokio::test]
async fn the_health_tab_shows_a_finding_with_its_sql_and_its_fix_button_fixes_it_once() {
    let app = dashboard().start().await;
    app.log_in().await;
    let db = &app.db;
    let (reader, reader_secret) = db.create_user("reader", Access::ReadOnly).await;
    let (creator, creator_secret) = outside_creator(db).await;
    let table = table_made_by(db, &creator, &creator_secret, "dumped").await;
    let health = app.database_page("/settings/health");
    let key = format!("unreadable:public.{table}");
    let found = db.roles.check_access().await.unwrap();
    let token = found.iter().find(|f| f.key == key).expect("found").token();
    let statements = found
        .iter()
        .find_map(|f| f.fix_sql.as_deref().filter(|sql| sql.contains('\n')))
        .expect("a fix of several lines")
        .to_owned();

    let page = app.get(&health).await;
    let users = app.get(&app.users("")).await;

    assert_eq!(page.status, 200);
    assert!(
        users.body.contains("/settings/health\" >Health</a>"),
        "a tab under Settings"
    );
    assert!(page.body.contains(&format!(
        "The read-only users cannot read table public.{table} (owned by &#34;{creator}&#34;)."
    )));
    assert!(
        page.body
            .contains(&format!("GRANT SELECT ON TABLE public.{table} TO"))
    );
    // Several statements stay on their lines, to be pasted into psql.
    let first_line = statements.lines().next().unwrap().replace('"', "&#34;");
    assert!(
        page.body.contains(&format!("{first_line}\n")),
        "{first_line}"
    );
    assert!(
        !page.body.contains("\\x0a"),
        "a line break shown as an escape"
    );
    assert!(
        page.body
            .contains(&format!(r#"name="finding" value="{token}""#))
    );
    let fix = app.database_page("/settings/health/fix");
    // As the page's button sends it: the digest of the key.
    let fixed = app.submit(&health, &fix, &[("finding", &token)]).await;
    assert_eq!(fixed.status, 303);
    let after = app.get(&health).await;
    assert!(
        after
            .body
            .contains("Fixed: The read-only users cannot read table")
    );
    assert!(!after.body.contains(&format!(r#"value="{token}""#)));
    db.logged_in(&reader, &reader_secret)
        .await
        .batch_execute(&format!("SELECT * FROM public.{table}"))
        .await
        .expect("the reader reads it");

    let again = app.submit(&health, &fix, &[("finding", &token)]).await;
    let said = app.get(again.location.as_deref().unwrap()).await;
    assert!(
        said.body
            .contains("Nothing to fix: that finding is no longer there")
    );
    let audited: i64 = app
        .state_admin()
        .await
        .query_one(
            "SELECT count(*) FROM audit_log WHERE action = 'fix access' AND target = $1",
            &[&key],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        audited, 1,
        "the fix is recorded once, by its key, not the digest the page sent; the second did nothing"
    );
    let activity = app.get("/activity").await.body;
    let row = activity
        .split("<tr>")
        .find(|row| row.contains("fix access"))
        .expect("the fix on the Activity page");
    assert!(
        row.contains(&format!("finding {}", key.replace('"', "&#34;"))),
        "the finding named with its action: {row}"
    );
    assert!(
        row.contains(r#"data-label="User"></td>"#),
        "a finding is not a user: {row}"
    );
}

#[tokio::test]
async fn pgusers_doctor_exits_5_with_problems_fixes_them_with_fix_and_then_exits_0() {
    // A server of its own: every login role of a server is listed, and
    // another test's users would be findings here.
    let server = crate::helpers::OwnCluster::start().await;
    let db = crate::helpers::test_db_on(server.server()).await;
    let (reader, reader_secret) = db.create_user("reader", Access::ReadOnly).await;
    let (creator, creator_secret) = outside_creator(&db).await;
    let table = table_made_by(&db, &creator, &creator_secret, "loaded").await;

    let found = crate::cli::run(crate::cli::cli(&db).args(["doctor"]), "");
    let json = crate::cli::run(crate::cli::cli(&db).args(["doctor", "--json"]), "");
    let fixed = crate::cli::run(crate::cli::cli(&db).args(["doctor", "--fix"]), "");
    let clean = crate::cli::run(crate::cli::cli(&db).args(["doctor"]), "");

    assert_eq!(found.code, 5, "{}", found.stderr);
    assert!(
        found.stderr.is_empty(),
        "findings are output, not errors: {}",
        found.stderr
    );
    assert!(
        found
            .stdout
            .starts_with("3 problems (3 pgusers can fix with --fix):\n"),
        "{}",
        found.stdout
    );
    assert!(found.stdout.contains(&format!(
        "- The read-only users cannot read table public.{table} (owned by \"{creator}\").\n  Fix:\n    GRANT SELECT ON TABLE public.{table} TO"
    )));
    let findings: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(findings[0]["kind"], "unreadable");
    assert_eq!(findings[0]["relation"], format!("public.{table}"));
    assert_eq!(findings[1]["kind"], "unwritable");
    assert_eq!(findings[1]["relation"], format!("public.{table}"));
    assert_eq!(findings[2]["key"], format!("future:{creator}"));
    assert_eq!(findings[2]["severity"], "problem");
    assert_eq!(fixed.code, 0, "{}\n{}", fixed.stdout, fixed.stderr);
    assert_eq!(
        fixed.stdout.matches("Fixed: ").count(),
        3,
        "{}",
        fixed.stdout
    );
    assert!(fixed.stdout.ends_with("No problem found.\n"));
    assert_eq!(
        (clean.code, clean.stdout.as_str()),
        (0, "No problem found.\n")
    );
    db.logged_in(&reader, &reader_secret)
        .await
        .batch_execute(&format!("SELECT * FROM public.{table}"))
        .await
        .expect("the reader reads it");
}

#[tokio::test]
async fn another_databases_user_on_a_shared_server_is_a_notice_and_pgusers_doctor_exits_0() {
    let server = crate::helpers::OwnCluster::start().await;
    let db = crate::helpers::test_db_on(server.server()).await;
    let other = crate::helpers::test_db_on(server.server()).await;
    let (theirs, _) = other.create_user("theirs", Access::ReadWrite).await;
    let app = dashboard().on(db).tune(|_| {}).start().await;
    app.log_in().await;
    let db = &app.db;

    let text = crate::cli::run(crate::cli::cli(db).args(["doctor"]), "");
    let json = crate::cli::run(crate::cli::cli(db).args(["doctor", "--json"]), "");
    let page = app.get(&app.database_page("/settings/health")).await;

    assert_eq!(
        (text.code, text.stderr.as_str()),
        (0, ""),
        "{}",
        text.stdout
    );
    // Under a CREATEROLE administrator, the master role is a notice too.
    assert!(
        text.stdout.starts_with("No problem found.\n\n")
            && text.stdout.contains("(nothing fails for them):\n"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains(&format!(
            "\n- pgusers does not manage \"{theirs}\": it is a read-write user of another \
             database (a member of \"pgusers-writers-{}\")",
            other.name
        )),
        "{}",
        text.stdout
    );
    let findings: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json.code, 0);
    let theirs_found = findings
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == format!("not-manageable:{theirs}"))
        .expect("listed");
    assert_eq!(theirs_found["kind"], "not_manageable");
    assert_eq!(theirs_found["severity"], "notice");
    assert!(
        page.body.contains("No problem found. ")
            && page.body.contains(" below, for your information."),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"<h3 id="notices">Notices</h3>"#));
    assert!(
        page.body
            .contains(&format!(r#"data-key="not-manageable:{theirs}""#))
    );
}

#[tokio::test]
async fn a_fix_for_a_role_pgusers_does_not_manage_is_never_run_only_shown() {
    let db = test_db().await;
    db.create_user("reader", Access::ReadOnly).await;
    // A role that is more than an application user (CREATEDB) made a table.
    let builder = unique_name("builder");
    let secret = password();
    db.make_role_as_admin(&builder, &secret, "CREATEDB").await;
    db.admin()
        .await
        .batch_execute(&format!(
            "GRANT CREATE, USAGE ON SCHEMA public TO {}",
            ident(&builder)
        ))
        .await
        .unwrap();
    let table = unique_name("built");
    db.connect_as(&builder, secret.expose())
        .await
        .unwrap()
        .batch_execute(&format!("CREATE TABLE public.{table} (v int)"))
        .await
        .unwrap();
    let key = format!("unreadable:public.{table}");
    let memberships = || async {
        db.count(&format!(
            "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
              WHERE r.rolname = '{builder}'"
        ))
        .await
    };
    // On 16+, its creator holds it WITH ADMIN OPTION from the start.
    let before = memberships().await;

    let result = db.roles.fix_access(&key).await;

    // Whatever pgusers' role may do, even as a superuser.
    assert_eq!(result.unwrap(), None);
    assert_eq!(
        memberships().await,
        before,
        "pgusers' role took no membership in it"
    );
    let found = db.roles.check_access().await.unwrap();
    let finding = found.iter().find(|f| f.key == key).expect("still there");
    assert!(!finding.fixable);
    assert!(
        finding
            .advice
            .as_deref()
            .unwrap()
            .contains(&format!("pgusers does not act for \"{builder}\"")),
        "{finding:?}"
    );
}

/// A role someone else made (the superuser, not pgusers' role), that makes
/// tables in `public`; its name and password.
async fn someone_elses_creator(db: &TestDb) -> (String, String) {
    let name = unique_name("elsewhere");
    let secret = password();
    db.admin()
        .await
        .batch_execute(&format!(
            "CREATE ROLE {name} LOGIN PASSWORD {};
             GRANT CREATE, USAGE ON SCHEMA public TO {name};",
            crate::helpers::verifier_literal(&secret)
        ))
        .await
        .unwrap();
    (name, secret.expose().to_owned())
}

#[tokio::test]
async fn a_table_making_role_pgusers_cannot_act_for_is_named_with_its_sql() {
    let db = test_db().await;
    let (writer, writer_secret) = db.create_user("writer", Access::ReadWrite).await;
    db.create_user("reader", Access::ReadOnly).await;
    let (creator, creator_secret) = someone_elses_creator(&db).await;
    table_made_by(&db, &creator, &creator_secret, "theirs").await;

    let found = db.roles.check_access().await.unwrap();

    // A CREATEROLE role may act for a role someone else made only before
    // 16 (CREATEROLE may grant any role then); from 16 it needs ADMIN
    // OPTION, which only the role's maker got.
    let version = db.version_num().await;
    let cannot = admin_kind() == AdminKind::CreateRole && version >= 160_000;
    let (named, other) = if cannot {
        (format!("cannot-act:{creator}"), format!("future:{creator}"))
    } else {
        (format!("future:{creator}"), format!("cannot-act:{creator}"))
    };
    assert!(keys(&found).contains(&named.as_str()), "{found:#?}");
    assert!(!keys(&found).contains(&other.as_str()), "{found:#?}");
    let finding = found.iter().find(|f| f.key == named).unwrap();
    assert!(finding.is_problem());
    let sql = finding.fix_sql.clone().expect("the SQL that shares");
    assert!(
        sql.contains(&format!("ALTER DEFAULT PRIVILEGES FOR ROLE \"{creator}\"")),
        "{sql}"
    );
    if cannot {
        assert_eq!(
            finding.problem,
            Problem::CannotAct {
                role: creator.clone()
            }
        );
        assert!(!finding.fixable, "pgusers cannot run it");
        assert!(
            finding
                .advice
                .as_deref()
                .unwrap()
                .contains(&format!("GRANT \"{creator}\" TO ")),
            "the advice names the grant that would let pgusers act: {finding:#?}"
        );
        assert_eq!(
            db.roles.fix_access(&named).await.unwrap(),
            None,
            "pgusers does not run what it cannot"
        );
    }

    // Run as a superuser, the SQL shares what the role makes from now on.
    db.admin().await.batch_execute(&sql).await.unwrap();
    let after = db.roles.check_access().await.unwrap();
    assert!(!keys(&after).contains(&named.as_str()), "{after:#?}");
    let later = table_made_by(&db, &creator, &creator_secret, "later").await;
    db.run_as(
        &writer,
        &writer_secret,
        &format!("INSERT INTO public.{later} VALUES (1)"),
    )
    .await;
}

#[tokio::test]
async fn a_schema_of_a_role_pgusers_does_not_manage_is_a_notice_with_the_sql_that_shares_it() {
    let db = test_db().await;
    let (writer, writer_secret) = db.create_user("writer", Access::ReadWrite).await;
    let (reader, reader_secret) = db.create_user("reader", Access::ReadOnly).await;
    let (owner, owner_secret) = someone_elses_creator(&db).await;
    let schema = unique_name("aside");
    db.admin()
        .await
        .batch_execute(&format!("GRANT CREATE ON DATABASE {} TO {owner}", db.name))
        .await
        .unwrap();
    db.connect_as(&owner, &owner_secret)
        .await
        .unwrap()
        .batch_execute(&format!(
            "CREATE SCHEMA {schema}; CREATE TABLE {schema}.kept (id serial, v int)"
        ))
        .await
        .unwrap();
    let table = format!("{schema}.kept");
    let as_writer = db.logged_in(&writer, &writer_secret).await;
    let write = format!("INSERT INTO {table} (v) VALUES (1)");
    assert_eq!(sqlstate(as_writer.batch_execute(&write).await), "42501");

    let found = db.roles.check_access().await.unwrap();

    let key = format!("left-alone:{schema}");
    let finding = finding_in(&found, &key);
    assert_eq!(finding.severity, Severity::Notice);
    assert!(!finding.fixable);
    assert_eq!(
        finding.problem,
        Problem::LeftAlone {
            schema: schema.clone(),
            owner: owner.clone()
        }
    );
    assert!(
        !keys(&found).contains(&format!("unwritable:{table}").as_str()),
        "what is in a schema pgusers leaves alone is no problem of its: {found:#?}"
    );

    db.admin()
        .await
        .batch_execute(finding.fix_sql.as_deref().unwrap())
        .await
        .unwrap();
    as_writer.batch_execute(&write).await.unwrap();
    db.logged_in(&reader, &reader_secret)
        .await
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .unwrap();
    let after = db.roles.check_access().await.unwrap();
    assert!(
        !keys(&after).contains(&key.as_str()),
        "shared by hand, it is no longer named: {after:#?}"
    );
}

#[tokio::test]
async fn a_membership_pgusers_did_not_grant_is_named_with_the_sql_that_takes_it_back() {
    let db = test_db().await;
    let (writer, writer_secret) = db.create_user("setrw", Access::ReadWrite).await;
    let (orphan, _) = db.create_user("orphan", Access::ReadWrite).await;
    let writers = ident(&format!("pgusers-writers-{}", db.name));
    let version = db.version_num().await;
    // Someone lets the writer act as the group (a grant by another role is
    // a row of its own on 16+), and takes the other out of it.
    if version >= 160_000 {
        db.admin()
            .await
            .batch_execute(&format!(
                "GRANT {writers} TO {} WITH SET TRUE",
                ident(writer.as_str())
            ))
            .await
            .unwrap();
    }
    db.as_admin_in_use()
        .await
        .batch_execute(&format!("REVOKE {writers} FROM {}", ident(orphan.as_str())))
        .await
        .unwrap();

    let found = db.roles.check_access().await.unwrap();

    let set_key = format!("membership:{writer}");
    let set = found.iter().find(|f| f.key == set_key);
    if version >= 160_000 {
        let set = set.unwrap_or_else(|| panic!("{set_key} in {found:#?}"));
        assert!(set.is_problem() && !set.fixable);
        let sql = set.fix_sql.clone().unwrap();
        assert!(sql.starts_with("REVOKE SET OPTION FOR"), "{sql}");
        let as_writer = db.logged_in(&writer, &writer_secret).await;
        as_writer
            .batch_execute(&format!("SET ROLE {writers}; RESET ROLE"))
            .await
            .expect("it may act as the group before");
        db.admin().await.batch_execute(&sql).await.unwrap();
        assert_eq!(
            sqlstate(
                as_writer
                    .batch_execute(&format!("SET ROLE {writers}"))
                    .await
            ),
            "42501",
            "after the SQL it may not"
        );
        let after = db.roles.check_access().await.unwrap();
        assert!(!keys(&after).contains(&set_key.as_str()), "{after:#?}");
    } else {
        assert!(set.is_none(), "before 16 every membership allows SET ROLE");
    }
    let orphan_key = format!("membership:{orphan}");
    let finding = finding_in(&found, &orphan_key);
    assert!(
        matches!(&finding.problem, Problem::Membership { user, detail }
                 if user == orphan.as_str() && detail.contains("member of neither")),
        "{finding:#?}"
    );
    assert!(
        finding
            .advice
            .as_deref()
            .unwrap()
            .contains(&format!("GRANT {writers} TO {}", ident(orphan.as_str()))),
        "{finding:#?}"
    );
}

#[tokio::test]
async fn a_read_only_user_given_the_read_write_group_or_admin_option_is_named() {
    let db = test_db().await;
    let (reader, reader_secret) = db.create_user("bothro", Access::ReadOnly).await;
    let (writer, _) = db.create_user("adminrw", Access::ReadWrite).await;
    let writers = ident(&format!("pgusers-writers-{}", db.name));
    db.connect_as_protected()
        .await
        .batch_execute("CREATE TABLE public.kept (v int)")
        .await
        .unwrap();
    db.admin()
        .await
        .batch_execute(&format!(
            "GRANT {writers} TO {}; GRANT {writers} TO {} WITH ADMIN OPTION;",
            ident(reader.as_str()),
            ident(writer.as_str())
        ))
        .await
        .unwrap();
    db.run_as(
        &reader,
        &reader_secret,
        "INSERT INTO public.kept VALUES (1)",
    )
    .await;

    let found = db.roles.check_access().await.unwrap();

    let both = found
        .iter()
        .find(|f| f.key == format!("membership:{reader}"))
        .unwrap_or_else(|| panic!("membership:{reader} in {found:#?}"));
    assert!(both.words.contains("both"), "{both:#?}");
    let admin = found
        .iter()
        .find(|f| f.key == format!("membership:{writer}"))
        .unwrap_or_else(|| panic!("membership:{writer} in {found:#?}"));
    let sql = admin.fix_sql.clone().unwrap();
    assert!(sql.contains("REVOKE ADMIN OPTION FOR"), "{sql}");
    db.admin().await.batch_execute(&sql).await.unwrap();
    let after = db.roles.check_access().await.unwrap();
    assert!(
        !keys(&after).contains(&format!("membership:{writer}").as_str()),
        "{after:#?}"
    );
}

#[tokio::test]
async fn a_schema_named_after_another_user_is_named_because_it_comes_first_in_its_search_path() {
    let db = test_db().await;
    let (target, target_secret) = db.create_user("target", Access::ReadWrite).await;
    let (maker, maker_secret) = db.create_user("maker", Access::ReadWrite).await;
    db.connect_as_protected()
        .await
        .batch_execute("CREATE TABLE public.prices (v int); INSERT INTO public.prices VALUES (1)")
        .await
        .unwrap();
    // The maker plants a table of the same name in a schema named after
    // the other user: that user's unqualified "prices" now means it.
    db.run_as(
        &maker,
        &maker_secret,
        &format!(
            "CREATE SCHEMA {target}; CREATE TABLE {target}.prices (v int);
             INSERT INTO {target}.prices VALUES (666);"
        ),
    )
    .await;
    // What the target user's unqualified "prices" reads.
    let seen = || async {
        db.logged_in(&target, &target_secret)
            .await
            .query_one("SELECT v FROM prices", &[])
            .await
            .unwrap()
            .get::<_, i32>(0)
    };
    assert_eq!(seen().await, 666, "the planted table comes first");

    let found = db.roles.check_access().await.unwrap();

    let key = format!("named-after:{target}");
    let finding = finding_in(&found, &key);
    assert_eq!(
        finding.problem,
        Problem::NamedAfterAnother {
            schema: target.to_string(),
            owner: maker.to_string()
        }
    );
    assert!(finding.is_problem() && !finding.fixable);
    db.admin()
        .await
        .batch_execute(finding.fix_sql.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(seen().await, 1, "renamed, public's table is found again");
    let after = db.roles.check_access().await.unwrap();
    assert!(!keys(&after).contains(&key.as_str()), "{after:#?}");
}

#[tokio::test]
async fn what_a_group_owns_is_named_with_the_sql_that_gives_it_to_the_protected_user() {
    let db = test_db().await;
    let (writer, writer_secret) = db.create_user("ownrw", Access::ReadWrite).await;
    let writers = format!("pgusers-writers-{}", db.name);
    let table = unique_name("owned");
    db.admin()
        .await
        .batch_execute(&format!(
            "CREATE TABLE public.{table} (v int); ALTER TABLE public.{table} OWNER TO {}",
            ident(&writers)
        ))
        .await
        .unwrap();
    // Every member may now drop it: it owns it through the group.
    let as_writer = db.logged_in(&writer, &writer_secret).await;
    as_writer
        .batch_execute(&format!("ALTER TABLE public.{table} ADD COLUMN w int"))
        .await
        .expect("a member changes what the group owns");

    let found = db.roles.check_access().await.unwrap();

    let key = format!("group-owns:{writers}");
    let finding = finding_in(&found, &key);
    assert!(finding.is_problem());
    assert!(
        finding.words.contains(&format!("table public.{table}")),
        "{finding:#?}"
    );
    db.admin()
        .await
        .batch_execute(finding.fix_sql.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(db.table_owner(&table).await, db.protected);
    assert_eq!(
        sqlstate(
            as_writer
                .batch_execute(&format!("ALTER TABLE public.{table} DROP COLUMN w"))
                .await
        ),
        "42501",
        "the member no longer owns it"
    );
    let after = db.roles.check_access().await.unwrap();
    assert!(!keys(&after).contains(&key.as_str()), "{after:#?}");
}

#[tokio::test]
async fn what_a_group_is_granted_beyond_an_application_users_is_named_with_the_sql_that_takes_it_back()
 {
    // A superuser's view reads pg_authid with its rights; a system
    // function reads the server's files; a column of a system catalog:
    // granted to a group, each makes every member more than an
    // application user.
    let db = test_db().await;
    let (writer, _) = db.create_user("beyrw", Access::ReadWrite).await;
    let writers = format!("pgusers-writers-{}", db.name);
    let view = unique_name("beyond_view");
    db.admin()
        .await
        .batch_execute(&format!(
            "CREATE VIEW public.{view} AS SELECT rolname FROM pg_authid; \
             GRANT SELECT ON public.{view} TO {writers}; \
             GRANT EXECUTE ON FUNCTION pg_read_binary_file(text) TO {writers}; \
             GRANT SELECT (rolname) ON pg_authid TO {writers}; \
             GRANT CREATE ON TABLESPACE pg_default TO {writers}",
            writers = ident(&writers)
        ))
        .await
        .unwrap();
    assert!(!db.listed(writer.as_str()).await.manageable());

    let found = db.roles.check_access().await.unwrap();

    let key = format!("group-beyond:{writers}");
    let finding = finding_in(&found, &key);
    assert!(finding.is_problem() && !finding.fixable, "{finding:#?}");
    for object in [
        format!("view public.{view}"),
        "pg_read_binary_file".to_owned(),
        "column rolname of table pg_authid".to_owned(),
        "tablespace pg_default".to_owned(),
    ] {
        assert!(finding.words.contains(&object), "{object}: {finding:#?}");
    }
    let sql = finding.fix_sql.as_deref().unwrap();
    for statement in [
        format!(
            "REVOKE ALL ON TABLE public.{view} FROM {};",
            ident(&writers)
        ),
        format!(
            "REVOKE ALL ON TABLE pg_catalog.pg_authid FROM {};",
            ident(&writers)
        ),
        format!(
            "REVOKE ALL ON FUNCTION pg_catalog.pg_read_binary_file(pg_catalog.text) FROM {};",
            ident(&writers)
        ),
        format!(
            "REVOKE ALL ON TABLESPACE pg_default FROM {};",
            ident(&writers)
        ),
    ] {
        assert!(sql.contains(&statement), "{statement}: {sql}");
    }
    // Run as the superuser, the SQL takes it all back.
    db.admin().await.batch_execute(sql).await.unwrap();
    assert!(db.listed(writer.as_str()).await.manageable());
    let after = db.roles.check_access().await.unwrap();
    assert!(!keys(&after).contains(&key.as_str()), "{after:#?}");
}

#[tokio::test]
async fn default_privileges_a_group_owns_are_named_too() {
    // Found by their own index (sql/group_deps.sql), not among the default
    // privileges of the users that name the groups.
    let db = test_db().await;
    db.create_user("dflrw", Access::ReadWrite).await;
    let readers = format!("pgusers-readonly-{}", db.name);
    let clean = db.roles.check_access().await.unwrap();
    let key = format!("group-owns:{readers}");
    assert!(!keys(&clean).contains(&key.as_str()), "{clean:#?}");
    db.admin()
        .await
        .batch_execute(&format!(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {group} GRANT SELECT ON TABLES TO PUBLIC; \
             ALTER DEFAULT PRIVILEGES FOR ROLE {group} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC; \
             ALTER DEFAULT PRIVILEGES FOR ROLE {group} IN SCHEMA public \
                 GRANT USAGE ON SEQUENCES TO {protected}; \
             ALTER DEFAULT PRIVILEGES FOR ROLE {group} IN SCHEMA public \
                 GRANT SELECT ON TABLES TO {group}; \
             ALTER DEFAULT PRIVILEGES FOR ROLE {group} \
                 GRANT ALL ON TYPES TO {group} WITH GRANT OPTION",
            group = ident(&readers),
            protected = ident(&db.protected)
        ))
        .await
        .unwrap();

    let found = db.roles.check_access().await.unwrap();

    let finding = finding_in(&found, &key);
    assert!(finding.is_problem());
    assert!(
        finding.words.contains(&format!(
            "default privileges on new relations belonging to role {readers}"
        )),
        "{finding:#?}"
    );
    // REASSIGN OWNED does not move default privileges: the SQL offered
    // empties the group's row, which PostgreSQL then drops.
    db.admin()
        .await
        .batch_execute(finding.fix_sql.as_deref().unwrap())
        .await
        .unwrap();
    let left: i64 = db
        .admin()
        .await
        .query_one(
            "SELECT count(*) FROM pg_default_acl d JOIN pg_roles r ON r.oid = d.defaclrole \
             WHERE r.rolname = $1",
            &[&readers],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "{:?}", finding.fix_sql);
    let after = db.roles.check_access().await.unwrap();
    assert!(!keys(&after).contains(&key.as_str()), "{after:#?}");
}

#[tokio::test]
async fn a_member_that_does_not_inherit_its_groups_privileges_is_named() {
    let db = test_db().await;
    let (writer, writer_secret) = db.create_user("noinh", Access::ReadWrite).await;
    let writers = ident(&format!("pgusers-writers-{}", db.name));
    let version = db.version_num().await;
    // Before 16 a NOINHERIT role gets nothing from its memberships; from
    // 16 the membership's own INHERIT option decides.
    let change = if version >= 160_000 {
        format!(
            "GRANT {writers} TO {} WITH INHERIT FALSE",
            ident(writer.as_str())
        )
    } else {
        format!("ALTER ROLE {} NOINHERIT", ident(writer.as_str()))
    };
    db.as_admin_in_use()
        .await
        .batch_execute(&change)
        .await
        .unwrap();
    db.connect_as_protected()
        .await
        .batch_execute("CREATE TABLE public.lost (v int)")
        .await
        .unwrap();
    let as_writer = db.logged_in(&writer, &writer_secret).await;
    assert_eq!(
        sqlstate(
            as_writer
                .batch_execute("INSERT INTO public.lost VALUES (1)")
                .await
        ),
        "42501"
    );

    let found = db.roles.check_access().await.unwrap();

    let key = format!("membership:{writer}");
    let finding = finding_in(&found, &key);
    assert!(
        finding.words.contains("does not get the privileges"),
        "{finding:#?}"
    );
    db.as_admin_in_use()
        .await
        .batch_execute(finding.fix_sql.as_deref().unwrap())
        .await
        .unwrap();
    as_writer
        .batch_execute("INSERT INTO public.lost VALUES (1)")
        .await
        .expect("after the SQL it writes through the group");
}

/// Whether group_deps.sql reads the groups' dependencies by object: the
/// count it makes (the rows of every class it would read, but for the
/// default privileges and the server's memberships) is under 2,000.
async fn groups_read_by_object(db: &TestDb) -> bool {
    db.admin()
        .await
        .query_one(
            "SELECT count(*) < 2000 FROM pg_shdepend
              WHERE dbid IN (0, (SELECT oid FROM pg_database
                                  WHERE datname = current_database()))
                AND classid <> 'pg_default_acl'::regclass
                AND NOT (dbid = 0 AND classid = 'pg_auth_members'::regclass)",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn the_groups_grants_and_objects_are_found_whichever_way_they_are_read() {
    // group_deps.sql reads the groups' dependencies by object while the
    // classes that way reads hold fewer than 2,000 rows, else by role. A
    // cluster of its own, so other tests' databases do not weigh on the
    // count.
    let (_cluster, db) = test_db_alone().await;
    let (writer, _) = db.create_user("waysrw", Access::ReadWrite).await;
    for i in 0..8 {
        db.create_user(&format!("ways{i}"), Access::ReadWrite).await;
    }
    let writers = format!("pgusers-writers-{}", db.name);
    let readers = format!("pgusers-readonly-{}", db.name);
    let check = |by_object: bool| {
        let (db, writer, writers, readers) = (&db, &writer, &writers, &readers);
        async move {
            assert_eq!(groups_read_by_object(db).await, by_object);
            let table = unique_name("ways_t");
            db.admin()
                .await
                .batch_execute(&format!(
                    "GRANT EXECUTE ON FUNCTION pg_read_binary_file(text) TO {w}; \
                     CREATE TABLE public.{table} (v int); \
                     ALTER TABLE public.{table} OWNER TO {r}",
                    w = ident(writers),
                    r = ident(readers)
                ))
                .await
                .unwrap();
            let listed = db.listed(writer.as_str()).await;
            assert!(
                matches!(&listed.not_manageable,
                         Some(pgusers::roles::Restriction::MemberOfPrivilegedObjects { role, objects })
                         if role == writers && objects.contains("pg_read_binary_file")),
                "by object: {by_object}: {listed:?}"
            );
            let found = db.roles.check_access().await.unwrap();
            let owns = finding_in(&found, &format!("group-owns:{readers}"));
            assert!(
                owns.words.contains(&format!("table public.{table}")),
                "by object: {by_object}: {owns:#?}"
            );
            db.admin()
                .await
                .batch_execute(&format!(
                    "REVOKE EXECUTE ON FUNCTION pg_read_binary_file(text) FROM {w}; \
                     DROP TABLE public.{table}",
                    w = ident(writers)
                ))
                .await
                .unwrap();
            assert!(db.listed(writer.as_str()).await.manageable());
        }
    };
    check(true).await;
    // Large objects of a role the groups have nothing to do with: the
    // database's other classes now hold more than 2,000 rows.
    let bulk = unique_name("bulk");
    db.admin()
        .await
        .batch_execute(&format!(
            "CREATE ROLE {bulk} NOLOGIN; SET ROLE {bulk}; \
             SELECT count(lo_create(0)) FROM generate_series(1, 2100); RESET ROLE"
        ))
        .await
        .unwrap();
    check(false).await;
}
