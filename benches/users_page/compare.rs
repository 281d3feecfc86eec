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
//! cancels out.
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
/// round able to decide the median).
const ROUNDS: usize = 7;

/// "No worse" within the noise: the median paired quotient of every
/// figure at most this. The quotients of single rounds spread wider;
/// the report prints them all.
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

    /// The buffers PostgreSQL touched for the users page's first view
    /// (every user judged) and the next (the kept list), each a list of
    /// statements and their buffers, through the role module in this
    /// process with `auto_explain` on its connection.
    async fn buffers(&self) -> Result<[Vec<(String, u64)>; 2]> {
        let cluster = &self.prepared.cluster;
        let mut config = cluster.config(&self.prepared.database);
        config.options(
            "-c session_preload_libraries=auto_explain -c auto_explain.log_min_duration=0 \
             -c auto_explain.log_analyze=on -c auto_explain.log_buffers=on \
             -c auto_explain.log_timing=off",
        );
        let roles = RoleManager::new(config, 1, None);
        let mut views = Vec::new();
        for _ in 0..2 {
            let from = read_log(&cluster.log())?.len();
            roles.list_page(&first_page()).await?;
            // The server writes its log apart from our connection: wait
            // until the view's last statement (`count_sessions`' query,
            // whose comment begins "How many sessions") is there.
            let mut statements = Vec::new();
            for _ in 0..50 {
                let log = read_log(&cluster.log())?;
                statements = buffers_logged(log.get(from..).unwrap_or_default());
                if statements
                    .iter()
                    .any(|(query, _)| query.contains("How many sessions"))
                {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            views.push(statements);
        }
        let [judged, kept] = <[_; 2]>::try_from(views).map_err(|_| anyhow!("two views"))?;
        Ok([judged, kept])
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
    buffers: [[Vec<(String, u64)>; 2]; 2],
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

/// Each plan `auto_explain` logged in `log`: its query's first words, and
/// the shared buffers its top node touched (hit and read).
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
            let touched = counts
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

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
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
        for (view, (a, b)) in ["a view that judges every user", "a view of the kept list"]
            .into_iter()
            .zip(first.iter().zip(second))
        {
            let total = |plans: &[(String, u64)]| plans.iter().map(|(_, n)| n).sum::<u64>();
            println!(
                "shared buffers PostgreSQL touched for {view}: {} on the first side, {} on the \
                 second",
                total(a),
                total(b)
            );
            for i in 0..a.len().max(b.len()) {
                let (query, n) = a
                    .get(i)
                    .or(b.get(i))
                    .map_or(("", 0), |(q, n)| (q.as_str(), *n));
                let other = b.get(i).map_or(0, |(_, n)| *n);
                let n = a.get(i).map_or(0, |_| n);
                println!("  {n:>9} {other:>9}  {query}");
            }
        }
    }

    pub(super) fn failed(&self) -> u64 {
        self.first.failed() + self.second.failed()
    }
}
