"""Hold back the start-up noise of TensorFlow and gym; pass on everything else they write.

TensorFlow's C++ core writes its start-up notes straight to the process's stderr, before
``TF_CPP_MIN_LOG_LEVEL`` is read: the oneDNN notice, "Could not find cuda drivers", the CPU
feature flags, and on a machine without a GPU ``E0000 ... failed call to cuInit ... UNKNOWN ERROR
(303)``, which reads like an error and is not one. gym 0.26 prints a four-line notice that it is
unmaintained (docs/porting.md says why the kit still uses it for the original). None of it is
about a run, so it is held back: while the import runs, file descriptor 2 goes to a temporary
file, and afterwards every line that is not one of the known notes is written to stderr as it
came. A real error or warning therefore still shows.
"""
import contextlib
import os
import re
import sys
import tempfile

TENSORFLOW_NOISE = re.compile(
    r'absl::InitializeLog|oneDNN custom operations|cudart_stub|cuda_platform|cuInit|cuda drivers'
    r'|cpu_feature_guard|To enable the following instructions|rebuild TensorFlow with the appropriate'
    r'|Unable to register cu(DNN|FFT|BLAS) factory|computation_placer|TF-TRT Warning')
"""Lines TensorFlow writes at start-up that say nothing about a run."""

GYM_NOISE = re.compile(
    r'^Gym has been unmaintained since 2022|^Please upgrade to Gymnasium|^Users of this version of Gym'
    r'|^See the migration guide at https://gymnasium.farama.org')
"""gym 0.26's notice, printed when it is first imported."""


@contextlib.contextmanager
def held_back(noise):
    """Send stderr (file descriptor 2) to a temporary file while the block runs; afterwards write
    every line of it that ``noise`` does not match to stderr.

    Yields a list, which after the block holds the lines held back (to tell what they said).
    """
    sys.stderr.flush()
    saved = os.dup(2)
    held = []
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield held
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            for line in caught.read().decode(errors='replace').splitlines():
                if noise.search(line):
                    held.append(line)
                elif line.strip():
                    sys.stderr.write(line + '\n')
            sys.stderr.flush()
