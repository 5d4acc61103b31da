//go:build !purego

package kernels

import (
	"sync"
	"syscall"
)

// amxPermission names what amxPermitted lacking stops "amx".
const amxPermission = "the kernel's leave to use AMX tile data (Linux 5.16 or later: arch_prctl ARCH_REQ_XCOMP_PERM)"

// amxPermitted asks Linux, once per process, for the tile data state
// (arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)): without it the
// first tile instruction kills the process. It reports whether the kernel
// granted it; it is only called on CPUs that report AMX.
var amxPermitted = sync.OnceValue(func() bool {
	const archReqXcompPerm, xfeatureXtiledata = 0x1023, 18
	_, _, errno := syscall.RawSyscall(syscall.SYS_ARCH_PRCTL, archReqXcompPerm, xfeatureXtiledata, 0)
	return errno == 0
})
