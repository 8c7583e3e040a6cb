//go:build !unix

package safefile

// Elsewhere (Windows) there is no O_NOFOLLOW/O_NONBLOCK: OpenRegular's fstat check still
// refuses anything but a regular file. The DR tools run on linux and darwin (drkit.Platforms).
const (
	noFollow = 0
	nonBlock = 0
)
