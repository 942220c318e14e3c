"""``python -m stepsignal diagnose``: the keras-rl doctor's command line (docs/diagnose.md).

  python -m stepsignal diagnose [--continue] [--traceback] SCRIPT [ARGS...]
  python -m stepsignal diagnose -m MODULE [ARGS...]
  python -m stepsignal diagnose --port [--steps N] SCRIPT [ARGS...]

Runs a keras-rl training script, written for today's stack or for 2018-2021's (porting shims),
until its first ``agent.fit(...)``, reports what will keep it from running or learning, and stops
(or goes on with ``--continue``; ``--port`` runs it to its end and lists the lines to change).
Exit status 0 no errors, 1 errors found, 2 the script could not be checked.
"""
import os
import sys

from shared.cli import command_parser, setup_logging, steps_argument


def build_parser():
    parser = command_parser('python -m stepsignal diagnose', __doc__.split('\n\n', 1)[1])
    parser.add_argument('-m', '--module', help='run this module as the script (like python -m)')
    parser.add_argument('--continue', dest='keep_training', action='store_true',
                        help='train after the diagnosis instead of stopping')
    parser.add_argument('--port', action='store_true',
                        help='run the script to its end with the porting shims, and list each shim it needed '
                             'with the line to change (implies --continue)')
    parser.add_argument('--steps', type=steps_argument, default=None,
                        help='with --port or --continue: cap every fit at this many steps, and each episode of test')
    parser.add_argument('--traceback', action='store_true', help='show the full traceback of a script failure')
    parser.add_argument('script', nargs='?', help='the training script (a .py file)')
    return parser


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
    own, script_args = split_script_arguments(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser()
    args = parser.parse_args(own)
    args.script_args = script_args
    setup_logging()
    return run_diagnose(parser, args)


def run_diagnose(parser, args):
    from stepsignal.doctor.old_scripts import run_script

    prog = parser.prog
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
        print('diagnose: the script ran to its end under the port'
              + ''.join(f'\n  but {untrained}' for untrained in run.untrained))
    return run.exit_status


if __name__ == '__main__':
    sys.exit(main())
