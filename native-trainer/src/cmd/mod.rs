pub mod bounds;
pub mod eval;
pub mod export;
pub mod generate;
pub mod inspect;
pub mod report;
pub mod rouge;
pub mod score;
