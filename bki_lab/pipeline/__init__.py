"""The stages wired into experiments: one frozen config (`config`), the cache of victims
and scores (`cache`), the attack from config to a trained victim (`attack`: `run_attack`),
BKI with removal and retraining (`defence`: `run_defence`), and learning curves per epoch
(`curves`)."""
