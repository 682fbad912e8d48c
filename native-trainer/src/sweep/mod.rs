//! `probable sweep`: a grid of unlearning runs on one base config, each evaluated with
//! certified bounds, collected into rows and trade-off plots — so methods are compared as
//! curves over their strength, not at one setting each.

pub mod compare;
pub mod merge;
pub mod page;
pub mod point;
pub mod results;
pub mod runner;
pub mod spec;
