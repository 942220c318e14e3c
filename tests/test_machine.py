"""What a measured number says of its machine: the CPU, its cores, its widest vector instructions."""
import os

import pytest

from stepsignal.experiments.machine import instruction_set, machine


@pytest.mark.parametrize('flags, expected', [({'avx', 'avx2', 'avx512f', 'fma'}, 'AVX-512'),
                                             ({'avx', 'avx2', 'fma', 'sha_ni'}, 'AVX2 (no AVX-512)'),
                                             ({'avx', 'sse4_2'}, 'AVX (no AVX2)'), ({'sse2'}, 'no AVX')])
def test_the_widest_instructions_are_named(flags, expected):
    assert instruction_set(flags) == expected


def test_this_machine_names_its_cores_and_on_linux_its_instructions():
    text = machine()
    assert f', {os.cpu_count()} cores' in text
    if os.path.exists('/proc/cpuinfo'):
        with open('/proc/cpuinfo') as cpuinfo:
            flags = next(line for line in cpuinfo if line.startswith('flags')).split(':', 1)[1].split()
        assert text.endswith(f'cores, {instruction_set(flags)}')
