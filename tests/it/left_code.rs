//! Code a deleted user leaves that PostgreSQL, or maintenance, runs with
//! the new owner's rights: neutralised before the move, or the delete is
//! refused, naming what a person runs after reviewing it.

use pgusers::domain::RoleName;
use pgusers::roles::{Access, RoleError};

use crate::helpers::{TestDb, ident, test_db};

/// Deletes `user`, expecting a refusal for code to review; checks that
/// the confirmation page says so too, and that nothing changed (it still
/// logs in, unlimited). Returns the refusal's words.
async fn refused_for_review(db: &TestDb, user: &pgusers::domain::Username, secret: &str) -> String {
    let target = RoleName::from(user.clone());
    let preview = db.roles.ownership(&target).await.unwrap();
    let deleted = db.roles.delete(&target).await;
    let message = match deleted {
        Err(error @ RoleError::CodeToReview { .. }) => error.to_string(),
        other => panic!("{other:?}"),
    };
    assert_eq!(preview.refused.as_deref(), Some(message.as_str()));
    assert!(db.role_exists(user.as_str()).await);
    assert_eq!(db.listed(user.as_str()).await.connection_limit, None);
    db.connect_as(user.as_str(), secret)
        .await
        .expect("it still logs in: nothing changed");
    message
}

/// Runs the fix a refusal names, as a superuser.
async fn run_fix(db: &TestDb, message: &str) {
    let fix = message
        .split("run (as a superuser, or their owner): ")
        .nth(1)
        .and_then(|rest| rest.split(" Then delete again.").next())
        .unwrap_or_else(|| panic!("no fix in {message}"));
    db.admin().await.batch_execute(fix).await.unwrap();
}

#[tokio::test]
async fn a_range_type_whose_subtype_diff_is_the_users_stops_the_delete_until_reviewed() {
    let db = test_db().await;
    let (writer, secret) = db.create_user("ranger", Access::ReadWrite).await;
    // Autovacuum's ANALYZE of `spans` calls `gap` as the table's owner.
    db.run_as(
        &writer,
        &secret,
        "CREATE FUNCTION gap(int, int) RETURNS float8 LANGUAGE plpgsql IMMUTABLE AS
             $$ BEGIN RETURN $1 - $2; END $$;
         CREATE TYPE span AS RANGE (subtype = int4, subtype_diff = gap);
         CREATE TABLE spans (r span)
             WITH (autovacuum_analyze_threshold = 0, autovacuum_analyze_scale_factor = 0);
         INSERT INTO spans VALUES ('[1,5)');",
    )
    .await;

    let message = refused_for_review(&db, &writer, secret.expose()).await;

    assert!(message.contains("public.span"), "{message}");
    assert!(
        message.contains(&format!(
            "ALTER ROUTINE public.gap(integer,integer) OWNER TO {};",
            db.protected
        )),
        "{message}"
    );
    // Once a person has reviewed it and handed it over, the delete goes on.
    run_fix(&db, &message).await;
    db.roles
        .delete(&RoleName::from(writer.clone()))
        .await
        .unwrap();
    assert_eq!(db.table_owner("spans").await, db.protected);
}

#[tokio::test]
async fn a_partition_key_an_exclusion_constraint_or_a_foreign_keys_cast_calling_its_code_stops_the_delete()
 {
    for (what, sql, named) in [
        (
            "partition key",
            "CREATE FUNCTION bucket(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 / 10';
             CREATE TABLE parted (v int) PARTITION BY RANGE (bucket(v));",
            "public.bucket(integer)",
        ),
        (
            "exclusion constraint",
            "CREATE FUNCTION live(int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 > 0';
             CREATE TABLE booked (r int4range, v int, EXCLUDE USING gist (r WITH &&) WHERE (live(v)));",
            "public.live(integer)",
        ),
        (
            "foreign key",
            "CREATE TABLE keys (id int PRIMARY KEY);
             CREATE TYPE boxed AS (v int);
             CREATE FUNCTION unbox(boxed) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT ($1).v';
             CREATE CAST (boxed AS int) WITH FUNCTION unbox(boxed) AS IMPLICIT;
             CREATE TABLE refers (k boxed REFERENCES keys (id));",
            "public.unbox(public.boxed)",
        ),
    ] {
        let db = test_db().await;
        let (writer, secret) = db.create_user("keyed", Access::ReadWrite).await;
        db.run_as(&writer, &secret, sql).await;

        let message = refused_for_review(&db, &writer, secret.expose()).await;

        assert!(
            message.contains(&format!("ALTER ROUTINE {named} OWNER TO")),
            "{what}: {message}"
        );
        run_fix(&db, &message).await;
        db.roles
            .delete(&RoleName::from(writer.clone()))
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
    }
}

