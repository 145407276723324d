use super::*;

/// A feed as Mahara 24.x writes it: the archived namespaces, a page (selection) holding a
/// journal entry and a file, and the profile entry.
pub(crate) const MAHARA: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"
    xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    xmlns:leap2="https://web.archive.org/web/20100503000634/http://terms.leapspecs.org"
    xmlns:categories="https://web.archive.org/web/20120819100914/http://wiki.leapspecs.org:80/2A/categories"
    xmlns:portfolio="https://mahara.example.org/export/leap/7/1733000000/"
    xmlns:mahara="https://wiki.mahara.org/wiki/Developer_Area/Import//Export/LEAP_Extensions"
>
    <leap2:version>http://www.leapspecs.org/2010-07/2A/</leap2:version>
    <id>https://mahara.example.org/export/7/1733000000</id>
    <title>Mahara Leap2A Export for Aoife Byrne, 30/11/2026 10:00</title>
    <updated>2026-11-30T10:00:00+00:00</updated>
    <generator uri="https://mahara.org/" version="2024">Mahara</generator>
    <author>
        <name>Aoife Byrne</name>
        <email>aoife.byrne@example.org</email>
        <uri>portfolio:artefactinternal</uri>
    </author>
    <entry>
        <title>Profile</title>
        <id>portfolio:artefactinternal</id>
        <updated>2026-11-01T09:00:00+00:00</updated>
        <content type="text">Aoife Byrne</content>
        <rdf:type rdf:resource="leap2:person"/>
    </entry>
    <entry>
        <title>My energy project</title>
        <id>portfolio:view12</id>
        <updated>2026-11-20T09:00:00+00:00</updated>
        <summary type="html">&lt;p&gt;What I did at home&lt;/p&gt;</summary>
        <content type="html"></content>
        <rdf:type rdf:resource="leap2:selection"/>
        <category term="Website" scheme="categories:selection_type#"/>
        <link rel="leap2:has_part" href="portfolio:artefact31" leap2:display_order="2"/>
        <link rel="leap2:has_part" href="portfolio:artefact30" leap2:display_order="1"/>
    </entry>
    <entry>
        <title>Insulating the loft</title>
        <id>portfolio:artefact30</id>
        <updated>2026-11-10T09:00:00+00:00</updated>
        <published>2026-10-05T09:00:00+00:00</published>
        <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>We measured the <strong>heat loss</strong> first.</p><ul><li>before: 2.1 kW</li><li>after: 1.2 kW</li></ul></div></content>
        <rdf:type rdf:resource="leap2:entry"/>
        <mahara:artefactplugin mahara:type="blogpost" mahara:plugin="blog"/>
        <link rel="leap2:is_part_of" href="portfolio:view12"/>
        <category term="energy"/>
    </entry>
    <entry>
        <title>meter-readings.csv</title>
        <id>portfolio:artefact31</id>
        <updated>2026-11-11T09:00:00+00:00</updated>
        <summary>Readings for the winter</summary>
        <content type="text"></content>
        <rdf:type rdf:resource="leap2:resource"/>
        <category term="Offline" scheme="categories:resource_type#" label="File"/>
        <link rel="enclosure" type="text/csv" href="export_info/files/31-meter-readings.csv"/>
    </entry>
    <entry>
        <title>Why this shows I can do it</title>
        <id>portfolio:artefact40</id>
        <updated>2026-11-29T09:00:00+00:00</updated>
        <content type="html">&lt;p&gt;I planned, measured &amp;amp; reported.&lt;/p&gt;</content>
        <rdf:type rdf:resource="leap2:entry"/>
        <category term="statement"/>
    </entry>
</feed>
"#;

fn files(list: &'static [&'static str]) -> impl Fn(&str) -> bool {
    move |p| list.contains(&p)
}

fn opts() -> Options {
    Options {
        rubric: "sustainable-home-energy".into(),
        ..Options::default()
    }
}

