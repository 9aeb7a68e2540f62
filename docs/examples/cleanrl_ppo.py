"""PPO with continuous actions on a meio-envs scenario, in one file (CleanRL style).

Everything the algorithm does is in this file: the environment set-up, the agent, the rollout,
generalised advantage estimation and the clipped PPO update. It needs only torch, numpy and
gymnasium, and it never imports ``meio_envs``: the id ``"meio_envs:MEIO-A1-v0"`` tells
``gym.make`` to import the ``meio_envs`` module (which registers the ids) before it looks the id
up, so any script that takes an env id on its command line runs these environments unchanged.

    python docs/examples/cleanrl_ppo.py --total-timesteps 100000 --num-envs 8 --seed 1
    python docs/examples/cleanrl_ppo.py --vec native   # the package's batched vector env

``--vec sync`` (the default) is CleanRL's set-up: ``gym.vector.SyncVectorEnv`` over ``gym.make``
copies, each wrapped in RecordEpisodeStatistics, ClipAction, NormalizeObservation and
NormalizeReward. ``--vec native`` asks ``gym.make_vec`` for the package's own vector env (all copies
on one batched simulator, much faster for many copies) and uses Gymnasium's vector wrappers; it
leaves out NormalizeObservation, whose running statistics would not apply to ``info["final_obs"]``
(the observations are already scaled to [-1, 1]).

Episodes of the MEIO envs never terminate; they are truncated after ``episode_length`` (128)
periods. The vector env resets a copy in the same step (``AutoresetMode.SAME_STEP``) and hands
back the last observation in ``info["final_obs"]``; the update bootstraps a truncated episode from
the value of that observation instead of treating the truncation as the end of the world.

Each finished episode prints ``global_step=..., episodic_return=...`` (the undiscounted sum of
``reward = -cost / 1000`` over the episode, before reward normalisation); the last line is the
mean over the final iteration's episodes.
"""

from __future__ import annotations

import argparse
import math
import random
import time

