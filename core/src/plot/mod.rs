//! Plots as plain SVG strings, shared by the CLI's HTML report and the web app (no
//! charting dependency, nothing that needs a canvas).

pub mod svg;

pub use svg::{ecdf_svg, histogram_svg, survival_svg};
