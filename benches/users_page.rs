//! The Database Users page at 1,000 and 10,000 users (issues 11, 28, 30),
//! against the floor of the same run: `/databases/{id}/floor`, one `SELECT
//! 1` on the managed pool behind the same middleware and session as the
//! page, fixed work whatever the pages do. The stylesheet (no database) is
//! measured as the framework's reference, and `/healthz` and `/readyz` as
//! routes of their own, in no ratio; liveness (`/livez`) is judged against
//! the floor.
//!
//! `cargo bench --bench users_page` (results in BENCHMARKS.md).
//! `PGUSERS_BENCH_SIZES=10000` measures only the sizes listed;
//! `PGUSERS_BENCH_TABLES=0` makes the database without its 200 tables
//! (and Settings › Health is then measured without findings only), to
//! compare the pages with and without tables on the same floor;
//! `PGUSERS_BENCH_COMPARE=tables` measures instead the pages with and
//! without tables side by side, round by round, and `=control` two
//! databases without tables the same way (`users_page/compare.rs`);
//! `PGUSERS_BENCH_SMOKE=1` measures every route once, for a second (CI
//! runs it at 100 users to prove the bench works; no figure of it judges
//! speed). `PGUSERS_BENCH_KEEP=<dir>` keeps each size's cluster in `<dir>/<size>`
//! and, on a later run, measures its users again without making them. For each
//! size this starts a PostgreSQL cluster of its own with pgusers' embedded
//! module (roles belong to the server, so a second size on the same
//! cluster would list the first size's users too), creates a database
//! owned by a protected user with 200 tables in 3 schemas (issue 28), then
//! that many users, half of them read-only, every one through
//! `RoleManager::create`; stops unless every create succeeded, no
//! access-control list is larger than with ten users and the protected user
//! can still `CREATE TABLE`; checks through the role module that pgusers
//! sees exactly that, starts
//! the release `pgusers` binary on it, logs in as `admin`, and measures
//! with `wrk` at 1 and 32 connections: the floor, the stylesheet,
//! the probes, the users page as a person first sees it, the page with a search, with the read-write
//! filter, Settings › Health (with no finding, then with 100: the
//! read-write group loses `UPDATE` on 100 tables for the while, and gets
//! it back), and (in this process)
//! the list query alone, then writes (`users_page/writes.rs`): the API's
//! create against `CREATE ROLE … PASSWORD '<verifier>'` + `DROP ROLE` on
//! kept connections, at 1 and 32 clients, every create to answer 201, and
//! the deletes of the users made, through the API. The server's peak RSS is its `VmHWM` after all
//! runs (writes included). At 10,000 users the figures are judged against issue 30's
//! targets, and the list query's plan is printed (auto_explain).
//!
//! The catalogs are analysed after the users are made, as autovacuum would
//! soon do anyway, so every run measures the plans of a steady state. Each
//! `wrk` run (a 1 s warm-up, then 5 s measured) starts once PostgreSQL has
//! finished the queries of pages the previous run cut off. A request that
//! fails (not 2xx/3xx, or a socket error) is reported at once with what
//! pgusers logged; everything is still measured and printed, and the bench
//! then exits with a failure.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use pgusers::domain::{NewPassword, PAGE_SIZE, Password, Show, Username};
use pgusers::embedded::{Cluster, ClusterOptions};
use pgusers::roles::{Access, Listing, RoleManager, Window, provision_database};
use postgres_protocol::escape::escape_identifier;
use reqwest::cookie::{CookieStore, Jar};

#[path = "users_page/compare.rs"]
mod compare;
#[path = "users_page/pgadmin.rs"]
mod pgadmin;
#[path = "users_page/writes.rs"]
mod writes;

const SIZES: [usize; 2] = [1_000, 10_000];
/// The size the targets are about.
const JUDGED_AT: usize = 10_000;
/// Part of a name that about a tenth of the users have (`user_09…`).
const SEARCH: &str = "user_09";
const OPERATOR_PASSWORD: &str = "bench-operator-password";
/// What the users page says, whichever version of it is built.
const USERS_PAGE_MARK: &str = "Manage database users";
/// How long and how often each route is measured: every `wrk` run after
/// a warm-up of its own, the list query alone (warm-up, then sequential,
/// then concurrent), and the rounds of every route (see `measure_size`).
/// `PGUSERS_BENCH_SMOKE=1` (CI) runs each once and briefly, to prove the
/// bench works, not to judge speed.
struct Pace {
    warm_up: &'static str,
    run: &'static str,
    query_warm_up: Duration,
    query_run: Duration,
    /// Each run of writes (creates, the floor).
    write_run: Duration,
    rounds: usize,
}

fn pace() -> &'static Pace {
    static FULL: Pace = Pace {
        warm_up: "1s",
        run: "5s",
        query_warm_up: Duration::from_secs(1),
        query_run: Duration::from_secs(3),
        write_run: Duration::from_secs(5),
        rounds: 3,
    };
    static SMOKE: Pace = Pace {
        warm_up: "1s",
        run: "1s",
        query_warm_up: Duration::from_millis(200),
        query_run: Duration::from_millis(500),
        write_run: Duration::from_secs(1),
        rounds: 1,
    };
    if std::env::var_os("PGUSERS_BENCH_SMOKE").is_some_and(|smoke| smoke == "1") {
        &SMOKE
    } else {
        &FULL
    }
}
/// The dashboard's pool of administrator connections (`registry::POOL_SIZE`).
const QUERY_POOL: usize = 8;
const CONNECTIONS: u32 = 32;

/// How many findings Settings › Health is measured with besides none: the
/// read-write group loses `UPDATE` on that many tables for the while.
const FINDINGS_MADE: usize = 100;

/// Issue 30's targets, as ratios to the floor of the same run: the page's
/// p50, and the floor's rate at 32 connections over the page's.
const MAX_PAGE_RATIO: f64 = 10.0;
const MAX_PAGE_THROUGHPUT_RATIO: f64 = 10.0;
/// The search's and the filter's p50.
const MAX_OTHER_RATIO: f64 = 15.0;
/// Settings › Health's p50 over the page's.
const MAX_HEALTH_OVER_PAGE: f64 = 5.0;
/// Liveness's p50.
const MAX_LIVENESS_RATIO: f64 = 2.0;
const MAX_RSS_MIB: f64 = 40.0;
/// The API's creates: p50 at one client over the `CREATE ROLE` floor's,
/// and the floor's rate at 32 over the creates'.
const MAX_CREATE_RATIO: f64 = 2.0;
const MAX_CREATE_THROUGHPUT_RATIO: f64 = 3.0;

