//! The command line front end: parses arguments with clap, calls the application services and
//! prints. No business rule lives here.

mod commands;
mod credential_cmd;
mod rubric_cmd;

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::app::AppError;
use crate::app::refusal::Refusal;

/// What a command hands back when it fails: lines for stderr. Lines that already name a place
/// (`FILE:LINE:COL: error: …`) are printed as they are; others get `error: ` in front.
#[derive(Debug)]
pub struct Failure(pub Vec<String>);

impl Failure {
    pub fn msg(m: impl Into<String>) -> Failure {
        Failure(vec![m.into()])
    }
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        match &e {
            AppError::Refusal(r) => Failure(vec![format!("{r}{}", advice(r))]),
            _ => Failure(e.lines()),
        }
    }
}

/// What the command line adds to a refusal: the command or flag that does what is missing.
pub fn advice(r: &Refusal) -> String {
    use crate::domain::sanitize::sanitize_line;
    match r {
        Refusal::Frozen {
            id,
            lead_may_reopen: true,
            ..
        } => format!(" (`assay reopen {id} --rationale TEXT`)"),
        Refusal::NotPermitted {
            who,
            needed,
            registered_as: None,
            ..
        } => match needed.first() {
            Some(role) => format!(
                " (ask a lead to run `assay user add {} --role {role}`)",
                sanitize_line(who)
            ),
            None => String::new(),
        },
        Refusal::RationaleMissing { .. } => ": add --rationale TEXT".into(),
        Refusal::KeyRequired { .. } | Refusal::KeyNotHeld { .. } => {
            ": add the private key to your ssh-agent (`ssh-add ~/.ssh/id_ed25519`), or set ASSAY_KEY to the private key file".into()
        }
        Refusal::NoSecondMarks { id } => {
            format!(" with `assay moderate {id} --level C=LEVEL … --submit`")
        }
        Refusal::NotReallocated { id, .. } => {
            format!(
                " with `assay reopen {} --rationale TEXT`",
                sanitize_line(id)
            )
        }
        Refusal::SecondSubmitted { id } => {
            format!(" with `assay moderate {id} --confirm` or `--amend --rationale TEXT`")
        }
        Refusal::NoWorkspace {
            folder_missing: Some(_),
            ..
        } => "; give --db a path in a folder that exists".into(),
        Refusal::NoWorkspace { .. } => "; import rubrics and portfolios with `assay import PATH…` (or open the workbench with `assay`) to make one, or give --db the right path".into(),
        Refusal::NotAWorkspace { .. } => "; give --db the right path".into(),
        Refusal::NoSuchPortfolio { .. } => "; `assay list` shows what there is".into(),
        Refusal::NoSuchRubric { .. } => "; import it first with `assay import FILE`".into(),
        Refusal::Exists {
            in_folder: false, ..
        } => ", or add --force to replace it".into(),
        Refusal::Exists { .. } => ", or add --force to replace them".into(),
        Refusal::NoAssessorsNamed => " (`--among NAME,NAME…`)".into(),
        Refusal::AssigneeNotRegistered { who } => format!(
            "; a lead adds them with `assay user add {} --role assessor`",
            sanitize_line(who)
        ),
        Refusal::Decided {
            id,
            released: false,
            ..
        } => format!(": `assay reopen {} --rationale TEXT`", sanitize_line(id)),
        Refusal::Decided { released: true, .. } => {
            " (a portfolio folder's `id:` in portfolio.yaml; a LEAP2A export's with `--id`)".into()
        }
        _ => String::new(),
    }
}

impl From<String> for Failure {
    fn from(e: String) -> Self {
        Failure(vec![e])
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure(vec![e.to_string()])
    }
}

pub type CmdResult = Result<(), Failure>;

