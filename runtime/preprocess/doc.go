// Package preprocess decodes images (JPEG, PNG, BMP, WebP) and turns them into
// the float32 NCHW input tensor of an image classifier, reproducing the two
// usual Python pipelines: torchvision's Resize(size*256/224) + CenterCrop +
// ToTensor + Normalize, and the TensorFlow/Keras "resize to the input size,
// x/127.5 - 1" convention, both on top of PIL's decoding and antialiasing
// bilinear resize.
//
// The result is bit-identical to PIL/torchvision for lossless images, lossy
// WebP and JPEG. JPEGs are decoded by this package's own decoder
// (jpeg.go), which reproduces what Pillow gets from libjpeg(-turbo) with its
// default settings, Image.open(f).convert("RGB"): the same Huffman decoding
// (baseline, extended sequential and progressive, restart intervals,
// quantization tables latched at each component's first scan, 8- and 16-bit
// tables), libjpeg's ISLOW integer IDCT (jidctint.c) with its rounding and
// range limit, its fancy (triangle) chroma upsampling for 4:2:2, 4:2:0 and
// 4:4:0 and replication for 4:1:1 and 4:1:0 and for horizontally
// subsampled planes at most two samples wide (jdsample.c), its fixed-point
// YCbCr->RGB tables (jdcolor.c), its choice of color space (JFIF, Adobe
// transform, component ids), and for CMYK and YCCK Pillow's inverted
// ("CMYK;I") reading and CMYK->RGB formula. Grayscale, YCbCr, RGB, CMYK and
// YCCK JPEGs are covered. Verified on this package's test JPEGs of every
// such layout and on every JPEG of ../shared/images: zero differing values
// against PIL 9.4 with libjpeg-turbo 2.1.5 (Go's image/jpeg differed by up
// to 3 levels on 1.5-4.2% of the RGB values of the ../shared photos, and by
// up to 2 on 18% of those of the test YCCK file).
//
// Not reproduced: subsampled RGB, CMYK and YCCK JPEGs, and sampling factors
// outside the ratios of image.YCbCr (Cb and Cr sampled differently, luma
// not the largest), are left to image/jpeg, which refuses most of them
// ("unsupported JPEG feature") and decodes the rest with Go's IDCT and color
// conversion; arithmetic-coded, lossless, hierarchical and 12-bit JPEGs are
// refused (image/jpeg cannot decode them either). Corrupt data that libjpeg
// only warns about is an error here, except a marker met inside
// entropy-coded data, after which both read zero bits; libjpeg's block
// smoothing, which applies only to progressive files whose scans leave some
// coefficients unsent, is not done; the IDCT's range limit saturates like
// libjpeg-turbo's SIMD code, where its C code wraps values (beyond ±512
// from mid-gray, which no valid image reaches).
package preprocess
