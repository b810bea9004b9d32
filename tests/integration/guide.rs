//! The user guide's narrative sections, as shipped in the framework file,
//! pinned against the guide: their order and headings, the first and last
//! sentence and paragraph count of each, some whole paragraphs word for word,
//! the competences they discuss, and the absence of PDF-export leftovers.

use practice_companion::{CompetenceId, Framework, Section};

fn framework() -> Framework {
    Framework::builtin().expect("the built-in framework loads")
}

fn id(s: &str) -> CompetenceId {
    s.parse().expect("a valid id")
}

fn section<'f>(f: &'f Framework, id: &str) -> &'f Section {
    f.section(id)
        .unwrap_or_else(|| panic!("section `{id}` exists"))
}

fn paragraphs(s: &Section) -> Vec<&str> {
    s.text.split("\n\n").collect()
}

const METHODOLOGY: &str = "Methodology for the development of the competences";
const DEFINITIONS: &str = "Definitions and terminology";
const ABOUT: &str = "About the competence framework";
const HOW_TO_USE: &str = "How to use the competence framework";

#[test]
fn sections_follow_the_guide_in_order() {
    let f = framework();
    let got: Vec<(&str, &str, Option<&str>)> = f
        .sections()
        .iter()
        .map(|s| (s.id.as_str(), s.title.as_str(), s.within.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("executive-summary", "Executive summary", None),
            (
                "overview",
                "Overview of the Coaching competence framework",
                None
            ),
            ("background-and-rationale", "Background and rationale", None),
            (
                "who-are-the-competences-for",
                "Who are the competences for?",
                None
            ),
            ("methodology", METHODOLOGY, None),
            (
                "methodology-core",
                "Methodology 1: Core coaching competences",
                Some(METHODOLOGY)
            ),
            (
                "methodology-integration",
                "Methodology 2: Competences for integrating therapy and coaching",
                Some(METHODOLOGY)
            ),
            (
                "role-of-erg",
                "The role of the Expert Reference Group (ERG)",
                Some(METHODOLOGY)
            ),
            ("definition-competence", "Competence", Some(DEFINITIONS)),
            (
                "definition-metacompetence",
                "Metacompetence",
                Some(DEFINITIONS)
            ),
            (
                "definition-foundational-competence",
                "Foundational competence",
                Some(DEFINITIONS)
            ),
            ("definition-coaching", "Coaching", Some(DEFINITIONS)),
            ("definition-therapy", "Therapy", Some(DEFINITIONS)),
            ("definition-integration", "Integration", Some(DEFINITIONS)),
            ("definition-partnership", "Partnership", Some(DEFINITIONS)),
            (
                "about-domain-one",
                "Domain One: Core coaching competences",
                Some(ABOUT)
            ),
            (
                "about-domain-two",
                "Domain Two: Competences for integrating therapy and coaching",
                Some(ABOUT)
            ),
            ("how-to-use", HOW_TO_USE, None),
            (
                "role-of-supervision",
                "The role of supervision",
                Some(HOW_TO_USE)
            ),
            (
                "guidance-on-specific-competences",
                "Guidance on specific competences",
                None
            ),
            (
                "guidance-domain-two",
                "Domain Two: Competences for integrating therapy and coaching",
                Some("Guidance on the competences")
            ),
            (
                "conclusion",
                "Conclusion and future developments",
                Some("Section Three")
            ),
        ]
    );
}

