//! Turning lookup results into cards: one renderer for every front-end.
//!
//! A [`Card`] is plain data (heading, title, body paragraphs, named fields,
//! footer) already cut to the sizes chat platforms accept, so the Discord
//! adapter maps it onto an embed field for field and the terminal prints it.
//! Long text is split at paragraph, then sentence, then word boundaries,
//! never inside a word.

use std::fmt::Write as _;

use crate::framework::{Area, Competence, CompetenceId, DomainId, Framework, Section};

/// Size limits, in characters, that every card respects. They are Discord's
/// (the strictest front-end), kept here as plain numbers.
pub mod limits {
    /// A plain message.
    pub const MESSAGE: usize = 2000;
    /// An embed's description.
    pub const DESCRIPTION: usize = 4096;
    /// An embed field's value.
    pub const FIELD_VALUE: usize = 1024;
    /// An embed field's name.
    pub const FIELD_NAME: usize = 256;
    /// An embed's title.
    pub const TITLE: usize = 256;
    /// An embed's footer.
    pub const FOOTER: usize = 2048;
    /// All of an embed's text together.
    pub const EMBED_TOTAL: usize = 6000;
    /// Fields in one embed.
    pub const FIELDS: usize = 25;
}

/// A named part of a card: "Guidance", "See also", "Metacompetence".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Short name, at most [`limits::FIELD_NAME`] characters.
    pub name: String,
    /// Text, at most [`limits::FIELD_VALUE`] characters.
    pub value: String,
}

/// A rendered result, within every limit in [`limits`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Card {
    /// Where the item sits: "Core coaching competences › 3. Facilitating …".
    pub heading: String,
    /// What it is: "Core 3.5".
    pub title: String,
    /// The main text: the statement, then the guidance.
    pub description: String,
    /// Further parts, in order.
    pub fields: Vec<Field>,
    /// Source line.
    pub footer: String,
    /// The domain the card belongs to, if one.
    pub domain: Option<DomainId>,
    /// The competence the card shows, if it shows one.
    pub competence: Option<CompetenceId>,
}

impl Card {
    /// The card as plain text for the terminal: the Markdown emphasis that chat
    /// front-ends show as bold or italic is dropped.
    pub fn to_plain_text(&self) -> String {
        let mut out = String::new();
        if !self.heading.is_empty() {
            let _ = writeln!(out, "{}", self.heading);
        }
        let _ = writeln!(out, "{}", self.title);
        let _ = writeln!(
            out,
            "{}",
            "─".repeat(self.title.chars().count().clamp(8, 60))
        );
        if !self.description.is_empty() {
            let _ = writeln!(out, "{}\n", self.description);
        }
        for field in &self.fields {
            let _ = writeln!(out, "{}:\n{}\n", field.name, field.value);
        }
        if !self.footer.is_empty() {
            let _ = writeln!(out, "{}", self.footer);
        }
        strip_emphasis(out.trim_end())
    }

    /// Characters of text in the card, as Discord counts an embed's total.
    pub fn total_chars(&self) -> usize {
        [&self.heading, &self.title, &self.description, &self.footer]
            .iter()
            .map(|s| s.chars().count())
            .sum::<usize>()
            + self
                .fields
                .iter()
                .map(|f| f.name.chars().count() + f.value.chars().count())
                .sum::<usize>()
    }
}

