//! The confidentiality check: before a reflection is kept or shared, a look
//! at its title and text for what might identify a client (BACP's Ethical
//! Framework puts client confidentiality first). It names the kind of detail
//! found, never the detail; it never blocks; nothing it sees is logged.
//!
//! How it reads, sentence by sentence:
//!
//! - **Fixed shapes**: email addresses, phone numbers, UK postcodes, street
//!   addresses ("14 Acacia Avenue", "Flat 3"), dates of birth (a date beside
//!   "born" or "DOB", a full date before 2010, an age turned on a given day),
//!   initials beside a client ("coachee J.B."), organisations by their suffix
//!   ("Acme Ltd", "Leeds City Council").
//! - **Capitalised words inside a sentence** are proper nouns unless they are
//!   capitalised for another reason: the words of the allow-lists below
//!   (days and months, festivals, nationalities and faiths, tools, the
//!   framework's and the reflective models' own words, roles such as Line
//!   Manager or Head of People, and the authors practitioners reflect with),
//!   acronyms (HR, CEO, CBT), words with the endings of abstract nouns
//!   ("Supervision", "Environment"), an author's first name ("Carl Rogers")
//!   or a possessive before a theory ("Karpman's triangle"). What the word
//!   follows says what it is likely to be: a title or a person is a name,
//!   "works at" or "employer" an organisation, "lives in" or "from" a place.
//!   A place in a sentence only about the writer ("back from a conference
//!   in Birmingham") is the writer's own business and is left alone.
//! - **The first word of a sentence** is capitalised anyway, so it counts as
//!   a name only when what follows is said of a person ("Grace said",
//!   "Hope cancelled", "Yusuf and I", "Danny's father"), and never when it
//!   reads as a verb or an abstract noun ("Reading my notes", "Silence
//!   seemed to help"). Words that are also names ("Will", the months) count
//!   only on that evidence or after a title or a person: "April has asked"
//!   and "my client June" are names; "in April" and "Will she come back?"
//!   are not.
//! - **Lowercase names**, as notes are often typed, are read only where a
//!   name is expected: straight after a client, coachee or other person
//!   ("my client sam said"), after a session or call with someone
//!   ("session with tom today"), or after getting in touch ("rang
//!   kayleigh"), when the word is not a common function word, verb form or
//!   role. A lowercase employer is read after "works for" ("works for
//!   amazon") or a person at it ("his boss at google").
//! - **Single letters** ("my client A.", "coachee B") are the usual
//!   pseudonym and are left alone; so is a sentence written in title case (a
//!   heading), except for the fixed shapes, titles and people.
//!
//! The lists hold no given names (so no names list, and no licence for
//! one, is needed): they are the capitalised vocabulary of reflective
//! practice and the function words of English, so a name the check has
//! never seen is still caught by where it stands. Its precision and recall
//! are measured against labelled sentences in
//! `tests/integration/nudge_quality.rs`.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

/// A kind of detail that can identify a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concern {
    /// An email address.
    Email,
    /// A phone number.
    Phone,
    /// A date that may be a date of birth.
    BirthDate,
    /// A UK postcode.
    Postcode,
    /// A street address, or the town or village where someone lives.
    Address,
    /// A name (or initials) of a client or someone in their world.
    Name,
    /// An employer or other organisation.
    Organisation,
}

/// The order concerns are listed in.
const ORDER: [Concern; 7] = [
    Concern::Email,
    Concern::Phone,
    Concern::BirthDate,
    Concern::Postcode,
    Concern::Address,
    Concern::Name,
    Concern::Organisation,
];

impl Concern {
    /// How the concern is named to the member.
    pub fn describe(self) -> &'static str {
        match self {
            Concern::Email => "an email address",
            Concern::Phone => "a phone number",
            Concern::BirthDate => "a date that may be a date of birth",
            Concern::Postcode => "a postcode",
            Concern::Address => "what looks like an address or the place someone lives",
            Concern::Name => "what looks like someone's name or initials",
            Concern::Organisation => "what looks like an employer or organisation",
        }
    }
}

// ---------------------------------------------------------------------------
// Fixed shapes, read over the whole text.

/// The people a reflection is most likely to identify, for initials.
const PERSON: &str = r"(?:[Cc]lient|[Cc]oachee|[Pp]atient|[Ss]upervisee|[Cc]olleague)s?(?:'s|’s)?";

/// Words that end an organisation's name.
const ORGANISATION_SUFFIX: &str = r"(?:Ltd|Limited|PLC|plc|LLP|Inc|Corp|Corporation|Bank|Council|University|College|School|Academy|Hospital|Infirmary|Primary|Grammar|Holdings|Partners|Partnership|Associates|Foundation|Charity|Trust|Society|Systems|Services|Solutions|Consulting|Consultancy)";

/// Words that end a street's name.
const STREET_SUFFIX: &str = r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Close|Grove|Gardens|Crescent|Way|Place|Terrace|Court|Square|Hill|View|Park|Row|Mews|Walk|Rise|Green|Parade|Vale|Wharf|Yard|Estate)";

const MONTH: &str = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)";

struct Pattern {
    concern: Concern,
    regex: Regex,
    /// Which capture holds the word(s) that must not all be ordinary
    /// capitalised words; 0 when every match counts.
    word: usize,
}

