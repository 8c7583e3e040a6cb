//go:build unix

package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestOpenRegularRefusesLinksAndSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "reg")
	if err := os.WriteFile(reg, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := func(name, to string) string {
		p := filepath.Join(dir, name)
		if err := os.Symlink(to, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := map[string]struct {
		path, want string
	}{
		"a regular file is read":           {reg, ""},
		"a symlink to a regular file":      {link("l-reg", reg), "a symbolic link"},
		"a symlink to /dev/zero":           {link("l-zero", "/dev/zero"), "a symbolic link"},
		"a symlink to a FIFO":              {link("l-fifo", fifo), "a symbolic link"},
		"a dangling symlink":               {link("l-none", filepath.Join(dir, "none")), "a symbolic link"},
		"a FIFO (would hang a plain open)": {fifo, "a FIFO"},
		"a character device":               {"/dev/zero", "a character device"},
		"/dev/null":                        {"/dev/null", "a character device"},
		"a directory":                      {dir, "a directory"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			done := make(chan struct{})
			var data []byte
			var err error
			go func() { data, err = ReadRegular(tc.path, 1<<10); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("ReadRegular blocked")
			}
			if tc.want == "" {
				if err != nil || string(data) != "hello" {
					t.Fatalf("read %q %v", data, err)
				}
				return
			}
			var nr *NotRegularError
			if !errors.As(err, &nr) || !strings.Contains(err.Error(), tc.want) || !IsRefusal(err) {
				t.Fatalf("err %v, want a refusal naming %q", err, tc.want)
			}
		})
	}
}

func TestCaps(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, 2049), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRegular(big, 2048); err == nil || !strings.Contains(err.Error(), "2049 bytes, larger than the cap of 2 KiB") {
		t.Fatalf("ReadRegular over the cap: %v", err)
	}
	if _, err := ReadLimited(big, 2048); err == nil || !IsRefusal(err) {
		t.Fatalf("ReadLimited over the cap: %v", err)
	}
	// Endless inputs: a size the file does not report is found by the capped read.
	for _, endless := range []string{"/dev/zero", "/dev/urandom"} {
		start := time.Now()
		_, err := ReadLimited(endless, 1<<20)
		if err == nil || !strings.Contains(err.Error(), "holds more than 1 MiB (the cap)") || time.Since(start) > 5*time.Second {
			t.Fatalf("%s: %v after %v", endless, err, time.Since(start))
		}
	}
	if data, err := ReadLimited(big, 4096); err != nil || len(data) != 2049 {
		t.Fatalf("under the cap: %d %v", len(data), err)
	}
	if got := Bytes(64 << 20); got != "64 MiB" {
		t.Fatal(got)
	}
}
