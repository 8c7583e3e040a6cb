// Package evidence is everything a DR procedure's evidence bundle is made of and checked
// with: the bundle and its sealing (bundle.go), the file names (layout.go) and the generated
// index (index.go), the signed manifest with the local Ed25519 signer (sign.go) and the KMS
// signer (kms.go), who ran it and why (provenance.go), the tool versions (versions.go), reading
// and verifying a sealed bundle against trusted keys (read.go, verify.go, trust.go), and the
// upload to the write-once evidence bucket (archive.go). docs/evidence.md is its guide.
//
// It knows nothing of phases, exit codes or usage errors: those are the procedure's
// (internal/dr/procedure), which imports this package and returns its errors with an exit code.
package evidence
