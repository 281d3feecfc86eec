//! axe-core, the accessibility engine, on every page of the dashboard's
//! route table, in each of its states that looks different, at 1280 and at
//! 390 pixels wide: WCAG 2.0 and 2.1, levels A and AA, and not one
//! violation allowed.
//!
//! The pages come from [`pgusers::web::page_routes`]; [`states_of`] gives
//! each pattern its addresses, and the test fails on a pattern it does not
//! know, so a page added to the route table must be added here.
//!
//! axe-core is not in the repository: `.ci/axe-core` fetches the version
//! pinned there (and in [`AXE_VERSION`]) from the npm registry into
//! `/var/tmp/pgusers-axe`, and `.ci/run` names the file in
//! `PGUSERS_AXE_JS`. Named there and missing, the test fails; not named
//! and not at the default place either, it warns loudly that it did not run
//! and returns, as the browser tests do without Chromium.

use std::cell::{Cell, RefCell};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use serde::Deserialize;
use serde_json::json;

use pgusers::domain::{NewPassword, Password, Username};
use pgusers::roles::Access;

use super::{PHONE, Page, Steps, browser_programs, failures_dir, open_browser, slug};
use crate::helpers::{dashboard, password, token_of, unique_name};

/// The version `.ci/axe-core` installs; another is refused, as it may judge
/// the same page differently.
const AXE_VERSION: &str = "4.14.1";
/// Where `.ci/axe-core` puts it, unless `PGUSERS_AXE_JS` says otherwise.
const AXE_DEFAULT: &str = "/var/tmp/pgusers-axe/4.14.1/package/axe.min.js";
/// The rules axe runs: those of WCAG 2.0 and 2.1, levels A and AA.
const WCAG: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
/// A desktop window, then a phone.
const WIDTHS: [(u32, u32); 2] = [(1280, 900), PHONE];

const TEST: &str = "browser::axe::every_page_passes_axe_at_1280_and_390_pixels";

#[test]
fn the_test_and_ci_pin_the_same_axe_core() {
    let script = include_str!("../../../.ci/axe-core");
    assert!(
        script
            .lines()
            .any(|line| line == format!("VERSION={AXE_VERSION}")),
        ".ci/axe-core does not install axe-core {AXE_VERSION}: change both together"
    );
    assert!(
        AXE_DEFAULT.contains(&format!("/{AXE_VERSION}/")),
        "AXE_DEFAULT is not where .ci/axe-core puts {AXE_VERSION}"
    );
}

