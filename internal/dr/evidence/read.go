package evidence

// This file reads a bundle someone else may have made (docs/evidence.md "Bounds"): every
// file is streamed through SHA-256 with a per-file and a total cap, only the three small
// files verification parses are kept in memory, and a symlink, device, FIFO or socket is
// refused, never followed or opened. A 2 MB gzip bomb therefore costs a bounded read and a
// refusal, not gigabytes of memory; a FIFO cannot hang verify.

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/valkey-dr/valkey-dr/internal/safefile"
	"github.com/valkey-dr/valkey-dr/internal/termsafe"
)

// Caps of what a bundle reader accepts. A real bundle is well under them (a drill's: ~30
// files, ~200 KB; an activation's deploy log a few MB).
const (
	// MaxBundleFileBytes caps one file of a bundle.
	MaxBundleFileBytes = 64 << 20
	// MaxBundleBytes caps the sum of every file (decompressed, for a tarball).
	MaxBundleBytes = 256 << 20
	// MaxBundleEntries caps the files and directories of a bundle.
	MaxBundleEntries = 4096
	// MaxBundlePathLen caps one path inside a bundle.
	MaxBundlePathLen = 1024
	// maxKeptBytes caps the files verification parses and keeps in memory (manifest.json,
	// signature.json, metadata.json): a manifest of MaxBundleEntries files is ~1 MB.
	maxKeptBytes = 4 << 20
)

// kept are the files Contents holds in memory besides their digest.
var kept = map[string]bool{FileManifestJSON: true, FileSignature: true, FileMetadata: true}

// Digest is one file's SHA-256 (hex) and size.
type Digest struct {
	SHA256 string
	Size   int64
}

// Contents is what a reader found in a bundle: every file's digest, and the bytes of the
// files verification parses.
type Contents struct {
	// Name is the bundle's name (the directory name, or the tarball's top directory).
	Name string
	// Files are bundle-relative, slash-separated paths.
	Files map[string]Digest
	data  map[string][]byte
}

// Data is the content of manifest.json, signature.json or metadata.json, if present.
func (c *Contents) Data(rel string) ([]byte, bool) {
	d, ok := c.data[rel]
	return d, ok
}

// RefusedError is a bundle whose shape is hostile or broken (a link, a special file, a path
// outside its directory, a cap exceeded): it is not verified, and nothing more is read.
type RefusedError struct {
	Reason string
	// Damaged is a .tar.gz whose compressed stream is broken (bad CRC, corrupt deflate data,
	// cut short): the file is not the one that was sealed, whatever its entries decode to.
	Damaged bool
}

func (e *RefusedError) Error() string { return e.Reason }

func refusef(format string, args ...any) error {
	return &RefusedError{Reason: fmt.Sprintf(format, args...)}
}

// reader accumulates digests under the caps.
type reader struct {
	c       *Contents
	total   int64
	entries int
}

func newReader(name string) *reader {
	return &reader{c: &Contents{Name: name, Files: map[string]Digest{}, data: map[string][]byte{}}}
}

// entry counts one file or directory against MaxBundleEntries.
func (r *reader) entry() error {
	r.entries++
	if r.entries > MaxBundleEntries {
		return refusef("more than %d entries (the cap of a bundle)", MaxBundleEntries)
	}
	return nil
}

// add hashes one file's content from src (size as declared, -1 unknown) under the caps.
func (r *reader) add(rel string, size int64, src io.Reader) error {
	if len(rel) > MaxBundlePathLen {
		return refusef("a path of %d bytes (%s): longer than the cap of %d", len(rel), termsafe.Escape(rel), MaxBundlePathLen)
	}
	if _, dup := r.c.Files[rel]; dup {
		return refusef("%s appears twice", termsafe.Escape(rel))
	}
	if size > MaxBundleFileBytes {
		return refusef("%s is %s, larger than the cap of %s for one file", termsafe.Escape(rel), safefile.Bytes(size), safefile.Bytes(MaxBundleFileBytes))
	}
	h := sha256.New()
	var w io.Writer = h
	var buf *strings.Builder
	if kept[rel] {
		buf = &strings.Builder{}
		w = io.MultiWriter(h, buf)
	}
	limit := min(int64(MaxBundleFileBytes), MaxBundleBytes-r.total)
	n, err := io.Copy(w, io.LimitReader(src, limit+1))
	if err != nil {
		return fmt.Errorf("%s: %w", termsafe.Escape(rel), err)
	}
	if n > limit {
		if limit < MaxBundleFileBytes {
			return refusef("the files hold more than %s in total (the cap of a bundle), reached at %s", safefile.Bytes(MaxBundleBytes), termsafe.Escape(rel))
		}
		return refusef("%s holds more than %s, the cap for one file", termsafe.Escape(rel), safefile.Bytes(MaxBundleFileBytes))
	}
	r.total += n
	r.c.Files[rel] = Digest{SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}
	if buf != nil && n <= maxKeptBytes {
		r.c.data[rel] = []byte(buf.String())
	}
	return nil
}

