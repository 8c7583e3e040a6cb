package evidence

// This file records who ran a procedure and why (issue 13, runbook section 9): an auditor of a
// HIPAA-regulated DR asks first for the reason, the change ticket and the approver, and a
// typed stack name (CONFIRM=) is not an approval.

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"regexp"
	"strings"
	"time"
)

// Reasons a procedure may be run for.
const (
	ReasonIncident = "incident"
	ReasonTest     = "test"
	ReasonFailback = "failback"
	// ReasonDrill is the default outside production (and the only reason of `make drill`).
	ReasonDrill = "drill"
)

// Reasons are the values --reason accepts in production.
var Reasons = []string{ReasonIncident, ReasonTest, ReasonFailback}

// Approval is the operator's declaration: why, under which change, approved by whom.
type Approval struct {
	// Reason is one of Reasons (ReasonDrill outside production when not given).
	Reason string `json:"reason"`
	// Ticket is the change/incident ticket id.
	Ticket string `json:"ticket"`
	// Approver is the person who approved the change.
	Approver string `json:"approver"`
	// IncidentStart is when the incident began (UTC); zero when not given.
	IncidentStart time.Time `json:"incidentStart,omitzero"`
}

// Provenance is the who-and-why a bundle records (provenance.json and manifest.json).
type Provenance struct {
	Approval
	// Production says whether the environment is a production one.
	Production bool `json:"production"`
	// CallerArn and Account are the AWS caller identity from the preflight's
	// sts get-caller-identity ("" when the procedure did not reach it, or a drill).
	CallerArn string `json:"callerArn,omitempty"`
	Account   string `json:"account,omitempty"`
	// Host and User ran the command.
	Host string `json:"host"`
	User string `json:"user"`
}

// ticketPattern keeps a ticket id to one printable token (it lands in file names and tables).
var ticketPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,63}$`)

// ParseApproval checks the --reason, --ticket, --approver and --incident-start flags. In
// production all three of reason, ticket and approver are required; elsewhere a missing one
// defaults to "drill". Each error is one sentence naming the flag, the value and what is
// accepted; the procedure returns it as a usage error (exit 2) before anything runs.
func ParseApproval(production bool, env, reason, ticket, approver, incidentStart string) (Approval, error) {
	a := Approval{Reason: strings.TrimSpace(reason), Ticket: strings.TrimSpace(ticket), Approver: strings.TrimSpace(approver)}
	if !production {
		for _, p := range []*string{&a.Reason, &a.Ticket, &a.Approver} {
			if *p == "" {
				*p = ReasonDrill
			}
		}
	}
	// Every problem at once (issue 26): REASON, TICKET and APPROVER in one message.
	probs := ApprovalProblems(production, env, a.Reason, a.Ticket, a.Approver, incidentStart)
	if len(probs) == 1 {
		return a, errors.New(probs[0])
	}
	if len(probs) > 1 {
		return a, fmt.Errorf("%d problems:\n  - %s", len(probs), strings.Join(probs, "\n  - "))
	}
	if s := strings.TrimSpace(incidentStart); s != "" {
		t, _ := time.Parse(time.RFC3339, s)
		a.IncidentStart = t.UTC()
	}
	return a, nil
}

// ApprovalProblems are every problem of who and why (after the non-production defaults),
// one line each, naming the flag and the make variable.
func ApprovalProblems(production bool, env, reason, ticket, approver, incidentStart string) []string {
	where := fmt.Sprintf("environment %s is a production environment", env)
	var probs []string
	switch {
	case reason == "":
		probs = append(probs, fmt.Sprintf("--reason (REASON=) is required: %s; accepted values: %s", where, strings.Join(Reasons, ", ")))
	case !contains(Reasons, reason) && !(reason == ReasonDrill && !production):
		accepted := strings.Join(Reasons, ", ")
		if !production {
			accepted += ", " + ReasonDrill
		}
		probs = append(probs, fmt.Sprintf("--reason (REASON=) %q is not accepted: accepted values: %s", reason, accepted))
	}
	switch {
	case ticket == "":
		probs = append(probs, fmt.Sprintf("--ticket (TICKET=) is required: %s; give the change or incident ticket id, e.g. TICKET=CHG-1234", where))
	case !ticketPattern.MatchString(ticket):
		probs = append(probs, fmt.Sprintf("--ticket (TICKET=) %q is not a ticket id: accepted: 1-64 characters, letters, digits and . _ : / # - , e.g. CHG-1234", ticket))
	}
	switch {
	case approver == "":
		probs = append(probs, fmt.Sprintf("--approver (APPROVER=) is required: %s; give the name of the person who approved the change", where))
	case len(approver) > 128 || strings.ContainsAny(approver, "\n\r\t"):
		probs = append(probs, fmt.Sprintf("--approver (APPROVER=) %q is not a name: accepted: one line, at most 128 characters", approver))
	}
	if s := strings.TrimSpace(incidentStart); s != "" {
		if _, err := time.Parse(time.RFC3339, s); err != nil || !strings.HasSuffix(s, "Z") {
			probs = append(probs, fmt.Sprintf("--incident-start (INCIDENT_START=) %q is not an RFC 3339 UTC time: accepted: e.g. 2026-12-01T03:12:00Z", s))
		}
	}
	return probs
}

// LocalProvenance fills the host and user that run this process.
func LocalProvenance(a Approval, production bool) Provenance {
	p := Provenance{Approval: a, Production: production}
	p.Host, _ = os.Hostname()
	if u, err := user.Current(); err == nil {
		p.User = u.Username
	} else {
		p.User = os.Getenv("USER")
	}
	return p
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
