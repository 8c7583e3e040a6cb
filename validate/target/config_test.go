package target

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/valkey-dr/valkey-dr/contract"
)

// fakeSecrets is a fake of the SecretsGetter seam: the real Secrets Manager call cannot run here.
type fakeSecrets struct {
	values map[string]string
	err    error
	asked  []string
}

func (f *fakeSecrets) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput,
	_ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.asked = append(f.asked, *in.SecretId)
	if f.err != nil {
		return nil, f.err
	}
	v, ok := f.values[*in.SecretId]
	if !ok {
		return nil, errors.New("ResourceNotFoundException: Secrets Manager can't find the specified secret")
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: &v}, nil
}

const secretARN = "arn:aws:secretsmanager:us-west-2:123456789012:secret:valkey-dr/prod/app-AbCdEf"

func writeOutputs(t *testing.T, stacks map[string]map[string]string) string {
	t.Helper()
	b, err := json.Marshal(stacks)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "cdk-outputs.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func drOutputs() map[string]string {
	return map[string]string{
		"CacheName": "valkey-dr-prod", "EndpointAddress": "valkey-dr-prod-abc123.serverless.usw2.cache.amazonaws.com",
		"EndpointPort": "6379", "ReaderPort": "6380", "RegionalDnsName": "session.us-west-2.internal.example",
		"ServiceDnsName": "session.internal.example", "SecurityGroupId": "sg-1", "AuthMode": "password",
		"UserId": "app", "UserName": "app", "SecretArn": secretARN, "Region": "us-west-2",
		"Environment": "prod", "DrMode": "stateless", "SsmParameterPrefix": "/valkey-dr/prod",
	}
}

