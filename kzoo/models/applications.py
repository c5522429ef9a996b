"""Backbones from `keras.applications` (ResNet50, VGG16, InceptionV3, MobileNetV2) as zoo models.

The backbone is a named sub-model (`model.get_layer("resnet50")`). Inputs may be
(height, width) spectrograms or (height, width, channels) images; `resize` scales
them inside the model to a size the architecture accepts. Pretrained weights are
never downloaded (kzoo runs offline): pass the path of a weights file you have.
"""

from __future__ import annotations

import os

import keras

from kzoo.errors import check_choice
from kzoo.models import heads
from kzoo.registry import register


def _application(
    *,
    name: str,
    constructor,
    min_size: int,
    input_shape,
    num_classes: int,
    weights,
    include_top: bool,
    freeze: bool,
    resize,
    pooling: str,
    dropout: float,
    head: str,
    batch_norm_momentum: float | None = None,
    **application_kwargs,
) -> keras.Model:
    heads.check_num_classes(num_classes)
    if batch_norm_momentum is not None and (
        isinstance(batch_norm_momentum, bool)
        or not isinstance(batch_norm_momentum, (int, float))
        or not 0.0 <= batch_norm_momentum < 1.0
    ):
        raise ValueError(
            "Argument `batch_norm_momentum` is the share of the old moving statistics kept "
            f"at each step and must be in [0, 1), or None for {name}'s own. Received: "
            f"batch_norm_momentum={batch_norm_momentum!r}. Try 0.9."
        )
    check_choice("pooling", pooling, ("average", "max"))
    if weights == "imagenet":
        raise ValueError(
            f"weights='imagenet' would download the {name} weights, and kzoo runs offline. "
            f"Download them once elsewhere (keras.applications saves them under "
            "~/.keras/models), then pass the file: weights='/path/to/file.h5' (with "
            "include_top matching the file), or use weights=None to train from scratch."
        )
    if weights is not None and (not isinstance(weights, str) or not os.path.isfile(weights)):
        raise ValueError(
            f"Argument `weights` must be None or the path of an existing weights file for "
            f"{name}. Received: weights={weights!r}."
        )
    if include_top and head != "classification":
        raise ValueError(
            f"include_top=True keeps {name}'s own softmax classifier, so `head` must be "
            f"'classification'. Received: head={head!r}. Use include_top=False for other heads."
        )
    try:
        rank = len(input_shape)
    except TypeError:
        rank = None
    if rank not in (2, 3):
        raise ValueError(
            f"Model {name!r} takes images of shape (height, width) or (height, width, "
            f"channels). Received: input_shape={input_shape!r}. Change `input_shape`."
        )
    shape = heads.check_input_shape(input_shape, rank, name, "(height, width[, channels])")
    if any(d is None for d in shape):
        raise ValueError(
            f"Model {name!r} needs a fixed image size. Received: input_shape={shape}. Set "
            "every axis, or use `resize`."
        )
    inputs = keras.Input(shape, name="inputs")
    x = inputs
    if rank == 2:
        x = keras.layers.Reshape((*shape, 1), name="add_channel")(x)  # (batch, H, W, 1)
    if resize is not None:
        size = heads.check_input_shape(resize, 2, name, "(height, width) for `resize`")
        x = keras.layers.Resizing(*size, name="resize")(x)
    height, width, channels = x.shape[1:]
    if min(height, width) < min_size:
        raise ValueError(
            f"{name} needs images of at least {min_size}x{min_size}. Received: "
            f"{height}x{width} (input_shape={shape}, resize={resize!r}). Set "
            f"`resize` to e.g. [{max(height, min_size)}, {max(width, min_size)}]."
        )
    if weights is not None and channels == 1:
        # Pretrained filters expect RGB: a grey image is the same image on every channel.
        x = keras.layers.Concatenate(name="grey_to_rgb")([x, x, x])
        channels = 3
    backbone = constructor(
        include_top=include_top,
        weights=weights,
        input_shape=(height, width, channels),
        classes=num_classes,
        pooling=None if include_top else {"average": "avg", "max": "max"}[pooling],
        **application_kwargs,
    )
    if batch_norm_momentum is not None:
        for layer in backbone.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                # Read at each call, and saved in the layer's config.
                layer.momentum = float(batch_norm_momentum)
    if freeze:
        # Frozen BatchNormalization layers also run in inference mode (Keras 3).
        for layer in backbone.layers:
            layer.trainable = include_top and layer.name == "predictions"
    x = backbone(x)  # include_top: (batch, num_classes); else (batch, channels)
    if include_top:
        outputs = keras.layers.Activation("linear", dtype="float32", name="classifier")(x)
    else:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
        outputs = heads.apply(x, head, num_classes)
    return keras.Model(inputs, outputs, name=f"{name}_classifier")


