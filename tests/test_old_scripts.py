"""`python -m stepsignal diagnose` on old keras-rl scripts, unmodified (tests/old_scripts/).

Each script is the kit's own, written in a shape that fails on today's stack: standalone `keras`
imports, a retired env id, `env.seed`, `Adam(lr=)`, `.h5f` weights, a DQN on a discrete space,
a gym 0.26 env, a critic that joins the action late, a tanh actor on a [0, 10] space, a
`gym.GoalEnv` flattened by `FlattenDictWrapper` as the question's script is, an env module beside
its script with a Keras `TensorBoard` callback and noise five times the action range, a Taxi-like
`Embedding` input with arrays in `info`, a script that already does its own port, one that wraps
`gym.make`'s env in its own old-API adapter. Asserted:
no traceback, the exit status (0 no errors, 1 errors found, 2 not checked), the findings, and
that the port reaches fit and trains.
"""
import os
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from command_line import run_command
from stepsignal.doctor import diagnose as dg

SCRIPTS = Path(__file__).parent / 'old_scripts'
ADAPTER = 'ddpg_own_adapter_2024.py'
"""The script that adapts gym.make's env itself: several tests below write variants of it."""


def diagnose_cli(*args, cwd):
    finished = run_command('stepsignal', 'diagnose', *args, cwd=cwd)
    assert 'Traceback' not in finished.stdout + finished.stderr, finished.stderr[-3000:]
    return finished


def checks(output, severity):
    """The check names of the findings of one severity in diagnose's output."""
    return {line.split('[', 1)[1].split(']', 1)[0] for line in output.splitlines()
            if line.startswith(severity.upper()) and '[' in line}


def test_a_2019_script_is_diagnosed_with_every_porting_failure_named(tmp_path):
    finished = diagnose_cli(SCRIPTS / 'ddpg_pendulum_2019.py', cwd=tmp_path)
    out = finished.stdout
    assert finished.returncode == 1, finished.stderr[-2000:]
    assert checks(out, 'error') == {
        'porting: keras-rl2 import', 'porting: standalone keras', 'porting: retired env id', 'porting: gym 0.26 API',
        'porting: env.seed',
        'porting: np.bool8', 'porting: optimizer', 'porting: weights file', 'step counter'}
    assert "gym.make('Pendulum-v0') made 'Pendulum-v1'" in out and 'env.seed(7)' in out
    # the actor's own bounds judged against the space's: a bare tanh on [-2, 2] reaches half of it
    assert 'tanh output reaches [-1, 1]; the action space is [-2, 2] (50% of it reachable)' in out
    assert 'Rescaling(scale=2, offset=0)' in out
    assert 'critic inputs' not in out  # the action joins after the observation's hidden layer
    assert 'exploration noise' not in out  # OU noise over 200-step episodes moves enough
    assert 'could not run' not in out
    assert sorted(os.listdir(tmp_path)) == []  # stopped before training: nothing written


def test_the_port_runs_a_2019_script_to_its_end_and_lists_the_lines_to_change(tmp_path):
    import h5py

    beside_before = sorted(SCRIPTS.rglob('*'))
    finished = diagnose_cli('--port', '--steps', 120, SCRIPTS / 'ddpg_pendulum_2019.py', cwd=tmp_path)
    out = finished.stdout
    assert finished.returncode == 1, finished.stderr[-2000:]  # it ran, and its errors are still errors
    assert 'the script ran to its end under the port' in out
    assert 'capped from 50000 by --steps' in finished.stderr
    port = out[out.index('the port:'):]
    for line in ('ddpg_pendulum_2019.py:12: import keras.models', 'ddpg_pendulum_2019.py:19: gym.make',
                 'ddpg_pendulum_2019.py:21: env.seed(7)', 'ddpg_pendulum_2019.py:41: Adam(learning_rate=0.001)',
                 "ddpg_pendulum_2019.py:43: save_weights('ddpg_pendulum_weights_actor.h5f') written as HDF5"):
        assert line in port
    # what the script writes, where it writes it, in the format it meant; nothing beside the script
    written = sorted(os.listdir(tmp_path))
    assert written == ['ddpg_pendulum_weights_actor.h5f', 'ddpg_pendulum_weights_critic.h5f']
    assert all(h5py.is_hdf5(tmp_path / name) for name in written)
    assert sorted(SCRIPTS.rglob('*')) == beside_before


def test_a_2019_goal_env_script_like_the_questions_reaches_fit_and_runs_to_its_end(tmp_path):
    """gym.GoalEnv and FlattenDictWrapper, both gone from gym, and an old-API env under a time limit."""
    finished = diagnose_cli('--port', '--steps', 100, SCRIPTS / 'goal_env_2019.py', cwd=tmp_path)
    out = finished.stdout
    assert finished.returncode == 1, finished.stderr[-2000:]
    assert 'the script ran to its end under the port' in out
    assert {'porting: gym.GoalEnv', 'porting: FlattenDictWrapper', 'porting: old step API under a time limit'} <= \
        checks(out, 'error')
    port = out[out.index('the port:'):]
    for line in ("goal_env_2019.py:21: class PointReach(gym.GoalEnv) made a subclass of gym 0.21's GoalEnv",
                 "goal_env_2019.py:50: gym.make('PointReach-v0'): PointReach.reset takes no seed (the old API) and "
                 "the env has a time limit of 50 steps: made with apply_api_compatibility=True",
                 "goal_env_2019.py:51: FlattenDictWrapper(env, dict_keys=['observation', 'desired_goal']): the keys "
                 "concatenated in this order"):
        assert line in port
    assert 'could not run' not in out  # every check probed the flattened env
    assert 'BUG-3' not in out  # reaching the goal ends the episode
    assert os.listdir(tmp_path) == []


