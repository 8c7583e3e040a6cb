package evidence

// This file writes the DR evidence bundle (runbook section 9): one directory, a
// sha256sum-compatible manifest of every file in it, and a .tar.gz of the whole, with nothing
// secret inside: known secret values and CloudFormation dynamic references are scrubbed on
// the way in, and Seal refuses to finish if any still shows up.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// ManifestName is the manifest file inside the bundle: `sha256sum -c SHA256SUMS` verifies it.
const ManifestName = "SHA256SUMS"

// Redacted replaces a secret value.
const Redacted = "[REDACTED]"

// dynamicRef matches a CloudFormation dynamic reference ({{resolve:secretsmanager:...}}):
// not a secret itself, but it names one, and the bundle promises to hold none of either.
var dynamicRef = regexp.MustCompile(`\{\{resolve:[^}]*\}\}`)

// Bundle is an evidence directory being filled.
type Bundle struct {
	// Dir is the bundle directory (parent/name).
	Dir string
	// Name is the directory name, also the top directory inside the tarball.
	Name string

	parent  string
	secrets []string
	// signer and manifest are set by SignWith: Seal then writes manifest.json and signature.json.
	signer   Signer
	manifest Manifest
}

// NewBundle makes parent/name (0750; it must not exist yet: evidence is never overwritten).
func NewBundle(parent, name string) (*Bundle, error) {
	if err := os.MkdirAll(parent, 0o750); err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	dir := filepath.Join(parent, name)
	if err := os.Mkdir(dir, 0o750); err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	return &Bundle{Dir: dir, Name: name, parent: parent}, nil
}

// AddSecret registers a value that must never appear in the bundle (a password). Values
// shorter than 8 characters are refused: scrubbing them would mangle ordinary text.
func (b *Bundle) AddSecret(s string) error {
	if len(s) < 8 {
		return errors.New("evidence: a secret shorter than 8 characters cannot be scrubbed reliably")
	}
	b.secrets = append(b.secrets, s)
	return nil
}

// scrub removes secrets and dynamic references from data.
func (b *Bundle) scrub(data []byte) []byte {
	for _, s := range b.secrets {
		data = bytes.ReplaceAll(data, []byte(s), []byte(Redacted))
	}
	return dynamicRef.ReplaceAll(data, []byte("[dynamic reference removed]"))
}

// path checks rel stays inside the bundle.
func (b *Bundle) path(rel string) (string, error) {
	clean := filepath.Clean(rel)
	if filepath.IsAbs(clean) || clean == "." || strings.HasPrefix(clean, "..") || clean == ManifestName ||
		clean == FileManifestJSON || clean == FileSignature {
		return "", fmt.Errorf("evidence: %q: want a relative path inside the bundle (not %s)", rel, ManifestName)
	}
	return filepath.Join(b.Dir, clean), nil
}

// WriteFile writes data (scrubbed) to rel inside the bundle, 0640.
func (b *Bundle) WriteFile(rel string, data []byte) error {
	p, err := b.path(rel)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	if err := os.WriteFile(p, b.scrub(data), 0o640); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	return nil
}

// WriteJSON writes v as indented JSON.
func (b *Bundle) WriteJSON(rel string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("evidence: %s: %w", rel, err)
	}
	return b.WriteFile(rel, append(data, '\n'))
}

// CopyFile copies src (scrubbed) to rel.
func (b *Bundle) CopyFile(rel, src string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	return b.WriteFile(rel, data)
}

// CopyDir copies the regular files of src (recursively, scrubbed) under rel.
func (b *Bundle) CopyDir(rel, src string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		sub, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") {
			return nil // the validator's .write-test-* probes, editor droppings
		}
		return b.CopyFile(filepath.Join(rel, sub), p)
	})
}

// Sealed is a finished bundle.
type Sealed struct {
	// Dir is the bundle directory, Manifest its SHA256SUMS.
	Dir, Manifest string
	// Tarball is the .tar.gz next to Dir; TarballSum its "<sha256>  <name>" file.
	Tarball, TarballSum string
	// Files are the bundle's files (relative, sorted), manifest excluded.
	Files []string
	// Signature is signature.json ("" when unsigned), SignatureSidecar its copy beside the
	// tarball (uploaded with it), KeyID the key that signed.
	Signature, SignatureSidecar, KeyID string
	// NotKMSSigned is the manifest's "not KMS-signed: <reason>" when a FallbackSigner's KMS
	// key could not sign and the local key did ("" otherwise).
	NotKMSSigned string
}

// Seal is SealContext without a context (an unsigned bundle, or a local signer).
func (b *Bundle) Seal(now time.Time) (*Sealed, error) {
	return b.SealContext(context.Background(), now)
}

// SignWith makes Seal sign the bundle: m (kind, label, provenance) heads manifest.json, which
// gets every file's path, SHA256 and size.
func (b *Bundle) SignWith(s Signer, m Manifest) {
	b.signer, b.manifest = s, m
}

