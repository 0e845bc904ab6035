//! The memory that request bodies may hold at once, across every connection and HTTP/2 stream.
//!
//! `--max-body` bounds one body and `--max-connections` the connections, but their product is
//! no bound a laptop survives (1024 × 16 MiB), and one HTTP/2 connection carries up to 200
//! bodies at once. Each request takes a share of one budget as its body arrives and gives it
//! back when its handler ends (answered, or dropped because the sender hung up); a body that
//! would go past the budget is refused with 503, so the provider retries it later instead of
//! the machine running out of memory.
//!
//! A consumer that keeps bodies (the inspector) can have its queue counted too: a body handed to
//! it is added when published ([`Budget::queued`]) and given back once taken
//! ([`Budget::give_back`]), so a consumer that stalls holds at most the budget's worth.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Default `--max-body-memory`: 256 MiB, sixteen bodies at the default `--max-body`.
pub const DEFAULT_BODY_MEMORY: u64 = 256 * 1024 * 1024;

/// Bytes of request bodies held now, and the most that may be.
#[derive(Debug)]
pub struct Budget {
    held: AtomicU64,
    limit: u64,
}

impl Budget {
    /// A budget of `limit` bytes.
    pub fn new(limit: u64) -> Arc<Budget> {
        Arc::new(Budget {
            held: AtomicU64::new(0),
            limit,
        })
    }

    /// The most that may be held at once.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Bytes held now.
    pub fn held(&self) -> u64 {
        self.held.load(Ordering::Relaxed)
    }

    /// Counts `bytes` of a body handed to the consumer, whatever the limit (they are held
    /// already), until it gives them back.
    pub fn queued(&self, bytes: u64) {
        self.held.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Gives back `bytes` of a body [`Budget::queued`] counted, once the consumer has taken it.
    pub fn give_back(&self, bytes: u64) {
        let _ = self
            .held
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
                Some(held.saturating_sub(bytes))
            });
    }

    /// An empty share, to grow as a body arrives.
    pub fn share(&self) -> Share<'_> {
        Share {
            budget: self,
            bytes: 0,
        }
    }
}

/// One request's part of a [`Budget`], given back when dropped.
#[derive(Debug)]
pub struct Share<'a> {
    budget: &'a Budget,
    bytes: u64,
}

impl Share<'_> {
    /// Grows the share to cover `total` bytes; false, and unchanged, when the budget has no
    /// room for that.
    pub fn cover(&mut self, total: u64) -> bool {
        let Some(more) = total.checked_sub(self.bytes).filter(|more| *more > 0) else {
            return true;
        };
        let limit = self.budget.limit;
        let taken = self
            .budget
            .held
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
                held.checked_add(more).filter(|after| *after <= limit)
            });
        if taken.is_ok() {
            self.bytes = total;
        }
        taken.is_ok()
    }
}

impl Drop for Share<'_> {
    fn drop(&mut self) {
        self.budget.held.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_fit_within_the_limit_and_are_given_back_when_dropped() {
        let budget = Budget::new(100);
        let mut a = budget.share();
        assert!(a.cover(60));
        assert!(a.cover(60), "covering what is covered takes nothing more");
        assert!(a.cover(30), "a smaller total keeps the share as it is");
        assert_eq!(budget.held(), 60);
        let mut b = budget.share();
        assert!(!b.cover(41), "60 + 41 is over 100");
        assert_eq!(budget.held(), 60, "a refusal takes nothing");
        assert!(b.cover(40));
        assert_eq!(budget.held(), 100);
        assert!(!a.cover(61));
        drop(a);
        assert_eq!(budget.held(), 40);
        assert!(b.cover(100));
        drop(b);
        assert_eq!(budget.held(), 0);
    }

    #[test]
    fn queued_bodies_count_until_given_back() {
        let budget = Budget::new(100);
        budget.queued(90);
        let mut a = budget.share();
        assert!(!a.cover(20), "the queue holds 90 of 100");
        budget.queued(30);
        assert_eq!(
            budget.held(),
            120,
            "queued past the limit: they are held already"
        );
        budget.give_back(120);
        assert!(a.cover(20));
        budget.give_back(1_000);
        assert_eq!(budget.held(), 0, "never below nothing");
    }

    #[test]
    fn a_total_past_u64_is_refused_rather_than_wrapping() {
        let budget = Budget::new(u64::MAX);
        let mut a = budget.share();
        assert!(a.cover(u64::MAX - 1));
        let mut b = budget.share();
        assert!(!b.cover(2));
        assert!(b.cover(1));
    }
}