@register("resnet50")
def resnet50(
    input_shape=(32, 32, 3),
    num_classes: int = 10,
    weights: str | None = None,
    include_top: bool = False,
    freeze: bool = False,
    resize=None,
    pooling: str = "average",
    dropout: float = 0.0,
    head: str = "classification",
    batch_norm_momentum: float | None = None,
) -> keras.Model:
    """ResNet-50 from keras.applications (inputs at least 32x32), with a kzoo head.

    Reference:
        K. He, X. Zhang, S. Ren and J. Sun, "Deep Residual Learning for Image
        Recognition", CVPR 2016, https://arxiv.org/abs/1512.03385.

    Args:
        input_shape: (height, width) (a channel axis is added) or (height, width,
            channels).
        num_classes: output classes (or values, for a regression head).
        weights: None (random initialisation) or the path of a weights file for this
            architecture; "imagenet" raises, as downloads are unavailable offline.
            With weights, a one-channel input is repeated to three channels. Inputs must
            be preprocessed as those weights expect (`keras.applications.*.preprocess_input`).
        include_top: keep the architecture's own classifier (softmax over `num_classes`);
            False puts global `pooling`, dropout and the kzoo `head` on the features.
        freeze: make the backbone untrainable (transfer learning); with include_top=True
            its final classifier layer stays trainable.
        resize: (height, width) to resize the inputs to inside the model, or None.
        pooling: "average" or "max", global pooling of the features (include_top=False).
        dropout: dropout before the head (include_top=False).
        head: "classification", "regression" or "embedding" (include_top=False).
        batch_norm_momentum: the momentum of every BatchNormalization layer of the
            backbone, or None (default) to keep the architecture's own (0.99; 0.999 in
            MobileNetV2). Training from scratch on a small data set wants a faster one,
            e.g. 0.9: at 0.999 the moving statistics trail the weights by about a
            thousand steps, and inference-mode accuracy can sit at chance for many
            epochs while training accuracy climbs.
    """
    return _application(
        name="resnet50",
        constructor=keras.applications.ResNet50,
        min_size=32,
        input_shape=input_shape,
        num_classes=num_classes,
        weights=weights,
        include_top=include_top,
        freeze=freeze,
        resize=resize,
        pooling=pooling,
        dropout=dropout,
        head=head,
        batch_norm_momentum=batch_norm_momentum,
    )


@register("vgg16")
def vgg16(
    input_shape=(32, 32, 3),
    num_classes: int = 10,
    weights: str | None = None,
    include_top: bool = False,
    freeze: bool = False,
    resize=None,
    pooling: str = "average",
    dropout: float = 0.0,
    head: str = "classification",
) -> keras.Model:
    """VGG-16 from keras.applications (inputs at least 32x32), with a kzoo head.

    Reference:
        K. Simonyan and A. Zisserman, "Very Deep Convolutional Networks for Large-Scale
        Image Recognition", ICLR 2015, https://arxiv.org/abs/1409.1556.

    Args:
        input_shape: (height, width) (a channel axis is added) or (height, width,
            channels).
        num_classes: output classes (or values, for a regression head).
        weights: None (random initialisation) or the path of a weights file for this
            architecture; "imagenet" raises, as downloads are unavailable offline.
            With weights, a one-channel input is repeated to three channels. Inputs must
            be preprocessed as those weights expect (`keras.applications.*.preprocess_input`).
        include_top: keep the architecture's own classifier (softmax over `num_classes`);
            False puts global `pooling`, dropout and the kzoo `head` on the features.
        freeze: make the backbone untrainable (transfer learning); with include_top=True
            its final classifier layer stays trainable.
        resize: (height, width) to resize the inputs to inside the model, or None.
        pooling: "average" or "max", global pooling of the features (include_top=False).
        dropout: dropout before the head (include_top=False).
        head: "classification", "regression" or "embedding" (include_top=False).
    """
    return _application(
        name="vgg16",
        constructor=keras.applications.VGG16,
        min_size=32,
        input_shape=input_shape,
        num_classes=num_classes,
        weights=weights,
        include_top=include_top,
        freeze=freeze,
        resize=resize,
        pooling=pooling,
        dropout=dropout,
        head=head,
    )


