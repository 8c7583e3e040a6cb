package drkit

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
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
	"github.com/valkey-dr/valkey-dr/internal/runowner"
	"github.com/valkey-dr/valkey-dr/internal/safefile"
	"github.com/valkey-dr/valkey-dr/internal/termsafe"
)

// Kit is an extracted, verified kit.
type Kit struct {
	// Tarball is the kit file that was opened.
	Tarball string
	// TarballSHA256 is its SHA256 (hex), for the evidence.
	TarballSHA256 string
	// Dir is the extracted top directory (absolute).
	Dir string
	// Manifest is its manifest.json.
	Manifest Manifest
	// KeyID names the trusted key that verified the kit's signature, and where it came from.
	KeyID string
}

// Caps of what Open reads and writes (a kit today: ~420 files, ~290 MB, the largest the
// carried Node binary of ~125 MB): a corrupt or hostile tarball must not fill the disk or memory.
const (
	// MaxKitFileBytes caps one file of a kit.
	MaxKitFileBytes = 256 << 20
	// MaxKitBytes caps the sum of every file, checked before anything is written.
	MaxKitBytes = 1 << 30
	// MaxKitEntries caps the files and directories of a kit.
	MaxKitEntries = 8192
	// maxKitSignedBytes caps manifest.json and signature.json, the two files held in memory.
	maxKitSignedBytes = 4 << 20
)

// limits are the caps Open applies: the constants above (tests lower them to craft a kit
// over the total cap without writing a gigabyte).
var limits = struct {
	file, total int64
	entries     int
}{MaxKitFileBytes, MaxKitBytes, MaxKitEntries}

// ExtractedMarker is written into every directory Open extracts: a later Open replaces an
// earlier extraction only when it carries it, so nothing drctl did not create is removed.
const ExtractedMarker = ".drctl-extracted"

// kitName is what a kit's file (and top directory) may be called: valkey-dr-kit-<env>-<commit>
// from Build, or any plain name; never ".", "..", a hidden name or a path.
var kitName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// Open authenticates tarball and extracts it under destRoot (docs/evidence.md "Trust"):
//
//  1. It reads the tarball once without writing anything: every entry under the caps, a
//     regular file or directory under the one top directory, hashed; manifest.json and
//     signature.json kept.
//  2. signature.json must be a signature of manifest.json by one of keys (keys the operator
//     holds: the kit's own files, its cdk.json included, decide nothing), and every file
//     must match the manifest. Otherwise the kit is refused (exit 2) and nothing was written.
//  3. It extracts into a fresh directory it creates (destRoot/<extractPrefix><pid>-*, marked
//     with this process: the next extraction removes what a killed one left), re-hashing
//     every file against the manifest as it writes, then renames that into destRoot/<name>,
//     replacing an earlier extraction only if it carries ExtractedMarker.
//
// extractPrefix names Open's scratch directories under destRoot.
const extractPrefix = ".valkey-dr-kit-extract-"

func Open(ctx context.Context, tarball, destRoot string, keys []evidence.TrustedKey) (*Kit, error) {
	q := termsafe.Quote(tarball)
	name := strings.TrimSuffix(filepath.Base(tarball), ".tar.gz")
	if name == filepath.Base(tarball) || !kitName.MatchString(name) {
		return nil, procedure.Usagef("--kit %s: want a kit tarball named <letters, digits, . _ ->.tar.gz (valkey-dr-kit-<env>-<commit>.tar.gz, from make dr-kit). Nothing was extracted.", q)
	}
	scan, err := scanKit(tarball, name)
	if err != nil {
		return nil, procedure.Usagef("--kit %s: refused, nothing was extracted: %v", q, err)
	}
	k := &Kit{Tarball: tarball, TarballSHA256: scan.sha256}
	if err := k.authenticate(ctx, scan, keys); err != nil {
		return nil, procedure.Usagef("--kit %s: refused, nothing was extracted: %v\nNothing was deployed. Use the kit CI built for the commit (or rebuild it: make dr-kit ENV=<env>).", q, err)
	}
	if err := os.MkdirAll(destRoot, 0o750); err != nil {
		return nil, fmt.Errorf("kit: %w", err)
	}
	tmp, err := runowner.TempDir(destRoot, extractPrefix)
	if err != nil {
		return nil, fmt.Errorf("kit: %w", err)
	}
	if err := extract(tarball, name, tmp, k.Manifest.Files); err != nil {
		_ = os.RemoveAll(tmp) // made above, by this call
		return nil, procedure.Usagef("--kit %s: refused (the tarball changed while it was read?): %v\nNothing was deployed.", q, err)
	}
	final, err := filepath.Abs(filepath.Join(destRoot, name))
	if err != nil {
		_ = os.RemoveAll(tmp)
		return nil, err
	}
	if err := replace(tmp, final); err != nil {
		_ = os.RemoveAll(tmp)
		return nil, err
	}
	k.Dir = final
	return k, nil
}

