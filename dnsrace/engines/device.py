"""Where the array engine runs: the array module its code calls, chosen at run time.

`array_module("cpu")` is numpy; `array_module("gpu")` is CuPy, which has the same API on an
NVIDIA GPU (an optional extra: `pip install 'dnsrace[gpu]'`).  The array back end and the
array engine take the module as a parameter (`xp`) and call nothing else, so the code that
runs on a GPU is the code the test suite runs with numpy.

numpy itself is imported here first, for one measured reason: on AMD Zen 4 CPUs numpy's
AVX-512 sort of 64-bit integers is about five times slower than its AVX2 sort (slow
compress-stores), and sorting is the array engine's largest cost after the expansion.  So
on an AMD CPU with AVX-512, unless the user set NPY_DISABLE_CPU_FEATURES already, numpy is
imported with its AVX-512 code paths off (the variable is read once, at import, and removed
again so that subprocesses do not inherit it).  Where numpy was imported before dnsrace,
nothing changes.  `SORT_NOTE` says what was done.
"""

from __future__ import annotations

import os
import sys

NO_AVX512 = "X86_V4 AVX512_ICL AVX512_SPR"
GPU_EXTRA = "pip install 'dnsrace[gpu]'"


def _amd_with_avx512() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            head = f.read(1 << 16)
    except OSError:
        return False
    return "AuthenticAMD" in head and " avx512f" in head


def _import_numpy():
    if "numpy" in sys.modules or "NPY_DISABLE_CPU_FEATURES" in os.environ \
            or not _amd_with_avx512():
        import numpy
        return numpy, "numpy's default CPU features"
    os.environ["NPY_DISABLE_CPU_FEATURES"] = NO_AVX512
    try:
        import numpy
    except Exception:  # noqa: BLE001 - numpy built for AVX-512 refuses: import it plainly
        for name in [m for m in sys.modules if m == "numpy" or m.startswith("numpy.")]:
            del sys.modules[name]
        del os.environ["NPY_DISABLE_CPU_FEATURES"]
        import numpy
        return numpy, "numpy's default CPU features"
    del os.environ["NPY_DISABLE_CPU_FEATURES"]
    return numpy, f"numpy without AVX-512 (AMD CPU: NPY_DISABLE_CPU_FEATURES={NO_AVX512})"


numpy, SORT_NOTE = _import_numpy()
DEVICES = ("cpu", "gpu")


class DeviceUnavailable(Exception):
    """The device asked for cannot be used; the message is one line that says why and what
    to do."""


def array_module(device: str = "cpu"):
    """numpy for "cpu"; CuPy for "gpu", once it is importable and sees a GPU."""
    if device == "cpu":
        return numpy
    if device != "gpu":
        raise DeviceUnavailable(f"unknown device {device!r}: use cpu or gpu")
    try:
        import cupy
    except ImportError:
        raise DeviceUnavailable("--device gpu needs CuPy, which is not installed: "
                                f"{GPU_EXTRA} (on a machine with an NVIDIA GPU and CUDA 12)"
                                ) from None
    except Exception as exc:  # noqa: BLE001 - a broken CUDA install fails in many ways
        raise DeviceUnavailable(f"--device gpu: CuPy does not load ({_one_line(exc)}); "
                                f"check the CUDA install, or reinstall with {GPU_EXTRA}"
                                ) from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # noqa: BLE001 - CUDARuntimeError, or no driver at all
        raise DeviceUnavailable(f"--device gpu: CuPy finds no usable GPU "
                                f"({_one_line(exc)}); use --device cpu") from None
    if count < 1:
        raise DeviceUnavailable("--device gpu: CuPy finds no GPU on this machine; "
                                "use --device cpu")
    return cupy


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def is_numpy(xp) -> bool:
    return xp is numpy


def to_numpy(a):
    """A host (numpy) copy of an array of either module; numpy arrays pass through."""
    if isinstance(a, numpy.ndarray):
        return a
    return a.get()


def memory_budget(xp) -> int:
    """The default memory budget of a search: half the machine's memory for numpy (and any
    host array module); on a GPU, most of the device memory that is free now."""
    if not is_numpy(xp) and hasattr(xp, "cuda"):
        free, _total = xp.cuda.runtime.memGetInfo()
        return int(free * 0.8)
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def device_name(xp) -> str:
    """What the search ran on, for benchmarks: "numpy" or the GPU's name."""
    if is_numpy(xp):
        return f"numpy {numpy.__version__} on the CPU"
    try:
        props = xp.cuda.runtime.getDeviceProperties(xp.cuda.Device().id)
        name = props["name"]
        name = name.decode() if isinstance(name, bytes) else str(name)
    except Exception:  # noqa: BLE001 - only a label
        name = "a GPU"
    return f"CuPy {xp.__version__} on {name}"