#[derive(Parser, Debug)]
#[command(
    name = "assay",
    version,
    about = "A keyboard-only workbench for judging micro-credential portfolios against transparent rubrics",
    after_help = "Run `assay` with no command to open the workbench. The manual is README.md."
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
    /// Load rubric files, rubric folders, portfolio folders, folders of portfolio folders, or
    /// LEAP2A exports of e-portfolio systems (a .zip, or a folder holding leap2a.xml)
    Import {
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// For a LEAP2A export: the rubric it is assessed against
        #[arg(long, value_name = "ID[@VERSION]")]
        rubric: Option<String>,
        /// For a LEAP2A export: the learner's id (else one derived from the feed author's email)
        #[arg(long, value_name = "ID")]
        learner_id: Option<String>,
        /// For a LEAP2A export: the portfolio's id (else one derived from the learner and the rubric)
        #[arg(long, value_name = "ID")]
        id: Option<String>,
    },
    /// One portfolio a row
    List {
        #[arg(long, value_name = "STATUS")]
        status: Option<String>,
        #[arg(long, value_name = "ID")]
        rubric: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// One portfolio: evidence, marks, decision, moderation, history
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Fuzzy search over portfolio ids, learners, rubrics and evidence titles, then the words
    /// of documents
    Search {
        #[arg(allow_hyphen_values = true)]
        query: String,
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 20, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        limit: u32,
    },
    /// First marking: each option is saved as it is given
    Mark(MarkArgs),
    /// Moderation samples
    #[command(subcommand)]
    Moderation(ModerationCmd),
    /// Blind second marking of a sampled portfolio, and its settlement
    Moderate(ModerateArgs),
    /// Link a portfolio's evidence to a criterion the learner did not claim it for (or, with
    /// --remove, take the link away): a claim made by the one marking it
    Link {
        id: String,
        #[arg(value_name = "EVIDENCE")]
        evidence: String,
        #[arg(value_name = "CRITERION")]
        criterion: String,
        /// Remove the link instead
        #[arg(long)]
        remove: bool,
    },
    /// A lead reopens a submitted decision
    Reopen {
        id: String,
        #[arg(long, required = true)]
        rationale: String,
    },
    /// Release every decision a draw considered and that, if drawn, is moderated
    Release {
        #[arg(long, value_name = "ID")]
        rubric: Option<String>,
    },
    /// Agreement between first and second marks
    Stats {
        #[arg(long, value_name = "ID")]
        rubric: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Write released decisions for the issuing system
    Export {
        #[arg(long, value_enum)]
        format: ExportFormat,
        #[arg(long, value_name = "PATH")]
        out: PathBuf,
        #[arg(long, value_name = "ID")]
        rubric: Option<String>,
        /// Export every released decision, also those exported before
        #[arg(long)]
        all: bool,
        /// Replace files that exist already at --out
        #[arg(long)]
        force: bool,
        /// Sign the credentials (--format obv3) with the issuer's key: a Data Integrity proof
        #[arg(long)]
        sign: bool,
    },
    /// Revoke a released credential (a lead): its bit is set in the status list `assay issuer publish` writes
    Revoke {
        /// The credential's id (urn:uuid:…) or its portfolio's id
        #[arg(value_name = "ID")]
        id: String,
        #[arg(long, value_name = "TEXT")]
        reason: String,
    },
    /// Check signed credentials offline: signature, issuer key, schema, dates, status
    Verify {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// A folder of published documents: issuer profiles, did.json, jwks.json, status lists
        #[arg(long, value_name = "DIR")]
        keys: Option<PathBuf>,
    },
    /// The awarding body's signing keys and what it publishes
    #[command(subcommand)]
    Issuer(IssuerCmd),
    /// People and roles
    #[command(subcommand)]
    User(UserCmd),
    /// Allocate portfolios to assessors
    Assign(AssignArgs),
    /// The audit chain
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Copy the whole workspace (--db) into another, between a file and a PostgreSQL server either way; the target must be new or empty, and both chains are verified
    Copy {
        /// The workspace to copy from: a file or a postgres:// URI
        #[arg(value_name = "FROM")]
        from: PathBuf,
        /// A new workspace file, or a postgres:// URI of an empty database
        #[arg(value_name = "TO")]
        to: PathBuf,
    },
    /// Write a consistent copy of the live workspace database
    Backup {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Replace FILE if it exists
        #[arg(long)]
        force: bool,
    },
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

#[derive(Args, Debug, Default)]
pub struct MarkArgs {
    pub id: String,
    /// Choose a level: criterion id = level id (or 1 for the lowest, 2 for the next, …)
    #[arg(long = "level", value_name = "C=LEVEL")]
    pub levels: Vec<String>,
    /// Confirm a gate (G, or G=no to withdraw the confirmation)
    #[arg(long = "gate", value_name = "G")]
    pub gates: Vec<String>,
    /// Feedback on a criterion
    #[arg(long = "feedback", value_name = "C=TEXT")]
    pub feedback: Vec<String>,
    /// The overall comment
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
    /// Choose an outcome over the rule's: a referral, or an override (needs --rationale)
    #[arg(long, value_enum)]
    pub outcome: Option<OutcomeArg>,
    #[arg(long, value_name = "TEXT")]
    pub rationale: Option<String>,
    /// Record the decision
    #[arg(long)]
    pub submit: bool,
}

#[derive(Args, Debug)]
pub struct ModerateArgs {
    #[command(flatten)]
    pub mark: MarkArgs,
    /// Keep the first decision
    #[arg(long, conflicts_with = "amend")]
    pub confirm: bool,
    /// Replace the first decision with the second marks (needs --rationale)
    #[arg(long)]
    pub amend: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OutcomeArg {
    Awarded,
    #[value(name = "not_yet")]
    NotYet,
    Referred,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ExportFormat {
    Obv3,
    #[value(name = "obv3-jwt")]
    Obv3Jwt,
    Elm,
    Csv,
    Jsonl,
    Feedback,
    Credly,
    #[value(name = "canvas-credentials")]
    CanvasCredentials,
}

#[derive(Subcommand, Debug)]
pub enum IssuerCmd {
    /// Make the awarding body's signing keys (Ed25519 and P-256), kept outside the workspace
    Init {
        /// The key's name (rubrics name it in credential.signing.key)
        #[arg(value_name = "NAME", default_value = "default")]
        key: String,
        /// The issuer's id: an https URL where its profile is served, did:web:HOST[:PATH], or did:key
        #[arg(long, value_name = "ID")]
        id: String,
        /// The awarding body's name, for its profile
        #[arg(long, value_name = "TEXT")]
        name: Option<String>,
        /// Its web site, for its profile
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        /// Where its status lists are served (default: ID/status, or the did:web's site/status)
        #[arg(long = "status-url", value_name = "URL")]
        status_url: Option<String>,
    },
    /// Print the public keys and where they are published
    Show {
        #[arg(value_name = "NAME", default_value = "default")]
        key: String,
    },
    /// Write what the awarding body serves: its profile or did.json, its JWKS, and the workspace's status lists
    Publish {
        #[arg(value_name = "NAME", default_value = "default")]
        key: String,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum ModerationCmd {
    /// Draw the moderation sample from submitted decisions not yet considered by a draw
    Sample {
        #[arg(long, value_name = "ID")]
        rubric: Option<String>,
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(0..=i64::MAX as u64))]
        seed: Option<u64>,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCmd {
    /// Register a person
    Add {
        name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Their SSH public key (a `.pub` file): every record they author is signed with it
        #[arg(long, value_name = "FILE")]
        key: Option<PathBuf>,
    },
    /// Register the SSH public key a person's records are signed with (or remove it)
    Key {
        name: String,
        /// The public key file (`~/.ssh/id_ed25519.pub`)
        #[arg(
            value_name = "FILE",
            required_unless_present = "remove",
            conflicts_with = "remove"
        )]
        file: Option<PathBuf>,
        /// Remove their key: their records are no longer signed
        #[arg(long)]
        remove: bool,
    },
    /// List registered people (and their keys' fingerprints)
    List,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Assessor,
    Moderator,
    Lead,
}

#[derive(Args, Debug)]
pub struct AssignArgs {
    /// Portfolio ids (with --to)
    pub ids: Vec<String>,
    #[arg(long, value_name = "NAME", conflicts_with_all = ["rubric", "among"])]
    pub to: Option<String>,
    #[arg(long, value_name = "ID", requires = "among")]
    pub rubric: Option<String>,
    #[arg(long, value_name = "NAME,NAME…", value_delimiter = ',')]
    pub among: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub enum AuditCmd {
    /// Check the audit chain and that the current marks and decisions match it
    Verify,
    /// The history, oldest first
    Log { id: Option<String> },
    /// Write one record, its signature and its author's key, to check with `ssh-keygen -Y verify`
    Sig {
        seq: i64,
        /// The folder to write them to (made if missing)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

/// Runs the command line and returns the process exit status.
pub fn main() -> i32 {
    // (the PDF reader's child process: see app::extract)
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == crate::app::extract::PDF_COMMAND)
    {
        return crate::app::extract::pdf_child();
    }
    // A reader that stops reading (`assay show ID | head -1`) ends the output, as for every
    // Unix tool: quietly, with the status of a broken pipe, not a panic.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let p = info.payload();
        let msg = p
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| p.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        default_hook(info)
    }));
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
                let l = crate::domain::sanitize::sanitize(&l);
                if l.contains(": error: ") || l.starts_with("error: ") {
                    let _ = writeln!(err, "{l}");
                } else {
                    let _ = writeln!(err, "error: {l}");
                }
            }
            1
        }
    }
}

