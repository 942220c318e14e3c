"""Read and write signals as files: WAV, ``.npy`` and one-column ``.csv``.

Every problem with a file is a ``SignalFileError`` (a ``ValueError``) whose message names the file
and says what is allowed, raised while reading, before any training starts. Writing is atomic
(``shared.files.write_atomic``) and keeps the input's own format: a 24-bit WAV comes back as a
24-bit WAV at the same sample rate, with the same number of channels.

Samples are handed around as float64 arrays of shape ``(samples, channels)``. WAV integer samples
are scaled to [-1, 1) (full scale); float WAV, ``.npy`` and ``.csv`` values are taken as they are.
"""
import ctypes
import io
import logging
import os
import stat
import struct
import warnings
import wave
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from scipy import signal
from scipy.io import wavfile

from shared.checks import BadInput, positive_number
from shared.files import write_atomic

log = logging.getLogger(__name__)

EXTENSIONS = ('.wav', '.npy', '.csv')

# WAV sample formats this module reads and writes back: (format tag, bits) -> (name, numpy dtype).
# Tag 1 is integer PCM, 3 is IEEE float (RIFF's WAVE_FORMAT_PCM and WAVE_FORMAT_IEEE_FLOAT).
WAV_FORMATS = {
    (1, 8): ('8-bit PCM', np.uint8),
    (1, 16): ('16-bit PCM', np.int16),
    (1, 24): ('24-bit PCM', np.int32),  # scipy hands 24-bit samples over in the top bytes of int32
    (1, 32): ('32-bit PCM', np.int32),
    (3, 32): ('32-bit float', np.float32),
    (3, 64): ('64-bit float', np.float64),
}
_EXTENSIBLE = 0xFFFE  # WAVE_FORMAT_EXTENSIBLE: the real tag is the first two bytes of its sub-format


class SignalFileError(BadInput):
    """A signal file that cannot be used; the message says which file, what is wrong and what is allowed."""


@dataclass(frozen=True)
class SignalFile:
    """A signal read from a file, and what is needed to write one back the same way."""

    path: Path
    samples: np.ndarray
    """Shape ``(samples, channels)``: float64, or float32 for a WAV whose every sample float32 holds
    exactly (8-, 16-, 24-bit PCM and 32-bit float: half the memory of a long file)."""
    sample_rate: float
    """Samples per second (Hz): the WAV header's, or the one given for ``.npy`` / ``.csv``."""
    kind: str
    """``'wav'``, ``'npy'`` or ``'csv'``."""
    wav_format: tuple = None
    """``(format tag, bits per sample)`` of a WAV file, a key of ``WAV_FORMATS``."""
    npy_dtype: str = None
    """The ``.npy`` array's dtype, kept on writing."""
    npy_one_dimensional: bool = False
    """Whether the ``.npy`` array was 1-D (written back 1-D)."""
    csv_header: str = None
    """The ``.csv`` file's header line, if it had one."""

    @property
    def channels(self):
        return self.samples.shape[1]

    def describe(self):
        """One line for logs and reports: the format, channels, rate and duration."""
        form = WAV_FORMATS[self.wav_format][0] + ' WAV' if self.kind == 'wav' else f'.{self.kind}'
        seconds = len(self.samples) / self.sample_rate
        return (f'{self.path.name}: {form}, {self.channels} channel(s), {len(self.samples)} samples at '
                f'{self.sample_rate:g} Hz ({seconds:.3g} s)')


