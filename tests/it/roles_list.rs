use pgusers::domain::{NewPassword, RoleName};
use pgusers::roles::{Access, PasswordEncryption};

use crate::helpers::{AdminKind, admin_kind, test_db, username};

/// What the list says of a password stored as `stored`: a superuser reads
/// `pg_authid`; a CREATEROLE admin may not, and then never guesses.
fn readable_or_unknown(stored: PasswordEncryption) -> PasswordEncryption {
    match admin_kind() {
        AdminKind::Superuser => stored,
        AdminKind::CreateRole => PasswordEncryption::Unknown,
    }
}

#[tokio::test]
async fn the_list_shows_the_protected_user_and_the_users_created_ordered_by_name() {
    let db = test_db().await;
    let writer = username("zz_rw");
    let reader = username("aa_ro");
    db.roles
        .create(&writer, NewPassword::Generate, Access::ReadWrite)
        .await
        .unwrap();
    db.roles
        .create(&reader, NewPassword::Generate, Access::ReadOnly)
        .await
        .unwrap();

    let users = db.roles.list().await.unwrap();
    let names: Vec<&str> = users.iter().map(|u| u.username.as_str()).collect();

    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "ordered by name");
    assert!(!names.contains(&"postgres"), "superusers are not listed");
    assert!(
        !names.iter().any(|n| n.starts_with("pg_")),
        "pg_* roles are not listed"
    );
    let protected = users
        .iter()
        .find(|u| u.username == db.protected)
        .expect("protected user listed");
    assert!(protected.protected && !protected.read_only);
    assert_eq!(
        protected.password_encryption,
        readable_or_unknown(PasswordEncryption::ScramSha256)
    );
    let row = users
        .iter()
        .find(|u| u.username == reader.as_str())
        .unwrap();
    assert!(row.read_only && !row.protected);
    let row = users
        .iter()
        .find(|u| u.username == writer.as_str())
        .unwrap();
    assert!(!row.read_only && !row.protected);
}

#[tokio::test]
async fn an_md5_user_is_shown_as_md5_and_a_reset_makes_it_scram() {
    let db = test_db().await;
    let legacy = username("legacy");
    // Made by the administrator pgusers connects as, outside pgusers.
    db.as_admin_in_use()
        .await
        .batch_execute(&format!(
            "SET password_encryption = 'md5'; CREATE ROLE {} LOGIN PASSWORD 'an-old-md5-password-000000';",
            legacy.as_str()
        ))
        .await
        .unwrap();
    let find = |users: Vec<pgusers::roles::DatabaseUser>| {
        users
            .into_iter()
            .find(|u| u.username == legacy.as_str())
            .expect("listed")
    };
    assert_eq!(
        find(db.roles.list().await.unwrap()).password_encryption,
        readable_or_unknown(PasswordEncryption::Md5)
    );

    let fresh = db
        .roles
        .reset_password(&RoleName::from(legacy.clone()))
        .await
        .unwrap();

    assert_eq!(
        find(db.roles.list().await.unwrap()).password_encryption,
        readable_or_unknown(PasswordEncryption::ScramSha256)
    );
    db.connect_as(legacy.as_str(), fresh.expose())
        .await
        .unwrap();
}

/// A role manager on a new database of the test cluster with `options`
/// (`ENCODING 'LATIN1' LOCALE 'C'`).
async fn manager_on_new_database(options: &str) -> pgusers::roles::RoleManager {
    let superuser = pgusers::db::connect(&crate::helpers::cluster().admin_config("postgres"))
        .await
        .unwrap();
    let name = crate::helpers::unique_name("enc");
    superuser
        .batch_execute(&format!(
            "CREATE DATABASE {name} TEMPLATE template0 {options}"
        ))
        .await
        .unwrap();
    pgusers::roles::RoleManager::new(crate::helpers::cluster().admin_config(&name), 2, None)
}

#[tokio::test]
async fn a_latin1_database_lists_its_users_and_a_name_it_cannot_hold_finds_nobody() {
    let roles = manager_on_new_database("ENCODING 'LATIN1' LOCALE 'C'").await;
    let search = pgusers::domain::Search::parse("名前").unwrap();

    let all = roles.list().await;
    let searched = roles
        .list_page(&pgusers::roles::Listing {
            search: Some(&search),
            ..pgusers::roles::Listing::everyone()
        })
        .await
        .unwrap();
    let found = roles
        .find(&pgusers::domain::RoleName::parse("名前").unwrap())
        .await;

    assert!(all.is_ok(), "{all:?}");
    assert_eq!(searched.total, 0);
    assert!(searched.users.is_empty());
    assert!(
        matches!(found, Err(pgusers::roles::RoleError::NotFound(_))),
        "{found:?}"
    );
}

