import math

import numpy as np
import pytest

import kzoo
from kzoo import configs, data
from kzoo.data import bucketing
from kzoo.errors import ConfigError
from tests.helpers import data_block, vowel_folders, write_wav


@pytest.fixture(scope="module")
def uneven(tmp_path_factory):
    """Clips of 0.05-0.5 s: two classes, 40 clips each, lengths spread evenly."""
    root = tmp_path_factory.mktemp("uneven")
    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        for i in range(40):
            n = 400 + 90 * ((i * 7) % 40)
            wave = 0.3 * np.sin(np.arange(n) * (0.2 if label == "a" else 0.5))
            write_wav(root / label / f"{label}_{i}.wav", wave * rng.uniform(0.5, 1.0))
    return root


def _frames(batch: np.ndarray) -> np.ndarray:
    """Real frames of each example: up to its last frame holding a non-zero value."""
    active = np.any(batch != 0, axis=-1)
    return np.where(active.any(axis=1), active.shape[1] - np.argmax(active[:, ::-1], axis=1), 0)


def _epoch(split):
    return [x.numpy() for x, _ in split]


def test_batches_hold_clips_of_one_length_padded_exactly_to_the_longest(uneven):
    dataset = data.load(data_block(uneven), batch_size=8, variable_length=True)
    assert dataset.input_shape == (None, 16) and dataset.bucketing == bucketing.DEFAULTS
    n = dataset.sizes["train"]
    epochs = {}
    for split in ("train", "validation", "test"):
        batches = epochs[split] = _epoch(getattr(dataset, split))
        assert len(batches) == math.ceil(dataset.sizes[split] / 8)
        assert int(getattr(dataset, split).cardinality()) == len(batches)
        assert len({b.shape[1] for b in batches}) > 1  # lengths differ between batches
        for batch in batches:
            frames = _frames(batch)
            assert frames.max() == batch.shape[1]  # padded to exactly its longest clip
    first, second = epochs["train"], _epoch(dataset.train)
    assert sum(len(b) for b in first) == n
    assert [b.shape for b in first] != [b.shape for b in second]  # a new order every epoch
    again = data.load(data_block(uneven), batch_size=8, variable_length=True)
    for a, b in zip(first, _epoch(again.train)):  # and the same order for the same seed
        np.testing.assert_array_equal(a, b)


def test_bucketing_wastes_little_on_padding(uneven):
    def padded_share(dataset):
        batches = _epoch(dataset.train)
        real = sum(_frames(b).sum() for b in batches)
        return 1 - real / sum(b.shape[0] * b.shape[1] for b in batches)

    bucketed = data.load(data_block(uneven), batch_size=8, variable_length=True)
    off = data.load(data_block(uneven, bucketing=False), batch_size=8, variable_length=True)
    assert off.input_shape[0] is not None
    assert padded_share(bucketed) < 0.15 < 0.3 < padded_share(off)


def test_the_same_examples_are_served_bucketed_or_not(uneven):
    bucketed = data.load(data_block(uneven), batch_size=8, variable_length=True)
    fixed = data.load(data_block(uneven), batch_size=8)
    assert fixed.input_shape[0] is not None and fixed.bucketing is None
    rows = [row[: _frames(row[None])[0]] for b in _epoch(bucketed.validation) for row in b]
    ref = [row[: _frames(row[None])[0]] for b in _epoch(fixed.validation) for row in b]
    key = lambda row: (len(row), float(row.sum()))  # noqa: E731
    for a, b in zip(sorted(rows, key=key), sorted(ref, key=key)):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_boundaries_fix_the_padded_lengths(uneven):
    block = data_block(uneven, bucketing={"boundaries": [16, 32, 64]})
    dataset = data.load(block, batch_size=8, variable_length=True)
    shapes = {b.shape[1] for split in ("train", "test") for b in _epoch(getattr(dataset, split))}
    assert shapes <= {16, 32, 64} and len(shapes) > 1


def test_augmented_batches_are_bucketed_too(uneven):
    augment = {"time_stretch": 0.2, "spec_augment": {}, "time_shift": 0.1}
    dataset = data.load(data_block(uneven, augment=augment), batch_size=8, variable_length=True)
    batches = _epoch(dataset.train)
    assert sum(len(b) for b in batches) == dataset.sizes["train"]
    for batch in batches:
        assert _frames(batch).max() == batch.shape[1]


def test_variable_length_is_read_from_the_model():
    assert bucketing.variable_length({"model": "cnn_mlp_rnn", "args": {"input_shape": [31, 40]}})
    assert not bucketing.variable_length({"model": "mlp", "args": {}})
    assert bucketing.variable_length({"model": "mlp", "args": {"input_shape": [None, 40]}})
    run = {"model": "cnn_mlp_rnn", "args": {"input_shape": [101, 40]}}
    assert not bucketing.variable_length(run, trained=True)  # trained on one length


