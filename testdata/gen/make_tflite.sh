#!/bin/sh
# Writes frontend/tflite/testdata/*.tflite: the small TFLite models of the
# frontend/tflite tests (each op, layout mapping and quantized form), built by
# the tests' own writer on the flatbuffers Go builder (Debian has no
# TensorFlow). The tests check that the committed files equal what they
# build; run this after changing a test model. From the repository root.
set -e
go test ./frontend/tflite -run 'TestConv|TestPool|TestLayout|TestSqueeze|TestQuantized|TestSubDivPadV2|TestSegmentationModels' -count=1 -update
ls -l frontend/tflite/testdata/*.tflite
