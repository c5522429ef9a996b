"""Layers Keras lacks: SincNet's SincConv, Li-GRU, normalizations, attention, blocks."""