#[tokio::test]
async fn every_page_passes_axe_at_1280_and_390_pixels() {
    // First, and on any machine: every page of the route table has its
    // addresses here.
    let example = Names {
        db: "db".into(),
        writer: "writer".into(),
        reader: "reader".into(),
        refused: "refused".into(),
        protected: "protected".into(),
        marker: "marker".into(),
        token: "token".into(),
    };
    let unknown: Vec<String> = pgusers::web::page_routes()
        .into_iter()
        .filter(|pattern| states_of(pattern, &example).is_none())
        .collect();
    assert!(
        unknown.is_empty(),
        "the route table has pages the accessibility check does not open: {unknown:?}; \
         give them their addresses in states_of (tests/it/browser/axe.rs)"
    );

    let Some((chromium, chromedriver)) = browser_programs(TEST) else {
        return;
    };
    let Some(axe) = axe_script() else {
        return;
    };
    let started = Instant::now();
    let app = dashboard().start().await;
    let (mut names, writer_password) = make_users(&app).await;
    // A token, so the tokens page lists one from the start.
    names.token = token_of(&app.state_store(), "admin", true).await.0.id;
    // A live session of the writer, for its sessions page.
    let writer_session = app
        .db
        .connect_as(&names.writer, writer_password.expose())
        .await
        .expect("the writer logs in");
    println!("users made: {:?}", started.elapsed());

    let (driver, steps) = open_browser(&app, &chromium, &chromedriver).await;
    let check = Check {
        steps: &steps,
        axe: &axe,
        found: RefCell::new(Vec::new()),
        incomplete: RefCell::new(Vec::new()),
        pages: Cell::new(0),
        width: Cell::new(0),
    };
    let page = &steps.page;
    let app = &app;
    let f = &names;

    steps
        .run("axe-core finds a violation where there is one", async {
            // Text too light to read, added to a real page: proof that axe
            // runs there and that what it finds reaches the report.
            page.goto("/login").await?;
            page.client
                .execute(
                    "const p = document.createElement('p');
                     p.id = 'axe-self-check';
                     p.textContent = 'Too light to read';
                     p.style.color = '#bbb';
                     document.querySelector('main').append(p);",
                    vec![],
                )
                .await?;
            let results = run_axe(page, &axe).await?;
            ensure!(
                results
                    .violations
                    .iter()
                    .any(|rule| rule.id == "color-contrast"
                        && rule
                            .nodes
                            .iter()
                            .any(|node| node.target == "#axe-self-check")),
                "axe-core did not report the too-light text: the check could never fail"
            );
            Ok(())
        })
        .await;
    steps
        .run(
            "the layout check finds what a person would see wrong",
            async {
                // A table wider than its card, a cell whose word spills out,
                // a word broken across lines and a button white on white,
                // added to a real page.
                page.goto("/login").await?;
                page.client
                    .execute(
                        "const main = document.querySelector('main');
                     const wide = document.createElement('div');
                     wide.id = 'too-wide';
                     wide.style.width = '5000px';
                     wide.style.height = '10px';
                     main.append(wide);
                     const cell = document.createElement('p');
                     cell.id = 'spills';
                     cell.style.width = '40px';
                     cell.textContent = 'a_name_far_longer_than_its_cell_allows';
                     main.append(cell);
                     for (const id of ['card-one', 'card-two']) {
                       const card = document.createElement('section');
                       card.className = 'card';
                       card.id = id;
                       card.style.margin = '0';
                       card.textContent = id;
                       main.append(card);
                     }
                     const table = document.createElement('table');
                     table.innerHTML = '<tr><td id=broken>SCRAM-SHA-256</td></tr>';
                     table.style.width = '3em';
                     main.append(table);
                     const secret = document.createElement('input');
                     secret.id = 'not-mono';
                     secret.className = 'mono';
                     secret.value = 'Il1O0';
                     secret.style.fontFamily = 'inherit';
                     main.append(secret);
                     const faint = document.createElement('button');
                     faint.id = 'faint';
                     faint.textContent = 'Faint';
                     faint.style.color = '#333';
                     faint.style.background = 'transparent';
                     faint.style.opacity = '0.15';
                     main.append(faint);
                     const cut = document.createElement('p');
                     cut.id = 'cut';
                     cut.style.height = '1em';
                     cut.style.overflow = 'hidden';
                     cut.textContent = 'First line. ' + 'More words that wrap. '.repeat(40);
                     main.append(cut);
                     const button = document.createElement('button');
                     button.id = 'invisible';
                     button.textContent = 'Revoke';
                     button.style.color = '#fff';
                     button.style.background = 'transparent';
                     main.append(button);",
                        vec![],
                    )
                    .await?;
                let found = layout_problems(page).await?;
                for (what, expected) in [
                    ("the page scrolling sideways", "the page scrolls sideways"),
                    (
                        "the element wider than its parent",
                        "div#too-wide sticks out of",
                    ),
                    ("the word spilling out", "p#spills (\"a_name_far"),
                    (
                        "a control made faint by its opacity",
                        "button#faint (\"Faint\"): its text has",
                    ),
                    ("text cut off at the bottom", "p#cut (\"First line."),
                    (
                        "a secret not in monospace",
                        "input#not-mono (\"Il1O0\"): marked monospace but shown in the page's font",
                    ),
                    (
                        "the word broken across lines",
                        "td#broken (\"SCRAM-SHA-256\"): \"SCRAM-SHA-256\" breaks across",
                    ),
                    (
                        "the white button",
                        "button#invisible (\"Revoke\"): its text has 1.0",
                    ),
                    (
                        "cards with no gap",
                        "section#card-two (\"card-two\") follows section#card-one",
                    ),
                ] {
                    ensure!(
                        found.iter().any(|problem| problem.contains(expected)),
                        "the layout check missed {what}: it found {found:?}"
                    );
                }
                Ok(())
            },
        )
        .await;

    for (width, height) in WIDTHS {
        check.width.set(width);
        steps
            .run(&format!("{width} px: the window and the database"), async {
                page.set_inner_size(width, height).await?;
                // A finding to fix on the Health page, at each width (no
                // create in between fixes): a read-write user's table the
                // protected user may not write.
                app.db
                    .admin()
                    .await
                    .batch_execute(&format!(
                        "CREATE TABLE axe_to_fix_{width} (v int); ALTER TABLE axe_to_fix_{width} OWNER TO {};",
                        crate::helpers::ident(&format!("{}_01", f.marker))
                    ))
                    .await?;
                Ok(())
            })
            .await;

        // Logged out.
        for (name, path) in states_of("/login", f).expect("the login page") {
            check.visit(&name, &path).await;
        }
        check
            .page("login, a wrong password", 401, async {
                page.goto("/login").await?;
                page.type_into("Operator name", "admin").await?;
                page.type_into("Password", "not the password").await?;
                page.click_and_load(&page.button("Log in").await?).await
            })
            .await;
        steps
            .run(&format!("{width} px: log in"), async {
                page.goto("/login").await?;
                page.log_in(&app.operator_password).await
            })
            .await;

        // The pages forms lead to.
        let users = |rest: &str| app.users(rest);
        check
            .page("add a user: the form with its errors", 422, async {
                page.goto(&users("/new")).await?;
                page.type_into("Username", "short").await?;
                page.type_into("Password", "short'one").await?;
                page.type_into("Password confirmation", "other").await?;
                page.click_and_load(&page.button("Add this user").await?)
                    .await
            })
            .await;
        check
            .page(
                "users, after adding one with a chosen password",
                200,
                async {
                    let chosen = password().expose()[..40].to_owned();
                    let name = format!("{}_c{width}", f.marker);
                    page.goto(&users("/new")).await?;
                    page.type_into("Username", &name).await?;
                    page.type_into("Password", &chosen).await?;
                    page.type_into("Password confirmation", &chosen).await?;
                    page.click_and_load(&page.button("Add this user").await?)
                        .await?;
                    page.status_message(&format!("User \"{name}\" created."))
                        .await
                },
            )
            .await;
        check
            .page(
                "add a user: the generated password, shown once",
                200,
                async {
                    page.goto(&users("/new")).await?;
                    page.type_into("Username", &format!("{}_g{width}", f.marker))
                        .await?;
                    page.click_and_load(&page.button("Add this user").await?)
                        .await?;
                    page.new_password().await?;
                    Ok(())
                },
            )
            .await;
        check
            .page("reset password: the new password", 200, async {
                page.goto(&users(&format!("/{}/reset", f.writer))).await?;
                page.click_and_load(&page.button("Reset password").await?)
                    .await?;
                page.new_password().await?;
                Ok(())
            })
            .await;
        check
            .page("reset password, reloaded: already done", 200, async {
                page.mark_old_page().await?;
                page.client.refresh().await?;
                page.wait_for_new_page().await
            })
            .await;
        check
            .page(
                "expiry and connection limit: the form with its errors",
                422,
                async {
                    page.goto(&users(&format!("/{}/limits", f.writer))).await?;
                    page.type_into("Connection limit", "0").await?;
                    page.click_and_load(&page.button("Save").await?).await
                },
            )
            .await;
        check
            .page(
                "expiry and connection limit: a past day, to confirm",
                200,
                async {
                    page.goto(&users(&format!("/{}/limits", f.writer))).await?;
                    page.client
                        .execute(
                            "document.getElementById('expires').value = '2001-01-01';",
                            vec![],
                        )
                        .await?;
                    page.click_and_load(&page.button("Save").await?).await?;
                    page.button("Cut it off now").await?;
                    Ok(())
                },
            )
            .await;
        check
            .page("API tokens: a new token, shown once", 200, async {
                page.goto("/api-tokens").await?;
                page.type_into("Label", &format!("axe at {width} px"))
                    .await?;
                page.click_and_load(&page.button("Create this token").await?)
                    .await
            })
            .await;
        check
            .page("Health, with findings to fix", 200, async {
                page.goto(&app.database_page("/settings/health")).await
            })
            .await;
        check
            .page("Health, after a fix", 200, async {
                page.click_and_load(&page.button("Fix").await?).await?;
                page.visible("//*[@role='status'][starts-with(normalize-space(.), 'Fixed:')]")
                    .await?;
                Ok(())
            })
            .await;

        check
            .page("users: a \"...\" menu open, by a long name", 200, async {
                let long = format!("{}_with_a_rather_long_name", f.marker)[..32].to_owned();
                page.goto(&users(&format!("?q={long}"))).await?;
                let opened = page
                    .client
                    .execute(
                        "const menu = document.querySelector('details.menu');
                         menu.open = true;
                         return menu.open && menu.querySelector('ul').getBoundingClientRect().height > 0;",
                        vec![],
                    )
                    .await?;
                ensure!(opened == json!(true), "the \"...\" menu did not open");
                Ok(())
            })
            .await;

        // Every page of the route table, in its states.
        for pattern in pgusers::web::page_routes() {
            if pattern == "/login" {
                continue;
            }
            for (name, path) in states_of(&pattern, f).expect("checked above") {
                check.visit(&name, &path).await;
            }
        }
        check
            .page("the error page (no such page)", 404, async {
                page.goto("/no-such-page").await
            })
            .await;
        check
            .page("login, logged out", 200, async {
                page.click_and_load(&page.button("Log out").await?).await?;
                page.status_message("Logged out.").await
            })
            .await;
    }
    // The users list drops its optional columns below 76rem (1216 px): just
    // above that and between it and a phone, a 32-character name and every
    // column shown still fit.
    for width in [1220, 1000, 700] {
        check.width.set(width);
        steps
            .run(&format!("{width} px: log in"), async {
                page.set_inner_size(width, 900).await?;
                page.goto("/login").await?;
                page.log_in(&app.operator_password).await
            })
            .await;
        let list = pgusers::web::page_routes()
            .into_iter()
            .find(|pattern| pattern.ends_with("/database-users"))
            .expect("the users list is a page");
        for (name, path) in states_of(&list, f).expect("checked above") {
            check.visit(&name, &path).await;
        }
        // Which columns show: all from 76rem, the optional ones left to
        // the user's page below, and no header row once rows are blocks.
        steps
            .run(&format!("{width} px: the columns shown"), async {
                page.goto(&app.users("")).await?;
                let shown = page
                    .client
                    .execute(
                        "return [...document.querySelectorAll('table.user-list th')]
                           .filter(th => th.getBoundingClientRect().width > 1
                             && th.closest('thead').getBoundingClientRect().height > 1)
                           .map(th => th.textContent.trim());",
                        vec![],
                    )
                    .await?;
                let expected = match width {
                    1220 => json!([
                        "Username",
                        "Read-only",
                        "Protected",
                        "Password encryption",
                        "Sessions",
                        "Expires",
                        "Connection limit",
                        "Actions"
                    ]),
                    1000 => json!([
                        "Username",
                        "Read-only",
                        "Protected",
                        "Sessions",
                        "Expires",
                        "Actions"
                    ]),
                    _ => json!([]),
                };
                ensure!(
                    shown == expected,
                    "at {width} px the list shows {shown}, not {expected}"
                );
                Ok(())
            })
            .await;
    }
    drop(writer_session);
    let pages = check.pages.get();
    let found = check.found.into_inner();
    let incomplete = check.incomplete.into_inner();
    steps.finish().await;
    drop(driver);
    println!(
        "axe-core {AXE_VERSION} checked {pages} pages in {:?}",
        started.elapsed()
    );
    if !incomplete.is_empty() {
        // What else axe could not decide (whether "..." is part of the
        // name "Actions for …", say): for a person to look at.
        println!(
            "axe-core left these for a person to review:\n  {}",
            incomplete.join("\n  ")
        );
    }
    assert!(
        found.is_empty(),
        "axe-core {AXE_VERSION} found {} violations of WCAG 2.0/2.1 A and AA \
         (screenshots and HTML in {}):\n\n{}",
        found.len(),
        failures_dir().display(),
        found.join("\n\n")
    );
}

