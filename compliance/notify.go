package compliance

// VDR-014: every SNS topic an alarm notifies lets CloudWatch publish.
//
// An alarm whose topic refuses CloudWatch deploys cleanly, shows its actions as configured,
// changes state, and delivers nothing: the only trace is "Failed to execute action" in the
// alarm's history. Nobody looks there until the night a notification was needed. The rule
// walks, in each template:
//
//	AWS::CloudWatch::Alarm (and CompositeAlarm) -> AlarmActions / OKActions / InsufficientDataActions
//	  -> the AWS::SNS::Topic of the template each action names (Ref or Fn::GetAtt)
//	  -> every AWS::SNS::TopicPolicy whose Topics name it
//	     -> an Allow for the service principal cloudwatch.amazonaws.com on sns:Publish, scoped
//	        by aws:SourceAccount (StringEquals) and aws:SourceArn (ArnLike/ArnEquals) to ARNs
//	        that match the alarm's name, and no Deny that could stop it
//	  -> the topic's KmsMasterKeyId -> the AWS::KMS::Key of the template
//	     -> an Allow for cloudwatch.amazonaws.com on kms:Decrypt and kms:GenerateDataKey*
//
// Why each step:
//   - A topic policy replaces SNS's default policy as a whole. CDK's EnforceSSL writes one that
//     holds only the TLS Deny, which leaves CloudWatch no Allow at all
//     (https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger).
//   - A topic with no policy keeps SNS's default policy, which grants the owner account
//     (AWS:SourceOwner) and names neither the service nor the alarms. This rule asks for the
//     explicit grant, scoped against the confused deputy
//     (https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html), so a topic
//     without a policy is a finding too: the fix is the same statement.
//   - CloudWatch publishes to an encrypted topic only if the key lets it generate and decrypt
//     data keys; the AWS managed key aws/sns cannot be given that
//     (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html, "Enable compatibility
//     between event sources from AWS services and encrypted topics").
//   - A TLS-only Deny (aws:SecureTransport false) is fine: CloudWatch publishes over TLS.
//
// What the template cannot tell is counted, not judged: an action that is the literal ARN of a
// topic outside the template (or a parameter, an import) is "not checkable here", as is a
// topic encrypted with a key outside the template. NotifyCoverage says how much was checked,
// so a test can prove the rule did not pass on nothing.

import (
	"fmt"
	"sort"
	"strings"
)

const (
	typeAlarm          = "AWS::CloudWatch::Alarm"
	typeCompositeAlarm = "AWS::CloudWatch::CompositeAlarm"
	typeTopic          = "AWS::SNS::Topic"
	typeTopicPolicy    = "AWS::SNS::TopicPolicy"
	typeKey            = "AWS::KMS::Key"
	typeAlias          = "AWS::KMS::Alias"

	cloudWatchPrincipal = "cloudwatch.amazonaws.com"
)

// alarmActionProps are the alarm properties that name notification targets.
var alarmActionProps = []string{"AlarmActions", "OKActions", "InsufficientDataActions"}

// Condition operators the CloudWatch Allow must use (IfExists variants do not scope: they
// pass when the key is absent).
var (
	sourceAccountOps = []string{"StringEquals"}
	sourceArnOps     = []string{"ArnLike", "ArnEquals"}
)

// kmsActionsForCloudWatch are what CloudWatch needs on the topic's key; a pattern such as
// kms:GenerateDataKey* or kms:* covers them.
var kmsActionsForCloudWatch = []string{"kms:Decrypt", "kms:GenerateDataKey"}

