package dr

// The canary preflight (issue 11, item 5): routing is never released to a cache whose health
// canary has not yet published Success 1. Without a NAT gateway or the VPC endpoints
// (createVpcEndpoints in cdk.json) the canary publishes nothing, missing data breaches, and
// the PRIMARY health check would fail a healthy primary over minutes after the release.

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
)

// Canary preflight bounds: the canary runs every minute; CloudWatch shows a data point a
// minute or two after it is published.
const (
	canaryPoll     = 30 * time.Second
	canaryWait     = 6 * time.Minute
	canaryLookback = 15 * time.Minute
)

// canaryRecord is canary-preflight.json.
type canaryRecord struct {
	Region    string    `json:"region"`
	CacheName string    `json:"cacheName"`
	Function  string    `json:"function,omitempty"`
	Polls     int       `json:"polls"`
	Values    []float64 `json:"values,omitempty"`
	Verdict   string    `json:"verdict"`
}

// canaryPreflight waits, bounded, for one Success 1 of the cache's canary in region.
func canaryPreflight(ctx context.Context, s *procedure.Run, d Deps, region, cacheName string, outputs map[string]string) error {
	rec := canaryRecord{Region: region, CacheName: cacheName, Function: outputs[contract.KeyCanaryFunctionName]}
	write := func(verdict string) {
		rec.Verdict = verdict
		_ = s.Bundle.WriteJSON(evidence.FileCanaryPreflight, rec)
	}
	if rec.Function == "" {
		write("refused: no canary")
		return procedure.Failf("routing NOT released: the stack has no health canary (no %s output), so its PRIMARY health check would read missing data and fail over", contract.KeyCanaryFunctionName)
	}
	cw, err := d.AWS.CloudWatch(ctx, region)
	if err != nil {
		write("refused: " + err.Error())
		return procedure.Failf("routing NOT released: AWS configuration for %s: %v", region, err)
	}
	last := "no data point yet"
	for i, n := 0, int(canaryWait/canaryPoll); ; i++ {
		rec.Polls++
		vals, err := canarySuccess(ctx, cw, cacheName, d.Now())
		switch {
		case err != nil:
			last = "GetMetricData: " + awsHint(err, "docs/iam/route.json")
		case len(vals) > 0:
			rec.Values = vals
			for _, v := range vals {
				if v >= 1 {
					write("pass")
					s.Printf("    canary %s: Success 1 published (%d data point(s) in the last %s)", rec.Function, len(vals), canaryLookback)
					return nil
				}
			}
			last = fmt.Sprintf("%d data point(s), all Success 0", len(vals))
		}
		if i >= n {
			break
		}
		s.Printf("    %s: canary %s: %s; waiting (%s of at most %s)", stamp(d.Now()), rec.Function, last, canaryPoll*time.Duration(i+1), canaryWait)
		if err := d.AWS.Sleep(ctx, canaryPoll); err != nil {
			write("interrupted")
			return err
		}
	}
	write("refused: " + last)
	if len(rec.Values) > 0 {
		return procedure.Failf("routing NOT released: the canary %s in %s publishes Success 0 (%s): it reaches CloudWatch but its checks fail: read its log group, fix, re-run", rec.Function, region, last)
	}
	return procedure.Failf("routing NOT released: the canary %s has not published Success for %s in %s within %s (%s). Likely cause: its subnets reach neither CloudWatch nor Secrets Manager (no NAT gateway and no VPC endpoints): set createVpcEndpoints for %s in cdk.json and redeploy, or give the subnets a NAT gateway; its log group says more",
		rec.Function, cacheName, region, canaryWait, last, region)
}

// canarySuccess reads the canary's Success data points (Maximum per minute) of the lookback.
func canarySuccess(ctx context.Context, cw CloudWatchAPI, cacheName string, now time.Time) ([]float64, error) {
	gctx, cancel := context.WithTimeout(ctx, awsCallTimeout)
	defer cancel()
	out, err := cw.GetMetricData(gctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(now.Add(-canaryLookback)), EndTime: aws.Time(now),
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("success"), MetricStat: &cwtypes.MetricStat{Period: aws.Int32(60), Stat: aws.String("Maximum"),
			Metric: &cwtypes.Metric{Namespace: aws.String(contract.CanaryNamespace), MetricName: aws.String(contract.MetricSuccess),
				Dimensions: []cwtypes.Dimension{{Name: aws.String(contract.CanaryDimension), Value: aws.String(cacheName)}}}}}}})
	if err != nil {
		return nil, err
	}
	var vals []float64
	for _, r := range out.MetricDataResults {
		vals = append(vals, r.Values...)
	}
	return vals, nil
}

