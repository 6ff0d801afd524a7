# Shortcuts only: every recipe is a plain cargo command.

# Read every quantity of the default simulated meter.
read:
    cargo run --release -- read --rig fixtures/rigs/sim.toml

# Check the instruments of a rig.
doctor rig="fixtures/rigs/sim.toml":
    cargo run --release -- doctor --rig {{rig}}

# A standalone simulated meter on Modbus TCP.
serve addr="127.0.0.1:5020":
    cargo run --release -- sim serve --meter fixtures/meters/legrand-412083.toml --tcp {{addr}}

test:
    cargo test --workspace

lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

bench:
    cargo bench --workspace
