package stacks_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	drcontext "github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/cdktest"
)

func TestCanaryVpcEndpoints(t *testing.T) {
	on := func(c *drcontext.Config) { c.Net.CreateVpcEndpoints = true }
	for name, tc := range map[string]struct {
		o    synthOpts
		want []string // endpoint service names
	}{
		"off by default": {synthOpts{env: "example", mode: "stateless"}, nil},
		"password mode: Secrets Manager and CloudWatch": {synthOpts{env: "example", mode: "stateless", mutate: on},
			[]string{"com.amazonaws.us-west-2.monitoring", "com.amazonaws.us-west-2.secretsmanager"}},
		"iam mode reads no secret: CloudWatch only": {synthOpts{env: "example", mode: "none", mutate: func(c *drcontext.Config) {
			on(c)
			c.Env.Cache.Auth.Mode = contract.AuthIAM
		}}, []string{"com.amazonaws.us-east-1.monitoring"}},
		"a same-region drill shares the primary's endpoints": {synthOpts{env: "example", mode: "stateless", region: "us-east-1", drill: true, mutate: on}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			s := synth(t, tc.o)
			eps := cdktest.Resources(s.tmpl, "AWS::EC2::VPCEndpoint")
			var got []string
			for _, ep := range eps {
				p := cdktest.Props(ep)
				got = append(got, fmt.Sprint(p["ServiceName"]))
				// Private DNS off: on, the endpoint would take the service's name over for the
				// whole VPC, behind a group that admits the canary only.
				if p["VpcEndpointType"] != "Interface" || p["PrivateDnsEnabled"] != false || p["VpcId"] != s.cfg.Net.VpcID ||
					fmt.Sprint(p["SubnetIds"]) != fmt.Sprint(toAny(s.cfg.Net.SubnetIDs)) {
					t.Errorf("endpoint %v: want an interface endpoint without private DNS in the canary's VPC and subnets", p)
				}
				if !strings.Contains(fmt.Sprint(p["SecurityGroupIds"]), "CanaryEndpointsSecurityGroup") {
					t.Errorf("endpoint %v: want the endpoints' own group", p)
				}
			}
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("endpoints %v, want %v", got, tc.want)
			}
			// The canary's SDK reaches each endpoint by its own DNS name.
			_, fn := only(t, s.tmpl, "AWS::Lambda::Function")
			env := cdktest.Props(fn)["Environment"].(map[string]any)["Variables"].(map[string]any)
			for _, svc := range tc.want {
				v := map[string]string{"monitoring": "AWS_ENDPOINT_URL_CLOUDWATCH", "secretsmanager": "AWS_ENDPOINT_URL_SECRETS_MANAGER"}[svc[strings.LastIndex(svc, ".")+1:]]
				if got := fmt.Sprint(env[v]); !strings.Contains(got, "https://") || !strings.Contains(got, "DnsEntries") {
					t.Errorf("canary env %s = %s: want https:// and the endpoint's DnsEntries", v, got)
				}
			}
			if len(tc.want) == 0 {
				if _, ok := env["AWS_ENDPOINT_URL_CLOUDWATCH"]; ok {
					t.Errorf("endpoint env set without endpoints: %v", env)
				}
				return
			}
			_, sg := byPrefix(t, s.tmpl, "AWS::EC2::SecurityGroup", "CanaryEndpointsSecurityGroup")
			in, _ := cdktest.Props(sg)["SecurityGroupIngress"].([]any)
			if len(in) != 1 {
				t.Fatalf("endpoint group ingress %v: want one rule", in)
			}
			r := in[0].(map[string]any)
			if r["IpProtocol"] != "tcp" || r["FromPort"] != float64(443) || r["ToPort"] != float64(443) ||
				!strings.Contains(fmt.Sprint(r["SourceSecurityGroupId"]), "CanarySecurityGroup") || r["CidrIp"] != nil {
				t.Errorf("endpoint group ingress %v: want 443 from the canary's group only", r)
			}
		})
	}
}