func TestResolveErrors(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badCA := filepath.Join(dir, "bad-ca.pem")
	if err := os.WriteFile(badCA, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	two := writeOutputs(t, map[string]map[string]string{
		"ValkeyDr-prod-us-west-2-dr": drOutputs(), "ValkeyDr-prod-us-east-1-primary": drOutputs(),
	})
	noEndpoint := writeOutputs(t, map[string]map[string]string{"S": {"CacheName": "x"}})
	tests := map[string]struct {
		cfg       Config
		env       map[string]string
		secrets   *fakeSecrets
		wantedErr string
	}{
		"no target at all":                    {cfg: Config{}, wantedErr: "no target: give --outputs"},
		"--stack without --outputs":           {cfg: Config{Endpoint: "h", Stack: "S"}, wantedErr: `--stack "S": needs --outputs`},
		"an unreadable outputs file":          {cfg: Config{OutputsFile: filepath.Join(dir, "nope.json")}, wantedErr: `--outputs "` + filepath.Join(dir, "nope.json") + `": open`},
		"an endless outputs file":             {cfg: Config{OutputsFile: "/dev/zero"}, wantedErr: `--outputs "/dev/zero": more than 4 MiB (the cap for this flag) and still going`},
		"an oversized outputs file":           {cfg: Config{OutputsFile: sparse(t, dir, "big.json", MaxOutputsFileBytes+1)}, wantedErr: "the file is 4194305 bytes, over the cap of 4 MiB for this flag"},
		"an outputs path with escapes":        {cfg: Config{OutputsFile: filepath.Join(dir, "\x1b[2Jx")}, wantedErr: `--outputs "` + dir + `/\x1b[2Jx"`},
		"an outputs file that is not JSON":    {cfg: Config{OutputsFile: badCA}, wantedErr: "--outputs: outputs file"},
		"an endless password file":            {cfg: Config{Endpoint: "h", PasswordFile: "/dev/zero"}, wantedErr: `--password-file "/dev/zero": more than 4 KiB (the cap for this flag)`},
		"an endless random password file":     {cfg: Config{Endpoint: "h", PasswordFile: "/dev/urandom"}, wantedErr: `--password-file "/dev/urandom": more than 4 KiB`},
		"an oversized password file":          {cfg: Config{Endpoint: "h", PasswordFile: sparse(t, dir, "pw", MaxPasswordFileBytes+1)}, wantedErr: "over the cap of 4 KiB for this flag"},
		"an endless CA file":                  {cfg: Config{Endpoint: "h", CAFile: "/dev/zero"}, wantedErr: `--ca-file "/dev/zero": more than 4 MiB (the cap for this flag)`},
		"an oversized CA file":                {cfg: Config{Endpoint: "h", CAFile: sparse(t, dir, "ca.pem", MaxCAFileBytes+1)}, wantedErr: "over the cap of 4 MiB for this flag"},
		"several stacks and no --stack":       {cfg: Config{OutputsFile: two}, wantedErr: "choose one with --stack (one of: ValkeyDr-prod-us-east-1-primary, ValkeyDr-prod-us-west-2-dr)"},
		"a stack without EndpointAddress":     {cfg: Config{OutputsFile: noEndpoint}, wantedErr: "stack has no EndpointAddress output"},
		"an endpoint with a scheme":           {cfg: Config{Endpoint: "redis://h:6379"}, wantedErr: `--endpoint "redis://h:6379": a URL scheme is not accepted; want host[:port]`},
		"an endpoint with two ports":          {cfg: Config{Endpoint: "host:6379:1"}, wantedErr: `--endpoint "host:6379:1": not one host and port (too many colons); want host[:port]`},
		"two endpoints in one value":          {cfg: Config{Endpoint: "a:1,b:2"}, wantedErr: `--endpoint "a:1,b:2": not one host and port (too many colons)`},
		"two hosts without ports":             {cfg: Config{Endpoint: "a,b"}, wantedErr: `--endpoint "a,b": "a,b" is not a DNS name or IP address; want host[:port]`},
		"a flag taken as the endpoint":        {cfg: Config{Endpoint: "-host"}, wantedErr: `--endpoint "-host": "-host" is not a DNS name or IP address`},
		"an endpoint with a bad port":         {cfg: Config{Endpoint: "h:99999"}, wantedErr: `port "99999": want 1..65535`},
		"a negative reader port":              {cfg: Config{Endpoint: "h", ReaderPort: -1}, wantedErr: "--reader-port -1: want 1..65535"},
		"too many sessions":                   {cfg: Config{Endpoint: "h", Sessions: 5000}, wantedErr: "--sessions 5000: want 1..1000"},
		"a CA file that is not PEM":           {cfg: Config{Endpoint: "h", CAFile: badCA}, wantedErr: "no PEM certificates found"},
		"a missing CA file":                   {cfg: Config{Endpoint: "h", CAFile: filepath.Join(dir, "nope.pem")}, wantedErr: "--ca-file"},
		"plaintext with a CA file":            {cfg: Config{Endpoint: "h", InsecurePlaintext: true, CAFile: badCA}, wantedErr: "cannot be combined"},
		"a user and no password":              {cfg: Config{Endpoint: "h", User: "app"}, wantedErr: `--user "app": no password: set VALKEY_PASSWORD`},
		"two password sources":                {cfg: Config{Endpoint: "h", PasswordFile: empty}, env: map[string]string{PasswordEnv: "x"}, wantedErr: "VALKEY_PASSWORD and --password-file given together"},
		"iam and a password":                  {cfg: Config{Endpoint: "h", IAM: true, PasswordSecretARN: secretARN}, wantedErr: "--password-secret-arn and --iam given together"},
		"an empty password file":              {cfg: Config{Endpoint: "h", PasswordFile: empty}, wantedErr: "the file is empty"},
		"iam without cache name and region":   {cfg: Config{Endpoint: "h", IAM: true, User: "app"}, wantedErr: "iam auth: missing --cache-name, --region"},
		"a cache name without iam":            {cfg: Config{Endpoint: "h", CacheName: "c"}, wantedErr: "only used with --iam"},
		"a secret that is not JSON":           {cfg: Config{Endpoint: "h", PasswordSecretARN: secretARN}, secrets: &fakeSecrets{values: map[string]string{secretARN: "hunter2-not-json"}}, wantedErr: `want JSON {"username": ..., "password": ...}`},
		"a secret without a password field":   {cfg: Config{Endpoint: "h", PasswordSecretARN: secretARN}, secrets: &fakeSecrets{values: map[string]string{secretARN: `{"username":"app"}`}}, wantedErr: `has no "password" field`},
		"a secret that Secrets Manager lacks": {cfg: Config{Endpoint: "h", PasswordSecretARN: secretARN}, secrets: &fakeSecrets{}, wantedErr: "ResourceNotFoundException"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			deps := Deps{Getenv: func(k string) string { return tc.env[k] }}
			if tc.secrets != nil {
				deps.Secrets = func(context.Context, string) (SecretsGetter, error) { return tc.secrets, nil }
			}
			_, err := Resolve(context.Background(), tc.cfg, deps)
			if err == nil || !strings.Contains(err.Error(), tc.wantedErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.wantedErr)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.ExitCode() != 2 {
				t.Fatalf("error %T is not a *ConfigError with exit code 2", err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error leaks the secret: %v", err)
			}
		})
	}
}

func TestResolveFromOutputs(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	path := writeOutputs(t, map[string]map[string]string{"ValkeyDr-prod-us-west-2-dr": drOutputs()})
	sec := &fakeSecrets{values: map[string]string{secretARN: `{"username":"app","password":"s3cret-from-sm"}`}}
	var region string
	deps := Deps{
		Getenv:  func(string) string { return "" },
		Secrets: func(_ context.Context, r string) (SecretsGetter, error) { region = r; return sec, nil },
	}
	tg, err := Resolve(context.Background(), Config{OutputsFile: path, DNSNames: []string{"extra.example."}}, deps)
	if err != nil {
		t.Fatal(err)
	}
	if tg.Addr() != "valkey-dr-prod-abc123.serverless.usw2.cache.amazonaws.com:6379" || tg.ReaderPort != 6380 {
		t.Fatalf("endpoint = %s reader %d", tg.Addr(), tg.ReaderPort)
	}
	if got := strings.Join(tg.DNSNames, ","); got != "extra.example,session.us-west-2.internal.example,session.internal.example" {
		t.Fatalf("dns names = %s", got)
	}
	if tg.Auth.Mode != contract.AuthPassword || tg.Auth.User != "app" || tg.Auth.Password.Reveal() != "s3cret-from-sm" ||
		tg.Auth.PasswordSource != "secret "+secretARN || region != "us-west-2" {
		t.Fatalf("auth = %+v (region %q)", tg.Auth, region)
	}
	if tg.TLS == nil || tg.ServerName() != tg.Host || tg.Source.Stack != "ValkeyDr-prod-us-west-2-dr" {
		t.Fatalf("tls/source = %v %+v", tg.TLS, tg.Source)
	}
	if tg.Timeout != DefaultTimeout || tg.Sessions != DefaultSessions {
		t.Fatalf("defaults = %v %d", tg.Timeout, tg.Sessions)
	}

	t.Run("explicit flags win over the outputs file", func(t *testing.T) {
		pf := filepath.Join(t.TempDir(), "pw")
		if err := os.WriteFile(pf, []byte("from-file\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		tg, err := Resolve(context.Background(), Config{OutputsFile: path, Endpoint: "localhost:7000", User: "ops",
			PasswordFile: pf, TLSServerName: "other.example"}, deps)
		if err != nil {
			t.Fatal(err)
		}
		if tg.Addr() != "localhost:7000" || tg.ReaderPort != 0 || tg.Auth.User != "ops" ||
			tg.Auth.Password.Reveal() != "from-file" || tg.ServerName() != "other.example" {
			t.Fatalf("target = %s reader %d auth %+v sni %s", tg.Addr(), tg.ReaderPort, tg.Auth, tg.ServerName())
		}
	})
	t.Run("iam mode takes cache name, user id and region from the outputs", func(t *testing.T) {
		var credRegion string
		deps := deps
		deps.AWSCredentials = func(_ context.Context, r string) (aws.CredentialsProvider, error) {
			credRegion = r
			return credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""), nil
		}
		tg, err := Resolve(context.Background(), Config{OutputsFile: path, IAM: true}, deps)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := tg.Auth.Token()
		if err != nil || !strings.HasPrefix(tok, "valkey-dr-prod/?") || credRegion != "us-west-2" || tg.Auth.User != "app" {
			t.Fatalf("token %q err %v region %q user %q", tok, err, credRegion, tg.Auth.User)
		}
	})
}