static PATTERNS: LazyLock<Vec<Pattern>> = LazyLock::new(|| {
    let p = |concern, word, re: &str| Pattern {
        concern,
        regex: Regex::new(re).expect("nudge patterns are valid regexes"),
        word,
    };
    vec![
        p(Concern::Email, 0, EMAIL_PATTERN),
        p(Concern::Phone, 0, PHONE_PATTERN),
        p(
            Concern::BirthDate,
            0,
            r"(?i)\b(?:born|dob|d\.o\.b\.?|date of birth|birthday)\b[^.\n]{0,20}\d",
        ),
        // An age turned on a given day is a birthday.
        p(
            Concern::BirthDate,
            0,
            &format!(
                r"(?i)(?:\b(?:turns|turned|turning|will be)|['’]ll be)\s+\d{{1,3}}\s+(?:on|this|next|last)\s+(?:the\s+)?(?:\d{{1,2}}(?:st|nd|rd|th)?(?:\s+of)?\s+{MONTH}\b|{MONTH}\s+\d{{1,2}}|(?:mon|tues|wednes|thurs|fri|satur|sun)day)"
            ),
        ),
        p(
            Concern::Postcode,
            0,
            r"(?i)\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[ABD-HJLNP-UW-Z]{2}\b",
        ),
        // "14 Acacia Avenue", "31b Beech Grove", "Flat 3".
        p(
            Concern::Address,
            0,
            &format!(
                r"\b\d{{1,4}}[a-zA-Z]?,?\s+(?:\p{{Lu}}[\p{{L}}'’-]*\s+){{1,3}}{STREET_SUFFIX}\b"
            ),
        ),
        p(
            Concern::Address,
            0,
            r"(?i)\b(?:flat|apartment|apt)\s+\d+[a-z]?\b",
        ),
        // "on Wellington Road", "a flat on Princes Avenue".
        p(
            Concern::Address,
            1,
            &format!(
                r"\b(?:on|in|off|along|near)\s+(?:the\s+)?((?:\p{{Lu}}[\p{{L}}'’-]*\s+){{1,2}}){STREET_SUFFIX}\b"
            ),
        ),
        // "the coachee (J.B.)": bracketed initials.
        p(
            Concern::Name,
            0,
            &format!(r"\b{PERSON}\s*\(\s*\p{{Lu}}\.?\s?\p{{Lu}}\.?\s*\)"),
        ),
        // "my coachee J.B.", "client JB": two or more initials, not an
        // acronym ("the client's GP").
        p(
            Concern::Name,
            1,
            &format!(r"\b{PERSON},?\s+([A-Z]\.?\s?[A-Z]\b\.?)"),
        ),
        // "Sarah from HR", "Dev in Finance".
        p(
            Concern::Name,
            1,
            r"\b(\p{Lu}\p{Ll}+)\s+(?:from|in)\s+(?:HR|IT|[Ff]inance|[Aa]ccounts|[Ss]ales|[Mm]arketing|[Pp]rocurement|[Ll]egal|[Oo]perations|[Cc]ompliance|[Pp]ayroll)\b",
        ),
        // "Acme Ltd", "Leeds City Council".
        p(
            Concern::Organisation,
            1,
            &format!(r"\b((?:[A-Z][\w&'’-]*\s+){{1,3}}){ORGANISATION_SUFFIX}\b"),
        ),
    ]
});

const EMAIL_PATTERN: &str = r"(?i)\b[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}\b";
const PHONE_PATTERN: &str = r"(?:\+44\s?|\b0)(?:\d[\s-]?){9,10}\b";

/// A full date with its year: before 2010 it may well be a date of birth,
/// later it is more likely a session's.
static FULL_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b\d{1,2}[/.-]\d{1,2}[/.-]((?:19|20)\d{2})\b").expect("the date pattern is valid")
});

/// What is blanked out before words are read: email addresses (already
/// found) and links, so their parts are not read as words.
static BLANKED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"{EMAIL_PATTERN}|(?i)\bhttps?://\S+"))
        .expect("the blanking pattern is valid")
});

// ---------------------------------------------------------------------------
// Words.

/// Function words, common verb forms and adverbs: never a name, whether at
/// the start of a sentence or typed in lowercase after "my client".
const FUNCTION_WORDS: &str = "\
    a an the this that these those my our your his her their its i i'm i've i'll i'd me \
    we we've we're we'll we'd us you you're you've he he's he'd she she's she'd they \
    they're they've they'd them him it it's itself myself herself himself themselves \
    ourselves yourself who whom whose which what why how where when whenever while \
    whilst and but or nor so yet if then than though although because since as until \
    unless once before after during over under in on at for with without from to of by \
    about into onto off out up down through across around between among against towards \
    toward via per like near within also just even only still again already always never \
    often sometimes maybe perhaps very really quite rather too more most less least much \
    many few several some any all both each every either neither no not none nothing \
    nobody someone somebody something anyone anything everyone everybody everything \
    other others another such same own here there now today tonight yesterday tomorrow \
    later earlier soon first second third fourth fifth last next well yes ok okay oh hmm \
    anyway plus is are was were am be been being do does did done doing have has had \
    having can could will would shall should may might must isn't aren't wasn't weren't \
    don't doesn't didn't can't couldn't won't wouldn't hasn't haven't hadn't shouldn't \
    got get gets getting go goes went gone come comes came take takes took make makes \
    made keep keeps kept meet meets met see sees saw seen think thought bring spent \
    began begin became become gave give found knew know heard left let put look looks \
    feel felt need needs needed back away together apart instead almost enough finally \
    actually clearly probably certainly honestly basically generally mainly mostly \
    please thanks thank hi hello dear re etc new old same one two three four five six \
    seven eight nine ten half lot lots bit kind sort way time times day days week weeks \
    month months year years morning afternoon evening night session sessions call \
    meeting work home said told tells asked talked spoke seemed wanted cried arrived \
    cancelled canceled whether except despite however therefore meanwhile including \
    especially whereas otherwise besides nonetheless nevertheless indeed hence thus \
    overall free really sadly luckily apparently eventually initially suddenly hopefully \
    obviously interestingly unfortunately fortunately surprisingly importantly \
    personally gradually recently previously similarly additionally firstly secondly \
    lastly quickly slowly simply nearly early partly largely rarely usually only online \
    offline outside inside late twice face briefly up";

/// Verbs said of a person: what follows a name at the start of a sentence
/// ("Grace said", "Hope cancelled"), and what an abstract subject rarely does.
const PERSON_VERBS: &str = "\
    said says told tells asked asks cancelled canceled cancels arrived arrives cried \
    cries described describes brought brings spoke speaks talked talks admitted admits \
    apologised apologized apologises apologizes explained explains mentioned mentions \
    shared shares wants wanted hopes hoped thinks believes believed worries laughed \
    laughs smiled sighed decided decides agreed agrees refused refuses emailed emails \
    rang rings texted phoned messaged disclosed discloses revealed realised realized \
    realises noticed notices recognised recognized acknowledged wondered wonders \
    insisted insists complained complains seemed seems sounded joined rebooked \
    rescheduled replied answered called struggles struggled loves loved hates hated \
    didn't doesn't hasn't hadn't won't wouldn't can't couldn't isn't wasn't interrupts \
    interrupted shouted shouts yelled blames blamed criticised criticises undermines \
    undermined bullies bullied ignores ignored praised praises resigned retired quit \
    died confided confessed sobbed panicked froze paused nodded frowned";

/// Verbs that with a particle are said of a person: "turned up".
const PERSON_PHRASAL: &str = "turned turns showed opened broke burst";

/// The auxiliaries before a verb said of a person: "April has asked".
const AUXILIARIES: &str = "\
    has had is was will would could can may might did does just also then never always \
    still";

/// Days, months and festivals. The months (and "Will") are also names, so
/// they are [`NAME_WORDS`] too.
const CALENDAR: &str = "\
    monday tuesday wednesday thursday friday saturday sunday mondays tuesdays wednesdays \
    thursdays fridays saturdays sundays january february march april may june july \
    august september october november december jan feb mar apr jun jul aug sep sept oct \
    nov dec christmas xmas easter ramadan eid diwali hanukkah passover lent advent \
    halloween valentine's new year bank holiday holidays boxing day mother's father's \
    pride";

/// Words that are capitalised as ordinary words and are also given names:
/// they count as a name only on strong evidence.
const NAME_WORDS: &str = "will april may june july august";

