"""Which of ``examples/question_fixed.py``'s changes a plain keras-rl2 script needs: each one undone
alone, back to the question's code, on many seeds (benchmarks/your_script/EXAMPLE_LEAVE_ONE_OUT.md).

    python -m stepsignal.experiments.example_leave_one_out --seeds 0-9 --out DIR

Each (change, seed) is the example in a process of its own, two at a time, with that one change
put back as the question had it; everything else, the budget included, is the example's. The
numbers go to DIR/results.json after every run, so the same command run again resumes where the
last one stopped. The page, DIR/report.md, is written when every run is in, or with ``--page-only``
from the runs so far. The example with nothing undone (``--baseline``) is
benchmarks/your_script/EXAMPLE_SEEDS.json, measured by ``example_seeds`` with the same command per seed.
"""
import importlib.util
import json
import logging
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from shared.checks import BadInput
from shared.cli import (KIT_ROOT, NUMBERS, REPORT, answer_a_page_for_out, check_output_folder, checking_input,
                        command_parser, output_folder_argument, seeds_argument, setup_logging, shown)
from shared.files import write_atomic, write_json
from stepsignal.experiments.evaluate import jobs_argument
from stepsignal.experiments.example_seeds import EXAMPLE, run_seed
from stepsignal.experiments.machine import machine, today
from stepsignal.rates import success_rate

log = logging.getLogger(__name__)


# --- each change undone, as the question had it ---------------------------------------------------
def question_rescaling(example):
    def physical(self, action):
        low = np.array([1e-3, self.low[1]])
        high = np.array([self.sample_rate / 2 - 0.1, self.high[1]])
        scaled = (high - low) / 2 * (np.asarray(action, dtype=np.float64) + 1)  # no `low +`, a linear cutoff
        cutoff, offset = np.clip(scaled, low, high)
        return cutoff, offset
    example.StepSignal.physical = physical


def question_step(example):
    step = example.StepSignal.step

    def filter_last_output(self, action):
        # the question's step filters its own last output; the observation is that output
        self.initial_signal, kept = self.signal, self.initial_signal
        try:
            return step(self, action)
        finally:
            self.initial_signal = kept

    def observe_output(self):
        return {'observation': self.signal.copy(), 'achieved_goal': self.signal.copy(),
                'desired_goal': self.desired_signal.copy()}
    example.StepSignal.step = filter_last_output
    example.StepSignal._get_obs = observe_output


def question_warmups(example):
    agent = example.ClippedDDPGAgent

    class QuestionWarmups(agent):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **{**kwargs, 'nb_steps_warmup_critic': 2000, 'nb_steps_warmup_actor': 10000})
    example.ClippedDDPGAgent = QuestionWarmups


def question_actor(example):
    def build_actor(observation_shape, nb_actions):
        actor = example.Sequential()
        actor.add(example.Flatten(input_shape=(example.WINDOW_LENGTH,) + observation_shape))
        actor.add(example.Dense(128, activation='relu'))
        actor.add(example.Dense(64, activation='relu'))
        actor.add(example.Dense(nb_actions, activation='linear'))
        return actor
    example.build_actor = build_actor
    example.ACTOR_LR = example.CRITIC_LR  # the question's one Adam(lr=1e-3) served both networks


def question_filter(example):
    def butter_lowpass_filter(data, cutoff_hz, sample_rate, order=4):
        b, a = example.signal.butter(order, cutoff_hz / (sample_rate / 2), btype='lowpass')
        return example.signal.filtfilt(b, a, data)
    example.butter_lowpass_filter = butter_lowpass_filter


def question_noise(example):
    from rl.random import OrnsteinUhlenbeckProcess

    def noise(size, **_gaussian):
        return OrnsteinUhlenbeckProcess(size=size, theta=0.6, mu=0.0, sigma=0.3)
    example.GaussianWhiteNoiseProcess = noise


def raw_observations(example):
    scaled = example.ScaledFloat32

    class Float32Only(scaled):
        def __init__(self, first_observation):
            self.center, self.scale = 0.0, 1.0  # FIX-19's float32 batches kept: they change no number
    example.ScaledFloat32 = Float32Only


def unclipped_actions(example):
    example.ClippedDDPGAgent = example.DDPGAgent


