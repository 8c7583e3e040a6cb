package dr

// The SDK side of the outside world (the CLI side, cdk and the validator, is Deps.Runner).
// Static stability (docs/design.md, "Static stability"): every call drctl makes on the night
// goes to a regional endpoint of the region it names, STS included: the AWS CLI v1 that the
// preflight used to shell out to signs `sts get-caller-identity` for the legacy global STS
// endpoint, which is served from us-east-1. The one call to a global control plane is the
// best-effort Route 53 read of route (never fatal). Tests replace every client by a fake that
// records the region it was made for.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
	"github.com/aws/smithy-go/logging"

	"github.com/valkey-dr/valkey-dr/internal/assembly"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
)

// CloudWatchAPI is the CloudWatch calls of route and the canary preflight; the SDK client
// satisfies it.
type CloudWatchAPI interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

// Route53API is the Route 53 calls of route (best effort); the SDK client satisfies it.
type Route53API interface {
	ListHealthChecks(ctx context.Context, in *route53.ListHealthChecksInput, optFns ...func(*route53.Options)) (*route53.ListHealthChecksOutput, error)
	GetHealthCheckStatus(ctx context.Context, in *route53.GetHealthCheckStatusInput, optFns ...func(*route53.Options)) (*route53.GetHealthCheckStatusOutput, error)
}

// STSAPI is the identity check of every procedure's preflight.
type STSAPI interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// CloudFormationAPI is the stack reads of the preflights (the deployed template of the
// replacement check included) and teardown's termination protection.
type CloudFormationAPI interface {
	DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, optFns ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
	GetTemplate(ctx context.Context, in *cloudformation.GetTemplateInput, optFns ...func(*cloudformation.Options)) (*cloudformation.GetTemplateOutput, error)
	UpdateTerminationProtection(ctx context.Context, in *cloudformation.UpdateTerminationProtectionInput, optFns ...func(*cloudformation.Options)) (*cloudformation.UpdateTerminationProtectionOutput, error)
}

// SchedulerAPI is the request schedule of route (EventBridge Scheduler in the DR region).
type SchedulerAPI interface {
	CreateSchedule(ctx context.Context, in *scheduler.CreateScheduleInput, optFns ...func(*scheduler.Options)) (*scheduler.CreateScheduleOutput, error)
	GetSchedule(ctx context.Context, in *scheduler.GetScheduleInput, optFns ...func(*scheduler.Options)) (*scheduler.GetScheduleOutput, error)
	DeleteSchedule(ctx context.Context, in *scheduler.DeleteScheduleInput, optFns ...func(*scheduler.Options)) (*scheduler.DeleteScheduleOutput, error)
}

var (
	_ CloudWatchAPI     = (*cloudwatch.Client)(nil)
	_ Route53API        = (*route53.Client)(nil)
	_ STSAPI            = (*sts.Client)(nil)
	_ CloudFormationAPI = (*cloudformation.Client)(nil)
	_ SchedulerAPI      = (*scheduler.Client)(nil)
)

// AWS is the SDK clients; tests replace them. Every constructor but Route53's takes the region
// the client is for: a client is never made for a region the caller did not name.
type AWS struct {
	// CloudWatch returns a client for one region.
	CloudWatch func(ctx context.Context, region string) (CloudWatchAPI, error)
	// Route53 returns a client of Route 53's global endpoint (us-east-1): best effort only.
	Route53 func(ctx context.Context) (Route53API, error)
	// STS returns a client of the REGIONAL STS endpoint of region.
	STS func(ctx context.Context, region string) (STSAPI, error)
	// CloudFormation returns a client for one region.
	CloudFormation func(ctx context.Context, region string) (CloudFormationAPI, error)
	// Scheduler returns an EventBridge Scheduler client for one region.
	Scheduler func(ctx context.Context, region string) (SchedulerAPI, error)
	// Sleep waits between polls; it returns early with ctx's error.
	Sleep func(ctx context.Context, d time.Duration) error
}

