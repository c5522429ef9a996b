import numpy as np
import pytest
import tensorflow as tf

from kzoo import configs
from kzoo.data import augment, features
from kzoo.data.examples import Examples
from kzoo.data.pipeline import prepare
from kzoo.errors import ConfigError

SPEC = {"time_masks": 2, "time_width": 8, "freq_masks": 2, "freq_width": 6}


def _features(frames=60, bins=20, length=50):
    x = np.zeros((frames, bins), "float32")
    x[:length] = np.random.default_rng(0).standard_normal((length, bins)) + 5.0
    return x


def _wave(samples=800, length=600):
    x = np.zeros((samples, 1), "float32")
    x[:length, 0] = np.sin(np.arange(length) / 7.0)
    return x


def _run(x, spec, draw, kind):
    return augment.augment(x, augment.resolve(spec, kind), tf.constant(draw, tf.int64)).numpy()


def test_spec_augment_keeps_shape_and_zeroes_frames_and_bins():
    x = _features()
    y = _run(x, {"spec_augment": SPEC}, 7, "logmel")
    assert y.shape == x.shape
    zero_frames = np.flatnonzero(np.all(y[:50] == 0, axis=1))
    zero_bins = np.flatnonzero(np.all(y == 0, axis=0))
    assert 0 < len(zero_frames) <= 16 and 0 < len(zero_bins) <= 12
    kept = y != 0
    np.testing.assert_array_equal(y[kept], x[kept])  # masking only, nothing else changes
    assert np.all(y[50:] == 0)  # padding stays padding


def test_spec_augment_masks_stay_inside_the_utterance():
    x = _features(frames=100, length=20)
    for draw in range(20):
        y = _run(
            x,
            {"spec_augment": {"time_masks": 3, "time_width": 30, "freq_masks": 0}},
            draw,
            "logmel",
        )
        assert np.all(y[20:] == 0) and y.shape == x.shape


def test_zero_masks_change_nothing():
    x = _features()
    spec = {"spec_augment": {"time_masks": 0, "freq_masks": 3, "freq_width": 0}}
    np.testing.assert_array_equal(_run(x, spec, 1, "mfcc"), x)


def test_time_shift_moves_the_example_and_zero_fills():
    x = _features(frames=60, length=50)
    shifts = set()
    for draw in range(10):
        y = _run(x, {"time_shift": 0.2}, draw, "logmel")
        assert y.shape == x.shape
        offsets = [
            s
            for s in range(-10, 11)
            if np.array_equal(
                np.roll(x, s, axis=0)[max(s, 0) : 50 + min(s, 0)], y[max(s, 0) : 50 + min(s, 0)]
            )
        ]
        assert len(offsets) == 1
        shifts.add(offsets[0])
    assert len(shifts) > 1


def test_freq_warp_stretches_the_bins():
    x = _features(frames=30, bins=16, length=20)
    assert np.array_equal(_run(x, {"freq_warp": 0.0}, 1, "logmel"), x)
    warped = [_run(x, {"freq_warp": 0.2}, draw, "logmel") for draw in range(4)]
    for y in warped:
        assert y.shape == x.shape and np.all(y[20:] == 0)
        np.testing.assert_allclose(y[:, 0], x[:, 0], rtol=1e-6)  # bin 0 reads bin 0
        low, high = np.minimum(x[:20].min(), 0), x[:20].max()
        assert np.all((y[:20] >= low - 1e-5) & (y[:20] <= high + 1e-5))  # interpolation
    assert not np.allclose(warped[0], warped[1])
    ramp = np.tile(np.arange(16, dtype="float32"), (5, 1))
    y = _run(ramp, {"freq_warp": 0.5}, 2, "logmel")
    alpha = y[0, 1]  # bin k of a ramp reads value k * alpha
    assert 0.5 <= alpha <= 1.5
    np.testing.assert_allclose(y[0], np.minimum(np.arange(16) * alpha, 15), rtol=1e-5)


@pytest.mark.parametrize("kind", ["logmel", "raw"])
def test_time_stretch_resamples_the_utterance(kind):
    x = _features(frames=60, bins=3, length=40) if kind == "logmel" else _wave(800, 600)
    length = 40 if kind == "logmel" else 600
    assert np.array_equal(_run(x, {"time_stretch": 0.0}, 1, kind), x)
    ramp = np.zeros((80, 2), "float32")
    ramp[:40] = np.arange(1, 41, dtype="float32")[:, None]
    factors = set()
    for draw in range(6):
        y = _run(ramp, {"time_stretch": 0.2}, draw, "logmel")
        stretched = int((y[:, 0] != 0).sum())  # ~ 40 * factor real steps, then zeros
        assert 0.8 * 40 - 1 <= stretched <= 1.2 * 40 + 1 and np.all(y[stretched:] == 0)
        factor = 1 / (y[1, 0] - y[0, 0])  # step t reads step t / factor of the ramp
        np.testing.assert_allclose(y[:stretched, 0], 1 + np.arange(stretched) / factor, rtol=1e-5)
        factors.add(round(float(factor), 3))
        z = _run(x, {"time_stretch": 0.2}, draw, kind)
        assert z.shape == x.shape and np.all(z[int(1.2 * length) + 1 :] == 0)
    assert len(factors) > 1 and all(0.8 - 1e-3 <= f <= 1.2 + 1e-3 for f in factors)


