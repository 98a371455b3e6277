#!/usr/bin/env bash
# Set everything up, run the quick pipeline headless, then open JupyterLab on notebooks/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
bki-lab demo || echo "(demo skipped: see the message above; the notebooks need the same data)"
# Jupyter refuses to run as root unless told; containers often run as root
extra=()
if [ "$(id -u)" = 0 ]; then extra+=(--allow-root); fi
exec jupyter lab "${extra[@]}" notebooks/
