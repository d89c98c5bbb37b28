//! What each step of a plan waits for (DESIGN §9: "every step's `requires` is complete"):
//! the chain that turns the plan's order into `requires` a runner can follow, so that a
//! runner which starts any step whose `requires` are done runs the plan safely and runs
//! together only what may run together.
//!
//! A plan is a sequence; only the steps of an agent batch may run at once. The chain says
//! so with as few requirements as that needs (linear in the plan's size, which matters for
//! a 10,000-host plan):
//!
//! - A step outside a batch waits for the step before it, or for every host's last step of
//!   the batch before it.
//! - A *run* is a stretch of consecutive steps of one hop and service with the same `batch`
//!   (the definition [`crate::estimate`], the Ansible export and `ffu journal next` share:
//!   [`Link::same_run`]). Each host of a run is a lane: its steps wait for one another in
//!   order, and its first step waits for what the run waits for.
//! - A run right after the run of the batch before it (batch b+1 after batch b, of the same
//!   hop and service: the next batch of the same agents) is chained lane by lane: its k-th
//!   host waits for the k-th host of the batch before (and for its own last step there, if
//!   it had one), so that no more hosts are down at once than a batch holds
//!   (`max_unavailable`) and a runner need not wait for a batch's slowest host. A run after
//!   anything else waits for all of it.
//!
//! Requirements that a step has of its own (a migration's catalog `requires`, a task's)
//! stay; the chain adds to them ([`Chain::add_to`]).

use rustc_hash::FxHashMap;

use super::Step;

/// What the chain needs to know of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Link<'a> {
    pub(crate) hop: usize,
    pub(crate) batch: Option<usize>,
    pub(crate) host: Option<&'a str>,
    pub(crate) service: Option<&'a str>,
}

impl<'a> Link<'a> {
    /// The link of a plan's step.
    pub(crate) fn of(step: &'a Step) -> Link<'a> {
        Link {
            hop: step.hop,
            batch: step.batch,
            host: step.host.as_deref(),
            service: step.service.as_deref(),
        }
    }

    /// Whether `next` continues the run this step belongs to: the same batch of the same
    /// hop and service (two services' batches of one number, one after the other, are two
    /// runs: their hosts do not run side by side).
    pub(crate) fn same_run(&self, next: &Link<'_>) -> bool {
        self.batch.is_some()
            && self.batch == next.batch
            && self.hop == next.hop
            && self.service == next.service
    }
}

/// Per step, the indices of the earlier steps it waits for in the chain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Chain {
    /// Where each step's list starts in `waits` (one more entry than there are steps).
    starts: Vec<u32>,
    waits: Vec<u32>,
}

/// The run being walked: its first link and, per lane (host), its last step so far.
struct Run<'a> {
    first: Link<'a>,
    lane_of: FxHashMap<Option<&'a str>, usize>,
    lanes: Vec<u32>,
    entry: Entry<'a>,
}

/// A run that ended: its first link, and the last step of each of its lanes.
struct Ended<'a> {
    first: Link<'a>,
    lane_of: FxHashMap<Option<&'a str>, usize>,
    lanes: Vec<u32>,
}

impl Ended<'_> {
    /// Whether `next` starts the run of the batch after this one, of the same agents.
    fn followed_by(&self, next: &Link<'_>) -> bool {
        self.first.hop == next.hop
            && self.first.service == next.service
            && self
                .first
                .batch
                .zip(next.batch)
                .is_some_and(|(a, b)| b == a + 1)
    }
}

impl<'a> Run<'a> {
    /// The run, ended. Lanes of the run before that this one did not continue (it had
    /// fewer hosts) end where that run left them: whatever follows waits for them too.
    fn ends(self) -> Ended<'a> {
        let mut lanes = self.lanes;
        if let Entry::Lanes(before) = self.entry {
            if before.lanes.len() > lanes.len() {
                lanes.extend_from_slice(&before.lanes[lanes.len()..]);
            }
        }
        Ended {
            first: self.first,
            lane_of: self.lane_of,
            lanes,
        }
    }
}

/// What the first step of each lane of a run waits for.
enum Entry<'a> {
    /// The same steps for every lane.
    All(Vec<u32>),
    /// Lane k waits for lane k (modulo their number) of the run before, and for its own
    /// host's last step there.
    Lanes(Ended<'a>),
}

