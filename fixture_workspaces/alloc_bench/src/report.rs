//! The one JSON line per run (hand-written: no serde in a binary that measures allocation).

use crate::cli::Config;
use crate::usage::Usage;
use crate::workloads::Outcome;

/// The Rust target triple this binary was compiled for, from cfg (the same under cargo and Bazel).
pub fn target() -> String {
    let env = if cfg!(target_env = "musl") {
        "musl"
    } else if cfg!(target_env = "gnu") {
        "gnu"
    } else {
        "unknown"
    };
    format!("{}-unknown-{}-{}", std::env::consts::ARCH, std::env::consts::OS, env)
}

pub fn json_line(config: &Config, outcome: &Outcome, before: &Usage, after: &Usage) -> String {
    let elapsed = outcome.elapsed.as_secs_f64();
    let ops = outcome.ops;
    let ops_per_s = if elapsed > 0.0 { ops as f64 / elapsed } else { 0.0 };
    format!(
        concat!(
            "{{\"workload\":\"{}\",\"allocator\":\"{}\",\"threads\":{},\"ops\":{},\"ops_per_thread\":{},",
            "\"seed\":{},\"elapsed_s\":{:.9},\"ops_per_s\":{:.1},\"user_s\":{:.6},\"sys_s\":{:.6},",
            "\"max_rss_kib\":{},\"target\":\"{}\",\"checksum\":{}}}"
        ),
        config.workload.name(),
        crate::ALLOCATOR,
        config.threads,
        ops,
        config.ops_per_thread,
        config.seed,
        elapsed,
        ops_per_s,
        (after.user_s - before.user_s).max(0.0),
        (after.sys_s - before.sys_s).max(0.0),
        after.max_rss_kib,
        target(),
        outcome.checksum,
    )
}
