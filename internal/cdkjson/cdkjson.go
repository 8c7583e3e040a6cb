// Package cdkjson loads the validated Config of one environment + region + drMode from the
// repository's cdk.json, through the same context.Load the CDK app uses, so a procedure
// knows the stack name, account and cache name before it runs cdk (and refuses bad context
// before touching AWS).
package cdkjson

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/valkey-dr/valkey-dr/context"
)

// Request names the synth a procedure is about to run; values are what an operator would
// pass as --context flags.
type Request struct {
	// Environment is a key of cdk.json's environments; required.
	Environment string
	// Region is the deploy region; "" means the environment's default for the drMode.
	Region string
	// DrMode is none or stateless.
	DrMode drcontext.DrMode
	// HoldPrimaryRouting keeps the PRIMARY record out (failback).
	HoldPrimaryRouting bool
}

// Load reads repo/cdk.json and validates req against it. The error lists every problem
// (context.Load's *Error) or says why cdk.json could not be read.
func Load(repo string, req Request) (*drcontext.Config, error) {
	path := filepath.Join(repo, "cdk.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w (run from the repository root or pass --repo)", path, err)
	}
	var f struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	in := drcontext.Input{
		Environments: f.Context[drcontext.KeyEnvironments],
		Environment:  req.Environment,
		DrMode:       string(req.DrMode),
	}
	// Absent, not empty: context.Load treats an empty region as a mistake (an unset shell
	// variable), and so do we, but "" here means "use the default".
	if req.Region != "" {
		in.Region = req.Region
	}
	if req.HoldPrimaryRouting {
		in.HoldPrimaryRouting = "true"
	}
	return drcontext.Load(in)
}
