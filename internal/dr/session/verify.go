package session

// This file is `drctl verify`: it checks a bundle (directory or .tar.gz) against its signed
// manifest and names exactly what differs.

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// FindingKind classifies what verification found.
type FindingKind string

// The kinds of finding.
const (
	Edited         FindingKind = "edited"          // a listed file's content differs
	Added          FindingKind = "added"           // a file the manifest does not list
	Removed        FindingKind = "removed"         // a listed file is missing
	ManifestEdited FindingKind = "manifest-edited" // manifest.json is not what was signed
	BadSignature   FindingKind = "bad-signature"   // the signature does not verify
	Unsigned       FindingKind = "unsigned"        // manifest.json or signature.json missing/unreadable
	UntrustedKey   FindingKind = "untrusted-key"   // signed, but not by a key the caller trusts
)

// Finding is one difference.
type Finding struct {
	Kind   FindingKind `json:"kind"`
	Path   string      `json:"path,omitempty"`
	Detail string      `json:"detail"`
}

// String reads "edited: validation/summary.md: ...".
func (f Finding) String() string {
	if f.Path == "" {
		return fmt.Sprintf("%s: %s", f.Kind, f.Detail)
	}
	return fmt.Sprintf("%s: %s: %s", f.Kind, f.Path, f.Detail)
}

// VerifyOptions say which keys are trusted and how to reach KMS.
type VerifyOptions struct {
	// TrustedKeys are key ids (KMS ARNs, "ed25519:SHA256:..."); empty trusts the key the
	// bundle records, and the report says so.
	TrustedKeys []string
	// Verifiers verify an algorithm the bundle's public key cannot check offline (KMS).
	Verifiers map[string]Verifier
}

// VerifyReport is the outcome.
type VerifyReport struct {
	Bundle    string    `json:"bundle"`
	Files     int       `json:"files"`
	Algorithm string    `json:"algorithm,omitempty"`
	KeyID     string    `json:"keyId,omitempty"`
	Trust     string    `json:"trust"`
	Findings  []Finding `json:"findings"`
	Manifest  *Manifest `json:"-"`
}

// OK reports whether the bundle is intact and signed by a trusted key.
func (r *VerifyReport) OK() bool { return len(r.Findings) == 0 }

// ReadBundle reads a bundle directory, or a .tar.gz made by Seal, into bundle-relative
// path -> content.
func ReadBundle(path string) (name string, files map[string][]byte, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", nil, err
	}
	if !fi.IsDir() {
		raw, err := ReadTarball(path)
		if err != nil {
			return "", nil, fmt.Errorf("%s: not a bundle tarball: %w", path, err)
		}
		files = map[string][]byte{}
		for p, data := range raw {
			top, rel, ok := strings.Cut(p, "/")
			if !ok || (name != "" && top != name) {
				return "", nil, fmt.Errorf("%s: %q is outside the bundle's one top directory", path, p)
			}
			name = top
			files[rel] = data
		}
		return name, files, nil
	}
	files = map[string][]byte{}
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(path, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = data
		return nil
	})
	return filepath.Base(path), files, err
}

// Verify checks files against manifest.json and manifest.json against signature.json.
func Verify(ctx context.Context, name string, files map[string][]byte, o VerifyOptions) *VerifyReport {
	r := &VerifyReport{Bundle: name, Trust: "not established"}
	add := func(k FindingKind, p, format string, args ...any) {
		r.Findings = append(r.Findings, Finding{Kind: k, Path: p, Detail: fmt.Sprintf(format, args...)})
	}
	mdata, ok := files[FileManifestJSON]
	if !ok {
		add(Unsigned, FileManifestJSON, "missing: the bundle has no signed manifest (removed, or sealed without signing)")
		return r
	}
	var m Manifest
	if err := json.Unmarshal(mdata, &m); err != nil || m.Schema != ManifestSchema {
		add(Unsigned, FileManifestJSON, "not a %s manifest", ManifestSchema)
		return r
	}
	r.Manifest = &m
	r.Files = len(m.Files)

	// Every file against the manifest.
	listed := map[string]ManifestFile{}
	for _, f := range m.Files {
		listed[f.Path] = f
		data, ok := files[f.Path]
		if !ok {
			add(Removed, f.Path, "listed in %s (%d bytes) but not in the bundle", FileManifestJSON, f.Size)
			continue
		}
		sum := fmt.Sprintf("%x", sha256.Sum256(data))
		if sum != f.SHA256 || int64(len(data)) != f.Size {
			add(Edited, f.Path, "sha256 %s (%d bytes), the manifest says %s (%d bytes)", short(sum), len(data), short(f.SHA256), f.Size)
		}
	}
	var extra []string
	for p := range files {
		if _, ok := listed[p]; !ok && p != FileManifestJSON && p != FileSignature {
			extra = append(extra, p)
		}
	}
	sort.Strings(extra)
	for _, p := range extra {
		add(Added, p, "in the bundle (%d bytes) but not listed in %s", len(files[p]), FileManifestJSON)
	}
	filesMatch := len(r.Findings) == 0

	// The manifest against its signature.
	sdata, ok := files[FileSignature]
	if !ok {
		add(Unsigned, FileSignature, "missing: nothing proves %s was not rewritten", FileManifestJSON)
		return r
	}
	var sig Signature
	if err := json.Unmarshal(sdata, &sig); err != nil || sig.Schema != SignatureSchema {
		add(Unsigned, FileSignature, "not a %s signature", SignatureSchema)
		return r
	}
	r.Algorithm, r.KeyID = sig.Algorithm, sig.KeyID
	msum := fmt.Sprintf("%x", sha256.Sum256(mdata))
	if msum != sig.ManifestSHA256 {
		why := "it was changed after signing"
		if filesMatch {
			why = "the file hashes it lists match the files, so the manifest was re-hashed after an edit without being re-signed"
		}
		add(ManifestEdited, FileManifestJSON, "sha256 %s, but %s signed %s: %s", short(msum), FileSignature, short(sig.ManifestSHA256), why)
	}
	var err error
	if sig.PublicKey != "" {
		err = verifyOffline(sig, mdata)
	} else if v := o.Verifiers[sig.Algorithm]; v != nil {
		err = v.Verify(ctx, sig, mdata)
	} else {
		err = fmt.Errorf("no public key recorded and no verifier for %s (a KMS signature needs kms:Verify: run with AWS credentials)", sig.Algorithm)
	}
	if err != nil {
		add(BadSignature, FileSignature, "%v (key %s)", err, sig.KeyID)
		return r
	}
	switch {
	case len(o.TrustedKeys) == 0:
		r.Trust = "the signature is valid for the key recorded in the bundle (" + sig.KeyID + "); compare it with the key printed when the bundle was sealed, or pass --trusted-key"
	case contains(o.TrustedKeys, sig.KeyID):
		r.Trust = "signed by trusted key " + sig.KeyID
	default:
		add(UntrustedKey, FileSignature, "signed by %s, which is not among the trusted keys (%s)", sig.KeyID, strings.Join(o.TrustedKeys, ", "))
	}
	return r
}

func short(hex string) string {
	if len(hex) > 16 {
		return hex[:16] + "…"
	}
	return hex
}
