package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/valkeytest"
	"github.com/valkey-dr/valkey-dr/validate/checks"
	"github.com/valkey-dr/valkey-dr/validate/target"
)

// fakeMetrics records PutMetricData calls: CloudWatch is an AWS API, not the Valkey protocol,
// and cannot be reached here.
type fakeMetrics struct {
	calls []*cloudwatch.PutMetricDataInput
	err   error
}

func (f *fakeMetrics) PutMetricData(_ context.Context, in *cloudwatch.PutMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error) {
	f.calls = append(f.calls, in)
	return &cloudwatch.PutMetricDataOutput{}, f.err
}

// fakeSecrets returns the stack's secret format for one ARN.
type fakeSecrets struct {
	arn, value string
	err        error
}

func (f fakeSecrets) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	if *in.SecretId != f.arn {
		return nil, errors.New("ResourceNotFoundException")
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(f.value)}, nil
}

const secretArn = "arn:aws:secretsmanager:us-east-1:111111111111:secret:example-sessions-app-AbCdEf"

type setup struct {
	env     map[string]string
	secrets fakeSecrets
	metrics *fakeMetrics
	log     bytes.Buffer
}

// handler builds a Handler whose configuration is what constructs/canary sets, pointing at the
// serverless-shaped stand-in (one hostname, primary port and read port, plus the test CA).
func newSetup(c *valkeytest.Cluster, password string) *setup {
	n0, n1 := c.Primary, c.Replica
	return &setup{
		env: map[string]string{
			contract.EnvEndpoint: "localhost", contract.EnvPort: strconv.Itoa(n0.Port), contract.EnvReaderPort: strconv.Itoa(n1.Port),
			contract.EnvCacheName: "example-sessions", contract.EnvAuthMode: "password", contract.EnvUser: valkeytest.AppUser,
			contract.EnvSecretArn: secretArn, contract.EnvRegion: "us-east-1",
			contract.EnvCAFile: c.CA.CertFile, contract.EnvTLSServerName: "localhost", contract.EnvTimeout: "5s",
		},
		secrets: fakeSecrets{arn: secretArn, value: `{"username":"app","password":"` + password + `"}`},
		metrics: &fakeMetrics{},
	}
}

func (s *setup) handler() *Handler {
	return &Handler{
		Getenv: func(k string) string { return s.env[k] },
		Secrets: func(context.Context, string) (target.SecretsGetter, error) {
			return s.secrets, nil
		},
		AWSCredentials: func(context.Context, string) (aws.CredentialsProvider, error) {
			return credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""), nil
		},
		Metrics: func(context.Context, string) (MetricsAPI, error) { return s.metrics, nil },
		Log:     &s.log,
	}
}

// datum returns the value of one published metric, checking namespace and dimension.
func datum(t *testing.T, m *fakeMetrics, name string) (float64, bool) {
	t.Helper()
	if len(m.calls) != 1 {
		t.Fatalf("%d PutMetricData calls, want 1", len(m.calls))
	}
	in := m.calls[0]
	if *in.Namespace != contract.CanaryNamespace {
		t.Errorf("namespace %q, want %q", *in.Namespace, contract.CanaryNamespace)
	}
	for _, d := range in.MetricData {
		if len(d.Dimensions) != 1 || *d.Dimensions[0].Name != contract.CanaryDimension || *d.Dimensions[0].Value != "example-sessions" {
			t.Errorf("metric %s dimensions %v, want CacheName=example-sessions", *d.MetricName, d.Dimensions)
		}
		if *d.MetricName == name {
			return *d.Value, true
		}
	}
	return 0, false
}

func TestCanaryOnAHealthyClusterPublishesSuccess(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	c := valkeytest.StartServerless(t, valkeytest.Options{TLS: true})
	s := newSetup(c, valkeytest.AppPassword)
	res, err := s.handler().Invoke(t.Context(), json.RawMessage(`{"source":"aws.events","detail-type":"Scheduled Event"}`))
	if err != nil {
		t.Fatalf("run error: %v\n%s", err, s.log.String())
	}
	if !res.Success || !res.Published || len(res.Failed) != 0 || len(res.Checks) != len(checks.CanaryChecks()) {
		t.Fatalf("result %+v", res)
	}
	if v, ok := datum(t, s.metrics, contract.MetricSuccess); !ok || v != 1 {
		t.Errorf("Success = %v (published %v), want 1", v, ok)
	}
	if v, ok := datum(t, s.metrics, contract.MetricReaderSuccess); !ok || v != 1 {
		t.Errorf("ReaderSuccess = %v (published %v), want 1", v, ok)
	}
	if v, ok := datum(t, s.metrics, contract.MetricLatency); !ok || v <= 0 || v > 5000 {
		t.Errorf("Latency = %v ms", v)
	}
	if v, ok := datum(t, s.metrics, contract.MetricCommandLatency); !ok || v <= 0 {
		t.Errorf("CommandLatency = %v", v)
	}
	if n := valkeytest.DBSize(t, c); n != 0 {
		t.Errorf("DBSIZE after the canary = %d, want 0", n)
	}
	var line map[string]any
	if err := json.Unmarshal(s.log.Bytes(), &line); err != nil || line["level"] != "INFO" || line["success"] != true {
		t.Errorf("log line %q: %v", s.log.String(), err)
	}
	if strings.Contains(s.log.String(), valkeytest.AppPassword) {
		t.Error("the password is in the log")
	}
}

