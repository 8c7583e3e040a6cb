package dr

// drctl route at its seams: CloudWatch and Route 53 are fakes of the SDK interfaces (AWS WAS
// NOT CALLED), the aws CLI is drexec.Fake. What a real account does with the data point (the
// alarm's period, Route 53's checkers) only a real account settles.

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/dr/exec"
)

// fakeCloudWatch is the switch alarm and the canary's metric: the alarm follows the last
// published value after `lag` DescribeAlarms calls (its evaluation period).
type fakeCloudWatch struct {
	mu       sync.Mutex
	puts     []*cloudwatch.PutMetricDataInput
	state    cwtypes.StateValue
	lag      int
	putErr   error
	alarmErr error
	noAlarm  bool
	// success are GetMetricData answers in turn (canary preflight); the last repeats.
	success [][]float64
	gets    int
	getErr  error
}

func (f *fakeCloudWatch) PutMetricData(_ context.Context, in *cloudwatch.PutMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.putErr != nil {
		return nil, f.putErr
	}
	f.puts = append(f.puts, in)
	return &cloudwatch.PutMetricDataOutput{}, nil
}

func (f *fakeCloudWatch) DescribeAlarms(_ context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.alarmErr != nil {
		return nil, f.alarmErr
	}
	if f.noAlarm {
		return &cloudwatch.DescribeAlarmsOutput{}, nil
	}
	if len(f.puts) > 0 {
		if f.lag > 0 {
			f.lag--
		} else if *f.puts[len(f.puts)-1].MetricData[0].Value == 1 {
			f.state = cwtypes.StateValueAlarm
		} else {
			f.state = cwtypes.StateValueOk
		}
	}
	return &cloudwatch.DescribeAlarmsOutput{MetricAlarms: []cwtypes.MetricAlarm{{AlarmName: aws.String(in.AlarmNames[0]), StateValue: f.state,
		StateReason: aws.String("Threshold Crossed"), StateUpdatedTimestamp: aws.Time(time.Date(2026, 3, 4, 5, 0, 0, 0, time.UTC))}}}, nil
}

func (f *fakeCloudWatch) GetMetricData(_ context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.getErr != nil {
		return nil, f.getErr
	}
	i := min(f.gets, len(f.success)-1)
	f.gets++
	var vals []float64
	if i >= 0 {
		vals = f.success[i]
	}
	return &cloudwatch.GetMetricDataOutput{MetricDataResults: []cwtypes.MetricDataResult{{Id: in.MetricDataQueries[0].Id, Values: vals}}}, nil
}

// fakeRoute53 answers GetHealthCheckStatus from the alarm state of the fake CloudWatch.
type fakeRoute53 struct {
	cw   *fakeCloudWatch
	err  error
	asks []string
}

func (f *fakeRoute53) GetHealthCheckStatus(_ context.Context, in *route53.GetHealthCheckStatusInput, _ ...func(*route53.Options)) (*route53.GetHealthCheckStatusOutput, error) {
	f.asks = append(f.asks, *in.HealthCheckId)
	if f.err != nil {
		return nil, f.err
	}
	status := "Success: HTTP Status Code 200. Resolved IP: n/a"
	if *in.HealthCheckId == "hc-override" && f.cw.state == cwtypes.StateValueAlarm {
		status = "Failure: the alarm is in ALARM"
	}
	var obs []r53types.HealthCheckObservation
	for _, r := range []r53types.HealthCheckRegion{"us-east-1", "us-west-2", "eu-west-1"} {
		obs = append(obs, r53types.HealthCheckObservation{Region: r, StatusReport: &r53types.StatusReport{Status: aws.String(status)}})
	}
	return &route53.GetHealthCheckStatusOutput{HealthCheckObservations: obs}, nil
}

var listPrimaryOK = drexec.Step{Match: "list-stack-resources --stack-name " + primStack + " --region us-east-1", Result: drexec.Result{Stdout: []byte(`{"StackResourceSummaries":[
 {"LogicalResourceId":"DnsPrimaryHealthCheck1A2B3C","PhysicalResourceId":"hc-canary","ResourceType":"AWS::Route53::HealthCheck"},
 {"LogicalResourceId":"DnsFailoverOverrideHealthCheck4D5E","PhysicalResourceId":"hc-override","ResourceType":"AWS::Route53::HealthCheck"},
 {"LogicalResourceId":"DnsPrimaryCalculatedHealthCheck6F7A","PhysicalResourceId":"hc-calc","ResourceType":"AWS::Route53::HealthCheck"}]}`)}}

func (e *env) withAWS(cw *fakeCloudWatch, r53 *fakeRoute53) {
	e.deps.AWS = AWS{
		CloudWatch: func(_ context.Context, region string) (CloudWatchAPI, error) {
			e.cwRegions = append(e.cwRegions, region)
			return cw, nil
		},
		Route53: func(context.Context) (Route53API, error) { return r53, nil },
		Sleep:   func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	}
}

