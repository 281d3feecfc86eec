//! The guide's steps in a real headless Chromium, driven through chromedriver
//! (WebDriver) with real clicks and typing found by their visible labels, and
//! every effect checked in PostgreSQL.
//!
//! Needs Debian's `chromium` and `chromium-driver`. Without them the test
//! writes a loud warning to stderr that it did not run, and returns.
//! On a failing step it saves a screenshot and the page's HTML under
//! `target/browser-failures/`. [`axe`] runs axe-core on every page.

mod axe;

use std::future::Future;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context as TaskContext, Poll};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tokio_postgres::error::SqlState;

use pgusers::domain::{NewPassword, Username};
use pgusers::roles::Access;

use crate::helpers::{dashboard, password, unique_name};

/// The longest any one wait for the page may take.
const PATIENCE: Duration = Duration::from_secs(15);
/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(50);
/// The longest a whole step may take, waits included.
const STEP_LIMIT: Duration = Duration::from_secs(90);

/// Chromium's arguments (see shared/STACK.md): without the networking flags
/// it keeps trying to reach the outside.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
];

#[tokio::test]
async fn the_guides_steps_work_in_a_real_browser() {
    let Some((chromium, chromedriver)) =
        browser_programs("browser::the_guides_steps_work_in_a_real_browser")
    else {
        return;
    };
    let app = dashboard().start().await;
    let (driver, steps) = open_browser(&app, &chromium, &chromedriver).await;
    let page = &steps.page;
    let app = &app;

    steps
        .run("log in", async {
            page.goto("/login").await?;
            page.check_accessibility().await?;
            page.log_in(&app.operator_password).await
        })
        .await;

    steps
        .run(
            "open the database, then Settings, then Database Users",
            async {
                page.check_accessibility().await?;
                page.click_and_load(&page.link(&app.db.name).await?).await?;
                page.click_and_load(&page.link("Settings").await?).await?;
                page.click_and_load(&page.link("Database Users").await?)
                    .await?;
                page.visible(&format!(
                    "//h2[normalize-space(.)={}]",
                    xpath_literal("Manage database users")
                ))
                .await?;
                page.check_accessibility().await?;
                Ok(())
            },
        )
        .await;

    let writer = unique_name("browser_rw");
    let chosen = password().expose()[..40].to_owned();
    steps
        .run("add a read-write user with a chosen password", async {
            page.click_and_load(&page.link("Add a database user").await?)
                .await?;
            page.check_accessibility().await?;
            page.type_into("Username", &writer).await?;
            page.type_into("Password", &chosen).await?;
            page.type_into("Password confirmation", &chosen).await?;
            page.click_and_load(&page.button("Add this user").await?)
                .await?;
            page.status_message(&format!("User \"{writer}\" created."))
                .await?;
            // Other tests' users share the cluster and fill the first pages.
            page.search(&writer).await?;
            let row = page.row(&writer).await?;
            ensure_text(&row, "td:nth-child(1)", &writer).await?;
            ensure_text(&row, "td:nth-child(2)", "No").await?;
            app.db
                .connect_as(&writer, &chosen)
                .await
                .context("the new user logs in to PostgreSQL with the chosen password")?;
            Ok(())
        })
        .await;

    steps
        .run(
            "focus lands on the first field, then on the first wrong one",
            async {
                page.goto(&app.users("/new")).await?;
                let focused = page.focused_id().await?;
                ensure!(
                    focused == "username",
                    "the form opened with focus on {focused:?}"
                );
                page.type_into("Username", &unique_name("browser_focus"))
                    .await?;
                page.type_into("Password", "short'one").await?;
                page.type_into("Password confirmation", "other").await?;
                page.click_and_load(&page.button("Add this user").await?)
                    .await?;
                let focused = page.focused_id().await?;
                ensure!(
                    focused == "password",
                    "after the error, focus is on {focused:?}"
                );
                let text = page.body_text().await?;
                for problem in [
                    "between 24 and 64 characters",
                    "must not contain the character '",
                    "do not match",
                ] {
                    ensure!(text.contains(problem), "{problem:?} is not shown: {text}");
                }
                page.goto(&app.users("")).await?;
                Ok(())
            },
        )
        .await;

    let reader = unique_name("browser_ro");
    steps
        .run("add a read-only user with a generated password", async {
            page.click_and_load(&page.link("Add a database user").await?)
                .await?;
            page.type_into("Username", &reader).await?;
            page.label("Read only").await?.click().await?;
            let checkbox = page.field("Read only").await?;
            ensure!(
                checkbox.is_selected().await?,
                "clicking the label \"Read only\" did not check its box"
            );
            page.click_and_load(&page.button("Add this user").await?)
                .await?;
            let generated = page.new_password().await?;
            page.check_accessibility().await?;
            let client = app
                .db
                .connect_as(&reader, &generated)
                .await
                .context("the read-only user logs in with the password the page showed")?;
            match client
                .batch_execute("CREATE TABLE written_by_a_reader (id int)")
                .await
            {
                Ok(()) => bail!("the read-only user could create a table"),
                Err(error) => ensure!(
                    error.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE),
                    "CREATE TABLE failed for another reason than privileges: {error}"
                ),
            }
            page.click_and_load(&page.link("Done, back to database users").await?)
                .await?;
            page.search(&reader).await?;
            let row = page.row(&reader).await?;
            ensure_text(&row, "td:nth-child(2)", "Read only").await?;
            ensure!(
                !page.source().await?.contains(&generated),
                "the list shows the generated password again"
            );
            Ok(())
        })
        .await;

    steps
        .run("a too-short username is refused at its field", async {
            page.click_and_load(&page.link("Add a database user").await?)
                .await?;
            page.type_into("Username", "short").await?;
            page.click_and_load(&page.button("Add this user").await?)
                .await?;
            let status = page
                .client
                .execute(
                    "const nav = performance.getEntriesByType('navigation')[0];
                     return nav && typeof nav.responseStatus === 'number' ? nav.responseStatus : null;",
                    vec![],
                )
                .await?;
            ensure!(
                status == json!(422),
                "the form came back with HTTP status {status}, not 422"
            );
            let username = page.field("Username").await?;
            let kept = username.prop("value").await?.unwrap_or_default();
            ensure!(kept == "short", "the typed username was not kept: {kept:?}");
            let message = "Username must be between 6 and 32 characters long";
            page.visible(&format!(
                "//p[contains(normalize-space(.), {})]",
                xpath_literal(message)
            ))
            .await?;
            // The message is tied to the field for screen readers.
            ensure!(
                username.attr("aria-invalid").await?.as_deref() == Some("true"),
                "the username field is not marked aria-invalid"
            );
            let described = page
                .client
                .execute(
                    "return (arguments[0].getAttribute('aria-describedby') || '')
                       .split(/\\s+/).filter(Boolean)
                       .map(id => document.getElementById(id))
                       .filter(Boolean).map(el => el.textContent.trim());",
                    vec![json!(username)],
                )
                .await?;
            ensure!(
                described
                    .as_array()
                    .is_some_and(|texts| texts.iter().any(|t| t
                        .as_str()
                        .is_some_and(|t| t.contains(message)))),
                "aria-describedby of the username field points at no element with the error; it describes: {described}"
            );
            page.check_accessibility().await?;
            Ok(())
        })
        .await;

    steps
        .run(
            "reset the read-write user's password from its ... menu, by keyboard",
            async {
                page.click_and_load(&page.link("Database Users").await?)
                    .await?;
                page.check_accessibility().await?;
                let menu = page.menu(&writer).await?;
                let summary = menu.find(Locator::Css("summary")).await?;
                ensure!(
                    summary.text().await?.trim() == "...",
                    "the menu's summary does not read \"...\""
                );
                let focused = page
                    .client
                    .execute(
                        "arguments[0].focus(); return document.activeElement === arguments[0];",
                        vec![json!(summary)],
                    )
                    .await?;
                ensure!(
                    focused == json!(true),
                    "the \"...\" summary cannot take the focus"
                );
                // Enter goes to whatever has the focus: the summary.
                page.client
                    .active_element()
                    .await?
                    .send_keys(&Key::Enter.to_string())
                    .await?;
                page.wait_until_open(&menu, "Enter on the focused \"...\" summary opens its menu")
                    .await?;
                // The whole reset by keyboard: the link, then the confirmation.
                page.press_enter_and_load(&page.link_in(&menu, "Reset password").await?)
                    .await?;
                page.check_accessibility().await?;
                page.press_enter_and_load(&page.button("Reset password").await?)
                    .await?;
                let new = page.new_password().await?;
                ensure!(new != chosen, "the password did not change");
                app.db
                    .connect_as(&writer, &new)
                    .await
                    .context("the user logs in with the new password")?;
                match app.db.connect_as(&writer, &chosen).await {
                    Ok(_) => bail!("the old password still works"),
                    Err(error) => ensure!(
                        error.code() == Some(&SqlState::INVALID_PASSWORD),
                        "the old password failed for another reason: {error}"
                    ),
                }
                // Reloading the page that shows the password sends its form
                // again: it must not reset the password a second time.
                page.mark_old_page().await?;
                page.client.refresh().await?;
                page.wait_for_new_page().await?;
                let text = page.body_text().await?;
                ensure!(
                    text.contains("Already done")
                        && text.contains("The new password was shown once"),
                    "the reloaded page does not say the reset was already done: {text:?}"
                );
                ensure!(
                    !page.source().await?.contains(&new),
                    "the reloaded page shows the password again"
                );
                app.db
                    .connect_as(&writer, &new)
                    .await
                    .context("after the reload, the password shown first still logs in")?;
                page.check_accessibility().await?;
                page.click_and_load(&page.link("Back to database users").await?)
                    .await?;
                Ok(())
            },
        )
        .await;

    steps
        .run("delete the read-write user from its ... menu", async {
            page.search(&writer).await?;
            let menu = page.menu(&writer).await?;
            menu.find(Locator::Css("summary")).await?.click().await?;
            page.wait_until_open(&menu, "a click on \"...\" opens its menu")
                .await?;
            page.click_and_load(&page.link_in(&menu, "Delete user").await?)
                .await?;
            page.check_accessibility().await?;
            page.click_and_load(&page.button("Delete user").await?)
                .await?;
            page.status_message(&format!("User \"{writer}\" deleted."))
                .await?;
            let url = page.client.current_url().await?;
            ensure!(
                url.query() == Some(&format!("q={writer}")),
                "after the delete, the list is not back at its search: {url}"
            );
            ensure!(
                page.source().await?.contains("No user matches"),
                "the search that found the deleted user does not say it finds nobody now"
            );
            let rows = page
                .client
                .find_all(Locator::Css(&row_selector(&writer)))
                .await?;
            ensure!(rows.is_empty(), "the deleted user's row is still listed");
            ensure!(
                !app.db.role_exists(&writer).await,
                "the role still exists in PostgreSQL"
            );
            Ok(())
        })
        .await;

    steps
        .run("the protected user has no menu", async {
            page.search(&app.db.protected).await?;
            let row = page.row(&app.db.protected).await?;
            ensure!(
                row.find_all(Locator::Css("details")).await?.is_empty(),
                "the protected user's row has a ... menu"
            );
            ensure_text(&row, "td:nth-child(3)", "Protected").await?;
            Ok(())
        })
        .await;

    let intruder = unique_name("browser_xo");
    steps
        .run("a form posted from another origin changes nothing", async {
            let other = OtherSite::start(vec![
                ("/".into(), forged_form(&format!("{}{}", app.address, app.users("")), &intruder, false)),
                ("/no-referrer".into(), forged_form(&format!("{}{}", app.address, app.users("")), &intruder, true)),
            ])?;
            // The second page makes the browser send `Origin: null`, so only
            // the CSRF token stands in the way.
            for path in ["/", "/no-referrer"] {
                page.client
                    .goto(&format!("{}{path}", other.address))
                    .await?;
                page.click_and_load(&page.button("Claim your prize").await?)
                    .await?;
                let url = page.client.current_url().await?;
                let text = page.body_text().await?;
                let refused =
                    text.contains("did not come from this dashboard") || url.path() == "/login";
                ensure!(
                    refused,
                    "the form forged at {path} was not refused: the browser shows {url} with {text:?}"
                );
                page.check_accessibility().await?;
                ensure!(
                    !app.db.role_exists(&intruder).await,
                    "the form forged at {path} created a role"
                );
            }
            page.goto(&app.users(&format!("?q={intruder}"))).await?;
            page.visible(&format!(
                "//h2[normalize-space(.)={}]",
                xpath_literal("Manage database users")
            ))
            .await?;
            ensure!(
                page.client
                    .find_all(Locator::Css(&row_selector(&intruder)))
                    .await?
                    .is_empty(),
                "the forged user is listed"
            );
            Ok(())
        })
        .await;

    steps.finish().await;
    drop(driver);
}

