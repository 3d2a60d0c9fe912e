"""Reading a .safetensors file (the embedding model's weights) memory-mapped, without the safetensors library."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Memory-map a .safetensors file: 8-byte little-endian header size, JSON header, raw tensors."""
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
    # A plain ndarray view of the map: pages load on first use and are shared between processes.
    data = np.asarray(np.memmap(path, dtype=np.uint8, mode="r", offset=8 + size))
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<")
        tensors[name] = data[start:end].view(dtype).reshape(info["shape"])
    return tensors
