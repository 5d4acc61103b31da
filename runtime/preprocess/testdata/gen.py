#!/usr/bin/env python3
"""Regenerates the test images and the PIL/torchvision reference tensors
read by preprocess_test.go.

Run from this directory with a Python that has numpy, PIL and torchvision:
    /usr/bin/python3 gen.py

Images (tiny, synthetic, deterministic):
    img_61x47.jpg       JPEG, 4:2:0 chroma subsampling (PIL's default)
    img_61x47_422.jpg   JPEG, 4:2:2
    img_61x47_rgba.png  PNG with a varying alpha channel (PIL drops it)
    img_47x61.bmp       24-bit BMP, portrait
    img_61x47_p.png     palette PNG
    img_61x47_l.png     grayscale PNG
    img_61x47.webp      lossless WebP, same RGB as img_61x47_rgba.png
    img_61x47_lossy.webp, img_62x48_lossy.webp
                        lossy WebP (odd and even sizes: libwebp's upsampler
                        treats the last row/column of even sizes specially)

Expected tensors, float32, shape (1, 3, H, W), named <image>.<preset>_<H>x<W>.npy:
    tv   torchvision: Resize(int(min(H, W)*256/224)), CenterCrop((H, W)),
         ToTensor, Normalize(ImageNet mean/std)
    tf   PIL resize((W, H), BILINEAR), then x/127.5 - 1 in float32
for the combinations in CASES. The 24x40 (H x W) torchvision crop is wider
than the resized image, which exercises CenterCrop's zero padding.
"""
import numpy as np
from PIL import Image
import torchvision.transforms as T

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def make_rgb(w, h, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 255 * x / (w - 1)
    g = 255 * y / (h - 1)
    b = 127.5 + 127.5 * np.sin(x / 3.0) * np.cos(y / 4.0)
    img = np.stack([r, g, b], -1)
    # A saturated disc with sharp edges (chroma edges stress the JPEG
    # upsampling) and a noisy patch (stresses the antialiasing filter).
    disc = (x - w * 0.35) ** 2 + (y - h * 0.4) ** 2 < (min(w, h) * 0.25) ** 2
    img[disc] = [230, 20, 40]
    img[h // 2 : h // 2 + 12, w // 2 : w // 2 + 16] = rng.integers(0, 256, (12, 16, 3))
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def save_images():
    rgb = make_rgb(61, 47, 1)
    Image.fromarray(rgb).save("img_61x47.jpg", quality=90)  # 4:2:0
    Image.fromarray(rgb).save("img_61x47_422.jpg", quality=90, subsampling=1)
    alpha = np.tile(np.linspace(0, 255, 61).astype(np.uint8), (47, 1))
    alpha[:5] = 0  # fully transparent rows keep their color in PIL
    Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save("img_61x47_rgba.png")
    Image.fromarray(make_rgb(47, 61, 2)).save("img_47x61.bmp")
    Image.fromarray(rgb).quantize(colors=32, method=Image.Quantize.MEDIANCUT).save("img_61x47_p.png")
    Image.fromarray(rgb).convert("L").save("img_61x47_l.png")
    Image.fromarray(rgb).save("img_61x47.webp", lossless=True)
    Image.fromarray(rgb).save("img_61x47_lossy.webp", quality=90)
    Image.fromarray(make_rgb(62, 48, 3)).save("img_62x48_lossy.webp", quality=90)


def torchvision_tensor(img, h, w):
    size = min(h, w)
    t = T.Compose([
        T.Resize(int(size * 256 / 224)),
        T.CenterCrop((h, w)),
        T.ToTensor(),
        T.Normalize(MEAN, STD),
    ])
    return t(img).numpy()[None]


def tf_tensor(img, h, w):
    a = np.asarray(img.resize((w, h), Image.BILINEAR), dtype=np.float32)
    return (a / np.float32(127.5) - np.float32(1)).transpose(2, 0, 1)[None]


CASES = [
    ("img_61x47.jpg", "tv", 32, 32),
    ("img_61x47.jpg", "tf", 32, 32),
    ("img_61x47.jpg", "tv", 24, 40),
    ("img_61x47.jpg", "tf", 24, 40),
    ("img_61x47_422.jpg", "tf", 32, 32),
    ("img_61x47_rgba.png", "tv", 32, 32),
    ("img_47x61.bmp", "tv", 32, 32),
    ("img_47x61.bmp", "tf", 32, 32),
    ("img_61x47_p.png", "tf", 32, 32),
    ("img_61x47_l.png", "tv", 32, 32),
    ("img_61x47_lossy.webp", "tf", 32, 32),
    ("img_62x48_lossy.webp", "tf", 32, 32),
]


def main():
    save_images()
    for name, preset, h, w in CASES:
        img = Image.open(name).convert("RGB")
        fn = torchvision_tensor if preset == "tv" else tf_tensor
        out = fn(img, h, w)
        assert out.dtype == np.float32 and out.shape == (1, 3, h, w)
        np.save("%s.%s_%dx%d.npy" % (name, preset, h, w), out)


if __name__ == "__main__":
    main()
