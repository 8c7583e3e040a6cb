package drexec

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// Fake is a Runner for seam tests: it records every command and answers from a script. It
// never starts a process.
type Fake struct {
	// Script is consulted in order; the first Step whose Match is a substring of the
	// command line answers. A command no Step matches fails the run with an error naming
	// it, so a test sees every unexpected command.
	Script []Step

	mu    sync.Mutex
	calls []Cmd
}

// Step is one scripted answer.
type Step struct {
	// Match is a substring of Cmd.String().
	Match string
	// Result is returned as is (ExitCode, Stdout, Stderr).
	Result Result
	// Err is returned as the run error (e.g. ErrNotFound wrapped).
	Err error
	// Do runs before answering, for side effects a real command would have (writing the
	// outputs file of cdk deploy); its error replaces Err.
	Do func(Cmd) error
}

var _ Runner = (*Fake)(nil)

// Run records c and answers from the script; output goes to c.Stdout/Stderr like Exec.
func (f *Fake) Run(ctx context.Context, c Cmd) (Result, error) {
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	line := c.String()
	for _, s := range f.Script {
		if !strings.Contains(line, s.Match) {
			continue
		}
		err := s.Err
		if s.Do != nil {
			if derr := s.Do(c); derr != nil {
				err = derr
			}
		}
		if c.Stdout != nil {
			_, _ = c.Stdout.Write(s.Result.Stdout)
		}
		if c.Stderr != nil {
			_, _ = c.Stderr.Write(s.Result.Stderr)
		}
		return s.Result, err
	}
	return Result{ExitCode: -1}, fmt.Errorf("drexec.Fake: unexpected command: %s", line)
}

// Calls returns the command lines run so far, in order.
func (f *Fake) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.calls))
	for i, c := range f.calls {
		out[i] = c.String()
	}
	return out
}

// Cmds returns the commands run so far, in order (with Env, Dir and Unset).
func (f *Fake) Cmds() []Cmd {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Cmd(nil), f.calls...)
}
