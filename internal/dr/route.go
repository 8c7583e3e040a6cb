package dr

// drctl route (runbook step 3, DESIGN.md 4 "Forced failover through the data plane"): publish
// FailoverRequested 1 (route to the DR region) or 0 (release to the primary) in the DR region,
// read the switch alarm back there, and report what Route 53 says of the PRIMARY record's
// health checks. Only CloudWatch in the DR region is needed: Route 53's answers come from its
// data plane, which reads the alarm everywhere. Its control plane (us-east-1, where
// GetHealthCheckStatus answers) is asked best effort, and the primary region (where the
// health-check ids are found) may be the one that is down.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/smithy-go"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/dr/exec"
	"github.com/valkey-dr/valkey-dr/internal/dr/session"
)

// CloudWatchAPI is the CloudWatch calls of route and the canary preflight; the SDK client
// satisfies it.
type CloudWatchAPI interface {
	PutMetricData(ctx context.Context, in *cloudwatch.PutMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error)
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

// Route53API is the one Route 53 call of route; the SDK client satisfies it.
type Route53API interface {
	GetHealthCheckStatus(ctx context.Context, in *route53.GetHealthCheckStatusInput, optFns ...func(*route53.Options)) (*route53.GetHealthCheckStatusOutput, error)
}

var (
	_ CloudWatchAPI = (*cloudwatch.Client)(nil)
	_ Route53API    = (*route53.Client)(nil)
)

// AWS is the SDK side of the outside world (the CLI side is Deps.Runner); tests replace it.
type AWS struct {
	// CloudWatch returns a client for one region.
	CloudWatch func(ctx context.Context, region string) (CloudWatchAPI, error)
	// Route53 returns a client of Route 53's global endpoint (us-east-1).
	Route53 func(ctx context.Context) (Route53API, error)
	// Sleep waits between polls; it returns early with ctx's error.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (a *AWS) defaults() {
	if a.CloudWatch == nil {
		a.CloudWatch = func(ctx context.Context, region string) (CloudWatchAPI, error) {
			cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
			if err != nil {
				return nil, err
			}
			return cloudwatch.NewFromConfig(cfg), nil
		}
	}
	if a.Route53 == nil {
		a.Route53 = func(ctx context.Context) (Route53API, error) {
			cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"))
			if err != nil {
				return nil, err
			}
			return route53.NewFromConfig(cfg), nil
		}
	}
	if a.Sleep == nil {
		a.Sleep = func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
				return nil
			}
		}
	}
}

// RouteTarget is one value of `route --to`: what is published and what the switch alarm
// must then say.
type RouteTarget struct {
	// Name is the flag value.
	Name string
	// Value is the FailoverRequested data point.
	Value float64
	// AlarmState is the switch alarm's state once the value is evaluated.
	AlarmState cwtypes.StateValue
	// Meaning is what it does, for the terminal and the evidence.
	Meaning string
}

// RouteTargets are the accepted values of --to, in the order the help lists them.
var RouteTargets = []RouteTarget{
	{Name: "dr", Value: contract.FailoverValueRequested, AlarmState: cwtypes.StateValueAlarm,
		Meaning: "failover requested: the PRIMARY record's calculated health check turns unhealthy and Route 53 answers the service name with the DR (SECONDARY) record"},
	{Name: "primary", Value: contract.FailoverValueCleared, AlarmState: cwtypes.StateValueOk,
		Meaning: "request cleared: the PRIMARY record answers again as soon as the canary says the primary cache is healthy"},
}

// Route waits: the switch alarm evaluates one-minute periods; Route 53 health checkers read
// the alarm state about every 30 s.
const (
	routePoll        = 15 * time.Second
	routeAlarmWait   = 4 * time.Minute
	routeRoute53Wait = 2 * time.Minute
	awsCallTimeout   = 20 * time.Second
)

func routeTarget(name string) (RouteTarget, error) {
	var names []string
	for _, t := range RouteTargets {
		if t.Name == name {
			return t, nil
		}
		names = append(names, t.Name)
	}
	return RouteTarget{}, session.Usagef("--to %q (TO=): want %s: dr requests failover to the DR region, primary clears the request", name, strings.Join(names, " or "))
}

// switchState is the switch alarm and the health checks at one moment (route-before.json and
// route-after.json).
type switchState struct {
	At           string        `json:"at"`
	Alarm        string        `json:"alarm"`
	Region       string        `json:"region"`
	AlarmState   string        `json:"alarmState,omitempty"`
	AlarmReason  string        `json:"alarmReason,omitempty"`
	AlarmUpdated string        `json:"alarmUpdated,omitempty"`
	AlarmError   string        `json:"alarmError,omitempty"`
	HealthChecks []healthCheck `json:"healthChecks,omitempty"`
	Route53Note  string        `json:"route53Note,omitempty"`
}

