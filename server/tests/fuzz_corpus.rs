//! The fuzz targets' seed corpus (`fuzz/corpus/<target>/`), run through the same entry
//! points in every `cargo test`: a smoke run of the fuzzing that needs no libFuzzer build.
//! `scripts/fuzz.sh` runs the real fuzzing.

use std::path::Path;

#[test]
fn every_seed_of_every_target_holds_its_property() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let mut ran = 0;
    for (name, target) in server::fuzzing::TARGETS {
        let dir = corpus.join(name);
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        assert!(!entries.is_empty(), "{name} has no seeds");
        for entry in entries {
            let bytes = std::fs::read(entry.path()).unwrap();
            target(&bytes);
            ran += 1;
        }
    }
    assert!(ran >= 30, "only {ran} seeds ran");
}
