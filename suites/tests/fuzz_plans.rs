//! The plan fuzz target's seeds (`fuzz/corpus/plan_file/`) against the
//! suites' own parameter declarations (`suites::catalogue()`), as the fuzz
//! target checks them: `harness/tests/fuzz_corpus.rs` runs the same seeds
//! against bare ids only, since the harness cannot see the suites. Each seed,
//! every prefix of it and each line dropped in turn must load or be refused
//! — never panic.

mod common;

#[test]
fn every_plan_seed_and_its_cuts_load_or_refuse_against_the_suites_declarations() {
    let dir = common::fixtures().join("../fuzz/corpus/plan_file");
    let mut seeds: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    seeds.sort();
    assert!(seeds.len() >= 5, "{} seeds", seeds.len());
    let catalogue = suites::catalogue();
    let (mut inputs, mut loaded) = (0, 0);
    for seed in &seeds {
        let text = std::fs::read_to_string(seed).expect("readable");
        let lines: Vec<&str> = text.lines().collect();
        let mut variants: Vec<String> = (0..=text.len())
            .step_by(7)
            .filter(|&n| text.is_char_boundary(n))
            .map(|n| text[..n].to_string())
            .collect();
        variants.extend((0..lines.len()).map(|skip| {
            let kept: Vec<&str> = (0..lines.len())
                .filter(|&i| i != skip)
                .map(|i| lines[i])
                .collect();
            kept.join("\n")
        }));
        for v in variants {
            inputs += 1;
            let r = std::panic::catch_unwind(|| {
                harness::run::parse_plan(&v, std::path::Path::new("fuzz-plan.toml"), &catalogue)
            });
            match r {
                Ok(Ok(_)) => loaded += 1,
                Ok(Err(e)) => assert!(e.to_string().contains("fuzz-plan.toml"), "{e}"),
                Err(_) => panic!("{} panicked on:\n{v}", seed.display()),
            }
        }
    }
    println!(
        "{inputs} inputs from {} seeds, {loaded} loaded",
        seeds.len()
    );
    assert!(loaded > 0, "the shipped plans' seeds load");
}
