package target

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/validate/iamauth"
)

// Defaults for Config fields left zero.
const (
	// DefaultTimeout bounds a whole run.
	DefaultTimeout = 30 * time.Second
	// DefaultSessions is the number of synthetic sessions.
	DefaultSessions = 16
	// MaxSessions caps --sessions: the check proves behaviour, it is not a load test.
	MaxSessions = 1000
	// PasswordEnv is the environment variable holding the password.
	PasswordEnv = "VALKEY_PASSWORD"
)

// Config is the raw input, as given on the command line.
type Config struct {
	OutputsFile       string
	Stack             string
	Endpoint          string
	ReaderPort        int
	DNSNames          []string
	User              string
	PasswordFile      string
	PasswordSecretARN string
	IAM               bool
	CacheName         string
	Region            string
	CAFile            string
	TLSServerName     string
	InsecurePlaintext bool
	Timeout           time.Duration
	Sessions          int
}

// Deps are the outside world Resolve reads; nil fields are errors when needed.
type Deps struct {
	// Getenv reads the environment (os.Getenv in the binary).
	Getenv func(string) string
	// Secrets returns a Secrets Manager client for a region.
	Secrets SecretsFactory
	// AWSCredentials returns the credentials provider for IAM tokens.
	AWSCredentials func(ctx context.Context, region string) (aws.CredentialsProvider, error)
}

// ConfigError is an input or configuration problem: the binary exits 2.
type ConfigError struct{ Err error }

// Error returns the message.
func (e *ConfigError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *ConfigError) Unwrap() error { return e.Err }

// ExitCode is 2: usage or configuration error.
func (e *ConfigError) ExitCode() int { return 2 }

func configErr(format string, args ...any) error {
	return &ConfigError{Err: fmt.Errorf(format, args...)}
}

// Resolve validates cfg, merges the outputs file (explicit flags win) and returns the Target.
func Resolve(ctx context.Context, cfg Config, deps Deps) (*Target, error) {
	if deps.Getenv == nil {
		deps.Getenv = os.Getenv
	}
	t := &Target{Timeout: cfg.Timeout, Sessions: cfg.Sessions, InsecurePlaintext: cfg.InsecurePlaintext}
	if t.Timeout == 0 {
		t.Timeout = DefaultTimeout
	}
	if t.Timeout < 0 {
		return nil, configErr("--timeout %v: want a positive duration such as 30s", cfg.Timeout)
	}
	if t.Sessions == 0 {
		t.Sessions = DefaultSessions
	}
	if t.Sessions < 1 || t.Sessions > MaxSessions {
		return nil, configErr("--sessions %d: want 1..%d", cfg.Sessions, MaxSessions)
	}
	if cfg.ReaderPort < 0 || cfg.ReaderPort > 65535 {
		return nil, configErr("--reader-port %d: want 1..65535", cfg.ReaderPort)
	}
	if cfg.Stack != "" && cfg.OutputsFile == "" {
		return nil, configErr("--stack %q: needs --outputs", cfg.Stack)
	}
	if cfg.OutputsFile == "" && cfg.Endpoint == "" {
		return nil, configErr("no target: give --outputs cdk-outputs.json (from `cdk deploy --outputs-file`) or --endpoint host[:port]")
	}

	var out map[string]string
	if cfg.OutputsFile != "" {
		name, o, err := LoadOutputs(cfg.OutputsFile, cfg.Stack)
		if err != nil {
			return nil, &ConfigError{Err: err}
		}
		out = o
		t.Source.OutputsFile = cfg.OutputsFile
		t.Source.Stack = name
		t.Source.Outputs = publicOutputs(out)
	}

	// Endpoint: --endpoint wins over the outputs file.
	endpoint := cfg.Endpoint
	if endpoint == "" {
		addr := out[contract.KeyEndpointAddress]
		if addr == "" {
			return nil, configErr("--outputs %q: stack has no %s output: is it a valkey-dr stack? (or give --endpoint)",
				cfg.OutputsFile, contract.KeyEndpointAddress)
		}
		endpoint = addr
		if p := out[contract.KeyEndpointPort]; p != "" {
			endpoint = net.JoinHostPort(addr, p)
		}
	}
	host, port, err := SplitEndpoint(endpoint)
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	t.Host, t.Port = host, port

	t.ReaderPort = cfg.ReaderPort
	if t.ReaderPort == 0 && cfg.Endpoint == "" && out[contract.KeyReaderPort] != "" {
		p, err := strconv.Atoi(out[contract.KeyReaderPort])
		if err != nil || p < 1 || p > 65535 {
			return nil, configErr("--outputs: %s %q: want a port number 1..65535", contract.KeyReaderPort, out[contract.KeyReaderPort])
		}
		t.ReaderPort = p
	}

	seen := map[string]bool{}
	for _, n := range append(append([]string{}, cfg.DNSNames...), out[contract.KeyRegionalDNSName], out[contract.KeyServiceDNSName]) {
		n = strings.TrimSuffix(strings.TrimSpace(n), ".")
		if n == "" || seen[strings.ToLower(n)] {
			continue
		}
		seen[strings.ToLower(n)] = true
		t.DNSNames = append(t.DNSNames, n)
	}

	// TLS.
	if cfg.InsecurePlaintext {
		if cfg.CAFile != "" || cfg.TLSServerName != "" {
			return nil, configErr("--insecure-plaintext: cannot be combined with --ca-file or --tls-server-name")
		}
	} else {
		var caPEM []byte
		if cfg.CAFile != "" {
			caPEM, err = ReadFlagFile("ca-file", cfg.CAFile, MaxCAFileBytes)
			if err != nil {
				return nil, &ConfigError{Err: err}
			}
		}
		serverName := cfg.TLSServerName
		if serverName == "" {
			serverName = host
		}
		t.TLS, err = newTLSConfig(serverName, caPEM)
		if err != nil {
			return nil, configErr("--ca-file %q: %w: want a PEM bundle of CA certificates", cfg.CAFile, err)
		}
		t.CAFile = cfg.CAFile
	}

	if err := resolveAuth(ctx, cfg, deps, out, t); err != nil {
		return nil, err
	}
	return t, nil
}

