package main

import "github.com/valkey-dr/valkey-dr/context"

// configs is the Config of each stack set the app builds: one for an ordinary synth, one per
// environment x drMode when --context matrix=all|<environment> is given (make check, the
// drill, dr-activate's "routing before": one process and one `cdk synth` for many stacks).
// A matrix synth also builds each environment's evidence archive (the gate checks every stack
// of cdk.json in one synth).
func configs(in drcontext.Input, matrix any) (*drcontext.MatrixConfigs, error) {
	if matrix != nil {
		return drcontext.LoadMatrix(in, matrix)
	}
	cfg, err := drcontext.Load(in)
	if err != nil {
		return nil, err
	}
	if in.ModeFree { // --context stack=evidence
		return &drcontext.MatrixConfigs{Evidence: []*drcontext.Config{cfg}}, nil
	}
	return &drcontext.MatrixConfigs{Cells: []*drcontext.Config{cfg}}, nil
}