impl Chain {
    /// The chain of `len` steps whose links `link` gives.
    pub(crate) fn of<'a>(len: usize, link: impl Fn(usize) -> Link<'a>) -> Chain {
        let mut chain = Chain {
            starts: Vec::with_capacity(len + 1),
            waits: Vec::with_capacity(len + len / 4),
        };
        chain.starts.push(0);
        // What a step outside a run waits for: the step before it.
        let mut before: Vec<u32> = Vec::new();
        let mut run: Option<Run<'a>> = None;
        for index in 0..len {
            let here = link(index);
            let position = index as u32;
            let in_run = run.as_ref().is_some_and(|run| run.first.same_run(&here));
            if !in_run {
                // The run before (if any) ends here: whatever follows waits for its lanes.
                let ended = run.take();
                let ended = ended.map(Run::ends);
                if here.batch.is_none() {
                    match &ended {
                        Some(ended) => chain.waits.extend_from_slice(&ended.lanes),
                        None => chain.waits.extend_from_slice(&before),
                    }
                    chain.starts.push(chain.waits.len() as u32);
                    before.clear();
                    before.push(position);
                    continue;
                }
                let entry = match ended {
                    Some(ended) if ended.followed_by(&here) => Entry::Lanes(ended),
                    Some(ended) => Entry::All(ended.lanes),
                    None => Entry::All(std::mem::take(&mut before)),
                };
                // Room for as many hosts as the run has steps: growing a map of 10,000
                // hosts step by step costs more than the rest of the chain.
                let steps = (index + 1..len)
                    .take_while(|&next| here.same_run(&link(next)))
                    .count()
                    + 1;
                let mut lane_of = FxHashMap::default();
                lane_of.reserve(steps);
                run = Some(Run {
                    first: here,
                    lane_of,
                    lanes: Vec::with_capacity(steps),
                    entry,
                });
            }
            let Some(run) = run.as_mut() else {
                continue;
            };
            let next_lane = run.lanes.len();
            let lane = *run.lane_of.entry(here.host).or_insert(next_lane);
            if lane == next_lane {
                match &run.entry {
                    Entry::All(waits) => chain.waits.extend_from_slice(waits),
                    Entry::Lanes(before) => {
                        let lanes = &before.lanes;
                        if !lanes.is_empty() {
                            chain.waits.push(lanes[lane % lanes.len()]);
                        }
                        if let Some(&own) = before.lane_of.get(&here.host) {
                            if own % lanes.len() != lane % lanes.len() {
                                chain.waits.push(lanes[own]);
                            }
                        }
                    }
                }
                run.lanes.push(position);
            } else {
                chain.waits.push(run.lanes[lane]);
                run.lanes[lane] = position;
            }
            chain.starts.push(chain.waits.len() as u32);
        }
        chain
    }

    /// The chain of a plan's `steps`.
    pub(crate) fn of_steps(steps: &[Step]) -> Chain {
        Chain::of(steps.len(), |index| Link::of(&steps[index]))
    }

    /// The earlier steps step `index` waits for.
    pub(crate) fn waits(&self, index: usize) -> &[u32] {
        let start = self.starts[index] as usize;
        let end = self.starts[index + 1] as usize;
        &self.waits[start..end]
    }

    /// Adds to each step's `requires` the ids of the steps it waits for, after its own and
    /// leaving out those it lists already: a plan whose `requires` say all of its order.
    pub(crate) fn add_to(steps: &mut [Step]) {
        Chain::of_steps(steps).write_into(steps);
    }

    /// Adds to each of `steps` (the steps this chain was made of, built) the ids of the
    /// steps it waits for, after its own and leaving out those it lists already.
    pub(crate) fn write_into(&self, steps: &mut [Step]) {
        for index in 0..steps.len() {
            let waits = self.waits(index);
            if waits.is_empty() {
                continue;
            }
            let mut requires = std::mem::take(&mut steps[index].requires);
            let ids = waits.iter().map(|&other| steps[other as usize].id.clone());
            add_waits(&mut requires, ids);
            steps[index].requires = requires;
        }
    }
}

/// Appends to a step's own `requires` the ids of the steps it waits for (distinct, as the
/// chain gives them), leaving out those it lists already.
fn add_waits(requires: &mut Vec<String>, waits: impl Iterator<Item = String>) {
    let mut own = OwnRequirements::default();
    let count = requires.len();
    for id in waits {
        if !own.lists(&requires[..count], &id) {
            requires.push(id);
        }
    }
}

