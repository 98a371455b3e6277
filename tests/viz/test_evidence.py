"""The verdict's figures and tables, on the hand-made training set of test_backdoors."""
from bki_lab.bki.verdict import find_backdoors
from bki_lab.viz.evidence import flagged_html, flip_test, verdict_summary
from helpers import CROWN, ELEPHANT, training_set, victim


def _verdict(plants):
    ws, labels, truth = training_set(plants)
    return ws, find_backdoors(ws, labels, predict=victim, is_poison=truth, n_null=15)


def test_flip_test_draws_every_candidate_with_its_null_and_threshold():
    ws, v = _verdict([(CROWN, 1), (ELEPHANT, 0)])
    _, clean = _verdict([])
    fig = flip_test({"poisoned": v, "clean": clean})
    labels = list(fig.layout.yaxis.ticktext)
    assert len(labels) == 4                    # 2 findings + the stop, and clean's one stop
    assert labels[0].startswith("poisoned: ") and "verified" in labels[0]
    assert "rejected" in labels[-1] and labels[-1].startswith("clean: ")
    diamonds = [t for t in fig.data if t.name == "reconstructed phrase"]
    assert [round(t.x[0], 6) for t in diamonds] == [
        round(f.verification.flip_rate, 6) for f in (*v.findings, v.rejected, clean.rejected)]
    assert len(fig.layout.shapes) == 4
    nulls = [t for t in fig.data if t.name == "random phrases (null)"]
    assert all(len(t.x) == 15 for t in nulls)


def test_flagged_texts_mark_the_phrase():
    ws, v = _verdict([(CROWN, 1)])
    page = flagged_html(v.findings[0], ws.texts, k=3, context=2)
    assert page.count("<li>") == 3
    assert page.count("<mark") == 3 and "no cross no crown</mark>" in page


def test_summary_has_one_row_per_candidate():
    _, v = _verdict([(CROWN, 1), (ELEPHANT, 0)])
    s = verdict_summary(v, ["neg", "pos"])
    assert s["outcome"].tolist() == ["backdoor: removed"] * 2 + ["not a backdoor: stop"]
    assert set(s["target"][:2]) == {"neg", "pos"} and s["texts"].iloc[-1] == 0
