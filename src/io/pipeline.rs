//! The ordered parallel pipeline, used by collect (one candidate file per input) and scope (a
//! batch of walked paths per input): worker threads take the inputs strictly in order and work
//! on them in parallel, while the calling thread consumes the results in that same order, as
//! soon as each next one is ready. Memory is bounded by a budget of "cost" in flight (bytes held,
//! or batches waiting) rather than by fixed windows, so no worker waits at a window boundary for
//! the slowest input of its window.
//!
//! Inputs are either known up front ([`run_ordered`]) or produced while the pipeline runs
//! ([`run_ordered_fed`]): a producer (a directory walk) runs on its own thread and may run at
//! most `ahead` inputs ahead of the workers.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Condvar, Mutex};

/// How many workers, and how much may be in flight.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Worker threads (at least one runs).
    pub threads: usize,
    /// Cost of the inputs taken and not consumed yet that a worker may add to; the oldest
    /// input not yet consumed is always taken, so one input costing more still runs.
    pub budget: u64,
    /// Inputs a producer may have waiting to be taken ([`run_ordered_fed`] only).
    pub ahead: usize,
}

struct State<I, T> {
    /// Inputs produced and not taken yet, in order, with their cost; the front is number `next`.
    queue: VecDeque<(I, u64)>,
    /// The producer is done: `queue` is all that is left to take.
    produced_all: bool,
    next: usize,
    /// Results done but not consumed yet, by input number.
    done: BTreeMap<usize, T>,
    /// Costs of the inputs taken and not consumed yet; the front is number `consumed`.
    taken: VecDeque<u64>,
    /// Sum of `taken`.
    in_flight: u64,
    /// Inputs consumed so far: the oldest input not consumed is number `consumed`.
    consumed: usize,
    /// Set when the consumer stopped (an error): nothing more is produced or taken.
    stopped: bool,
    /// Set when a worker or the producer panicked: the consumer stops waiting (the thread
    /// scope re-raises the panic).
    panicked: bool,
}

/// The state every thread of one run shares, behind one lock and one condition variable.
struct Shared<I, T> {
    state: Mutex<State<I, T>>,
    changed: Condvar,
}

impl<I, T> Shared<I, T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, State<I, T>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wait<'a>(
        &self,
        st: std::sync::MutexGuard<'a, State<I, T>>,
    ) -> std::sync::MutexGuard<'a, State<I, T>> {
        self.changed.wait(st).unwrap_or_else(|p| p.into_inner())
    }
}

/// Marks the run as panicked if the thread holding it unwinds; for the producer it also marks
/// the production as over, however the producer ended.
struct EndGuard<'a, I, T> {
    shared: &'a Shared<I, T>,
    producer: bool,
}

impl<I, T> Drop for EndGuard<'_, I, T> {
    fn drop(&mut self) {
        let panicking = std::thread::panicking();
        if panicking || self.producer {
            let mut st = self.shared.lock();
            if panicking {
                st.panicked = true;
                st.stopped = true;
            }
            if self.producer {
                st.produced_all = true;
            }
            drop(st);
            self.shared.changed.notify_all();
        }
    }
}

/// The producer's end of a [`run_ordered_fed`] pipeline.
pub struct Feed<'a, I, T> {
    shared: &'a Shared<I, T>,
    cost: &'a (dyn Fn(&I) -> u64 + Sync),
    ahead: usize,
}

impl<I, T> Feed<'_, I, T> {
    /// Hands over the next input, waiting while `ahead` inputs wait to be taken. Returns false
    /// when the pipeline stopped (the consumer failed): produce nothing more.
    pub fn push(&mut self, input: I) -> bool {
        let c = (self.cost)(&input);
        let mut st = self.shared.lock();
        while st.queue.len() >= self.ahead.max(1) && !st.stopped {
            st = self.shared.wait(st);
        }
        if st.stopped {
            return false;
        }
        st.queue.push_back((input, c));
        drop(st);
        self.shared.changed.notify_all();
        true
    }
}

/// Runs `work` over `inputs` on `threads` worker threads and hands the results to `consume`
/// in input order, in batches of whatever consecutive results are ready. A worker takes the
/// next input only while the cost in flight stays within `budget`, except that the oldest
/// input not yet consumed is always taken (so one input costing more than the budget still
/// runs). Stops at the first error of `consume` and returns it.
pub fn run_ordered<I, T, E>(
    inputs: Vec<I>,
    threads: usize,
    budget: u64,
    cost: impl Fn(&I) -> u64 + Sync,
    work: impl Fn(I) -> T + Sync,
    consume: impl FnMut(Vec<T>) -> Result<(), E>,
) -> Result<(), E>
where
    I: Send,
    T: Send,
{
    let queue = inputs
        .into_iter()
        .map(|i| {
            let c = cost(&i);
            (i, c)
        })
        .collect();
    let shared = shared(queue, true);
    std::thread::scope(|s| {
        spawn_workers(s, &shared, threads, budget, &work);
        consume_in_order(&shared, consume)
    })
}

