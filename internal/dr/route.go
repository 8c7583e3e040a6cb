package dr

// drctl route (runbook step 3, docs/design.md "Forced failover"): the forced switch lives in
// the data stream Route 53 reads. Route 53 evaluates the override health check on the switch
// alarm's DATA POINTS with the alarm's metric, statistic, period and threshold only, never on
// the alarm's state, and with no data it answers InsufficientDataHealthStatus
// (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html).
// So `--to dr` creates an EventBridge Scheduler schedule in the DR region that publishes
// FailoverRequested=1 every minute for as long as the request holds (the switch stack's
// heartbeat publishes 0 beside it; the alarm takes the Maximum), and `--to primary` deletes
// it. The schedule is in no template, so no CloudFormation deploy can reset it.
//
// Every call goes to the DR region's regional endpoints (STS, EventBridge Scheduler,
// CloudWatch). Route 53's control plane (us-east-1, where ListHealthChecks and
// GetHealthCheckStatus answer) is asked best effort and never fails the switch: Route 53's
// answers come from its data plane.
//
// The verdict comes from the schedule (GetSchedule) and the data stream (GetMetricData), not
// from the alarm state alone, and route keeps checking a few alarm periods after the switch
// (best effort): zero observations are "unknown", never "agrees".

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
)

// ShiftPrediction is the model's time to shift traffic (internal/route53model): from the
// request to clients resolving the other record, through the TTL, best and worst case.
type ShiftPrediction struct {
	Best, Worst time.Duration
	// Basis says what the model read (templates, rules).
	Basis string
}

// PredictFunc predicts the time to shift for the environment of cfg and the route target
// ("dr" or "primary"). Deps.Predict; nil predicts nothing.
type PredictFunc func(ctx context.Context, cfg *drcontext.Config, to string) (ShiftPrediction, error)

// RouteTarget is one value of `route --to`: what the request schedule does and what the data
// stream, the switch alarm and the override health check must then say.
type RouteTarget struct {
	// Name is the flag value.
	Name string
	// Value is the FailoverRequested value the data stream must then show.
	Value float64
	// AlarmState is the switch alarm's state once the value is evaluated (read back, but the
	// verdict comes from the schedule and the data stream).
	AlarmState cwtypes.StateValue
	// Meaning is what it does, for the terminal and the evidence.
	Meaning string
	// Record is the record Route 53 answers the service name with afterwards.
	Record string
}

// RouteTargets are the accepted values of --to, in the order the help lists them.
var RouteTargets = []RouteTarget{
	{Name: "dr", Value: contract.FailoverValueRequested, AlarmState: cwtypes.StateValueAlarm, Record: "DR (SECONDARY)",
		Meaning: "failover requested: the request schedule publishes 1 every minute, the PRIMARY record's calculated health check turns unhealthy and Route 53 answers the service name with the DR (SECONDARY) record until the request is cleared"},
	{Name: "primary", Value: contract.FailoverValueCleared, AlarmState: cwtypes.StateValueOk, Record: "PRIMARY",
		Meaning: "request cleared: the request schedule is deleted, the heartbeat's 0 remains, and the PRIMARY record answers again as soon as the canary says the primary cache is healthy"},
}

// Route waits. The publishers run every minute (contract.PublishSchedule); a data point can be
// up to a minute late; the alarm's period (read from DescribeAlarms) decides the re-check.
const (
	routePoll        = 15 * time.Second
	routeStreamWait  = 4 * time.Minute
	routeRoute53Wait = 2 * time.Minute
	awsCallTimeout   = 20 * time.Second
	// streamFresh is how old the newest data point may be and still count as the publishers'
	// current value: one publish interval, a late point (up to 50 s) and ingestion.
	streamFresh = 3 * time.Minute
	// recheckPeriods is how many alarm periods after the switch route looks again.
	recheckPeriods = 3
)

func routeTarget(name string) (RouteTarget, error) {
	var names []string
	for _, t := range RouteTargets {
		if t.Name == name {
			return t, nil
		}
		names = append(names, t.Name)
	}
	return RouteTarget{}, procedure.Usagef("--to %q (TO=): want %s: dr requests failover to the DR region, primary clears the request", name, strings.Join(names, " or "))
}

// scheduleState is one schedule as GetSchedule answered.
type scheduleState struct {
	Name   string `json:"name"`
	Exists bool   `json:"exists"`
	State  string `json:"state,omitempty"`
	// Value is the FailoverRequested value its input publishes (nil: not a routing request).
	Value *float64 `json:"value,omitempty"`
	// Problems say how it differs from what drctl creates (or the switch stack deploys).
	Problems []string `json:"problems,omitempty"`
	Error    string   `json:"error,omitempty"`
}

// point is one data point of the FailoverRequested stream (Maximum per minute).
type point struct {
	At    string    `json:"at"`
	Value float64   `json:"value"`
	t     time.Time `json:"-"`
}

// streamState is the FailoverRequested data stream of the environment, newest first.
type streamState struct {
	Points []point `json:"points,omitempty"`
	// Latest is the newest point younger than streamFresh: the publishers' current value.
	Latest *point `json:"latest,omitempty"`
	Error  string `json:"error,omitempty"`
	Note   string `json:"note,omitempty"`
	Lookup string `json:"lookup,omitempty"`
}

