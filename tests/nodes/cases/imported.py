from tests.nodes.spec_harness import Case

# No Keras layer runs a placeholder: the harness holds its rule to the recorded shape and count.
CASES = {
    "layerloom.ImportedLayer": [
        Case(
            {"class_name": "Lambda", "output_shape": [4, 2], "parameters": 0, "reason": "code"},
            [(4, 8)],
        ),
        Case({"class_name": "MyLayer", "output_shape": [None, 3], "parameters": 12}, [(5, 3)]),
        Case({"class_name": "MyLayer"}, [(5, 3)], error=True),
    ],
}