/// Removes the `**bold**` and `*italic*` markers the renderer itself adds.
pub fn strip_emphasis(text: &str) -> String {
    text.lines()
        .map(|line| {
            let line = line.replace("**", "");
            match line.strip_prefix('*').and_then(|l| l.strip_suffix('*')) {
                Some(inner) => inner.to_string(),
                None => line,
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The full card for one competence: statement, guidance (its own or shared),
/// see-also and its area's metacompetence.
pub fn competence_card(framework: &Framework, c: &Competence) -> Card {
    let area = framework.area_of(c);
    let mut fields = Vec::new();
    let mut description = format!("**{}**", c.statement);

    let covers: Vec<String> = framework
        .guidance_also_covers(c)
        .map(|o| o.id.code.to_string())
        .collect();
    let mut guidance_label = None;
    let guidance_text = if !c.guidance.is_empty() {
        if !covers.is_empty() {
            guidance_label = Some(format!(
                "Guidance (shared with {} {})",
                plural(covers.len(), "competence", "competences"),
                join_and(&covers)
            ));
        }
        Some(c.guidance.as_str())
    } else if let Some((partner, text)) = framework.shared_guidance(c) {
        guidance_label = Some(format!(
            "Guidance (shared, printed under {})",
            partner.id.label()
        ));
        Some(text)
    } else {
        None
    };

    if let Some(text) = guidance_text {
        let room = limits::DESCRIPTION - description.chars().count() - 4;
        let label = guidance_label.unwrap_or_else(|| "Guidance".to_string());
        let chunks = split_text(text, room.min(limits::DESCRIPTION));
        if chunks.len() == 1 && label == "Guidance" {
            description.push_str("\n\n");
            description.push_str(&chunks[0]);
        } else {
            push_chunked_field(&mut fields, &label, text);
        }
    } else {
        description.push_str("\n\n*The guide prints no guidance notes for this competence.*");
    }

    if !c.see_also.is_empty() {
        let links: Vec<String> = c.see_also.iter().map(|id| id.label()).collect();
        push_chunked_field(&mut fields, "See also", &links.join(", "));
    }
    if let Some(meta) = area.and_then(|a| a.metacompetence.as_deref()) {
        push_chunked_field(&mut fields, "Metacompetence of this area", meta);
    }
    let sections: Vec<String> = framework
        .sections_discussing(c.id)
        .map(|s| format!("{} · `{}`", s.title, s.id))
        .collect();
    if !sections.is_empty() {
        push_chunked_field(
            &mut fields,
            "Discussed in the user guide",
            &sections.join("\n"),
        );
    }
    let card = Card {
        heading: area.map_or_else(String::new, |a| area_heading(framework, a)),
        title: fit(
            &format!("{} {}", c.id.domain.label(), c.id.code),
            limits::TITLE,
        ),
        description,
        fields,
        footer: source_line(framework),
        domain: Some(c.id.domain),
        competence: Some(c.id),
    };
    within_total(card)
}

/// An area with its metacompetence and the statements of its competences.
pub fn area_card(framework: &Framework, area: &Area) -> Card {
    let mut description = String::new();
    if let Some(meta) = &area.metacompetence {
        let _ = write!(description, "**Metacompetence:** {meta}\n\n");
    }
    if let Some(note) = &area.note {
        let _ = write!(description, "*{note}*\n\n");
    }
    let lines: Vec<String> = framework
        .competences_in(area)
        .map(|c| format!("**{}** {}", c.id.code, c.statement))
        .collect();
    let mut card = Card {
        heading: domain_title(framework, area),
        title: fit(
            &format!(
                "{} area {}: {}",
                area.domain.label(),
                area.number,
                area.title
            ),
            limits::TITLE,
        ),
        description,
        fields: Vec::new(),
        footer: source_line(framework),
        domain: Some(area.domain),
        competence: None,
    };
    let list = lines.join("\n");
    let room = limits::DESCRIPTION - card.description.chars().count();
    if list.chars().count() <= room {
        card.description.push_str(&list);
    } else {
        push_chunked_field(&mut card.fields, "Competences", &list);
    }
    card.description = card.description.trim_end().to_string();
    within_total(card)
}

/// The metacompetence of one area.
pub fn meta_card(framework: &Framework, area: &Area) -> Card {
    Card {
        heading: area_heading(framework, area),
        title: format!(
            "Metacompetence, {} area {}",
            area.domain.label(),
            area.number
        ),
        description: fit(
            area.metacompetence.as_deref().unwrap_or_default(),
            limits::DESCRIPTION,
        ),
        fields: Vec::new(),
        footer: source_line(framework),
        domain: Some(area.domain),
        competence: None,
    }
}

/// The foundational competence.
pub fn foundational_card(framework: &Framework, text: &str) -> Card {
    Card {
        heading: framework.name.clone(),
        title: "Foundational competence".to_string(),
        description: fit(text, limits::DESCRIPTION),
        fields: Vec::new(),
        footer: source_line(framework),
        domain: None,
        competence: None,
    }
}

/// The weekly post: knowledge (the competence and its guidance, in whole
/// paragraphs, as many as fit beside the rest, saying when it continues on
/// the full card), reflection (questions), practice (one experiment, with a
/// variant for a member with no coaching client this week, and an exercise
/// for the group when the week has one), and the guide's source as the
/// footer, as on every card quoting it. Where the guidance speaks of a pair,
/// lines after the statement name the pair (see [`crate::prompts::pair_notes`]).
/// Where the competence's guidance only points elsewhere, the guidance it
/// points to follows in full.
pub fn weekly_card(
    framework: &Framework,
    c: &Competence,
    prompt: &crate::prompts::WeeklyPrompt,
) -> Card {
    let code = c.id.short();
    let guidance = match framework.shared_guidance(c) {
        _ if !c.guidance.is_empty() => c.guidance.as_str(),
        Some((_, text)) => text,
        None => "",
    };
    let mut reflect: Vec<String> = prompt.questions.iter().map(|q| format!("• {q}")).collect();
    if prompt.mentions_client() {
        reflect.push(format!("*{}*", crate::prompts::IDENTIFYING_DETAILS));
    }
    let mut practise = prompt.experiment.clone();
    if let Some(alternative) = &prompt.alternative {
        let _ = write!(
            practise,
            "\n\n**No coaching client this week?** {alternative}"
        );
    }
    let mut fields = vec![
        Field {
            name: "Reflect".to_string(),
            value: fit(&reflect.join("\n"), limits::FIELD_VALUE),
        },
        Field {
            name: "Practise this week".to_string(),
            value: fit(&practise, limits::FIELD_VALUE),
        },
    ];
    if let Some(group) = &prompt.group {
        fields.push(Field {
            name: "With your group".to_string(),
            value: fit(group, limits::FIELD_VALUE),
        });
    }
    let mut card = Card {
        heading: framework
            .area_of(c)
            .map_or_else(String::new, |a| area_heading(framework, a)),
        title: fit(&format!("Competence of the week: {code}"), limits::TITLE),
        description: String::new(),
        fields,
        footer: source_line(framework),
        domain: Some(c.id.domain),
        competence: Some(c.id),
    };
    card.description = weekly_knowledge(framework, c, prompt, guidance, card.total_chars());
    within_total(card)
}

/// The weekly card's knowledge: the statement, then the guidance in whole
/// paragraphs, as many as the card holds beside what it has already
/// (`used` characters), saying when it continues on the full card; then the
/// guidance of the competences it points to.
fn weekly_knowledge(
    framework: &Framework,
    c: &Competence,
    prompt: &crate::prompts::WeeklyPrompt,
    guidance: &str,
    used: usize,
) -> String {
    let code = c.id.short();
    let mut knowledge = String::new();
    for other in prompt
        .knowledge
        .iter()
        .filter_map(|id| framework.competence(*id))
    {
        let _ = write!(knowledge, "\n\n**Guidance on {}:**", other.id.label());
        let notes = crate::prompts::pair_notes(framework, other);
        if !notes.is_empty() {
            let _ = write!(knowledge, " *{}*", notes.join(" "));
        }
        let _ = write!(knowledge, " {}", other.guidance);
    }
    let full_card = format!("\n\nThe full card: `/competence {code}`");
    let continues = "\n\n*The guidance continues on the full card.*";
    let room = limits::EMBED_TOTAL
        .min(limits::DESCRIPTION + used)
        .saturating_sub(used);
    let mut description = format!("**{}**", c.statement);
    for note in crate::prompts::pair_notes(framework, c) {
        let _ = write!(description, "\n*{note}*");
    }
    let fixed = |d: &str| d.chars().count() + knowledge.chars().count() + full_card.chars().count();
    let paragraphs: Vec<&str> = guidance.split("\n\n").filter(|p| !p.is_empty()).collect();
    for (i, paragraph) in paragraphs.iter().enumerate() {
        let tail = if i + 1 < paragraphs.len() {
            continues.chars().count()
        } else {
            0
        };
        if fixed(&description) + 2 + paragraph.chars().count() + tail > room {
            description.push_str(continues);
            break;
        }
        let _ = write!(description, "\n\n{paragraph}");
    }
    description.push_str(&knowledge);
    description.push_str(&full_card);
    fit(&description, limits::DESCRIPTION)
}

/// Longest part of a section shown as one card: an embed's description, less
/// room for the heading, title and footer within the embed's total.
const SECTION_PART: usize = 3800;

/// A narrative section of the guide as cards, one per part: its text split at
/// paragraphs into parts that each fit a card, verbatim, with the
/// competences it discusses named on the first.
pub fn section_cards(framework: &Framework, section: &Section) -> Vec<Card> {
    let parts = split_text(&section.text, SECTION_PART);
    let n = parts.len();
    let heading = match &section.within {
        Some(within) => format!("User guide › {within}"),
        None => "User guide".to_string(),
    };
    parts
        .into_iter()
        .enumerate()
        .map(|(i, text)| {
            let mut fields = Vec::new();
            if i == 0 && !section.discusses.is_empty() {
                let named: Vec<String> = section.discusses.iter().map(|id| id.label()).collect();
                push_chunked_field(&mut fields, "Competences it discusses", &named.join(", "));
            }
            let title = if n == 1 {
                section.title.clone()
            } else {
                format!("{} (part {} of {n})", section.title, i + 1)
            };
            within_total(Card {
                heading: fit(&heading, limits::TITLE),
                title: fit(&title, limits::TITLE),
                description: text,
                fields,
                footer: guide_source_line(framework),
                domain: None,
                competence: None,
            })
        })
        .collect()
}

/// The guide's sections, listed by id, under the headings they sit in (a
/// heading that is itself a section is listed once, with its id).
pub fn contents_card(framework: &Framework) -> Card {
    let mut lines = Vec::new();
    let mut within: Option<&str> = None;
    let mut last_top: Option<&str> = None;
    for s in framework.sections() {
        if s.within.as_deref() != within {
            within = s.within.as_deref();
            if let Some(w) = within.filter(|w| Some(*w) != last_top) {
                lines.push(format!("**{w}**"));
            }
        }
        match within {
            Some(_) => lines.push(format!("  {} · `{}`", s.title, s.id)),
            None => {
                lines.push(format!("**{}** · `{}`", s.title, s.id));
                last_top = Some(&s.title);
            }
        }
    }
    within_total(Card {
        heading: framework.name.clone(),
        title: "User guide: contents".to_string(),
        description: fit(&lines.join("\n"), limits::DESCRIPTION),
        fields: Vec::new(),
        footer: guide_source_line(framework),
        domain: None,
        competence: None,
    })
}

/// Domains, areas and codes at a glance.
pub fn overview_card(framework: &Framework) -> Card {
    let mut card = Card {
        heading: format!(
            "{} ({}, {})",
            framework.name, framework.publisher, framework.year
        ),
        title: "The framework at a glance".to_string(),
        description: framework
            .foundational
            .as_deref()
            .map(|f| format!("**Foundational competence:** {f}"))
            .unwrap_or_default(),
        fields: Vec::new(),
        footer: "Look up any code with /competence, e.g. 3.5, C3.5 or I3.5.".to_string(),
        domain: None,
        competence: None,
    };
    for domain in framework.domains() {
        let mut value = String::new();
        for area in framework.areas().iter().filter(|a| a.domain == domain.id) {
            let (first, last) = (area.codes.first(), area.codes.last());
            let range = match (first, last) {
                (Some(f), Some(l)) if f != l => format!("{f}–{l}"),
                (Some(f), _) => f.to_string(),
                _ => String::new(),
            };
            let _ = writeln!(value, "**{}** {} ({range})", area.number, area.title);
        }
        let name = format!(
            "{} ({} competences, prefix {})",
            domain.title,
            framework.count_in(domain.id),
            domain.id.letter()
        );
        push_chunked_field(&mut card.fields, &name, value.trim_end());
    }
    within_total(card)
}

fn area_heading(framework: &Framework, area: &Area) -> String {
    fit(
        &format!(
            "{} › {}. {}",
            domain_title(framework, area),
            area.number,
            area.title
        ),
        limits::TITLE,
    )
}

fn domain_title(framework: &Framework, area: &Area) -> String {
    framework
        .domain(area.domain)
        .map_or_else(|| area.domain.label().to_string(), |d| d.title.clone())
}

fn source_line(framework: &Framework) -> String {
    format!(
        "{} {}: {} © {}",
        framework.publisher, framework.year, framework.name, framework.publisher
    )
}

fn guide_source_line(framework: &Framework) -> String {
    format!(
        "{} {}: {}: User guide © {}",
        framework.publisher, framework.year, framework.name, framework.publisher
    )
}

/// Adds `text` as one field, or as several ("Guidance (2/3)") when it is long.
fn push_chunked_field(fields: &mut Vec<Field>, name: &str, text: &str) {
    let chunks = split_text(text, limits::FIELD_VALUE);
    let n = chunks.len();
    for (i, value) in chunks.into_iter().enumerate() {
        if fields.len() == limits::FIELDS {
            return;
        }
        let name = if n == 1 {
            name.to_string()
        } else {
            format!("{name} ({}/{n})", i + 1)
        };
        fields.push(Field {
            name: fit(&name, limits::FIELD_NAME),
            value,
        });
    }
}

/// Keeps a card under the embed's total: drops trailing fields, then shortens
/// the description, marking what was cut.
fn within_total(mut card: Card) -> Card {
    while card.total_chars() > limits::EMBED_TOTAL && !card.fields.is_empty() {
        card.fields.pop();
        card.footer = fit(
            &format!("{} · shortened to fit", card.footer),
            limits::FOOTER,
        );
    }
    if card.total_chars() > limits::EMBED_TOTAL {
        let excess = card.total_chars() - limits::EMBED_TOTAL;
        let keep = card.description.chars().count().saturating_sub(excess + 1);
        card.description = fit(&card.description, keep.max(1));
    }
    card
}

/// Splits text into pieces of at most `limit` characters, preferring paragraph
/// breaks, then sentence ends, then spaces; a single word longer than `limit`
/// (never in the framework, possible in user text) is cut at a character
/// boundary. Pieces are trimmed and never empty. `limit` of 0 is treated as 1.
pub fn split_text(text: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(1);
    let mut pieces = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if rest.chars().count() <= limit {
            pieces.push(rest.to_string());
            break;
        }
        let window_end = rest
            .char_indices()
            .nth(limit)
            .map_or(rest.len(), |(i, _)| i);
        let window = &rest[..window_end];
        let cut = last_break(window, "\n\n")
            .or_else(|| last_sentence_end(window))
            .or_else(|| last_break(window, "\n"))
            .or_else(|| window.rfind(char::is_whitespace).filter(|&i| i > 0))
            .unwrap_or(window_end);
        let (piece, tail) = rest.split_at(cut);
        let piece = piece.trim();
        if !piece.is_empty() {
            pieces.push(piece.to_string());
        }
        rest = tail.trim_start();
    }
    pieces
}

fn last_break(window: &str, pattern: &str) -> Option<usize> {
    window.rfind(pattern).filter(|&i| i > 0)
}

/// Byte index just after the last `. `, `? ` or `! ` (or `.)` / `.’` then a space).
fn last_sentence_end(window: &str) -> Option<usize> {
    let bytes = window.as_bytes();
    (1..bytes.len())
        .rev()
        .find(|&i| {
            bytes[i] == b' '
                && (matches!(bytes[i - 1], b'.' | b'?' | b'!' | b':' | b';')
                    || (i >= 2 && matches!(bytes[i - 1], b')') && bytes[i - 2] == b'.'))
        })
        .filter(|&i| i > 0)
}

/// Shortens `text` to at most `limit` characters at a word boundary, adding `…`.
pub fn fit(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let room = limit.saturating_sub(1);
    let cut = text.char_indices().nth(room).map_or(text.len(), |(i, _)| i);
    let head = &text[..cut];
    let head = match head.rfind(char::is_whitespace) {
        Some(i) if i > cut / 2 => &head[..i],
        _ => head,
    };
    format!("{}…", head.trim_end())
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_weekly_card_gives_the_guidance_in_whole_paragraphs() {
        let f = Framework::builtin().unwrap();
        let prompts = crate::prompts::WeeklyPrompts::builtin(&f).unwrap();
        let mut whole = 0;
        for c in f.competences() {
            let prompt = prompts
                .for_competence(&f, c.id)
                .expect("a prompt each week");
            let card = weekly_card(&f, c, &prompt);
            assert!(card.total_chars() <= limits::EMBED_TOTAL, "{}", c.id);
            assert!(
                card.description.chars().count() <= limits::DESCRIPTION,
                "{}",
                c.id
            );
            let guidance = match f.shared_guidance(c) {
                _ if !c.guidance.is_empty() => c.guidance.as_str(),
                Some((_, text)) => text,
                None => "",
            };
            let paragraphs: Vec<&str> = guidance.split("\n\n").collect();
            let shown = paragraphs
                .iter()
                .take_while(|p| card.description.contains(*p))
                .count();
            // Every paragraph shown is whole and in order; any left out is
            // said to continue on the full card.
            if shown < paragraphs.len() {
                assert!(
                    card.description.contains("continues on the full card"),
                    "{}",
                    c.id
                );
            } else {
                whole += 1;
            }
            assert!(!card.footer.contains("shortened"), "{}", c.id);
        }
        assert!(
            whole > f.competences().len() / 2,
            "{whole} show all their guidance"
        );
    }

    #[test]
    fn split_respects_the_limit_and_never_cuts_a_word() {
        let text = "One sentence here. Another sentence follows it. And a third one ends.";
        for limit in [10, 20, 30, 50, 100] {
            let pieces = split_text(text, limit);
            for p in &pieces {
                assert!(p.chars().count() <= limit, "{p:?} > {limit}");
            }
            let words: Vec<&str> = text.split_whitespace().collect();
            let rejoined: Vec<&str> = pieces.iter().flat_map(|p| p.split_whitespace()).collect();
            assert_eq!(words, rejoined, "limit {limit}");
        }
    }

    #[test]
    fn split_prefers_sentence_ends() {
        let pieces = split_text(
            "First sentence is here. Second one is longer than that.",
            40,
        );
        assert_eq!(pieces[0], "First sentence is here.");
    }

    #[test]
    fn fit_adds_an_ellipsis_within_the_limit() {
        let s = fit("a fairly long title that will not fit", 20);
        assert!(s.chars().count() <= 20);
        assert!(s.ends_with('…'));
        assert_eq!(fit("short", 20), "short");
    }

    #[test]
    fn every_card_of_the_framework_is_within_limits() {
        let f = Framework::builtin().unwrap();
        let mut cards: Vec<Card> = f
            .competences()
            .iter()
            .map(|c| competence_card(&f, c))
            .collect();
        cards.extend(f.areas().iter().map(|a| area_card(&f, a)));
        cards.push(overview_card(&f));
        for card in cards {
            assert!(
                card.title.chars().count() <= limits::TITLE,
                "{}",
                card.title
            );
            assert!(
                card.heading.chars().count() <= limits::TITLE,
                "{}",
                card.heading
            );
            assert!(
                card.description.chars().count() <= limits::DESCRIPTION,
                "{}",
                card.title
            );
            assert!(card.fields.len() <= limits::FIELDS);
            for field in &card.fields {
                assert!(
                    field.value.chars().count() <= limits::FIELD_VALUE,
                    "{}",
                    card.title
                );
                assert!(field.name.chars().count() <= limits::FIELD_NAME);
                assert!(!field.value.is_empty());
            }
            assert!(card.total_chars() <= limits::EMBED_TOTAL, "{}", card.title);
            assert!(
                !card.footer.contains("shortened"),
                "{} was shortened",
                card.title
            );
        }
    }

    #[test]
    fn a_shared_guidance_card_names_its_partner() {
        let f = Framework::builtin().unwrap();
        let c = f.competence("core:1.2".parse().unwrap()).unwrap();
        let card = competence_card(&f, c);
        let field = card
            .fields
            .iter()
            .find(|x| x.name.starts_with("Guidance"))
            .unwrap();
        assert!(field.name.contains("Core 1.3"), "{}", field.name);
        assert!(
            field
                .value
                .starts_with("These two competences form a pair.")
        );

        let partner = competence_card(&f, f.competence("core:1.3".parse().unwrap()).unwrap());
        let field = partner
            .fields
            .iter()
            .find(|x| x.name.starts_with("Guidance"))
            .unwrap();
        assert!(
            field.name.contains("shared with competence 1.2"),
            "{}",
            field.name
        );
    }
}