def test_the_flattened_goal_env_keeps_the_key_order_and_stays_flat_in_a_copy():
    import copy

    import gym
    from gym import spaces

    from shared.goal_env import flatten_dict_wrapper_class

    FlattenDictWrapper = flatten_dict_wrapper_class(gym, __name__)  # as the doctor puts it in gym.wrappers

    class Inner:  # an env with a __deepcopy__ of its own, as the port's OldGymAPI has
        observation_space = spaces.Dict({'observation': spaces.Box(-1, 1, (2,)), 'desired_goal': spaces.Box(-1, 1, (3,)),
                                         'achieved_goal': spaces.Box(-1, 1, (2,))})

        def reset(self):
            return {'observation': np.array([1., 2.]), 'desired_goal': np.array([7., 8., 9.]),
                    'achieved_goal': np.array([1., 2.])}

        def step(self, action):
            return self.reset(), 0.0, False, {}

        def __deepcopy__(self, memo):
            return Inner()

    flat = FlattenDictWrapper(Inner(), ['desired_goal', 'observation'])
    assert flat.observation_space.shape == (5,) and flat.observation_space.dtype == np.float32
    for env in (flat, copy.deepcopy(flat)):
        assert isinstance(env, FlattenDictWrapper)
        assert env.reset().tolist() == [7., 8., 9., 1., 2.]  # the order given, not the alphabet's
        assert env.step(np.zeros(2))[0].tolist() == [7., 8., 9., 1., 2.]


def test_dqn_on_a_discrete_space_skips_the_continuous_checks_and_trains(tmp_path):
    finished = diagnose_cli('--port', '--steps', 100, SCRIPTS / 'dqn_cartpole_2020.py', cwd=tmp_path)
    out = finished.stdout
    assert finished.returncode == 1, finished.stderr[-2000:]
    assert checks(out, 'error') == {'porting: keras-rl2 import', 'porting: gym 0.26 API', 'porting: env.seed',
                                    'porting: np.bool8', 'porting: optimizer'}
    # no continuous-action check, none that could not run; CartPole-v1's own 500-step limit reaches keras-rl as done
    assert checks(out, 'warning') == {'time limit as terminal'}
    assert 'a time limit of 500 steps in the env, gamma=0.99' in out
    assert 'the script ran to its end under the port' in out


def test_a_gym_026_env_is_an_error_and_a_bare_tanh_on_0_to_10_reaches_a_tenth(tmp_path):
    finished = diagnose_cli(SCRIPTS / 'gym026_tank.py', cwd=tmp_path)
    out = finished.stdout
    assert finished.returncode == 1, finished.stderr[-2000:]
    assert checks(out, 'error') == {'porting: keras-rl2 import', 'gym API'}
    assert 'tanh output reaches [-1, 1]; the action space is [0, 10] (10% of it reachable)' in out
    assert '5 + 5 * tanh' in out and 'Rescaling(scale=5, offset=5)' in out


def test_a_script_that_imports_a_module_beside_it_is_diagnosed_from_another_folder(tmp_path):
    """``python path/to/train.py`` finds ``tank_env.py`` beside it; so does diagnose, run from elsewhere."""
    script = (SCRIPTS / 'gym026_tank.py').read_text()
    start, end = script.index('class Tank(gym.Env):'), script.index('env = Tank()')
    project = tmp_path / 'project'
    project.mkdir()
    (project / 'tank_env.py').write_text('import numpy as np\nimport gym\nfrom gym import spaces\n\n\n' + script[start:end])
    (project / 'train.py').write_text(script[:start] + 'from tank_env import Tank\n\n\n' + script[end:])
    finished = diagnose_cli(project / 'train.py', cwd=tmp_path)
    out = finished.stdout
    assert 'No module named' not in out + finished.stderr, out[-2000:]
    assert finished.returncode == 1 and checks(out, 'error') == {'porting: keras-rl2 import', 'gym API'}
    assert not (tmp_path / '__pycache__').exists() and not (project / '__pycache__').exists()  # nothing written


def test_a_tanh_scaled_to_the_bounds_is_right_and_the_port_trains_the_gym_026_env(tmp_path):
    finished = diagnose_cli('--continue', '--steps', 100, SCRIPTS / 'gym026_tank.py', 'scaled', cwd=tmp_path)
    out = finished.stdout
    assert finished.returncode == 1, finished.stderr[-2000:]
    assert '[actor output]' not in out
    assert checks(out, 'error') == {'porting: keras-rl2 import', 'gym API', 'porting: Lambda layer'}
    assert 'training: fit(nb_steps=100)' in finished.stderr


def test_a_script_that_fails_before_fit_cannot_be_checked_and_says_why(tmp_path):
    script = tmp_path / 'broken.py'
    script.write_text('import gym\nenv = gym.make("NoSuchEnv-v3")\n')
    finished = diagnose_cli(script, cwd=tmp_path)
    assert finished.returncode == 2
    assert 'failed before agent.fit, so it could not be checked: at broken.py:2: NameNotFound' in finished.stderr
    assert '--traceback' in finished.stderr