// switchState is the switch at one moment (route-before.json, and the "after" of
// route-after.json).
type switchState struct {
	At           string `json:"at"`
	Alarm        string `json:"alarm"`
	Region       string `json:"region"`
	AlarmState   string `json:"alarmState,omitempty"`
	AlarmReason  string `json:"alarmReason,omitempty"`
	AlarmUpdated string `json:"alarmUpdated,omitempty"`
	AlarmError   string `json:"alarmError,omitempty"`
	// AlarmPeriodSeconds is the alarm's period, which Route 53 copies into the health check.
	AlarmPeriodSeconds int32         `json:"alarmPeriodSeconds,omitempty"`
	Request            scheduleState `json:"requestSchedule"`
	Heartbeat          scheduleState `json:"heartbeatSchedule"`
	Stream             streamState   `json:"dataStream"`
	HealthChecks       []healthCheck `json:"healthChecks,omitempty"`
	Route53Note        string        `json:"route53Note,omitempty"`
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

// observation is one look at the switch after it moved.
type observation struct {
	At string `json:"at"`
	// After is the time since the request.
	After string `json:"after"`
	// Verdict is agrees, disagrees or unknown (a read needed for the verdict failed).
	Verdict string `json:"verdict"`
	Why     string `json:"why"`
}

// observedTimes are the times since the request at which each part of the switch was first
// seen in the requested state ("" when not seen).
type observedTimes struct {
	DataStream string `json:"dataStream,omitempty"`
	Alarm      string `json:"alarm,omitempty"`
	Route53    string `json:"route53,omitempty"`
}

// recheck is the look again a few periods after the switch (must-have 6).
type recheck struct {
	Period       string        `json:"period,omitempty"`
	Observations []observation `json:"observations"`
	// Verdict is agrees (every observation made agrees, at least one was made), disagrees, or
	// unknown (none could be made: zero observations never agree).
	Verdict string `json:"verdict"`
	Note    string `json:"note,omitempty"`
}

// prediction is the model's answer as recorded.
type prediction struct {
	Best  string `json:"best,omitempty"`
	Worst string `json:"worst,omitempty"`
	Basis string `json:"basis,omitempty"`
	Error string `json:"error,omitempty"`
}

// routeRecord is route-after.json.
type routeRecord struct {
	To          string        `json:"to"`
	Action      string        `json:"action"`
	RequestedAt string        `json:"requestedAt"`
	Prediction  *prediction   `json:"prediction,omitempty"`
	Observed    observedTimes `json:"observed"`
	After       switchState   `json:"after"`
	Recheck     recheck       `json:"recheck"`
}

// Route changes the routing request and records the switch before and after.
func Route(ctx context.Context, o RouteOptions, d Deps) (*Result, error) {
	j, err := prepare(o.Common, "", d)
	if err != nil {
		return nil, err
	}
	tgt, err := routeTarget(o.To)
	if err != nil {
		return nil, err
	}
	primary, err := j.load("", drcontext.PrimaryMode().Name, false)
	if err != nil {
		return nil, err
	}
	// Who and why, and the evidence signer, as for every procedure that changes routing.
	s, err := j.start(ctx, "route", fmt.Sprintf("Routing: %s to %s (switch %s in %s)", primary.EnvironmentName, tgt.Name, primary.FailoverAlarmName(), primary.SwitchRegion()),
		primary, map[string]any{"to": tgt.Name, "value": tgt.Value, "switchRegion": primary.SwitchRegion(), "switchAlarm": primary.FailoverAlarmName(),
			"requestSchedule": primary.FailoverRequestScheduleName()})
	if err != nil {
		return nil, err
	}
	action := fmt.Sprintf("create the request schedule %s (publishes %s/%s=%d, %s=%s, %s)", primary.FailoverRequestScheduleName(),
		contract.RoutingNamespace, contract.MetricFailoverRequested, contract.FailoverValueRequested, contract.RoutingDimension, primary.EnvironmentName, contract.PublishSchedule)
	if tgt.Name != "dr" {
		action = fmt.Sprintf("delete the request schedule %s (the heartbeat %s keeps publishing %d)", primary.FailoverRequestScheduleName(),
			primary.FailoverHeartbeatScheduleName(), contract.FailoverValueCleared)
	}
	s.Printf("valkey-dr route: environment %s, --to %s: %s in %s", primary.EnvironmentName, tgt.Name, action, primary.SwitchRegion())
	runErr := routeToWith(ctx, s, j.d, primary, tgt, routeOptions{noRecheck: o.NoRecheck})
	res, serr := j.seal(ctx, s, primary, runErr, "Runbook step 3 (routing): the forced-failover switch (docs/design.md, \"Forced failover\"). Route 53's data plane reads the switch alarm's data stream, which the request schedule holds; every call went to the DR region except the best-effort Route 53 read; no change was made in the primary region or in Route 53's control plane.")
	return res, errors.Join(runErr, serr)
}

// switchClients are the DR region's clients of the switch.
type switchClients struct {
	cw  CloudWatchAPI
	sch SchedulerAPI
}

// routeTo is the procedure on an open session; activate --route=force and failback use it too.
// routeOptions change how routeTo reads the switch, never what it does.
type routeOptions struct {
	// regionalOnly skips the best-effort Route 53 read (ListHealthChecks,
	// GetHealthCheckStatus): Route 53's API is served from us-east-1. A warm standby's
	// activation makes no call to a global control plane (docs/design.md, "Warm standby");
	// `make dr-route` reads the health checks when Route 53 answers.
	regionalOnly bool
	// noRecheck skips the look again a few periods later (--no-recheck): recorded as unknown.
	noRecheck bool
}

func routeToWith(ctx context.Context, s *procedure.Run, d Deps, primary *drcontext.Config, tgt RouteTarget, opt routeOptions) error {
	region, alarm := primary.SwitchRegion(), primary.FailoverAlarmName()
	var c switchClients
	var err error
	if c.cw, err = d.AWS.CloudWatch(ctx, region); err != nil {
		return procedure.Failf("AWS configuration for %s: %v", region, err)
	}
	if c.sch, err = d.AWS.Scheduler(ctx, region); err != nil {
		return procedure.Failf("AWS configuration for %s: %v", region, err)
	}
	var ids []healthCheck
	var idsNote, roleArn string
	var before switchState
	var period time.Duration
	err = s.Phase(ctx, "switch before", procedure.RunbookPrepare, func() (string, error) {
		id, err := credentials(ctx, d.AWS, region, primary.Env.Account)
		if err != nil {
			return "", err
		}
		roleArn = fmt.Sprintf("arn:%s:iam::%s:role/%s", id.partition(), primary.Env.Account, primary.FailoverPublisherRoleName())
		if opt.regionalOnly {
			idsNote = "health checks not asked: Route 53's API is in us-east-1 and this step calls regional APIs only; the switch does not need them (make dr-route ENV=" +
				primary.EnvironmentName + " TO=dr reads them)"
			s.Printf("    NOTE: %s", idsNote)
		} else {
			ids, idsNote = healthCheckIDs(ctx, s, d, primary)
		}
		before, period = readSwitch(ctx, s, d, c, primary, roleArn, ids, idsNote)
		if err := s.Bundle.WriteJSON(evidence.FileRouteBefore, before); err != nil {
			return "", err
		}
		if before.AlarmError != "" {
			return "", procedure.Failf("cannot read the switch alarm %s in %s: %s", alarm, region, before.AlarmError)
		}
		return fmt.Sprintf("alarm %s; request schedule %s; data stream %s", before.AlarmState, scheduleText(before.Request), streamText(before.Stream)), nil
	})
	if err != nil {
		s.NotRun("the switch could not be read", procedure.PlannedPhase{Name: "publish " + tgt.Name, Estimate: procedure.RunbookRouting})
		return err
	}

	rec := routeRecord{To: tgt.Name}
	var requestedAt time.Time
	obs := observedTimes{}
	var last switchState
	err = s.Phase(ctx, "publish "+tgt.Name, procedure.RunbookRouting, func() (string, error) {
		requestedAt = d.Now()
		rec.RequestedAt = evidence.Stamp(requestedAt)
		var err error
		if tgt.Name == "dr" {
			rec.Action, err = ensureRequest(ctx, c.sch, primary, roleArn)
		} else {
			rec.Action, err = clearRequest(ctx, c.sch, primary)
		}
		if err != nil {
			return "", err
		}
		s.Printf("    %s: %s", rec.Action, tgt.Meaning)
		// After the request, so that computing it never delays the switch.
		rec.Prediction = predict(ctx, s, d, primary, tgt)
		last, err = waitStream(ctx, s, d, c, primary, roleArn, tgt, requestedAt, &obs)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s; data stream %s", rec.Action, streamText(last.Stream)), nil
	})
	if requestedAt.IsZero() { // refused before any change
		return err
	}
	after, _ := readSwitch(ctx, s, d, c, primary, roleArn, ids, idsNote)
	observe(d, after, tgt, requestedAt, &obs)
	if len(ids) > 0 {
		after = waitHealthChecks(ctx, s, d, after, tgt, func() switchState {
			st, _ := readSwitch(ctx, s, d, c, primary, roleArn, ids, idsNote)
			observe(d, st, tgt, requestedAt, &obs)
			return st
		})
	}
	rec.After = after
	recheckPhase := procedure.PlannedPhase{Name: "re-check", Estimate: procedure.Estimate{Label: "re-check (best effort)"}}
	if err == nil && opt.noRecheck {
		rec.Recheck = recheck{Verdict: verdictUnknown, Note: "not re-checked: --no-recheck (make dr-route looks again)", Observations: []observation{}}
		s.Timeline.Skip(recheckPhase.Name, recheckPhase.Estimate, procedure.NotPerformed, rec.Recheck.Note)
	} else if err == nil {
		err = s.Phase(ctx, recheckPhase.Name, recheckPhase.Estimate, func() (string, error) {
			rec.Recheck = recheckSwitch(ctx, s, d, c, primary, roleArn, tgt, period, ids, idsNote, requestedAt, &obs)
			if rec.Recheck.Verdict == verdictDisagrees {
				return "", procedure.Failf("the switch does not hold: %s (see route-after.json, recheck); %s", rec.Recheck.Note, holdAdvice(primary, tgt))
			}
			return rec.Recheck.Verdict + ": " + rec.Recheck.Note, nil
		})
	} else {
		rec.Recheck = recheck{Verdict: verdictUnknown, Note: "not re-checked: the switch did not reach the requested state", Observations: []observation{}}
		s.NotRun("the switch did not reach the requested state", recheckPhase)
	}
	rec.Observed = obs
	s.Printf("    observed since the request: data stream %s, alarm %s, Route 53 %s", orElse(obs.DataStream, "not seen"), orElse(obs.Alarm, "not seen"), orElse(obs.Route53, "not seen"))
	if werr := s.Bundle.WriteJSON(evidence.FileRouteAfter, rec); werr != nil && err == nil {
		err = werr
	}
	return err
}

// predict prints and records the model's time to shift, when a model is wired.
func predict(ctx context.Context, s *procedure.Run, d Deps, primary *drcontext.Config, tgt RouteTarget) *prediction {
	if d.Predict == nil {
		return nil
	}
	p, err := d.Predict(ctx, primary, tgt.Name)
	if err != nil {
		s.Printf("    NOTE: no prediction of the time to shift: %v", err)
		return &prediction{Error: err.Error()}
	}
	s.Printf("    Route 53 should answer the %s record within %s-%s (model: %s)", tgt.Record, p.Best, p.Worst, p.Basis)
	return &prediction{Best: p.Best.String(), Worst: p.Worst.String(), Basis: p.Basis}
}

// holdAdvice is what to do when the switch does not hold.
func holdAdvice(primary *drcontext.Config, tgt RouteTarget) string {
	if tgt.Name == "dr" {
		return fmt.Sprintf("check the schedule %s in the EventBridge Scheduler console of %s (state, role %s, target) and re-run `make dr-route ENV=%s TO=dr`",
			primary.FailoverRequestScheduleName(), primary.SwitchRegion(), primary.FailoverPublisherRoleName(), primary.EnvironmentName)
	}
	return fmt.Sprintf("something publishes %s=1 in %s besides drctl: find it (schedules, scripts) and stop it, then re-run `make dr-route ENV=%s TO=primary`",
		contract.MetricFailoverRequested, primary.SwitchRegion(), primary.EnvironmentName)
}

// requestInput is the request schedule's Input.
func requestInput(primary *drcontext.Config) string {
	return contract.RoutingRequestInput(primary.EnvironmentName, contract.FailoverValueRequested)
}

// requestWant is what the request schedule must be.
func requestWant(primary *drcontext.Config, roleArn string) scheduleWant {
	return scheduleWant{input: requestInput(primary), role: roleArn, value: contract.FailoverValueRequested}
}

// ensureRequest creates the request schedule, or checks and keeps the one that exists.
func ensureRequest(ctx context.Context, sch SchedulerAPI, primary *drcontext.Config, roleArn string) (string, error) {
	name, region := primary.FailoverRequestScheduleName(), primary.SwitchRegion()
	st := getSchedule(ctx, sch, name, requestWant(primary, roleArn))
	if st.Error != "" {
		return "", procedure.Failf("cannot read the request schedule %s in %s: %s", name, region, st.Error)
	}
	created := false
	if !st.Exists {
		cctx, cancel := context.WithTimeout(ctx, awsCallTimeout)
		_, err := sch.CreateSchedule(cctx, &scheduler.CreateScheduleInput{
			Name:               aws.String(name),
			GroupName:          aws.String(contract.ScheduleGroupDefault),
			ScheduleExpression: aws.String(contract.PublishSchedule),
			FlexibleTimeWindow: &schtypes.FlexibleTimeWindow{Mode: schtypes.FlexibleTimeWindowModeOff},
			State:              schtypes.ScheduleStateEnabled,
			Description: aws.String(fmt.Sprintf("valkey-dr: failover of environment %s REQUESTED (drctl route --to dr); `drctl route --to primary` deletes it",
				primary.EnvironmentName)),
			Target: &schtypes.Target{
				Arn:     aws.String(contract.PutMetricDataTarget),
				RoleArn: aws.String(roleArn),
				Input:   aws.String(requestInput(primary)),
				// A late point is worth less than the next minute's (as the heartbeat's).
				RetryPolicy: &schtypes.RetryPolicy{MaximumRetryAttempts: aws.Int32(0), MaximumEventAgeInSeconds: aws.Int32(60)},
			},
		})
		cancel()
		var conflict *schtypes.ConflictException
		switch {
		case errors.As(err, &conflict): // created meanwhile (another operator): check it below
		case err != nil:
			return "", procedure.Failf("create the request schedule %s in %s: %s", name, region,
				schedulerHint(err, "scheduler:CreateSchedule and iam:PassRole on "+roleArn))
		default:
			created = true
		}
		if st = getSchedule(ctx, sch, name, requestWant(primary, roleArn)); st.Error != "" || !st.Exists {
			return "", procedure.Failf("the request schedule %s in %s cannot be read back after its creation: %s", name, region, orText("not found", st.Error))
		}
	}
	if len(st.Problems) > 0 {
		return "", procedure.Failf("the request schedule %s in %s exists but is not what drctl creates: %s. It was changed by hand: fix it in the EventBridge Scheduler console, or run `make dr-route ENV=%s TO=primary` (deletes it) and then TO=dr again (the alarm's period bridges the minute between)",
			name, region, strings.Join(st.Problems, "; "), primary.EnvironmentName)
	}
	if created {
		return fmt.Sprintf("created the request schedule %s in %s", name, region), nil
	}
	return fmt.Sprintf("the request schedule %s in %s already exists as drctl creates it: kept (nothing changed)", name, region), nil
}

// clearRequest deletes the request schedule; absent means already cleared.
func clearRequest(ctx context.Context, sch SchedulerAPI, primary *drcontext.Config) (string, error) {
	name, region := primary.FailoverRequestScheduleName(), primary.SwitchRegion()
	dctx, cancel := context.WithTimeout(ctx, awsCallTimeout)
	defer cancel()
	_, err := sch.DeleteSchedule(dctx, &scheduler.DeleteScheduleInput{Name: aws.String(name), GroupName: aws.String(contract.ScheduleGroupDefault)})
	var notFound *schtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		return fmt.Sprintf("no request schedule %s in %s: the request was already cleared (nothing changed)", name, region), nil
	case err != nil:
		return "", procedure.Failf("delete the request schedule %s in %s: %s", name, region, schedulerHint(err, "scheduler:DeleteSchedule"))
	}
	return fmt.Sprintf("deleted the request schedule %s in %s", name, region), nil
}