// healthCheck is what Route 53's health checkers report of one health check.
type healthCheck struct {
	LogicalID string `json:"logicalId"`
	ID        string `json:"id"`
	// Healthy and Unhealthy count the checkers' reports; Reports are their status lines.
	Healthy   int      `json:"healthy"`
	Unhealthy int      `json:"unhealthy"`
	Reports   []string `json:"reports,omitempty"`
	Error     string   `json:"error,omitempty"`
}

// Route publishes the routing request and records the switch before and after.
func Route(ctx context.Context, o Options, d Deps) (*Result, error) {
	d.defaults()
	if err := o.defaults(); err != nil {
		return nil, err
	}
	tgt, err := routeTarget(o.To)
	if err != nil {
		return nil, err
	}
	primary, err := load(o, "", drcontext.PrimaryMode().Name, false)
	if err != nil {
		return nil, err
	}
	// Who and why, and the evidence signer, as for every procedure that changes routing.
	signer, prov, err := evidenceSetup(ctx, o, d, primary)
	if err != nil {
		return nil, err
	}
	s, err := start("route", fmt.Sprintf("Routing: %s to %s (switch %s in %s)", primary.EnvironmentName, tgt.Name, primary.FailoverAlarmName(), primary.SwitchRegion()),
		o, d, primary, map[string]any{"to": tgt.Name, "value": tgt.Value, "switchRegion": primary.SwitchRegion(), "switchAlarm": primary.FailoverAlarmName()}, signer, prov)
	if err != nil {
		return nil, err
	}
	s.Printf("valkey-dr route: environment %s, --to %s: publish %s/%s=%v (%s=%s) in %s", primary.EnvironmentName, tgt.Name,
		contract.RoutingNamespace, contract.MetricFailoverRequested, tgt.Value, contract.RoutingDimension, primary.EnvironmentName, primary.SwitchRegion())
	runErr := routeTo(ctx, s, d, primary, tgt)
	sealed, serr := s.Finish(ctx, runErr, "Runbook step 3 (routing): the forced-failover switch (DESIGN.md section 4). Route 53's data plane reads the switch alarm; no change was made in the primary region or in Route 53's control plane.")
	archiveSealed(ctx, s, o, d, primary, sealed)
	return &Result{Evidence: sealed, Session: s}, errors.Join(runErr, serr)
}

// routeTo is the procedure on an open session; activate --route=force and failback use it too.
func routeTo(ctx context.Context, s *session.Session, d Deps, primary *drcontext.Config, tgt RouteTarget) error {
	region, alarm := primary.SwitchRegion(), primary.FailoverAlarmName()
	cw, err := d.AWS.CloudWatch(ctx, region)
	if err != nil {
		return session.Failf("AWS configuration for %s: %v", region, err)
	}
	var ids []healthCheck
	var idsNote string
	var before switchState
	err = s.Phase(ctx, "switch before", session.RunbookPrepare, func() (string, error) {
		ids, idsNote = healthCheckIDs(ctx, s, primary)
		before = readSwitch(ctx, s, d, cw, region, alarm, ids, idsNote)
		if err := s.Bundle.WriteJSON(session.FileRouteBefore, before); err != nil {
			return "", err
		}
		if before.AlarmError != "" {
			return "", session.Failf("cannot read the switch alarm %s in %s: %s", alarm, region, before.AlarmError)
		}
		return "alarm " + before.AlarmState, nil
	})
	if err != nil {
		s.NotRun("the switch could not be read", session.PlannedPhase{Name: "publish " + tgt.Name, Estimate: session.RunbookRouting})
		return err
	}
	err = s.Phase(ctx, "publish "+tgt.Name, session.RunbookRouting, func() (string, error) {
		pctx, cancel := context.WithTimeout(ctx, awsCallTimeout)
		defer cancel()
		_, err := cw.PutMetricData(pctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String(contract.RoutingNamespace),
			MetricData: []cwtypes.MetricDatum{{MetricName: aws.String(contract.MetricFailoverRequested), Value: aws.Float64(tgt.Value),
				Unit: cwtypes.StandardUnitNone, Timestamp: aws.Time(d.Now().UTC()),
				Dimensions: []cwtypes.Dimension{{Name: aws.String(contract.RoutingDimension), Value: aws.String(primary.EnvironmentName)}}}}})
		if err != nil {
			return "", session.Failf("publish %s=%v in %s: %s", contract.MetricFailoverRequested, tgt.Value, region, awsHint(err, "docs/iam/route.json"))
		}
		s.Printf("    published %v: %s", tgt.Value, tgt.Meaning)
		// Wait for the alarm: it evaluates one-minute periods.
		state, err := waitAlarm(ctx, s, d, cw, alarm, tgt.AlarmState)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("alarm %s is %s", alarm, state), nil
	})
	after := readSwitch(ctx, s, d, cw, region, alarm, ids, idsNote)
	if len(ids) > 0 {
		after = waitHealthChecks(ctx, s, d, after, tgt, func() switchState { return readSwitch(ctx, s, d, cw, region, alarm, ids, idsNote) })
	}
	if werr := s.Bundle.WriteJSON(session.FileRouteAfter, after); werr != nil && err == nil {
		err = werr
	}
	return err
}

