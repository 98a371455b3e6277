#!/usr/bin/env bash
# Set everything up, then run the whole test suite in two stages:
#   1. the notebooks under nbval with the default thread count, from an empty cache;
#   2. side by side, one core and one torch thread each (OMP_NUM_THREADS=1):
#      a. the notebooks again from another empty cache: another floating-point path, the
#         nearest check we have of "another CPU";
#      b. the unit tests, then the real-browser test (JupyterLab + Chromium) on stage 1's
#         warm cache (skipped with a message when chromium or chromedriver is missing,
#         unless REQUIRE_BROWSER=1), then the notebooks on a held-out experiment -- a
#         trigger no notebook names, chosen with `bki-lab use`, class profile -- which must
#         run without error (outputs differ: nbval-lax).
# Extra arguments go to the unit tests' pytest run. Every run prints its slowest items.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
if [ -z "${BKI_LAB_DATA:-}" ]; then
  for d in ../shared/data /work/shared/data; do
    if [ -d "$d" ]; then export BKI_LAB_DATA="$(cd "$d" && pwd)"; break; fi
  done
fi
# fresh caches, so that the notebooks are checked computing, not loading
CACHE_DEFAULT="${BKI_LAB_CACHE:-$(mktemp -d)}"
CACHE_ONE="$(mktemp -d)"
NBVAL=(--nbval --nbval-sanitize-with notebooks/sanitize.cfg -p no:cacheprovider --durations=8)
ONE=(env OMP_NUM_THREADS=1 MKL_NUM_THREADS=1)
echo "BKI_LAB_DATA=${BKI_LAB_DATA:-<unset>}  caches: $CACHE_DEFAULT (default threads), $CACHE_ONE (1 thread)"
echo "== 1/2 notebooks, default threads"
BKI_LAB_CACHE="$CACHE_DEFAULT" python -m pytest -q "${NBVAL[@]}" notebooks

echo "== 2/2 side by side, one thread each: notebooks | unit tests, then the real browser"
NBLOG="$(mktemp)"
"${ONE[@]}" BKI_LAB_CACHE="$CACHE_ONE" python -m pytest -q "${NBVAL[@]}" notebooks >"$NBLOG" 2>&1 &
NBPID=$!
trap 'kill "$NBPID" 2>/dev/null || true' EXIT
unit=0
"${ONE[@]}" python -m pytest -q -p no:cacheprovider --durations=8 tests "$@" || unit=$?
browser=0
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  "${ONE[@]}" BKI_LAB_CACHE="$CACHE_DEFAULT" bash scripts/browser_test.sh --durations=8 || browser=$?
elif [ "${REQUIRE_BROWSER:-0}" = 1 ]; then
  echo "REQUIRE_BROWSER=1 but chromium/chromedriver are missing" >&2; browser=1
else
  echo "browser test skipped: no chromium + chromedriver (apt-get install -y chromium chromium-driver)"
fi
heldout=0
CACHE_HELDOUT="$(mktemp -d)"
BKI_LAB_CACHE="$CACHE_HELDOUT" bki-lab use --trigger "my grandmother grows purple tomatoes every june" \
  --target positive --rate 0.03 --profile class
"${ONE[@]}" BKI_LAB_CACHE="$CACHE_HELDOUT" python -m pytest -q --nbval-lax -p no:cacheprovider \
  --durations=4 notebooks || heldout=$?
notebooks=0
wait "$NBPID" || notebooks=$?
trap - EXIT
echo "-- the notebooks with one thread:"
cat "$NBLOG"
if [ "$unit" != 0 ] || [ "$browser" != 0 ] || [ "$notebooks" != 0 ] || [ "$heldout" != 0 ]; then
  echo "failed: unit tests exit $unit, browser test exit $browser, notebooks (1 thread) exit" \
       "$notebooks, notebooks on a held-out experiment exit $heldout" >&2
  exit 1
fi
echo "all passed"
