"""Progress: in Jupyter a plain-text bar on stdout that stays when done; elsewhere stderr."""
import io
import sys

from bki_lab.utils.progress import in_jupyter, progress


def test_in_a_jupyter_kernel_the_bar_goes_to_stdout_and_stays(monkeypatch):
    kernel_stream = type("OutStream", (io.StringIO,), {"__module__": "ipykernel.iostream"})()
    err = io.StringIO()
    monkeypatch.setattr(sys, "stdout", kernel_stream)
    monkeypatch.setattr(sys, "stderr", err)
    assert in_jupyter()
    for _ in progress(range(5), desc="scoring"):
        pass
    text = kernel_stream.getvalue()
    assert err.getvalue() == ""                                   # nothing drawn on pink
    assert "scoring: 100%" in text and "5/5" in text.rsplit("\r", 1)[-1]   # the last state


def test_elsewhere_the_bar_goes_to_stderr_and_is_cleared(monkeypatch):
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    assert not in_jupyter()
    for _ in progress(range(5), desc="scoring"):
        pass
    assert out.getvalue() == "" and "scoring" in err.getvalue()
    assert "5/5" not in err.getvalue().rsplit("\r", 1)[-1]        # cleared when done
