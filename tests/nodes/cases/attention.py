from tests.nodes.spec_harness import Case

MHA = "keras.layers.MultiHeadAttention"

CASES = {
    MHA: [
        # Self-attention: the same shape on query and value, with an unknown sequence length.
        Case({"num_heads": 2, "key_dim": 4}, [(None, 8), (None, 8)]),
        Case({"num_heads": 2, "key_dim": 4}, [(5, 8), (7, 6)]),
        Case(
            {"num_heads": 2, "key_dim": 4, "value_dim": 3, "use_bias": False},
            [(5, 8), (7, 6), (7, 3)],
        ),
        Case({"num_heads": 4, "key_dim": 16, "dropout": 0.1}, [(None, 32), (None, 16), (None, 8)]),
        Case({"num_heads": 1, "key_dim": 8}, [(3, 4, 8), (3, 4, 8)]),
        Case({"num_heads": 2, "key_dim": 4}, [(5, 8), (7, 6), (6, 3)], error=True),
        Case({"num_heads": 2, "key_dim": 4}, [(5, 8), (None, 6), (6, 3)], error=True),
        Case({"num_heads": 2, "key_dim": 4}, [(5, None), (5, 8)], error=True),
        Case({"num_heads": 2, "key_dim": 4}, [(5, 8), (5, None)], error=True),
    ],
}
