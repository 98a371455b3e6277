#!/usr/bin/env bash
# The real-browser test alone: JupyterLab + headless Chromium run every notebook, drive the
# widgets and open the HTML reports offline. Needs Debian's chromium and chromium-driver
# (apt-get install -y chromium chromium-driver) and, to be quick, a warm BKI_LAB_CACHE.
# Screenshots of failures: $BROWSER_ARTIFACTS (default /tmp/bki_lab_browser).
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
export BROWSER_ARTIFACTS="${BROWSER_ARTIFACTS:-/tmp/bki_lab_browser}"
echo "browser test: failure screenshots and logs go to $BROWSER_ARTIFACTS"
python -m pytest -q -p no:cacheprovider browser_tests "$@"
