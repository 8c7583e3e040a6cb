package contract

// The contract between the health canary Lambda (validate/canary) and the construct that
// deploys it (constructs/canary): the environment variables the function reads, and the
// CloudWatch namespace, dimension and metric names it publishes. Pure Go, so the Lambda never
// links the CDK and the construct never links the validator.

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Environment variables of the canary function. None holds a secret: the password is read at
// run time from Secrets Manager (EnvSecretArn), an IAM token is signed at run time.
const (
	// EnvEndpoint is the cache endpoint host; EnvPort its read/write port.
	EnvEndpoint = "CANARY_ENDPOINT"
	EnvPort     = "CANARY_PORT"
	// EnvReaderPort is the read-from-replica port ("" skips the reader check).
	EnvReaderPort = "CANARY_READER_PORT"
	// EnvCacheName is the serverless cache name: the metric dimension and the IAM signing host.
	EnvCacheName = "CANARY_CACHE_NAME"
	// EnvAuthMode is password, iam or none (the stack's auth mode).
	EnvAuthMode = "CANARY_AUTH_MODE"
	// EnvUser is the user name (password mode) or the user id (iam mode).
	EnvUser = "CANARY_USER"
	// EnvSecretArn is the Secrets Manager secret with the password (password mode).
	EnvSecretArn = "CANARY_SECRET_ARN"
	// EnvNamespace overrides the metric namespace (CanaryNamespace).
	EnvNamespace = "CANARY_NAMESPACE"
	// EnvTimeout bounds the checks (a Go duration; default CanaryTimeout).
	EnvTimeout = "CANARY_TIMEOUT"
	// EnvCAFile and EnvTLSServerName exist for tests against a local CA; unset in AWS, where
	// the serverless certificate chains to the Amazon roots of the runtime's CA bundle.
	EnvCAFile        = "CANARY_CA_FILE"
	EnvTLSServerName = "CANARY_TLS_SERVER_NAME"
	// EnvRegion is set by the Lambda runtime.
	EnvRegion = "AWS_REGION"
)

// What the canary publishes: one data point of each metric per run, dimension CacheName.
const (
	// CanaryNamespace is the custom CloudWatch namespace of the canary's metrics.
	CanaryNamespace = "ValkeyDr/Canary"
	// CanaryDimension is the metric dimension; its value is the serverless cache name.
	CanaryDimension = "CacheName"
	// MetricSuccess is 1 when every check of the PRIMARY path passed (a warn passes), else 0:
	// what the PRIMARY record's Route 53 health check reads. Unit None.
	MetricSuccess = "Success"
	// MetricReaderSuccess is 1 when every check of the read-port path passed, else 0; absent
	// when the canary has no reader port. Its own alarm; never in the failover path.
	MetricReaderSuccess = "ReaderSuccess"
	// MetricLatency is the wall time of the whole check run in milliseconds.
	MetricLatency = "Latency"
	// MetricCommandLatency is SET NX + GET round trip of the set-get check in milliseconds
	// (absent when that check did not pass).
	MetricCommandLatency = "CommandLatency"
)

// Defaults.
const (
	// CanaryTimeout bounds the checks; the function's own timeout is longer (cleanup, publish).
	CanaryTimeout = 20 * time.Second
	// CanarySessions is the number of synthetic sessions per run: the lifecycle is proven, the cache
	// is not loaded.
	CanarySessions = 4
)

// CanaryConfig is the canary's configuration, read from the environment.
type CanaryConfig struct {
	Endpoint      string
	Port          int
	ReaderPort    int
	CacheName     string
	AuthMode      string
	User          string
	SecretArn     string
	Region        string
	Namespace     string
	Timeout       time.Duration
	CAFile        string
	TLSServerName string
}

// CanaryConfigFromEnv reads and checks the configuration; the error names every problem.
func CanaryConfigFromEnv(getenv func(string) string) (CanaryConfig, error) {
	c := CanaryConfig{
		Endpoint: getenv(EnvEndpoint), CacheName: getenv(EnvCacheName), AuthMode: getenv(EnvAuthMode),
		User: getenv(EnvUser), SecretArn: getenv(EnvSecretArn), Region: getenv(EnvRegion),
		Namespace: getenv(EnvNamespace), CAFile: getenv(EnvCAFile), TLSServerName: getenv(EnvTLSServerName),
		Timeout: CanaryTimeout,
	}
	if c.Namespace == "" {
		c.Namespace = CanaryNamespace
	}
	var problems []string
	port := func(name string, required bool) int {
		v := getenv(name)
		if v == "" {
			if required {
				problems = append(problems, name+" is not set")
			}
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			problems = append(problems, fmt.Sprintf("%s %q: want a port 1..65535", name, v))
		}
		return n
	}
	c.Port = port(EnvPort, true)
	c.ReaderPort = port(EnvReaderPort, false)
	if c.Endpoint == "" {
		problems = append(problems, EnvEndpoint+" is not set")
	}
	if c.CacheName == "" {
		problems = append(problems, EnvCacheName+" is not set")
	}
	if v := getenv(EnvTimeout); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			problems = append(problems, fmt.Sprintf("%s %q: want a positive duration such as 20s", EnvTimeout, v))
		}
		c.Timeout = d
	}
	switch c.AuthMode {
	case "password":
		if c.SecretArn == "" {
			problems = append(problems, EnvSecretArn+" is not set (auth mode password)")
		}
	case "iam":
		if c.User == "" || c.Region == "" {
			problems = append(problems, EnvUser+" and "+EnvRegion+" are needed for auth mode iam")
		}
	case "none":
	default:
		problems = append(problems, fmt.Sprintf("%s %q: want password, iam or none", EnvAuthMode, c.AuthMode))
	}
	if len(problems) > 0 {
		return c, fmt.Errorf("canary configuration: %s", strings.Join(problems, "; "))
	}
	return c, nil
}