@register("inception_v3")
def inception_v3(
    input_shape=(75, 75, 3),
    num_classes: int = 10,
    weights: str | None = None,
    include_top: bool = False,
    freeze: bool = False,
    resize=None,
    pooling: str = "average",
    dropout: float = 0.0,
    head: str = "classification",
    batch_norm_momentum: float | None = None,
) -> keras.Model:
    """Inception-v3 from keras.applications (inputs at least 75x75), with a kzoo head.

    Reference:
        C. Szegedy, V. Vanhoucke, S. Ioffe, J. Shlens and Z. Wojna, "Rethinking the
        Inception Architecture for Computer Vision", CVPR 2016,
        https://arxiv.org/abs/1512.00567.

    Args:
        input_shape: (height, width) (a channel axis is added) or (height, width,
            channels).
        num_classes: output classes (or values, for a regression head).
        weights: None (random initialisation) or the path of a weights file for this
            architecture; "imagenet" raises, as downloads are unavailable offline.
            With weights, a one-channel input is repeated to three channels. Inputs must
            be preprocessed as those weights expect (`keras.applications.*.preprocess_input`).
        include_top: keep the architecture's own classifier (softmax over `num_classes`);
            False puts global `pooling`, dropout and the kzoo `head` on the features.
        freeze: make the backbone untrainable (transfer learning); with include_top=True
            its final classifier layer stays trainable.
        resize: (height, width) to resize the inputs to inside the model, or None.
        pooling: "average" or "max", global pooling of the features (include_top=False).
        dropout: dropout before the head (include_top=False).
        head: "classification", "regression" or "embedding" (include_top=False).
        batch_norm_momentum: the momentum of every BatchNormalization layer of the
            backbone, or None (default) to keep the architecture's own (0.99; 0.999 in
            MobileNetV2). Training from scratch on a small data set wants a faster one,
            e.g. 0.9: at 0.999 the moving statistics trail the weights by about a
            thousand steps, and inference-mode accuracy can sit at chance for many
            epochs while training accuracy climbs.
    """
    return _application(
        name="inception_v3",
        constructor=keras.applications.InceptionV3,
        min_size=75,
        input_shape=input_shape,
        num_classes=num_classes,
        weights=weights,
        include_top=include_top,
        freeze=freeze,
        resize=resize,
        pooling=pooling,
        dropout=dropout,
        head=head,
        batch_norm_momentum=batch_norm_momentum,
    )


@register("mobilenet_v2")
def mobilenet_v2(
    input_shape=(32, 32, 3),
    num_classes: int = 10,
    weights: str | None = None,
    include_top: bool = False,
    freeze: bool = False,
    resize=None,
    pooling: str = "average",
    dropout: float = 0.0,
    head: str = "classification",
    batch_norm_momentum: float | None = None,
    alpha: float = 1.0,
) -> keras.Model:
    """MobileNetV2 from keras.applications (inputs at least 32x32), with a kzoo head.

    Reference:
        M. Sandler, A. Howard, M. Zhu, A. Zhmoginov and L.-C. Chen, "MobileNetV2:
        Inverted Residuals and Linear Bottlenecks", CVPR 2018,
        https://arxiv.org/abs/1801.04381.

    Args:
        input_shape: (height, width) (a channel axis is added) or (height, width,
            channels).
        num_classes: output classes (or values, for a regression head).
        weights: None (random initialisation) or the path of a weights file for this
            architecture; "imagenet" raises, as downloads are unavailable offline.
            With weights, a one-channel input is repeated to three channels. Inputs must
            be preprocessed as those weights expect (`keras.applications.*.preprocess_input`).
        include_top: keep the architecture's own classifier (softmax over `num_classes`);
            False puts global `pooling`, dropout and the kzoo `head` on the features.
        freeze: make the backbone untrainable (transfer learning); with include_top=True
            its final classifier layer stays trainable.
        resize: (height, width) to resize the inputs to inside the model, or None.
        pooling: "average" or "max", global pooling of the features (include_top=False).
        dropout: dropout before the head (include_top=False).
        head: "classification", "regression" or "embedding" (include_top=False).
        batch_norm_momentum: the momentum of every BatchNormalization layer of the
            backbone, or None (default) to keep the architecture's own (0.99; 0.999 in
            MobileNetV2). Training from scratch on a small data set wants a faster one,
            e.g. 0.9: at 0.999 the moving statistics trail the weights by about a
            thousand steps, and inference-mode accuracy can sit at chance for many
            epochs while training accuracy climbs.
        alpha: width multiplier (0.35, 0.5, 0.75, 1.0, 1.3 or 1.4 have published
            weights).
    """
    if not isinstance(alpha, (int, float)) or alpha <= 0:
        raise ValueError(
            f"Argument `alpha` must be a positive width multiplier. Received: alpha={alpha!r}."
        )
    return _application(
        name="mobilenet_v2",
        constructor=keras.applications.MobileNetV2,
        min_size=32,
        input_shape=input_shape,
        num_classes=num_classes,
        weights=weights,
        include_top=include_top,
        freeze=freeze,
        resize=resize,
        pooling=pooling,
        dropout=dropout,
        head=head,
        alpha=alpha,
        batch_norm_momentum=batch_norm_momentum,
    )