#[tokio::test]
async fn on_a_latin1_database_every_action_on_a_name_it_cannot_hold_finds_nobody() {
    let roles = manager_on_new_database("ENCODING 'LATIN1' LOCALE 'C'").await;
    let name = pgusers::domain::RoleName::parse("名前").unwrap();
    let not_found = |result: &Result<_, pgusers::roles::RoleError>| {
        matches!(result, Err(pgusers::roles::RoleError::NotFound(_)))
    };

    let changeable = roles.ensure_changeable(&name).await;
    let ownership = roles.ownership(&name).await.map(|_| ());
    let reset = roles.reset_password(&name).await.map(|_| ());
    let deleted = roles.delete(&name).await;

    assert!(not_found(&changeable), "{changeable:?}");
    assert!(not_found(&ownership), "{ownership:?}");
    assert!(not_found(&reset), "{reset:?}");
    assert!(not_found(&deleted), "{deleted:?}");
}

#[tokio::test]
async fn a_search_folds_case_beyond_ascii_as_the_databases_collation_does() {
    let roles = manager_on_new_database("ENCODING 'UTF8' LOCALE 'C.UTF-8'").await;
    let tail = crate::helpers::unique_name("");
    let name = format!("Éric{tail}");
    pgusers::db::connect(&crate::helpers::cluster().admin_config("postgres"))
        .await
        .unwrap()
        .batch_execute(&format!(
            "CREATE ROLE {} LOGIN",
            crate::helpers::ident(&name)
        ))
        .await
        .unwrap();
    let search = pgusers::domain::Search::parse(&format!("éRIC{tail}")).unwrap();

    let found = roles
        .list_page(&pgusers::roles::Listing {
            search: Some(&search),
            ..pgusers::roles::Listing::everyone()
        })
        .await
        .unwrap();

    assert_eq!(
        found
            .users
            .iter()
            .map(|u| u.username.as_str())
            .collect::<Vec<_>>(),
        vec![name.as_str()]
    );
}

#[tokio::test]
async fn every_user_comes_once_in_name_order_a_part_at_a_time() {
    let db = test_db().await;
    let mut made = Vec::new();
    for (prefix, access) in [
        ("parts_a", Access::ReadOnly),
        ("parts_b", Access::ReadWrite),
        ("parts_c", Access::ReadOnly),
    ] {
        let name = username(prefix);
        db.roles
            .create(&name, NewPassword::Generate, access)
            .await
            .unwrap();
        made.push(name);
    }

    let mut parts: Vec<Vec<pgusers::roles::DatabaseUser>> = Vec::new();
    db.roles
        .list_in_parts(2, |part| {
            parts.push(part.to_vec());
            Ok::<(), pgusers::roles::RoleError>(())
        })
        .await
        .unwrap();

    let (last, full) = parts.split_last().expect("at least one part");
    assert!(full.iter().all(|part| part.len() == 2), "{parts:?}");
    assert!(!last.is_empty() && last.len() <= 2, "{parts:?}");
    let names: Vec<&str> = parts
        .iter()
        .flatten()
        .map(|user| user.username.as_str())
        .collect();
    assert!(
        names.windows(2).all(|pair| pair[0] < pair[1]),
        "once each, in name order: {names:?}"
    );
    assert!(names.contains(&db.protected.as_str()), "{names:?}");
    for (name, read_only) in made.iter().zip([true, false, true]) {
        let user = parts
            .iter()
            .flatten()
            .find(|user| user.username == name.as_str())
            .unwrap_or_else(|| panic!("{name} in a part: {names:?}"));
        assert_eq!(user.read_only, read_only, "{user:?}");
        assert!(user.manageable(), "{user:?}");
    }

    // A part of none is read as a part of one, and ends.
    let mut sizes = Vec::new();
    db.roles
        .list_in_parts(0, |part| {
            sizes.push(part.len());
            Ok::<(), pgusers::roles::RoleError>(())
        })
        .await
        .unwrap();
    assert!(sizes.iter().all(|size| *size == 1), "{sizes:?}");
    assert!(sizes.len() >= names.len(), "{sizes:?} for {names:?}");
}

