"""``python tests/killed_while_writing.py VICTIM ARGS...``: ``stepsignal process ARGS``, killed half-way
through writing the file named VICTIM (tests/test_faults.py).

Where the kit writes a file (``shared.files``), this run writes half of VICTIM's bytes, flushes
them and sends itself SIGKILL, as a power cut would. The two writers are swapped before anything
imports them, so every ``from shared.files import ...`` sees the killed ones.
"""
import io
import os
import signal
import sys

import shared.files as files

write_atomic, write_weights = files.write_atomic, files.write_weights
victim = None  # the file name given on the command line


def half_then_die(handle, data):
    handle.write(data[:len(data) // 2])
    handle.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def write_atomic_killed(path, write):
    if os.path.basename(str(path)) != victim:
        return write_atomic(path, write)
    buffer = io.BytesIO()
    write(buffer)
    return write_atomic(path, lambda handle: half_then_die(handle, buffer.getvalue()))


class KilledWhileSaving:
    """A Keras model whose ``save_weights`` dies half-way through the file (tf-keras writes in place)."""

    def __init__(self, model):
        self.model = model

    def save_weights(self, path, **kwargs):
        self.model.save_weights(path, **kwargs)
        with open(path, 'rb') as whole:
            data = whole.read()
        with open(path, 'wb') as handle:
            half_then_die(handle, data)


def write_weights_killed(model, path):
    return write_weights(KilledWhileSaving(model) if os.path.basename(str(path)) == victim else model, path)


if __name__ == '__main__':
    victim = sys.argv.pop(1)
    files.write_atomic, files.write_weights = write_atomic_killed, write_weights_killed
    from stepsignal.own_signal.process import main

    sys.exit(main(sys.argv[1:]))