#[tokio::test]
async fn a_partial_indexs_predicate_and_forced_policies_calling_its_code_never_run_as_the_protected_user()
 {
    let db = test_db().await;
    let (writer, secret) = db.create_user("policies", Access::ReadWrite).await;
    db.run_as(
        &writer,
        &secret,
        "CREATE FUNCTION trap() RETURNS boolean LANGUAGE plpgsql STABLE AS
             $$ BEGIN RAISE EXCEPTION 'the trap ran as %', current_user; END $$;
         CREATE FUNCTION wanted(int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 > 0';
         CREATE TABLE measured (x int);
         INSERT INTO measured VALUES (1);
         CREATE INDEX measured_wanted ON measured (x) WHERE wanted(x);
         CREATE TABLE guarded (v int);
         INSERT INTO guarded VALUES (1);
         ALTER TABLE guarded ENABLE ROW LEVEL SECURITY;
         ALTER TABLE guarded FORCE ROW LEVEL SECURITY;
         CREATE POLICY everyone ON guarded USING (v > 0);
         CREATE POLICY trapped ON guarded AS RESTRICTIVE USING (trap());",
    )
    .await;
    let target = RoleName::from(writer.clone());
    let preview = db.roles.ownership(&target).await.unwrap();

    db.roles.delete(&target).await.unwrap();

    let named = |needle: &str| preview.code.iter().any(|c| c.object.contains(needle));
    assert!(named("measured_wanted"), "{preview:?}");
    assert!(named("table public.guarded"), "{preview:?}");
    assert_eq!(
        db.count("SELECT count(*) FROM pg_class WHERE relname = 'measured_wanted'")
            .await,
        0,
        "ANALYZE would run its predicate as the owner"
    );
    let protected = db.connect_as_protected().await;
    let rows = protected
        .query("SELECT v FROM guarded", &[])
        .await
        .expect("the trap does not run as the protected user");
    assert_eq!(rows.len(), 1);
    assert_eq!(
        db.count("SELECT count(*) FROM pg_policy WHERE polname IN ('everyone', 'trapped')")
            .await,
        2,
        "the policies stay, for everyone else"
    );
}

#[tokio::test]
async fn what_others_may_attach_to_its_tables_is_revoked_and_their_triggers_there_disabled() {
    let db = test_db().await;
    let (leaver, leaver_secret) = db.create_user("leaver", Access::ReadWrite).await;
    let (peer, peer_secret) = db.create_user("peer", Access::ReadWrite).await;
    let maintain = if db.version_num().await >= 170_000 {
        ", MAINTAIN"
    } else {
        ""
    };
    db.run_as(
        &leaver,
        &leaver_secret,
        &format!(
            "CREATE TABLE shared (v int);
             CREATE MATERIALIZED VIEW shared_totals AS SELECT count(*) FROM shared;
             GRANT SELECT, INSERT, TRIGGER, REFERENCES ON shared TO {peer};
             GRANT SELECT{maintain} ON shared_totals TO {peer};",
            peer = ident(peer.as_str())
        ),
    )
    .await;
    db.run_as(
        &peer,
        &peer_secret,
        "CREATE FUNCTION planted() RETURNS trigger LANGUAGE plpgsql AS
             $$ BEGIN RAISE EXCEPTION 'planted ran as %', current_user; END $$;
         CREATE TRIGGER planted AFTER INSERT ON shared FOR EACH ROW EXECUTE FUNCTION planted();",
    )
    .await;

    db.roles.delete(&RoleName::from(leaver)).await.unwrap();

    for (object, privilege) in [
        ("shared", "TRIGGER"),
        ("shared", "REFERENCES"),
        ("shared_totals", "MAINTAIN"),
    ] {
        if privilege == "MAINTAIN" && maintain.is_empty() {
            continue;
        }
        assert_eq!(
            db.count(&format!(
                "SELECT has_table_privilege('{peer}', '{object}', '{privilege}')::int::bigint"
            ))
            .await,
            0,
            "{privilege} on {object}"
        );
    }
    db.connect_as_protected()
        .await
        .batch_execute("INSERT INTO shared VALUES (1)")
        .await
        .expect("the peer's trigger no longer runs as the protected user");
    assert_eq!(
        db.count("SELECT count(*) FROM pg_trigger WHERE tgname = 'planted' AND tgenabled = 'D'")
            .await,
        1,
        "kept, disabled"
    );
}

/// A peer's range type whose `subtype_diff` is the peer's function.
macro_rules! peer_span {
    () => {
        "CREATE FUNCTION peer_gap(int, int) RETURNS float8 LANGUAGE sql IMMUTABLE
             AS 'SELECT ($1 - $2)::float8';
         CREATE TYPE peer_span AS RANGE (subtype = int4, subtype_diff = peer_gap);"
    };
}

#[tokio::test]
async fn code_reached_through_a_type_or_an_operator_is_found_too() {
    // Each: what the leaving user (and, first, a peer) makes, and the
    // function a refusal must name; None when the code is neutralised.
    let cases: [(&str, &str, &str, Option<&str>); 13] = [
        (
            "another role's range type in a column of its table",
            peer_span!(),
            "CREATE TABLE spans (r peer_span);",
            Some("public.peer_gap(integer,integer)"),
        ),
        (
            "an array of another role's range type in a column of its table",
            peer_span!(),
            "CREATE TABLE spans (r peer_span[]);",
            Some("public.peer_gap(integer,integer)"),
        ),
        (
            "a composite type holding another role's range type in a column of its table",
            concat!(
                peer_span!(),
                " CREATE TYPE peer_pair AS (label text, r peer_span);"
            ),
            "CREATE TABLE pairs (p peer_pair);",
            Some("public.peer_gap(integer,integer)"),
        ),
        (
            "a composite type holding an array of another role's range type",
            concat!(
                peer_span!(),
                " CREATE TYPE peer_spans AS (label text, rs peer_span[]);"
            ),
            "CREATE TABLE pairs (p peer_spans);",
            Some("public.peer_gap(integer,integer)"),
        ),
        (
            "an array of a composite type holding another role's range type",
            concat!(
                peer_span!(),
                " CREATE TYPE peer_pair AS (label text, r peer_span);"
            ),
            "CREATE TABLE pairs (ps peer_pair[]);",
            Some("public.peer_gap(integer,integer)"),
        ),
        (
            "a composite type holding one that holds another role's range type",
            concat!(
                peer_span!(),
                " CREATE TYPE peer_pair AS (label text, r peer_span);
                 CREATE TYPE peer_outer AS (inner_pair peer_pair);"
            ),
            "CREATE TABLE pairs (p peer_outer);",
            Some("public.peer_gap(integer,integer)"),
        ),
        (
            "a composite type holding an array of one that holds another role's range type",
            concat!(
                peer_span!(),
                " CREATE TYPE peer_pair AS (label text, r peer_span);
                 CREATE TYPE peer_outer AS (pairs peer_pair[]);"
            ),
            "CREATE TABLE pairs (p peer_outer);",
            Some("public.peer_gap(integer,integer)"),
        ),
        (
            "the multirange of another role's range type in a column of its table",
            peer_span!(),
            "CREATE TABLE spans (r peer_span_multirange);",
            Some("public.peer_gap(integer,integer)"),
        ),
        (
            "a partition key casting to a domain whose check calls code",
            "CREATE FUNCTION peer_check(int) RETURNS boolean LANGUAGE sql IMMUTABLE
                 AS 'SELECT $1 > 0';
             CREATE DOMAIN positive AS int CHECK (peer_check(VALUE));",
            "CREATE TABLE parted (x int) PARTITION BY RANGE ((x::positive));",
            Some("public.peer_check(integer)"),
        ),
        (
            "a foreign key whose column is a domain over a type with a cast",
            "CREATE TYPE level AS ENUM ('1', '2', '3');
             CREATE FUNCTION level_number(level) RETURNS int LANGUAGE sql IMMUTABLE
                 AS 'SELECT ($1::text)::int';
             CREATE CAST (level AS int) WITH FUNCTION level_number(level) AS IMPLICIT;
             CREATE DOMAIN levelled AS level;",
            "CREATE TABLE keys (id int PRIMARY KEY);
             CREATE TABLE refers (x levelled REFERENCES keys (id));",
            Some("public.level_number(public.level)"),
        ),
        (
            "an index casting to a domain whose check calls code",
            "CREATE FUNCTION peer_ok(int) RETURNS boolean LANGUAGE sql IMMUTABLE
                 AS 'SELECT $1 > 0';
             CREATE DOMAIN okay AS int CHECK (peer_ok(VALUE));",
            "CREATE TABLE measured (x int);
             CREATE INDEX measured_okay ON measured ((x::okay));",
            None,
        ),
        (
            "an index casting to a domain whose check casts to another domain",
            "CREATE FUNCTION peer_deep(int) RETURNS boolean LANGUAGE sql IMMUTABLE
                 AS 'SELECT $1 > 0';
             CREATE DOMAIN inner_okay AS int CHECK (peer_deep(VALUE));
             CREATE DOMAIN outer_okay AS int CHECK ((VALUE::inner_okay) IS NOT NULL);",
            "CREATE TABLE measured (x int);
             CREATE INDEX measured_okay ON measured (((x::outer_okay)::int));",
            None,
        ),
        (
            "an index casting to a domain whose check makes a row with a checked column",
            "CREATE FUNCTION peer_row(int) RETURNS boolean LANGUAGE sql IMMUTABLE
                 AS 'SELECT $1 > 0';
             CREATE DOMAIN row_okay AS int CHECK (peer_row(VALUE));
             CREATE TABLE checked_row (x row_okay);
             CREATE DOMAIN via_row AS int
                 CHECK ((('(' || VALUE || ')')::checked_row) IS NOT NULL);",
            "CREATE TABLE measured (x int);
             CREATE INDEX measured_okay ON measured (((x::via_row)::int));",
            None,
        ),
    ];
    for (what, peer_sql, leaver_sql, function) in cases {
        let db = test_db().await;
        let (peer, peer_secret) = db.create_user("peer", Access::ReadWrite).await;
        db.run_as(&peer, &peer_secret, peer_sql).await;
        let (leaver, secret) = db.create_user("leaver", Access::ReadWrite).await;
        db.run_as(&leaver, &secret, leaver_sql).await;

        match function {
            Some(function) => {
                let message = refused_for_review(&db, &leaver, secret.expose()).await;
                assert!(
                    message.contains(&format!("ALTER ROUTINE {function} OWNER TO")),
                    "{what}: {message}"
                );
            }
            None => {
                db.roles
                    .delete(&RoleName::from(leaver.clone()))
                    .await
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(
                    db.count("SELECT count(*) FROM pg_class WHERE relname = 'measured_okay'")
                        .await,
                    0,
                    "{what}: ANALYZE would check the domain as the owner"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_trigger_whose_when_uses_its_operator_is_disabled_and_a_partitioned_index_dropped_once() {
    let db = test_db().await;
    let (writer, secret) = db.create_user("operators", Access::ReadWrite).await;
    db.run_as(
        &writer,
        &secret,
        "CREATE FUNCTION same(int, int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS
             $$ BEGIN RAISE EXCEPTION 'same ran as %', current_user; END $$;
         CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = same);
         CREATE TABLE watched (x int);
         CREATE TRIGGER watching BEFORE INSERT ON watched FOR EACH ROW
             WHEN (NEW.x OPERATOR(public.===) 1)
             EXECUTE FUNCTION suppress_redundant_updates_trigger();
         CREATE FUNCTION norm(text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT lower($1)';
         CREATE TABLE names (name text) PARTITION BY LIST (name);
         CREATE TABLE names_a PARTITION OF names FOR VALUES IN ('a');
         CREATE INDEX names_norm ON names (norm(name));",
    )
    .await;

    db.roles
        .delete(&RoleName::from(writer.clone()))
        .await
        .expect("a partitioned index is dropped once, with its partitions'");

    db.connect_as_protected()
        .await
        .batch_execute("INSERT INTO watched VALUES (1)")
        .await
        .expect("the trigger no longer runs the operator as the protected user");
    assert_eq!(
        db.count("SELECT count(*) FROM pg_class WHERE relname LIKE 'names%norm%' AND relkind IN ('i', 'I')")
            .await,
        0
    );
}

#[tokio::test]
async fn a_deleted_users_code_stays_unreviewed_once_the_protected_user_owns_it() {
    let db = test_db().await;
    let (first, first_secret) = db.create_user("first_out", Access::ReadWrite).await;
    db.run_as(
        &first,
        &first_secret,
        "CREATE FUNCTION bucketed(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 / 10';
         COMMENT ON FUNCTION bucketed(int) IS 'groups by ten';",
    )
    .await;
    let (second, second_secret) = db.create_user("second_out", Access::ReadWrite).await;
    db.run_as(
        &second,
        &second_secret,
        "CREATE TABLE indexed (x int);
         CREATE INDEX indexed_bucketed ON indexed (public.bucketed(x));
         CREATE TABLE parted (x int) PARTITION BY RANGE (public.bucketed(x));",
    )
    .await;
    // The first user goes: its function is now the protected user's, but
    // nobody reviewed it.
    db.roles
        .delete(&RoleName::from(first.clone()))
        .await
        .unwrap();

    let message = refused_for_review(&db, &second, second_secret.expose()).await;

    assert!(message.contains("public.bucketed(integer)"), "{message}");
    assert!(
        message.contains("COMMENT ON ROUTINE public.bucketed(integer) IS 'groups by ten';"),
        "reviewing it puts its own comment back: {message}"
    );
    run_fix(&db, &message).await;
    db.roles
        .delete(&RoleName::from(second.clone()))
        .await
        .expect("reviewed, it runs as the protected user by decision");
    assert_eq!(
        db.count("SELECT count(*) FROM pg_class WHERE relname = 'indexed_bucketed'")
            .await,
        1,
        "reviewed code is the protected user's own: its index stays"
    );
}