/// The names the pages show: a database, and users in each state.
struct Names {
    db: String,
    /// A read-write user with a session open.
    writer: String,
    /// A read-only user whose password has expired.
    reader: String,
    /// A user whose delete is refused until a person reviews its code.
    refused: String,
    /// The database's protected user.
    protected: String,
    /// The start of every name the test makes: a search for it lists
    /// them all, 50 and more.
    marker: String,
    /// An API token's id.
    token: String,
}

/// The test's users in `app`'s database, and the writer's password.
async fn make_users(app: &crate::helpers::TestApp) -> (Names, Password) {
    // Last in name order, so that other tests' users stay on the first
    // page of the shared cluster's list.
    let marker = unique_name("zz_axe");
    let names = Names {
        db: app.database.clone(),
        writer: format!("{marker}_rw"),
        reader: format!("{marker}_ro"),
        refused: format!("{marker}_range"),
        protected: app.db.protected.clone(),
        marker,
        token: String::new(),
    };
    let create = |name: String, secret, access| async move {
        app.db
            .roles
            .create(
                &Username::parse(&name).unwrap(),
                NewPassword::Chosen(secret),
                access,
            )
            .await
            .unwrap_or_else(|e| panic!("{name} is created: {e:?}"));
    };
    let writer_password = password();
    create(
        names.writer.clone(),
        writer_password.clone(),
        Access::ReadWrite,
    )
    .await;
    create(names.reader.clone(), password(), Access::ReadOnly).await;
    let refused_password = password();
    create(
        names.refused.clone(),
        refused_password.clone(),
        Access::ReadWrite,
    )
    .await;
    // A full first page of the search, and a second.
    for n in 1..=50 {
        let access = if n % 5 == 0 {
            Access::ReadOnly
        } else {
            Access::ReadWrite
        };
        create(format!("{}_{n:02}", names.marker), password(), access).await;
    }
    // On the second page of the search: a name as long as pgusers takes,
    // and a role made by hand that pgusers does not manage, its name as
    // long as PostgreSQL takes (63 bytes).
    create(
        format!("{}_with_a_rather_long_name", names.marker)[..32].to_owned(),
        password(),
        Access::ReadWrite,
    )
    .await;
    app.db
        .make_role_as_admin(
            &format!(
                "{}_maker_named_as_long_as_postgresql_allows_xxxxxxxxxxxxxxxxxxxxxxxx",
                names.marker
            )[..63],
            &password(),
            "CREATEDB",
        )
        .await;
    app.db
        .as_admin_in_use()
        .await
        .batch_execute(&format!(
            "ALTER ROLE {} VALID UNTIL '2001-01-01'",
            crate::helpers::ident(&names.reader)
        ))
        .await
        .expect("the reader's password expires");
    app.db
        .run_as(
            &Username::parse(&names.refused).unwrap(),
            &refused_password,
            "CREATE FUNCTION axe_span_diff(int, int) RETURNS float8
                     LANGUAGE sql IMMUTABLE AS 'SELECT ($1 - $2)::float8';
                 CREATE TYPE axe_span AS RANGE (subtype = int4, subtype_diff = axe_span_diff);",
        )
        .await;
    (names, writer_password)
}

