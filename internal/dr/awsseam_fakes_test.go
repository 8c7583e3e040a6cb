package dr

// The SDK fakes of the seam tests (AWS IS NOT CALLED). Every fake records each call with the
// region of the client it was made for in env.sdk, so a test can prove where every call went.
// STS and CloudFormation answer through the command script (seam_test.go); the switch
// (EventBridge Scheduler and CloudWatch of the DR region) and Route 53 are small stateful
// models: the schedules that exist decide the data stream, the stream the alarm and the
// override health check. What a real account does (publisher jitter, how late a point lands,
// how Route 53 treats empty periods) only a real account settles.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/dr/exec"
)

func (e *env) record(format string, args ...any) {
	e.sdk = append(e.sdk, fmt.Sprintf(format, args...))
}

// scripted runs the pseudo command line of an SDK call through the command script.
func (e *env) scripted(ctx context.Context, args ...string) (drexec.Result, error) {
	return e.fake.Run(ctx, drexec.Cmd{Name: "sdk", Args: args})
}

// withAWS installs the fakes: sw for CloudWatch and EventBridge Scheduler (any region, each
// call recorded with its region), r53 for Route 53, STS and CloudFormation from the script.
func (e *env) withAWS(sw *fakeSwitch, r53 *fakeRoute53) {
	e.sw = sw
	e.deps.AWS = AWS{
		CloudWatch: func(_ context.Context, region string) (CloudWatchAPI, error) { return swClient{sw, region}, nil },
		Scheduler:  func(_ context.Context, region string) (SchedulerAPI, error) { return swClient{sw, region}, nil },
		Route53:    func(context.Context) (Route53API, error) { return r53, nil },
		STS:        func(_ context.Context, region string) (STSAPI, error) { return stsClient{e, region}, nil },
		CloudFormation: func(_ context.Context, region string) (CloudFormationAPI, error) {
			return cfnClient{e, region}, nil
		},
		// Sleeping moves the fake clock: the re-check's periods pass at once.
		Sleep: func(ctx context.Context, d time.Duration) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			e.clock = e.clock.Add(d)
			return nil
		},
	}
}

type stsClient struct {
	e      *env
	region string
}

func (c stsClient) GetCallerIdentity(ctx context.Context, _ *sts.GetCallerIdentityInput, _ ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	c.e.record("sts:GetCallerIdentity @%s", c.region)
	res, err := c.e.scripted(ctx, "sts:GetCallerIdentity", "@"+c.region)
	if err != nil {
		return nil, err
	}
	var id struct{ Account, Arn, UserId string }
	if err := json.Unmarshal(res.Stdout, &id); err != nil {
		return nil, err
	}
	return &sts.GetCallerIdentityOutput{Account: aws.String(id.Account), Arn: aws.String(id.Arn), UserId: aws.String(id.UserId)}, nil
}

type cfnClient struct {
	e      *env
	region string
}

func (c cfnClient) DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	stack := aws.ToString(in.StackName)
	c.e.record("cloudformation:DescribeStacks %s @%s", stack, c.region)
	res, err := c.e.scripted(ctx, "cloudformation:DescribeStacks", stack, "@"+c.region)
	if err != nil {
		return nil, err
	}
	var out struct {
		Stacks []struct {
			StackStatus                 string
			EnableTerminationProtection bool
			Outputs                     []struct{ OutputKey, OutputValue string }
		}
	}
	if err := json.Unmarshal(res.Stdout, &out); err != nil {
		return nil, err
	}
	ans := &cloudformation.DescribeStacksOutput{}
	for _, s := range out.Stacks {
		st := cfntypes.Stack{StackName: aws.String(stack), StackStatus: cfntypes.StackStatus(s.StackStatus), EnableTerminationProtection: aws.Bool(s.EnableTerminationProtection)}
		for _, o := range s.Outputs {
			st.Outputs = append(st.Outputs, cfntypes.Output{OutputKey: aws.String(o.OutputKey), OutputValue: aws.String(o.OutputValue)})
		}
		ans.Stacks = append(ans.Stacks, st)
	}
	return ans, nil
}