/// Above this many own requirements, [`OwnRequirements::lists`] looks them up in a set.
const OWN_SET_ABOVE: usize = 32;

/// Whether a step's own requirements list an id the chain adds: searched in the list, or,
/// when there are many (a task may require a task on every host and follow a batch of as
/// many steps), in a set made at the first question. Linear either way.
#[derive(Debug, Default)]
pub(crate) struct OwnRequirements {
    set: Option<rustc_hash::FxHashSet<String>>,
}

impl OwnRequirements {
    /// Whether `own` (the same list at every call until [`OwnRequirements::forget`])
    /// holds `id`.
    pub(crate) fn lists(&mut self, own: &[String], id: &str) -> bool {
        if own.len() <= OWN_SET_ABOVE {
            return own.iter().any(|listed| listed == id);
        }
        self.set
            .get_or_insert_with(|| own.iter().cloned().collect())
            .contains(id)
    }

    /// Forgets the list (the next step's are another).
    pub(crate) fn forget(&mut self) {
        self.set = None;
    }
}

/// Gives a `batch` to each stretch of steps that are one step copied per host (the same id
/// before `@HOST`, the same action; a task `on: all`, a component stopped or installed on
/// every host of an offline plan), so that they run side by side, as the Ansible export has
/// always run them: nothing orders one host's copy after another's. Agent batches keep
/// theirs. A stretch's number differs from its neighbours' and from the numbers right
/// before and after theirs, so that it never joins or continues an agent batch
/// (see the module's text).
///
/// The steps stand in a sequence of `len` places, `at` giving the index in `built` of the
/// step at each place (`None` for a place with a step that is never copied, such as a
/// migration's).
pub(crate) fn batch_host_copies_in(
    built: &mut [Step],
    len: usize,
    at: impl Fn(usize) -> Option<usize>,
) {
    let built_at = |index: usize| if index < len { at(index) } else { None };
    let mut index = 0;
    while index < len {
        let Some(first) = built_at(index).filter(|&b| built[b].batch.is_none()) else {
            index += 1;
            continue;
        };
        // Copies are on distinct hosts: the id before `@HOST` and the host make the id,
        // which no two steps share.
        let mut end = index + 1;
        while built_at(end).is_some_and(|next| host_copies(&built[first], &built[next])) {
            end += 1;
        }
        if end - index >= 2 {
            let before = index
                .checked_sub(1)
                .and_then(built_at)
                .and_then(|b| built[b].batch);
            let after = built_at(end).and_then(|b| built[b].batch);
            let taken = |n: usize| {
                [
                    before,
                    before.map(|b| b + 1),
                    after,
                    after.map(|a| a.saturating_sub(1)),
                ]
                .contains(&Some(n))
            };
            // At most four numbers are taken: one of five is free.
            let number = (1..=5).find(|&n| !taken(n)).unwrap_or(5);
            for slot in index..end {
                if let Some(b) = built_at(slot) {
                    built[b].batch = Some(number);
                }
            }
        }
        index = end;
    }
}

/// Whether `b` is `a` copied to another host: the same id before `@HOST` and the same
/// action, and neither in a batch.
fn host_copies(a: &Step, b: &Step) -> bool {
    fn stem(step: &Step) -> Option<&str> {
        let host = step.host.as_deref()?;
        step.id.strip_suffix(host)?.strip_suffix('@')
    }
    stem(a).is_some()
        && stem(a) == stem(b)
        && b.batch.is_none()
        && a.hop == b.hop
        && a.kind == b.kind
        && a.service == b.service
        && a.component == b.component
        && a.release == b.release
        && a.command == b.command
        && a.phase == b.phase
        && a.task == b.task
        && a.config == b.config
}

