from tests.nodes.spec_harness import Case

CASES = {
    "keras.applications.convnext.LayerScale": [
        Case({"projection_dim": 8}, [(4, 4, 8)]),
        Case({"projection_dim": 3, "init_values": 0.5}, [(None, 3)]),
        Case({"projection_dim": 8}, [(4, 4, 6)], error=True),
    ],
}
