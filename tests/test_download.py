import hashlib
import io

import pytest

from bki_lab.download import DownloadError, Remote, fetch


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