def test_waveform_noise_and_gain():
    x = _wave()
    y = _run(x, {"noise": {"snr_db": [10, 10]}}, 3, "raw")
    assert y.shape == x.shape and np.all(y[600:] == 0)  # no noise in the padding
    snr = 10 * np.log10(np.mean(x[:600] ** 2) / np.mean((y - x)[:600] ** 2))
    assert abs(snr - 10.0) < 0.5
    loud = np.abs(x[:600, 0]) > 0.1
    ratios = []
    for draw in range(5):
        gain = _run(x, {"gain_db": 6}, draw, "raw")[:600, 0][loud] / x[:600, 0][loud]
        np.testing.assert_allclose(gain, gain[0], rtol=1e-4)  # one gain per example
        assert 10 ** (-6 / 20) - 1e-4 <= gain[0] <= 10 ** (6 / 20) + 1e-4
        ratios.append(round(float(gain[0]), 4))
    assert len(set(ratios)) > 1


def test_same_seed_same_augmentation_and_each_epoch_differs():
    x = np.stack([_features()] * 6)
    spec = augment.resolve({"spec_augment": SPEC, "time_shift": 0.1}, "logmel")

    def epochs(seed):
        tf.random.set_seed(0)
        dataset = augment.apply(tf.data.Dataset.from_tensor_slices((x, np.arange(6))), spec, seed)
        return [np.stack([a.numpy() for a, _ in dataset]) for _ in range(2)]

    first, again, other = epochs(1), epochs(1), epochs(2)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], first[1])
    assert not np.array_equal(first[0], other[0])


def _examples(n=12):
    rng = np.random.default_rng(0)
    waves = [rng.standard_normal(400 + 20 * i).astype("float32") * 0.1 for i in range(n)]
    return Examples(
        kind="audio",
        inputs=waves,
        labels=np.arange(n, dtype="int32") % 2,
        class_names=["a", "b"],
        sample_rate=8000,
    )


def test_only_the_training_split_is_augmented():
    block = configs.load("mlp")["data"]
    block.update(
        validation_split=0.25,
        test_split=0.25,
        features={"type": "raw"},
        augment={"noise": {"snr_db": [0, 5]}, "gain_db": 6},
    )
    dataset = prepare(_examples(), block, batch_size=4, seed=0)
    for split in ("validation", "test"):
        x = np.concatenate([b.numpy() for b, _ in getattr(dataset, split)])
        np.testing.assert_array_equal(x, dataset.arrays[split][0])
    train = np.concatenate([b.numpy() for b, _ in dataset.train])
    clean = dataset.arrays["train"][0]
    assert train.shape[1:] == clean.shape[1:]
    assert not any(np.allclose(row, ref) for row in train for ref in clean)


@pytest.mark.parametrize("kind", ["logmel", "mfcc"])
def test_waveform_augmentation_of_features_computes_them_on_the_fly(kind):
    block = configs.load("mlp")["data"]
    features = {"type": kind, "num_mel_bins": 16, "normalize": "cmvn"}
    block.update(validation_split=0.25, test_split=0.25, features=features)

    examples = _examples()
    for wave in examples.inputs[::2]:
        wave[-200:] = 0.0  # recordings that end in digital silence keep their true length

    def train_batches(augmentation):
        dataset = prepare(examples, {**block, "augment": augmentation}, batch_size=4, seed=0)
        return dataset, [np.concatenate([b.numpy() for b, _ in dataset.train]) for _ in range(2)]

    # Noise 200 dB down changes nothing: the on-the-fly features are the precomputed ones.
    dataset, (first, _) = train_batches({"noise": {"snr_db": [200, 200]}})
    clean = dataset.arrays["train"][0]
    assert first.shape == clean.shape and dataset.input_shape == clean.shape[1:]
    order = [int(np.argmin(np.abs(clean - row).sum(axis=(1, 2)))) for row in first]
    assert sorted(order) == list(range(len(clean)))  # each training example once
    np.testing.assert_allclose(first, clean[order], atol=2e-3)
    # Real noise and speed perturbation: new features every epoch, the same shape.
    _, (first, second) = train_batches({"noise": {"snr_db": [5, 10]}, "time_stretch": 0.2})
    assert first.shape == clean.shape and not np.allclose(first, second)
    assert not any(np.allclose(row, ref, atol=1e-2) for row in first for ref in clean)


def test_no_augment_block_is_the_plain_pipeline():
    block = configs.load("mlp")["data"]
    assert block["augment"] == {}
    assert augment.resolve({}, "raw") == {} and augment.resolve(None, "raw") == {}
    data = tf.data.Dataset.range(3)
    assert augment.apply(data, {}, 0) is data


