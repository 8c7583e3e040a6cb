package target

// This file reads the files the validator's flags name (--outputs, --password-file,
// --ca-file) under a cap each: a flag pointed at an endless file (/dev/zero, a log still
// growing, a mistyped device) is refused by size with a message naming the flag and the
// cap, instead of reading until memory runs out (issue 23, docs/evidence.md "Bounds").

import (
	"errors"
	"fmt"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/safefile"
	"github.com/valkey-dr/valkey-dr/internal/termsafe"
)

// Caps of the flag files. Each is far above what the file holds in practice.
const (
	// MaxOutputsFileBytes caps --outputs (a `cdk deploy --outputs-file` is a few KB).
	MaxOutputsFileBytes = 4 << 20
	// MaxPasswordFileBytes caps --password-file (an ElastiCache password is at most 128 bytes).
	MaxPasswordFileBytes = 4 << 10
	// MaxCAFileBytes caps --ca-file (a full system CA bundle is ~200 KB).
	MaxCAFileBytes = 4 << 20
)

// ReadFlagFile reads the file of flag (without its dashes) under max bytes. A file over the
// cap is an error naming the flag, the path (escaped) and the cap; other errors wrap the
// reason.
func ReadFlagFile(flag, path string, max int64) ([]byte, error) {
	data, err := safefile.ReadLimited(path, max)
	var tl *safefile.TooLargeError
	switch {
	case errors.As(err, &tl) && tl.Size >= 0:
		return nil, fmt.Errorf("--%s %s: the file is %s, over the cap of %s for this flag: is it the right file?", flag, termsafe.Quote(path), safefile.Bytes(tl.Size), safefile.Bytes(max))
	case errors.As(err, &tl):
		return nil, fmt.Errorf("--%s %s: more than %s (the cap for this flag) and still going: an endless input (a device, a pipe, a growing file) is refused", flag, termsafe.Quote(path), safefile.Bytes(max))
	case err != nil:
		return nil, fmt.Errorf("--%s %s: %w", flag, termsafe.Quote(path), err)
	}
	return data, nil
}

// LoadOutputs is contract.LoadStack with --outputs read under MaxOutputsFileBytes; every
// error starts with "--outputs".
func LoadOutputs(path, stack string) (string, map[string]string, error) {
	data, err := ReadFlagFile("outputs", path, MaxOutputsFileBytes)
	if err != nil {
		return "", nil, err
	}
	name, out, err := contract.Parse(path, data, stack)
	if err != nil {
		return "", nil, fmt.Errorf("--outputs: %w", err)
	}
	return name, out, nil
}
