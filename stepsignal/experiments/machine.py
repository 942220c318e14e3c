"""The machine a measurement was taken on, as the reader of a number needs it.

"AMD EPYC, 2 cores" is not enough: two machines with that name here differ in their widest
vector instructions (AVX-512 or AVX2), which decide TensorFlow's kernels and so the rounding
(docs/results.md#rounding-worlds). The core count sets TensorFlow's thread pools: another part
of the rounding.
"""
import datetime
import os
import platform


def instruction_set(flags):
    """The widest vector instructions among a CPU's ``flags`` (as /proc/cpuinfo lists them)."""
    if 'avx512f' in flags:
        return 'AVX-512'
    if 'avx2' in flags:
        return 'AVX2 (no AVX-512)'
    return 'AVX (no AVX2)' if 'avx' in flags else 'no AVX'


def machine():
    """This machine: its CPU's model, its core count and its widest vector instructions.

    For example ``'AMD EPYC, 2 cores, AVX2 (no AVX-512)'``; without /proc/cpuinfo (macOS, Windows)
    the model is Python's guess and the instructions are left out.
    """
    found = {}
    try:
        with open('/proc/cpuinfo') as cpuinfo:
            for line in cpuinfo:  # one block per core: the first of each field is enough
                name, _, value = line.partition(':')
                found.setdefault(name.strip(), value.strip())
    except OSError:
        pass
    model = found.get('model name') or platform.processor() or platform.machine()
    flags = found['flags'].split() if 'flags' in found else None
    parts = [model, f'{os.cpu_count()} cores'] + ([instruction_set(flags)] if flags is not None else [])
    return ', '.join(parts)


def today():
    """The date a measurement is taken, as ISO text (2026-12-01)."""
    return datetime.date.today().isoformat()


def world():
    """The rounding world a measurement's child processes inherit, as its command's prefix:
    ``TF_ENABLE_ONEDNN_OPTS=0 `` or nothing (docs/glossary.md#rounding-world)."""
    value = os.environ.get('TF_ENABLE_ONEDNN_OPTS')
    return f'TF_ENABLE_ONEDNN_OPTS={value} ' if value is not None else ''
