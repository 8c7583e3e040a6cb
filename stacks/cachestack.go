// Package stacks composes constructs into the one stack an environment + region + drMode gets;
// it decides which constructs, never how they are built.
package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/valkey-dr/valkey-dr/constructs/appconfig"
	"github.com/valkey-dr/valkey-dr/constructs/canary"
	"github.com/valkey-dr/valkey-dr/constructs/dns"
	"github.com/valkey-dr/valkey-dr/constructs/endpoints"
	"github.com/valkey-dr/valkey-dr/constructs/failover"
	"github.com/valkey-dr/valkey-dr/constructs/monitoring"
	"github.com/valkey-dr/valkey-dr/constructs/sessioncache"
	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/contract"
)

// CacheStack is the synthesized stack with handles for tests and later composition.
type CacheStack struct {
	awscdk.Stack
	Cache      *sessioncache.SessionCache
	DNS        *dns.Records
	Monitoring *monitoring.Monitoring
	AppConfig  *appconfig.AppConfig
	// Canary is the health canary; nil when the stack was built without WithCanary.
	Canary *canary.Canary
	// Endpoints are the canary's VPC interface endpoints (regions.<region>.createVpcEndpoints);
	// nil when not asked for (endpoints.go).
	Endpoints *endpoints.Endpoints
}

// Option adds to what NewCacheStack builds.
type Option func(*stackOptions)

type stackOptions struct{ canaryAssetDir string }

// WithCanary gives the stack its health canary, a Lambda built from the bootstrap binary in
// assetDir (main.go passes .build/canary, which the cdk.json build step writes; tests build it
// into a temporary directory). The PRIMARY record's health alarm then reads the canary's
// Success metric. Without it (tests of other concerns) the health alarm falls back to the
// cache's own BytesUsedForCache heartbeat: every deploy goes through main.go, which always
// passes it.
func WithCanary(assetDir string) Option {
	return func(o *stackOptions) { o.canaryAssetDir = assetDir }
}

// NewCacheStack builds the stack for one validated Config.
func NewCacheStack(scope constructs.Construct, cfg *drcontext.Config, opts ...Option) *CacheStack {
	var o stackOptions
	for _, opt := range opts {
		opt(&o)
	}
	stack := awscdk.NewStack(scope, jsii.String(cfg.StackID()), &awscdk.StackProps{
		// Explicit account and region: the stack must never become environment-agnostic,
		// or a DR deploy could land wherever the operator's shell points.
		Env: &awscdk.Environment{
			Account: jsii.String(cfg.Env.Account),
			Region:  jsii.String(cfg.Region),
		},
		Description:           jsii.String(description(cfg)),
		TerminationProtection: jsii.Bool(cfg.IsProduction()),
	})
	s := &CacheStack{Stack: stack}

	s.Cache = sessioncache.New(stack, "SessionCache", cacheProps(cfg))
	endpoint := s.Cache.Cache.AttrEndpointAddress()

	var signal *monitoring.CanarySignal
	if o.canaryAssetDir != "" {
		cp := canaryProps(cfg, s.Cache, o.canaryAssetDir)
		if cfg.Mode().OnTheNight {
			// The role the switch stack made in peacetime (switchstack.go): this stack
			// creates no IAM resource (docs/design.md, "Static stability").
			cp.RoleArn = jsii.String(fmt.Sprintf("arn:%s:iam::%s:role/%s", *stack.Partition(), cfg.Env.Account, cfg.DRCanaryRoleName()))
		}
		s.Canary = canary.New(stack, "Canary", cp)
		s.Endpoints = canaryEndpoints(stack, cfg, s.Canary)
		signal = &monitoring.CanarySignal{Success: s.Canary.SuccessMetric(), Latency: s.Canary.LatencyMetric(),
			CommandLatency: s.Canary.CommandLatencyMetric(), ReaderSuccess: s.Canary.ReaderSuccessMetric()}
	}

	s.Monitoring = monitoring.New(stack, "Monitoring", &monitoring.Props{
		CacheName:             cfg.CacheName(),
		AlarmNamePrefix:       cfg.StackID(),
		ReadLatencyP99Micros:  cfg.ReadLatencyP99Micros(),
		WriteLatencyP99Micros: cfg.WriteLatencyP99Micros(),
		DataStorageMaxGB:      cfg.Env.Cache.UsageLimits.DataStorageMaxGB,
		ECPUPerSecondMax:      cfg.Env.Cache.UsageLimits.ECPUPerSecondMax,
		UsagePercent:          cfg.UsagePercent(),
		MaxConnections:        cfg.MaxConnections(),
		AlarmTopicArn:         cfg.Env.Monitoring.AlarmTopicArn,
		Canary:                signal,
	})

	if !cfg.Mode().OnTheNight {
		dp := dnsProps(cfg, endpoint, s.Monitoring.Health.AlarmName())
		// What Route 53 copies of the alarms its checks read: a change replaces the check.
		dp.HealthAlarmSettings = s.Monitoring.HealthSettings
		if dp.OverrideAlarmName != nil {
			dp.OverrideAlarmSettings = failover.RouteSettings(cfg.EnvironmentName)
		}
		s.DNS = dns.New(stack, "Dns", dp)
	}

	s.AppConfig = appconfig.New(stack, "AppConfig", &appconfig.Props{
		Prefix:     cfg.SSMPrefix(),
		Address:    endpoint,
		Port:       s.Cache.Cache.AttrEndpointPort(),
		ReaderPort: s.Cache.Cache.AttrReaderEndpointPort(),
		AuthMode:   string(cfg.Env.Cache.Auth.Mode),
	})
	if s.Cache.User != nil {
		s.AppConfig.AddUser(cfg.AuthUserName())
	}
	if s.Cache.Secret != nil {
		s.AppConfig.AddSecretArn(s.Cache.Secret.SecretArn())
	}

	s.addOutputs(cfg)
	tags := cfg.Tags()
	tagAll(stack, tags)
	return s
}

