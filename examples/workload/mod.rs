//! A synthetic but realistic workload for benchmarks: one rubric, N portfolio folders (a
//! manifest, a reflective statement and three evidence files each: a Markdown report, a CSV
//! log and a PDF certificate), and a workspace filled through the application services with
//! marks, decisions and moderation at every status.
//!
//! Shared by `examples/generate.rs` and the benchmarks under `benches/` (which include this
//! file with `#[path]`). Everything is deterministic: the same N and seed give the same files
//! and the same workspace (up to timestamps and the workspace's random id).

#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use assay::app::Workspace;
use assay::app::mark::{Change, Phase};
use assay::app::moderation::Settle;
use assay::app::people::Role;
use assay::domain::decision::Outcome;
use assay::domain::sampling::SplitMix64;

/// The generated rubric's id and version.
pub const RUBRIC_ID: &str = "workplace-digital-skills";
pub const RUBRIC_VERSION: &str = "2027.1";

/// The criteria of the generated rubric, with their level ids (lowest first).
pub const CRITERIA: [(&str, &[&str]); 5] = [
    (
        "digital-tools",
        &["not-yet", "developing", "competent", "proficient"],
    ),
    ("information", &["not-yet", "competent", "proficient"]),
    ("communication", &["not-yet", "competent", "proficient"]),
    ("problem-solving", &["not-yet", "competent", "proficient"]),
    ("safety-wellbeing", &["not-yet", "competent"]),
];
pub const GATES: [&str; 3] = ["identity", "authenticity", "currency"];

/// The rubric the generated portfolios are judged against: five criteria, three gates.
pub fn rubric_yaml() -> String {
    r#"format: assay.rubric/v1
id: workplace-digital-skills
version: "2027.1"
title: Workplace Digital Skills
summary: >
  Recognises the digital skills that people build up at work, in community groups and on
  their own: using everyday digital tools well, finding and judging information, working
  with others online, solving problems with data, and staying safe. The learner assembles
  a short portfolio of real work and reflects on it.
credential:
  awarding_body:
    name: Example Regional Skills Centre
    id: https://skills.example.org/
    country: PL
  eqf_level: 4
  ects: 3
  workload_hours: 75
  pathway: horizontal
  participation: blended
  assessment: Portfolio of workplace evidence with a reflective statement, assessed against published criteria.
  quality_assurance: Centre QA procedures; every not-yet, referral and override and a 10% sample are second-marked blind.
  prerequisites: None. Learners need at least six months of work or volunteering in which they used digital tools.
  identity_verification: Photo ID checked at enrolment.
  stackability: Counts towards the Certificate in Digital Work (15 ECTS).
  tags: [digital skills, workplace learning, rpl, DigComp]
learning_outcomes:
  - id: LO1
    text: Use common digital tools to create, organise and share work products.
  - id: LO2
    text: Find, evaluate and cite information and data for a work task.
  - id: LO3
    text: Collaborate and communicate with colleagues and clients through digital channels.
  - id: LO4
    text: Solve a practical problem with digital tools and explain the choices made.
  - id: LO5
    text: Protect devices, personal data and own wellbeing in a digital workplace.
gates:
  - id: identity
    text: The learner's identity has been verified against photo ID.
  - id: authenticity
    text: The learner has declared that the evidence is their own work.
  - id: currency
    text: The main evidence was produced within the last three years.
criteria:
  - id: digital-tools
    title: Using digital tools to produce work
    outcomes: [LO1]
    weight: 2
    required: true
    guidance: >
      Look for finished work products (documents, spreadsheets, presentations, forms) that
      the learner made for a real purpose, and for how they organised and shared them.
    levels:
      - id: not-yet
        label: Not yet demonstrated
        points: 0
        descriptor: No work product made with digital tools is shown, or it is a copied template.
      - id: developing
        label: Developing
        points: 1
        descriptor: Simple work products with help; files are organised inconsistently.
      - id: competent
        label: Competent
        points: 2
        meets: true
        descriptor: Produces clear work products for a real purpose and organises and shares them sensibly.
      - id: proficient
        label: Proficient
        points: 3
        descriptor: Chooses tools well for the task, automates repetitive steps and helps others do the same.
  - id: information
    title: Finding and judging information
    outcomes: [LO2]
    weight: 1.5
    levels:
      - id: not-yet
        label: Not yet demonstrated
        points: 0
        descriptor: Information is used without checking where it came from.
      - id: competent
        label: Competent
        points: 1
        descriptor: Finds information for a task, checks the source and says where it came from.
      - id: proficient
        label: Proficient
        points: 2
        descriptor: Compares several sources, weighs their reliability and explains the choice.
  - id: communication
    title: Communicating and collaborating online
    outcomes: [LO3]
    levels:
      - id: not-yet
        label: Not yet demonstrated
        points: 0
        descriptor: No example of working with others through digital channels.
      - id: competent
        label: Competent
        points: 1
        descriptor: Uses shared documents, chat or video calls to get a joint task done.
      - id: proficient
        label: Proficient
        points: 2
        descriptor: Sets up or improves how a team works together online and shows the result.
  - id: problem-solving
    title: Solving a problem with digital tools
    outcomes: [LO4]
    weight: 1.5
    required: true
    levels:
      - id: not-yet
        label: Not yet demonstrated
        points: 0
        descriptor: No problem is described, or the solution is not the learner's own.
      - id: competent
        label: Competent
        points: 2
        meets: true
        descriptor: Describes a real problem, the digital solution chosen and whether it worked.
      - id: proficient
        label: Proficient
        points: 3
        descriptor: Compares options, measures the effect and reflects on what to do differently.
  - id: safety-wellbeing
    title: Safety, privacy and wellbeing
    outcomes: [LO5]
    weight: 0.5
    levels:
      - id: not-yet
        label: Not yet demonstrated
        points: 0
        descriptor: No account of protecting data, devices or wellbeing.
      - id: competent
        label: Competent
        points: 1
        descriptor: Shows sensible practice with passwords, personal data and screen time, with an example.
decision:
  pass_mark: 55
  grades:
    - { name: Distinction, min: 85 }
    - { name: Merit, min: 70 }
    - { name: Pass, min: 55 }
moderation:
  sample_percent: 10
  sample_min: 3
  always: [not_yet, referred, override]
  borderline_margin: 3
  blind: true
"#
    .to_string()
}

