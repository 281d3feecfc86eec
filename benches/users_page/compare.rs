//! `PGUSERS_BENCH_COMPARE=tables` (issue 28): the pages of a database
//! with [`TABLES`] tables against the same pages of a database without
//! any, both at `n` users made the same way, measured round by round in
//! one process. Separate runs could not tell the two apart: on two shared
//! cores a round's ratio moved from 2.4x to 8.7x, more than any table
//! could. Here both clusters and both dashboards run side by side, each
//! round measures one side right after the other (which goes first
//! alternates), and each figure is a ratio to that side's own floor of
//! the same round; the verdict is the median over the rounds of the
//! paired quotient, with tables over without, so the noise a round shares
//! cancels out. Both clusters are vacuumed and checkpointed first.
//!
//! Settings › Health is compared without findings on both sides (there is
//! nothing to find without tables); with findings it is measured by the
//! ordinary run.
//!
//! Then, with no timing in it, the work PostgreSQL does for the users page
//! on each side: the shared buffers each statement touches (`auto_explain`),
//! for a view that judges every user and for one that reads the kept list.
//!
//! `PGUSERS_BENCH_COMPARE=control` is the same comparison between two
//! databases without tables, made alike (the second kept in
//! `<n>-tables-0-control`): how far from 1 the quotients of identical
//! sides land on this machine, the yardstick for the tables' quotients.

use super::*;

/// Rounds of a comparison (the ordinary run's three leave one noisy
/// round able to decide the median); even, so each side goes first as
/// often.
const ROUNDS: usize = 8;

/// A figure whose median paired quotient is above this is flagged WORSE:
/// a flag to look at, not a verdict. On the 2-core machine of
/// BENCHMARKS.md, the control's identical sides reached 1.22 (and single
/// rounds 2.06), so a flag means something only beyond the control's own
/// quotients, run the same way; the report prints every round's.
const NO_WORSE_WITHIN: f64 = 1.10;

/// A figure of one round: a ratio to that round's floor, larger being slower.
type Figure = fn(&Pages) -> f64;

/// Each figure compared, with its label.
const FIGURES: [(&str, Figure); 8] = [
    ("page p50/floor", |p| ratio_of(p.page.p50, p.floor.p50)),
    ("search p50/floor", |p| ratio_of(p.search.p50, p.floor.p50)),
    ("filter p50/floor", |p| ratio_of(p.filter.p50, p.floor.p50)),
    ("health p50/floor", |p| ratio_of(p.health.p50, p.floor.p50)),
    ("floor/page @32", |p| {
        ratio(p.floor.rps_many, p.page.rps_many)
    }),
    ("floor/search @32", |p| {
        ratio(p.floor.rps_many, p.search.rps_many)
    }),
    ("floor/filter @32", |p| {
        ratio(p.floor.rps_many, p.filter.rps_many)
    }),
    ("floor/health @32", |p| {
        ratio(p.floor.rps_many, p.health.rps_many)
    }),
];

/// What is compared with what.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Against {
    /// [`TABLES`] tables against none.
    Tables,
    /// No tables against no tables: the noise alone.
    Control,
}

impl Against {
    pub(super) fn parse(what: &str) -> Result<Self> {
        match what {
            "tables" => Ok(Self::Tables),
            "control" => Ok(Self::Control),
            _ => bail!("PGUSERS_BENCH_COMPARE: tables or control, not {what:?}"),
        }
    }
}

/// One database of the comparison, served and logged in to: the first
/// side is the one judged (with tables), the second the reference.
struct Side {
    label: String,
    // Field order is drop order: the dashboard stops before its cluster.
    session: Session,
    dashboard: Dashboard,
    routes: Routes,
    shown: Shown,
    prepared: Prepared,
    rounds: Vec<Pages>,
}

impl Side {
    async fn start(n: usize, tables: usize, kept: Option<PathBuf>, label: String) -> Result<Self> {
        let prepared = prepare(n, tables, kept).await?;
        let dashboard = Dashboard::start(&prepared.cluster, &prepared.database).await?;
        let session = dashboard.log_in().await?;
        let (routes, shown) = Routes::find(&session).await?;
        Ok(Self {
            label,
            session,
            dashboard,
            routes,
            shown,
            prepared,
            rounds: Vec::new(),
        })
    }

    /// The buffers PostgreSQL touched for each of [`VIEWS`], statement
    /// by statement, through the role module in this process with
    /// `auto_explain` on its one connection.
    async fn buffers(&self) -> Result<Vec<Vec<(String, u64)>>> {
        let cluster = &self.prepared.cluster;
        let mut config = cluster.config(&self.prepared.database);
        config.options(
            "-c session_preload_libraries=auto_explain -c auto_explain.log_min_duration=0 \
             -c auto_explain.log_analyze=on -c auto_explain.log_buffers=on \
             -c auto_explain.log_timing=off",
        );
        let roles = RoleManager::new(config, 1, None);
        let log = cluster.log();
        let mut views = Vec::new();
        for (at, view) in VIEWS.iter().enumerate() {
            let from = std::fs::metadata(&log)?.len();
            // The page twice (the first judges, the second reads the kept
            // list), then Health's judgement.
            if at < 2 {
                roles.list_page(&first_page()).await?;
            } else {
                roles.check_access().await?;
            }
            views.push(
                logged_since(&log, from)
                    .await
                    .with_context(|| format!("{}: {view}", self.label))?,
            );
        }
        Ok(views)
    }

