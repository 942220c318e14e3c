"""python -m stepsignal VERB [OPTIONS]: the kit's tools, one verb each.

Experiments on the two variants (stepsignal/experiments/):
  compare     run the original and the fixed setup side by side and write a report (the main job)
  train       one run of the fixed setup with chosen fixes undone (--revert 4,6)
  evaluate    train the fixed setup over several seeds: the success rate and its 95% interval
  ablate      which fixes matter: each fix reverted alone, or added back one at a time
  bench       speed and sample efficiency, written to benchmarks/speed/RESULTS.md

Your own signal (stepsignal/own_signal/):
  process     the fixed setup on your signal file (or a saved policy answering it)
  clips       one policy for a folder of clips, each dirtied anew at every episode
  scenarios   train on a new step scenario every episode, then measure never-seen ones

The keras-rl doctor (stepsignal/doctor/):
  diagnose    check a keras-rl training script before it trains; port an old one

`python -m stepsignal VERB --help` shows each verb's options.
"""
import importlib
import sys

VERBS = {
    'compare': 'stepsignal.experiments.compare',
    'train': 'stepsignal.experiments.train',
    'evaluate': 'stepsignal.experiments.evaluate',
    'ablate': 'stepsignal.experiments.ablation',
    'bench': 'stepsignal.experiments.bench',
    'process': 'stepsignal.own_signal.process',
    'clips': 'stepsignal.own_signal.clips',
    'scenarios': 'stepsignal.own_signal.scenarios',
    'diagnose': 'stepsignal.doctor.command',
}
"""Each verb, and the module whose ``main(argv)`` parses its options and runs it."""


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ('-h', '--help'):  # the verbs; without one, on stderr and as an error
        (sys.stdout if argv else sys.stderr).write(__doc__)
        return 0 if argv else 2
    verb, rest = argv[0], argv[1:]
    if verb not in VERBS:
        sys.stderr.write(f'python -m stepsignal: error: no verb {verb!r}; the verbs are {", ".join(VERBS)} '
                         f'(python -m stepsignal --help says what each does)\n')
        return 2
    return importlib.import_module(VERBS[verb]).main(rest)


if __name__ == '__main__':
    sys.exit(main())
