// Package classify runs an image classifier over images or a tensor file and
// reports the top classes: the shared logic behind `mnc run`, whatever kind
// of model (float graph or compiled blob) does the arithmetic.
package classify