def read_signal(path, sample_rate=None, what='input', option='--sample-rate', default_rate=None):
    """Read a signal file into a ``SignalFile``.

    Args:
        path: a ``.wav``, ``.npy`` or one-column ``.csv`` file.
        sample_rate: samples per second, as the user gave it (``option``): needed for ``.npy`` and
            ``.csv``, which store none; for a WAV, whose header has its own, it must agree with it.
        what: what the file is for (``'input'``, ``'target'``), used in error messages.
        option: the command-line option ``sample_rate`` came from, named in error messages.
        default_rate: the rate of a ``.npy`` or ``.csv`` when ``sample_rate`` is not given.
    """
    path = Path(path)
    extension = path.suffix.lower()
    if extension not in EXTENSIONS:
        raise SignalFileError(f'{what} file {str(path)!r} has the extension {path.suffix or "(none)"!r}; '
                              f'allowed: {", ".join(EXTENSIONS)}')
    try:
        if path.exists() and not stat.S_ISREG(path.stat().st_mode):  # a device or a pipe would be read forever
            raise SignalFileError(f'{what} file {str(path)!r} is not a regular file but {special_kind(path)}; give a '
                                  f'file of samples')
        if path.exists() and path.stat().st_size > largest_file():
            raise SignalFileError(f'{what} file {str(path)!r} holds {path.stat().st_size / 2**30:.2f} GiB; the kit '
                                  f'holds a signal whole in memory, in more than one form, and reads at most a quarter '
                                  f'of this machine\'s {physical_memory() / 2**30:.1f} GiB: process a part of it at a '
                                  f'time (sox IN OUT trim START LENGTH)')
        raw = path.read_bytes()
    except OSError as error:
        raise SignalFileError(f'cannot read {what} file {str(path)!r}: {error.strerror or error}') from None
    if extension == '.wav':
        loaded = _read_wav(path, raw, what)
        if sample_rate is not None and float(sample_rate) != loaded.sample_rate:
            raise SignalFileError(f'{option} {float(sample_rate):g} was given, but {what} file {str(path)!r} says '
                                  f'{loaded.sample_rate:g} Hz in its header; a WAV carries its own rate: leave '
                                  f'{option} out (or give {loaded.sample_rate:g})')
    else:
        sample_rate = sample_rate if sample_rate is not None else default_rate
        if sample_rate is None:
            raise SignalFileError(f'{what} file {str(path)!r} is {extension}, which stores no sample rate: '
                                  f'give it (--sample-rate for the input, --target-sample-rate for the target)')
        reader = _read_npy if extension == '.npy' else _read_csv
        loaded = reader(path, raw, what, positive_number(sample_rate, f'the sample rate of {what} {str(path)!r}', 'samples per second'))
    _check_samples(loaded.samples, path, what)
    return loaded


def _wav_chunks(raw):
    """``{chunk id: (start of its data, the size its header declares)}`` of a RIFF (little-endian)
    or RIFX (big-endian) WAV file, in the order they come; the first of each id."""
    endian = '>' if raw[:4] == b'RIFX' else '<'
    chunks, position = {}, 12  # after 'RIFF', the size and 'WAVE'
    while position + 8 <= len(raw):
        chunk_id, size = raw[position:position + 4], struct.unpack(endian + 'I', raw[position + 4:position + 8])[0]
        chunks.setdefault(chunk_id, (position + 8, size))
        position += 8 + size + (size % 2)
    return chunks


def physical_memory():
    """This machine's memory in bytes."""
    return os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES')


def largest_file():
    """The largest signal file read: a quarter of the memory (its bytes, its samples as floats, and the
    filtered copies are held at once)."""
    return physical_memory() // 4


def special_kind(path):
    """What a path that is not a regular file is, in words."""
    mode = path.stat().st_mode
    kinds = ((stat.S_ISDIR, 'a folder'), (stat.S_ISCHR, 'a character device'), (stat.S_ISBLK, 'a block device'),
             (stat.S_ISFIFO, 'a named pipe'), (stat.S_ISSOCK, 'a socket'))
    return next((name for test, name in kinds if test(mode)), 'a special file')


def _wav_format(raw):
    """``((format tag, bits per sample), sample rate)`` from a WAV file's ``fmt `` chunk, or (None, 0)."""
    endian = '>' if raw[:4] == b'RIFX' else '<'
    start, size = _wav_chunks(raw).get(b'fmt ', (0, 0))
    if size < 16 or start + 16 > len(raw):
        return None, 0
    tag, _, rate, _, _, bits = struct.unpack(endian + 'HHIIHH', raw[start:start + 16])
    if tag == _EXTENSIBLE and size >= 40 and start + 26 <= len(raw):
        tag = struct.unpack(endian + 'H', raw[start + 24:start + 26])[0]
    return (tag, bits), rate