fn run(cli: Cli) -> CmdResult {
    let db = crate::app::resolve_db(cli.db.clone());
    let user = crate::app::resolve_user(cli.as_user.clone());
    match cli.command {
        None | Some(Command::Tui) => crate::tui::run(&db, user).map_err(Failure::from),
        Some(Command::Rubric(RubricCmd::Check { files })) => rubric_cmd::check(&files),
        Some(Command::Rubric(RubricCmd::Show { rubric })) => rubric_cmd::show(&rubric, &db, user),
        Some(cmd) => commands::run(cmd, &db, user),
    }
}

#[cfg(test)]
mod advice_tests {
    use super::*;

    fn said(r: Refusal) -> String {
        Failure::from(AppError::Refusal(r)).0.join("\n")
    }

    #[test]
    fn the_command_line_adds_its_flags_to_a_refusal() {
        assert_eq!(
            said(Refusal::RationaleMissing {
                what: "reopening".into()
            }),
            "reopening needs a written rationale: add --rationale TEXT"
        );
        assert!(
            said(Refusal::Frozen {
                id: "P-1".into(),
                status: "submitted".into(),
                lead_may_reopen: true,
            })
            .ends_with("or a lead reopens it (`assay reopen P-1 --rationale TEXT`)")
        );
        assert!(
            !said(Refusal::Frozen {
                id: "P-1".into(),
                status: "released".into(),
                lead_may_reopen: false,
            })
            .contains("reopen")
        );
        assert_eq!(
            said(Refusal::SecondSubmitted { id: "P-1".into() }),
            "the second marks of P-1 are submitted; settle it with `assay moderate P-1 --confirm` or `--amend --rationale TEXT`"
        );
        assert!(
            said(Refusal::NotPermitted {
                who: "zed".into(),
                doing: "mark portfolios".into(),
                needed: vec![crate::domain::role::Role::Assessor],
                registered_as: None,
            })
            .ends_with(
                "may mark portfolios (ask a lead to run `assay user add zed --role assessor`)"
            )
        );
    }
}
