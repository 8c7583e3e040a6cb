package dr

// drctl route at its seams (SEAM TESTS: AWS IS NOT CALLED). EventBridge Scheduler, CloudWatch,
// STS and Route 53 are fakes of the SDK interfaces that record every call with its region
// (awsseam_fakes_test.go). They pin what drctl asks for, where, and what it concludes; what a
// real account does with the schedule (publisher jitter, late points, Route 53's treatment of
// empty periods) only a real account settles.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	schtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/dr/exec"
)

// onlyDRRegion fails unless every SDK call went to the DR region, but the best-effort Route 53
// reads (us-east-1, its control plane).
func onlyDRRegion(t *testing.T, e *env) {
	t.Helper()
	if len(e.sdk) == 0 {
		t.Fatal("no SDK call recorded: the region check proves nothing")
	}
	for _, c := range e.sdk {
		if strings.HasPrefix(c, "route53:") {
			continue
		}
		if !strings.HasSuffix(c, "@us-west-2") {
			t.Errorf("call outside the DR region us-west-2: %s", c)
		}
	}
}

func sdkCalls(e *env, prefix string) []string {
	var out []string
	for _, c := range e.sdk {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

func routeRecordOf(t *testing.T, res *Result) routeRecord {
	t.Helper()
	var rec routeRecord
	if err := json.Unmarshal([]byte(readBundle(t, res)["route-after.json"]), &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestRouteSeamToDRCreatesOneScheduleInTheDRRegion(t *testing.T) {
	e := newEnv(t)
	e.sw.lag = 2 // the first points take two reads to show
	e.opts.To = "dr"
	e.deps.Predict = func(_ context.Context, cfg *drcontext.Config, to string) (ShiftPrediction, error) {
		if cfg.EnvironmentName != "prod" || to != "dr" {
			t.Errorf("Predict(%s, %s)", cfg.EnvironmentName, to)
		}
		return ShiftPrediction{Best: 90 * time.Second, Worst: 7 * time.Minute, Basis: "prod templates, TTL 60 s"}, nil
	}
	res, err := Route(context.Background(), e.opts.route(), e.deps)
	if err != nil {
		t.Fatalf("%v\n%s", err, e.out.String())
	}
	if len(e.sw.creates) != 1 {
		t.Fatalf("%d CreateSchedule calls, want 1", len(e.sw.creates))
	}
	in := e.sw.creates[0]
	tg := in.Target
	if aws.ToString(in.Name) != requestSchedule || aws.ToString(in.GroupName) != contract.ScheduleGroupDefault ||
		aws.ToString(in.ScheduleExpression) != contract.PublishSchedule || in.State != schtypes.ScheduleStateEnabled ||
		in.FlexibleTimeWindow.Mode != schtypes.FlexibleTimeWindowModeOff || aws.ToString(tg.Arn) != contract.PutMetricDataTarget ||
		aws.ToString(tg.RoleArn) != publisherRole || aws.ToString(tg.Input) != contract.RoutingRequestInput("prod", contract.FailoverValueRequested) {
		t.Fatalf("created %s in %s: %s %s target %s role %s input %s", aws.ToString(in.Name), aws.ToString(in.GroupName), aws.ToString(in.ScheduleExpression),
			in.State, aws.ToString(tg.Arn), aws.ToString(tg.RoleArn), aws.ToString(tg.Input))
	}
	var req contract.PutMetricDataRequest
	if err := json.Unmarshal([]byte(aws.ToString(tg.Input)), &req); err != nil || req.MetricData[0].Value != 1 || req.MetricData[0].Dimensions[0].Value != "prod" {
		t.Fatalf("input %s: %v", aws.ToString(tg.Input), err)
	}
	onlyDRRegion(t, e)
	if got := sdkCalls(e, "sts:"); len(got) != 1 || got[0] != "sts:GetCallerIdentity @us-west-2" {
		t.Errorf("STS calls %v, want one in the DR region", got)
	}
	// The calculated check is never asked: GetHealthCheckStatus does not answer for one.
	for _, c := range sdkCalls(e, "route53:GetHealthCheckStatus") {
		if strings.Contains(c, "hc-calc") || strings.Contains(c, "hc-other") {
			t.Errorf("asked %s", c)
		}
	}
	files := readBundle(t, res)
	if !strings.Contains(files["route-before.json"], `"alarmState": "OK"`) || !strings.Contains(files["route-before.json"], `"exists": false`) {
		t.Errorf("before:\n%s", files["route-before.json"])
	}
	if p := phases(t, files); p["switch before"] != "ok" || p["publish dr"] != "ok" || p["re-check"] != "ok" {
		t.Errorf("phases %v", p)
	}
	rec := routeRecordOf(t, res)
	if rec.After.AlarmState != "ALARM" || !rec.After.Request.Exists || rec.Recheck.Verdict != verdictAgrees || len(rec.Recheck.Observations) != recheckPeriods ||
		rec.Prediction == nil || rec.Prediction.Best != "1m30s" || rec.Prediction.Worst != "7m0s" || rec.Observed.DataStream == "" || rec.Observed.Route53 == "" ||
		rec.Recheck.Period != "5m0s" || !strings.HasPrefix(rec.Action, "created the request schedule") {
		t.Fatalf("route-after.json: %+v", rec)
	}
	// The re-check waits whole alarm periods (read from DescribeAlarms), through the Sleep seam.
	if after, err := time.ParseDuration(rec.Recheck.Observations[2].After); err != nil || after < 3*5*time.Minute {
		t.Errorf("third re-check %s after the request, want about 3 periods", rec.Recheck.Observations[2].After)
	}
	for _, want := range []string{"Route 53 should answer the DR (SECONDARY) record within 1m30s-7m0s (model: prod templates, TTL 60 s)",
		"created the request schedule ValkeyDr-prod-failover-request in us-west-2", "the data stream holds the request",
		"health check FailoverOverrideHealthCheck (hc-override): 0 checker(s) healthy, 3 unhealthy", "re-check: agrees"} {
		if !strings.Contains(e.out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, e.out.String())
		}
	}
}

func TestRouteSeamToDRTwiceIsIdempotent(t *testing.T) {
	e := newEnv(t)
	e.opts.To = "dr"
	if _, err := Route(context.Background(), e.opts.route(), e.deps); err != nil {
		t.Fatalf("%v\n%s", err, e.out.String())
	}
	e.out.Reset()
	res, err := Route(context.Background(), e.opts.route(), e.deps)
	if err != nil {
		t.Fatalf("second --to dr: %v\n%s", err, e.out.String())
	}
	if len(e.sw.creates) != 1 || len(sdkCalls(e, "scheduler:CreateSchedule")) != 1 {
		t.Fatalf("%d schedules created over two runs, want 1", len(e.sw.creates))
	}
	if rec := routeRecordOf(t, res); !strings.Contains(rec.Action, "already exists as drctl creates it: kept") || rec.Recheck.Verdict != verdictAgrees {
		t.Fatalf("second run: %+v", rec)
	}
	onlyDRRegion(t, e)
}

func TestRouteSeamToPrimaryDeletesTheRequest(t *testing.T) {
	e := newEnv(t)
	e.sw.put(requestSchedule, contract.FailoverValueRequested, schtypes.ScheduleStateEnabled)
	e.sw.lag = 1
	e.opts.To = "primary"
	res, err := Route(context.Background(), e.opts.route(), e.deps)
	if err != nil {
		t.Fatalf("%v\n%s", err, e.out.String())
	}
	if len(e.sw.deletes) != 1 || e.sw.deletes[0] != requestSchedule {
		t.Fatalf("deleted %v", e.sw.deletes)
	}
	if _, ok := e.sw.schedules["ValkeyDr-prod-failover-heartbeat"]; !ok {
		t.Fatal("the heartbeat was touched")
	}
	rec := routeRecordOf(t, res)
	if rec.After.AlarmState != "OK" || rec.After.Request.Exists || rec.Recheck.Verdict != verdictAgrees || !strings.HasPrefix(rec.Action, "deleted the request schedule") {
		t.Fatalf("route-after.json: %+v", rec)
	}
	if len(sdkCalls(e, "scheduler:CreateSchedule")) != 0 {
		t.Fatal("--to primary created a schedule")
	}
	onlyDRRegion(t, e)
}

func TestRouteSeamToPrimaryWithNothingRequestedIsFine(t *testing.T) {
	e := newEnv(t)
	e.opts.To = "primary"
	res, err := Route(context.Background(), e.opts.route(), e.deps)
	if err != nil {
		t.Fatalf("%v\n%s", err, e.out.String())
	}
	if rec := routeRecordOf(t, res); !strings.Contains(rec.Action, "no request schedule ValkeyDr-prod-failover-request in us-west-2: the request was already cleared") {
		t.Fatalf("action %q", rec.Action)
	}
	if !strings.Contains(e.out.String(), "already cleared (nothing changed)") {
		t.Errorf("output:\n%s", e.out.String())
	}
}

func TestRouteSeamAnEditedRequestIsReported(t *testing.T) {
	for name, edit := range map[string]struct {
		do   func(*fakeSwitch)
		want string
	}{
		"disabled":    {func(sw *fakeSwitch) { sw.put(requestSchedule, 1, schtypes.ScheduleStateDisabled) }, "state DISABLED (want ENABLED)"},
		"publishes 0": {func(sw *fakeSwitch) { sw.put(requestSchedule, 0, schtypes.ScheduleStateEnabled) }, "its input does not publish FailoverRequested=1"},
		"another role": {func(sw *fakeSwitch) {
			sw.put(requestSchedule, 1, schtypes.ScheduleStateEnabled).Target.RoleArn = aws.String("arn:aws:iam::333333333333:role/Admin")
		}, "role arn:aws:iam::333333333333:role/Admin (want " + publisherRole + ")"},
		"another rate": {func(sw *fakeSwitch) {
			sw.put(requestSchedule, 1, schtypes.ScheduleStateEnabled).ScheduleExpression = aws.String("rate(10 minutes)")
		}, `expression "rate(10 minutes)" (want "rate(1 minute)")`},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			edit.do(e.sw)
			e.opts.To = "dr"
			_, err := Route(context.Background(), e.opts.route(), e.deps)
			wantErr(t, err, 1, "the request schedule ValkeyDr-prod-failover-request in us-west-2 exists but is not what drctl creates", edit.want, "TO=primary")
			if len(e.sw.creates) != 0 {
				t.Fatal("a schedule was created over the edited one")
			}
		})
	}
	t.Run("disabled after the switch: the re-check disagrees", func(t *testing.T) {
		e := newEnv(t)
		e.opts.To = "dr"
		reads := 0
		e.deps.AWS.Sleep = func(ctx context.Context, d time.Duration) error {
			e.clock = e.clock.Add(d)
			if d >= 5*time.Minute { // the first re-check period: someone disables the schedule
				if reads++; reads == 1 {
					e.sw.schedules[requestSchedule].State = schtypes.ScheduleStateDisabled
					e.sw.change()
				}
			}
			return nil
		}
		res, err := Route(context.Background(), e.opts.route(), e.deps)
		wantErr(t, err, 1, "the switch does not hold", "state DISABLED")
		if rec := routeRecordOf(t, res); rec.Recheck.Verdict != verdictDisagrees {
			t.Fatalf("re-check %+v", rec.Recheck)
		}
		if p := phases(t, readBundle(t, res)); p["publish dr"] != "ok" || p["re-check"] != "failed" {
			t.Fatalf("phases %v", p)
		}
	})
}

func TestRouteSeamRecheckWithZeroObservationsIsUnknown(t *testing.T) {
	e := newEnv(t)
	e.opts.To = "dr"
	e.deps.AWS.Sleep = func(ctx context.Context, d time.Duration) error {
		e.clock = e.clock.Add(d)
		if d >= 5*time.Minute {
			e.sw.failReads = true // the DR region stops answering after the switch
		}
		return nil
	}
	res, err := Route(context.Background(), e.opts.route(), e.deps)
	if err != nil {
		t.Fatalf("%v\n%s", err, e.out.String())
	}
	rec := routeRecordOf(t, res)
	if rec.Recheck.Verdict != verdictUnknown || !strings.Contains(rec.Recheck.Note, "zero observations") {
		t.Fatalf("re-check %+v", rec.Recheck)
	}
	for _, o := range rec.Recheck.Observations {
		if o.Verdict == verdictAgrees {
			t.Fatalf("an observation without reads agrees: %+v", o)
		}
	}
	if !strings.Contains(e.out.String(), "re-check: unknown") || strings.Contains(e.out.String(), "re-check: agrees") {
		t.Errorf("output:\n%s", e.out.String())
	}
}

func TestRouteSeamFailuresAndBestEffort(t *testing.T) {
	denied := &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User is not authorized to perform: iam:PassRole"}
	for name, tc := range map[string]struct {
		to     string
		setup  func(*env, *fakeRoute53)
		code   int
		msg    []string
		out    []string
		create int
	}{
		"a bad --to names the flag and what is accepted": {
			to: "west", code: 2, msg: []string{`--to "west" (TO=): want dr or primary`},
		},
		"Route 53's control plane not answering is said and the route finishes": {
			to: "dr", create: 1, setup: func(e *env, r *fakeRoute53) {
				r.err = errors.New("dial tcp: lookup route53.amazonaws.com: i/o timeout")
			},
			out: []string{"health checks not asked: Route 53's control plane (us-east-1) did not list them", "the switch does not need them"},
		},
		"no switch alarm: refused before any change": {
			to: "dr", code: 1, setup: func(e *env, _ *fakeRoute53) { e.sw.noAlarm = true },
			msg: []string{"no alarm ValkeyDr-prod-failover-requested: is the switch stack deployed"},
		},
		"creating denied names the action and the policy": {
			to: "dr", code: 1, setup: func(e *env, _ *fakeRoute53) { e.sw.createErr = denied },
			msg: []string{"AccessDeniedException", "attach docs/iam/route.json", "scheduler:CreateSchedule and iam:PassRole"},
		},
		"a publisher that never delivers fails after the bounded wait, the request standing": {
			to: "dr", code: 1, create: 1, setup: func(e *env, _ *fakeRoute53) { e.sw.brokenPublisher = true },
			msg: []string{"the request schedule ValkeyDr-prod-failover-request exists, but after 4m0s the data stream does not show it", "the request stands"},
		},
		"no heartbeat is said": {
			to: "dr", create: 1, setup: func(e *env, _ *fakeRoute53) {
				delete(e.sw.schedules, "ValkeyDr-prod-failover-heartbeat")
				e.sw.shown = nil
			},
			out: []string{"NOTE: no heartbeat schedule ValkeyDr-prod-failover-heartbeat"},
		},
		"credentials of another account are refused before any change": {
			to: "dr", code: 1, setup: func(e *env, _ *fakeRoute53) {
				e.fake.Script = append([]drexec.Step{stsWrongAcct}, e.fake.Script...)
			},
			msg: []string{"account 999999999999", "deploys to account 333333333333"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			r53 := &fakeRoute53{e: e, sw: e.sw}
			e.withAWS(e.sw, r53)
			if tc.setup != nil {
				tc.setup(e, r53)
			}
			e.opts.To = tc.to
			_, err := Route(context.Background(), e.opts.route(), e.deps)
			t.Logf("output:\n%s", e.out.String())
			if tc.code == 0 && err != nil {
				t.Fatalf("error %v", err)
			}
			if tc.code != 0 {
				wantErr(t, err, tc.code, tc.msg...)
			}
			if len(e.sw.creates) != tc.create {
				t.Fatalf("%d schedules created, want %d", len(e.sw.creates), tc.create)
			}
			for _, o := range tc.out {
				if !strings.Contains(e.out.String(), o) {
					t.Errorf("output lacks %q", o)
				}
			}
		})
	}
}

func TestRouteSeamNoPredictionPrintsNothing(t *testing.T) {
	e := newEnv(t)
	e.opts.To = "dr"
	res, err := Route(context.Background(), e.opts.route(), e.deps)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(e.out.String(), "should answer") || strings.Contains(e.out.String(), "prediction") {
		t.Errorf("a prediction without a model:\n%s", e.out.String())
	}
	if rec := routeRecordOf(t, res); rec.Prediction != nil {
		t.Errorf("prediction recorded: %+v", rec.Prediction)
	}
}

// The identity check's errors become sentences that say what to do.
func TestCredentialsHintSeam(t *testing.T) {
	t.Setenv("AWS_PROFILE", "prod-ops")
	for name, tc := range map[string]struct {
		err  error
		want string
	}{
		"expired SSO session": {errors.New("operation error STS: GetCallerIdentity, get identity: get credentials: failed to refresh cached credentials, refresh cached SSO token failed, unable to refresh SSO token, operation error SSO OIDC: CreateToken, InvalidGrantException"),
			"the AWS SSO session has expired: run `aws sso login --profile prod-ops` and re-run"},
		"expired SSO session (typed)": {fmt.Errorf("operation error STS: GetCallerIdentity, get identity: get credentials: %w", &ssocreds.InvalidTokenError{}), "the AWS SSO session has expired: run `aws sso login --profile prod-ops`"},
		"no credentials": {errors.New("operation error STS: GetCallerIdentity, get identity: get credentials: failed to refresh cached credentials, no EC2 IMDS role found, operation error ec2imds: GetMetadata, canceled"),
			"no usable AWS credentials (failed to refresh cached credentials, no EC2 IMDS role found, operation error ec2imds: GetMetadata, canceled): log in (`aws sso login --profile prod-ops`"},
		"expired token":             {&smithy.GenericAPIError{Code: "ExpiredToken", Message: "The security token included in the request is expired"}, "the AWS credentials have expired (ExpiredToken): log in again (`aws sso login --profile prod-ops`"},
		"invalid key":               {&smithy.GenericAPIError{Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid."}, "the AWS credentials are not valid (InvalidClientTokenId"},
		"access denied":             {&smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized to perform: sts:GetCallerIdentity"}, "access denied to sts:GetCallerIdentity (AccessDenied: not authorized to perform: sts:GetCallerIdentity): the role needs sts:GetCallerIdentity"},
		"anything else is one line": {errors.New("dial tcp: lookup sts.us-west-2.amazonaws.com: no such host\nmore"), "dial tcp: lookup sts.us-west-2.amazonaws.com: no such host"},
	} {
		t.Run(name, func(t *testing.T) {
			if got := credentialsHint(tc.err, "sts:GetCallerIdentity"); !strings.Contains(got, tc.want) {
				t.Fatalf("hint %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("the preflight says it, naming the region and the account", func(t *testing.T) {
		e := newEnv(t, stsNoCreds)
		_, err := credentials(context.Background(), e.deps.AWS, "us-west-2", account)
		wantErr(t, err, contract.ExitFailed, "cannot prove AWS credentials for account 333333333333 (sts:GetCallerIdentity in us-west-2)", "no usable AWS credentials", "aws sso login")
	})
}

// The real STS client resolves the DR region's regional endpoint, never the global one (no
// network: endpoint resolution is local).
func TestRegionalSTSEndpointSeam(t *testing.T) {
	for _, region := range []string{"us-west-2", "us-east-1", "eu-west-1"} {
		c := newRegionalSTS(aws.Config{Region: region})
		ep, err := c.Options().EndpointResolverV2.ResolveEndpoint(context.Background(), sts.EndpointParameters{Region: aws.String(region), UseGlobalEndpoint: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		if want := "https://sts." + region + ".amazonaws.com"; ep.URI.String() != want {
			t.Errorf("%s: STS endpoint %s, want %s", region, ep.URI.String(), want)
		}
	}
}

func TestActivateSeamRouteForce(t *testing.T) {
	t.Run("force requests failover after validation and the canary preflight", func(t *testing.T) {
		e := newEnv(t, activationScript(deployOK, validatorOK)...)
		e.opts.Region, e.opts.Route = "us-west-2", RouteForce
		res, err := Activate(context.Background(), e.opts.activate(), e.deps)
		if err != nil {
			t.Fatalf("%v\n%s", err, e.out.String())
		}
		if len(e.sw.creates) != 1 {
			t.Fatalf("%d request schedules created, want one", len(e.sw.creates))
		}
		p := phases(t, readBundle(t, res))
		if p["validation"] != "ok" || p["canary preflight"] != "ok" || p["publish dr"] != "ok" {
			t.Fatalf("phases %v", p)
		}
		// On the night, the only calls outside the DR region are the best-effort reads of the
		// primary stack (the probe) and of Route 53.
		for _, c := range e.sdk {
			if !strings.HasSuffix(c, "@us-west-2") && !strings.HasPrefix(c, "route53:") && c != "cloudformation:DescribeStacks "+primStack+" @us-east-1" {
				t.Errorf("call outside the DR region: %s", c)
			}
		}
	})
	t.Run("auto leaves routing to the health checks", func(t *testing.T) {
		e, _ := activated(t)
		if len(e.sw.creates) != 0 || !strings.Contains(e.out.String(), "routing: --route=auto: leave it to the health checks") {
			t.Fatalf("auto created %d schedules:\n%s", len(e.sw.creates), e.out.String())
		}
	})
	// Force requests failover only when both gates pass: a failed validation or a canary
	// that does not publish 1 fails the activation with no request made.
	for _, tc := range []struct {
		name      string
		validator drexec.Step
		success   [][]float64 // the canary's Success data
		want      string
	}{
		{"a failed validation requests nothing", validatorBad, [][]float64{{1}}, "validation failed"},
		{"a canary publishing 0 holds the request", validatorOK, [][]float64{{0, 0}}, "routing NOT released: the canary gc-sessions-canary in us-west-2 publishes Success 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, activationScript(deployOK, tc.validator)...)
			e.sw.success = tc.success
			e.opts.Region, e.opts.Route = "us-west-2", RouteForce
			_, err := Activate(context.Background(), e.opts.activate(), e.deps)
			wantErr(t, err, 1, tc.want)
			if len(e.sw.creates) != 0 {
				t.Fatal("failover requested although a gate failed")
			}
		})
	}
	t.Run("a bad --route is a usage error before anything runs", func(t *testing.T) {
		e := newEnv(t)
		e.opts.Region, e.opts.Route = "us-west-2", "always"
		_, err := Activate(context.Background(), e.opts.activate(), e.deps)
		wantErr(t, err, 2, `--route "always" (ROUTE=): want auto or force`)
		if len(e.calls()) != 0 || len(e.sdk) != 0 {
			t.Fatalf("commands ran: %v %v", e.calls(), e.sdk)
		}
	})
	t.Run("--local runs the validator here", func(t *testing.T) {
		e := newEnv(t, activationScript(deployOK, validatorOK)...)
		e.opts.Region, e.opts.Local = "us-west-2", true
		if _, err := Activate(context.Background(), e.opts.activate(), e.deps); err != nil {
			t.Fatal(err)
		}
		for _, c := range e.calls() {
			if strings.Contains(c, "--via-function") {
				t.Fatalf("--local still invoked the canary: %s", c)
			}
		}
	})
}

// Seam test: --no-recheck ends the switch once the request is in the data stream: no wait of
// alarm periods, the re-check recorded as unknown (never "agrees"), the timeline says why.
func TestRouteSeamNoRecheckEndsAtTheDataStream(t *testing.T) {
	e := newEnv(t)
	e.opts.To = "dr"
	var longest time.Duration
	e.deps.AWS.Sleep = func(ctx context.Context, d time.Duration) error {
		e.clock = e.clock.Add(d)
		longest = max(longest, d)
		return nil
	}
	o := e.opts.route()
	o.NoRecheck = true
	res, err := Route(context.Background(), o, e.deps)
	if err != nil {
		t.Fatalf("%v\n%s", err, e.out.String())
	}
	rec := routeRecordOf(t, res)
	if rec.Recheck.Verdict != verdictUnknown || !strings.Contains(rec.Recheck.Note, "--no-recheck") || len(rec.Recheck.Observations) != 0 {
		t.Fatalf("re-check %+v: want unknown, no observations, the flag named", rec.Recheck)
	}
	if longest >= 5*time.Minute {
		t.Errorf("waited %s: a whole alarm period, which --no-recheck skips", longest)
	}
	if rec.Action == "" || rec.RequestedAt == "" {
		t.Errorf("the switch itself was not made: %+v", rec)
	}
}
