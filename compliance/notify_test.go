package compliance

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/context"
)

// alarmTemplate is the alarm topic as constructs/alarmtopic writes it since the fix, trimmed to
// what VDR-014 reads: a KMS key that lets CloudWatch use it, the topic under it, and a topic
// policy with the TLS Deny and the scoped Allow; two alarms notify the topic (Ref and GetAtt).
const alarmTemplate = `{"Resources": {
  "AlarmTopicKey": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Version": "2012-10-17", "Statement": [
    {"Action": "kms:*", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Resource": "*"},
    {"Sid": "AllowCloudWatchAlarmsToPublish", "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Effect": "Allow",
     "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Resource": "*"}]}}},
  "AlarmTopic": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": {"Fn::GetAtt": ["AlarmTopicKey", "Arn"]}}},
  "AlarmTopicPolicy": {"Type": "AWS::SNS::TopicPolicy", "Properties": {"Topics": [{"Ref": "AlarmTopic"}],
    "PolicyDocument": {"Version": "2012-10-17", "Statement": [
      {"Sid": "AllowPublishThroughSSLOnly", "Action": "sns:Publish", "Effect": "Deny", "Principal": "*",
       "Resource": {"Ref": "AlarmTopic"}, "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
      {"Sid": "AllowCloudWatchAlarmsToPublish", "Action": "sns:Publish", "Effect": "Allow",
       "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Resource": {"Ref": "AlarmTopic"},
       "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"},
         "ArnLike": {"aws:SourceArn": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":cloudwatch:us-west-2:111111111111:alarm:ValkeyDr-example-us-west-2-dr-*"]]}}}}]}}},
  "HealthAlarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmName": "ValkeyDr-example-us-west-2-dr-cache-health",
    "AlarmActions": [{"Ref": "AlarmTopic"}], "OKActions": [{"Ref": "AlarmTopic"}]}},
  "ThrottledAlarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmName": "ValkeyDr-example-us-west-2-dr-throttled",
    "AlarmActions": [{"Fn::GetAtt": ["AlarmTopic", "TopicArn"]}]}}
}}`

func alarmStack(t *testing.T) *Stack {
	t.Helper()
	s := &Stack{Name: "ValkeyDr-example-us-west-2-dr", TemplatePath: "D.template.json",
		Facts: Facts{Environment: "example", DrMode: drcontext.DrModeStateless}}
	if err := json.Unmarshal([]byte(alarmTemplate), &s.Template); err != nil {
		t.Fatal(err)
	}
	return s
}

// policyStatements returns the topic policy's statements for mutation.
func policyStatements(s *Stack, id string) []any {
	return props(s, id)["PolicyDocument"].(map[string]any)["Statement"].([]any)
}

func setPolicyStatements(s *Stack, id string, st []any) {
	props(s, id)["PolicyDocument"].(map[string]any)["Statement"] = st
}

// grant is the topic policy's CloudWatch Allow.
func grant(s *Stack) map[string]any {
	return policyStatements(s, "AlarmTopicPolicy")[1].(map[string]any)
}

func grantCondition(s *Stack) map[string]any { return grant(s)["Condition"].(map[string]any) }

func keyStatements(s *Stack) []any {
	return props(s, "AlarmTopicKey")["KeyPolicy"].(map[string]any)["Statement"].([]any)
}

func setKeyStatements(s *Stack, st []any) {
	props(s, "AlarmTopicKey")["KeyPolicy"].(map[string]any)["Statement"] = st
}

// tlsDenyOnly is the topic policy CDK's EnforceSSL writes on its own: the shape every alarm
// topic had before the fix.
const tlsDenyOnly = `[{"Sid": "AllowPublishThroughSSLOnly", "Action": "sns:Publish", "Effect": "Deny", "Principal": "*",
  "Resource": {"Ref": "AlarmTopic"}, "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]`

