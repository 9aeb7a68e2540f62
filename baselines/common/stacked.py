"""The trial axis: K independent networks stored and run as one, so K seeds train as one computation.

Every parameter of a *stacked* module has a leading axis of length K, one slice per trial, and every
forward pass takes inputs ``(K, N, ...)``. Trial k's slice sees only its own parameters and data, so
a stacked module of K trials computes, for each trial, what a stacked module of one trial computes.

Bitwise, not just mathematically: on the CPU, ``nn.Linear`` (addmm / gemv) and ``torch.bmm`` pick
different MKL kernels depending on the shapes *and on the batch count* when a matrix side is 1 (an
input layer of one feature, an output layer of one action), so their results change in the last
bits with K. :class:`StackedLinear` therefore computes size-1 sides with exactly-rounded elementwise
ops (``x * w + b``, ``(x * w).sum(-1) + b``) and everything else with ``baddbmm``; tested: trial k of
K in {1, ..., 16} is bit-identical to K = 1, forward and backward (tests/baselines/test_stacked.py).
Adam (``torch.optim.Adam``, default single-tensor implementation) is elementwise and stays
bit-identical per slice; the fused CPU Adam does not (its vector tail moves with K) and is not used.
Gradient-norm clipping is per trial (:func:`clip_grad_norm_per_trial`).

A trial's parameters are saved in the *unstacked* format (``trial_state``: the leading axis
dropped), which is the format of the checkpoints written before the trial axis existed, so a trial
trained in a batch, alone, or by an older version loads the same way.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

import torch
from torch import nn

__all__ = [
    "StackedLinear",
    "clip_grad_norm_per_trial",
    "contiguous_grad",
    "fused_mlp",
    "layer_init",
    "load_trial_state",
    "mlp",
    "num_trials",
    "select_trials",
    "stack_modules",
    "stack_optimizer_states",
    "stacked_linear",
    "trial_optimizer_state",
    "trial_state",
]

M = TypeVar("M", bound=nn.Module)


def layer_init(layer: nn.Linear, gain: float = math.sqrt(2.0)) -> nn.Linear:
    """Orthogonal weights, zero bias (CleanRL's initialisation)."""
    nn.init.orthogonal_(layer.weight, gain)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    return layer


class StackedLinear(nn.Module):
    """K linear layers: ``x (K, N, in) -> (K, N, out)``; weight ``(K, out, in)``, bias ``(K, out)``.

    Trial k is initialised like ``nn.Linear(in, out)`` followed by :func:`layer_init` (or, with
    ``gain=None``, left at ``init``'s values), drawing from the global torch RNG in trial order.
    """

    def __init__(self, in_dim: int, out_dim: int, trials: int = 1, bias: bool = True,
                 gain: float | None = math.sqrt(2.0)) -> None:
        super().__init__()
        ws, bs = [], []
        for _ in range(trials):
            lin = nn.Linear(in_dim, out_dim, bias=bias)
            if gain is not None:
                layer_init(lin, gain)
            ws.append(lin.weight.detach())
            if bias:
                bs.append(lin.bias.detach())
        self.weight = nn.Parameter(torch.stack(ws))
        self.bias = nn.Parameter(torch.stack(bs)) if bias else None

    @classmethod
    def from_weights(cls, weight: torch.Tensor, bias: torch.Tensor | None = None) -> StackedLinear:
        """A layer holding the given (K, out, in) weights and (K, out) biases (no RNG drawn)."""
        obj = cls.__new__(cls)
        nn.Module.__init__(obj)
        obj.weight = nn.Parameter(weight.detach().clone())
        obj.bias = None if bias is None else nn.Parameter(bias.detach().clone())
        return obj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(K, N, in) -> (K, N, out)."""
        return stacked_linear(x, self.weight, self.bias)


def stacked_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``x`` (K, N, in), ``weight`` (K, out, in), ``bias`` (K, out) -> (K, N, out); slice k independent of K."""
    K, out_dim, in_dim = weight.shape
    if x.dim() != 3 or x.shape[0] != K or x.shape[2] != in_dim:
        raise ValueError(f"expected input (K={K}, N, {in_dim}), got {tuple(x.shape)}")
    x = x.contiguous()
    b = None if bias is None else bias.unsqueeze(1)
    if in_dim == 1:  # outer product: one exactly rounded product per entry
        y = x * weight.transpose(1, 2)
    elif out_dim == 1:  # one dot product per row: a row reduction, the same for every K
        y = (x * weight).sum(-1, keepdim=True)
    elif b is not None:
        return torch.baddbmm(b, x, weight.transpose(1, 2))
    else:
        return torch.bmm(x, weight.transpose(1, 2))
    return y if b is None else y + b


class _ContiguousGrad(torch.autograd.Function):
    """Identity whose backward makes the incoming gradient contiguous."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        return grad.contiguous()


def contiguous_grad(x: torch.Tensor) -> torch.Tensor:
    """``x``, with its gradient made contiguous on the way back.

    Reductions (a bias gradient sums over rows) run in another order over a strided tensor than over a
    contiguous one, so a layer's gradients would change in the last bits with how its output is laid
    out downstream (e.g. permuted back into per-agent columns).
    """
    return _ContiguousGrad.apply(x)


def fused_mlp(mlps: Sequence[nn.Sequential], x: torch.Tensor) -> torch.Tensor:
    """Several stacked MLPs of one architecture as one: ``x`` (G*K, N, in), slices g*K .. (g+1)*K - 1 for
    ``mlps[g]`` -> (G*K, N, out). Each slice computes exactly what ``mlps[g]`` computes on its K slices
    (the kernels do not depend on the number of slices); one call instead of G saves G-1 times the
    per-operation overhead, which dominates at these sizes."""
    h = x
    for layers in zip(*mlps):
        if isinstance(layers[0], StackedLinear):
            bias = None if layers[0].bias is None else torch.cat([m.bias for m in layers])
            h = stacked_linear(h, torch.cat([m.weight for m in layers]), bias)
        else:
            h = layers[0](h)  # an activation: the same module in every MLP
    return contiguous_grad(h)


def mlp(in_dim: int, hidden: Sequence[int], out_dim: int, out_gain: float = 1.0, trials: int = 1) -> nn.Sequential:
    """K ReLU MLPs (the report's activation) with orthogonal initialisation: (K, N, in) -> (K, N, out)."""
    layers: list[nn.Module] = []
    d = in_dim
    for h in hidden:
        layers += [StackedLinear(d, h, trials), nn.ReLU()]
        d = h
    layers.append(StackedLinear(d, out_dim, trials, gain=out_gain))
    return nn.Sequential(*layers)


def num_trials(module: nn.Module) -> int:
    """K of a stacked module (the leading axis of its parameters)."""
    return next(module.parameters()).shape[0]


def _with_params(template: M, params: Mapping[str, torch.Tensor]) -> M:
    out = copy.deepcopy(template)
    for name, value in params.items():
        *path, leaf = name.split(".")
        owner = out.get_submodule(".".join(path)) if path else out
        setattr(owner, leaf, nn.Parameter(value, requires_grad=getattr(owner, leaf).requires_grad))
    return out


def stack_modules(modules: Sequence[M]) -> M:
    """One stacked module holding the trials of ``modules`` (same structure) in order.

    Buffers (index tables, graph edges) are taken from the first module: they must not depend on the trial.
    """
    if not modules:
        raise ValueError("nothing to stack")
    names = [n for n, _ in modules[0].named_parameters()]
    per = [dict(m.named_parameters()) for m in modules]
    return _with_params(modules[0], {n: torch.cat([p[n].detach() for p in per]) for n in names})


def select_trials(module: M, trials: Sequence[int] | torch.Tensor) -> M:
    """A stacked module of the given trials of ``module`` (copies)."""
    idx = torch.as_tensor(trials, dtype=torch.long)
    return _with_params(module, {n: p.detach()[idx.to(p.device)].clone() for n, p in module.named_parameters()})


def trial_state(module: nn.Module, k: int) -> dict[str, torch.Tensor]:
    """Trial k's parameters in the unstacked format (leading axis dropped), on the CPU."""
    return {n: p.detach()[k].cpu().clone() for n, p in module.named_parameters()}


def load_trial_state(module: nn.Module, k: int, state: Mapping[str, torch.Tensor]) -> None:
    """Write an unstacked state (:func:`trial_state`) into trial k of ``module``."""
    params = dict(module.named_parameters())
    missing, unexpected = set(params) - set(state), set(state) - set(params)
    if missing or unexpected:
        raise KeyError(f"state does not fit the module: missing {sorted(missing)}, unexpected {sorted(unexpected)}")
    with torch.no_grad():
        for n, p in params.items():
            p[k].copy_(torch.as_tensor(state[n]).reshape(p.shape[1:]))


def clip_grad_norm_per_trial(params: Iterable[nn.Parameter], max_norm: float) -> torch.Tensor:
    """``nn.utils.clip_grad_norm_`` for each trial separately; returns the K total norms before clipping.

    Trial k's norm is the 2-norm of the per-parameter 2-norms of its gradient slices (as torch computes it).
    """
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.zeros(0)
    K = grads[0].shape[0]
    norms = torch.stack([torch.linalg.vector_norm(g.reshape(K, -1), dim=1) for g in grads], dim=1)
    total = torch.linalg.vector_norm(norms, dim=1)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    torch._foreach_mul_(grads, [coef.view(K, *([1] * (g.dim() - 1))) for g in grads])  # one call, same products
    return total


_SCALAR_STATE = frozenset({"step"})  # optimizer state shared by all elements of a parameter (Adam's step count)


def _param_shapes(optimizer: torch.optim.Optimizer) -> list[torch.Size]:
    return [p.shape for g in optimizer.param_groups for p in g["params"]]  # state_dict's ids count in this order


def trial_optimizer_state(optimizer: torch.optim.Optimizer, k: int) -> dict[str, Any]:
    """Trial k's slice of an optimizer over stacked parameters, as the state dict of an unstacked one.

    Per-element state (shaped like its parameter: Adam's moments) is sliced; the rest (``step``) copied.
    """
    sd, shapes = optimizer.state_dict(), _param_shapes(optimizer)
    state = {i: {n: (v.detach()[k].cpu().clone() if _per_element(n, v, shapes[i]) else copy.deepcopy(v))
                 for n, v in s.items()} for i, s in sd["state"].items()}
    return {"state": state, "param_groups": copy.deepcopy(sd["param_groups"])}


def stack_optimizer_states(optimizer: torch.optim.Optimizer, states: Sequence[Mapping[str, Any]]) -> None:
    """Load K unstacked optimizer states (:func:`trial_optimizer_state`) into ``optimizer`` (stacked params).

    The trials must be at the same step (they are: a batch moves in lockstep).
    """
    first, shapes = states[0], _param_shapes(optimizer)
    stacked: dict[int, dict[str, Any]] = {}
    for i, s in first["state"].items():
        entry: dict[str, Any] = {}
        for n, v in s.items():
            if _per_element(n, v, shapes[i][1:]):
                entry[n] = torch.stack([torch.as_tensor(st["state"][i][n]) for st in states])
            else:
                if any(not _same(st["state"][i][n], v) for st in states):
                    raise ValueError(f"optimizer states differ in {n!r}: the trials are not at the same step")
                entry[n] = v
        stacked[i] = entry
    optimizer.load_state_dict({"state": stacked, "param_groups": copy.deepcopy(first["param_groups"])})


def _per_element(name: str, value: Any, shape: Sequence[int]) -> bool:
    return name not in _SCALAR_STATE and torch.is_tensor(value) and tuple(value.shape) == tuple(shape)


def _same(a: Any, b: Any) -> bool:
    return bool(torch.equal(a, b)) if torch.is_tensor(a) and torch.is_tensor(b) else a == b
