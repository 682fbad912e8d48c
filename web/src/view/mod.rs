//! Components of the page.

pub mod controls;
pub mod report;
pub mod results;
