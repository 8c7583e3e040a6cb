package compliance

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/valkey-dr/valkey-dr/context"

	"github.com/valkey-dr/valkey-dr/contract"
)

// Rule is one of our checks. Title says what the rule requires and Fix what to change when it
// fires; both are printed with every finding, so an operator never has to look them up.
type Rule struct {
	ID    string
	Title string
	Fix   string
	// Exactly one of stack (one stack at a time) and env (every stack of one environment)
	// is set; VDR-000 has neither: the validation plugin applies it.
	stack func(*Stack) []Finding
	env   func([]*Stack) []Finding
}

// Finding is one violation of one rule by one resource, or by a stack as a whole.
type Finding struct {
	RuleID string
	Stack  string
	// LogicalID is the violating resource; "" when the stack itself violates the rule.
	LogicalID string
	// Path is the construct path of the resource (or of the stack).
	Path string
	// Location is where in the resource or stack: "Properties/Engine".
	Location string
	// Problem says what was found, with the value found.
	Problem      string
	TemplatePath string
}

// Rule returns the finding's rule.
func (f Finding) Rule() Rule { return RuleByID(f.RuleID) }

// String is the finding as one block for a terminal: rule, where, what, fix.
func (f Finding) String() string {
	r := f.Rule()
	where := f.Path
	if f.LogicalID != "" {
		where += " (" + f.LogicalID + ")"
	}
	return fmt.Sprintf("%s %s\n  at:  %s\n  got: %s\n  fix: %s", r.ID, r.Title, where, f.Problem, r.Fix)
}

// Rule ids. They never change meaning: README.md, suppressions and audits refer to them.
const (
	RuleStackRegistered    = "VDR-000"
	RuleEngineValkey       = "VDR-001"
	RuleNetworkPlacement   = "VDR-002"
	RuleIngressValkeyPorts = "VDR-003"
	RuleNoOpenCIDR         = "VDR-004"
	RuleNoEgress           = "VDR-005"
	RuleProdUserGroup      = "VDR-006"
	RuleProdKMS            = "VDR-007"
	RuleNoSnapshotRestore  = "VDR-008"
	RuleStatelessNoBackups = "VDR-009"
	RuleRequiredTags       = "VDR-010"
	RuleProdTermination    = "VDR-011"
	RuleDNSTTL             = "VDR-012"
	RuleRecordOwnedOnce    = "VDR-013"
	RuleAlarmTopicPublish  = "VDR-014"
	RuleNightStaticStable  = "VDR-015"
)

// PluginName is how CDK's validation report (and cdk.out/validation-report.json) names our
// rules.
const PluginName = "valkey-dr compliance"

// NagPacks are the cdk-nag packs package gate applies to every stack, by the prefix of their
// rule ids (and of their report files in cdk.out).
var NagPacks = []string{"AwsSolutions", "HIPAA.Security"}

// RequiredTags must be on the cache (docs/design.md, "Security baseline").
var RequiredTags = []string{"environment", "drMode", "dataClassification", "owner"}