    async fn measure(&mut self) -> Result<()> {
        let pages = self.routes.measure(&self.dashboard, &self.session).await?;
        self.rounds.push(pages);
        Ok(())
    }

    fn figure(&self, figure: Figure) -> Vec<f64> {
        self.rounds.iter().map(figure).collect()
    }

    fn failed(&self) -> u64 {
        self.rounds
            .iter()
            .flat_map(|p| [p.floor, p.page, p.search, p.filter, p.health])
            .map(|row| row.failed.0 + row.failed.1)
            .sum()
    }
}

/// What a comparison found.
pub(super) struct Comparison {
    n: usize,
    server_version: String,
    first: Side,
    second: Side,
    /// Each side's [`Side::buffers`].
    buffers: [Vec<Vec<(String, u64)>>; 2],
}

/// Both sides at `n` users, measured in alternating order.
pub(super) async fn measure(n: usize, against: Against, keep: Option<&Path>) -> Result<Comparison> {
    let kept = |tables| keep.map(|keep| kept_in(keep, n, tables));
    let (mut first, mut second) = match against {
        Against::Tables => (
            Side::start(n, TABLES, kept(TABLES), tables_label(TABLES)).await?,
            Side::start(n, 0, kept(0), tables_label(0)).await?,
        ),
        Against::Control => (
            Side::start(n, 0, kept(0), "no tables".to_owned()).await?,
            Side::start(
                n,
                0,
                kept(0).map(|dir| {
                    let mut control = dir.into_os_string();
                    control.push("-control");
                    PathBuf::from(control)
                }),
                "no tables (control)".to_owned(),
            )
            .await?,
        ),
    };
    // The same pages on both sides: the same rows, no finding to show.
    let page_rows = (n + 1).min(PAGE_SIZE as usize);
    for side in [&first, &second] {
        let rows = side.shown.page.matches("data-username=\"").count();
        let findings = findings_on(&side.shown.health);
        ensure!(
            rows == page_rows && findings == 0,
            "the side {} shows {rows} users on its page (expected {page_rows}) and \
             {findings} findings on Settings › Health (expected none)",
            side.label
        );
    }
    // Both clusters at rest: the dead row versions of earlier runs'
    // changes (the change marks' comments) vacuumed away, and no
    // checkpoint owed, so neither side starts with work the other has not.
    for side in [&first, &second] {
        let client =
            pgusers::db::connect(&side.prepared.cluster.config(&side.prepared.database)).await?;
        for statement in ["VACUUM (ANALYZE)", "CHECKPOINT"] {
            client
                .batch_execute(statement)
                .await
                .with_context(|| format!("{statement} on the side {}", side.label))?;
        }
    }
    let rounds = match pace().rounds {
        1 => 1,
        _ => ROUNDS,
    };
    for round in 1..=rounds {
        let order = match round % 2 {
            1 => [&mut first, &mut second],
            _ => [&mut second, &mut first],
        };
        for side in order {
            side.measure().await?;
            let last = side.rounds.last().context("a round was measured")?;
            println!(
                "round {round} of {rounds}, {}: {}",
                side.label,
                last.summary()
            );
        }
    }
    let buffers = [first.buffers().await?, second.buffers().await?];
    Ok(Comparison {
        n,
        buffers,
        server_version: first.prepared.server_version.clone(),
        first,
        second,
    })
}

/// What PostgreSQL is asked for, in order, by [`Side::buffers`].
const VIEWS: [&str; 3] = [
    "the users page judging every user",
    "the users page from the kept list",
    "Settings › Health judging every user",
];