#[test]
fn a_mahara_feed_reads_with_its_archived_namespaces() {
    let f = parse(MAHARA).unwrap();
    assert_eq!(f.author_name, "Aoife Byrne");
    assert_eq!(f.author_email.as_deref(), Some("aoife.byrne@example.org"));
    assert_eq!(f.entries.len(), 5);
    let view = &f.entries[1];
    assert!(view.is("selection"));
    assert_eq!(view.links[0].rel, "has_part");
    assert_eq!(view.links[0].display_order, Some(2));
    assert_eq!(view.summary, "What I did at home");
    let post = &f.entries[2];
    assert_eq!(
        post.content,
        "We measured the heat loss first.\n\n- before: 2.1 kW\n- after: 1.2 kW"
    );
    assert_eq!(f.entries[3].links[0].rel, "enclosure");
    assert_eq!(f.entries[4].content, "I planned, measured & reported.");
    assert_eq!(
        f.version.as_deref(),
        Some("http://www.leapspecs.org/2010-07/2A/")
    );
}

#[test]
fn the_2010_and_2009_namespaces_read_the_same() {
    let spec = MAHARA
        .replace(
            "https://web.archive.org/web/20100503000634/http://terms.leapspecs.org",
            "http://terms.leapspecs.org/",
        )
        .replace(
            "https://web.archive.org/web/20120819100914/http://wiki.leapspecs.org:80/2A/categories",
            "http://wiki.leapspecs.org/2A/categories/",
        );
    let draft = MAHARA.replace(
        "https://web.archive.org/web/20100503000634/http://terms.leapspecs.org",
        "http://wiki.cetis.ac.uk/2009-03/LEAP2A_predicates#",
    );
    let a = parse(MAHARA).unwrap();
    assert_eq!(parse(&spec).unwrap(), a);
    assert_eq!(parse(&draft).unwrap(), a);
}

#[test]
fn a_feed_becomes_a_portfolio_grouped_by_its_pages() {
    let f = parse(MAHARA).unwrap();
    let c = convert(
        &f,
        &opts(),
        &files(&["export_info/files/31-meter-readings.csv"]),
    )
    .unwrap();
    let m = crate::domain::portfolio::load("m.yaml", &c.manifest).unwrap();
    assert_eq!(m.learner.name, "Aoife Byrne");
    assert!(m.learner.id.starts_with("L-"));
    assert!(m.id.starts_with("P-L2A-"));
    assert_eq!(m.submitted, "2026-11-30");
    assert_eq!(m.statement.as_deref(), Some("statement.md"));
    let ids: Vec<&str> = m.evidence.iter().map(|e| e.id.as_str()).collect();
    // display order: the post (1) before the file (2); the profile and statement left out
    assert_eq!(ids, ["artefact30", "artefact31"]);
    assert_eq!(m.evidence[0].group.as_deref(), Some("My energy project"));
    assert_eq!(m.evidence[0].date, "2026-10-05");
    assert_eq!(m.evidence[0].file.as_deref(), Some("entries/artefact30.md"));
    assert_eq!(
        m.evidence[1].file.as_deref(),
        Some("export_info/files/31-meter-readings.csv")
    );
    assert_eq!(
        m.evidence[1].note.as_deref(),
        Some("Readings for the winter")
    );
    assert_eq!(c.files, ["export_info/files/31-meter-readings.csv"]);
    let post = &c
        .written
        .iter()
        .find(|w| w.0 == "entries/artefact30.md")
        .unwrap()
        .1;
    let post = String::from_utf8(post.clone()).unwrap();
    assert!(
        post.starts_with("# Insulating the loft\n\nWe measured"),
        "{post}"
    );
    assert!(post.contains("Tags: energy"), "{post}");
    // the same feed, the same portfolio: ids are stable
    let again = convert(
        &f,
        &opts(),
        &files(&["export_info/files/31-meter-readings.csv"]),
    )
    .unwrap();
    assert_eq!(again, c);
}