// Rules is every rule, in id order.
var Rules = []Rule{
	{ID: RuleStackRegistered, Title: "every stack of the app is registered with the compliance gate, and its synthesized template is readable",
		Fix: "pass the stack to gate.Apply with the Config it was built from (main.go does this for the stack it builds)"},
	{ID: RuleEngineValkey, Title: "the serverless cache runs Valkey",
		Fix: `keep Engine "valkey" as constructs/sessioncache sets it; remove any override of Engine`, stack: engineValkey},
	{ID: RuleNetworkPlacement, Title: "the serverless cache has SubnetIds and SecurityGroupIds",
		Fix: "SubnetIds come from regions.<region>.subnetIds in cdk.json and SecurityGroupIds is the group constructs/sessioncache creates; without them the cache lands in the default VPC with its default security group", stack: networkPlacement},
	{ID: RuleIngressValkeyPorts, Title: "the cache security group allows only TCP 6379-6380, and is defined in this stack",
		Fix: "remove the rule: only constructs/sessioncache adds ingress to the cache group (TCP 6379-6380 from applicationSecurityGroupIds and allowedCidrs in cdk.json)", stack: ingressValkeyPorts},
	{ID: RuleNoOpenCIDR, Title: "no security group ingress is open to 0.0.0.0/0 or ::/0",
		Fix: "replace the open CIDR with the application networks (allowedCidrs) or, better, the application security groups (applicationSecurityGroupIds) in cdk.json", stack: noOpenCIDR},
	{ID: RuleNoEgress, Title: "the cache security group allows no egress",
		Fix: `keep the single "disallow all" egress rule constructs/sessioncache writes (icmp 252-86 to 255.255.255.255/32): without an egress rule CloudFormation allows all outbound traffic`, stack: noEgress},
	{ID: RuleProdUserGroup, Title: "a production cache has an RBAC user group (UserGroupId)",
		Fix: "set cache.auth.mode to password or iam in cdk.json: RBAC is the only access control on ElastiCache Serverless", stack: prodUserGroup},
	{ID: RuleProdKMS, Title: "a production cache is encrypted with a customer-managed KMS key (KmsKeyId)",
		Fix: "set regions.<region>.kmsKeyArn in cdk.json to the ARN of a customer-managed key in that region (a key ARN, not an alias)", stack: prodKMS},
	{ID: RuleNoSnapshotRestore, Title: "the cache restores no snapshot (SnapshotArnsToRestore)",
		Fix: "remove SnapshotArnsToRestore: the stateless runbook creates an empty cache, and a change of this property replaces the cache", stack: noSnapshotRestore},
	{ID: RuleStatelessNoBackups, Title: "a DR cache (drMode stateless or standby) keeps no snapshots (SnapshotRetentionLimit 0)",
		Fix: "set SnapshotRetentionLimit to 0 in the DR drModes, as stacks/cachestack.go does: snapshots are out of scope of the stateless runbook, and the warm standby is as empty", stack: statelessNoBackups},
	{ID: RuleRequiredTags, Title: "the cache carries the tags environment, drMode, dataClassification and owner, naming its own environment and drMode",
		Fix: "tag through stacks/cachestack.go (Config.Tags): owner and dataClassification come from the environment's tags in cdk.json, environment and drMode from the app; do not remove or override them", stack: requiredTags},
	{ID: RuleProdTermination, Title: "a production stack has termination protection",
		Fix: "production stacks are created with TerminationProtection true (stacks/cachestack.go); never turn it off in code: to delete a stack, disable it deliberately with the AWS CLI first (runbook section 8)", stack: prodTermination},
	{ID: RuleDNSTTL, Title: fmt.Sprintf("every Route 53 record has a TTL of %d seconds or less", contract.MaxTTLSeconds),
		Fix: fmt.Sprintf("set dns.ttlSeconds in cdk.json to %d or less (default 30); a record written in code needs an explicit TTL (CDK's default is 30 minutes)", contract.MaxTTLSeconds), stack: dnsTTL},
	{ID: RuleRecordOwnedOnce, Title: "no Route 53 record set (Name + Type + SetIdentifier) is owned by two stacks of one environment",
		Fix: "give each stack its own record set: regional names carry the region, the failover halves of the service name carry distinct SetIdentifiers (primary, secondary), a drill uses the .drill. name", env: recordOwnedOnce},
	{ID: RuleAlarmTopicPublish, Title: "every SNS topic an alarm notifies lets CloudWatch publish: its topic policy allows it and its KMS key lets it use the key",
		Fix: "in the topic policy, add an Allow for Principal {\"Service\": \"cloudwatch.amazonaws.com\"}, Action sns:Publish, Resource the topic, " +
			"with Condition StringEquals aws:SourceAccount <account> and ArnLike aws:SourceArn arn:<partition>:cloudwatch:<region>:<account>:alarm:<alarm name prefix>* " +
			"matching the alarms' names (constructs/alarmtopic writes it): a topic policy replaces SNS's default policy, so one holding only the TLS Deny of EnforceSSL refuses every alarm; " +
			"in the policy of the topic's KMS key, allow cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey* (never encrypt an alarm topic with aws/sns); " +
			"remove any Deny that could stop CloudWatch other than the TLS-only one (Bool aws:SecureTransport false)", stack: alarmTopicsPublishable},
	{ID: RuleNightStaticStable, Title: "static stability: a stack an activation deploys on the night (drMode=stateless) creates nothing whose control plane is global (IAM, Route 53, CloudFront, Global Accelerator, Organizations, Route 53 ARC, Shield)",
		Fix: "move the resource to the always-on stack in the DR region, deployed in peacetime with the primary (like the switch stack), or, for DNS records, " +
			"to the separate best-effort DNS step (the -dr-dns stack); the night's stack refers to it by name or ARN only", stack: nightNoGlobalControlPlane},
}