func TestRouteSeamToDR(t *testing.T) {
	e := newEnv(t, listPrimaryOK)
	cw := &fakeCloudWatch{state: cwtypes.StateValueInsufficientData, lag: 2}
	r53 := &fakeRoute53{cw: cw}
	e.withAWS(cw, r53)
	e.opts.To = "dr"
	res, err := Route(context.Background(), e.opts, e.deps)
	if err != nil {
		t.Fatalf("%v\n%s", err, e.out.String())
	}
	if len(cw.puts) != 1 {
		t.Fatalf("%d PutMetricData calls", len(cw.puts))
	}
	if strings.Join(e.cwRegions, ",") != "us-west-2" {
		t.Errorf("CloudWatch asked in %v, want the DR region us-west-2 only", e.cwRegions)
	}
	in := cw.puts[0]
	d := in.MetricData[0]
	if *in.Namespace != contract.RoutingNamespace || *d.MetricName != contract.MetricFailoverRequested || *d.Value != contract.FailoverValueRequested ||
		*d.Dimensions[0].Name != contract.RoutingDimension || *d.Dimensions[0].Value != "prod" {
		t.Fatalf("published %s %s=%v %v", *in.Namespace, *d.MetricName, *d.Value, d.Dimensions)
	}
	// The calculated check is never asked: GetHealthCheckStatus does not answer for one.
	for _, id := range r53.asks {
		if id == "hc-calc" {
			t.Error("GetHealthCheckStatus asked for the calculated health check")
		}
	}
	files := readBundle(t, res)
	if !strings.Contains(files["route-before.json"], `"alarmState": "INSUFFICIENT_DATA"`) || !strings.Contains(files["route-after.json"], `"alarmState": "ALARM"`) ||
		!strings.Contains(files["route-after.json"], `"logicalId": "FailoverOverrideHealthCheck"`) {
		t.Fatalf("before:\n%s\nafter:\n%s", files["route-before.json"], files["route-after.json"])
	}
	for _, want := range []string{"waiting for ALARM", "published 1: failover requested", "health check FailoverOverrideHealthCheck (hc-override): 0 checker(s) healthy, 3 unhealthy"} {
		if !strings.Contains(e.out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, e.out.String())
		}
	}
}

func TestRouteSeamBestEffortAndFailures(t *testing.T) {
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "User is not authorized to perform: cloudwatch:PutMetricData"}
	primaryDown := drexec.Step{Match: "list-stack-resources", Result: drexec.Result{ExitCode: 255, Stderr: []byte("\nCould not connect to the endpoint URL: \"https://cloudformation.us-east-1.amazonaws.com/\"\n")}}
	for name, tc := range map[string]struct {
		to      string
		list    drexec.Step
		cw      *fakeCloudWatch
		r53Err  error
		code    int
		msg     []string
		out     []string
		noPuts  bool
		wantPut float64
	}{
		"a bad --to names the flag and what is accepted": {
			to: "west", code: 2, msg: []string{`--to "west" (TO=): want dr or primary`}, noPuts: true,
		},
		"the primary region down: no health check ids, the switch still moves": {
			to: "dr", list: primaryDown, cw: &fakeCloudWatch{state: cwtypes.StateValueOk}, code: 0, wantPut: 1,
			out: []string{"health checks not asked: the primary stack ValkeyDr-prod-us-east-1-primary in us-east-1 could not be listed", "the switch does not need it"},
		},
		"Route 53's control plane not answering is said and the route finishes": {
			to: "primary", list: listPrimaryOK, cw: &fakeCloudWatch{state: cwtypes.StateValueAlarm}, r53Err: errors.New("dial tcp: lookup route53.amazonaws.com: i/o timeout"),
			code: 0, wantPut: 0, out: []string{"Route 53's control plane (us-east-1) did not answer; the switch works through its data plane regardless"},
		},
		"no switch alarm: refused before publishing": {
			to: "dr", list: listPrimaryOK, cw: &fakeCloudWatch{noAlarm: true}, code: 1, noPuts: true,
			msg: []string{"no alarm ValkeyDr-prod-failover-requested: is the switch stack deployed"},
		},
		"publishing denied names the policy": {
			to: "dr", list: listPrimaryOK, cw: &fakeCloudWatch{state: cwtypes.StateValueOk, putErr: denied}, code: 1, noPuts: true,
			msg: []string{"AccessDenied", "attach docs/iam/route.json"},
		},
		"an alarm that never turns is a failure after the bounded wait": {
			to: "dr", list: listPrimaryOK, cw: &fakeCloudWatch{state: cwtypes.StateValueOk, lag: 1000}, code: 1, wantPut: 1,
			msg: []string{"published, but the switch alarm ValkeyDr-prod-failover-requested is still OK after 4m0s (want ALARM)"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			var script []drexec.Step
			if tc.list.Match != "" {
				script = append(script, tc.list)
			}
			e := newEnv(t, script...)
			cw := tc.cw
			if cw == nil {
				cw = &fakeCloudWatch{}
			}
			e.withAWS(cw, &fakeRoute53{cw: cw, err: tc.r53Err})
			e.opts.To = tc.to
			_, err := Route(context.Background(), e.opts, e.deps)
			t.Logf("output:\n%s", e.out.String())
			if tc.code == 0 && err != nil {
				t.Fatalf("error %v", err)
			}
			if tc.code != 0 {
				wantErr(t, err, tc.code, tc.msg...)
			}
			if tc.noPuts != (len(cw.puts) == 0) {
				t.Fatalf("%d puts, want none: %v", len(cw.puts), tc.noPuts)
			}
			if !tc.noPuts && *cw.puts[0].MetricData[0].Value != tc.wantPut {
				t.Errorf("published %v, want %v", *cw.puts[0].MetricData[0].Value, tc.wantPut)
			}
			for _, o := range tc.out {
				if !strings.Contains(e.out.String(), o) {
					t.Errorf("output lacks %q", o)
				}
			}
		})
	}
}

