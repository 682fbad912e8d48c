pub mod bounds;
pub mod rouge;
pub mod score;