// schedulerHint is awsHint for EventBridge Scheduler, naming the action on AccessDenied.
func schedulerHint(err error, action string) string {
	h := awsHint(err, "docs/iam/route.json")
	if strings.Contains(h, "AccessDenied") {
		return h + " (" + action + ")"
	}
	return h
}

// scheduleWant is what a schedule must publish, with which role ("" = not checked).
type scheduleWant struct {
	input, role string
	value       float64
}

// getSchedule reads one schedule of the default group and says how it differs from want.
func getSchedule(ctx context.Context, sch SchedulerAPI, name string, want scheduleWant) scheduleState {
	st := scheduleState{Name: name}
	gctx, cancel := context.WithTimeout(ctx, awsCallTimeout)
	defer cancel()
	out, err := sch.GetSchedule(gctx, &scheduler.GetScheduleInput{Name: aws.String(name), GroupName: aws.String(contract.ScheduleGroupDefault)})
	var notFound *schtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		return st
	case err != nil:
		st.Error = schedulerHint(err, "scheduler:GetSchedule")
		return st
	}
	st.Exists, st.State = true, string(out.State)
	var problems []string
	if out.State != schtypes.ScheduleStateEnabled {
		problems = append(problems, fmt.Sprintf("state %s (want %s)", out.State, schtypes.ScheduleStateEnabled))
	}
	if e := aws.ToString(out.ScheduleExpression); e != contract.PublishSchedule {
		problems = append(problems, fmt.Sprintf("expression %q (want %q)", e, contract.PublishSchedule))
	}
	if out.FlexibleTimeWindow == nil || out.FlexibleTimeWindow.Mode != schtypes.FlexibleTimeWindowModeOff {
		problems = append(problems, "flexible time window not OFF")
	}
	if out.EndDate != nil {
		problems = append(problems, "an end date "+evidence.Stamp(*out.EndDate))
	}
	if out.Target == nil {
		problems = append(problems, "no target")
	} else {
		if a := aws.ToString(out.Target.Arn); a != contract.PutMetricDataTarget {
			problems = append(problems, fmt.Sprintf("target %s (want %s)", a, contract.PutMetricDataTarget))
		}
		var in contract.PutMetricDataRequest
		input := aws.ToString(out.Target.Input)
		if json.Unmarshal([]byte(input), &in) == nil && len(in.MetricData) == 1 {
			st.Value = &in.MetricData[0].Value
		}
		if st.Value == nil || *st.Value != want.value {
			problems = append(problems, fmt.Sprintf("its input does not publish %s=%v", contract.MetricFailoverRequested, want.value))
		} else if !sameJSON(input, want.input) {
			problems = append(problems, fmt.Sprintf("input %s (want %s)", input, want.input))
		}
		if r := aws.ToString(out.Target.RoleArn); want.role != "" && r != want.role {
			problems = append(problems, fmt.Sprintf("role %s (want %s)", r, want.role))
		}
	}
	st.Problems = problems
	return st
}

