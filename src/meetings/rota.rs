//! The fair rota: who presents, facilitates and keeps time at the group's
//! next meeting.
//!
//! Members join and leave the rota themselves. Each meeting's roles go, role
//! by role (the presenters first, as many as the meeting takes, then the
//! facilitator, then the timekeeper), to the eligible member who served that
//! role least recently: first whoever passed it while first in line, then
//! whoever never served it, then whoever served it longest ago, and among
//! equals whoever joined first. Eligible means on the rota, in the server (a
//! set the caller passes, as Discord confirmed it), holding no other role at
//! that meeting and not having passed at it.
//!
//! The rota is plain data: the members in the order they first joined, when
//! each last served each role (which alone decides who is next), each one's
//! history of services (the latest [`HISTORY_PER_ROLE`] of each role, for
//! their own exports), and the latest meeting given roles, which
//! stays open to passes and swaps until the next meeting is given roles
//! (when it is recorded as served) or it is closed without being held (a
//! meeting cancelled or stopped before it began: then no one served at it).
//! Every operation returns the new rota and the words to say, naming members
//! by the display names the caller supplies, never by a mention.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The most presenters one meeting takes.
pub(crate) const MAX_PRESENTERS: u8 = 8;

/// The most services of one role a member's history keeps: the latest,
/// three years of weekly meetings served in the same role every week.
pub(crate) const HISTORY_PER_ROLE: usize = 156;

/// Display names by member id, as the caller has them.
pub(crate) type Names = BTreeMap<u64, String>;

/// A role at a meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Role {
    /// Brings a case or an item (a meeting may take several).
    Presenter,
    /// Holds the meeting.
    Facilitator,
    /// Keeps the time.
    Timekeeper,
}

impl Role {
    /// Every role, in the order a meeting's roles are given.
    pub(crate) const ALL: [Role; 3] = [Role::Presenter, Role::Facilitator, Role::Timekeeper];

    fn index(self) -> usize {
        match self {
            Role::Presenter => 0,
            Role::Facilitator => 1,
            Role::Timekeeper => 2,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Role::Presenter => "presenter",
            Role::Facilitator => "facilitator",
            Role::Timekeeper => "timekeeper",
        }
    }

    /// What the member does, after "to": "present", "keep time".
    fn verb(self) -> &'static str {
        match self {
            Role::Presenter => "present",
            Role::Facilitator => "facilitate",
            Role::Timekeeper => "keep time",
        }
    }

    fn heading(self) -> &'static str {
        match self {
            Role::Presenter => "presenting",
            Role::Facilitator => "facilitating",
            Role::Timekeeper => "keeping time",
        }
    }
}

/// One member's place on the rota.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Member {
    id: u64,
    /// On the rota now (a member who left keeps their history).
    active: bool,
    /// When the member last served each role (by [`Role::index`]): the start
    /// of the meeting, for meetings before the open one.
    last: [Option<DateTime<Utc>>; 3],
    /// Roles the member passed while first in line for them: they stay
    /// first in line for each until they next serve it.
    first_in_line: [bool; 3],
    /// Every service recorded, oldest first, up to [`HISTORY_PER_ROLE`] of
    /// each role: the newest of each role is the one in `last`. Recorded
    /// only for meetings held; a rota kept before histories reads as none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    history: Vec<Service>,
}

/// One service: a role served at the meeting starting `starts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct Service {
    starts: DateTime<Utc>,
    role: Role,
}

impl Member {
    /// Records that the member served `role` at the meeting starting
    /// `starts`: the last service of the role, if it is the latest, and an
    /// entry in the history, which then lets go of the oldest of that role
    /// beyond [`HISTORY_PER_ROLE`].
    fn served(&mut self, role: Role, starts: DateTime<Utc>) {
        let i = role.index();
        self.last[i] = Some(self.last[i].map_or(starts, |t| t.max(starts)));
        self.first_in_line[i] = false;
        let service = Service { starts, role };
        let at = self.history.partition_point(|s| *s <= service);
        self.history.insert(at, service);
        let kept = self.history.iter().filter(|s| s.role == role).count();
        if kept > HISTORY_PER_ROLE
            && let Some(oldest) = self.history.iter().position(|s| s.role == role)
        {
            self.history.remove(oldest);
        }
    }
}

