// Package limits is mnc's resource budget and the checks every reader makes
// before it trusts a path.
//
// mnc reads untrusted files: checkpoints from the internet, models copied to
// boards, folders of images. Every reader checks what it is about to
// allocate against the file's real size and against the limits below before
// it allocates, and says which limit an input exceeds ("the model's
// activations need 960 GiB; the limit is 1 GiB"). The limits are named here,
// once, and listed in the README; raising one is a deliberate change.
//
// Inputs are opened through Open and ReadFile: the path must name a regular
// file (directories, FIFOs, sockets and devices are refused before they are
// opened for reading, so a FIFO cannot block mnc), and a file is read whole
// only after its size is checked.
package limits
