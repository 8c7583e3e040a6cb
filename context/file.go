package drcontext

// LoadFile gives the DR procedures and the compliance gate the validated Config of one
// environment + region + drMode from the repository's cdk.json, through the same Load the CDK
// app uses, so a procedure knows the stack name, account and cache name before it runs cdk (and
// refuses bad context before touching AWS).

import (
	"encoding/json"
	"fmt"
	"os"
)

// Request names the synth a procedure is about to run; values are what an operator would
// pass as --context flags.
type Request struct {
	// Environment is a key of cdk.json's environments; required.
	Environment string
	// Region is the deploy region; "" means the environment's default for the drMode.
	Region string
	// DrMode is a row of the drMode table; "" with DRPosture is the environment's drPosture.
	DrMode DrMode
	// DRPosture takes the drMode from the environment's drPosture (Environment.Posture): what
	// the DR procedures act on.
	DRPosture bool
	// HoldPrimaryRouting keeps the PRIMARY record out (failback).
	HoldPrimaryRouting bool
}

// FileName is the CDK app's configuration file at the repository root.
const FileName = "cdk.json"

// ReadFile reads the "context" object of a cdk.json.
func ReadFile(path string) (map[string]any, error) {
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
	return f.Context, nil
}

// LoadFile reads a cdk.json (path, normally filepath.Join(repo, FileName)) and validates req
// against it. The error lists every problem (Load's *Error) or says why the file could not be
// read. A caller that needs more than one Config of a run reads the file once (OpenFile) and
// selects each from it.
func LoadFile(path string, req Request) (*Config, error) {
	f, err := OpenFile(path)
	if err != nil {
		return nil, err
	}
	return f.Select(req)
}

// File is a cdk.json read once: the context every Config of a run is selected from.
type File struct {
	// Path is where it was read.
	Path    string
	context map[string]any
}

// OpenFile reads the cdk.json at path (ReadFile's errors).
func OpenFile(path string) (*File, error) {
	ctx, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	return &File{Path: path, context: ctx}, nil
}

// Select validates req against the file: the Config of one stack, or every problem (Load's
// *Error).
func (f *File) Select(req Request) (*Config, error) {
	in := Input{
		Environments: f.context[KeyEnvironments],
		Environment:  req.Environment,
		DRPosture:    req.DRPosture,
	}
	if req.DrMode != "" || !req.DRPosture {
		in.DrMode = string(req.DrMode)
	}
	// Absent, not empty: context.Load treats an empty region as a mistake (an unset shell
	// variable), and so do we, but "" here means "use the default".
	if req.Region != "" {
		in.Region = req.Region
	}
	if req.HoldPrimaryRouting {
		in.HoldPrimaryRouting = true
	}
	return Load(in)
}
