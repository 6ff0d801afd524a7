#!/usr/bin/env bash
# Issue 14 ("a one-way house"), every item of "How it is checked", each with
# the command that checks it. Prints one block an item, `PASS` or `FAIL`, and
# exits 1 if any failed.
#
#   scripts/check-house.sh              # everything (builds the debug binary once)
#   SKIP_EQUIVALENCE=1 scripts/check-house.sh   # all but the four simulated runs
#   METRIG=target/release/metrig scripts/check-house.sh   # a binary already built
#
# Needs: cargo, jq (scripts/equivalence), the `duplicates` command where it
# is installed (the item says so and fails when it is not).
set -uo pipefail
cd "$(dirname "$0")/.."

failed=0
item() { printf '\n== %s\n' "$1"; }
verdict() {
    if [[ "$1" == 0 ]]; then echo "PASS"; else echo "FAIL"; failed=1; fi
}
# Lines of `grep` output, code only (comments are prose and may name anything).
code_grep() { grep -rnE "$@" | grep -vE '^[^:]+:[0-9]+:\s*//' || true; }

item "1. before/after on the same seed: type-test-class-b and nightly on sim.toml and sim-8-positions.toml"
echo "\$ scripts/equivalence"
if [[ -n "${SKIP_EQUIVALENCE:-}" ]]; then
    echo "skipped (SKIP_EQUIVALENCE set)"
else
    scripts/equivalence
    verdict $?
fi

item "2a. no file under harness/src/rig/ names sim, drivers or station"
echo "\$ grep -rnE '(crate|super)(::super)*::(sim|drivers|station)\\b|\\b(sim|drivers|station)::' harness/src/rig"
hits=$(code_grep '(crate|super)(::super)*::(sim|drivers|station)\b|\b(sim|drivers|station)::' harness/src/rig)
echo "${hits:-(none)}"
[[ -z "$hits" ]]; verdict $?

item "2b. no two harness modules import each other (top level, and inside each folder)"
echo "\$ cargo test -q -p metrig-harness --test layers -- --nocapture --test-threads 1"
cargo test -q -p metrig-harness --test layers -- --nocapture --test-threads 1 2>&1 |
    grep -E -- '->|test result|panicked|circle' | sed -E 's/^test [a-z_]* \.\.\. //; s/^\.+//'
verdict "${PIPESTATUS[0]}"

item "3a. no suite loops over positions (the framework does: suites/src/framework.rs)"
echo "\$ grep -rnE 'ctx\\.positions|for .* in .*\\.positions' suites/src | grep -v framework.rs"
hits=$(code_grep 'ctx\.positions|for .* in .*\.positions' suites/src | grep -v 'suites/src/framework.rs' || true)
echo "${hits:-(none)}"
[[ -z "$hits" ]]; verdict $?

item "3b. no suite builds a limit by hand (LimitRef or ctx.limit outside the framework)"
echo "\$ grep -rnE 'LimitRef *\\{|ctx\\.limit\\(' suites/src | grep -v framework.rs"
hits=$(code_grep 'LimitRef *\{|ctx\.limit\(' suites/src | grep -v 'suites/src/framework.rs' || true)
echo "${hits:-(none)}"
[[ -z "$hits" ]]; verdict $?

item "3c. no suite calls unwrap_or_default on a serialisation (a failure must not become null)"
echo "\$ perl -0ne 'print \"\$ARGV: \$&\\n\" while /(serde_json|toml)::to_\\w+\\([^;]*?unwrap_or_default/g' suites/src/**/*.rs"
hits=$(find suites/src -name '*.rs' -print0 | xargs -0 perl -0ne 'while (/(serde_json|toml)::to_\w+\([^;]*?unwrap_or_default/g) { my $m = $&; $m =~ s/\s+/ /g; print "$ARGV: $m\n" }')
echo "${hits:-(none)}"
echo "every unwrap_or_default in suites/src, for the eye (none on a serialisation):"
code_grep 'unwrap_or_default' suites/src | sed 's/^/  /'
[[ -z "$hits" ]]; verdict $?

item "3d. no suite builds a PointOutcome (the framework's judges do: harness/src/run/judge.rs)"
echo "\$ grep -rnE 'PointOutcome *\\{|PointOutcome::|Measured::Judged' suites/src"
hits=$(code_grep 'PointOutcome *\{|PointOutcome::|Measured::Judged' suites/src)
echo "${hits:-(none)}"
[[ -z "$hits" ]]; verdict $?

