#!/usr/bin/env bash
# Set everything up, then run the whole test suite:
#   1. unit tests + the notebooks under nbval, default torch threads, from an empty cache;
#   2. the notebooks again with one thread (OMP_NUM_THREADS=1), from another empty cache:
#      another floating-point path, the nearest check we have of "another CPU";
#   3. the real-browser test (JupyterLab + Chromium), reusing the first cache; skipped with
#      a message when chromium/chromedriver are missing, unless REQUIRE_BROWSER=1.
# Extra arguments go to the first pytest run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
if [ -z "${BKI_LAB_DATA:-}" ]; then
  for d in ../shared/data /work/shared/data; do
    if [ -d "$d" ]; then export BKI_LAB_DATA="$(cd "$d" && pwd)"; break; fi
  done
fi
# fresh caches per run, so that the notebooks are checked computing, not loading
CACHE1="${BKI_LAB_CACHE:-$(mktemp -d)}"
CACHE2="$(mktemp -d)"
NBVAL=(--nbval --nbval-sanitize-with notebooks/sanitize.cfg -p no:cacheprovider)
echo "BKI_LAB_DATA=${BKI_LAB_DATA:-<unset>}  caches: $CACHE1 (default threads), $CACHE2 (1 thread)"
echo "== 1/3 unit tests and notebooks, default threads"
BKI_LAB_CACHE="$CACHE1" python -m pytest -q "${NBVAL[@]}" tests notebooks "$@"
echo "== 2/3 notebooks with one thread"
OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 BKI_LAB_CACHE="$CACHE2" python -m pytest -q "${NBVAL[@]}" notebooks
echo "== 3/3 real browser"
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  BKI_LAB_CACHE="$CACHE1" bash scripts/browser_test.sh
elif [ "${REQUIRE_BROWSER:-0}" = 1 ]; then
  echo "REQUIRE_BROWSER=1 but chromium/chromedriver are missing" >&2; exit 1
else
  echo "skipped: no chromium + chromedriver (apt-get install -y chromium chromium-driver)"
fi
