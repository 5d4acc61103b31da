package runtime

import (
	"fmt"

	"github.com/mncdev/mnc/runtime/mncfb"
	"github.com/mncdev/mnc/runtime/preprocess"
)

func (m *Model) readMetadata(md *mncfb.Metadata, bud *budget) error {
	var err error
	if m.info.Producer, err = m.str(md.Producer(), bud, "producer"); err != nil {
		return err
	}
	var pp mncfb.Preprocess
	if md.Preprocess(&pp) != nil {
		preset, err := m.str(pp.Preset(), bud, "preprocessing")
		if err != nil {
			return err
		}
		spec, err := preprocess.Default(preprocess.Preset(preset), int(pp.Height()), int(pp.Width()))
		if err != nil {
			return err
		}
		if pp.MeanLength() == 3 && pp.StdLength() == 3 {
			for c := range 3 {
				spec.Mean[c], spec.Std[c] = pp.Mean(c), pp.Std(c)
			}
		}
		for c := range 3 {
			if !finite(spec.Mean[c]) || !finite(spec.Std[c]) || spec.Std[c] == 0 {
				return fmt.Errorf("preprocessing mean %v, std %v: not usable", spec.Mean, spec.Std)
			}
		}
		// Format 1.2's custom preprocessing; absent fields read as zero,
		// the preset's choice.
		resize, err := m.str(pp.Resize(), bud, "preprocessing")
		if err != nil {
			return err
		}
		channels, err := m.str(pp.Channels(), bud, "preprocessing")
		if err != nil {
			return err
		}
		spec.Scale, spec.Resize, spec.ResizeTo = pp.Scale(), preprocess.ResizeMode(resize), int(pp.ResizeTo())
		spec.Crop, spec.Channels = pp.Crop(), preprocess.ChannelOrder(channels)
		if err := spec.Check(); err != nil {
			return err
		}
		m.spec = &spec
		m.info.Preprocess = &spec
	}
	if n := md.LabelsLength(); n > 0 {
		if err := bud.spend(int64(n)*16, "labels"); err != nil {
			return err
		}
		m.info.Labels = make([]string, n)
		for i := range n {
			if m.info.Labels[i], err = m.str(md.Labels(i), bud, "labels"); err != nil {
				return err
			}
		}
	}
	var fc mncfb.Calibration
	if md.Calibration(&fc) != nil {
		c := &Calibration{Images: int(fc.Images())}
		for _, f := range []struct {
			dst *string
			src []byte
		}{{&c.Scheme, fc.Scheme()}, {&c.Method, fc.Method()}, {&c.ImageListSHA256, fc.ImageListSha256()}} {
			if *f.dst, err = m.str(f.src, bud, "calibration record"); err != nil {
				return err
			}
		}
		var q mncfb.QualityFigures
		if fc.Calib(&q) != nil {
			c.Calib = quality(&q)
		}
		if fc.Eval(&q) != nil {
			c.Eval = quality(&q)
		}
		m.info.Calibration = c
	}
	if n := md.ExtraLength(); n > 0 {
		m.info.Extra = map[string]string{}
		var kv mncfb.KeyValue
		for i := range n {
			md.Extra(&kv, i)
			k, err := m.str(kv.Key(), bud, "metadata")
			if err != nil {
				return err
			}
			if m.info.Extra[k], err = m.str(kv.Value(), bud, "metadata"); err != nil {
				return err
			}
		}
	}
	var fd mncfb.Detection
	if md.Detection(&fd) != nil {
		if err := m.readDetection(&fd, bud); err != nil {
			return err
		}
	}
	return nil
}

func quality(q *mncfb.QualityFigures) *Quality {
	r := &Quality{Images: int(q.Images()), LogitsSQNR: q.LogitsSqnrDb(), Top1Agree: int(q.Top1Agree()),
		Cosine: q.Cosine(), MinCosine: q.MinCosine()}
	t := q.Table()
	if t.Offset(qualityMedianSlot) != 0 { // present (appended fields: absent in older files)
		v := q.MedianSqnrDb()
		r.MedianSQNR = &v
	}
	if t.Offset(qualityWorstSlot) != 0 {
		v := q.WorstSqnrDb()
		r.WorstSQNR = &v
	}
	return r
}

// The vtable slots of QualityFigures' median_sqnr_db and worst_sqnr_db
// (fields 5 and 6: 4 + 2*index).
const (
	qualityMedianSlot = 4 + 2*5
	qualityWorstSlot  = 4 + 2*6
)
