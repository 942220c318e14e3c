"""``python -m stepsignal``: the kit's command line.

- ``compare --out DIR [--seed N] [--steps N]``: run the original and the fixed setup side by side
  and write a report (``DIR/report.md`` with figures). This is the README's main job.
- ``diagnose SCRIPT [ARGS...]`` or ``diagnose -m MODULE [ARGS...]``: run a keras-rl training script
  until its first ``agent.fit(...)``, report what will keep it from learning, and stop (or go on
  with ``--continue``). Exit status 1 if an error was found, 0 if not (docs/diagnose.md).
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

from shared.cli import seed_argument, setup_logging, steps_argument


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
    return own + rest[:1], rest[1:]


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m stepsignal', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest='command', required=True)
    commands.add_parser('bench', help='speed and sample efficiency, written to benchmarks/RESULTS.md')
    commands.add_parser('evaluate', help='the fixed setup over several seeds: the success rate')
    commands.add_parser('ablate', help='which fixes matter: leave-one-out, or the fix ladder')
    compare = commands.add_parser('compare', help='original vs fixed, with a report')
    compare.add_argument('--out', required=True, help='folder for the report and both runs')
    compare.add_argument('--seed', type=seed_argument, default=0, help='seed for both variants (default 0)')
    compare.add_argument('--steps', type=steps_argument, default=None,
                         help="the fixed agent's training steps (default: its own, 5000)")
    compare.add_argument('--overwrite', action='store_true',
                         help='--out may hold an earlier comparison: empty it first (without this, it is refused)')
    diagnose = commands.add_parser('diagnose', help='check a training script before it trains')
    diagnose.add_argument('-m', '--module', help='run this module as the script (like python -m)')
    diagnose.add_argument('--continue', dest='keep_training', action='store_true',
                          help='train after the diagnosis instead of stopping')
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

    from stepsignal.diagnose import ERROR, run_script

    if not args.module and not args.script:
        parser.exit(2, 'python -m stepsignal diagnose: error: give a script path or -m MODULE\n')
    if args.script and not os.path.isfile(args.script):
        parser.exit(2, f'python -m stepsignal diagnose: error: no such script: {args.script!r}\n')
    findings = run_script(path=args.script, module=args.module, argv=args.script_args,
                          keep_training=args.keep_training)
    if findings is None:
        parser.exit(2, 'python -m stepsignal diagnose: error: the script ended without calling agent.fit(...)\n')
    for finding in findings:
        print(finding)
    errors = sum(f.severity == ERROR for f in findings)
    print(f'{errors} errors, {len(findings) - errors} warnings')
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
