// Command matrix prints every environment x drMode of cdk.json, one "env mode" per line, so
// that CI and `make synth-matrix` synthesize exactly what cdk.json declares.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	drcontext "github.com/valkey-dr/valkey-dr/context"
)

func main() {
	path := "cdk.json"
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "matrix: %v\n", err)
		os.Exit(2)
	}
	var f struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		fmt.Fprintf(os.Stderr, "matrix: %s: %v\n", path, err)
		os.Exit(2)
	}
	targets, err := drcontext.Matrix(f.Context[drcontext.KeyEnvironments])
	if err != nil {
		fmt.Fprintf(os.Stderr, "matrix: %s: %v\n", path, err)
		os.Exit(2)
	}
	for _, t := range targets {
		fmt.Println(t.Environment, t.DrMode)
	}
}