/// The states the check opens of each page of the route table, each a
/// name and an address; `None` for a pattern it does not know. The login
/// page is opened logged out, the others logged in.
fn states_of(pattern: &str, f: &Names) -> Option<Vec<(String, String)>> {
    let users = |rest: &str| format!("/databases/{}/settings/database-users{rest}", f.db);
    let user = |name: &str, rest: &str| users(&format!("/{name}{rest}"));
    let states: Vec<(&str, String)> = match pattern {
        "/login" => vec![
            ("login", "/login".into()),
            (
                "login, a form sent after its session ended",
                "/login?next=%2Fapi-tokens%3Flabel%3Dx&unsent".into(),
            ),
        ],
        "/" => vec![("home: the databases", "/".into())],
        "/activity" => vec![("Activity", "/activity".into())],
        "/api-tokens" => vec![("API tokens", "/api-tokens".into())],
        "/api-tokens/{id}/revoke" => vec![(
            "API tokens: revoke, confirm",
            format!("/api-tokens/{}/revoke", f.token),
        )],
        "/databases/{db}" => vec![("overview", format!("/databases/{}", f.db))],
        "/databases/{db}/settings/health" => {
            vec![("Health", format!("/databases/{}/settings/health", f.db))]
        }
        "/databases/{db}/settings/database-users" => vec![
            ("users, the first page of everyone", users("")),
            (
                "users, searched: 50 and more, with a pager",
                users(&format!("?q={}", f.marker)),
            ),
            (
                "users, searched, second page: a long name, one not managed",
                users(&format!("?q={}&page=2", f.marker)),
            ),
            (
                "users, the protected user",
                users(&format!("?q={}", f.protected)),
            ),
            (
                "users, the protected ones and one not managed",
                users(&format!("?q={}&show=protected", f.marker)),
            ),
            (
                "users, read-only ones",
                users(&format!("?q={}&show=read-only", f.marker)),
            ),
            (
                "users, empty: a search that matches nobody",
                users(&format!("?q={}_nobody", f.marker)),
            ),
            (
                "users, empty: a filter that matches nobody",
                users(&format!("?q={}&show=read-only", f.writer)),
            ),
            (
                "users, past the last page",
                users(&format!("?q={}&page=99", f.marker)),
            ),
            ("users, a wrong page number", users("?page=none")),
        ],
        "/databases/{db}/settings/database-users/new" => {
            vec![("add a user: the form", users("/new"))]
        }
        "/databases/{db}/settings/database-users/{name}/details" => vec![
            ("user details, with a session", user(&f.writer, "/details")),
            ("user details, expired", user(&f.reader, "/details")),
        ],
        "/databases/{db}/settings/database-users/{name}/end-sessions" => vec![
            ("end sessions: confirm", user(&f.writer, "/end-sessions")),
            ("end sessions: none open", user(&f.reader, "/end-sessions")),
        ],
        "/databases/{db}/settings/database-users/{name}/limits" => vec![
            ("expiry and connection limit", user(&f.writer, "/limits")),
            (
                "expiry and connection limit, expired",
                user(&f.reader, "/limits"),
            ),
        ],
        "/databases/{db}/settings/database-users/{name}/reset" => {
            vec![("reset password: confirm", user(&f.writer, "/reset"))]
        }
        "/databases/{db}/settings/database-users/{name}/delete" => vec![
            ("delete user: confirm", user(&f.writer, "/delete")),
            ("delete user: refused", user(&f.refused, "/delete")),
        ],
        _ => return None,
    };
    Some(
        states
            .into_iter()
            .map(|(name, path)| (name.to_owned(), path))
            .collect(),
    )
}

