package classify

// FitLabels returns labels cut to classes when the line after the last
// class's label is blank: what follows a blank line there is a note about
// the file, not classes (Coral's pascal_voc_segmentation_labels.txt ends
// with one on the ignore label 255). Other labels are returned as they
// are, for CheckLabels to judge.
func FitLabels(labels []string, classes int) []string {
	if classes > 0 && len(labels) > classes && labels[classes] == "" {
		return labels[:classes]
	}
	return labels
}