/// How a member came to hold a role at the open meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum How {
    /// Given when the meeting's roles were given: first in line for it.
    Given,
    /// Given in place of someone who passed or left.
    Replacement,
    /// Taken in a swap.
    Swapped,
}

/// A role held at the open meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Held {
    role: Role,
    member: u64,
    how: How,
}

/// The latest meeting given roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Meeting {
    starts: DateTime<Utc>,
    roles: Vec<Held>,
    /// Who passed (or left) at this meeting: given nothing more at it.
    passed: Vec<u64>,
    /// The first-in-line places passes at this meeting gave (member, role),
    /// taken back if the meeting is not held.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    granted: Vec<(u64, Role)>,
}

impl Meeting {
    fn holds(&self, member: u64) -> Option<usize> {
        self.roles.iter().position(|h| h.member == member)
    }
}

/// A group's rota.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub(crate) struct Rota {
    /// Everyone who ever joined, in the order they first joined.
    members: Vec<Member>,
    /// The latest meeting given roles, open to passes and swaps until the
    /// next one is given roles.
    open: Option<Meeting>,
}

/// What an operation did: the rota to keep, the words to say, and whether
/// anything changed (nothing to store when not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// The rota after the operation.
    pub(crate) rota: Rota,
    /// What to tell the group or the member.
    pub(crate) words: String,
    /// Whether the rota changed.
    pub(crate) changed: bool,
}

fn refused(rota: &Rota, words: String) -> Outcome {
    Outcome {
        rota: rota.clone(),
        words,
        changed: false,
    }
}

fn name(names: &Names, member: u64) -> &str {
    names.get(&member).map_or("a member", String::as_str)
}

