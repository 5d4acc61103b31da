// Package preprocess decodes images (JPEG, PNG, BMP, WebP) and turns them into
// the float32 NCHW input tensor of an image classifier, reproducing the two
// usual Python pipelines: torchvision's Resize(size*256/224) + CenterCrop +
// ToTensor + Normalize, and the TensorFlow/Keras "resize to the input size,
// x/127.5 - 1" convention, both on top of PIL's decoding and antialiasing
// bilinear resize. The result is bit-identical to PIL/torchvision for
// lossless images and lossy WebP, and within a few 8-bit levels for JPEG
// (Go's IDCT rounds differently from libjpeg's).
package preprocess