def question_reward(example):
    def compute_reward(self, achieved_goal, desired_goal, info):
        return -np.linalg.norm(np.asarray(desired_goal) - np.asarray(achieved_goal), axis=-1)
    example.StepSignal.compute_reward = compute_reward


def question_gamma(example):
    example.GAMMA = 0.99


def question_critic(example):
    def build_critic(observation_shape, nb_actions):
        action_input = example.Input(shape=(nb_actions,), name='action_input')
        observation_input = example.Input(shape=(example.WINDOW_LENGTH,) + observation_shape, name='observation_input')
        x = example.Concatenate()([action_input, example.Flatten()(observation_input)])
        x = example.Dense(128, activation='relu')(x)
        x = example.Dense(64, activation='relu')(x)
        return example.Model(inputs=[action_input, observation_input], outputs=example.Dense(1)(x)), action_input
    example.build_critic = build_critic


def last_policy(example):
    keep_best = example.KeepBestPolicy

    class LastPolicy(keep_best):
        def on_step_end(self, step, logs=None):
            if int(self.model.step) + 1 == self.steps:  # one check, at the last step: the policy fit ends with
                super().on_step_end(step, logs)
    example.CHECK_EVERY = 1
    example.KeepBestPolicy = LastPolicy


UNDONE = {
    'FIX-1': ('the question\'s rescaling: `range / 2 * (a + 1)`, linear, without `low`', question_rescaling),
    'FIX-2': ('each step filters the last output, which is also the observation', question_step),
    'FIX-4': ('the question\'s warmups: 2,000 (critic) and 10,000 (actor)', question_warmups),
    'FIX-6': ('a linear actor, with the critic\'s learning rate (1e-3)', question_actor),
    'FIX-8': ('the (b, a) filter and `filtfilt`', question_filter),
    'FIX-11': ('Ornstein-Uhlenbeck noise, theta 0.6, sigma 0.3, dt 0.01', question_noise),
    'FIX-17': ('raw observations (float32, not centred or scaled)', raw_observations),
    'FIX-18': ('keras-rl2\'s `DDPGAgent`: the noisy action stored unclipped', unclipped_actions),
    'FIX-21': ('the reward is the L2 distance, not the RMS error', question_reward),
    'FIX-22': ('gamma 0.99 (the time limit then stored as terminal, FIX-12)', question_gamma),
    'FIX-23': ('the question\'s critic: the action joins the observation at the first layer', question_critic),
    'IMPROVEMENT-1': ('no best policy kept: the policy at the last step', last_policy),
}
"""Each change of the example, undone alone: what the run then does, and the patch that does it."""


