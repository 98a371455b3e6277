import hashlib
import io

import pytest

from bki_lab.download import DownloadError, Remote, fetch


class FakeResponse(io.BytesIO):
    def __init__(self, data):
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}


def opener_for(data):
    return lambda url: FakeResponse(data)


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
    def offline(url):
        raise OSError("Network is unreachable")
    with pytest.raises(DownloadError, match="BKI_LAB_DATA"):
        fetch(Remote("http://e/f", "f.bin"), tmp_path, opener=offline, show_progress=False)
    assert list(tmp_path.iterdir()) == []
