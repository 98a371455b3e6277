import numpy as np
import pandas as pd
import pytest

from bki_lab import viz
from bki_lab.viz.bki import TOP_COLOR, TRIGGER_COLOR


def ranking():
    return pd.DataFrame({"word": ["arrow", "flies", "great", "bad", "x"],
                         "num": [290, 150, 40, 30, 1], "mean": [0.9, 0.5, 0.3, 0.35, 0.99],
                         "g": [0.9 * np.log10(290), 0.5 * np.log10(150), 0.3 * np.log10(40),
                               0.35 * np.log10(30), 0.0], "rank": [1, 2, 3, 4, 5]})


def test_word_impact_colours_words_and_outlines_top_p_and_trigger():
    words = [f"w{i}" for i in range(23)]
    scores = np.linspace(0, 1, 23)[::-1]
    fig = viz.word_impact(words, scores, top_p=3, trigger_positions=[10, 11], per_row=10)
    hm = fig.data[0]
    assert np.asarray(hm.z).shape == (3, 10)
    assert hm.text[1][0] == "w10" and hm.z[0][0] == pytest.approx(1.0)
    assert np.isnan(hm.z[2][5])                                 # padding cells stay empty
    lines = [(s.x0 + 0.5, s.y0 + 0.5, s.line.color) for s in fig.layout.shapes]
    assert len(lines) == 5
    assert {(x, y) for x, y, c in lines if c == TOP_COLOR} == {(0, 0), (1, 0), (2, 0)}
    assert {(x, y) for x, y, c in lines if c == TRIGGER_COLOR} == {(0, 1), (1, 1)}
    assert "f = " in hm.hovertemplate
    with pytest.raises(ValueError):
        viz.word_impact(words, scores[:3])


def test_impact_pair_shares_one_scale():
    fig = viz.impact_pair((["a", "b", "c"], [0.1, 0.8, 0.2], [1]), (["d", "e"], [0.3, 0.05]))
    assert len(fig.data) == 2 and fig.data[0].zmax == fig.data[1].zmax == pytest.approx(0.8)
    assert fig.data[1].xaxis == "x2"
    assert any(s.xref == "x2" for s in fig.layout.shapes)


def test_dictionary_scatter_marks_trigger_and_keyword_with_g_curves():
    fig = viz.dictionary_scatter(ranking(), keyword="arrow", trigger=("time", "flies", "arrow"))
    names = [t.name for t in fig.data]
    assert "trigger word" in names and "keyword k_b = arrow" in names
    trig = next(t for t in fig.data if t.name == "trigger word")
    assert sorted(trig.customdata[:, 0]) == ["arrow", "flies"]
    curve = next(t for t in fig.data if t.name.startswith("g = "))
    g = float(curve.name[4:])
    prod = np.asarray(curve.x) * np.asarray(curve.y)          # x * y = g all along the curve
    np.testing.assert_allclose(prod, prod[0], rtol=1e-12)
    assert prod[0] == pytest.approx(g, rel=1e-2)
    assert "log10" in fig.layout.xaxis.title.text
    other = next(t for t in fig.data if t.name == "other word")
    assert "x" not in set(other.customdata[:, 0])          # num = 1 left out by default
    every = viz.dictionary_scatter(ranking(), min_num=1)
    assert "x" in set(next(t for t in every.data if t.name == "other word").customdata[:, 0])
    with pytest.raises(ValueError):
        viz.dictionary_scatter(ranking().iloc[:0])


def test_top_g_bar_orders_by_g_and_colours_trigger():
    fig = viz.top_g_bar(ranking(), k=3, trigger=("arrow",))
    bar = fig.data[0]
    assert list(bar.y) == ["great", "flies", "arrow"]           # largest at the top
    assert bar.marker.color[-1] == TRIGGER_COLOR


def test_asr_vs_rate_averages_seeds():
    df = pd.DataFrame({"trigger_length": [5, 5, 5, 10], "poison_rate": [0.01, 0.01, 0.02, 0.01],
                       "attack_success_rate": [0.5, 0.7, 0.9, 0.8]})
    fig = viz.asr_vs_rate(df)
    five = next(t for t in fig.data if t.name == "5")
    assert list(five.x) == [1.0, 2.0] and five.y[0] == pytest.approx(60.0)
    assert five.error_y.array[0] == pytest.approx(100 * np.std([0.5, 0.7], ddof=1))
    with pytest.raises(ValueError, match="missing column"):
        viz.asr_vs_rate(df.drop(columns="trigger_length"))
    both = pd.concat([df.assign(direction="to negative"), df.assign(direction="to positive")])
    fig = viz.asr_vs_rate(both, dash="direction")
    styles = {t.name: t.line.dash for t in fig.data}
    assert styles["5 / to negative"] == "solid" and styles["5 / to positive"] == "dash"
    assert styles["10 / to positive"] == "dash"


def test_before_after_bars():
    s = {"acc_before": 0.85, "asr_before": 0.99, "acc_after": 0.84, "asr_after": 0.15,
         "precision": 0.99, "recall": None, "removed_fraction": 0.03, "keyword": "arrow", "p": 5}
    fig = viz.before_after(s)
    before, after, removal = fig.data
    assert list(before.y) == [85.0, 99.0] and list(after.y) == [84.0, 15.0]
    assert removal.y[1] is None and removal.text[1] == "n/a"
    assert "arrow" in fig.layout.title.text


