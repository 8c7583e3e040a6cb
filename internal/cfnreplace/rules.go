// Package cfnreplace is CloudFormation's replacement rule made executable, fed from
// synthesized and deployed templates (docs/design.md, "Replacement-safe updates"): an update
// that changes a createOnly property ("Update requires: Replacement" in the template
// reference) replaces the resource, and CloudFormation cannot replace a resource whose custom
// name stays the same: the update fails and the stack rolls back.
//
//   - https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-name.html
//     ("If you specify a name, you cannot perform updates that require replacement of this
//     resource. You can perform updates that require no or some interruption.")
//   - https://repost.aws/knowledge-center/cloudformation-custom-name ("CloudFormation cannot
//     update a stack when a custom-named resource requires replacing").
//   - https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-update-behaviors.html
//     (replacement: CloudFormation creates the new resource, points the stack at it, then
//     deletes the old one).
//
// The rules are data (Rules), one row per resource type with its page. Check is pure Go: no
// AWS, no jsii. drctl runs it before a deploy against the template CloudFormation holds
// (internal/dr, replacement.go); stacks tests run it over two synths.
package cfnreplace

// Rule is what CloudFormation does on an update of one resource type.
type Rule struct {
	// Type is the CloudFormation resource type.
	Type string
	// CreateOnly are the properties whose change replaces the resource: the registry schema's
	// createOnlyProperties (`aws cloudformation describe-type --type RESOURCE --type-name
	// <Type>`), which the template reference prints as "Update requires: Replacement". A
	// nested property is a path below Properties ("HealthCheckConfig/Type").
	CreateOnly []string
	// NameProperty is the custom physical name ("" when the type has none): set and
	// unchanged, it makes a replacement impossible (aws-properties-name.html).
	NameProperty string
	// Identity are the properties that together name the resource in its service when no
	// single property does (a Route 53 record is its zone, name, type and set identifier). A
	// resource that moves to a new logical id with the same identity is a NameConflict, as a
	// named one is. Empty: NameProperty alone.
	Identity []string
	// Doc is the type's page in the CloudFormation template reference.
	Doc string
	// WayOut says how to make the replacement possible, when the generic advice (a new
	// NameProperty) is not enough. EnvPlaceholder stands for the environment's name.
	WayOut string
	// OnReplace is what a replacement costs beyond the resource itself ("" when nothing).
	OnReplace string
}

// EnvPlaceholder is the environment's name in a WayOut; drctl puts the real one in.
const EnvPlaceholder = "<env>"

// Documentation of the rule itself.
const (
	// DocCustomName: a custom-named resource cannot be replaced while its name stays.
	DocCustomName = "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-name.html"
	// DocUpdateBehaviors: a replacement creates the new resource first, then deletes the old.
	DocUpdateBehaviors = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-update-behaviors.html"
)

const ref = "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"