// loadConfig is the shared SDK configuration (profile, SSO, environment) for one region.
func loadConfig(ctx context.Context, region string) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region),
		// No SDK log lines ("WARN falling back to IMDSv1" on a laptop): every failure comes back
		// as an error and is printed once, as the cause, by the procedure.
		config.WithLogger(logging.Nop{}))
	if err != nil {
		return aws.Config{}, errors.New(credentialsHint(err, ""))
	}
	return cfg, nil
}

// regional makes one of AWS's client constructors: the shared configuration loaded for the
// region the caller names, then the service's client of it.
func regional[API any](newClient func(aws.Config) API) func(ctx context.Context, region string) (API, error) {
	return func(ctx context.Context, region string) (API, error) {
		cfg, err := loadConfig(ctx, region)
		if err != nil {
			var none API
			return none, err
		}
		return newClient(cfg), nil
	}
}

func (a *AWS) defaults() {
	if a.CloudWatch == nil {
		a.CloudWatch = regional(func(cfg aws.Config) CloudWatchAPI { return cloudwatch.NewFromConfig(cfg) })
	}
	if a.Route53 == nil {
		// Route 53's API is global, served from us-east-1.
		route53In := regional(func(cfg aws.Config) Route53API { return route53.NewFromConfig(cfg) })
		a.Route53 = func(ctx context.Context) (Route53API, error) { return route53In(ctx, "us-east-1") }
	}
	if a.STS == nil {
		a.STS = regional(func(cfg aws.Config) STSAPI { return newRegionalSTS(cfg) })
	}
	if a.CloudFormation == nil {
		a.CloudFormation = regional(func(cfg aws.Config) CloudFormationAPI { return cloudformation.NewFromConfig(cfg) })
	}
	if a.Scheduler == nil {
		a.Scheduler = regional(func(cfg aws.Config) SchedulerAPI { return scheduler.NewFromConfig(cfg) })
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

// newRegionalSTS is an STS client of the regional endpoint of cfg.Region
// (sts.<region>.amazonaws.com). The SDK for Go v2 resolves STS regionally by default; the
// resolver below makes it explicit, so that no configuration (sts_regional_endpoints=legacy,
// AWS_STS_REGIONAL_ENDPOINTS) and no future default can send the call to the global endpoint,
// which is served from us-east-1:
// https://docs.aws.amazon.com/sdkref/latest/guide/feature-sts-regionalized-endpoints.html
func newRegionalSTS(cfg aws.Config) *sts.Client {
	return sts.NewFromConfig(cfg, func(o *sts.Options) {
		o.EndpointResolverV2 = regionalSTSResolver{next: sts.NewDefaultEndpointResolverV2()}
	})
}

// regionalSTSResolver resolves STS endpoints with UseGlobalEndpoint false, always.
type regionalSTSResolver struct{ next sts.EndpointResolverV2 }

func (r regionalSTSResolver) ResolveEndpoint(ctx context.Context, p sts.EndpointParameters) (smithyendpoints.Endpoint, error) {
	p.UseGlobalEndpoint = aws.Bool(false)
	return r.next.ResolveEndpoint(ctx, p)
}

// profileHint names the profile to log in with: AWS_PROFILE when set.
func profileHint() string {
	if p := os.Getenv("AWS_PROFILE"); p != "" {
		return p
	}
	return "<your profile>"
}

// credentialsHint turns a credentials or SDK error into one sentence that says what to do:
// log in again (expired SSO session or token), find credentials (none), or attach a policy
// (AccessDenied, naming the action). action is the IAM action of the call ("" when the error
// is the configuration's).
func credentialsHint(err error, action string) string {
	var sso *ssocreds.InvalidTokenError
	var api smithy.APIError
	msg := err.Error()
	switch {
	case errors.As(err, &sso) || strings.Contains(msg, "SSO session has expired") || strings.Contains(msg, "cached SSO token is expired") ||
		strings.Contains(msg, "refresh cached SSO token failed"):
		return fmt.Sprintf("the AWS SSO session has expired: run `aws sso login --profile %s` and re-run", profileHint())
	case errors.As(err, &api) && (api.ErrorCode() == "ExpiredToken" || api.ErrorCode() == "ExpiredTokenException" || api.ErrorCode() == "RequestExpired"):
		return fmt.Sprintf("the AWS credentials have expired (%s): log in again (`aws sso login --profile %s`, or new temporary credentials) and re-run", api.ErrorCode(), profileHint())
	case errors.As(err, &api) && (api.ErrorCode() == "InvalidClientTokenId" || api.ErrorCode() == "SignatureDoesNotMatch" || api.ErrorCode() == "UnrecognizedClientException"):
		return fmt.Sprintf("the AWS credentials are not valid (%s: %s): check AWS_PROFILE / AWS_ACCESS_KEY_ID, log in again and re-run", api.ErrorCode(), api.ErrorMessage())
	case errors.As(err, &api) && (strings.Contains(api.ErrorCode(), "AccessDenied") || api.ErrorCode() == "UnauthorizedOperation"):
		if action == "" {
			action = "this call"
		}
		return fmt.Sprintf("access denied to %s (%s: %s): the role needs %s (see docs/iam/)", action, api.ErrorCode(), api.ErrorMessage(), action)
	case strings.Contains(msg, "failed to retrieve credentials") || strings.Contains(msg, "no EC2 IMDS role found") ||
		strings.Contains(msg, "failed to refresh cached credentials") || strings.Contains(msg, "get credentials") ||
		strings.Contains(msg, "failed to get shared config profile"):
		return fmt.Sprintf("no usable AWS credentials (%s): log in (`aws sso login --profile %s`, then AWS_PROFILE=%s) and re-run", credentialsCause(msg), profileHint(), profileHint())
	case errors.As(err, &api):
		return api.ErrorCode() + ": " + api.ErrorMessage()
	}
	return firstLine([]byte(msg))
}

// credentialsCause is the credential chain's own words of a wrapped SDK error (what follows
// "get credentials: "), one line, short.
func credentialsCause(msg string) string {
	msg = firstLine([]byte(msg))
	if i := strings.LastIndex(msg, "get credentials: "); i >= 0 {
		msg = msg[i+len("get credentials: "):]
	}
	if len(msg) > 160 {
		msg = msg[:160] + "..."
	}
	return msg
}

// awsHint is credentialsHint for a call of route and the canary preflight, whose policy is
// docs/iam/route.json.
func awsHint(err error, policy string) string {
	h := credentialsHint(err, "")
	var api smithy.APIError
	if errors.As(err, &api) && (strings.Contains(api.ErrorCode(), "AccessDenied") || api.ErrorCode() == "UnauthorizedOperation") {
		return fmt.Sprintf("%s: %s: attach %s to your role", api.ErrorCode(), api.ErrorMessage(), policy)
	}
	return h
}

// identity is sts:GetCallerIdentity's answer (preflight.json "callerIdentity").
type identity struct {
	Account string `json:"Account"`
	Arn     string `json:"Arn"`
	UserID  string `json:"UserId"`
	// Region is the STS endpoint's region: the region the procedure acts in, never the global
	// endpoint.
	Region string `json:"Region"`
}

// partition is the ARN partition of the identity (aws, aws-cn, aws-us-gov).
func (id identity) partition() string {
	if p := strings.SplitN(id.Arn, ":", 3); len(p) == 3 && p[0] == "arn" && p[1] != "" {
		return p[1]
	}
	return "aws"
}

// credentials proves credentials exist and belong to the environment's account, with the
// regional STS endpoint of region.
func credentials(ctx context.Context, a AWS, region, wantAccount string) (identity, error) {
	c, err := a.STS(ctx, region)
	if err != nil {
		return identity{}, procedure.Failf("AWS configuration for %s: %v", region, err)
	}
	cctx, cancel := context.WithTimeout(ctx, awsCallTimeout)
	defer cancel()
	out, err := c.GetCallerIdentity(cctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return identity{}, procedure.Failf("cannot prove AWS credentials for account %s (sts:GetCallerIdentity in %s): %s", wantAccount, region, credentialsHint(err, "sts:GetCallerIdentity"))
	}
	id := identity{Account: aws.ToString(out.Account), Arn: aws.ToString(out.Arn), UserID: aws.ToString(out.UserId), Region: region}
	if id.Account == "" {
		return id, procedure.Failf("sts:GetCallerIdentity in %s answered no account", region)
	}
	if id.Account != wantAccount {
		return id, procedure.Failf("the credentials are for account %s (%s), but this environment deploys to account %s: switch profile (AWS_PROFILE) and re-run",
			id.Account, id.Arn, wantAccount)
	}
	return id, nil
}

// stackInfo is what DescribeStacks says about one stack.
type stackInfo struct {
	Exists                bool
	Status                string
	TerminationProtection bool
	Outputs               map[string]string
}

// describe reads one stack; a missing stack is Exists=false, not an error.
func describe(ctx context.Context, a AWS, stack, region string) (stackInfo, error) {
	c, err := a.CloudFormation(ctx, region)
	if err != nil {
		return stackInfo{}, err
	}
	dctx, cancel := context.WithTimeout(ctx, awsCallTimeout)
	defer cancel()
	out, err := c.DescribeStacks(dctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) && api.ErrorCode() == "ValidationError" && strings.Contains(api.ErrorMessage(), "does not exist") {
			return stackInfo{}, nil
		}
		return stackInfo{}, fmt.Errorf("cloudformation:DescribeStacks %s in %s: %s", stack, region, credentialsHint(err, "cloudformation:DescribeStacks"))
	}
	if len(out.Stacks) == 0 {
		return stackInfo{}, nil
	}
	s := out.Stacks[0]
	info := stackInfo{Exists: true, Status: string(s.StackStatus), TerminationProtection: aws.ToBool(s.EnableTerminationProtection), Outputs: map[string]string{}}
	for _, o := range s.Outputs {
		info.Outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	return info, nil
}

// disableTerminationProtection turns a stack's termination protection off (teardown, asked).
func disableTerminationProtection(ctx context.Context, a AWS, stack, region string) error {
	c, err := a.CloudFormation(ctx, region)
	if err != nil {
		return err
	}
	uctx, cancel := context.WithTimeout(ctx, awsCallTimeout)
	defer cancel()
	_, err = c.UpdateTerminationProtection(uctx, &cloudformation.UpdateTerminationProtectionInput{StackName: aws.String(stack), EnableTerminationProtection: aws.Bool(false)})
	if err != nil {
		return errors.New(credentialsHint(err, "cloudformation:UpdateTerminationProtection"))
	}
	return nil
}

// getTemplate reads the template CloudFormation holds for a running stack, as it was submitted
// (TemplateStage Original: what cdk deploy uploaded, before any transform), in the stack's
// region: GetTemplate is a regional API
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_GetTemplate.html).
func getTemplate(ctx context.Context, a AWS, stack, region string) (*assembly.Template, error) {
	c, err := a.CloudFormation(ctx, region)
	if err != nil {
		return nil, err
	}
	gctx, cancel := context.WithTimeout(ctx, awsCallTimeout)
	defer cancel()
	out, err := c.GetTemplate(gctx, &cloudformation.GetTemplateInput{StackName: aws.String(stack), TemplateStage: cfntypes.TemplateStageOriginal})
	if err != nil {
		return nil, fmt.Errorf("cloudformation:GetTemplate %s in %s: %s", stack, region, credentialsHint(err, "cloudformation:GetTemplate"))
	}
	var t assembly.Template
	// cdk deploy submits JSON; a template someone submitted as YAML is not read (an error).
	if err := json.Unmarshal([]byte(aws.ToString(out.TemplateBody)), &t); err != nil {
		return nil, fmt.Errorf("cloudformation:GetTemplate %s in %s: the template is not JSON (%v)", stack, region, err)
	}
	return &t, nil
}