/// Every section: (id, paragraph count, first sentence, last sentence). A
/// list counts as part of the paragraph that introduces it, one item a line,
/// so a section ending in a list ends with its last item.
const SENTENCES: [(&str, usize, &str, &str); 22] = [
    (
        "executive-summary",
        6,
        "This document provides information and guidance for users of BACP’s Coaching competence framework.",
        "The summary and acknowledgements are followed by appendices that contain supplementary information.",
    ),
    (
        "overview",
        4,
        "This guide describes the competences found in each of the two domains, in each of the two domains within the framework.",
        "This map of the Coaching competence framework shows how the competences fit together and inter-relate.",
    ),
    (
        "background-and-rationale",
        7,
        "The Coaching competence framework that this user guide relates to is the latest in a series of such frameworks developed by BACP.",
        "\n• Acknowledge the value and specialism of coaching.",
    ),
    (
        "who-are-the-competences-for",
        1,
        "The Coaching competence framework is primarily intended for use by practitioners, supervisors and trainers:\n",
        "\n• The competence framework can also be used by those concerned with developing and upholding professional and ethical standards, by individual or organisational clients, to inform person specifications and job descriptions in recruitment processes or by commissioners of services, and by researchers.",
    ),
    (
        "methodology",
        1,
        "The process of developing competences involves locating the best available evidence and identifying common aspects of effective practice from the sources identified as providing relevant information.",
        "These can include qualitative studies, research dissertations and existing competence frameworks, and ‘grey literature’ such as textbooks and theoretical articles, as well as practice-based evidence from experts in the field.",
    ),
    (
        "methodology-core",
        6,
        "In the case of the ‘Core coaching competences for therapists’, there is a developing body of research that looks at coaching outcomes.",
        "These are explicitly addressed in competences 3.5, 4.2 and 4.1 respectively, though they also inform the phrasing of some other competences.",
    ),
    (
        "methodology-integration",
        5,
        "The process for developing these competences began with a literature search.",
        "This thematic analysis in turn provided the basis for the competences for integrating therapy and coaching.",
    ),
    (
        "role-of-erg",
        1,
        "The ERG has brought the practice-based knowledge, experience and wisdom of the professional community to bear on the development of the competence framework.",
        "\n• Agreed the successive versions of the framework and ratified the final version.",
    ),
    (
        "definition-competence",
        1,
        "In plain language, competence means ‘the ability to do something well,’ or ‘a skill that you need in a particular job or for a particular task’ (Oxford Learner’s Dictionary).",
        "‘Abilities’ in this context refers to personal attitude and qualities as well as technical proficiency.",
    ),
    (
        "definition-metacompetence",
        1,
        "Put simply, the word ‘metacompetence’ conveys the idea of competence in the use, and integration of, all the competences defined in each specific area.",
        "The notion of metacompetences captures this higher-order level of competence.",
    ),
    (
        "definition-foundational-competence",
        1,
        "A foundational competence is not concerned with the use of specific knowledge or skills, but with the basic attitude, or way of being of the practitioner.",
        "This is clarified further on page 25.",
    ),
    (
        "definition-coaching",
        2,
        "Coaching is a largely present- and future-orientated conversation that has as its basic aim the fuller realisation of personal and organisational potential.",
        "Coaching is therefore not generally suitable for clients who are having difficulties with day-to-day motivation and functioning, or who are experiencing, and seeking relief from, persistent and significant distress.",
    ),
    (
        "definition-therapy",
        2,
        "The term ‘therapy’ has been used throughout this guide and the accompanying competences as an umbrella term for counselling and psychotherapy.",
        "It is to be expected, given that the root meaning of therapy is ‘healing.’",
    ),
    (
        "definition-integration",
        2,
        "In the world of therapy, integration is the name given to a way of working in which a practitioner makes use of more than one modality, with the aim of meeting each client’s needs more completely than the practitioner believes a single modality can.",
        "In the context of the competences in the second domain of the Coaching competence framework, and the field of practice to which they apply, integration describes a way of working that involves the intentional use of both therapeutic and coaching theories and techniques.",
    ),
    (
        "definition-partnership",
        1,
        "This term is used in the first area of the ‘Core coaching competences’ to convey the sense of what is sometimes referred to in the therapeutic literature as the ‘working alliance’.",
        "However, at certain points in the coaching process it can be necessary to take a step back from the matter at hand, and to pay renewed attention to the partnership.",
    ),
    (
        "about-domain-one",
        5,
        "As explained in Section One above, the core coaching competences that feature in Domain One are based for the main part on a synthesis of those competences found in the European mentoring and coaching council (EMCC) International Coaching Federation (ICF) and Association for Coaching (AC) frameworks that are not clearly present in Column A of the January 2022 iteration of the SCoPEd framework.",
        "Each area of this domain has a metacompetence that captures the substance of its constituent competences.",
    ),
    (
        "about-domain-two",
        5,
        "These competences relate specifically to the knowledge, skills, qualities and awareness needed to integrate therapeutic and coaching approaches in a single form of practice.",
        "However, it is helpful to separate them for the purposes of identifying the components of effective, ethical practice.",
    ),
    (
        "how-to-use",
        5,
        "The first point to make is that the competences are not to be read as a set of requirements, with a practitioner needing to master every competence before they can work with clients.",
        "Core coaching competence 3.5, ‘Ability to listen for, and help the client to identify and leverage, personal strengths, qualities and values,’ stands as an invitation (and perhaps a challenge) to practitioners from some therapeutic backgrounds to engage with a topic that they are unlikely to be familiar with, for the greater benefit of those they work with.",
    ),
    (
        "role-of-supervision",
        1,
        "As is the case for those working solely as therapists, there is an expectation that BACP members working as coaches or integrating coaching and therapy will make appropriate use of supervision.",
        "Practitioners might therefore find it difficult to find one person who can meet all of their supervision needs, and might therefore need to engage a second supervisor and perhaps consider joining a supervision group, in order to ensure that they can be appropriately supported in reflectively exploring all aspects of their client work.",
    ),
    (
        "guidance-on-specific-competences",
        6,
        "The pages that follow provide further interpretation of, and guidance on, both domains of the competence framework.",
        "Like the metacompetences, this is not further interpreted here; it is left to each practitioner to manifest the foundational competence in a way that is congruent with their personality, values and beliefs.",
    ),
    (
        "guidance-domain-two",
        1,
        "As has already been explained in this guide, there is less detailed guidance for specific competences in this domain, and aspects of the guidance on the Core coaching competences are also relevant.",
        "This is particularly the case in relation to assessment, contracting and establishing the working relationship.",
    ),
    (
        "conclusion",
        2,
        "This User Guide and the accompanying Coaching competence framework provide a thorough, evidence- and knowledge-based foundation for two domains of practice: coaching undertaken by qualified therapists, and the integration of therapy and coaching.",
        "There is therefore a sense in which the publication of the competences and user guide marks both an end and a beginning: the first substantial yield from seeds planted a number of years ago, one that promises in time to be followed by further harvests.",
    ),
];