/// The list a process keeps for its pages (`roles::kept`): a change pgusers
/// makes through another process shows at once, the sessions column is read
/// at each view, and a change made without pgusers shows within the bound.
#[tokio::test]
async fn the_kept_list_shows_another_processs_changes_at_once_and_others_within_its_bound() {
    use pgusers::domain::{ConnectionLimit, LimitsChange};
    use std::time::{Duration, Instant};

    let db = test_db().await;
    // Another process: a role manager of its own, on the same database.
    let other = pgusers::roles::RoleManager::new(db.roles_config(), 2, None);
    let kept = username("kept_mine");
    let password = crate::helpers::password();
    db.roles
        .create(
            &kept,
            NewPassword::Chosen(password.clone()),
            Access::ReadWrite,
        )
        .await
        .unwrap();
    let row = |users: &[pgusers::roles::DatabaseUser], name: &str| {
        users.iter().find(|user| user.username == name).cloned()
    };
    let before = db.roles.list().await.unwrap();
    assert_eq!(row(&before, kept.as_str()).unwrap().sessions, 0);

    let theirs = username("kept_theirs");
    other
        .create(&theirs, NewPassword::Generate, Access::ReadOnly)
        .await
        .unwrap();
    let target = RoleName::parse(kept.as_str()).unwrap();
    let limits = LimitsChange {
        connection_limit: Some(Some(ConnectionLimit::new(7).unwrap())),
        ..LimitsChange::default()
    };
    other.set_limits(&target, &limits).await.unwrap();
    let session = db.logged_in(&kept, &password).await;
    let after = db.roles.list().await.unwrap();

    let made = row(&after, theirs.as_str()).expect("another process's create shows at once");
    assert!(made.read_only);
    let limited = row(&after, kept.as_str()).unwrap();
    assert_eq!(
        limited.connection_limit,
        Some(7),
        "and its change of limits"
    );
    assert_eq!(limited.sessions, 1, "sessions are counted at each view");

    other
        .delete(&RoleName::parse(theirs.as_str()).unwrap())
        .await
        .unwrap();
    let page = db
        .roles
        .list_page(&pgusers::roles::Listing {
            search: pgusers::domain::Search::parse(&kept.as_str().to_uppercase()).as_ref(),
            show: pgusers::domain::Show::All,
            window: pgusers::roles::Window::Page {
                offset: 0,
                limit: 50,
            },
        })
        .await
        .unwrap();
    let names: Vec<&str> = page.users.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(
        names,
        [kept.as_str()],
        "a delete shows at once, to a search too"
    );
    assert_eq!(page.total, 1);
    drop(session);

    // Without pgusers: shown within the bound, not at once.
    db.admin()
        .await
        .batch_execute(&format!("ALTER ROLE {kept} CONNECTION LIMIT 3"))
        .await
        .unwrap();
    let changed_at = Instant::now();
    let bound = pgusers::roles::KEPT_FOR + Duration::from_secs(2);
    loop {
        let users = db.roles.list().await.unwrap();
        if row(&users, kept.as_str()).unwrap().connection_limit == Some(3) {
            break;
        }
        assert!(
            changed_at.elapsed() < bound,
            "a change made without pgusers is still not shown after {bound:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn the_kept_list_filters_searches_and_pages_as_the_listing_query_does() {
    use pgusers::domain::{Search, Show};
    use pgusers::roles::{Listing, Window};
    // On a cluster of its own: every login role of the server is listed,
    // and other tests' would come and go between the two reads.
    let (_cluster, db) = crate::helpers::test_db_alone().await;
    for (name, access) in [
        ("ka_write_one", Access::ReadWrite),
        ("ka_write_two", Access::ReadWrite),
        ("ka_read_one", Access::ReadOnly),
        ("kb_read_two", Access::ReadOnly),
    ] {
        db.roles
            .create(
                &pgusers::domain::Username::parse(name).unwrap(),
                NewPassword::Generate,
                access,
            )
            .await
            .unwrap();
    }
    let secret = crate::helpers::password();
    // Made by hand: a case twin, names with `_` and `%` (which a search
    // takes as plain characters), and a user granted more than an
    // application user (listed as protected).
    for name in ["KA_Write_One", "ka%pct", "ka_more"] {
        db.make_role_as_admin(name, &secret, "").await;
    }
    db.admin()
        .await
        .batch_execute(&format!(
            "GRANT CREATE ON DATABASE {} TO ka_more",
            crate::helpers::ident(&db.name)
        ))
        .await
        .unwrap();

    let searches: Vec<Option<Search>> = [
        "", "ka", "KA", "_", "%", "a_w", "WRITE", "two", "ka_m", "zz",
    ]
    .iter()
    .map(|typed| Search::parse(typed))
    .collect();
    let windows = [
        Window::All,
        Window::Page {
            offset: 0,
            limit: 2,
        },
        Window::Page {
            offset: 2,
            limit: 2,
        },
        Window::Page {
            offset: 50,
            limit: 50,
        },
    ];
    let mut compared = 0;
    for show in Show::EVERY {
        for search in &searches {
            for window in windows {
                let listing = Listing {
                    search: search.as_ref(),
                    show,
                    window,
                };
                let kept = db.roles.list_page(&listing).await.unwrap();
                let read = db.roles.list_page_read(&listing).await.unwrap();
                assert_eq!(kept, read, "{listing:?}");
                compared += usize::from(!read.users.is_empty());
            }
        }
    }
    // Not a comparison of empty lists only.
    assert!(compared > 40, "{compared}");
}
