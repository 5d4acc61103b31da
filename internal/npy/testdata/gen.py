#!/usr/bin/env python3
"""Regenerates the .npy fixtures read by npy_test.go.

Run from this directory with a Python that has numpy:
    /usr/bin/python3 gen.py
The values are small integers and simple fractions, so they are exact in
float16, float32 and float64 and the Go test can recompute them.
"""
import io

import numpy as np


def vals(shape, dtype):
    n = int(np.prod(shape))
    # 0.5*i - 3 for i = 0..n-1: exact in every float type used here.
    return (np.arange(n, dtype=np.float64) * 0.5 - 3).reshape(shape).astype(dtype)


def save(name, arr, version=None):
    if version is None:
        np.save(name, arr)
    else:
        with open(name, "wb") as f:
            np.lib.format.write_array(f, arr, version=version)


# Accepted.
save("f4_2x3.npy", vals((2, 3), np.float32))
save("f4_scalar.npy", np.array(2.5, dtype=np.float32))
save("f4_1x3x4x5.npy", vals((1, 3, 4, 5), np.float32))
save("f4_5.npy", vals((5,), np.float32))
save("f4_0x3.npy", vals((0, 3), np.float32))
save("f4_big_endian_2x3.npy", vals((2, 3), ">f4"))
save("f8_2x3.npy", vals((2, 3), np.float64))
save("f4_v2_2x3.npy", vals((2, 3), np.float32), version=(2, 0))
# Long header: exercises numpy's header padding (byte-identity of Write).
save("f4_long_header.npy", vals((1,) * 30 + (2,), np.float32))
# Special values.
save("f4_special.npy", np.array([np.nan, np.inf, -np.inf, -0.0, 1e-45, 3.4028235e38], dtype=np.float32))

# Refused.
save("f2_2x2.npy", vals((2, 2), np.float16))
save("i8_3.npy", np.arange(3, dtype=np.int64))
save("f4_fortran_2x3.npy", np.asfortranarray(vals((2, 3), np.float32)))
save("f4_structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<f4")]))
with open("f4_x2.npy", "wb") as f:  # two arrays back to back
    np.save(f, vals((2, 3), np.float32))
    np.save(f, vals((3,), np.float32))
np.savez("f4.npz", a=vals((2, 3), np.float32))
