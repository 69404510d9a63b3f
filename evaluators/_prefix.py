"""Reusing the float model's activations before the first layer a configuration changes.

Two configurations that leave the first k operations of a network as they are compute the same
values up to there. A sweep that changes one layer at a time (a sensitivity profile, the
neighbours a local search proposes) recomputes the same prefix again and again; this module
runs the model's traced graph (`torch.fx`) and keeps, per data batch, the float values still
needed after a cut, so a configuration whose first changed module is at that cut runs only
the rest. The values are exactly those of a plain forward pass (same operations, same order,
same batches): the cache changes the speed of a scoring, never its result.
"""

from __future__ import annotations

import logging
import operator
from collections import OrderedDict
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

import torch
from torch import fx, nn

if TYPE_CHECKING:
    from evaluators._configuration import Configuration

logger = logging.getLogger(__name__)


class PrefixCache:
    """Float activations at graph cuts, per batch, within a memory bound (LRU).

    Args:
        model: the float model (eval mode); traced once with `torch.fx`. A model that cannot
            be traced runs without the cache.
        max_bytes: memory the cached activations may take.

    Example:
        >>> cache = PrefixCache(model, max_bytes=1 << 30)  # doctest: +SKIP
        >>> approximated = apply(model, configuration)  # doctest: +SKIP
        >>> logits = cache.run(approximated, configuration, x, key=0)  # doctest: +SKIP
    """

    def __init__(self, model: nn.Module, max_bytes: int = 1 << 30) -> None:
        self.model = model
        self.max_bytes = max_bytes
        self.hits_ = 0
        self.misses_ = 0
        self._entries: OrderedDict[Hashable, dict[fx.Node, Any]] = OrderedDict()
        self._bytes = 0
        try:
            self._graph: fx.Graph | None = fx.symbolic_trace(model).graph
        except Exception as exc:  # noqa: BLE001 - tracing fails in many ways
            logger.info("prefix cache off: the model cannot be traced (%s)", exc)
            self._graph = None
            return
        in_place = _in_place_node(self._graph, dict(model.named_modules()))
        if in_place is not None:  # it could overwrite cached values when it runs after a cut
            logger.info("prefix cache off: node %r computes in place", in_place)
            self._graph = None
            return
        self._nodes = list(self._graph.nodes)
        index = {node: i for i, node in enumerate(self._nodes)}
        self._first: dict[str, int] = {}
        for i, node in enumerate(self._nodes):
            if node.op == "call_module":
                self._first.setdefault(str(node.target), i)
        self._last_use = {
            node: max((index[u] for u in node.users), default=index[node]) for node in self._nodes
        }

    @property
    def enabled(self) -> bool:
        return self._graph is not None and self.max_bytes > 0

    def cut(self, configuration: Configuration) -> int:
        """Index of the first graph node the configuration changes (0: nothing to reuse).

        A configured module and everything inside it count as changed.
        """
        if not self.enabled:
            return 0
        first = len(self._nodes)
        for name, layer in configuration.layers:
            if layer.weights is None and layer.activations is None and layer.accumulator is None:
                continue
            hits = [i for target, i in self._first.items() if _within(target, name)]
            first = min(first, *hits) if hits else 0
        return first if first < len(self._nodes) else 0

    def run(
        self, approximated: nn.Module, configuration: Configuration, x: torch.Tensor, key: Hashable
    ) -> torch.Tensor:
        """The approximated model's output on batch `x` (identified by `key`), computing only
        what follows the first changed node when the prefix's values are cached."""
        cut = self.cut(configuration)
        if cut <= 1:
            return approximated(x)
        env = self._prefix(cut, x, key)
        return self._execute(approximated, dict(env), x, start=cut)

    def _prefix(self, cut: int, x: torch.Tensor, key: Hashable) -> dict[fx.Node, Any]:
        entry_key = (key, cut)
        env = self._entries.get(entry_key)
        if env is not None:
            self._entries.move_to_end(entry_key)
            self.hits_ += 1
            return env
        self.misses_ += 1
        start, values = self._nearest(cut, key)
        self._execute(self.model, values, x, start=start, stop=cut)
        env = {n: v for n, v in values.items() if self._last_use[n] >= cut}
        size = sum(v.numel() * v.element_size() for v in env.values() if torch.is_tensor(v))
        if size <= self.max_bytes:
            self._entries[entry_key] = env
            self._bytes += size
            while self._bytes > self.max_bytes and len(self._entries) > 1:
                _, old = self._entries.popitem(last=False)
                self._bytes -= sum(
                    v.numel() * v.element_size() for v in old.values() if torch.is_tensor(v)
                )
        return env

    def _nearest(self, cut: int, key: Hashable) -> tuple[int, dict[fx.Node, Any]]:
        """The cached cut of batch `key` closest below `cut` and a copy of its values, to
        continue from (a sweep in network order then runs one more layer per new cut); the
        graph's start when none is cached."""
        below = [c for k, c in self._entries if k == key and c < cut]
        if not below:
            return 0, {}
        start = max(below)
        self._entries.move_to_end((key, start))
        return start, dict(self._entries[(key, start)])

    def _execute(
        self,
        root: nn.Module,
        env: dict[fx.Node, Any],
        x: torch.Tensor,
        *,
        start: int,
        stop: int | None = None,
    ) -> Any:
        """Run nodes [start, stop) of the graph on `root`'s modules; values land in `env`."""
        modules = dict(root.named_modules())
        nodes = self._nodes[start:stop]
        position = {n: i for i, n in enumerate(self._nodes)}

        def load(value: Any) -> Any:
            return fx.node.map_arg(value, lambda n: env[n])

        for node in nodes:
            if node.op == "placeholder":
                env[node] = x
            elif node.op == "call_module":
                env[node] = modules[str(node.target)](*load(node.args), **load(node.kwargs))
            elif node.op == "call_function":
                env[node] = node.target(*load(node.args), **load(node.kwargs))
            elif node.op == "call_method":
                this, *rest = load(node.args)
                env[node] = getattr(this, str(node.target))(*rest, **load(node.kwargs))
            elif node.op == "get_attr":
                env[node] = operator.attrgetter(str(node.target))(root)
            elif node.op == "output":
                return load(node.args[0])
            # free what no later node reads (keeps memory at one forward pass's)
            for used in node.all_input_nodes:
                if self._last_use[used] == position[node] and stop is None:
                    env.pop(used, None)
        return None

    def __len__(self) -> int:
        return len(self._entries)