// waitAlarm polls the switch alarm until it is in want, bounded by routeAlarmWait.
func waitAlarm(ctx context.Context, s *session.Session, d Deps, cw CloudWatchAPI, alarm string, want cwtypes.StateValue) (string, error) {
	last := ""
	for i, n := 0, int(routeAlarmWait/routePoll); i <= n; i++ {
		st, _, _, err := describeAlarm(ctx, cw, alarm)
		switch {
		case err != nil:
			last = "unreadable: " + err.Error()
		case st == string(want):
			return st, nil
		default:
			last = st
		}
		if i == n {
			break
		}
		s.Printf("    %s: alarm %s, waiting for %s (%s of at most %s)", stamp(d.Now()), last, want, routePoll*time.Duration(i+1), routeAlarmWait)
		if err := d.AWS.Sleep(ctx, routePoll); err != nil {
			return "", err
		}
	}
	return "", session.Failf("published, but the switch alarm %s is still %s after %s (want %s): check it in the CloudWatch console of the DR region; the value stays published", alarm, last, routeAlarmWait, want)
}

// stamp is session.Stamp, short for the progress lines.
func stamp(t time.Time) string { return session.Stamp(t) }

func describeAlarm(ctx context.Context, cw CloudWatchAPI, alarm string) (state, reason, updated string, err error) {
	actx, cancel := context.WithTimeout(ctx, awsCallTimeout)
	defer cancel()
	out, err := cw.DescribeAlarms(actx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{alarm}})
	if err != nil {
		return "", "", "", errors.New(awsHint(err, "docs/iam/route.json"))
	}
	if len(out.MetricAlarms) == 0 {
		return "", "", "", fmt.Errorf("no alarm %s: is the switch stack deployed (it is deployed with the primary stack)?", alarm)
	}
	a := out.MetricAlarms[0]
	if a.StateUpdatedTimestamp != nil {
		updated = session.Stamp(*a.StateUpdatedTimestamp)
	}
	return string(a.StateValue), aws.ToString(a.StateReason), updated, nil
}

// readSwitch reads the alarm and, best effort, the health checks.
func readSwitch(ctx context.Context, s *session.Session, d Deps, cw CloudWatchAPI, region, alarm string, ids []healthCheck, idsNote string) switchState {
	st := switchState{At: session.Stamp(d.Now()), Alarm: alarm, Region: region, Route53Note: idsNote}
	var err error
	st.AlarmState, st.AlarmReason, st.AlarmUpdated, err = describeAlarm(ctx, cw, alarm)
	if err != nil {
		st.AlarmError = err.Error()
	}
	s.Printf("    switch alarm %s in %s: %s", alarm, region, orText(st.AlarmState, st.AlarmError))
	if len(ids) == 0 {
		return st
	}
	r53, err := d.AWS.Route53(ctx)
	if err != nil {
		st.Route53Note = "Route 53 not asked: " + err.Error()
		return st
	}
	for _, h := range ids {
		hctx, cancel := context.WithTimeout(ctx, awsCallTimeout)
		out, err := r53.GetHealthCheckStatus(hctx, &route53.GetHealthCheckStatusInput{HealthCheckId: aws.String(h.ID)})
		cancel()
		if err != nil {
			h.Error = awsHint(err, "docs/iam/route.json")
			st.Route53Note = "Route 53's control plane (us-east-1) did not answer; the switch works through its data plane regardless: resolve the service name from inside the VPC to see where it points"
		} else {
			for _, ob := range out.HealthCheckObservations {
				if ob.StatusReport == nil {
					continue
				}
				line := aws.ToString(ob.StatusReport.Status)
				if strings.HasPrefix(line, "Success") {
					h.Healthy++
				} else {
					h.Unhealthy++
				}
				h.Reports = append(h.Reports, string(ob.Region)+": "+line)
			}
		}
		st.HealthChecks = append(st.HealthChecks, h)
		s.Printf("    health check %s (%s): %s", h.LogicalID, h.ID, orText(fmt.Sprintf("%d checker(s) healthy, %d unhealthy", h.Healthy, h.Unhealthy), h.Error))
	}
	if st.Route53Note != "" {
		s.Printf("    NOTE: %s", st.Route53Note)
	}
	return st
}

