//! Per-agency rate limits: one governor token bucket per agency, with the
//! quota the configuration gives it. Only agencies whose signature verified
//! take from a bucket, so nobody can spend another agency's quota, and the
//! buckets are as many as the registered agencies.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota as Bucket, RateLimiter};

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

/// The buckets of every agency that has submitted since the start.
pub struct AgencyLimits {
    config: RateLimits,
    buckets: Mutex<HashMap<String, Arc<DefaultDirectRateLimiter>>>,
    clock: DefaultClock,
}

impl AgencyLimits {
    /// Limits with the configured quotas.
    pub fn new(config: RateLimits) -> AgencyLimits {
        AgencyLimits {
            config,
            buckets: Mutex::new(HashMap::new()),
            clock: DefaultClock::default(),
        }
    }

    fn bucket(&self, agency: &str) -> (Quota, Arc<DefaultDirectRateLimiter>) {
        let quota = self.config.quota(agency);
        let mut buckets = self.buckets.lock().expect("lock");
        let bucket = buckets.entry(agency.to_owned()).or_insert_with(|| {
            let rate = NonZeroU32::new(quota.records_per_second).unwrap_or(NonZeroU32::MIN);
            let burst = NonZeroU32::new(quota.burst).unwrap_or(NonZeroU32::MIN);
            Arc::new(RateLimiter::direct(
                Bucket::per_second(rate).allow_burst(burst),
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
