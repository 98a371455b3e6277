"""nbval settings: which outputs of the notebooks are compared.

Compared: the plain-text outputs of cells not marked ``# NBVAL_IGNORE_OUTPUT`` (rounded
numbers, keywords, tables). Not compared: figures, widgets, HTML renderings (their plain
text twins are still compared) and stderr (progress bars).
"""


def pytest_collectstart(collector):
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += (
            "text/html",
            "application/javascript",
            "application/vnd.plotly.v1+json",
            "application/vnd.jupyter.widget-view+json",
            "image/png",
            "stderr",
        )