// sameJSON reports whether two JSON documents are equal as values.
func sameJSON(a, b string) bool {
	var x, y any
	return json.Unmarshal([]byte(a), &x) == nil && json.Unmarshal([]byte(b), &y) == nil && reflect.DeepEqual(x, y)
}

// readSwitch reads the alarm, both schedules, the data stream and, best effort, the health
// checks. It returns the alarm's period (0 when unreadable).
func readSwitch(ctx context.Context, s *procedure.Run, d Deps, c switchClients, primary *drcontext.Config, roleArn string, ids []healthCheck, idsNote string) (switchState, time.Duration) {
	region, alarm := primary.SwitchRegion(), primary.FailoverAlarmName()
	now := d.Now()
	st := switchState{At: evidence.Stamp(now), Alarm: alarm, Region: region, Route53Note: idsNote}
	a, err := describeAlarm(ctx, c.cw, alarm)
	if err != nil {
		st.AlarmError = err.Error()
	} else {
		st.AlarmState, st.AlarmReason, st.AlarmUpdated, st.AlarmPeriodSeconds = a.state, a.reason, a.updated, a.period
	}
	period := time.Duration(st.AlarmPeriodSeconds) * time.Second
	st.Request = getSchedule(ctx, c.sch, primary.FailoverRequestScheduleName(), requestWant(primary, roleArn))
	st.Heartbeat = getSchedule(ctx, c.sch, primary.FailoverHeartbeatScheduleName(),
		scheduleWant{input: contract.RoutingRequestInput(primary.EnvironmentName, contract.FailoverValueCleared), value: contract.FailoverValueCleared})
	st.Stream = readStream(ctx, c.cw, primary.EnvironmentName, now, period)
	s.Printf("    switch in %s: alarm %s: %s; request schedule %s; heartbeat %s; data stream %s", region, alarm, orText(st.AlarmState, st.AlarmError),
		scheduleText(st.Request), scheduleText(st.Heartbeat), streamText(st.Stream))
	if !st.Heartbeat.Exists && st.Heartbeat.Error == "" {
		s.Printf("    NOTE: no heartbeat schedule %s: the switch stack in %s predates the held switch or was changed; deploy it with the primary (peacetime)",
			primary.FailoverHeartbeatScheduleName(), region)
	}
	if len(ids) == 0 {
		return st, period
	}
	r53, err := d.AWS.Route53(ctx)
	if err != nil {
		st.Route53Note = "Route 53 not asked: " + err.Error()
		return st, period
	}
	for _, h := range ids {
		hctx, cancel := context.WithTimeout(ctx, awsCallTimeout)
		out, err := r53.GetHealthCheckStatus(hctx, &route53.GetHealthCheckStatusInput{HealthCheckId: aws.String(h.ID)})
		cancel()
		if err != nil {
			h.Error = awsHint(err, "docs/iam/route.json")
			st.Route53Note = route53Down
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
	return st, period
}

// route53Down is the note when Route 53's control plane does not answer.
const route53Down = "Route 53's control plane (us-east-1) did not answer; the switch works through its data plane regardless: resolve the service name from inside the VPC to see where it points"

func scheduleText(st scheduleState) string {
	switch {
	case st.Error != "":
		return "unreadable: " + st.Error
	case !st.Exists:
		return "absent"
	}
	t := st.State
	if st.Value != nil {
		t += fmt.Sprintf(", publishes %v", *st.Value)
	}
	if len(st.Problems) > 0 {
		t += " (" + strings.Join(st.Problems, "; ") + ")"
	}
	return t
}

func streamText(st streamState) string {
	switch {
	case st.Error != "":
		return "unreadable: " + st.Error
	case st.Latest != nil:
		return fmt.Sprintf("latest %v at %s", st.Latest.Value, st.Latest.At)
	case len(st.Points) > 0:
		return fmt.Sprintf("no point in the last %s (newest %v at %s)", streamFresh, st.Points[0].Value, st.Points[0].At)
	}
	return "no data"
}

// readStream reads FailoverRequested (Maximum per minute) over the last three alarm periods
// (15 minutes when the period is unknown), newest first.
func readStream(ctx context.Context, cw CloudWatchAPI, environment string, now time.Time, period time.Duration) streamState {
	lookback := 3 * period
	if lookback <= 0 {
		lookback = 15 * time.Minute
	}
	st := streamState{Lookup: fmt.Sprintf("Maximum per 60 s over %s", lookback)}
	gctx, cancel := context.WithTimeout(ctx, awsCallTimeout)
	defer cancel()
	out, err := cw.GetMetricData(gctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(now.Add(-lookback)), EndTime: aws.Time(now), ScanBy: cwtypes.ScanByTimestampDescending,
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("requested"), MetricStat: &cwtypes.MetricStat{Period: aws.Int32(60), Stat: aws.String("Maximum"),
			Metric: &cwtypes.Metric{Namespace: aws.String(contract.RoutingNamespace), MetricName: aws.String(contract.MetricFailoverRequested),
				Dimensions: []cwtypes.Dimension{{Name: aws.String(contract.RoutingDimension), Value: aws.String(environment)}}}}}}})
	if err != nil {
		st.Error = awsHint(err, "docs/iam/route.json")
		return st
	}
	for _, r := range out.MetricDataResults {
		for i, v := range r.Values {
			if i < len(r.Timestamps) {
				st.Points = append(st.Points, point{At: evidence.Stamp(r.Timestamps[i]), Value: v, t: r.Timestamps[i]})
			}
		}
	}
	for i := range st.Points { // newest first whatever the order answered
		for j := i + 1; j < len(st.Points); j++ {
			if st.Points[j].t.After(st.Points[i].t) {
				st.Points[i], st.Points[j] = st.Points[j], st.Points[i]
			}
		}
	}
	if len(st.Points) > 0 && now.Sub(st.Points[0].t) <= streamFresh {
		p := st.Points[0]
		st.Latest = &p
	}
	if len(st.Points) == 0 {
		st.Note = "no data point: neither the heartbeat nor a request publishes (the override health check then reads insufficient data, healthy by design)"
	}
	return st
}

