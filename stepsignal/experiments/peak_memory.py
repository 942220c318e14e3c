"""Run a command and print its exit status and peak memory as one JSON line.

``python -m stepsignal.experiments.peak_memory PROGRAM ARGS...``. A child's peak counts the memory
it had at fork, so the benchmark starts the measured command from this small process, not from
itself (it holds TensorFlow).
"""
import json
import os
import sys


def run(argv):
    """Fork, exec ``argv``, wait: ``{'status': exit status, 'peak_kib': its peak resident memory}``."""
    pid = os.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    _, status, usage = os.wait4(pid, 0)
    return {'status': os.waitstatus_to_exitcode(status), 'peak_kib': usage.ru_maxrss}


def main(argv=None):
    import argparse  # the standard library only: what this process holds, the measured child starts with

    parser = argparse.ArgumentParser(prog='python -m stepsignal.experiments.peak_memory',
                                     description=__doc__.replace('``', ''),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('command', nargs=argparse.REMAINDER, help='the program and its arguments')
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if not args.command:
        parser.error('give the command to measure, as in: python -m stepsignal.experiments.peak_memory python3 -c pass')
    sys.stdout.write(json.dumps(run(args.command)) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
