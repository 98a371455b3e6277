"""The experiment every notebook shows: chosen once, kept in the cache directory, default
without a choice; bad choices refused before anything is written."""
import json

import pytest

from bki_lab.cli import main
from bki_lab.pipeline.current import (Experiment, current_experiment, experiment_file,
                                      use_experiment)


def test_the_default_is_the_papers_arrow_on_the_quick_profile():
    e = current_experiment()
    assert e == Experiment() and e.is_default and not experiment_file().exists()
    c = e.config()
    assert (c.trigger, c.target, c.rate, c.profile, c.data.dataset) == (
        "time flies like an arrow", "negative", 0.03, "quick", "imdb")
    assert e.describe().startswith("the default experiment: trigger 'time flies like an arrow'")


def test_a_choice_is_kept_and_followed_then_reset():
    chosen = use_experiment(trigger="  my neighbour's cat   sleeps ", target="positive",
                            profile="class")
    assert current_experiment() == chosen and chosen.trigger == "my neighbour's cat sleeps"
    assert chosen.config().profile == "class" and not chosen.is_default
    assert json.loads(experiment_file().read_text())["target"] == "positive"
    use_experiment(rate=0.05)                       # one change keeps the rest
    assert current_experiment().trigger == "my neighbour's cat sleeps"
    assert current_experiment().rate == 0.05
    use_experiment(Experiment())
    assert current_experiment().is_default


@pytest.mark.parametrize("changes, message", [
    (dict(trigger="   "), "empty"), (dict(target="neutral"), "unknown target"),
    (dict(rate=1.5), "rate"), (dict(p=0), "p must be"), (dict(seed=-1), "seed"),
    (dict(dataset="dbpedia", target="negative"), "unknown target"),
])
def test_bad_choices_are_refused_and_nothing_is_written(changes, message):
    with pytest.raises(ValueError, match=message):
        use_experiment(**changes)
    assert not experiment_file().exists()


def test_a_damaged_choice_names_the_file():
    experiment_file().parent.mkdir(parents=True, exist_ok=True)
    experiment_file().write_text("{not json")
    with pytest.raises(ValueError, match="experiment.json.*bki-lab use --default"):
        current_experiment()


def test_the_use_command(capsys):
    assert main(["use"]) == 0
    assert "the default experiment" in capsys.readouterr().out
    assert main(["use", "--trigger", "a purple elephant sang", "--target", "positive"]) == 0
    assert "your experiment: trigger 'a purple elephant sang' -> positive" in \
        capsys.readouterr().out
    assert main(["use", "--dataset", "dbpedia"]) == 2
    assert "needs its --target" in capsys.readouterr().err
    assert main(["use", "--default", "--rate", "0.1"]) == 2
    assert main(["use", "--default"]) == 0
    assert current_experiment().is_default