/// Nationalities, languages, faiths and other words for who people are,
/// capitalised in English but naming no one.
const PEOPLES: &str = "\
    english british scottish welsh irish northern southern eastern western european \
    american african asian caribbean black white mixed polish indian pakistani \
    bangladeshi chinese nigerian ghanaian jamaican somali eritrean syrian afghan \
    ukrainian russian romanian lithuanian latvian portuguese spanish italian french \
    german dutch greek turkish kurdish iranian arab arabic urdu punjabi bengali hindi \
    gujarati tamil filipino brazilian australian canadian japanese korean vietnamese \
    muslim christian catholic protestant anglican methodist baptist quaker jewish hindu \
    sikh buddhist islamic orthodox pentecostal deaf lgbt lgbtq lgbtq+ covid brexit god \
    bible quran koran church mosque temple synagogue england scotland wales ireland \
    britain europe africa asia america uk";

/// Tools and places online that reflections mention.
const TOOLS: &str = "\
    zoom teams skype whatsapp outlook slack discord facetime meet miro word excel \
    powerpoint linkedin facebook instagram twitter tiktok youtube google iphone email \
    internet wi-fi wifi";

/// The framework's own words, and those of reflective practice and the
/// models it uses, often capitalised.
const PRACTICE: &str = "\
    bacp ethical framework core integration specialist competence competences coaching \
    coach coaches coachee coachees client clients therapy therapist therapeutic \
    counselling counsellor psychotherapy psychotherapist supervision supervisor \
    supervisee peer group groups session sessions week reflection reflections reflective \
    practice practitioner model models cycle theory triangle drama window seven-eyed \
    eyed seven thinking environment transactional analysis gestalt person-centred \
    person-centered centred solution-focused solution focused cognitive behavioural \
    behavioral motivational interviewing appreciative inquiry wheel life inner game \
    mindfulness compassion attachment skilled helper ladder inference contract \
    contracting goal goals notes note review action plan description feelings evaluation \
    conclusion learning mentoring mentor training wellbeing adult parent child rescuer \
    victim persecutor grow stages change transference countertransference parallel \
    process cpd code standards guidance guide domain metacompetence ethics dictionary \
    what so now description reflexivity tolerance mode modes restorative formative \
    normative functions conditions congruence empathy regard unconditional positive \
    agenda check-in check-out supervisor's diploma certificate masters course module \
    conference workshop dream iceberg johari okr smart section sections domain domains \
    column chapter appendix part table figure page association federation institute \
    international european national professional professions division user";

/// Roles and the parts of an organisation, as they are written in titles
/// ("Head of People", "Line Manager", "Occupational Health").
const ROLES: &str = "\
    head deputy director directors manager managers line senior junior chief officer \
    executive executives leader leaders leadership lead team teams board chair trustee \
    trustees governor governors partner partners associate consultant assistant \
    administrator coordinator human resources people talent occupational health employee \
    employees assistance programme program department finance payroll sales marketing \
    operations legal procurement compliance accounts customer service services union \
    staff sponsor sponsors boss employer colleague colleagues patient patients nurse \
    doctor teacher student students mum mom dad mother father sister brother husband \
    wife son daughter gran nan grandad grandma grandmother grandfather aunt uncle cousin \
    friend friends family baby children kids boyfriend girlfriend fiancé fiancée ex \
    neighbour landlord headteacher principal vicar gp hr ceo occupational wellness unit \
    ward office site branch hq headquarters school hospital council university college \
    charity company firm organisation organization business shop store";

/// The authors practitioners reflect with, and their models' names.
const AUTHORS: &str = "\
    rogers kolb gibbs rolfe borton driscoll johns schön schon hawkins shohet egan \
    proctor inskipp clarkson karpman berne bowlby ainsworth winnicott klein freud jung \
    adler perls maslow kline whitmore gallwey passmore bachkirova clutterbuck megginson \
    downey dweck seligman goleman bandura prochaska diclemente kübler-ross kubler-ross \
    worden stroebe schut yalom mezirow knowles argyris senge covey neff siegel porges \
    kahneman luft ingham heron kadushin wosket gottman tuckman lewin kotter scharmer \
    satir minuchin bateson erickson erikson rosenberg boud brookfield dewey vygotsky \
    piaget bronfenbrenner mearns thorne mcleod lapworth sills joines deci boyatzis \
    bolton rock scoular hay de van der kolk beck ellis linehan hayes gilbert bion kohut \
    horney lacan foucault habermas buber frankl fromm socratic rogerian freudian jungian \
    kleinian adlerian winnicottian kohutian lacanian ericksonian darwinian pavlovian";

/// Words that make a possessive name an author's: "Kolb's cycle".
const THEORY_NOUNS: &str = "\
    model models cycle theory theories triangle window lens approach framework stages \
    stage conditions functions modes mode hierarchy ladder matrix wheel grid curve \
    concept concepts idea ideas notion book books paper research work writing writings \
    method technique questions levels domains types eyes principles phases steps map \
    tool diagram loop quadrant continuum spiral relationships states needs analysis \
    checklist reflective learning emotional drama skilled core";

/// Words that make the capitalised words before them a model's or a
/// theory's name: "Intentional change theory", "the Skilled Helper model".
const MODEL_NOUNS: &str = "\
    model models cycle theory theories triangle window framework approach matrix wheel \
    grid curve ladder technique method hierarchy continuum quadrant loop diagram iceberg \
    inventory questionnaire indicator profile code codes standards guide guidance policy \
    charter principles handbook manual toolkit scale question questions language critic \
    exercise chair intervention tool lens syndrome bias effect";

/// Titles before a name.
const TITLES: &str = "\
    mr mrs ms miss mx dr prof professor fr father sister brother cllr councillor rev \
    revd reverend sir dame lord lady rabbi imam pastor";

/// Abbreviations after which a full stop does not end a sentence.
const ABBREVIATIONS: &str =
    "mr mrs ms dr fr st prof cllr rev revd no vs etc approx e.g i.e eg ie mt sr jr dept";

/// People whose name follows them: "my client Tom", "her manager, Steve,".
const PERSON_NOUNS: &str = "\
    client clients coachee coachees patient supervisee colleague sponsor manager boss \
    husband wife partner son daughter mother mum father dad brother sister friend \
    boyfriend girlfriend fiancé fiancée ex director mentor neighbour cousin aunt uncle \
    nan gran grandmother grandfather niece nephew flatmate housemate stepdad stepmum \
    child baby called named";

/// Where a lowercase name is expected after "with" or "to": a session, a
/// call, a conversation.
const MEETING_WORDS: &str = "\
    session sessions call calls meeting meetings catch-up check-in chat spoke speak \
    talked talk met";

/// Words before a month that make it one: "in April", "about June".
const PREPOSITIONS_OF_TIME: &str = "in on by since until till during from of last next this early \
    late mid through before after about end";

