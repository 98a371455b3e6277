#!/usr/bin/env bash
# Create .venv (once) and install bki_lab with its notebook and test extras.
# torch is pinned to 2.13.0: on the project's CPU machines that is the local CPU build;
# an unpinned torch would pull several GB of CUDA packages.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q "torch==2.13.0"
python -m pip install -q -e ".[notebooks,test,cluster]"
python -m ipykernel install --sys-prefix --name python3 >/dev/null
# JupyterLab saves the widgets' state with the notebook, so that a saved notebook reopens
# showing what a student made with them (JupyterLab's default saves none: every widget
# would say "Error displaying widget: model not found")
mkdir -p .venv/share/jupyter/lab/settings
cat > .venv/share/jupyter/lab/settings/overrides.json <<'JSON'
{"@jupyter-widgets/jupyterlab-manager:plugin": {"saveState": true}}
JSON