/// The width of the phone the dashboard must fit (an iPhone 12 to 15).
const PHONE: (u32, u32) = (390, 844);

#[tokio::test]
async fn every_page_fits_a_390_pixel_wide_phone_and_the_users_menu_works_there() {
    let Some((chromium, chromedriver)) = browser_programs(
        "browser::every_page_fits_a_390_pixel_wide_phone_and_the_users_menu_works_there",
    ) else {
        return;
    };
    let app = dashboard().start().await;
    // Both kinds, named alike so that one search shows them together.
    let marker = unique_name("phone");
    let writer = format!("{marker}_rw_with_a_long_name")[..32].to_owned();
    let reader = format!("{marker}_ro");
    for (name, access) in [(&writer, Access::ReadWrite), (&reader, Access::ReadOnly)] {
        app.db
            .roles
            .create(
                &Username::parse(name).unwrap(),
                NewPassword::Chosen(password()),
                access,
            )
            .await
            .expect("the user is created");
    }
    // A user whose delete is refused until a person reviews its code.
    let ranger = format!("{marker}_range");
    let ranger_secret = password();
    app.db
        .roles
        .create(
            &Username::parse(&ranger).unwrap(),
            NewPassword::Chosen(ranger_secret.clone()),
            Access::ReadWrite,
        )
        .await
        .expect("the user is created");
    app.db
        .run_as(
            &Username::parse(&ranger).unwrap(),
            &ranger_secret,
            "CREATE FUNCTION a_rather_long_function_name_for_a_phone(int, int) RETURNS float8
                 LANGUAGE sql IMMUTABLE AS 'SELECT ($1 - $2)::float8';
             CREATE TYPE phone_span AS RANGE (subtype = int4,
                 subtype_diff = a_rather_long_function_name_for_a_phone);",
        )
        .await;
    // Health with long findings: a schema named after the writer, made by
    // a role pgusers does not manage (its rename and the schema's SQL),
    // and a membership with ADMIN OPTION (a REVOKE … GRANTED BY).
    let outsider = format!("{marker}_outsider_with_a_long_name");
    app.db
        .admin()
        .await
        .batch_execute(&format!(
            "CREATE ROLE {outsider} LOGIN; GRANT CREATE ON DATABASE {db} TO {outsider};
             CREATE SCHEMA {writer} AUTHORIZATION {outsider};
             GRANT USAGE ON SCHEMA {writer} TO {writer};
             GRANT \"pgusers-writers-{db}\" TO {writer} WITH ADMIN OPTION;",
            db = app.db.name
        ))
        .await
        .expect("the findings are planted");
    let (driver, steps) = open_browser(&app, &chromium, &chromedriver).await;
    let page = &steps.page;
    let app = &app;

    steps
        .run("make the window as wide as a phone", async {
            page.goto("/login").await?;
            page.set_inner_size(PHONE.0, PHONE.1).await
        })
        .await;

    steps
        .run("the login page fits; log in", async {
            page.fits_the_width().await?;
            page.log_in(&app.operator_password).await?;
            page.fits_the_width().await
        })
        .await;

    steps
        .run(
            "the users page shows each user's name, kind and ... menu on screen",
            async {
                page.goto(&app.users("")).await?;
                page.fits_the_width().await?;
                page.search(&marker).await?;
                page.fits_the_width().await?;
                for (name, kind) in [(&writer, "No"), (&reader, "Read only")] {
                    let row = page.row(name).await?;
                    page.on_screen(&row.find(Locator::Css("td:nth-child(1)")).await?, name)
                        .await?;
                    let cell = row.find(Locator::Css("td:nth-child(2)")).await?;
                    ensure!(
                        cell.text().await?.contains(kind),
                        "the kind of {name} does not read {kind:?}"
                    );
                    page.on_screen(&cell, &format!("the kind of {name}"))
                        .await?;
                    let menu = page.menu(name).await?;
                    page.on_screen(&menu.find(Locator::Css("summary")).await?, "the ... menu")
                        .await?;
                }
                page.search(&app.db.protected).await?;
                let row = page.row(&app.db.protected).await?;
                let cell = row.find(Locator::Css("td:nth-child(3)")).await?;
                ensure!(cell.text().await?.contains("Protected"));
                page.on_screen(&cell, "the protected user's kind").await?;
                page.fits_the_width().await?;
                Ok(())
            },
        )
        .await;

    steps
        .run("the ... menu opens on screen and its links work", async {
            page.search(&marker).await?;
            let menu = page.menu(&writer).await?;
            menu.find(Locator::Css("summary")).await?.click().await?;
            page.wait_until_open(&menu, "a tap on \"...\" opens its menu")
                .await?;
            page.fits_the_width().await?;
            let reset = page.link_in(&menu, "Reset password").await?;
            page.on_screen(&reset, "Reset password").await?;
            page.on_screen(&page.link_in(&menu, "Delete user").await?, "Delete user")
                .await?;
            page.click_and_load(&reset).await?;
            page.fits_the_width().await?;
            page.click_and_load(&page.button("Reset password").await?)
                .await?;
            page.new_password().await?;
            page.fits_the_width().await?;
            Ok(())
        })
        .await;

    steps
        .run("every other page fits", async {
            let delete = app.users(&format!("/{writer}/delete"));
            let pages = [
                "/".to_owned(),
                app.database_page(""),
                app.database_page("/settings/health"),
                app.users("/new"),
                delete,
                app.users(&format!("/{writer}/details")),
                app.users(&format!("/{writer}/end-sessions")),
                "/api-tokens".to_owned(),
                "/activity".to_owned(),
                "/no-such-page".to_owned(),
            ];
            for path in pages {
                page.goto(&path).await?;
                page.fits_the_width()
                    .await
                    .with_context(|| format!("on {path}"))?;
            }
            // A form with its errors, and a token just made.
            page.goto(&app.users("/new")).await?;
            page.type_into("Username", "short").await?;
            page.click_and_load(&page.button("Add this user").await?)
                .await?;
            page.fits_the_width()
                .await
                .context("on the form with errors")?;
            page.goto("/api-tokens").await?;
            page.type_into("Label", "nightly backups").await?;
            page.click_and_load(&page.button("Create this token").await?)
                .await?;
            page.fits_the_width().await.context("on the new token")?;
            page.goto("/api-tokens").await?;
            page.fits_the_width().await.context("on the tokens list")?;
            page.goto("/activity").await?;
            page.fits_the_width().await.context("on the activity log")?;
            // A delete refused until its code is reviewed: the reason and
            // the SQL to run fit, and no Delete button is offered.
            page.goto(&app.users(&format!("/{ranger}/delete"))).await?;
            page.fits_the_width().await.context("on a refused delete")?;
            let refused = page.visible("//*[@id='delete-refused']").await?;
            page.on_screen(&refused, "why it cannot be deleted").await?;
            ensure!(
                refused.text().await?.contains("ALTER ROUTINE"),
                "the refusal names the SQL to run"
            );
            ensure!(
                page.button("Delete user").await.is_err(),
                "no Delete button on a refused delete"
            );
            Ok(())
        })
        .await;

    steps.finish().await;
    drop(driver);
}

