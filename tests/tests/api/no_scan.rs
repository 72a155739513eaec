//! DESIGN: no Scan on any request path. Every list is a Query on a key or an index.

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_scan_call_exists_under_shared_or_functions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut files = Vec::new();
    rust_files(&root.join("shared"), &mut files);
    rust_files(&root.join("functions"), &mut files);
    assert!(files.len() > 10, "found the sources");
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(!text.contains(".scan()"), "{} calls Scan", f.display());
        assert!(!text.contains("ScanInput"), "{} builds a Scan", f.display());
    }
}