/// A large rubric for the loading benchmark: `criteria` criteria of five levels each, with
/// descriptors and guidance of realistic length (about 4 KiB a criterion; 230 criteria come to
/// about 900 KiB, just under the 1 MiB limit).
pub fn large_rubric_yaml(criteria: usize) -> String {
    let mut rng = SplitMix64::new(criteria as u64);
    let outcomes = criteria.div_ceil(4);
    let mut s = String::with_capacity(criteria * 6000);
    s.push_str(
        "format: assay.rubric/v1\nid: large-rubric\nversion: \"1\"\ntitle: A large rubric\nsummary: >\n  Many criteria with long descriptors, for the loading benchmark.\ncredential:\n  awarding_body:\n    name: Example Institute\n    id: https://example.edu/\n    country: IE\n  eqf_level: 5\n  ects: 10\n  pathway: vertical\n  participation: online\n  assessment: Portfolio\n  quality_assurance: Institute QA policy\nlearning_outcomes:\n",
    );
    for o in 0..outcomes {
        let _ = writeln!(
            s,
            "  - id: LO{o}\n    text: {}",
            sentence(&mut rng, 14).trim_end_matches('.')
        );
    }
    s.push_str("gates:\n");
    for g in 0..6 {
        let _ = writeln!(s, "  - id: gate-{g}\n    text: {}", sentence(&mut rng, 12));
    }
    s.push_str("criteria:\n");
    for c in 0..criteria {
        let _ = writeln!(
            s,
            "  - id: C{c}\n    title: {}\n    outcomes: [LO{}]\n    weight: {}.{}\n    required: {}\n    guidance: >\n      {}\n      {}\n    levels:",
            sentence(&mut rng, 5).trim_end_matches('.'),
            c / 4,
            1 + rng.below(3),
            rng.below(1000),
            c % 5 == 0,
            sentence(&mut rng, 30),
            sentence(&mut rng, 30),
        );
        for l in 0..5 {
            let _ = writeln!(
                s,
                "      - id: level-{l}\n        label: Level {l}\n        points: {}{}\n        descriptor: >\n          {}\n          {}",
                l * 2,
                if l == 2 { "\n        meets: true" } else { "" },
                sentence(&mut rng, 40),
                sentence(&mut rng, 40),
            );
        }
    }
    s.push_str(
        "decision:\n  pass_mark: 50\n  grades:\n    - { name: Distinction, min: 85 }\n    - { name: Merit, min: 70 }\n    - { name: Pass, min: 50 }\n",
    );
    s
}

// ---------------------------------------------------------------------------------------------
// Words
// ---------------------------------------------------------------------------------------------

const FIRST: &[&str] = &[
    "Aoife",
    "Siobhán",
    "Ciarán",
    "Eoin",
    "Niamh",
    "Łukasz",
    "Małgorzata",
    "Wojciech",
    "Zofia",
    "Agnieszka",
    "Marta",
    "Ivana",
    "Dražen",
    "Goran",
    "Mateja",
    "Jürgen",
    "Sören",
    "Lena",
    "Jonas",
    "Mia",
    "Amélie",
    "François",
    "Loïc",
    "Chloé",
    "Hélène",
    "José",
    "Begoña",
    "Nuria",
    "Iñaki",
    "Lucía",
    "João",
    "Conceição",
    "Gonçalo",
    "Inês",
    "Tomáš",
    "Jiří",
    "Kateřina",
    "Zuzana",
    "Gergő",
    "Zsófia",
    "Bálint",
    "Åsa",
    "Björn",
    "Sigrún",
    "Øystein",
    "Mikkel",
    "Eleni",
    "Giorgos",
    "Nikos",
    "Çağla",
    "Murat",
    "Ayşe",
    "Giulia",
    "Lorenzo",
    "Chiara",
    "Andrei",
    "Ioana",
    "Mihai",
    "Aino",
    "Eetu",
    "Olga",
    "Dmytro",
    "Sarah",
    "James",
    "Priya",
    "Mohammed",
    "Fatima",
    "Kwame",
    "Chen",
    "Thu",
];