// alarmInfo is what DescribeAlarms says of the switch alarm.
type alarmInfo struct {
	state, reason, updated string
	period                 int32
}

func describeAlarm(ctx context.Context, cw CloudWatchAPI, alarm string) (alarmInfo, error) {
	actx, cancel := context.WithTimeout(ctx, awsCallTimeout)
	defer cancel()
	out, err := cw.DescribeAlarms(actx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{alarm}})
	if err != nil {
		return alarmInfo{}, errors.New(awsHint(err, "docs/iam/route.json"))
	}
	if len(out.MetricAlarms) == 0 {
		return alarmInfo{}, fmt.Errorf("no alarm %s: is the switch stack deployed (it is deployed with the primary stack)?", alarm)
	}
	a := out.MetricAlarms[0]
	info := alarmInfo{state: string(a.StateValue), reason: aws.ToString(a.StateReason), period: aws.ToInt32(a.Period)}
	if a.StateUpdatedTimestamp != nil {
		info.updated = evidence.Stamp(*a.StateUpdatedTimestamp)
	}
	return info, nil
}

// Verdicts of an observation and of the re-check.
const (
	verdictAgrees    = "agrees"
	verdictDisagrees = "disagrees"
	verdictUnknown   = "unknown"
)

// judge says whether the schedule and the data stream of st hold tgt. The alarm state is not
// part of the verdict: Route 53 never reads it.
func judge(st switchState, tgt RouteTarget) (verdict, why string) {
	req, stream := st.Request, st.Stream
	var bad, unknown []string
	switch {
	case req.Error != "":
		unknown = append(unknown, "request schedule unreadable")
	case tgt.Name == "dr" && !req.Exists:
		bad = append(bad, "the request schedule is gone")
	case tgt.Name == "dr" && len(req.Problems) > 0:
		bad = append(bad, "the request schedule was changed: "+strings.Join(req.Problems, "; "))
	case tgt.Name != "dr" && req.Exists:
		bad = append(bad, "a request schedule exists again")
	}
	switch {
	case stream.Error != "":
		unknown = append(unknown, "data stream unreadable")
	case tgt.Name == "dr" && stream.Latest == nil:
		bad = append(bad, "no FailoverRequested point in the last "+streamFresh.String())
	case tgt.Name == "dr" && stream.Latest.Value < contract.FailoverValueRequested:
		bad = append(bad, fmt.Sprintf("the newest point is %v", stream.Latest.Value))
	case tgt.Name != "dr" && stream.Latest != nil && stream.Latest.Value >= contract.FailoverValueRequested:
		bad = append(bad, fmt.Sprintf("the newest point is still %v", stream.Latest.Value))
	}
	switch {
	case len(bad) > 0:
		return verdictDisagrees, strings.Join(append(bad, unknown...), "; ")
	case len(unknown) > 0:
		return verdictUnknown, strings.Join(unknown, "; ")
	}
	if tgt.Name == "dr" {
		return verdictAgrees, fmt.Sprintf("request schedule %s publishes 1; newest point %v at %s", req.State, stream.Latest.Value, stream.Latest.At)
	}
	if stream.Latest == nil {
		return verdictAgrees, "no request schedule; no recent point (no heartbeat): the override check reads insufficient data, healthy"
	}
	return verdictAgrees, fmt.Sprintf("no request schedule; newest point %v at %s", stream.Latest.Value, stream.Latest.At)
}