def test_a_q_network_with_the_wrong_output_count_stops_on_one_line_that_names_the_shapes(tmp_path):
    script = tmp_path / 'wrong_output.py'
    script.write_text((SCRIPTS / 'dqn_cartpole_2020.py').read_text().replace(
        "Dense(env.action_space.n, activation='linear')", "Dense(3, activation='linear')"))
    finished = diagnose_cli(script, cwd=tmp_path)
    assert finished.returncode == 2
    (line,) = [line for line in finished.stderr.splitlines() if line.startswith('diagnose: the script failed')]
    assert 'at wrong_output.py:' in line and 'shape=(None, 3)' in line and 'in this case 2' in line


def test_findings_are_printed_before_a_training_that_fails(tmp_path):
    script = tmp_path / 'fails_in_training.py'
    script.write_text((SCRIPTS / 'gym026_tank.py').read_text().replace(
        "        return np.array([self.level], np.float32), reward, False, self.t >= 20, {}",
        "        raise RuntimeError('the valve is stuck')"))
    finished = diagnose_cli('--continue', script, cwd=tmp_path)
    out = finished.stdout
    assert finished.returncode == 1
    assert out.index('ERROR [gym API]') < out.index('the script failed after the diagnosis')
    assert 'RuntimeError: the valve is stuck' in out


def test_a_2019_boat_script_beside_its_env_module_gets_findings_that_fit_it(tmp_path):
    """The env module beside the script, run from another folder; a Keras TensorBoard callback; noise
    five times the action range; an env that ends only on failure, which random steps do not reach."""
    finished = diagnose_cli(SCRIPTS / 'heading_2019' / 'ddpg_heading.py', cwd=tmp_path)
    out = finished.stdout
    assert finished.returncode == 1, finished.stderr[-2000:]
    assert checks(out, 'error') == {
        'porting: keras-rl2 import', 'porting: standalone keras', 'porting: optimizer',
        'porting: Keras TensorBoard callback', 'porting: weights file', 'step counter'}
    assert "TensorBoard(log_dir='./logs/heading')" in out
    # bang-bang: the noise against the range, with the sigma that fits, in the action's units
    assert 'most noisy actions fall beyond a bound' in out and "the action's half-range is 0.1;" in out
    assert re.search(r'sigma about 0\.0\d+ with this theta and dt', out)
    # the env ends an episode when the heading leaves its limit, which random actions reach within the probe
    assert '[episode end]' not in out
    assert 'the critic learns that the value ends at the time limit' in out
    assert 'window length' not in out and 'could not run' not in out
    assert sorted(os.listdir(tmp_path)) == []  # stopped before training: nothing written


def test_the_port_trains_the_boat_script_from_another_folder_and_its_tensorboard_writes(tmp_path):
    import tensorflow as tf

    beside_before = sorted(SCRIPTS.rglob('*'))
    # 600 steps: past the first episode's end (at the latest fit's nb_max_episode_steps=500), which the
    # TensorBoard callback writes
    finished = diagnose_cli('--port', '--steps', 600, SCRIPTS / 'heading_2019' / 'ddpg_heading.py', cwd=tmp_path)
    out = finished.stdout
    assert finished.returncode == 1, finished.stderr[-2000:]  # it ran; its errors are still errors
    assert 'the script ran to its end under the port' in out
    assert '[classic_control.rendering]' in out and 'heading_env.py:' in out  # the env's own line
    events = list((tmp_path / 'logs' / 'heading').glob('events.out.tfevents.*'))
    assert len(events) == 1, sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob('*'))
    (events,) = events
    tags = {value.tag for event in tf.compat.v1.train.summary_iterator(str(events)) for value in event.summary.value}
    assert {'episode_reward', 'nb_episode_steps'} <= tags  # an episode ended (on failure) and was written
    assert (tmp_path / 'heading_weights_actor.h5f').exists()
    assert sorted(SCRIPTS.rglob('*')) == beside_before  # nothing beside the script and its module (no bytecode)


def test_a_taxi_like_script_with_array_infos_and_an_embedding_trains_under_the_port(tmp_path):
    finished = diagnose_cli(SCRIPTS / 'dqn_corridor_2021.py', cwd=tmp_path)
    out = finished.stdout
    assert finished.returncode == 1, finished.stderr[-2000:]
    # the Embedding + Reshape input takes keras-rl's batches: no BUG-20
    assert checks(out, 'error') == {'porting: keras-rl2 import', 'gym API', 'info values', 'porting: optimizer'}
    assert "info['action_mask'] of shape (2,)" in out
    assert 'the Q-network learns that the value ends at the time limit' in out and 'critic' not in out
    finished = diagnose_cli('--port', '--steps', 300, SCRIPTS / 'dqn_corridor_2021.py', cwd=tmp_path)
    out = finished.stdout
    assert 'the script ran to its end under the port' in out, out[-2000:] + finished.stderr[-2000:]
    assert "[arrays in info]" in out and "info['action_mask'], an array of shape (2,)" in out


