from tests.nodes.spec_harness import Case

# Rescaling and the random augmentations accept any input when Keras builds them (the
# augmentations only fail when they run), so they have no error case.
CASES = {
    "keras.layers.Rescaling": [
        Case({}, [(28, 28, 1)]),
        Case({"scale": 2.0, "offset": -1.0}, [(None, 8)]),
    ],
    "keras.layers.Normalization": [
        Case({}, [(4, 4, 3)]),
        Case({"axis": None}, [(4, 4, 3)]),
        Case({"axis": [1, -1]}, [(4, 3)]),
        Case({}, [(None, 3)]),
        Case({"mean": [1.0, 2.0, 3.0], "variance": [1.0, 4.0, 9.0]}, [(4, 4, 3)]),
        Case({}, [(4, None)], error=True),
        Case({"axis": [0]}, [(4, 3)], error=True),
        Case({"axis": [4]}, [(4, 3)], error=True),
        Case({"axis": [2, -1]}, [(4, 3)], error=True),
    ],
    "keras.layers.Resizing": [
        Case({"height": 8, "width": 9}, [(4, 4, 3)]),
        Case(
            {"height": 32, "width": 32, "interpolation": "nearest", "crop_to_aspect_ratio": True},
            [(None, None, 3)],
        ),
        Case({"height": 8, "width": 9, "interpolation": "area"}, [(4, 4, None)]),
        Case({"height": 8, "width": 9}, [()], error=True),
    ],
    "keras.layers.CenterCrop": [
        Case({"height": 2, "width": 3}, [(4, 4, 3)]),
        Case({"height": 8, "width": 8}, [(None, None, 1)]),
        Case({"height": 2, "width": 2}, [(4,)], error=True),
        Case({"height": 2, "width": 2}, [(2, 4, 4, 3)], error=True),
    ],
    "keras.layers.RandomFlip": [
        Case({"mode": "horizontal"}, [(32, 32, 3)]),
        Case({}, [(None, None, 1)]),
    ],
    "keras.layers.RandomRotation": [
        Case({}, [(32, 32, 3)]),
        Case({"factor": 0.25, "fill_mode": "nearest"}, [(None, None, 3)]),
    ],
    "keras.layers.RandomZoom": [
        Case({}, [(32, 32, 3)]),
        Case({"height_factor": 0.2, "width_factor": 0.3, "fill_mode": "constant"}, [(64, 48, 1)]),
    ],
    "keras.layers.RandomTranslation": [
        Case({}, [(32, 32, 3)]),
        Case({"height_factor": 0.2, "width_factor": 0.0, "fill_mode": "wrap"}, [(None, None, 3)]),
    ],
    "keras.layers.RandomContrast": [
        Case({}, [(32, 32, 3)]),
        Case({"factor": 0.5}, [(None, None, 1)]),
    ],
}
