from tests.nodes.spec_harness import Case

CASES = {
    "keras.layers.Flatten": [
        Case({}, [(4, 4, 3)]),
        Case({}, [(None, 8)]),
        Case({}, [(7,)]),
    ],
    "keras.layers.Reshape": [
        Case({"target_shape": [3, 4]}, [(12,)]),
        Case({"target_shape": [-1, 2, 2]}, [(4, 3)]),
        Case({"target_shape": [-1, 4]}, [(None, 8)]),
        Case({"target_shape": [5, 2]}, [(3, 4)], error=True),
        Case({"target_shape": [-1, 5]}, [(3, 4)], error=True),
        Case({"target_shape": [-1, -1]}, [(3, 4)], error=True),
    ],
    "keras.layers.Permute": [
        Case({"dims": [2, 1]}, [(10, 64)]),
        Case({"dims": [3, 1, 2]}, [(None, 4, 5)]),
        Case({"dims": [2, 1]}, [(3, 4, 5)], error=True),
        Case({"dims": [1, 3]}, [(3, 4)], error=True),
    ],
    "keras.layers.RepeatVector": [
        Case({"n": 3}, [(32,)]),
        Case({"n": 5}, [(None,)]),
        Case({"n": 3}, [(3, 4)], error=True),
    ],
    "keras.layers.UpSampling2D": [
        Case({}, [(8, 8, 3)]),
        Case({"size": [2, 3], "interpolation": "bilinear"}, [(None, 4, 16)]),
        Case({}, [(8, 3)], error=True),
    ],
    "keras.layers.ZeroPadding2D": [
        Case({}, [(28, 28, 1)]),
        Case({"padding": [0, 1, 2, 3]}, [(None, 5, 4)]),
        Case({}, [(28, 1)], error=True),
    ],
    "keras.layers.Cropping2D": [
        Case({}, [(28, 28, 1)]),
        Case({"cropping": [2, 0, 0, 3]}, [(None, 10, 8)]),
        Case({"cropping": [2, 2, 0, 0]}, [(4, 4, 3)], error=True),
        Case({}, [(28, 3)], error=True),
    ],
}