def test_a_script_that_ports_itself_needs_no_port_and_exits_0(tmp_path):
    finished = diagnose_cli('--port', SCRIPTS / 'dqn_ported_2024.py', cwd=tmp_path)
    out = finished.stdout
    assert finished.returncode == 0, out[-2000:] + finished.stderr[-2000:]
    assert 'porting' not in out and checks(out, 'error') == set()
    assert 'the script ran to its end under the port' in out and 'the port:' not in out  # no shim was needed


@pytest.mark.parametrize('adapter', ['wrapper', 'plain'])
def test_a_script_with_its_own_old_api_adapter_around_gym_make_is_diagnosed_and_trains(tmp_path, adapter):
    """The adapter porting.md recommends gets the env's own API from under the doctor's gym shim."""
    finished = diagnose_cli('--port', '--steps', 100, SCRIPTS / 'ddpg_own_adapter_2024.py', adapter, cwd=tmp_path)
    out = finished.stdout
    assert finished.returncode == 0, out[-2000:] + finished.stderr[-2000:]
    assert checks(out, 'error') == set() and 'could not run' not in out and 'gym 0.26 API' not in out
    # Pendulum-v1's 200-step limit is twenty horizons of gamma=0.9: stored as terminal, it hardly counts
    assert checks(out, 'warning') == {'unclipped actions', 'object batches', 'actor output'}
    assert 'the script ran to its end under the port' in out and 'the port:' not in out


def script_variant(path, of, *edits, appended=''):
    """Write ``path``: the kit's old script ``of`` with each ``(old, new)`` edit made (each must apply once)
    and ``appended`` at its end; returns ``path``."""
    source = (SCRIPTS / of).read_text()
    for old, new in edits:
        assert source.count(old) == 1, (of, old)
        source = source.replace(old, new)
    path.write_text(source + appended)
    return path



def test_a_port_capped_below_the_warmup_says_it_trained_nothing_at_the_start_and_the_end(tmp_path):
    script = script_variant(tmp_path / 'warm.py', ADAPTER,  # warmups of 500 steps in a fit of 1,000
                            ('_warmup_critic=50', '_warmup_critic=500'), ('_warmup_actor=50', '_warmup_actor=500'),
                            ('nb_steps=300', 'nb_steps=1000'))
    finished = diagnose_cli('--port', '--steps', 150, script, cwd=tmp_path)
    said = 'warm.py:66: 150 steps, 0 gradient updates: the warmup is 500 steps (give --steps above it to train)'
    assert finished.returncode == 0 and said in finished.stderr, finished.stderr[-2000:]
    assert finished.stdout.rstrip().endswith('the script ran to its end under the port\n  but fit at ' + said)


def test_numpy_s_removed_aliases_are_shimmed_and_the_line_that_asked_is_named(tmp_path):
    script = script_variant(tmp_path / 'aliases.py', ADAPTER,  # its critic sized with np.float, as 2019's numpy allowed
                            ('import sys\n', 'import sys\n\nimport numpy as np\n'),
                            ("x = Dense(16, activation='relu')", "x = Dense(int(np.float(16)), activation='relu')"))
    finished = diagnose_cli('--port', '--steps', 100, script, cwd=tmp_path)
    out = finished.stdout
    assert finished.returncode == 1 and checks(out, 'error') == {'porting: numpy aliases'}, out[-2000:]
    assert re.search(r'measured: aliases\.py:\d+: np\.float \(given float\)', out)
    assert 'the script ran to its end under the port' in out


def test_weights_saved_under_a_name_without_an_extension_are_written_as_keras_2_wrote_them(tmp_path):
    script = script_variant(tmp_path / 'noext.py', ADAPTER,  # saving as 2019's Keras did: HDF5 under any name
                            appended="agent.save_weights('pendulum', overwrite=True)\n")
    finished = diagnose_cli('--port', '--steps', 100, script, cwd=tmp_path)
    out = finished.stdout
    assert finished.returncode == 0 and checks(out, 'error') == set(), out[-2000:]  # the save comes after fit
    port = out[out.index('the port:'):]
    assert '[weights file]' in port and "save_weights('pendulum_actor') written as HDF5" in port
    assert (tmp_path / 'pendulum_actor').read_bytes()[:8] == b'\x89HDF\r\n\x1a\n'


def test_scipy_s_removed_tol_keyword_is_shimmed_in_a_module_beside_the_script(tmp_path):
    (tmp_path / 'solver.py').write_text('import numpy as np\nfrom scipy.sparse.linalg import cg\n\n\n'
                                        'def settle(n):\n    return cg(np.eye(n), np.ones(n), tol=1e-8)[0]\n')
    script = script_variant(tmp_path / 'solving.py', ADAPTER,  # 2019's scipy call, in a module beside it
                            ('import sys\n', 'import sys\n\nfrom solver import settle\n'),
                            ('nb_actions = env.action_space.shape[0]', 'nb_actions = len(settle(1))'))
    finished = diagnose_cli('--port', '--steps', 100, script, cwd=tmp_path)
    out = finished.stdout
    assert finished.returncode == 1 and checks(out, 'error') == {'porting: scipy tol'}, out[-2000:]
    assert re.search(r'solver\.py:6: cg\(\.\.\., tol=1e-08\) solved with rtol=1e-08', out)