#[test]
fn every_section_begins_and_ends_as_the_guide_does() {
    let f = framework();
    assert_eq!(f.sections().len(), SENTENCES.len());
    for (sid, count, first, last) in SENTENCES {
        let s = section(&f, sid);
        assert!(
            s.text.starts_with(first),
            "{sid} begins {:?}",
            &s.text[..s.text.len().min(120)]
        );
        assert!(s.text.ends_with(last), "{sid} ends wrongly");
        assert_eq!(paragraphs(s).len(), count, "{sid} paragraphs");
    }
}

#[test]
fn whole_paragraphs_word_for_word() {
    let f = framework();
    assert_eq!(
        section(&f, "role-of-supervision").text,
        "As is the case for those working solely as therapists, there is an expectation that BACP members working as coaches or integrating coaching and therapy will make appropriate use of supervision. ‘Appropriate’ in this context means not only meeting or exceeding the requisite minimum number of hours of supervision, but also seeking supervision from those with sufficient knowledge and experience of coaching and/or integrating therapy and coaching. At the time of writing (October 2022), this might present some practitioners with a challenge, insofar as there are not a large number of supervisors with dual training and experience as therapists and coaches. Practitioners might therefore find it difficult to find one person who can meet all of their supervision needs, and might therefore need to engage a second supervisor and perhaps consider joining a supervision group, in order to ensure that they can be appropriately supported in reflectively exploring all aspects of their client work."
    );
    assert_eq!(
        section(&f, "definition-foundational-competence").text,
        "A foundational competence is not concerned with the use of specific knowledge or skills, but with the basic attitude, or way of being of the practitioner. This is clarified further on page 25."
    );
    assert_eq!(
        section(&f, "guidance-domain-two").text,
        "As has already been explained in this guide, there is less detailed guidance for specific competences in this domain, and aspects of the guidance on the Core coaching competences are also relevant. This is particularly the case in relation to assessment, contracting and establishing the working relationship."
    );
    let overview = section(&f, "overview");
    assert_eq!(
        paragraphs(overview)[1],
        "This first domain is called the ‘Core coaching competences’, and it includes four areas of competence:\n1. Establishing and maintaining the partnership\n2. Managing the process and the relationship\n3. Facilitating awareness of self, others and situation\n4. Facilitating the identification and pursuit of desired outcomes."
    );
    let how_to_use = section(&f, "how-to-use");
    assert!(paragraphs(how_to_use)[0].ends_with(
        "Two points from the ‘Good Practice’ section of the Ethical Framework for the Counselling Professions are particularly worth bearing in mind:\n• 13. We must be competent to deliver the services being offered to at least fundamental professional standards or better;\n• 45. Whenever we communicate our qualifications, professional experience and working methods, we will do so accurately and honestly."
    ));
    // The guide's own slip is kept: "the detailed attention this is paid".
    assert_eq!(
        paragraphs(how_to_use)[4],
        "More specifically, effective coaching work can at times involve making careful distinctions between different types of goals. There is a rich coaching literature on this topic that most therapists will not be aware of. Core coaching competence 4.1, ‘Knowledge and understanding of, and ability to foster the client’s awareness of, distinctions between different types of goals,’ offers an opportunity for practitioners to develop in effectiveness by engaging with this aspect of the coaching process. A further example is the detailed attention this is paid in coaching theory and practice to identifying and working with clients’ strengths. Core coaching competence 3.5, ‘Ability to listen for, and help the client to identify and leverage, personal strengths, qualities and values,’ stands as an invitation (and perhaps a challenge) to practitioners from some therapeutic backgrounds to engage with a topic that they are unlikely to be familiar with, for the greater benefit of those they work with."
    );
    assert_eq!(
        paragraphs(section(&f, "definition-therapy"))[1],
        "The January 2022 iteration of the SCoPEd framework describes therapy as ‘a specialised way of listening, responding and building relationships, based on therapeutic theory and expertise that is used to help clients or patients enhance their wellbeing’. Therapists working in some modalities do at times work with the kinds of issues that feature in coaching practice. However, the types of client issues that feature on the BACP’s Find a Therapist web pages indicate that the primary motivation for clients seeking therapy, and the primary knowledge and skills base of BACP therapists, is the alleviation of distress and the amelioration of difficulties in living. Confirmation of this can be found in the curricula of therapist training programmes and the academic literature. It is to be expected, given that the root meaning of therapy is ‘healing.’"
    );
    assert_eq!(
        paragraphs(section(&f, "methodology-integration"))[1],
        "The published research evidences broad agreement that:\n• Coaching is more results-orientated than therapy\n• Therapy is primarily concerned with the alleviation of psychological suffering\n• Coaches generally work with clients who are not experiencing significant psychological distress or dysfunction\n• Coaches tend to involve their clients as active collaborators in the coaching process, in a way that only applies to some therapeutic modalities\n• Coaches should undertake some form of psychological training in order to work confidently and ethically with clients’ emotions."
    );
    // The foundational statement is quoted as a paragraph of its own.
    assert_eq!(
        paragraphs(section(&f, "guidance-on-specific-competences"))[4],
        f.foundational.as_deref().expect("a foundational statement")
    );
}