/// Chromium, through chromedriver, on `app`'s pages, and the steps to
/// take there; the driver must live as long as the steps.
async fn open_browser(
    app: &crate::helpers::TestApp,
    chromium: &Path,
    chromedriver: &Path,
) -> (Chromedriver, Steps) {
    let driver = Chromedriver::start(chromedriver)
        .await
        .expect("chromedriver starts");
    let client = driver
        .new_session(chromium)
        .await
        .expect("chromedriver starts Chromium");
    let steps = Steps::new(Page {
        client,
        address: app.address.clone(),
    });
    (driver, steps)
}

/// Chromium and chromedriver, or `None` after a loud warning that `test`
/// did not run.
fn browser_programs(test: &str) -> Option<(PathBuf, PathBuf)> {
    let chromium = find_program("chromium");
    let chromedriver = find_program("chromedriver");
    if let (Some(chromium), Some(chromedriver)) = (&chromium, &chromedriver) {
        return Some((chromium.clone(), chromedriver.clone()));
    }
    let missing: Vec<&str> = [("chromium", &chromium), ("chromedriver", &chromedriver)]
        .iter()
        .filter(|(_, found)| found.is_none())
        .map(|(name, _)| *name)
        .collect();
    // Straight to the process's stderr: libtest captures eprintln!.
    let bar = "!".repeat(78);
    let _ = writeln!(
        std::io::stderr(),
        "\n{bar}\n\
         !! BROWSER TEST NOT RUN: {test}\n\
         !! did not run because {} was not found (looked in /usr/bin and PATH).\n\
         !! It is reported as passed, but checked nothing. Install the Debian packages:\n\
         !!     apt-get install -y --no-install-recommends chromium chromium-driver\n\
         !! (.ci/run installs them on a fresh machine).\n\
         {bar}\n",
        missing.join(" and ")
    );
    None
}

