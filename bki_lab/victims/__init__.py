"""Stage 3, the victims: the papers' word-level BiLSTM (or a BiGRU, `lstm`), a CNN with its
own exact scorer (`cnn`), training and evaluation (`train`: `TrainConfig`, `train_victim`,
accuracy and attack success rate) and where they run (`device`)."""