/// The plans `log` holds past byte `from`, once the server has written
/// them (its log is written apart from our connection): when the file has
/// not grown for half a second. Fails when none came within 10 s.
async fn logged_since(log: &Path, from: u64) -> Result<Vec<(String, u64)>> {
    let started = Instant::now();
    let (mut size, mut still) = (0, 0);
    loop {
        let bytes = std::fs::read(log)?;
        if bytes.len() == size {
            still += 1;
        } else {
            (size, still) = (bytes.len(), 0);
        }
        let tail = bytes.get(from as usize..).unwrap_or_default();
        let plans = buffers_logged(&String::from_utf8_lossy(tail));
        if still >= 5 && !plans.is_empty() {
            return Ok(plans);
        }
        ensure!(
            started.elapsed() < Duration::from_secs(10),
            "no plan logged in {} within 10 s",
            log.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Each plan `auto_explain` logged in `log`: its query's first words, and
/// the shared buffers its top node touched (hit and read; a plan that
/// touched none has no such line, and is left out).
fn buffers_logged(log: &str) -> Vec<(String, u64)> {
    let mut plans = Vec::new();
    let mut query: Option<String> = None;
    for line in log.lines() {
        let line = line.trim();
        if let Some(text) = line.strip_prefix("Query Text:") {
            let words: Vec<&str> = text.split_whitespace().collect();
            query = Some(words.join(" ").chars().take(60).collect());
        } else if let Some(counts) = line.strip_prefix("Buffers: shared")
            && let Some(query) = query.take()
        {
            // `hit=5 read=2, temp read=9`: the shared ones only.
            let shared = counts.split(',').next().unwrap_or_default();
            let touched = shared
                .split_whitespace()
                .filter_map(|count| count.split_once('='))
                .filter(|(kind, _)| matches!(*kind, "hit" | "read"))
                .filter_map(|(_, n)| n.parse::<u64>().ok())
                .sum();
            plans.push((query, touched));
        }
    }
    plans
}

/// The middle value; of an even number, the mean of the two middle ones.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[middle],
        _ => (values[middle - 1] + values[middle]) / 2.0,
    }
}

/// Each statement of `a` and `b` by its query's first words, in the order
/// they came (`a`'s first), with its buffers on each side summed over its
/// runs.
fn paired(a: &[(String, u64)], b: &[(String, u64)]) -> Vec<(String, u64, u64)> {
    let mut rows: Vec<(String, u64, u64)> = Vec::new();
    for (side, plans) in [a, b].into_iter().enumerate() {
        for (query, n) in plans {
            let at = match rows.iter().position(|(q, _, _)| q == query) {
                Some(at) => at,
                None => {
                    rows.push((query.clone(), 0, 0));
                    rows.len() - 1
                }
            };
            if side == 0 {
                rows[at].1 += n;
            } else {
                rows[at].2 += n;
            }
        }
    }
    rows
}

impl Comparison {
    /// Each figure's per-round ratios on both sides, their medians, the
    /// paired quotients (first over second) and the verdict. How many
    /// figures are worse on the first side.
    pub(super) fn print(&self) -> usize {
        println!(
            "\n{} users ({} read-only, {} read-write, plus the protected user), PostgreSQL {}: \
             {} against {}, {} rounds in alternating order; each figure a ratio to the floor of \
             its side and round (larger is slower)",
            thousands(self.n),
            thousands(self.n / 2),
            thousands(self.n - self.n / 2),
            self.server_version,
            self.first.label,
            self.second.label,
            self.first.rounds.len()
        );
        println!(
            "{:<18} {:>9} {:>9} {:>9}  {:<}",
            "", "first", "second", "quotient", "per round: first/second = quotient"
        );
        let mut worse = 0;
        for (label, figure) in FIGURES {
            let first = self.first.figure(figure);
            let second = self.second.figure(figure);
            let quotients: Vec<f64> = first
                .iter()
                .zip(&second)
                .map(|(a, b)| ratio(*a, *b))
                .collect();
            let quotient = median(quotients.clone());
            let rounds: Vec<String> = first
                .iter()
                .zip(&second)
                .zip(&quotients)
                .map(|((a, b), q)| format!("{a:.1}/{b:.1}={q:.2}"))
                .collect();
            let verdict = if quotient <= NO_WORSE_WITHIN {
                "no worse"
            } else {
                worse += 1;
                "WORSE"
            };
            println!(
                "{label:<18} {:>8.1}x {:>8.1}x {:>9.2}  {}  {verdict}",
                median(first),
                median(second),
                quotient,
                rounds.join("  ")
            );
        }
        self.print_buffers();
        println!(
            "verdict: {} of {} figures no worse on the first side ({}) than on the second \
             (median paired quotient at most {:.2})",
            FIGURES.len() - worse,
            FIGURES.len(),
            self.first.label,
            NO_WORSE_WITHIN
        );
        worse
    }

    /// The buffers of each view, side by side, statement by statement.
    fn print_buffers(&self) {
        let [first, second] = &self.buffers;
        for (view, (a, b)) in VIEWS.iter().zip(first.iter().zip(second)) {
            let total = |plans: &[(String, u64)]| plans.iter().map(|(_, n)| n).sum::<u64>();
            println!(
                "shared buffers PostgreSQL touched for {view}: {} on the first side, {} on the \
                 second",
                total(a),
                total(b)
            );
            for (query, n, other) in paired(a, b) {
                println!("  {n:>9} {other:>9}  {query}");
            }
        }
    }

    pub(super) fn failed(&self) -> u64 {
        self.first.failed() + self.second.failed()
    }
}
