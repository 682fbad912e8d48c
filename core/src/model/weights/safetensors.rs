//! Reading safetensors checkpoints — one `model.safetensors` or the shards named by
//! `model.safetensors.index.json` — one tensor at a time.
//!
//! Only each file's header is parsed up front; a tensor's bytes are read when a module
//! asks for it — kept as stored (a bf16 or f16 matrix under [`WeightDtype::Stored`]: the
//! bytes read become the tensor, no copy, no transpose) or converted right away — so
//! loading never holds the checkpoint and the model at once (the file is not read whole).
//! Bytes come through [`ShardBytes`]: ranged file reads natively, fetched buffers in the
//! browser.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

use burn::tensor::{Bytes, DType};
use half::vec::HalfBitsVecExt;
use half::{bf16, f16};
use rayon::prelude::*;
use serde_json::Value;

use super::dtype::{HostValues, WeightDtype};
use super::error::WeightError;
use super::file_names::{INDEX_FILE, SINGLE_FILE};
use super::shards::ShardIndex;
use super::source::WeightSource;

/// Random access to the bytes of a checkpoint's files, by file name.
pub trait ShardBytes {
    /// The length of `file` in bytes.
    fn size(&mut self, file: &str) -> Result<u64, String>;
    /// `len` bytes of `file` starting at `offset`.
    fn read(&mut self, file: &str, offset: u64, len: usize) -> Result<Cow<'_, [u8]>, String>;

    /// `buf.len()` bytes of `file` starting at `offset`, into `buf` (a file reads straight
    /// into it: a tensor kept as stored is read once, into its own allocation).
    fn read_into(&mut self, file: &str, offset: u64, buf: &mut [u8]) -> Result<(), String> {
        buf.copy_from_slice(&self.read(file, offset, buf.len())?);
        Ok(())
    }

    /// `len` bytes of `file` at `offset` without a copy — a slice of a memory-mapped file —
    /// where this source can map files; `None` reads them instead.
    fn mapped(&mut self, _file: &str, _offset: u64, _len: usize) -> Option<Bytes> {
        None
    }
}

/// Files already in memory (fetched by the browser, or read whole by a test).
pub struct InMemory<'a> {
    files: HashMap<String, &'a [u8]>,
}

impl<'a> InMemory<'a> {
    pub fn new(files: impl IntoIterator<Item = (String, &'a [u8])>) -> Self {
        Self {
            files: files.into_iter().collect(),
        }
    }

    fn file(&self, file: &str) -> Result<&'a [u8], String> {
        self.files
            .get(file)
            .copied()
            .ok_or_else(|| "no such file".to_string())
    }
}

impl ShardBytes for InMemory<'_> {
    fn size(&mut self, file: &str) -> Result<u64, String> {
        Ok(self.file(file)?.len() as u64)
    }

    fn read(&mut self, file: &str, offset: u64, len: usize) -> Result<Cow<'_, [u8]>, String> {
        let bytes = self.file(file)?;
        let start = usize::try_from(offset).map_err(|e| e.to_string())?;
        bytes
            .get(start..start.saturating_add(len))
            .map(Cow::Borrowed)
            .ok_or_else(|| format!("{len} bytes at offset {offset} lie past the end"))
    }
}

/// Where one tensor lies.
#[derive(Debug, Clone)]
struct Entry {
    file: String,
    dtype: String,
    shape: Vec<usize>,
    /// Absolute byte range in the file.
    start: u64,
    len: usize,
}

fn element_size(dtype: &str) -> Option<usize> {
    match dtype {
        "F32" | "I32" | "U32" => Some(4),
        "F16" | "BF16" | "I16" | "U16" => Some(2),
        "F64" | "I64" | "U64" => Some(8),
        "I8" | "U8" | "BOOL" | "F8_E4M3" | "F8_E5M2" => Some(1),
        _ => None,
    }
}