/// An executable `/usr/bin/<name>`, else one found in PATH.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::iter::once(PathBuf::from("/usr/bin"))
        .chain(std::env::split_paths(&path))
        .map(|dir| dir.join(name))
        .find(|candidate| {
            candidate
                .metadata()
                .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        })
}

/// A chromedriver of the test's own on a free loopback port, in a process
/// group of its own: dropping it kills chromedriver and the Chromium it
/// started, also when the test panics.
struct Chromedriver {
    child: Child,
    url: String,
    /// Chromium's profile and chromedriver's output; removed after the kill.
    dir: tempfile::TempDir,
}

impl Chromedriver {
    async fn start(program: &Path) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("pgusers-browser-")
            .tempdir()?;
        let log_path = dir.path().join("chromedriver.log");
        let mut last_error = anyhow!("chromedriver was not started");
        // The free port may be taken between looking and binding: try again.
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
            let log = std::fs::File::create(&log_path)?;
            let mut child = Command::new(program)
                .arg(format!("--port={port}"))
                .arg("--allowed-ips=127.0.0.1")
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log)
                .process_group(0)
                .spawn()
                .with_context(|| format!("running {}", program.display()))?;
            let url = format!("http://127.0.0.1:{port}");
            match wait_until_ready(&mut child, &url, &log_path).await {
                Ok(()) => return Ok(Self { child, url, dir }),
                Err(error) => {
                    last_error = error;
                    kill_group(&mut child);
                }
            }
        }
        Err(last_error)
    }

    fn output(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("chromedriver.log")).unwrap_or_default()
    }

    /// A WebDriver session on a new headless Chromium with a fresh profile.
    async fn new_session(&self, chromium: &Path) -> Result<Client> {
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|&arg| arg.to_owned()).collect();
        args.push(format!(
            "--user-data-dir={}",
            self.dir.path().join("profile").display()
        ));
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": chromium, "args": args }),
        );
        // Guards against a hang, not limits on speed: axe-core on a long
        // page took over 10 s while the machine ran two suites at once.
        capabilities.insert(
            "timeouts".into(),
            json!({ "script": 60_000, "pageLoad": 60_000, "implicit": 0 }),
        );
        ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .with_context(|| format!("new session: {}", self.output().trim()))
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        kill_group(&mut self.child);
    }
}

