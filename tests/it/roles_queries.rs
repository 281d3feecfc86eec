//! Every query of the role module is one PostgreSQL accepts, on the major
//! and as the kind of administrator the suite runs: each plain query, each
//! composed one and every variant of the listing query is prepared (parsed
//! and checked against the catalogs), as the role module prepares it. No
//! other test runs them all: a listing variant runs only when some test
//! asks for that search, filter and window. The statements without bind
//! parameters (`CREATE ROLE`, `GRANT`…) are run by the tests of each change.

use crate::helpers::test_db;

#[tokio::test]
async fn postgresql_prepares_every_query_of_the_role_module() {
    let db = test_db().await;
    let admin = pgusers::db::connect(pgusers::roles::admin_config(db.roles_config().into()))
        .await
        .expect("the administrator in use connects as the role module does");
    let version: i32 = admin
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .await
        .unwrap()
        .get(0);
    let queries: Vec<_> = pgusers::roles::every_query()
        .into_iter()
        .filter(|query| query.since <= version)
        .collect();

    let mut refused = Vec::new();
    for query in &queries {
        if let Err(error) = admin.prepare_typed(&query.sql, query.types).await {
            let why = error.as_db_error().map_or_else(
                || error.to_string(),
                |db| format!("{} {}", db.code().code(), db.message()),
            );
            refused.push(format!("{}: {why}", query.name));
        }
    }

    assert!(
        refused.is_empty(),
        "PostgreSQL refused {} of the {} queries:\n{}",
        refused.len(),
        queries.len(),
        refused.join("\n")
    );
}