// RuleByID returns the rule with that id, or a rule whose title says it is unknown.
func RuleByID(id string) Rule {
	for _, r := range Rules {
		if r.ID == id {
			return r
		}
	}
	return Rule{ID: id, Title: "(unknown rule)"}
}

// CheckStack applies every single-stack rule to one stack.
func CheckStack(s *Stack) []Finding {
	var out []Finding
	for _, r := range Rules {
		if r.stack == nil {
			continue
		}
		for _, f := range r.stack(s) {
			f.RuleID = r.ID
			out = append(out, f)
		}
	}
	return out
}

// CheckEnvironments applies the cross-stack rules to every group of stacks that share an
// environment (Facts.Environment).
func CheckEnvironments(stacks []*Stack) []Finding {
	groups := map[string][]*Stack{}
	var envs []string
	for _, s := range stacks {
		if _, ok := groups[s.Facts.Environment]; !ok {
			envs = append(envs, s.Facts.Environment)
		}
		groups[s.Facts.Environment] = append(groups[s.Facts.Environment], s)
	}
	sort.Strings(envs)
	var out []Finding
	for _, e := range envs {
		for _, r := range Rules {
			if r.env == nil {
				continue
			}
			for _, f := range r.env(groups[e]) {
				f.RuleID = r.ID
				out = append(out, f)
			}
		}
	}
	return out
}

// Check applies every rule: each stack alone, then each environment's stacks together.
func Check(stacks []*Stack) []Finding {
	var out []Finding
	for _, s := range stacks {
		out = append(out, CheckStack(s)...)
	}
	return append(out, CheckEnvironments(stacks)...)
}

// at makes a finding on a resource.
func (s *Stack) at(logicalID, location, format string, args ...any) Finding {
	return Finding{Stack: s.Name, LogicalID: logicalID, Path: s.path(logicalID), Location: location,
		Problem: fmt.Sprintf(format, args...), TemplatePath: s.TemplatePath}
}

// onStack makes a finding on the stack itself.
func (s *Stack) onStack(location, format string, args ...any) Finding {
	return Finding{Stack: s.Name, Path: s.Name, Location: location, Problem: fmt.Sprintf(format, args...),
		TemplatePath: s.TemplatePath}
}

// caches calls f for each serverless cache of the stack.
func (s *Stack) caches(f func(id string, p map[string]any) []Finding) []Finding {
	var out []Finding
	for _, id := range s.ofType(typeServerlessCache) {
		out = append(out, f(id, s.Template.Resources[id].Properties)...)
	}
	return out
}

func engineValkey(s *Stack) []Finding {
	return s.caches(func(id string, p map[string]any) []Finding {
		if e, ok := p["Engine"].(string); ok && e == "valkey" {
			return nil
		}
		return []Finding{s.at(id, "Properties/Engine", "Engine is %s", show(p["Engine"]))}
	})
}

func networkPlacement(s *Stack) []Finding {
	return s.caches(func(id string, p map[string]any) []Finding {
		var out []Finding
		for _, prop := range []string{"SubnetIds", "SecurityGroupIds"} {
			if !present(p[prop]) {
				out = append(out, s.at(id, "Properties/"+prop, "%s is %s", prop, show(p[prop])))
			}
		}
		return out
	})
}

// sgRule is one ingress or egress rule of a security group, inline or a standalone resource.
type sgRule struct {
	owner    string // logical id of the resource holding the rule
	location string
	label    string // how the message names the rule
	rule     map[string]any
}

