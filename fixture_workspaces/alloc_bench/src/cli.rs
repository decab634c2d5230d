//! Command-line parsing (no dependencies: the benchmark should link nothing it does not measure).

use crate::workloads::Workload;

pub const USAGE: &str = "usage: alloc_bench [--workload NAME] [--threads N] [--ops N] [--seed N]
       alloc_bench --list-workloads

  --workload NAME   larson | xmalloc | baseline (default: larson)
                      larson    server-like: random sizes, each thread's live objects are handed to
                                the next thread every epoch and freed there
                      xmalloc   producer/consumer: every thread allocates batches that the next
                                thread in a ring frees
                      baseline  no sharing: each thread churns its own window (with --threads 1:
                                the single-thread baseline)
  --threads N       worker threads (default: 1)
  --ops N           allocations per thread, a fixed amount of work (default: 1000000)
  --seed N          PRNG seed; equal seeds give identical allocation sequences (default: 42)
  --list-workloads  print the workload names, one per line

Prints one JSON line: workload, allocator, threads, ops, ops_per_thread, seed, elapsed_s,
ops_per_s, user_s, sys_s, max_rss_kib, target.";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub workload: Workload,
    pub threads: usize,
    pub ops_per_thread: u64,
    pub seed: u64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Help,
    ListWorkloads,
    Run(Config),
}

fn number(flag: &str, value: Option<&String>) -> Result<u64, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value"))?;
    value
        .replace('_', "")
        .parse::<u64>()
        .map_err(|_| format!("{flag} expects a non-negative integer, got {value:?}"))
}

/// Parse the arguments (without the program name).
pub fn parse(args: &[String]) -> Result<Command, String> {
    let mut config = Config { workload: Workload::Larson, threads: 1, ops_per_thread: 1_000_000, seed: 42 };
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = || inline.clone().or_else(|| iter.next().cloned());
        match flag {
            "-h" | "--help" => return Ok(Command::Help),
            "--list-workloads" => return Ok(Command::ListWorkloads),
            "--workload" => {
                let name = value().ok_or("--workload needs a value")?;
                config.workload = Workload::parse(&name).ok_or_else(|| {
                    let names: Vec<&str> = Workload::ALL.iter().map(|w| w.name()).collect();
                    format!("unknown workload {name:?}; choose one of {}", names.join(", "))
                })?;
            }
            "--threads" => {
                let n = number(flag, value().as_ref())?;
                if n == 0 || n > 1024 {
                    return Err(format!("--threads must be between 1 and 1024, got {n}"));
                }
                config.threads = n as usize;
            }
            "--ops" => {
                config.ops_per_thread = number(flag, value().as_ref())?;
                if config.ops_per_thread == 0 {
                    return Err("--ops must be at least 1".into());
                }
            }
            "--seed" => config.seed = number(flag, value().as_ref())?,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Command::Run(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_and_flags() {
        let Command::Run(config) = parse(&args(&[])).unwrap() else { panic!("expected a run") };
        assert_eq!(config.workload, Workload::Larson);
        assert_eq!(config.threads, 1);
        let parsed = parse(&args(&["--workload", "xmalloc", "--threads=4", "--ops", "1_000"])).unwrap();
        let Command::Run(config) = parsed else { panic!("expected a run") };
        assert_eq!((config.workload, config.threads, config.ops_per_thread), (Workload::Xmalloc, 4, 1000));
    }

    #[test]
    fn bad_input_is_rejected() {
        assert!(parse(&args(&["--workload", "nope"])).unwrap_err().contains("larson"));
        assert!(parse(&args(&["--threads", "0"])).is_err());
        assert!(parse(&args(&["--ops", "x"])).is_err());
        assert!(parse(&args(&["--bogus"])).is_err());
        assert_eq!(parse(&args(&["--list-workloads"])).unwrap(), Command::ListWorkloads);
    }
}