fn main() -> ExitCode {
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!("wrk is not on PATH; install it with: apt-get install -y wrk");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("users_page: no tokio runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("\nusers_page FAILED: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<()> {
    let started = Instant::now();
    let mut plan = None;
    let mut failed = 0;
    let sizes = match std::env::var("PGUSERS_BENCH_SIZES") {
        Ok(list) => list
            .split(',')
            .map(|size| size.trim().parse::<usize>())
            .collect::<Result<Vec<_>, _>>()
            .context("PGUSERS_BENCH_SIZES: sizes separated by commas, such as 10000")?,
        Err(_) => SIZES.to_vec(),
    };
    let keep = std::env::var_os("PGUSERS_BENCH_KEEP").map(PathBuf::from);
    if let Ok(what) = std::env::var("PGUSERS_BENCH_COMPARE") {
        let against = compare::Against::parse(&what)?;
        for n in sizes {
            let comparison = compare::measure(n, against, keep.as_deref()).await?;
            comparison.print();
            failed += comparison.failed();
        }
        return finish(started, failed);
    }
    for n in sizes {
        let report = measure_size(n, keep.as_deref()).await?;
        report.print();
        failed += report.failed();
        plan = report.plan.or(plan);
    }
    if let Some(plan) = plan {
        println!(
            "\nPlan of the list query judging every user (what the pages keep), at {} \
             users (auto_explain, ANALYZE + BUFFERS):\n{plan}",
            thousands(JUDGED_AT)
        );
    }
    finish(started, failed)
}

/// The run's last line, and its failure when a request failed.
fn finish(started: Instant, failed: u64) -> Result<()> {
    println!(
        "\nusers_page done in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    ensure!(
        failed == 0,
        "{failed} requests failed (see the lines marked !! above): the figures of those runs \
         are not only of pages served"
    );
    Ok(())
}

/// Figures of one thing measured.
#[derive(Debug, Clone, Copy)]
struct Row {
    /// Latencies at one connection; `None` when no request finished
    /// within the run.
    p50: Option<Duration>,
    p99: Option<Duration>,
    rps_1: f64,
    rps_many: f64,
    /// Requests finished within the runs at 1 and at [`CONNECTIONS`]
    /// connections, failed ones included.
    done: (u64, u64),
    /// Failed requests (see [`WrkResult::failed`]) at 1 and at
    /// [`CONNECTIONS`] connections.
    failed: (u64, u64),
}

impl Row {
    /// The median of each figure over `rounds` (of an odd number); the
    /// requests done and failed, summed.
    fn median(rounds: &[Row]) -> Row {
        fn middle<T: PartialOrd + Copy>(mut values: Vec<T>) -> Option<T> {
            values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
            values.get(values.len() / 2).copied()
        }
        let all = |f: fn(&Row) -> Option<Duration>| {
            rounds
                .iter()
                .map(f)
                .collect::<Option<Vec<_>>>()
                .and_then(middle)
        };
        Row {
            p50: all(|row| row.p50),
            p99: all(|row| row.p99),
            rps_1: middle(rounds.iter().map(|row| row.rps_1).collect()).unwrap_or(0.0),
            rps_many: middle(rounds.iter().map(|row| row.rps_many).collect()).unwrap_or(0.0),
            done: rounds
                .iter()
                .fold((0, 0), |(a, b), row| (a + row.done.0, b + row.done.1)),
            failed: rounds
                .iter()
                .fold((0, 0), |(a, b), row| (a + row.failed.0, b + row.failed.1)),
        }
    }
}

struct SizeReport {
    n: usize,
    /// The API's creates against PostgreSQL's own, then the deletes.
    writes: writes::Writes,
    server_version: String,
    setup: Duration,
    /// How long each thousand creates took, in order.
    creates_per_thousand: Vec<Duration>,
    slowest_create: Duration,
    /// One `SELECT 1` behind the page's middleware and session.
    floor: Row,
    /// The stylesheet: the framework alone.
    stylesheet: Row,
    healthz: Row,
    /// The probes: liveness (no database) and readiness (the state's).
    livez: Row,
    readyz: Row,
    page: Row,
    search: Row,
    /// The page with the read-write filter.
    filter: Row,
    /// Settings › Health: the access doctor, which judges every user.
    health: Row,
    /// Settings › Health with about [`FINDINGS_MADE`] findings to show,
    /// and how many it showed; `None` without tables.
    health_many: Option<(usize, Row)>,
    /// How many tables the database has (`tables()`).
    tables: usize,
    /// pgAdmin 4's role list (`PGUSERS_BENCH_PGADMIN`): how many roles it
    /// showed, and its row.
    pgadmin: Option<(usize, Row)>,
    query: Row,
    health_findings: usize,
    page_rows: usize,
    search_rows: usize,
    filter_rows: usize,
    /// The search page shows the same rows as the page (a build that
    /// ignores `?q=`).
    search_same: bool,
    page_bytes: usize,
    peak_rss_kib: u64,
    /// The same once the writes ran too.
    peak_rss_writes_kib: u64,
    /// The machine's 1-minute load average before and after measuring:
    /// the cores are shared, and other work skews the figures.
    load: (String, String),
    plan: Option<String>,
}

/// A size's cluster with its users made (or kept from an earlier run) and
/// checked through the role module.
struct Prepared {
    cluster: BenchCluster,
    roles: Arc<RoleManager>,
    database: String,
    populated: Populated,
    /// How long making the users took (when they were made).
    setup: Duration,
    server_version: String,
}

/// Where the cluster of `n` users with `tables` tables is kept under
/// `keep`: `<n>`, or `<n>-tables-0` without tables (a cluster kept without
/// tables is not one kept with them).
fn kept_in(keep: &Path, n: usize, tables: usize) -> PathBuf {
    match tables {
        TABLES => keep.join(n.to_string()),
        other => keep.join(format!("{n}-tables-{other}")),
    }
}

/// Starts the cluster of `n` users with `tables` tables (kept in `kept`
/// when given), making the database and its users unless an earlier run
/// kept them.
async fn prepare(n: usize, tables: usize, kept: Option<PathBuf>) -> Result<Prepared> {
    println!(
        "\n== {} users, {}: setting up ==",
        thousands(n),
        tables_label(tables)
    );
    let made_file = kept.as_ref().map(|dir| dir.join("made.txt"));
    let cluster = BenchCluster::start(kept.clone()).await?;
    let database = format!("bench_{n}");
    let roles = Arc::new(RoleManager::new(
        cluster.config(&database),
        QUERY_POOL,
        None,
    ));
    let made_before = match &made_file {
        Some(file) if file.exists() => Some(Populated::read(file)?),
        _ => None,
    };
    let (populated, setup) = match made_before {
        Some(made) => {
            println!(
                "users made by an earlier run, kept in {}",
                cluster.root().display()
            );
            made
        }
        None => {
            let server = cluster.config("postgres");
            let protected = Username::parse(&format!("owner_{n}"))
                .map_err(|problems| anyhow!("protected user name: {problems:?}"))?;
            provision_database(&server, &database, &protected, &Password::generate())
                .await
                .context("provisioning the benchmark database")?;
            pgusers::db::connect(&server)
                .await
                .context("connecting to the postgres database")?
                .batch_execute("CREATE DATABASE bench_state")
                .await
                .context("creating the state database")?;
            let setup_started = Instant::now();
            let populated = populate(&roles, &cluster.config(&database), n, tables).await?;
            let setup = setup_started.elapsed();
            if let Some(file) = &made_file {
                populated.write(file, setup)?;
            }
            (populated, setup)
        }
    };
    check_setup(&roles, n).await?;
    let server_version = roles.server_version().await?;
    println!(
        "{} users made in {:.1} s and checked through the role module",
        thousands(n),
        setup.as_secs_f64()
    );
    Ok(Prepared {
        cluster,
        roles,
        database,
        populated,
        setup,
        server_version,
    })
}

/// With `keep` (`PGUSERS_BENCH_KEEP`), the cluster of size `n` lives in
/// `keep/<n>` and stays there: a later run with the same directory measures
/// the same users again without making them (minutes at 10,000), as when
/// the only change is to the pages or their queries.
async fn measure_size(n: usize, keep: Option<&Path>) -> Result<SizeReport> {
    let tables = tables()?;
    let Prepared {
        cluster,
        roles,
        database,
        populated,
        setup,
        server_version,
    } = prepare(n, tables, keep.map(|keep| kept_in(keep, n, tables))).await?;

    let dashboard = Dashboard::start(&cluster, &database).await?;
    let session = dashboard.log_in().await?;
    let (routes, shown) = Routes::find(&session).await?;
    // pgAdmin is a reference, in no target: when it cannot be set up,
    // pgusers is still measured, and the report says why pgAdmin is not.
    let pgadmin = match pgadmin::python() {
        Some(python) => match start_pgadmin(&python, &cluster, n).await {
            Ok(started) => Some(started),
            Err(error) => {
                println!("!! pgAdmin 4 not measured: {error:#}");
                None
            }
        },
        None => None,
    };

    let load_before = load_average();
    // Rounds of every route, each row's figures the median of
    // its rounds: the cores are shared, and a neighbour busy during one
    // row's run would otherwise skew that row against the others.
    let (mut floors, mut pages, mut searches, mut filters, mut healths) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut stylesheets, mut healthzs, mut livezs, mut readyzs, mut pgadmins) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let rounds = pace().rounds;
    for round in 1..=rounds {
        let stylesheet = dashboard
            .wrk_both("/static/style.css", &session.cookie)
            .await?;
        let healthz = dashboard.wrk_both("/healthz", &session.cookie).await?;
        livezs.push(dashboard.wrk_both("/livez", &session.cookie).await?);
        readyzs.push(dashboard.wrk_both("/readyz", &session.cookie).await?);
        let Pages {
            floor,
            page,
            search,
            filter,
            health,
        } = routes.measure(&dashboard, &session).await?;
        if let Some((pgadmin, _)) = &pgadmin {
            let url = format!("{}{}", pgadmin.address, pgadmin::ROLE_LIST);
            let row = dashboard
                .wrk_url(&url, &pgadmin.headers, Some(pgadmin))
                .await?;
            pgadmin.settle().await?;
            println!(
                "round {round} of {rounds}: pgAdmin's role list p50 {}, req/s @{CONNECTIONS} {:.0}",
                ms(row.p50),
                row.rps_many
            );
            pgadmins.push(row);
        }
        println!(
            "round {round} of {rounds}: {}",
            Pages {
                floor,
                page,
                search,
                filter,
                health
            }
            .summary()
        );
        floors.push(floor);
        stylesheets.push(stylesheet);
        healthzs.push(healthz);
        pages.push(page);
        searches.push(search);
        filters.push(filter);
        healths.push(health);
    }
    let pgadmin = match pgadmin {
        // Still the role list at the end (a lost session would have timed
        // a login page instead).
        Some((pgadmin, roles)) => match pgadmin.roles_listed().await {
            Ok(now) if now > n => Some((roles, Row::median(&pgadmins))),
            outcome => {
                println!(
                    "!! pgAdmin 4's figures dropped: after the rounds its role list answered \
                     {outcome:?}"
                );
                None
            }
        },
        None => None,
    };
    let (floor, page, search, filter, health) = (
        Row::median(&floors),
        Row::median(&pages),
        Row::median(&searches),
        Row::median(&filters),
        Row::median(&healths),
    );
    let health_many = if tables >= 2 * FINDINGS_MADE {
        Some(health_with_findings(&cluster, &database, &dashboard, &session, &routes.health).await?)
    } else {
        println!("health page with findings: not measured, the database has no tables");
        None
    };
    let database_id = routes
        .page
        .trim_start_matches("/databases/")
        .split('/')
        .next()
        .context("the users page's path names its database")?
        .to_owned();
    let peak_rss_kib = dashboard.peak_rss_kib()?;
    let writes = writes::measure(
        &cluster.config(&database),
        &writes::Api {
            address: dashboard.address.clone(),
            database: database_id,
            token: dashboard.token()?,
        },
        &writes::Run {
            duration: pace().write_run,
            rounds,
            clients: CONNECTIONS as usize,
        },
    )
    .await?;
    let peak_rss_writes_kib = dashboard.peak_rss_kib()?;
    dashboard.settle().await?;
    let query = list_query(&roles).await?;
    let load_after = load_average();
    let plan = if n == JUDGED_AT {
        match explain_first_page(&cluster, &database).await {
            Ok(plan) => Some(plan),
            Err(error) => Some(format!("(no plan: {error:#})")),
        }
    } else {
        None
    };
    drop(session);
    dashboard.stop();
    drop(cluster);
    Ok(SizeReport {
        n,
        server_version,
        setup,
        creates_per_thousand: populated.per_thousand,
        slowest_create: populated.slowest,
        floor,
        stylesheet: Row::median(&stylesheets),
        healthz: Row::median(&healthzs),
        livez: Row::median(&livezs),
        readyz: Row::median(&readyzs),
        page,
        search,
        filter,
        health,
        health_many,
        tables,
        pgadmin,
        query,
        health_findings: findings_on(&shown.health),
        page_rows: shown.page.matches("data-username=\"").count(),
        search_rows: shown.search.matches("data-username=\"").count(),
        filter_rows: shown.filter.matches("data-username=\"").count(),
        search_same: listed_names(&shown.search) == listed_names(&shown.page),
        page_bytes: shown.page.len(),
        peak_rss_kib,
        peak_rss_writes_kib,
        writes,
        load: (load_before, load_after),
        plan,
    })
}

/// The routes every size and comparison measures, for one dashboard.
struct Routes {
    /// `/databases/{id}/floor`: one `SELECT 1` behind the same session.
    floor: String,
    page: String,
    search: String,
    /// The page with the read-write filter.
    filter: String,
    health: String,
}

/// What each route showed when it was found (the HTML), to check that
/// the runs measured pages that did their work.
struct Shown {
    page: String,
    search: String,
    filter: String,
    health: String,
}

impl Routes {
    /// Finds the users page as a person would, and checks that each
    /// route answers with what it should before any is measured.
    async fn find(session: &Session) -> Result<(Self, Shown)> {
        let page = session.users_page().await?;
        let routes = Self {
            search: format!("{page}?q={SEARCH}"),
            filter: format!("{page}?show=read-write"),
            health: page.replace("/settings/database-users", "/settings/health"),
            floor: page.replace("/settings/database-users", "/floor"),
            page,
        };
        let shown = Shown {
            page: session.page(&routes.page).await?,
            search: session.page(&routes.search).await?,
            filter: session.page(&routes.filter).await?,
            health: session.page_marked(&routes.health, "Access health").await?,
        };
        session.page_marked(&routes.floor, "ok").await?;
        Ok((routes, shown))
    }

    /// One round: the floor first, then each page.
    async fn measure(&self, dashboard: &Dashboard, session: &Session) -> Result<Pages> {
        let cookie = &session.cookie;
        Ok(Pages {
            floor: dashboard.wrk_both(&self.floor, cookie).await?,
            page: dashboard.wrk_both(&self.page, cookie).await?,
            search: dashboard.wrk_both(&self.search, cookie).await?,
            filter: dashboard.wrk_both(&self.filter, cookie).await?,
            health: dashboard.wrk_both(&self.health, cookie).await?,
        })
    }
}

/// The floor and the pages, as one round measured them.
#[derive(Clone, Copy)]
struct Pages {
    floor: Row,
    page: Row,
    search: Row,
    filter: Row,
    health: Row,
}

impl Pages {
    /// One line: each p50, then each rate at [`CONNECTIONS`].
    fn summary(&self) -> String {
        format!(
            "floor p50 {}, page p50 {}, search p50 {}, filter p50 {}, health p50 {}; \
             req/s @{CONNECTIONS}: floor {:.0}, page {:.0}, search {:.0}, filter {:.0}, \
             health {:.0}",
            ms(self.floor.p50),
            ms(self.page.p50),
            ms(self.search.p50),
            ms(self.filter.p50),
            ms(self.health.p50),
            self.floor.rps_many,
            self.page.rps_many,
            self.search.rps_many,
            self.filter.rps_many,
            self.health.rps_many
        )
    }
}

/// Settings › Health with [`FINDINGS_MADE`] findings to show: the
/// read-write group loses `UPDATE` on that many tables of `public`, the page
/// is measured, and the group gets it back whatever the measurement did (a
/// kept cluster stays as made). How many findings it showed, and the row.
async fn health_with_findings(
    cluster: &BenchCluster,
    database: &str,
    dashboard: &Dashboard,
    session: &Session,
    health_path: &str,
) -> Result<(usize, Row)> {
    let admin = pgusers::db::connect(&cluster.config(database))
        .await
        .context("connecting as the superuser")?;
    let findings = FINDINGS_MADE;
    let writers: String = admin
        .query_one(
            "SELECT CASE WHEN octet_length(current_database()) <= 46
                         THEN 'pgusers-writers-' || current_database()
                         ELSE 'pgusers-writers-' || (SELECT oid FROM pg_database
                                                      WHERE datname = current_database())::text
                    END",
            &[],
        )
        .await?
        .get(0);
    let tables: Vec<String> = (0..findings).map(|i| format!("public.t{i:03}")).collect();
    let on = format!(
        "UPDATE ON TABLE {} {{}} {}",
        tables.join(", "),
        escape_identifier(&writers)
    );
    admin
        .batch_execute(&format!("REVOKE {}", on.replace("{}", "FROM")))
        .await
        .context("taking UPDATE from the read-write group")?;
    let measured = async {
        let shown = until_findings(session, health_path, |shown| shown > 0).await?;
        let mut rows = Vec::new();
        for _ in 0..pace().rounds {
            rows.push(dashboard.wrk_both(health_path, &session.cookie).await?);
        }
        Ok::<_, anyhow::Error>((shown, Row::median(&rows)))
    }
    .await;
    admin
        .batch_execute(&format!("GRANT {}", on.replace("{}", "TO")))
        .await
        .context("giving UPDATE back to the read-write group")?;
    let (shown, row) = measured?;
    until_findings(session, health_path, |shown| shown == 0).await?;
    println!(
        "health page with {shown} findings: p50 {}, req/s @{CONNECTIONS} {:.0}",
        ms(row.p50),
        row.rps_many
    );
    Ok((shown, row))
}

/// How many findings a Settings › Health page shows.
fn findings_on(html: &str) -> usize {
    html.matches("class=\"finding\"").count()
}

/// Views Settings › Health until the number of findings it shows is
/// `wanted` (it keeps them up to 5 s after a change made without pgusers),
/// then that number.
async fn until_findings(
    session: &Session,
    path: &str,
    wanted: impl Fn(usize) -> bool,
) -> Result<usize> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let shown = findings_on(&session.page_marked(path, "Access health").await?);
        if wanted(shown) {
            return Ok(shown);
        }
        ensure!(
            Instant::now() < deadline,
            "Settings › Health still shows {shown} findings a minute on"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// pgAdmin 4 on `cluster`, connected, and how many roles its role list
/// shows (more than the `n` users, or it is not the list measured).
async fn start_pgadmin(
    python: &Path,
    cluster: &BenchCluster,
    n: usize,
) -> Result<(pgadmin::PgAdmin, usize)> {
    let cluster = cluster.cluster();
    let pgadmin = pgadmin::PgAdmin::start(
        python,
        &cluster.socket_dir(),
        cluster.port(),
        pgusers::embedded::SUPERUSER,
    )
    .await?;
    let roles = pgadmin.roles_listed().await?;
    ensure!(
        roles > n,
        "pgAdmin's role list shows {roles} roles, not the {n} users and more"
    );
    println!("pgAdmin 4 connected; its role list shows {roles} roles");
    Ok((pgadmin, roles))
}

/// The usernames of a users page's rows, in order.
fn listed_names(html: &str) -> Vec<&str> {
    html.split("data-username=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect()
}

// ---------------------------------------------------------------- setup

/// `user_0001`… with as many digits as `n` has, so that [`SEARCH`]
/// matches a tenth of them at every size.
fn user_name(i: usize, n: usize) -> String {
    let width = n.to_string().len();
    format!("user_{i:0width$}")
}

/// Odd users read and write, even ones only read.
fn access_of(i: usize) -> Access {
    if i.is_multiple_of(2) {
        Access::ReadOnly
    } else {
        Access::ReadWrite
    }
}

/// Tables in the benchmark database, in three schemas: half in `public`
/// and a quarter in `sales`, both the protected user's, and a quarter in
/// `billing`, a schema of the first read-write user's (issue 28).
const TABLES: usize = 200;

/// How many tables this run makes: [`TABLES`], or none with
/// `PGUSERS_BENCH_TABLES=0` (the pages measured without tables, against
/// the same floor).
fn tables() -> Result<usize> {
    match std::env::var("PGUSERS_BENCH_TABLES") {
        Err(_) => Ok(TABLES),
        Ok(value) => match value.trim().parse::<usize>() {
            Ok(0) => Ok(0),
            Ok(tables) if tables == TABLES => Ok(TABLES),
            _ => bail!("PGUSERS_BENCH_TABLES: 0 (no tables) or {TABLES}, not {value:?}"),
        },
    }
}

fn tables_label(tables: usize) -> String {
    match tables {
        0 => "no tables".to_owned(),
        tables => format!("{tables} tables in 3 schemas"),
    }
}

/// Every access-control list of the database, with its size (shared with
/// tests/it/roles_scale.rs).
const ACL_SIZES: &str = include_str!("acl_sizes.sql");

/// The database's access-control lists and their sizes.
async fn acl_sizes(client: &tokio_postgres::Client) -> Result<BTreeMap<String, i32>> {
    Ok(client
        .query(ACL_SIZES, &[])
        .await
        .context("reading the access-control lists")?
        .into_iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect())
}

/// What `populate` saw while making the users.
struct Populated {
    /// How long each thousand creates took, in order.
    per_thousand: Vec<Duration>,
    /// The slowest single create.
    slowest: Duration,
}

impl Populated {
    /// Kept beside a kept cluster: the whole setup's seconds, the slowest
    /// create's, then each thousand's, one a line.
    fn write(&self, file: &Path, setup: Duration) -> Result<()> {
        let mut text = format!("{}\n{}\n", setup.as_secs_f64(), self.slowest.as_secs_f64());
        for took in &self.per_thousand {
            writeln!(text, "{}", took.as_secs_f64())?;
        }
        std::fs::write(file, text).with_context(|| format!("writing {}", file.display()))
    }

    fn read(file: &Path) -> Result<(Self, Duration)> {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let seconds = text
            .lines()
            .map(|line| line.parse::<f64>().map(Duration::from_secs_f64))
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("{}: seconds, one a line", file.display()))?;
        let [setup, slowest, per_thousand @ ..] = seconds.as_slice() else {
            bail!("{}: too short", file.display());
        };
        Ok((
            Self {
                per_thousand: per_thousand.to_vec(),
                slowest: *slowest,
            },
            *setup,
        ))
    }
}

/// Makes the tables and users 1 to `n`, every user through pgusers' own
/// `RoleManager::create`, one at a time, as the dashboard would: user 1
/// (read-write) first, then the tables (`tables`: [`TABLES`] or none, made as their owners
/// through `SET ROLE`), then the others. Stops if a create fails, if any
/// access-control list is larger at `n` users than at ten, or if the
/// protected user can no longer `CREATE TABLE` afterwards.
///
/// Then `ANALYZE`, so the plans measured are those of a steady state.
async fn populate(
    roles: &RoleManager,
    config: &tokio_postgres::Config,
    n: usize,
    tables: usize,
) -> Result<Populated> {
    let client = pgusers::db::connect(config).await?;
    let protected: String = client
        .query_one(
            "SELECT pg_get_userbyid(datdba)::text FROM pg_database
              WHERE datname = current_database()",
            &[],
        )
        .await?
        .get(0);
    let create = |i: usize| async move {
        let name = Username::parse(&user_name(i, n))
            .map_err(|problems| anyhow!("user name: {problems:?}"))?;
        roles
            .create(
                &name,
                NewPassword::Chosen(Password::generate()),
                access_of(i),
            )
            .await
            .with_context(|| format!("creating {name} through the role module"))?;
        Ok::<(), anyhow::Error>(())
    };
    create(1).await?;
    let table = |schema: &str, i: usize| {
        format!("CREATE TABLE {schema}.t{i:03} (id serial PRIMARY KEY, v int, at timestamptz);")
    };
    if tables > 0 {
        let mut sql = format!(
            "SET ROLE {};\nCREATE SCHEMA sales;\n",
            escape_identifier(&protected)
        );
        for i in 0..tables / 2 {
            sql.push_str(&table("public", i));
        }
        for i in 0..tables / 4 {
            sql.push_str(&table("sales", i));
        }
        write!(
            sql,
            "RESET ROLE;\nSET ROLE {};\nCREATE SCHEMA billing;\n",
            escape_identifier(&user_name(1, n))
        )?;
        for i in 0..tables - tables / 2 - tables / 4 {
            sql.push_str(&table("billing", i));
        }
        sql.push_str("RESET ROLE;");
        client
            .batch_execute(&sql)
            .await
            .context("making the tables")?;
    }

    let mut per_thousand = Vec::new();
    let mut slowest = Duration::ZERO;
    let mut thousand_started = Instant::now();
    let mut with_ten = None;
    for i in 2..=n {
        let started = Instant::now();
        create(i).await?;
        slowest = slowest.max(started.elapsed());
        if i == 10 {
            with_ten = Some(acl_sizes(&client).await?);
        }
        if i % 1_000 == 0 || i == n {
            per_thousand.push(thousand_started.elapsed());
            println!(
                "  {} users made; these {} creates took {:.1} s",
                thousands(i),
                if i % 1_000 == 0 { 1_000 } else { i % 1_000 },
                thousand_started.elapsed().as_secs_f64()
            );
            thousand_started = Instant::now();
        }
    }
    let with_ten = with_ten.context("fewer than ten users")?;
    let with_n = acl_sizes(&client).await?;
    let grown: Vec<String> = with_n
        .iter()
        .filter(|(object, size)| with_ten.get(*object).is_none_or(|ten| ten < size))
        .map(|(object, size)| {
            format!(
                "{object}: {size} (with ten users: {:?})",
                with_ten.get(object)
            )
        })
        .collect();
    ensure!(
        grown.is_empty() && with_n.len() == with_ten.len(),
        "access-control lists grew with the number of users:\n  {}",
        grown.join("\n  ")
    );
    println!(
        "{} access-control lists, the same size with {} users as with ten",
        with_n.len(),
        thousands(n)
    );
    client
        .batch_execute(&format!(
            "SET ROLE {}; CREATE TABLE public.made_last (id int); RESET ROLE",
            escape_identifier(&protected)
        ))
        .await
        .context("the protected user making a table after the users")?;
    // Statistics for the catalogs that just grew, as autovacuum would
    // gather them soon (and otherwise perhaps in the middle of a run).
    client
        .batch_execute("ANALYZE")
        .await
        .context("analysing the catalogs")?;
    Ok(Populated {
        per_thousand,
        slowest,
    })
}

/// Refuses to measure anything but what pgusers would have made: the
/// role module counts `n / 2` read-only users and `n + 1` in all (the
/// protected user is listed).
async fn check_setup(roles: &RoleManager, n: usize) -> Result<()> {
    let count = |show| async move {
        roles
            .list_page(&Listing {
                search: None,
                show,
                window: Window::CountOnly,
            })
            .await
            .map(|page| page.total)
    };
    let all = count(Show::All).await?;
    let read_only = count(Show::ReadOnly).await?;
    let read_write = count(Show::ReadWrite).await?;
    ensure!(
        all == n as u64 + 1 && read_only == (n / 2) as u64 && read_write == (n - n / 2) as u64,
        "the setup is not what pgusers should see: it lists {all} users ({read_only} read-only, \
         {read_write} read-write), expected {} ({} read-only, {} read-write)",
        n + 1,
        n / 2,
        n - n / 2
    );
    Ok(())
}

// ---------------------------------------------------------------- the cluster

/// The cluster of one size, in a temporary directory (or a kept one);
/// stopped when dropped, whatever happened, and removed unless kept.
struct BenchCluster {
    cluster: Option<Cluster>,
    root: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

impl BenchCluster {
    async fn start(kept: Option<PathBuf>) -> Result<Self> {
        tokio::task::spawn_blocking(|| {
            let (root, dir) = match kept {
                Some(root) => {
                    std::fs::create_dir_all(&root)
                        .with_context(|| format!("creating {}", root.display()))?;
                    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755))?;
                    (root, None)
                }
                // Reachable by the `postgres` system user when we are root.
                None => {
                    let dir = tempfile::Builder::new()
                        .prefix("pgusers-bench-")
                        .permissions(std::fs::Permissions::from_mode(0o755))
                        .tempdir()
                        .context("a temporary directory")?;
                    (dir.path().to_owned(), Some(dir))
                }
            };
            // The settings of the dashboard's own zero-configuration
            // cluster (durable: no `ephemeral` shortcuts).
            let mut cluster =
                Cluster::open(&root.join("pg"), &ClusterOptions::default()).context("initdb")?;
            let started = cluster.start().context("starting PostgreSQL");
            let guard = Self {
                cluster: Some(cluster),
                root,
                _dir: dir,
            };
            started?;
            Ok(guard)
        })
        .await?
    }

    fn cluster(&self) -> &Cluster {
        self.cluster.as_ref().expect("running until dropped")
    }

    fn root(&self) -> &Path {
        &self.root
    }

    /// The bootstrap superuser, over the cluster's socket.
    fn config(&self, database: &str) -> tokio_postgres::Config {
        self.cluster().admin_config(database)
    }

    /// A `key=value` connection string to `database`, as DATABASE_URL takes it.
    fn url(&self, database: &str) -> String {
        let cluster = self.cluster();
        format!(
            "host={} port={} user={} dbname={database}",
            cluster.socket_dir().display(),
            cluster.port(),
            pgusers::embedded::SUPERUSER
        )
    }

    fn log(&self) -> PathBuf {
        self.cluster().log_file()
    }
}

impl Drop for BenchCluster {
    fn drop(&mut self) {
        if let Some(mut cluster) = self.cluster.take()
            && let Err(error) = cluster.stop()
        {
            eprintln!("users_page: stopping PostgreSQL: {error}");
        }
    }
}

// ---------------------------------------------------------------- the dashboard

/// The release `pgusers` binary serving one database; stopped when dropped.
struct Dashboard {
    child: Option<Child>,
    /// What the binary was started with, for its CLI.
    env: Vec<(&'static str, String)>,
    address: String,
    log: PathBuf,
    /// The superuser, in the managed database: to see pgusers' queries.
    server: tokio_postgres::Config,
    _dir: tempfile::TempDir,
}

impl Dashboard {
    async fn start(cluster: &BenchCluster, database: &str) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("pgusers-bench-dashboard-")
            .tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = dir.path().join("pgusers.log");
        let env = vec![
            ("DATABASE_URL", cluster.url(database)),
            ("PGUSERS_STATE_URL", cluster.url("bench_state")),
            ("PGUSERS_ADMIN_PASSWORD", OPERATOR_PASSWORD.to_owned()),
            ("PGUSERS_LISTEN", format!("127.0.0.1:{port}")),
            (
                "PGUSERS_DATA_DIR",
                dir.path().join("data").display().to_string(),
            ),
            ("PGUSERS_SESSION_KEY", session_key()),
        ];
        let child = Self::command(&env)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.path().join("pgusers.out"))?)
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .context("starting the pgusers binary")?;
        let mut dashboard = Self {
            child: Some(child),
            env,
            address: format!("http://127.0.0.1:{port}"),
            log,
            server: cluster.config(database),
            _dir: dir,
        };
        dashboard.wait_until_healthy().await?;
        Ok(dashboard)
    }

    /// The pgusers binary with `env` alone of pgusers' settings.
    fn command(env: &[(&'static str, String)]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pgusers"));
        for (key, _) in std::env::vars() {
            if key.starts_with("PGUSERS_") || key == "DATABASE_URL" || key == "RUST_LOG" {
                command.env_remove(key);
            }
        }
        command.envs(env.iter().map(|(key, value)| (key, value)));
        command
    }

    /// A full-access API token of `admin`'s, made with the CLI.
    fn token(&self) -> Result<String> {
        let output = Self::command(&self.env)
            .args([
                "tokens",
                "create",
                "--operator",
                "admin",
                "--label",
                "bench",
            ])
            .output()
            .context("pgusers tokens create")?;
        ensure!(
            output.status.success(),
            "pgusers tokens create: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(String::from_utf8(output.stdout)?.trim().to_owned())
    }

    async fn wait_until_healthy(&mut self) -> Result<()> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!("pgusers exited ({status}): {}", self.log_text());
            }
            if let Ok(response) = client.get(format!("{}/healthz", self.address)).send().await
                && response.status() == 200
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "pgusers did not become healthy in 60 s: {}",
                    self.log_text()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn pid(&self) -> Result<u32> {
        Ok(self.child.as_ref().context("pgusers stopped")?.id())
    }

    /// Logs in as `admin` through the login form, as a browser does.
    async fn log_in(&self) -> Result<Session> {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let form = client
            .get(format!("{}/login", self.address))
            .send()
            .await?
            .text()
            .await?;
        let token = hidden_field(&form, "csrf_token").context("the login form has a CSRF token")?;
        let answer = client
            .post(format!("{}/login", self.address))
            .form(&[
                ("csrf_token", token.as_str()),
                ("username", "admin"),
                ("password", OPERATOR_PASSWORD),
            ])
            .send()
            .await?;
        ensure!(
            answer.status() == 303,
            "logging in answered {}: {}",
            answer.status(),
            answer.text().await.unwrap_or_default()
        );
        let cookie = jar
            .cookies(&self.address.parse()?)
            .context("the login set no cookie")?
            .to_str()?
            .to_owned();
        Ok(Session {
            client,
            address: self.address.clone(),
            cookie,
        })
    }

    /// Peak resident memory of the dashboard so far (`VmHWM`), in KiB.
    fn peak_rss_kib(&self) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmHWM in /proc/<pid>/status")
    }

    /// `path` at one connection, then at [`CONNECTIONS`]. Failed requests
    /// are reported at once, with what pgusers logged about them, and
    /// counted in the row; the run goes on so the whole picture is printed.
    async fn wrk_both(&self, path: &str, cookie: &str) -> Result<Row> {
        self.wrk_url(
            &format!("{}{path}", self.address),
            &[format!("Cookie: {cookie}")],
            None,
        )
        .await
    }

    /// [`Dashboard::wrk_both`] on any server's `url`: pgAdmin's, with
    /// `pgadmin`, each run also once pgAdmin has finished what the last
    /// run left it.
    async fn wrk_url(
        &self,
        url: &str,
        headers: &[String],
        pgadmin: Option<&pgadmin::PgAdmin>,
    ) -> Result<Row> {
        let path = url;
        let url = url.to_owned();
        // A warm-up, then the measured run, each on a quiet server.
        let run = |connections| {
            let (url, headers) = (url.clone(), headers.to_vec());
            async move {
                let mut result = None;
                for duration in [pace().warm_up, pace().run] {
                    self.settle().await?;
                    if let Some(pgadmin) = pgadmin {
                        pgadmin.settle().await?;
                    }
                    let (url, headers) = (url.clone(), headers.clone());
                    result = Some(
                        tokio::task::spawn_blocking(move || {
                            wrk(&url, &headers, connections, duration)
                        })
                        .await??,
                    );
                }
                result.context("no run")
            }
        };
        let one = run(1).await?;
        let many = run(CONNECTIONS).await?;
        for (connections, run) in [(1, &one), (CONNECTIONS, &many)] {
            if run.failed > 0 {
                let (who, logged) = match pgadmin {
                    Some(pgadmin) => ("pgAdmin", pgadmin.log_text()),
                    None => ("pgusers", self.log_problems()),
                };
                println!(
                    "\n!! {} FAILED requests to {path} at {connections} connection(s). wrk said:\n{}\
                     {who} logged (last warnings and errors):\n{logged}",
                    run.failed, run.output,
                );
            }
        }
        Ok(Row {
            p50: one.p50,
            p99: one.p99,
            rps_1: one.rps,
            rps_many: many.rps,
            done: (one.done, many.done),
            failed: (one.failed, many.failed),
        })
    }

    /// Waits until PostgreSQL runs none of pgusers' queries on the managed
    /// database: a page cut off when the previous run ended may still be
    /// computing there, and would take the next run's cores. Says so when
    /// the wait is long.
    async fn settle(&self) -> Result<()> {
        let client = pgusers::db::connect(&self.server).await?;
        let started = Instant::now();
        loop {
            let busy: i64 = client
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity
                      WHERE datname = current_database() AND state = 'active'
                        AND pid <> pg_backend_pid()",
                    &[],
                )
                .await?
                .get(0);
            if busy == 0 {
                break;
            }
            if started.elapsed() > Duration::from_secs(120) {
                bail!("PostgreSQL was still running {busy} of pgusers' queries after 120 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if started.elapsed() > Duration::from_secs(1) {
            println!(
                "(waited {:.0} s for PostgreSQL to finish the queries of pages cut off by the previous run)",
                started.elapsed().as_secs_f64()
            );
        }
        Ok(())
    }

    /// The last few warnings and errors pgusers logged.
    fn log_problems(&self) -> String {
        let log = self.log_text();
        let problems: Vec<&str> = log
            .lines()
            .filter(|line| line.contains("WARN") || line.contains("ERROR"))
            .collect();
        let last = &problems[problems.len().saturating_sub(5)..];
        if last.is_empty() {
            "  (nothing)\n".to_owned()
        } else {
            last.iter().map(|line| format!("  {line}\n")).collect()
        }
    }

    /// Sends SIGTERM and waits for the exit (SIGKILL after 20 s).
    fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // SAFETY: signalling a child process of ours that has not been reaped.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("users_page: pgusers ignored SIGTERM; killing it");
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// A key for the session cookies: 64 random bytes, hex (128 characters).
fn session_key() -> String {
    use rand::RngExt;
    let mut key = [0u8; 64];
    rand::rng().fill(&mut key[..]);
    key.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The value of hidden field `name` in a page.
fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = start + html[start..].find('"')?;
    Some(html[start..end].to_owned())
}

/// A logged-in browser: its client and its cookie, for `wrk`.
struct Session {
    client: reqwest::Client,
    address: String,
    cookie: String,
}

impl Session {
    /// The users page of the only database: where `/` sends a person, or
    /// (when `/` lists the databases, even one) where its one link leads.
    async fn users_page(&self) -> Result<String> {
        let answer = self.client.get(format!("{}/", self.address)).send().await?;
        let status = answer.status();
        let location = answer
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        if let Some(path) = location {
            ensure!(
                status == 303 && path.ends_with("/settings/database-users"),
                "/ answered {status} to {path}, not to the users page of the only database"
            );
            return Ok(path);
        }
        let body = answer.text().await?;
        ensure!(status == 200, "/ answered {status}: {body}");
        let marker = "href=\"/databases/";
        let mut ids: Vec<&str> = body
            .match_indices(marker)
            .filter_map(|(at, _)| {
                let rest = &body[at + marker.len()..];
                Some(&rest[..rest.find('"')?])
            })
            .filter(|id| !id.contains('/'))
            .collect();
        ids.dedup();
        match ids.as_slice() {
            [id] => Ok(format!("/databases/{id}/settings/database-users")),
            other => bail!("/ lists {} databases, not one: {other:?}", other.len()),
        }
    }

    /// A page as the logged-in operator sees it, which must be the users page.
    async fn page(&self, path: &str) -> Result<String> {
        self.page_marked(path, USERS_PAGE_MARK).await
    }

    /// The page at `path`, checked to answer 200 with `mark` in it.
    async fn page_marked(&self, path: &str, mark: &str) -> Result<String> {
        let answer = self
            .client
            .get(format!("{}{path}", self.address))
            .send()
            .await?;
        let status = answer.status();
        let location = answer
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = answer.text().await?;
        ensure!(
            status == 200,
            "{path} answered {status} {location} (a 303 to /login means the session cookie is not accepted)"
        );
        ensure!(body.contains(mark), "{path} is not the page: no {mark:?}");
        Ok(body)
    }
}

// ---------------------------------------------------------------- wrk

struct WrkResult {
    /// `None` when no request finished within the run (wrk then prints
    /// zeros).
    p50: Option<Duration>,
    p99: Option<Duration>,
    rps: f64,
    /// Requests that finished within the run.
    done: u64,
    /// Answers that were not 2xx/3xx, and socket errors (timeouts among
    /// them), in the measured run.
    failed: u64,
    /// What wrk printed of the measured run.
    output: String,
}

/// One run of `wrk --latency` for `duration`. Its figures
/// count failed requests too, so the caller must not take them for the
/// page's without looking at `failed`.
fn wrk(url: &str, headers: &[String], connections: u32, duration: &str) -> Result<WrkResult> {
    // wrk wants no more threads than connections.
    let threads = connections.min(2);
    let output = Command::new("wrk")
        .args([
            "--latency",
            "--timeout",
            "10s",
            "-d",
            duration,
            "-c",
            &connections.to_string(),
            "-t",
            &threads.to_string(),
        ])
        .args(headers.iter().flat_map(|header| ["-H", header.as_str()]))
        .arg(url)
        .output()
        .context("running wrk")?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    ensure!(
        output.status.success(),
        "wrk failed on {url}: {text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let percentile = |label: &str| -> Result<Duration> {
        let value = text
            .lines()
            .find_map(|line| line.trim().strip_prefix(label))
            .with_context(|| format!("no {label} latency in wrk's output:\n{text}"))?;
        wrk_duration(value.trim()).with_context(|| format!("wrk latency {value:?}"))
    };
    let rps = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("Requests/sec:"))
        .and_then(|value| value.trim().parse().ok())
        .with_context(|| format!("no Requests/sec in wrk's output:\n{text}"))?;
    // "Non-2xx or 3xx responses: 3", "Socket errors: connect 0, read 0, write 0, timeout 2"
    let failed = text
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            line.strip_prefix("Non-2xx or 3xx responses:")
                .or_else(|| line.strip_prefix("Socket errors:"))
        })
        .flat_map(|counts| counts.split(','))
        .filter_map(|count| count.split_whitespace().last()?.parse::<u64>().ok())
        .sum();
    // "  12 requests in 5.01s, 7.70MB read"
    let done = text
        .lines()
        .find_map(|line| {
            let (count, rest) = line.trim().split_once(' ')?;
            rest.starts_with("requests in")
                .then(|| count.parse().ok())?
        })
        .with_context(|| format!("no request count in wrk's output:\n{text}"))?;
    let latency = |label: &str| -> Result<Option<Duration>> {
        Ok(if done == 0 {
            None
        } else {
            Some(percentile(label)?)
        })
    };
    Ok(WrkResult {
        p50: latency("50%")?,
        p99: latency("99%")?,
        rps,
        done,
        failed,
        output: text,
    })
}

