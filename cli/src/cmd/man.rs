//! `pptctl man [SUBCOMMAND]`: the manual pages, generated from the same
//! clap definition as `--help` (clap_mangen), in section 8 (system
//! administration, like pptadm(8)). `--dir DIR` writes every page as
//! `DIR/pptctl.8`, `DIR/pptctl-show.8`, … for installation, each through
//! the atomic writer of files pptctl creates (`hostfs::atomic`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::error::CliError;

/// Arguments of `pptctl man`.
#[derive(Args, Debug)]
pub struct ManArgs {
    /// The subcommand whose page to print; none for pptctl(8).
    #[arg(value_name = "SUBCOMMAND")]
    pub subcommand: Option<String>,
    /// Write every page into this directory instead of printing one.
    #[arg(long, value_name = "DIR", conflicts_with = "subcommand")]
    pub dir: Option<PathBuf>,
}

/// The manual section of every page.
const SECTION: &str = "8";

/// The page names: `pptctl`, `pptctl-SUBCOMMAND` for each subcommand and
/// `pptctl-SUBCOMMAND-SUB` for each of its own (`pptctl-fleet-hosts`).
pub fn page_names() -> Vec<String> {
    let cmd = crate::command();
    let mut names = vec!["pptctl".to_string()];
    for s in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        names.push(format!("pptctl-{}", s.get_name()));
        for sub in s.get_subcommands().filter(|s| !s.is_hide_set()) {
            names.push(format!("pptctl-{}-{}", s.get_name(), sub.get_name()));
        }
    }
    names
}

/// The subcommand a page name after `pptctl-` stands for: `show`, or a
/// nested one, `fleet-hosts`.
fn find_page<'a>(top: &'a clap::Command, name: &str) -> Option<&'a clap::Command> {
    if let Some(sub) = top.find_subcommand(name) {
        return Some(sub);
    }
    let (parent, child) = name.split_once('-')?;
    top.find_subcommand(parent)?.find_subcommand(child)
}

/// Renders one page: `None` for pptctl(8), or a subcommand's name.
pub fn render(subcommand: Option<&str>) -> Result<Vec<u8>, CliError> {
    let mut top = crate::command().disable_help_subcommand(true);
    top.build();
    let names: Vec<String> = page_names()
        .iter()
        .skip(1)
        .filter_map(|n| n.strip_prefix("pptctl-").map(str::to_string))
        .collect();
    let page_cmd = match subcommand {
        None => top.clone(),
        Some(name) => {
            let Some(sub) = find_page(&top, name) else {
                return Err(CliError::input(format!(
                    "man: no subcommand `{name}`; one of: {}",
                    names.join(", ")
                )));
            };
            // The page is named after the full command, and its synopsis
            // says `pptctl NAME` (clap's display name after build()).
            sub.clone().name(format!("pptctl-{name}"))
        }
    };
    let man = clap_mangen::Man::new(page_cmd)
        .section(SECTION)
        .manual("pptctl manual")
        .source(format!("pptctl {}", env!("CARGO_PKG_VERSION")));
    let mut out = Vec::new();
    let io = |e: std::io::Error| CliError::failed(format!("man: cannot render: {e}"));
    man.render_title(&mut out).map_err(io)?;
    man.render_name_section(&mut out).map_err(io)?;
    man.render_synopsis_section(&mut out).map_err(io)?;
    man.render_description_section(&mut out).map_err(io)?;
    man.render_options_section(&mut out).map_err(io)?;
    let has_subcommands = page_cmd_has_subcommands(&top, subcommand);
    if has_subcommands {
        man.render_subcommands_section(&mut out).map_err(io)?;
    }
    // The examples and the exit codes are the text `--help` shows after
    // the options; a page gives each its conventional section.
    let help = match subcommand {
        None => top.get_after_long_help(),
        Some(name) => find_page(&top, name).and_then(|s| s.get_after_long_help()),
    }
    .map(|s| s.to_string())
    .unwrap_or_default();
    let (examples, exit) = match help.split_once("Exit status:") {
        Some((ex, exit)) => (ex.trim(), exit),
        None => (help.trim(), ""),
    };
    if !examples.is_empty() {
        section(
            &mut out,
            "EXAMPLES",
            examples.trim_start_matches("Examples:"),
        );
    }
    if !exit.trim().is_empty() {
        section(&mut out, "EXIT STATUS", exit);
    }
    let see_also: Vec<String> = match subcommand {
        None => names
            .iter()
            .filter(|n| top.find_subcommand(n.as_str()).is_some())
            .map(|n| format!("\\fBpptctl-{n}\\fR(8)"))
            .chain(["\\fBpptadm\\fR(8)".into(), "\\fBlspci\\fR(8)".into()])
            .collect(),
        Some(name) => {
            // A command with subcommands names each one's page.
            let prefix = format!("{name}-");
            std::iter::once("\\fBpptctl\\fR(8)".to_string())
                .chain(
                    names
                        .iter()
                        .filter(|n| n.starts_with(&prefix))
                        .map(|n| format!("\\fBpptctl-{n}\\fR(8)")),
                )
                .chain(["\\fBpptadm\\fR(8)".into()])
                .collect()
        }
    };
    let _ = writeln!(out, ".SH \"SEE ALSO\"\n{}", see_also.join(", "));
    if subcommand.is_none() {
        man.render_version_section(&mut out).map_err(io)?;
    }
    Ok(out)
}

/// Whether the page's command has subcommands of its own (pptctl(8),
/// pptctl-fleet(8)): its page then lists them.
fn page_cmd_has_subcommands(top: &clap::Command, subcommand: Option<&str>) -> bool {
    match subcommand {
        None => true,
        Some(name) => find_page(top, name).is_some_and(|c| c.get_subcommands().next().is_some()),
    }
}

/// Escapes text for roff: backslashes, and a leading `.` or `'` that would
/// read as a request.
fn roff_escape(line: &str) -> String {
    let s = line.replace('\\', "\\e").replace('-', "\\-");
    if s.starts_with('.') || s.starts_with('\'') {
        format!("\\&{s}")
    } else {
        s
    }
}

/// A section of preformatted text (`.nf`), as `--help` shows it.
fn section(out: &mut Vec<u8>, title: &str, body: &str) {
    let _ = writeln!(out, ".SH \"{title}\"\n.nf");
    let lines: Vec<&str> = body.lines().collect();
    let start = lines.iter().position(|l| !l.trim().is_empty()).unwrap_or(0);
    for l in &lines[start..] {
        let _ = writeln!(out, "{}", roff_escape(l));
    }
    let _ = writeln!(out, ".fi");
}

/// Runs the subcommand.
pub fn run(args: ManArgs) -> Result<ExitCode, CliError> {
    if let Some(dir) = &args.dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::failed(format!("man: {}: {e}", dir.display())))?;
        for name in page_names() {
            let page = render(name.strip_prefix("pptctl-"))?;
            let file = dir.join(format!("{name}.{SECTION}"));
            hostfs::atomic::write_file(&file, &page).map_err(|e| match e {
                hostfs::atomic::CreateError::Io { .. } => CliError::failed(format!("man: {e}")),
                _ => CliError::input(format!("man: {e}")),
            })?;
            crate::outln!("{}", file.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let page = render(args.subcommand.as_deref())?;
    let mut out = crate::output::stdout();
    out.write_all(&page)
        .and_then(|()| out.flush())
        .map_err(|e| CliError::failed(format!("man: {e}")))?;
    Ok(ExitCode::SUCCESS)
}
