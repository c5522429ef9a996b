"""kzoo summary's mult-adds, checked against hand counts."""

import keras

import kzoo
from kzoo import summary


def _adds(model) -> dict[str, int]:
    return {name.split(" ")[0]: adds for name, _, _, adds in summary.rows(model, time_steps=10)}


def test_sinc_conv_counts_its_convolution():
    inputs = keras.Input((1600, 1))
    layer = kzoo.layers.SincConv1D(filters=8, kernel_size=51, sample_rate=8000, name="sinc")
    strided = kzoo.layers.SincConv1D(
        filters=4, kernel_size=11, sample_rate=8000, strides=2, padding="valid", name="strided"
    )
    model = keras.Model(inputs, [layer(inputs), strided(inputs)])
    adds = _adds(model)
    # 1600 outputs x 8 filters x 51 taps; (1600 - 11) // 2 + 1 = 795 outputs x 4 x 11.
    assert adds["sinc"] == 1600 * 8 * 51
    assert adds["strided"] == 795 * 4 * 11


def test_recurrent_layers_count_every_input_step():
    inputs = keras.Input((None, 3))  # time unknown: taken as 10 steps
    last = keras.layers.GRU(4, name="gru")(inputs)  # returns the last state only
    every = keras.layers.Bidirectional(keras.layers.LSTM(5, return_sequences=True), name="bilstm")(
        inputs
    )
    ligru = kzoo.layers.LiGRU(6, name="ligru")(inputs)
    model = keras.Model(inputs, [last, every, ligru])
    adds = _adds(model)
    # GRU: per step x (3 -> 3 gates x 4) + h (4 -> 12) = 36 + 48 multiplies, 10 steps.
    assert adds["gru"] == 10 * (3 * 12 + 4 * 12)
    # Two LSTMs: per step x (3 -> 4 gates x 5) + h (5 -> 20), 10 steps each.
    assert adds["bilstm"] == 2 * 10 * (3 * 20 + 5 * 20)
    # Li-GRU: two gates, per step x (3 -> 2 x 6) + h (6 -> 12).
    assert adds["ligru"] == 10 * (3 * 12 + 6 * 12)


def test_sincnet_summary_is_dominated_by_its_sinc_convolution():
    model = kzoo.models.get("sincnet", compile=False)
    rows = summary.rows(model)
    sinc = [adds for name, _, _, adds in rows if "SincConv1D" in name]
    assert len(sinc) == 1 and sinc[0] == max(adds for *_, adds in rows)