def test_keras_2_x_names_tf_keras_dropped_are_served_and_named_as_the_script_wrote_them(tmp_path):
    script = script_variant(tmp_path / 'keras2x.py', ADAPTER,  # written against Keras 2.4-2.10's module paths
                            ('from tensorflow.keras.models import Model, Sequential',
                             'from keras.models import Input, Model, Sequential'),
                            ('from tensorflow.keras.layers import Concatenate, Dense, Flatten, Input',
                             'from tensorflow.keras.layers import Concatenate, Dense, Flatten'),
                            ('from tensorflow.keras.optimizers.legacy import Adam', 'from keras.optimizers import adam_v2'),
                            ('agent.compile(Adam(', 'agent.compile(adam_v2.Adam('))
    finished = diagnose_cli('--port', '--steps', 100, script, cwd=tmp_path)
    out = finished.stdout
    assert 'the script ran to its end under the port' in out, out[-2000:] + finished.stderr[-2000:]
    assert 'from keras.models import Input (Keras 2.x; it lives in keras.layers)' in out
    assert "from keras.optimizers import adam_v2 (Keras 2.x; served by tf-keras' legacy optimizers)" in out


def test_an_env_of_gym_before_0_9_with_underscored_methods_is_ported_and_each_def_named(tmp_path):
    script = script_variant(tmp_path / 'underscored.py', 'dqn_ported_2024.py',  # its env written for gym < 0.9
                            ('from gym import spaces', 'import gym\nfrom gym import spaces'),
                            ('class Line:', 'class Line(gym.Env):'), ('    def reset(self):', '    def _reset(self):'),
                            ('    def step(self, action):', '    def _step(self, action):'))
    finished = diagnose_cli('--port', '--steps', 100, script, cwd=tmp_path)
    out = finished.stdout
    assert finished.returncode == 1 and checks(out, 'error') == {'porting: gym < 0.9 API'}, out[-2000:]
    assert re.search(r'underscored\.py:\d+: Line\._step called as step', out)
    assert re.search(r'underscored\.py:\d+: Line\._reset called as reset', out)
    assert 'the script ran to its end under the port' in out


# ---------------------------------------------------------------------------------------------
# In-process: the measurements behind the findings.

def test_noise_within_an_episode_matches_keras_rl_s_own_process():
    """The formula the noise check uses, against keras-rl's OrnsteinUhlenbeckProcess itself."""
    from rl.random import OrnsteinUhlenbeckProcess

    np.random.seed(0)
    for steps in (5, 200):
        process = OrnsteinUhlenbeckProcess(size=1, theta=.15, mu=0., sigma=.3)
        moves = []
        for _ in range(4000):
            process.reset_states()  # keras-rl does this at every episode's start
            start = float(process.x_prev[0])
            for _ in range(steps):
                end = float(process.sample()[0])
            moves.append(end - start)
        assert np.std(moves) == pytest.approx(dg.noise_within_episode(process, steps), rel=0.05)


def test_the_share_of_clipped_noisy_actions_matches_keras_rl_s_own_process():
    """The bang-bang measure (spread over the episode, share beyond the range), against the process itself."""
    from rl.random import OrnsteinUhlenbeckProcess

    np.random.seed(1)
    process = OrnsteinUhlenbeckProcess(size=1, theta=.15, mu=0., sigma=.3)
    steps, half_range = 100, 0.105
    noise = np.empty((2000, steps))
    for episode in noise:
        process.reset_states()
        episode[:] = [process.sample()[0] for _ in range(steps)]
    spread = dg.noise_spread(process, steps + 1)[1:]  # sample() is the step after reset's draw
    assert np.std(noise, axis=0) == pytest.approx(spread, rel=0.08)
    measured = float(np.mean(np.abs(noise) > half_range))
    assert dg.share_beyond(spread, 0.0, half_range) == pytest.approx(measured, abs=0.02)
    assert measured > 0.7  # the boat scripts' setting: most noisy actions clipped


def test_the_reach_of_a_rescaled_tanh_is_the_action_space(healthy_tf):
    from tensorflow.keras.layers import Dense, Flatten, Rescaling
    from tensorflow.keras.models import Sequential

    actor = Sequential([Flatten(input_shape=(1, 3)), Dense(4), Dense(2, activation='tanh'),
                        Rescaling(scale=5.0, offset=5.0)])
    low, high, activation = dg.actor_reach(SimpleNamespace(actor=actor, agent=SimpleNamespace(processor=None)))
    assert activation == 'tanh' and low.tolist() == [0.0, 0.0] and high.tolist() == [10.0, 10.0]
    assert dg.scaled_tanh(np.zeros(2), 10 * np.ones(2)) == '5 + 5 * tanh'
    assert dg.scaled_tanh(-2 * np.ones(1), 2 * np.ones(1)) == '2 * tanh'


def test_diagnose_leaves_the_agent_s_processor_and_the_random_state_as_they_were(healthy_tf):
    from rl.processors import WhiteningNormalizerProcessor

    from fixed.agent import build_agent
    from fixed.train import make_env

    env = make_env()
    agent = build_agent(env, training_steps=5000, reference_observation=env.reset())
    agent.processor = WhiteningNormalizerProcessor()
    before = np.random.get_state()[1].copy()
    dg.diagnose(agent, env, nb_steps=5000)
    assert agent.processor.normalizer is None  # the probes fed a copy
    assert np.array_equal(np.random.get_state()[1], before)


