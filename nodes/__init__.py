"""The Layerloom domain: node specs, the graph, shapes, compile and the project file.

Nothing here imports Qt, and nothing imports TensorFlow/Keras at module level.
"""