// NotifyCoverage counts what VDR-014 checked.
type NotifyCoverage struct {
	// Alarms is the alarms (AWS::CloudWatch::Alarm and CompositeAlarm) walked.
	Alarms int
	// Actions is every entry of their AlarmActions, OKActions and InsufficientDataActions.
	Actions int
	// TopicActions is the actions that name a topic of the template: the checked ones.
	TopicActions int
	// NotCheckable is the actions that may be topics outside the template: a literal SNS ARN,
	// a parameter, an import, an ARN computed by an intrinsic.
	NotCheckable int
	// OtherActions is the actions that are not SNS at all (EC2, Auto Scaling, Systems
	// Manager, Lambda ARNs, or a resource of the template of another type).
	OtherActions int
	// Topics, Policies and Keys are the distinct topics, topic policies and KMS keys of the
	// template the rule checked.
	Topics, Policies, Keys int
	// KeysNotCheckable is the checked topics encrypted with a key outside the template.
	KeysNotCheckable int
}

// Add adds another stack's counts.
func (c *NotifyCoverage) Add(o NotifyCoverage) {
	c.Alarms += o.Alarms
	c.Actions += o.Actions
	c.TopicActions += o.TopicActions
	c.NotCheckable += o.NotCheckable
	c.OtherActions += o.OtherActions
	c.Topics += o.Topics
	c.Policies += o.Policies
	c.Keys += o.Keys
	c.KeysNotCheckable += o.KeysNotCheckable
}

func (c NotifyCoverage) String() string {
	return fmt.Sprintf("%d alarms, %d actions (%d to topics of the template, %d not checkable here, %d not SNS), "+
		"%d topics, %d topic policies, %d KMS keys (%d topic keys not checkable here)",
		c.Alarms, c.Actions, c.TopicActions, c.NotCheckable, c.OtherActions, c.Topics, c.Policies, c.Keys, c.KeysNotCheckable)
}

