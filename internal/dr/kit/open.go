package drkit

import (
	"archive/tar"
	"compress/gzip"
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
	"sort"
	"strings"

	"github.com/valkey-dr/valkey-dr/internal/dr/session"
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
}

// maxFile bounds one extracted file (the largest, a validate binary, is ~20 MB): a corrupt or
// hostile tarball must not fill the disk.
const maxFile = 512 << 20

// Open extracts tarball into a fresh directory under destRoot (named like the tarball) and
// verifies it against its manifest: every listed file present with its SHA256, nothing
// unlisted, no links, no path leaving the directory. Any difference is a refusal (exit 2)
// naming the file; the extracted copy is then removed, so nothing unverified is left to run.
func Open(tarball, destRoot string) (*Kit, error) {
	name := strings.TrimSuffix(filepath.Base(tarball), ".tar.gz")
	if name == filepath.Base(tarball) || name == "" {
		return nil, session.Usagef("--kit %q: want a kit tarball (valkey-dr-kit-<env>-<commit>.tar.gz, from make dr-kit)", tarball)
	}
	sum, err := fileSHA256(tarball)
	if err != nil {
		return nil, session.Usagef("--kit %q: %v", tarball, err)
	}
	abs, err := filepath.Abs(filepath.Join(destRoot, name))
	if err != nil {
		return nil, err
	}
	// node_modules (the pinned CDK CLI, installed by the kit's `npm ci` on first use) is not
	// part of the kit: it is kept aside across a re-extraction so npm ci runs once per kit.
	modules, kept := filepath.Join(abs, "node_modules"), abs+".node_modules"
	_ = os.RemoveAll(kept)
	if err := os.Rename(modules, kept); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("kit: keep %s: %w", modules, err)
	}
	if err := os.RemoveAll(abs); err != nil {
		return nil, fmt.Errorf("kit: clear %s: %w", abs, err)
	}
	k := &Kit{Tarball: tarball, TarballSHA256: sum, Dir: abs}
	if err := extract(tarball, name, abs); err != nil {
		_ = os.RemoveAll(abs)
		return nil, session.Usagef("--kit %s: refused, not extracted: %v", tarball, err)
	}
	if err := k.verify(); err != nil {
		_ = os.RemoveAll(abs)
		return nil, session.Usagef("--kit %s: refused: %v\nNothing was deployed. Use the kit CI built for the commit (or rebuild it: make dr-kit ENV=<env>).", tarball, err)
	}
	if err := os.Rename(kept, modules); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("kit: restore %s: %w", modules, err)
	}
	return k, nil
}

// extract unpacks regular files and directories under top/ into dir.
func extract(tarball, top, dir string) error {
	f, err := os.Open(tarball)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("not a gzip file: %w", err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("corrupt tarball: %w", err)
		}
		clean := path.Clean(h.Name)
		if clean == top && h.Typeflag == tar.TypeDir {
			continue
		}
		rel, ok := strings.CutPrefix(clean, top+"/")
		if !ok || path.IsAbs(clean) || rel == ".." || strings.HasPrefix(rel, "../") || strings.Contains(rel, "/../") {
			return fmt.Errorf("entry %q is outside the kit's directory %s/", h.Name, top)
		}
		target := filepath.Join(dir, filepath.FromSlash(rel))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o750); err != nil {
				return err
			}
		case tar.TypeReg:
			if h.Size > maxFile {
				return fmt.Errorf("entry %q is %d bytes: larger than any file a kit holds", rel, h.Size)
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o750); err != nil {
				return err
			}
			mode := os.FileMode(0o640)
			if h.Mode&0o111 != 0 {
				mode = 0o750
			}
			out, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
			if err != nil {
				return fmt.Errorf("entry %q: %w", rel, err)
			}
			_, cerr := io.Copy(out, io.LimitReader(tr, maxFile))
			if err := errors.Join(cerr, out.Close()); err != nil {
				return fmt.Errorf("entry %q: %w", rel, err)
			}
			// The build's mtime: scripts/prereqs compares package*.json with its npm ci stamp.
			_ = os.Chtimes(target, h.ModTime, h.ModTime)
		default:
			return fmt.Errorf("entry %q is a link or special file (type %q): a kit holds regular files only", rel, h.Typeflag)
		}
	}
}

// verify checks the extracted tree against the manifest.
func (k *Kit) verify() error {
	b, err := os.ReadFile(filepath.Join(k.Dir, ManifestName))
	if err != nil {
		return fmt.Errorf("no %s in the kit: %w", ManifestName, err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
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
	got, err := HashTree(k.Dir)
	if err != nil {
		return err
	}
	var bad []string
	for _, rel := range sortedKeys(k.Manifest.Files) {
		want := k.Manifest.Files[rel]
		have, ok := got[rel]
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("%s: missing (the manifest lists it)", rel))
		case have != want:
			bad = append(bad, fmt.Sprintf("%s: SHA256 %s, the manifest says %s", rel, have, want))
		}
	}
	for _, rel := range sortedKeys(got) {
		if _, ok := k.Manifest.Files[rel]; !ok {
			bad = append(bad, fmt.Sprintf("%s: not in the manifest", rel))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%d file(s) differ from the manifest:\n  %s", len(bad), strings.Join(bad, "\n  "))
	}
	for _, s := range k.Manifest.Stacks {
		if _, ok := got[s.Assembly+"/manifest.json"]; !ok {
			return fmt.Errorf("stack %s: its assembly %s/ has no manifest.json", s.Stack, s.Assembly)
		}
	}
	return nil
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
		return "", session.Usagef("the kit has no %s for %s: it has %s", name, Host(), strings.Join(k.Manifest.Platforms, ", "))
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
