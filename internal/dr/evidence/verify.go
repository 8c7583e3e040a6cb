package evidence

// This file is `drctl verify`: it checks a bundle (directory or .tar.gz, read by read.go
// under its caps) against its signed manifest, the manifest against a key the verifier
// already trusts (trust.go), and names exactly what differs.

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
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
	UntrustedKey   FindingKind = "untrusted-key"   // signed, but not by a key the verifier trusts
	Unverifiable   FindingKind = "unverifiable"    // the trusted key could not be asked (KMS unreachable)
	Refused        FindingKind = "refused"         // the bundle's shape is hostile (a link, a cap exceeded)
	Damaged        FindingKind = "damaged"         // the .tar.gz does not decompress intact
)

// Verdict values a bundle records (metadata.json, manifest.json).
const (
	VerdictPass        = "pass"
	VerdictFail        = "fail"
	VerdictInterrupted = "interrupted"
	// VerdictUnknown is printed for a bundle that records none (sealed before issue 23 and
	// without a readable metadata.json).
	VerdictUnknown = "unknown"
)

// Finding is one difference.
type Finding struct {
	Kind   FindingKind `json:"kind"`
	Path   string      `json:"path,omitempty"`
	Detail string      `json:"detail"`
}

// String reads "edited: validation/summary.md: ...". It holds bundle-controlled text:
// print it through termsafe.Escape.
func (f Finding) String() string {
	if f.Path == "" {
		return fmt.Sprintf("%s: %s", f.Kind, f.Detail)
	}
	return fmt.Sprintf("%s: %s: %s", f.Kind, f.Path, f.Detail)
}

// VerifyOptions say which keys are trusted.
type VerifyOptions struct {
	// Keys are the keys the verifier already holds (trust.go). Empty trusts nothing: the
	// bundle is then reported untrusted, with how to give a key.
	Keys []TrustedKey
}

// VerifyReport is the outcome.
type VerifyReport struct {
	Bundle    string `json:"bundle"`
	Files     int    `json:"files"`
	Algorithm string `json:"algorithm,omitempty"`
	// KeyID is the trusted key that verified (never the id signature.json claims).
	KeyID string `json:"keyId,omitempty"`
	Trust string `json:"trust"`
	// Kind and Verdict are what the signed manifest (or, for an older bundle, the signed
	// metadata.json) records: meaningful only when OK.
	Kind    string `json:"kind,omitempty"`
	Verdict string `json:"verdict,omitempty"`
	// NotKMSSigned is the signed manifest's "not KMS-signed: <reason>": the procedure's KMS
	// key could not sign and the local key sealed the bundle (meaningful only when OK).
	NotKMSSigned string    `json:"notKmsSigned,omitempty"`
	Findings     []Finding `json:"findings"`
	Manifest     *Manifest `json:"-"`
}

// OK reports whether the bundle is intact and signed by a trusted key.
func (r *VerifyReport) OK() bool { return len(r.Findings) == 0 }

// RefusedReport is the report of a bundle the reader refused (read.go).
func RefusedReport(name string, err *RefusedError) *VerifyReport {
	kind := Refused
	if err.Damaged {
		kind = Damaged
	}
	return &VerifyReport{Bundle: name, Trust: "not established", Findings: []Finding{{Kind: kind, Detail: err.Reason}}}
}

// Verify checks c's files against manifest.json and manifest.json's signature against the
// trusted keys.
func Verify(ctx context.Context, c *Contents, o VerifyOptions) *VerifyReport {
	r := &VerifyReport{Bundle: c.Name, Trust: "not established"}
	add := func(k FindingKind, p, format string, args ...any) {
		r.Findings = append(r.Findings, Finding{Kind: k, Path: p, Detail: fmt.Sprintf(format, args...)})
	}
	mdata, ok := c.Data(FileManifestJSON)
	if !ok {
		if _, present := c.Files[FileManifestJSON]; present {
			add(Unsigned, FileManifestJSON, "larger than %d bytes: not a manifest this verifier reads", maxKeptBytes)
			return r
		}
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
		d, ok := c.Files[f.Path]
		if !ok {
			add(Removed, f.Path, "listed in %s (%d bytes) but not in the bundle", FileManifestJSON, f.Size)
			continue
		}
		if d.SHA256 != f.SHA256 || d.Size != f.Size {
			add(Edited, f.Path, "sha256 %s (%d bytes), the manifest says %s (%d bytes)", short(d.SHA256), d.Size, short(f.SHA256), f.Size)
		}
	}
	var extra []string
	for p := range c.Files {
		if _, ok := listed[p]; !ok && p != FileManifestJSON && p != FileSignature {
			extra = append(extra, p)
		}
	}
	sort.Strings(extra)
	for _, p := range extra {
		add(Added, p, "in the bundle (%d bytes) but not listed in %s", c.Files[p].Size, FileManifestJSON)
	}
	filesMatch := len(r.Findings) == 0

	// The manifest against its signature.
	sdata, ok := c.Data(FileSignature)
	if !ok {
		add(Unsigned, FileSignature, "missing: nothing proves %s was not rewritten", FileManifestJSON)
		return r
	}
	var sig Signature
	if err := json.Unmarshal(sdata, &sig); err != nil || sig.Schema != SignatureSchema {
		add(Unsigned, FileSignature, "not a %s signature", SignatureSchema)
		return r
	}
	r.Algorithm = sig.Algorithm
	msum := c.Files[FileManifestJSON].SHA256
	if msum != sig.ManifestSHA256 {
		why := "it was changed after signing"
		if filesMatch {
			why = "the file hashes it lists match the files, so the manifest was re-hashed after an edit without being re-signed"
		}
		add(ManifestEdited, FileManifestJSON, "sha256 %s, but %s signed %s: %s", short(msum), FileSignature, short(sig.ManifestSHA256), why)
	}
	k, problem := CheckSignature(ctx, o.Keys, sig, mdata)
	if problem != nil {
		add(problem.Kind, FileSignature, "%s", problem.Detail)
		return r
	}
	r.KeyID = k.ID
	r.Trust = "signed by trusted key " + k.Describe()
	if r.OK() {
		r.Kind, r.Verdict, r.NotKMSSigned = m.Kind, m.Verdict, m.NotKMSSigned
		if r.Verdict == "" {
			r.Verdict = metadataVerdict(c)
		}
	}
	return r
}

// metadataVerdict is the verdict of a bundle sealed before manifest.json carried it: its
// metadata.json, which the manifest lists (so it is signed once the files match).
func metadataVerdict(c *Contents) string {
	data, ok := c.Data(FileMetadata)
	if !ok {
		return VerdictUnknown
	}
	var meta struct {
		Verdict string `json:"verdict"`
	}
	if json.Unmarshal(data, &meta) != nil || meta.Verdict == "" {
		return VerdictUnknown
	}
	return meta.Verdict
}

func short(hex string) string {
	if len(hex) > 16 {
		return hex[:16] + "…"
	}
	return hex
}
