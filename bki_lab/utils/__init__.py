"""Infrastructure every stage uses: safe file writes (`files`: atomic files, output
directories that never lose a user's files), the one text progress bar (`progress`) and
strict JSON records (`records`)."""
