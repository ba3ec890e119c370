from tests.nodes.spec_harness import Case

CASES = {
    "keras.layers.Conv1D": [
        Case({"filters": 16, "kernel_size": [5]}, [(100, 8)]),
        Case({"filters": 4}, [(None, 8)]),
        Case({"filters": 8, "strides": [2], "padding": "same", "use_bias": False}, [(9, 3)]),
        Case({"filters": 8, "padding": "causal", "dilation_rate": [4]}, [(32, 2)]),
        Case({"filters": 8, "kernel_size": [5]}, [(4, 3)], error=True),
        Case({"filters": 8}, [(16, None)], error=True),
    ],
    "keras.layers.Conv2D": [
        Case({"filters": 32}, [(28, 28, 1)]),
        Case(
            {"filters": 16, "kernel_size": [3, 5], "strides": [2, 1], "padding": "same"},
            [(15, 20, 3)],
        ),
        Case({"filters": 8, "dilation_rate": [2, 2], "activation": "relu"}, [(None, None, 4)]),
        Case({"filters": 8, "groups": 4, "padding": "same"}, [(8, 8, 4)]),
        Case({"filters": 8}, [(16, 16, None)], error=True),
        Case({"filters": 6, "groups": 4}, [(8, 8, 4)], error=True),
        Case({"filters": 8}, [(4, 16, 16, 3)], error=True),
        Case({"filters": 8, "strides": [2, 2], "dilation_rate": [2, 2]}, [(16, 16, 3)], error=True),
    ],
    "keras.layers.Conv3D": [
        Case({"filters": 4}, [(8, 16, 16, 2)]),
        Case(
            {"filters": 4, "strides": [1, 2, 2], "padding": "same", "use_bias": False},
            [(None, 16, 15, 3)],
        ),
        Case({"filters": 4}, [(16, 16, 3)], error=True),
    ],
    "keras.layers.Conv2DTranspose": [
        Case({"filters": 16, "strides": [2, 2]}, [(8, 8, 3)]),
        Case({"filters": 8, "strides": [2, 2], "padding": "same"}, [(None, 7, 4)]),
        Case(
            {"filters": 4, "strides": [2, 2], "padding": "same", "output_padding": [1, 1]},
            [(8, 8, 3)],
        ),
        Case(
            {"filters": 4, "kernel_size": [4, 3], "strides": [3, 2], "output_padding": [2, 0]},
            [(5, 6, 2)],
        ),
        Case({"filters": 4}, [(8, 8, None)], error=True),
        Case({"filters": 4, "strides": [2, 2], "output_padding": [2, 0]}, [(8, 8, 3)], error=True),
    ],
    "keras.layers.SeparableConv2D": [
        Case({"filters": 16}, [(32, 32, 3)]),
        Case(
            {"filters": 8, "depth_multiplier": 2, "strides": [2, 2], "padding": "same"},
            [(None, 15, 4)],
        ),
        # Unlike Conv2D, the separable and depthwise layers accept strides with dilation.
        Case(
            {"filters": 4, "strides": [2, 2], "dilation_rate": [2, 2], "use_bias": False},
            [(16, 16, 3)],
        ),
        Case({"filters": 8}, [(32, 32, None)], error=True),
        Case({"filters": 8, "kernel_size": [5, 5]}, [(4, 8, 3)], error=True),
    ],
    "keras.layers.DepthwiseConv2D": [
        Case({}, [(32, 32, 8)]),
        Case({"depth_multiplier": 3, "strides": [2, 2], "padding": "same"}, [(None, 9, 4)]),
        Case({"dilation_rate": [2, 2], "use_bias": False}, [(16, 16, 3)]),
        Case({}, [(16, 16, None)], error=True),
        Case({}, [(16, 3)], error=True),
    ],
}