/// Words that show a sentence is about someone other than the writer.
const OTHERS: &str = "he she they him her his their them he's she's they're client clients coachee \
    coachees supervisee patient man woman someone person family lives grew";

/// Verbs of getting in touch, after which a lowercase word is a person:
/// "rang kayleigh".
const CONTACT_VERBS: &str = "met rang emailed texted phoned messaged rebooked called";

/// Words before an organisation's name.
const WORKPLACE_CUES: &str = "\
    at for by joined left employer employers employed company firm headhunted works \
    worked working job contract";

/// Words before a place's name.
const PLACE_CUES: &str =
    "in from near outside lives live living lived based around village town city moved";

/// Movements before "to" that make it a place's cue: "moved to Leeds", not
/// "spoke to Ray".
const MOVEMENTS: &str = "\
    moved moving move moves relocated relocating went going goes back commutes commuting \
    drove drives travelled travels emigrated trip returned returning";

/// Employment verbs after which even a lowercase word is an employer:
/// "works for amazon".
const EMPLOYED: &str = "works working worked employed job";

/// Lowercase words after "works at" that are not employers.
const GENERIC_WORKPLACES: &str = "\
    home work school university college hospital council office bank company firm \
    charity agency shop store factory warehouse practice ward site headquarters hq \
    branch plant depot night nights weekends lunch times first length least most once \
    all pace scale risk";

/// Acronyms that name no one: roles, services, therapies, qualifications.
const ACRONYMS: &str = "\
    hr ceo cfo coo cto md gp gps nhs eap cbt dbt act nlp ta cpd bacp ukcp bps emcc icf \
    ac adhd asd ocd ptsd it pa ot a&e icu itu camhs grow smart kpi kpis okr okrs wfh pip \
    sen senco uk usa us eu lgbt lgbtq bame dei edi tv id mp phd mba cv ai ok pm am dob \
    erg scoped rct pgce mbti ei eq iq tbc asap fyi n.b nb ps aka q qs hse";

/// Abstract-noun and verb endings: a capitalised word ending so is rarely a
/// name (a long one at the start of a sentence, where "-ing" and "-ed"
/// are verbs).
const ABSTRACT_ENDINGS: &str = "tion sion ment ness ity ship ism ysis ology ency ancy ics ities";
const START_ENDINGS: &str = "ing ence ance ies ful less ous";

/// Endings of lowercase words that are not names: adverbs, participles,
/// adjectives, abstract nouns.
const LOWER_ENDINGS: &str = "ing ly ed ful less ous ive able ible al ish ence ance ure";

/// The second halves of compound adjectives: "Narrative-orientated".
const COMPOUND_TAILS: &str = "\
    orientated oriented informed focused focussed based led centred centered \
    determination related like style type friendly free driven aware minded specific \
    funded inspired influenced trained speaking born";

static FUNCTION: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| FUNCTION_WORDS.split_ascii_whitespace().collect());

/// Capitalised words that are ordinary: every list above but the verbs and
/// the authors (an author's surname after "my client" is a client's).
static ORDINARY: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    [
        FUNCTION_WORDS,
        CALENDAR,
        PEOPLES,
        TOOLS,
        PRACTICE,
        ROLES,
        ACRONYMS,
        MODEL_NOUNS,
    ]
    .into_iter()
    .flat_map(str::split_ascii_whitespace)
    .collect()
});

/// Whether a lowercased word, or its singular, is an ordinary word:
/// "therapies", "supervisors".
fn ordinary(word: &str) -> bool {
    ORDINARY.contains(word)
        || word
            .strip_suffix("ies")
            .is_some_and(|stem| ORDINARY.contains(format!("{stem}y").as_str()))
        || word
            .strip_suffix('s')
            .is_some_and(|stem| !stem.ends_with('s') && ORDINARY.contains(stem))
}

/// Whether `word` is one of the space-separated words of `list`.
fn is(list: &str, word: &str) -> bool {
    list.split_ascii_whitespace().any(|w| w == word)
}

// ---------------------------------------------------------------------------
// Sentences and tokens.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// "Grace", "O'Connor", "Rolls-Royce".
    Capitalised,
    /// "HR", "KPMG".
    Acronym,
    /// "sam", "sarah-jane".
    Lower,
    /// "J.P.".
    Initials,
    Number,
    Punctuation,
}

#[derive(Debug)]
struct Token<'a> {
    /// As written, without a possessive ending.
    text: &'a str,
    /// Lowercased.
    lower: String,
    shape: Shape,
    possessive: bool,
    /// First of its sentence or clause, where a capital says nothing.
    start: bool,
}

static TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:\p{Lu}\.){2,}|\p{L}[\p{L}\p{M}]*(?:['’\-&]\p{L}[\p{L}\p{M}]*)*['’]?|\d[\d\p{L}.,:/\-]*|[^\s\p{L}\d]",
    )
    .expect("the token pattern is valid")
});

fn tokens(sentence: &str) -> Vec<Token<'_>> {
    let mut out: Vec<Token<'_>> = Vec::new();
    let mut start = true;
    for m in TOKEN.find_iter(sentence) {
        let raw = m.as_str();
        let first = raw.chars().next().unwrap_or(' ');
        let (text, possessive) = strip_possessive(raw);
        let shape = if first.is_ascii_digit() {
            Shape::Number
        } else if !first.is_alphabetic() {
            Shape::Punctuation
        } else if raw.len() > 2 && raw.ends_with('.') {
            Shape::Initials
        } else if first.is_uppercase() {
            // "CBT-orientated" is an acronym's word, "Narrative-orientated" a
            // compound adjective; "Rolls-Royce" and "Sarah-Jane" are names.
            let head = text.split('-').next().unwrap_or(text);
            let compound = text.split('-').skip(1).any(|part| is(COMPOUND_TAILS, part));
            let letters: Vec<char> = head.chars().filter(|c| c.is_alphabetic()).collect();
            if letters.len() >= 2 && letters.iter().all(|c| c.is_uppercase()) {
                Shape::Acronym
            } else if compound {
                Shape::Lower
            } else {
                Shape::Capitalised
            }
        } else {
            Shape::Lower
        };
        let clause_mark = shape == Shape::Punctuation
            && matches!(
                first,
                ':' | ';' | '(' | '"' | '\'' | '“' | '‘' | '—' | '–' | '-' | '*' | '•' | '[' | '/'
            );
        out.push(Token {
            text,
            lower: text.to_lowercase(),
            shape,
            possessive,
            start,
        });
        start = clause_mark;
    }
    out
}

