//! `gazette completions <shell>` and `gazette man`: generated from the
//! command line's own clap definitions, so they can never list an option
//! the tool lacks.

use std::path::PathBuf;

use clap_complete::Shell;

use super::{Exit, Failure, Output, plural, write_output};

/// `gazette completions <shell>`.
#[derive(clap::Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    shell: Shell,
}

/// `gazette man [--out <dir>]`.
#[derive(clap::Args)]
pub struct ManArgs {
    /// Write `gazette.1` and one `gazette-<command>.1` per command into
    /// this folder (made if missing) instead of printing `gazette.1`.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Prints the completion script for a shell.
pub fn completions(args: &CompletionsArgs) -> Result<(), Failure> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut super::command(), "gazette", &mut script);
    write_output(None, &script)
}

/// Prints the man page, or writes every command's into a folder.
pub fn man(args: &ManArgs, out: Output) -> Result<(), Failure> {
    let command = super::command();
    let Some(dir) = &args.out else {
        let mut page = Vec::new();
        clap_mangen::Man::new(command)
            .render(&mut page)
            .map_err(|e| Failure::new(Exit::Io, format!("rendering the man page: {e}")))?;
        return write_output(None, &page);
    };
    let io = |e: std::io::Error| Failure::new(Exit::Io, format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    clap_mangen::generate_to(command, dir).map_err(io)?;
    let pages = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".1"))
        .count();
    out.json(&serde_json::json!({ "out": dir, "pages": pages }));
    out.line(format!(
        "{} written to {}",
        plural(pages as u64, "man page"),
        dir.display()
    ));
    Ok(())
}
