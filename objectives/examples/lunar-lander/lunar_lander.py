#!/usr/bin/env python3
"""Lunar Lander objective for `les` (algorithm notes §16.4): a command objective.

Reads {"x": [w0, ..., w11]} (12 weights in [0, 1]) from stdin, flies the heuristic controller
below with those weights on Gymnasium's LunarLander-v3 (discrete actions, default settings) for
the environment seeds 0 .. episodes-1, and prints {"y": -mean_total_reward} (les minimizes).

Episodes: 500 by default (what the reference code uses; its comment says 100). For quick checks
set `--episodes N` or the environment variable LES_LUNAR_EPISODES=N (the argument wins).
Needs `pip install "gymnasium[box2d]"`.
"""

import argparse
import json
import os
import sys

DEFAULT_EPISODES = 500
DIM = 12


def heuristic_controller(s, w):
    """The reference's heuristic: 12 weights, state s = (x, y, vx, vy, angle, angular velocity,
    leg1 contact, leg2 contact). Returns 0 (noop), 1 (left engine), 2 (main) or 3 (right)."""
    angle_target = s[0] * w[0] + s[2] * w[1]
    angle_target = min(max(angle_target, -w[2]), w[2])
    hover_target = w[3] * abs(s[0])
    angle_todo = (angle_target - s[4]) * w[4] - s[5] * w[5]
    hover_todo = (hover_target - s[1]) * w[6] - s[3] * w[7]
    if s[6] or s[7]:
        angle_todo = w[8]
        hover_todo = -s[3] * w[9]
    if hover_todo > abs(angle_todo) and hover_todo > w[10]:
        return 2
    if angle_todo < -w[11]:
        return 3
    if angle_todo > w[11]:
        return 1
    return 0


def episode_reward(env, w, seed):
    state, _ = env.reset(seed=seed)
    total = 0.0
    while True:
        state, reward, terminated, truncated, _ = env.step(heuristic_controller(state, w))
        total += float(reward)
        if terminated or truncated:
            return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=None, help="environment seeds 0..N-1 (default 500)")
    args = parser.parse_args()
    episodes = args.episodes or int(os.environ.get("LES_LUNAR_EPISODES", DEFAULT_EPISODES))
    if episodes < 1:
        sys.exit("episodes must be at least 1")

    request = json.loads(sys.stdin.read())
    w = [float(v) for v in request["x"]]
    if len(w) != DIM:
        sys.exit(f"expected {DIM} weights, got {len(w)}")

    try:
        import gymnasium as gym
    except ImportError:
        sys.exit('gymnasium is not installed: pip install "gymnasium[box2d]"')
    env = gym.make("LunarLander-v3")
    try:
        mean = sum(episode_reward(env, w, seed) for seed in range(episodes)) / episodes
    finally:
        env.close()
    print(json.dumps({"y": -mean}))


if __name__ == "__main__":
    main()
