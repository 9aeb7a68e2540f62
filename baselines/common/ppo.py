"""PPO pieces shared by the multi-agent trainers: Gaussian actors, clipped losses, the update loop.

Everything carries a leading *trial* axis K (:mod:`baselines.common.stacked`): K independent trials
(seeds) update together as one computation, and a solo trial is K = 1. Losses are per trial (K,),
their sum is back-propagated (trial k's parameters only see trial k's loss), gradient norms are
clipped per trial, and each trial draws its minibatch order from its own generator.

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

from baselines.common.stacked import clip_grad_norm_per_trial, layer_init, mlp

__all__ = [
    "GaussianActor",
    "clipped_policy_loss",
    "clipped_value_loss",
    "gaussian_log_prob",
    "layer_init",
    "mlp",
    "normalize",
    "ppo_epochs",
    "trial_mean",
]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


class GaussianActor(nn.Module):
    """K actors: observations (K, ..., in_dim) -> means of a 1-D Gaussian action (K, ...).

    ``log_std`` (K,) is state-independent, one per trial.
    """

    def __init__(self, in_dim: int, hidden: Sequence[int] = (64, 64), log_std_init: float = 0.0,
                 trials: int = 1) -> None:
        super().__init__()
        self.in_dim = int(in_dim)
        self.net = mlp(in_dim, hidden, 1, out_gain=0.01, trials=trials)
        self.log_std = nn.Parameter(torch.full((trials,), float(log_std_init)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Mean action, shape ``x.shape[:-1]``."""
        K = x.shape[0]
        return self.net(x.reshape(K, -1, self.in_dim)).reshape(x.shape[:-1])


def gaussian_log_prob(mean: torch.Tensor, log_std: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
    """Elementwise log N(action; mean, exp(log_std)^2) of the unclipped action."""
    z = (action - mean) * torch.exp(-log_std)
    return -0.5 * z * z - log_std - _LOG_SQRT_2PI


def trial_mean(x: torch.Tensor) -> torch.Tensor:
    """Mean over everything but the leading trial axis: (K, ...) -> (K,)."""
    return x.mean(dim=tuple(range(1, x.dim()))) if x.dim() > 1 else x


def normalize(x: torch.Tensor, dim: int | None = None, eps: float = 1e-8) -> torch.Tensor:
    """Zero mean, unit std (over ``dim``, or over everything)."""
    if dim is None:
        return (x - x.mean()) / (x.std() + eps)
    return (x - x.mean(dim, keepdim=True)) / (x.std(dim, keepdim=True) + eps)


def clipped_policy_loss(new_logp: torch.Tensor, old_logp: torch.Tensor, adv: torch.Tensor, clip: float
                        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """PPO's clipped surrogate (to minimise), the approximate KL and the clip fraction, each (K,)."""
    log_ratio = new_logp - old_logp
    ratio = log_ratio.exp()
    loss = trial_mean(torch.max(-adv * ratio, -adv * ratio.clamp(1.0 - clip, 1.0 + clip)))
    with torch.no_grad():
        approx_kl = trial_mean((ratio - 1.0) - log_ratio)
        clipfrac = trial_mean(((ratio - 1.0).abs() > clip).float())
    return loss, approx_kl, clipfrac


def clipped_value_loss(new_v: torch.Tensor, old_v: torch.Tensor, returns: torch.Tensor, clip: float) -> torch.Tensor:
    """0.5 * mean(max((v - R)^2, (v_clipped - R)^2)) per trial, v_clipped within ``clip`` of the rollout's value."""
    v_clipped = old_v + (new_v - old_v).clamp(-clip, clip)
    return 0.5 * trial_mean(torch.max((new_v - returns) ** 2, (v_clipped - returns) ** 2))


def ppo_optimizer(params: Iterable[nn.Parameter], lr: float) -> torch.optim.Optimizer:
    """The trainers' Adam (eps 1e-5). Its multi-tensor implementation does the per-element arithmetic of
    the one-parameter-at-a-time loop torch uses on the CPU by default (the same numbers, bit for bit)
    in a few calls over all parameters instead of a dozen per parameter, which at these network
    sizes is most of an optimizer step."""
    return torch.optim.Adam(params, lr=lr, eps=1e-5, foreach=True)


def ppo_epochs(
    num_samples: int,
    epochs: int,
    minibatches: int,
    loss_fn: Callable[[torch.Tensor], tuple[torch.Tensor, dict[str, torch.Tensor]]],
    optimizer: torch.optim.Optimizer,
    params: Iterable[nn.Parameter],
    max_grad_norm: float,
    rngs: Sequence[np.random.Generator],
    device: str | torch.device = "cpu",
) -> list[dict[str, float]]:
    """``epochs`` passes over each trial's shuffled rollout in ``minibatches`` minibatches.

    Trial k shuffles its ``num_samples`` samples with ``rngs[k]``. ``loss_fn(idx)`` gets a (K, mb)
    LongTensor of sample indices and returns the K losses and (K,) stats to log. Returns, per trial,
    the mean of each logged stat.
    """
    params = list(params)
    K = len(rngs)
    mb = num_samples // minibatches
    if mb < 1:
        raise ValueError(f"{num_samples} samples cannot be split into {minibatches} minibatches")
    sums: list[dict[str, float]] = [{} for _ in range(K)]
    n = 0
    for _ in range(epochs):
        perm = torch.as_tensor(np.stack([rng.permutation(num_samples) for rng in rngs]), device=device)
        for m in range(minibatches):
            idx = perm[:, m * mb:(m + 1) * mb]
            loss, stats = loss_fn(idx)
            optimizer.zero_grad(set_to_none=True)
            loss.sum().backward()  # d(sum)/d(loss_k) = 1: trial k's gradient is its own loss's
            clip_grad_norm_per_trial(params, max_grad_norm)
            optimizer.step()
            if stats:  # one device-to-host copy for all stats
                table = torch.stack([v.detach().reshape(K) for v in stats.values()]).cpu().tolist()
                for key, row in zip(stats, table):
                    for k, v in enumerate(row):
                        sums[k][key] = sums[k].get(key, 0.0) + v
            n += 1
    return [{key: v / n for key, v in s.items()} for s in sums]
