//! Process resource usage from getrusage(2): CPU times and peak resident set size.

#[derive(Debug, Clone, Copy)]
pub struct Usage {
    pub user_s: f64,
    pub sys_s: f64,
    /// Peak RSS of the process so far, in KiB (Linux reports ru_maxrss in KiB).
    pub max_rss_kib: u64,
}

fn seconds(tv: libc::timeval) -> f64 {
    tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6
}

impl Usage {
    pub fn now() -> Self {
        let mut raw: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `raw` is a valid, writable rusage; RUSAGE_SELF is always accepted.
        let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut raw) };
        assert_eq!(rc, 0, "getrusage(RUSAGE_SELF) failed");
        Usage {
            user_s: seconds(raw.ru_utime),
            sys_s: seconds(raw.ru_stime),
            max_rss_kib: raw.ru_maxrss.max(0) as u64,
        }
    }
}
