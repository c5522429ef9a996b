import keras
import numpy as np
import pytest
from keras import ops

import kzoo
from kzoo.losses.metric_learning import (
    ContrastiveLoss,
    NTXentLoss,
    TripletLoss,
    contrastive_loss,
    nt_xent_loss,
    pairwise_distances,
    triplet_loss,
)
from tests.losses._grad import value_and_grad


def np_distances(x, distance):
    if distance == "cosine":
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        d = 1.0 - x @ x.T
    else:
        d = ((x[:, None] - x[None]) ** 2).sum(-1)
        if distance == "l2":
            d = np.sqrt(d)
    np.fill_diagonal(d, 0.0)
    return d


def np_hinge(x, margin, soft):
    return np.log1p(np.exp(x)) if soft else max(x + margin, 0.0)


def np_semi_hard(labels, x, margin, distance, soft):
    """TF Addons' TripletSemiHardLoss definition, pair by pair."""
    d = np_distances(x, distance)
    total, pairs = 0.0, 0
    for a in range(len(x)):
        negatives = [n for n in range(len(x)) if labels[n] != labels[a]]
        for p in range(len(x)):
            if p == a or labels[p] != labels[a]:
                continue
            pairs += 1
            if not negatives:
                continue
            farther = [d[a, n] for n in negatives if d[a, n] > d[a, p]]
            d_an = min(farther) if farther else max(d[a, n] for n in negatives)
            total += np_hinge(d[a, p] - d_an, margin, soft)
    return total / pairs if pairs else 0.0


def np_hard(labels, x, margin, distance, soft):
    """TF Addons' TripletHardLoss definition, anchor by anchor."""
    d = np_distances(x, distance)
    out = []
    for a in range(len(x)):
        pos = [d[a, p] for p in range(len(x)) if p != a and labels[p] == labels[a]]
        neg = [d[a, n] for n in range(len(x)) if labels[n] != labels[a]]
        out.append(np_hinge(max(pos, default=0.0) - min(neg), margin, soft) if neg else 0.0)
    return float(np.mean(out))


def np_batch_all(labels, x, margin, distance, soft):
    d = np_distances(x, distance)
    values = [
        np_hinge(d[a, p] - d[a, n], margin, soft)
        for a in range(len(x))
        for p in range(len(x))
        for n in range(len(x))
        if a != p and labels[a] == labels[p] and labels[n] != labels[a]
    ]
    counted = values if soft else [v for v in values if v > 1e-16]
    return sum(values) / len(counted) if counted else 0.0


REFERENCES = {"semi_hard": np_semi_hard, "hard": np_hard, "batch_all": np_batch_all}


def embeddings(seed=0, batch=10, dim=3):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(batch, dim)).astype("float32"), rng.integers(0, 3, size=batch)


@pytest.mark.parametrize("strategy", ["semi_hard", "hard", "batch_all"])
@pytest.mark.parametrize("distance", ["l2", "squared_l2", "cosine"])
@pytest.mark.parametrize("soft", [False, True])
def test_triplet_matches_reference(strategy, distance, soft):
    x, labels = embeddings()
    margin = 0.7
    ours = float(TripletLoss(margin, strategy, distance, soft)(labels, x))
    np.testing.assert_allclose(
        ours, REFERENCES[strategy](labels, x, margin, distance, soft), rtol=2e-4, atol=1e-6
    )


