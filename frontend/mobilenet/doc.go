// Package mobilenet builds float MobileNet V1, V2, V3-Large and V3-Small
// graphs, torchvision's LR-ASPP and DeepLabV3 segmentation models and its
// SSDLite320 detector on MobileNetV3-Large (package ir), exactly as the
// PyTorch modules compute them, so that a
// PyTorch state_dict binds to them by name. Each architecture is a table (a
// Spec; the built-in ones are torchvision's tables, and custom ones are read
// from JSON by LoadSpec); the code only interprets the table. Build makes the
// graph for a Config (architecture, width multiplier, classes, input
// resolution, reduced_tail) with zero-filled constants named by their
// state_dict keys and node outputs named by module path
// ("features.3.conv.1.0", "features.4.block.2.fc1", "classifier.3"); Bind
// then fills the constants from a checkpoint read by package torch, checking
// every key and shape.
//
// Infer finds the Config of a checkpoint from its tensor names and shapes,
// so that users need not name it: the built-in table (or a given Spec), the
// width (the usual ones and every multiple of 0.05 up to 3; the one whose
// channel table reproduces every conv shape, which _make_divisible makes
// unique in practice: if two fit, Infer says so and asks for --width), the
// class count, reduced_tail and, for MobileNetV2, the alpha-scaled variant
// (V2Spec.LastChannelScales: the last conv has _make_divisible(1280*width, 8)
// channels for every width, as in the Keras and TF-slim code, where
// torchvision keeps 1280 below width 1; at widths >= 1 the two are the same
// network and Infer reports torchvision's). What the caller gives (Known)
// must agree with the checkpoint: errors name mnc's flag, what the checkpoint
// is and the first tensor that shows it. The input resolution cannot be
// inferred from weights.
//
// The graph has one input "input" f32[N,3,R,R] (N unknown) and one output
// "logits" f32[N,classes] ("out" f32[N,classes,R,R] for segmentation; a
// detector has two, see below). nn.Conv2d becomes Conv (with a bias input only
// where PyTorch has one), nn.BatchNorm2d BatchNorm, nn.ReLU, nn.ReLU6,
// nn.Hardswish and nn.Hardsigmoid the matching ops (HardSigmoid with alpha
// 1/6, beta 0.5), a residual connection Add (named by its block,
// "features.3"), squeeze-and-excitation GlobalAveragePool, Conv fc1, Relu,
// Conv fc2, HardSigmoid and Mul, the adaptive average pool GlobalAveragePool
// "avgpool", torch.flatten Flatten "flatten" (axis 1), nn.Dropout Dropout
// (a later pass drops it), and nn.Linear Gemm (transB, weight [out,in], bias
// [out]).
//
// # MobileNet V1
//
// torchvision has no V1; this package and the team's PyTorch golden-data
// script (testdata/gen/make_golden.py) define it as the paper does, with
// c(x) = _make_divisible(x*width, 8) and BatchNorm eps 1e-5:
//
//	features.0  = Sequential(Conv2d(3, c(32), 3, stride 2, padding 1, bias=False), BatchNorm2d, ReLU)
//	features.K  = Sequential(Conv2d(inp, inp, 3, s, 1, groups=inp, bias=False), BatchNorm2d(inp), ReLU,
//	                         Conv2d(inp, out, 1, bias=False), BatchNorm2d(out), ReLU)     K = 1..13
//	avgpool     = AdaptiveAvgPool2d(1), then torch.flatten(x, 1)
//	classifier  = Sequential(Dropout(0.2), Linear(c(1024), classes))
//
// with (out, s) for K = 1..13: (64,1) (128,2) (128,1) (256,2) (256,1)
// (512,2) (512,1)x5 (1024,2) (1024,1). Its state_dict keys are
//
//	features.0.0.weight
//	features.0.1.{weight,bias,running_mean,running_var,num_batches_tracked}
//	features.K.0.weight                      depthwise 3x3
//	features.K.1.{weight,bias,running_mean,running_var,num_batches_tracked}
//	features.K.3.weight                      pointwise 1x1
//	features.K.4.{weight,bias,running_mean,running_var,num_batches_tracked}
//	classifier.1.{weight,bias}
//
// V2 and V3 use torchvision's names (mobilenetv2.py, mobilenetv3.py).
//
// # Segmentation
//
// "lraspp_mobilenet_v3_large" and "deeplabv3_mobilenet_v3_large" are
// torchvision 0.14's models of those names with aux_loss=False
// (torchvision/models/segmentation/lraspp.py, deeplabv3.py), at any width
// and with reduced_tail as well (torchvision's builders fix width 1.0 and
// no reduced tail; the others are the same builders on
// mobilenet_v3_large(width_mult=W, reduced_tail=T, dilated=True)). Classes
// default to 21. Their tables are the MobileNetV3-Large one with a
// segmentation section (Spec.Seg, SegSpec):
//
//   - The backbone is MobileNetV3's features with dilated=True: from the C4
//     row on (reduced_tail_from, features 13 to 15 in V3-Large) each
//     depthwise conv has dilation 2, padding (k-1)/2*2 and stride 1, so the
//     last feature has output stride 16; avgpool and classifier are not
//     built. Keys are backbone.K.* where the classifier has features.K.*:
//     backbone.0.0.weight, backbone.1.block.0.0.weight, ...,
//     backbone.16.1.running_var.
//   - The head reads features at torchvision's stage_indices: 0, every
//     block whose row has stride 2 (_is_cn) and the last conv ([0, 2, 4,
//     7, 13, 16] in V3-Large). LR-ASPP's "low" is stage_indices[-4]
//     (features 4, output stride 8), "high" and DeepLabV3's input
//     stage_indices[-1].
//   - The head's BatchNorm2d layers have PyTorch's eps 1e-5 (the
//     backbone's are 1e-3), and every F.interpolate is ResizeBilinear with
//     half-pixel centers (align_corners=False), to a size fixed by R.
//
// LR-ASPP (inter_channels 128):
//
//	classifier.cbr.0.weight, classifier.cbr.1.*      Conv2d(high, 128, 1) + BN + ReLU   on high
//	classifier.scale.1.weight                        AdaptiveAvgPool2d(1), Conv2d(high, 128, 1), Sigmoid (scale.0 to .2)
//	classifier.low_classifier.{weight,bias}          Conv2d(low, classes, 1)            on low
//	classifier.high_classifier.{weight,bias}         Conv2d(128, classes, 1)
//
// with nodes classifier.mul (cbr * scale), classifier.interpolate (to the
// low feature's size) and classifier (low_classifier(low) +
// high_classifier(x), an Add), then "out", the resize to R x R.
//
// DeepLabV3 (ASPP of 256 channels, atrous rates 12, 24, 36):
//
//	classifier.0.convs.0.0.weight, .1.*       Conv2d(high, 256, 1) + BN + ReLU
//	classifier.0.convs.J.0.weight, .1.*       Conv2d(high, 256, 3, padding=rate, dilation=rate) + BN + ReLU, J = 1..3
//	classifier.0.convs.4.1.weight, .2.*       AdaptiveAvgPool2d(1), Conv2d(high, 256, 1), BN, ReLU, resized back (node classifier.0.convs.4)
//	classifier.0.project.0.weight, .1.*       Conv2d(1280, 256, 1) + BN + ReLU + Dropout(0.5) on the concatenation (node classifier.0.cat)
//	classifier.1.weight, classifier.2.*       Conv2d(256, 256, 3, padding=1) + BN + ReLU (classifier.3)
//	classifier.4.{weight,bias}                Conv2d(256, classes, 1)
//
// then "out". Infer tells the two heads apart by classifier.low_classifier.*
// and classifier.0.convs.* and reads the classes from low_classifier or
// classifier.4. A checkpoint of aux_loss=True (aux_classifier.* keys, the
// training-only FCN head) is refused with a message saying so.
//
// # Detection
//
// "ssdlite320_mobilenet_v3_large" is torchvision 0.14's model of that name
// (torchvision/models/detection/ssdlite.py): its network, the part that
// SSD.forward runs on the transformed images (backbone and head), with the
// builder's width_mult (which it passes to mobilenet_v3_large) and
// reduced_tail (which the builder sets when no backbone weights are loaded,
// so torchvision's COCO checkpoint has it; Infer reads it from the shapes).
// Classes default to 91 (COCO's category ids and background), the
// resolution to 320. Its table is the MobileNetV3-Large one with a
// detection section (Spec.Det, DetSpec):
//
//   - Every BatchNorm2d has eps 1e-3 (the builder's norm_layer
//     BatchNorm2d(eps=0.001, momentum=0.03), the extra blocks and the head
//     included).
//   - The backbone is SSDLiteFeatureExtractorMobileNet on the features
//     (not dilated), split at C4, the last row with stride 2
//     (stage_indices[-2], features 13 in V3-Large): backbone.features.0
//     holds features 0 to 12 under their own indices and C4's expansion
//     conv as backbone.features.0.13.{0,1,2}, whose output (stride 16) is
//     the first feature map; backbone.features.1.0 is the rest of C4 under
//     its block indices (backbone.features.1.0.1.* depthwise, .2.* SE, .3.*
//     projection), backbone.features.1.K the later rows (K = 1, 2) and the
//     last conv (backbone.features.1.3, the second map, stride 32).
//   - backbone.extra.K, K = 0..3: _extra_block(in, out) with out 512, 256,
//     256, 128 at every width (torchvision's builder does not pass the
//     width to the extractor, whose get_depth is max(16, d)): .0 1x1 conv
//     to out/2, .1 depthwise 3x3 stride 2, .2 1x1 conv to out, each with
//     BatchNorm and ReLU6; each block's output is a feature map.
//   - head.classification_head.module_list.K and
//     head.regression_head.module_list.K, one per map: .0.{0,1,2} a
//     depthwise 3x3 conv, BatchNorm and ReLU6, .1 a 1x1 conv with bias to
//     anchors*classes (anchors*4) channels, anchors = 6 per location
//     (DefaultBoxGenerator([[2, 3]] * 6): 2 + 2*2).
//
// SSDScoringHead's view(N, A, K, H, W), permute(0, 3, 4, 1, 2) and
// reshape(N, -1, K) become a Transpose to [N, H, W, A*K] and a Reshape to
// [N, H*W*A, K] (the same element order), nodes head.<head>.permute.K and
// head.<head>.reshape.K; torch.cat over the maps is the Concat that gives
// the outputs "cls_logits" f32[N,anchors,classes] and "bbox_regression"
// f32[N,anchors,4] (3234 anchors at 320x320: maps of 20, 10, 5, 3, 2 and 1
// pixels a side). Node order and constants follow the state_dict:
// backbone, then the classification head, then the regression head.
//
// Post-processing (softmax, box decoding, score threshold, top-k,
// class-wise NMS) is not part of the graph: package runtime/detect does it
// bit for bit as torchvision. DetectionAnchors gives its anchor
// configuration, the feature map sizes and the image size of a Config;
// detect.SSDLite320Params are the builder's score_thresh 0.001,
// nms_thresh 0.55, detections_per_img 300 and topk_candidates 300. Build
// records all of it (a detect.Config: outputs 0 and 1, the classes, the
// input size) as JSON in the graph's Meta[ir.MetaDetection], which codegen
// writes into the model file (format 1.5); RecognizeSSDLite does the same
// for an ONNX export (outputs cls_logits and bbox_regression, SSDLite's
// anchor count at its input size). Infer
// tells a detector by backbone.features.0.0.0.weight and reads the classes
// from head.classification_head.module_list.0.1.weight (anchors*classes
// outputs).
//
// # Spec JSON
//
// A custom architecture (mnc's --arch-spec) is a JSON object read strictly:
// unknown fields, wrong types, malformed rows and impossible values are
// errors naming the field, e.g. "v3.inverted_residual_setting[4].activation".
// Top-level fields:
//
//	name           graph name (default: the family)
//	family         "mobilenet_v1", "mobilenet_v2" or "mobilenet_v3"
//	bn_eps         BatchNorm eps (default 1e-5 for V1 and V2, 1e-3 for V3)
//	round_nearest  _make_divisible divisor for every channel count (default 8)
//	comment        free text, ignored
//	v1 | v2 | v3   the table of the family (exactly that one)
//	segmentation   with v3 only: a segmentation head instead of the classifier
//	detection      with v3 only: an SSDLite detector instead of the classifier
//
// Channel counts in the tables are before width scaling; Build applies
// _make_divisible(c*width, round_nearest) as torchvision does.
//
//	v1: {"stem_channels": 32, "blocks": [[out, stride], ...]}
//	v2: {"input_channel": 32, "last_channel": 1280,
//	     "inverted_residual_setting": [[t, c, n, s], ...]}
//	    (last_channel is scaled by max(1, width), as torchvision does;
//	    with "last_channel_scales": true, by width for every width, the
//	    alpha-scaled MobileNetV2 of the Keras and TF-slim code)
//	v3: {"last_channel": 1280, "reduced_tail_from": 12,
//	     "lastconv_expansion": 6, "se_divisor": 4,
//	     "inverted_residual_setting": [[input_c, kernel, expanded_c, out_c, use_se, activation, stride], ...]}
//	segmentation: {"head": "lraspp", "inter_channels": 128}
//	          or  {"head": "deeplabv3", "aspp_channels": 256, "atrous_rates": [12, 24, 36]}
//	    (the numbers are the defaults; the v3 table then needs
//	    reduced_tail_from > 0, where the dilated tail starts, and at least
//	    two rows of stride 2)
//	detection: {"head": "ssdlite", "extra_channels": [512, 256, 256, 128],
//	            "aspect_ratios": [[2, 3], [2, 3], [2, 3], [2, 3], [2, 3], [2, 3]],
//	            "min_ratio": 0.2, "max_ratio": 0.95}
//	    (the defaults: extra_channels are the extra blocks' outputs, not
//	    scaled by the width, each at least 2; one aspect_ratios list per
//	    feature map, 2 + len(extra_channels) of them, the integers of
//	    DefaultBoxGenerator; min_ratio and max_ratio its scale range, which
//	    only post-processing uses; the v3 table needs a row of stride 2,
//	    where the backbone splits)
//
// In v3, activation is "RE" (ReLU) or "HS" (Hardswish), stride is 1 or 2,
// each row's input_c must equal the previous row's out_c and the stem conv
// has the first row's input_c channels. reduced_tail_from is the index of the
// first tail row (torchvision's C4): with reduced_tail, that row's out_c and
// every later row's input_c, expanded_c and out_c are halved before scaling,
// and so is last_channel; in a segmentation model the same rows are the
// dilated tail; 0 means the table has no reducible tail.
// lastconv_expansion (default 6) gives the last 1x1 conv's channels as a
// multiple of the last out_c; squeeze-and-excitation uses
// _make_divisible(expanded_c // se_divisor, round_nearest) channels
// (se_divisor default 4). SpecFor(arch).IndentedJSON() gives a built-in
// table in this format. Example, a V3-Small-like table without
// squeeze-and-excitation in the first stages:
//
//	{
//	  "name": "mobilenet_v3_tiny",
//	  "family": "mobilenet_v3",
//	  "bn_eps": 0.001,
//	  "v3": {
//	    "last_channel": 1024,
//	    "reduced_tail_from": 4,
//	    "inverted_residual_setting": [
//	      [16, 3, 16, 16, false, "RE", 2],
//	      [16, 3, 72, 24, false, "RE", 2],
//	      [24, 3, 88, 24, false, "RE", 1],
//	      [24, 5, 96, 40, true, "HS", 2],
//	      [40, 5, 240, 96, true, "HS", 2],
//	      [96, 5, 576, 96, true, "HS", 1]
//	    ]
//	  }
//	}
package mobilenet
