"""Large synthetic graphs for benchmarks: residual MLP blocks, ~1000 nodes and ~1200 edges."""

from __future__ import annotations

from layerloom.nodes.graph import Edge, Graph, Node, new_id
from layerloom.nodes.layout import layered_positions
from layerloom.nodes.registry import Registry


def residual_mlp(registry: Registry, nodes: int = 1000, width: int = 64) -> tuple[Graph, list[str]]:
    """Input, then blocks of Dense -> Dropout -> Add(skip): 3 nodes and 4 edges per block."""
    graph = Graph()

    def add(type_id: str, name: str, **params) -> str:
        spec = registry[type_id]
        node = Node(new_id(), spec.type_id, name, spec.normalize(params), version=spec.version)
        graph.add_node(node)
        return node.id

    previous = add("keras.Input", "input", shape=(width,))
    block_ids = [previous]
    for b in range((nodes - 1) // 3):
        dense = add("keras.layers.Dense", f"dense_{b}", units=width, activation="relu")
        drop = add("keras.layers.Dropout", f"dropout_{b}", rate=0.1)
        join = add("keras.layers.Add", f"add_{b}")
        graph.connect(Edge(previous, dense, "input"))
        graph.connect(Edge(dense, drop, "input"))
        graph.connect(Edge(drop, join, "in0"))
        graph.connect(Edge(previous, join, "in1"))
        block_ids.append(dense)
        previous = join
    for node_id, pos in layered_positions(graph).items():
        graph.move(node_id, pos)
    return graph, block_ids


def densenet_like(registry: Registry, layers: tuple[int, ...] = (6, 12, 24, 16)) -> Graph:
    """DenseNet121's topology (430 nodes with the default blocks): per dense layer BN -> ReLU ->
    Conv1x1 -> BN -> ReLU -> Conv3x3 -> Concatenate with the layer's input; transitions between
    blocks. Stands in for an imported DenseNet121 where the importer is not available. Unplaced:
    callers time the auto-layout themselves."""
    graph = Graph()

    def add(type_id: str, name: str, *inputs: str, **params) -> str:
        spec = registry[type_id]
        node = Node(new_id(), spec.type_id, name, spec.normalize(params), version=spec.version)
        graph.add_node(node)
        ports = spec.input_ports(len(inputs))
        for src, port in zip(inputs, ports[: len(inputs)], strict=True):
            graph.connect(Edge(src, node.id, port))
        return node.id

    x = add("keras.Input", "input_layer", shape=(64, 64, 3))
    x = add("keras.layers.ZeroPadding2D", "zero_padding2d", x, padding=(3, 3, 3, 3))
    x = add("keras.layers.Conv2D", "conv1_conv", x, filters=64, kernel_size=(7, 7), strides=(2, 2))
    x = add("keras.layers.BatchNormalization", "conv1_bn", x)
    x = add("keras.layers.ReLU", "conv1_relu", x)
    x = add("keras.layers.ZeroPadding2D", "zero_padding2d_1", x, padding=(1, 1, 1, 1))
    x = add("keras.layers.MaxPooling2D", "pool1", x, pool_size=(3, 3), strides=(2, 2))
    for b, count in enumerate(layers, start=2):
        for i in range(1, count + 1):
            p = f"conv{b}_block{i}"
            y = add("keras.layers.BatchNormalization", f"{p}_0_bn", x)
            y = add("keras.layers.ReLU", f"{p}_0_relu", y)
            y = add("keras.layers.Conv2D", f"{p}_1_conv", y, filters=128, kernel_size=(1, 1))
            y = add("keras.layers.BatchNormalization", f"{p}_1_bn", y)
            y = add("keras.layers.ReLU", f"{p}_1_relu", y)
            y = add("keras.layers.Conv2D", f"{p}_2_conv", y, filters=32, padding="same")
            x = add("keras.layers.Concatenate", f"{p}_concat", x, y)
        if b < 1 + len(layers):
            x = add("keras.layers.BatchNormalization", f"pool{b}_bn", x)
            x = add("keras.layers.ReLU", f"pool{b}_relu", x)
            x = add("keras.layers.Conv2D", f"pool{b}_conv", x, filters=128, kernel_size=(1, 1))
            x = add("keras.layers.AveragePooling2D", f"pool{b}_pool", x, strides=(2, 2))
    x = add("keras.layers.BatchNormalization", "bn", x)
    x = add("keras.layers.ReLU", "relu", x)
    x = add("keras.layers.GlobalAveragePooling2D", "avg_pool", x)
    add("keras.layers.Dense", "predictions", x, units=1000, activation="softmax")
    return graph