#[test]
fn sections_name_the_competences_they_discuss() {
    let f = framework();
    let discusses = |sid: &str| -> Vec<String> {
        section(&f, sid)
            .discusses
            .iter()
            .map(|c| c.to_string())
            .collect()
    };
    assert_eq!(
        discusses("how-to-use"),
        ["core:3.2", "core:4.1", "core:3.5"]
    );
    assert_eq!(
        discusses("methodology-core"),
        ["core:3.5", "core:4.2", "core:4.1"]
    );
    let discussing = |code: &str| -> Vec<&str> {
        f.sections_discussing(id(code))
            .map(|s| s.id.as_str())
            .collect()
    };
    assert_eq!(discussing("core:3.5"), ["methodology-core", "how-to-use"]);
    assert_eq!(discussing("core:4.1"), ["methodology-core", "how-to-use"]);
    assert_eq!(discussing("core:3.2"), ["how-to-use"]);
    assert!(discussing("integration:3.2").is_empty());
    let total: usize = f.sections().iter().map(|s| s.discusses.len()).sum();
    assert_eq!(total, 6, "only these two sections name competences by code");
}

#[test]
fn section_texts_have_no_pdf_artifacts() {
    let f = framework();
    for s in f.sections() {
        let sid = &s.id;
        for t in [s.title.as_str(), s.within.as_deref().unwrap_or("")] {
            assert!(
                !t.contains(['\t', '\u{FFFD}', '\n']),
                "{sid}: heading {t:?}"
            );
            assert!(!t.contains("  ") && t.trim() == t, "{sid}: heading {t:?}");
        }
        let t = s.text.as_str();
        assert!(!t.is_empty() && t.trim() == t, "{sid}: untrimmed");
        assert!(!t.contains('\t'), "{sid}: tab");
        assert!(!t.contains('\u{FFFD}'), "{sid}: replacement character");
        assert!(!t.contains("  "), "{sid}: double space");
        assert!(!t.contains(" \n"), "{sid}: space before a newline");
        assert!(!t.contains("\n\n\n"), "{sid}: more than one blank line");
        for line in t.lines() {
            assert!(!line.starts_with(' '), "{sid}: line starts with a space");
            assert!(
                line.trim().parse::<u32>().is_err(),
                "{sid}: a page number on its own line"
            );
            // A bullet opens its own line and is followed by one space.
            if let Some(at) = line.find('•') {
                assert!(at == 0 && line.starts_with("• "), "{sid}: bullet {line:?}");
            }
        }
        // A hyphen before a space is a suspended compound ("present- and
        // future-orientated"); anything else is a word the export broke.
        for (i, _) in t.match_indices("- ") {
            let next = &t[i + 2..];
            assert!(
                next.starts_with("and ") || next.starts_with("or "),
                "{sid}: broken hyphenation at {:?}",
                &t[i.saturating_sub(20)..(i + 20).min(t.len())]
            );
        }
    }
    // Words the export broke at a line end keep their hyphen, joined up.
    let all: String = f
        .sections()
        .iter()
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join("\n\n");
    for word in [
        "Integrative Coach-Therapy",
        "day-to-day motivation",
        "complexity of goal-setting",
        "more solution-focused modality",
        "a Narrative-orientated practitioner",
    ] {
        assert!(all.contains(word), "{word} is missing");
    }
    // The figure's labels are not text of the guide's sections.
    assert!(!all.contains("Foundational competence\n"));
}
