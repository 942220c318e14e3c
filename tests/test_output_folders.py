"""One rule for ``--out``, the same in every command (``shared.cli.check_output_folder``).

The kit writes only into a new folder, an empty one, or one it made; it refuses a folder that
holds anything else. ``--overwrite`` removes exactly what the earlier run listed in its marker,
never a file the kit did not write, and nothing at all from the working folder, the folders
above it, the home folder, the kit's own folder or a folder holding a file the run reads. A
folder in use is refused (tests/test_runs.py); a file is refused.

Each command's own real run checks the rest: everything it writes is listed, and a file added
after it survives ``--overwrite`` (``assert_overwrite_keeps_a_file_it_did_not_write``, in the
tests of compare, evaluate and ablate, and here for original, fixed and your own signal).
"""
import json
from pathlib import Path

import numpy as np
import pytest

from command_line import (assert_overwrite_keeps_a_file_it_did_not_write, assert_the_kit_wrote_only_what_it_listed,
                          contents, refused_here, run_command)
from shared.checks import BadInput
from shared.cli import RUN_MARKER, check_output_folder
from shared.files import write_json


def commands(folder):
    """Each command, with its arguments besides ``--out`` (small, so that a run that starts stops soon)."""
    signal = folder / 'signal.npy'
    if not signal.exists():
        np.save(signal, np.r_[np.zeros(300), np.ones(300)] + 0.3)
    return {
        'original': ['original'],
        'fixed': ['fixed', '--steps', 100],
        'own signal': ['stepsignal', 'process', '--input', signal, '--sample-rate', 30, '--target-level', 0, '--steps', 100],
        'compare': ['stepsignal', 'compare', '--steps', 100],
        'evaluate': ['stepsignal', 'evaluate', '--seeds', 0, '--steps', 100],
        'ablate': ['stepsignal', 'ablate', '--seeds', 0, '--steps', 100, '--revert', 4],
    }


COMMANDS = ['original', 'fixed', 'own signal', 'compare', 'evaluate', 'ablate']


def earlier_run(folder, *names):
    """A folder as an earlier run of the kit leaves it: its files, and a marker that lists them."""
    folder.mkdir()
    (folder / 'result.json').write_text('{"earlier": true}')
    (folder / 'processed.wav').write_bytes(b'stale')
    (folder / 'weights').mkdir()
    (folder / 'weights' / 'old.h5').write_bytes(b'stale')
    listed = ['result.json', 'processed.wav', 'weights/old.h5', *names]
    (folder / RUN_MARKER).write_text(json.dumps({'command': 'earlier', 'version': 2, 'writes': listed}))
    return folder


