package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/validate/valkeyclient"
)

// interruptGrace bounds how long run, watch and probe may take to stop after the first
// SIGINT or SIGTERM: the checks and the traffic end at once, cleanup gets
// checks.CleanupGrace (watch.InterruptedCleanupTimeout), the evidence is written. Past it the
// process exits with contract.ExitInterrupted anyway (issue 23: deadlines a second signal
// cannot outlive); a second signal exits at once.
const interruptGrace = 5 * time.Second

// exitNow ends the process; a variable so that nothing in a test can end the test binary.
var exitNow = os.Exit

// signalContext returns a context that the first SIGINT or SIGTERM cancels with cause
// valkeyclient.ErrInterrupted ("interrupted by interrupt"), and a stop function for the
// command's end. After the first signal, the signals get their default disposition again, so a
// second one ends the process at once, and interruptGrace later the process exits whatever
// it was doing.
func signalContext(stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			// Stop restores the default disposition (no other Notify holds these signals).
			signal.Stop(sigs)
			fmt.Fprintf(stderr, "\n%s: %s received: stopping (at most %v; send it again to exit at once)\n", toolName, signalName(sig), interruptGrace)
			cancel(fmt.Errorf("%w by %v", valkeyclient.ErrInterrupted, signalName(sig)))
			t := time.NewTimer(interruptGrace)
			defer t.Stop()
			select {
			case <-t.C:
				fmt.Fprintf(stderr, "%s: still stopping %v after the signal: exiting now without evidence\n", toolName, interruptGrace)
				exitNow(contract.ExitInterrupted)
			case <-done:
			}
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

// signalName is the signal as operators know it (SIGINT, not "interrupt").
func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}

// signalContext is d.signals, or the process's signal handling when unset.
func (d deps) signalContext(stderr io.Writer) (context.Context, func()) {
	if d.signals != nil {
		return d.signals(stderr)
	}
	return signalContext(stderr)
}