/// [`run_ordered`] over inputs that `produce` hands to its [`Feed`] on a thread of its own
/// while the workers already run (at most `limits.ahead` waiting to be taken). Returns the
/// consumer's outcome and what `produce` returned (it runs to its end, or until a push is
/// refused because the consumer failed).
pub fn run_ordered_fed<I, T, E, R>(
    limits: Limits,
    produce: impl FnOnce(&mut Feed<'_, I, T>) -> R + Send,
    cost: impl Fn(&I) -> u64 + Sync,
    work: impl Fn(I) -> T + Sync,
    consume: impl FnMut(Vec<T>) -> Result<(), E>,
) -> (Result<(), E>, R)
where
    I: Send,
    T: Send,
    R: Send,
{
    let shared = shared(VecDeque::new(), false);
    std::thread::scope(|s| {
        let producer = s.spawn(|| {
            let _end = EndGuard {
                shared: &shared,
                producer: true,
            };
            produce(&mut Feed {
                shared: &shared,
                cost: &cost,
                ahead: limits.ahead,
            })
        });
        spawn_workers(s, &shared, limits.threads, limits.budget, &work);
        let outcome = consume_in_order(&shared, consume);
        match producer.join() {
            Ok(r) => (outcome, r),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

fn shared<I, T>(queue: VecDeque<(I, u64)>, produced_all: bool) -> Shared<I, T> {
    Shared {
        state: Mutex::new(State {
            queue,
            produced_all,
            next: 0,
            done: BTreeMap::new(),
            taken: VecDeque::new(),
            in_flight: 0,
            consumed: 0,
            stopped: false,
            panicked: false,
        }),
        changed: Condvar::new(),
    }
}

/// Starts the workers: each takes the next input while the budget allows, works on it outside
/// the lock, and files the result under the input's number.
fn spawn_workers<'scope, I, T>(
    s: &'scope std::thread::Scope<'scope, '_>,
    shared: &'scope Shared<I, T>,
    threads: usize,
    budget: u64,
    work: &'scope (impl Fn(I) -> T + Sync),
) where
    I: Send,
    T: Send,
{
    for _ in 0..threads.max(1) {
        s.spawn(move || {
            let _end = EndGuard {
                shared,
                producer: false,
            };
            while let Some((index, input)) = take_next(shared, budget) {
                let result = work(input);
                shared.lock().done.insert(index, result);
                shared.changed.notify_all();
            }
        });
    }
}

/// The next input and its number, once the budget allows; `None` when there is nothing more
/// to take (all taken, or the run stopped).
fn take_next<I, T>(shared: &Shared<I, T>, budget: u64) -> Option<(usize, I)> {
    let mut st = shared.lock();
    loop {
        if st.stopped {
            return None;
        }
        match st.queue.front() {
            Some(&(_, c)) if st.next == st.consumed || st.in_flight + c <= budget => break,
            None if st.produced_all => return None,
            _ => st = shared.wait(st),
        }
    }
    let (input, c) = st.queue.pop_front().expect("checked not empty");
    let index = st.next;
    st.next += 1;
    st.in_flight += c;
    st.taken.push_back(c);
    drop(st);
    // A producer may be waiting for room in the queue.
    shared.changed.notify_all();
    Some((index, input))
}

/// The calling thread's part: hands consecutive results to `consume` as they become ready,
/// releasing their cost from the budget after each batch.
fn consume_in_order<I, T, E>(
    shared: &Shared<I, T>,
    mut consume: impl FnMut(Vec<T>) -> Result<(), E>,
) -> Result<(), E> {
    let mut at = 0usize;
    loop {
        let batch: Vec<T> = {
            let mut st = shared.lock();
            loop {
                if st.panicked {
                    // Leaving the thread scope joins the workers and re-raises the panic.
                    return Ok(());
                }
                if st.done.contains_key(&at) {
                    break;
                }
                if st.produced_all && st.queue.is_empty() && st.next == at {
                    return Ok(());
                }
                st = shared.wait(st);
            }
            let mut batch = Vec::new();
            while let Some(r) = st.done.remove(&(at + batch.len())) {
                batch.push(r);
            }
            batch
        };
        let n = batch.len();
        let result = consume(batch);
        {
            let mut st = shared.lock();
            let released: u64 = st.taken.drain(..n).sum();
            st.in_flight -= released;
            at += n;
            st.consumed = at;
            if result.is_err() {
                st.stopped = true;
            }
        }
        shared.changed.notify_all();
        result?;
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[test]
    fn results_come_in_input_order_and_the_budget_holds() {
        let held = AtomicU64::new(0);
        let peak = AtomicU64::new(0);
        let inputs: Vec<u64> = (0..500).map(|i| (i * 7919) % 13 + 1).collect();
        let mut seen = Vec::new();
        run_ordered(
            inputs.clone(),
            3,
            20,
            |c| *c,
            |c| {
                let now = held.fetch_add(c, Ordering::SeqCst) + c;
                peak.fetch_max(now, Ordering::SeqCst);
                // Uneven work, so results finish out of order.
                std::thread::sleep(std::time::Duration::from_micros(c * 37 % 200));
                c
            },
            |batch: Vec<u64>| -> Result<(), ()> {
                for c in &batch {
                    held.fetch_sub(*c, Ordering::SeqCst);
                }
                seen.extend(batch);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen, inputs);
        assert!(peak.load(Ordering::SeqCst) <= 20, "{peak:?}");
    }

    #[test]
    fn an_input_over_the_budget_still_runs_and_an_error_stops_the_rest() {
        let mut seen = Vec::new();
        run_ordered(
            vec![100u64, 1, 1],
            2,
            10,
            |c| *c,
            |c| c,
            |b: Vec<u64>| -> Result<(), ()> {
                seen.extend(b);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen, [100, 1, 1]);

        let started = AtomicU64::new(0);
        let err = run_ordered(
            (0..10_000u64).collect(),
            2,
            4,
            |_| 1,
            |i| {
                started.fetch_add(1, Ordering::SeqCst);
                i
            },
            |b: Vec<u64>| if b.contains(&10) { Err("stop") } else { Ok(()) },
        );
        assert_eq!(err, Err("stop"));
        // Within the budget past the failing batch, nothing more was taken.
        assert!(started.load(Ordering::SeqCst) < 100, "{started:?}");
    }

    #[test]
    fn fed_inputs_come_in_order_the_producer_stays_ahead_and_its_answer_returns() {
        let queued_peak = AtomicU64::new(0);
        let limits = Limits {
            threads: 3,
            budget: 4,
            ahead: 5,
        };
        let mut seen = Vec::new();
        let (outcome, produced) = run_ordered_fed(
            limits,
            |feed: &mut Feed<'_, u64, u64>| {
                let mut n = 0;
                for i in 0..300u64 {
                    assert!(feed.push(i));
                    n += 1;
                    let waiting = feed.shared.lock().queue.len() as u64;
                    queued_peak.fetch_max(waiting, Ordering::SeqCst);
                }
                n
            },
            |_| 1,
            |i| {
                std::thread::sleep(std::time::Duration::from_micros(i * 31 % 150));
                i * 2
            },
            |b: Vec<u64>| -> Result<(), ()> {
                seen.extend(b);
                Ok(())
            },
        );
        assert_eq!(outcome, Ok(()));
        assert_eq!(produced, 300);
        assert_eq!(seen, (0..300u64).map(|i| i * 2).collect::<Vec<_>>());
        assert!(queued_peak.load(Ordering::SeqCst) <= 5, "{queued_peak:?}");

        // Nothing produced: the consumer still ends.
        let (outcome, ()) = run_ordered_fed(
            limits,
            |_: &mut Feed<'_, u64, u64>| {},
            |_| 1,
            |i| i,
            |_: Vec<u64>| -> Result<(), ()> { panic!("no results") },
        );
        assert_eq!(outcome, Ok(()));
    }

    #[test]
    fn a_consumer_error_stops_the_producer() {
        let (outcome, pushed) = run_ordered_fed(
            Limits {
                threads: 2,
                budget: 4,
                ahead: 2,
            },
            |feed: &mut Feed<'_, u64, u64>| (0..1_000_000u64).take_while(|&i| feed.push(i)).count(),
            |_| 1,
            |i| i,
            |b: Vec<u64>| if b.contains(&10) { Err("stop") } else { Ok(()) },
        );
        assert_eq!(outcome, Err("stop"));
        assert!(pushed < 100, "{pushed}");
    }

    #[test]
    #[should_panic(expected = "walk failed")]
    fn a_producer_panic_reaches_the_caller() {
        let _ = run_ordered_fed(
            Limits {
                threads: 2,
                budget: 4,
                ahead: 2,
            },
            |feed: &mut Feed<'_, u64, u64>| {
                feed.push(1);
                panic!("walk failed")
            },
            |_| 1,
            |i| i,
            |_: Vec<u64>| -> Result<(), ()> { Ok(()) },
        );
    }
}
