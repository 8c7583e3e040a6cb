//go:build !unix

package drkit

// syscallNoFollow: Windows has no O_NOFOLLOW; O_EXCL on a fresh directory still applies.
const syscallNoFollow = 0
