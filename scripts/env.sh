# Sourced by the scripts: puts the project's tools first on PATH.
# wasm-opt comes from tools/ (npm binaryen), never from Debian's binaryen package.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$ROOT/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