import gymnasium as gym
import numpy as np
import torch
from torch import nn, optim
from torch.distributions.normal import Normal


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--env-id", default="meio_envs:MEIO-A1-v0", help="Gymnasium id, module:id form")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--total-timesteps", type=int, default=500_000, help="environment steps over all copies")
    p.add_argument("--num-envs", type=int, default=8, help="parallel copies of the env")
    p.add_argument("--num-steps", type=int, default=128, help="steps per copy per rollout")
    p.add_argument("--vec", choices=("sync", "native"), default="sync",
                   help="SyncVectorEnv over gym.make copies, or the package's batched vector env")
    p.add_argument("--learning-rate", type=float, default=3e-4)
    p.add_argument("--anneal-lr", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--gamma", type=float, default=0.99)
    p.add_argument("--gae-lambda", type=float, default=0.95)
    p.add_argument("--num-minibatches", type=int, default=4)
    p.add_argument("--update-epochs", type=int, default=10)
    p.add_argument("--norm-adv", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--clip-coef", type=float, default=0.2)
    p.add_argument("--clip-vloss", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--ent-coef", type=float, default=0.0)
    p.add_argument("--vf-coef", type=float, default=0.5)
    p.add_argument("--max-grad-norm", type=float, default=0.5)
    p.add_argument("--target-kl", type=float, default=None)
    p.add_argument("--torch-deterministic", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--cuda", action=argparse.BooleanOptionalAction, default=False, help="train on CUDA if available")
    args = p.parse_args(argv)
    args.batch_size = args.num_envs * args.num_steps
    args.minibatch_size = args.batch_size // args.num_minibatches
    args.num_iterations = args.total_timesteps // args.batch_size
    if args.num_iterations < 1 or args.minibatch_size < 1:
        p.error(f"--total-timesteps {args.total_timesteps} is less than one rollout "
                f"(num_envs x num_steps = {args.batch_size}) or the minibatches are empty")
    return args


def make_env(env_id: str, gamma: float):
    """A thunk building one wrapped copy (SyncVectorEnv calls it once per copy)."""

    def thunk() -> gym.Env:
        env = gym.make(env_id)
        env = gym.wrappers.RecordEpisodeStatistics(env)  # before NormalizeReward: records the raw return
        env = gym.wrappers.ClipAction(env)
        env = gym.wrappers.NormalizeObservation(env)
        env = gym.wrappers.TransformObservation(env, lambda obs: np.clip(obs, -10, 10), env.observation_space)
        env = gym.wrappers.NormalizeReward(env, gamma=gamma)
        env = gym.wrappers.TransformReward(env, lambda r: float(np.clip(r, -10, 10)))
        return env

    return thunk


def make_envs(args: argparse.Namespace) -> gym.vector.VectorEnv:
    same_step = gym.vector.AutoresetMode.SAME_STEP
    if args.vec == "sync":
        return gym.vector.SyncVectorEnv([make_env(args.env_id, args.gamma) for _ in range(args.num_envs)],
                                        autoreset_mode=same_step)
    envs = gym.make_vec(args.env_id, num_envs=args.num_envs, vectorization_mode="vector_entry_point",
                        autoreset_mode=same_step)
    envs = gym.wrappers.vector.RecordEpisodeStatistics(envs)
    envs = gym.wrappers.vector.ClipAction(envs)
    envs = gym.wrappers.vector.NormalizeReward(envs, gamma=args.gamma)
    envs = gym.wrappers.vector.ClipReward(envs, -10.0, 10.0)
    return envs


def episode_returns(infos: dict) -> np.ndarray:
    """Returns of the episodes that ended this step (RecordEpisodeStatistics' ``episode`` entry).

    A vector wrapper puts it at the top level; per-copy wrappers under SyncVectorEnv's SAME_STEP
    autoreset put it in ``final_info``, since the top level already holds the new episode's info.
    """
    for d in (infos, infos.get("final_info", {})):
        if "episode" in d:
            return np.asarray(d["episode"]["r"])[np.asarray(d["_episode"])]
    return np.zeros(0)


def layer_init(layer: nn.Linear, std: float = math.sqrt(2), bias_const: float = 0.0) -> nn.Linear:
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    """Separate actor and critic MLPs (64-64, tanh); a state-independent log-std per action."""

    def __init__(self, obs_dim: int, act_dim: int) -> None:
        super().__init__()
        self.critic = nn.Sequential(
            layer_init(nn.Linear(obs_dim, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, 1), std=1.0),
        )
        self.actor_mean = nn.Sequential(
            layer_init(nn.Linear(obs_dim, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, act_dim), std=0.01),
        )
        self.actor_logstd = nn.Parameter(torch.zeros(1, act_dim))

    def get_value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(x)

    def get_action_and_value(self, x: torch.Tensor, action: torch.Tensor | None = None):
        mean = self.actor_mean(x)
        probs = Normal(mean, self.actor_logstd.expand_as(mean).exp())
        if action is None:
            action = probs.sample()
        return action, probs.log_prob(action).sum(1), probs.entropy().sum(1), self.critic(x)


def main(argv: list[str] | None = None) -> float:
    args = parse_args(argv)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.backends.cudnn.deterministic = args.torch_deterministic
    device = torch.device("cuda" if torch.cuda.is_available() and args.cuda else "cpu")

    envs = make_envs(args)
    assert isinstance(envs.single_action_space, gym.spaces.Box), "only continuous action spaces are supported"
    obs_dim = int(np.prod(envs.single_observation_space.shape))
    act_dim = int(np.prod(envs.single_action_space.shape))
    agent = Agent(obs_dim, act_dim).to(device)
    optimizer = optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)

    # Rollout storage: (num_steps, num_envs, ...).
    obs = torch.zeros((args.num_steps, args.num_envs, obs_dim), device=device)
    actions = torch.zeros((args.num_steps, args.num_envs, act_dim), device=device)
    logprobs = torch.zeros((args.num_steps, args.num_envs), device=device)
    rewards = torch.zeros((args.num_steps, args.num_envs), device=device)
    dones = torch.zeros((args.num_steps, args.num_envs), device=device)
    values = torch.zeros((args.num_steps, args.num_envs), device=device)

    global_step = 0
    start_time = time.time()
    next_obs, _ = envs.reset(seed=args.seed)
    next_obs = torch.as_tensor(next_obs, dtype=torch.float32, device=device)
    next_done = torch.zeros(args.num_envs, device=device)
    last_returns: list[float] = []

    for iteration in range(1, args.num_iterations + 1):
        if args.anneal_lr:
            optimizer.param_groups[0]["lr"] = (1.0 - (iteration - 1.0) / args.num_iterations) * args.learning_rate
        iteration_returns: list[float] = []

        for step in range(args.num_steps):
            global_step += args.num_envs
            obs[step] = next_obs
            dones[step] = next_done
            with torch.no_grad():
                action, logprob, _, value = agent.get_action_and_value(next_obs)
            values[step] = value.flatten()
            actions[step] = action
            logprobs[step] = logprob

            o, reward, terminations, truncations, infos = envs.step(action.cpu().numpy())
            reward = np.asarray(reward, dtype=np.float32).copy()
            # Truncated, not terminated: bootstrap from the value of the episode's last observation.
            if "final_obs" in infos:
                cut = np.flatnonzero(np.asarray(truncations) & ~np.asarray(terminations)
                                     & np.asarray(infos["_final_obs"]))
                if cut.size:
                    final = torch.as_tensor(np.stack([infos["final_obs"][i] for i in cut]),
                                            dtype=torch.float32, device=device)
                    with torch.no_grad():
                        reward[cut] += args.gamma * agent.get_value(final).flatten().cpu().numpy()
            rewards[step] = torch.as_tensor(reward, device=device)
            next_obs = torch.as_tensor(o, dtype=torch.float32, device=device)
            next_done = torch.as_tensor(np.logical_or(terminations, truncations), dtype=torch.float32, device=device)

            for r in episode_returns(infos):
                print(f"global_step={global_step}, episodic_return={float(r):.4f}", flush=True)
                iteration_returns.append(float(r))
        if iteration_returns:
            last_returns = iteration_returns

        # Generalised advantage estimation; a done step cuts the recursion (its bootstrap is in the reward).
        with torch.no_grad():
            next_value = agent.get_value(next_obs).reshape(1, -1)
            advantages = torch.zeros_like(rewards)
            lastgaelam = torch.zeros(args.num_envs, device=device)
            for t in reversed(range(args.num_steps)):
                if t == args.num_steps - 1:
                    nextnonterminal = 1.0 - next_done
                    nextvalues = next_value
                else:
                    nextnonterminal = 1.0 - dones[t + 1]
                    nextvalues = values[t + 1]
                delta = rewards[t] + args.gamma * nextvalues * nextnonterminal - values[t]
                advantages[t] = lastgaelam = delta + args.gamma * args.gae_lambda * nextnonterminal * lastgaelam
            returns = advantages + values

        b_obs = obs.reshape((-1, obs_dim))
        b_logprobs = logprobs.reshape(-1)
        b_actions = actions.reshape((-1, act_dim))
        b_advantages = advantages.reshape(-1)
        b_returns = returns.reshape(-1)
        b_values = values.reshape(-1)

        # The clipped PPO update.
        b_inds = np.arange(args.batch_size)
        clipfracs = []
        for _epoch in range(args.update_epochs):
            np.random.shuffle(b_inds)
            for start in range(0, args.batch_size, args.minibatch_size):
                mb_inds = b_inds[start:start + args.minibatch_size]
                _, newlogprob, entropy, newvalue = agent.get_action_and_value(b_obs[mb_inds], b_actions[mb_inds])
                logratio = newlogprob - b_logprobs[mb_inds]
                ratio = logratio.exp()
                with torch.no_grad():
                    approx_kl = ((ratio - 1) - logratio).mean()
                    clipfracs.append(((ratio - 1.0).abs() > args.clip_coef).float().mean().item())

                mb_advantages = b_advantages[mb_inds]
                if args.norm_adv:
                    mb_advantages = (mb_advantages - mb_advantages.mean()) / (mb_advantages.std() + 1e-8)
                pg_loss = torch.max(-mb_advantages * ratio,
                                    -mb_advantages * torch.clamp(ratio, 1 - args.clip_coef, 1 + args.clip_coef)).mean()

                newvalue = newvalue.view(-1)
                if args.clip_vloss:
                    v_loss_unclipped = (newvalue - b_returns[mb_inds]) ** 2
                    v_clipped = b_values[mb_inds] + torch.clamp(newvalue - b_values[mb_inds], -args.clip_coef, args.clip_coef)
                    v_loss_clipped = (v_clipped - b_returns[mb_inds]) ** 2
                    v_loss = 0.5 * torch.max(v_loss_unclipped, v_loss_clipped).mean()
                else:
                    v_loss = 0.5 * ((newvalue - b_returns[mb_inds]) ** 2).mean()

                loss = pg_loss - args.ent_coef * entropy.mean() + v_loss * args.vf_coef
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                optimizer.step()
            if args.target_kl is not None and approx_kl > args.target_kl:
                break

        y_pred, y_true = b_values.cpu().numpy(), b_returns.cpu().numpy()
        var_y = np.var(y_true)
        explained_var = np.nan if var_y == 0 else 1 - np.var(y_true - y_pred) / var_y
        sps = int(global_step / (time.time() - start_time))
        print(f"iteration={iteration}/{args.num_iterations} global_step={global_step} SPS={sps} "
              f"value_loss={v_loss.item():.4f} policy_loss={pg_loss.item():.4f} approx_kl={approx_kl.item():.5f} "
              f"clipfrac={np.mean(clipfracs):.3f} explained_variance={explained_var:.3f}", flush=True)

    envs.close()
    mean_return = float(np.mean(last_returns)) if last_returns else float("nan")
    print(f"final mean episodic_return={mean_return:.4f} ({len(last_returns)} episodes of the last iteration "
          f"with any; {global_step} steps in {time.time() - start_time:.1f} s)")
    return mean_return


if __name__ == "__main__":
    main()
