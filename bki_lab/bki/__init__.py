"""Stage 4, the defence (chen_dai): per-word impact scores (`scoring`), the paper's
Algorithm 1 from scores to a keyword and a removal (`dictionary`), the BKI of the authors'
released code (`authors`), what a defence removes (`removal`), the inserted phrase
recovered and verified against the victim (`trigger`), and BKI with a verdict that removes
only verified findings (`verdict`)."""
