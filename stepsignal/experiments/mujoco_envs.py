"""Which of gym 0.26's MuJoCo v4 envs step with the installed ``mujoco`` (benchmarks/speed/PYTHON_VERSIONS.md).

    python -m stepsignal.experiments.mujoco_envs

Prints, one line per env, ``steps`` or the error. Each env is made with gym's checker off (it fails on numpy 2 for reasons of its own), reset with
seed 0 and stepped 100 times with random actions. Needs ``pip install -e ".[mujoco]"``.
"""
import sys

ENVS = ('Ant-v4', 'HalfCheetah-v4', 'Hopper-v4', 'Humanoid-v4', 'HumanoidStandup-v4', 'InvertedDoublePendulum-v4',
        'InvertedPendulum-v4', 'Pusher-v4', 'Reacher-v4', 'Swimmer-v4', 'Walker2d-v4')
"""gym 0.26.2's MuJoCo envs on the ``mujoco`` bindings (v2 and v3 need mujoco-py)."""
STEPS = 100


def tried(name):
    """``'steps'``, or the first line of the error making, resetting or stepping ``name`` raised."""
    import gym

    try:
        env = gym.make(name, disable_env_checker=True)
        env.reset(seed=0)
        env.action_space.seed(0)
        for _ in range(STEPS):
            env.step(env.action_space.sample())
        env.close()
        return 'steps'
    except Exception as error:  # what the user of an old script would meet: XML errors, missing modules
        return f'{type(error).__name__}: {(str(error).splitlines() or [""])[0]}'


def main(argv=None):
    from shared.cli import command_parser, refuse
    from shared.quiet import GYM_NOISE, held_back

    parser = command_parser('python -m stepsignal.experiments.mujoco_envs', __doc__)
    parser.parse_args(argv)
    with held_back(GYM_NOISE):  # gym's "unmaintained" notice
        import gym
    try:
        import mujoco
    except ImportError:
        refuse(parser, 'the MuJoCo bindings are not installed: pip install -e ".[mujoco]"')

    sys.stdout.write(f'Python {sys.version.split()[0]}, mujoco {mujoco.__version__}, gym {gym.__version__}\n')
    for name in ENVS:
        sys.stdout.write(f'{name}: {tried(name)}\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