/// [`batch_host_copies_in`] for a list of steps in order (a recovery plan's).
pub(crate) fn batch_host_copies(steps: &mut [Step]) {
    let len = steps.len();
    batch_host_copies_in(steps, len, Some);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Links from `(hop, batch, host, service)`.
    fn chain_of(links: &[(usize, Option<usize>, Option<&'static str>, &'static str)]) -> Chain {
        Chain::of(links.len(), |index| {
            let (hop, batch, host, service) = links[index];
            Link {
                hop,
                batch,
                host,
                service: Some(service),
            }
        })
    }

    fn all_waits(chain: &Chain, len: usize) -> Vec<Vec<u32>> {
        (0..len).map(|index| chain.waits(index).to_vec()).collect()
    }

    #[test]
    fn steps_outside_batches_wait_for_the_one_before() {
        let chain = chain_of(&[
            (0, None, None, "a"),
            (0, None, Some("h1"), "a"),
            (1, None, None, "b"),
        ]);
        assert_eq!(all_waits(&chain, 3), [vec![], vec![0], vec![1]]);
    }

    #[test]
    fn a_batch_runs_its_hosts_side_by_side_and_what_follows_waits_for_every_host() {
        let chain = chain_of(&[
            (0, None, None, "n"),
            // Batch 1: stop on h1 and h2, then start on h1 and h2.
            (0, Some(1), Some("h1"), "n"),
            (0, Some(1), Some("h2"), "n"),
            (0, Some(1), Some("h1"), "n"),
            (0, Some(1), Some("h2"), "n"),
            (0, None, None, "n"),
        ]);
        assert_eq!(
            all_waits(&chain, 6),
            [vec![], vec![0], vec![0], vec![1], vec![2], vec![3, 4]]
        );
    }

    #[test]
    fn the_next_batch_of_the_same_agents_is_chained_host_by_host() {
        let chain = chain_of(&[
            (0, None, None, "n"),
            (0, Some(1), Some("h1"), "n"),
            (0, Some(1), Some("h2"), "n"),
            (0, Some(2), Some("h3"), "n"),
            (0, Some(2), Some("h4"), "n"),
            (0, Some(3), Some("h5"), "n"),
            (0, None, None, "n"),
        ]);
        assert_eq!(
            all_waits(&chain, 7),
            [
                vec![],
                vec![0],
                vec![0],
                vec![1],
                vec![2],
                vec![3],
                vec![5, 4]
            ]
        );
    }

    #[test]
    fn a_host_again_in_the_next_batch_also_waits_for_itself() {
        let chain = chain_of(&[
            (0, Some(1), Some("h1"), "n"),
            (0, Some(1), Some("h2"), "n"),
            (0, Some(2), Some("h3"), "n"),
            (0, Some(2), Some("h1"), "n"),
            // Not the batch after 2: waits for all of batch 2.
            (0, Some(4), Some("h4"), "n"),
        ]);
        assert_eq!(
            all_waits(&chain, 5),
            [vec![], vec![], vec![0], vec![1, 0], vec![2, 3]]
        );
    }

    #[test]
    fn hosts_a_smaller_last_batch_does_not_continue_are_still_waited_for() {
        let chain = chain_of(&[
            (0, Some(1), Some("h1"), "n"),
            (0, Some(1), Some("h2"), "n"),
            (0, Some(1), Some("h3"), "n"),
            (0, Some(2), Some("h4"), "n"),
            (0, None, None, "n"),
        ]);
        assert_eq!(
            all_waits(&chain, 5),
            [vec![], vec![], vec![], vec![0], vec![3, 1, 2]]
        );
    }

    #[test]
    fn a_batch_of_another_service_or_hop_waits_for_the_whole_batch_before() {
        let chain = chain_of(&[
            (0, Some(1), Some("h1"), "n"),
            (0, Some(1), Some("h2"), "n"),
            (0, Some(2), Some("h1"), "m"),
            (1, Some(1), Some("h1"), "m"),
        ]);
        assert_eq!(all_waits(&chain, 4), [vec![], vec![], vec![0, 1], vec![2]]);
    }

    #[test]
    fn added_requires_keep_a_steps_own_and_list_each_id_once() {
        use crate::plan::StepKind;
        let mut steps: Vec<Step> = ["a", "b", "c"]
            .iter()
            .map(|id| Step::new((*id).to_owned(), 0, StepKind::Task, String::new()))
            .collect();
        steps[2].requires = vec!["a".to_owned(), "b".to_owned()];
        Chain::add_to(&mut steps);
        let requires: Vec<&[String]> = steps.iter().map(|s| s.requires.as_slice()).collect();
        assert_eq!(
            requires,
            [
                &[][..],
                &["a".to_owned()][..],
                &["a".to_owned(), "b".to_owned()][..]
            ]
        );
    }
}
