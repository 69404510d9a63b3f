"""Search spaces: the variables of a study and their decoding into a Configuration."""

from search_spaces._choices import (
    ActivationChoices,
    CodebookChoice,
    LayerChoices,
    WeightChoices,
)
from search_spaces._pruning import gated_points, layer_options, prune_space
from search_spaces._space import (
    KIND_FIELDS,
    LayerDomain,
    SearchSpace,
    SpaceError,
)
from search_spaces._variable import Variable

__all__ = [
    "KIND_FIELDS",
    "ActivationChoices",
    "CodebookChoice",
    "WeightChoices",
    "LayerChoices",
    "LayerDomain",
    "SearchSpace",
    "SpaceError",
    "Variable",
    "gated_points",
    "layer_options",
    "prune_space",
]
