//! The command line front end: parses arguments with clap, calls the application services and
//! prints. No business rule lives here.

mod rubric_cmd;

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// What a command hands back when it fails: lines for stderr, each printed as `error: …`.
#[derive(Debug)]
pub struct Failure(pub Vec<String>);

impl Failure {
    pub fn msg(m: impl Into<String>) -> Failure {
        Failure(vec![m.into()])
    }
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(vec![e.to_string()])
    }
}

pub type CmdResult = Result<(), Failure>;

#[derive(Parser, Debug)]
#[command(
    name = "assay",
    version,
    about = "A keyboard-only workbench for judging micro-credential portfolios against transparent rubrics",
    after_help = "Run `assay` with no command to open the workbench."
)]
pub struct Cli {
    /// The workspace database [env: ASSAY_DB] [default: ./assay.db]
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Who is working [env: ASSAY_USER] [default: the OS login name]
    #[arg(long = "as", global = true, value_name = "NAME")]
    pub as_user: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Open the workbench (the default)
    Tui,
    /// Check and show rubric files
    #[command(subcommand)]
    Rubric(RubricCmd),
}

#[derive(Subcommand, Debug)]
pub enum RubricCmd {
    /// Validate rubric files; each problem is printed as FILE:LINE:COL: error: MESSAGE
    Check {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Print a rubric as an assessor reads it
    Show {
        /// A rubric file, or ID[@VERSION] of a rubric in the workspace
        #[arg(value_name = "FILE|ID[@VERSION]")]
        rubric: String,
    },
}

/// Runs the command line and returns the process exit status.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = e.exit_code();
            let _ = e.print();
            return code;
        }
    };
    match run(cli) {
        Ok(()) => 0,
        Err(Failure(lines)) => {
            let mut err = std::io::stderr().lock();
            for l in lines {
                let _ = writeln!(err, "error: {l}");
            }
            1
        }
    }
}

fn run(cli: Cli) -> CmdResult {
    match cli.command {
        None | Some(Command::Tui) => {
            println!("The workbench is not built yet; see `assay --help`.");
            Ok(())
        }
        Some(Command::Rubric(RubricCmd::Check { files })) => rubric_cmd::check(&files),
        Some(Command::Rubric(RubricCmd::Show { rubric })) => rubric_cmd::show(&rubric),
    }
}
