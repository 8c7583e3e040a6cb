package stacks_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/valkey-dr/valkey-dr/constructs/sessioncache"
	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/examples/twocaches"
	"github.com/valkey-dr/valkey-dr/internal/cdktest"
)

// The example app of another team (examples/twocaches) builds two caches in one stack, and
// our gate passes on it. (Here, in the stacks test binary: one Node process for the CDK tests.)
func TestTwoCachesInOneStackPassTheGate(t *testing.T) {
	app := cdktest.NewApp(t)
	stack, _ := twocaches.Build(app)
	if msg := cdktest.SynthError(app); msg != "" {
		t.Fatalf("synth (with the gate) failed:\n%s", msg)
	}
	tmpl := cdktest.Template(t, stack)
	caches := cdktest.Resources(tmpl, "AWS::ElastiCache::ServerlessCache")
	if len(caches) != 2 || caches["Orders"] == nil || caches["Carts"] == nil {
		t.Fatalf("caches %v: want Orders and Carts", exampleKeys(caches))
	}
	for _, id := range []string{"OrdersSecurityGroup", "CartsSecurityGroup", "OrdersUserSecret", "CartsUserSecret", "OrdersUser", "CartsUserGroup"} {
		if _, ok := tmpl["Resources"].(map[string]any)[id]; !ok {
			t.Errorf("no resource %s: the logical ids are not scoped by the construct id", id)
		}
	}
}

// A cache and its password secret always share their removal policy, and unset means RETAIN
// for both (never a kept cache whose secret was deleted).
func TestTheSecretFollowsTheCachesRemovalPolicy(t *testing.T) {
	for name, rp := range map[string]awscdk.RemovalPolicy{"unset": "", "destroy": awscdk.RemovalPolicy_DESTROY, "retain": awscdk.RemovalPolicy_RETAIN} {
		t.Run(name, func(t *testing.T) {
			app := cdktest.NewApp(t)
			stack := awscdk.NewStack(app, jsii.String("S"), nil)
			sessioncache.New(stack, "Orders", &sessioncache.Props{CacheName: "team-orders", MajorEngineVersion: 8, VpcID: twocaches.VpcID, SubnetIDs: twocaches.Subnets,
				SourceCidrs: []string{"10.0.0.0/16"}, RemovalPolicy: rp,
				Auth: sessioncache.AuthProps{Mode: contract.AuthPassword, UserID: "team-orders-app", UserName: "app", UserGroupID: "team-orders-users", AccessString: "on ~* +@all"}})
			res := cdktest.Template(t, stack)["Resources"].(map[string]any)
			cache, secret := res["Orders"].(map[string]any)["DeletionPolicy"], res["OrdersUserSecret"].(map[string]any)["DeletionPolicy"]
			want := map[string]string{"unset": "Retain", "destroy": "Delete", "retain": "Retain"}[name]
			if cache != want || secret != want {
				t.Errorf("cache %v, secret %v: want both %s", cache, secret, want)
			}
		})
	}
}

// An empty ingress list is an error at synth, naming the props: never a cache nobody can reach.
func TestAnEmptyIngressListIsAnError(t *testing.T) {
	app := cdktest.NewApp(t)
	stack := awscdk.NewStack(app, jsii.String("S"), nil)
	var msg string
	func() {
		defer func() { msg = fmt.Sprint(recover()) }()
		sessioncache.New(stack, "Orders", &sessioncache.Props{CacheName: "team-orders", MajorEngineVersion: 8, VpcID: twocaches.VpcID, SubnetIDs: twocaches.Subnets})
	}()
	if !strings.Contains(msg, "SourceSecurityGroupIDs and Props.SourceCidrs are both empty") {
		t.Fatalf("panic %q: want the props named", msg)
	}
}

func exampleKeys(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
