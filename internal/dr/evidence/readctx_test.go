package evidence

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// cancelAfterFirst cancels its context once its first Read has returned: an interrupt in the
// middle of a file.
type cancelAfterFirst struct {
	r      io.Reader
	cancel context.CancelFunc
}

func (c *cancelAfterFirst) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.cancel()
	return n, err
}

// TestReadBundleStopsAtAnInterrupt: reading stops within one buffer of the context's end, for
// a directory and a tarball, and says it was stopped (never "damaged", never a finding).
func TestReadBundleStopsAtAnInterrupt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bundle")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b", "c"} {
		if err := os.WriteFile(filepath.Join(dir, name), bytes.Repeat([]byte{'x'}, 1<<20), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ReadBundle(dir); err != nil {
		t.Fatalf("uninterrupted: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReadBundleContext(ctx, dir); !errors.Is(err, context.Canceled) {
		t.Fatalf("a directory after the interrupt: %v, want context.Canceled", err)
	}

	// Mid-file: the first buffer is read, the next read sees the interrupt.
	ctx, cancel = context.WithCancel(context.Background())
	src := ctxReader{ctx, &cancelAfterFirst{r: bytes.NewReader(bytes.Repeat([]byte{'x'}, 1<<20)), cancel: cancel}}
	n, err := io.Copy(io.Discard, src)
	if !errors.Is(err, context.Canceled) || n >= 1<<20 {
		t.Fatalf("read %d bytes, %v: want a stop after the first buffer with context.Canceled", n, err)
	}
}
