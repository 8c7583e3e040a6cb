package drcontext

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Unknown context keys (issue 11 item 1). The CDK ignores a context key nobody reads, so
// `--context drmode=stateless` (or Environment=, dr_mode=) used to synthesize the PRIMARY stack
// of the default drMode: a deploy with it would update the primary in the failed region. Every
// key the app receives is therefore either ours, the CDK's own, or refused.

// OurKeys are the context keys this app reads, in the order the docs list them.
var OurKeys = []string{KeyEnvironments, KeyEnvironment, KeyRegion, KeyDrMode, KeyHoldPrimaryRouting, KeyAllowSameRegionDrill, KeyStack, KeyMatrix}

// cdkKeyPrefixes are prefixes of keys the CDK itself sets or reads. Seen from the pinned CLI
// (2.1148.1: it hands the app its context as the JSON in CDK_CONTEXT_JSON, the part that does
// not fit in a file named by CONTEXT_OVERFLOW_LOCATION_ENV): aws:cdk:enable-path-metadata,
// aws:cdk:enable-asset-metadata, aws:cdk:version-reporting, aws:cdk:disable-version-reporting,
// aws:cdk:bundling-stacks. Feature flags in cdk.json are @aws-cdk/<module>:<flag> and
// @aws-cdk-containers/<module>:<flag>.
var cdkKeyPrefixes = []string{"aws:cdk:", "aws-cdk:", "@aws-cdk/", "@aws-cdk-containers/", "cdk-"}

// cdkKeys are whole keys the CDK CLI stores in cdk.context.json: acknowledged-issue-numbers
// is written by `cdk acknowledge <notice>`.
var cdkKeys = []string{"acknowledged-issue-numbers"}

// lookupKeyRE matches the context-provider cache keys the CLI writes to cdk.context.json, e.g.
// vpc-provider:account=111111111111:filter.vpc-id=vpc-1:region=us-east-1:returnAsymmetricSubnets=true
// or availability-zones:account=111111111111:region=us-east-1. The app does no lookups, but a
// cache entry left in cdk.context.json must not block a DR deploy.
// https://docs.aws.amazon.com/cdk/v2/guide/context.html
var lookupKeyRE = regexp.MustCompile(`^[a-z0-9-]+:account=`)

// cdkOwned reports whether a context key belongs to the CDK rather than to this app.
func cdkOwned(k string) bool {
	for _, p := range cdkKeyPrefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	for _, c := range cdkKeys {
		if k == c {
			return true
		}
	}
	return lookupKeyRE.MatchString(k)
}

// acceptedKeys is the Accepted part of an unknown-key problem.
func acceptedKeys() string {
	return strings.Join(OurKeys, ", ") + " (and the CDK's own aws:cdk:*, @aws-cdk/* feature flags, cdk-* and lookup cache keys)"
}

// UnknownKeys reports every key of received (all the context the app got: main.go passes
// app.Node().GetAllContext()) that is neither one of OurKeys nor the CDK's own. A near miss of
// one of our keys (case, "_" or "-", a letter or two) gets a "did you mean".
func UnknownKeys(received map[string]any) []Problem {
	var ps []Problem
	for _, k := range slices.Sorted(maps.Keys(received)) {
		if isOurKey(k) || cdkOwned(k) {
			continue
		}
		p := Problem{Key: k, Value: jsonValue(deref(received[k])), reason: "is not a context key of this app",
			Accepted: acceptedKeys()}
		if m := nearestKey(k); m != "" {
			p.Hint = fmt.Sprintf("did you mean %q? keys are case-sensitive, and a key the app does not read is ignored by the CDK: %s would silently take its default", m, m)
			if m == KeyDrMode {
				p.Hint += " and deploy the PRIMARY stack"
			}
		}
		ps = append(ps, p)
	}
	return ps
}

func isOurKey(k string) bool {
	for _, o := range OurKeys {
		if k == o {
			return true
		}
	}
	return false
}

// nearestKey is the key of ours that k most likely meant, or "": equal once case, "_" and
// "-" are ignored, or at most two edits away from one (for keys long enough that two edits
// still leave most of the word).
func nearestKey(k string) string {
	nk := normalizeKey(k)
	best, bestD := "", 3
	for _, o := range OurKeys {
		no := normalizeKey(o)
		if nk == no {
			return o
		}
		if len(no) < 6 {
			continue
		}
		if d := editDistance(nk, no); d < bestD {
			best, bestD = o, d
		}
	}
	return best
}

func normalizeKey(k string) string {
	return strings.ToLower(strings.NewReplacer("_", "", "-", "", " ", "", ".", "").Replace(k))
}

// editDistance is the Levenshtein distance (keys are short: the table is tiny).
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// explicitDrModeEnvironment is the one environment where drMode may be left out (it defaults
// to none): the example, which deploys nowhere real. Everywhere else a lost drMode is the
// worst typo there is (see drModeRequired).
const explicitDrModeEnvironment = DefaultEnvironment

// drModeRequired is the problem for an absent drMode outside the example environment. The CDK
// CLI drops `--context drMode` given without "=" (with only a notice), and a typo'd key is
// ignored: with a default, a DR deploy would silently become a deploy of the PRIMARY stack in
// the failed region.
func drModeRequired(envName string) Problem {
	return Problem{Key: KeyDrMode, reason: fmt.Sprintf("is not set: environment %q requires it", envName),
		Accepted: drModes(),
		Hint: "give " + drModeFlags() + " explicitly: the CDK CLI drops --context drMode without \"=\", " +
			"and a DR deploy whose drMode is lost must not silently become a deploy of the PRIMARY stack"}
}
