//! The ordered read pipeline of collect: worker threads take the inputs strictly in order and
//! work on them in parallel, while the calling thread consumes the results in that same order,
//! as soon as each next one is ready. Memory is bounded by a budget of "cost" (bytes held) in
//! flight rather than by fixed windows, so no worker waits at a window boundary for the slowest
//! file of its window.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Condvar, Mutex};

struct State<I, T> {
    /// Inputs not yet taken, in order; the front is number `next`.
    queue: VecDeque<I>,
    next: usize,
    /// Results done but not consumed yet, by input number.
    done: BTreeMap<usize, T>,
    /// Cost of everything taken and not consumed yet.
    in_flight: u64,
    /// Inputs consumed so far: the oldest input not consumed is number `consumed`.
    consumed: usize,
    /// Set when the consumer stopped (an error): workers take nothing more.
    stopped: bool,
    /// Set when a worker panicked: the consumer stops waiting (the scope re-raises the panic).
    panicked: bool,
}

/// Marks the pipeline as panicked if a worker unwinds while it holds this.
struct PanicFlag<'a, I, T> {
    state: &'a Mutex<State<I, T>>,
    changed: &'a Condvar,
}

impl<I, T> Drop for PanicFlag<'_, I, T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            st.panicked = true;
            st.stopped = true;
            drop(st);
            self.changed.notify_all();
        }
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
    mut consume: impl FnMut(Vec<T>) -> Result<(), E>,
) -> Result<(), E>
where
    I: Send,
    T: Send,
{
    let total = inputs.len();
    let costs: Vec<u64> = inputs.iter().map(&cost).collect();
    let state = Mutex::new(State {
        queue: VecDeque::from(inputs),
        next: 0,
        done: BTreeMap::new(),
        in_flight: 0,
        consumed: 0,
        stopped: false,
        panicked: false,
    });
    let changed = Condvar::new();
    let lock = || state.lock().unwrap_or_else(|p| p.into_inner());

    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| loop {
                let _flag = PanicFlag {
                    state: &state,
                    changed: &changed,
                };
                let (index, input) = {
                    let mut st = lock();
                    loop {
                        if st.stopped || st.queue.is_empty() {
                            return;
                        }
                        let c = costs[st.next];
                        if st.next == st.consumed || st.in_flight + c <= budget {
                            break;
                        }
                        st = changed.wait(st).unwrap_or_else(|p| p.into_inner());
                    }
                    let index = st.next;
                    st.next += 1;
                    st.in_flight += costs[index];
                    (index, st.queue.pop_front().expect("checked not empty"))
                };
                let result = work(input);
                lock().done.insert(index, result);
                changed.notify_all();
            });
        }

        let mut at = 0usize;
        let outcome = loop {
            if at == total {
                break Ok(());
            }
            let batch: Vec<T> = {
                let mut st = lock();
                while !st.done.contains_key(&at) && !st.panicked {
                    st = changed.wait(st).unwrap_or_else(|p| p.into_inner());
                }
                if st.panicked {
                    // Leaving the scope joins the workers and re-raises the panic.
                    break Ok(());
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
                let mut st = lock();
                st.in_flight -= costs[at..at + n].iter().sum::<u64>();
                at += n;
                st.consumed = at;
                if result.is_err() {
                    st.stopped = true;
                }
            }
            changed.notify_all();
            if let Err(e) = result {
                break Err(e);
            }
        };
        outcome
    })
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
}
