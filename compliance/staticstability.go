package compliance

// VDR-015: static stability. The stack an activation deploys on the night (the DR cache stack,
// `cdk deploy ... --context drMode=stateless`) must not create or change anything whose control
// plane is global: those control planes live in one region (us-east-1 for most of them in the
// aws partition, us-west-2 for ARC), and the night we deploy may be the night that region is
// impaired. Their data planes keep working (an existing role still authenticates, Route 53
// still answers and fails over on health checks), so what the night needs must already exist:
// created in peacetime by the always-on stack in the DR region (the switch stack), or written
// by the separate best-effort DNS step, never by the cache stack
// (https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/global-services.html).
//
// Custom resources need no row of their own: a Custom::* or AWS::CloudFormation::CustomResource
// backed by a Lambda of CDK's provider framework is a problem only if the stack also creates
// the function's IAM role, and that role is an AWS::IAM::* finding already. What the rule does
// not see is a custom resource calling a global API itself (an AwsCustomResource calling
// route53:ChangeResourceRecordSets): it checks resource types, not SDK calls.

import (
	"fmt"
	"sort"
	"strings"

	"github.com/valkey-dr/valkey-dr/context"
)

// GlobalControlPlane is one row of the table of resource types whose control plane is not in
// the stack's region.
type GlobalControlPlane struct {
	// Service names the service in messages.
	Service string
	// Pattern is a CloudFormation resource type, "*" for the rest of the name:
	// "AWS::Route53::*" matches AWS::Route53::RecordSet, not AWS::Route53Resolver::Rule.
	Pattern string
	// ControlPlane says where the control plane is (aws partition).
	ControlPlane string
	// Doc is where AWS says so.
	Doc string
}

const (
	docPartitional = "https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/appendix-a---partitional-service-guidance.html"
	docEdge        = "https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/appendix-b---edge-network-global-service-guidance.html"
)

// GlobalControlPlanes is the table VDR-015 reads. Route 53 Resolver (AWS::Route53Resolver::*)
// and Route 53 Profiles are regional services and are not in it.
var GlobalControlPlanes = []GlobalControlPlane{
	{Service: "IAM", Pattern: "AWS::IAM::*", ControlPlane: "us-east-1", Doc: docPartitional},
	{Service: "AWS Organizations", Pattern: "AWS::Organizations::*", ControlPlane: "us-east-1", Doc: docPartitional},
	// Public hosted zones, records and health checks: the Route 53 control plane is in
	// us-east-1; the DNS answers and health checks (the data plane) are everywhere.
	{Service: "Route 53", Pattern: "AWS::Route53::*", ControlPlane: "us-east-1", Doc: docEdge},
	{Service: "CloudFront", Pattern: "AWS::CloudFront::*", ControlPlane: "us-east-1", Doc: docEdge},
	{Service: "Global Accelerator", Pattern: "AWS::GlobalAccelerator::*", ControlPlane: "us-west-2", Doc: docEdge},
	{Service: "Shield Advanced", Pattern: "AWS::Shield::*", ControlPlane: "us-east-1", Doc: docEdge},
	// ARC's routing control and readiness resources are created through its us-west-2 API
	// (the routing control state, the data plane, is served by the cluster's five regional
	// endpoints); the whitepaper lists ARC among the partitional services, us-west-2.
	{Service: "Route 53 ARC routing control", Pattern: "AWS::Route53RecoveryControl::*", ControlPlane: "us-west-2",
		Doc: "https://docs.aws.amazon.com/r53recovery/latest/dg/introduction-regions-routing.html"},
	{Service: "Route 53 ARC readiness check", Pattern: "AWS::Route53RecoveryReadiness::*", ControlPlane: "us-west-2",
		Doc: "https://docs.aws.amazon.com/r53recovery/latest/dg/introduction-regions-readiness.html"},
}

// matches reports whether a resource type matches the row's pattern.
func (g GlobalControlPlane) matches(typ string) bool {
	if prefix, ok := strings.CutSuffix(g.Pattern, "*"); ok {
		return strings.HasPrefix(typ, prefix)
	}
	return typ == g.Pattern
}

// GlobalControlPlaneOf returns the row a resource type matches.
func GlobalControlPlaneOf(typ string) (GlobalControlPlane, bool) {
	for _, g := range GlobalControlPlanes {
		if g.matches(typ) {
			return g, true
		}
	}
	return GlobalControlPlane{}, false
}

// PeacetimeStacks are the stacks that are never deployed on the night, by the end of their
// stack id, whatever facts the gate was given for them: `make check` synthesizes one
// environment x drMode at a time and gives every stack of that synth the cell's facts, so a
// stack that rides along with the DR cache stack would otherwise read as drMode=stateless.
var PeacetimeStacks = []struct{ Suffix, Why string }{
	{"-switch", "the forced-failover switch: always on in the DR region, deployed with the primary"},
	{"-dr-dns", "the DR DNS step: deployed separately, best effort, after the cache is up"},
}

// DeployedOnTheNight reports whether a stack is one an activation deploys during the incident:
// a stack of a drMode whose row says so (Mode.OnTheNight: the stateless DR cache stack,
// including a same-region drill's), unless its id names it a peacetime stack. The evidence
// stack and the switch have drMode none facts; a warm standby (drMode=standby) is deployed in
// peacetime and owns its canary role and records like the primary; an unknown drMode is not
// judged (as VDR-009 does). The mode is read from its row of the drMode table, never by name.
func DeployedOnTheNight(s *Stack) bool {
	for _, p := range PeacetimeStacks {
		if strings.HasSuffix(s.Name, p.Suffix) {
			return false
		}
	}
	m, ok := drcontext.ModeOf(s.Facts.DrMode)
	return ok && m.OnTheNight
}

func nightNoGlobalControlPlane(s *Stack) []Finding {
	if !DeployedOnTheNight(s) {
		return nil
	}
	var out []Finding
	ids := make([]string, 0, len(s.Template.Resources))
	for id := range s.Template.Resources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		typ := s.Template.Resources[id].Type
		g, ok := GlobalControlPlaneOf(typ)
		if !ok {
			continue
		}
		out = append(out, s.at(id, "Type", "%s %s is created by stack %s, which drMode=%s deploys on the night: its control plane (%s) is global, in %s (%s)",
			typ, id, s.Name, s.Facts.DrMode, g.Service, g.ControlPlane, g.Doc))
	}
	return out
}

// String renders a row for a message or a table.
func (g GlobalControlPlane) String() string {
	return fmt.Sprintf("%s (%s, control plane in %s: %s)", g.Pattern, g.Service, g.ControlPlane, g.Doc)
}
