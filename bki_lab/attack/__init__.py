"""Stage 2, the attack (dai2019): the papers' trigger presets (`presets`), and poisoning a
training set by inserting a trigger sentence into source-class texts relabelled to the
target, with the backdoor test set the attack success rate is measured on (`poison`)."""
