package dr

import (
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"
	"unicode"
)

// Who and what started a run, for the evidence (runbook section 9: the approval trail). A CI
// pipeline (.github/workflows/dr.yml) passes them as environment variables; at a terminal they
// are usually absent and the metadata says so. (Issue 13 adds --approver/--reason/--ticket
// flags: when both exist, a flag wins over its variable.)
const (
	EnvApprover    = "DRCTL_APPROVER"     // who approved the run (GitHub environment reviewer)
	EnvRunURL      = "DRCTL_RUN_URL"      // the pipeline run, https://...
	EnvReason      = "DRCTL_REASON"       // why (free text, one line)
	EnvTicket      = "DRCTL_TICKET"       // the change/incident ticket
	EnvRequestedBy = "DRCTL_REQUESTED_BY" // who started the pipeline run
)

// runKeys maps each variable to its metadata key.
var runKeys = map[string]string{EnvApprover: "approver", EnvRunURL: "runUrl", EnvReason: "reason", EnvTicket: "ticket", EnvRequestedBy: "requestedBy"}

// maxRunValue bounds one value (a reason is a sentence, not a document).
const maxRunValue = 500

// RunContextFromEnv reads the DRCTL_* run variables (lookup is os.LookupEnv in drctl). A value
// that is not one printable line, is longer than 500 characters or (the run URL) is not an
// https URL is a usage error naming the variable.
func RunContextFromEnv(lookup func(string) (string, bool)) (map[string]string, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	out := map[string]string{}
	names := make([]string, 0, len(runKeys))
	for n := range runKeys {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v, ok := lookup(n)
		v = strings.TrimSpace(v)
		if !ok || v == "" {
			continue
		}
		if len(v) > maxRunValue || strings.IndexFunc(v, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
			return nil, fmt.Errorf("%s: want one printable line of at most %d characters", n, maxRunValue)
		}
		if n == EnvRunURL {
			u, err := url.Parse(v)
			if err != nil || u.Scheme != "https" || u.Host == "" {
				return nil, fmt.Errorf("%s %q: want an https URL (e.g. $GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID)", n, v)
			}
		}
		out[runKeys[n]] = v
	}
	return out, nil
}