// cacheGroups returns the logical ids of the security groups the caches use that this stack
// defines, and a VDR-003 finding for any other (an imported group's rules cannot be checked).
func (s *Stack) cacheGroups() (ids []string, undefined []Finding) {
	seen := map[string]bool{}
	for _, cache := range s.ofType(typeServerlessCache) {
		list, _ := s.Template.Resources[cache].Properties["SecurityGroupIds"].([]any)
		for i, v := range list {
			id, ok := refTarget(v)
			if !ok || s.Template.Resources[id].Type != typeSecurityGroup {
				undefined = append(undefined, s.at(cache, fmt.Sprintf("Properties/SecurityGroupIds/%d", i),
					"SecurityGroupIds[%d] is %s, a group this stack does not define: its rules cannot be checked", i, show(v)))
				continue
			}
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	sort.Strings(ids)
	return ids, undefined
}

// rules returns the inline rules of a group (prop is SecurityGroupIngress or
// SecurityGroupEgress) and the standalone resources of type standalone attached to it.
func (s *Stack) rules(sg, prop, standalone string) []sgRule {
	var out []sgRule
	list, _ := s.Template.Resources[sg].Properties[prop].([]any)
	for i, v := range list {
		m, _ := v.(map[string]any)
		out = append(out, sgRule{owner: sg, location: fmt.Sprintf("Properties/%s/%d", prop, i),
			label: fmt.Sprintf("%s[%d]", prop, i), rule: m})
	}
	for _, id := range s.ofType(standalone) {
		p := s.Template.Resources[id].Properties
		if target, ok := refTarget(p["GroupId"]); ok && target == sg {
			out = append(out, sgRule{owner: id, location: "Properties", label: standalone + " " + id, rule: p})
		}
	}
	return out
}

// describe renders a security group rule: "tcp 6379-6380 from sg-0123".
func describe(r map[string]any) string {
	peer := "(no peer)"
	for _, k := range []string{"CidrIp", "CidrIpv6", "SourceSecurityGroupId", "SourcePrefixListId", "DestinationSecurityGroupId", "DestinationPrefixListId"} {
		if v, ok := r[k]; ok {
			peer = show(v)
			break
		}
	}
	return fmt.Sprintf("protocol %s ports %s-%s, peer %s", show(r["IpProtocol"]), show(r["FromPort"]), show(r["ToPort"]), peer)
}

func isTCP(v any) bool {
	switch t := v.(type) {
	case string:
		return strings.EqualFold(t, "tcp") || t == "6"
	case float64:
		return t == 6
	}
	return false
}

func ingressValkeyPorts(s *Stack) []Finding {
	groups, out := s.cacheGroups()
	for _, sg := range groups {
		for _, r := range s.rules(sg, "SecurityGroupIngress", typeIngress) {
			from, okFrom := number(r.rule["FromPort"])
			to, okTo := number(r.rule["ToPort"])
			if isTCP(r.rule["IpProtocol"]) && okFrom && okTo && from >= contract.PortPrimary && to <= contract.PortReader && from <= to {
				continue
			}
			out = append(out, s.at(r.owner, r.location, "%s of security group %s allows %s", r.label, sg, describe(r.rule)))
		}
	}
	return out
}

// openCIDR reports whether a value is a CIDR of the whole address space (0.0.0.0/0, ::/0).
func openCIDR(v any) bool {
	str, ok := v.(string)
	if !ok {
		return false
	}
	p, err := netip.ParsePrefix(strings.TrimSpace(str))
	return err == nil && p.Bits() == 0
}

func noOpenCIDR(s *Stack) []Finding {
	var out []Finding
	for _, sg := range s.ofType(typeSecurityGroup) {
		list, _ := s.Template.Resources[sg].Properties["SecurityGroupIngress"].([]any)
		for i, v := range list {
			m, _ := v.(map[string]any)
			for _, k := range []string{"CidrIp", "CidrIpv6"} {
				if openCIDR(m[k]) {
					out = append(out, s.at(sg, fmt.Sprintf("Properties/SecurityGroupIngress/%d/%s", i, k),
						"SecurityGroupIngress[%d] is open to %s (%s)", i, show(m[k]), describe(m)))
				}
			}
		}
	}
	for _, id := range s.ofType(typeIngress) {
		p := s.Template.Resources[id].Properties
		for _, k := range []string{"CidrIp", "CidrIpv6"} {
			if openCIDR(p[k]) {
				out = append(out, s.at(id, "Properties/"+k, "ingress to %s is open to %s (%s)", show(p["GroupId"]), show(p[k]), describe(p)))
			}
		}
	}
	return out
}

// disallowAll is the conventional rule that leaves a group with no usable egress: CDK writes it
// for allowAllOutbound false, and so does constructs/sessioncache.
func disallowAll(r map[string]any) bool {
	from, _ := number(r["FromPort"])
	to, _ := number(r["ToPort"])
	return r["IpProtocol"] == "icmp" && r["CidrIp"] == "255.255.255.255/32" && from == 252 && to == 86
}

func noEgress(s *Stack) []Finding {
	groups, _ := s.cacheGroups() // undefined groups are VDR-003's finding
	var out []Finding
	for _, sg := range groups {
		rules := s.rules(sg, "SecurityGroupEgress", typeEgress)
		inline := 0
		for _, r := range rules {
			if r.owner == sg {
				inline++
			}
			if !disallowAll(r.rule) {
				out = append(out, s.at(r.owner, r.location, "%s of security group %s allows %s", r.label, sg, describe(r.rule)))
			}
		}
		if inline == 0 {
			out = append(out, s.at(sg, "Properties/SecurityGroupEgress",
				"security group %s has no SecurityGroupEgress, so CloudFormation gives it allow-all egress", sg))
		}
	}
	return out
}

func prodUserGroup(s *Stack) []Finding {
	if !s.Facts.Production {
		return nil
	}
	return s.caches(func(id string, p map[string]any) []Finding {
		if present(p["UserGroupId"]) {
			return nil
		}
		return []Finding{s.at(id, "Properties/UserGroupId", "UserGroupId is not set in production environment %q: anyone who reaches the port is the default user", s.Facts.Environment)}
	})
}

func prodKMS(s *Stack) []Finding {
	if !s.Facts.Production {
		return nil
	}
	return s.caches(func(id string, p map[string]any) []Finding {
		v := p["KmsKeyId"]
		if str, ok := v.(string); ok && (strings.HasPrefix(str, "alias/") || strings.Contains(str, ":alias/")) {
			return []Finding{s.at(id, "Properties/KmsKeyId", "KmsKeyId is the alias %q: an alias can be re-pointed to another key", str)}
		}
		if present(v) {
			return nil
		}
		return []Finding{s.at(id, "Properties/KmsKeyId", "KmsKeyId is not set in production environment %q: the cache would use an AWS-owned key", s.Facts.Environment)}
	})
}

func noSnapshotRestore(s *Stack) []Finding {
	return s.caches(func(id string, p map[string]any) []Finding {
		if v, ok := p["SnapshotArnsToRestore"]; ok {
			return []Finding{s.at(id, "Properties/SnapshotArnsToRestore", "SnapshotArnsToRestore is %s", show(v))}
		}
		return nil
	})
}

func statelessNoBackups(s *Stack) []Finding {
	if m, ok := drcontext.ModeOf(s.Facts.DrMode); !ok || m.SnapshotsAllowed {
		return nil
	}
	return s.caches(func(id string, p map[string]any) []Finding {
		v, ok := p["SnapshotRetentionLimit"]
		if !ok {
			return nil
		}
		if n, isNum := number(v); isNum && n == 0 {
			return nil
		}
		return []Finding{s.at(id, "Properties/SnapshotRetentionLimit", "SnapshotRetentionLimit is %s in drMode=%s", show(v), s.Facts.DrMode)}
	})
}

func requiredTags(s *Stack) []Finding {
	want := map[string]string{"environment": s.Facts.Environment, "drMode": string(s.Facts.DrMode)}
	return s.caches(func(id string, _ map[string]any) []Finding {
		got := tags(s.Template.Resources[id])
		var problems []string
		for _, k := range RequiredTags {
			v, ok := got[k]
			if str, isStr := v.(string); !ok || (isStr && str == "") {
				problems = append(problems, fmt.Sprintf("tag %q is missing", k))
				continue
			}
			if w := want[k]; w != "" && v != w {
				problems = append(problems, fmt.Sprintf("tag %q is %s, the stack's %s is %q", k, show(v), k, w))
			}
		}
		if len(problems) == 0 {
			return nil
		}
		return []Finding{s.at(id, "Properties/Tags", "%s", strings.Join(problems, "; "))}
	})
}

func prodTermination(s *Stack) []Finding {
	if !s.Facts.Production || s.TerminationProtection {
		return nil
	}
	return []Finding{s.onStack("terminationProtection", "stack %s of production environment %q has termination protection off", s.Name, s.Facts.Environment)}
}

func dnsTTL(s *Stack) []Finding {
	var out []Finding
	check := func(id, location string, rec map[string]any) {
		if present(rec["AliasTarget"]) {
			return // an alias record has no TTL of its own
		}
		ttl, ok := rec["TTL"]
		n, isNum := number(ttl)
		switch {
		case !ok:
			out = append(out, s.at(id, location, "record %s has no TTL", show(rec["Name"])))
		case !isNum:
			out = append(out, s.at(id, location, "record %s has TTL %s, which is not a number of seconds", show(rec["Name"]), show(ttl)))
		case n > contract.MaxTTLSeconds:
			out = append(out, s.at(id, location, "record %s has a TTL of %g seconds", show(rec["Name"]), n))
		}
	}
	for _, id := range s.ofType(typeRecordSet) {
		check(id, "Properties/TTL", s.Template.Resources[id].Properties)
	}
	for _, id := range s.ofType(typeRecordSetGroup) {
		list, _ := s.Template.Resources[id].Properties["RecordSets"].([]any)
		for i, v := range list {
			m, _ := v.(map[string]any)
			check(id, fmt.Sprintf("Properties/RecordSets/%d/TTL", i), m)
		}
	}
	return out
}

// recordKey identifies a record set the way Route 53 does: Name (case and a final dot do not
// matter), Type and SetIdentifier. It is also how messages name the record set.
func recordKey(rec map[string]any) string {
	plain := func(v any) string {
		if s, ok := v.(string); ok {
			return s
		}
		return show(v) // an intrinsic: compared as written
	}
	name := plain(rec["Name"])
	if _, ok := rec["Name"].(string); ok {
		name = strings.ToLower(strings.TrimSuffix(name, "."))
	}
	key := name + " " + plain(rec["Type"])
	if v, ok := rec["SetIdentifier"]; ok {
		key += fmt.Sprintf(" (set identifier %s)", show(v))
	}
	return key
}

func recordOwnedOnce(stacks []*Stack) []Finding {
	type owner struct {
		stack    *Stack
		id, loc  string
		resource string
	}
	owners := map[string][]owner{}
	var keys []string
	add := func(s *Stack, id, loc string, rec map[string]any) {
		k := recordKey(rec)
		if _, ok := owners[k]; !ok {
			keys = append(keys, k)
		}
		owners[k] = append(owners[k], owner{stack: s, id: id, loc: loc, resource: s.path(id)})
	}
	for _, s := range stacks {
		for _, id := range s.ofType(typeRecordSet) {
			add(s, id, "Properties/Name", s.Template.Resources[id].Properties)
		}
		for _, id := range s.ofType(typeRecordSetGroup) {
			list, _ := s.Template.Resources[id].Properties["RecordSets"].([]any)
			for i, v := range list {
				m, _ := v.(map[string]any)
				add(s, id, fmt.Sprintf("Properties/RecordSets/%d/Name", i), m)
			}
		}
	}
	sort.Strings(keys)
	var out []Finding
	for _, k := range keys {
		same := owners[k]
		if len(same) < 2 {
			continue
		}
		for i, o := range same {
			var others []string
			for j, x := range same {
				if j != i {
					others = append(others, x.resource)
				}
			}
			out = append(out, o.stack.at(o.id, o.loc, "record set %s is also owned by %s", k, strings.Join(others, ", ")))
		}
	}
	return out
}
