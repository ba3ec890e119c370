from tests.nodes.spec_harness import Case

CASES = {
    "keras.layers.LSTM": [
        Case({"units": 16}, [(None, 8)]),
        Case({"units": 5, "return_sequences": True, "use_bias": False}, [(10, 3)]),
        Case({"units": 4, "unroll": True, "dropout": 0.2, "recurrent_dropout": 0.1}, [(7, 3)]),
        Case({"units": 6, "return_sequences": True}, [(None, 3)]),
        Case({"units": 4}, [(8,)], error=True),
        Case({"units": 4}, [(2, 3, 4)], error=True),
        Case({"units": 4}, [(5, None)], error=True),
    ],
    "keras.layers.GRU": [
        Case({"units": 5}, [(None, 3)]),
        Case({"units": 6, "reset_after": False, "return_sequences": True}, [(12, 4)]),
        Case({"units": 6, "use_bias": False, "activation": "relu"}, [(None, 4)]),
        Case({"units": 6, "use_bias": False, "reset_after": False}, [(3, 2)]),
        Case({"units": 5}, [(3,)], error=True),
    ],
    "keras.layers.SimpleRNN": [
        Case({"units": 8, "activation": "relu"}, [(None, 2)]),
        Case({"units": 3, "return_sequences": True, "unroll": True}, [(5, 4)]),
        Case({"units": 3, "use_bias": False}, [(5, 4)]),
        Case({"units": 3}, [(4, None)], error=True),
    ],
    "keras.layers.Bidirectional": [
        Case({}, [(None, 8)]),
        Case(
            {"layer": "GRU", "units": 5, "return_sequences": True, "merge_mode": "sum"},
            [(None, 3)],
        ),
        Case({"layer": "SimpleRNN", "units": 4, "merge_mode": "ave", "dropout": 0.1}, [(6, 2)]),
        Case(
            {"layer": "LSTM", "units": 4, "merge_mode": "mul", "return_sequences": True}, [(6, 3)]
        ),
        Case({"layer": "GRU", "units": 4, "unroll": True}, [(6, 3)]),
        Case({}, [(3,)], error=True),
        Case({"layer": "GRU"}, [(None, None)], error=True),
    ],
}
