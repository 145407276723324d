//! LEAP2A exports of e-portfolio systems, imported on the built binary: a Mahara export (its
//! archived namespaces, a collection of pages, journal entries in XHTML and HTML, files) and a
//! Moodle one (`content src`), as zips and unpacked; the assessor's links; hostile archives
//! refused whole.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};

use support::*;

const ENERGY: [&str; 4] = ["energy-use", "measures", "action", "sharing"];

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/leap2a").join(name)
}

/// The files of a folder, by path relative to it, sorted.
fn files_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

enum Entry<'a> {
    File(&'a str, &'a [u8]),
    Link(&'a str, &'a str),
}

fn write_zip(path: &Path, entries: &[Entry<'_>]) {
    let f = std::fs::File::create(path).unwrap();
    let mut z = zip::ZipWriter::new(f);
    let o = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for e in entries {
        match e {
            Entry::File(name, bytes) => {
                z.start_file(*name, o).unwrap();
                z.write_all(bytes).unwrap();
            }
            Entry::Link(name, target) => z.add_symlink(*name, *target, o).unwrap(),
        }
    }
    z.finish().unwrap();
}

/// A zip of a fixture export, its files at the top (as Mahara and Moodle write them).
fn zipped(ws: &Ws, name: &str) -> PathBuf {
    let files = files_of(&fixture(name));
    let entries: Vec<Entry<'_>> = files
        .iter()
        .map(|(n, b)| Entry::File(n.as_str(), b.as_slice()))
        .collect();
    let path = ws.path(&format!("{name}-export.zip"));
    write_zip(&path, &entries);
    path
}

fn energy_ws() -> Ws {
    let ws = Ws::new();
    ws.ok(
        "ann",
        &[
            "import".as_ref(),
            rubric_file("sustainable-home-energy").as_os_str(),
        ],
    );
    ws
}

fn import_export(ws: &Ws, path: &Path) -> Out {
    ws.run(
        "ann",
        &[
            "import".as_ref(),
            "--rubric".as_ref(),
            "sustainable-home-energy".as_ref(),
            path.as_os_str(),
        ],
    )
}

fn only_portfolio(ws: &Ws) -> String {
    let list = ws.list("ann");
    assert_eq!(list.len(), 1, "{list:?}");
    list[0]["id"].as_str().unwrap().to_string()
}

#[test]
fn a_mahara_export_becomes_a_portfolio_in_its_pages() {
    let ws = energy_ws();
    let zip = zipped(&ws, "mahara");
    let o = import_export(&ws, &zip);
    assert_eq!(o.code, Some(0), "{o:?}");
    assert!(o.stdout.contains("1 new"), "{o:?}");
    assert!(
        o.stderr.contains("converted from the LEAP2A export"),
        "{o:?}"
    );
    let id = only_portfolio(&ws);
    assert!(id.starts_with("P-L2A-"), "{id}");
    let row = ws.row("ann", &id);
    assert_eq!(row["learner_name"], "Siobhán Ní Bhriain", "{row}");
    let show = ws.ok("ann", &["show", &id]);
    // the statement, the pages as groups in their order, the texts readable, the files hashed
    assert!(
        show.contains("I measured what we used, changed two things"),
        "{show}"
    );
    let measuring = show
        .find("in   Home energy portfolio › Measuring our use")
        .unwrap();
    let changed = show
        .find("in   Home energy portfolio › What we changed")
        .unwrap();
    assert!(measuring < changed, "{show}");
    assert!(show.contains("- Weekdays: about 9 kWh a day"), "{show}");
    assert!(show.contains("### Before"), "{show}");
    assert!(show.contains("bare & warm"), "{show}");
    assert!(
        show.contains("the guide I followed (https://example.org/guide)"),
        "{show}"
    );
    assert!(!show.contains("<p>") && !show.contains("&amp;"), "{show}");
    let csv = std::fs::read(fixture("mahara/export_info/files/31-meter-readings.csv")).unwrap();
    let sha = sha256_hex(&csv);
    assert!(show.contains(&sha), "{show}");
    assert!(show.contains("33-photo notes.txt"), "{show}");
    assert!(
        !show.contains("artefactinternal"),
        "the profile is not evidence: {show}"
    );
    assert_eq!(ws.count("SELECT count(*) FROM evidence"), 4);
    // the same export again, and the same unpacked: nothing changes
    let o = import_export(&ws, &zip);
    assert!(o.stdout.contains("1 unchanged"), "{o:?}");
    let o = import_export(&ws, &fixture("mahara"));
    assert_eq!(o.code, Some(0), "{o:?}");
    assert!(o.stdout.contains("1 unchanged"), "{o:?}");
    ws.ok("ann", &["audit", "verify"]);
}

#[test]
fn a_moodle_export_names_its_files_by_content_src() {
    let ws = energy_ws();
    let o = import_export(&ws, &zipped(&ws, "moodle"));
    assert_eq!(o.code, Some(0), "{o:?}");
    assert!(o.stderr.contains("statement is left empty"), "{o:?}");
    let id = only_portfolio(&ws);
    let show = ws.ok("ann", &["show", &id]);
    assert!(show.contains("Standby went from 40 W to 6 W"), "{show}");
    assert!(show.contains("files/standby.txt"), "{show}");
    assert!(show.contains("Tomás Ó Murchú"), "{show}");
}

#[test]
fn ids_given_and_a_changed_export_is_a_new_revision() {
    let ws = energy_ws();
    let dir = ws.path("export");
    copy_dir(&fixture("mahara"), &dir);
    let args = |extra: &[&str]| {
        let mut a: Vec<String> = vec![
            "import".into(),
            "--rubric".into(),
            "sustainable-home-energy".into(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a.push(dir.display().to_string());
        a
    };
    ws.ok(
        "ann",
        &args(&["--learner-id", "L-0042", "--id", "P-2026-0900"]),
    );
    assert_eq!(ws.row("ann", "P-2026-0900")["learner_id"], "L-0042");
    let feed = dir.join("leap2a.xml");
    let text = std::fs::read_to_string(&feed).unwrap();
    std::fs::write(&feed, text.replace("about 13 kWh", "about 14 kWh")).unwrap();
    let o = ws.run(
        "ann",
        &args(&["--learner-id", "L-0042", "--id", "P-2026-0900"]),
    );
    assert!(o.stdout.contains("1 revised"), "{o:?}");
    ws.ok("ann", &["audit", "verify"]);
}

#[test]
fn an_assessor_links_evidence_marks_it_and_the_record_vouches_for_it() {
    let ws = energy_ws();
    import_export(&ws, &zipped(&ws, "mahara"));
    let id = only_portfolio(&ws);
    for c in ENERGY {
        let o = ws.ok("ann", &["link", &id, "artefact30", c]);
        assert!(o.contains(&format!("linked artefact30 to {c}")), "{o}");
    }
    let o = ws.ok("ann", &["link", &id, "artefact30", "energy-use"]);
    assert!(o.contains("already"), "{o}");
    ws.ok("ann", &["link", &id, "artefact32", "action"]);
    ws.ok("ann", &["link", &id, "artefact32", "action", "--remove"]);
    let e = ws.refused("ann", &["link", &id, "artefact99", "action"]);
    assert!(e.contains("no evidence `artefact99`"), "{e}");
    let e = ws.refused("ann", &["link", &id, "artefact30", "nope"]);
    assert!(e.contains("no criterion `nope`"), "{e}");
    let show = ws.ok("ann", &["show", &id]);
    assert!(
        show.contains("linked by the assessor to action, energy-use, measures, sharing"),
        "{show}"
    );
    let levels: Vec<(&str, &str)> = ENERGY.iter().map(|c| (*c, "achieved")).collect();
    ws.mark_submit("ann", &id, &levels, &ENERGY_GATES);
    // once submitted, the links are frozen with the marks
    let e = ws.refused("ann", &["link", &id, "artefact31", "measures"]);
    assert!(e.contains("submitted"), "{e}");
    ws.ok("ann", &["audit", "verify"]);
    let c = rusqlite::Connection::open(&ws.db).unwrap();
    c.execute(
        "UPDATE evidence_links SET by_user = 'mallory' WHERE criterion = 'action'",
        [],
    )
    .unwrap();
    let o = ws.run("ann", &["audit", "verify"]);
    assert_clean_refusal(&o);
    assert!(o.stderr.contains("evidence_links row"), "{o:?}");
}

/// Each hostile archive is refused whole: nothing of it is written, and the message names the
/// archive and what is wrong with it (the entry, or the feed's line and column).
#[test]
fn hostile_archives_are_refused_whole() {
    let feed = std::fs::read(fixture("moodle/leap2a.xml")).unwrap();
    let feed_s = String::from_utf8(feed.clone()).unwrap();
    let standby: &[u8] = b"Before: 40 W\n";
    let zeros = vec![0u8; 50 * 1024 * 1024];
    let laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE feed [\n<!ENTITY lol \"lol\">\n<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n]>\n<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>&lol2;</title></feed>\n";
    let xxe = feed_s.replace(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE feed [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>",
    );
    let xxe = xxe.replace("Moodle Leap2A Export", "&xxe;");
    let undeclared = feed_s.replace("Moodle Leap2A Export", "&xxe;");
    let malformed = feed_s.replace("</title>\n  <author>", "\n  <author>");
    let missing = feed_s.replace("files/standby.txt", "files/gone.txt");
    let escape = feed_s.replace("files/standby.txt", "../../secret.txt");
    let cases: Vec<(&str, Vec<Entry<'_>>, &str)> = vec![
        (
            "slip",
            vec![
                Entry::File("leap2a.xml", &feed),
                Entry::File("files/standby.txt", standby),
                Entry::File("../evil.txt", b"x"),
            ],
            "entry `../evil.txt` has `..` in its path",
        ),
        (
            "absolute",
            vec![
                Entry::File("leap2a.xml", &feed),
                Entry::File("/tmp/evil.txt", b"x"),
            ],
            "is an absolute path",
        ),
        (
            "backslash",
            vec![
                Entry::File("leap2a.xml", &feed),
                Entry::File("..\\evil.txt", b"x"),
            ],
            "backslash",
        ),
        (
            "symlink",
            vec![
                Entry::File("leap2a.xml", &feed),
                Entry::Link("files/standby.txt", "/etc/passwd"),
            ],
            "is a symbolic link",
        ),
        (
            "bomb",
            vec![
                Entry::File("leap2a.xml", &feed),
                Entry::File("files/standby.txt", standby),
                Entry::File("files/zeros.bin", &zeros),
            ],
            "zip bomb",
        ),
        (
            "laughs",
            vec![Entry::File("leap2a.xml", laughs.as_bytes())],
            "leap2a.xml:2:1: error: the feed has a document type declaration",
        ),
        (
            "xxe",
            vec![
                Entry::File("leap2a.xml", xxe.as_bytes()),
                Entry::File("files/standby.txt", standby),
            ],
            "DTD",
        ),
        (
            "undeclared",
            vec![
                Entry::File("leap2a.xml", undeclared.as_bytes()),
                Entry::File("files/standby.txt", standby),
            ],
            "leap2a.xml:4:10: error: entity `&xxe`",
        ),
        (
            "malformed",
            vec![
                Entry::File("leap2a.xml", malformed.as_bytes()),
                Entry::File("files/standby.txt", standby),
            ],
            "malformed XML",
        ),
        (
            "missing",
            vec![Entry::File("leap2a.xml", missing.as_bytes())],
            "names the file `files/gone.txt`, which the export does not hold",
        ),
        (
            "escape",
            vec![Entry::File("leap2a.xml", escape.as_bytes())],
            "which is outside the export",
        ),
        (
            "nofeed",
            vec![Entry::File("files/standby.txt", standby)],
            "holds no LEAP2A feed",
        ),
        (
            "truncated",
            vec![
                Entry::File("leap2a.xml", &feed[..feed.len() - 20]),
                Entry::File("files/standby.txt", standby),
            ],
            "the feed is cut off",
        ),
        (
            "twofeeds",
            vec![
                Entry::File("a/leap2a.xml", &feed),
                Entry::File("b/leap2a.xml", &feed),
            ],
            "holds 2 feeds",
        ),
    ];
    let ws = energy_ws();
    for (name, entries, says) in &cases {
        let path = ws.path(&format!("{name}.zip"));
        write_zip(&path, entries);
        let o = import_export(&ws, &path);
        assert_clean_refusal(&o);
        assert!(
            o.stderr.contains(&format!("{name}.zip")) && o.stderr.contains(says),
            "{name}: {o:?}"
        );
        assert_eq!(ws.count("SELECT count(*) FROM portfolios"), 0, "{name}");
        assert_eq!(ws.count("SELECT count(*) FROM blobs"), 0, "{name}");
    }
    // an entry twice under one name (the zip writer makes two names, then one is renamed in
    // place): which copy is read would be the reader's choice
    let path = ws.path("twice.zip");
    write_zip(
        &path,
        &[
            Entry::File("leap2a.xml", &feed),
            Entry::File("files/standby.txt", standby),
            Entry::File("files/standbY.txt", b"forged"),
        ],
    );
    let bytes = std::fs::read(&path).unwrap();
    let mut renamed = Vec::with_capacity(bytes.len());
    let (from, to) = (b"files/standbY.txt", b"files/standby.txt");
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(from) {
            renamed.extend_from_slice(to);
            i += from.len();
        } else {
            renamed.push(bytes[i]);
            i += 1;
        }
    }
    std::fs::write(&path, renamed).unwrap();
    let o = import_export(&ws, &path);
    assert_clean_refusal(&o);
    assert!(o.stderr.contains("twice"), "{o:?}");
    assert_eq!(ws.count("SELECT count(*) FROM portfolios"), 0);
    // a folder export whose file or feed is a symbolic link: named as what it is, at the
    // export (never at a line of the manifest assay converted it to, which nobody sees)
    let dir = ws.path("linked");
    copy_dir(&fixture("moodle"), &dir);
    std::fs::remove_file(dir.join("files/standby.txt")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.join("files/standby.txt")).unwrap();
    let o = import_export(&ws, &dir);
    assert_clean_refusal(&o);
    assert!(o.stderr.contains("symbolic link"), "{o:?}");
    assert!(!o.stderr.contains("as converted"), "{o:?}");
    let feed = dir.join("leap2a.xml");
    std::fs::rename(&feed, dir.join("real.xml")).unwrap();
    std::os::unix::fs::symlink("real.xml", &feed).unwrap();
    let o = import_export(&ws, &dir);
    assert_clean_refusal(&o);
    assert!(o.stderr.contains("leap2a.xml is a symbolic link"), "{o:?}");
    assert_eq!(ws.count("SELECT count(*) FROM portfolios"), 0);
    // not a zip at all
    let path = ws.path("junk.zip");
    std::fs::write(&path, b"PK\x03\x04 this is not an archive").unwrap();
    let o = import_export(&ws, &path);
    assert_clean_refusal(&o);
    assert!(o.stderr.contains("not a zip archive"), "{o:?}");
    // without a rubric
    let o = ws.run(
        "ann",
        &["import".as_ref(), zipped(&ws, "moodle").as_os_str()],
    );
    assert_clean_refusal(&o);
    assert!(o.stderr.contains("--rubric"), "{o:?}");
    // a refused export beside a good one: the good one is imported, the other not at all
    let o = ws.run(
        "ann",
        &[
            "import".as_ref(),
            "--rubric".as_ref(),
            "sustainable-home-energy".as_ref(),
            ws.path("slip.zip").as_os_str(),
            zipped(&ws, "mahara").as_os_str(),
        ],
    );
    assert_eq!(o.code, Some(1), "{o:?}");
    assert!(
        o.stdout.contains("1 new") && o.stdout.contains("1 rejected"),
        "{o:?}"
    );
    assert_eq!(ws.count("SELECT count(*) FROM portfolios"), 1);
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}