// resolveAuth picks the auth mode and fetches the password. Explicit flags and the environment
// win over the outputs file; two explicit sources are an error, not a silent choice.
func resolveAuth(ctx context.Context, cfg Config, deps Deps, out map[string]string, t *Target) error {
	envPass := deps.Getenv(PasswordEnv)
	var explicit []string
	if envPass != "" {
		explicit = append(explicit, PasswordEnv)
	}
	if cfg.PasswordFile != "" {
		explicit = append(explicit, "--password-file")
	}
	if cfg.PasswordSecretARN != "" {
		explicit = append(explicit, "--password-secret-arn")
	}
	if cfg.IAM {
		explicit = append(explicit, "--iam")
	}
	if len(explicit) > 1 {
		return configErr("auth: %s given together: choose one", strings.Join(explicit, " and "))
	}
	if !cfg.IAM && (cfg.CacheName != "") {
		return configErr("--cache-name %q: only used with --iam", cfg.CacheName)
	}

	mode := contract.AuthMode(out[contract.KeyAuthMode])
	switch {
	case cfg.IAM:
		mode = contract.AuthIAM
	case len(explicit) == 1:
		mode = contract.AuthPassword
	case mode == "":
		mode = contract.AuthNone
		if cfg.User != "" {
			return configErr("--user %q: no password: set %s, or give --password-file or --password-secret-arn, or use --iam",
				cfg.User, PasswordEnv)
		}
	}
	t.Auth.Mode = mode
	t.Auth.User = cfg.User

	switch mode {
	case contract.AuthNone:
		if cfg.User != "" {
			return configErr("--user %q: the stack's %s is none: give a password source or --iam", cfg.User, contract.KeyAuthMode)
		}
		return nil
	case contract.AuthPassword:
		if t.Auth.User == "" {
			t.Auth.User = out[contract.KeyUserName]
		}
		switch {
		case envPass != "":
			t.Auth.Password, t.Auth.PasswordSource = NewSecret(envPass), "env "+PasswordEnv
		case cfg.PasswordFile != "":
			b, err := ReadFlagFile("password-file", cfg.PasswordFile, MaxPasswordFileBytes)
			if err != nil {
				return &ConfigError{Err: err}
			}
			p := strings.TrimRight(string(b), "\r\n")
			if p == "" {
				return configErr("--password-file %q: the file is empty", cfg.PasswordFile)
			}
			t.Auth.Password, t.Auth.PasswordSource = NewSecret(p), "file "+cfg.PasswordFile
		default:
			arn := cfg.PasswordSecretARN
			if arn == "" {
				arn = out[contract.KeySecretArn]
			}
			if arn == "" {
				return configErr("auth: password needed (stack %s is password) but none given: set %s, or give --password-file or --password-secret-arn",
					contract.KeyAuthMode, PasswordEnv)
			}
			if deps.Secrets == nil {
				return configErr("--password-secret-arn: no Secrets Manager client available")
			}
			region := regionFromARN(arn)
			if region == "" {
				region = firstNonEmpty(cfg.Region, out[contract.KeyRegion])
			}
			api, err := deps.Secrets(ctx, region)
			if err != nil {
				return configErr("--password-secret-arn: AWS config: %w", err)
			}
			user, pass, err := FetchPassword(ctx, api, arn)
			if err != nil {
				return &ConfigError{Err: fmt.Errorf("--password-secret-arn: %w", err)}
			}
			if t.Auth.User == "" {
				t.Auth.User = user
			}
			t.Auth.Password, t.Auth.PasswordSource = pass, "secret "+arn
		}
		if t.Auth.User == "" {
			// AUTH <password> alone authenticates the default user.
			t.Auth.User = "default"
		}
		return nil
	case contract.AuthIAM:
		if t.Auth.User == "" {
			t.Auth.User = firstNonEmpty(out[contract.KeyUserID], out[contract.KeyUserName])
		}
		t.Auth.CacheName = firstNonEmpty(cfg.CacheName, out[contract.KeyCacheName])
		t.Auth.Region = firstNonEmpty(cfg.Region, out[contract.KeyRegion])
		s := &iamauth.Signer{CacheName: t.Auth.CacheName, UserID: t.Auth.User, Region: t.Auth.Region}
		if s.CacheName == "" || s.UserID == "" || s.Region == "" {
			s.Credentials = aws.AnonymousCredentials{}
			return &ConfigError{Err: s.Validate()}
		}
		if deps.AWSCredentials == nil {
			return configErr("--iam: no AWS credentials available")
		}
		creds, err := deps.AWSCredentials(ctx, s.Region)
		if err != nil {
			return configErr("--iam: AWS config: %w", err)
		}
		s.Credentials = creds
		t.Auth.Token = func() (string, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return s.Token(ctx)
		}
		t.Auth.PasswordSource = "iam token (SigV4, 900 s, fresh per connection)"
		return nil
	default:
		return configErr("--outputs: %s %q: want one of password, iam, none", contract.KeyAuthMode, mode)
	}
}

