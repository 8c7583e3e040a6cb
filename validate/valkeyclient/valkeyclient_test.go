package valkeyclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestSlot(t *testing.T) {
	tests := map[string]struct {
		key    string
		wanted uint16
	}{
		"the CRC16 test vector":               {key: "123456789", wanted: 0x31C3 % 16384},
		"a hash tag hashes only the tag":      {key: "a{123456789}b", wanted: 0x31C3 % 16384},
		"an empty hash tag hashes the key":    {key: "{}x", wanted: Slot("{}x")},
		"the documented example foo is 12182": {key: "foo", wanted: 12182},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Slot(tc.key); got != tc.wanted {
				t.Fatalf("Slot(%q) = %d, want %d", tc.key, got, tc.wanted)
			}
		})
	}
}

func TestHealable(t *testing.T) {
	tests := map[string]struct {
		err    error
		wanted bool
	}{
		"NXDOMAIN can heal (record not propagated)": {err: &net.DNSError{IsNotFound: true}, wanted: true},
		"connection refused can heal":               {err: fmt.Errorf("dial: %w", syscall.ECONNREFUSED), wanted: true},
		"connection reset can heal":                 {err: syscall.ECONNRESET, wanted: true},
		"EOF can heal":                              {err: io.EOF, wanted: true},
		"a deadline cannot heal":                    {err: context.DeadlineExceeded, wanted: false},
		"a plain error cannot heal":                 {err: errors.New("x"), wanted: false},
		"nil is not an error":                       {err: nil, wanted: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Healable(tc.err); got != tc.wanted {
				t.Fatalf("Healable(%v) = %v", tc.err, got)
			}
		})
	}
}

func TestRetryStopsAtTheDeadlineWithTheHealableError(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	n, err := Retry(ctx, func(context.Context) error { return syscall.ECONNREFUSED })
	if time.Since(start) > time.Second || n < 3 || !errors.Is(err, syscall.ECONNREFUSED) || !strings.Contains(err.Error(), "until the deadline") {
		t.Fatalf("attempts %d, err %v, took %v", n, err, time.Since(start))
	}
	n, err = Retry(context.Background(), func(context.Context) error { return errors.New("WRONGPASS-like") })
	if n != 1 || err == nil {
		t.Fatalf("a non-healable error was retried: %d %v", n, err)
	}
}

func TestClassify(t *testing.T) {
	tests := map[string]struct {
		err   error
		class string
		msg   string
	}{
		"refused":            {err: fmt.Errorf("dial: %w", syscall.ECONNREFUSED), class: ClassRefused, msg: "connection refused"},
		"deadline":           {err: context.DeadlineExceeded, class: ClassTimeout, msg: "no answer before the deadline"},
		"nxdomain":           {err: &net.DNSError{Name: "x.invalid", IsNotFound: true}, class: ClassDNS, msg: `"x.invalid" does not resolve`},
		"eof says maybe TLS": {err: io.EOF, class: ClassNetwork, msg: "closed the connection"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := Classify(tc.err, "op")
			if p.Class != tc.class || !strings.Contains(p.Msg, tc.msg) {
				t.Fatalf("Classify = %+v", p)
			}
		})
	}
}
