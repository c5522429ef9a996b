"""Text classification over token ids: embedding -> recurrent or attention encoder -> head."""

from __future__ import annotations

import math

import keras

from kzoo.errors import check_choice
from kzoo.models import heads, parts
from kzoo.models.transformer import (
    ATTENTIONS,
    SinusoidalPositionalEncoding,
    check_encoder_sizes,
    encoder_layer,
)
from kzoo.registry import register

ENCODERS = (*parts.RECURRENT, *ATTENTIONS)


@register("text_classifier")
def text_classifier(
    input_shape=(200,),
    num_classes: int = 2,
    vocab_size: int = 20000,
    embedding_dim: int = 32,
    encoder: str = "gru",
    units: int = 64,
    num_layers: int = 1,
    bidirectional: bool = True,
    num_heads: int = 4,
    dropout: float = 0.2,
    attention_dropout: float = 0.1,
    head: str = "classification",
) -> keras.Model:
    """A text classifier: token ids -> Embedding -> recurrent or self-attention encoder -> head.

    Token id 0 is padding: the embedding masks it, so the encoder and the pooling of
    the head skip it. Ids must be below `vocab_size` (a `keras.layers.TextVectorization`
    with `max_tokens=vocab_size` produces them).

    Reference:
        Y. Kim, "Convolutional Neural Networks for Sentence Classification", EMNLP 2014
        (embedding-based text classification); Z. Yang et al., "Hierarchical Attention
        Networks for Document Classification", NAACL 2016 (recurrent and attention
        encoders); A. Vaswani et al., "Attention Is All You Need", NeurIPS 2017.

    Args:
        input_shape: (tokens,); the length may be None.
        num_classes: output classes (or values, for a regression head).
        vocab_size: number of token ids, padding (0) included.
        embedding_dim: width of the token embeddings.
        encoder: "gru", "lstm", "simple_rnn", "ligru", "sligru" (recurrent), or
            "multi_head" / "scaled_dot_product" / "additive" (Transformer encoder layers
            with that attention, see `kzoo.models.transformer`).
        units: recurrent units per direction, or the feed-forward width of the
            attention layers.
        num_layers: stacked encoder layers.
        bidirectional: whether the recurrent layers read both ways.
        num_heads: attention heads ("multi_head"); must divide `embedding_dim`.
        dropout: dropout on the embeddings, between layers and before the head.
        attention_dropout: dropout on the attention weights.
        head: "classification" (masked mean over tokens), "regression" or "embedding".
    """
    heads.check_num_classes(num_classes)
    shape = heads.check_input_shape(input_shape, 1, "text_classifier", "(tokens,)")
    check_choice("encoder", encoder, ENCODERS)
    check_encoder_sizes(
        vocab_size=vocab_size, embedding_dim=embedding_dim, units=units, num_layers=num_layers
    )
    inputs = keras.Input(shape, dtype="int32", name="inputs")  # (batch, tokens)
    x = keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name="embedding")(
        inputs
    )  # (batch, tokens, embedding_dim)
    if encoder in parts.RECURRENT:
        x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
        for i in range(num_layers):
            x = parts.recurrent(
                encoder, units, f"{encoder}{i}", True, bidirectional, dropout if i else 0.0
            )(x)
    else:
        x = SinusoidalPositionalEncoding(scale=math.sqrt(embedding_dim), name="positions")(x)
        x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
        for i in range(num_layers):
            x = encoder_layer(x, i, encoder, num_heads, units, dropout, attention_dropout, "relu")
    # x: (batch, tokens, features)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = heads.apply(x, head, num_classes, sequence=True)
    return keras.Model(inputs, outputs, name="text_classifier")
