// Package safefile reads files whose content or type an operator does not control (a bundle
// directory someone else filled, a kit) or whose size nobody bounded (a flag's file): a
// symlink is never followed, a device or FIFO is never opened for reading, and nothing is
// read past a stated cap (issue 23; docs/evidence.md "Bounds").
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// NotRegularError is a path that is a symlink, a directory, a device, a FIFO or a socket
// where a regular file was expected.
type NotRegularError struct {
	Path string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is %s, not a regular file (links and special files are never followed or read)", e.Path, Kind(e.Mode))
}

// TooLargeError is a file larger than the cap of what reads it.
type TooLargeError struct {
	Path string
	// Size is the size found, or -1 when the file did not say (a pipe, a device) and the
	// read was stopped at the cap.
	Size, Max int64
}

func (e *TooLargeError) Error() string {
	if e.Size < 0 {
		return fmt.Sprintf("%s holds more than %s (the cap): refused without reading further", e.Path, Bytes(e.Max))
	}
	return fmt.Sprintf("%s is %s, larger than the cap of %s", e.Path, Bytes(e.Size), Bytes(e.Max))
}

// Kind names a file type for a message: "a symbolic link", "a FIFO", ...
func Kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO (named pipe)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m.IsRegular():
		return "a regular file"
	}
	return "a special file"
}

// OpenRegular opens path read-only without following a symlink in its last element
// (O_NOFOLLOW) and without blocking on a FIFO (O_NONBLOCK), then checks on the open file
// (fstat, so a swap between a directory walk and the open is caught) that it is a regular
// file. Anything else is a *NotRegularError and nothing is read.
func OpenRegular(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|noFollow|nonBlock, 0)
	if err != nil {
		if fi, lerr := os.Lstat(path); lerr == nil && !fi.Mode().IsRegular() {
			return nil, nil, &NotRegularError{Path: path, Mode: fi.Mode()}
		}
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, &NotRegularError{Path: path, Mode: fi.Mode()}
	}
	return f, fi, nil
}

// ReadRegular reads a regular file of at most max bytes (OpenRegular's rules).
func ReadRegular(path string, max int64) ([]byte, error) {
	f, fi, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi.Size() > max {
		return nil, &TooLargeError{Path: path, Size: fi.Size(), Max: max}
	}
	return readCapped(f, path, max)
}

// ReadLimited reads an operator-named file (a flag's value) of at most max bytes. It follows
// links and reads pipes (`--password-file <(pass show x)` is a pipe), but stops at max+1
// bytes: an endless file (/dev/zero, a log still growing) is refused by size, not read
// until memory runs out.
func ReadLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > max {
		return nil, &TooLargeError{Path: path, Size: fi.Size(), Max: max}
	}
	return readCapped(f, path, max)
}

func readCapped(r io.Reader, path string, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, &TooLargeError{Path: path, Size: -1, Max: max}
	}
	return data, nil
}

// IsRefusal reports whether err is a refusal of this package (a link, a special file, a
// file over its cap) rather than an I/O error.
func IsRefusal(err error) bool {
	var nr *NotRegularError
	var tl *TooLargeError
	return errors.As(err, &nr) || errors.As(err, &tl)
}

// Bytes prints a size in the unit a cap is declared in: "64 MiB", "1 KiB", "17 bytes".
func Bytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