/// Waits until chromedriver answers `/status` with `ready`.
async fn wait_until_ready(child: &mut Child, url: &str, log: &Path) -> Result<()> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()?;
    let output = || std::fs::read_to_string(log).unwrap_or_default();
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(exit) = child.try_wait()? {
            bail!("chromedriver exited with {exit}: {}", output().trim());
        }
        if let Ok(response) = http.get(format!("{url}/status")).send().await
            && let Ok(body) = response.text().await
            && serde_json::from_str::<Value>(&body)
                .is_ok_and(|json| json["value"]["ready"] == json!(true))
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "chromedriver did not answer on {url} within {PATIENCE:?}: {}",
                output().trim()
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Kills `child`'s process group (chromedriver and the Chromium it started).
fn kill_group(child: &mut Child) {
    // Only while chromedriver is unreaped: its id (the group's) cannot have
    // been reused then.
    if let (Ok(None), Ok(pid)) = (child.try_wait(), i32::try_from(child.id())) {
        // SAFETY: signalling the process group this test created for `child`.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
    }
    let _ = child.wait();
}

/// Runs the steps; when one fails (by error or panic), saves a screenshot
/// and the page's HTML, ends the browser session and panics saying which.
struct Steps {
    page: Page,
    done: std::cell::Cell<usize>,
}

impl Steps {
    fn new(page: Page) -> Self {
        Self {
            page,
            done: std::cell::Cell::new(0),
        }
    }

    async fn run<T>(&self, name: &str, step: impl Future<Output = Result<T>>) -> T {
        let number = self.done.get() + 1;
        self.done.set(number);
        let started = Instant::now();
        let outcome = tokio::time::timeout(STEP_LIMIT, CatchUnwind(Box::pin(step))).await;
        let error = match outcome {
            Ok(Ok(Ok(value))) => {
                println!("step {number} ({name}): {:?}", started.elapsed());
                return value;
            }
            Ok(Ok(Err(error))) => format!("{error:#}"),
            Ok(Err(panic)) => panic_message(&*panic),
            Err(_) => format!("the step took longer than {STEP_LIMIT:?}"),
        };
        let artefacts = self.save_artefacts(number, name).await;
        let url = match self.page.client.current_url().await {
            Ok(url) => url.to_string(),
            Err(error) => format!("unknown ({error})"),
        };
        // What the page itself says went wrong, if anything.
        let alerts = self
            .page
            .client
            .execute(
                "return Array.from(document.querySelectorAll('[role=alert]'))
                   .map(el => el.textContent.trim()).filter(Boolean).join(' | ');",
                vec![],
            )
            .await
            .ok()
            .and_then(|text| text.as_str().map(str::to_owned))
            .filter(|text| !text.is_empty())
            .map(|text| format!("\n  the page says: {text}"))
            .unwrap_or_default();
        let _ =
            tokio::time::timeout(Duration::from_secs(5), self.page.client.clone().close()).await;
        panic!(
            "browser step {number} \"{name}\" failed: {error}\n  page: {url}{alerts}\n{artefacts}"
        );
    }