/// "A", "A and B", "A, B and C".
fn listed(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

impl Rota {
    fn position(&self, member: u64) -> Option<usize> {
        self.members.iter().position(|m| m.id == member)
    }

    /// The member first in line for `role` at `meeting`, among those on the
    /// rota, in `present`, holding no role there and not having passed.
    fn first_free(&self, role: Role, meeting: &Meeting, present: &BTreeSet<u64>) -> Option<usize> {
        let i = role.index();
        self.members
            .iter()
            .enumerate()
            .filter(|(_, m)| m.active && present.contains(&m.id))
            .filter(|(_, m)| meeting.holds(m.id).is_none() && !meeting.passed.contains(&m.id))
            .min_by_key(|(order, m)| (!m.first_in_line[i], m.last[i], *order))
            .map(|(order, _)| order)
    }

    /// Hands the role `member` holds at the open meeting to the next in
    /// line; `keeps_place` when a pass keeps them first in line. Returns the
    /// role and who took it, if anyone.
    fn hand_on(
        &mut self,
        member: u64,
        present: &BTreeSet<u64>,
        keeps_place: bool,
    ) -> Option<(Role, Option<u64>)> {
        let mut open = self.open.take()?;
        let Some(at) = open.holds(member) else {
            self.open = Some(open);
            return None;
        };
        let held = open.roles.remove(at);
        open.passed.push(member);
        if keeps_place
            && held.how == How::Given
            && let Some(p) = self.position(member)
        {
            let place = &mut self.members[p].first_in_line[held.role.index()];
            if !*place {
                *place = true;
                open.granted.push((member, held.role));
            }
        }
        let next = self
            .first_free(held.role, &open, present)
            .map(|i| self.members[i].id);
        if let Some(next) = next {
            open.roles.insert(
                at,
                Held {
                    role: held.role,
                    member: next,
                    how: How::Replacement,
                },
            );
        }
        self.open = Some(open);
        Some((held.role, next))
    }
}

/// A member joins the rota; rejoining keeps their past turns.
pub(crate) fn join(rota: &Rota, member: u64, names: &Names) -> Outcome {
    let who = name(names, member);
    let mut next = rota.clone();
    let words = match next.position(member) {
        Some(p) if next.members[p].active => {
            return refused(rota, format!("{who} is already on the rota."));
        }
        Some(p) => {
            next.members[p].active = true;
            format!(
                "{who} is back on the rota. Their past turns are remembered, so roles still go to whoever has gone longest without them."
            )
        }
        None => {
            next.members.push(Member {
                id: member,
                active: true,
                last: [None; 3],
                first_in_line: [false; 3],
                history: Vec::new(),
            });
            format!(
                "{who} joins the rota. Roles go to whoever has gone longest without them, so {who} is in line for each role they have not had yet."
            )
        }
    };
    Outcome {
        rota: next,
        words,
        changed: true,
    }
}

/// A member leaves the rota, keeping their history for a return. A role
/// they hold at the open meeting, if it has not begun by `now`, goes to the
/// next in line among `present`.
pub(crate) fn leave(
    rota: &Rota,
    member: u64,
    present: &BTreeSet<u64>,
    now: DateTime<Utc>,
    names: &Names,
) -> Outcome {
    let who = name(names, member);
    let mut next = rota.clone();
    let Some(p) = next.position(member).filter(|p| next.members[*p].active) else {
        return refused(rota, format!("{who} is not on the rota."));
    };
    next.members[p].active = false;
    let mut words = format!(
        "{who} leaves the rota. Their past turns are kept in case they come back; they will be given no roles meanwhile."
    );
    let begun = next.open.as_ref().is_none_or(|m| m.starts <= now);
    if !begun && let Some((role, taker)) = next.hand_on(member, present, false) {
        words.push(' ');
        words.push_str(&handed_on(role, taker, names));
    }
    Outcome {
        rota: next,
        words,
        changed: true,
    }
}

fn handed_on(role: Role, taker: Option<u64>, names: &Names) -> String {
    match taker {
        Some(t) => format!(
            "{} will {} at the next meeting instead.",
            name(names, t),
            role.verb()
        ),
        None => format!(
            "No one else is free to {} at the next meeting; the convenor can ask for a volunteer.",
            role.verb()
        ),
    }
}

/// The rota once the meeting last given roles is closed. Held (it began),
/// its roles are recorded as served by whoever holds them, as their last
/// service of the role and in their history. Not held (it was
/// cancelled, or the meetings stopped, before it began), no one is recorded
/// as serving at it, so those given its roles stay first in line for them,
/// and the first-in-line places its passes gave are taken back.
pub(crate) fn close(rota: &Rota, held: bool) -> Rota {
    let mut next = rota.clone();
    let Some(open) = next.open.take() else {
        return next;
    };
    if !held {
        for (member, role) in &open.granted {
            if let Some(p) = next.position(*member) {
                next.members[p].first_in_line[role.index()] = false;
            }
        }
        return next;
    }
    for held in &open.roles {
        if let Some(m) = next.members.iter_mut().find(|m| m.id == held.member) {
            m.served(held.role, open.starts);
        }
    }
    next
}

/// Gives the roles of the meeting starting at `starts` (after the open one,
/// which is then recorded as served): `presenters` presenters, a
/// facilitator and a timekeeper, each to the eligible member first in line.
pub(crate) fn allocate(
    rota: &Rota,
    starts: DateTime<Utc>,
    presenters: u8,
    present: &BTreeSet<u64>,
    names: &Names,
) -> Outcome {
    if presenters > MAX_PRESENTERS {
        return refused(
            rota,
            format!("A meeting can take at most {MAX_PRESENTERS} presenters."),
        );
    }
    if rota.open.as_ref().is_some_and(|m| starts <= m.starts) {
        return refused(
            rota,
            "That meeting is not after the last one given roles; its roles stand as they are."
                .into(),
        );
    }
    let mut next = close(rota, true);
    let mut meeting = Meeting {
        starts,
        roles: Vec::new(),
        passed: Vec::new(),
        granted: Vec::new(),
    };
    let slots = std::iter::repeat_n(Role::Presenter, usize::from(presenters))
        .chain([Role::Facilitator, Role::Timekeeper]);
    let mut missing = Vec::new();
    for role in slots {
        match next.first_free(role, &meeting, present) {
            Some(i) => meeting.roles.push(Held {
                role,
                member: next.members[i].id,
                how: How::Given,
            }),
            None => missing.push(role),
        }
    }
    next.open = Some(meeting);
    let mut words = describe(&next, names);
    if !missing.is_empty() {
        words.push_str(&missing_words(&missing));
    }
    Outcome {
        rota: next,
        words,
        changed: true,
    }
}

fn missing_words(missing: &[Role]) -> String {
    let presenters = missing.iter().filter(|r| **r == Role::Presenter).count();
    let mut parts = Vec::new();
    match presenters {
        0 => {}
        1 => parts.push("one presenter".to_string()),
        n => parts.push(format!("{n} presenters")),
    }
    for role in [Role::Facilitator, Role::Timekeeper] {
        if missing.contains(&role) {
            parts.push(format!("a {}", role.noun()));
        }
    }
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    format!(
        "\nNot enough members on the rota are free for every role: still needed, {}. The convenor can ask for a volunteer.",
        listed(&parts)
    )
}

/// Why a pass or a swap is refused once the meeting has begun.
const BEGUN: &str = "That meeting has begun; its roles stand as they are.";

/// A member passes the role they hold at the open meeting, before it
/// begins: it goes to the next in line among `present`, and a member who
/// was given it as first in line stays first in line for it next time.
pub(crate) fn pass(
    rota: &Rota,
    member: u64,
    present: &BTreeSet<u64>,
    now: DateTime<Utc>,
    names: &Names,
) -> Outcome {
    let who = name(names, member);
    let Some(open) = &rota.open else {
        return refused(rota, "No meeting has been given roles yet.".into());
    };
    if open.starts <= now {
        return refused(rota, BEGUN.into());
    }
    let Some(held) = open.holds(member).map(|i| open.roles[i].clone()) else {
        return refused(rota, format!("{who} has no role at the next meeting."));
    };
    let mut next = rota.clone();
    let Some((role, taker)) = next.hand_on(member, present, true) else {
        return refused(rota, format!("{who} has no role at the next meeting."));
    };
    let keeps = if held.how == How::Given {
        format!(" and stays first in line to {} next time", role.verb())
    } else {
        String::new()
    };
    let words = format!(
        "{who} passes on being {} at the next meeting{keeps}. {}",
        article(role),
        handed_on(role, taker, names)
    );
    Outcome {
        rota: next,
        words,
        changed: true,
    }
}

fn article(role: Role) -> &'static str {
    match role {
        Role::Presenter => "a presenter",
        Role::Facilitator => "the facilitator",
        Role::Timekeeper => "the timekeeper",
    }
}

