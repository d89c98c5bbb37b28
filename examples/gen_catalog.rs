//! Writes a synthetic `ffu-catalog/1` catalog as compact JSON, for benchmarks.
//!
//! ```text
//! cargo run --release --example gen_catalog -- --releases 40 --services 200 --migrations 12 --out big.json
//! ```
//!
//! Without `--out` the catalog goes to stdout. The same sizes always give the same bytes.

#[path = "../benches/support/synthetic.rs"]
mod synthetic;

use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "usage: gen_catalog --releases N --services N --migrations N [--out FILE]";

struct Args {
    releases: usize,
    services: usize,
    migrations: usize,
    out: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut releases = None;
    let mut services = None;
    let mut migrations = None;
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.to_owned());
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let number = || {
            value
                .parse::<usize>()
                .map_err(|err| format!("{flag} {value:?}: {err}\n{USAGE}"))
        };
        match flag.as_str() {
            "--releases" => releases = Some(number()?),
            "--services" => services = Some(number()?),
            "--migrations" => migrations = Some(number()?),
            "--out" => out = Some(value),
            _ => return Err(format!("unknown argument {flag:?}\n{USAGE}")),
        }
    }
    let missing = |name: &str| format!("missing --{name}\n{USAGE}");
    let releases = releases.ok_or_else(|| missing("releases"))?;
    if releases == 0 {
        return Err(format!("--releases must be at least 1\n{USAGE}"));
    }
    Ok(Args {
        releases,
        services: services.ok_or_else(|| missing("services"))?,
        migrations: migrations.ok_or_else(|| missing("migrations"))?,
        out,
    })
}

fn write(args: &Args) -> std::io::Result<()> {
    let catalog = synthetic::catalog(args.releases, args.services, args.migrations);
    let sink: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(std::fs::File::create(path)?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 20, sink);
    serde_json::to_writer(&mut out, &catalog)?;
    out.flush()
}

// A command-line tool reports its errors on stderr.
#[allow(clippy::print_stderr)]
fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match write(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("gen_catalog: {err}");
            ExitCode::FAILURE
        }
    }
}
