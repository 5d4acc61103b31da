#!/usr/bin/python3
"""Regenerates the tiny checkpoint fixtures used by the frontend/torch tests.

Run from anywhere with a Python that has torch installed:

    /usr/bin/python3 frontend/torch/testdata/gen_fixtures.py

The files are committed, so CI never needs Python. Every value is exactly
representable in float16/bfloat16 so the Go tests can compare exactly.
Written with torch 1.13; safetensors files are written by hand (json+struct),
so the safetensors package is not needed.
"""

import collections
import io
import json
import os
import struct
import zipfile

import torch
import torch.nn as nn

OUT = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(OUT, name)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 2, kernel_size=1, bias=True)
        self.bn = nn.BatchNorm2d(2)


def main_state_dict():
    torch.manual_seed(0)
    net = Net()
    with torch.no_grad():
        net.conv.weight.copy_(torch.arange(6, dtype=torch.float32).reshape(2, 3, 1, 1) * 0.25 - 0.5)
        net.conv.bias.copy_(torch.tensor([0.5, -1.5]))
        net.bn.weight.copy_(torch.tensor([1.0, 2.0]))
        net.bn.bias.copy_(torch.tensor([0.125, -0.125]))
        net.bn.running_mean.copy_(torch.tensor([0.25, 0.75]))
        net.bn.running_var.copy_(torch.tensor([1.5, 2.5]))
        net.bn.num_batches_tracked.fill_(7)
    sd = net.state_dict()  # OrderedDict with a _metadata attribute
    sd["half"] = torch.arange(5, dtype=torch.float16) * 0.5 - 1  # -1 -0.5 0 0.5 1
    sd["bf16"] = torch.tensor([1.5, -2.0, 3.25], dtype=torch.bfloat16)
    sd["f64"] = torch.arange(3, dtype=torch.float64) / 4  # 0 0.25 0.5
    sd["i32"] = torch.tensor([1, -2, 3], dtype=torch.int32)
    # Non-contiguous: shape (3,2), stride (1,3) -> [[0,3],[1,4],[2,5]].
    sd["transposed"] = torch.arange(6, dtype=torch.float32).reshape(2, 3).t()
    # Two views of one storage with offsets 2 and 5 (big = 0 2 4 ... 18).
    big = torch.arange(10, dtype=torch.float32) * 2
    sd["shared.a"] = big[2:6]  # 4 6 8 10
    sd["shared.b"] = big[5:8]  # 10 12 14
    # Offset 1, stride (4,1) -> [[1,2],[5,6],[9,10]].
    sd["colslice"] = torch.arange(12, dtype=torch.float32).reshape(3, 4)[:, 1:3]
    # Stride 0 -> [[1,2],[1,2],[1,2]].
    sd["expanded"] = torch.tensor([1.0, 2.0]).expand(3, 2)
    sd["scalar"] = torch.tensor(3.5)
    sd["empty"] = torch.zeros(0, 3)
    sd["param"] = nn.Parameter(torch.tensor([0.5, 1.5]))  # _rebuild_parameter
    return sd


def small_sd():
    sd = collections.OrderedDict()
    sd["w"] = torch.arange(3, dtype=torch.float32)  # 0 1 2
    sd["b"] = torch.tensor([-1.0])
    return sd


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def save(obj, name, **kw):
    buf = io.BytesIO()
    torch.save(obj, buf, **kw)
    with open(path(name), "wb") as f:
        f.write(buf.getvalue())


def write_zip(name, folder, pkl):
    with zipfile.ZipFile(path(name), "w", zipfile.ZIP_STORED) as z:
        z.writestr(folder + "/data.pkl", pkl)
        z.writestr(folder + "/version", "3\n")


def safetensors(name):
    tensors = [
        ("a", "F32", [2, 3], struct.pack("<6f", *[i * 0.5 for i in range(6)])),
        ("h", "F16", [5], (torch.arange(5, dtype=torch.float16) * 0.5 - 1).numpy().tobytes()),
        ("bf", "BF16", [3], torch.tensor([1.5, -2.0, 3.25], dtype=torch.bfloat16).view(torch.int16).numpy().tobytes()),
        ("d", "F64", [3], struct.pack("<3d", 0, 0.25, 0.5)),
        ("n", "I64", [], struct.pack("<q", 7)),
        ("e", "F32", [0, 4], b""),
    ]
    header = {}
    data = b""
    for key, dtype, shape, raw in tensors:
        header[key] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path(name), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)


def main():
    sd = main_state_dict()
    save(sd, "state_dict_zip.pt")
    save(sd, "state_dict_zip_p4.pt", pickle_protocol=4)
    save(sd, "state_dict_legacy.pt", _use_new_zipfile_serialization=False)

    plain = {"w": torch.arange(4, dtype=torch.float32), "step": 5, "b": torch.tensor([1.0, 2.0])}
    save(plain, "plain_dict.pt")

    save({"epoch": 3, "state_dict": small_sd(), "optimizer": {"lr": 0.1, "momentum": 0.9}}, "wrapped_state_dict.pt")
    save({"model": small_sd(),
          "optimizer": {"state": {0: {"momentum_buffer": torch.ones(3)}},
                        "param_groups": [{"lr": 0.1, "params": [0]}]},
          "epoch": 2}, "wrapped_model.pt")

    prefixed = collections.OrderedDict()
    for k, v in small_sd().items():
        prefixed["module." + k] = v
    save(prefixed, "module_prefix.pt")

    # Hostile files. Evil pickles as posix.system; the hand-written ones name os.system.
    save({"w": torch.ones(2), "evil": Evil()}, "malicious_torch.pt")
    save(Evil(), "malicious_legacy.pt", _use_new_zipfile_serialization=False)
    # Protocol 2 style: GLOBAL 'os system' (text opcode).
    write_zip("malicious_global.pt", "evil", b"\x80\x02cos\nsystem\nq\x00X\x0a\x00\x00\x00echo pwnedq\x01\x85q\x02Rq\x03.")
    # Protocol 4 style: STACK_GLOBAL with both names on the stack.
    write_zip("malicious_stack_global.pt", "somefolder",
              b"\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x93\x94\x8c\x0aecho pwned\x94\x85\x94R\x94.")
    # A whole nn.Module instead of a state_dict.
    lin = nn.Linear(2, 1)
    save(lin, "whole_module.pt")

    safetensors("model.safetensors")


if __name__ == "__main__":
    main()