const LAST: &[&str] = &[
    "Byrne",
    "Ó Súilleabháin",
    "Mac Giolla Phádraig",
    "Murphy",
    "Kelly",
    "Wójcik",
    "Kowalczyk",
    "Lewandowski",
    "Zieliński",
    "Szymańska",
    "Kovačević",
    "Horvat",
    "Babić",
    "Marić",
    "Jurić",
    "Müller",
    "Schröder",
    "Weiß",
    "Köhler",
    "Groß",
    "Dubois",
    "Lefèvre",
    "Girard",
    "Rousseau",
    "Mercier",
    "García",
    "Martínez",
    "Fernández",
    "Núñez",
    "Ibáñez",
    "Gonçalves",
    "Conceição",
    "Simões",
    "Magalhães",
    "Novák",
    "Dvořák",
    "Černý",
    "Procházková",
    "Nagy",
    "Kovács",
    "Szabó",
    "Tóth",
    "Lindqvist",
    "Öberg",
    "Jónsdóttir",
    "Sæther",
    "Østergaard",
    "Papadopoulou",
    "Georgiou",
    "Yılmaz",
    "Öztürk",
    "Şahin",
    "Rossi",
    "Ferrari",
    "Esposito",
    "Popescu",
    "Ionescu",
    "Virtanen",
    "Mäkinen",
    "Shevchenko",
    "Kovalenko",
    "O'Brien",
    "Smith",
    "Patel",
    "Khan",
    "Mensah",
    "Nguyen",
    "Walsh",
    "Doherty",
    "Fitzgerald",
];

const WORDS: &[&str] = &[
    "spreadsheet",
    "rota",
    "customer",
    "invoice",
    "report",
    "weekly",
    "team",
    "shared",
    "folder",
    "template",
    "dashboard",
    "survey",
    "volunteers",
    "booking",
    "stock",
    "warehouse",
    "clinic",
    "school",
    "parish",
    "club",
    "analysis",
    "figures",
    "checked",
    "improved",
    "automated",
    "formula",
    "pivot",
    "chart",
    "meeting",
    "minutes",
    "email",
    "newsletter",
    "website",
    "form",
    "privacy",
    "password",
    "backup",
    "training",
    "colleagues",
    "manager",
    "deadline",
    "errors",
    "duplicates",
    "sources",
    "reliable",
    "compared",
    "explained",
    "decided",
    "measured",
    "reduced",
    "hours",
    "cost",
    "quality",
    "feedback",
    "process",
    "schedule",
    "records",
    "tablet",
    "laptop",
    "cloud",
    "calendar",
    "video",
    "call",
    "chat",
    "document",
    "version",
    "history",
    "audit",
    "data",
    "personal",
    "consent",
    "GDPR",
    "screen",
    "break",
    "wellbeing",
    "workflow",
    "task",
    "list",
    "priority",
    "the",
    "a",
    "and",
    "with",
    "for",
    "of",
    "to",
    "in",
    "our",
    "my",
    "we",
    "I",
    "was",
    "were",
    "after",
    "before",
    "every",
    "each",
    "new",
    "old",
];

const TITLES: &[&str] = &[
    "Weekly rota rebuilt as a shared spreadsheet",
    "Customer survey analysis for the parish hall",
    "Stock-take dashboard at the warehouse",
    "Newsletter produced for the sports club",
    "Booking form moved online at the clinic",
    "Invoice tracker with automatic reminders",
    "Volunteer induction pack and video call guide",
    "Comparison of three suppliers' price lists",
    "Password and backup routine for the office",
    "Meeting minutes template and shared folder",
    "Course certificate, spreadsheet skills",
    "Online course transcript, digital safety",
    "Reflective log of a data clean-up",
    "Website update for the community garden",
    "Time-saving macro for the monthly report",
    "Chart of waiting times for the manager",
];

const PLACES: &[&str] = &[
    "Limerick",
    "Gdańsk",
    "Zagreb",
    "Köln",
    "Lyon",
    "Sevilla",
    "Porto",
    "Brno",
    "Pécs",
    "Malmö",
    "Tampere",
    "Thessaloníki",
    "İzmir",
    "Torino",
    "Cluj-Napoca",
    "Cork",
];

fn pick<'a>(rng: &mut SplitMix64, from: &[&'a str]) -> &'a str {
    from[rng.below(from.len() as u64) as usize]
}

