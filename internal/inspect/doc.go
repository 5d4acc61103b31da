// Package inspect summarises a model for `mnc inspect`: one row per layer
// (op, output shape, parameters, multiply-accumulates) and the totals, as
// text or JSON.
package inspect