def users_folder(folder):
    """A folder of the user's own work."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / 'notes.txt').write_text('mine')
    (folder / 'src').mkdir()
    (folder / 'src' / 'main.py').write_text('print("mine")')
    return folder


@pytest.mark.parametrize('command', COMMANDS)
def test_a_folder_with_results_is_refused_naming_overwrite(command, tmp_path):
    out = earlier_run(tmp_path / 'out')
    before = contents(out)
    finished = run_command(*commands(tmp_path)[command], '--out', out)
    assert finished.returncode == 2, finished.stderr[-2000:]
    assert 'Traceback' not in finished.stderr
    message = [line for line in finished.stderr.splitlines() if 'already holds results' in line]
    assert len(message) == 1 and '--overwrite' in message[0] and 'result.json' in message[0]
    assert contents(out) == before


@pytest.mark.parametrize('command', COMMANDS)
def test_a_folder_holding_the_users_files_is_refused_with_or_without_overwrite(command, tmp_path, capsys):
    out = users_folder(tmp_path / 'mine')
    before = contents(out)
    for overwrite in ([], ['--overwrite']):
        status, stderr = refused_here(commands(tmp_path)[command] + ['--out', out, *overwrite], capsys)
        assert status == 2 and 'Traceback' not in stderr, stderr[-2000:]
        message = [line for line in stderr.splitlines() if 'did not write' in line]
        assert len(message) == 1 and 'notes.txt' in message[0] and 'src/' in message[0], stderr
        assert 'choose another folder' in message[0]
        assert contents(out) == before


@pytest.mark.parametrize('command', COMMANDS)
def test_out_empty_dot_and_dot_dot_among_the_users_files_are_refused(command, tmp_path, capsys, monkeypatch):
    home = users_folder(tmp_path / 'work')
    here = users_folder(home / 'project')
    before = contents(home)
    monkeypatch.chdir(here)
    for out, message in (('', 'empty'), ('.', 'did not write'), ('..', 'did not write')):
        for overwrite in ([], ['--overwrite']):
            status, stderr = refused_here(commands(tmp_path)[command] + ['--out', out, *overwrite], capsys)
            assert status == 2 and 'Traceback' not in stderr, stderr[-2000:]
            assert message in stderr, (out, stderr[-2000:])
            assert contents(home) == before


@pytest.mark.parametrize('command', ['original', 'fixed', 'own signal'])
def test_a_run_lists_what_it_wrote_and_overwrite_keeps_a_file_added_after_it(command, tmp_path):
    out = tmp_path / 'out'
    finished = run_command(*commands(tmp_path)[command], '--out', out)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert_the_kit_wrote_only_what_it_listed(out)
    assert_overwrite_keeps_a_file_it_did_not_write(commands(tmp_path)[command], out)


def test_overwrite_removes_exactly_what_the_earlier_run_listed(tmp_path):
    out = earlier_run(tmp_path / 'out')
    finished = run_command('fixed', '--steps', 100, '--out', out, '--overwrite')
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert not (out / 'processed.wav').exists() and not (out / 'weights' / 'old.h5').exists()
    assert '"earlier"' not in (out / 'result.json').read_text() and '"earlier"' not in (out / RUN_MARKER).read_text()
    assert_the_kit_wrote_only_what_it_listed(out)


def test_a_marker_claims_nothing_it_does_not_list(tmp_path):
    out = earlier_run(tmp_path / 'out')
    (out / 'notes.txt').write_text('added by the user after the run')
    before = contents(out)
    with pytest.raises(ValueError, match=r"holds notes.txt, which this kit did not write.*choose another folder"):
        check_output_folder(out, overwrite=True)
    assert contents(out) == before


def test_a_folder_an_earlier_version_marked_without_a_list_is_not_emptied(tmp_path):
    out = tmp_path / 'old'
    out.mkdir()
    (out / RUN_MARKER).write_text('{"command": "earlier"}')  # the kit's marker before it listed its files
    (out / 'result.json').write_text('{}')
    with pytest.raises(ValueError, match='earlier version of this kit'):
        check_output_folder(out, overwrite=True)
    assert (out / 'result.json').is_file()


def test_every_command_that_starts_leaves_its_marker_listing_nothing_it_has_not_written(tmp_path):
    out = check_output_folder(tmp_path / 'new')
    assert json.loads((out / RUN_MARKER).read_text())['writes'] == []
    write_json(out / 'weights' / 'a.json', {})
    assert json.loads((out / RUN_MARKER).read_text())['writes'] == ['weights/a.json']
    with pytest.raises(ValueError, match='already holds results .*--overwrite'):
        check_output_folder(tmp_path / 'new')  # even before it wrote a result


def test_a_file_left_by_a_run_killed_as_it_wrote_counts_as_the_kits(tmp_path):
    out = earlier_run(tmp_path / 'out')
    (out / '.result.json.k2j3.tmp').write_bytes(b'half')  # shared.files' temporary name
    (out / f'.{RUN_MARKER}.x81q.tmp').write_bytes(b'half')
    check_output_folder(out, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == [RUN_MARKER]


def test_an_empty_folder_is_used_and_a_new_one_made(tmp_path):
    (tmp_path / 'empty').mkdir()
    assert check_output_folder(tmp_path / 'empty').is_dir()
    assert check_output_folder(tmp_path / 'new' / 'deeper').is_dir()


@pytest.mark.parametrize('place', ['working folder', 'folder above it', 'home folder', "kit's own folder"])
def test_overwrite_never_removes_anything_from_the_users_places(place, tmp_path, monkeypatch):
    import shared.cli

    out = earlier_run(tmp_path / 'out')
    if place == 'working folder':
        monkeypatch.chdir(out)
    elif place == 'folder above it':
        monkeypatch.chdir(out / 'weights')
    elif place == 'home folder':
        monkeypatch.setenv('HOME', str(out))
    else:
        monkeypatch.setattr(shared.cli, 'KIT_ROOT', out)
    before = contents(out)
    with pytest.raises(ValueError, match='--overwrite never removes anything; choose another folder'):
        check_output_folder(out, overwrite=True)
    assert contents(out) == before


@pytest.mark.parametrize('read', ['processed.wav', 'weights/old.h5'])
def test_overwrite_never_removes_a_file_the_run_reads(read, tmp_path):
    out = earlier_run(tmp_path / 'out')
    before = contents(out)
    with pytest.raises(ValueError, match='lies inside --out'):
        check_output_folder(out, overwrite=True, inside=[out / read])
    assert contents(out) == before


def test_ablate_resume_keeps_the_runs_and_lists_them(tmp_path):
    out = earlier_run(tmp_path / 'out')
    check_output_folder(out, resume=True)
    assert (out / 'result.json').read_text() == '{"earlier": true}'
    listed = json.loads((out / RUN_MARKER).read_text())['writes']
    assert listed == ['processed.wav', 'result.json', 'weights/old.h5']


FAILING_RUN = r'''
import sys
import fixed.train

def broken_train(*args, **kwargs):
    raise RuntimeError('the filter exploded')

fixed.train.train = broken_train
from fixed.__main__ import main
sys.exit(main(sys.argv[1:]))
'''


def test_a_failure_inside_a_run_is_one_line_and_the_details_are_in_error_log(tmp_path):
    import subprocess
    import sys

    finished = subprocess.run([sys.executable, '-c', FAILING_RUN, '--out', str(tmp_path / 'out'), '--steps', '100'],
                              capture_output=True, text=True, timeout=600)
    assert finished.returncode == 1 and 'Traceback' not in finished.stderr
    last = finished.stderr.strip().splitlines()[-1]
    assert 'the run failed: RuntimeError: the filter exploded' in last and 'error.log' in last
    details = (tmp_path / 'out' / 'error.log').read_text()
    assert 'Traceback' in details and 'broken_train' in details
    assert_the_kit_wrote_only_what_it_listed(tmp_path / 'out')


def test_overwrite_refuses_a_file_the_user_put_inside_a_folder_the_kit_made(tmp_path):
    out = earlier_run(tmp_path / 'out')
    (out / 'weights' / 'my_notes.txt').write_text('mine')
    (out / 'weights' / 'mine').mkdir()
    before = contents(out)
    with pytest.raises(BadInput, match=r"holds weights/mine/, weights/my_notes.txt, which this kit did not write"):
        check_output_folder(out, overwrite=True)
    assert contents(out) == before


@pytest.mark.parametrize('name', ['stdout.txt', 'error.log'])
def test_the_users_own_stdout_txt_or_error_log_is_never_taken_for_the_kits(name, tmp_path):
    out = earlier_run(tmp_path / 'out')
    (out / name).write_text('mine')
    before = contents(out)
    with pytest.raises(BadInput, match=f'holds {name}, which this kit did not write'):
        check_output_folder(out, overwrite=True)
    assert contents(out) == before


def test_a_run_of_an_earlier_version_that_listed_folders_whole_is_not_emptied(tmp_path):
    out = earlier_run(tmp_path / 'out')
    (out / RUN_MARKER).write_text(json.dumps({'command': 'earlier', 'writes': ['result.json', 'processed.wav',
                                                                                'weights']}))
    before = contents(out)
    with pytest.raises(BadInput, match=r'earlier version of this kit, which did not list the files inside its '
                                       r'folders \(weights/\)'):
        check_output_folder(out, overwrite=True)
    assert contents(out) == before


def test_a_run_folder_inside_a_run_folder_counts_by_its_own_marker(tmp_path):
    """``compare`` runs each variant in a folder of its own, whose marker its own process writes."""
    out = check_output_folder(tmp_path / 'out')
    child = out / 'original'
    from shared.files import list_before_writing

    list_before_writing(child, folder=True)
    child.mkdir()
    (child / RUN_MARKER).write_text(json.dumps({'command': 'child', 'version': 2, 'writes': ['trace.json']}))
    (child / 'trace.json').write_text('{}')
    write_json(child / 'stdout.txt', {})  # written by the parent once the child has ended
    (child / 'notes.txt').write_text('mine')
    with pytest.raises(BadInput, match='holds original/notes.txt, which'):
        check_output_folder(out, overwrite=True)
    (child / 'notes.txt').unlink()
    check_output_folder(out, overwrite=True)
    assert sorted(path.name for path in out.iterdir()) == [RUN_MARKER]


def test_a_file_overwrite_cannot_remove_is_one_line_naming_it(tmp_path, monkeypatch):
    out = earlier_run(tmp_path / 'out')
    stuck = out / 'weights' / 'old.h5'
    unlink = Path.unlink

    def refuse_one(path, *args, **kwargs):
        if path == stuck:
            raise PermissionError(1, 'Operation not permitted', str(path))
        return unlink(path, *args, **kwargs)

    monkeypatch.setattr(Path, 'unlink', refuse_one)
    with pytest.raises(BadInput, match=r"--overwrite cannot remove '.*weights/old.h5', an earlier result: "
                                       r"Operation not permitted; remove it yourself"):
        check_output_folder(out, overwrite=True)
    assert (out / RUN_MARKER).is_file() and stuck.is_file()  # the marker still lists what is left


def test_a_full_disk_as_the_marker_is_written_is_said_and_leaves_no_folder(tmp_path, monkeypatch):
    import errno

    import shared.files

    def full(path, write):
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(shared.files, '_write_whole', full)
    with pytest.raises(BadInput, match=rf"--out '.*new': cannot write {RUN_MARKER} there: No space left on device"):
        check_output_folder(tmp_path / 'new')
    assert not (tmp_path / 'new').exists()


def test_a_page_given_to_out_is_answered_with_its_folder_and_left_untouched(tmp_path, capsys):
    from stepsignal.experiments.bench import main

    mine = tmp_path / 'my_notes.md'
    mine.write_text('mine')
    with pytest.raises(SystemExit) as exit:
        main(['--quick', '--only', 'env', '--out', str(mine)])
    assert exit.value.code == 2 and mine.read_text() == 'mine'
    folder = str(tmp_path / 'my_notes')
    assert f'--out is the folder the run owns now, not its page: --out {folder} writes {folder}/report.md' in \
        capsys.readouterr().err
    mine_too = tmp_path / 'notes'  # a file without a suffix: refused by the folder rule, untouched
    mine_too.write_text('mine')
    with pytest.raises(SystemExit) as exit:
        main(['--quick', '--only', 'env', '--out', str(mine_too)])
    assert exit.value.code == 2 and mine_too.read_text() == 'mine'


def test_bench_writes_its_page_and_numbers_into_its_folder(tmp_path):
    from stepsignal.experiments.bench import main

    out = tmp_path / 'bench'
    assert main(['--quick', '--only', 'env', '--out', str(out)]) == 0
    assert (out / 'report.md').read_text().startswith('# Benchmark results')
    assert set(json.loads((out / 'results.json').read_text())['env']) == {'original', 'fixed'}
    with pytest.raises(SystemExit) as exit:  # again: the earlier results are kept unless --overwrite
        main(['--quick', '--only', 'env', '--out', str(out)])
    assert exit.value.code == 2
    assert main(['--quick', '--only', 'env', '--out', str(out), '--overwrite']) == 0
