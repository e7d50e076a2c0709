//! The size of the WASM the browser downloads.

/// The release WASM, after brotli: the bundle every page loads (raw and
/// compressed), and the files of the lazy pages, each loaded when its page
/// is first shown (`cargo leptos build --split`).
pub struct WasmSize {
    pub raw: usize,
    pub brotli: usize,
    pub lazy_files: usize,
    pub lazy_brotli: usize,
}

pub fn wasm_size() -> Option<WasmSize> {
    let mut size = WasmSize {
        raw: 0,
        brotli: 0,
        lazy_files: 0,
        lazy_brotli: 0,
    };
    for entry in std::fs::read_dir("target/site/pkg").ok()? {
        let path = entry.ok()?.path();
        if path.extension().is_none_or(|e| e != "wasm") {
            continue;
        }
        let raw = std::fs::read(&path).ok()?;
        let brotli = brotli_size(&raw)?;
        let name = path.file_name()?.to_string_lossy();
        if name.starts_with("split_") || name.starts_with("chunk_") {
            size.lazy_files += 1;
            size.lazy_brotli += brotli;
        } else {
            size.raw = raw.len();
            size.brotli = brotli;
        }
    }
    (size.raw > 0).then_some(size)
}

fn brotli_size(raw: &[u8]) -> Option<usize> {
    let mut compressed = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &raw[..], &mut compressed, &params).ok()?;
    Some(compressed.len())
}
