//! Plots as plain SVG strings, shared by the CLI's HTML report and the web app (no
//! charting dependency, nothing that needs a canvas).

mod canvas;
pub mod leak_curve;
mod legend;
pub mod svg;
pub mod tradeoff;
pub mod verdict;

pub use canvas::escape;
pub use leak_curve::leak_at_k_svg;
pub use svg::{ecdf_svg, histogram_svg, survival_svg};
pub use tradeoff::{pareto_front, tradeoff_svg, Series};
pub use verdict::{verdict_counts, verdict_svg, VerdictCounts, VerdictPoint};