def run_undone(change, argv):
    """In the child process: the example with ``change`` undone, run as ``python examples/question_fixed.py ARGV``."""
    spec = importlib.util.spec_from_file_location('question_fixed', EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    UNDONE[change][1](example)
    sys.argv = [str(EXAMPLE)] + argv
    example.main()


# --- the driver ----------------------------------------------------------------------------------
def page(results, seeds, command, baseline):
    """The page: one row per change, over the seeds measured for it so far (of ``seeds``)."""
    lines = ['# examples/question_fixed.py, one change undone at a time', '',
             f'Measured {today()} on {machine()} with `{command}`: each (change, seed) is the example '
             f'(`python examples/question_fixed.py --seed N`, its default budget of 5,000 steps) in a process of its '
             'own, two at a time, with that one change put back as the question had it. '
             'Success is the noise-free policy\'s L2 < 1.0, as the example prints it.', '',
             '| undone | what the run then does | learnt | median L2 | L2 per seed |', '|---|---|---|---|---|']
    if baseline:
        lines.append(f"| nothing | [the example itself](EXAMPLE_SEEDS.md) | {baseline} | | |")
    complete = True
    for change, (what, _) in UNDONE.items():
        rows = [results.get(change, {}).get(str(seed)) for seed in seeds]
        rows = [row for row in rows if row is not None and 'error' not in row]
        learnt = sum(row['success'] for row in rows)
        l2 = ', '.join(f"{row['seed']}: {row['l2_distance']:.3g}" for row in rows)
        median = f"{np.median([row['l2_distance'] for row in rows]):.3g}" if rows else ''
        rate = success_rate(learnt, len(rows)) if rows else 'not run yet'
        lines.append(f'| {change} | {what} | {rate} | {median} | {l2} |')
        complete = complete and len(rows) == len(seeds)
    if not complete:
        lines += ['', f'Not every change has every seed of {seeds[0]}-{seeds[-1]} yet: each row counts the seeds it has '
                  '(the command resumes where it stopped).']
    return '\n'.join(lines + [''])


def earlier_results(numbers):
    """The runs measured so far, from ``numbers`` (this program's own .json, to resume), or none."""
    if not numbers.exists():
        return {}
    try:
        results = json.loads(numbers.read_text())['results']
        assert all(isinstance(rows, dict) for rows in results.values())
        return results
    except (ValueError, KeyError, TypeError, AssertionError):
        raise BadInput(f'{shown(numbers)} exists and is not the numbers of an earlier run of this program; '
                       'give another --out, or move that file away') from None


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ['undo']:  # the child: undo CHANGE, then the example's own arguments
        return run_undone(argv[1], argv[2:])
    parser = command_parser('python -m stepsignal.experiments.example_leave_one_out', __doc__)
    parser.add_argument('--seeds', type=seeds_argument, default=seeds_argument('0-9'), help='like 0-9 (default) or 1,4,7')
    parser.add_argument('--changes', default=','.join(UNDONE),
                        help=f"the changes to undo, comma-separated (default all: {', '.join(UNDONE)})")
    parser.add_argument('--jobs', type=jobs_argument, default=2, help='runs at a time (default 2)')
    parser.add_argument('--out', type=output_folder_argument, required=True, metavar='DIR',
                        help=f'the folder the measurement owns: DIR/{NUMBERS} as the runs come (the same command '
                             f'resumes from it), DIR/{REPORT} at the end')
    parser.add_argument('--baseline', type=Path, default=KIT_ROOT / 'benchmarks' / 'your_script' / 'EXAMPLE_SEEDS.json',
                        help='the example with nothing undone, as example_seeds measured it (its numbers, .json; '
                             'default the kit\'s tracked run)')
    parser.add_argument('--page-only', action='store_true',
                        help='run nothing: write the page from the numbers measured so far (a row per change, its seeds)')
    answer_a_page_for_out(parser, argv)
    args = parser.parse_args(argv)
    changes = args.changes.split(',')
    numbers = args.out / NUMBERS
    with checking_input(parser):
        unknown = [change for change in changes if change not in UNDONE]
        if unknown:
            raise BadInput(f"--changes {','.join(unknown)}: not a change of the example; one of {', '.join(UNDONE)}")
        check_output_folder(args.out, resume=True)  # the runs measured so far are kept: it resumes
        results = earlier_results(numbers)
    setup_logging()
    lock = threading.Lock()

    def one(change, seed):
        if 'error' not in results.get(change, {}).get(str(seed), {'error': 'not run'}):
            return  # measured already (a run that failed is run again)
        command = [sys.executable, '-m', __spec__.name, 'undo', change]
        row = run_seed(seed, {}, None, command=command)
        log.info('%s undone, seed %d: %s', change, seed, row.get('error') or f"L2 {row['l2_distance']:.4g}")
        with lock:
            results.setdefault(change, {})[str(seed)] = row
            write_json(numbers, {'machine': machine(), 'date': today(), 'seeds': args.seeds, 'results': results})

    # seed by seed across the changes, so that a run stopped early has every change on its first seeds
    work = [] if args.page_only else [(change, seed) for seed in args.seeds for change in changes]
    with ThreadPoolExecutor(args.jobs) as pool:
        list(pool.map(lambda item: one(*item), work))
    if set(changes) != set(UNDONE):
        return 0
    baseline = None
    if args.baseline.exists():
        rows = [row for row in json.loads(args.baseline.read_text())['seeds'] if row['seed'] in args.seeds]
        baseline = success_rate(sum(row.get('success', False) for row in rows), len(rows))
    # the command that runs (and resumes) the measurement; --page-only only writes its page
    command = 'python -m stepsignal.experiments.example_leave_one_out ' + ' '.join(a for a in argv if a != '--page-only')
    text = page(results, args.seeds, command, baseline)
    sys.stdout.write(text)
    write_atomic(args.out / REPORT, lambda handle: handle.write(text.encode('utf-8')))
    return 0


if __name__ == '__main__':
    sys.exit(main())