@pytest.fixture(scope='module')
def healthy_tf():
    from shared import keras_rl  # noqa: F401  (tf-keras before TensorFlow)


def test_a_diagnosed_run_trains_exactly_as_the_script_alone(tmp_path):
    """--continue: the diagnosis probes copies and puts the random states back, so the question's
    own run gives the same trace, step for step, with and without it."""
    alone = run_command('original', '--out', tmp_path / 'alone', cwd=tmp_path)
    assert alone.returncode == 0, alone.stderr[-2000:]
    diagnosed = diagnose_cli('--continue', '-m', 'original', '--out', tmp_path / 'diagnosed', cwd=tmp_path)
    assert diagnosed.returncode == 1  # the question's errors
    assert (tmp_path / 'alone' / 'trace.json').read_bytes() == (tmp_path / 'diagnosed' / 'trace.json').read_bytes()
    for finished in (alone, diagnosed):  # the question's Adam(lr=) runs without tf-keras' deprecation note
        assert 'deprecated' not in finished.stderr, finished.stderr[-2000:]


def test_an_agent_compiled_without_an_optimizer_is_ported(tmp_path):
    """keras-rl's CEMAgent.compile() takes no optimizer: the optimizer shim must let that through."""
    script = tmp_path / 'cem.py'
    script.write_text('\n'.join([
        'import gym',
        'from tensorflow.keras.models import Sequential',
        'from tensorflow.keras.layers import Dense, Flatten',
        'from rl.agents.cem import CEMAgent',
        'from rl.memory import EpisodeParameterMemory',
        "env = gym.make('CartPole-v1')",
        "model = Sequential([Flatten(input_shape=(1, 4)), Dense(2, activation='softmax')])",
        'cem = CEMAgent(model=model, nb_actions=2, memory=EpisodeParameterMemory(limit=20, window_length=1),',
        '               batch_size=10, nb_steps_warmup=50, train_interval=10, elite_frac=0.1)',
        'cem.compile()',
        'cem.fit(env, nb_steps=1000, verbose=0)', '']))
    finished = diagnose_cli('--port', '--steps', 200, script, cwd=tmp_path)
    assert finished.returncode == 1, finished.stderr[-2000:]  # gym 0.26's API and np.bool8 are errors
    assert 'the script ran to its end under the port' in finished.stdout
    assert '[memory]' not in finished.stdout  # CEM's memory counts episodes: no warmup comparison in steps


def test_the_shims_put_back_everything_they_patched(healthy_tf, tmp_path):
    import builtins

    import gym
    import gym.envs.classic_control
    import rl.core
    import rl.util
    import tf_keras
    from rl.agents.ddpg import DDPGAgent

    from stepsignal.doctor.porting import ScriptFiles, Shims

    def state():
        return (builtins.__import__, vars(np).get('__getattr__'), gym.make, gym.envs.registration.make,
                'seed' in vars(gym.Env), hasattr(gym.wrappers, 'Monitor'), tf_keras.Model.save_weights, rl.core.np,
                rl.util.clone_model, DDPGAgent.process_state_batch,
                vars(tf_keras.optimizers.Adam)['__init__'], hasattr(gym.envs.classic_control, 'rendering'),
                'gym.envs.classic_control.rendering' in sys.modules)

    before = state()
    script = tmp_path / 'script.py'
    script.write_text('')
    with Shims(ScriptFiles(path=str(script))) as shims:
        assert state() != before  # in place while the script runs
    assert state() == before and not any(shim._saved for shim in shims.all)


def test_a_checkpoint_callback_with_an_h5f_name_is_flagged_before_it_runs():
    from stepsignal.doctor.porting import H5Weights, ScriptFiles

    source = ("from rl.callbacks import ModelIntervalCheckpoint\n"
              "checkpoint = ModelIntervalCheckpoint('weights_{step}.h5f', interval=1000)\n"
              "other = ModelIntervalCheckpoint(filepath='w.h5', interval=10)\n"
              "agent.save_weights('final.h5f', overwrite=True)\n")
    shim = H5Weights(ScriptFiles('train.py'))
    shim.expect(source, 'train.py')
    assert [use.where for use in shim.uses] == ['train.py:2', 'train.py:4']
    assert "ModelIntervalCheckpoint('weights_{step}.h5f'" in shim.uses[0].what


def notebook_export(path):
    """The DQN script as `jupyter nbconvert --to script` writes a notebook: `# In[n]:` cells, and its
    `!pip install` and `%matplotlib inline` lines turned into get_ipython() calls."""
    source = (SCRIPTS / 'dqn_cartpole_2020.py').read_text()
    body = source[source.index('import numpy as np'):]
    cells = ["get_ipython().system('pip install keras-rl2 gym')",
             "get_ipython().run_line_magic('matplotlib', 'inline')", body]
    path.write_text('#!/usr/bin/env python\n# coding: utf-8\n\n'
                    + ''.join(f'\n# In[{n}]:\n\n\n{cell}\n' for n, cell in enumerate(cells, start=1)))
    return path


