"""Every file the kit writes appears whole or not at all."""
from pathlib import Path

import pytest

from shared.files import write_json, write_weights


class SaveBreaksHalfway:
    """A model whose save is stopped (Ctrl-C, or a kill) after half a file."""

    def save_weights(self, path, **kwargs):
        Path(path).write_bytes(b'half an HDF5 file')
        raise KeyboardInterrupt


def test_weights_stopped_while_saving_leave_the_earlier_file_and_no_other(tmp_path):
    target = tmp_path / 'weights' / 'actor.h5'
    target.parent.mkdir()
    target.write_bytes(b'the earlier, whole file')
    with pytest.raises(KeyboardInterrupt):
        write_weights(SaveBreaksHalfway(), target)
    assert target.read_bytes() == b'the earlier, whole file'
    assert [p.name for p in target.parent.iterdir()] == ['actor.h5']


def test_json_is_replaced_in_one_rename(tmp_path):
    write_json(tmp_path / 'r.json', {'a': 1})
    with pytest.raises(ValueError):
        write_json(tmp_path / 'r.json', {'a': float('nan')})  # refused: the earlier file stays
    assert (tmp_path / 'r.json').read_text() == '{\n  "a": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ['r.json']


def test_json_is_streamed_as_json_dumps_writes_it_and_a_late_bad_value_leaves_nothing(tmp_path):
    import json

    steps = [{'step': i, 'reward': -i / 7, 'name': 'é', 'done': i % 3 == 0, 'info': None} for i in range(5000)]
    write_json(tmp_path / 'trace.json', {'steps': steps})
    assert (tmp_path / 'trace.json').read_bytes() == (json.dumps({'steps': steps}, indent=2) + '\n').encode()
    steps[-1]['reward'] = float('inf')  # found only after most of the file was written
    with pytest.raises(ValueError):
        write_json(tmp_path / 'late.json', {'steps': steps})
    assert [p.name for p in tmp_path.iterdir()] == ['trace.json']


def test_written_files_get_the_permissions_of_any_new_file(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        write_json(tmp_path / 'r.json', {'a': 1})
    finally:
        os.umask(umask)
    assert (tmp_path / 'r.json').stat().st_mode & 0o777 == 0o644  # not mkstemp's 0o600
