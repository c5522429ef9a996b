"""Two small classifiers over (time, features) inputs, for kzoo's plugin tests."""

import keras

import kzoo


@kzoo.models.register("plugin_mlp")
def plugin_mlp(input_shape=(None, 16), num_classes=3, units=8):
    """A pooled MLP from the example plugin package."""
    inputs = keras.Input(input_shape, name="inputs")
    x = keras.layers.GlobalAveragePooling1D(name="pool")(inputs)
    x = keras.layers.Dense(units, activation="relu", name="dense")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name="plugin_mlp")


def plugin_linear(input_shape=(None, 16), num_classes=3):
    """A pooled linear classifier, registered by its entry point's name."""
    inputs = keras.Input(input_shape, name="inputs")
    x = keras.layers.GlobalAveragePooling1D(name="pool")(inputs)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name="plugin_linear")
