#!/usr/bin/env python3
"""Regenerates the PIL/torchvision reference tensors of custom preprocessing
(--scale, --resize, --crop, --channels; preprocess.Spec's custom fields)
read by TestCustomReference, from the images gen.py made (it does not
rewrite them).

Run from this directory with a Python that has numpy, PIL and torchvision:
    /usr/bin/python3 gen_custom.py

Expected tensors, float32, shape (1, 3, H, W), named
<image>.custom_<case>_<H>x<W>.npy, for CASES below. Each is computed the way
the framework a user would copy the settings from computes it:
    resize   "shorter N": torchvision Resize(N) then CenterCrop((H, W));
             "stretch": PIL resize((W, H), BILINEAR)
    crop     TensorFlow's tf.image.central_crop(image, fraction) formula,
             applied with PIL's crop before resizing
    values   numpy float32: (a / scale - mean) / std, each step in float32
             (torchvision's ToTensor + Normalize when scale is 255), or
             a / 127.5 - 1 for the tf map
    channels "bgr" reverses the channel axis before the mean and std
"""
import numpy as np
from PIL import Image
import torchvision.transforms as T

IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
CAFFE_BGR = ([103.94, 116.78, 123.68], [57.375, 57.12, 58.395])

# name, image, H, W, resize, crop, map, channels
#   map: ("tf",) or ("norm", scale, mean, std)
CASES = [
    ("caffe", "img_61x47.jpg", 32, 32, ("shorter", 36), None, ("norm", 1.0) + CAFFE_BGR, "bgr"),
    ("fraction", "img_47x61.bmp", 32, 32, ("stretch",), 0.875, ("tf",), "rgb"),
    ("tvstretch", "img_61x47.jpg", 24, 40, ("stretch",), None, ("norm", 255.0) + IMAGENET, "rgb"),
    ("tfshorter", "img_61x47_rgba.png", 32, 32, ("shorter", 40), None, ("tf",), "rgb"),
    ("mixed", "img_61x47_lossy.webp", 24, 40, ("shorter", 30), 0.8, ("norm", 100.0, [0.5, 0.4, 0.3], [0.9, 1.1, 1.3]), "bgr"),
]


def central_crop(img, fraction):
    # tf.image.central_crop's arithmetic (image_ops_impl.py).
    offset = int(1 / ((1 - fraction) / 2.0))
    w, h = img.size
    x0, y0 = w // offset, h // offset
    return img.crop((x0, y0, w - x0, h - y0))


def tensor(img, h, w, resize, crop, vmap, channels):
    if crop is not None:
        img = central_crop(img, crop)
    if resize[0] == "stretch":
        img = img.resize((w, h), Image.BILINEAR)
    else:
        img = T.CenterCrop((h, w))(T.Resize(resize[1])(img))
    a = np.asarray(img, dtype=np.float32)
    if channels == "bgr":
        a = a[:, :, ::-1]
    if vmap[0] == "tf":
        x = a / np.float32(127.5) - np.float32(1)
    else:
        _, scale, mean, std = vmap
        x = (a / np.float32(scale) - np.array(mean, np.float32)) / np.array(std, np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None].astype(np.float32))


def main():
    for name, image, h, w, resize, crop, vmap, channels in CASES:
        img = Image.open(image).convert("RGB")
        out = tensor(img, h, w, resize, crop, vmap, channels)
        assert out.dtype == np.float32 and out.shape == (1, 3, h, w)
        np.save("%s.custom_%s_%dx%d.npy" % (image, name, h, w), out)


if __name__ == "__main__":
    main()
