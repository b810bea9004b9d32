//! The shipped framework pinned against the BACP user guide: counts, structure,
//! and a handful of texts word for word (curly quotes included).

use practice_companion::{CompetenceId, DomainId, Framework};

fn framework() -> Framework {
    Framework::builtin().expect("the built-in framework loads")
}

fn id(s: &str) -> CompetenceId {
    s.parse().expect("a valid id")
}

#[test]
fn counts_match_the_guide() {
    let f = framework();
    assert_eq!(f.competences().len(), 60);
    assert_eq!(f.count_in(DomainId::Core), 37);
    assert_eq!(f.count_in(DomainId::Integration), 23);
    let per_area: Vec<(DomainId, u8, usize)> = f
        .areas()
        .iter()
        .map(|a| (a.domain, a.number, a.codes.len()))
        .collect();
    use DomainId::*;
    assert_eq!(
        per_area,
        [
            (Core, 1, 8),
            (Core, 2, 10),
            (Core, 3, 10),
            (Core, 4, 9),
            (Integration, 1, 8),
            (Integration, 2, 6),
            (Integration, 3, 5),
            (Integration, 4, 4)
        ]
    );
    let metas = f
        .areas()
        .iter()
        .filter(|a| a.metacompetence.is_some())
        .count();
    assert_eq!(metas, 4);
    assert!(
        f.areas()
            .iter()
            .filter(|a| a.domain == Integration)
            .all(|a| a.metacompetence.is_none())
    );
    assert_eq!(
        f.foundational.as_deref(),
        Some(
            "Embodying an attitude of grounded optimism in the human capacity for resourceful, responsible and compassionate living"
        )
    );
    assert_eq!(
        (f.name.as_str(), f.publisher.as_str(), f.year),
        ("Coaching competence framework", "BACP", 2022)
    );
}

#[test]
fn domain_and_area_titles_follow_the_guidance_section() {
    let f = framework();
    let titles: Vec<&str> = f.domains().iter().map(|d| d.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Core coaching competences",
            "Competences for integrating therapy and coaching"
        ]
    );
    let area = |d, n| f.area(d, n).expect("area exists");
    assert_eq!(
        area(DomainId::Core, 2).title,
        "Managing the process and relationship"
    );
    assert_eq!(
        area(DomainId::Core, 2).aliases,
        ["Managing the process and the relationship"]
    );
    assert_eq!(
        area(DomainId::Core, 4).title,
        "Facilitating the identification and pursuit of desired outcomes"
    );
    assert_eq!(
        area(DomainId::Core, 4).aliases,
        ["Facilitating the pursuit of desired outcomes"]
    );
    assert_eq!(
        area(DomainId::Integration, 1).title,
        "Theoretical foundations"
    );
    assert_eq!(
        area(DomainId::Integration, 1).aliases,
        ["Theoretical foundation"]
    );
    assert_eq!(
        area(DomainId::Integration, 4).title,
        "Personal attitude and qualities"
    );
    assert_eq!(
        area(DomainId::Integration, 4).aliases,
        ["Personal attitudes and qualities"]
    );
    assert_eq!(
        area(DomainId::Core, 4).metacompetence.as_deref(),
        Some(
            "Ability to help the client to envision, contemplate, decide on and pursue outcomes that, where possible, are congruent with their personal values"
        )
    );
}

#[test]
fn statements_word_for_word() {
    let f = framework();
    let cases = [
        (
            "core:3.5",
            "Ability to listen for, and help the client to identify, personal strengths, qualities and values",
        ),
        (
            "core:2.10",
            "At the conclusion of the coaching, ability to conduct a review that helps to embed the client’s learning",
        ),
        (
            "core:2.1",
            "Knowledge and understanding of one or more theories or models of coaching, and ability to apply it or them in facilitating individual sessions and the process as a whole",
        ),
        (
            "core:1.6",
            "Knowledge and understanding of, and ability to address, the practical and ethical issues involved in three-, four- or multi-party contracting",
        ),
        (
            "core:4.5",
            "Ability to help the client to consider the consequences (both intended and unintended, and both for self and for others) of pursing a given course of action",
        ),
        (
            "core:3.10",
            "Ability to share knowledge, information and experiences that are relevant to the client’s circumstances and the aims of the coaching.",
        ),
        (
            "integration:3.5",
            "Ability to apply the BACP’s Ethical Framework or another appropriate ethical code or framework to the integration of therapy and coaching.",
        ),
        (
            "integration:3.4",
            "Ability to recognise and address signs of avoidance or collusion",
        ),
        (
            "integration:2.1",
            "Ability to explain to clients and other potential stakeholders the nature of and rationale for an integration of therapy and coaching, and how such an approach is likely to differ from both therapy and coaching as separate practices",
        ),
    ];
    for (code, statement) in cases {
        assert_eq!(
            f.competence(id(code)).map(|c| c.statement.as_str()),
            Some(statement),
            "{code}"
        );
    }
}