/// Parses a file's header: `u64` little-endian length `n`, then `n` bytes of JSON
/// `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`, offsets
/// relative to the end of the header.
fn read_header(
    bytes: &mut dyn ShardBytes,
    file: &str,
) -> Result<Vec<(String, Entry)>, WeightError> {
    let parse = |reason: String| WeightError::Parse {
        file: file.to_string(),
        reason,
    };
    let read_err = |reason: String| WeightError::Read {
        file: file.to_string(),
        reason,
    };
    let size = bytes.size(file).map_err(read_err)?;
    if size < 8 {
        return Err(parse(format!(
            "{size} bytes, shorter than the 8-byte header length"
        )));
    }
    let n = u64::from_le_bytes(
        bytes.read(file, 0, 8).map_err(read_err)?[..8]
            .try_into()
            .expect("8 bytes"),
    );
    // The format caps headers at 100 MB; a larger value means a corrupt file.
    if n > 100_000_000 || 8 + n > size {
        return Err(parse(format!(
            "header length {n} does not fit a file of {size} bytes"
        )));
    }
    let header = bytes.read(file, 8, n as usize).map_err(read_err)?;
    let json: Value = serde_json::from_slice(&header).map_err(|e| parse(format!("header: {e}")))?;
    let obj = json
        .as_object()
        .ok_or_else(|| parse("header is not a JSON object".into()))?;
    let data_start = 8 + n;
    let data_len = size - data_start;
    let mut out = Vec::new();
    for (name, info) in obj {
        if name == "__metadata__" {
            continue;
        }
        let bad = |what: &str| parse(format!("tensor `{name}`: {what}"));
        let dtype = info["dtype"]
            .as_str()
            .ok_or_else(|| bad("no dtype"))?
            .to_string();
        let shape: Vec<usize> = info["shape"]
            .as_array()
            .ok_or_else(|| bad("no shape"))?
            .iter()
            .map(|d| d.as_u64().map(|d| d as usize))
            .collect::<Option<_>>()
            .ok_or_else(|| bad("shape is not a list of sizes"))?;
        let offsets: Vec<u64> = info["data_offsets"]
            .as_array()
            .filter(|o| o.len() == 2)
            .and_then(|o| o.iter().map(Value::as_u64).collect())
            .ok_or_else(|| bad("data_offsets is not [begin, end]"))?;
        let (begin, end) = (offsets[0], offsets[1]);
        if begin > end || end > data_len {
            return Err(bad(&format!(
                "data_offsets [{begin}, {end}] outside the {data_len} data bytes"
            )));
        }
        let elements = shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .ok_or_else(|| bad("shape overflows"))?;
        if let Some(size) = element_size(&dtype) {
            if elements.checked_mul(size) != Some((end - begin) as usize) {
                return Err(bad(&format!(
                    "{} bytes for {elements} {dtype} elements",
                    end - begin
                )));
            }
        }
        out.push((
            name.clone(),
            Entry {
                file: file.to_string(),
                dtype,
                shape,
                start: data_start + begin,
                len: (end - begin) as usize,
            },
        ));
    }
    Ok(out)
}

fn widen(entry: &Entry, name: &str, bytes: &[u8]) -> Result<Vec<f32>, WeightError> {
    Ok(match entry.dtype.as_str() {
        "F32" => bytes
            .par_chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        "F16" => bytes
            .par_chunks_exact(2)
            .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        "BF16" => bytes
            .par_chunks_exact(2)
            .map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        other => {
            return Err(WeightError::Dtype {
                file: entry.file.clone(),
                name: name.to_string(),
                dtype: other.to_string(),
            })
        }
    })
}

/// Buffers that transformers keeps out of `state_dict` today but older checkpoints
/// saved; they are recomputed from the config, so skipping them changes nothing.
fn is_recomputed_buffer(name: &str) -> bool {
    name.ends_with(".rotary_emb.inv_freq")
}

/// A checkpoint as a [`WeightSource`]: every tensor by name, across shards.
pub struct CheckpointSource<B: ShardBytes> {
    bytes: B,
    tensors: BTreeMap<String, Entry>,
    taken: HashSet<String>,
    /// What errors name when no single file is at fault.
    label: String,
    /// How matrices are handed out ([`WeightSource::take_matrix`]).
    matrices: WeightDtype,
}

/// A single in-memory `model.safetensors` (the browser's and the tests' case).
pub type SafetensorsSource<'a> = CheckpointSource<InMemory<'a>>;

impl<'a> CheckpointSource<InMemory<'a>> {
    pub fn new(bytes: &'a [u8]) -> Result<Self, WeightError> {
        Self::single(
            InMemory::new([(SINGLE_FILE.to_string(), bytes)]),
            SINGLE_FILE,
        )
    }
}

impl<B: ShardBytes> CheckpointSource<B> {
    /// One safetensors file called `file`.
    pub fn single(mut bytes: B, file: &str) -> Result<Self, WeightError> {
        let tensors = read_header(&mut bytes, file)?.into_iter().collect();
        Ok(Self {
            bytes,
            tensors,
            taken: HashSet::new(),
            label: file.to_string(),
            matrices: WeightDtype::F32,
        })
    }

