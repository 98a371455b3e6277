#!/usr/bin/env bash
# Execute the notebooks in order, in place (outputs are committed for nbval), and render
# each to HTML under $HTML_DIR (default /tmp/bki_lab_html) for a person to look at.
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
HTML_DIR="${HTML_DIR:-/tmp/bki_lab_html}"
mkdir -p "$HTML_DIR"
for nb in notebooks/0*.ipynb; do
  start=$(date +%s)
  jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=1800 "$nb"
  echo "$nb: $(( $(date +%s) - start )) s"
  jupyter nbconvert --to html --output-dir "$HTML_DIR" "$nb" >/dev/null 2>&1
done
