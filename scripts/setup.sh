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
# The project's Jupyter server turns each widget view without saved state into a line of
# text as a notebook is saved (bki_lab.viz.saving): JupyterLab saves no widget state by
# default, and such a view would say "Error displaying widget: model not found" on
# reopening. The controls' results are ordinary outputs and are saved as they are.
old=.venv/share/jupyter/lab/settings/overrides.json           # an older setup's, if unedited
if [ "$(cat "$old" 2>/dev/null)" = '{"@jupyter-widgets/jupyterlab-manager:plugin": {"saveState": true}}' ]; then
  rm "$old"
fi
python -m bki_lab.viz.saving install .venv/etc/jupyter/jupyter_server_config.json
