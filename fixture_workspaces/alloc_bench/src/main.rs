//! alloc_bench: allocator throughput under larson-, xmalloc- and single-thread workloads.
//!
//! The global allocator is chosen at build time: cargo feature `jemalloc`, `mimalloc`, or neither
//! (`system`: the target libc's malloc, i.e. musl's mallocng on musl targets). One JSON line per run.

mod cli;
mod report;
mod rng;
mod usage;
mod workloads;

#[cfg(all(feature = "jemalloc", feature = "mimalloc"))]
compile_error!("features `jemalloc` and `mimalloc` are mutually exclusive: pick one global allocator");

#[cfg(feature = "jemalloc")]
#[global_allocator]
static GLOBAL: jemallocator::Jemalloc = jemallocator::Jemalloc;

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Name of the allocator compiled into this binary.
pub const ALLOCATOR: &str = if cfg!(feature = "jemalloc") {
    "jemalloc"
} else if cfg!(feature = "mimalloc") {
    "mimalloc"
} else {
    "system"
};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match cli::parse(&args) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("alloc_bench: {message}\n{}", cli::USAGE);
            std::process::exit(2);
        }
    };
    match command {
        cli::Command::Help => println!("{}", cli::USAGE),
        cli::Command::ListWorkloads => {
            for workload in workloads::Workload::ALL {
                println!("{}", workload.name());
            }
        }
        cli::Command::Run(config) => {
            let before = usage::Usage::now();
            let outcome = workloads::run(&config);
            let after = usage::Usage::now();
            println!("{}", report::json_line(&config, &outcome, &before, &after));
        }
    }
}
