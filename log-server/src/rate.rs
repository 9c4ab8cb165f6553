//! Per-agency rate limits: one governor token bucket per agency, with the
//! quota the configuration gives it. Only agencies whose signature verified
//! take from a bucket, so nobody can spend another agency's quota, and the
//! buckets are as many as the registered agencies.
//!
//! The buckets run on a [`RateClock`]: the machine's clock in a server, a
//! [`ManualClock`] in tests, so that what a test sees depends on counts and
//! on how far it moved the clock, never on how busy the machine is.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock, QuantaClock, QuantaInstant, Reference};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota as Bucket, RateLimiter};

use crate::config::{Quota, RateLimits};

/// Why records were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{agency} is over its rate limit of {records_per_second} records/s (burst {burst}); retry after {retry_after:?}"
)]
pub struct RateLimited {
    /// The agency.
    pub agency: String,
    /// Its sustained rate.
    pub records_per_second: u32,
    /// Its burst.
    pub burst: u32,
    /// When the records would fit.
    pub retry_after: Duration,
}

/// A clock that stands still until the test calls `advance`.
pub type ManualClock = governor::clock::FakeRelativeClock;

/// The time the buckets run on. One type for both kinds, so that a log's
/// limits can be swapped for manual ones without the log being generic.
#[derive(Debug, Clone)]
pub enum RateClock {
    /// The machine's monotonic clock (governor's default, quanta), read as
    /// the time since the limits were made.
    Real {
        /// The clock.
        clock: QuantaClock,
        /// When the limits were made.
        start: QuantaInstant,
    },
    /// Time that passes only when the holder of the clock advances it.
    Manual(ManualClock),
}

impl RateClock {
    /// The machine's clock, from now.
    pub fn real() -> RateClock {
        let clock = QuantaClock::default();
        let start = clock.now();
        RateClock::Real { clock, start }
    }
}

impl Clock for RateClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        match self {
            RateClock::Real { clock, start } => clock.now().duration_since(*start),
            RateClock::Manual(clock) => clock.now(),
        }
    }
}

type AgencyBucket = RateLimiter<NotKeyed, InMemoryState, RateClock, NoOpMiddleware<Nanos>>;

/// The buckets of every agency that has submitted since the start.
pub struct AgencyLimits {
    config: RateLimits,
    buckets: Mutex<HashMap<String, Arc<AgencyBucket>>>,
    clock: RateClock,
}

impl AgencyLimits {
    /// Limits with the configured quotas, on the machine's clock.
    pub fn new(config: RateLimits) -> AgencyLimits {
        AgencyLimits::with_clock(config, RateClock::real())
    }

    /// Limits with the configured quotas, on `clock`.
    pub fn with_clock(config: RateLimits, clock: RateClock) -> AgencyLimits {
        AgencyLimits {
            config,
            buckets: Mutex::new(HashMap::new()),
            clock,
        }
    }

    fn bucket(&self, agency: &str) -> (Quota, Arc<AgencyBucket>) {
        let quota = self.config.quota(agency);
        let mut buckets = self.buckets.lock().expect("lock");
        let bucket = buckets.entry(agency.to_owned()).or_insert_with(|| {
            let rate = NonZeroU32::new(quota.records_per_second).unwrap_or(NonZeroU32::MIN);
            let burst = NonZeroU32::new(quota.burst).unwrap_or(NonZeroU32::MIN);
            Arc::new(RateLimiter::direct_with_clock(
                Bucket::per_second(rate).allow_burst(burst),
                self.clock.clone(),
            ))
        });
        (quota, bucket.clone())
    }

    /// Takes `records` from `agency`'s bucket, all or none.
    pub fn take(&self, agency: &str, records: usize) -> Result<(), RateLimited> {
        let Some(n) = u32::try_from(records).ok().and_then(NonZeroU32::new) else {
            return Ok(());
        };
        let (quota, bucket) = self.bucket(agency);
        let limited = |retry_after| RateLimited {
            agency: agency.to_owned(),
            records_per_second: quota.records_per_second,
            burst: quota.burst,
            retry_after,
        };
        match bucket.check_n(n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(limited(not_until.wait_time_from(self.clock.now()))),
            // More than the burst at once never fits: say when a full bucket
            // would be there, and the message names the burst.
            Err(_) => Err(limited(Duration::from_secs_f64(
                f64::from(quota.burst) / f64::from(quota.records_per_second),
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(clock: &ManualClock) -> AgencyLimits {
        let mut config = RateLimits::default();
        config.agency.insert(
            "a".into(),
            Quota {
                records_per_second: 10,
                burst: 50,
            },
        );
        AgencyLimits::with_clock(config, RateClock::Manual(clock.clone()))
    }

    #[test]
    fn the_burst_is_spent_then_each_second_refills_exactly_the_rate() {
        let clock = ManualClock::default();
        let limits = limits(&clock);
        assert_eq!(limits.take("a", 50), Ok(()));
        let refused = limits.take("a", 1).unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_millis(100));
        clock.advance(Duration::from_secs(1));
        assert_eq!(limits.take("a", 10), Ok(()));
        assert!(limits.take("a", 1).is_err());
        // Another agency has a bucket of its own (the default quota).
        assert_eq!(limits.take("b", 1000), Ok(()));
    }

    #[test]
    fn more_than_the_burst_never_fits_and_says_when_a_full_bucket_would_be_there() {
        let clock = ManualClock::default();
        let refused = limits(&clock).take("a", 51).unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_secs(5));
        assert_eq!(refused.burst, 50);
    }

    #[test]
    fn all_or_none_per_request() {
        let clock = ManualClock::default();
        let limits = limits(&clock);
        assert_eq!(limits.take("a", 40), Ok(()));
        let refused = limits.take("a", 20).unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_secs(1));
        assert_eq!(limits.take("a", 10), Ok(()), "the refused 20 took nothing");
    }
}