// SealContext checks that no registered secret and no dynamic reference is in any file, writes the
// manifest (sha256sum format: "<hex>  <path>"), then the tarball (top directory Name, files
// 0640, mtime now) and its checksum file. After Seal the bundle must not change.
func (b *Bundle) SealContext(ctx context.Context, now time.Time) (*Sealed, error) {
	var files []string
	err := filepath.WalkDir(b.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(b.Dir, p)
		if rel == ManifestName || rel == FileManifestJSON || rel == FileSignature {
			return nil
		}
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	sort.Strings(files)
	var manifest bytes.Buffer
	for _, rel := range files {
		data, err := os.ReadFile(filepath.Join(b.Dir, rel))
		if err != nil {
			return nil, fmt.Errorf("evidence: %w", err)
		}
		if err := b.check(rel, data); err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(&manifest, "%s  %s\n", hex.EncodeToString(sum[:]), rel)
	}
	s := &Sealed{Dir: b.Dir, Manifest: filepath.Join(b.Dir, ManifestName), Files: files,
		Tarball: filepath.Join(b.parent, b.Name+".tar.gz")}
	s.TarballSum = s.Tarball + ".sha256"
	// Atomic: the tarball and its sidecars go to temporary files, are synced, then linked
	// into place (never over an existing file); any failure removes what this call wrote,
	// manifest.json and signature.json included, so a failed seal leaves no bundle that
	// verifies (docs/evidence.md "Signed manifest").
	var placed []string
	sealed := false
	defer func() {
		if sealed {
			return
		}
		for _, p := range append(placed, s.Manifest, filepath.Join(b.Dir, FileManifestJSON), filepath.Join(b.Dir, FileSignature)) {
			_ = os.Remove(p)
		}
	}()
	if err := writeSynced(s.Manifest, manifest.Bytes()); err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	inTar := append(files, ManifestName)
	var sidecar []byte
	if b.signer != nil {
		var err error
		if sidecar, err = b.sign(ctx, s, append([]string{}, inTar...), now); err != nil {
			return nil, err
		}
		inTar = append(inTar, FileManifestJSON, FileSignature)
	}
	tmpTar, err := b.tarball(inTar, now)
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmpTar)
	sum, err := safefileSHA256(tmpTar)
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	outputs := []struct {
		path string
		data []byte
	}{{s.TarballSum, []byte(fmt.Sprintf("%s  %s\n", sum, filepath.Base(s.Tarball)))}}
	if sidecar != nil {
		outputs = append(outputs, struct {
			path string
			data []byte
		}{s.SignatureSidecar, sidecar})
	}
	if err := linkInto(tmpTar, s.Tarball); err != nil {
		return nil, err
	}
	placed = append(placed, s.Tarball)
	for _, o := range outputs {
		if err := placeFile(b.parent, o.path, o.data); err != nil {
			return nil, err
		}
		placed = append(placed, o.path)
	}
	syncDir(b.parent)
	syncDir(b.Dir)
	sealed = true
	return s, nil
}

