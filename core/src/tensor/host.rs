//! Values between the host and a tensor's device: row-major f32, and token ids.

use burn::tensor::{DType, Device, Int, IntDType, Tensor, TensorData};

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

/// Token ids as an int tensor of `shape`, built on the host in the device's own int type.
///
/// Ids go up and down every decode step. Built as i64 they went through burn's generic
/// dtype conversion (to the backends' i32) each time, and in the browser that conversion
/// — the largest function of the build, a match over every pair of types — became hot and
/// was compiled again by the engine's optimising tier on every page load: a third of a
/// second of a core during the first run's first second.
pub fn upload_ids<const D: usize>(
    ids: &[u32],
    shape: [usize; D],
    device: &Device,
) -> Tensor<D, Int> {
    let data = match device.settings().int_dtype {
        IntDType::I32 => TensorData::new(ids.iter().map(|&t| t as i32).collect(), shape),
        IntDType::U32 => TensorData::new(ids.to_vec(), shape),
        _ => TensorData::new(ids.iter().map(|&t| t as i64).collect(), shape),
    };
    Tensor::from_data(data, device)
}

/// Token ids read back from an int tensor's data, converted from its own int type on the
/// host (see [`upload_ids`]; i64 data passes the cast untouched); `None` for data that is
/// not integers.
pub fn ids_of(data: TensorData) -> Option<Vec<u32>> {
    let ids = match data.dtype() {
        DType::I32 => data
            .try_into_vec::<i32>()
            .ok()?
            .into_iter()
            .map(|v| v as u32)
            .collect(),
        DType::U32 => data.try_into_vec::<u32>().ok()?,
        _ => data
            .try_cast(DType::I64)
            .ok()?
            .try_into_vec::<i64>()
            .ok()?
            .into_iter()
            .map(|v| v as u32)
            .collect(),
    };
    Some(ids)
}