fn sentence(rng: &mut SplitMix64, words: usize) -> String {
    let mut s = String::new();
    for i in 0..words {
        let w = pick(rng, WORDS);
        if i == 0 {
            let mut c = w.chars();
            if let Some(f) = c.next() {
                s.extend(f.to_uppercase());
                s.push_str(c.as_str());
            }
        } else {
            s.push(' ');
            s.push_str(w);
        }
    }
    s.push('.');
    s
}

fn paragraph(rng: &mut SplitMix64, bytes: usize) -> String {
    let mut s = String::with_capacity(bytes + 100);
    while s.len() < bytes {
        let n = 6 + rng.below(12) as usize;
        s.push_str(&sentence(rng, n));
        s.push(' ');
    }
    s.push('\n');
    s
}

// ---------------------------------------------------------------------------------------------
// Portfolios
// ---------------------------------------------------------------------------------------------

/// A portfolio's id from its number.
pub fn portfolio_id(i: usize) -> String {
    format!("P-27-{i:06}")
}

/// One evidence item of a generated portfolio.
pub struct EvidenceSpec {
    pub id: &'static str,
    pub title: String,
    pub kind: &'static str,
    pub file: &'static str,
    pub date: String,
    pub hours: u64,
    pub claims: Vec<&'static str>,
    pub note: Option<String>,
}

/// Everything the manifest of portfolio `i` says.
pub struct PortfolioSpec {
    pub id: String,
    pub learner_id: String,
    pub name: String,
    pub email: Option<String>,
    pub submitted: String,
    pub evidence: Vec<EvidenceSpec>,
}

pub fn rng_for(i: usize, salt: u64) -> SplitMix64 {
    SplitMix64::new((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt)
}

pub fn portfolio_spec(i: usize) -> PortfolioSpec {
    let mut rng = rng_for(i, 0x5eed);
    let first = pick(&mut rng, FIRST);
    let last = pick(&mut rng, LAST);
    let name = format!("{first} {last}");
    let email = (rng.below(10) < 7).then(|| {
        let local: String = deunicode_ascii(&format!("{first}.{last}"))
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
            .collect::<String>()
            .to_ascii_lowercase();
        format!("{local}{}@example.org", rng.below(100))
    });
    let c = |k: usize| CRITERIA[k].0;
    let place = pick(&mut rng, PLACES);
    let evidence = vec![
        EvidenceSpec {
            id: "E1",
            title: format!("{} ({place})", pick(&mut rng, TITLES)),
            kind: "informal",
            file: "evidence/report.md",
            date: format!("2026-{:02}", 1 + rng.below(12)),
            hours: 5 + rng.below(40),
            claims: vec![c(0), c(3), c(4)],
            note: Some(sentence(&mut rng, 12)),
        },
        EvidenceSpec {
            id: "E2",
            title: format!("{} — data log", pick(&mut rng, TITLES)),
            kind: "informal",
            file: "evidence/log.csv",
            date: format!("2026-{:02}-{:02}", 1 + rng.below(12), 1 + rng.below(28)),
            hours: 1 + rng.below(10),
            claims: vec![c(1), c(3)],
            note: None,
        },
        EvidenceSpec {
            id: "E3",
            title: format!("Certificate: {}", pick(&mut rng, TITLES)),
            kind: if rng.below(2) == 0 {
                "formal"
            } else {
                "non-formal"
            },
            file: "evidence/certificate.pdf",
            date: format!("{}", 2024 + rng.below(3)),
            hours: 10 + rng.below(30),
            claims: vec![c(0), c(2)],
            note: Some(format!("Issued by a training provider in {place}.")),
        },
    ];
    PortfolioSpec {
        id: portfolio_id(i),
        learner_id: format!("L-{:07}", 1_000_000 + i * 7 % 9_000_000),
        name,
        email,
        submitted: format!("2027-{:02}-{:02}", 1 + rng.below(6), 1 + rng.below(28)),
        evidence,
    }
}

/// ASCII folding for e-mail addresses (the importer folds search text with `deunicode`; this is
/// only for the generated addresses).
fn deunicode_ascii(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' | 'à' | 'ä' | 'â' | 'ã' | 'å' => 'a',
            'é' | 'è' | 'ë' | 'ê' | 'ę' => 'e',
            'í' | 'ì' | 'ï' | 'î' | 'ı' => 'i',
            'ó' | 'ò' | 'ö' | 'ô' | 'õ' | 'ø' | 'ő' => 'o',
            'ú' | 'ù' | 'ü' | 'û' | 'ű' => 'u',
            'ç' | 'č' | 'ć' => 'c',
            'š' | 'ş' | 'ś' => 's',
            'ž' | 'ż' | 'ź' => 'z',
            'ł' => 'l',
            'ñ' | 'ń' => 'n',
            'ř' => 'r',
            'ğ' => 'g',
            'đ' => 'd',
            'ß' => 's',
            'æ' => 'a',
            'Ł' => 'L',
            'Ö' | 'Ø' => 'O',
            'Å' | 'Á' => 'A',
            'Ş' => 'S',
            'Č' => 'C',
            'Ó' => 'O',
            'İ' => 'I',
            other => other,
        })
        .collect()
}