// scanned is what the first, read-only pass found.
type scanned struct {
	sha256              string
	files               map[string]string // rel -> sha256, manifest.json and signature.json included
	manifest, signature []byte
	total               int64
}

// scanKit reads the tarball without writing: entry rules, caps, hashes.
func scanKit(tarball, top string) (*scanned, error) {
	f, err := openTarball(tarball)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	whole := sha256.New()
	gz, err := gzip.NewReader(io.TeeReader(f, whole))
	if err != nil {
		return nil, fmt.Errorf("not a gzip file: %w", err)
	}
	s := &scanned{files: map[string]string{}}
	err = walkTar(gz, top, func(rel string, h *tar.Header, r io.Reader) error {
		if h.Size > limits.total-s.total {
			return fmt.Errorf("the files hold more than %s in total (the cap of a kit), reached at %s: refused before writing anything", safefile.Bytes(limits.total), termsafe.Escape(rel))
		}
		hash := sha256.New()
		var keep *bytes.Buffer
		w := io.Writer(hash)
		if rel == ManifestName || rel == SignatureName {
			if h.Size > maxKitSignedBytes {
				return fmt.Errorf("%s is %s: larger than the cap of %s", rel, safefile.Bytes(h.Size), safefile.Bytes(maxKitSignedBytes))
			}
			keep = &bytes.Buffer{}
			w = io.MultiWriter(hash, keep)
		}
		n, err := io.Copy(w, io.LimitReader(r, h.Size))
		if err != nil || n != h.Size {
			return fmt.Errorf("entry %s: short read: %v", termsafe.Quote(rel), err)
		}
		s.total += n
		s.files[rel] = hex.EncodeToString(hash.Sum(nil))
		switch rel {
		case ManifestName:
			s.manifest = keep.Bytes()
		case SignatureName:
			s.signature = keep.Bytes()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The rest of the file (tar padding, gzip trailer) counts in the tarball's SHA256.
	if _, err := io.Copy(io.Discard, io.LimitReader(f, limits.total)); err != nil {
		return nil, err
	}
	s.sha256 = hex.EncodeToString(whole.Sum(nil))
	return s, nil
}

// openTarball opens the operator's --kit path: a link there is followed (the operator named
// it), but what it points to must be a regular file (a FIFO or device is refused unread).
func openTarball(p string) (*os.File, error) {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return nil, err
	}
	f, _, err := safefile.OpenRegular(real)
	return f, err
}

// walkTar calls fn for every regular file under top/ (a directory entry is checked and
// skipped), enforcing the entry rules and the per-file and entry caps.
func walkTar(src io.Reader, top string, fn func(rel string, h *tar.Header, r io.Reader) error) error {
	tr := tar.NewReader(src)
	seen := map[string]bool{}
	for entries := 1; ; entries++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("corrupt tarball: %w", err)
		}
		if entries > limits.entries {
			return fmt.Errorf("more than %d entries (the cap of a kit)", limits.entries)
		}
		rel, err := entryPath(h.Name, top)
		if err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			continue
		case tar.TypeReg:
		default:
			return fmt.Errorf("entry %s is a link or special file (type %q): a kit holds regular files only", termsafe.Quote(h.Name), h.Typeflag)
		}
		if rel == "" {
			return fmt.Errorf("entry %s is a file where the kit's top directory belongs", termsafe.Quote(h.Name))
		}
		if seen[rel] {
			return fmt.Errorf("entry %s appears twice", termsafe.Quote(h.Name))
		}
		seen[rel] = true
		if h.Size < 0 || h.Size > limits.file {
			return fmt.Errorf("entry %s is %s: larger than the cap of %s for one file", termsafe.Quote(rel), safefile.Bytes(h.Size), safefile.Bytes(limits.file))
		}
		if err := fn(rel, h, tr); err != nil {
			return err
		}
	}
}

// entryPath is the path of an entry below top/, or an error when the name is absolute,
// climbs with "..", is not in its clean form, or is under another top directory.
func entryPath(name, top string) (string, error) {
	trimmed := strings.TrimSuffix(name, "/")
	if trimmed == "" || path.IsAbs(trimmed) || path.Clean(trimmed) != trimmed || strings.Contains(trimmed, "\\") || len(name) > 1024 {
		return "", fmt.Errorf("entry %s is outside the kit's directory %s/ (want a clean relative path under it)", termsafe.Quote(name), top)
	}
	for _, part := range strings.Split(trimmed, "/") {
		if part == ".." || part == "." {
			return "", fmt.Errorf("entry %s is outside the kit's directory %s/", termsafe.Quote(name), top)
		}
	}
	if trimmed == top {
		return "", nil
	}
	rel, ok := strings.CutPrefix(trimmed, top+"/")
	if !ok {
		return "", fmt.Errorf("entry %s is outside the kit's directory %s/", termsafe.Quote(name), top)
	}
	return rel, nil
}

