"""Run one of the kit's command lines in a child process, with its progress shown live.

TensorFlow keeps one graph per process, and seeds act through it: a run in its own process is
exactly the run its command line gives, and two of them can use both cores.
"""
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time

from shared.cli import CHILD_STDOUT, RunFailed
from shared.files import continue_listing, list_before_writing, write_atomic

log = logging.getLogger(__name__)


def run_module(name, out, arguments, label=None, env=None):
    """Run ``python -m NAME --out OUT ARGUMENTS``; return its wall time in seconds.

    ``env``: environment variables to set for the child on top of ours (for example
    ``{'TF_ENABLE_ONEDNN_OPTS': '0'}``, another rounding world: docs/results.md).

    Its own log lines go on to ours as they come, prefixed ``[label]`` (default: the module);
    its stdout goes to ``OUT/stdout.txt`` (``CHILD_STDOUT``). A failure raises ``RunFailed``, its first line
    the child's own error line, then its last lines.
    """
    label = label or name
    list_before_writing(out, folder=True)  # the child lists its own files in its own marker
    command = [sys.executable, '-m', name, '--out', str(out), *arguments]
    log.info('%s: %s', label, ' '.join(command[1:]))
    start = time.perf_counter()
    tail = []
    with tempfile.TemporaryFile() as stdout:  # into OUT once the child has made OUT its own
        child = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE, text=True,
                                 env=None if env is None else {**os.environ, **env})
        for line in child.stderr:  # live, so that the child's progress shows as it happens
            tail = (tail + [line])[-40:]
            if line.startswith(('INFO ', 'WARNING ', 'ERROR ')):  # its own logging, not TF's chatter
                log.info('[%s] %s', label, line.rstrip().split(': ', 1)[-1])
        returncode = child.wait()
        stdout.seek(0)
        if out.is_dir():
            continue_listing(out)  # listed in the child's own marker, beside its files
            write_atomic(out / CHILD_STDOUT, lambda handle: shutil.copyfileobj(stdout, handle))
    if returncode != 0:
        said = [line.split(': error: ', 1)[1].strip() for line in tail if ': error: ' in line]
        said = said or [line.strip() for line in tail[-1:]] or ['it said nothing']
        raise RunFailed(f'python -m {name} --out {out} ended with exit status {returncode}: {said[-1]}\n' +
                        ''.join(tail))
    return time.perf_counter() - start
