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

impl StateStore {
    /// Recent failures for this operator name and this address, the worse of the two.
    pub async fn recent_login_failures(
        &self,
        operator: &str,
        address: &str,
        window: Duration,
    ) -> Result<i64, StateError> {
        let client = self.client().await?;
        let seconds = window.as_secs_f64();
        let row = client
            .query_one(
                "SELECT greatest(count(*) FILTER (WHERE operator = $1), count(*) FILTER (WHERE address = $2))
                   FROM login_failures WHERE at > now() - make_interval(secs => $3)",
                &[&operator, &address, &seconds],
            )
            .await?;
        Ok(row.get(0))
    }

    pub async fn add_login_failure(&self, operator: &str, address: &str) -> Result<(), StateError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO login_failures (operator, address) VALUES ($1, $2)",
                &[&operator, &address],
            )
            .await?;
        // Old failures count for nothing; keep the table small.
        client
            .execute(
                "DELETE FROM login_failures WHERE at < now() - interval '1 day'",
                &[],
            )
            .await?;
        Ok(())
    }

    /// After a successful login, that operator name starts afresh (the
    /// address keeps its count: one valid account must not reset it).
    pub async fn clear_login_failures(&self, operator: &str) -> Result<(), StateError> {
        let client = self.client().await?;
        client
            .execute(
                "DELETE FROM login_failures WHERE operator = $1",
                &[&operator],
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