#[test]
fn guidance_word_for_word() {
    let f = framework();
    let guidance = |code: &str| f.competence(id(code)).expect("exists").guidance.clone();
    assert_eq!(
        guidance("core:4.2"),
        "Coaches need working knowledge of at least one theory of motivation, and a general notion of self-actualisation does not provide sufficient guidance for the complexities of outcome-orientated conversations. Examples of theories of motivation that are of value in a coaching context include Self-determination theory and Intentional change theory."
    );
    assert_eq!(
        guidance("integration:2.2"),
        "Please note: competences 2.2 to 2.6, involve combining the knowledge detailed in the first area of this domain with the skills and awareness that feature in competences 1.4 to 1.8 of the Core coaching competences’ domain."
    );
    assert!(guidance("core:3.7").starts_with("The terms ‘micro,’ ‘meso’ and ‘macro’ will have different shades of meaning for different people."));
    assert!(
        guidance("core:1.4")
            .contains("fidelity, autonomy, beneficence and non-maleficence are all relevant")
    );
    assert!(
        f.competence(id("core:2.7"))
            .expect("exists")
            .statement
            .contains("constructively and non-defensively")
    );
    // Words the export broke at a line end keep their own hyphen, and only that.
    let all: String = f
        .competences()
        .iter()
        .flat_map(|c| [c.statement.as_str(), c.guidance.as_str()])
        .collect::<Vec<_>>()
        .join(" ");
    for word in [
        "open-mindedness",
        "non-maleficence",
        "self-directed",
        "non-defensively",
        "Self-determination",
        "solution-focused",
        "self-respect",
        "non-pathologising",
    ] {
        assert!(all.contains(word), "{word} is missing");
    }
    let two_paragraphs = guidance("core:2.4");
    let paragraphs: Vec<&str> = two_paragraphs.split("\n\n").collect();
    assert_eq!(paragraphs.len(), 2);
    assert!(paragraphs[1].starts_with("Coaching is also based on the assumption that clients make an autonomous choice to engage in the work."));
    assert!(paragraphs[1].ends_with("mindful of the external and internal forces that shape each client’s engagement in the coaching process."));
    let listening = guidance("integration:3.1");
    assert!(listening.contains("is enhanced:\n• When a practitioner holds a reflective awareness of their interpretive frame and how it can influence their work, and\n• When they are open to developing alternative interpretive frameworks."));
    for empty in [
        "core:1.2",
        "core:4.4",
        "core:4.6",
        "integration:1.1",
        "integration:2.3",
        "integration:4.3",
    ] {
        assert_eq!(guidance(empty), "", "{empty} has no guidance of its own");
    }
}

#[test]
fn shared_guidance_reaches_every_competence_it_covers() {
    let f = framework();
    let cases = [
        ("core:1.2", "core:1.3"),
        ("core:4.4", "core:4.5"),
        ("core:4.6", "core:4.7"),
        ("integration:1.1", "integration:1.2"),
        ("integration:1.3", "integration:1.4"),
        ("integration:2.3", "integration:2.2"),
        ("integration:2.6", "integration:2.2"),
        ("integration:4.3", "integration:4.4"),
    ];
    for (code, partner) in cases {
        let c = f.competence(id(code)).expect("exists");
        let (p, text) = f.shared_guidance(c).expect("has shared guidance");
        assert_eq!(p.id, id(partner), "{code}");
        assert_eq!(text, p.guidance, "{code}");
        assert!(!text.is_empty());
    }
    // Every competence without guidance of its own reaches some guidance.
    for c in f.competences() {
        assert!(
            !c.guidance.is_empty() || f.shared_guidance(c).is_some(),
            "{} reaches no guidance",
            c.id
        );
    }
}

#[test]
fn see_also_links_point_to_the_right_domain() {
    let f = framework();
    let see = |code: &str| -> Vec<String> {
        f.competence(id(code))
            .expect("exists")
            .see_also
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    assert_eq!(
        see("core:4.8"),
        ["core:2.2", "core:2.4", "core:2.6", "core:2.8"]
    );
    assert_eq!(see("core:2.10"), ["core:1.7"]);
    assert_eq!(see("integration:3.1"), ["core:3.1", "core:3.2", "core:3.3"]);
    assert!(see("integration:2.4").contains(&"core:1.8".to_string()));
    assert!(see("integration:2.1").contains(&"core:1.3".to_string()));
    assert!(see("integration:2.1").contains(&"integration:1.6".to_string()));
    assert!(see("integration:3.3").contains(&"integration:3.2".to_string()));
}

#[test]
fn no_pdf_artifacts_remain() {
    let f = framework();
    let mut texts: Vec<&str> = Vec::new();
    for c in f.competences() {
        texts.push(&c.statement);
        texts.push(&c.guidance);
    }
    for a in f.areas() {
        texts.push(&a.title);
        texts.extend(a.metacompetence.as_deref());
        texts.extend(a.note.as_deref());
    }
    let fragment =
        regex::Regex::new(r"\d\.\d+:|Section (One|Two|Three)|Guidance on|Domain (One|Two)")
            .unwrap();
    for t in texts {
        assert!(!t.contains('\u{FFFD}'), "replacement character in {t:?}");
        assert!(!t.contains('\t'), "tab in {t:?}");
        assert!(!t.contains("  "), "double space in {t:?}");
        assert!(
            !t.contains(" \n") && !t.contains("\n "),
            "stray space at a line end in {t:?}"
        );
        assert!(t.trim() == t, "untrimmed {t:?}");
        assert!(
            !fragment.is_match(t),
            "page-break fragment or running heading in {t:?}"
        );
        // A hyphen before a space is either a suspended compound ("three-, four- or
        // multi-party") or a word broken at a line end by the export.
        for (i, _) in t.match_indices("- ") {
            let next = &t[i + 2..];
            assert!(
                next.starts_with("or ") || next.starts_with("and "),
                "broken hyphenation in {t:?}"
            );
        }
    }
}
