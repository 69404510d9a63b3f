"""dse from Python: your own torch model and tensors in memory -> study -> front -> plot.

Run it with `python examples/library.py` (about 30 s). The first part is yours: any trained
`nn.Module` and its data as tensors. The second part is dse: six statements.
"""

from __future__ import annotations

import torch
from sklearn.datasets import load_digits
from torch import nn

from dse import Problem, minimize
from evaluators import DataSplit

# --- Your model and data (here: a small MLP trained on scikit-learn's 8x8 digits) ----------
digits = load_digits()
x = torch.tensor(digits.data, dtype=torch.float32) / 16.0
y = torch.tensor(digits.target)
generator = torch.Generator().manual_seed(0)
order = torch.randperm(len(y), generator=generator)
train, held_out = order[:1200], order[1200:]
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
for _ in range(150):
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(x[train]), y[train]).backward()
    optimizer.step()

# --- dse: per-layer fixed point or shared weights, accuracy against weight memory ----------
problem = Problem.from_model(
    model,
    validation=DataSplit(x[held_out], y[held_out]),
    search_space={"weights": {"kinds": ["fixed", "shared"], "bits": [2, 8]}},
)
result = minimize(problem, "nsga2", budget=60, seed=0)
for point in result.front.points:
    print(point.values, {name: str(layer.weights) for name, layer in point.configuration.layers})
result.plot().figure_.savefig("library_front.png")
