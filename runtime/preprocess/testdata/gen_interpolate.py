#!/usr/bin/env python3
"""Regenerates the reference tensors of the detection transform
(preprocess.Interpolate, preprocess.Detection) read by
TestInterpolateReference, from the images gen.py made.

Run from this directory with a Python that has numpy, PIL, torch and
torchvision (Debian's python3-torch 1.13, python3-torchvision 0.14):
    /usr/bin/python3 gen_interpolate.py

Each tensor is what torchvision's detectors feed their backbone
(GeneralizedRCNNTransform with fixed_size, as SSDLite's): the image read as
RGB, TF.to_tensor, Normalize(0.5, 0.5), then
torch.nn.functional.interpolate(size=(H, W), mode="bilinear",
align_corners=False), float32, shape (1, 3, H, W), named
<image>.interp_<H>x<W>.npy (a downsampling and an upsampling per image).
"""
import numpy as np
import torch
from PIL import Image
from torchvision.transforms import functional as TF

CASES = [("img_61x47.jpg", 32, 24), ("img_61x47.jpg", 90, 110), ("img_47x61.bmp", 40, 40), ("img_61x47_lossy.webp", 20, 70), ("img_61x47_rgba.png", 47, 100)]


def main():
    torch.set_num_threads(1)
    for name, h, w in CASES:
        with Image.open(name) as im:
            x = TF.to_tensor(im.convert("RGB"))
        x = (x - 0.5) / 0.5
        y = torch.nn.functional.interpolate(x[None], size=[h, w], mode="bilinear", align_corners=False)
        np.save("%s.interp_%dx%d.npy" % (name, h, w), y.numpy().astype(np.float32))


if __name__ == "__main__":
    main()