// authenticate checks the signature against keys, then every file against the manifest.
func (k *Kit) authenticate(ctx context.Context, s *scanned, keys []evidence.TrustedKey) error {
	if s.manifest == nil {
		return fmt.Errorf("no %s in the kit", ManifestName)
	}
	if s.signature == nil {
		return fmt.Errorf("unsigned: the kit has no %s (kits are signed when built, since issue 23): nothing in it is trusted", SignatureName)
	}
	var sig evidence.Signature
	if err := json.Unmarshal(s.signature, &sig); err != nil || sig.Schema != SignatureSchema {
		return fmt.Errorf("%s is not a %s signature", SignatureName, SignatureSchema)
	}
	key, problem := evidence.CheckSignature(ctx, keys, sig, s.manifest)
	if problem != nil {
		return fmt.Errorf("%s: %s", problem.Kind, problem.Detail)
	}
	k.KeyID = key.Describe()
	dec := json.NewDecoder(bytes.NewReader(s.manifest))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&k.Manifest); err != nil {
		return fmt.Errorf("%s: %w", ManifestName, err)
	}
	if k.Manifest.Schema != Schema {
		return fmt.Errorf("%s: kitSchema %d, this drctl reads %d", ManifestName, k.Manifest.Schema, Schema)
	}
	if len(k.Manifest.Files) == 0 {
		return fmt.Errorf("%s lists no files", ManifestName)
	}
	var bad []string
	for _, rel := range sortedKeys(k.Manifest.Files) {
		want := k.Manifest.Files[rel]
		have, ok := s.files[rel]
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("%s: missing (the manifest lists it)", rel))
		case have != want:
			bad = append(bad, fmt.Sprintf("%s: SHA256 %s, the manifest says %s", rel, have, want))
		}
	}
	for _, rel := range sortedKeys(s.files) {
		if _, ok := k.Manifest.Files[rel]; !ok && rel != ManifestName && rel != SignatureName {
			bad = append(bad, fmt.Sprintf("%s: not in the manifest", rel))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%d file(s) differ from the manifest:\n  %s", len(bad), strings.Join(bad, "\n  "))
	}
	for _, st := range k.Manifest.Stacks {
		if _, ok := s.files[st.Assembly+"/manifest.json"]; !ok {
			return fmt.Errorf("stack %s: its assembly %s/ has no manifest.json", st.Stack, st.Assembly)
		}
	}
	return nil
}

// extract writes the kit's files into dir (fresh, made by Open), each re-hashed against the
// authenticated manifest as it is written: the tarball may have changed since the scan.
func extract(tarball, top, dir string, want map[string]string) error {
	f, err := openTarball(tarball)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	var total int64
	return walkTar(gz, top, func(rel string, h *tar.Header, r io.Reader) error {
		if h.Size > limits.total-total {
			return fmt.Errorf("over the total cap of %s", safefile.Bytes(limits.total))
		}
		target := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(target), 0o750); err != nil {
			return err
		}
		mode := os.FileMode(0o640)
		if h.Mode&0o111 != 0 {
			mode = 0o750
		}
		// O_EXCL|O_NOFOLLOW: dir is ours and fresh; nothing in it may be a link or exist.
		out, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY|syscallNoFollow, mode)
		if err != nil {
			return fmt.Errorf("entry %s: %w", termsafe.Quote(rel), err)
		}
		hash := sha256.New()
		n, cerr := io.Copy(io.MultiWriter(out, hash), io.LimitReader(r, h.Size))
		if err := errors.Join(cerr, out.Close()); err != nil {
			return fmt.Errorf("entry %s: %w", termsafe.Quote(rel), err)
		}
		total += n
		got := hex.EncodeToString(hash.Sum(nil))
		if w, listed := want[rel]; (listed && got != w) || (!listed && rel != ManifestName && rel != SignatureName) {
			return fmt.Errorf("%s differs from the authenticated manifest", termsafe.Quote(rel))
		}
		// The build's mtime: scripts/prereqs compares package*.json with its npm ci stamp.
		_ = os.Chtimes(target, h.ModTime, h.ModTime)
		return nil
	})
}

