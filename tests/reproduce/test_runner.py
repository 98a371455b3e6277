"""The runners: progress lines, and the Dask path on a LocalCluster (threads in this
process, as CI runs it): resume, a failed row, workers that cannot see the data, Ctrl-C."""
import json

import pytest

from bki_lab.data.datasets import DataError
from bki_lab.reproduce.run import reproduce
from bki_lab.utils.progress import Progress
from helpers import slow_run, stand_in_run

DASK = dict(processes=False, n_workers=2)


def test_progress_says_done_left_and_time_left():
    lines = []
    bar = Progress(3, lines.append)
    bar.finished("a", 0, {"status": "ok"})
    bar.finished("b", 1, {"status": "failed", "error": "RuntimeError: boom"})
    bar.finished("c", 0, {"status": "ok"})
    assert lines[0].startswith("  a seed 0: ok [1/3 done, 2 left, ") and "min left]" in lines[0]
    assert "failed (RuntimeError: boom) [2/3 done, 1 left" in lines[1]
    assert lines[2].endswith("[3/3 done, 0 left]")


@pytest.fixture
def data(tmp_path, monkeypatch):
    d = tmp_path / "data"
    d.mkdir()
    (d / "README.md").write_text("data")
    monkeypatch.setenv("BKI_LAB_DATA", str(d))
    return d


def rows_of(out):
    return {p.name: json.loads(p.read_text()) for p in (out / "rows").glob("*.json")}


def test_dask_runs_every_row_records_a_failure_and_resumes(data, tmp_path):
    pytest.importorskip("distributed")
    out, lines = tmp_path / "out", []
    df = reproduce("bki-table3", out=out, scheduler="local", run=stand_in_run,
                   log=lines.append, **DASK)
    assert len(df) == 14 and sorted(set(df["status"])) == ["failed", "ok"]
    recs = rows_of(out)
    assert len(recs) == 14
    assert "boom" in recs["bki-table3--quick--imdb-crown--seed0.json"]["error"]
    assert any(l.startswith("Dask: 2 workers") for l in lines)
    assert any("[14/14 done, 0 left]" in l for l in lines)
    lines.clear()                         # again: only the failed row runs
    reproduce("bki-table3", out=out, scheduler="local", run=stand_in_run, log=lines.append,
              **DASK)
    assert "13 rows done, 1 to run" in lines[0]
    assert any("imdb-crown seed 0: failed" in l for l in lines)


def test_dask_workers_that_cannot_see_the_data_are_named(tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setenv("BKI_LAB_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="cannot see the data.*nowhere.*BKI_LAB_DATA"):
        reproduce("bki-table3", out=tmp_path / "out", scheduler="local", run=stand_in_run,
                  log=lambda s: None, **DASK)
    assert not (tmp_path / "out" / "rows").exists() or not rows_of(tmp_path / "out")


def test_ctrl_c_cancels_the_dask_rows_not_finished_and_a_rerun_resumes(data, tmp_path):
    pytest.importorskip("distributed")
    out = tmp_path / "out"

    def log(line):
        if "[1/14 done" in line:          # Ctrl-C as the first row finishes
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        reproduce("bki-table3", out=out, scheduler="local", run=slow_run, log=log, **DASK)
    done = len(rows_of(out))
    assert done == 1                      # written as it finished; the rest cancelled
    lines = []
    reproduce("bki-table3", out=out, scheduler="local", run=stand_in_run, log=lines.append,
              **DASK)
    assert "1 rows done, 13 to run" in lines[0]
