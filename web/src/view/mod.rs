//! Components of the page.

pub mod controls;
pub mod results;