def test_a_notebook_exported_to_a_script_runs_under_the_port_with_its_shell_lines_named(tmp_path):
    script = notebook_export(tmp_path / 'notebook.py')
    plain = diagnose_cli(script, cwd=tmp_path)  # without the port's shims, get_ipython is undefined: not today
    port = diagnose_cli('--port', '--steps', 100, script, cwd=tmp_path)
    out = port.stdout
    assert port.returncode == 1 and 'porting: notebook commands' in checks(out, 'error'), out[-2000:]
    assert "notebook.py:8: get_ipython().system('pip install keras-rl2 gym'): not run" in out
    assert 'notebook.py:13: %matplotlib inline: not run' in out
    assert 'the script ran to its end under the port' in out
    assert 'porting: notebook commands' in checks(plain.stdout, 'error')  # diagnose alone reaches fit too


def test_a_q_network_that_keeps_the_window_dimension_stops_with_the_flatten_to_add(tmp_path):
    script = script_variant(tmp_path / 'no_flatten.py', 'dqn_cartpole_2020.py',  # Dense straight on (1, 4)
                            ('model = Sequential([Flatten(input_shape=(1,) + env.observation_space.shape),\n'
                             "                    Dense(16, activation='relu'),",
                             "model = Sequential([Dense(16, activation='relu', input_shape=(1,) + "
                             'env.observation_space.shape),'))
    finished = diagnose_cli(script, cwd=tmp_path)
    assert finished.returncode == 2, finished.stderr[-2000:]
    failed, hint = [line for line in finished.stderr.splitlines() if 'failed' in line or 'what to do' in line][:2]
    assert 'at no_flatten.py:' in failed and 'shape=(None, 1, 2)' in failed
    assert 'the model\'s output (None, 1, 2) keeps the window dimension' in hint and 'add Flatten()' in hint


def test_a_script_that_asks_for_input_is_told_to_get_its_answer_on_stdin(tmp_path):
    script = script_variant(tmp_path / 'asks.py', 'dqn_cartpole_2020.py',
                            ("env = gym.make('CartPole-v1')", "evaluate = bool(input('evaluate? '))\n"
                                                              "env = gym.make('CartPole-v1')"))
    finished = diagnose_cli(script, cwd=tmp_path)  # the forked command's stdin is empty
    assert finished.returncode == 2 and 'EOFError' in finished.stderr, finished.stderr[-2000:]
    assert 'give its answers on stdin, as in `echo ANSWER | python -m stepsignal diagnose ...`' in finished.stderr


def test_a_failure_in_a_package_beside_the_script_names_its_file_and_an_old_gym_name(tmp_path):
    """An env package beside the script, written for gym 0.21, imports what gym 0.22 removed: the line is
    the package's, named from the script's folder, and the hint says which gym it was written for."""
    package = tmp_path / 'project' / 'grid_env' / 'envs'
    package.mkdir(parents=True)
    (package.parent / '__init__.py').write_text('from grid_env.envs.grid import GridEnv  # noqa\n')
    (package / '__init__.py').write_text('')
    (package / 'grid.py').write_text('import gym\n\nfrom gym.envs.toy_text import discrete\n\n\n'
                                     'class GridEnv(discrete.DiscreteEnv):\n    pass\n')
    script = tmp_path / 'project' / 'train.py'
    script.write_text('import grid_env\n\nagent.fit(grid_env.GridEnv(), nb_steps=10)\n')
    finished = diagnose_cli(script, cwd=tmp_path)
    assert finished.returncode == 2, finished.stderr[-2000:]
    assert f'at grid_env{os.sep}envs{os.sep}grid.py:3: ImportError' in finished.stderr
    assert 'gym.envs.toy_text.discrete left in gym 0.22' in finished.stderr


def test_an_env_without_an_observation_space_is_made_without_gym_s_checker(tmp_path):
    """gym 0.26's make refuses an env with no observation space, which keras-rl does not need."""
    script = script_variant(tmp_path / 'spaceless.py', 'dqn_cartpole_2020.py',
                            ("env = gym.make('CartPole-v1')",
                             'from gym.envs.classic_control import CartPoleEnv\n\n\n'
                             'class Spaceless(CartPoleEnv):\n'
                             '    def __init__(self):\n'
                             '        super().__init__()\n'
                             '        self.obs_shape = self.observation_space.shape\n'
                             '        del self.observation_space\n\n\n'
                             "gym.register('Spaceless-v0', entry_point=Spaceless, max_episode_steps=500)\n"
                             "env = gym.make('Spaceless-v0')"),
                            ('+ env.observation_space.shape', '+ env.unwrapped.obs_shape'))
    finished = diagnose_cli('--port', '--steps', 100, script, cwd=tmp_path)
    out = finished.stdout
    assert 'porting: env checker' in checks(out, 'error'), out[-3000:] + finished.stderr[-2000:]
    assert "gym.make('Spaceless-v0'): The environment must specify an observation space: made with " \
           'disable_env_checker=True' in out
    assert 'the script ran to its end under the port' in out


