//! Login throttling, kept in the state database so it holds across
//! restarts and replicas.
//!
//! Every attempt is counted before its password is checked, and what it
//! counts against differs by what an attacker controls:
//! - A client address (over every name it tries) is locked out: from
//!   [`LoginPolicy::lock_after`] failures on, its attempts are refused
//!   until the window has passed, even with the right password. A name
//!   tried from that address is part of the address's count, so the pair
//!   is locked out with it.
//! - An operator name (from every address) is only slowed down: from
//!   [`LoginPolicy::slow_after`] failures on, each attempt waits longer
//!   (doubling, up to [`LoginPolicy::max_delay`]), but is never refused.
//!   Otherwise anyone could lock any operator out by failing on purpose.
//!
//! Attempts still being checked (in flight) count towards their address's
//! lockout, not towards the name's slowdown. An attempt goes on only while
//! its address's failures and attempts in flight stay below the lockout;
//! otherwise it waits for those in flight to end. So guesses sent all at
//! once can never have more than `lock_after` checked, while an operator's
//! own logins sent all at once all go through, a few at a time. A right
//! password deletes its attempt; a wrong one turns it into a failure.
//!
//! What is said never tells which part was wrong.

use std::net::IpAddr;
use std::time::Duration;

use super::{StateError, StateStore};

/// What failed logins are counted under for a client address: the address
/// itself for IPv4, its /64 network for IPv6, since one IPv6 subscriber
/// commonly holds a whole /64 and could otherwise try from endless
/// addresses.
pub fn throttling_key(address: IpAddr) -> String {
    match address {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let network = u128::from(v6) & !((1u128 << 64) - 1);
            format!("{}/64", std::net::Ipv6Addr::from(network))
        }
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or_else(|| v6.to_string(), |v4| v4.to_string()),
        IpAddr::V4(v4) => v4.to_string(),
    }
}

#[derive(Debug, Clone, Copy)]
pub struct LoginPolicy {
    pub window: Duration,
    pub slow_after: i64,
    pub lock_after: i64,
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(15 * 60),
            slow_after: 3,
            lock_after: 10,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
        }
    }
}

/// What to do with a login attempt, given the recent failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    Allow,
    /// Check the password, after waiting this long.
    Delay(Duration),
    /// Refuse without checking.
    Locked,
}

impl LoginPolicy {
    /// The decision from the recent failures of the client's address and of
    /// the operator name: only the address locks out.
    pub fn decide(&self, by_address: i64, by_name: i64) -> Throttle {
        if by_address >= self.lock_after {
            return Throttle::Locked;
        }
        let failures = by_address.max(by_name);
        if failures < self.slow_after {
            return Throttle::Allow;
        }
        let doublings = u32::try_from(failures - self.slow_after)
            .unwrap_or(u32::MAX)
            .min(16);
        Throttle::Delay(
            self.first_delay
                .saturating_mul(1 << doublings)
                .min(self.max_delay),
        )
    }
}

/// An attempt older than this and still in flight was never finished (its
/// process stopped): it counts as a failure from then on.
const IN_FLIGHT_LIMIT: Duration = Duration::from_secs(120);
/// How long an attempt waits for its address's attempts in flight to end
/// before it is refused like a locked-out one.
const WAIT_LIMIT: Duration = Duration::from_secs(30);
/// How soon a waiting attempt first looks again; each further look waits
/// twice as long, up to [`WAIT_STEP_MAX`], so that a flood of waiting
/// attempts does not become a flood of queries.
const WAIT_STEP: Duration = Duration::from_millis(20);
const WAIT_STEP_MAX: Duration = Duration::from_millis(320);

/// A login attempt that has been counted.
#[derive(Debug)]
pub struct LoginAttempt {
    pub throttle: Throttle,
    /// Whether this refusal is the first of its address's lockout in this
    /// window, and so the one to record: a locked-out client sending
    /// thousands of attempts must not flood the audit log.
    pub record_refusal: bool,
    /// The counted row, when the attempt may go on.
    id: Option<i64>,
    operator: String,
    address: String,
}

impl StateStore {
    /// Counts an attempt against the address and the name, and decides
    /// what to do with it; waits while the address has too many attempts
    /// in flight.
    pub async fn begin_login_attempt(
        &self,
        operator: &str,
        address: &str,
        policy: &LoginPolicy,
    ) -> Result<LoginAttempt, StateError> {
        let give_up_at = tokio::time::Instant::now() + WAIT_LIMIT;
        let mut step = WAIT_STEP;
        loop {
            let give_up = tokio::time::Instant::now() >= give_up_at;
            if let Some(attempt) = self
                .try_login_attempt(operator, address, policy, give_up)
                .await?
            {
                return Ok(attempt);
            }
            tokio::time::sleep(step).await;
            step = (step * 2).min(WAIT_STEP_MAX);
        }
    }