// ReadBundle reads a bundle directory, or a .tar.gz made by Seal, under the caps. A
// *RefusedError is a hostile or broken bundle; any other error is unreadable input.
func ReadBundle(p string) (*Contents, error) {
	return ReadBundleContext(context.Background(), p)
}

// ReadBundleContext is ReadBundle that stops as soon as ctx ends (a SIGINT during verify): the
// error then matches ctx.Err() (errors.Is), whatever the reading had found so far.
func ReadBundleContext(ctx context.Context, p string) (*Contents, error) {
	c, err := readBundle(ctx, p)
	if cerr := ctx.Err(); cerr != nil {
		return nil, fmt.Errorf("reading %s stopped: %w", termsafe.Quote(p), cerr)
	}
	return c, err
}

// ctxReader fails its reads once ctx has ended, so a read of a large file stops within one
// buffer of an interrupt.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func readBundle(ctx context.Context, p string) (*Contents, error) {
	// The path the operator typed may be a link (evidence/latest.tar.gz); what it points to
	// is held to the same rules as everything inside the bundle.
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(real)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		c, err := readDir(ctx, real)
		if c != nil {
			c.Name = filepath.Base(p)
		}
		return c, err
	}
	f, _, err := safefile.OpenRegular(real)
	if err != nil {
		if safefile.IsRefusal(err) {
			return nil, &RefusedError{Reason: err.Error()}
		}
		return nil, err
	}
	defer f.Close()
	return readTar(ctxReader{ctx, f})
}

func readDir(ctx context.Context, dir string) (*Contents, error) {
	r := newReader(filepath.Base(dir))
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if err := r.entry(); err != nil {
			return err
		}
		// WalkDir reports the type lstat sees: a symlink (to a device, a FIFO, a directory
		// outside) is refused here, never followed.
		switch {
		case d.IsDir():
			return nil
		case !d.Type().IsRegular():
			return refusef("%s is %s: a bundle holds regular files only (never followed or opened)", termsafe.Escape(rel), safefile.Kind(d.Type()))
		}
		f, fi, err := safefile.OpenRegular(p)
		if err != nil {
			if safefile.IsRefusal(err) {
				return refusef("%s: %v", termsafe.Escape(rel), err)
			}
			return err
		}
		defer f.Close()
		return r.add(rel, fi.Size(), ctxReader{ctx, f})
	})
	if err != nil {
		return nil, err
	}
	return r.c, nil
}

// gzipStream records the first error of the decompressed stream (a CRC mismatch, corrupt
// deflate data, a cut): whatever the tar reader makes of the bytes, the archive is damaged.
type gzipStream struct {
	r   io.Reader
	err error
}

func (g *gzipStream) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && g.err == nil {
		g.err = err
	}
	return n, err
}

// maxGzipTrail bounds what is read after the tar's end to reach the gzip trailer (its CRC):
// tar pads to 10 KiB records; more than this is not a bundle this tool sealed.
const maxGzipTrail = 1 << 20

// damaged is the refusal of a .tar.gz whose compressed stream is broken.
func damaged(err error) error {
	return &RefusedError{Damaged: true, Reason: fmt.Sprintf("damaged archive: the .tar.gz does not decompress intact (%v): it is not the file that was sealed (a copy or download went wrong, or it was edited); check it against its .tar.gz.sha256, fetch it again, or verify the bundle directory", err)}
}