    /// Writes `NN-step-name.png` and `.html` into target/browser-failures/.
    async fn save_artefacts(&self, number: usize, name: &str) -> String {
        let dir = failures_dir();
        if let Err(error) = std::fs::create_dir_all(&dir) {
            return format!("  could not create {}: {error}", dir.display());
        }
        let stem = format!("{number:02}-{}", slug(name));
        let mut report = Vec::new();
        let png = dir.join(format!("{stem}.png"));
        match self.page.client.screenshot().await {
            Ok(bytes) => match std::fs::write(&png, bytes) {
                Ok(()) => report.push(format!("  screenshot: {}", png.display())),
                Err(error) => report.push(format!("  screenshot not written: {error}")),
            },
            Err(error) => report.push(format!("  no screenshot: {error}")),
        }
        let html = dir.join(format!("{stem}.html"));
        match self.page.source().await {
            Ok(source) => match std::fs::write(&html, source) {
                Ok(()) => report.push(format!("  page HTML:  {}", html.display())),
                Err(error) => report.push(format!("  page HTML not written: {error}")),
            },
            Err(error) => report.push(format!("  no page HTML: {error}")),
        }
        report.join("\n")
    }

    /// Ends the browser session (Chromium quits).
    async fn finish(self) {
        if let Err(error) = self.page.client.close().await {
            panic!("the browser session did not end cleanly: {error}");
        }
    }
}

/// A future that turns a panic while polling into an `Err`, so a step's
/// failed assertion also gets its screenshot.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = std::thread::Result<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "a panic".into())
}

fn failures_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("browser-failures")
}

fn slug(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_matches('-').to_owned()
}

/// The browser on the dashboard, found by what a person sees.
struct Page {
    client: Client,
    address: String,
}

impl Page {
    /// Makes the page (not the window, whose frame may take some)
    /// `width` by about `height` pixels.
    async fn set_inner_size(&self, width: u32, height: u32) -> Result<()> {
        self.client.set_window_size(width, height).await?;
        // The window's frame, if any, is not the page's: widen the window
        // by what the frame takes.
        let inner = self
            .client
            .execute("return window.innerWidth;", vec![])
            .await?;
        let inner = inner.as_u64().context("innerWidth")? as u32;
        if inner != width {
            self.client
                .set_window_size((2 * width).saturating_sub(inner), height)
                .await?;
        }
        let inner = self
            .client
            .execute("return window.innerWidth;", vec![])
            .await?;
        ensure!(
            inner == json!(width),
            "the page is {inner} px wide, not {width}"
        );
        Ok(())
    }

    /// Logs in as `admin` from the login page, as a person would, and
    /// waits for a logged-in page.
    async fn log_in(&self, password: &str) -> Result<()> {
        self.type_into("Operator name", "admin").await?;
        self.type_into("Password", password).await?;
        self.click_and_load(&self.button("Log in").await?).await?;
        self.button("Log out").await?;
        Ok(())
    }

    async fn goto(&self, path: &str) -> Result<()> {
        self.client
            .goto(&format!("{}{path}", self.address))
            .await
            .with_context(|| format!("opening {path}"))
    }

    async fn source(&self) -> Result<String> {
        Ok(self.client.source().await?)
    }

    /// The id of the element that has the keyboard focus.
    async fn focused_id(&self) -> Result<String> {
        let id = self
            .client
            .execute(
                "return document.activeElement && document.activeElement.id;",
                vec![],
            )
            .await?;
        Ok(id.as_str().unwrap_or_default().to_owned())
    }

    async fn body_text(&self) -> Result<String> {
        Ok(self.client.find(Locator::Css("body")).await?.text().await?)
    }

