#!/usr/bin/env bash
# Set everything up, run the quick pipeline headless, then open JupyterLab on notebooks/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
bki-lab demo
exec jupyter lab notebooks/
