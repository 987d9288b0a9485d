//! Measures nauditd against Argus 3.0.8 and the floor programs on the
//! standard captures and writes the performance table.
//!
//! ```sh
//! cargo run --release -p naudit-perf --bin naudit-bench -- --scale 0.2 --out perf/RESULTS.md
//! ```
//!
//! `naudit-bench floor walk|table FILE` runs one floor program by hand.
//! `naudit-bench dpdk` measures the DPDK driver against the file driver.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use clap::{Args, Parser, Subcommand};
use naudit_perf::floor;
use naudit_perf::mixes::{StandardMix, STANDARD_MIXES};
use naudit_perf::pcap::Records;
use naudit_perf::runner::{self, RunnerOptions};
use naudit_perf::split;

/// Measure nauditd, Argus and the floor programs on generated captures and
/// write the performance table as Markdown.
#[derive(Parser, Debug)]
#[command(name = "naudit-bench", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Commands>,

    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand, Debug)]
enum Commands {
    /// Run one floor program on a capture and print what it counted.
    Floor(FloorArgs),
    /// Write the packets each of N workers keeps to a file per worker, and
    /// print each file's packet count and path.
    Split(SplitArgs),
    /// Measure the DPDK driver on DPDK's net_pcap device against the file
    /// driver on the same capture (needs libdpdk-dev and root).
    Dpdk(DpdkArgs),
}

#[derive(Args, Debug)]
struct DpdkArgs {
    /// Standard mix whose capture is replayed.
    #[arg(long, default_value = "imix")]
    mix: String,

    /// Factor applied to the mix's packet and flow counts.
    #[arg(long, default_value_t = 0.2)]
    scale: f64,

    /// Measured rounds.
    #[arg(long, default_value_t = 5)]
    reps: usize,

    /// Folder of the generated captures.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// nauditd built with `--features dpdk`. Default: the release build in
    /// this program's target folder, built with that feature first when run
    /// through `cargo run`.
    #[arg(long, value_name = "FILE")]
    nauditd: Option<PathBuf>,

    /// Write the Markdown page here instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Factor applied to the packet and flow counts of the standard mixes
    /// (small64 10M packets over 1M flows, imix 5M over 100k, sessions 5M
    /// over 500k sessions, elephant 5M over 16 flows).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,

    /// Measured runs of every program on every capture.
    #[arg(long, default_value_t = 5)]
    reps: usize,

    /// Mixes to measure, comma-separated. The 16-flow elephant mix is
    /// always measured, because it is the memory baseline.
    #[arg(long, value_delimiter = ',', default_value = "small64,imix,sessions,elephant")]
    mixes: Vec<String>,

    /// Folder of the generated captures; existing ones with the same
    /// settings are reused.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// Write the Markdown page here instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,

    /// nauditd binary to measure. Default: the release build in this
    /// program's target folder, built first when run through `cargo run`.
    #[arg(long, value_name = "FILE")]
    nauditd: Option<PathBuf>,

    /// Do not build nauditd before measuring.
    #[arg(long)]
    no_build: bool,

    /// Measure nauditd as committed at this git revision instead of the
    /// work tree: the runner exports it with `git archive` into the data
    /// folder and builds it there with its own target folder.
    #[arg(long, value_name = "REV", conflicts_with = "nauditd")]
    nauditd_commit: Option<String>,

    /// Argus binary (Debian package argus-server).
    #[arg(long, value_name = "FILE", default_value = "argus")]
    argus: PathBuf,

    /// Leave Argus out.
    #[arg(long)]
    no_argus: bool,

    /// nauditd `--workers` values to measure when nauditd has that option.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    workers: Vec<u32>,

    /// Rewrite the captures even when they exist.
    #[arg(long)]
    regenerate: bool,
}

#[derive(Args, Debug)]
struct FloorArgs {
    /// `walk` (sum the record lengths) or `table` (5-tuple hash table).
    #[arg(value_parser = ["walk", "table"])]
    mode: String,