/// Two members exchange their roles at the open meeting, before it begins,
/// and with them the service recorded for each (its last service and its
/// history's entry, both recorded from the roles held when it closes).
pub(crate) fn swap(rota: &Rota, a: u64, b: u64, now: DateTime<Utc>, names: &Names) -> Outcome {
    let (who_a, who_b) = (name(names, a), name(names, b));
    let Some(open) = &rota.open else {
        return refused(rota, "No meeting has been given roles yet.".into());
    };
    if open.starts <= now {
        return refused(rota, BEGUN.into());
    }
    let (Some(i), Some(j)) = (open.holds(a), open.holds(b)) else {
        return refused(
            rota,
            format!("{who_a} and {who_b} can swap only if both have a role at the next meeting."),
        );
    };
    if open.roles[i].role == open.roles[j].role {
        return refused(
            rota,
            format!(
                "{who_a} and {who_b} are both {}s already; there is nothing to swap.",
                open.roles[i].role.noun()
            ),
        );
    }
    let mut next = rota.clone();
    if let Some(open) = next.open.as_mut() {
        open.roles[i].member = b;
        open.roles[j].member = a;
        open.roles[i].how = How::Swapped;
        open.roles[j].how = How::Swapped;
    }
    let words = format!(
        "{who_a} and {who_b} swap: {who_a} will {} and {who_b} will {} at the next meeting, and each is recorded as having served the role they take.",
        open.roles[j].role.verb(),
        open.roles[i].role.verb(),
    );
    Outcome {
        rota: next,
        words,
        changed: true,
    }
}

/// The next meeting's roles in words, for the meeting view.
pub(crate) fn describe(rota: &Rota, names: &Names) -> String {
    let Some(open) = &rota.open else {
        return "No meeting has been given roles yet.".into();
    };
    let parts: Vec<String> = Role::ALL
        .iter()
        .filter_map(|role| {
            let who: Vec<&str> = open
                .roles
                .iter()
                .filter(|h| h.role == *role)
                .map(|h| name(names, h.member))
                .collect();
            (!who.is_empty()).then(|| format!("{}, {}", role.heading(), listed(&who)))
        })
        .collect();
    if parts.is_empty() {
        return "Roles for the next meeting: no one on the rota is free for any of them.".into();
    }
    format!("Roles for the next meeting: {}.", parts.join("; "))
}