// writeSynced writes data to p (0640) and syncs it.
func writeSynced(p string, data []byte) error {
	f, err := os.OpenFile(p, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	return errors.Join(werr, f.Sync(), f.Close())
}

// placeFile writes data to a synced temporary file in dir and links it to p.
func placeFile(dir, p string, data []byte) error {
	f, err := os.CreateTemp(dir, "."+filepath.Base(p)+".tmp-*")
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	defer os.Remove(f.Name())
	_, werr := f.Write(data)
	if err := errors.Join(werr, f.Chmod(0o640), f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("evidence: write %s: %w", p, err)
	}
	return linkInto(f.Name(), p)
}

// linkInto links a finished temporary file to p, refusing to replace an existing p
// (evidence is never overwritten).
func linkInto(tmp, p string) error {
	if err := os.Link(tmp, p); err != nil {
		return fmt.Errorf("evidence: %s: %w (nothing was replaced)", p, err)
	}
	return nil
}

// safefileSHA256 is the hex SHA-256 of a file this process just wrote.
func safefileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// sign writes manifest.json over files, signs it into signature.json and copies the
// signature beside the tarball (<name>.signature.json) so it can be uploaded with it.
func (b *Bundle) sign(ctx context.Context, s *Sealed, files []string, now time.Time) ([]byte, error) {
	m := b.manifest
	m.Schema, m.Bundle, m.SealedAt = ManifestSchema, b.Name, Stamp(now)
	sort.Strings(files)
	m.Files = nil
	for _, rel := range files {
		data, err := os.ReadFile(filepath.Join(b.Dir, rel))
		if err != nil {
			return nil, fmt.Errorf("evidence: %w", err)
		}
		sum := sha256.Sum256(data)
		m.Files = append(m.Files, ManifestFile{Path: rel, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data))})
	}
	data, err := marshalManifest(m)
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	if err := b.check(FileManifestJSON, data); err != nil {
		return nil, err
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	signer := b.signer
	fb, hasFallback := signer.(*FallbackSigner)
	if hasFallback {
		signer = fb.Signer
	}
	sig, err := SignManifest(sctx, signer, data)
	if err != nil && hasFallback && fb.Fallback != nil {
		// Sealed whatever fails: the local key signs a manifest that says why KMS did not.
		local, lerr := fb.Fallback()
		if lerr != nil {
			return nil, fmt.Errorf("%w; the local key could not sign either: %v", err, lerr)
		}
		m.NotKMSSigned = NotKMSSignedPrefix + fallbackReason(signer.KeyID(), err)
		if data, err = marshalManifest(m); err != nil {
			return nil, fmt.Errorf("evidence: %w", err)
		}
		if err := b.check(FileManifestJSON, data); err != nil {
			return nil, err
		}
		sig, err = SignManifest(sctx, local, data)
		s.NotKMSSigned = m.NotKMSSigned
	}
	if err != nil {
		return nil, err
	}
	sdata, err := json.MarshalIndent(sig, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	sdata = append(sdata, '\n')
	s.Signature = filepath.Join(b.Dir, FileSignature)
	s.SignatureSidecar = filepath.Join(b.parent, b.Name+".signature.json")
	s.KeyID = sig.KeyID
	for p, d := range map[string][]byte{filepath.Join(b.Dir, FileManifestJSON): data, s.Signature: sdata} {
		if err := writeSynced(p, d); err != nil {
			return nil, fmt.Errorf("evidence: %w", err)
		}
	}
	return sdata, nil
}

// check refuses a file that still holds a secret or a dynamic reference (defence in depth:
// every write scrubs, but a file dropped into the directory by someone else does not).
func (b *Bundle) check(rel string, data []byte) error {
	for _, s := range b.secrets {
		if bytes.Contains(data, []byte(s)) {
			return fmt.Errorf("evidence: %s contains a secret value: bundle not sealed", rel)
		}
	}
	if dynamicRef.Match(data) {
		return fmt.Errorf("evidence: %s contains a CloudFormation dynamic reference ({{resolve:...}}): bundle not sealed", rel)
	}
	return nil
}

// tarball writes the bundle's tarball to a synced temporary file beside it and returns its
// path (SealContext links it into place).
func (b *Bundle) tarball(files []string, now time.Time) (string, error) {
	f, err := os.CreateTemp(b.parent, "."+b.Name+".tar.gz.tmp-*")
	if err != nil {
		return "", fmt.Errorf("evidence: %w", err)
	}
	path := f.Name()
	if err := f.Chmod(0o640); err != nil {
		f.Close()
		os.Remove(path)
		return "", fmt.Errorf("evidence: %w", err)
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	werr := func() error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: b.Name + "/", Mode: 0o750, ModTime: now}); err != nil {
			return err
		}
		dirs := map[string]bool{}
		for _, rel := range files {
			for d := filepath.Dir(rel); d != "." && !dirs[d]; d = filepath.Dir(d) {
				dirs[d] = true
			}
		}
		var dirList []string
		for d := range dirs {
			dirList = append(dirList, d)
		}
		sort.Strings(dirList)
		for _, d := range dirList {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: b.Name + "/" + d + "/", Mode: 0o750, ModTime: now}); err != nil {
				return err
			}
		}
		for _, rel := range files {
			data, err := os.ReadFile(filepath.Join(b.Dir, rel))
			if err != nil {
				return err
			}
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: b.Name + "/" + rel, Mode: 0o640, Size: int64(len(data)), ModTime: now}); err != nil {
				return err
			}
			if _, err := tw.Write(data); err != nil {
				return err
			}
		}
		if err := tw.Close(); err != nil {
			return err
		}
		return gz.Close()
	}()
	if werr == nil {
		werr = f.Sync()
	}
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
		return "", fmt.Errorf("evidence: write the tarball of %s: %w", b.Name, werr)
	}
	return path, nil
}

// Stamp formats a time as the evidence does (timeline, metadata, manifest): UTC, RFC 3339 with milliseconds.
func Stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// maxSameSecondRuns bounds the suffixes tried for runs started in the same second.
const maxSameSecondRuns = 100

// NewUniqueBundle makes the bundle <base>, or <base>-2, -3, ... when another run started in
// the same second took the name (issue 26: two drills at once): the directory is made with
// mkdir, which only one run wins, and a name whose tarball exists is never reused.
func NewUniqueBundle(parent, base string) (*Bundle, error) {
	for i := 1; ; i++ {
		name := base
		if i > 1 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		if _, err := os.Lstat(filepath.Join(parent, name+".tar.gz")); err == nil && i < maxSameSecondRuns {
			continue
		}
		b, err := NewBundle(parent, name)
		if err != nil && errors.Is(err, fs.ErrExist) && i < maxSameSecondRuns {
			continue
		}
		return b, err
	}
}

// VerifyCommand is how every message spells verification: make dr-verify BUNDLE=<path>
// (relative to the working directory when it is below it: the make target runs there).
func VerifyCommand(bundle string) string {
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, bundle); err == nil && !strings.HasPrefix(rel, "..") && !filepath.IsAbs(rel) {
			bundle = rel
		}
	}
	return "make dr-verify BUNDLE=" + bundle
}