    /// The first displayed element matching `xpath`, waiting for one.
    async fn visible(&self, xpath: &str) -> Result<Element> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            for element in self.client.find_all(Locator::XPath(xpath)).await? {
                if element.is_displayed().await.unwrap_or(false) {
                    return Ok(element);
                }
            }
            if Instant::now() > deadline {
                bail!("nothing visible matches {xpath} after {PATIENCE:?}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn button(&self, text: &str) -> Result<Element> {
        self.visible(&format!(
            "//button[normalize-space(.)={}]",
            xpath_literal(text)
        ))
        .await
        .with_context(|| format!("looking for the button \"{text}\""))
    }

    async fn link(&self, text: &str) -> Result<Element> {
        self.visible(&format!("//a[normalize-space(.)={}]", xpath_literal(text)))
            .await
            .with_context(|| format!("looking for the link \"{text}\""))
    }

    /// A link inside `scope`, which must be displayed.
    async fn link_in(&self, scope: &Element, text: &str) -> Result<Element> {
        let link = scope
            .find(Locator::XPath(&format!(
                ".//a[normalize-space(.)={}]",
                xpath_literal(text)
            )))
            .await
            .with_context(|| format!("looking for the link \"{text}\" in the menu"))?;
        ensure!(link.is_displayed().await?, "the link \"{text}\" is hidden");
        Ok(link)
    }

    async fn label(&self, text: &str) -> Result<Element> {
        self.visible(&format!(
            "//label[normalize-space(.)={}]",
            xpath_literal(text)
        ))
        .await
        .with_context(|| format!("looking for the label \"{text}\""))
    }

    /// The form field labelled `text` (through `<label for>`).
    async fn field(&self, text: &str) -> Result<Element> {
        let label = self.label(text).await?;
        let id = label
            .attr("for")
            .await?
            .with_context(|| format!("the label \"{text}\" names no field"))?;
        self.client
            .find(Locator::Id(&id))
            .await
            .with_context(|| format!("the label \"{text}\" names a missing field #{id}"))
    }

    /// Searches the users list for `name` with its search box.
    async fn search(&self, name: &str) -> Result<()> {
        self.type_into("Search users", name).await?;
        self.click_and_load(&self.button("Search").await?).await?;
        Ok(())
    }

    /// Clicks the field labelled `label`, empties it, types `text` and
    /// checks the field took every key.
    async fn type_into(&self, label: &str, text: &str) -> Result<()> {
        let field = self.field(label).await?;
        field.click().await?;
        field.clear().await?;
        field.send_keys(text).await?;
        let value = field.prop("value").await?.unwrap_or_default();
        ensure!(
            value == text,
            "the field \"{label}\" holds {} characters, not the {} typed",
            value.len(),
            text.len()
        );
        Ok(())
    }

    /// Clicks `element` and waits until a new page has loaded.
    async fn click_and_load(&self, element: &Element) -> Result<()> {
        self.mark_old_page().await?;
        element.click().await?;
        self.wait_for_new_page().await
    }

    /// Like a keyboard user: focuses `element`, presses Enter, waits for
    /// the next page.
    async fn press_enter_and_load(&self, element: &Element) -> Result<()> {
        self.mark_old_page().await?;
        let focused = self
            .client
            .execute(
                "arguments[0].focus(); return document.activeElement === arguments[0];",
                vec![json!(element)],
            )
            .await?;
        ensure!(focused == json!(true), "the element cannot take the focus");
        self.client
            .active_element()
            .await?
            .send_keys(&Key::Enter.to_string())
            .await?;
        self.wait_for_new_page().await
    }

    async fn mark_old_page(&self) -> Result<()> {
        self.client
            .execute(
                "document.documentElement.setAttribute('data-browser-test-old-page', '');",
                vec![],
            )
            .await?;
        Ok(())
    }

    async fn wait_for_new_page(&self) -> Result<()> {
        self.wait_js(
            "return document.readyState === 'complete'
                && !document.documentElement.hasAttribute('data-browser-test-old-page');",
            vec![],
            "the next page to load",
        )
        .await?;
        Ok(())
    }

    /// Waits until `script` returns something truthy, and returns it.
    async fn wait_js(&self, script: &str, args: Vec<Value>, what: &str) -> Result<Value> {
        let deadline = Instant::now() + PATIENCE;
        let mut last_error = None;
        loop {
            // A script may fail while the page is being replaced: try again.
            match self.client.execute(script, args.clone()).await {
                Ok(value) if !matches!(value, Value::Null | Value::Bool(false)) => {
                    return Ok(value);
                }
                Ok(_) => {}
                Err(error) => last_error = Some(error),
            }
            if Instant::now() > deadline {
                let hint = last_error
                    .map(|e| format!(" (last error: {e})"))
                    .unwrap_or_default();
                bail!("timed out after {PATIENCE:?} waiting for {what}{hint}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The success message in the page's status region.
    async fn status_message(&self, text: &str) -> Result<()> {
        self.visible(&format!(
            "//*[@role='status'][normalize-space(.)={}]",
            xpath_literal(text)
        ))
        .await
        .with_context(|| format!("looking for the message {text:?}"))?;
        Ok(())
    }

    /// The password shown once, from `#new-password`.
    async fn new_password(&self) -> Result<String> {
        let field = self
            .visible("//input[@id='new-password']")
            .await
            .context("looking for the new password")?;
        let value = field.prop("value").await?.unwrap_or_default();
        ensure!(
            value.len() == 64,
            "the generated password has {} characters, not 64",
            value.len()
        );
        Ok(value)
    }

    /// Nothing on the page is wider than the window: no sideways scrolling.
    async fn fits_the_width(&self) -> Result<()> {
        let widths = self
            .client
            .execute(
                "const wide = Array.from(document.body.querySelectorAll('*'))
                   .filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5)
                   .slice(0, 3)
                   .map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''));
                 return [document.documentElement.scrollWidth, window.innerWidth, wide];",
                vec![],
            )
            .await?;
        ensure!(
            widths[0].as_u64() <= widths[1].as_u64(),
            "the page is {} px wide in a {} px window; too wide: {}",
            widths[0],
            widths[1],
            widths[2]
        );
        Ok(())
    }

    /// `element` is shown, and wholly within the window's width.
    async fn on_screen(&self, element: &Element, what: &str) -> Result<()> {
        let rect = self
            .client
            .execute(
                "const r = arguments[0].getBoundingClientRect();
                 return [r.left, r.right, r.width, window.innerWidth];",
                vec![json!(element)],
            )
            .await?;
        let [left, right, width, window] =
            [0, 1, 2, 3].map(|i| rect[i].as_f64().unwrap_or(f64::NAN));
        ensure!(
            width > 0.0 && left >= 0.0 && right <= window + 0.5,
            "{what} is not on screen: from {left} to {right} px in a {window} px window"
        );
        Ok(())
    }

    /// The users table's row of `username`.
    async fn row(&self, username: &str) -> Result<Element> {
        self.client
            .wait()
            .at_most(PATIENCE)
            .every(POLL)
            .for_element(Locator::Css(&row_selector(username)))
            .await
            .with_context(|| format!("looking for the row of {username}"))
    }

    /// The `...` menu of `username`'s row, found by its accessible name.
    async fn menu(&self, username: &str) -> Result<Element> {
        let summary = self
            .visible(&format!(
                "//tr[@data-username={}]//details/summary[@aria-label={}]",
                xpath_literal(username),
                xpath_literal(&format!("Actions for {username}"))
            ))
            .await
            .with_context(|| format!("looking for the ... menu of {username}"))?;
        Ok(summary.find(Locator::XPath("..")).await?)
    }

    async fn wait_until_open(&self, details: &Element, what: &str) -> Result<()> {
        self.wait_js(
            "return arguments[0].hasAttribute('open');",
            vec![json!(details)],
            what,
        )
        .await?;
        Ok(())
    }

    /// Basic accessibility checks on the current page, in the browser.
    async fn check_accessibility(&self) -> Result<()> {
        let problems = self.client.execute(ACCESSIBILITY_CHECK, vec![]).await?;
        let problems: Vec<String> = serde_json::from_value(problems)?;
        ensure!(
            problems.is_empty(),
            "accessibility problems on {}:\n  {}",
            self.client.current_url().await?,
            problems.join("\n  ")
        );
        Ok(())
    }
}

/// Every visible field has a label; every described-by target exists and has
/// text; a field marked invalid says why; links, buttons and summaries have a
/// name and take the focus; the page has a language, a title and one `<h1>`;
/// ids are unique.
const ACCESSIBILITY_CHECK: &str = r#"
const problems = [];
const visible = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
const describe = el => el.id ? '#' + el.id : el.outerHTML.slice(0, 90);
for (const input of document.querySelectorAll('input, select, textarea')) {
  if (input.type === 'hidden' || !visible(input)) continue;
  const label = input.id ? document.querySelector('label[for="' + CSS.escape(input.id) + '"]') : null;
  const ariaLabel = (input.getAttribute('aria-label') || '').trim();
  if (!(label && label.textContent.trim()) && !ariaLabel) {
    problems.push('field ' + describe(input) + ' has neither a <label for> nor an aria-label');
  }
  const described = (input.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
  for (const id of described) {
    const target = document.getElementById(id);
    if (!target || !target.textContent.trim()) {
      problems.push('field ' + describe(input) + ' is described by #' + id + ', which is missing or empty');
    }
  }
  if (input.getAttribute('aria-invalid') === 'true' && described.length === 0) {
    problems.push('field ' + describe(input) + ' is aria-invalid but described by nothing');
  }
}
for (const el of document.querySelectorAll('a[href], button, summary')) {
  if (!visible(el)) continue;
  const name = (el.getAttribute('aria-label') || el.textContent || '').trim();
  if (!name) problems.push(el.tagName.toLowerCase() + ' without a name: ' + describe(el));
  if (el.tabIndex < 0) problems.push(el.tagName.toLowerCase() + ' cannot take the focus: ' + describe(el));
}
if (!document.documentElement.lang) problems.push('<html> has no lang');
if (!document.title.trim()) problems.push('the page has no <title>');
if (document.querySelectorAll('h1').length !== 1) problems.push('the page has ' + document.querySelectorAll('h1').length + ' <h1>');
const ids = new Set();
for (const el of document.querySelectorAll('[id]')) {
  if (ids.has(el.id)) problems.push('duplicate id #' + el.id);
  ids.add(el.id);
}
return problems;
"#;

fn row_selector(username: &str) -> String {
    format!("tr[data-username=\"{username}\"]")
}

/// Checks the text of the cell `selector` in `row`.
async fn ensure_text(row: &Element, selector: &str, expected: &str) -> Result<()> {
    let text = row.find(Locator::Css(selector)).await?.text().await?;
    ensure!(
        text.trim() == expected,
        "the row's {selector} reads {text:?}, not {expected:?}"
    );
    Ok(())
}

/// `text` as an XPath string literal.
fn xpath_literal(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|part| format!("'{part}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

/// Another site's page with a form that posts a new user to the dashboard,
/// with a made-up CSRF token; with `no_referrer`, the browser sends
/// `Origin: null` instead of the other site's origin.
fn forged_form(users_url: &str, username: &str, no_referrer: bool) -> String {
    let policy = if no_referrer {
        r#"<meta name="referrer" content="no-referrer">"#
    } else {
        ""
    };
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8">{policy}<title>Another site</title></head>
<body>
<h1>You won!</h1>
<form method="post" action="{users_url}">
  <input type="hidden" name="csrf_token" value="not-the-dashboards-token">
  <input type="hidden" name="username" value="{username}">
  <input type="hidden" name="password" value="">
  <input type="hidden" name="password_confirmation" value="">
  <button type="submit">Claim your prize</button>
</form>
</body></html>
"#
    )
}

/// A tiny web server of another origin (another loopback port) serving a
/// few pages, each at its path. Stops when dropped.
struct OtherSite {
    address: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl OtherSite {
    fn start(pages: Vec<(String, String)>) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let local = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let pages = Arc::new(pages);
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    let pages = Arc::clone(&pages);
                    // One thread per connection: a browser's idle preconnect
                    // must not hold up the real request.
                    std::thread::spawn(move || serve_one(stream, &pages));
                }
            }
        });
        Ok(Self {
            address: format!("http://{local}"),
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for OtherSite {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.address.trim_start_matches("http://"));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve_one(mut stream: TcpStream, pages: &[(String, String)]) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut request = Vec::new();
    let mut buffer = [0u8; 2048];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buffer[..n]),
        }
        if request.len() > 64 * 1024 {
            return;
        }
    }
    let page = pages
        .iter()
        .find(|(path, _)| request.starts_with(format!("GET {path} ").as_bytes()));
    let (status, body) = match page {
        Some((_, html)) => ("200 OK", html.as_str()),
        None => ("404 Not Found", ""),
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}