// replace moves the fresh extraction tmp to final. An earlier extraction at final is replaced
// only if it carries ExtractedMarker (drctl made it). A kit built before its runtime was
// carried (issue 26) had node_modules installed by the kit's npm ci: that moves into the new
// extraction when the new kit carries none, so npm ci runs once.
func replace(tmp, final string) error {
	if err := os.WriteFile(filepath.Join(tmp, ExtractedMarker), []byte("extracted by drctl activate --kit; replaced by the next extraction\n"), 0o640); err != nil {
		return fmt.Errorf("kit: %w", err)
	}
	if fi, err := os.Lstat(final); err == nil {
		if !fi.IsDir() || !fileExists(filepath.Join(final, ExtractedMarker)) {
			return procedure.Usagef("kit: %s exists and was not extracted by drctl: move it away (nothing was removed). Nothing was deployed.", termsafe.Quote(final))
		}
		// A kit that carries its node_modules (RuntimeMarker) brings its own: the earlier
		// extraction's goes with it.
		modules := filepath.Join(final, "node_modules")
		if fi, err := os.Lstat(modules); err == nil && fi.IsDir() && !fileExists(filepath.Join(tmp, filepath.FromSlash(RuntimeMarker))) {
			if err := os.Rename(modules, filepath.Join(tmp, "node_modules")); err != nil {
				return fmt.Errorf("kit: keep %s: %w", modules, err)
			}
		}
		if err := os.RemoveAll(final); err != nil {
			return fmt.Errorf("kit: clear the earlier extraction %s: %w", final, err)
		}
	}
	// The extraction is finished: it is no longer scratch a killed run could leave (a kill
	// between here and the rename leaves a name that carries this dead PID: still swept).
	if err := runowner.Unmark(tmp); err != nil {
		return fmt.Errorf("kit: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("kit: %w", err)
	}
	return nil
}

func fileExists(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.Mode().IsRegular()
}

// VerifyAssembly re-hashes one assembly directory of the kit against the manifest (after a
// deploy: what cdk read is still what the gate passed) and returns how many files it checked.
func (k *Kit) VerifyAssembly(s Stack) (int, error) {
	got, err := hashDir(filepath.Join(k.Dir, filepath.FromSlash(s.Assembly)), "")
	if err != nil {
		return 0, err
	}
	n := 0
	for rel, want := range k.Manifest.Files {
		sub, ok := strings.CutPrefix(rel, s.Assembly+"/")
		if !ok {
			continue
		}
		n++
		if got[sub] != want {
			return n, fmt.Errorf("%s changed after verification", rel)
		}
		delete(got, sub)
	}
	// A file the CLI added (it writes none today; a future one might add a log) changes
	// nothing that was deployed: Added reports it, the caller records it.
	return n, addedError(s.Assembly, got)
}

// AddedFiles is VerifyAssembly's report of files that appeared in an assembly whose listed
// files all still match: nothing deployed differs, but the evidence names them.
type AddedFiles struct{ Files []string }

func (a *AddedFiles) Error() string {
	return "appeared after verification (not in the manifest): " + strings.Join(a.Files, ", ")
}

func addedError(dir string, extra map[string]string) error {
	if len(extra) == 0 {
		return nil
	}
	a := &AddedFiles{}
	for sub := range extra {
		a.Files = append(a.Files, dir+"/"+sub)
	}
	sort.Strings(a.Files)
	return a
}

// Path is a kit-relative path made absolute.
func (k *Kit) Path(rel string) string { return filepath.Join(k.Dir, filepath.FromSlash(rel)) }

// Tool is the absolute path of a tool for this machine, or an error naming the platforms the
// kit has.
func (k *Kit) Tool(name string) (string, error) {
	p := k.Path(ToolPath(Host(), name))
	if _, ok := k.Manifest.Files[ToolPath(Host(), name)]; !ok {
		return "", procedure.Usagef("the kit has no %s for %s: it has %s", name, Host(), strings.Join(k.Manifest.Platforms, ", "))
	}
	return p, nil
}

// HashTree returns the SHA256 of every regular file under dir, keyed by slash-separated
// relative path, manifest.json at the top excluded. A symlink or special file is an error.
func HashTree(dir string) (map[string]string, error) { return hashDir(dir, ManifestName) }

// HashDir returns the SHA256 of every regular file under dir (nothing excluded), keyed like
// HashTree: an assembly directory as cdk reads it.
func HashDir(dir string) (map[string]string, error) { return hashDir(dir, "") }

// hashDir is HashTree with the top-level file skip excluded ("" excludes nothing).
func hashDir(dir, skip string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			return nil
		case !d.Type().IsRegular():
			return fmt.Errorf("%s is not a regular file", rel)
		case skip != "" && rel == skip:
			return nil
		}
		sum, err := fileSHA256(p)
		if err != nil {
			return err
		}
		out[rel] = sum
		return nil
	})
	return out, err
}

func fileSHA256(p string) (string, error) {
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

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