fn strip_possessive(raw: &str) -> (&str, bool) {
    for ending in ["'s", "’s"] {
        if let Some(base) = raw.strip_suffix(ending)
            && !base.is_empty()
            && !base.eq_ignore_ascii_case("it")
            && !base.eq_ignore_ascii_case("he")
            && !base.eq_ignore_ascii_case("she")
            && !base.eq_ignore_ascii_case("that")
            && !base.eq_ignore_ascii_case("what")
            && !base.eq_ignore_ascii_case("there")
        {
            return (base, true);
        }
    }
    // "Gibbs'", "clients'"; a closing quote after any other word.
    for ending in ['\'', '’'] {
        if let Some(base) = raw.strip_suffix(ending) {
            return (base, base.ends_with('s') && base.len() > 1);
        }
    }
    (raw, false)
}

static BOUNDARY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"[.!?…]+["'”’)]*(?:\s+|$)|\n+"#).expect("the sentence pattern is valid")
});

/// The text's sentences: a full stop after a title, an abbreviation or a
/// single initial does not end one.
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut from = 0;
    for m in BOUNDARY.find_iter(text) {
        let before = &text[from..m.start()];
        let last = before
            .rsplit(|c: char| !(c.is_alphanumeric() || c == '.'))
            .next()
            .unwrap_or("");
        let last_lower = last.to_lowercase();
        let abbreviation = m.as_str().starts_with('.')
            && (is(ABBREVIATIONS, &last_lower)
                || (last.chars().count() == 1 && last.chars().all(char::is_uppercase))
                || (last.contains('.') && last.chars().filter(|c| c.is_alphabetic()).count() <= 3));
        if abbreviation && !m.as_str().contains('\n') {
            continue;
        }
        out.push(&text[from..m.end()]);
        from = m.end();
    }
    if from < text.len() {
        out.push(&text[from..]);
    }
    out
}

// ---------------------------------------------------------------------------
// Reading a sentence's words.

fn ends_with_any(word: &str, endings: &str) -> bool {
    endings
        .split_ascii_whitespace()
        .any(|e| word.len() > e.len() + 2 && word.ends_with(e))
}

/// A past tense at the start of a note ("Felt", "Worked", "Ended"), not a
/// name such as Ahmed or Naveed.
fn past_tense(word: &str) -> bool {
    word.len() >= 5
        && word.ends_with("ed")
        && !["eed", "med", "ved", "red"]
            .iter()
            .any(|e| word.ends_with(e))
}

struct Reader<'t> {
    t: &'t [Token<'t>],
    /// The sentence is written in title case, as a heading.
    heading: bool,
    /// The sentence is only about the writer.
    writer_only: bool,
}

#[derive(Default)]
struct Found {
    name: bool,
    organisation: bool,
    address: bool,
}

