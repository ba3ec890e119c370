from tests.nodes.spec_harness import Case

CASES = {
    "keras.Input": [Case({"shape": [28, 28, 1]}), Case({"shape": [None, 8]})],
    "keras.layers.Dense": [
        Case({"units": 8}, [(16,)]),
        Case({"units": 3, "use_bias": False, "activation": "relu"}, [(5, 7)]),
        Case({"units": 4}, [(None, 6)]),
        Case({"units": 4}, [(6, None)], error=True),
    ],
    "keras.layers.Activation": [
        Case({"activation": "softmax"}, [(10,)]),
        Case({"activation": "gelu"}, [(None, 4, 3)]),
        Case({"activation": "hard_silu"}, [(8,)]),
    ],
    "keras.layers.Dropout": [
        Case({"rate": 0.2}, [(32,)]),
        Case({"rate": 0.0}, [(None, 16)]),
        Case({"rate": 0.2, "noise_shape": [None, 1, 1, 8]}, [(4, 4, 8)]),
    ],
    "keras.layers.Embedding": [
        Case({"input_dim": 100, "output_dim": 8}, [(12,)], dtype="int32"),
        Case({"input_dim": 50, "output_dim": 4, "mask_zero": True}, [(None,)], dtype="int32"),
        Case({"input_dim": 20, "output_dim": 3}, [(4, 5)], dtype="int32"),
    ],
}
