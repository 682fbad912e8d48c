//! Components of the page.

pub mod controls;
pub mod hero;
pub mod live;
pub mod report;
pub mod results;
pub mod sources;