impl<'t> Reader<'t> {
    fn new(t: &'t [Token<'t>]) -> Self {
        let words: Vec<&Token> = t
            .iter()
            .filter(|w| matches!(w.shape, Shape::Capitalised | Shape::Lower | Shape::Acronym))
            .collect();
        // "Working With Endings", "Three-Way Contract Review": a heading
        // capitalises every word, the small ones too.
        let heading = words.len() >= 2 && words.iter().all(|w| w.shape != Shape::Lower);
        let first_person = words
            .iter()
            .any(|w| is("i i'm i've i'd i'll me my we our us", &w.lower));
        let others = t
            .iter()
            .any(|w| w.shape == Shape::Number || is(OTHERS, &w.lower));
        Reader {
            t,
            heading,
            writer_only: first_person && !others,
        }
    }

    fn word(&self, i: usize) -> Option<&Token<'t>> {
        self.t.get(i)
    }

    fn lower(&self, i: usize) -> &str {
        self.t.get(i).map_or("", |w| w.lower.as_str())
    }

    /// The index of the word before `i`, passing over articles and commas.
    fn cue_before(&self, i: usize) -> Option<usize> {
        let mut j = i;
        let mut skipped = 0;
        while j > 0 && skipped < 3 {
            j -= 1;
            let w = &self.t[j];
            if is("the a an , is was ( called named", &w.lower) {
                skipped += 1;
                continue;
            }
            return Some(j);
        }
        None
    }

    /// Whether the words from `i` on are said of a person: a verb such as
    /// "said", an auxiliary before one, "turned up", or "and I".
    fn person_follows(&self, i: usize) -> bool {
        let mut i = i;
        // Pass over a bracket: "Ben (my coachee) asked".
        if self.lower(i) == "(" {
            let close = (i..self.t.len()).find(|&j| self.lower(j) == ")");
            match close {
                Some(j) if j - i <= 5 => i = j + 1,
                _ => return false,
            }
        }
        let next = self.lower(i);
        if is(PERSON_VERBS, next) {
            return true;
        }
        if is(PERSON_PHRASAL, next) && is("up in down into out", self.lower(i + 1)) {
            return true;
        }
        if is(AUXILIARIES, next) && is(PERSON_VERBS, self.lower(i + 1)) {
            return true;
        }
        if next == "and" && is("i me", self.lower(i + 1)) {
            return true;
        }
        // "Jonno, as he likes to be called", "Freddie, 24,", "Bernie, his
        // line manager,".
        if next == ","
            && (is("as who aged", self.lower(i + 1))
                || self.word(i + 1).is_some_and(|w| w.shape == Shape::Number)
                || (is("my his her their our the", self.lower(i + 1))
                    && (i + 2..i + 5).any(|j| is(PERSON_NOUNS, self.lower(j)))))
        {
            return true;
        }
        false
    }

    /// Whether a possessive at `i` belongs to an author: "Kolb's learning
    /// cycle".
    fn theory_follows(&self, i: usize) -> bool {
        (i + 1..(i + 4).min(self.t.len())).any(|j| is(THEORY_NOUNS, &self.t[j].lower))
    }

    /// A capitalised word that is part of an author's name: an author, or a
    /// first name before one ("Carl Rogers"), or a possessive before a
    /// theory.
    fn authorial(&self, i: usize) -> bool {
        let w = &self.t[i];
        if is(AUTHORS, &w.lower) && !is(NAME_WORDS, &w.lower) {
            return true;
        }
        if w.possessive && self.theory_follows(i) {
            return true;
        }
        // "Intentional change theory": the model noun within two words.
        if !w.possessive
            && (i + 1..(i + 3).min(self.t.len()))
                .take_while(|&j| !self.t[j - 1].possessive && self.t[j].shape != Shape::Punctuation)
                .any(|j| is(MODEL_NOUNS, &self.t[j].lower))
        {
            return true;
        }
        self.word(i + 1).is_some_and(|n| {
            n.shape == Shape::Capitalised
                && (is(AUTHORS, &n.lower) || (n.possessive && self.theory_follows(i + 1)))
        })
    }

    /// Whether a title ("Mrs", "Dr.") stands before the word at `i`,
    /// perhaps with initials between ("Ms J. Okoro").
    fn title_before(&self, i: usize) -> bool {
        let mut j = i;
        loop {
            if j > 0 && self.lower(j - 1) == "." {
                j -= 1;
            }
            if j == 0 {
                return false;
            }
            let t = &self.t[j - 1];
            if t.shape == Shape::Capitalised && is(TITLES, &t.lower) {
                return true;
            }
            // Pass over an initial: "J", "J." or "J.P.".
            let initial = t.shape == Shape::Initials
                || (t.shape == Shape::Capitalised && t.text.chars().count() == 1);
            if !initial || i - j > 6 {
                return false;
            }
            j -= 1;
        }
    }

    /// Whether a person precedes `i`: "my client", "her manager,",
    /// "coachee (", "a client called".
    fn person_before(&self, i: usize) -> bool {
        let mut j = i;
        while j > 0 && matches!(self.lower(j - 1), "," | "(") {
            j -= 1;
        }
        if j == 0 {
            return false;
        }
        let w = self.lower(j - 1);
        if self.t[j - 1].possessive {
            // "the client's resilience": what the client has, not a name.
            return false;
        }
        let w2 = if j >= 2 { self.lower(j - 2) } else { "" };
        is(PERSON_NOUNS, w) || (w == "is" && w2 == "name") || (w == "as" && w2 == "known")
    }

    /// A lowercase word that could be a name where a name is expected.
    fn lowercase_name(&self, i: usize) -> bool {
        let w = &self.t[i];
        let l = w.lower.as_str();
        w.shape == Shape::Lower
            && l.chars().count() >= 2
            && !FUNCTION.contains(l)
            && !ordinary(l)
            && !is(PERSON_VERBS, l)
            && !is(GENERIC_WORKPLACES, l)
            && !ends_with_any(l, ABSTRACT_ENDINGS)
            && !ends_with_any(l, LOWER_ENDINGS)
    }

    fn read(&self, found: &mut Found) {
        let n = self.t.len();
        let mut i = 0;
        while i < n {
            let w = &self.t[i];
            match w.shape {
                Shape::Capitalised => {
                    // A run of capitalised words is read as one: "Anita Shah",
                    // "Leeds General Infirmary".
                    let mut end = i + 1;
                    while end < n
                        && self.t[end].shape == Shape::Capitalised
                        && !self.t[end - 1].possessive
                    {
                        end += 1;
                    }
                    self.read_run(i, end, found);
                    i = end;
                }
                Shape::Acronym => {
                    self.read_acronym(i, found);
                    i += 1;
                }
                Shape::Lower => {
                    self.read_lowercase(i, found);
                    i += 1;
                }
                _ => i += 1,
            }
        }
    }

    fn read_acronym(&self, i: usize, found: &mut Found) {
        let w = &self.t[i];
        if is(ACRONYMS, &w.lower) || self.heading {
            return;
        }
        // "her sponsor at HSBC", "paid for by KPMG".
        if self
            .cue_before(i)
            .is_some_and(|j| is(WORKPLACE_CUES, &self.t[j].lower))
        {
            found.organisation = true;
        }
    }

    /// A lowercase word that could be an employer after "works for": as a
    /// name, but tools' makers count ("at google").
    fn lowercase_employer(&self, i: usize) -> bool {
        let l = self.t[i].lower.as_str();
        self.lowercase_name(i) || (is(TOOLS, l) && !is("email internet wifi wi-fi", l))
    }

    fn read_lowercase(&self, i: usize, found: &mut Found) {
        if self.t[i].shape != Shape::Lower {
            return;
        }
        let next = self.lower(i + 1);
        let said = is(PERSON_VERBS, next) || self.person_follows(i + 1);
        if is(NAME_WORDS, &self.t[i].lower) && said && self.person_before(i) {
            // "my client june said".
            found.name = true;
            return;
        }
        if !self.lowercase_name(i) {
            self.read_lowercase_employer(i, found);
            return;
        }
        // What closes a name: "coachee (mo)", "my client, anna,", "my
        // client sam." A word ending in s there is more likely a verb ("the
        // client responds."), so it needs a verb said of a person after it.
        let closed = match self.lower(i.wrapping_sub(1)) {
            "(" => next == ")",
            "," => next == ",",
            _ => next.is_empty() || is(", . ; : - ! ?", next),
        };
        let verb_like = self.t[i].lower.ends_with('s') && !self.t[i].lower.ends_with("ss");
        // "my client sam said", "my client, anna, is", "her colleague bob
        // keeps interrupting".
        let keeps = is("keeps kept", next);
        if self.person_before(i) && (said || keeps || (closed && !verb_like)) {
            found.name = true;
            return;
        }
        // "session with tom today", "spoke to ray about".
        if i >= 2 && is("with to", self.lower(i - 1)) && is(MEETING_WORDS, self.lower(i - 2)) {
            found.name = true;
            return;
        }
        // "met chloe for our third session", "rang kayleigh to rebook".
        let after = self.word(i + 1);
        if i >= 1
            && is(CONTACT_VERBS, self.lower(i - 1))
            && !verb_like
            && after.is_none_or(|w| {
                w.shape == Shape::Punctuation || FUNCTION.contains(w.lower.as_str())
            })
        {
            found.name = true;
            return;
        }
        self.read_lowercase_employer(i, found);
    }

    /// "works for amazon", "his boss at google".
    fn read_lowercase_employer(&self, i: usize, found: &mut Found) {
        if i < 2 || !self.lowercase_employer(i) {
            return;
        }
        let (before, cue) = (self.lower(i - 1), self.lower(i - 2));
        if (is("at for by", before) && is(EMPLOYED, cue))
            || (before == "at" && is(PERSON_NOUNS, cue) && !is("called named", cue))
        {
            found.organisation = true;
        }
    }

    /// Reads the capitalised words `from..to`.
    fn read_run(&self, from: usize, to: usize, found: &mut Found) {
        for i in from..to {
            let w = &self.t[i];
            let l = w.lower.as_str();
            if l.chars().count() < 2 {
                // "client A", "I".
                continue;
            }
            let titled = self.title_before(i);
            let person = self.person_before(i);
            if is(TITLES, l) && i + 1 < to {
                continue;
            }
            if titled {
                found.name = true;
                continue;
            }
            let name_word = is(NAME_WORDS, l);
            if name_word {
                // "April has asked", "my client June"; not "in April".
                let before = if i == 0 { "" } else { self.lower(i - 1) };
                let prepositional = is(PREPOSITIONS_OF_TIME, before);
                if !prepositional && (person || self.person_follows(i + 1)) {
                    found.name = true;
                }
                continue;
            }
            if ordinary(l) || (self.authorial(i) && !person) {
                continue;
            }
            if person {
                // "my client (Jo)", "her manager, Steve,".
                found.name = true;
                continue;
            }
            if self.heading {
                continue;
            }
            if w.start && i == from {
                if self.start_is_name(i) {
                    found.name = true;
                }
                continue;
            }
            // "Supervision", "Socratically", "Confidence" (names are shorter:
            // Florence, Constance); "Talking Therapies" (a name's "-ing"
            // stands alone: Fleming, Ling).
            let long = l.chars().count() >= 10;
            let abstract_word = ends_with_any(l, ABSTRACT_ENDINGS)
                || (long && ends_with_any(l, "ly ence ance"))
                || (l.ends_with("ing") && i + 1 < to && self.t[i + 1].shape == Shape::Capitalised);
            if !abstract_word {
                self.classify(i, found);
            }
        }
    }

    /// The first word of a sentence: a name only when what follows is said
    /// of a person, and it does not read as a verb or an abstract noun.
    fn start_is_name(&self, i: usize) -> bool {
        let l = self.t[i].lower.as_str();
        if self.t[i].possessive && is(PERSON_NOUNS, self.lower(i + 1)) {
            // "Precious's manager": whatever the word looks like.
            return true;
        }
        if ends_with_any(l, ABSTRACT_ENDINGS) || ends_with_any(l, START_ENDINGS) || past_tense(l) {
            return false;
        }
        if self.t[i].possessive {
            // "Danny's father", "Kwame's sponsor"; not "Kolb's cycle".
            return !self.theory_follows(i)
                && self.word(i + 1).is_some_and(|n| n.shape == Shape::Lower);
        }
        self.person_follows(i + 1)
    }

    /// A capitalised word inside a sentence, after no title or person: what
    /// its run follows says what it is ("works at Deloitte", "lives in
    /// Little Snoring"); otherwise it is a name.
    fn classify(&self, i: usize, found: &mut Found) {
        let mut first = i;
        while first > 0 && self.t[first - 1].shape == Shape::Capitalised {
            first -= 1;
        }
        let cue = self.cue_before(first);
        let c = cue.map_or("", |j| self.lower(j));
        let moved_to = c == "to" && cue.is_some_and(|j| j > 0 && is(MOVEMENTS, self.lower(j - 1)));
        if is(WORKPLACE_CUES, c) {
            found.organisation = true;
        } else if is(PLACE_CUES, c) || moved_to {
            // A place in a sentence only about the writer is their own.
            if !self.writer_only {
                found.address = true;
            }
        } else {
            found.name = true;
        }
    }
}

