//go:build !purego && !linux

package kernels

// amxPermission names what stops "amx" on this system.
const amxPermission = "Linux (the only system for which mnc asks for AMX tile data)"

// amxPermitted is false: only Linux is asked for the tile data state.
func amxPermitted() bool { return false }
