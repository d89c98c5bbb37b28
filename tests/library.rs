//! The command line as a library (`ffu::run`), as the Python bindings call it: it returns
//! the exit status (never ends the process, also for `--version` and usage errors), hands
//! the `-v` count to an in-process caller, and writes what the binary writes.

mod common;

use common::{ffu, temp_dir};

/// Runs `args` (after the program name) in process; returns the status and the `-v` counts
/// the caller was told.
fn run_in_process(args: &[&str]) -> (u8, Vec<u8>) {
    let mut told = Vec::new();
    let status = ffu::run(
        std::iter::once("ffu").chain(args.iter().copied()),
        ffu::Caller::InProcess {
            verbosity: &mut |verbose| told.push(verbose),
        },
    );
    (status, told)
}

#[test]
fn in_process_runs_write_what_the_binary_writes() {
    let dir = temp_dir("library-same");
    for extra in [
        &["--format", "json"][..],
        &["--format", "text"],
        &["--format", "dot"],
        &["--mode", "rolling"],
    ] {
        let library = dir.join("library.out");
        let binary = dir.join("binary.out");
        let args = |out: &std::path::Path| {
            let mut args = vec!["plan", "--from", "newton", "--to", "queens"];
            args.extend_from_slice(extra);
            args.extend(["-o", out.to_str().expect("utf-8 path")]);
            args.into_iter().map(str::to_owned).collect::<Vec<_>>()
        };
        let in_process = args(&library);
        let in_process: Vec<&str> = in_process.iter().map(String::as_str).collect();
        assert_eq!(run_in_process(&in_process), (0, vec![0]), "{extra:?}");
        let by_binary = args(&binary);
        let by_binary: Vec<&str> = by_binary.iter().map(String::as_str).collect();
        let run = ffu(&by_binary);
        assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{extra:?}");
        assert_eq!(
            std::fs::read(&library).expect("written in process"),
            std::fs::read(&binary).expect("written by the binary"),
            "{extra:?}"
        );
    }
}

#[test]
fn statuses_come_back_and_the_process_goes_on() {
    let dir = temp_dir("library-status");
    let out = dir.join("plan.txt");
    let out = out.to_str().expect("utf-8 path");
    // --version would end the process through clap's `exit`: here it returns 0.
    assert_eq!(run_in_process(&["--version"]), (0, vec![]));
    // Usage errors: 2, and the caller is not told a verbosity (no command runs).
    assert_eq!(run_in_process(&["plan", "--from", "newton"]), (2, vec![]));
    assert_eq!(run_in_process(&["nope"]), (2, vec![]));
    // No plan possible: 1; bad input: 2.
    assert_eq!(
        run_in_process(&["plan", "--from", "queens", "--to", "newton", "-o", out]),
        (1, vec![0])
    );
    assert_eq!(
        run_in_process(&["verify", "/nonexistent/plan.json"]),
        (2, vec![0])
    );
    // The -v count, wherever it is given.
    for (args, verbose) in [
        (
            &["-v", "plan", "--from", "newton", "--to", "ocata", "-o", out][..],
            1,
        ),
        (
            &[
                "plan", "-vv", "--from", "newton", "--to", "ocata", "-o", out,
            ],
            2,
        ),
        (
            &[
                "-vvv", "plan", "--from", "newton", "--to", "ocata", "-o", out,
            ],
            3,
        ),
    ] {
        assert_eq!(run_in_process(args), (0, vec![verbose]), "{args:?}");
    }
    assert!(std::fs::read_to_string(out)
        .expect("plan written")
        .starts_with("Plan newton -> ocata (offline, catalog openstack): 1 hop, "));
}

#[test]
fn the_binary_caller_can_run_twice() {
    // The second run finds the subscriber of the first set: no panic, the same result.
    let dir = temp_dir("library-binary");
    let out = dir.join("plan.json");
    let out = out.to_str().expect("utf-8 path");
    for _ in 0..2 {
        let args = [
            "ffu", "plan", "--from", "newton", "--to", "ocata", "--format", "json", "-o", out,
        ];
        assert_eq!(ffu::run(args, ffu::Caller::Binary), 0);
    }
    assert!(std::fs::read_to_string(out)
        .expect("plan written")
        .starts_with("{\"format\":\"ffu-plan/1\""));
}