    /// The shards an index names. Every shard must exist and hold the tensors the index
    /// places in it; a tensor a shard holds but the index does not place counts as unused.
    pub fn sharded(mut bytes: B, index: &ShardIndex) -> Result<Self, WeightError> {
        let mut tensors = BTreeMap::new();
        let mut present: HashMap<(String, String), Entry> = HashMap::new();
        for file in index.files() {
            bytes.size(file).map_err(|reason| {
                WeightError::Index(format!("shard `{file}` cannot be read: {reason}"))
            })?;
            for (name, entry) in read_header(&mut bytes, file)? {
                present.insert((file.to_string(), name), entry);
            }
        }
        for (name, file) in index.weight_map() {
            let key = (file.clone(), name.clone());
            let entry = present.remove(&key).ok_or_else(|| {
                WeightError::Index(format!(
                    "tensor `{name}` is mapped to `{file}`, which does not hold it"
                ))
            })?;
            tensors.insert(name.clone(), entry);
        }
        let mut source = Self {
            bytes,
            tensors,
            taken: HashSet::new(),
            label: INDEX_FILE.to_string(),
            matrices: WeightDtype::F32,
        };
        // Tensors a shard holds outside the map: unused (reported by check_all_used).
        for ((file, name), entry) in present {
            let label = format!("{name} (in {file}, not in the index)");
            source.tensors.entry(label).or_insert(entry);
        }
        Ok(source)
    }

    /// Hands matrices out as `dtype` asks (f32 unless set; resolve it for the device
    /// first, [`WeightDtype::on`]).
    pub fn with_dtype(mut self, dtype: WeightDtype) -> Self {
        self.matrices = dtype;
        self
    }

    pub fn names(&self) -> Vec<String> {
        self.tensors.keys().cloned().collect()
    }

    /// The dtype most parameters are stored in (what `inspect` reports).
    pub fn dtype(&self) -> Option<String> {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for e in self.tensors.values() {
            *counts.entry(e.dtype.as_str()).or_default() += e.len;
        }
        counts
            .into_iter()
            .max_by_key(|&(_, n)| n)
            .map(|(d, _)| d.to_string())
    }

    /// Tensors present in the checkpoint that no module asked for.
    pub fn unused(&self) -> Vec<String> {
        self.tensors
            .keys()
            .filter(|n| !self.taken.contains(*n) && !is_recomputed_buffer(n))
            .cloned()
            .collect()
    }
}

impl<B: ShardBytes> CheckpointSource<B> {
    /// The entry of `name`, checked against `shape`.
    fn entry(&self, name: &str, shape: &[usize]) -> Result<Entry, WeightError> {
        let entry = self
            .tensors
            .get(name)
            .ok_or_else(|| WeightError::Missing(self.label.clone(), name.to_string()))?
            .clone();
        if entry.shape != shape {
            return Err(WeightError::Shape {
                file: entry.file,
                name: name.to_string(),
                expected: shape.to_vec(),
                found: entry.shape,
            });
        }
        Ok(entry)
    }

    /// The entry of `name`, checked against `shape`, and its bytes.
    fn raw(&mut self, name: &str, shape: &[usize]) -> Result<(Entry, Cow<'_, [u8]>), WeightError> {
        let entry = self.entry(name, shape)?;
        let raw = self
            .bytes
            .read(&entry.file, entry.start, entry.len)
            .map_err(|reason| WeightError::Read {
                file: entry.file.clone(),
                reason,
            })?;
        Ok((entry, raw))
    }

    /// A half-precision (`dtype`: BF16 or F16) tensor as stored, checked finite: the mapped
    /// file's bytes where the source maps files (and the tensor
    /// is aligned for its elements), else read straight into its own allocation.
    fn half(
        &mut self,
        name: &str,
        shape: &[usize],
        dtype: DType,
    ) -> Result<HostValues, WeightError> {
        let entry = self.entry(name, shape)?;
        if let Some(bytes) = self.bytes.mapped(&entry.file, entry.start, entry.len) {
            if bytes.as_ptr().align_offset(2) == 0 && cfg!(target_endian = "little") {
                // SAFETY: `entry.len` initialised bytes, 2-aligned (checked), viewed as u16s.
                let bits = unsafe {
                    std::slice::from_raw_parts(bytes.as_ptr().cast::<u16>(), entry.len / 2)
                };
                check_finite_bits(&entry, name, bits, dtype)?;
                return Ok(HostValues::Mapped { dtype, bytes });
            }
        }
        let bits = self.half_bits(&entry, name, dtype)?;
        Ok(match dtype {
            DType::BF16 => HostValues::Bf16(bits.reinterpret_into()),
            _ => HostValues::F16(bits.reinterpret_into()),
        })
    }