_IN_PLACE_OPERATORS = {
    operator.iadd,
    operator.isub,
    operator.imul,
    operator.itruediv,
    operator.ifloordiv,
    operator.imod,
    operator.ipow,
    operator.iand,
    operator.ior,
    operator.ixor,
    operator.ilshift,
    operator.irshift,
    operator.imatmul,
}


def _in_place_node(graph: fx.Graph, modules: dict[str, nn.Module]) -> str | None:
    """The name of a node that overwrites one of its inputs, if any: a module built with
    ``inplace=True`` (``nn.ReLU(inplace=True)``), a tensor method such as ``add_``, or a
    function called with ``inplace=True``, ending in ``_`` (``torch.relu_``) or augmented
    assignment (``operator.iadd``)."""
    for node in graph.nodes:
        if node.op == "call_module":
            if getattr(modules.get(str(node.target)), "inplace", False):
                return node.name
        elif node.op == "call_method":
            name = str(node.target)
            if name.endswith("_") and not name.endswith("__"):
                return node.name
        elif node.op == "call_function":
            name = getattr(node.target, "__name__", "")
            if (
                node.target in _IN_PLACE_OPERATORS
                or node.kwargs.get("inplace") is True
                or (name.endswith("_") and not name.endswith("__"))
            ):
                return node.name
    return None


def _within(target: str, name: str) -> bool:
    """Whether module `target` is `name` or inside it."""
    return target == name or target.startswith(name + ".")
