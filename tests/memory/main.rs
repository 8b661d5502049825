//! Memory tests: a counting global allocator (process-wide, hence this separate binary) measures
//! what each command holds at once; every test holds `counting_alloc::ONE_AT_A_TIME` for its whole
//! body, so only one measures at a time.

#[path = "../it/common/mod.rs"]
mod common;
#[path = "../it/common/counting_alloc.rs"]
mod counting_alloc;

#[global_allocator]
static ALLOCATOR: counting_alloc::Counting = counting_alloc::Counting;

mod collect;
mod hostile_alloc;
mod report;
mod scope;
mod scope_keyless;
mod verify;