    /// One look at the counts, atomically per address: `None` when the
    /// attempt must wait for others in flight (unless `give_up`, which
    /// refuses it instead).
    async fn try_login_attempt(
        &self,
        operator: &str,
        address: &str,
        policy: &LoginPolicy,
        give_up: bool,
    ) -> Result<Option<LoginAttempt>, StateError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // One decision at a time per address (a namespaced key), so that
        // attempts sent at once see each other.
        tx.execute(
            "SELECT pg_advisory_xact_lock(1886741362, hashtext('address:' || $1))",
            &[&address],
        )
        .await?;
        let counts = tx
            .query_one(
                "SELECT count(*) FILTER (WHERE address = $2 AND NOT in_flight),
                        count(*) FILTER (WHERE address = $2 AND in_flight),
                        count(*) FILTER (WHERE operator = $1 AND NOT pending)
                   FROM (SELECT *, pending AND at > now() - make_interval(secs => $4) AS in_flight
                           FROM login_failures
                          WHERE at > now() - make_interval(secs => $3)
                            AND (address = $2 OR operator = $1)) recent",
                &[
                    &operator,
                    &address,
                    &policy.window.as_secs_f64(),
                    &IN_FLIGHT_LIMIT.as_secs_f64(),
                ],
            )
            .await?;
        let (by_address, in_flight, by_name): (i64, i64, i64) =
            (counts.get(0), counts.get(1), counts.get(2));
        let mut throttle = policy.decide(by_address, by_name);
        if throttle != Throttle::Locked && by_address + in_flight >= policy.lock_after {
            if !give_up {
                return Ok(None);
            }
            throttle = Throttle::Locked;
        }
        let (id, record_refusal) = if throttle == Throttle::Locked {
            // A row comes back when the address had no recorded refusal in
            // this window (inserted, or updated past the window).
            let first = tx
                .query_opt(
                    "INSERT INTO login_lockouts (address, recorded_at) VALUES ($1, now())
                     ON CONFLICT (address) DO UPDATE SET recorded_at = now()
                      WHERE login_lockouts.recorded_at <= now() - make_interval(secs => $2)
                     RETURNING 1",
                    &[&address, &policy.window.as_secs_f64()],
                )
                .await?
                .is_some();
            (None, first)
        } else {
            let id: i64 = tx
                .query_one(
                    "INSERT INTO login_failures (operator, address, pending)
                     VALUES ($1, $2, true) RETURNING id",
                    &[&operator, &address],
                )
                .await?
                .get(0);
            (Some(id), false)
        };
        // Old failures count for nothing; keep the tables small.
        tx.batch_execute(
            "DELETE FROM login_failures WHERE at < now() - interval '1 day';
             DELETE FROM login_lockouts WHERE recorded_at < now() - interval '1 day'",
        )
        .await?;
        tx.commit().await?;
        Ok(Some(LoginAttempt {
            throttle,
            record_refusal,
            id,
            operator: operator.to_owned(),
            address: address.to_owned(),
        }))
    }

    /// The password was right: the attempt was no failure, and the name
    /// starts afresh from that address. (Its failures from elsewhere stay:
    /// they are someone else's guesses.)
    pub async fn login_succeeded(&self, attempt: &LoginAttempt) -> Result<(), StateError> {
        let client = self.client().await?;
        client
            .execute(
                "DELETE FROM login_failures
                  WHERE id = $1 OR (operator = $2 AND address = $3 AND NOT pending)",
                &[&attempt.id, &attempt.operator, &attempt.address],
            )
            .await?;
        Ok(())
    }

    /// Forgets the failed logins counted under `address` (a throttling key),
    /// or every address's: how many each had, by address. Attempts being
    /// checked now stay counted until they end; one left in flight longer
    /// than any check takes (its process was killed) counts as a failure,
    /// and is forgotten with them.
    pub async fn forget_login_failures(
        &self,
        address: Option<&str>,
    ) -> Result<Vec<(String, i64)>, StateError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let forgotten = tx
            .query(
                "WITH forgotten AS (
                   DELETE FROM login_failures
                    WHERE (NOT pending OR at <= now() - make_interval(secs => $2))
                      AND ($1::text IS NULL OR address = $1)
                   RETURNING address)
                 SELECT address, count(*) FROM forgotten GROUP BY address ORDER BY address",
                &[&address, &IN_FLIGHT_LIMIT.as_secs_f64()],
            )
            .await?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
        tx.execute(
            "DELETE FROM login_lockouts WHERE $1::text IS NULL OR address = $1",
            &[&address],
        )
        .await?;
        tx.commit().await?;
        Ok(forgotten)
    }

    /// The password was wrong: the attempt is a failure from now on.
    pub async fn login_failed(&self, attempt: &LoginAttempt) -> Result<(), StateError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE login_failures SET pending = false WHERE id = $1",
                &[&attempt.id],
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_addresss_failures_first_pass_then_slow_down_then_lock_out() {
        let policy = LoginPolicy::default();
        assert_eq!(policy.decide(0, 0), Throttle::Allow);
        assert_eq!(policy.decide(2, 0), Throttle::Allow);
        assert_eq!(policy.decide(3, 0), Throttle::Delay(Duration::from_secs(1)));
        assert_eq!(policy.decide(4, 0), Throttle::Delay(Duration::from_secs(2)));
        assert_eq!(policy.decide(6, 0), Throttle::Delay(Duration::from_secs(8)));
        assert_eq!(policy.decide(9, 0), Throttle::Delay(Duration::from_secs(8)));
        assert_eq!(policy.decide(10, 0), Throttle::Locked);
    }

    #[test]
    fn a_names_failures_only_ever_slow_down() {
        let policy = LoginPolicy::default();
        assert_eq!(policy.decide(0, 2), Throttle::Allow);
        assert_eq!(policy.decide(0, 3), Throttle::Delay(Duration::from_secs(1)));
        assert_eq!(
            policy.decide(0, 10),
            Throttle::Delay(Duration::from_secs(8))
        );
        assert_eq!(
            policy.decide(0, 1_000_000),
            Throttle::Delay(Duration::from_secs(8))
        );
        assert_eq!(policy.decide(1, 4), Throttle::Delay(Duration::from_secs(2)));
    }
}
