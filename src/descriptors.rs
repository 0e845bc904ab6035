//! The file descriptors serving needs, against what the process may open (`ulimit -n`).
//!
//! Every connection served takes a descriptor, and with forwarding another for the app. Many
//! systems start a process with a soft limit of 1024 (256 on macOS) under a far higher hard one:
//! `--max-connections`'s 1024 would run the process out, and then what fails is not the next
//! connection, which would wait, but whatever opens a descriptor next: a relay to the app (502),
//! a clipboard copy, the editor. So serving raises the soft limit as far as it needs and the
//! hard limit allows, and where even that is short, serves fewer connections at once, saying so.

/// Descriptors kept for everything but connections: the standard streams, the terminal, the
/// store's three connections and their journals, the runtime's own, pipes to a child process.
pub const RESERVE: u64 = 64;

/// How serving fits the descriptor limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fit {
    /// Connections to serve at once: `--max-connections`, or fewer when the limit is short.
    pub connections: usize,
    /// The soft limit to set, when it must be raised.
    pub raise_to: Option<u64>,
}

/// What serving `connections` at once needs (two descriptors each when `forwarding`), given
/// the `soft` and `hard` limits.
pub fn fit(connections: usize, forwarding: bool, soft: u64, hard: u64) -> Fit {
    let per = if forwarding { 2 } else { 1 };
    let need = (connections as u64)
        .saturating_mul(per)
        .saturating_add(RESERVE);
    let limit = need.min(hard.max(soft));
    let connections = if limit >= need {
        connections
    } else {
        (limit.saturating_sub(RESERVE) / per).max(1) as usize
    };
    Fit {
        connections,
        raise_to: (limit > soft).then_some(limit),
    }
}

/// Fits `connections` at once to this process's limit, raising the soft limit where it must:
/// the connections to keep to, and the limit when that is fewer than asked.
#[cfg(unix)]
// rlim_t is u64 here, but 32 bits on some targets.
#[allow(clippy::unnecessary_cast)]
pub fn apply(connections: usize, forwarding: bool) -> (usize, Option<u64>) {
    let mut limits = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct it is given, which lives for the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limits) } != 0 {
        return (connections, None);
    }
    let (soft, hard) = (limits.rlim_cur as u64, limits.rlim_max as u64);
    let mut now = soft;
    if let Some(to) = fit(connections, forwarding, soft, hard).raise_to {
        // Linux refuses past its nr_open (2^20 by default) and macOS past its per-process
        // maximum (10,240 by default) whatever the hard limit says: each is tried in turn.
        let set = [to, to.min(1 << 20), to.min(10_240)]
            .into_iter()
            .filter(|&limit| limit > soft)
            .find(|&limit| {
                let raised = libc::rlimit {
                    rlim_cur: limit as libc::rlim_t,
                    rlim_max: limits.rlim_max,
                };
                // SAFETY: setrlimit reads the struct it is given, which lives for the call.
                unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 }
            });
        now = set.unwrap_or(soft);
    }
    let fitted = fit(connections, forwarding, now, now);
    (
        fitted.connections,
        (fitted.connections < connections).then_some(now),
    )
}

/// Elsewhere the limit is the system's own business.
#[cfg(not(unix))]
pub fn apply(connections: usize, _forwarding: bool) -> (usize, Option<u64>) {
    (connections, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_low_soft_limit_is_raised_as_far_as_serving_needs() {
        // Linux's usual 1024 under 524288: raised to what 1024 connections need, no further.
        assert_eq!(
            fit(1024, false, 1024, 524_288),
            Fit {
                connections: 1024,
                raise_to: Some(1024 + RESERVE),
            }
        );
        // Forwarding doubles the need.
        assert_eq!(
            fit(1024, true, 256, u64::MAX),
            Fit {
                connections: 1024,
                raise_to: Some(2048 + RESERVE),
            }
        );
        // A limit already high enough is left alone, and so is one higher still.
        assert_eq!(
            fit(1024, false, 20_000, 20_000),
            Fit {
                connections: 1024,
                raise_to: None,
            }
        );
    }

    #[test]
    fn a_hard_limit_too_low_serves_fewer_connections() {
        assert_eq!(
            fit(1024, false, 256, 512),
            Fit {
                connections: 512 - RESERVE as usize,
                raise_to: Some(512),
            }
        );
        assert_eq!(
            fit(1024, true, 512, 512),
            Fit {
                connections: (512 - RESERVE as usize) / 2,
                raise_to: None,
            }
        );
        // However low, one connection is still served.
        assert_eq!(fit(1024, false, 10, 10).connections, 1);
        // An absurd --max-connections does not overflow.
        assert_eq!(
            fit(usize::MAX, true, 1024, u64::MAX).raise_to,
            Some(u64::MAX)
        );
    }
}