// TestCanaryReadPortFaultNeverFailsThePrimary is finding 2 of issue 9: with only the replica
// (the read port) stalled, still advertised as serverless always advertises 6380, Success
// (what the PRIMARY health check reads) stays 1 and ReaderSuccess says 0.
func TestCanaryReadPortFaultNeverFailsThePrimary(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	c := valkeytest.StartServerless(t, valkeytest.Options{TLS: true})
	s := newSetup(c, valkeytest.AppPassword)
	s.env[contract.EnvTimeout] = "15s"
	c.Replica.Pause()
	defer c.Replica.Resume()
	start := time.Now()
	res, err := s.handler().Run(t.Context())
	t.Logf("log: %s", s.log.String())
	if err != nil {
		t.Fatalf("run error: %v", err)
	}
	if !res.Success || len(res.Failed) != 0 {
		t.Errorf("Success %v, failed %v: a read-port fault failed the primary path", res.Success, res.Failed)
	}
	if v, ok := datum(t, s.metrics, contract.MetricSuccess); !ok || v != 1 {
		t.Errorf("Success = %v (published %v), want 1", v, ok)
	}
	if v, ok := datum(t, s.metrics, contract.MetricReaderSuccess); !ok || v != 0 {
		t.Errorf("ReaderSuccess = %v (published %v), want 0", v, ok)
	}
	if len(res.ReaderFailed) == 0 {
		t.Errorf("no reader-path check failed")
	}
	if took := time.Since(start); took > 25*time.Second {
		t.Errorf("the run took %v", took)
	}
}

func TestCanaryFailures(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	c := valkeytest.StartServerless(t, valkeytest.Options{TLS: true})
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		_, p, _ := net.SplitHostPort(l.Addr().String())
		return p
	}()
	for name, tc := range map[string]struct {
		mutate       func(s *setup)
		wantFailed   string // a failed check
		wantErr      string // the run's error ("" = a successful run that found the cache unhealthy)
		wantSuccess0 bool   // Success 0 published
	}{
		"a wrong password publishes 0": {
			mutate:     func(s *setup) { s.secrets.value = `{"username":"app","password":"wrong-password-0123456789"}` },
			wantFailed: "auth", wantSuccess0: true,
		},
		"a closed port publishes 0": {
			mutate:     func(s *setup) { s.env[contract.EnvPort] = closed; s.env[contract.EnvTimeout] = "1s" },
			wantFailed: "tcp", wantSuccess0: true,
		},
		"an unreadable secret publishes 0 and fails the invocation": {
			mutate:  func(s *setup) { s.secrets.err = errors.New("AccessDeniedException: not authorized to GetSecretValue") },
			wantErr: "AccessDeniedException", wantSuccess0: true,
		},
		"a missing setting publishes 0 and fails the invocation": {
			mutate:  func(s *setup) { delete(s.env, contract.EnvPort) },
			wantErr: "CANARY_PORT is not set", wantSuccess0: true,
		},
		"metrics that cannot be published fail the invocation": {
			mutate:  func(s *setup) { s.metrics.err = errors.New("RequestError: dial tcp: i/o timeout") },
			wantErr: "metrics not published (check the function's subnets reach CloudWatch",
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := newSetup(c, valkeytest.AppPassword)
			tc.mutate(s)
			res, err := s.handler().Run(t.Context())
			t.Logf("log: %s", s.log.String())
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("error %v, want a run that publishes 0", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want it to contain %q", err, tc.wantErr)
			}
			if tc.wantFailed != "" && (len(res.Failed) == 0 || res.Failed[0] != tc.wantFailed) {
				t.Errorf("failed checks %v, want %s first", res.Failed, tc.wantFailed)
			}
			if tc.wantSuccess0 {
				if v, ok := datum(t, s.metrics, contract.MetricSuccess); !ok || v != 0 {
					t.Errorf("Success = %v (published %v), want 0", v, ok)
				}
			}
			for _, p := range []string{valkeytest.AppPassword, "wrong-password-0123456789"} {
				if strings.Contains(s.log.String(), p) {
					t.Error("a password is in the log")
				}
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	for name, tc := range map[string]struct {
		env    map[string]string
		wanted string
	}{
		"nothing set": {env: map[string]string{}, wanted: "CANARY_PORT is not set; CANARY_ENDPOINT is not set; CANARY_CACHE_NAME is not set; CANARY_AUTH_MODE \"\": want password, iam or none"},
		"iam without a user": {env: map[string]string{contract.EnvEndpoint: "h", contract.EnvPort: "6379", contract.EnvCacheName: "c",
			contract.EnvAuthMode: "iam"}, wanted: "CANARY_USER and AWS_REGION are needed"},
		"a bad port and timeout": {env: map[string]string{contract.EnvEndpoint: "h", contract.EnvPort: "x", contract.EnvCacheName: "c",
			contract.EnvAuthMode: "none", contract.EnvTimeout: "soon"}, wanted: `CANARY_PORT "x": want a port 1..65535; CANARY_TIMEOUT "soon"`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := contract.CanaryConfigFromEnv(func(k string) string { return tc.env[k] })
			if err == nil || !strings.Contains(err.Error(), tc.wanted) {
				t.Fatalf("error %v, want %q", err, tc.wanted)
			}
		})
	}
	c, err := contract.CanaryConfigFromEnv(func(k string) string {
		return map[string]string{contract.EnvEndpoint: "c.serverless.use1.cache.amazonaws.com", contract.EnvPort: "6379",
			contract.EnvReaderPort: "6380", contract.EnvCacheName: "c", contract.EnvAuthMode: "iam", contract.EnvUser: "c-app",
			contract.EnvRegion: "us-east-1"}[k]
	})
	if err != nil || c.Namespace != contract.CanaryNamespace || c.Timeout != contract.CanaryTimeout || c.ReaderPort != 6380 {
		t.Errorf("config %+v, %v", c, err)
	}
}