    /// Classic pcap capture to read.
    capture: PathBuf,

    /// Flows the table floor has room for.
    #[arg(long, default_value_t = 1 << 20)]
    max_flows: usize,

    /// Time every batch of 64 packets and print latency percentiles.
    #[arg(long)]
    latency: bool,
}

#[derive(Args, Debug)]
struct SplitArgs {
    /// Classic pcap capture of Ethernet frames to split.
    capture: PathBuf,

    /// Number of workers, and of files written next to the capture.
    #[arg(long, default_value_t = 2)]
    workers: usize,
}

/// Returns the workspace root: this package's parent folder.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("perf/ sits in the workspace").to_path_buf()
}

fn run_floor(args: &FloorArgs) -> Result<(), String> {
    let map = floor::map_capture(&args.capture).map_err(|error| format!("cannot map {}: {error}", args.capture.display()))?;
    let records = Records::new(&map).map_err(|error| format!("cannot read {}: {error}", args.capture.display()))?;
    let report = match args.mode.as_str() {
        "walk" => floor::walk(records, args.latency),
        _ => floor::count_flows(records, args.max_flows, args.latency),
    };
    println!("{}", report.to_line());
    Ok(())
}

fn run_split(args: &SplitArgs) -> Result<(), String> {
    for (path, packets) in split::split_by_worker(&args.capture, args.workers.max(1))? {
        println!("{packets}\t{}", path.display());
    }
    Ok(())
}

/// Finds nauditd and describes its origin. It is the given path, or the
/// given commit exported and built, or else the release build next to this
/// program. That build is refreshed from the work tree first when `cargo
/// run` started this program (cargo then sets `CARGO`).
fn locate_nauditd(args: &RunArgs, data_dir: &Path) -> Result<(PathBuf, String), String> {
    if let Some(path) = &args.nauditd {
        return Ok((path.clone(), format!("binary {} given with --nauditd", path.display())));
    }
    if let Some(revision) = &args.nauditd_commit {
        return build_commit(revision, data_dir);
    }
    let exe = std::env::current_exe().map_err(|error| format!("cannot locate this program: {error}"))?;
    let target = exe.parent().and_then(Path::parent).ok_or("cannot locate the target folder")?;
    let nauditd = target.join("release").join("nauditd");
    if let (false, Some(cargo)) = (args.no_build, std::env::var_os("CARGO")) {
        eprintln!("naudit-bench: building nauditd (cargo build --release -p nauditd)");
        cargo_build(Path::new(&cargo), &workspace_root(), target)?;
    }
    if !nauditd.exists() {
        return Err(format!("nauditd not found at {}: build it with `cargo build --release -p nauditd` or pass --nauditd", nauditd.display()));
    }
    let root = workspace_root();
    let commit = git_output(&root, &["rev-parse", "--short", "HEAD"]).unwrap_or_else(|_| "unknown".to_string());
    let changed = git_output(&root, &["status", "--porcelain", "--untracked-files=no"]).map(|text| !text.is_empty()).unwrap_or(false);
    let changes = if changed { ", with uncommitted changes" } else { "" };
    Ok((nauditd, format!("built from the work tree at commit {commit}{changes}")))
}