// GetTemplate answers with the script's Stdout as the template body (TemplateStage Original
// asked, or the fake refuses).
func (c cfnClient) GetTemplate(ctx context.Context, in *cloudformation.GetTemplateInput, _ ...func(*cloudformation.Options)) (*cloudformation.GetTemplateOutput, error) {
	stack := aws.ToString(in.StackName)
	c.e.record("cloudformation:GetTemplate %s @%s", stack, c.region)
	if in.TemplateStage != cfntypes.TemplateStageOriginal {
		return nil, fmt.Errorf("GetTemplate %s: TemplateStage %q, want Original (what cdk deploy submitted)", stack, in.TemplateStage)
	}
	res, err := c.e.scripted(ctx, "cloudformation:GetTemplate", stack, "@"+c.region)
	if err != nil {
		return nil, err
	}
	return &cloudformation.GetTemplateOutput{TemplateBody: aws.String(string(res.Stdout))}, nil
}

func (c cfnClient) UpdateTerminationProtection(ctx context.Context, in *cloudformation.UpdateTerminationProtectionInput, _ ...func(*cloudformation.Options)) (*cloudformation.UpdateTerminationProtectionOutput, error) {
	stack := aws.ToString(in.StackName)
	c.e.record("cloudformation:UpdateTerminationProtection %s @%s", stack, c.region)
	if _, err := c.e.scripted(ctx, "cloudformation:UpdateTerminationProtection", stack, fmt.Sprintf("enable=%v", aws.ToBool(in.EnableTerminationProtection)), "@"+c.region); err != nil {
		return nil, err
	}
	return &cloudformation.UpdateTerminationProtectionOutput{StackId: aws.String("arn:aws:cloudformation:" + c.region + ":" + account + ":stack/" + stack + "/1")}, nil
}

// fakeSwitch is the DR region's switch: the schedules, the FailoverRequested stream they
// publish (the Maximum of the values of the ENABLED schedules that can publish), the alarm
// on it, and the canary's Success metric.
type fakeSwitch struct {
	e  *env
	mu sync.Mutex
	// schedules by name (default group).
	schedules map[string]*scheduler.GetScheduleOutput
	creates   []*scheduler.CreateScheduleInput
	deletes   []string
	// lag is how many stream reads a change of the schedules takes to show (ingestion).
	lag, pending int
	shown        *float64
	// brokenPublisher: the request schedule exists but its points never arrive (bad role).
	brokenPublisher bool
	// failReads makes every read of the switch fail after the change (zero observations).
	failReads bool
	changed   bool
	period    int32
	noAlarm   bool
	alarmErr  error
	createErr error
	deleteErr error
	// success are the canary's GetMetricData answers in turn; the last repeats.
	success [][]float64
	gets    int
}

func newFakeSwitch(e *env) *fakeSwitch {
	sw := &fakeSwitch{e: e, period: 300, success: [][]float64{{1}}, schedules: map[string]*scheduler.GetScheduleOutput{}}
	sw.put("ValkeyDr-prod-failover-heartbeat", contract.FailoverValueCleared, schtypes.ScheduleStateEnabled)
	return sw
}

// put adds a schedule as the switch stack (heartbeat) or drctl (request) makes it.
func (sw *fakeSwitch) put(name string, value float64, state schtypes.ScheduleState) *scheduler.GetScheduleOutput {
	s := &scheduler.GetScheduleOutput{Name: aws.String(name), GroupName: aws.String(contract.ScheduleGroupDefault), State: state,
		ScheduleExpression: aws.String(contract.PublishSchedule), FlexibleTimeWindow: &schtypes.FlexibleTimeWindow{Mode: schtypes.FlexibleTimeWindowModeOff},
		Target: &schtypes.Target{Arn: aws.String(contract.PutMetricDataTarget), RoleArn: aws.String(publisherRole),
			Input: aws.String(contract.RoutingRequestInput("prod", value))}}
	sw.schedules[name] = s
	return s
}

const (
	requestSchedule = "ValkeyDr-prod-failover-request"
	publisherRole   = "arn:aws:iam::" + account + ":role/ValkeyDr-prod-routing-publisher"
	switchAlarm     = "ValkeyDr-prod-failover-requested"
)

// publishing is the Maximum the enabled schedules publish now (nil: nothing publishes).
func (sw *fakeSwitch) publishing() *float64 {
	var max *float64
	for name, s := range sw.schedules {
		if s.State != schtypes.ScheduleStateEnabled || aws.ToString(s.Target.Arn) != contract.PutMetricDataTarget {
			continue
		}
		if sw.brokenPublisher && name == requestSchedule {
			continue
		}
		var in contract.PutMetricDataRequest
		if json.Unmarshal([]byte(aws.ToString(s.Target.Input)), &in) != nil || len(in.MetricData) != 1 {
			continue
		}
		if v := in.MetricData[0].Value; max == nil || v > *max {
			max = &v
		}
	}
	return max
}