@pytest.mark.parametrize(
    "value, match",
    [
        ("yes", "must be true"),
        ({"windw": 4}, "Did you mean 'window'"),
        ({"window": 0}, "positive integer"),
        ({"boundaries": [64, 32]}, "ascending positive integers"),
        ({"boundaries": []}, "ascending positive integers"),
    ],
)
def test_bad_bucketing_settings(tmp_path, value, match):
    root = vowel_folders(tmp_path / "d")
    with pytest.raises(ConfigError, match=match):
        data.load(data_block(root, bucketing=value), batch_size=4, variable_length=True)


def test_boundaries_that_cannot_hold_the_longest_clip(uneven):
    with pytest.raises(ConfigError, match=r"cannot hold the longest example, [ab]/[ab]_\d+\.wav"):
        data.load(
            data_block(uneven, bucketing={"boundaries": [8]}), batch_size=8, variable_length=True
        )


VARIABLE = [
    name
    for name in kzoo.models.list()
    if data.variable_length({"model": name, "args": {}})
    and not kzoo.registry.builder_arguments(name).get("vocab_size")
]


def test_some_models_take_variable_lengths():
    assert {"cnn_mlp_rnn", "gru", "transformer"} <= set(VARIABLE)


@pytest.fixture(scope="module")
def bucketed(uneven):
    return data.load(data_block(uneven), batch_size=8, variable_length=True)


@pytest.mark.parametrize("name", VARIABLE)
def test_every_variable_length_model_trains_and_evaluates_on_bucketed_batches(name, bucketed):
    accepted = kzoo.registry.builder_arguments(name)
    arguments = {k: v for k, v in bucketed.builder_arguments().items() if k in accepted}
    model = kzoo.models.get(name, **arguments)
    history = model.fit(bucketed.train, epochs=1, steps_per_epoch=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    metrics = model.evaluate(bucketed.validation, return_dict=True, verbose=0)
    assert np.isfinite(metrics["loss"])


def test_a_run_of_a_variable_length_model_trains_and_evaluates_bucketed(uneven, tmp_path):
    from kzoo import training
    from tests.helpers import tiny_config

    config = configs.load(tiny_config(tmp_path / "gru.yaml", model="gru"))
    config["args"].update(units=8, num_layers=1)
    results = training.train(config, source=str(uneven), output=tmp_path / "run", verbose=0)
    saved = configs.load(tmp_path / "run" / "config.yaml")
    assert saved["args"]["input_shape"] == [None, 16] and saved["data"]["bucketing"] is True
    assert np.isfinite(results["test"]["loss"])
    metrics = training.evaluate(tmp_path / "run", split="all")
    assert np.isfinite(metrics["loss"])


@pytest.mark.parametrize(
    "setting, match",
    [
        ("data.bucketing={boundaries: [4]}", "cannot hold the longest example"),
        ("data.bucketing=sometimes", "`data.bucketing` must be true"),
        ("data.cache=/dev/null/cache", "`data.cache` directory /dev/null/cache is not writable"),
    ],
)
def test_the_cli_refuses_bad_pipeline_settings_in_one_line(
    capsys, uneven, tmp_path, setting, match
):
    from kzoo import cli
    from tests.helpers import tiny_config

    config = tiny_config(tmp_path / "gru.yaml", model="gru")
    run = tmp_path / "run"
    argv = ["train", config, "--data", uneven, "--output", run, "--quiet", "--set", setting]
    assert cli.main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kzoo: error: ") and err.count("\n") == 1 and match in err, err
    assert not run.exists()


def test_a_fixed_length_model_is_evaluated_at_its_own_length(uneven, tmp_path):
    from kzoo import training
    from tests.helpers import tiny_config

    short = tmp_path / "short"
    for path in sorted(uneven.rglob("*.wav")):
        if int(path.stem.split("_")[1]) % 7 == 0:  # the shortest clips of each class
            (short / path.parent.name).mkdir(parents=True, exist_ok=True)
            (short / path.parent.name / path.name).symlink_to(path)
    config = configs.load(tiny_config(tmp_path / "mlp.yaml"))
    training.train(config, source=str(short), output=tmp_path / "run", verbose=0)
    frames = configs.load(tmp_path / "run" / "config.yaml")["args"]["input_shape"][0]
    longest = data.load(data_block(uneven, bucketing=False), batch_size=8).input_shape[0]
    assert frames < longest  # the new data is longer than the model's input: cut to it
    metrics = training.evaluate(tmp_path / "run", source=str(uneven), split="all")
    assert np.isfinite(metrics["loss"])
