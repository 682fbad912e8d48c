//! Values between the host and a tensor's device, as row-major f32.

use burn::tensor::{Device, Tensor, TensorData};

/// Uploads host values as a tensor.
pub fn upload<const D: usize>(values: Vec<f32>, shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// Reads a tensor back to the host as f32 (native only; the browser never exports).
pub fn download<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32 data")
}