/// Exports `revision` of the workspace into the data folder and builds
/// nauditd there; returns the binary and its description.
fn build_commit(revision: &str, data_dir: &Path) -> Result<(PathBuf, String), String> {
    let root = workspace_root();
    let commit = git_output(&root, &["rev-parse", "--short", &format!("{revision}^{{commit}}")])?;
    let source = data_dir.join(format!("nauditd-{commit}"));
    if !source.join("Cargo.toml").exists() {
        fs::create_dir_all(&source).map_err(|error| format!("cannot create {}: {error}", source.display()))?;
        let archive = source.join("source.tar");
        git_output(&root, &["archive", "--format=tar", "-o", &archive.to_string_lossy(), &commit])?;
        let status = Command::new("tar")
            .arg("-xf")
            .arg(&archive)
            .arg("-C")
            .arg(&source)
            .status()
            .map_err(|error| format!("cannot run tar: {error}"))?;
        if !status.success() {
            return Err(format!("unpacking {} failed ({status})", archive.display()));
        }
    }
    eprintln!("naudit-bench: building nauditd at commit {commit} in {}", source.display());
    let cargo = std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from);
    let target = source.join("target");
    cargo_build(&cargo, &source, &target)?;
    Ok((target.join("release").join("nauditd"), format!("built from commit {commit} (exported with git archive)")))
}

fn cargo_build(cargo: &Path, workspace: &Path, target: &Path) -> Result<(), String> {
    cargo_build_with(cargo, workspace, target, &[])
}

/// Builds nauditd in release mode with extra cargo arguments.
fn cargo_build_with(cargo: &Path, workspace: &Path, target: &Path, extra_args: &[&str]) -> Result<(), String> {
    let status = Command::new(cargo)
        .args(["build", "--release", "-p", "nauditd"])
        .args(extra_args)
        .current_dir(workspace)
        .env("CARGO_TARGET_DIR", target)
        .status()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if !status.success() {
        return Err(format!("building nauditd in {} failed ({status})", workspace.display()));
    }
    Ok(())
}