func TestAlarmTopicsLetCloudWatchPublish(t *testing.T) {
	fixed := NotifyCoverage{Alarms: 2, Actions: 3, TopicActions: 3, Topics: 1, Policies: 1, Keys: 1}
	for name, tc := range map[string]struct {
		mutate func(t *testing.T, s *Stack)
		// findings are the logical ids the findings are on, in order; each problem must
		// contain the matching entry of problems.
		findings []string
		problems []string
		coverage *NotifyCoverage // nil: the fixed template's
	}{
		"the fixed topic passes": {mutate: func(*testing.T, *Stack) {}},
		"the broken shape: a topic policy holding only the TLS Deny": {
			mutate:   func(t *testing.T, s *Stack) { setPolicyStatements(s, "AlarmTopicPolicy", obj(t, tlsDenyOnly).([]any)) },
			findings: []string{"AlarmTopicPolicy"},
			problems: []string{"has no Allow for cloudwatch.amazonaws.com on sns:Publish"},
		},
		"a topic with no policy keeps SNS's default one": {
			mutate:   func(t *testing.T, s *Stack) { delete(s.Template.Resources, "AlarmTopicPolicy") },
			findings: []string{"AlarmTopic"},
			problems: []string{"no AWS::SNS::TopicPolicy names topic AlarmTopic"},
			coverage: &NotifyCoverage{Alarms: 2, Actions: 3, TopicActions: 3, Topics: 1, Keys: 1},
		},
		"the Allow without aws:SourceArn": {
			mutate:   func(t *testing.T, s *Stack) { delete(grantCondition(s), "ArnLike") },
			findings: []string{"AlarmTopicPolicy"},
			problems: []string{"without ArnLike or ArnEquals aws:SourceArn"},
		},
		"the Allow without aws:SourceAccount": {
			mutate:   func(t *testing.T, s *Stack) { delete(grantCondition(s), "StringEquals") },
			findings: []string{"AlarmTopicPolicy"},
			problems: []string{"without StringEquals aws:SourceAccount"},
		},
		"an IfExists operator does not scope": {
			mutate: func(t *testing.T, s *Stack) {
				c := grantCondition(s)
				c["StringEqualsIfExists"] = c["StringEquals"]
				delete(c, "StringEquals")
			},
			findings: []string{"AlarmTopicPolicy"},
			problems: []string{"without StringEquals aws:SourceAccount"},
		},
		"ArnEquals and a literal source ARN are a scope too": {mutate: func(t *testing.T, s *Stack) {
			c := grantCondition(s)
			delete(c, "ArnLike")
			c["ArnEquals"] = obj(t, `{"aws:SourceArn": ["arn:aws:cloudwatch:us-west-2:111111111111:alarm:ValkeyDr-example-us-west-2-dr-cache-health",
				"arn:aws:cloudwatch:us-west-2:111111111111:alarm:ValkeyDr-example-us-west-2-dr-throttled"]}`)
		}},
		"an aws:SourceArn that is not an alarm's": {
			mutate: func(t *testing.T, s *Stack) {
				grantCondition(s)["ArnLike"] = obj(t, `{"aws:SourceArn": "arn:aws:s3:::some-bucket"}`)
			},
			findings: []string{"AlarmTopicPolicy"},
			problems: []string{"no CloudWatch alarm ARN"},
		},
		"an aws:SourceArn out of step with the alarm names": {
			mutate: func(t *testing.T, s *Stack) {
				grantCondition(s)["ArnLike"] = obj(t, `{"aws:SourceArn": "arn:aws:cloudwatch:us-west-2:111111111111:alarm:ValkeyDr-example-us-west-2-dr-cache-*"}`)
			},
			findings: []string{"AlarmTopicPolicy"},
			problems: []string{"matches no ARN of alarms ThrottledAlarm (ValkeyDr-example-us-west-2-dr-throttled)"},
		},
		"alarm names are compared case-sensitively": {
			mutate: func(t *testing.T, s *Stack) {
				props(s, "ThrottledAlarm")["AlarmName"] = "VALKEYDR-example-us-west-2-dr-throttled"
			},
			findings: []string{"AlarmTopicPolicy"},
			problems: []string{"ThrottledAlarm"},
		},
		"a generated alarm name cannot be compared, and is not judged": {mutate: func(t *testing.T, s *Stack) {
			delete(props(s, "ThrottledAlarm"), "AlarmName")
		}},
		"sns:* and * cover sns:Publish":              {mutate: func(t *testing.T, s *Stack) { grant(s)["Action"] = obj(t, `["sns:*", "*"]`) }},
		"SNS:Publish in capitals is the same action": {mutate: func(t *testing.T, s *Stack) { grant(s)["Action"] = "SNS:Publish" }},
		"an Allow for another action": {
			mutate:   func(t *testing.T, s *Stack) { grant(s)["Action"] = "sns:Subscribe" },
			findings: []string{"AlarmTopicPolicy"},
			problems: []string{"not sns:Publish"},
		},
		"an Allow on another resource": {
			mutate:   func(t *testing.T, s *Stack) { grant(s)["Resource"] = obj(t, `{"Ref": "OtherTopic"}`) },
			findings: []string{"AlarmTopicPolicy"},
			problems: []string{"not on the topic"},
		},
		"an Allow for every principal is not the service grant": {
			mutate:   func(t *testing.T, s *Stack) { grant(s)["Principal"] = "*" },
			findings: []string{"AlarmTopicPolicy"},
			problems: []string{"it has no statement for that principal"},
		},
		"a list of service principals holding CloudWatch": {mutate: func(t *testing.T, s *Stack) {
			grant(s)["Principal"] = obj(t, `{"Service": ["events.amazonaws.com", "cloudwatch.amazonaws.com"]}`)
		}},
		"an unconditional Deny of sns:Publish": {
			mutate: func(t *testing.T, s *Stack) {
				setPolicyStatements(s, "AlarmTopicPolicy", append(policyStatements(s, "AlarmTopicPolicy"),
					obj(t, `{"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sns:*", "Resource": "*"}`)))
			},
			findings: []string{"AlarmTopicPolicy"},
			problems: []string{"Statement[2] of the policy of topic AlarmTopic denies sns:Publish to every principal CloudWatch could be, unconditionally"},
		},
		"a Deny under a condition the rule cannot evaluate": {
			mutate: func(t *testing.T, s *Stack) {
				setPolicyStatements(s, "AlarmTopicPolicy", append(policyStatements(s, "AlarmTopicPolicy"),
					obj(t, `{"Effect": "Deny", "Principal": "*", "Action": "sns:Publish", "Resource": {"Ref": "AlarmTopic"},
					  "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0123"}}}`)))
			},
			findings: []string{"AlarmTopicPolicy"},
			problems: []string{"cannot evaluate (StringNotEquals aws:SourceVpce)"},
		},
		"a Deny of another action does not stop the publish": {mutate: func(t *testing.T, s *Stack) {
			setPolicyStatements(s, "AlarmTopicPolicy", append(policyStatements(s, "AlarmTopicPolicy"),
				obj(t, `{"Effect": "Deny", "Principal": "*", "Action": "sns:DeleteTopic", "Resource": "*"}`)))
		}},
		"two policies on the topic: each may be the one in force": {
			mutate: func(t *testing.T, s *Stack) {
				addResource(t, s, "SecondPolicy", typeTopicPolicy, `{"Topics": [{"Ref": "AlarmTopic"}], "PolicyDocument": {"Statement": `+tlsDenyOnly+`}}`)
			},
			findings: []string{"SecondPolicy"},
			problems: []string{"has no Allow"},
			coverage: &NotifyCoverage{Alarms: 2, Actions: 3, TopicActions: 3, Topics: 1, Policies: 2, Keys: 1},
		},
		"a key without the CloudWatch statement": {
			mutate:   func(t *testing.T, s *Stack) { setKeyStatements(s, keyStatements(s)[:1]) },
			findings: []string{"AlarmTopicKey"},
			problems: []string{"does not allow cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey"},
		},
		"a key that lets CloudWatch decrypt only": {
			mutate: func(t *testing.T, s *Stack) {
				keyStatements(s)[1].(map[string]any)["Action"] = "kms:Decrypt"
			},
			findings: []string{"AlarmTopicKey"},
			problems: []string{"does not allow cloudwatch.amazonaws.com kms:GenerateDataKey,"},
		},
		"kms:* covers both": {mutate: func(t *testing.T, s *Stack) { keyStatements(s)[1].(map[string]any)["Action"] = "kms:*" }},
		"a key without a policy keeps the default one, which has no CloudWatch statement": {
			mutate:   func(t *testing.T, s *Stack) { delete(props(s, "AlarmTopicKey"), "KeyPolicy") },
			findings: []string{"AlarmTopicKey"},
			problems: []string{"does not allow"},
		},
		"a topic under the AWS managed key aws/sns": {
			mutate:   func(t *testing.T, s *Stack) { props(s, "AlarmTopic")["KmsMasterKeyId"] = "alias/aws/sns" },
			findings: []string{"AlarmTopic"},
			problems: []string{"AWS managed key aws/sns"},
			coverage: &NotifyCoverage{Alarms: 2, Actions: 3, TopicActions: 3, Topics: 1, Policies: 1},
		},
		"a topic under a key outside the template is counted, not judged": {
			mutate: func(t *testing.T, s *Stack) {
				props(s, "AlarmTopic")["KmsMasterKeyId"] = "arn:aws:kms:us-west-2:111111111111:key/7b4e0c3a-5d9f-4a1b-8c2e-3f4a5b6c7d8e"
			},
			coverage: &NotifyCoverage{Alarms: 2, Actions: 3, TopicActions: 3, Topics: 1, Policies: 1, KeysNotCheckable: 1},
		},
		"a key reached through an alias of the template": {
			mutate: func(t *testing.T, s *Stack) {
				addResource(t, s, "KeyAlias", typeAlias, `{"AliasName": "alias/alarms", "TargetKeyId": {"Ref": "AlarmTopicKey"}}`)
				props(s, "AlarmTopic")["KmsMasterKeyId"] = obj(t, `{"Ref": "KeyAlias"}`)
				setKeyStatements(s, keyStatements(s)[:1])
			},
			findings: []string{"AlarmTopicKey"},
			problems: []string{"does not allow"},
		},
		"an unencrypted topic needs no key": {
			mutate:   func(t *testing.T, s *Stack) { delete(props(s, "AlarmTopic"), "KmsMasterKeyId") },
			coverage: &NotifyCoverage{Alarms: 2, Actions: 3, TopicActions: 3, Topics: 1, Policies: 1},
		},
		"an imported topic ARN is not checkable here": {
			mutate: func(t *testing.T, s *Stack) {
				for _, id := range []string{"AlarmTopic", "AlarmTopicPolicy", "AlarmTopicKey"} {
					delete(s.Template.Resources, id)
				}
				for _, a := range []string{"HealthAlarm", "ThrottledAlarm"} {
					props(s, a)["AlarmActions"] = obj(t, `["arn:aws:sns:us-west-2:111111111111:ops-pager"]`)
					delete(props(s, a), "OKActions")
				}
			},
			coverage: &NotifyCoverage{Alarms: 2, Actions: 2, NotCheckable: 2},
		},
		"a parameter, an import and an EC2 action": {
			mutate: func(t *testing.T, s *Stack) {
				props(s, "HealthAlarm")["InsufficientDataActions"] = obj(t, `[{"Ref": "TopicArnParam"}, {"Fn::ImportValue": "OpsTopicArn"},
					"arn:aws:automate:us-west-2:ec2:reboot"]`)
			},
			coverage: &NotifyCoverage{Alarms: 2, Actions: 6, TopicActions: 3, NotCheckable: 2, OtherActions: 1, Topics: 1, Policies: 1, Keys: 1},
		},
		"an alarm with no actions": {
			mutate: func(t *testing.T, s *Stack) {
				addResource(t, s, "QuietAlarm", typeAlarm, `{"AlarmName": "quiet"}`)
			},
			coverage: &NotifyCoverage{Alarms: 3, Actions: 3, TopicActions: 3, Topics: 1, Policies: 1, Keys: 1},
		},
		"a composite alarm is walked too": {
			mutate: func(t *testing.T, s *Stack) {
				addResource(t, s, "Composite", typeCompositeAlarm, `{"AlarmName": "Other-composite", "AlarmActions": [{"Ref": "AlarmTopic"}]}`)
			},
			findings: []string{"AlarmTopicPolicy"},
			problems: []string{"matches no ARN of alarms Composite (Other-composite)"},
			coverage: &NotifyCoverage{Alarms: 3, Actions: 4, TopicActions: 4, Topics: 1, Policies: 1, Keys: 1},
		},
		"a template without alarms checks nothing": {
			mutate: func(t *testing.T, s *Stack) {
				delete(s.Template.Resources, "HealthAlarm")
				delete(s.Template.Resources, "ThrottledAlarm")
				setPolicyStatements(s, "AlarmTopicPolicy", obj(t, tlsDenyOnly).([]any)) // a topic nobody notifies is no finding
			},
			coverage: &NotifyCoverage{},
		},
		"malformed values are no panic": {
			mutate: func(t *testing.T, s *Stack) {
				props(s, "HealthAlarm")["AlarmActions"] = obj(t, `{"Fn::If": ["C", [{"Ref": "AlarmTopic"}], []]}`)
				props(s, "AlarmTopicPolicy")["PolicyDocument"] = "not a document"
				props(s, "AlarmTopicKey")["KeyPolicy"] = obj(t, `{"Statement": [42, {"Effect": "Allow"}]}`)
			},
			findings: []string{"AlarmTopicPolicy", "AlarmTopicKey"},
			problems: []string{"has no Allow", "does not allow"},
			coverage: &NotifyCoverage{Alarms: 2, Actions: 3, TopicActions: 2, NotCheckable: 1, Topics: 1, Policies: 1, Keys: 1},
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := alarmStack(t)
			tc.mutate(t, s)
			got, cov := CheckAlarmTopics(s)
			var ids []string
			for _, f := range got {
				ids = append(ids, f.LogicalID)
				if f.RuleID != RuleAlarmTopicPublish {
					t.Errorf("finding with rule %q", f.RuleID)
				}
			}
			if strings.Join(ids, " ") != strings.Join(tc.findings, " ") {
				t.Fatalf("findings on %v, want %v:\n%s", ids, tc.findings, findingsText(got))
			}
			for i, want := range tc.problems {
				if !strings.Contains(got[i].Problem, want) {
					t.Errorf("finding %d lacks %q:\n%s", i, want, got[i])
				}
			}
			wantCov := fixed
			if tc.coverage != nil {
				wantCov = *tc.coverage
			}
			if cov != wantCov {
				t.Errorf("coverage %+v, want %+v", cov, wantCov)
			}
		})
	}
}

