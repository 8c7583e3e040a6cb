package evidence

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A seal that fails part way leaves no bundle that verifies, no partial tarball and no
// sidecar; and it never replaces a file it did not write.
func TestFailedSealLeavesNothingThatVerifies(t *testing.T) {
	for name, inTheWay := range map[string]string{
		"the tarball's name is taken":           "bundle-1.tar.gz",
		"the signature sidecar's name is taken": "bundle-1.signature.json",
		"the checksum file's name is taken":     "bundle-1.tar.gz.sha256",
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			signer, _, err := LoadOrCreateLocalKey(filepath.Join(root, "k.key"))
			must(t, err)
			parent := filepath.Join(root, "evidence")
			b, err := NewBundle(parent, "bundle-1")
			must(t, err)
			must(t, b.WriteFile("metadata.json", []byte(`{"verdict":"pass"}`)))
			must(t, os.WriteFile(filepath.Join(parent, inTheWay), []byte("not ours"), 0o640))
			b.SignWith(signer, Manifest{Kind: "drill", Verdict: VerdictPass})
			if _, err := b.SealContext(context.Background(), nowForTest); err == nil || !strings.Contains(err.Error(), "nothing was replaced") {
				t.Fatalf("seal: %v", err)
			}
			ents, _ := os.ReadDir(parent)
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			if strings.Join(names, ",") != strings.Join(sortedNames("bundle-1", inTheWay), ",") {
				t.Fatalf("left behind: %v", names)
			}
			if d, _ := os.ReadFile(filepath.Join(parent, inTheWay)); string(d) != "not ours" {
				t.Fatal("a file the seal did not write was replaced")
			}
			for _, f := range []string{FileManifestJSON, FileSignature, ManifestName} {
				if _, err := os.Stat(filepath.Join(b.Dir, f)); err == nil {
					t.Fatalf("%s left in the bundle after a failed seal", f)
				}
			}
			c, err := ReadBundle(b.Dir)
			must(t, err)
			if r := Verify(context.Background(), c, VerifyOptions{Keys: []TrustedKey{TrustLocalSigner(signer)}}); r.OK() {
				t.Fatal("the bundle of a failed seal verifies")
			}
		})
	}
}

func sortedNames(a, b string) []string {
	if a < b {
		return []string{a, b}
	}
	return []string{b, a}
}

func TestHalfWrittenKeyIsReplacedAndCreationIsAtomic(t *testing.T) {
	whole := func(t *testing.T) []byte {
		s, _, err := LoadOrCreateLocalKey(filepath.Join(t.TempDir(), "w.key"))
		must(t, err)
		data, _ := os.ReadFile(s.Path)
		return data
	}(t)
	tests := map[string]struct {
		content  []byte
		replaced bool
		wantErr  string
	}{
		"a 0-byte key":                      {content: nil, replaced: true},
		"only whitespace":                   {content: []byte("\n\n"), replaced: true},
		"the PEM header cut short":          {content: []byte("-----BEGIN PRIV"), replaced: true},
		"a key cut before its END line":     {content: whole[:len(whole)-30], replaced: true},
		"a key cut after the header":        {content: whole[:28], replaced: true},
		"some other file is never replaced": {content: []byte("my notes\n"), wantErr: "not a PEM PRIVATE KEY"},
		"a certificate is never replaced":   {content: []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), wantErr: "not a PEM PRIVATE KEY"},
		"a whole key is kept":               {content: whole},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "k.key")
			must(t, os.WriteFile(path, tc.content, 0o600))
			s, created, err := LoadOrCreateLocalKey(path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				if d, _ := os.ReadFile(path); string(d) != string(tc.content) {
					t.Fatal("the file was changed")
				}
				return
			}
			must(t, err)
			if created != tc.replaced || (s.Replaced != "") != tc.replaced {
				t.Fatalf("created %v replaced %q", created, s.Replaced)
			}
			if tc.replaced {
				if d, err := os.ReadFile(s.Replaced); err != nil || string(d) != string(tc.content) {
					t.Fatalf("the broken key was not set aside intact: %v", err)
				}
				if !strings.HasPrefix(filepath.Base(s.Replaced), "k.key"+BrokenKeySuffix) {
					t.Fatalf("set aside as %s", s.Replaced)
				}
			}
			again, created, err := LoadOrCreateLocalKey(path)
			if err != nil || created || again.KeyID() != s.KeyID() {
				t.Fatalf("the new key does not load back: %v %v", err, created)
			}
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if strings.Contains(e.Name(), ".tmp-") {
					t.Fatalf("a temporary key file was left: %s", e.Name())
				}
			}
		})
	}
}
