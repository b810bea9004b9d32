//! Which competence a week carries: no competence repeats until every one in
//! the chosen domains has had its week, whatever the order, across restarts
//! and changes of order (the rotation is just the set already used).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::framework::{CompetenceId, DomainId, Framework};

/// Which domains a schedule draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Core coaching competences only.
    Core,
    /// Competences for integrating therapy and coaching only.
    Integration,
    /// Both domains.
    #[default]
    Both,
}

impl Scope {
    /// Whether a competence is in scope.
    pub fn includes(self, id: CompetenceId) -> bool {
        match self {
            Scope::Core => id.domain == DomainId::Core,
            Scope::Integration => id.domain == DomainId::Integration,
            Scope::Both => true,
        }
    }
}

/// The order competences come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// Framework order: core 1.1, 1.2 … then integration.
    #[default]
    Sequential,
    /// A fresh shuffle each cycle (deterministic per server and cycle).
    Shuffled,
    /// The competence the group has reflected on least (counts only).
    Gaps,
    /// Framework order, alternating between the domains (core 1.1,
    /// integration 1.1, core 1.2 …); once one domain's are all used, the
    /// other's continue.
    Alternating,
}

/// The competences used in the current cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Rotation {
    /// How many full cycles are done.
    pub cycle: u32,
    /// Used in this cycle, in order.
    pub used: Vec<CompetenceId>,
    /// The competence the group chose for its next week, whatever the order
    /// (see [`crate::schedule::choose_next`]); used once, then counted as used.
    #[serde(default)]
    pub chosen: Option<CompetenceId>,
}

/// The next competence, and the rotation once it is used. `counts` are the
/// group's reflection counts per competence (for [`Order::Gaps`]); `seed`
/// varies the shuffle between servers.
pub fn next_competence(
    framework: &Framework,
    scope: Scope,
    order: Order,
    rotation: &Rotation,
    counts: &HashMap<CompetenceId, u32>,
    seed: u64,
) -> Option<(CompetenceId, Rotation)> {
    let in_scope: Vec<CompetenceId> = framework
        .competences()
        .iter()
        .map(|c| c.id)
        .filter(|id| scope.includes(*id))
        .collect();
    let mut rotation = rotation.clone();
    let mut candidates: Vec<CompetenceId> = in_scope
        .iter()
        .copied()
        .filter(|id| !rotation.used.contains(id))
        .collect();
    if candidates.is_empty() {
        rotation.cycle += 1;
        rotation.used.clear();
        candidates = in_scope;
    }
    if let Some(id) = rotation.chosen.take()
        && candidates.contains(&id)
    {
        rotation.used.push(id);
        return Some((id, rotation));
    }
    let chosen = match order {
        Order::Sequential => *candidates.first()?,
        Order::Shuffled => {
            let mix =
                splitmix(seed ^ (u64::from(rotation.cycle) << 32) ^ rotation.used.len() as u64);
            candidates[(mix % candidates.len() as u64) as usize]
        }
        Order::Gaps => *candidates
            .iter()
            .min_by_key(|id| counts.get(id).copied().unwrap_or(0))?,
        Order::Alternating => {
            let last = rotation.used.last().map(|id| id.domain);
            *candidates
                .iter()
                .find(|id| Some(id.domain) != last)
                .or(candidates.first())?
        }
    };
    rotation.used.push(chosen);
    Some((chosen, rotation))
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}
