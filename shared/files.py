"""Writing results so that an interrupted run never leaves a half-written file."""
import io
import json
import os
import tempfile
from pathlib import Path


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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.chmod(tmp, _mode_for_new_files())
        os.replace(tmp, path)
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
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp.h5", dir=path.parent)
    os.close(fd)
    try:
        model.save_weights(tmp, overwrite=True, save_format="h5")
        os.chmod(tmp, _mode_for_new_files())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