// dnsProps are the records of a stack: its regional name and its half of the failover pair.
// healthAlarmName is the PRIMARY's health alarm (nil for stacks without a PRIMARY record).
func dnsProps(cfg *drcontext.Config, target, healthAlarmName *string) *dns.Props {
	p := &dns.Props{
		HostedZoneID: cfg.Env.DNS.HostedZoneID,
		RegionalName: cfg.RegionalDNSName(),
		Role:         cfg.FailoverRole(),
		Target:       target,
		TTLSeconds:   cfg.TTLSeconds(),
	}
	if cfg.OwnsServiceRecord() {
		p.ServiceName = cfg.ServiceDNSName()
		p.HealthAlarmName = healthAlarmName
		p.HealthAlarmRegion = cfg.Region
		if cfg.HasSwitchStack() {
			// The forced-failover switch: the alarm of the switch stack in the DR region, by
			// the name both stacks derive from config (switchstack.go).
			p.OverrideAlarmName = jsii.String(cfg.FailoverAlarmName())
			p.OverrideAlarmRegion = cfg.SwitchRegion()
		}
	}
	return p
}

func description(cfg *drcontext.Config) string {
	d := fmt.Sprintf("valkey-dr session cache: environment %s, region %s, drMode %s", cfg.EnvironmentName, cfg.Region, cfg.DrMode)
	switch {
	case cfg.SameRegionDrill:
		d += " (same-region drill: owns no service record)"
	case cfg.Mode().CanHoldRouting && cfg.HoldPrimaryRouting:
		d += " (PRIMARY record held back)"
	case !cfg.OwnsSharedNames():
		// Beside the environment's DR posture: never its records or parameters.
		d += fmt.Sprintf(" (not the environment's drPosture %s: owns no service record)", cfg.Env.Posture().Name)
	case !cfg.Mode().Primary && !cfg.Mode().OnTheNight:
		d += " (warm standby: deployed in peacetime, activated by the switch)"
	}
	return d
}

func cacheProps(cfg *drcontext.Config) *sessioncache.Props {
	p := &sessioncache.Props{
		CacheName:              cfg.CacheName(),
		Description:            description(cfg),
		MajorEngineVersion:     cfg.MajorEngineVersion(),
		VpcID:                  cfg.Net.VpcID,
		SubnetIDs:              cfg.Net.SubnetIDs,
		SourceSecurityGroupIDs: cfg.Net.ApplicationSecurityGroupIDs,
		SourceCidrs:            cfg.Net.AllowedCidrs,
		KmsKeyArn:              cfg.Net.KmsKeyArn,
		DataStorageMaxGB:       cfg.Env.Cache.UsageLimits.DataStorageMaxGB,
		ECPUPerSecondMax:       cfg.Env.Cache.UsageLimits.ECPUPerSecondMax,
		Auth: sessioncache.AuthProps{
			Mode:         cfg.Env.Cache.Auth.Mode,
			UserID:       cfg.UserID(),
			UserName:     cfg.AuthUserName(),
			UserGroupID:  cfg.UserGroupID(),
			AccessString: cfg.AccessString(),
		},
		RemovalPolicy:          removalPolicy(cfg),
		ConnectPolicyElsewhere: cfg.Mode().OnTheNight,
	}
	// The stateless runbook has no snapshots: say so in the template (0) rather than rely on
	// the service default. The primary keeps what the environment asks for.
	retention := 0
	if cfg.Mode().SnapshotsAllowed {
		retention = cfg.Env.Cache.SnapshotRetentionLimit
	}
	p.SnapshotRetentionLimit = &retention
	return p
}