impl Rota {
    /// When the meeting last given roles starts.
    pub(crate) fn open_starts(&self) -> Option<DateTime<Utc>> {
        self.open.as_ref().map(|m| m.starts)
    }

    /// Whether anyone is on the rota now.
    pub(crate) fn has_members(&self) -> bool {
        self.members.iter().any(|m| m.active)
    }

    /// The members on the rota now, in the order they first joined.
    pub(crate) fn on_rota(&self) -> Vec<u64> {
        self.members
            .iter()
            .filter(|m| m.active)
            .map(|m| m.id)
            .collect()
    }

    /// Whether `member` is on the rota or has history on it.
    pub(crate) fn knows(&self, member: u64) -> bool {
        self.position(member).is_some()
    }
}

/// One member's place on a rota, for their own export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Place {
    /// On the rota now (false: left it, history kept).
    pub(crate) on_rota: bool,
    /// When they last served each role they have served ("presenter" …).
    pub(crate) last_served: BTreeMap<&'static str, DateTime<Utc>>,
    /// Each service in their history, oldest first: the role and the
    /// meeting's start.
    pub(crate) served: Vec<(&'static str, DateTime<Utc>)>,
    /// The roles they passed while first in line, so stay first for.
    pub(crate) first_in_line_for: Vec<&'static str>,
    /// The role they hold at the meeting last given roles, and its start.
    pub(crate) holds: Option<(&'static str, DateTime<Utc>)>,
}

/// Everything the rota keeps of `member`, if it knows them.
pub(crate) fn place_of(rota: &Rota, member: u64) -> Option<Place> {
    let m = &rota.members[rota.position(member)?];
    let named = |i: usize| Role::ALL[i].noun();
    Some(Place {
        on_rota: m.active,
        last_served: (0..3)
            .filter_map(|i| m.last[i].map(|at| (named(i), at)))
            .collect(),
        served: m
            .history
            .iter()
            .map(|s| (s.role.noun(), s.starts))
            .collect(),
        first_in_line_for: (0..3).filter(|i| m.first_in_line[*i]).map(named).collect(),
        holds: rota.open.as_ref().and_then(|open| {
            open.holds(member)
                .map(|i| (open.roles[i].role.noun(), open.starts))
        }),
    })
}

/// What `member` does at the meeting last given roles, in words after
/// "You are": "presenting", "facilitating", "keeping time".
pub(crate) fn role_of(rota: &Rota, member: u64) -> Option<&'static str> {
    let open = rota.open.as_ref()?;
    open.holds(member).map(|i| open.roles[i].role.heading())
}

/// The rota with the meeting last given roles starting at `starts` (it
/// moved, or its roles carry over to the next meeting).
pub(crate) fn retime(rota: &Rota, starts: DateTime<Utc>) -> Rota {
    let mut next = rota.clone();
    if let Some(open) = next.open.as_mut() {
        open.starts = starts;
    }
    next
}

/// Who is on the rota, in words, without a mention.
pub(crate) fn on_rota_words(rota: &Rota, names: &Names) -> String {
    let who: Vec<&str> = rota.on_rota().into_iter().map(|m| name(names, m)).collect();
    if who.is_empty() {
        return "No one is on the rota yet: `/rota join` puts you on it.".into();
    }
    format!("On the rota, in the order they joined: {}.", listed(&who))
}

/// The rota without `member`, for forget-me: their place, their history and
/// any role they hold at the open meeting (which is left for the convenor
/// to fill) are gone.
pub(crate) fn forget(rota: &Rota, member: u64) -> Rota {
    let mut next = rota.clone();
    next.members.retain(|m| m.id != member);
    if let Some(open) = next.open.as_mut() {
        open.roles.retain(|h| h.member != member);
        open.passed.retain(|m| *m != member);
        open.granted.retain(|(m, _)| *m != member);
    }
    next
}

#[cfg(test)]
mod tests;