/// axe.min.js: from `PGUSERS_AXE_JS` (which must name it), else from where
/// `.ci/axe-core` puts it; `None` after a loud warning that the test did
/// not run when neither names it.
fn axe_script() -> Option<String> {
    let (path, named) = match std::env::var_os("PGUSERS_AXE_JS") {
        Some(path) => (PathBuf::from(path), true),
        None => (PathBuf::from(AXE_DEFAULT), false),
    };
    let script = match std::fs::read_to_string(&path) {
        Ok(script) => script,
        Err(error) if named => panic!(
            "PGUSERS_AXE_JS names {}, which cannot be read: {error}. \
             Run .ci/axe-core to install axe-core {AXE_VERSION}.",
            path.display()
        ),
        Err(_) => {
            let bar = "!".repeat(78);
            // Straight to the process's stderr: libtest captures eprintln!.
            let _ = writeln!(
                std::io::stderr(),
                "\n{bar}\n\
                 !! ACCESSIBILITY TEST NOT RUN: {TEST}\n\
                 !! did not run because axe-core was not found at {AXE_DEFAULT}\n\
                 !! (and PGUSERS_AXE_JS is not set). It is reported as passed, but\n\
                 !! checked nothing. Install it (from the npm registry, pinned) with:\n\
                 !!     .ci/axe-core\n\
                 !! (.ci/run does, and sets PGUSERS_AXE_JS, so that there it fails instead).\n\
                 {bar}\n"
            );
            return None;
        }
    };
    let first = script.lines().next().unwrap_or_default();
    assert_eq!(
        first,
        format!("/*! axe v{AXE_VERSION}"),
        "{} is not axe-core {AXE_VERSION}: run .ci/axe-core",
        path.display()
    );
    Some(script)
}

