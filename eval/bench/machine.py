"""The machine the bench runs on, and the memory of processes and folders."""

from __future__ import annotations

import contextlib
import os
import platform
from pathlib import Path
from typing import Any

import faiss

from service.settings import Settings

MIB = 1024 * 1024


def proc_status_mb(pid: int | str, field_name: str) -> float:
    """VmRSS or VmHWM of a process, in MiB (0.0 when unreadable)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def rss_mb() -> float:
    """Resident memory of this process now, in MiB."""
    return proc_status_mb("self", "VmRSS")


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process and its children, in MiB."""
    total = proc_status_mb(pid, "VmHWM")
    with contextlib.suppress(OSError, ValueError):
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        total += sum(proc_status_mb(int(c), "VmHWM") for c in children)
    return total


def folder_mb(folder: Path) -> float:
    """Size of the files under a folder (or the folder a link points to), in MiB."""
    folder = folder.resolve()
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / MIB


def machine_info(settings: Settings) -> dict[str, Any]:
    import onnxruntime
    import torch

    cpu_model = platform.processor()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count() or 0,
        "cpus_usable": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
        "encoder_backend": settings.encoder_backend,
        "threads_per_search": settings.threads,
        "faiss": getattr(faiss, "__version__", "?"),
        "platform": platform.platform(),
        "load_average": list(os.getloadavg()),
    }
