#!/usr/bin/env bash
# Set everything up, then run the whole test suite: unit tests and the notebooks (nbval).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
if [ -z "${BKI_LAB_DATA:-}" ]; then
  for d in ../shared/data /work/shared/data; do
    if [ -d "$d" ]; then export BKI_LAB_DATA="$(cd "$d" && pwd)"; break; fi
  done
fi
# a fresh cache per run, so that the notebooks are checked computing, not loading
export BKI_LAB_CACHE="${BKI_LAB_CACHE:-$(mktemp -d)}"
echo "BKI_LAB_DATA=${BKI_LAB_DATA:-<unset>}  BKI_LAB_CACHE=$BKI_LAB_CACHE"
python -m pytest -q --nbval --nbval-sanitize-with notebooks/sanitize.cfg tests notebooks "$@"
