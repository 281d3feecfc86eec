//! Two `pgusers serve` processes sharing the session key and the state
//! database behave as one dashboard: how pgusers scales past one machine,
//! stateless processes behind any load balancer, state in PostgreSQL.

use crate::binary::{Running, start, terminate};
use crate::helpers::{Browser, cluster, conninfo, csrf_token, state_of, test_db, unique_name};

/// Starts `serve` processes with `env`, each in a data directory of its own.
async fn serve(env: Vec<(&'static str, String)>) -> (Running, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_owned();
    let running = tokio::task::spawn_blocking(move || start(&data_dir, &env))
        .await
        .unwrap();
    (running, dir)
}

async fn stop(running: Running) {
    tokio::task::spawn_blocking(move || terminate(running))
        .await
        .unwrap();
}

/// A browser on `running` that shares `other`'s cookies (cookies do not
/// depend on the port: one browser, two replicas behind one name).
fn same_browser(other: &Browser, running: &Running) -> Browser {
    Browser {
        address: running.address.clone(),
        client: other.client.clone(),
        database: other.database.clone(),
    }
}

#[tokio::test]
async fn two_replicas_sharing_the_session_key_and_the_state_database_behave_as_one() {
    let db = test_db().await;
    let (store, state_db, operator_password) = state_of(&db).await;
    let key = unique_name("k").repeat(8);
    let env = |session_key: &str| {
        vec![
            ("DATABASE_URL", db.database_url()),
            (
                "PGUSERS_STATE_URL",
                conninfo(&cluster().admin_config(&state_db)),
            ),
            ("PGUSERS_SESSION_KEY", session_key.to_owned()),
        ]
    };
    let ((a, _a_dir), (b, _b_dir)) = (serve(env(&key)).await, serve(env(&key)).await);
    let (stranger, _stranger_dir) = serve(env(&unique_name("other").repeat(8))).await;
    let on_a = Browser::on(a.address.clone(), &db.name);
    let on_b = same_browser(&on_a, &b);
    let on_stranger = same_browser(&on_a, &stranger);

    // A login on one is valid on the other; not where the key differs.
    assert_eq!(on_a.log_in_with(&operator_password).await.status, 303);
    assert_eq!(on_b.get(&on_b.users("")).await.status, 200);
    let elsewhere = on_stranger.get(&on_stranger.users("")).await;
    assert_eq!(
        elsewhere.status, 303,
        "another key: the cookie means nothing"
    );
    assert_eq!(elsewhere.location.as_deref(), Some("/login"));

    // Both write one audit log.
    let (from_a, from_b) = (unique_name("rep_a"), unique_name("rep_b"));
    for (browser, name) in [(&on_a, &from_a), (&on_b, &from_b)] {
        let fields = [
            ("username", name.as_str()),
            ("password", ""),
            ("password_confirmation", ""),
        ];
        let created = browser
            .submit(&browser.users("/new"), &browser.users(""), &fields)
            .await;
        assert_eq!(created.status, 200, "{}", created.body);
    }
    let state = pgusers::db::connect(&cluster().admin_config(&state_db))
        .await
        .unwrap();
    let recorded: i64 = state
        .query_one(
            "SELECT count(*) FROM audit_log WHERE action = 'create user' AND outcome = 'ok'
               AND actor = 'admin' AND target IN ($1, $2)",
            &[&from_a, &from_b],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(recorded, 2);

    // Logout on one ends the session on both.
    let token = csrf_token(&on_a.get(&on_a.users("")).await.body);
    assert_eq!(
        on_a.post("/logout", &[("csrf_token", token.as_str())])
            .await
            .status,
        303
    );
    let after = on_b.get(&on_b.users("")).await;
    assert_eq!(after.status, 303, "logged out on B too");
    assert_eq!(after.location.as_deref(), Some("/login"));

    // Failed logins on both count together.
    let failures_of_admin = || async {
        let row = state
            .query_one(
                "SELECT count(*) FROM login_failures WHERE operator = 'admin'",
                &[],
            )
            .await
            .unwrap();
        row.get::<_, i64>(0)
    };
    let failures_before = failures_of_admin().await;
    for browser in [&on_a, &on_b, &on_a, &on_b] {
        assert_eq!(browser.log_in_with("not-the-password").await.status, 401);
    }
    let failures = failures_of_admin().await;
    assert_eq!(failures - failures_before, 4, "one count for both replicas");

    // One API token works on both.
    let (_, api_token) = crate::helpers::token_of(&store, "admin", true).await;
    for running in [&a, &b] {
        let answer = on_a
            .client
            .get(format!("{}/api/databases", running.address))
            .bearer_auth(api_token.expose())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
    }

    for running in [a, b, stranger] {
        stop(running).await;
    }
}
