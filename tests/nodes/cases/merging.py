from tests.nodes.spec_harness import Case


def _elementwise_cases() -> list[Case]:
    return [
        Case({}, [(4, 8), (4, 8)]),
        Case({}, [(None, 16), (None, 16), (None, 16)]),
        # Keras broadcasts a size of 1 and right-aligns inputs of lower rank.
        Case({}, [(4, 8), (1, 8)]),
        Case({}, [(4, 1), (1, 8), (8,)]),
        Case({}, [(None, 8), (4, 8)]),
        Case({}, [(4, 8), (4, 6)], error=True),
        Case({}, [(3, 8), (2, 8), (3, 8)], error=True),
    ]


CASES = {
    **{
        f"keras.layers.{name}": _elementwise_cases()
        for name in ("Add", "Multiply", "Average", "Maximum", "Minimum")
    },
    "keras.layers.Subtract": [
        Case({}, [(8,), (8,)]),
        Case({}, [(None, 4), (None, 4)]),
        Case({}, [(5, 4), (4,)]),
        Case({}, [(3,), (4,)], error=True),
    ],
    "keras.layers.Concatenate": [
        Case({}, [(3, 8), (3, 2), (3, 1)]),
        Case({"axis": 1}, [(3, 8), (None, 8)]),
        Case({"axis": -2}, [(3, 8), (4, 8)]),
        Case({}, [(None, 8), (3, 2)]),
        Case({"axis": 3}, [(4, 4, 3), (4, 4, 5)]),
        Case({}, [(3, 8), (4, 2)], error=True),
        Case({}, [(3, 8), (2,)], error=True),
        Case({"axis": -3}, [(3, 8), (4, 8)], error=True),
        Case({"axis": 2}, [(4, 4, 3), (4, 4, 5)], error=True),
    ],
    "keras.layers.Dot": [
        Case({}, [(8,), (8,)]),
        Case({"axes": [2, 2]}, [(5, 8), (7, 8)]),
        Case({"axes": [1, 1], "normalize": True}, [(5, 8), (5, 3)]),
        Case({"axes": [3, -1]}, [(5, 6, 8), (7, 8)]),
        Case({}, [(None, None), (7, None)]),
        Case({}, [(5, 8), (7, 6)], error=True),
        Case({}, [(5, None), (7, 8)], error=True),
        Case({"axes": [3, 3]}, [(8,), (8,)], error=True),
    ],
}
