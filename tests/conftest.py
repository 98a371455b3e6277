"""Fixtures for the unit tests (helpers live in helpers.py: two conftest modules, this one and
notebooks/conftest.py, cannot both be imported by name)."""
import pytest

from helpers import write_imdb_tar


@pytest.fixture
def imdb_dir(tmp_path, monkeypatch):
    write_imdb_tar(tmp_path / "aclImdb_v1.tar.gz")
    monkeypatch.setenv("BKI_LAB_DATA", str(tmp_path))
    return tmp_path


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BKI_LAB_CACHE", str(tmp_path / "cache"))
