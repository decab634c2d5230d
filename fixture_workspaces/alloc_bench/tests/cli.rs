//! Runs the built binary the way the benchmark runner does and checks its one JSON line.

use std::process::Command;

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_alloc_bench")).args(args).output().expect("alloc_bench runs")
}

fn field<'a>(line: &'a str, key: &str) -> &'a str {
    let start = line.find(&format!("\"{key}\":")).unwrap_or_else(|| panic!("no {} in {}", key, line));
    let rest = &line[start + key.len() + 3..];
    let end = rest.find([',', '}']).expect("value ends");
    rest[..end].trim_matches('"')
}

#[test]
fn one_json_line_per_run_for_every_workload() {
    let listed = run(&["--list-workloads"]);
    assert!(listed.status.success());
    let names: Vec<String> = String::from_utf8(listed.stdout).unwrap().lines().map(String::from).collect();
    assert_eq!(names, ["larson", "xmalloc", "baseline"]);
    for name in &names {
        let out = run(&["--workload", name, "--threads", "2", "--ops", "3000"]);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 1, "{stdout}");
        let line = lines[0];
        assert!(line.starts_with('{') && line.ends_with('}'));
        assert_eq!(field(line, "workload"), name);
        assert_eq!(field(line, "threads"), "2");
        assert_eq!(field(line, "ops"), "6000");
        assert!(field(line, "ops_per_s").parse::<f64>().unwrap() > 0.0);
        assert!(field(line, "max_rss_kib").parse::<u64>().unwrap() > 0);
        let target = field(line, "target");
        assert!(target.starts_with(std::env::consts::ARCH), "{}", target);
        let allocator = field(line, "allocator");
        let expected = if cfg!(feature = "jemalloc") {
            "jemalloc"
        } else if cfg!(feature = "mimalloc") {
            "mimalloc"
        } else {
            "system"
        };
        assert_eq!(allocator, expected);
    }
}

#[test]
fn bad_arguments_exit_2_with_a_message() {
    let out = run(&["--workload", "nosuch"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("larson, xmalloc, baseline"));
}