    /// A half-precision tensor's elements as stored (bits), read straight into their own
    /// allocation and checked finite.
    fn half_bits(
        &mut self,
        entry: &Entry,
        name: &str,
        dtype: DType,
    ) -> Result<Vec<u16>, WeightError> {
        // Zeroed by the allocator (fresh pages): the read is the first write.
        let mut bits = vec![0u16; entry.len / 2];
        // SAFETY: the u16s' bytes, a plain initialised byte view of the same allocation.
        let bytes = unsafe {
            std::slice::from_raw_parts_mut(bits.as_mut_ptr().cast::<u8>(), bits.len() * 2)
        };
        self.bytes
            .read_into(&entry.file, entry.start, bytes)
            .map_err(|reason| WeightError::Read {
                file: entry.file.clone(),
                reason,
            })?;
        for b in &mut bits {
            *b = u16::from_le(*b);
        }
        check_finite_bits(entry, name, &bits, dtype)?;
        Ok(bits)
    }
}

/// The index of the first element of `values` that is `bad`. Blocks are tested with a
/// branch-free reduction (it vectorises; a per-element `position_first` over a 1B model's
/// 1.2 billion values took seconds) and only the first failing block is searched.
fn first_where<T: Sync>(values: &[T], bad: impl Fn(&T) -> bool + Sync) -> Option<usize> {
    const BLOCK: usize = 1 << 16;
    let block = values
        .par_chunks(BLOCK)
        .position_first(|block| block.iter().fold(false, |any, v| any | bad(v)))?;
    let within = values[block * BLOCK..].iter().position(&bad);
    Some(block * BLOCK + within.expect("the block holds a bad element"))
}

/// The first non-finite value of `values`, as an error naming the tensor.
fn check_finite(entry: &Entry, name: &str, values: &[f32]) -> Result<(), WeightError> {
    match first_where(values, |v| !v.is_finite()) {
        Some(index) => Err(WeightError::NonFinite {
            file: entry.file.clone(),
            name: name.to_string(),
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// As [`check_finite`] for the bits of a bf16 or f16 (`dtype`) tensor: an all-ones
/// exponent is an infinity or a NaN.
fn check_finite_bits(
    entry: &Entry,
    name: &str,
    bits: &[u16],
    dtype: DType,
) -> Result<(), WeightError> {
    let (exponent, widen): (u16, fn(u16) -> f32) = match dtype {
        DType::BF16 => (0x7f80, |h| bf16::from_bits(h).to_f32()),
        _ => (0x7c00, |h| f16::from_bits(h).to_f32()),
    };
    match first_where(bits, |&h| h & exponent == exponent) {
        Some(index) => Err(WeightError::NonFinite {
            file: entry.file.clone(),
            name: name.to_string(),
            index,
            value: widen(bits[index]),
        }),
        None => Ok(()),
    }
}

impl<B: ShardBytes> WeightSource for CheckpointSource<B> {
    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>, WeightError> {
        let (entry, raw) = self.raw(name, shape)?;
        let values = widen(&entry, name, &raw)?;
        drop(raw);
        check_finite(&entry, name, &values)?;
        self.taken.insert(name.to_string());
        Ok(values)
    }

    fn take_matrix(&mut self, name: &str, shape: &[usize]) -> Result<HostValues, WeightError> {
        let stored = self.entry(name, shape)?.dtype;
        let values = match (self.matrices, stored.as_str()) {
            (WeightDtype::Stored | WeightDtype::F16, "F16") => {
                self.half(name, shape, DType::F16)?
            }
            (WeightDtype::Stored, "BF16") => self.half(name, shape, DType::BF16)?,
            (WeightDtype::F16, _) => {
                let values = self.take(name, shape)?;
                let narrowed: Vec<f16> = values.par_iter().map(|&v| f16::from_f32(v)).collect();
                if let Some(index) = first_where(&narrowed, |h| !h.is_finite()) {
                    return Err(WeightError::OutOfRange {
                        file: self.entry(name, shape)?.file,
                        name: name.to_string(),
                        index,
                        value: values[index],
                    });
                }
                HostValues::F16(narrowed)
            }
            _ => HostValues::F32(self.take(name, shape)?),
        };
        self.taken.insert(name.to_string());
        Ok(values)
    }

    fn has(&self, name: &str) -> bool {
        self.tensors.contains_key(name) && !self.taken.contains(name)
    }

    fn check_all_used(&self) -> Result<(), WeightError> {
        let unused = self.unused();
        if unused.is_empty() {
            return Ok(());
        }
        let shown: Vec<&str> = unused.iter().take(8).map(String::as_str).collect();
        let more = unused.len().saturating_sub(shown.len());
        Err(WeightError::Unused {
            file: self.label.clone(),
            names: format!(
                "{}{}",
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ),
        })
    }
}