def test_training_history_draws_losses_and_rates():
    h = [{"epoch": 1, "train_loss": 0.7, "val_loss": 0.6, "val_accuracy": 0.6, "seconds": 1, "asr": 0.1},
         {"epoch": 2, "train_loss": 0.5, "val_loss": 0.5, "val_accuracy": 0.8, "seconds": 1, "asr": 0.9}]
    fig = viz.training_history(h, best_epoch=2)
    names = [t.name for t in fig.data]
    assert names == ["train loss", "val loss", "val accuracy", "asr"]
    assert list(fig.data[3].y) == [10.0, 90.0]


def test_dictionary_labels_of_nearby_points_do_not_overlap():
    from bki_lab.viz.bki import label_offsets
    # 'arrow' and 'flies' at almost the same place, a third word far away
    offs = label_offsets(np.array([0.80, 0.801, 0.1]), np.array([0.9, 0.899, 0.2]))
    (ax1, ay1), (ax2, ay2), (ax3, ay3) = offs
    y1, y2 = 0.9 * -400 + ay1, 0.899 * -400 + ay2
    assert abs(y1 - y2) >= 16 and (ax3, ay3) == (0, -24)


def test_learning_curves_one_column_per_row_one_colour_per_recipe():
    df = pd.DataFrame([{"row": r, "recipe": rc, "epoch": e, "accuracy": 0.8, "asr": 0.1 * e}
                       for r in ("a", "b") for rc in ("append", "replace") for e in (1, 2, 3)])
    fig = viz.learning_curves(df)
    assert len(fig.data) == 2 * 2 * 2                       # rows x recipes x (acc, asr)
    assert [a.text for a in fig.layout.annotations][:2] == ["a", "b"]
    asr = [t for t in fig.data if t.yaxis in ("y3", "y4")]
    assert list(asr[0].y) == pytest.approx([10, 20, 30])
    assert len({t.line.color for t in fig.data}) == 2
    with pytest.raises(ValueError, match="columns"):
        viz.learning_curves(df.drop(columns="asr"))
    # several seeds: one line each (not one line zig-zagging between them), one legend entry
    two = pd.concat([df.assign(seed=0), df.assign(seed=1, asr=0.5)], ignore_index=True)
    fig = viz.learning_curves(two)
    assert len(fig.data) == 2 * 2 * 2 * 2
    assert all(list(t.x) == [1, 2, 3] for t in fig.data)
    assert sorted(t.name for t in fig.data if t.showlegend) == ["append", "replace"]


def test_training_history_without_validation():
    fig = viz.training_history([{"epoch": 1, "train_loss": 0.5, "seconds": 1.0, "asr": 0.2},
                                  {"epoch": 2, "train_loss": 0.3, "seconds": 1.0, "asr": 0.9}])
    assert [t.name for t in fig.data] == ["train loss", "asr"]


def test_dictionary_scatter_draws_the_top_words_and_always_the_trigger():
    n = 50
    ranking = pd.DataFrame({"word": [f"w{i}" for i in range(n)], "num": [10] * n,
                            "mean": np.linspace(1, 0.1, n), "g": np.linspace(1, 0.1, n),
                            "rank": np.arange(1, n + 1)})
    fig = viz.dictionary_scatter(ranking, trigger=("w49",), max_words=10)
    drawn = sum(len(t.x) for t in fig.data if t.mode == "markers" and t.name != "keyword")
    assert drawn == 11                     # the top 10 and the trigger word ranked 50th


def test_attack_vs_paper_puts_ours_beside_the_paper():
    rows = [("positive", 5, 0.01, 40.0, 80.7, 86.2, 84.0), ("positive", 5, 0.02, 94.0, 95.8, 85.9, 84.2),
            ("positive", 5, 0.02, 96.0, 95.8, 86.1, 84.2),          # a second seed: averaged
            ("negative", 10, 0.01, 99.0, 96.7, 86.0, 84.1)]
    df = pd.DataFrame(rows, columns=["target", "trigger_length", "poison_rate", "asr_before",
                                     "paper_asr_before", "acc_before", "paper_acc_before"])
    fig = viz.attack_vs_paper(df, clean_acc=86.5, paper_clean_acc=84.92)
    ours = next(t for t in fig.data if t.name == "length 5" and t.xaxis == "x2")
    assert list(ours.x) == [1.0, 2.0] and list(ours.y) == [40.0, 95.0]        # to positive
    paper = next(t for t in fig.data if t.name == "length 5, paper" and t.xaxis == "x2")
    assert paper.line.dash == "dot" and list(paper.y) == [80.7, 95.8]
    acc = [t for t in fig.data if t.xaxis == "x3"]
    assert sorted(y for t in acc for y in t.y) == [86.0, 86.0, 86.2]
    lines = sorted(s.y0 for s in fig.layout.shapes)
    assert lines == [84.92, 86.5]
    # the clean baselines found in the table itself (rate 0), failed rows left out
    table = pd.concat([df.assign(status="ok"), pd.DataFrame([
        dict(target="positive", trigger_length=5, poison_rate=0.0, asr_before=None,
             paper_asr_before=None, acc_before=86.5, paper_acc_before=84.92, status="ok"),
        dict(target="positive", trigger_length=15, poison_rate=0.05, asr_before=None,
             paper_asr_before=99.3, acc_before=None, paper_acc_before=84.1, status="error")])])
    again = viz.attack_vs_paper(table)
    assert sorted(s.y0 for s in again.layout.shapes) == [84.92, 86.5]
    assert not [t for t in again.data if t.name and "length 15" in t.name]
    with pytest.raises(ValueError, match="missing columns"):
        viz.attack_vs_paper(df.drop(columns="paper_asr_before"))
    with pytest.raises(ValueError, match="no poisoned rows"):
        viz.attack_vs_paper(df.assign(asr_before=float("nan")))