def test_gym_s_box2d_and_atari_ids_are_made_by_gymnasium_and_say_what_to_install(tmp_path):
    """Which envs gym 0.26 cannot run today, and Gymnasium's id for each; without Box2D installed (as
    here) the make says what to install, in one line."""
    import gym

    from stepsignal.doctor.porting import GymnasiumEnvs, ScriptFiles

    shim = GymnasiumEnvs(ScriptFiles(path=str(tmp_path / 'x.py')))
    assert shim._family('LunarLander-v2') == shim._family('BipedalWalker-v3') == 'Box2D'
    assert shim._family('BreakoutDeterministic-v4') == shim._family('ALE/Pong-v5') == 'Atari'
    assert shim._family('CartPole-v1') is shim._family('Snake-v0') is shim._family('Pendulum-v0') is None
    assert shim._box2d_id('LunarLanderContinuous-v2') == 'LunarLanderContinuous-v3'
    assert shim._atari_id('BreakoutDeterministic-v4', {}) == ('BreakoutNoFrameskip-v4', {'frameskip': 4})
    assert shim._atari_id('ALE/Breakout-v5', {'mode': 0}) == ('ALE/Breakout-v5', {'mode': 0})
    assert shim._atari_id('Breakout-ram-v4', {}) == ('Breakout-v4', {'obs_type': 'ram'})
    assert shim._family('Breakout-ram-v4') == 'Atari'
    try:
        import Box2D  # noqa: F401
    except ImportError:
        with pytest.raises(gym.error.DependencyNotInstalled, match=r'LunarLander-v2 needs Box2D \(pip install box2d\)'):
            shim.make('LunarLander-v2', {})


def test_a_gymnasium_env_behind_gym_s_spaces_keeps_the_script_s_time_limit_and_copies_only_unstarted():
    """What the port hands a script for an env only Gymnasium runs (here CartPole, which needs no Box2D)."""
    import copy

    import gym
    import gymnasium

    from stepsignal.doctor.porting import GymnasiumAsGym

    env = GymnasiumAsGym(gymnasium.make('CartPole-v1'))
    assert isinstance(env.action_space, gym.spaces.Discrete) and isinstance(env.observation_space, gym.spaces.Box)
    env._max_episode_steps = 5000  # as a script sets gym's TimeLimit
    assert env.env._max_episode_steps == 5000 and '_max_episode_steps' not in vars(env)
    twin = copy.deepcopy(env)  # not started: a new env of the same id, with the script's limit
    assert twin is not env and twin.env._max_episode_steps == 5000 and len(twin.reset(seed=0)) == 2
    env.reset(seed=0)
    with pytest.raises(TypeError, match='cannot be copied'):
        copy.deepcopy(env)


def test_a_gymnasium_made_env_takes_env_seed_as_the_port_takes_it_for_gym_s(tmp_path):
    import gymnasium

    from stepsignal.doctor.porting import GymnasiumAsGym, OldGymAPI, ScriptFiles, Shims

    with Shims(ScriptFiles(path=str(tmp_path / 'x.py'))) as shims:
        env = OldGymAPI(GymnasiumAsGym(gymnasium.make('CartPole-v1')), shims.api)
        assert env.seed(3) == [3]
        first = env.reset()
        again = OldGymAPI(GymnasiumAsGym(gymnasium.make('CartPole-v1')), shims.api)
        again.seed(3)
        np.testing.assert_array_equal(again.reset(), first)  # the seed reached Gymnasium's reset
        assert shims.seed.uses


def test_a_keras_name_tf_keras_does_not_have_is_named_as_the_script_imported_it(tmp_path):
    """The script wrote `keras.models`; tf-keras serves it: the one line speaks of keras, with what to do."""
    script = tmp_path / 'missing_name.py'
    script.write_text('from keras.models import Sequential, NoSuchModel\n')
    finished = diagnose_cli(script, cwd=tmp_path)
    assert finished.returncode == 2, finished.stderr[-2000:]
    (line,) = [line for line in finished.stderr.splitlines() if line.startswith('diagnose: the script failed')]
    assert "cannot import name 'NoSuchModel' from 'keras.models'" in line and 'tf_keras' not in line, line
    assert "the script's `keras` is served by tf-keras" in finished.stderr


def test_a_box2d_env_without_box2d_stops_on_one_line_that_says_what_to_install(tmp_path):
    pytest.importorskip('gymnasium')
    try:
        import Box2D  # noqa: F401
        pytest.skip('Box2D is installed here: the env is made by Gymnasium instead (tested above)')
    except ImportError:
        pass
    script = tmp_path / 'lander.py'
    script.write_text("import gym\n\nenv = gym.make('LunarLander-v2')\n")
    finished = diagnose_cli(script, cwd=tmp_path)
    assert finished.returncode == 2, finished.stderr[-2000:]
    (line,) = [line for line in finished.stderr.splitlines() if line.startswith('diagnose: the script failed')]
    assert 'at lander.py:3: DependencyNotInstalled: LunarLander-v2 needs Box2D (pip install box2d)' in line, line


def test_the_port_caps_the_script_s_test_episodes_as_it_caps_fit(tmp_path):
    """An untrained policy may never end an episode (Breakout waits for FIRE): --steps caps test's episodes too."""
    script = script_variant(tmp_path / 'tests_too.py', 'dqn_cartpole_2020.py',
                            appended='dqn.test(env, nb_episodes=2, visualize=False, nb_max_episode_steps=5000)\n')
    finished = diagnose_cli('--port', '--steps', 100, script, cwd=tmp_path)
    assert 'the script ran to its end under the port' in finished.stdout, finished.stderr[-2000:]
    assert re.search(r'test at tests_too\.py:\d+: each episode capped at 100 steps by --steps', finished.stderr)