func TestAlarmTopicFindingThroughTheRuleTable(t *testing.T) {
	s := alarmStack(t)
	s.Name = "ValkeyDr-example-us-east-1-primary"
	s.Facts.DrMode = drcontext.DrModeNone // VDR-015 does not apply: only VDR-014 may fire
	setPolicyStatements(s, "AlarmTopicPolicy", obj(t, tlsDenyOnly).([]any))
	fs := CheckStack(s)
	if len(fs) != 1 || fs[0].RuleID != RuleAlarmTopicPublish {
		t.Fatalf("want one %s finding:\n%s", RuleAlarmTopicPublish, findingsText(fs))
	}
	msg := fs[0].String()
	for _, want := range []string{"(AlarmTopicPolicy)", "HealthAlarm (ValkeyDr-example-us-west-2-dr-cache-health)",
		"aws:SourceAccount", "aws:SourceArn", "kms:GenerateDataKey*", "TLS Deny"} {
		if !strings.Contains(msg, want) {
			t.Errorf("finding lacks %q:\n%s", want, msg)
		}
	}
	if fs[0].Location != "Properties/PolicyDocument/Statement" {
		t.Errorf("location %q", fs[0].Location)
	}
}

func TestAlarmTopicCoverageAddsUpStacks(t *testing.T) {
	a, b := alarmStack(t), alarmStack(t)
	delete(b.Template.Resources, "AlarmTopicPolicy")
	fs, cov := AlarmTopicCoverage([]*Stack{a, b})
	if len(fs) != 1 || cov.Alarms != 4 || cov.Topics != 2 || cov.Policies != 1 || cov.Keys != 2 {
		t.Errorf("findings %d, coverage %s", len(fs), cov)
	}
	if !strings.Contains(cov.String(), "4 alarms, 6 actions") {
		t.Errorf("coverage reads %q", cov)
	}
}