// observe notes the first time each part of the switch was seen in the requested state.
func observe(d Deps, st switchState, tgt RouteTarget, requestedAt time.Time, obs *observedTimes) {
	since := func() string { return d.Now().Sub(requestedAt).Round(time.Second).String() }
	if v, _ := judge(st, tgt); v == verdictAgrees && obs.DataStream == "" {
		obs.DataStream = since()
	}
	if st.AlarmState == string(tgt.AlarmState) && obs.Alarm == "" {
		obs.Alarm = since()
	}
	if ok, answered := overrideAgrees(st, tgt); ok && answered && obs.Route53 == "" {
		obs.Route53 = since()
	}
}

// waitStream polls the schedule and the data stream until they hold tgt, bounded by
// routeStreamWait.
func waitStream(ctx context.Context, s *procedure.Run, d Deps, c switchClients, primary *drcontext.Config, roleArn string, tgt RouteTarget, requestedAt time.Time, obs *observedTimes) (switchState, error) {
	var why string
	for i, n := 0, int(routeStreamWait/routePoll); ; i++ {
		st, _ := readSwitch(ctx, s, d, c, primary, roleArn, nil, "")
		observe(d, st, tgt, requestedAt, obs)
		var v string
		v, why = judge(st, tgt)
		if v == verdictAgrees {
			s.Printf("    the data stream holds the request: %s", why)
			if st.AlarmState != string(tgt.AlarmState) {
				s.Printf("    NOTE: the alarm still says %s (it evaluates its %ds period; Route 53 reads the data points, not the state)", st.AlarmState, st.AlarmPeriodSeconds)
			}
			return st, nil
		}
		if i >= n {
			break
		}
		s.Printf("    %s: %s, waiting (%s of at most %s)", stamp(d.Now()), why, routePoll*time.Duration(i+1), routeStreamWait)
		if err := d.AWS.Sleep(ctx, routePoll); err != nil {
			return st, err
		}
	}
	if tgt.Name == "dr" {
		return switchState{}, procedure.Failf("the request schedule %s exists, but after %s the data stream does not show it (%s): the publisher (role %s, target %s) may be failing: check the schedule in the EventBridge Scheduler console of %s; the request stands (the schedule stays)",
			primary.FailoverRequestScheduleName(), routeStreamWait, why, primary.FailoverPublisherRoleName(), contract.PutMetricDataTarget, primary.SwitchRegion())
	}
	return switchState{}, procedure.Failf("the request schedule is deleted, but after %s the data stream does not show it cleared (%s): %s", routeStreamWait, why, holdAdvice(primary, tgt))
}

