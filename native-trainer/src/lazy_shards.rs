//! A checkpoint's files read on demand: each tensor's byte range is read from disk when
//! the model asks for it, so loading a bf16 checkpoint into f32 never also holds the
//! whole file in memory (`probable bench decode --model` reports the peak RSS).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use probable_core::model::ShardBytes;

pub struct FileShards {
    dir: PathBuf,
    open: HashMap<String, File>,
}

impl FileShards {
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            open: HashMap::new(),
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
        let f = self.file(file)?;
        let mut buf = vec![0u8; len];
        f.read_exact_at(&mut buf, offset)
            .map_err(|e| format!("{len} bytes at offset {offset}: {e}"))?;
        Ok(Cow::Owned(buf))
    }
}