@pytest.mark.parametrize(
    "spec, kind, match",
    [
        ({"spec_augmnet": {}}, "logmel", "Did you mean 'spec_augment'"),
        ({"nosie": {"snr_db": [1, 2]}}, "raw", "Did you mean 'noise'"),
        ({"spec_augment": {"time_mask": 2}}, "logmel", "Did you mean 'time_masks'"),
        ({"spec_augment": {"time_width": -1}}, "logmel", "non-negative integer"),
        ({"spec_augment": {"time_width": 2.5}}, "logmel", "non-negative integer"),
        ({"spec_augment": 3}, "logmel", "must be a mapping"),
        ({"noise": {"snr_db": [30, 10]}}, "raw", "low <= high"),
        ({"noise": {"snr_db": [10]}}, "raw", r"snr_db: \[low, high\]"),
        ({"noise": {"snr": [10, 20]}}, "raw", "Did you mean 'snr_db'"),
        ({"noise": 10}, "raw", r"snr_db: \[low, high\]"),
        ({"gain_db": -3}, "raw", "non-negative number"),
        ({"gain_db": "loud"}, "raw", "non-negative number"),
        ({"time_shift": 1.5}, "raw", r"fraction in \[0, 1\)"),
        ({"time_stretch": 1.0}, "mfcc", r"fraction r in \[0, 1\)"),
        ({"time_stretch": "fast"}, "raw", r"fraction r in \[0, 1\)"),
        ({"freq_warp": -0.1}, "logmel", r"fraction r in \[0, 1\)"),
        ({"freq_warp": 0.1}, "mfcc", "does not apply to features of type 'mfcc'"),
        ({"freq_wrap": 0.1}, "logmel", "Did you mean 'freq_warp'"),
        ({"spec_augment": {}}, "raw", "does not apply to features of type 'raw'"),
        ({"gain_db": 6}, "mfcc", "does not apply to features of type 'mfcc'"),
        ({"time_shift": 0.1}, None, "not audio"),
        (3, "raw", "must map augmentation names"),
    ],
)
def test_bad_augment_specs_raise(spec, kind, match):
    with pytest.raises(ConfigError, match=match):
        augment.resolve(spec, kind)


def test_bad_augment_raises_before_features_are_computed():
    block = configs.load("mlp")["data"]
    block.update(features={"type": "raw"}, augment={"spec_augment": {}})
    with pytest.raises(ConfigError, match="spec_augment"):
        prepare(_examples(), block, batch_size=4, seed=0)


def test_augment_switched_off_by_null():
    assert augment.resolve({"noise": None, "time_shift": 0.1}, "raw") == {"time_shift": 0.1}


@pytest.mark.parametrize("name", configs.names())
def test_every_zoo_config_augment_block_is_valid(name):
    data = configs.load(name)["data"]
    kind = features.resolve(data["features"])["type"] if data["augment"] else "raw"
    augment.resolve(data["augment"], kind)


@pytest.mark.parametrize("kind", ["logmel", "raw"])
def test_an_example_is_augmented_the_same_alone_or_in_any_batch(kind):
    if kind == "logmel":
        spec = {"spec_augment": SPEC, "time_shift": 0.1, "time_stretch": 0.2, "freq_warp": 0.1}
        examples = [_features(length=n) for n in (50, 30, 41)]
    else:
        spec = {"noise": {"snr_db": [5, 20]}, "gain_db": 6, "time_stretch": 0.2}
        examples = [_wave(length=n) for n in (600, 300, 450)]
    spec = augment.resolve(spec, kind)
    draws = tf.constant([11, -3, 2**40], tf.int64)
    batch = augment.augment_batch(np.stack(examples), spec, draws).numpy()
    for i, x in enumerate(examples):
        alone = augment.augment(x, spec, draws[i]).numpy()
        np.testing.assert_allclose(batch[i], alone, atol=1e-6)
    swapped = augment.augment_batch(np.stack(examples[::-1]), spec, draws[::-1]).numpy()
    np.testing.assert_allclose(swapped[::-1], batch, atol=1e-6)


def test_expected_length_follows_the_stretch_and_shift_drawn():
    spec = augment.resolve({"time_stretch": 0.2, "time_shift": 0.1}, "logmel")
    ramp = np.zeros((6, 120, 1), "float32")
    ramp[:, :50] = np.arange(1, 51, dtype="float32")[None, :, None]
    draws = tf.range(6, dtype=tf.int64) * 1000003
    out = augment.augment_batch(ramp, spec, draws).numpy()
    real = 120 - np.argmax(out[:, ::-1, 0] != 0, axis=1)
    expected = augment.expected_length(tf.fill([6], 50), spec, draws).numpy()
    assert np.all(np.abs(real - expected) <= 2.0) and len(set(real.tolist())) > 2


def test_uniform_draws_are_in_the_unit_interval_and_spread():
    u = augment._uniform(tf.range(-500, 500, dtype=tf.int64), "noise", 64).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.std() - np.sqrt(1 / 12)) < 0.01
    assert len(np.unique(u[:, 0])) > 990  # neighbouring draws give unrelated values