/// The manifest of a generated portfolio.
pub fn manifest_yaml(p: &PortfolioSpec) -> String {
    let mut s = String::with_capacity(1500);
    let _ = writeln!(
        s,
        "format: assay.portfolio/v1\nid: {}\nrubric: {RUBRIC_ID}\nlearner:\n  id: {}\n  name: \"{}\"",
        p.id,
        p.learner_id,
        p.name.replace('"', "\\\"")
    );
    if let Some(e) = &p.email {
        let _ = writeln!(s, "  email: {e}");
    }
    let _ = writeln!(
        s,
        "submitted: {}\nstatement: statement.md\nevidence:",
        p.submitted
    );
    for e in &p.evidence {
        let _ = writeln!(
            s,
            "  - id: {}\n    title: \"{}\"\n    kind: {}\n    file: {}\n    date: \"{}\"\n    hours: {}\n    claims: [{}]",
            e.id,
            e.title.replace('"', "\\\""),
            e.kind,
            e.file,
            e.date,
            e.hours,
            e.claims.join(", ")
        );
        if let Some(n) = &e.note {
            let _ = writeln!(s, "    note: \"{}\"", n.replace('"', "\\\""));
        }
    }
    s
}

/// The files of portfolio `i`: (relative path, bytes). About 21 KiB in all: manifest ~1 KiB,
/// statement ~1.5 KiB, report 2–5 KiB, CSV log 1–3 KiB, PDF 8–16 KiB.
pub fn portfolio_files(i: usize) -> Vec<(&'static str, Vec<u8>)> {
    portfolio_files_sized(i, false)
}

