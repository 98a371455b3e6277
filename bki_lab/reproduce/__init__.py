"""The papers' tables reproduced: their numbers (`papers`), the rows to run and the
records gathered (`tables`), one row of each table (`rows`), where rows run (`runner`:
serial, a process pool or Dask), the HTML reports (`report`) and `run.reproduce`, the
resumable driver behind ``bki-lab reproduce``."""