/// Mahara writes a page's text blocks only into the page's own content, with the page's kind
/// in `mahara:view`: the text of a portfolio page is evidence, first in its group; the
/// profile page and the dashboard are not the learner's evidence.
#[test]
fn a_mahara_page_with_text_is_evidence_and_the_profile_page_is_not() {
    let page = |id: &str, title: &str, ty: &str, text: &str, parts: &str| {
        format!(
            r#"<entry><title>{title}</title><id>portfolio:{id}</id><updated>2026-11-20T09:00:00+12:00</updated>
        <summary type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>{title} description</p></div></summary>
        <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><div class="column-content"><h3 class="title"></h3><div class="collapse-inline">Block title</div><div class="textblock"><p>{text}</p></div></div></div></content>
        <rdf:type rdf:resource="leap2:selection"/>{parts}
        <category term="Webpage" scheme="categories:selection_type#"/>
        <mahara:view mahara:layout="100" mahara:type="{ty}" mahara:ownerformat="6"><mahara:row><mahara:column/></mahara:row></mahara:view>
    </entry>
    "#
        )
    };
    let entries = [
        page("view17", "Profile page", "profile", "First name: Aoife", ""),
        page(
            "view18",
            "Dashboard page",
            "dashboard",
            "Latest changes",
            "",
        ),
        page(
            "view25",
            "Heat loss at home",
            "portfolio",
            "I measured the loft &amp; the walls.",
            r#"<link rel="leap2:has_part" href="portfolio:artefact30"/>"#,
        ),
    ]
    .concat();
    let feed = MAHARA.replacen("<entry>", &format!("{entries}<entry>"), 1);
    let f = parse(&feed).unwrap();
    assert_eq!(f.entries[2].view_type.as_deref(), Some("portfolio"));
    let c = convert(
        &f,
        &opts(),
        &files(&["export_info/files/31-meter-readings.csv"]),
    )
    .unwrap();
    let m = crate::domain::portfolio::load("m.yaml", &c.manifest).unwrap();
    let ids: Vec<&str> = m.evidence.iter().map(|e| e.id.as_str()).collect();
    // the page's text first, then its part; the other page's parts; no profile, no dashboard
    assert_eq!(ids, ["view25", "artefact30", "artefact31"]);
    assert_eq!(m.evidence[0].group.as_deref(), Some("Heat loss at home"));
    assert_eq!(m.evidence[0].title, "Heat loss at home");
    let text = &c
        .written
        .iter()
        .find(|w| w.0 == "entries/view25.md")
        .unwrap()
        .1;
    let text = String::from_utf8(text.clone()).unwrap();
    assert!(text.contains("Heat loss at home description"), "{text}");
    assert!(text.contains("I measured the loft & the walls."), "{text}");
    assert!(!text.contains('<'), "{text}");
    assert!(
        c.notes
            .iter()
            .any(|n| n.contains("2 Mahara pages left out")),
        "{:?}",
        c.notes
    );
}

#[test]
fn ids_can_be_given_and_a_missing_email_needs_one() {
    let f = parse(&MAHARA.replace("<email>aoife.byrne@example.org</email>", "")).unwrap();
    let e = convert(
        &f,
        &opts(),
        &files(&["export_info/files/31-meter-readings.csv"]),
    )
    .unwrap_err();
    assert!(e.message.contains("--learner-id"), "{e}");
    let c = convert(
        &f,
        &Options {
            learner_id: Some("L-77".into()),
            portfolio_id: Some("P-2026-0900".into()),
            ..opts()
        },
        &files(&["export_info/files/31-meter-readings.csv"]),
    )
    .unwrap();
    let m = crate::domain::portfolio::load("m.yaml", &c.manifest).unwrap();
    assert_eq!(
        (m.id.as_str(), m.learner.id.as_str()),
        ("P-2026-0900", "L-77")
    );
}