item "3e. no suite names the simulator, the drivers or the station"
echo "\$ grep -rnE 'harness::(sim|drivers|station)' suites/src"
hits=$(code_grep 'harness::(sim|drivers|station)' suites/src)
echo "${hits:-(none)}"
[[ -z "$hits" ]]; verdict $?

item "3f. plan validation reads the suites' declarations, not a list in harness"
echo "\$ grep -rnE 'SUITE_PARAMS|PARAM_ROWS' harness suites src"
hits=$(code_grep 'SUITE_PARAMS|PARAM_ROWS' harness/src harness/tests suites/src suites/tests src)
echo "${hits:-(none)}"
[[ -z "$hits" ]]; verdict $?

item "4. at most 15 pairs of places in suites/src share six or more lines"
echo "\$ duplicates --repo suites/src --most 40"
if command -v duplicates >/dev/null; then
    out=$(duplicates --repo suites/src --most 40)
    echo "$out"
    pairs=$(echo "$out" | head -1 | grep -oE '^[0-9]+' || echo 0)
    echo "pairs: $pairs (at most 15)"
    [[ "$pairs" -le 15 ]]; verdict $?
else
    echo "the duplicates command is not installed here"; verdict 1
fi

item "5. cargo tree -p metrig-reports shows no drivers, gpiocdev, probe-rs (nor the harness that holds them)"
echo "\$ cargo tree -p metrig-reports -e normal --prefix none | grep -E 'gpiocdev|probe-rs|metrig-harness|drivers'"
tree=$(cargo tree -p metrig-reports -e normal --prefix none 2>/dev/null)
echo "$(echo "$tree" | grep -c .) lines; metrig crates in it: $(echo "$tree" | grep -oE '^metrig-[a-z-]+' | sort -u | tr '\n' ' ')"
hits=$(echo "$tree" | grep -E 'gpiocdev|probe-rs|metrig-harness|drivers' || true)
echo "${hits:-(none)}"
[[ -n "$tree" && -z "$hits" ]]; verdict $?

item "6. a point whose limit row is missing is error, never fail"
echo "\$ cargo test -q -p metrig-harness --lib run::judge -- --nocapture"
cargo test -q -p metrig-harness --lib run::judge 2>&1 | grep -E 'test result|panicked|FAILED'
status=${PIPESTATUS[0]}
echo "the tests: run::judge::tests::a_point_whose_limit_row_is_missing_is_an_error_not_a_fail (a figure),"
echo "  ::the_worst_of_n_passes_only_with_every_one_had_and_within_the_limit (response time),"
echo "  ::a_spread_is_judged_on_the_chi_square_interval_of_sigma (repeatability)"
verdict "$status"

item "7. README's 'How it is built' and each crate's and folder's doc comment: what it owns, what it may import"
missing=()
# A folder's doc comment is its mod.rs, or the `folder.rs` beside it.
folder_files=$(find harness/src model/src suites/src reports/src store/src station-page/src src -mindepth 1 -type d | sort |
    while read -r d; do if [[ -f "$d/mod.rs" ]]; then echo "$d/mod.rs"; elif [[ -f "$d.rs" ]]; then echo "$d.rs"; else echo "$d/mod.rs"; fi; done)  # a folder with neither is reported
for f in src/main.rs */src/lib.rs $folder_files; do
    head=$(awk '/^\/\/!/{print; next} NF && !/^\/\/!/{exit}' "$f" 2>/dev/null)
    grep -qiE 'owns' <<<"$head" && grep -qiE 'may import' <<<"$head" || missing+=("$f")
done
echo "crate roots and folders' module files checked: $(ls src/main.rs */src/lib.rs | wc -l) + $(echo "$folder_files" | grep -c .)"
echo "without 'Owns' and 'May import' in their doc comment: ${missing[*]:-(none)}"
section=$(awk '/^## How it is built/{on=1; next} /^## /{on=0} on' README.md)
absent=()
for layer in 'metrig (src/' reports suites harness::run harness::measure harness::station harness::sim harness::drivers harness::rig model judge 'catalogue'; do
    grep -qF "$layer" <<<"$section" || absent+=("$layer")
done
echo "layers the README picture does not name: ${absent[*]:-(none)}"
[[ ${#missing[@]} -eq 0 && ${#absent[@]} -eq 0 ]]; verdict $?

echo
if [[ $failed == 0 ]]; then echo "issue 14: every item PASS"; else echo "issue 14: some item FAILED"; fi
exit $failed
