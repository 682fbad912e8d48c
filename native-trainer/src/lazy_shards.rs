//! A checkpoint's files read on demand: each tensor's byte range is read from disk when
//! the model asks for it, so loading a bf16 checkpoint into f32 never also holds the
//! whole file in memory (`probable bench decode --model` reports the peak RSS). A tensor
//! kept as stored is not read at all: it is a slice of the file mapped into memory (the
//! page cache's pages, shared, copy-on-write), as transformers' safetensors loading does.
//! The mapping is private and read-only; `probable` itself replaces files by renaming a
//! new one over them, which leaves a mapped old file intact.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use probable_core::model::ShardBytes;

pub struct FileShards {
    dir: PathBuf,
    open: HashMap<String, File>,
    maps: HashMap<String, bytes::Bytes>,
}

impl FileShards {
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            open: HashMap::new(),
            maps: HashMap::new(),
        }
    }

    fn file(&mut self, name: &str) -> Result<&File, String> {
        if !self.open.contains_key(name) {
            let path = self.dir.join(name);
            let f = File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            self.open.insert(name.to_string(), f);
        }
        Ok(&self.open[name])
    }
}

impl ShardBytes for FileShards {
    fn size(&mut self, file: &str) -> Result<u64, String> {
        let f = self.file(file)?;
        f.metadata().map(|m| m.len()).map_err(|e| e.to_string())
    }

    fn read(&mut self, file: &str, offset: u64, len: usize) -> Result<Cow<'_, [u8]>, String> {
        let mut buf = vec![0u8; len];
        self.read_into(file, offset, &mut buf)?;
        Ok(Cow::Owned(buf))
    }

    fn mapped(&mut self, file: &str, offset: u64, len: usize) -> Option<burn::tensor::Bytes> {
        if !self.maps.contains_key(file) {
            let f = self.file(file).ok()?;
            // SAFETY: a private read-only mapping; see the module documentation for what a
            // file changed underneath it would mean.
            let map = unsafe { memmap2::MmapOptions::new().map_copy_read_only(f) }.ok()?;
            self.maps
                .insert(file.to_string(), bytes::Bytes::from_owner(map));
        }
        let start = usize::try_from(offset).ok()?;
        let slice = self.maps[file].get(start..start.checked_add(len)?)?;
        let shared = self.maps[file].slice_ref(slice);
        Some(burn::tensor::Bytes::from_shared(
            shared,
            burn::tensor::AllocationProperty::File,
        ))
    }

    fn read_into(&mut self, file: &str, offset: u64, buf: &mut [u8]) -> Result<(), String> {
        let len = buf.len();
        self.file(file)?
            .read_exact_at(buf, offset)
            .map_err(|e| format!("{len} bytes at offset {offset}: {e}"))
    }
}
