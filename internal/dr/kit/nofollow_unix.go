//go:build unix

package drkit

import "syscall"

// syscallNoFollow makes an extracted file's create fail on a symlink (defence in depth: the
// extraction directory is fresh and Open never creates a link in it).
const syscallNoFollow = syscall.O_NOFOLLOW
