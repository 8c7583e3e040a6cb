// Package drcontext turns CDK context (cdk.json plus --context flags) into one typed, validated
// Config. It is pure Go (no jsii) so its tests run in milliseconds.
package drcontext

import "github.com/valkey-dr/valkey-dr/contract"

// Context keys read by main.go. Values from `--context k=v` arrive as strings.
const (
	KeyEnvironments         = "environments"
	KeyEnvironment          = "environment"
	KeyRegion               = "region"
	KeyDrMode               = "drMode"
	KeyHoldPrimaryRouting   = "holdPrimaryRouting"
	KeyAllowSameRegionDrill = "allowSameRegionDrill"
)

// Named defaults: a value the user did not give is filled from one of these and nowhere else.
const (
	DefaultEnvironment        = "example"
	DefaultMajorEngineVersion = 8
	DefaultTTLSeconds         = 30
	DefaultAuthUserName       = "app"
	// DefaultLatencyP99Micros is the p99 read and write latency SLA of the latency alarms.
	DefaultLatencyP99Micros = 2000
	// DefaultUsagePercent is how close to a usage limit the usage alarms fire.
	DefaultUsagePercent = 75
	// DefaultMaxConnections is the CurrConnections level of the connections-surge alarm.
	DefaultMaxConnections = 5000
	// DefaultAccessString lets the application use every data command while keeping the
	// @dangerous ones (FLUSHALL, KEYS, DEBUG, CLIENT KILL ...) away from it. The cluster
	// topology commands stay allowed: without them valkey-go silently falls back to a
	// single-node client.
	DefaultAccessString = "on ~* &* +@all -@dangerous +cluster|shards +cluster|slots +cluster|info"
	// DRNameSuffix is appended to the cache name in drMode=stateless so that a DR cache can
	// never be mistaken for (or collide with, in a same-region drill) the primary one.
	DRNameSuffix = "-dr"
	// StandbyNameSuffix is appended to the cache name in drMode=standby: the warm standby can
	// share the DR region with a stateless DR cache (never the same name).
	StandbyNameSuffix = "-standby"
)

// DrMode says which side of the runbook a stack serves.
type DrMode string

// The accepted drModes (docs/design.md, "drMode and the stacks").
const (
	DrModeNone      DrMode = "none"      // primary region, normal operation and failback
	DrModeStateless DrMode = "stateless" // DR region, new empty cache on the night, no snapshots
	DrModeStandby   DrMode = "standby"   // DR region, warm empty cache deployed in peacetime, no snapshots
)

// Environment is one entry of the "environments" context object in cdk.json.
type Environment struct {
	// Account is the 12-digit AWS account id every stack of this environment deploys to.
	Account string `json:"account"`
	// Production turns on the prod-only requirements (auth, CMK, termination protection).
	// Required, so that a copied environment cannot silently lose them.
	Production *bool `json:"production"`
	// PrimaryRegion is used when drMode=none and no region is given.
	PrimaryRegion string `json:"primaryRegion"`
	// DrRegion is used when drMode=stateless or standby and no region is given.
	DrRegion string `json:"drRegion"`
	// DrPosture is the environment's DR posture (docs/design.md, "Warm standby"): the DR
	// drMode its procedures act on and the one that owns the environment's DR names (the
	// regional record in the DR region, the SECONDARY record, the SSM prefix). "" means
	// stateless, the runbook's; standby is the warm standby deployed in peacetime.
	DrPosture DrMode `json:"drPosture"`
	// Regions holds the networking of every region the environment may deploy to.
	Regions map[string]Region `json:"regions"`
	Cache   Cache             `json:"cache"`
	DNS     DNS               `json:"dns"`
	// Monitoring holds the stabilization thresholds (runbook section 7); all optional.
	Monitoring Monitoring `json:"monitoring"`
	// Evidence is where DR evidence is signed and archived (context/evidence.go).
	Evidence Evidence `json:"evidence"`
	// Tags are applied to every resource; "owner" and "dataClassification" are required.
	// "environment", "drMode" and "managedBy" are added by the app and may not be set here.
	Tags map[string]string `json:"tags"`
}