/// [`portfolio_files`], or with `small`, the same files with a few hundred bytes each (for
/// benchmarks that need many portfolios in a workspace quickly, not their evidence).
pub fn portfolio_files_sized(i: usize, small: bool) -> Vec<(&'static str, Vec<u8>)> {
    let p = portfolio_spec(i);
    let mut rng = rng_for(i, 0xf11e);
    if small {
        return vec![
            ("portfolio.yaml", manifest_yaml(&p).into_bytes()),
            ("statement.md", paragraph(&mut rng, 200).into_bytes()),
            ("evidence/report.md", paragraph(&mut rng, 300).into_bytes()),
            (
                "evidence/log.csv",
                format!("date,task\n2026-01-0{},{i}\n", i % 9 + 1).into_bytes(),
            ),
            (
                "evidence/certificate.pdf",
                [b"%PDF-1.7\n".as_slice(), &rng.next_u64().to_le_bytes()].concat(),
            ),
        ];
    }
    let mut report = format!("# {}\n\n", p.evidence[0].title);
    for _ in 0..(2 + rng.below(4)) {
        let len = 500 + rng.below(500) as usize;
        report.push_str(&paragraph(&mut rng, len));
        report.push('\n');
    }
    let mut log = String::from("date,task,minutes,result\n");
    for r in 0..(30 + rng.below(60)) {
        let _ = writeln!(
            log,
            "2026-{:02}-{:02},{},{},{}",
            1 + r % 12,
            1 + r % 28,
            pick(&mut rng, WORDS),
            5 + rng.below(120),
            pick(&mut rng, &["done", "checked", "redone", "shared"])
        );
    }
    let mut pdf =
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\nstream\n".to_vec();
    let len = 8 * 1024 + rng.below(8 * 1024) as usize;
    while pdf.len() < len {
        pdf.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    pdf.extend_from_slice(b"\nendstream\n%%EOF\n");
    let statement = format!(
        "# Reflective statement — {}\n\n{}\n{}",
        p.name,
        paragraph(&mut rng, 700),
        paragraph(&mut rng, 700)
    );
    vec![
        ("portfolio.yaml", manifest_yaml(&p).into_bytes()),
        ("statement.md", statement.into_bytes()),
        ("evidence/report.md", report.into_bytes()),
        ("evidence/log.csv", log.into_bytes()),
        ("evidence/certificate.pdf", pdf),
    ]
}

/// The text the queue filter matches for portfolio `i`, built as the importer builds it (ids,
/// learner, rubric, evidence titles, then the same folded to ASCII when that differs).
pub fn search_text(i: usize) -> String {
    let p = portfolio_spec(i);
    let mut s = format!(
        "{} {} {} {RUBRIC_ID}@{RUBRIC_VERSION}",
        p.id, p.learner_id, p.name
    );
    for e in &p.evidence {
        s.push(' ');
        s.push_str(&e.title);
    }
    let folded = deunicode_ascii(&s);
    if folded != s {
        s.push(' ');
        s.push_str(&folded);
    }
    s
}

/// Writes the rubric to `dir/rubrics/` and portfolios `0..n` to `dir/portfolios/`, on all
/// cores. Returns (rubric file, portfolios folder).
pub fn write_files(dir: &Path, n: usize) -> std::io::Result<(PathBuf, PathBuf)> {
    write_files_sized(dir, n, false)
}

/// [`write_files`], with small evidence files when `small` (see [`portfolio_files_sized`]).
pub fn write_files_sized(dir: &Path, n: usize, small: bool) -> std::io::Result<(PathBuf, PathBuf)> {
    let rdir = dir.join("rubrics");
    let pdir = dir.join("portfolios");
    std::fs::create_dir_all(&rdir)?;
    std::fs::create_dir_all(&pdir)?;
    let rubric = rdir.join(format!("{RUBRIC_ID}.yaml"));
    std::fs::write(&rubric, rubric_yaml())?;
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let pdir = &pdir;
                s.spawn(move || -> std::io::Result<()> {
                    for i in (t..n).step_by(threads) {
                        let d = pdir.join(portfolio_id(i));
                        std::fs::create_dir_all(d.join("evidence"))?;
                        for (rel, bytes) in portfolio_files_sized(i, small) {
                            std::fs::write(d.join(rel), bytes)?;
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .try_for_each(|h| h.join().expect("writer thread"))
    })?;
    Ok((rubric, pdir))
}

// ---------------------------------------------------------------------------------------------
// Marking through the services
// ---------------------------------------------------------------------------------------------

/// How the generated workspace is spread over the statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Every status: about 15 % new, 10 % in progress, 10 % submitted, a few % sampled and
    /// moderated, about 30 % released and 30 % exported.
    Mixed,
    /// Every portfolio marked, moderated where drawn, and released (none exported): for the
    /// export benchmarks.
    Released,
    /// Imported only: every portfolio `new`.
    New,
}

impl Profile {
    pub fn parse(s: &str) -> Option<Profile> {
        match s {
            "mixed" => Some(Profile::Mixed),
            "released" => Some(Profile::Released),
            "new" => Some(Profile::New),
            _ => None,
        }
    }
}

pub const ASSESSORS: usize = 12;
pub const MODERATORS: usize = 4;

pub fn assessor(i: usize) -> String {
    format!("assessor{:02}", i % ASSESSORS + 1)
}
pub fn moderator(i: usize) -> String {
    format!("moderator{}", i % MODERATORS + 1)
}

/// Counts of what the fill did.
#[derive(Debug, Default, Clone)]
pub struct Filled {
    pub service_calls: usize,
    pub submitted: usize,
    pub drawn: usize,
    pub settled: usize,
    pub exported: usize,
}

type AnyResult<T> = Result<T, Box<dyn std::error::Error>>;

fn as_user(ws: &mut Workspace, who: &str) {
    if ws.user != who {
        ws.user = who.to_string();
    }
}

/// Chooses levels for portfolio `i` (a second marker's differ now and then).
fn levels_for(i: usize, second: bool) -> Vec<(&'static str, &'static str)> {
    let mut rng = rng_for(i, if second { 0x005e_c00d } else { 0x1e5e1 });
    let weak = rng_for(i, 0x1e5e1).below(100) < 9; // about 9 % fall short
    CRITERIA
        .iter()
        .map(|(c, levels)| {
            let n = levels.len() as u64;
            // the lowest level that meets the criterion
            let meets = levels.iter().position(|l| *l == "competent").unwrap_or(1) as u64;
            let idx = if weak && rng.below(3) == 0 {
                rng.below(meets)
            } else {
                meets + rng.below(n - meets)
            };
            (*c, levels[idx as usize])
        })
        .collect()
}

/// Registers the people who work in the generated workspace: a lead, the assessors and the
/// moderators.
pub fn register_people(ws: &mut Workspace) -> AnyResult<()> {
    as_user(ws, "lead");
    ws.add_user("lead", Role::Lead, None)?;
    for i in 0..ASSESSORS {
        ws.add_user(&assessor(i), Role::Assessor, None)?;
    }
    for i in 0..MODERATORS {
        ws.add_user(&moderator(i), Role::Moderator, None)?;
    }
    Ok(())
}

/// First marking of portfolio `i` through `Workspace::save`: every level (or only some, when
/// `complete` is false), some feedback, the gates, an overall comment, now and then a referral
/// or an override.
pub fn first_mark(ws: &mut Workspace, i: usize, complete: bool, f: &mut Filled) -> AnyResult<()> {
    let id = portfolio_id(i);
    as_user(ws, &assessor(i));
    let mut rng = rng_for(i, 0xfeed);
    let levels = levels_for(i, false);
    let take = if complete {
        levels.len()
    } else {
        1 + rng.below(levels.len() as u64 - 1) as usize
    };
    let mut save = |ws: &mut Workspace, c: Change| -> AnyResult<()> {
        ws.save(&id, Phase::First, &c, None)?;
        f.service_calls += 1;
        Ok(())
    };
    for (c, l) in levels.iter().take(take) {
        save(ws, Change::Level(c.to_string(), Some(l.to_string())))?;
        if rng.below(10) < 3 {
            let words = 10 + rng.below(20) as usize;
            let text = sentence(&mut rng, words);
            save(ws, Change::Feedback(c.to_string(), Some(text)))?;
        }
    }
    if !complete {
        return Ok(());
    }
    let open_gate = rng.below(100) < 3;
    for (k, g) in GATES.iter().enumerate() {
        if !(open_gate && k == GATES.len() - 1) {
            save(ws, Change::Gate(g.to_string(), true))?;
        }
    }
    if rng.below(2) == 0 {
        save(ws, Change::Comment(Some(paragraph(&mut rng, 200))))?;
    }
    let r = rng.below(100);
    if r < 2 {
        let why = "The report's figures match another learner's portfolio; referred to the integrity panel.";
        save(
            ws,
            Change::Choice(Some(Outcome::Referred), Some(why.to_string())),
        )?;
    } else if r < 3 {
        let (eval, _) = ws.preview(&id, Phase::First)?;
        let other = if eval.outcome == Outcome::Awarded {
            Outcome::NotYet
        } else {
            Outcome::Awarded
        };
        let why = "The professional conversation showed more (or less) than the written evidence.";
        save(ws, Change::Choice(Some(other), Some(why.to_string())))?;
    }
    Ok(())
}

fn submit_first(ws: &mut Workspace, i: usize, f: &mut Filled) -> AnyResult<()> {
    as_user(ws, &assessor(i));
    ws.submit(&portfolio_id(i), Phase::First, None, None, None)?;
    f.service_calls += 1;
    f.submitted += 1;
    Ok(())
}

/// Blind second marking of a drawn portfolio, submitted.
pub fn second_mark(ws: &mut Workspace, i: usize, f: &mut Filled) -> AnyResult<()> {
    let id = portfolio_id(i);
    as_user(ws, &moderator(i));
    for (c, l) in levels_for(i, true) {
        ws.save(
            &id,
            Phase::Second,
            &Change::Level(c.to_string(), Some(l.to_string())),
            None,
        )?;
        f.service_calls += 1;
    }
    for g in GATES {
        ws.save(&id, Phase::Second, &Change::Gate(g.to_string(), true), None)?;
        f.service_calls += 1;
    }
    ws.submit(&id, Phase::Second, None, None, None)?;
    f.service_calls += 1;
    Ok(())
}

/// Settles a second-marked portfolio: mostly confirmed, one in five amended.
pub fn settle(ws: &mut Workspace, i: usize, f: &mut Filled) -> AnyResult<()> {
    as_user(ws, &moderator(i));
    let amend = rng_for(i, 0x5e771e).below(5) == 0;
    if amend {
        ws.settle(
            &portfolio_id(i),
            Settle::Amend,
            Some("The second marks reflect the evidence better; agreed with the assessor.".into()),
            None,
        )?;
    } else {
        ws.settle(&portfolio_id(i), Settle::Confirm, None, None)?;
    }
    f.service_calls += 1;
    f.settled += 1;
    Ok(())
}

/// The drawn portfolios of a draw, as indices.
fn draw(ws: &mut Workspace, seed: u64, f: &mut Filled) -> AnyResult<Vec<usize>> {
    as_user(ws, &moderator(0));
    let d = ws.draw_sample(None, Some(seed))?;
    f.service_calls += 1;
    let drawn: Vec<usize> = d
        .picks
        .iter()
        .filter(|(_, p)| p.drawn)
        .filter_map(|(_, p)| p.id.strip_prefix("P-27-")?.parse().ok())
        .collect();
    f.drawn += drawn.len();
    Ok(drawn)
}

fn release(ws: &mut Workspace, f: &mut Filled) -> AnyResult<usize> {
    as_user(ws, &moderator(0));
    let r = ws.release(None)?;
    f.service_calls += 1;
    Ok(r.released.len())
}

/// Which share of the workspace portfolio `i` falls in (0..100).
fn bucket(i: usize) -> u64 {
    rng_for(i, 0xb0c4e7).below(100)
}

/// Fills a workspace holding the imported portfolios `0..n` with marking, moderation, release
/// and export by `profile`, entirely through the application services. `exports` is where the
/// mixed profile's CSV export is written. `log` receives progress lines.
pub fn fill(
    ws: &mut Workspace,
    n: usize,
    profile: Profile,
    exports: &Path,
    log: &mut dyn FnMut(&str),
) -> AnyResult<Filled> {
    let mut f = Filled::default();
    if profile == Profile::New {
        return Ok(f);
    }
    register_people(ws)?;
    let started = Instant::now();
    let mut report = |f: &Filled, what: &str| {
        let s = started.elapsed().as_secs_f64();
        log(&format!(
            "  {what}: {} service calls in {s:.1}s ({:.0}/s)",
            f.service_calls,
            f.service_calls as f64 / s.max(1e-9)
        ));
    };
    let (a, b, c, d): (Vec<usize>, Vec<usize>, Vec<usize>, Vec<usize>) = match profile {
        Profile::Released => ((0..n).collect(), vec![], vec![], vec![]),
        _ => {
            let of = |lo: u64, hi: u64| -> Vec<usize> {
                (0..n).filter(|&i| (lo..hi).contains(&bucket(i))).collect()
            };
            (of(0, 35), of(35, 65), of(65, 75), of(75, 85))
        }
    };
    // Cohort A: marked, submitted, drawn, moderated where drawn, released (and, in the mixed
    // profile, exported).
    for (k, &i) in a.iter().enumerate() {
        first_mark(ws, i, true, &mut f)?;
        submit_first(ws, i, &mut f)?;
        if k % 5000 == 4999 {
            report(&f, &format!("cohort A first marking {}/{}", k + 1, a.len()));
        }
    }
    if !a.is_empty() {
        let drawn = draw(ws, 1, &mut f)?;
        for &i in &drawn {
            second_mark(ws, i, &mut f)?;
            settle(ws, i, &mut f)?;
        }
        release(ws, &mut f)?;
        report(&f, "cohort A moderated and released");
    }
    if profile == Profile::Mixed && !a.is_empty() {
        as_user(ws, &moderator(0));
        std::fs::create_dir_all(exports)?;
        let r = ws.export(
            assay::app::export::Format::Csv,
            &exports.join("cohort-a.csv"),
            None,
            false,
            false,
            &mut |_, _| {},
        )?;
        f.service_calls += 1;
        f.exported += r.count;
        report(&f, "cohort A exported");
    }
    // Cohort B: drawn portfolios at every stage of moderation; the rest released.
    for &i in &b {
        first_mark(ws, i, true, &mut f)?;
        submit_first(ws, i, &mut f)?;
    }
    if !b.is_empty() {
        let drawn = draw(ws, 2, &mut f)?;
        let stage = |i: usize| rng_for(i, 0x57a6e).below(100);
        for &i in &drawn {
            if stage(i) < 88 {
                second_mark(ws, i, &mut f)?;
            }
            if stage(i) < 55 {
                settle(ws, i, &mut f)?;
            }
        }
        release(ws, &mut f)?;
        for &i in &drawn {
            if (55..75).contains(&stage(i)) {
                settle(ws, i, &mut f)?;
            }
        }
        report(&f, "cohort B marked, drawn, partly moderated and released");
    }
    // Cohort C: submitted after the last draw. Cohort D: marking under way.
    for &i in &c {
        first_mark(ws, i, true, &mut f)?;
        submit_first(ws, i, &mut f)?;
    }
    for &i in &d {
        first_mark(ws, i, false, &mut f)?;
    }
    if !(c.is_empty() && d.is_empty()) {
        report(&f, "cohorts C and D marked");
    }
    Ok(f)
}

// ---------------------------------------------------------------------------------------------
// Workspaces for the benchmarks
// ---------------------------------------------------------------------------------------------

/// A workspace built for a benchmark run, in a temporary folder removed at the end.
pub struct Built {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub rubric: PathBuf,
    pub portfolios: PathBuf,
    pub n: usize,
}

/// The number of portfolios a benchmark wants: `default`, or `ASSAY_BENCH_N` when set (to make a
/// run shorter or larger).
pub fn bench_n(default: usize) -> usize {
    std::env::var("ASSAY_BENCH_N")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// Writes `n` portfolio folders (small evidence when `small`), imports them into a new workspace
/// through `Workspace::import` and fills it by `profile` through the services. Says on stderr
/// what it built and how long it took.
pub fn build(n: usize, profile: Profile, small: bool) -> Built {
    let t = Instant::now();
    let dir = tempfile::Builder::new()
        .prefix("assay-bench-")
        .tempdir()
        .expect("a temporary folder");
    let (rubric, portfolios) = write_files_sized(dir.path(), n, small).expect("files written");
    let db = dir.path().join("assay.db");
    let mut ws = Workspace::open(&db, "lead".into()).expect("workspace");
    ws.skip_fsync().expect("pragma");
    let s = ws
        .import(&[rubric.clone(), portfolios.clone()], &mut |_, _| {})
        .expect("import");
    assert!(s.rejected.is_empty(), "{:?}", s.rejected.first());
    fill(
        &mut ws,
        n,
        profile,
        &dir.path().join("exports"),
        &mut |_| {},
    )
    .expect("fill");
    ws.checkpoint(false).expect("checkpoint");
    eprintln!(
        "benchmark workspace: {n} portfolios ({profile:?}{}) built in {:.1}s",
        if small { ", small evidence" } else { "" },
        t.elapsed().as_secs_f64()
    );
    Built {
        dir,
        db,
        rubric,
        portfolios,
        n,
    }
}