func TestActivateSeamRouteForce(t *testing.T) {
	t.Run("force requests failover after validation and the canary preflight", func(t *testing.T) {
		e := newEnv(t, append(activationScript(deployOK, validatorOK), listPrimaryOK)...)
		e.opts.Region, e.opts.Route = "us-west-2", RouteForce
		res, err := Activate(context.Background(), e.opts, e.deps)
		if err != nil {
			t.Fatalf("%v\n%s", err, e.out.String())
		}
		if len(e.cw.puts) != 1 || *e.cw.puts[0].MetricData[0].Value != 1 {
			t.Fatalf("published %d values, want one 1", len(e.cw.puts))
		}
		p := phases(t, readBundle(t, res))
		if p["validation"] != "ok" || p["canary preflight"] != "ok" || p["publish dr"] != "ok" {
			t.Fatalf("phases %v", p)
		}
	})
	t.Run("auto leaves routing to the health checks", func(t *testing.T) {
		e := newEnv(t, activationScript(deployOK, validatorOK)...)
		e.opts.Region = "us-west-2"
		if _, err := Activate(context.Background(), e.opts, e.deps); err != nil {
			t.Fatal(err)
		}
		if len(e.cw.puts) != 0 || !strings.Contains(e.out.String(), "routing: --route=auto: leave it to the health checks") {
			t.Fatalf("auto published %d values:\n%s", len(e.cw.puts), e.out.String())
		}
	})
	t.Run("a failed validation requests nothing", func(t *testing.T) {
		e := newEnv(t, append(activationScript(deployOK, validatorBad), listPrimaryOK)...)
		e.opts.Region, e.opts.Route = "us-west-2", RouteForce
		_, err := Activate(context.Background(), e.opts, e.deps)
		wantErr(t, err, 1, "validation failed")
		if len(e.cw.puts) != 0 {
			t.Fatal("a failed validation requested failover")
		}
	})
	t.Run("a canary publishing 0 holds the request", func(t *testing.T) {
		e := newEnv(t, append(activationScript(deployOK, validatorOK), listPrimaryOK)...)
		e.cw.success = [][]float64{{0, 0}}
		e.opts.Region, e.opts.Route = "us-west-2", RouteForce
		_, err := Activate(context.Background(), e.opts, e.deps)
		wantErr(t, err, 1, "routing NOT released: the canary gc-sessions-canary in us-west-2 publishes Success 0")
		if len(e.cw.puts) != 0 {
			t.Fatal("failover requested with a failing canary")
		}
	})
	t.Run("a bad --route is a usage error before anything runs", func(t *testing.T) {
		e := newEnv(t)
		e.opts.Region, e.opts.Route = "us-west-2", "always"
		_, err := Activate(context.Background(), e.opts, e.deps)
		wantErr(t, err, 2, `--route "always" (ROUTE=): want auto or force`)
		if len(e.calls()) != 0 {
			t.Fatalf("commands ran: %v", e.calls())
		}
	})
	t.Run("--local runs the validator here", func(t *testing.T) {
		e := newEnv(t, activationScript(deployOK, validatorOK)...)
		e.opts.Region, e.opts.Local = "us-west-2", true
		if _, err := Activate(context.Background(), e.opts, e.deps); err != nil {
			t.Fatal(err)
		}
		for _, c := range e.calls() {
			if strings.Contains(c, "--via-function") {
				t.Fatalf("--local still invoked the canary: %s", c)
			}
		}
	})
}
