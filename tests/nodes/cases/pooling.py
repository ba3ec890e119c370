from tests.nodes.spec_harness import Case

CASES = {
    "keras.layers.MaxPooling1D": [
        Case({}, [(100, 8)]),
        Case({"pool_size": [3], "strides": [2], "padding": "same"}, [(None, 4)]),
        Case({"pool_size": [3]}, [(2, 4)], error=True),
        Case({}, [(8,)], error=True),
    ],
    "keras.layers.MaxPooling2D": [
        Case({}, [(28, 28, 32)]),
        Case({"pool_size": [3, 3], "strides": [2, 2]}, [(15, None, 8)]),
        Case({"pool_size": [2, 2], "strides": [1, 1], "padding": "same"}, [(7, 7, None)]),
        Case({"pool_size": [3, 3]}, [(2, 2, 3)], error=True),
        Case({}, [(4, 8, 8, 3)], error=True),
    ],
    "keras.layers.AveragePooling1D": [
        Case({}, [(9, 8)]),
        Case({"pool_size": [4], "strides": [1]}, [(None, 16)]),
        Case({"pool_size": [5]}, [(4, 3)], error=True),
    ],
    "keras.layers.AveragePooling2D": [
        Case({}, [(32, 32, 3)]),
        Case({"pool_size": [3, 3], "strides": [2, 2], "padding": "same"}, [(7, None, 3)]),
        Case({"pool_size": [4, 1]}, [(3, 8, 3)], error=True),
    ],
    "keras.layers.GlobalAveragePooling1D": [
        Case({}, [(100, 16)]),
        Case({"keepdims": True}, [(None, 8)]),
        Case({}, [(4, 8, 3)], error=True),
    ],
    "keras.layers.GlobalAveragePooling2D": [
        Case({}, [(7, 7, 512)]),
        Case({"keepdims": True}, [(None, None, 8)]),
        Case({}, [(8, 3)], error=True),
    ],
    "keras.layers.GlobalMaxPooling1D": [
        Case({}, [(100, 16)]),
        Case({"keepdims": True}, [(None, 8)]),
        Case({}, [(16,)], error=True),
    ],
    "keras.layers.GlobalMaxPooling2D": [
        Case({}, [(7, 7, 64)]),
        Case({"keepdims": True}, [(None, 5, 3)]),
        Case({}, [(4, 8, 8, 3)], error=True),
    ],
}
