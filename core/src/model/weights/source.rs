//! Where a module's parameters come from and what it exports: HF-named host tensors.

use super::dtype::HostValues;
use super::error::WeightError;

/// A host tensor with its HF name, shape and row-major f32 values.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// Supplies parameters by HF name and expected shape (row-major, HF layout).
pub trait WeightSource {
    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>, WeightError>;

    /// A matrix (a linear weight, the embedding) in the dtype the source holds it in —
    /// for a checkpoint, as stored or as its [`super::WeightDtype`] asks; f32 by default.
    fn take_matrix(&mut self, name: &str, shape: &[usize]) -> Result<HostValues, WeightError> {
        self.take(name, shape).map(HostValues::F32)
    }

    /// Whether the source holds `name` (and has not handed it out yet).
    fn has(&self, _name: &str) -> bool {
        false
    }

    /// After a model is built: an error naming every tensor it left unread.
    fn check_all_used(&self) -> Result<(), WeightError> {
        Ok(())
    }
}