/// The kinds of identifying detail `text` seems to contain, each once.
pub fn concerns(text: &str) -> Vec<Concern> {
    let mut seen: Vec<Concern> = Vec::new();
    let mut add = |concern| {
        if !seen.contains(&concern) {
            seen.push(concern);
        }
    };
    for p in PATTERNS.iter() {
        let hit = p
            .regex
            .captures_iter(text)
            .any(|c| p.word == 0 || c.get(p.word).is_some_and(|w| !is_ordinary(w.as_str())));
        if hit {
            add(p.concern);
        }
    }
    let born_early = FULL_DATE.captures_iter(text).any(|c| {
        c.get(1)
            .and_then(|y| y.as_str().parse::<u32>().ok())
            .is_some_and(|year| year < 2010)
    });
    if born_early {
        add(Concern::BirthDate);
    }
    let blanked = BLANKED.replace_all(text, " ");
    for sentence in sentences(&blanked) {
        let t = tokens(sentence);
        let mut found = Found::default();
        Reader::new(&t).read(&mut found);
        if found.name {
            add(Concern::Name);
        }
        if found.organisation {
            add(Concern::Organisation);
        }
        if found.address {
            add(Concern::Address);
        }
    }
    ORDER.into_iter().filter(|c| seen.contains(c)).collect()
}

/// Whether every word of a capitalised run is ordinary: "HR", "Core".
fn is_ordinary(words: &str) -> bool {
    words.split_whitespace().all(|w| {
        let w = w.to_lowercase();
        ordinary(&w) || is(AUTHORS, &w)
    })
}

/// The kinds of identifying detail in a reflection's title and text, each
/// once: titles show in lists and head a shared post, so they are read too.
pub fn concerns_in(title: &str, text: &str) -> Vec<Concern> {
    let mut found = concerns(title);
    for c in concerns(text) {
        if !found.contains(&c) {
            found.push(c);
        }
    }
    found
}

