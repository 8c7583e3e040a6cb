//go:build unix

package evidence

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// entry is one tar entry of a crafted bundle tarball.
type entry struct {
	name     string
	typ      byte
	size     int64 // declared size; content is zeros unless body is set
	body     []byte
	noBody   bool // write the header only (a lie the reader must refuse before reading)
	linkname string
}

// craftTar writes entries into a gzip tarball and returns its path.
func craftTar(t *testing.T, entries ...entry) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "bundle-1.tar.gz")
	f, err := os.Create(p)
	must(t, err)
	defer f.Close()
	gz, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		if e.typ == 0 {
			e.typ = tar.TypeReg
		}
		if e.body != nil {
			e.size = int64(len(e.body))
		}
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Size: e.size, Mode: 0o640, Linkname: e.linkname, Format: tar.FormatPAX}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		must(t, tw.WriteHeader(h))
		if e.typ == tar.TypeReg && !e.noBody {
			if e.body != nil {
				_, err = tw.Write(e.body)
			} else {
				_, err = tw.Write(make([]byte, e.size))
			}
			must(t, err)
		}
		if e.noBody {
			must(t, gz.Close())
			return p
		}
	}
	must(t, tw.Close())
	must(t, gz.Close())
	return p
}

func TestReadBundleRefusesHostileTarballs(t *testing.T) {
	ok := entry{name: "bundle-1/metadata.json", body: []byte("{}")}
	many := []entry{ok}
	for i := 0; i < MaxBundleEntries; i++ {
		many = append(many, entry{name: "bundle-1/f" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + "/" + itoa(i), body: []byte("x")})
	}
	var overTotal []entry
	for i := 0; i < MaxBundleBytes/MaxBundleFileBytes+1; i++ {
		overTotal = append(overTotal, entry{name: "bundle-1/chunk" + itoa(i), size: MaxBundleFileBytes})
	}
	tests := map[string]struct {
		entries []entry
		want    string
	}{
		"a name climbing out with ..":            {[]entry{ok, {name: "bundle-1/../../etc/x", body: []byte("x")}}, "want a clean relative path"},
		"a top directory of ..":                  {[]entry{{name: "../x", body: []byte("x")}}, "climbs out of the bundle"},
		"an absolute name":                       {[]entry{ok, {name: "/etc/passwd", body: []byte("x")}}, "want a clean relative path"},
		"a name with ./":                         {[]entry{ok, {name: "bundle-1/./metadata.json", body: []byte("x")}}, "want a clean relative path"},
		"a name with a backslash":                {[]entry{ok, {name: "bundle-1/..\\x", body: []byte("x")}}, "want a clean relative path"},
		"a second top directory":                 {[]entry{ok, {name: "other/x", body: []byte("x")}}, "outside the bundle's one top directory"},
		"a symlink":                              {[]entry{ok, {name: "bundle-1/dev", typ: tar.TypeSymlink, linkname: "/dev/zero"}}, "a link or special file"},
		"a hard link":                            {[]entry{ok, {name: "bundle-1/h", typ: tar.TypeLink, linkname: "bundle-1/metadata.json"}}, "a link or special file"},
		"a character device":                     {[]entry{ok, {name: "bundle-1/zero", typ: tar.TypeChar}}, "a link or special file"},
		"a FIFO":                                 {[]entry{ok, {name: "bundle-1/fifo", typ: tar.TypeFifo}}, "a link or special file"},
		"a duplicate entry":                      {[]entry{ok, ok}, "appears twice"},
		"a file where the top directory belongs": {[]entry{{name: "bundle-1", body: []byte("x")}}, "a file where the top directory should be"},
		"a declared size over the per-file cap":  {[]entry{ok, {name: "bundle-1/huge", size: MaxBundleFileBytes + 1, noBody: true}}, "larger than the cap of 64 MiB for one file"},
		"more entries than the cap":              {many, "more than 4096 entries"},
		"a name longer than the cap":             {[]entry{ok, {name: "bundle-1/" + strings.Repeat("a", MaxBundlePathLen), body: []byte("x")}}, "longer than the cap of 1024"},
		"files over the total cap (a gzip bomb)": {overTotal, "more than 256 MiB in total"},
		"an empty tarball":                       {nil, "an empty tarball"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := craftTar(t, tc.entries...)
			start := time.Now()
			_, err := ReadBundle(p)
			var refused *RefusedError
			if !errors.As(err, &refused) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want a refusal naming %q", err, tc.want)
			}
			if strings.ContainsAny(err.Error(), "\x1b\n") {
				t.Fatalf("unescaped: %q", err)
			}
			t.Logf("refused in %v", time.Since(start))
		})
	}
}