def test_pairwise_distances():
    x, _ = embeddings(1)
    for distance in ("l2", "squared_l2", "cosine"):
        d = ops.convert_to_numpy(pairwise_distances(x, distance))
        np.testing.assert_allclose(d, np_distances(x, distance), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("strategy", ["semi_hard", "hard", "batch_all"])
def test_identical_embeddings_give_finite_gradients(strategy):
    x = np.ones((4, 3), "float32")
    labels = np.array([0, 0, 1, 1])
    loss = TripletLoss(strategy=strategy)
    value, grad = value_and_grad(lambda v: loss(labels, v), x)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    value, grad = value_and_grad(
        lambda v: ContrastiveLoss()(labels[:2], ops.reshape(v, (2, 2, 3))), x
    )
    assert np.isfinite(value) and np.all(np.isfinite(grad))


@pytest.mark.parametrize("strategy", ["semi_hard", "hard", "batch_all"])
def test_single_class_batch_gives_zero(strategy):
    x, _ = embeddings(2, batch=5)
    loss = TripletLoss(strategy=strategy)
    value, grad = value_and_grad(lambda v: loss(np.zeros(5, "int32"), v), x)
    assert value == 0.0 and np.all(grad == 0.0)
    if strategy != "hard":  # "hard" still pushes negatives out when there is no positive
        assert float(loss(np.arange(5), x)) == 0.0  # no positive pairs, no triplet


def test_contrastive_matches_formula_for_distances_and_pairs():
    rng = np.random.default_rng(3)
    pairs = rng.normal(size=(6, 2, 4)).astype("float32")
    y = np.array([1, 0, 1, 0, 0, 1])
    d = np.linalg.norm(pairs[:, 0] - pairs[:, 1], axis=-1)
    expected = y * d**2 + (1 - y) * np.maximum(2.0 - d, 0) ** 2
    np.testing.assert_allclose(
        ops.convert_to_numpy(contrastive_loss(y, pairs, margin=2.0)), expected, rtol=1e-5
    )
    np.testing.assert_allclose(
        float(ContrastiveLoss(2.0)(y[:, None], d[:, None])), expected.mean(), rtol=1e-5
    )


def test_nt_xent_matches_formula():
    rng = np.random.default_rng(4)
    views = rng.normal(size=(3, 2, 5)).astype("float32")
    z = np.concatenate([views[:, 0], views[:, 1]])
    z = z / np.linalg.norm(z, axis=1, keepdims=True)
    s = z @ z.T / 0.2
    losses = []
    for i in range(6):
        j = (i + 3) % 6
        others = [k for k in range(6) if k != i]
        losses.append(-s[i, j] + np.log(np.exp(s[i, others]).sum()))
    expected = 0.5 * (np.array(losses[:3]) + np.array(losses[3:]))
    np.testing.assert_allclose(ops.convert_to_numpy(nt_xent_loss(views, 0.2)), expected, rtol=1e-4)
    np.testing.assert_allclose(
        float(NTXentLoss(0.2)(np.zeros(3), views)), np.mean(losses), rtol=1e-4
    )
    _, grad = value_and_grad(lambda v: NTXentLoss(0.2)(np.zeros(3), v), np.ones_like(views))
    assert np.all(np.isfinite(grad))


def test_triplet_trains_in_fit():
    x, labels = embeddings(5, batch=12, dim=4)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile(optimizer="sgd", loss=kzoo.losses.get({"name": "triplet", "margin": 0.5}))
    history = model.fit(x, labels, batch_size=12, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


@pytest.mark.parametrize(
    "spec, cls",
    [
        ({"name": "triplet", "strategy": "hard", "distance": "cosine", "soft": True}, TripletLoss),
        ({"name": "contrastive", "margin": 2.0}, ContrastiveLoss),
        ({"name": "nt_xent", "temperature": 0.1}, NTXentLoss),
    ],
)
def test_config_round_trip(spec, cls):
    loss = kzoo.losses.get(spec)
    assert type(loss) is cls
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert again.get_config() == loss.get_config()


def test_bad_inputs():
    x, labels = embeddings()
    with pytest.raises(ValueError, match="margin"):
        TripletLoss(margin=-1.0)
    with pytest.raises(ValueError, match="margin"):
        ContrastiveLoss(margin=-0.5)
    with pytest.raises(ValueError, match="temperature"):
        NTXentLoss(temperature=0.0)
    with pytest.raises(ValueError, match="strategy"):
        TripletLoss(strategy="semihard")
    with pytest.raises(ValueError, match="distance"):
        TripletLoss(distance="euclidean")
    with pytest.raises(ValueError, match="batch size"):
        triplet_loss(labels[:5], x)
    with pytest.raises(ValueError, match="embeddings"):
        triplet_loss(labels, x[:, None])
    with pytest.raises(ValueError, match="pair labels"):
        contrastive_loss(labels[:3], np.ones(4))
    with pytest.raises(ValueError, match=r"\(batch, 2, dim\)"):
        contrastive_loss(labels[:3], np.ones((3, 3, 2)))
    with pytest.raises(ValueError, match="two views"):
        nt_xent_loss(x)