def _read_wav(path, raw, what):
    if raw[:4] not in (b'RIFF', b'RIFX') or raw[8:12] != b'WAVE':
        raise SignalFileError(f'{what} file {str(path)!r} is not a WAV file (no RIFF/WAVE header)')
    form, rate_in_header = _wav_format(raw)
    if form is None:
        raise SignalFileError(f'{what} file {str(path)!r} is cut short or damaged: its header has no complete '
                              f'format (fmt) chunk ({len(raw):,} bytes in all); export or copy it again')
    if form not in WAV_FORMATS:
        allowed = ', '.join(name for name, _ in WAV_FORMATS.values())
        raise SignalFileError(f'{what} file {str(path)!r} has WAV sample format {form}; allowed: {allowed}')
    if rate_in_header <= 0:
        raise SignalFileError(f'{what} file {str(path)!r} says its sample rate is {rate_in_header} Hz; '
                              f'it must be above 0')
    if b'data' not in _wav_chunks(raw):
        raise SignalFileError(f'{what} file {str(path)!r} is cut short or damaged: it has no data chunk, where the '
                              f'samples are ({len(raw):,} bytes in all); export or copy it again')
    start, declared = _wav_chunks(raw)[b'data']
    if start + declared > len(raw):  # scipy would only warn, and read what is there
        raise SignalFileError(f'{what} file {str(path)!r} is cut short: its header promises {declared:,} bytes of '
                              f'samples and the file holds {len(raw) - start:,}; export or copy it again')
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', wavfile.WavFileWarning)  # chunks it skips, such as LIST: harmless
            rate, data = wavfile.read(io.BytesIO(raw))
    except Exception as error:  # scipy raises ValueError, struct.error, ... on broken files
        log.debug('scipy could not read %s: %r', path, error)
        raise SignalFileError(f'{what} file {str(path)!r} cannot be read as WAV: it is damaged, or its layout is one '
                              f'this kit does not read; export it again as PCM or float WAV') from None
    if data.size == 0:
        raise _no_samples(path, what)
    data = data.reshape(len(data), -1)
    # Computations take each channel to float64 as they need it; kept here is the narrowest float
    # that holds every sample exactly: float32 for 8-, 16- and 24-bit PCM (24 bits of mantissa;
    # scipy hands 24-bit samples over as int32 multiples of 256) and 32-bit float, half the memory
    # of a long file in float64.
    if data.dtype == np.uint8:
        samples = (data.astype(np.float32) - 128.0) / 128.0
    elif data.dtype.kind == 'i':
        exact = np.float32 if form[1] <= 24 else np.float64
        samples = data.astype(exact) / exact(-float(np.iinfo(data.dtype).min))
    elif data.dtype == np.float32:
        samples = data
    else:
        samples = data.astype(np.float64)
    return SignalFile(path=path, samples=samples, sample_rate=float(rate), kind='wav', wav_format=form)


def _read_npy(path, raw, what, sample_rate):
    try:
        array = np.load(io.BytesIO(raw), allow_pickle=False)
    except Exception as error:
        raise SignalFileError(f'{what} file {str(path)!r} cannot be read as .npy: {error}') from None
    if array.dtype.kind not in 'iuf' or array.ndim not in (1, 2):
        raise SignalFileError(f'{what} file {str(path)!r} holds a {array.dtype} array of shape {array.shape}; '
                              f'allowed: numbers, shape (samples,) or (samples, channels)')
    if array.size == 0:
        raise _no_samples(path, what)
    return SignalFile(path=path, samples=array.astype(np.float64).reshape(len(array), -1), sample_rate=sample_rate,
                      kind='npy', npy_dtype=array.dtype.str, npy_one_dimensional=array.ndim == 1)


def _read_csv(path, raw, what, sample_rate):
    # utf-8-sig: a byte-order mark (as spreadsheets write one) is not part of the first value
    lines = [line.strip() for line in raw.decode('utf-8-sig', errors='replace').splitlines() if line.strip()]
    header = None
    if lines and not _is_number(_unquoted(lines[0].split(',')[0])):
        header, lines = lines[0], lines[1:]
    values = []
    for number, line in enumerate(lines, start=2 if header else 1):
        cells = [_unquoted(cell) for cell in line.split(',')]
        if len(cells) != 1:
            raise SignalFileError(f'{what} file {str(path)!r} line {number} has {len(cells)} columns; '
                                  f'allowed: one column of numbers (an optional header line first)')
        if not _is_number(cells[0]):
            raise SignalFileError(f'{what} file {str(path)!r} line {number}: {cells[0]!r} is not a number')
        values.append(float(cells[0]))
    return SignalFile(path=path, samples=np.array(values, dtype=np.float64).reshape(-1, 1),
                      sample_rate=sample_rate, kind='csv', csv_header=header)


def _unquoted(cell):
    """A cell without the double quotes some programs put around every value."""
    cell = cell.strip()
    return cell[1:-1].strip() if len(cell) >= 2 and cell[0] == cell[-1] == '"' else cell


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _no_samples(path, what):
    return SignalFileError(f'{what} file {str(path)!r} holds no samples; it needs a signal')


def _check_samples(samples, path, what):
    if samples.size == 0:
        raise _no_samples(path, what)
    bad = np.argwhere(~np.isfinite(samples))
    if len(bad):
        sample, channel = bad[0]
        raise SignalFileError(f'{what} file {str(path)!r} has {len(bad)} NaN or infinite values (first: '
                              f'{samples[sample, channel]} at sample {sample}, channel {channel}); '
                              f'all samples must be finite')


