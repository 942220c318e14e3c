"""``python -m stepsignal``: the kit's command line.

- ``compare --out DIR [--seed N] [--steps N]``: run the original and the fixed setup side by side
  and write a report (``DIR/report.md`` with figures). This is the README's main job.
- ``diagnose [--port [--steps N]] SCRIPT [ARGS...]`` or ``diagnose -m MODULE [ARGS...]``: run a
  keras-rl training script, written for today's stack or for 2018-2021's (porting shims), until its
  first ``agent.fit(...)``, report what will keep it from running or learning, and stop (or go on
  with ``--continue``; ``--port`` runs it to its end and lists the lines to change). Exit status
  0 no errors, 1 errors found, 2 the script could not be checked (docs/diagnose.md).
- ``evaluate --seeds 0-9 [--steps N] [--random-scenarios] [--env NAME=VALUE] [--out DIR]``: train
  the fixed setup on several seeds and measure the success rate with its 95% interval.
- ``ablate --seeds 0-9 --out DIR [--ladder] [--address HOST:PORT]``: which fixes matter: the fixed
  setup with one fix reverted at a time, or the fixes added back one at a time (docs/ablation.md).
- ``bench [--out benchmarks/RESULTS.md] [--seeds N]``: the speed and sample-efficiency benchmark.

The kit's layers: ``shared/`` is the base; ``original/`` and ``fixed/`` are the two variants built
on it; ``stepsignal/`` holds the commands and the extensions that drive the variants.
"""
import argparse
import sys

from shared.cli import output_folder_argument, seed_argument, setup_logging, steps_argument


def split_script_arguments(argv):
    """Split ``diagnose``'s arguments into its own and the script's: everything after the script
    path, or after ``-m MODULE``, belongs to the script (as with ``python script.py ARGS``)."""
    own, rest = [], list(argv)
    while rest and rest[0].startswith('-'):
        token = rest.pop(0)
        own.append(token)
        if token in ('-m', '--module'):
            own += rest[:1]
            return own, rest[1:]
        if token == '--steps':  # diagnose's one option that takes a value
            own += rest[:1]
            rest = rest[1:]
    return own + rest[:1], rest[1:]


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m stepsignal', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest='command', required=True)
    commands.add_parser('bench', help='speed and sample efficiency, written to benchmarks/RESULTS.md')
    commands.add_parser('evaluate', help='the fixed setup over several seeds: the success rate')
    commands.add_parser('ablate', help='which fixes matter: leave-one-out, or the fix ladder')
    compare = commands.add_parser('compare', help='original vs fixed, with a report')
    compare.add_argument('--out', type=output_folder_argument, required=True,
                         help='a new folder for the report and both runs')
    compare.add_argument('--seed', type=seed_argument, default=0, help='seed for both variants (default 0)')
    compare.add_argument('--steps', type=steps_argument, default=None,
                         help="the fixed agent's training steps (default: its own, 5000)")
    compare.add_argument('--overwrite', action='store_true',
                         help='--out may hold an earlier comparison: remove what it wrote first (without this, it '
                              'is refused)')
    diagnose = commands.add_parser('diagnose', help='check a training script before it trains')
    diagnose.add_argument('-m', '--module', help='run this module as the script (like python -m)')
    diagnose.add_argument('--continue', dest='keep_training', action='store_true',
                          help='train after the diagnosis instead of stopping')
    diagnose.add_argument('--port', action='store_true',
                          help='run the script to its end with the porting shims, and list each shim it needed '
                               'with the line to change (implies --continue)')
    diagnose.add_argument('--steps', type=steps_argument, default=None,
                          help='with --port or --continue: cap every fit at this many steps')
    diagnose.add_argument('--traceback', action='store_true', help='show the full traceback of a script failure')
    diagnose.add_argument('script', nargs='?', help='the training script (a .py file)')
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ['bench']:  # the benchmark has its own options
        from stepsignal.bench import main as bench
        return bench(argv[1:])
    if argv[:1] == ['evaluate']:  # so has the evaluation
        from stepsignal.evaluate import main as evaluate
        return evaluate(argv[1:])
    if argv[:1] == ['ablate']:  # and the ablation
        from stepsignal.ablation import main as ablate
        return ablate(argv[1:])
    script_args = []
    if argv[:1] == ['diagnose']:
        own, script_args = split_script_arguments(argv[1:])
        argv = ['diagnose', *own]
    args = parser.parse_args(argv)
    args.script_args = script_args
    setup_logging()
    if args.command == 'diagnose':
        return run_diagnose(parser, args)

    from shared.cli import report_failure
    from stepsignal.compare import compare as run_compare
    try:
        run_compare(args.out, seed=args.seed, steps=args.steps, overwrite=args.overwrite)
    except ValueError as error:  # a bad argument or --out, found before any work
        parser.exit(2, f'python -m stepsignal compare: error: {error}\n')
    except Exception as error:  # a variant's run failed: one line, the details in OUT/error.log
        return report_failure('python -m stepsignal compare', args.out, error)
    return 0


def run_diagnose(parser, args):
    import os

    from stepsignal.old_scripts import run_script

    prog = 'python -m stepsignal diagnose'
    if not args.module and not args.script:
        parser.exit(2, f'{prog}: error: give a script path or -m MODULE\n')
    if args.script and not os.path.isfile(args.script):
        parser.exit(2, f'{prog}: error: no such script: {args.script!r}\n')
    train = args.keep_training or args.port
    if args.steps is not None and not train:
        parser.exit(2, f'{prog}: error: --steps caps the training: give it with --port or --continue\n')
    try:
        run = run_script(path=args.script, module=args.module, argv=args.script_args, train=train,
                         max_steps=args.steps, on_diagnosis=show_diagnosis)
    except ValueError as error:  # -m names no module
        parser.exit(2, f'{prog}: error: {error}\n')
    except KeyboardInterrupt:
        parser.exit(130, f'{prog}: interrupted\n')
    return show_outcome(run, args)


def show_diagnosis(run):
    """The findings, printed the moment the script reaches fit (before any training)."""
    print(f'\ndiagnose: {run.script} reached agent.fit at {run.reached_fit}')
    for finding in run.findings:
        print(finding)
    print(f'{run.errors} errors, {len(run.findings) - run.errors} warnings', flush=True)


def show_outcome(run, args):
    out = sys.stdout if run.reached_fit is not None else sys.stderr
    if run.failure:
        stage = 'after the diagnosis' if run.reached_fit else 'before agent.fit, so it could not be checked'
        print(f'diagnose: the script failed {stage}: {run.failure}', file=out)
        if run.hint:
            print(f'    what to do: {run.hint}', file=out)
        if args.traceback and run.details:
            print(run.details, file=out)
        elif run.details:
            print('    (--traceback shows where, in full)', file=out)
    elif run.reached_fit is None:
        print('diagnose: the script ended without calling agent.fit(...), so there was nothing to check', file=out)
    porting = run.shims.used() if run.shims else []
    if porting and (args.port or run.reached_fit is None):
        done = 'let it run' if run.trained else 'were needed so far'
        print(f'\nthe port: {len(porting)} shims {done} on today\'s stack; change these lines to do without them:')
        for shim in porting:
            print(f'  [{shim.name}] {shim.change}')
            for use in shim.uses:
                print(f'      {use}')
    if run.trained and args.port:
        print('diagnose: the script ran to its end under the port')
    return run.exit_status


if __name__ == '__main__':
    sys.exit(main())
