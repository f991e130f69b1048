"""libopus's encoder, called directly: the bridge's returns, one packet per peer per mix tick.

PyAV's encoder goes through more than libopus for each frame: an FFmpeg filter graph that it
inserts in front of every codec with a fixed frame size (its resampler, even when nothing is to
be converted), a new frame and packet, and a release of the GIL around the encoding, which hands
the GIL to the WebRTC loop mid-tick and makes the mix thread wait to get it back. Here libopus
is called through ctypes on the library PyAV itself loads (its wheel carries it), the GIL held
for the call (a few tenths of a millisecond, so no thread switch comes between): a mono return
costs three quarters of PyAV's CPU a tick at the mix's 20 ms cadence (`manage.py bench_returns`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache
from pathlib import Path

import av
import numpy as np

# opus_defines.h
APPLICATION_RESTRICTED_LOWDELAY = 2051
SET_BITRATE_REQUEST = 4002
SET_COMPLEXITY_REQUEST = 4010
OK = 0
# A packet is at most 1275 bytes a frame (RFC 6716 3.2.1); room for more costs nothing.
MAX_PACKET_BYTES = 1500


@cache
def _libopus() -> ctypes.PyDLL:
    """libopus: the copy PyAV's wheel carries (the one its own codecs use), else the system's.
    A PyDLL keeps the GIL through each call: an encode is far shorter than a GIL hand-over."""
    package = Path(av.__file__).resolve().parent
    bundled = sorted([*package.parent.glob("av.libs/libopus*.so*"), *package.glob(".dylibs/libopus*.dylib")], key=str)
    name = str(bundled[0]) if bundled else ctypes.util.find_library("opus")
    if name is None:
        raise OSError("libopus was not found (neither in PyAV's wheel nor on the system)")
    library = ctypes.PyDLL(name)
    library.opus_encoder_create.restype = ctypes.c_void_p
    library.opus_encoder_create.argtypes = [ctypes.c_int32, ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
    library.opus_encoder_destroy.restype = None
    library.opus_encoder_destroy.argtypes = [ctypes.c_void_p]
    library.opus_encode_float.restype = ctypes.c_int32
    # (encoder, interleaved float samples, samples a channel, packet buffer, its size)
    library.opus_encode_float.argtypes = [
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_int,
        ctypes.c_void_p,
        ctypes.c_int32,
    ]
    # opus_encoder_ctl is variadic: each request's argument is given its C type at the call.
    library.opus_encoder_ctl.restype = ctypes.c_int
    library.opus_strerror.restype = ctypes.c_char_p
    library.opus_strerror.argtypes = [ctypes.c_int]
    return library


class OpusError(RuntimeError):
    pass


def _checked(code: int, what: str) -> int:
    if code < OK:
        raise OpusError(f"{what}: {_libopus().opus_strerror(code).decode()}")
    return code


class OpusEncoder:
    """One stream's encoder (restricted low delay: CELT only, 2.5 ms of look-ahead). `encode`
    takes a frame of interleaved float samples, (samples, channels), and gives the packet."""

    def __init__(self, channels: int, sample_rate: int, bitrate: int, complexity: int) -> None:
        library = _libopus()
        error = ctypes.c_int()
        handle = library.opus_encoder_create(
            sample_rate, channels, APPLICATION_RESTRICTED_LOWDELAY, ctypes.byref(error)
        )
        _checked(error.value, "opus_encoder_create")
        self._handle = ctypes.c_void_p(handle)
        self._destroy = library.opus_encoder_destroy
        self._encode = library.opus_encode_float
        self.channels = channels
        self._packet = ctypes.create_string_buffer(MAX_PACKET_BYTES)
        self._packet_address = ctypes.addressof(self._packet)
        for request, value in ((SET_BITRATE_REQUEST, bitrate), (SET_COMPLEXITY_REQUEST, complexity)):
            _checked(
                library.opus_encoder_ctl(self._handle, request, ctypes.c_int32(value)), f"opus_encoder_ctl {request}"
            )

    def encode(self, interleaved: np.ndarray) -> bytes:
        """One frame (2.5 to 60 ms of samples; 20 ms here) as one Opus packet."""
        if interleaved.dtype != np.float32 or interleaved.ndim != 2 or interleaved.shape[1] != self.channels:
            raise ValueError(
                f"a frame to encode is float32 (samples, {self.channels}), not {interleaved.dtype} {interleaved.shape}"
            )
        samples = np.ascontiguousarray(interleaved)
        size = self._encode(self._handle, samples.ctypes.data, samples.shape[0], self._packet_address, MAX_PACKET_BYTES)
        return self._packet.raw[: _checked(size, "opus_encode_float")]

    def __del__(self) -> None:
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            self._destroy(handle)