// Region is the per-region networking, imported by id (no lookups: a DR deploy must not
// depend on anything but typed config).
type Region struct {
	VpcID     string   `json:"vpcId"`
	SubnetIDs []string `json:"subnetIds"`
	// ApplicationSecurityGroupIDs and AllowedCidrs are the only sources allowed into the
	// cache; at least one of them must be non-empty.
	ApplicationSecurityGroupIDs []string `json:"applicationSecurityGroupIds"`
	AllowedCidrs                []string `json:"allowedCidrs"`
	// KmsKeyArn is a customer-managed key in THIS region (KMS keys are regional); empty means
	// the AWS-owned key. Required in production.
	KmsKeyArn string `json:"kmsKeyArn"`
	// CreateVpcEndpoints (default false) gives the health canary VPC interface endpoints for
	// CloudWatch (monitoring) and, in password mode, Secrets Manager, with private DNS. Turn it
	// on for subnets with no NAT gateway and no such endpoints yet: without a route to those
	// APIs the canary publishes nothing and a healthy primary fails over. Leave it off when the
	// VPC already has them (a second private-DNS endpoint for a service fails the deploy).
	CreateVpcEndpoints bool `json:"createVpcEndpoints"`
}

// Cache is the ElastiCache Serverless cache settings.
type Cache struct {
	// Name is the base cache name (<= 40 chars, DR stacks append DRNameSuffix).
	Name string `json:"name"`
	// MajorEngineVersion is 7, 8 or 9; 0 means DefaultMajorEngineVersion.
	MajorEngineVersion int         `json:"majorEngineVersion"`
	UsageLimits        UsageLimits `json:"usageLimits"`
	Auth               Auth        `json:"auth"`
	// SnapshotRetentionLimit applies to drMode=none only; the stateless runbook has no
	// snapshots, so a DR stack always sets 0.
	SnapshotRetentionLimit int `json:"snapshotRetentionLimit"`
}

// UsageLimits caps what the serverless cache may scale to; 0 means no limit.
type UsageLimits struct {
	DataStorageMaxGB int `json:"dataStorageMaxGb"` // 1-5000 GB
	ECPUPerSecondMax int `json:"ecpuPerSecondMax"` // 1000-15,000,000
}

// Auth is the RBAC setup of the cache.
type Auth struct {
	// Mode is how applications authenticate (RBAC is the only access control on ElastiCache
	// Serverless): password (user group + password user, password in Secrets Manager), iam
	// (user group + IAM-auth user, user name == user id) or none (no user group: default user,
	// TLS only; refused in production).
	Mode contract.AuthMode `json:"mode"`
	// UserName is the ElastiCache user id and user name; "" means DefaultAuthUserName. The
	// user id is prefixed with the cache name so that it is unique in the region.
	UserName     string `json:"userName"`
	AccessString string `json:"accessString"`
}

// DNS is the Route 53 naming. One private hosted zone per environment, associated with the
// VPCs of every region: Route 53 fails over only between records of the same zone, so the
// PRIMARY (primary stack) and SECONDARY (DR stack) halves of the pair must share it.
type DNS struct {
	HostedZoneID string `json:"hostedZoneId"`
	ZoneName     string `json:"zoneName"`
	// RecordName is the first label: <record>.<zone> (service) and <record>.<region>.<zone>.
	RecordName string `json:"recordName"`
	// TTLSeconds is 1-60; 0 means DefaultTTLSeconds.
	TTLSeconds int `json:"ttlSeconds"`
}

// Monitoring is the alarm thresholds and where notifications go. Zero values take the
// Default* constants, resolved by the Config accessors (ReadLatencyP99Micros, ...).
type Monitoring struct {
	// ReadLatencyP99Micros and WriteLatencyP99Micros are the p99 latency SLA, 100-1,000,000 µs.
	ReadLatencyP99Micros  int `json:"readLatencyP99Micros"`
	WriteLatencyP99Micros int `json:"writeLatencyP99Micros"`
	// UsagePercent is how close to a usage limit the usage alarms fire, 1-100.
	UsagePercent int `json:"usagePercent"`
	// MaxConnections is the CurrConnections level that counts as a surge, 1-65000.
	MaxConnections int `json:"maxConnections"`
	// AlarmTopicArn is an existing SNS topic in the deploy region; "" creates one per stack.
	AlarmTopicArn string `json:"alarmTopicArn"`
}

// Config is everything one synth needs, validated: one environment, one region, one drMode.
type Config struct {
	EnvironmentName string
	Env             Environment
	Region          string
	Net             Region
	DrMode          DrMode
	// HoldPrimaryRouting keeps the PRIMARY failover record out of a drMode=none stack
	// (failback: deploy, validate, then release routing with a second deploy).
	HoldPrimaryRouting bool
	// SameRegionDrill is a stateless stack in the primary region (an explicit override).
	SameRegionDrill bool
}

// IsProduction reports whether the prod-only requirements apply.
func (c *Config) IsProduction() bool { return c.Env.Production != nil && *c.Env.Production }
