"""The notebooks are jupytext pairs: the .py (percent format) is the reviewed source, the
.ipynb keeps the outputs nbval checks; the two must hold the same cells."""
import shutil
from pathlib import Path

import pytest

from bki_lab.viz.notebooks import main as nb_main
from bki_lab.viz.notebooks import pair_differences

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("0*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_notebook_is_in_sync_with_its_py(notebook):
    assert pair_differences(notebook) == []


def test_every_notebook_defines_nothing_reusable():
    """Notebooks narrate and call the library: no function or class is defined in one."""
    import jupytext
    for nb in NOTEBOOKS:
        for cell in jupytext.read(nb.with_suffix(".py")).cells:
            if cell.cell_type == "code":
                assert not any(line.startswith(("def ", "class "))
                               for line in cell.source.splitlines()), nb.name


def test_an_edited_pair_is_caught(tmp_path, capsys):
    nb = tmp_path / NOTEBOOKS[1].name
    shutil.copy(NOTEBOOKS[1], nb)
    shutil.copy(NOTEBOOKS[1].with_suffix(".py"), nb.with_suffix(".py"))
    assert nb_main(["check", str(nb)]) == 0
    py = nb.with_suffix(".py")
    py.write_text(py.read_text().replace("split = load_split(config.data)",
                                         "split = load_split(config.data)  # edited"))
    assert nb_main(["check", str(nb)]) == 1
    err = capsys.readouterr().err
    assert "the source differs" in err and "jupytext --sync" in err
    py.unlink()
    assert "is missing" in pair_differences(nb)[0]


def test_formulas_are_written_without_tex():
    """Exported HTML renders TeX only with MathJax from the web: offline a student sees raw
    `$$...$$`. Formulas are Unicode and <sub>, which every renderer shows."""
    import json
    import re
    for nb in NOTEBOOKS:
        for cell in json.loads(nb.read_text())["cells"]:
            if cell["cell_type"] == "markdown":
                src = "".join(cell["source"])
                assert not re.search(r"\$[^$\s][^$]*\$|\\(frac|lVert|overline)", src), \
                    f"{nb.name}: TeX in a markdown cell: {src[:80]!r}"