/// "a, b and c".
fn listed(kinds: &[&str]) -> String {
    match kinds {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The sentence shown to the member when there are concerns.
pub fn warning(found: &[Concern]) -> Option<String> {
    if found.is_empty() {
        return None;
    }
    let kinds: Vec<&str> = found.iter().map(|c| c.describe()).collect();
    Some(format!(
        "A gentle check: this reflection seems to contain {}. Reflections stay private, but notes like these can be requested by clients; pseudonyms and removing identifying details keep them safe. You can edit it now.",
        listed(&kinds)
    ))
}

/// The sentence shown when a field of another private record (what a
/// member took away from supervision, a case presentation's view) seems to
/// contain identifying details: `what` names the field.
pub fn field_warning(what: &str, found: &[Concern]) -> Option<String> {
    if found.is_empty() {
        return None;
    }
    let kinds: Vec<&str> = found.iter().map(|c| c.describe()).collect();
    Some(format!(
        "A gentle check: {what} seems to contain {}. It stays private, but notes like these can be requested by clients; pseudonyms and removing identifying details keep them safe.",
        listed(&kinds)
    ))
}

/// The sentence shown when something the whole group reads (what a
/// meeting's agenda shows of an item) seems to contain identifying
/// details: `what` names it. Unlike [`field_warning`], it never says the
/// text stays private.
pub fn group_field_warning(what: &str, found: &[Concern]) -> Option<String> {
    if found.is_empty() {
        return None;
    }
    let kinds: Vec<&str> = found.iter().map(|c| c.describe()).collect();
    Some(format!(
        "A gentle check: {what} seems to contain {}. The whole group reads it, and a client could be recognised from details like these.",
        listed(&kinds)
    ))
}

/// The sentence shown in a share preview when there are concerns: the group
/// would read the details, so the member is asked to look before sharing.
pub fn share_warning(found: &[Concern]) -> Option<String> {
    if found.is_empty() {
        return None;
    }
    let kinds: Vec<&str> = found.iter().map(|c| c.describe()).collect();
    Some(format!(
        "Before you share: the title or text seems to contain {}. The group would see it exactly as below. Edit it first if a client could be recognised; sharing is still up to you.",
        listed(&kinds)
    ))
}

/// The sentence shown in a share preview for one field of something that
/// cannot be edited (a case presentation) when `found` is not empty.
pub fn share_field_warning(what: &str, found: &[Concern]) -> Option<String> {
    if found.is_empty() {
        return None;
    }
    let kinds: Vec<&str> = found.iter().map(|c| c.describe()).collect();
    Some(format!(
        "Before you share: {what} seems to contain {}. The group would see it exactly as below. If a client could be recognised, write it again with the details changed and share that instead; sharing is still up to you.",
        listed(&kinds)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sentences a supervisor would want a second look at, with the kind of
    /// detail each must raise.
    const MUST_FLAG: &[(&str, Concern)] = &[
        ("write to jo.bloggs@example.org", Concern::Email),
        ("she called from 07700 900123", Concern::Phone),
        ("ring +44 7700 900123", Concern::Phone),
        ("born on 3 May 1980", Concern::BirthDate),
        ("dob 12/05/1990", Concern::BirthDate),
        ("lives near SW1A 1AA", Concern::Postcode),
        ("my client Sarah was late", Concern::Name),
        ("my client Zoë was late", Concern::Name),
        ("the coachee Siobhán said", Concern::Name),
        ("a client called Łukasz", Concern::Name),
        ("my colleague Priya covered", Concern::Name),
        ("My client Tom", Concern::Name),
        ("the coachee, Tom, said", Concern::Name),
        ("a client called Priya came back", Concern::Name),
        ("my client (Jo) cried", Concern::Name),
        ("the coachee (J.B.) was quiet", Concern::Name),
        ("my coachee J.B. works for the council", Concern::Name),
        ("our client JB cancelled", Concern::Name),
        ("Sarah from HR at Acme Ltd rang me", Concern::Name),
        ("Sarah from HR at Acme Ltd rang me", Concern::Organisation),
        ("Dev in Finance wants a report", Concern::Name),
        ("a client who works at Barclays", Concern::Organisation),
        (
            "her sponsor at Unilever wants progress",
            Concern::Organisation,
        ),
        ("an executive at Northwind Corp", Concern::Organisation),
        (
            "the client's employer, Contoso, pays",
            Concern::Organisation,
        ),
        (
            "my client is a nurse at St Mary's Hospital",
            Concern::Organisation,
        ),
        ("a partner at Baker Street Partners", Concern::Organisation),
        (
            "Leeds City Council commissioned the coaching",
            Concern::Organisation,
        ),
        (
            "her line manager joined Initech in May",
            Concern::Organisation,
        ),
        // Names where they stand, with no list of names.
        ("Precious's manager rang me", Concern::Name),
        (
            "Worked with Mr. Singh on his retirement plans.",
            Concern::Name,
        ),
        ("Coachee: Ms J. Okoro", Concern::Name),
        ("Bernie, his line manager, shouted at him.", Concern::Name),
        (
            "Supervisee's client Dmitri has stopped eating.",
            Concern::Name,
        ),
        ("Gemma's boss is a bully.", Concern::Name),
        ("Will cried when we talked about his dad.", Concern::Name),
        ("April has asked to pause the coaching.", Concern::Name),
        ("my client june said it was fine", Concern::Name),
        // Typed in lowercase, where a name is expected.
        ("her colleague bob keeps interrupting", Concern::Name),
        ("met chloe for our third session", Concern::Name),
        ("call with dev, he was tired", Concern::Name),
        ("she works for asda", Concern::Organisation),
        // Places, addresses and birthdays.
        ("Client is from Market Harborough.", Concern::Address),
        (
            "Moved to Milton Keynes last year with her partner.",
            Concern::Address,
        ),
        ("She lives in Flat 12, Wharf House.", Concern::Address),
        ("her flat on Cardigan Road", Concern::Address),
        ("He'll be 50 on the 2nd of March.", Concern::BirthDate),
        ("her details said 14/02/1983", Concern::BirthDate),
        ("She's been with Barclays since 2001.", Concern::Name),
        ("made redundant by Jaguar Land Rover", Concern::Organisation),
    ];

    /// Ordinary reflective writing that must pass without a word.
    const MUST_PASS: &[&str] = &[
        "My client I will call A. arrived anxious; we explored 3.5 and strengths.",
        "The session ran 50 minutes. My client said the goal felt distant.",
        "Competence C2.10: reviewing at the end, in week 12.",
        "We met at 10.30 on Tuesday.",
        "the client Zoom link failed twice",
        "My client on Monday talked about her manager.",
        "A client in January said coaching felt lighter than therapy.",
        "I used Gibbs with my supervisee and it helped.",
        "My client A. and I reviewed the contract.",
        "The coachee, whom I will call B, set a goal.",
        "We took the client's Teams call at short notice.",
        "The sponsor at the first meeting asked about outcomes.",
        "I noticed my own anxiety at the end of the session.",
        "Supervision helped me see the parallel process.",
        "My client Sessions felt rushed this week.",
        // Roles, authors, models and capitalised ideas.
        "A coachee in a three-way contract with HR wants things kept from her line manager.",
        "The client's GP, crisis lines and NHS Talking Therapies came up.",
        "Carl Rogers would call it incongruence.",
        "Scharmer's Theory U gave us a way in.",
        "We tried the Miracle Question and the Wheel of Life.",
        "Her Inner Critic was loud; we named it.",
        "Coachee wants to work on Confidence and Assertiveness.",
        "A CBT-informed approach suited her.",
        "She grew up Catholic and Polish in a Welsh valley.",
        // Words that are names, used as words.
        "Will I manage to hold this without taking it home?",
        "Hope is what she said she had lost.",
        "Frank feedback from her team stung.",
        "In June we review the goals.",
        // A session's date is not a birthday; the writer's own travels.
        "We rescheduled to 03/12/2026.",
        "I'm on the train back from a conference in Birmingham.",
        // Lowercase words in a name's place that are not names.
        "When a client succeeds, do you help them see why?",
        "Note how the client responds.",
        "We met online today.",
        "Met with resistance when I suggested homework.",
        "She lives in fear of getting it wrong.",
        // A heading.
        "Three-Way Contract Review",
    ];

    #[test]
    fn identifying_details_are_noticed() {
        for (text, concern) in MUST_FLAG {
            assert!(
                concerns(text).contains(concern),
                "{text:?} should raise {concern:?}, found {:?}",
                concerns(text)
            );
        }
    }

    #[test]
    fn ordinary_reflection_text_is_left_alone() {
        for text in MUST_PASS {
            assert_eq!(concerns(text), vec![], "{text:?}");
        }
    }

    #[test]
    fn titles_are_read_too() {
        assert_eq!(
            concerns_in("My client Tom", "We worked on goals."),
            vec![Concern::Name]
        );
        assert_eq!(concerns_in("", "We worked on goals."), vec![]);
    }

    #[test]
    fn the_warning_names_kinds_not_details() {
        let found = concerns("my client Sarah, sarah@example.org, works at Acme Ltd");
        for w in [warning(&found).unwrap(), share_warning(&found).unwrap()] {
            assert!(
                w.contains("an email address, what looks like someone's name or initials and what looks like an employer or organisation"),
                "{w}"
            );
            assert!(!w.contains("Sarah") && !w.contains("example.org") && !w.contains("Acme"));
        }
        assert_eq!(warning(&[]), None);
        assert_eq!(share_warning(&[]), None);
        let two = warning(&[Concern::Phone, Concern::Name]).unwrap();
        assert!(
            two.contains("a phone number and what looks like someone's"),
            "{two}"
        );
    }
}