// RouteMode is one value of activate's --route.
type RouteMode struct {
	// Name is the flag value.
	Name string
	// Force requests failover (drctl route --to dr) once validation passed.
	Force bool
	// Meaning is what it does.
	Meaning string
}

// Route modes of activate.
const (
	RouteAuto  = "auto"
	RouteForce = "force"
)

// RouteModes are the accepted values of --route.
var RouteModes = []RouteMode{
	{Name: RouteAuto, Meaning: "leave it to the health checks: Route 53 answers with the DR record only while the PRIMARY health check fails"},
	{Name: RouteForce, Force: true, Meaning: "request failover after validation passed (the forced-failover switch): the DR record answers even with the primary healthy"},
}

// RouteModeNames lists RouteModes' names.
func RouteModeNames() []string {
	var n []string
	for _, m := range RouteModes {
		n = append(n, m.Name)
	}
	return n
}

func routeMode(name string) (RouteMode, error) {
	if name == "" {
		name = RouteAuto
	}
	for _, m := range RouteModes {
		if m.Name == name {
			return m, nil
		}
	}
	return RouteMode{}, procedure.Usagef("--route %q (ROUTE=): want auto or force: auto leaves routing to the health checks, force requests failover after validation", name)
}

// validateVia is where the validator runs: through the canary (Function set) or here.
type validateVia struct {
	Function, Region string
}

// viaFor decides where the validator runs: through the stack's canary whenever the outputs
// name one (a serverless endpoint is reachable only inside its VPC), here with --local.
func viaFor(j *job, outputs map[string]string, region string) validateVia {
	if j.local || outputs[contract.KeyCanaryFunctionName] == "" {
		return validateVia{}
	}
	return validateVia{Function: outputs[contract.KeyCanaryFunctionName], Region: region}
}

// forceFailover is activate's routing step after validation passed: nothing with --route=auto
// (the health checks decide); with --route=force the canary preflight on the DR cache, then
// the failover request (route --to dr).
func forceFailover(ctx context.Context, s *procedure.Run, d Deps, mode RouteMode, cfg *drcontext.Config, out map[string]string, primary *drcontext.Config, primaryErr error, opt routeOptions) error {
	if !mode.Force {
		s.Printf("\n    routing: --route=%s: %s (make dr-route ENV=%s TO=dr forces it)", mode.Name, mode.Meaning, cfg.EnvironmentName)
		return nil
	}
	if primaryErr != nil {
		return procedure.Failf("--route=force: the primary's configuration is needed to find the switch: %v", primaryErr)
	}
	err := s.Phase(ctx, "canary preflight", procedure.RunbookPrepare, func() (string, error) {
		return "Success 1 seen", canaryPreflight(ctx, s, d, cfg.Region, cfg.CacheName(), out)
	})
	if err != nil {
		return err
	}
	tgt, err := routeTarget("dr")
	if err != nil {
		return err
	}
	return routeToWith(ctx, s, d, primary, tgt, opt)
}

// clearFailover is failback's last step, AFTER the release deploy: while a forced failover is
// requested, the released PRIMARY record stays out of service (its calculated health check
// includes the switch), so the release deploy moves no traffic by itself and clearing the
// request is the one moment of cutover, after the canary preflight. Clearing first would let
// the release deploy move traffic on its own, and a failed release would leave the DR cache
// serving with no request standing. Publishing 0 when nothing was requested changes nothing.
func clearFailover(ctx context.Context, s *procedure.Run, d Deps, release *drcontext.Config, opt routeOptions) error {
	tgt, err := routeTarget("primary")
	if err != nil {
		return err
	}
	if err := routeToWith(ctx, s, d, release, tgt, opt); err != nil {
		return procedure.Failf("the PRIMARY record is released, but the failover request is not cleared (%v): run `make dr-route ENV=%s TO=primary`; until then the DR cache keeps serving", err, release.EnvironmentName)
	}
	return nil
}