/// Runs axe (loaded into the page) on the whole page: its violations, and
/// what it could not decide (incomplete), each rule with its elements.
const AXE_RUN: &str = r#"
const [tags, done] = arguments;
const rules = list => list.map(rule => ({
  id: rule.id,
  impact: rule.impact || '',
  help: rule.help,
  help_url: rule.helpUrl,
  nodes: rule.nodes.map(node => ({
    target: node.target.map(String).join(' '),
    summary: (node.failureSummary ||
      [...node.any, ...node.all, ...node.none].map(check => check.message).join(' '))
      .replace(/\s+/g, ' ').trim(),
  })),
}));
axe.run(document, { runOnly: { type: 'tag', values: tags } })
  .then(results => done({
    violations: rules(results.violations),
    incomplete: rules(results.incomplete),
  }))
  .catch(error => done({ error: String((error && error.stack) || error) }));
"#;

#[derive(Deserialize)]
struct AxeResults {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    violations: Vec<Violation>,
    #[serde(default)]
    incomplete: Vec<Violation>,
}

#[derive(Deserialize)]
struct Violation {
    id: String,
    impact: String,
    help: String,
    help_url: String,
    nodes: Vec<ViolatingNode>,
}

#[derive(Deserialize)]
struct ViolatingNode {
    target: String,
    summary: String,
}

/// An open "..." menu lies over the row under it by design (its own
/// opaque background): axe cannot decide the contrast of its links, which
/// the layout check judges against that background. Those undecided nodes
/// alone are dropped; any other stays.
async fn opened_menus_judged_by_the_layout_check(
    page: &Page,
    results: &mut AxeResults,
) -> Result<()> {
    for rule in results
        .incomplete
        .iter_mut()
        .filter(|rule| rule.id == "color-contrast")
    {
        let mut kept = Vec::new();
        for node in std::mem::take(&mut rule.nodes) {
            let in_menu = page
                .client
                .execute(
                    "const el = document.querySelector(arguments[0]);
                     return !!(el && el.closest('details.menu[open] ul'));",
                    vec![json!(node.target)],
                )
                .await?;
            let overlapping = node.summary.contains("partially overlaps other elements");
            if !(in_menu == json!(true) && overlapping) {
                kept.push(node);
            }
        }
        rule.nodes = kept;
    }
    results
        .incomplete
        .retain(|rule| rule.id != "color-contrast" || !rule.nodes.is_empty());
    Ok(())
}

/// The check: each page's violations, kept until the end so
/// that one run reports them all.
struct Check<'a> {
    steps: &'a Steps,
    axe: &'a str,
    found: RefCell<Vec<String>>,
    incomplete: RefCell<Vec<String>>,
    pages: Cell<usize>,
    width: Cell<u32>,
}

impl Check<'_> {
    /// Opens `path` (state `name`), which must answer 200 without
    /// redirecting, and checks it.
    async fn visit(&self, name: &str, path: &str) {
        let page = &self.steps.page;
        self.page(name, 200, async {
            page.goto(path).await?;
            let url = page.client.current_url().await?;
            let shown = match url.query() {
                Some(query) => format!("{}?{query}", url.path()),
                None => url.path().to_owned(),
            };
            ensure!(shown == path, "opening {path} showed {shown}");
            Ok(())
        })
        .await;
    }

    /// Brings the page to state `name` with `open`, checks it came with
    /// HTTP status `expected`, then runs the suite's own checks and axe on
    /// it.
    async fn page(&self, name: &str, expected: u16, open: impl Future<Output = Result<()>>) {
        let width = self.width.get();
        let page = &self.steps.page;
        let step = format!("{width} px: {name}");
        let (address, results) = self
            .steps
            .run(&step, async {
                open.await?;
                page.check_accessibility().await?;
                // The state claimed, not an error page or the login page
                // instead.
                let status = page
                    .client
                    .execute(
                        "const nav = performance.getEntriesByType('navigation')[0];
                         return nav ? nav.responseStatus : null;",
                        vec![],
                    )
                    .await?;
                ensure!(
                    status == json!(expected),
                    "the page came with HTTP status {status}, not {expected}"
                );
                let address = page.client.current_url().await?;
                let mut results = run_axe(page, self.axe).await?;
                let layout = layout_problems(page).await?;
                opened_menus_judged_by_the_layout_check(page, &mut results).await?;
                Ok((address, (results, layout)))
            })
            .await;
        let (results, layout) = results;
        self.pages.set(self.pages.get() + 1);
        let where_ = format!("{width} px, {name} ({})", address.path());
        // A contrast axe cannot decide fails too: it is how text the colour
        // of its background (1:1, which axe takes for hidden on purpose) or
        // text pushed off its card (over two backgrounds) show.
        let (undecided, notes): (Vec<_>, Vec<_>) = results
            .incomplete
            .into_iter()
            .partition(|rule| rule.id == "color-contrast");
        for rule in notes {
            let Some(first) = rule.nodes.first() else {
                continue;
            };
            self.incomplete.borrow_mut().push(format!(
                "{where_}: {} on {} element(s), such as {}: {}",
                rule.id,
                rule.nodes.len(),
                first.target,
                first.summary
            ));
        }
        let failing: Vec<String> = results
            .violations
            .iter()
            .map(|rule| describe(rule, ""))
            .chain(
                undecided
                    .iter()
                    .map(|rule| describe(rule, " (undecided: a contrast axe could not confirm)")),
            )
            .chain(
                layout
                    .into_iter()
                    .map(|problem| format!("layout: {problem}")),
            )
            .collect();
        if failing.is_empty() {
            return;
        }
        let saved = self.save(&format!("axe-{width}-{}", slug(name))).await;
        let mut found = self.found.borrow_mut();
        for rule in failing {
            found.push(format!("  {where_}: {rule}{saved}"));
        }
    }

    /// The page's screenshot and HTML, named `stem`, in the failures
    /// folder; a line saying where, or nothing.
    async fn save(&self, stem: &str) -> String {
        let page = &self.steps.page;
        let dir = failures_dir();
        if std::fs::create_dir_all(&dir).is_err() {
            return String::new();
        }
        let png = dir.join(format!("{stem}.png"));
        if let Ok(bytes) = page.client.screenshot().await {
            let _ = std::fs::write(&png, bytes);
        }
        if let Ok(source) = page.source().await {
            let _ = std::fs::write(dir.join(format!("{stem}.html")), source);
        }
        format!("\n      page saved: {}", png.display())
    }
}

