"""Every figure and page, for people: BKI's heatmaps, dictionary and before/after (`bki`),
training and learning curves (`training`), dai2019's attack figures (`attack`), the
defences' figures (`defences`), a verdict's evidence (`evidence`), offline HTML pages
(`html`), the notebooks' ipywidgets controls (`widgets`, imported on its own) and the
notebooks as files (`notebooks`). Every figure function takes result objects and returns a
plotly figure; none shows it."""
from bki_lab.viz.attack import asr_vs_rate, attack_vs_paper
from bki_lab.viz.bki import (
                             before_after,
                             dictionary_scatter,
                             impact_pair,
                             label_offsets,
                             top_g_bar,
                             word_impact,
)
from bki_lab.viz.defences import defences_figure, hidden_projection, score_histogram
from bki_lab.viz.evidence import flagged_html, flip_test, verdict_summary
from bki_lab.viz.html import write_figure_html
from bki_lab.viz.training import learning_curves, training_history

__all__ = ["asr_vs_rate", "attack_vs_paper", "before_after", "defences_figure",
           "dictionary_scatter", "flagged_html", "flip_test", "hidden_projection",
           "impact_pair", "label_offsets", "learning_curves", "score_histogram", "top_g_bar",
           "training_history", "verdict_summary", "word_impact", "write_figure_html"]