// canaryProps points the health canary at the cache: its VPC and subnets, its security group,
// its endpoint, and exactly the credential it needs (the password secret, or IAM connect).
func canaryProps(cfg *drcontext.Config, c *sessioncache.SessionCache, assetDir string) *canary.Props {
	p := &canary.Props{
		AssetDir:             assetDir,
		CacheName:            cfg.CacheName(),
		FunctionName:         cfg.CanaryFunctionName(),
		VpcID:                cfg.Net.VpcID,
		SubnetIDs:            cfg.Net.SubnetIDs,
		CacheSecurityGroupID: c.SecurityGroup.AttrGroupId(),
		Endpoint:             c.Cache.AttrEndpointAddress(),
		Port:                 c.Cache.AttrEndpointPort(),
		ReaderPort:           c.Cache.AttrReaderEndpointPort(),
		AuthMode:             string(cfg.Env.Cache.Auth.Mode),
	}
	switch cfg.Env.Cache.Auth.Mode {
	case contract.AuthPassword:
		p.User = cfg.AuthUserName()
		p.SecretArn = c.Secret.SecretArn()
	case contract.AuthIAM:
		p.User = cfg.AuthUserName()
		p.ConnectResources = []*string{c.Cache.AttrArn(), c.User.AttrArn()}
	}
	return p
}

// removalPolicy: the production primary cache survives a stack deletion (an accidental delete
// must not take sessions down); DR caches and non-production ones are empty by design and go
// with their stack, which is what runbook section 8 step 4 asks for.
func removalPolicy(cfg *drcontext.Config) awscdk.RemovalPolicy {
	if cfg.IsProduction() && cfg.Mode().Primary {
		return awscdk.RemovalPolicy_RETAIN
	}
	return awscdk.RemovalPolicy_DESTROY
}

func (s *CacheStack) addOutputs(cfg *drcontext.Config) {
	out := func(key, desc string, value *string) {
		awscdk.NewCfnOutput(s.Stack, jsii.String(key), &awscdk.CfnOutputProps{
			Value:       value,
			Description: jsii.String(desc),
		})
	}
	c := s.Cache.Cache
	out(contract.KeyCacheName, "ElastiCache Serverless cache name", c.Ref())
	out(contract.KeyEndpointAddress, "Cache endpoint hostname (the TLS certificate matches this name)", c.AttrEndpointAddress())
	out(contract.KeyEndpointPort, "Read/write port", c.AttrEndpointPort())
	out(contract.KeyReaderPort, "Read-from-replica port", c.AttrReaderEndpointPort())
	if s.DNS != nil {
		dnsOutputs(s.Stack, cfg, s.DNS)
	}
	out(contract.KeySecurityGroupID, "Cache security group", s.Cache.SecurityGroup.AttrGroupId())
	out(contract.KeyAuthMode, "How applications authenticate: password, iam or none", jsii.String(string(cfg.Env.Cache.Auth.Mode)))
	if s.Cache.User != nil {
		out(contract.KeyUserID, "ElastiCache user id", jsii.String(cfg.UserID()))
		out(contract.KeyUserName, "User name to authenticate as", jsii.String(cfg.AuthUserName()))
	}
	if s.Cache.Secret != nil {
		out(contract.KeySecretArn, "Secrets Manager secret with the user's password (ARN only, never the value)", s.Cache.Secret.SecretArn())
	}
	out(contract.KeyRegion, "Region", jsii.String(cfg.Region))
	out(contract.KeyEnvironment, "Environment", jsii.String(cfg.EnvironmentName))
	out(contract.KeyDrMode, "drMode", jsii.String(string(cfg.DrMode)))
	out(contract.KeySSMParameterPrefix, "SSM path with endpoint-address, port, reader-port, auth-mode and, when set, user-name and secret-arn", jsii.String(cfg.SSMPrefix()))
	if s.Canary != nil {
		// Named so that the operator's policy (docs/iam/invoke-canary.json) can name it: the
		// stack grants lambda:InvokeFunction on it to nobody but the schedule.
		out(contract.KeyCanaryFunctionName, "Health canary Lambda function (invoke it on demand only with an explicit grant)", jsii.String(cfg.CanaryFunctionName()))
	}
}