/// A duration as wrk prints it: `812.00us`, `1.23ms`, `2.01s`, `1.50m`.
fn wrk_duration(text: &str) -> Result<Duration> {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .context("no unit")?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse()?;
    let seconds = match unit {
        "us" => number / 1e6,
        "ms" => number / 1e3,
        "s" => number,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        other => bail!("unknown unit {other:?}"),
    };
    Ok(Duration::from_secs_f64(seconds))
}

// ---------------------------------------------------------------- the query alone

fn first_page() -> Listing<'static> {
    Listing {
        search: None,
        show: Show::All,
        window: Window::Page {
            offset: 0,
            limit: PAGE_SIZE,
        },
    }
}

/// `RoleManager::list_page` for the first page, in this process over a
/// pool of [`QUERY_POOL`] connections: one at a time (latency, and
/// throughput at one), then from [`CONNECTIONS`] tasks at once.
async fn list_query(roles: &Arc<RoleManager>) -> Result<Row> {
    let listing = first_page();
    let page = roles.list_page(&listing).await?;
    ensure!(
        page.users.len() == PAGE_SIZE as usize,
        "the first page has {} users, not {PAGE_SIZE}",
        page.users.len()
    );
    let warm_up = Instant::now() + pace().query_warm_up;
    while Instant::now() < warm_up {
        roles.list_page(&listing).await?;
    }
    let mut times = Vec::new();
    let started = Instant::now();
    while started.elapsed() < pace().query_run {
        let one = Instant::now();
        roles.list_page(&listing).await?;
        times.push(one.elapsed());
    }
    let rps_1 = times.len() as f64 / started.elapsed().as_secs_f64();
    times.sort();

    let started = Instant::now();
    let deadline = started + pace().query_run;
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let roles = roles.clone();
            tokio::spawn(async move {
                let mut done = 0u64;
                while Instant::now() < deadline {
                    roles.list_page(&first_page()).await?;
                    done += 1;
                }
                Ok::<u64, pgusers::roles::RoleError>(done)
            })
        })
        .collect();
    let mut done = 0;
    for task in tasks {
        done += task.await??;
    }
    let rps_many = done as f64 / started.elapsed().as_secs_f64();
    Ok(Row {
        p50: Some(percentile(&times, 50.0)),
        p99: Some(percentile(&times, 99.0)),
        rps_1,
        rps_many,
        done: (times.len() as u64, done),
        failed: (0, 0),
    })
}

