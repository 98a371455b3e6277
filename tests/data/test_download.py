import hashlib
import io
from pathlib import Path

import pytest

from bki_lab.data.download import DownloadError, Remote, fetch


class FakeResponse(io.BytesIO):
    def __init__(self, data, kind="application/octet-stream"):
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data)), "Content-Type": kind}


def opener_for(data, kind="application/octet-stream"):
    return lambda url, timeout=None: FakeResponse(data, kind)


def test_good_download_is_checked_and_written(tmp_path):
    data = b"x" * 100_000
    r = Remote("http://example/f", "f.bin", len(data), hashlib.sha256(data).hexdigest())
    path = fetch(r, tmp_path, opener=opener_for(data), show_progress=False)
    assert path.read_bytes() == data
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


@pytest.mark.parametrize("remote, msg", [
    (Remote("http://e/f", "f.bin", 5, None), "expected 5"),
    (Remote("http://e/f", "f.bin", None, "0" * 64), "sha256"),
])
def test_bad_download_leaves_no_file(tmp_path, remote, msg):
    with pytest.raises(DownloadError, match=msg):
        fetch(remote, tmp_path, opener=opener_for(b"abcdefgh"), show_progress=False)
    assert list(tmp_path.iterdir()) == []


def test_no_network_message(tmp_path):
    def offline(url, timeout=None):
        raise OSError("Network is unreachable")
    with pytest.raises(DownloadError, match="BKI_LAB_DATA"):
        fetch(Remote("http://e/f", "f.bin"), tmp_path, opener=offline, show_progress=False)
    assert list(tmp_path.iterdir()) == []


def test_md5_is_checked_where_only_md5_is_published(tmp_path):
    with pytest.raises(DownloadError, match="md5"):
        fetch(Remote("http://e/f", "f.bin", md5="0" * 32), tmp_path,
              opener=opener_for(b"abc"), show_progress=False)
    assert list(tmp_path.iterdir()) == []


def test_an_html_error_page_is_refused_and_a_bad_file_refetched(tmp_path):
    data = b"real archive bytes"
    r = Remote("http://e/f", "f.tar.gz", md5=hashlib.md5(data).hexdigest())
    with pytest.raises(DownloadError, match="web page"):
        fetch(r, tmp_path, opener=opener_for(b"<html>quota exceeded</html>", "text/html"),
              show_progress=False)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "f.tar.gz").write_bytes(b"<html>saved by an old version</html>")
    path = fetch(r, tmp_path, opener=opener_for(data), show_progress=False)
    assert path.read_bytes() == data


def test_a_silent_server_times_out(tmp_path):
    import socket
    import threading
    import urllib.request
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    conns = []
    t = threading.Thread(target=lambda: conns.append(srv.accept()), daemon=True)
    t.start()                                   # accepts, then never answers
    try:
        with pytest.raises(DownloadError):
            fetch(Remote(f"http://127.0.0.1:{port}/f", "f.bin"), tmp_path,
                  opener=urllib.request.urlopen, timeout=0.5, show_progress=False)
    finally:
        srv.close()
    assert list(tmp_path.iterdir()) == []


def test_an_unofficial_file_is_kept_when_offline(tmp_path):
    """A user's own copy that fails the check stays where it was when nothing can replace it."""
    mine = tmp_path / "f.tar.gz"
    mine.write_bytes(b"my own readable copy")

    def offline(url, timeout=None):
        raise OSError("Network is unreachable")
    r = Remote("http://e/f", "f.tar.gz", md5=hashlib.md5(b"official").hexdigest())
    with pytest.raises(DownloadError, match="was left as it was"):
        fetch(r, tmp_path, opener=offline, show_progress=False)
    assert mine.read_bytes() == b"my own readable copy"
    assert [p.name for p in tmp_path.iterdir()] == ["f.tar.gz"]


def test_an_unofficial_file_is_set_aside_not_deleted(tmp_path, capsys):
    (tmp_path / "f.tar.gz").write_bytes(b"my own readable copy")
    r = Remote("http://e/f", "f.tar.gz", md5=hashlib.md5(b"official").hexdigest())
    path = fetch(r, tmp_path, opener=opener_for(b"official"), show_progress=False)
    assert path.read_bytes() == b"official"
    assert (tmp_path / "f.tar.gz.kept").read_bytes() == b"my own readable copy"
    assert "kept as" in capsys.readouterr().err


def test_extracting_never_loses_a_different_file(tmp_path, capsys):
    import tarfile
    from bki_lab.data.download import _extract_tar
    member = tmp_path / "src.txt"
    member.write_text("official")
    with tarfile.open(tmp_path / "a.tar.gz", "w:gz") as tar:
        tar.add(member, arcname="d/x.txt")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.txt").write_text("edited by hand")
    _extract_tar(tmp_path / "a.tar.gz", tmp_path, ("d/x.txt",))
    assert (tmp_path / "d" / "x.txt").read_text() == "official"
    assert (tmp_path / "d" / "x.txt.kept").read_text() == "edited by hand"


def test_a_read_only_destination_is_one_clear_error(tmp_path, monkeypatch):
    import os
    ro = tmp_path / "ro"
    ro.mkdir()
    real = os.access
    # tests run as root, who may write anywhere: the filesystem's answer is simulated
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == ro else real(p, mode))
    with pytest.raises(DownloadError, match="not writable"):
        fetch(Remote("http://e/f", "f.bin"), ro, opener=opener_for(b"x"), show_progress=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(DownloadError, match="cannot create"):
        fetch(Remote("http://e/f", "f.bin"), tmp_path / "file" / "sub", opener=opener_for(b"x"),
              show_progress=False)
