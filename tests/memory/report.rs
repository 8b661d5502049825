//! A report template cannot exhaust memory: a one-line template that prints 25 strings of
//! 100 MB each (2.5 GB, which fuel alone let through) stops with a clear error at the output
//! bound, and the most heap held while it runs stays far below what it asked for.

use wsc_forensics::report::templates::{self, TemplateError, MAX_OUTPUT_BYTES};
use wsc_forensics::report::TemplateSet;

use crate::counting_alloc;

const MIB: u64 = 1 << 20;

#[test]
fn a_template_building_a_huge_output_stops_under_a_memory_bound() {
    let _one = counting_alloc::ONE_AT_A_TIME.lock().unwrap();
    let mut set = TemplateSet::builtin();
    set.set(
        "bomb.md.j2",
        "{% for i in range(25) %}{{ ('x' * 100000000)|safe }}{% endfor %}",
    );
    let env = set.environment().unwrap();
    let (_, peak, result) = counting_alloc::measure(|| {
        templates::render(&env, "bomb.md.j2", &minijinja::Value::UNDEFINED)
    });
    let e = result.unwrap_err();
    assert!(
        matches!(e, TemplateError::OutputTooLarge { max, .. } if max == MAX_OUTPUT_BYTES),
        "{e}"
    );
    assert!(e.to_string().contains("bomb.md.j2"), "{e}");
    // One 100 MB value is built before the first write is refused; 2.5 GB never is.
    assert!(peak < 400 * MIB, "peak {} MiB", peak / MIB);
}
