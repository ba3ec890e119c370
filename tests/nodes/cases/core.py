from tests.nodes.spec_harness import Case

CASES = {
    "keras.Input": [Case({"shape": [28, 28, 1]}), Case({"shape": [None, 8]})],
    "keras.layers.Dense": [
        Case({"units": 8}, [(16,)]),
        Case({"units": 3, "use_bias": False, "activation": "relu"}, [(5, 7)]),
        Case({"units": 4}, [(None, 6)]),
        Case({"units": 4}, [(6, None)], error=True),
    ],
}