/// A rule's finding: its id, impact and help, then each element with what
/// is wrong there, and where to read more.
fn describe(rule: &Violation, kind: &str) -> String {
    let nodes: Vec<String> = rule
        .nodes
        .iter()
        .map(|node| format!("      {}: {}", node.target, node.summary))
        .collect();
    format!(
        "{} ({}){kind}: {}\n{}\n      see {}",
        rule.id,
        rule.impact,
        rule.help,
        nodes.join("\n"),
        rule.help_url
    )
}

/// What a person would see wrong with the page's layout that axe does not
/// judge: a page wider than the window (it scrolls sideways); an element
/// whose content is wider than it (a name cut or spilling over; an
/// ellipsis on purpose aside); an element sticking out of its parent (a
/// table past its card); a control (button, link, summary) whose text has
/// less than 3:1 contrast with what is behind it (white on a white card
/// passes axe as "needs review"). Each as a sentence naming the element.
async fn layout_problems(page: &Page) -> Result<Vec<String>> {
    let found = page
        .client
        .execute(LAYOUT_CHECK, vec![])
        .await
        .context("checking the layout")?;
    serde_json::from_value(found).context("reading the layout check's results")
}

const LAYOUT_CHECK: &str = r#"
const problems = [];
const name = el => {
  let s = el.tagName.toLowerCase();
  if (el.id) s += '#' + el.id;
  else if (el.classList.length) s += '.' + [...el.classList].join('.');
  const text = (el.innerText || el.value || '').trim().replace(/\s+/g, ' ').slice(0, 40);
  return text ? `${s} ("${text}")` : s;
};
const root = document.documentElement;
if (root.scrollWidth > root.clientWidth + 1) {
  problems.push(`the page scrolls sideways: ${root.scrollWidth} px wide in a ${root.clientWidth} px window`);
}
const rgba = color => {
  const m = color.match(/rgba?\(([^)]+)\)/);
  if (!m) return null;
  const [r, g, b, a] = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
  return [r, g, b, a === undefined ? 1 : a];
};
const luminance = ([r, g, b]) => {
  const c = [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
};
// Colour `top` (with its alpha) laid over the opaque `under`.
const over = (top, under) => [0, 1, 2].map(i => top[i] * top[3] + under[i] * (1 - top[3])).concat(1);
// What is behind an element's text: its and its ancestors' backgrounds,
// translucent ones laid over what is under them, down to an opaque one (the
// window is white).
const behind = el => {
  const layers = [];
  for (let at = el; at; at = at.parentElement) {
    const bg = rgba(getComputedStyle(at).backgroundColor);
    if (!bg || bg[3] === 0) continue;
    layers.push(bg);
    if (bg[3] >= 1) break;
  }
  return layers.reduceRight((under, layer) => over(layer, under), [255, 255, 255, 1]);
};
// How opaque an element is once its ancestors' opacity applies.
const opacity = el => {
  let seen = 1;
  for (let at = el; at; at = at.parentElement) seen *= parseFloat(getComputedStyle(at).opacity);
  return seen;
};
// Inside a box kept for screen readers only (1 px, clipped): not seen.
const unseen = el => {
  for (let at = el; at; at = at.parentElement) {
    const box = at.getBoundingClientRect();
    const clips = getComputedStyle(at).overflow !== 'visible';
    if (clips && (box.width <= 1 || box.height <= 1)) return true;
  }
  return false;
};
for (const el of document.body.querySelectorAll('*')) {
  const style = getComputedStyle(el);
  if (style.display === 'none' || style.visibility === 'hidden') continue;
  const rect = el.getBoundingClientRect();
  if (rect.width === 0 || rect.height === 0 || unseen(el)) continue;
  const inline = style.display === 'inline';
  // A text field scrolls its value by design: only its box is judged.
  const field = el.matches('input, textarea, select');
  if (!inline && !field && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1
      && style.textOverflow !== 'ellipsis'
      && ![...el.children].some(child => ['absolute', 'fixed'].includes(getComputedStyle(child).position))) {
    problems.push(`${name(el)}: its content is ${el.scrollWidth - el.clientWidth} px wider than it`);
  }
  // Text cut off at the bottom: a box that clips what does not fit in its
  // height (one that scrolls shows the rest).
  if (!field && ['hidden', 'clip'].includes(style.overflowY) && el.clientHeight > 0
      && el.scrollHeight > el.clientHeight + 1) {
    problems.push(`${name(el)}: its content is ${el.scrollHeight - el.clientHeight} px taller than it, and cut off`);
  }
  const parent = el.parentElement;
  if (parent && parent !== document.body && !['absolute', 'fixed'].includes(style.position)) {
    const outer = parent.getBoundingClientRect();
    const out = Math.max(rect.right - outer.right, outer.left - rect.left);
    if (out > 1) problems.push(`${name(el)} sticks out of ${name(parent)} by ${Math.round(out)} px`);
  }
  if (el.matches('button, a[href], summary, input[type=submit]') && (el.innerText || el.value || '').trim()) {
    const color = rgba(style.color), bg = behind(el);
    if (!color) problems.push(`${name(el)}: its text colour ${style.color} cannot be judged`);
    if (color) {
      // The text as seen: its alpha and its ancestors' opacity let the
      // background through.
      const fg = over([color[0], color[1], color[2], color[3] * opacity(el)], bg);
      const [l1, l2] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
      const ratio = (l1 + 0.05) / (l2 + 0.05);
      if (ratio < 3) problems.push(`${name(el)}: its text has ${ratio.toFixed(2)}:1 contrast with what is behind it (3:1 at least)`);
    }
  }
}
// A word broken across lines ("SCRAM-/SHA-256", "2027-/01-31") in a table,
// a badge, a button or a navigation link, where values are single words:
// each word of each text there must sit on one line. Long free values a
// person may see broken (a reason, a name in the activity log) are marked
// `may-break`.
const words = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let node; (node = words.nextNode());) {
  const host = node.parentElement;
  if (!host.closest('th, td, .badge, .button, button, summary, nav a, dt')
      || host.closest('.may-break') || unseen(host)) continue;
  for (const word of node.data.matchAll(/\S+/g)) {
    const range = document.createRange();
    range.setStart(node, word.index);
    range.setEnd(node, word.index + word[0].length);
    const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.bottom)));
    if (lines.size > 1) problems.push(`${name(host)}: "${word[0].slice(0, 40)}" breaks across ${lines.size} lines`);
  }
}
// A secret, a name or a URI marked monospace must be shown so (l and I,
// O and 0 apart): no other rule may win over the class.
const pageFont = getComputedStyle(document.body).fontFamily;
for (const el of document.querySelectorAll('.mono')) {
  if (el.getBoundingClientRect().width === 0 || unseen(el)) continue;
  if (getComputedStyle(el).fontFamily === pageFont) problems.push(`${name(el)}: marked monospace but shown in the page's font`);
}
for (const card of document.querySelectorAll('.card')) {
  const next = card.nextElementSibling;
  if (!next || !next.matches('.card')) continue;
  const gap = next.getBoundingClientRect().top - card.getBoundingClientRect().bottom;
  if (gap < 12) problems.push(`${name(next)} follows ${name(card)} ${Math.round(gap)} px below it: cards stacked with no gap (12 px at least)`);
}
return problems.slice(0, 30);
"#;

/// Injects axe.min.js into the page (each page load forgets it) and runs
/// it with the WCAG 2.0/2.1 A and AA rules.
async fn run_axe(page: &Page, axe: &str) -> Result<AxeResults> {
    let version = page
        .client
        .execute(
            &format!("{axe}\n;return window.axe ? window.axe.version : null;"),
            vec![],
        )
        .await
        .context("loading axe-core into the page")?;
    ensure!(
        version == json!(AXE_VERSION),
        "the page has axe-core {version} after loading it, not {AXE_VERSION}"
    );
    let results = page
        .client
        .execute_async(AXE_RUN, vec![json!(WCAG)])
        .await
        .context("running axe-core")?;
    let results: AxeResults =
        serde_json::from_value(results).context("reading axe-core's results")?;
    if let Some(error) = results.error {
        bail!("axe-core failed: {error}");
    }
    Ok(results)
}
