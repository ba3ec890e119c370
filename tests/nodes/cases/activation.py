from tests.nodes.spec_harness import Case

# ReLU, LeakyReLU, ELU and Softmax accept any input when Keras builds them, so they have no
# error case.
CASES = {
    "keras.layers.ReLU": [
        Case({}, [(4,)]),
        Case({"max_value": 6}, [(None, 16)]),
        Case({"negative_slope": 0.1, "threshold": 0.5}, [(3, 4)]),
    ],
    "keras.layers.LeakyReLU": [
        Case({}, [(16,)]),
        Case({"negative_slope": 0.01}, [(None, 8, 8, 3)]),
    ],
    "keras.layers.PReLU": [
        Case({}, [(4, 5)]),
        Case({"shared_axes": [1, 2]}, [(None, None, 3)]),
        Case({"shared_axes": [1]}, [(None, 5)]),
        Case({}, [()]),
        Case({}, [(None, 5)], error=True),
        Case({"shared_axes": [3]}, [(4, 5)], error=True),
    ],
    "keras.layers.ELU": [
        Case({}, [(16,)]),
        Case({"alpha": 0.5}, [(None, 4, 4)]),
    ],
    "keras.layers.Softmax": [
        Case({}, [(None, 10)]),
        Case({"axis": 1}, [(4, 3)]),
        Case({"axis": -2}, [(2, 4, 3)]),
    ],
}
