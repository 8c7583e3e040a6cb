// Package sessioncache is the ElastiCache Serverless (Valkey) cache with its security group and
// RBAC auth: everything an application needs to reach the cache and nothing else.
package sessioncache

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticache"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/valkey-dr/valkey-dr/contract"
)

// Logical ids pinned with OverrideLogicalId: ServerlessCacheName, KmsKeyId and SubnetIds force
// a replacement, and so does a new logical id. Refactoring the construct tree must never
// replace a cache, so these never derive from construct paths: they are the construct's id
// (not its path) plus a fixed suffix, so two caches of one stack (ids "Orders", "Carts") never
// collide and the app's own stacks (id "SessionCache") keep the ids below. A test pins them.
const (
	LogicalIDCache         = "SessionCache"
	LogicalIDSecurityGroup = "SessionCacheSecurityGroup"
	LogicalIDUser          = "SessionCacheUser"
	LogicalIDUserGroup     = "SessionCacheUserGroup"
	LogicalIDSecret        = "SessionCacheUserSecret"
	LogicalIDConnectPolicy = "SessionCacheConnectPolicy"
)

// Suffixes of the pinned logical ids after the construct's id.
const (
	suffixSecurityGroup = "SecurityGroup"
	suffixUser          = "User"
	suffixUserGroup     = "UserGroup"
	suffixSecret        = "UserSecret"
	suffixConnectPolicy = "ConnectPolicy"
)

// Props configure the cache. Every field is decided by the caller; nothing is looked up.
type Props struct {
	// ConnectPolicyElsewhere: in IAM mode, the applications' elasticache:Connect policy is made
	// by a stack deployed before this one (a stack made on the night creates no IAM resource:
	// NewConnectPolicy), not here.
	ConnectPolicyElsewhere bool
	// CacheName is the ServerlessCacheName (<= 40 chars, validated upstream).
	CacheName string
	// Description is shown in the console.
	Description string
	// MajorEngineVersion is 7, 8 or 9.
	MajorEngineVersion int
	VpcID              string
	SubnetIDs          []string
	// SourceSecurityGroupIDs and SourceCidrs are the only ingress sources; at least one.
	SourceSecurityGroupIDs []string
	SourceCidrs            []string
	// KmsKeyArn is the customer-managed key; "" uses the AWS-owned key.
	KmsKeyArn string
	// DataStorageMaxGB and ECPUPerSecondMax cap scaling; 0 means no limit.
	DataStorageMaxGB int
	ECPUPerSecondMax int
	// SnapshotRetentionLimit is written only when non-nil: a stateless DR cache passes a
	// pointer to 0, stating "no snapshots" explicitly in the template.
	SnapshotRetentionLimit *int
	Auth                   AuthProps
	// RemovalPolicy is applied to the cache and its auth resources, stated explicitly.
	RemovalPolicy awscdk.RemovalPolicy
}

// AuthProps configure RBAC.
type AuthProps struct {
	Mode         contract.AuthMode
	UserID       string
	UserName     string
	UserGroupID  string
	AccessString string
}

// SessionCache is the created cache and the handles other constructs need.
type SessionCache struct {
	constructs.Construct
	// id is the construct's id: the stem of its pinned logical ids.
	id            string
	Cache         awselasticache.CfnServerlessCache
	SecurityGroup awsec2.CfnSecurityGroup
	// Secret is nil unless Auth.Mode is password.
	Secret awssecretsmanager.Secret
	// User and ConnectPolicy are nil when Auth.Mode is none; ConnectPolicy only for IAM.
	User          awselasticache.CfnUser
	ConnectPolicy awsiam.ManagedPolicy
}