// SplitEndpoint parses host[:port] (IPv6 in brackets); the port defaults to 6379. Anything
// else is a usage error naming the value: a typo must never reach DNS and come back as
// "unreachable" (which the runbook maps to activating DR).
func SplitEndpoint(s string) (string, int, error) {
	const accepted = "want host[:port]: one DNS name or IP address, optionally :port 1..65535 (IPv6 in brackets), e.g. my-cache-abc123.serverless.usw2.cache.amazonaws.com:6379"
	if strings.Contains(s, "://") {
		return "", 0, fmt.Errorf("--endpoint %q: a URL scheme is not accepted; %s", s, accepted)
	}
	host, portStr, err := net.SplitHostPort(s)
	if err != nil {
		// No port: a name, an IPv4 address, or a bare IPv6 address.
		host, portStr = s, strconv.Itoa(contract.PortPrimary)
		if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
			host = s[1 : len(s)-1]
		}
		if strings.Contains(host, ":") && net.ParseIP(host) == nil {
			return "", 0, fmt.Errorf("--endpoint %q: not one host and port (too many colons); %s", s, accepted)
		}
	}
	if host == "" || !validHost(host) {
		return "", 0, fmt.Errorf("--endpoint %q: %q is not a DNS name or IP address; %s", s, host, accepted)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65535 {
		return "", 0, fmt.Errorf("--endpoint %q: port %q: want 1..65535", s, portStr)
	}
	return host, port, nil
}

// validHost accepts an IP literal or a DNS name: labels of letters, digits, '-' and '_' that
// neither start nor end with '-' (so "-host", "a,b" and "h:1" are refused).
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, l := range strings.Split(h, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// publicOutputs keeps the outputs that are safe to put in evidence (all of them: the stack
// never outputs a secret value, only the secret's ARN).
func publicOutputs(out map[string]string) map[string]string {
	m := make(map[string]string, len(out))
	for k, v := range out {
		m[k] = v
	}
	return m
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
