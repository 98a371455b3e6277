#!/usr/bin/env bash
# Set everything up, run the quick pipeline headless, then open JupyterLab on notebooks/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
bki-lab demo || echo "(demo skipped: see the message above; the notebooks need the same data)"
exec jupyter lab notebooks/
