"""Writing results so that an interrupted run never leaves a half-written file, and so that the
kit can later remove exactly what it wrote.

Every file goes to a hidden temporary name beside its place and is renamed onto it once whole.
Before that, if it lies inside a run's ``--out`` (``start_listing``), its path is added to that
folder's marker (``MARKER``): the marker always lists every file the run wrote or was writing
when it stopped, and nothing else.
"""
import io
import json
import os
import tempfile
from pathlib import Path

MARKER = '.stepsignal-run.json'
"""The file every run keeps in its ``--out``: the command, when it started, and ``writes``, the path
(relative to the folder) of every file the run wrote there, and of every folder another process
writes a run into (ending in ``/``)."""
MARKER_VERSION = 2
"""``writes`` lists files inside folders too (version 1 listed the names at the top of ``--out``,
folders whole)."""

_listings = {}  # a run folder of this process (resolved) -> its marker's contents


def start_listing(folder, command, started, listed=()):
    """Write ``folder``'s marker; from now on every file this process writes under it is listed there first.

    ``listed``: paths to list from the start (an earlier run's, which ``ablate --resume`` keeps).
    """
    folder = Path(folder).resolve()
    marker = {'command': command, 'started': started, 'version': MARKER_VERSION, 'writes': sorted(set(listed))}
    _write_listing(folder, marker)
    _listings[folder] = marker


def continue_listing(folder):
    """Go on listing, in this process, into the marker of a run that ended in ``folder``
    (a run in a child process, whose output this process then writes beside its files).

    A folder with no marker the kit can read is left to the listing around it.
    """
    folder = Path(folder).resolve()
    try:
        marker = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return
    if isinstance(marker, dict) and marker.get('version') == MARKER_VERSION and isinstance(marker.get('writes'), list):
        _listings[folder] = marker


def list_before_writing(path, folder=False):
    """Add ``path`` (``folder``: a folder another process fills) to the marker of the run folder it lies in.

    Called by every writer here before the file exists; call it yourself before writing a file any
    other way. A path outside every run folder of this process is not listed.
    """
    path = Path(path).resolve()
    owners = [run for run in _listings if path.is_relative_to(run) and path != run]
    if not owners:
        return
    run = max(owners, key=lambda candidate: len(candidate.parts))  # the innermost run folder
    name = path.relative_to(run).as_posix() + ('/' if folder else '')
    marker = _listings[run]
    if name != MARKER and name not in marker['writes']:
        updated = {**marker, 'writes': sorted(marker['writes'] + [name])}
        _write_listing(run, updated)  # first: a file that exists is always listed
        _listings[run] = updated


def _write_listing(folder, marker):
    _write_whole(folder / MARKER, lambda handle: handle.write((json.dumps(marker, indent=2) + '\n').encode()))


def _mode_for_new_files():
    """The permissions ``open()`` would give a new file: 0o666 less the umask (mkstemp gives 0o600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomic(path, write):
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it onto ``path``.

    The rename is atomic on one filesystem: a reader sees the old file or the new one, never a
    part. ``write`` gets a binary file object.
    """
    list_before_writing(path)
    _write_whole(path, write)


def _write_whole(path, write):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.chmod(tmp, _mode_for_new_files())
        os.replace(tmp, path)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        if error.filename is None:  # a write to a full disk names no file: name the one it was for
            raise OSError(error.errno, error.strerror, str(path)) from error
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path, data):
    """Write ``data`` as indented JSON, atomically.

    Streamed to the file as it is encoded: a long run's trace never exists whole as a string
    (the bytes are ``json.dumps``'s, plus a newline).
    """
    def write(handle):
        text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
        json.dump(data, text, indent=2, allow_nan=False)
        text.write("\n")
        text.detach()  # flushes; the file stays open for write_atomic to close

    write_atomic(path, write)


def save_figure(figure, path):
    """Write a matplotlib figure as PNG, atomically, with no timestamp (the same run, the same bytes)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    write_atomic(path, lambda handle: handle.write(buffer.getvalue()))


def write_weights(model, path):
    """A Keras model's weights as HDF5 at ``path``, written whole or not at all.

    tf-keras writes the file in place, so a run stopped while saving would leave a file h5py
    cannot open: it writes a temporary file beside ``path`` instead, then renames it.
    """
    path = Path(path)
    list_before_writing(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp.h5", dir=path.parent)
    os.close(fd)
    try:
        model.save_weights(tmp, overwrite=True, save_format="h5")
        os.chmod(tmp, _mode_for_new_files())
        os.replace(tmp, path)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        if error.errno:  # HDF5's message is a page of its internals: the system's words, and the file
            raise OSError(error.errno, os.strerror(error.errno), str(path)) from error
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