// waitHealthChecks polls Route 53 until the override health check agrees with the request,
// bounded and best effort: a Route 53 that does not answer ends the wait, not the procedure.
func waitHealthChecks(ctx context.Context, s *session.Session, d Deps, st switchState, tgt RouteTarget, read func() switchState) switchState {
	agrees := func(st switchState) (bool, bool) {
		for _, h := range st.HealthChecks {
			if h.Error != "" {
				return false, false
			}
			if h.LogicalID == overrideHealthCheck {
				// Failover requested: the override check is unhealthy by design.
				wantHealthy := tgt.AlarmState != cwtypes.StateValueAlarm
				return (h.Healthy > h.Unhealthy) == wantHealthy, true
			}
		}
		return false, false
	}
	for i, n := 0, int(routeRoute53Wait/routePoll); ; i++ {
		ok, answered := agrees(st)
		if ok || !answered || i >= n {
			if answered && !ok {
				st.Route53Note = fmt.Sprintf("after %s Route 53's checkers do not yet agree with the request; they read the alarm about every 30 s: look again in a minute", routeRoute53Wait)
				s.Printf("    NOTE: %s", st.Route53Note)
			}
			return st
		}
		s.Printf("    %s: waiting for Route 53's checkers to see the switch (%s of at most %s)", stamp(d.Now()), routePoll*time.Duration(i+1), routeRoute53Wait)
		if d.AWS.Sleep(ctx, routePoll) != nil {
			return st
		}
		st = read()
	}
}

// The health checks of the PRIMARY record (constructs/dns): their logical ids in the primary
// stack. The calculated check is listed for the record, but GetHealthCheckStatus does not
// answer for a calculated check (Route 53 API reference), so its children are what is asked.
const (
	canaryHealthCheck     = "PrimaryHealthCheck"
	overrideHealthCheck   = "FailoverOverrideHealthCheck"
	calculatedHealthCheck = "PrimaryCalculatedHealthCheck"
)

// healthCheckIDs finds the health-check ids in the primary stack (list-stack-resources in the
// primary region). The primary region may be down: then the ids are unknown, said so, and the
// route goes on (the switch lives in the DR region).
func healthCheckIDs(ctx context.Context, s *session.Session, primary *drcontext.Config) ([]healthCheck, string) {
	lctx, cancel := context.WithTimeout(ctx, describeTimeout)
	defer cancel()
	res, err := s.Runner().Run(lctx, listStackResources(primary.StackID(), primary.Region))
	if err == nil && res.ExitCode != 0 {
		err = fmt.Errorf("exit %d: %s", res.ExitCode, firstLine(res.Stderr))
	}
	if err != nil {
		note := fmt.Sprintf("health checks not asked: the primary stack %s in %s could not be listed (%v); the switch does not need it", primary.StackID(), primary.Region, err)
		s.Printf("    NOTE: %s", note)
		return nil, note
	}
	var out struct {
		StackResourceSummaries []struct {
			LogicalResourceID  string `json:"LogicalResourceId"`
			PhysicalResourceID string `json:"PhysicalResourceId"`
			ResourceType       string `json:"ResourceType"`
		} `json:"StackResourceSummaries"`
	}
	if err := json.Unmarshal(res.Stdout, &out); err != nil {
		return nil, "health checks not asked: list-stack-resources: unexpected output"
	}
	var ids []healthCheck
	for _, want := range []string{canaryHealthCheck, overrideHealthCheck} {
		for _, r := range out.StackResourceSummaries {
			// CDK logical ids carry the construct path and a hash: match the construct's id.
			if r.ResourceType == "AWS::Route53::HealthCheck" && strings.Contains(r.LogicalResourceID, want) && r.PhysicalResourceID != "" {
				ids = append(ids, healthCheck{LogicalID: want, ID: r.PhysicalResourceID})
				break
			}
		}
	}
	if len(ids) == 0 {
		return nil, "health checks not asked: the primary stack has no Route 53 health checks (no hosted zone configured, or routing held)"
	}
	return ids, ""
}

// listStackResources is `aws cloudformation list-stack-resources` (docs/iam/route.json).
func listStackResources(stack, region string) drexec.Cmd {
	return drexec.Cmd{Name: "aws", Args: []string{"cloudformation", "list-stack-resources", "--stack-name", stack, "--region", region, "--output", "json"}, Timeout: drexec.TimeoutAWS}
}

// awsHint turns an SDK error into one line, naming the policy to attach on AccessDenied.
func awsHint(err error, policy string) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		code := api.ErrorCode()
		if strings.Contains(code, "AccessDenied") || code == "UnauthorizedOperation" {
			return fmt.Sprintf("%s: %s: attach %s to your role", code, api.ErrorMessage(), policy)
		}
		return code + ": " + api.ErrorMessage()
	}
	return firstLine([]byte(err.Error()))
}

func orText(ok, failed string) string {
	if failed != "" {
		return failed
	}
	return ok
}