func TestResolveExplicit(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	tests := map[string]struct {
		cfg        Config
		env        map[string]string
		wantedAddr string
		wantedUser string
		wantedMode contract.AuthMode
	}{
		"a bare host gets port 6379":                {cfg: Config{Endpoint: "cache.example"}, wantedAddr: "cache.example:6379", wantedMode: contract.AuthNone},
		"an IPv6 literal in brackets":               {cfg: Config{Endpoint: "[::1]:7000"}, wantedAddr: "[::1]:7000", wantedMode: contract.AuthNone},
		"VALKEY_PASSWORD without --user is default": {cfg: Config{Endpoint: "h"}, env: map[string]string{PasswordEnv: "p"}, wantedAddr: "h:6379", wantedUser: "default", wantedMode: contract.AuthPassword},
		"VALKEY_PASSWORD with --user":               {cfg: Config{Endpoint: "h", User: "app"}, env: map[string]string{PasswordEnv: "p"}, wantedAddr: "h:6379", wantedUser: "app", wantedMode: contract.AuthPassword},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tg, err := Resolve(context.Background(), tc.cfg, Deps{Getenv: func(k string) string { return tc.env[k] }})
			if err != nil {
				t.Fatal(err)
			}
			if tg.Addr() != tc.wantedAddr || tg.Auth.User != tc.wantedUser || tg.Auth.Mode != tc.wantedMode {
				t.Fatalf("got %s %q %s", tg.Addr(), tg.Auth.User, tg.Auth.Mode)
			}
		})
	}
}

func TestSecretNeverPrints(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	s := NewSecret("hunter2")
	a := Auth{Mode: contract.AuthPassword, User: "u", Password: s}
	b, _ := json.Marshal(a)
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %q %s", a, a, a, s, s), string(b)} {
		if strings.Contains(out, "hunter2") {
			t.Fatalf("secret printed: %s", out)
		}
	}
	if s.Reveal() != "hunter2" {
		t.Fatal("Reveal lost the value")
	}
}

// sparse makes a file of size bytes that takes no disk space: an oversized flag file.
func sparse(t *testing.T, dir, name string, size int64) string {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	return p
}
