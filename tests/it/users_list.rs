//! The Database Users page at scale: pages of 50, a search, a filter, the
//! count, and the list's place kept across the "..." actions. Every test
//! searches for names of its own: the cluster's other tests add users.

use pgusers::roles::Access;

use crate::helpers::{TestApp, dashboard, ident, unique_name};

/// Makes `names` as plain login roles, the way someone would by hand.
async fn make_roles(app: &TestApp, names: &[String]) {
    let statements: String = names
        .iter()
        .map(|name| format!("CREATE ROLE {} LOGIN;", ident(name)))
        .collect();
    app.db
        .admin()
        .await
        .batch_execute(&statements)
        .await
        .unwrap();
}

/// `prefix_000`, `prefix_001`, … (`count` names, in name order).
fn numbered(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|i| format!("{prefix}_{i:03}")).collect()
}

/// The usernames of the table's rows, in order.
fn listed(body: &str) -> Vec<String> {
    body.split("<tr data-username=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
        .collect()
}

/// The text of the count above the table.
fn summary(body: &str) -> String {
    let start = body.find("id=\"summary\"").expect("the page has a summary");
    let text = &body[start..];
    let text = &text[text.find('>').unwrap() + 1..];
    text[..text.find("</p>").unwrap()].to_owned()
}

/// `value` percent-encoded for a URL's query.
fn encoded(value: &str) -> String {
    value
        .bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || byte == b'_' {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn a_search_shows_fifty_users_a_page_the_count_and_the_rest_on_the_last_page() {
    let app = dashboard().start().await;
    app.log_in().await;
    let prefix = unique_name("paged");
    let names = numbered(&prefix, 51);
    make_roles(&app, &names).await;

    let first = app.get(&app.users(&format!("?q={prefix}"))).await;
    let last = app.get(&app.users(&format!("?q={prefix}&page=2"))).await;

    assert_eq!(first.status, 200);
    assert_eq!(listed(&first.body), names[..50].to_vec());
    assert_eq!(
        summary(&first.body),
        format!("51 users match “{prefix}”: 1–50 shown")
    );
    assert!(first.body.contains("Page 1 of 2"), "{}", first.body);
    assert!(
        first.body.contains(&format!(
            "href=\"{}\">Next",
            app.users(&format!("?q={prefix}&#38;page=2"))
        )),
        "page 1 links to page 2 with the search"
    );
    assert!(!first.body.contains("rel=\"prev\""));
    assert_eq!(listed(&last.body), vec![names[50].clone()]);
    assert_eq!(
        summary(&last.body),
        format!("51 users match “{prefix}”: 51–51 shown")
    );
    assert!(last.body.contains("Page 2 of 2"));
    assert!(last.body.contains("rel=\"prev\"") && !last.body.contains("rel=\"next\""));
}

#[tokio::test]
async fn exactly_one_page_of_users_has_no_pager_and_a_page_past_the_last_says_where_the_last_is() {
    let app = dashboard().start().await;
    app.log_in().await;
    let prefix = unique_name("onepage");
    let names = numbered(&prefix, 50);
    make_roles(&app, &names).await;

    let page = app.get(&app.users(&format!("?q={prefix}"))).await;
    let past = app.get(&app.users(&format!("?q={prefix}&page=2"))).await;

    assert_eq!(listed(&page.body).len(), 50);
    assert_eq!(summary(&page.body), format!("50 users match “{prefix}”"));
    assert!(
        !page.body.contains("class=\"pager\""),
        "one page needs no pager"
    );
    assert_eq!(past.status, 200);
    assert!(listed(&past.body).is_empty());
    assert!(
        past.body.contains("There is no page 2: the last page is"),
        "{}",
        past.body
    );
}

#[tokio::test]
async fn a_search_that_matches_nobody_says_so_and_keeps_what_was_typed() {
    let app = dashboard().start().await;
    app.log_in().await;
    let nobody = unique_name("nobody");

    let page = app.get(&app.users(&format!("?q={nobody}"))).await;

    assert_eq!(page.status, 200);
    assert!(listed(&page.body).is_empty());
    assert_eq!(summary(&page.body), format!("0 users match “{nobody}”"));
    assert!(page.body.contains(&format!("No user matches “{nobody}”")));
    assert!(
        page.body.contains(&format!("value=\"{nobody}\"")),
        "the box keeps the search"
    );
    assert!(page.body.contains("Clear search"));
}

#[tokio::test]
async fn underscore_and_percent_in_a_search_are_plain_characters() {
    let app = dashboard().start().await;
    app.log_in().await;
    let prefix = unique_name("wild");
    let underscore = format!("{prefix}x_y");
    let other = format!("{prefix}xzy");
    let percent = format!("{prefix}50%off");
    let digits = format!("{prefix}50xoff");
    make_roles(
        &app,
        &[
            underscore.clone(),
            other.clone(),
            percent.clone(),
            digits.clone(),
        ],
    )
    .await;

    let by_underscore = app
        .get(&app.users(&format!("?q={}", encoded(&underscore))))
        .await;
    let by_percent = app
        .get(&app.users(&format!("?q={}", encoded(&format!("{prefix}50%")))))
        .await;

    assert_eq!(listed(&by_underscore.body), vec![underscore]);
    assert_eq!(listed(&by_percent.body), vec![percent.clone()]);
    // Made by the superuser, the role is not manageable by a CREATEROLE
    // administrator on PostgreSQL 16+ (no ADMIN OPTION): no menu then.
    if by_percent.body.contains("<details") {
        assert!(
            by_percent.body.contains("50%25off/reset"),
            "the action links carry the name, percent-encoded"
        );
    }
}

#[tokio::test]
async fn a_search_ignores_case_and_finds_case_twins_made_outside_pgusers() {
    let app = dashboard().start().await;
    app.log_in().await;
    let prefix = unique_name("twin");
    let lower = format!("{prefix}_abc");
    let upper = format!("{}_ABC", prefix.to_uppercase());
    make_roles(&app, &[lower.clone(), upper.clone()]).await;

    let page = app
        .get(&app.users(&format!("?q={}", prefix.to_uppercase())))
        .await;

    let mut found = listed(&page.body);
    found.sort();
    let mut expected = vec![lower, upper];
    expected.sort();
    assert_eq!(found, expected);
}

#[tokio::test]
async fn a_search_no_name_can_hold_finds_nobody_without_an_error() {
    let app = dashboard().start().await;
    app.log_in().await;

    for search in [
        "a'b\"c; DROP ROLE x; --",
        "%00",
        "%E2%80%AE",
        "pg_",
        &"x".repeat(300),
        "%FF%FE",
    ] {
        let page = app.get(&app.users(&format!("?q={search}"))).await;
        assert_eq!(page.status, 200, "{search}: {}", page.body);
        if search != "pg_" {
            assert!(listed(&page.body).is_empty(), "{search}");
        }
        assert!(
            listed(&page.body)
                .iter()
                .all(|name| !name.starts_with("pg_")),
            "{search}: predefined roles are never listed"
        );
    }
    let page = app.get(&app.users("?q=%3Cscript%3E")).await;
    assert!(
        !page.body.contains("<script>"),
        "the search is shown escaped"
    );
}

#[tokio::test]
async fn a_wrong_filter_or_page_is_named_and_the_list_is_shown_without_it() {
    let app = dashboard().start().await;
    app.log_in().await;

    let page = app.get(&app.users("?show=admins&page=x1")).await;

    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("&#34;admins&#34; is not a filter: showing all users.")
            || page
                .body
                .contains("&quot;admins&quot; is not a filter: showing all users."),
        "{}",
        page.body
    );
    assert!(page.body.contains("is not a page number: showing page 1."));
    assert!(summary(&page.body).ends_with("shown") || summary(&page.body).contains("user"));
}

#[tokio::test]
async fn an_action_address_with_a_parameter_given_twice_answers_the_dashboards_error_page() {
    let app = dashboard().start().await;
    app.log_in().await;
    let (writer, _) = app.db.create_user("twice", Access::ReadWrite).await;

    let page = app
        .get(&app.users(&format!("/{writer}/reset?page=1&page=2")))
        .await;

    assert_eq!(page.status, 400, "{}", page.body);
    assert!(
        page.body.contains("is not understood") && page.body.contains("<html"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn the_filters_show_read_only_read_write_and_protected_users() {
    let app = dashboard().start().await;
    app.log_in().await;
    let (reader, _) = app.db.create_user("filt_ro", Access::ReadOnly).await;
    let (writer, _) = app.db.create_user("filt_rw", Access::ReadWrite).await;
    let both = "?q=filt_";
    let only = |show: &str| format!("{both}&show={show}");

    let read_only = listed(&app.get(&app.users(&only("read-only"))).await.body);
    let read_write = listed(&app.get(&app.users(&only("read-write"))).await.body);
    let protected = app
        .get(&app.users(&format!("?q={}&show=protected", app.db.protected)))
        .await;
    let none_protected = listed(&app.get(&app.users(&only("protected"))).await.body);

    assert!(read_only.contains(&reader.to_string()));
    assert!(!read_only.contains(&writer.to_string()));
    assert!(read_write.contains(&writer.to_string()));
    assert!(!read_write.contains(&reader.to_string()));
    assert_eq!(listed(&protected.body), vec![app.db.protected.clone()]);
    assert!(
        protected
            .body
            .contains("aria-current=\"page\">Protected</a>")
    );
    assert!(none_protected.is_empty());
}

#[tokio::test]
async fn the_actions_of_a_row_lead_back_to_the_same_search_filter_and_page() {
    let app = dashboard().start().await;
    app.log_in().await;
    let (writer, _) = app.db.create_user("keep", Access::ReadWrite).await;
    let place = format!("?q={writer}&show=read-write");
    let list = app.get(&app.users(&place)).await;
    let reset = app.users(&format!("/{writer}/reset{place}"));
    let delete = app.users(&format!("/{writer}/delete{place}"));
    // As askama escapes it in an attribute.
    let shown = |url: &str| url.replace('&', "&#38;");
    assert!(list.body.contains(&shown(&reset)), "{}", list.body);
    assert!(list.body.contains(&shown(&delete)));

    let confirm = app.get(&reset).await;
    assert!(
        confirm
            .body
            .contains(&format!("action=\"{}\"", shown(&reset)))
    );
    assert!(
        confirm
            .body
            .contains(&format!("href=\"{}\"", shown(&app.users(&place)))),
        "Cancel goes back"
    );
    let done = app.submit(&reset, &reset, &[]).await;
    assert_eq!(done.status, 200);
    assert!(
        done.body
            .contains(&format!("href=\"{}\">Done", shown(&app.users(&place))))
    );

    let deleted = app.submit(&delete, &delete, &[]).await;
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    assert_eq!(
        deleted.location.as_deref(),
        Some(app.users(&place).as_str())
    );
    assert!(!app.db.role_exists(writer.as_str()).await);
}

#[tokio::test]
async fn a_search_finds_a_name_beyond_ascii_as_typed() {
    let app = dashboard().start().await;
    app.log_in().await;
    let tail = unique_name("");
    let name = format!("Éric{tail}");
    make_roles(&app, std::slice::from_ref(&name)).await;

    let exact = app.get(&app.users(&format!("?q={}", encoded(&name)))).await;

    assert_eq!(listed(&exact.body), vec![name]);
}

#[tokio::test]
async fn the_read_write_and_protected_filters_agree_with_what_pgusers_may_change() {
    let app = dashboard().start().await;
    app.log_in().await;
    let name = unique_name("cdb");
    app.db
        .admin()
        .await
        .batch_execute(&format!("CREATE ROLE {name} LOGIN CREATEDB"))
        .await
        .unwrap();

    let read_write = app
        .get(&app.users(&format!("?q={name}&show=read-write")))
        .await;
    let protected = app
        .get(&app.users(&format!("?q={name}&show=protected")))
        .await;

    assert!(
        listed(&read_write.body).is_empty(),
        "pgusers may not change it"
    );
    assert_eq!(listed(&protected.body), vec![name]);
    assert!(protected.body.contains("Not manageable"));
}
