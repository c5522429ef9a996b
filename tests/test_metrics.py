import keras
import numpy as np
import pytest

import kzoo
from kzoo.losses.ctc import ctc_greedy_decode
from kzoo.metrics import ClassificationError, TokenErrorRate


def levenshtein(a, b):
    """Textbook dynamic programme (Wagner and Fischer, 1974)."""
    d = np.arange(len(b) + 1)
    for i, x in enumerate(a, 1):
        prev, d = d, np.empty_like(d)
        d[0] = i
        for j, y in enumerate(b, 1):
            d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (x != y))
    return int(d[-1])


def pad(seqs, width, value=-1):
    out = np.full((len(seqs), width), value, "int32")
    for i, s in enumerate(seqs):
        out[i, : len(s)] = s
    return out


def test_classification_error_masked_and_padded():
    rng = np.random.default_rng(0)
    y_pred = rng.normal(size=(3, 5, 4)).astype("float32")
    y_true = rng.integers(0, 4, size=(3, 5))
    lengths = np.array([5, 3, 1])
    real = np.arange(5)[None] < lengths[:, None]
    wrong = (y_pred.argmax(-1) != y_true) & real
    expected = wrong.sum() / real.sum()
    metric = ClassificationError(pad_value=-1)
    metric.update_state(np.where(real, y_true, -1), y_pred)
    assert np.isclose(float(metric.result()), expected)
    one_hot = ClassificationError()
    one_hot.update_state(np.eye(4)[y_true[0]], y_pred[0])
    assert np.isclose(float(one_hot.result()), wrong[0].mean())
    metric.reset_state()
    assert float(metric.result()) == 0.0


def test_classification_error_uses_keras_mask_in_fit():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 6, 3)).astype("float32")
    lengths = np.array([6, 4, 2, 5])
    real = np.arange(6)[None] < lengths[:, None]
    x[~real] = 0.0
    y = rng.integers(0, 3, size=(4, 6))
    inputs = keras.Input((6, 3))
    dense = keras.layers.Dense(3, kernel_initializer="identity", use_bias=False)
    model = keras.Model(inputs, dense(keras.layers.Masking()(inputs)))
    model.compile(
        optimizer="sgd",
        loss=kzoo.losses.get("masked_nll"),
        metrics=[kzoo.metrics.get("error")],
    )
    result = model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)
    wrong = (x.argmax(-1) != y) & real
    assert np.isclose(result["error"], wrong.sum() / real.sum(), atol=1e-6)


def test_token_error_rate_matches_levenshtein():
    rng = np.random.default_rng(2)
    refs = [list(rng.integers(0, 5, size=n)) for n in (4, 7, 1, 5)]
    hyps = [list(rng.integers(0, 5, size=n)) for n in (6, 3, 0, 5)]
    metric = TokenErrorRate(ctc=False)
    metric.update_state(pad(refs, 8), pad(hyps, 9))
    edits = sum(levenshtein(h, r) for h, r in zip(hyps, refs, strict=True))
    assert np.isclose(float(metric.result()), edits / sum(map(len, refs)))
    metric.update_state(pad(refs[:1], 4), pad(refs[:1], 4))  # a perfect one adds tokens only
    assert np.isclose(float(metric.result()), edits / (sum(map(len, refs)) + len(refs[0])))


def test_token_error_rate_ctc_greedy_and_mask():
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(3, 10, 5)).astype("float32") * 3
    refs = [[1, 2, 3], [4, 4], [2]]
    metric = TokenErrorRate(ctc=True, blank_index=2)
    metric.update_state(pad(refs, 3), logits)
    hyps = ctc_greedy_decode(logits, blank_index=2)
    edits = sum(levenshtein(h, r) for h, r in zip(hyps, refs, strict=True))
    assert np.isclose(float(metric.result()), edits / 6)


def test_token_error_rate_in_fit_with_lengths_from_mask():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(4, 8, 4)).astype("float32") * 3
    lengths = np.array([8, 5, 3, 6])
    x[np.arange(8)[None] >= lengths[:, None]] = 0.0
    refs = [[1, 2], [3], [1, 1, 2], []]
    inputs = keras.Input((8, 4))
    dense = keras.layers.Dense(4, kernel_initializer="identity", use_bias=False)
    model = keras.Model(inputs, dense(keras.layers.Masking()(inputs)))
    model.compile(
        optimizer="sgd",
        loss=kzoo.losses.get({"name": "ctc", "zero_infinity": True}),
        metrics=[kzoo.metrics.get({"name": "per", "blank_index": 0})],
    )
    result = model.evaluate(x, pad(refs, 3), batch_size=4, verbose=0, return_dict=True)
    hyps = ctc_greedy_decode(x, lengths=lengths)
    edits = sum(levenshtein(h, r) for h, r in zip(hyps, refs, strict=True))
    assert np.isclose(result["token_error_rate"], edits / 6, atol=1e-6)
    model.fit(x, pad(refs, 3), batch_size=2, epochs=1, verbose=0)


@pytest.mark.parametrize(
    "metric",
    [ClassificationError(pad_value=-1, name="err"), TokenErrorRate(False, 3, -2, name="wer")],
)
def test_config_round_trip(metric):
    again = keras.metrics.deserialize(keras.metrics.serialize(metric))
    assert type(again) is type(metric) and again.get_config() == metric.get_config()


def test_bad_inputs():
    with pytest.raises(ValueError, match="y_true"):
        ClassificationError().update_state(np.zeros((2, 3, 1, 1)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="y_true"):
        TokenErrorRate().update_state(np.zeros((2,)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="y_pred"):
        TokenErrorRate().update_state(np.zeros((2, 3)), np.zeros((2,)))
    with pytest.raises(ValueError, match="blank_index"):
        TokenErrorRate(blank_index=5).update_state(np.zeros((1, 2)), np.zeros((1, 3, 4)))
    with pytest.raises(ValueError, match="Unknown metric"):
        kzoo.metrics.get({"name": "tokn_error_rate", "ctc": True})
