"""Stage 1, data: the one tokenizer and vocabulary (`text`), the one dataset type
(`datasets`), the loaders of IMDB (`imdb`), DBpedia (`dbpedia`) and any labelled CSV
(`csvfile`), GloVe word vectors (`glove`) and checked downloads of the official files
(`download`)."""