// readTar reads a gzip tarball whose entries all sit under one top directory.
func readTar(src io.Reader) (*Contents, error) {
	c, g, err := readTarEntries(src)
	if g == nil {
		return nil, err
	}
	// Read on to the gzip trailer: its CRC-32 is checked only at the end of the stream, and
	// a flipped bit in a file's data (or a tar header) decodes to other bytes without an
	// error until then. A damaged stream explains any other error.
	n, cerr := io.CopyN(io.Discard, g, maxGzipTrail)
	if g.err != nil {
		return nil, damaged(g.err)
	}
	if err != nil {
		return nil, err
	}
	if cerr == nil && n == maxGzipTrail {
		return nil, refusef("more than %d bytes after the tar archive's end: not a bundle this tool sealed", maxGzipTrail)
	}
	return c, nil
}

func readTarEntries(src io.Reader) (*Contents, *gzipStream, error) {
	br := bufio.NewReader(src)
	magic, _ := br.Peek(2)
	gzr, err := gzip.NewReader(br)
	if err != nil {
		if bytes.Equal(magic, []byte{0x1f, 0x8b}) {
			// It starts as gzip does: a gzip file whose header is broken or cut.
			return nil, nil, damaged(err)
		}
		return nil, nil, fmt.Errorf("not a gzip file: %w", err)
	}
	gz := &gzipStream{r: gzr}
	c, err := readTarFrom(gz)
	return c, gz, err
}

func readTarFrom(gz io.Reader) (*Contents, error) {
	tr := tar.NewReader(gz)
	r := newReader("")
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if r.entries > 0 {
				return nil, refusef("corrupt tarball after %d entries: %v", r.entries, err)
			}
			return nil, fmt.Errorf("not a tarball: %w", err)
		}
		if err := r.entry(); err != nil {
			return nil, err
		}
		top, rel, err := splitEntry(h.Name)
		if err != nil {
			return nil, err
		}
		if r.c.Name == "" {
			r.c.Name = top
		} else if top != r.c.Name {
			return nil, refusef("%s is outside the bundle's one top directory %s/", termsafe.Quote(h.Name), termsafe.Escape(r.c.Name))
		}
		switch h.Typeflag {
		case tar.TypeDir:
			continue
		case tar.TypeReg:
			if rel == "" {
				return nil, refusef("%s is a file where the top directory should be", termsafe.Quote(h.Name))
			}
			if err := r.add(rel, h.Size, tr); err != nil {
				return nil, err
			}
		default:
			return nil, refusef("%s is a link or special file (tar type %q): a bundle holds regular files only", termsafe.Quote(h.Name), h.Typeflag)
		}
	}
	if r.c.Name == "" {
		return nil, refusef("an empty tarball")
	}
	return r.c, nil
}

// splitEntry splits "top/rel" and refuses a name that is absolute, climbs with "..", or is
// not in its clean form (so two spellings cannot name one file).
func splitEntry(name string) (top, rel string, err error) {
	trimmed := strings.TrimSuffix(name, "/")
	if len(name) > MaxBundlePathLen {
		return "", "", refusef("an entry name of %d bytes: longer than the cap of %d", len(name), MaxBundlePathLen)
	}
	if trimmed == "" || path.IsAbs(trimmed) || path.Clean(trimmed) != trimmed || strings.Contains(trimmed, "\\") {
		return "", "", refusef("entry %s: want a clean relative path under the bundle's top directory", termsafe.Quote(name))
	}
	top, rel, _ = strings.Cut(trimmed, "/")
	for _, part := range strings.Split(trimmed, "/") {
		if part == ".." || part == "." {
			return "", "", refusef("entry %s climbs out of the bundle", termsafe.Quote(name))
		}
	}
	return top, rel, nil
}

// ReadTarball returns the files of a bundle tarball (name -> content) under the same caps
// (tests read a sealed bundle's content with it).
func ReadTarball(p string) (map[string][]byte, error) {
	f, _, err := safefile.OpenRegular(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(gz)
	out := map[string][]byte{}
	var total int64
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(tr, MaxBundleFileBytes+1))
		if err != nil {
			return nil, err
		}
		total += int64(len(data))
		if len(data) > MaxBundleFileBytes || total > MaxBundleBytes {
			return nil, refusef("%s: over the caps of a bundle", termsafe.Escape(h.Name))
		}
		out[h.Name] = data
	}
}