// recheckSwitch looks again every alarm period, recheckPeriods times, best effort.
func recheckSwitch(ctx context.Context, s *procedure.Run, d Deps, c switchClients, primary *drcontext.Config, roleArn string, tgt RouteTarget,
	period time.Duration, ids []healthCheck, idsNote string, requestedAt time.Time, obs *observedTimes) recheck {
	r := recheck{Observations: []observation{}}
	if period <= 0 {
		r.Verdict, r.Note = verdictUnknown, "the alarm's period could not be read: no re-check (zero observations: unknown)"
		s.Printf("    re-check: %s", r.Note)
		return r
	}
	r.Period = period.String()
	s.Printf("    re-check: every alarm period (%s), %d times; Ctrl-C ends it (the switch stays as it is)", period, recheckPeriods)
	made, disagree := 0, []string{}
	for i := 1; i <= recheckPeriods; i++ {
		if err := d.AWS.Sleep(ctx, period); err != nil {
			r.Note = "interrupted"
			break
		}
		st, _ := readSwitch(ctx, s, d, c, primary, roleArn, ids, idsNote)
		observe(d, st, tgt, requestedAt, obs)
		v, why := judge(st, tgt)
		if ok, answered := overrideAgrees(st, tgt); answered && !ok && v == verdictAgrees {
			why += "; Route 53's checkers do not agree yet"
		}
		r.Observations = append(r.Observations, observation{At: st.At, After: d.Now().Sub(requestedAt).Round(time.Second).String(), Verdict: v, Why: why})
		s.Printf("    re-check %d/%d: %s: %s", i, recheckPeriods, v, why)
		switch v {
		case verdictAgrees:
			made++
		case verdictDisagrees:
			made++
			disagree = append(disagree, why)
		}
	}
	switch {
	case len(disagree) > 0:
		r.Verdict, r.Note = verdictDisagrees, strings.Join(disagree, " | ")
	case made == 0:
		r.Verdict = verdictUnknown
		r.Note = strings.TrimPrefix(r.Note+"; zero observations could be made: the switch is NOT shown to hold (unknown, never agrees)", "; ")
	default:
		r.Verdict = verdictAgrees
		r.Note = strings.TrimPrefix(r.Note+fmt.Sprintf("; %d of %d observations made, all agree", made, recheckPeriods), "; ")
	}
	s.Printf("    re-check: %s (%s)", r.Verdict, r.Note)
	return r
}

