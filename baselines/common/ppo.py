"""PPO pieces shared by the multi-agent trainers: networks, Gaussian actions, clipped losses, update loop.

Action squashing (documented choice): an actor outputs the mean of a Gaussian over an *unbounded*
action, with a state-independent log standard deviation (one learnable scalar per actor). The sampled
action is stored as sampled, and its log-probability is computed on that *unclipped* sample; only the
copy sent to the environment is clipped to [-1, 1]. This keeps the likelihood ratio of PPO exact (the
clip is part of the environment, as in CleanRL and Stable-Baselines3), at the cost of probability mass
piling up at the bounds (order 0 or the maximum order) when the mean drifts outside [-1, 1]. The
deterministic policy used for evaluation is ``clip(mean, -1, 1)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch
from torch import nn

__all__ = [
    "GaussianActor",
    "clipped_policy_loss",
    "clipped_value_loss",
    "gaussian_log_prob",
    "layer_init",
    "mlp",
    "normalize",
    "ppo_epochs",
]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def layer_init(layer: nn.Linear, gain: float = math.sqrt(2.0)) -> nn.Linear:
    """Orthogonal weights, zero bias (CleanRL's initialisation)."""
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


def mlp(in_dim: int, hidden: Sequence[int], out_dim: int, out_gain: float = 1.0) -> nn.Sequential:
    """ReLU MLP (the report's activation) with orthogonal initialisation."""
    layers: list[nn.Module] = []
    d = in_dim
    for h in hidden:
        layers += [layer_init(nn.Linear(d, h)), nn.ReLU()]
        d = h
    layers.append(layer_init(nn.Linear(d, out_dim), out_gain))
    return nn.Sequential(*layers)


class GaussianActor(nn.Module):
    """One actor: observation (..., in_dim) -> mean of a 1-D Gaussian action (...); state-independent log-std."""

    def __init__(self, in_dim: int, hidden: Sequence[int] = (64, 64), log_std_init: float = 0.0) -> None:
        super().__init__()
        self.in_dim = int(in_dim)
        self.net = mlp(in_dim, hidden, 1, out_gain=0.01)
        self.log_std = nn.Parameter(torch.tensor(float(log_std_init)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Mean action, shape ``x.shape[:-1]``."""
        return self.net(x).squeeze(-1)


def gaussian_log_prob(mean: torch.Tensor, log_std: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
    """Elementwise log N(action; mean, exp(log_std)^2) of the unclipped action."""
    z = (action - mean) * torch.exp(-log_std)
    return -0.5 * z * z - log_std - _LOG_SQRT_2PI


def normalize(x: torch.Tensor, dim: int | None = None, eps: float = 1e-8) -> torch.Tensor:
    """Zero mean, unit std (over ``dim``, or over everything)."""
    if dim is None:
        return (x - x.mean()) / (x.std() + eps)
    return (x - x.mean(dim, keepdim=True)) / (x.std(dim, keepdim=True) + eps)


def clipped_policy_loss(new_logp: torch.Tensor, old_logp: torch.Tensor, adv: torch.Tensor, clip: float
                        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """PPO's clipped surrogate (to minimise), the approximate KL and the clip fraction."""
    log_ratio = new_logp - old_logp
    ratio = log_ratio.exp()
    loss = torch.max(-adv * ratio, -adv * ratio.clamp(1.0 - clip, 1.0 + clip)).mean()
    with torch.no_grad():
        approx_kl = ((ratio - 1.0) - log_ratio).mean()
        clipfrac = ((ratio - 1.0).abs() > clip).float().mean()
    return loss, approx_kl, clipfrac


def clipped_value_loss(new_v: torch.Tensor, old_v: torch.Tensor, returns: torch.Tensor, clip: float) -> torch.Tensor:
    """0.5 * mean(max((v - R)^2, (v_clipped - R)^2)), v_clipped within ``clip`` of the rollout's value."""
    v_clipped = old_v + (new_v - old_v).clamp(-clip, clip)
    return 0.5 * torch.max((new_v - returns) ** 2, (v_clipped - returns) ** 2).mean()


def ppo_epochs(
    num_samples: int,
    epochs: int,
    minibatches: int,
    loss_fn: Callable[[torch.Tensor], tuple[torch.Tensor, dict[str, torch.Tensor]]],
    optimizer: torch.optim.Optimizer,
    params: Iterable[nn.Parameter],
    max_grad_norm: float,
    rng: np.random.Generator,
    device: str | torch.device = "cpu",
) -> dict[str, float]:
    """``epochs`` passes over a shuffled rollout in ``minibatches`` minibatches; mean of the logged stats.

    ``loss_fn(idx)`` gets a LongTensor of sample indices and returns the loss and stats to log.
    """
    params = list(params)
    mb = num_samples // minibatches
    if mb < 1:
        raise ValueError(f"{num_samples} samples cannot be split into {minibatches} minibatches")
    sums: dict[str, float] = {}
    n = 0
    for _ in range(epochs):
        perm = torch.as_tensor(rng.permutation(num_samples), device=device)
        for k in range(minibatches):
            idx = perm[k * mb:(k + 1) * mb]
            loss, stats = loss_fn(idx)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(params, max_grad_norm)
            optimizer.step()
            for key, val in stats.items():
                sums[key] = sums.get(key, 0.0) + float(val)
            n += 1
    return {k: v / n for k, v in sums.items()}
