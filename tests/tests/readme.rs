//! README.md cannot rot: every command line it shows for `gazette`,
//! `gazette-log` and `gazette-witness` names a real subcommand and only
//! flags that subcommand's `--help` lists, and every `curl` example names
//! a real route of a running log (its answer is not the "no such route"
//! 404). The flows themselves run in the other end-to-end tests and in
//! `tests/tests/demo.rs`.

use std::path::Path;
use std::process::Command;

use gazette_tests::{Server, binary, run};

/// The lines of README's ```bash blocks, continuations joined, comments
/// and blank lines dropped.
fn readme_commands() -> Vec<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("README.md");
    bash_commands(&readme)
}

/// The command lines of the ```bash blocks of a markdown text.
fn bash_commands(readme: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut in_bash = false;
    let mut pending = String::new();
    for line in readme.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            in_bash = trimmed == "```bash" || trimmed == "```sh";
            continue;
        }
        if !in_bash {
            continue;
        }
        let code = match trimmed.find(" #") {
            Some(at) => &trimmed[..at],
            None if trimmed.starts_with('#') => "",
            None => trimmed,
        };
        pending.push_str(code.trim_end_matches('\\').trim());
        pending.push(' ');
        if !code.ends_with('\\') {
            let command = pending.trim().to_owned();
            if !command.is_empty() {
                commands.push(command);
            }
            pending.clear();
        }
    }
    commands
}

/// The binary a command line runs and its arguments, if it is one of ours.
fn ours(command: &str) -> Option<(&'static str, Vec<String>)> {
    let words: Vec<String> = command.split_whitespace().map(str::to_owned).collect();
    let mut rest = words.as_slice();
    // `cargo run --release -p <package> -- <args>`
    if rest.first().is_some_and(|w| w == "cargo") && rest.get(1).is_some_and(|w| w == "run") {
        let package = rest
            .iter()
            .position(|w| w == "-p")
            .and_then(|i| rest.get(i + 1))?;
        let name = match package.as_str() {
            "gazette-log" => "gazette-log",
            "gazette-witness" => "gazette-witness",
            "gazette-cli" => "gazette",
            _ => return None,
        };
        let at = rest.iter().position(|w| w == "--")?;
        return Some((name, rest[at + 1..].to_vec()));
    }
    let first = rest.first()?.rsplit('/').next()?.to_owned();
    rest = &rest[1..];
    let name = match first.as_str() {
        "gazette" => "gazette",
        "gazette-log" => "gazette-log",
        "gazette-witness" => "gazette-witness",
        _ => return None,
    };
    Some((name, rest.to_vec()))
}

fn help(name: &str, chain: &[String]) -> Option<String> {
    let out = Command::new(binary(name))
        .args(chain)
        .arg("--help")
        .output()
        .expect("run --help");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Checks one command line; `Ok(false)` when it is not one of ours.
fn check_command(command: &str) -> Result<bool, String> {
    let Some((name, args)) = ours(command) else {
        return Ok(false);
    };
    // The longest run of leading words that `--help` accepts as a
    // subcommand chain (`agency add`, `verify`, ...).
    let words: Vec<String> = args
        .iter()
        .take_while(|w| {
            !w.starts_with('-') && w.chars().all(|c| c.is_ascii_lowercase() || c == '-')
        })
        .cloned()
        .collect();
    let (chain, text) = (0..=words.len().min(2))
        .rev()
        .find_map(|n| {
            let chain = &words[..n];
            help(name, chain)
                .filter(|h| n == 0 || h.contains(&format!("{name} {}", chain.join(" "))))
                .map(|h| (chain.to_vec(), h))
        })
        .ok_or_else(|| format!("`{command}`: no such command"))?;
    // A command with subcommands must be given one of them.
    if text.contains("\nCommands:") && chain.len() < words.len().max(1) {
        return Err(format!(
            "`{command}`: no such subcommand of {name} {}",
            chain.join(" ")
        ));
    }
    for flag in args.iter().filter(|a| a.starts_with("--") && a.len() > 2) {
        let flag = flag.split('=').next().unwrap();
        if !(text.contains(&format!("{flag} ")) || text.contains(&format!("{flag}\n"))) {
            return Err(format!(
                "`{command}`: {name} {} has no {flag}",
                chain.join(" ")
            ));
        }
    }
    Ok(true)
}

#[test]
fn every_command_line_in_the_readme_uses_real_subcommands_and_flags() {
    let mut checked = 0;
    for command in readme_commands() {
        match check_command(&command) {
            Ok(ours) => checked += usize::from(ours),
            Err(e) => panic!("README: {e}"),
        }
    }
    assert!(
        checked >= 5,
        "only {checked} command lines found in README.md"
    );
}

#[test]
fn the_readme_check_catches_a_misspelt_flag_or_subcommand() {
    let text = "```bash\ngazette verify r.tlog-proof --policy p \\\n  --documnet d.pdf\n```\n\
                ```bash\ngazette-log agency remove k\ngazette-witness serve --dir w\n```\n";
    let commands = bash_commands(text);
    assert_eq!(commands.len(), 3, "{commands:?}");
    assert!(
        check_command(&commands[0])
            .unwrap_err()
            .contains("--documnet")
    );
    assert!(check_command(&commands[1]).is_err());
    assert_eq!(check_command(&commands[2]), Ok(true));
}

#[test]
fn every_curl_example_in_the_readme_names_a_real_route() {
    let dir = tempfile::tempdir().unwrap();
    run(
        "gazette-log",
        &[
            "init",
            "--origin",
            "readme.example/log",
            "--dir",
            dir.path().to_str().unwrap(),
        ],
    );
    let log = Server::start(&binary("gazette-log"), dir.path(), "127.0.0.1:0");
    let http = reqwest::blocking::Client::new();
    let mut checked = 0;
    for command in readme_commands() {
        let words: Vec<&str> = command.split_whitespace().collect();
        if words.first() != Some(&"curl") {
            continue;
        }
        let Some(url) = words
            .iter()
            .map(|w| w.trim_matches(|c| c == '\'' || c == '"'))
            .find(|w| w.starts_with("http://") || w.starts_with('$') || w.starts_with("<log"))
        else {
            panic!("README: `{command}`: no URL");
        };
        let path = match url.find("://") {
            Some(at) => url[at + 3..].find('/').map_or("/", |p| &url[at + 3 + p..]),
            // `$GAZETTE_LOG_URL/...`, `<log url>/...`: the path after the placeholder.
            None => url.find('/').map_or("/", |p| &url[p..]),
        };
        // A shell substitution in the query is not ours to run.
        let path = path.split('$').next().unwrap_or(path);
        let post = !words.contains(&"-G")
            && words
                .iter()
                .any(|w| w.starts_with("--data") || *w == "-d" || *w == "--json");
        let request = if post {
            http.post(format!("{}{path}", log.url)).body("x")
        } else {
            http.get(format!("{}{path}", log.url))
        };
        let reply = request.send().unwrap();
        let status = reply.status();
        let body = reply.text().unwrap();
        assert!(
            !body.contains("no such route"),
            "README: `{command}`: {path} is no route of the log ({status}: {body})"
        );
        checked += 1;
    }
    assert!(
        checked >= 3,
        "only {checked} curl examples found in README.md"
    );
}
