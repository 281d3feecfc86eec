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

/// One database of the comparison, served and logged in to.
struct Side {
    tables: usize,
    // Field order is drop order: the dashboard stops before its cluster.
    session: Session,
    dashboard: Dashboard,
    routes: Routes,
    shown: Shown,
    prepared: Prepared,
    rounds: Vec<Pages>,
}

impl Side {
    async fn start(n: usize, tables: usize, keep: Option<&Path>) -> Result<Self> {
        let prepared = prepare(n, tables, keep).await?;
        let dashboard = Dashboard::start(&prepared.cluster, &prepared.database).await?;
        let session = dashboard.log_in().await?;
        let (routes, shown) = Routes::find(&session).await?;
        Ok(Self {
            tables,
            session,
            dashboard,
            routes,
            shown,
            prepared,
            rounds: Vec::new(),
        })
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
    with: Side,
    without: Side,
}

/// Both sides at `n` users, measured in alternating order.
pub(super) async fn tables(n: usize, keep: Option<&Path>) -> Result<Comparison> {
    let mut with = Side::start(n, TABLES, keep).await?;
    let mut without = Side::start(n, 0, keep).await?;
    // The same pages on both sides: the same rows, no finding to show.
    let page_rows = (n + 1).min(PAGE_SIZE as usize);
    for side in [&with, &without] {
        let rows = side.shown.page.matches("data-username=\"").count();
        let findings = findings_on(&side.shown.health);
        ensure!(
            rows == page_rows && findings == 0,
            "the side with {} shows {rows} users on its page (expected {page_rows}) and \
             {findings} findings on Settings › Health (expected none)",
            tables_label(side.tables)
        );
    }
    let rounds = match pace().rounds {
        1 => 1,
        _ => ROUNDS,
    };
    for round in 1..=rounds {
        let order = match round % 2 {
            1 => [&mut with, &mut without],
            _ => [&mut without, &mut with],
        };
        for side in order {
            side.measure().await?;
            let last = side.rounds.last().context("a round was measured")?;
            println!(
                "round {round} of {rounds}, {}: {}",
                tables_label(side.tables),
                last.summary()
            );
        }
    }
    Ok(Comparison {
        n,
        server_version: with.prepared.server_version.clone(),
        with,
        without,
    })
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

impl Comparison {
    /// Each figure's per-round ratios on both sides, their medians, the
    /// paired quotients and the verdict. How many figures are worse with
    /// tables.
    pub(super) fn print(&self) -> usize {
        println!(
            "\n{} users ({} read-only, {} read-write, plus the protected user), PostgreSQL {}: \
             {} against {}, {} rounds in alternating order; each figure a ratio to the floor of \
             its side and round (larger is slower)",
            thousands(self.n),
            thousands(self.n / 2),
            thousands(self.n - self.n / 2),
            self.server_version,
            tables_label(self.with.tables),
            tables_label(self.without.tables),
            self.with.rounds.len()
        );
        println!(
            "{:<18} {:>9} {:>9} {:>9}  {:<}",
            "", "with", "without", "quotient", "per round: with/without = quotient"
        );
        let mut worse = 0;
        for (label, figure) in FIGURES {
            let with = self.with.figure(figure);
            let without = self.without.figure(figure);
            let quotients: Vec<f64> = with
                .iter()
                .zip(&without)
                .map(|(a, b)| ratio(*a, *b))
                .collect();
            let quotient = median(quotients.clone());
            let rounds: Vec<String> = with
                .iter()
                .zip(&without)
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
                median(with),
                median(without),
                quotient,
                rounds.join("  ")
            );
        }
        println!(
            "verdict: {} of {} figures no worse with tables (median paired quotient at most {:.2})",
            FIGURES.len() - worse,
            FIGURES.len(),
            NO_WORSE_WITHIN
        );
        worse
    }

    pub(super) fn failed(&self) -> u64 {
        self.with.failed() + self.without.failed()
    }
}
