//! `gazette`: the command line of Gazette (see `gazette --help`).

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(gazette_cli::main())
}
