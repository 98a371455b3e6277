#!/usr/bin/env bash
# Execute the notebooks in order, in place (outputs are committed for nbval), drop what cannot
# be shown without their kernel (widget views and state), and export each to HTML with its
# plotly figures working offline, under $HTML_DIR (default /tmp/bki_lab_html).
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
HTML_DIR="${HTML_DIR:-/tmp/bki_lab_html}"
mkdir -p "$HTML_DIR"
for nb in notebooks/0*.ipynb; do
  start=$(date +%s)
  jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=1800 "$nb"
  python -m bki_lab.viz.notebooks clean "$nb"
  echo "$nb: $(( $(date +%s) - start )) s"
  python -m bki_lab.viz.notebooks export "$nb" "$HTML_DIR/$(basename "${nb%.ipynb}").html"
done