def give_back_freed_memory():
    """Return the heap's free pages to the system (glibc's ``malloc_trim``), between the stages
    of processing a long signal.

    A long signal's copies of tens of MiB each come and go; glibc keeps the heap pages they
    freed, so the next stage's peak adds to them: 15 MiB more at the peak of answering a minute
    of 48 kHz stereo (benchmarks/your_signal/MINUTE_CHAIN.md). Elsewhere than glibc, nothing is done.
    """
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: its own allocator's rules apply
        pass


def mix_down(samples):
    """The mean of the channels, in float64: one channel, shape ``(samples,)``."""
    return samples.mean(axis=1, dtype=np.float64)


def resample(samples, from_rate, to_rate):
    """Resample along the first axis from ``from_rate`` to ``to_rate`` (polyphase, scipy)."""
    if from_rate == to_rate:
        return samples
    ratio = Fraction(to_rate / from_rate).limit_denominator(1000)
    return signal.resample_poly(samples, ratio.numerator, ratio.denominator, axis=0)


def stored_dtype(like):
    """The dtype of the values a file written like ``like`` holds (``encode``'s output)."""
    if like.kind == 'wav':
        tag, bits = like.wav_format
        return np.dtype(WAV_FORMATS[like.wav_format][1] if tag == 3 else STORED_PCM[bits])
    if like.kind == 'npy':
        return np.dtype(like.npy_dtype)
    return np.dtype(np.float64)


STORED_PCM = {8: np.uint8, 16: np.int16, 24: np.int32, 32: np.int32}
"""The integer each PCM width is held in before writing: 24-bit as int32, of which 3 bytes are written."""


def encode(samples, like):
    """float64 ``samples`` (any shape) as the values a file written like ``like`` holds: a float
    format's precision; integer samples (integer WAV, integer .npy) rounded and clipped to the
    format's range, never wrapped around. Returns ``(values, how many samples were clipped)``.

    Elementwise, so a long multichannel signal can be encoded one channel at a time.
    """
    samples = np.asarray(samples, dtype=np.float64)
    dtype = stored_dtype(like)
    if like.kind == 'wav' and like.wav_format[0] == 1:
        clipped = int(np.count_nonzero((samples < -1.0) | (samples >= 1.0)))
        full_scale = 2 ** (like.wav_format[1] - 1)
        integers = samples * full_scale  # rounded and clipped in place: a long channel is not copied thrice
        np.round(integers, out=integers)
        np.clip(integers, -full_scale, full_scale - 1, out=integers)
        if like.wav_format[1] == 8:
            integers += 128  # 8-bit WAV is unsigned
        return integers.astype(dtype), clipped
    if dtype.kind in 'iu':  # an integer .npy holds raw counts: round (not truncate), clip (not wrap)
        low, high = np.iinfo(dtype).min, np.iinfo(dtype).max
        return np.clip(np.round(samples), low, high).astype(dtype), int(np.count_nonzero((samples < low) | (samples > high)))
    return samples.astype(dtype), 0


def write_encoded(path, values, like):
    """Write ``values`` (``(samples, channels)``, already ``encode``d for ``like``) to ``path``,
    whole or not at all."""
    values = np.asarray(values)
    assert values.dtype == stored_dtype(like), (values.dtype, stored_dtype(like))
    buffer = io.BytesIO()
    if like.kind == 'wav':
        tag, bits = like.wav_format
        rate = int(round(like.sample_rate))
        if tag == 3:
            wavfile.write(buffer, rate, values)
        else:
            little_endian = np.ascontiguousarray(values, dtype=values.dtype.newbyteorder('<'))
            frames = little_endian.view(np.uint8).reshape(values.shape + (values.dtype.itemsize,))[..., :bits // 8]
            with wave.open(buffer, 'wb') as out:  # the standard library writes any integer width, 24 too
                out.setnchannels(values.shape[1])
                out.setsampwidth(bits // 8)
                out.setframerate(rate)
                out.writeframes(frames.tobytes())
    elif like.kind == 'npy':
        np.save(buffer, values[:, 0] if like.npy_one_dimensional and values.shape[1] == 1 else values)
    else:
        text = ((like.csv_header + '\n') if like.csv_header else '') + ''.join(f'{v:.10g}\n' for v in values[:, 0])
        buffer.write(text.encode('utf-8'))
    write_atomic(path, lambda handle: handle.write(buffer.getbuffer()))  # a view: no copy of a long file