// Rules are the resource types our stacks create that have createOnly properties (a test
// keeps every type of the golden templates decided: a row here or a reason in notCovered,
// rules_test.go), checked against the registry schemas of cfn-lint 1.51.0, every Region
// (testdata/registry-createonly.json).
var Rules = []Rule{
	{Type: "AWS::ElastiCache::ServerlessCache", NameProperty: "ServerlessCacheName",
		// NetworkType: in the schema of the Regions that have it (eu-central-1 in 1.51.0).
		CreateOnly: []string{"ServerlessCacheName", "KmsKeyId", "SnapshotArnsToRestore", "SubnetIds", "NetworkType"},
		Doc:        ref + "aws-resource-elasticache-serverlesscache.html",
		// A stateless session cache (the runbook's mode): losing its contents is acceptable
		// once approved; its user and user group ids follow the cache name (constructs/sessioncache).
		WayOut: "give the cache a new name (cdk.json environments." + EnvPlaceholder + ".cache.name): a new cache is created and the old one deleted; " +
			"sessions in it are lost (a stateless session cache: users sign in again). Its user and user group ids follow the name, so they are replaced with it",
		OnReplace: "the new cache is empty: the sessions in the old one are lost and its endpoint changes (the stack's outputs and SSM parameters follow)"},
	{Type: "AWS::ElastiCache::User", NameProperty: "UserId", CreateOnly: []string{"UserId", "UserName"},
		Doc: ref + "aws-resource-elasticache-user.html",
		// The id is <cache name>-<user name>[-iam] (context/derived.go, UserID).
		WayOut: "the user id is <cache name>-<user name>, -iam in iam mode: a new cache name (cdk.json environments." + EnvPlaceholder +
			".cache.name) or user name (environments." + EnvPlaceholder + ".cache.auth.userName) gives the user a new id"},
	{Type: "AWS::ElastiCache::UserGroup", NameProperty: "UserGroupId", CreateOnly: []string{"UserGroupId"},
		Doc: ref + "aws-resource-elasticache-usergroup.html"},
	{Type: "AWS::SSM::Parameter", NameProperty: "Name", CreateOnly: []string{"Name"},
		Doc: ref + "aws-resource-ssm-parameter.html"},
	{Type: "AWS::SecretsManager::Secret", NameProperty: "Name", CreateOnly: []string{"Name"},
		Doc: ref + "aws-resource-secretsmanager-secret.html"},
	{Type: "AWS::Lambda::Function", NameProperty: "FunctionName", CreateOnly: []string{"FunctionName", "PackageType", "TenancyConfig"},
		Doc: ref + "aws-resource-lambda-function.html"},
	{Type: "AWS::CloudWatch::Alarm", NameProperty: "AlarmName", CreateOnly: []string{"AlarmName"},
		Doc: ref + "aws-resource-cloudwatch-alarm.html"},
	{Type: "AWS::CloudWatch::Dashboard", NameProperty: "DashboardName", CreateOnly: []string{"DashboardName"},
		Doc: ref + "aws-resource-cloudwatch-dashboard.html"},
	// GroupName is not createOnly in the registry schema (an update moves the schedule).
	{Type: "AWS::Scheduler::Schedule", NameProperty: "Name", CreateOnly: []string{"Name"},
		Doc: ref + "aws-resource-scheduler-schedule.html"},
	{Type: "AWS::IAM::Role", NameProperty: "RoleName", CreateOnly: []string{"RoleName", "Path"},
		Doc: ref + "aws-resource-iam-role.html"},
	{Type: "AWS::IAM::ManagedPolicy", NameProperty: "ManagedPolicyName", CreateOnly: []string{"ManagedPolicyName", "Description", "Path"},
		Doc: ref + "aws-resource-iam-managedpolicy.html"},
	{Type: "AWS::EC2::SecurityGroup", NameProperty: "GroupName", CreateOnly: []string{"GroupName", "GroupDescription", "VpcId"},
		Doc: ref + "aws-resource-ec2-securitygroup.html"},
	{Type: "AWS::Logs::LogGroup", NameProperty: "LogGroupName", CreateOnly: []string{"LogGroupName"},
		Doc: ref + "aws-resource-logs-loggroup.html"},
	{Type: "AWS::SQS::Queue", NameProperty: "QueueName", CreateOnly: []string{"QueueName", "FifoQueue"},
		Doc: ref + "aws-resource-sqs-queue.html"},
	// A record has no physical name, but Route 53 knows it by zone, name, type and set
	// identifier (https://docs.aws.amazon.com/Route53/latest/APIReference/API_Change.html):
	// a change of zone or name creates the new record beside the old one (a replacement that
	// succeeds), while a record that moves to a new logical id unchanged is created while the
	// old one still exists, which CloudFormation's create refuses (the AWS CDK's deleteExisting
	// option exists for this: https://github.com/aws/aws-cdk/issues/20416).
	{Type: "AWS::Route53::RecordSet", CreateOnly: []string{"HostedZoneId", "HostedZoneName", "Name"},
		Identity: []string{"HostedZoneId", "HostedZoneName", "Name", "Type", "SetIdentifier"},
		Doc:      ref + "aws-resource-route53-recordset.html",
		WayOut:   "keep the record's logical id (its construct id), or move it in two deploys: one without the record, then one with it under its new id (the name is unanswered in between)"},
	// No custom name: a replacement always succeeds, and gets a new health check id.
	{Type: "AWS::Route53::HealthCheck", CreateOnly: []string{"HealthCheckConfig/Type", "HealthCheckConfig/MeasureLatency", "HealthCheckConfig/RequestInterval"},
		Doc: ref + "aws-resource-route53-healthcheck.html"},
}

// RuleFor returns the row of a resource type.
func RuleFor(typ string) (Rule, bool) {
	for _, r := range Rules {
		if r.Type == typ {
			return r, true
		}
	}
	return Rule{}, false
}
