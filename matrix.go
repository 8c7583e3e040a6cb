package main

import "github.com/valkey-dr/valkey-dr/context"

// configs is the Config of each stack set the app builds: one for an ordinary synth, one per
// environment x drMode when --context matrix=all|<environment> is given (make check, the
// drill, dr-activate's "routing before": one process and one `cdk synth` for many stacks).
func configs(in drcontext.Input, matrix any) ([]*drcontext.Config, error) {
	if matrix != nil {
		return drcontext.LoadMatrix(in, matrix)
	}
	cfg, err := drcontext.Load(in)
	if err != nil {
		return nil, err
	}
	return []*drcontext.Config{cfg}, nil
}