#[test]
fn no_statement_is_said_and_a_missing_file_is_refused_where_it_is_named() {
    let f = parse(&MAHARA.replace(r#"<category term="statement"/>"#, "")).unwrap();
    let c = convert(
        &f,
        &opts(),
        &files(&["export_info/files/31-meter-readings.csv"]),
    )
    .unwrap();
    assert!(
        c.notes
            .iter()
            .any(|n| n.contains("statement is left empty"))
    );
    let e = convert(&f, &opts(), &files(&[])).unwrap_err();
    assert!(e.message.contains("does not hold"), "{e}");
    assert_eq!(e.at.line, 56);
    let out = MAHARA.replace(
        "export_info/files/31-meter-readings.csv",
        "../../etc/passwd",
    );
    let e = convert(&parse(&out).unwrap(), &opts(), &files(&[])).unwrap_err();
    assert!(e.message.contains("outside the export"), "{e}");
}

#[test]
fn dtds_entities_and_malformed_xml_are_refused_at_their_place() {
    let bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE feed [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]>\n<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>&b;</title></feed>";
    let e = parse(bomb).unwrap_err();
    assert_eq!((e.at.line, e.message.contains("DTD")), (2, true), "{e}");
    let ext = "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>&xxe;</title></feed>";
    let e = parse(ext).unwrap_err();
    assert_eq!(e.at.line, 2);
    assert!(e.message.contains("entity"), "{e}");
    let bad = "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n  <entry><title>x</entry></feed>";
    let e = parse(bad).unwrap_err();
    assert_eq!(e.at.line, 2, "{e}");
    assert!(e.message.contains("malformed XML"), "{e}");
    let not = "<rss><channel/></rss>";
    assert!(parse(not).unwrap_err().message.contains("not an Atom"));
    let esc = MAHARA.replace("Insulating the loft", "Insulating\u{1b}[2J the loft");
    let e = parse(&esc).unwrap_err();
    assert!(e.message.contains("control characters"), "{e}");
    // a feed cut off, with text after its end, an unbound prefix, a NUL: damaged, refused
    let cut = &MAHARA[..MAHARA.len() - 20];
    let e = parse(cut).unwrap_err();
    assert!(e.message.contains("cut off"), "{e}");
    let e = parse(&format!("{MAHARA}garbage text")).unwrap_err();
    assert!(e.message.contains("after the feed's end"), "{e}");
    let e = parse(&MAHARA.replacen("<entry>", "<foo:bar/><entry>", 1)).unwrap_err();
    assert!(e.message.contains("prefix `foo`"), "{e}");
    let e = parse(&MAHARA.replacen("the loft", "the\0loft", 1)).unwrap_err();
    assert!(e.message.contains("NUL"), "{e}");
    assert!(e.at.line > 1, "{e}");
}

#[test]
fn nested_selections_make_paths_and_cycles_end() {
    let nested = MAHARA.replace(
        "<entry>\n        <title>My energy project</title>",
        "<entry>\n        <title>Collection</title>\n        <id>portfolio:collection1</id>\n        <rdf:type rdf:resource=\"leap2:selection\"/>\n        <link rel=\"leap2:has_part\" href=\"portfolio:view12\"/>\n    </entry>\n    <entry>\n        <title>My energy project</title>",
    );
    let f = parse(&nested).unwrap();
    let c = convert(
        &f,
        &opts(),
        &files(&["export_info/files/31-meter-readings.csv"]),
    )
    .unwrap();
    let m = crate::domain::portfolio::load("m.yaml", &c.manifest).unwrap();
    assert_eq!(
        m.evidence[0].group.as_deref(),
        Some("Collection › My energy project")
    );
}

#[test]
fn selections_in_a_cycle_end() {
    let cyclic = MAHARA.replace(
        r#"<link rel="leap2:has_part" href="portfolio:artefact31" leap2:display_order="2"/>"#,
        r#"<link rel="leap2:has_part" href="portfolio:artefact31" leap2:display_order="2"/><link rel="leap2:has_part" href="portfolio:view13"/>"#,
    ).replace(
        "<entry>\n        <title>Insulating the loft</title>",
        "<entry><title>Other</title><id>portfolio:view13</id><rdf:type rdf:resource=\"leap2:selection\"/><link rel=\"leap2:has_part\" href=\"portfolio:view12\"/></entry>\n    <entry>\n        <title>Insulating the loft</title>",
    );
    let f = parse(&cyclic).unwrap();
    let c = convert(
        &f,
        &opts(),
        &files(&["export_info/files/31-meter-readings.csv"]),
    )
    .unwrap();
    let m = crate::domain::portfolio::load("m.yaml", &c.manifest).unwrap();
    assert_eq!(m.evidence.len(), 2);
}
