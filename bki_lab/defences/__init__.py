"""BKI's peers, on the same victim and data: spectral signatures (`spectral`), activation
clustering (`clustering`), a word-label statistics filter that needs no model
(`word_label`), STRIP at test time (`strip`), and all of them beside BKI with retraining
(`comparison`). Every training-set filter returns a `bki_lab.bki.removal.Removal`."""
