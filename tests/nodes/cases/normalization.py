from tests.nodes.spec_harness import Case

CASES = {
    "keras.layers.BatchNormalization": [
        Case({}, [(16,)]),
        Case({"momentum": 0.9, "center": False}, [(8, 8, 32)]),
        Case({"center": False, "scale": False, "epsilon": 1e-5}, [(None, 12)]),
        Case({}, [(4, None)], error=True),
        Case({}, [()], error=True),
    ],
    "keras.layers.LayerNormalization": [
        Case({}, [(None, 64)]),
        Case({"center": False, "epsilon": 1e-6}, [(10,)]),
        Case({"scale": False}, [(4, 4, 8)]),
        Case({}, [(5, None)], error=True),
    ],
    "keras.layers.GroupNormalization": [
        Case({"groups": 4}, [(8, 8, 16)]),
        Case({"groups": 3, "scale": False}, [(None, 9)]),
        Case({"groups": 8}, [(8,)]),
        Case({"groups": 4}, [(8, 8, 6)], error=True),
        Case({"groups": 32}, [(8, 8, 16)], error=True),
        Case({"groups": 2}, [(8, None)], error=True),
    ],
}