func TestReadBundleRefusesNonTarballs(t *testing.T) {
	dir := t.TempDir()
	notGz := filepath.Join(dir, "x.tar.gz")
	must(t, os.WriteFile(notGz, []byte("hello"), 0o600))
	good := craftTar(t, entry{name: "bundle-1/a", body: bytes.Repeat([]byte("abc"), 10000)}, entry{name: "bundle-1/b", body: []byte("b")})
	data, _ := os.ReadFile(good)
	truncated := filepath.Join(dir, "t.tar.gz")
	must(t, os.WriteFile(truncated, data[:len(data)/2], 0o600))
	fifo := filepath.Join(dir, "fifo.tar.gz")
	must(t, syscall.Mkfifo(fifo, 0o600))
	for name, tc := range map[string]struct {
		path    string
		refused bool
		want    string
	}{
		"not gzip":                   {notGz, false, "not a gzip file"},
		"a truncated tarball":        {truncated, true, "damaged archive"},
		"a FIFO given as the path":   {fifo, true, "a FIFO"},
		"a device given as the path": {"/dev/zero", true, "a character device"},
		"a missing path":             {filepath.Join(dir, "none"), false, "no such file"},
	} {
		t.Run(name, func(t *testing.T) {
			err := readBundleErr(t, tc.path)
			var refused *RefusedError
			if err == nil || errors.As(err, &refused) != tc.refused || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v (refused=%v), want %q", err, tc.refused, tc.want)
			}
		})
	}
}

// readBundleErr is ReadBundle's error for path; a read still going after 10s fails the test:
// the paths given here (a FIFO, a device, links to them) would block a reader that opened them.
func readBundleErr(t *testing.T, path string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { _, err := ReadBundle(path); done <- err }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("ReadBundle hung")
		return nil
	}
}

func TestReadBundleDirectoryNeverFollowsLinks(t *testing.T) {
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret")
	must(t, os.WriteFile(secret, []byte("s3cret"), 0o600))
	fifo := filepath.Join(outside, "fifo")
	must(t, syscall.Mkfifo(fifo, 0o600))
	tests := map[string]struct {
		plant func(t *testing.T, dir string)
		want  string
	}{
		"a symlink to /dev/zero": {func(t *testing.T, dir string) { must(t, os.Symlink("/dev/zero", filepath.Join(dir, "zero"))) }, "zero is a symbolic link"},
		"a symlink to a FIFO":    {func(t *testing.T, dir string) { must(t, os.Symlink(fifo, filepath.Join(dir, "f"))) }, "f is a symbolic link"},
		"a symlink to a file outside": {func(t *testing.T, dir string) {
			must(t, os.Symlink(secret, filepath.Join(dir, "validation", "s")))
		}, "validation/s is a symbolic link"},
		"a symlink to a directory outside": {func(t *testing.T, dir string) { must(t, os.Symlink(outside, filepath.Join(dir, "d"))) }, "d is a symbolic link"},
		"a FIFO":                           {func(t *testing.T, dir string) { must(t, syscall.Mkfifo(filepath.Join(dir, "p"), 0o600)) }, "p is a FIFO"},
		"a socket": {func(t *testing.T, dir string) {
			l, err := net.Listen("unix", filepath.Join(dir, "s"))
			must(t, err)
			t.Cleanup(func() { l.Close() })
		}, "s is a socket"},
		"a sparse file over the per-file cap": {func(t *testing.T, dir string) {
			f, err := os.Create(filepath.Join(dir, "big.log"))
			must(t, err)
			must(t, f.Truncate(MaxBundleFileBytes+1))
			f.Close()
		}, "big.log is 67108865 bytes, larger than the cap of 64 MiB for one file"},
		"a control sequence in a file name is escaped": {func(t *testing.T, dir string) {
			must(t, os.Symlink("/dev/zero", filepath.Join(dir, "\x1b[2J\x1b[32mVERIFIED")))
		}, `\x1b[2J\x1b[32mVERIFIED is a symbolic link`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, _ := sealedSigned(t)
			tc.plant(t, s.Dir)
			err := readBundleErr(t, s.Dir)
			var refused *RefusedError
			if !errors.As(err, &refused) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want a refusal naming %q", err, tc.want)
			}
		})
	}
	t.Run("a sealed bundle reached through a link given as the path is read", func(t *testing.T) {
		s, signer := sealedSigned(t)
		link := filepath.Join(t.TempDir(), "latest.tar.gz")
		must(t, os.Symlink(s.Tarball, link))
		c, err := ReadBundle(link)
		if err != nil {
			t.Fatal(err)
		}
		if r := Verify(t.Context(), c, VerifyOptions{Keys: []TrustedKey{TrustLocalSigner(signer)}}); !r.OK() {
			t.Fatal(r.Findings)
		}
	})
}

func itoa(i int) string { return strconv.Itoa(i) }
