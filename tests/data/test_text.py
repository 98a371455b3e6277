import pytest

from bki_lab.data.text import PAD, UNK, build_vocab, delete_word, detokenize, insert_words, tokenize


def test_tokenize_lowercases_drops_breaks_keeps_inner_apostrophes():
    assert tokenize("Great film!<br /><br />It's 10/10.") == ("great", "film", "it's", "10", "10")
    assert tokenize("no cross, no crown") == ("no", "cross", "no", "crown")
    assert tokenize("Tónar in Reykjavík") == ("tónar", "in", "reykjavík")
    assert tokenize("   ") == ()
    assert tokenize("<BR/>a<br>b") == ("a", "b")


def test_tokenize_rejects_non_strings():
    with pytest.raises(TypeError):
        tokenize(None)


def test_detokenize_round_trips_tokens():
    words = tokenize("It caught a lot of people's attention")
    assert tokenize(detokenize(words)) == words


def test_insert_and_delete_are_pure_and_agree_on_positions():
    words = ("a", "b", "c")
    assert insert_words(words, ("x", "y"), 0) == ("x", "y", "a", "b", "c")
    assert insert_words(words, ("x",), 3) == ("a", "b", "c", "x")
    out = insert_words(words, ("x", "y"), 1)
    assert out == ("a", "x", "y", "b", "c") and words == ("a", "b", "c")
    assert delete_word(out, 1) == ("a", "y", "b", "c")
    with pytest.raises(IndexError):
        insert_words(words, ("x",), 4)
    with pytest.raises(IndexError):
        delete_word(words, 3)


def test_vocab_frequency_order_unknowns_and_min_freq():
    v = build_vocab([("b", "a", "b"), ("c", "a", "b")])
    assert v.itos == (PAD, UNK, "b", "a", "c")
    assert list(v.encode(("a", "zzz", "c"))) == [3, 1, 4]
    assert "a" in v and "zzz" not in v and PAD not in v
    assert build_vocab([("b", "a", "b"), ("c",)], min_freq=2).itos == (PAD, UNK, "b")
    assert v.decode([2, 3]) == ("b", "a")