// New creates the cache, its security group and its auth. It panics (a synth error naming the
// fix) on props no deploy could use: no ingress source, a cache name missing.
func New(scope constructs.Construct, id string, p *Props) *SessionCache {
	if err := p.check(); err != nil {
		panic(fmt.Sprintf("sessioncache %s: %v", id, err))
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	sc := &SessionCache{Construct: c, id: id}
	if p.RemovalPolicy == "" {
		// Unset: keep everything, the cache AND its password secret (never one without the
		// other: a kept cache whose secret is gone cannot be authenticated to).
		p.RemovalPolicy = awscdk.RemovalPolicy_RETAIN
	}

	sg := newSecurityGroup(c, id+suffixSecurityGroup, p)
	sc.SecurityGroup = sg

	var userGroupID *string
	if p.Auth.Mode != contract.AuthNone {
		ug := sc.newAuth(c, p)
		userGroupID = ug.Ref()
	}

	props := &awselasticache.CfnServerlessCacheProps{
		ServerlessCacheName: jsii.String(p.CacheName),
		Engine:              jsii.String("valkey"),
		MajorEngineVersion:  jsii.String(fmt.Sprint(p.MajorEngineVersion)),
		Description:         jsii.String(p.Description),
		SubnetIds:           jsii.AnyStrings(p.SubnetIDs...),
		SecurityGroupIds:    &[]interface{}{sg.Ref()},
		UserGroupId:         userGroupID,
	}
	if p.KmsKeyArn != "" {
		props.KmsKeyId = jsii.String(p.KmsKeyArn)
	}
	if limits := usageLimits(p); limits != nil {
		props.CacheUsageLimits = limits
	}
	if p.SnapshotRetentionLimit != nil {
		props.SnapshotRetentionLimit = jsii.Number(float64(*p.SnapshotRetentionLimit))
	}
	cache := awselasticache.NewCfnServerlessCache(c, jsii.String("Cache"), props)
	cache.OverrideLogicalId(jsii.String(id))
	cache.ApplyRemovalPolicy(p.RemovalPolicy, nil)
	sc.Cache = cache

	if p.Auth.Mode == contract.AuthIAM && !p.ConnectPolicyElsewhere {
		sc.ConnectPolicy = newConnectPolicy(c, id+suffixConnectPolicy, cache, sc.User)
	}
	return sc
}

func usageLimits(p *Props) *awselasticache.CfnServerlessCache_CacheUsageLimitsProperty {
	if p.DataStorageMaxGB == 0 && p.ECPUPerSecondMax == 0 {
		return nil
	}
	l := &awselasticache.CfnServerlessCache_CacheUsageLimitsProperty{}
	if p.DataStorageMaxGB > 0 {
		l.DataStorage = &awselasticache.CfnServerlessCache_DataStorageProperty{
			Maximum: jsii.Number(float64(p.DataStorageMaxGB)),
			Unit:    jsii.String("GB"),
		}
	}
	if p.ECPUPerSecondMax > 0 {
		l.EcpuPerSecond = &awselasticache.CfnServerlessCache_ECPUPerSecondProperty{
			Maximum: jsii.Number(float64(p.ECPUPerSecondMax)),
		}
	}
	return l
}

// newSecurityGroup is an L1 group: the L2 needs an IVpc (a lookup or a made-up AZ list), and
// the reviewer should see every rule spelled out. Without an explicit egress rule CloudFormation
// adds allow-all egress, so it carries the conventional "disallow all" rule (ICMP type 252 code
// 86 to 255.255.255.255/32, the one CDK's allowAllOutbound:false emits).
func newSecurityGroup(scope constructs.Construct, logicalID string, p *Props) awsec2.CfnSecurityGroup {
	var ingress []interface{}
	for _, sg := range p.SourceSecurityGroupIDs {
		ingress = append(ingress, &awsec2.CfnSecurityGroup_IngressProperty{
			IpProtocol:            jsii.String("tcp"),
			FromPort:              jsii.Number(contract.PortPrimary),
			ToPort:                jsii.Number(contract.PortReader),
			SourceSecurityGroupId: jsii.String(sg),
			Description:           jsii.String(fmt.Sprintf("Valkey TLS 6379-6380 from application security group %s", sg)),
		})
	}
	for _, cidr := range p.SourceCidrs {
		rule := &awsec2.CfnSecurityGroup_IngressProperty{
			IpProtocol:  jsii.String("tcp"),
			FromPort:    jsii.Number(contract.PortPrimary),
			ToPort:      jsii.Number(contract.PortReader),
			Description: jsii.String(fmt.Sprintf("Valkey TLS 6379-6380 from application network %s", cidr)),
		}
		if strings.Contains(cidr, ":") {
			rule.CidrIpv6 = jsii.String(cidr)
		} else {
			rule.CidrIp = jsii.String(cidr)
		}
		ingress = append(ingress, rule)
	}
	sg := awsec2.NewCfnSecurityGroup(scope, jsii.String("SecurityGroup"), &awsec2.CfnSecurityGroupProps{
		GroupDescription:     jsii.String(fmt.Sprintf("ElastiCache Serverless %s: Valkey TLS 6379 (read/write) and 6380 (reader) from application sources only", p.CacheName)),
		VpcId:                jsii.String(p.VpcID),
		SecurityGroupIngress: &ingress,
		SecurityGroupEgress: &[]interface{}{&awsec2.CfnSecurityGroup_EgressProperty{
			IpProtocol:  jsii.String("icmp"),
			FromPort:    jsii.Number(252),
			ToPort:      jsii.Number(86),
			CidrIp:      jsii.String("255.255.255.255/32"),
			Description: jsii.String("Disallow all traffic: the cache never initiates connections"),
		}},
	})
	sg.OverrideLogicalId(jsii.String(logicalID))
	return sg
}

// newAuth creates the user and the user group. Valkey user groups do not need a "default"
// user (unlike Redis OSS ones), so the group holds only the application user.
func (sc *SessionCache) newAuth(scope constructs.Construct, p *Props) awselasticache.CfnUserGroup {
	userProps := &awselasticache.CfnUserProps{
		Engine:       jsii.String("valkey"),
		UserId:       jsii.String(p.Auth.UserID),
		UserName:     jsii.String(p.Auth.UserName),
		AccessString: jsii.String(p.Auth.AccessString),
	}
	switch p.Auth.Mode {
	case contract.AuthPassword:
		secret := awssecretsmanager.NewSecret(scope, jsii.String("UserSecret"), &awssecretsmanager.SecretProps{
			Description: jsii.String(fmt.Sprintf("Password of ElastiCache user %s on serverless cache %s (JSON: username, password)", p.Auth.UserID, p.CacheName)),
			GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
				SecretStringTemplate: jsii.String(fmt.Sprintf(`{"username":%q}`, p.Auth.UserName)),
				GenerateStringKey:    jsii.String("password"),
				// ElastiCache passwords: 16-128 printable characters; punctuation is excluded
				// because several characters (@ " / and space) are rejected.
				PasswordLength:     jsii.Number(64),
				ExcludePunctuation: jsii.Bool(true),
				IncludeSpace:       jsii.Bool(false),
			},
			RemovalPolicy: p.RemovalPolicy,
		})
		secret.Node().DefaultChild().(awscdk.CfnResource).OverrideLogicalId(jsii.String(sc.id + suffixSecret))
		sc.Secret = secret
		// A dynamic reference: CloudFormation resolves it at deploy time, the template only
		// ever holds "{{resolve:secretsmanager:...}}".
		userProps.AuthenticationMode = authenticationMode("password", secret.SecretValueFromJson(jsii.String("password")).UnsafeUnwrap())
	case contract.AuthIAM:
		userProps.AuthenticationMode = authenticationMode("iam", nil)
	}
	user := awselasticache.NewCfnUser(scope, jsii.String("User"), userProps)
	user.OverrideLogicalId(jsii.String(sc.id + suffixUser))
	user.ApplyRemovalPolicy(p.RemovalPolicy, nil)
	sc.User = user

	ug := awselasticache.NewCfnUserGroup(scope, jsii.String("UserGroup"), &awselasticache.CfnUserGroupProps{
		Engine:      jsii.String("valkey"),
		UserGroupId: jsii.String(p.Auth.UserGroupID),
		UserIds:     &[]*string{user.Ref()},
	})
	ug.OverrideLogicalId(jsii.String(sc.id + suffixUserGroup))
	ug.ApplyRemovalPolicy(p.RemovalPolicy, nil)
	return ug
}