func (sw *fakeSwitch) change() {
	sw.pending, sw.changed = sw.lag, true
}

// current is the value the stream shows.
func (sw *fakeSwitch) current() *float64 {
	if sw.shown == nil && !sw.changed {
		sw.shown = sw.publishing()
	}
	return sw.shown
}

type swClient struct {
	sw     *fakeSwitch
	region string
}

var errReadDown = errors.New("operation error: dial tcp: i/o timeout")

func (c swClient) CreateSchedule(_ context.Context, in *scheduler.CreateScheduleInput, _ ...func(*scheduler.Options)) (*scheduler.CreateScheduleOutput, error) {
	sw := c.sw
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.e.record("scheduler:CreateSchedule %s @%s", aws.ToString(in.Name), c.region)
	if sw.createErr != nil {
		return nil, sw.createErr
	}
	if _, ok := sw.schedules[aws.ToString(in.Name)]; ok {
		return nil, &schtypes.ConflictException{Message: aws.String("Schedule " + aws.ToString(in.Name) + " already exists.")}
	}
	sw.creates = append(sw.creates, in)
	sw.schedules[aws.ToString(in.Name)] = &scheduler.GetScheduleOutput{Name: in.Name, GroupName: in.GroupName, State: in.State,
		ScheduleExpression: in.ScheduleExpression, FlexibleTimeWindow: in.FlexibleTimeWindow, Target: in.Target}
	sw.change()
	return &scheduler.CreateScheduleOutput{ScheduleArn: aws.String("arn:aws:scheduler:" + c.region + ":" + account + ":schedule/default/" + aws.ToString(in.Name))}, nil
}

func (c swClient) GetSchedule(_ context.Context, in *scheduler.GetScheduleInput, _ ...func(*scheduler.Options)) (*scheduler.GetScheduleOutput, error) {
	sw := c.sw
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.e.record("scheduler:GetSchedule %s @%s", aws.ToString(in.Name), c.region)
	if sw.failReads && sw.changed {
		return nil, errReadDown
	}
	s, ok := sw.schedules[aws.ToString(in.Name)]
	if !ok || aws.ToString(in.GroupName) != contract.ScheduleGroupDefault {
		return nil, &schtypes.ResourceNotFoundException{Message: aws.String("Schedule " + aws.ToString(in.Name) + " does not exist.")}
	}
	cp := *s
	return &cp, nil
}

func (c swClient) DeleteSchedule(_ context.Context, in *scheduler.DeleteScheduleInput, _ ...func(*scheduler.Options)) (*scheduler.DeleteScheduleOutput, error) {
	sw := c.sw
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.e.record("scheduler:DeleteSchedule %s @%s", aws.ToString(in.Name), c.region)
	if sw.deleteErr != nil {
		return nil, sw.deleteErr
	}
	if _, ok := sw.schedules[aws.ToString(in.Name)]; !ok {
		return nil, &schtypes.ResourceNotFoundException{Message: aws.String("Schedule " + aws.ToString(in.Name) + " does not exist.")}
	}
	sw.deletes = append(sw.deletes, aws.ToString(in.Name))
	delete(sw.schedules, aws.ToString(in.Name))
	sw.change()
	return &scheduler.DeleteScheduleOutput{}, nil
}

func (c swClient) DescribeAlarms(_ context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	sw := c.sw
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.e.record("cloudwatch:DescribeAlarms %s @%s", in.AlarmNames[0], c.region)
	switch {
	case sw.alarmErr != nil:
		return nil, sw.alarmErr
	case sw.failReads && sw.changed:
		return nil, errReadDown
	case sw.noAlarm:
		return &cloudwatch.DescribeAlarmsOutput{}, nil
	}
	state := cwtypes.StateValueInsufficientData
	if v := sw.current(); v != nil && *v >= 1 {
		state = cwtypes.StateValueAlarm
	} else if v != nil {
		state = cwtypes.StateValueOk
	}
	return &cloudwatch.DescribeAlarmsOutput{MetricAlarms: []cwtypes.MetricAlarm{{AlarmName: aws.String(in.AlarmNames[0]), StateValue: state,
		Period: aws.Int32(sw.period), Statistic: cwtypes.StatisticMaximum, EvaluationPeriods: aws.Int32(1),
		StateReason: aws.String("Threshold Crossed"), StateUpdatedTimestamp: aws.Time(time.Date(2026, 3, 4, 5, 0, 0, 0, time.UTC))}}}, nil
}