/// Runs git in `folder` and returns its trimmed standard output.
fn git_output(folder: &Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new("git").arg("-C").arg(folder).args(args).output().map_err(|error| format!("cannot run git: {error}"))?;
    if !output.status.success() {
        return Err(format!("git {} failed: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim()));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// Checks that argus runs at all, so a missing package is reported before
/// the first capture is generated.
fn check_argus(argus: &Path) -> Result<(), String> {
    match Command::new(argus).arg("-h").output() {
        Ok(_) => Ok(()),
        Err(error) => Err(format!(
            "cannot run {} ({error}): install Debian's argus-server package, or pass --no-argus to leave Argus out",
            argus.display()
        )),
    }
}

fn runner_options(args: &RunArgs) -> Result<RunnerOptions, String> {
    if cfg!(debug_assertions) {
        return Err("naudit-bench is a debug build: run it with `cargo run --release`, since the floor programs run inside it".to_string());
    }
    if !(args.scale > 0.0 && args.scale.is_finite()) {
        return Err(format!("invalid scale {}: must be a positive number", args.scale));
    }
    if args.reps == 0 {
        return Err("invalid --reps 0: at least one run is needed".to_string());
    }
    let names: Vec<&str> = STANDARD_MIXES.iter().map(|mix| mix.name).collect();
    let mixes = args
        .mixes
        .iter()
        .map(|name| StandardMix::named(name).ok_or_else(|| format!("unknown mix {name:?}: expected one of {}", names.join(", "))))
        .collect::<Result<Vec<_>, _>>()?;
    let argus = if args.no_argus {
        None
    } else {
        check_argus(&args.argus)?;
        Some(args.argus.clone())
    };
    let data_dir = args.data_dir.clone().unwrap_or_else(|| workspace_root().join("perf").join("data"));
    let (nauditd, nauditd_source) = locate_nauditd(args, &data_dir)?;
    let floor_program = std::env::current_exe().map_err(|error| format!("cannot locate this program: {error}"))?;
    let passed: Vec<String> = std::env::args().skip(1).collect();

    Ok(RunnerOptions {
        scale: args.scale,
        repetitions: args.reps,
        mixes,
        data_dir,
        nauditd,
        argus,
        workers: args.workers.clone(),
        floor_program,
        regenerate: args.regenerate,
        command: format!("cargo run --release -p naudit-perf --bin naudit-bench -- {}", passed.join(" ")).trim_end().to_string(),
        nauditd_source,
    })
}

/// Writes a Markdown page to `out`, or to standard output.
fn write_page(out: Option<&Path>, page: &str) -> Result<(), String> {
    match out {
        Some(path) => {
            fs::write(path, page).map_err(|error| format!("writing {} failed: {error}", path.display()))?;
            eprintln!("naudit-bench: wrote {}", path.display());
        }
        None => print!("{page}"),
    }
    Ok(())
}

fn run_bench(args: &RunArgs) -> Result<(), String> {
    let options = runner_options(args)?;
    let report = runner::run(&options)?;
    let page = report.render();
    write_page(args.out.as_deref(), &page)
}

/// Generates (or reuses) the capture of `mix` at `scale` and returns its
/// path, packet count and flow count.
fn dpdk_capture(mix: &StandardMix, scale: f64, data_dir: &Path) -> Result<(PathBuf, u64, u64), String> {
    let path = mix.capture_path(data_dir, scale);
    let config = mix.scaled(scale);
    if !path.exists() {
        eprintln!("naudit-bench: writing {}", path.display());
        naudit_perf::traffic::write_capture_file(&config, &path).map_err(|error| format!("writing {} failed: {error}", path.display()))?;
    }
    Ok((path, config.packets, u64::from(config.flows)))
}

fn run_dpdk(args: &DpdkArgs) -> Result<(), String> {
    if cfg!(debug_assertions) {
        return Err("naudit-bench is a debug build: run it with `cargo run --release`".to_string());
    }
    if !(args.scale > 0.0 && args.scale.is_finite()) || args.reps == 0 {
        return Err(format!("invalid --scale {} or --reps {}: both must be positive", args.scale, args.reps));
    }
    let mix = StandardMix::named(&args.mix).ok_or_else(|| format!("unknown mix {:?}", args.mix))?;
    let data_dir = args.data_dir.clone().unwrap_or_else(|| workspace_root().join("perf").join("data"));
    fs::create_dir_all(&data_dir).map_err(|error| format!("cannot create {}: {error}", data_dir.display()))?;
    let nauditd = match &args.nauditd {
        Some(path) => path.clone(),
        None => {
            let exe = std::env::current_exe().map_err(|error| format!("cannot locate this program: {error}"))?;
            let target = exe.parent().and_then(Path::parent).ok_or("cannot locate the target folder")?;
            if let Some(cargo) = std::env::var_os("CARGO") {
                eprintln!("naudit-bench: building nauditd (cargo build --release -p nauditd --features dpdk)");
                cargo_build_with(Path::new(&cargo), &workspace_root(), target, &["--features", "dpdk"])?;
            }
            target.join("release").join("nauditd")
        }
    };
    let (capture, packets, flows) = dpdk_capture(&mix, args.scale, &data_dir)?;
    // A capture of the same mix with a twentieth of the packets, for the
    // fixed costs of each program.
    let (small_capture, small_packets, _) = dpdk_capture(&mix, args.scale / 20.0, &data_dir)?;
    let passed: Vec<String> = std::env::args().skip(1).collect();
    let options = naudit_perf::dpdk_bench::DpdkBenchOptions {
        nauditd,
        capture: (capture, packets),
        small_capture: (small_capture, small_packets),
        max_flows: flows.max(262_144),
        repetitions: args.reps,
        command: format!("cargo run --release -p naudit-perf --bin naudit-bench -- {}", passed.join(" ")),
    };
    let page = naudit_perf::dpdk_bench::run(&options)?.render();
    write_page(args.out.as_deref(), &page)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Some(Commands::Floor(args)) => run_floor(args),
        Some(Commands::Split(args)) => run_split(args),
        Some(Commands::Dpdk(args)) => run_dpdk(args),
        None => run_bench(&cli.run),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("naudit-bench: {message}");
            ExitCode::FAILURE
        }
    }
}