// overrideAgrees says whether Route 53's checkers of the override health check agree with the
// request (answered false when Route 53 was not asked or did not answer).
func overrideAgrees(st switchState, tgt RouteTarget) (ok, answered bool) {
	for _, h := range st.HealthChecks {
		if h.LogicalID != overrideHealthCheck {
			continue
		}
		if h.Error != "" || h.Healthy+h.Unhealthy == 0 {
			return false, false
		}
		// Failover requested: the override check is unhealthy by design.
		wantHealthy := tgt.AlarmState != cwtypes.StateValueAlarm
		return (h.Healthy > h.Unhealthy) == wantHealthy, true
	}
	return false, false
}

// waitHealthChecks polls Route 53 until the override health check agrees with the request,
// bounded and best effort: a Route 53 that does not answer ends the wait, not the procedure.
func waitHealthChecks(ctx context.Context, s *procedure.Run, d Deps, st switchState, tgt RouteTarget, read func() switchState) switchState {
	for i, n := 0, int(routeRoute53Wait/routePoll); ; i++ {
		ok, answered := overrideAgrees(st, tgt)
		if ok || !answered || i >= n {
			if answered && !ok {
				st.Route53Note = fmt.Sprintf("after %s Route 53's checkers do not yet agree with the request; they evaluate the alarm's data points over its period: the re-check looks again", routeRoute53Wait)
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

// stamp is evidence.Stamp, short for the progress lines.
func stamp(t time.Time) string { return evidence.Stamp(t) }

// The health checks of the PRIMARY record (constructs/dns), by the names the evidence gives
// them. The calculated check is found but not asked: GetHealthCheckStatus does not answer for
// a calculated check (Route 53 API reference), so its children are what is asked.
const (
	canaryHealthCheck   = "PrimaryHealthCheck"
	overrideHealthCheck = "FailoverOverrideHealthCheck"
)

// routeListPages bounds the ListHealthChecks pages read (100 health checks each).
const routeListPages = 20

// healthCheckIDs finds the PRIMARY record's health checks with Route 53's ListHealthChecks
// (us-east-1, best effort: the same control plane GetHealthCheckStatus needs, so nothing is
// lost when it is down, and the primary region, which may be the one that failed, is not
// asked). The override check is the CLOUDWATCH_METRIC check on the switch alarm; the
// calculated check is the one counting it; the canary check is the calculated check's other
// child.
func healthCheckIDs(ctx context.Context, s *procedure.Run, d Deps, primary *drcontext.Config) ([]healthCheck, string) {
	note := func(why string) ([]healthCheck, string) {
		n := "health checks not asked: " + why + "; the switch does not need them"
		s.Printf("    NOTE: %s", n)
		return nil, n
	}
	r53, err := d.AWS.Route53(ctx)
	if err != nil {
		return note("Route 53 not configured: " + err.Error())
	}
	var all []r53types.HealthCheck
	var marker *string
	for page := 0; page < routeListPages; page++ {
		lctx, cancel := context.WithTimeout(ctx, awsCallTimeout)
		out, err := r53.ListHealthChecks(lctx, &route53.ListHealthChecksInput{Marker: marker})
		cancel()
		if err != nil {
			return note(fmt.Sprintf("Route 53's control plane (us-east-1) did not list them (%s)", awsHint(err, "docs/iam/route.json")))
		}
		all = append(all, out.HealthChecks...)
		if !out.IsTruncated || out.NextMarker == nil {
			break
		}
		marker = out.NextMarker
	}
	var override, canary string
	for _, h := range all {
		c := h.HealthCheckConfig
		if c != nil && c.Type == r53types.HealthCheckTypeCloudwatchMetric && c.AlarmIdentifier != nil &&
			aws.ToString(c.AlarmIdentifier.Name) == primary.FailoverAlarmName() && string(c.AlarmIdentifier.Region) == primary.SwitchRegion() {
			override = aws.ToString(h.Id)
		}
	}
	if override == "" {
		return note(fmt.Sprintf("no Route 53 health check reads the switch alarm %s in %s (no hosted zone configured, or routing held)", primary.FailoverAlarmName(), primary.SwitchRegion()))
	}
	for _, h := range all {
		c := h.HealthCheckConfig
		if c == nil || c.Type != r53types.HealthCheckTypeCalculated || !contains(c.ChildHealthChecks, override) {
			continue
		}
		for _, child := range c.ChildHealthChecks {
			if child != override {
				canary = child
			}
		}
	}
	ids := []healthCheck{}
	if canary != "" {
		ids = append(ids, healthCheck{LogicalID: canaryHealthCheck, ID: canary})
	}
	return append(ids, healthCheck{LogicalID: overrideHealthCheck, ID: override}), ""
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// orElse is v, or def when v is empty.
func orElse(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func orText(ok, failed string) string {
	if failed != "" {
		return failed
	}
	return ok
}