// check refuses props no deploy could use, naming the prop.
func (p *Props) check() error {
	switch {
	case p.CacheName == "":
		return fmt.Errorf("Props.CacheName is empty: give the serverless cache a name (<= 40 characters)")
	case len(p.SourceSecurityGroupIDs) == 0 && len(p.SourceCidrs) == 0:
		// An empty source list would not mean "open": the group would admit nobody, and the
		// cache would be unreachable. Say so at synth, not after a 10-minute deploy.
		return fmt.Errorf("Props.SourceSecurityGroupIDs and Props.SourceCidrs are both empty: the cache would admit no client; give the application security groups or CIDRs allowed on 6379-6380")
	}
	return nil
}

// authenticationMode is a plain map with CloudFormation's casing: the Go binding types
// CfnUserProps.AuthenticationMode as interface{}, and a CfnUser_AuthenticationModeProperty
// struct there is serialized with lower-case keys ("type", "passwords") that CloudFormation
// rejects (caught by CDK's template validation at synth).
func authenticationMode(typ string, password *string) map[string]interface{} {
	m := map[string]interface{}{"Type": typ}
	if password != nil {
		m["Passwords"] = []*string{password}
	}
	return m
}

// newConnectPolicy grants elasticache:Connect on exactly this cache and this user; attach it to
// the application's role (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html).
func newConnectPolicy(scope constructs.Construct, logicalID string, cache awselasticache.CfnServerlessCache, user awselasticache.CfnUser) awsiam.ManagedPolicy {
	pol := NewConnectPolicy(scope, "ConnectPolicy", "", []*string{cache.AttrArn(), user.AttrArn()})
	pol.Node().DefaultChild().(awscdk.CfnResource).OverrideLogicalId(jsii.String(logicalID))
	return pol
}

// NewConnectPolicy is the applications' IAM authentication to a cache as its user: the cache
// and user ARNs (or, made before the cache exists, their ARN patterns). name "" lets
// CloudFormation name it.
func NewConnectPolicy(scope constructs.Construct, id, name string, resources []*string) awsiam.ManagedPolicy {
	props := &awsiam.ManagedPolicyProps{
		Description: jsii.String("IAM authentication to the session cache as its application user"),
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ConnectAsApplicationUser"),
			Effect:    awsiam.Effect_ALLOW,
			Actions:   jsii.Strings("elasticache:Connect"),
			Resources: &resources,
		})},
	}
	if name != "" {
		props.ManagedPolicyName = jsii.String(name)
	}
	return awsiam.NewManagedPolicy(scope, jsii.String(id), props)
}