/// Nearest-rank percentile of sorted durations.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The plan of the list query for the first page, as PostgreSQL ran it:
/// the role module's own statement (it cannot be had from outside), run
/// on a connection that loads `auto_explain` and logs every plan with
/// ANALYZE and BUFFERS, then read back from the server's log.
async fn explain_first_page(cluster: &BenchCluster, database: &str) -> Result<String> {
    let mut config = cluster.config(database);
    config.options(
        "-c session_preload_libraries=auto_explain -c auto_explain.log_min_duration=0 \
         -c auto_explain.log_analyze=on -c auto_explain.log_buffers=on",
    );
    let roles = RoleManager::new(config, 1, None);
    roles.list_page(&first_page()).await?;
    drop(roles);
    // The server writes its log asynchronously of our connection.
    let log = cluster.log();
    for _ in 0..50 {
        if let Some(plan) = last_list_plan(&read_log(&log)?) {
            return Ok(plan);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("no plan of the list query in {}", log.display())
}

fn read_log(path: &Path) -> Result<String> {
    Ok(String::from_utf8_lossy(&std::fs::read(path)?).into_owned())
}

/// The last plan auto_explain logged for the list query's page variant:
/// the log entry (its lines up to the next timestamped one) that has the
/// query's text, from its first plan line (one with costs) on.
fn last_list_plan(log: &str) -> Option<String> {
    let mut entries: Vec<Vec<&str>> = Vec::new();
    for line in log.lines() {
        if line.starts_with(|c: char| c.is_ascii_digit()) || entries.is_empty() {
            entries.push(vec![line]);
        } else if let Some(entry) = entries.last_mut() {
            entry.push(line);
        }
    }
    let entry = entries.iter().rev().find(|entry| {
        let text = entry.join("\n");
        // The listing statement: since the pages keep the list, the one a
        // judgement of every user runs.
        text.contains("plan:") && text.contains("only_read")
    })?;
    let duration = entry[0]
        .split_once("duration:")
        .map(|(_, rest)| rest.trim_end_matches("plan:").trim().to_owned())
        .unwrap_or_default();
    let start = entry.iter().position(|line| line.contains("(cost="))?;
    let mut plan = format!("(statement duration {duration})\n");
    for line in &entry[start..] {
        plan.push_str(line.strip_prefix('\t').unwrap_or(line));
        plan.push('\n');
    }
    Some(plan)
}

// ---------------------------------------------------------------- report

/// The 1-minute load average (`/proc/loadavg`).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

fn ms(duration: Option<Duration>) -> String {
    duration.map_or_else(
        || "none".to_owned(),
        |duration| format!("{:.2} ms", duration.as_secs_f64() * 1e3),
    )
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl SizeReport {
    fn print(&self) {
        let f = &self.floor;
        println!(
            "\n{} users ({} read-only, {} read-write, plus the protected user), {}; \
             {}; users made in {:.1} s",
            thousands(self.n),
            thousands(self.n / 2),
            thousands(self.n - self.n / 2),
            self.server_version_label(),
            tables_label(self.tables),
            self.setup.as_secs_f64()
        );
        let per_thousand: Vec<String> = self
            .creates_per_thousand
            .iter()
            .map(|took| format!("{:.1}", took.as_secs_f64()))
            .collect();
        println!(
            "every user made by RoleManager::create; seconds per thousand creates: {}; \
             slowest create {}",
            per_thousand.join(", "),
            ms(Some(self.slowest_create))
        );
        println!(
            "{:<20} {:>10} {:>10} {:>9} {:>9} {:>9} {:>12} {:>11} {:>7}",
            "",
            "p50 @1",
            "p99 @1",
            "req/s @1",
            "req/s @32",
            "p50/floor",
            "floor/it @32",
            "done @1/@32",
            "failed"
        );
        for (label, row) in [
            ("floor (SELECT 1)", Some(&self.floor)),
            ("stylesheet", Some(&self.stylesheet)),
            ("/healthz", Some(&self.healthz)),
            ("/livez", Some(&self.livez)),
            ("/readyz", Some(&self.readyz)),
            ("page", Some(&self.page)),
            ("search page (?q=)", Some(&self.search)),
            ("filter (read-write)", Some(&self.filter)),
            ("health page", Some(&self.health)),
            (
                "health, findings",
                self.health_many.as_ref().map(|(_, row)| row),
            ),
            ("list query (1 page)", Some(&self.query)),
            (
                "pgAdmin 4 role list",
                self.pgadmin.as_ref().map(|(_, row)| row),
            ),
        ] {
            if label.starts_with("pgAdmin") && row.is_none() {
                continue;
            }
            let Some(row) = row else {
                println!("{label:<20} {:>10}", "not measured");
                continue;
            };
            println!(
                "{:<20} {:>10} {:>10} {:>9.1} {:>9.1} {:>9} {:>12} {:>11} {:>7}",
                label,
                ms(row.p50),
                ms(row.p99),
                row.rps_1,
                row.rps_many,
                self.p50_ratio(row)
                    .map_or_else(|| "-".to_owned(), |ratio| format!("{ratio:.1}x")),
                // A row none of whose requests came back has no rate.
                if row.done.1 == 0 {
                    "none".to_owned()
                } else {
                    format!("{:.1}x", ratio(f.rps_many, row.rps_many))
                },
                format!("{}/{}", row.done.0, row.done.1),
                format!("{}/{}", row.failed.0, row.failed.1),
            );
        }
        let w = &self.writes;
        println!(
            "{:<20} {:>10} {:>10} {:>9} {:>9} {:>9} {:>12} {:>11} {:>7}",
            "writes",
            "p50 @1",
            "p99 @1",
            "/s @1",
            "/s @32",
            "p50/floor",
            "floor/it @32",
            "done",
            "not 201"
        );
        for (label, row, refused) in [
            ("CREATE+DROP ROLE", &w.floor, 0),
            ("API create", &w.creates, w.refused),
        ] {
            println!(
                "{:<20} {:>10} {:>10} {:>9.1} {:>9.1} {:>8.1}x {:>11.1}x {:>11} {:>7}",
                label,
                ms(row.p50),
                ms(row.p99),
                row.rps_1,
                row.rps_many,
                ratio_of(row.p50, w.floor.p50),
                ratio(w.floor.rps_many, row.rps_many),
                format!("{}/{}", row.done.0, row.done.1),
                refused
            );
        }
        if let Some(refusal) = &w.first_refusal {
            println!("!! a create answered {refusal}");
        }
        println!(
            "then every user made deleted through the API at {CONNECTIONS} clients: {} in all, \
             {:.1}/s, {} not 2xx",
            w.deleted, w.deletes_per_second, w.deletes_refused
        );
        let search_note = if self.search_same {
            " (the same rows: this build ignores ?q=)"
        } else {
            ""
        };
        println!(
            "rows shown: page {}, search page {}{search_note}, filter {}; page size {:.0} KiB",
            self.page_rows,
            self.search_rows,
            self.filter_rows,
            self.page_bytes as f64 / 1024.0
        );
        match &self.health_many {
            Some((findings, _)) => println!(
                "health page: {} findings, then {findings} (the read-write group without \
                 UPDATE on {FINDINGS_MADE} tables); the doctor judges all {} users, kept \
                 between changes",
                self.health_findings,
                thousands(self.n + 1)
            ),
            None => println!(
                "health page: {} findings (no tables to take rights on); the doctor judges \
                 all {} users, kept between changes",
                self.health_findings,
                thousands(self.n + 1)
            ),
        }
        if let Some((roles, pgadmin)) = &self.pgadmin {
            let rate = if pgadmin.done.1 == 0 {
                format!("none of its answers came back within a run @{CONNECTIONS}")
            } else {
                format!(
                    "the page serves {:.1}x its rate @{CONNECTIONS}",
                    ratio(self.page.rps_many, pgadmin.rps_many)
                )
            };
            println!(
                "pgAdmin 4's role list ({roles} roles, the outside reference): p50 {:.1}x the \
                 users page's; {rate}",
                ratio_of(pgadmin.p50, self.page.p50),
            );
        }
        println!(
            "load average (1 min) before measuring {}, after {} ({} cores)",
            self.load.0,
            self.load.1,
            std::thread::available_parallelism().map_or(0, usize::from)
        );
        let rss_mib = self.peak_rss_kib as f64 / 1024.0;
        println!(
            "peak RSS of pgusers (VmHWM): {rss_mib:.1} MiB after the pages, {:.1} MiB after \
             the writes too",
            self.peak_rss_writes_kib as f64 / 1024.0
        );
        if self.n != JUDGED_AT {
            println!("(targets are judged at {} users)", thousands(JUDGED_AT));
            return;
        }
        println!("targets at {} users (issue 30):", thousands(self.n));
        let verdict = |ok: bool| if ok { "PASS" } else { "MISS" };
        // A run with failed requests passes nothing: its figures are not
        // only of pages served. One where nothing finished has none.
        let why = |done: u64, failed: u64| match (done, failed) {
            (0, _) => format!(" (no request finished within the {} run)", pace().run),
            (_, 0) => String::new(),
            (_, failed) => format!(" ({failed} failed requests)"),
        };
        let shown =
            |ratio: Option<f64>| ratio.map_or_else(|| "-".to_owned(), |r| format!("{r:.1}x"));
        for (label, row, max) in [
            ("liveness", &self.livez, MAX_LIVENESS_RATIO),
            ("page", &self.page, MAX_PAGE_RATIO),
            ("search page", &self.search, MAX_OTHER_RATIO),
            ("filter", &self.filter, MAX_OTHER_RATIO),
        ] {
            let failed_1 = row.failed.0 + f.failed.0;
            let p50 = self.p50_ratio(row);
            println!(
                "  {label:<12} p50 <= {max}x the floor's: {}  {}{}",
                shown(p50),
                verdict(p50.is_some_and(|ratio| ratio <= max) && failed_1 == 0),
                why(row.done.0, failed_1)
            );
        }
        let failed_many = self.page.failed.1 + f.failed.1;
        let throughput = ratio(f.rps_many, self.page.rps_many);
        // (A floor that served nothing makes the ratio 0: no pass.)
        println!(
            "  page         req/s @32 >= 1/{MAX_PAGE_THROUGHPUT_RATIO} of the floor's: \
             the floor's is {throughput:.1}x  {}{}",
            verdict(
                throughput <= MAX_PAGE_THROUGHPUT_RATIO
                    && f.done.1 > 0
                    && self.page.done.1 > 0
                    && failed_many == 0
            ),
            why(self.page.done.1.min(f.done.1), failed_many)
        );
        if self.health_many.is_none() {
            println!(
                "  health page  p50 <= {MAX_HEALTH_OVER_PAGE}x the page's (with findings): \
                 not measured (no tables)"
            );
        }
        let with_findings = self
            .health_many
            .as_ref()
            .map(|(findings, row)| (row, *findings));
        for (health, findings) in [(&self.health, self.health_findings)]
            .into_iter()
            .chain(with_findings)
        {
            let failed_health = health.failed.0 + self.page.failed.0;
            let over_page = health
                .p50
                .zip(self.page.p50)
                .map(|(health, page)| ratio(health.as_secs_f64(), page.as_secs_f64()));
            println!(
                "  health page  p50 <= {MAX_HEALTH_OVER_PAGE}x the page's ({findings} findings): {}  {}{}",
                shown(over_page),
                verdict(over_page.is_some_and(|r| r <= MAX_HEALTH_OVER_PAGE) && failed_health == 0),
                why(health.done.0.min(self.page.done.0), failed_health)
            );
        }
        println!(
            "  peak RSS <= {MAX_RSS_MIB} MiB: {rss_mib:.1} MiB  {}",
            verdict(rss_mib <= MAX_RSS_MIB)
        );
        let all_201 = if w.refused == 0 {
            String::new()
        } else {
            format!(" ({} creates not 201)", w.refused)
        };
        let create_p50 = ratio_of(w.creates.p50, w.floor.p50);
        println!(
            "  API create   p50 @1 <= {MAX_CREATE_RATIO}x CREATE+DROP ROLE's: {create_p50:.1}x  {}{all_201}",
            verdict(create_p50 <= MAX_CREATE_RATIO && w.refused == 0)
        );
        let create_rate = ratio(w.floor.rps_many, w.creates.rps_many);
        println!(
            "  API create   /s @32 >= 1/{MAX_CREATE_THROUGHPUT_RATIO} of CREATE+DROP ROLE's: \
             the floor's is {create_rate:.1}x  {}{all_201}",
            verdict(create_rate <= MAX_CREATE_THROUGHPUT_RATIO && w.refused == 0)
        );
    }

    /// `row`'s p50 over the floor's, when both have one.
    fn p50_ratio(&self, row: &Row) -> Option<f64> {
        Some(ratio(row.p50?.as_secs_f64(), self.floor.p50?.as_secs_f64()))
    }

    /// Failed requests in all of this size's runs.
    fn failed(&self) -> u64 {
        [
            &self.floor,
            &self.stylesheet,
            &self.healthz,
            &self.livez,
            &self.readyz,
            &self.page,
            &self.search,
            &self.filter,
            &self.health,
            &self.query,
        ]
        .into_iter()
        .chain(self.health_many.as_ref().map(|(_, row)| row))
        .map(|row| row.failed.0 + row.failed.1)
        .sum::<u64>()
            + (self.writes.refused + self.writes.deletes_refused) as u64
    }

    fn server_version_label(&self) -> String {
        format!("PostgreSQL {}", self.server_version)
    }
}

/// `a` over `b`, when both were measured.
fn ratio_of(a: Option<Duration>, b: Option<Duration>) -> f64 {
    match (a, b) {
        (Some(a), Some(b)) => ratio(a.as_secs_f64(), b.as_secs_f64()),
        _ => f64::INFINITY,
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { f64::INFINITY }
}
