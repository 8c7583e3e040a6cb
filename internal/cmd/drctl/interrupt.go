package main

// This file bounds `drctl verify` and `drctl archive` after a signal (issue 23, must-have 3):
// the first SIGINT/SIGTERM stops the bundle's reading within one buffer and the command ends
// "interrupted" with the interrupted status, never VERIFIED; a read stuck in the kernel ends
// verifyGrace later; a second signal ends the process at once (main restores the default
// disposition after the first).

import (
	"context"
	"fmt"
	"github.com/valkey-dr/valkey-dr/contract"
	"io"
	"os"
	"time"

	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
	"github.com/valkey-dr/valkey-dr/internal/termsafe"
)

// readBundle is evidence.ReadBundleContext; a test replaces it with a reader that ignores ctx.
var readBundle = evidence.ReadBundleContext

// interrupted is the outcome of a verify or archive a signal stopped: exit 130 (128+signal
// from main), "interrupted", never VERIFIED nor a finding.
func interrupted(path string) error {
	return &procedure.Error{Code: contract.ExitInterrupted,
		Msg: fmt.Sprintf("interrupted (SIGINT/SIGTERM): %s was NOT verified; run it again", termsafe.Quote(path))}
}

// verifyGrace bounds how long verify and archive may take to stop after the first SIGINT or
// SIGTERM (the reader stops within a buffer; this is for a read stuck in the kernel). Past it
// the process exits with the interrupted status; a second signal ends it at once (main
// restores the default disposition after the first).
var verifyGrace = 5 * time.Second

// exitNow ends the process; a variable so that a test does not end the test binary.
var exitNow = os.Exit

// boundAfterInterrupt exits the process verifyGrace after ctx ends, unless the returned stop
// is called first.
func boundAfterInterrupt(ctx context.Context, stderr io.Writer) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		select {
		case <-done:
			return
		case <-ctx.Done():
		}
		t := time.NewTimer(verifyGrace)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			fmt.Fprintf(stderr, "drctl: still reading the bundle %v after the signal: exiting now, NOT verified\n", verifyGrace)
			exitNow(contract.ExitInterrupted)
		}
	}()
	return func() { close(done); <-finished }
}