func (c swClient) GetMetricData(_ context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	sw := c.sw
	sw.mu.Lock()
	defer sw.mu.Unlock()
	q := in.MetricDataQueries[0]
	ns := aws.ToString(q.MetricStat.Metric.Namespace)
	sw.e.record("cloudwatch:GetMetricData %s @%s", ns, c.region)
	res := cwtypes.MetricDataResult{Id: q.Id}
	if ns != contract.RoutingNamespace { // the canary
		i := min(sw.gets, len(sw.success)-1)
		sw.gets++
		if i >= 0 {
			res.Values = sw.success[i]
		}
		return &cloudwatch.GetMetricDataOutput{MetricDataResults: []cwtypes.MetricDataResult{res}}, nil
	}
	if sw.failReads && sw.changed {
		return nil, errReadDown
	}
	if sw.changed {
		if sw.pending > 0 {
			sw.pending--
		} else {
			sw.shown = sw.publishing()
		}
	}
	if v := sw.current(); v != nil {
		end := aws.ToTime(in.EndTime)
		for i := 0; i < 3; i++ {
			res.Timestamps = append(res.Timestamps, end.Add(-time.Duration(30+60*i)*time.Second))
			res.Values = append(res.Values, *v)
		}
	}
	return &cloudwatch.GetMetricDataOutput{MetricDataResults: []cwtypes.MetricDataResult{res}}, nil
}

// fakeRoute53 is Route 53's control plane in us-east-1: the PRIMARY record's three health
// checks; the override check fails while the switch's stream shows a request.
type fakeRoute53 struct {
	e    *env
	sw   *fakeSwitch
	err  error
	asks []string
}

func (f *fakeRoute53) ListHealthChecks(_ context.Context, _ *route53.ListHealthChecksInput, _ ...func(*route53.Options)) (*route53.ListHealthChecksOutput, error) {
	f.e.record("route53:ListHealthChecks @us-east-1")
	if f.err != nil {
		return nil, f.err
	}
	return &route53.ListHealthChecksOutput{HealthChecks: []r53types.HealthCheck{
		{Id: aws.String("hc-other"), HealthCheckConfig: &r53types.HealthCheckConfig{Type: r53types.HealthCheckTypeHttps}},
		{Id: aws.String("hc-canary"), HealthCheckConfig: &r53types.HealthCheckConfig{Type: r53types.HealthCheckTypeCloudwatchMetric,
			AlarmIdentifier: &r53types.AlarmIdentifier{Name: aws.String("gc-sessions-prod-canary-failing"), Region: "us-east-1"}}},
		{Id: aws.String("hc-override"), HealthCheckConfig: &r53types.HealthCheckConfig{Type: r53types.HealthCheckTypeCloudwatchMetric,
			AlarmIdentifier: &r53types.AlarmIdentifier{Name: aws.String(switchAlarm), Region: "us-west-2"}}},
		{Id: aws.String("hc-calc"), HealthCheckConfig: &r53types.HealthCheckConfig{Type: r53types.HealthCheckTypeCalculated, ChildHealthChecks: []string{"hc-canary", "hc-override"}}},
	}}, nil
}

func (f *fakeRoute53) GetHealthCheckStatus(_ context.Context, in *route53.GetHealthCheckStatusInput, _ ...func(*route53.Options)) (*route53.GetHealthCheckStatusOutput, error) {
	f.e.record("route53:GetHealthCheckStatus %s @us-east-1", *in.HealthCheckId)
	f.asks = append(f.asks, *in.HealthCheckId)
	if f.err != nil {
		return nil, f.err
	}
	status := "Success: HTTP Status Code 200. Resolved IP: n/a"
	f.sw.mu.Lock()
	if v := f.sw.current(); *in.HealthCheckId == "hc-override" && v != nil && *v >= 1 {
		status = "Failure: the alarm is in ALARM"
	}
	f.sw.mu.Unlock()
	var obs []r53types.HealthCheckObservation
	for _, r := range []r53types.HealthCheckRegion{"us-east-1", "us-west-2", "eu-west-1"} {
		obs = append(obs, r53types.HealthCheckObservation{Region: r, StatusReport: &r53types.StatusReport{Status: aws.String(status)}})
	}
	return &route53.GetHealthCheckStatusOutput{HealthCheckObservations: obs}, nil
}