// CheckAlarmTopics applies VDR-014 to one stack and returns its findings (RuleID set) and
// what it checked.
func CheckAlarmTopics(s *Stack) ([]Finding, NotifyCoverage) {
	var cov NotifyCoverage
	// notifiers: topic logical id -> the alarms that notify it.
	notifiers := map[string][]string{}
	var alarms []string
	for _, typ := range []string{typeAlarm, typeCompositeAlarm} {
		alarms = append(alarms, s.ofType(typ)...)
	}
	sort.Strings(alarms)
	for _, alarm := range alarms {
		cov.Alarms++
		seen := map[string]bool{}
		p := s.Template.Resources[alarm].Properties
		for _, prop := range alarmActionProps {
			v, ok := p[prop]
			if !ok {
				continue
			}
			list, isList := v.([]any)
			if !isList {
				list = []any{v} // an Fn::If or another intrinsic: one action the template cannot tell
			}
			for _, a := range list {
				cov.Actions++
				switch topic, kind := s.classifyAction(a); kind {
				case actionTopic:
					cov.TopicActions++
					if !seen[topic] {
						seen[topic] = true
						notifiers[topic] = append(notifiers[topic], alarm)
					}
				case actionNotCheckable:
					cov.NotCheckable++
				default:
					cov.OtherActions++
				}
			}
		}
	}

	topics := make([]string, 0, len(notifiers))
	for t := range notifiers {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	var out []Finding
	policies, keys := map[string]bool{}, map[string]bool{}
	for _, topic := range topics {
		cov.Topics++
		out = append(out, s.checkTopicPolicies(topic, notifiers[topic], policies)...)
		out = append(out, s.checkTopicKey(topic, notifiers[topic], keys, &cov)...)
	}
	cov.Policies, cov.Keys = len(policies), len(keys)
	for i := range out {
		out[i].RuleID = RuleAlarmTopicPublish
	}
	return out, cov
}

// AlarmTopicCoverage applies VDR-014 to every stack and adds up what it checked.
func AlarmTopicCoverage(stacks []*Stack) ([]Finding, NotifyCoverage) {
	var out []Finding
	var total NotifyCoverage
	for _, s := range stacks {
		f, c := CheckAlarmTopics(s)
		out = append(out, f...)
		total.Add(c)
	}
	return out, total
}

func alarmTopicsPublishable(s *Stack) []Finding {
	f, _ := CheckAlarmTopics(s)
	return f
}

type actionKind int

const (
	actionTopic actionKind = iota
	actionNotCheckable
	actionOther
)

// classifyAction says what one alarm action is: a topic of the template (and which), a target
// the template cannot tell (an imported topic), or something that is not SNS.
func (s *Stack) classifyAction(a any) (string, actionKind) {
	if id, ok := refTarget(a); ok {
		r, exists := s.Template.Resources[id]
		switch {
		case exists && r.Type == typeTopic:
			return id, actionTopic // Ref and GetAtt TopicArn are both the topic's ARN
		case exists:
			return "", actionOther // a Lambda function or another resource of the template
		default:
			return "", actionNotCheckable // a parameter (or a pseudo parameter)
		}
	}
	str, ok := a.(string)
	if !ok {
		return "", actionNotCheckable // Fn::ImportValue, Fn::Join, Fn::Sub ...
	}
	parts := strings.SplitN(str, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" && parts[2] != "sns" {
		return "", actionOther // arn:aws:automate:..., arn:aws:autoscaling:..., arn:aws:ssm:...
	}
	return "", actionNotCheckable // an SNS ARN outside the template, or not an ARN at all
}

// alarmLabel names an alarm in a message: its logical id and, when literal, its name.
func (s *Stack) alarmLabel(id string) string {
	if n, ok := s.Template.Resources[id].Properties["AlarmName"].(string); ok && n != "" {
		return fmt.Sprintf("%s (%s)", id, n)
	}
	return id
}

func (s *Stack) alarmLabels(ids []string) string {
	labels := make([]string, len(ids))
	for i, id := range ids {
		labels[i] = s.alarmLabel(id)
	}
	return strings.Join(labels, ", ")
}

// policiesOf returns the topic policies of the template whose Topics name the topic.
func (s *Stack) policiesOf(topic string) []string {
	var out []string
	for _, id := range s.ofType(typeTopicPolicy) {
		for _, t := range asList(s.Template.Resources[id].Properties["Topics"]) {
			if target, ok := refTarget(t); ok && target == topic {
				out = append(out, id)
				break
			}
		}
	}
	return out
}

// checkTopicPolicies checks every policy of one topic. SNS keeps one policy per topic, so
// with two policies either may be the one in force: each must let CloudWatch publish.
func (s *Stack) checkTopicPolicies(topic string, alarms []string, seen map[string]bool) []Finding {
	pols := s.policiesOf(topic)
	if len(pols) == 0 {
		return []Finding{s.at(topic, "Properties", "no AWS::SNS::TopicPolicy names topic %s, so it keeps SNS's default policy, "+
			"which has no Allow for %s scoped by aws:SourceAccount and aws:SourceArn; alarms notifying it: %s",
			topic, cloudWatchPrincipal, s.alarmLabels(alarms))}
	}
	var out []Finding
	for _, pol := range pols {
		seen[pol] = true
		out = append(out, s.checkTopicPolicy(pol, topic, alarms)...)
	}
	return out
}

func (s *Stack) checkTopicPolicy(pol, topic string, alarms []string) []Finding {
	const loc = "Properties/PolicyDocument/Statement"
	stmts := statements(s.Template.Resources[pol].Properties["PolicyDocument"])
	var out []Finding
	var grants []statement
	var gaps []string
	for _, st := range stmts {
		if st.allow() && st.namesService(cloudWatchPrincipal) {
			if missing := publishGaps(st, topic); len(missing) > 0 {
				gaps = append(gaps, fmt.Sprintf("%s allows %s but %s", st.label(), cloudWatchPrincipal, strings.Join(missing, ", ")))
				continue
			}
			grants = append(grants, st)
		}
		if st.deny() && st.mayApplyTo(cloudWatchPrincipal) && st.coversAction("sns:Publish") && st.coversResource(topic) {
			switch {
			case st.onlyTLSCondition():
				// Plain-HTTP requests only: CloudWatch publishes over TLS.
			case len(st.condition) == 0:
				out = append(out, s.at(pol, fmt.Sprintf("%s/%d", loc, st.index),
					"%s of the policy of topic %s denies sns:Publish to every principal CloudWatch could be, unconditionally; alarms notifying it: %s",
					st.label(), topic, s.alarmLabels(alarms)))
			default:
				out = append(out, s.at(pol, fmt.Sprintf("%s/%d", loc, st.index),
					"%s of the policy of topic %s denies sns:Publish under conditions this rule cannot evaluate (%s); only a TLS-only Deny (Bool aws:SecureTransport false) is known not to stop CloudWatch; alarms notifying it: %s",
					st.label(), topic, st.conditionKeys(), s.alarmLabels(alarms)))
			}
		}
	}
	if len(grants) == 0 {
		detail := "it has no statement for that principal"
		if len(gaps) > 0 {
			detail = strings.Join(gaps, "; ")
		}
		return append([]Finding{s.at(pol, loc,
			"the policy of topic %s has no Allow for %s on sns:Publish to the topic with conditions StringEquals aws:SourceAccount and ArnLike (or ArnEquals) aws:SourceArn (%s), so CloudWatch cannot publish for alarms %s",
			topic, cloudWatchPrincipal, detail, s.alarmLabels(alarms))}, out...)
	}
	// The grant must also match the alarms: an aws:SourceArn pattern out of step with the
	// alarm names refuses their notifications just as silently.
	var refused []string
	for _, a := range alarms {
		name, literal := s.Template.Resources[a].Properties["AlarmName"].(string)
		if !literal {
			continue // a generated or computed name: the pattern cannot be checked against it
		}
		if !anyGrantAdmits(grants, name) {
			refused = append(refused, s.alarmLabel(a))
		}
	}
	if len(refused) > 0 {
		var patterns []string
		for _, g := range grants {
			v, _ := g.conditionValue(sourceArnOps, "aws:SourceArn")
			for _, p := range asList(v) {
				patterns = append(patterns, flatten(p))
			}
		}
		out = append([]Finding{s.at(pol, loc,
			"the aws:SourceArn of the CloudWatch Allow in the policy of topic %s (%s) matches no ARN of alarms %s: CloudWatch is refused for them",
			topic, strings.Join(patterns, ", "), strings.Join(refused, ", "))}, out...)
	}
	return out
}

// publishGaps lists what keeps an Allow for CloudWatch from being the scoped grant of
// sns:Publish on the topic; none when it is.
func publishGaps(st statement, topic string) []string {
	var missing []string
	if st.notPrincipal != nil || st.notAction != nil {
		missing = append(missing, "is written with NotPrincipal or NotAction")
	}
	if !anyGlob(st.actions, "sns:Publish") {
		missing = append(missing, "not sns:Publish")
	}
	if !st.coversResource(topic) {
		missing = append(missing, "not on the topic (Resource)")
	}
	if _, ok := st.conditionValue(sourceAccountOps, "aws:SourceAccount"); !ok {
		missing = append(missing, "without StringEquals aws:SourceAccount")
	}
	v, ok := st.conditionValue(sourceArnOps, "aws:SourceArn")
	if !ok {
		missing = append(missing, "without ArnLike or ArnEquals aws:SourceArn")
	} else if !anyAlarmArn(v) {
		missing = append(missing, fmt.Sprintf("with an aws:SourceArn that is no CloudWatch alarm ARN (%s)", show(v)))
	}
	return missing
}

// alarmNameGlob returns the alarm-name part of an aws:SourceArn value
// (arn:partition:cloudwatch:region:account:alarm:NAME), with intrinsic parts as "*"; ok is
// false when the value is an ARN of something other than a CloudWatch alarm.
func alarmNameGlob(v any) (glob string, ok bool) {
	text := flatten(v)
	if text == "*" {
		return "*", true // computed as a whole: nothing to compare
	}
	parts := strings.SplitN(text, ":", 7)
	if len(parts) != 7 || parts[0] != "arn" {
		return "", false
	}
	svc, typ := parts[2], parts[5]
	if (svc != "cloudwatch" && !strings.Contains(svc, "*")) || (typ != "alarm" && !strings.Contains(typ, "*")) {
		return "", false
	}
	return parts[6], true
}

func anyAlarmArn(v any) bool {
	for _, p := range asList(v) {
		if _, ok := alarmNameGlob(p); ok {
			return true
		}
	}
	return false
}

// anyGrantAdmits reports whether one of the grants' aws:SourceArn patterns matches an alarm
// of that name.
func anyGrantAdmits(grants []statement, name string) bool {
	for _, g := range grants {
		v, _ := g.conditionValue(sourceArnOps, "aws:SourceArn")
		for _, p := range asList(v) {
			if glob, ok := alarmNameGlob(p); ok && globMatchCase(glob, name) {
				return true
			}
		}
	}
	return false
}

// checkTopicKey checks the key of one topic (each key once per stack, however many topics
// share it).
func (s *Stack) checkTopicKey(topic string, alarms []string, seen map[string]bool, cov *NotifyCoverage) []Finding {
	const loc = "Properties/KmsMasterKeyId"
	v, ok := s.Template.Resources[topic].Properties["KmsMasterKeyId"]
	if !ok || !present(v) {
		return nil // not encrypted with KMS: CloudWatch needs no key
	}
	if str, isStr := v.(string); isStr {
		if str == "alias/aws/sns" || strings.HasSuffix(str, ":alias/aws/sns") {
			return []Finding{s.at(topic, loc, "topic %s is encrypted with the AWS managed key aws/sns, whose policy cannot allow %s: "+
				"alarms %s cannot publish to it", topic, cloudWatchPrincipal, s.alarmLabels(alarms))}
		}
		cov.KeysNotCheckable++
		return nil // a key outside the template: its policy is not here to read
	}
	key, ok := s.keyOf(v)
	if !ok {
		cov.KeysNotCheckable++
		return nil
	}
	if seen[key] {
		return nil
	}
	seen[key] = true
	const keyLoc = "Properties/KeyPolicy/Statement"
	var out []Finding
	var missing []string
	for _, action := range kmsActionsForCloudWatch {
		allowed := false
		for _, st := range statements(s.Template.Resources[key].Properties["KeyPolicy"]) {
			if st.allow() && st.namesService(cloudWatchPrincipal) && st.notPrincipal == nil && st.coversAction(action) {
				allowed = true
			}
			if st.deny() && st.mayApplyTo(cloudWatchPrincipal) && st.coversAction(action) && !st.onlyTLSCondition() {
				out = append(out, s.at(key, fmt.Sprintf("%s/%d", keyLoc, st.index),
					"%s of the policy of key %s (of topic %s) may deny %s to %s (conditions: %s)",
					st.label(), key, topic, action, cloudWatchPrincipal, show(st.condition)))
			}
		}
		if !allowed {
			missing = append(missing, action)
		}
	}
	if len(missing) > 0 {
		out = append([]Finding{s.at(key, keyLoc, "the policy of key %s, which encrypts topic %s, does not allow %s %s, so alarms %s cannot publish to the topic",
			key, topic, cloudWatchPrincipal, strings.Join(missing, " and "), s.alarmLabels(alarms))}, out...)
	}
	return out
}

// keyOf resolves a KmsMasterKeyId to the KMS key of the template: a Ref or GetAtt to the key,
// or to an alias of the template whose TargetKeyId is one.
func (s *Stack) keyOf(v any) (string, bool) {
	id, ok := refTarget(v)
	if !ok {
		return "", false
	}
	switch r := s.Template.Resources[id]; r.Type {
	case typeKey:
		return id, true
	case typeAlias:
		target, ok := refTarget(r.Properties["TargetKeyId"])
		if ok && s.Template.Resources[target].Type == typeKey {
			return target, true
		}
	}
	return "", false
}
