//! Login throttling, kept in the state database so it holds across
//! restarts and replicas.
//!
//! Failed logins are counted per operator name and per client address over
//! [`LoginPolicy::window`]. From [`LoginPolicy::slow_after`] failures on,
//! each attempt waits longer (doubling, up to [`LoginPolicy::max_delay`]);
//! from [`LoginPolicy::lock_after`] on, attempts are refused until the
//! window has passed. What is said never tells which part was wrong.

use std::time::Duration;

use super::{StateError, StateStore};

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
    /// The decision for the worse of the two counts.
    pub fn decide(&self, failures: i64) -> Throttle {
        if failures >= self.lock_after {
            return Throttle::Locked;
        }
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

/// A login attempt that has been counted: until it succeeds, it stands as
/// a failure, so attempts sent in parallel count each other.
#[derive(Debug)]
pub struct LoginAttempt {
    pub throttle: Throttle,
    /// The counted row, when the attempt may go on.
    id: Option<i64>,
}

impl StateStore {
    /// Counts an attempt against the name and the address, atomically:
    /// decides from the failures before it, then records it as a failure
    /// unless it is refused outright.
    pub async fn begin_login_attempt(
        &self,
        operator: &str,
        address: &str,
        policy: &LoginPolicy,
    ) -> Result<LoginAttempt, StateError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // One attempt at a time per name and per address (namespaced keys).
        tx.execute(
            "SELECT pg_advisory_xact_lock(1886741362, hashtext('name:' || $1)),
                    pg_advisory_xact_lock(1886741362, hashtext('address:' || $2))",
            &[&operator, &address],
        )
        .await?;
        let failures: i64 = tx
            .query_one(
                "SELECT greatest(count(*) FILTER (WHERE operator = $1), count(*) FILTER (WHERE address = $2))
                   FROM login_failures WHERE at > now() - make_interval(secs => $3)",
                &[&operator, &address, &policy.window.as_secs_f64()],
            )
            .await?
            .get(0);
        let throttle = policy.decide(failures);
        let id = match throttle {
            Throttle::Locked => None,
            _ => Some(
                tx.query_one(
                    "INSERT INTO login_failures (operator, address) VALUES ($1, $2) RETURNING id",
                    &[&operator, &address],
                )
                .await?
                .get(0),
            ),
        };
        // Old failures count for nothing; keep the table small.
        tx.execute(
            "DELETE FROM login_failures WHERE at < now() - interval '1 day'",
            &[],
        )
        .await?;
        tx.commit().await?;
        Ok(LoginAttempt { throttle, id })
    }

    /// The attempt succeeded: it was no failure, and that operator name
    /// starts afresh (the address keeps its count: one valid account must
    /// not reset it).
    pub async fn login_succeeded(
        &self,
        attempt: &LoginAttempt,
        operator: &str,
    ) -> Result<(), StateError> {
        let client = self.client().await?;
        client
            .execute(
                "DELETE FROM login_failures WHERE id = $1 OR operator = $2",
                &[&attempt.id, &operator],
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_first_pass_then_slow_down_then_lock_out() {
        let policy = LoginPolicy::default();
        assert_eq!(policy.decide(0), Throttle::Allow);
        assert_eq!(policy.decide(2), Throttle::Allow);
        assert_eq!(policy.decide(3), Throttle::Delay(Duration::from_secs(1)));
        assert_eq!(policy.decide(4), Throttle::Delay(Duration::from_secs(2)));
        assert_eq!(policy.decide(6), Throttle::Delay(Duration::from_secs(8)));
        assert_eq!(policy.decide(9), Throttle::Delay(Duration::from_secs(8)));
        assert_eq!(policy.decide(10), Throttle::Locked);
    }
}
