package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/buildinfo"
	"github.com/valkey-dr/valkey-dr/validate/target"
)

// options are the parsed command-line flags of `run`.
type options struct {
	cfg         target.Config
	evidenceDir string
	// viaFunction runs the checks inside the VPC through the canary (viafunction.go).
	viaFunction string
	format      string
	quiet       bool
	version     bool
	help        bool
}

// Flag value types with error messages that say what is accepted.

// flagString is the String of a flag value type: flag.Value's contract lets the flag package
// call String on the type's zero value, whose pointer is nil.
func flagString[T any](v *T, format func(T) string) string {
	if v == nil {
		return ""
	}
	return format(*v)
}

type stringsFlag struct{ v *[]string }

func (f stringsFlag) String() string {
	return flagString(f.v, func(v []string) string { return strings.Join(v, ",") })
}
func (f stringsFlag) Set(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("want a DNS name")
	}
	*f.v = append(*f.v, s)
	return nil
}

type intFlag struct {
	v        *int
	min, max int
}

func (f intFlag) String() string { return flagString(f.v, strconv.Itoa) }
func (f intFlag) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < f.min || n > f.max {
		return fmt.Errorf("want a whole number %d..%d", f.min, f.max)
	}
	*f.v = n
	return nil
}

// durationFlag is a positive duration; with off (optDurationFlag), 0 or "off" too.
type durationFlag struct {
	v   *time.Duration
	off bool
}

func (f durationFlag) String() string { return flagString(f.v, time.Duration.String) }
func (f durationFlag) Set(s string) error {
	if f.off && (s == "off" || s == "0") {
		*f.v = 0
		return nil
	}
	d, err := time.ParseDuration(s)
	switch {
	case f.off && (err != nil || d < 0):
		return errors.New("want a duration such as 5ms, or 0 (off)")
	case !f.off && (err != nil || d <= 0):
		return errors.New("want a positive duration such as 30s or 2m")
	}
	*f.v = d
	return nil
}

type choiceFlag struct {
	v       *string
	choices []string
}

func (f choiceFlag) String() string { return flagString(f.v, func(v string) string { return v }) }
func (f choiceFlag) Set(s string) error {
	for _, c := range f.choices {
		if s == c {
			*f.v = s
			return nil
		}
	}
	return fmt.Errorf("want one of %s", strings.Join(f.choices, ", "))
}

// passwordInArgv explains why there is no --password, without echoing its value (the flag
// package would quote it in its error).
func passwordInArgv(args []string) string {
	for _, a := range args {
		if a == "--" {
			return ""
		}
		name := strings.TrimLeft(a, "-")
		if i := strings.IndexByte(name, '='); i >= 0 {
			name = name[:i]
		}
		if strings.HasPrefix(a, "-") && (name == "password" || name == "pass" || name == "a") {
			return fmt.Sprintf("--%s: not accepted: a password in argv leaks into shell history and ps; use %s, --password-file or --password-secret-arn",
				name, target.PasswordEnv)
		}
	}
	return ""
}

// newFlagSet defines the flags of `run` into o.
func newFlagSet(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet(toolName, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c := &o.cfg
	c.Timeout = target.DefaultTimeout
	c.Sessions = target.DefaultSessions
	addTargetFlags(fs, c)
	fs.Var(intFlag{&c.ReaderPort, 1, 65535}, "reader-port", "read-from-replica `port` (ElastiCache Serverless: 6380)")
	fs.Var(stringsFlag{&c.DNSNames}, "dns-name", "a DNS `name` that must resolve (CNAME chain) to the endpoint; repeatable")
	fs.Var(durationFlag{v: &c.Timeout}, "timeout", "bound on the whole run (`duration`, default 30s)")
	fs.Var(intFlag{&c.Sessions, 1, target.MaxSessions}, "sessions", "number of synthetic sessions (`n`, default 16)")
	addOutputFlags(fs, o, "write report.json, junit.xml and summary.md into `dir`", "output `format`: text or json (json prints report.json to stdout)")
	fs.BoolVar(&o.quiet, "quiet", false, "print only the summary (text) ")
	fs.StringVar(&o.viaFunction, "via-function", "", "run the checks inside the cache's VPC: invoke the stack's health canary `name|arn` (output "+contract.KeyCanaryFunctionName+") and write its report")
	return fs
}

// addTargetFlags defines the flags that say where the cache is and how to reach and
// authenticate to it. run, watch and probe share them (and target.Resolve behind them).
func addTargetFlags(fs *flag.FlagSet, c *target.Config) {
	fs.StringVar(&c.OutputsFile, "outputs", "", "`cdk-outputs.json` written by cdk deploy --outputs-file")
	fs.StringVar(&c.Stack, "stack", "", "stack `name` in the outputs file (needed when it holds several)")
	fs.StringVar(&c.Endpoint, "endpoint", "", "cache endpoint `host[:port]` (port 6379 by default); wins over --outputs")
	fs.StringVar(&c.User, "user", "", "ACL user `name` (user id with --iam)")
	fs.StringVar(&c.PasswordFile, "password-file", "", "read the password from `file` (or set "+target.PasswordEnv+")")
	fs.StringVar(&c.PasswordSecretARN, "password-secret-arn", "", "read the password from Secrets Manager secret `arn` (JSON username/password)")
	fs.BoolVar(&c.IAM, "iam", false, "authenticate with an IAM token (needs --cache-name, --region, --user or --outputs)")
	fs.StringVar(&c.CacheName, "cache-name", "", "ElastiCache Serverless cache `name` for --iam")
	fs.StringVar(&c.Region, "region", "", "AWS `region` for --iam and Secrets Manager")
	fs.StringVar(&c.CAFile, "ca-file", "", "extra CA bundle `file` (PEM) trusted besides the system roots")
	fs.StringVar(&c.TLSServerName, "tls-server-name", "", "`name` to verify the certificate against (default: the endpoint host)")
	fs.BoolVar(&c.InsecurePlaintext, "insecure-plaintext", false, "connect WITHOUT TLS (test servers only; shown in output and evidence)")
}

// addOutputFlags defines --evidence-dir, --format, --version and --help.
func addOutputFlags(fs *flag.FlagSet, o *options, evidenceUsage, formatUsage string) {
	o.format = "text"
	fs.StringVar(&o.evidenceDir, "evidence-dir", "", evidenceUsage)
	fs.Var(choiceFlag{&o.format, []string{"text", "json"}}, "format", formatUsage)
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.BoolVar(&o.help, "help", false, "print this help and exit")
	fs.BoolVar(&o.help, "h", false, "print this help and exit")
}

// runUsage heads the --help of `run`.
var runUsage = `Usage: go run ./validate [run] [flags]

Proves a valkey-dr ElastiCache Serverless cache works (DR runbook step 4): dns, tcp, tls, auth,
cluster-mode, ping, set-get, session-lifecycle, reconnect, reader, dns-names, cleanup.

  go run ./validate --outputs cdk-outputs.json --stack ValkeyDr-prod-us-west-2-dr --evidence-dir evidence/

Exit status: 0 every check passed, 1 a check failed, 2 usage or configuration error.
Password: environment variable ` + target.PasswordEnv + `, --password-file or --password-secret-arn (never a flag value).
Other commands: watch (section 7: traffic and SLA verdict), probe (section 5: healthy, degraded
or unreachable); see go run ./validate watch --help.
`

// usageText is the --help output: the header, then every flag.
func usageText(fs *flag.FlagSet, header string) string {
	var b strings.Builder
	b.WriteString(header)
	b.WriteString("\nFlags:\n")
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "h" {
			return
		}
		name, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(&b, "  --%s %s\n    \t%s\n", f.Name, name, usage)
	})
	return b.String()
}

// parseArgs does what every subcommand does with its argv: refuse a password flag (without
// echoing it), parse, answer --help and --version, reject positional arguments. done means the
// command is over and exits with code.
func parseArgs(fs *flag.FlagSet, o *options, args []string, header string, stdout, stderr io.Writer) (code int, done bool) {
	if msg := passwordInArgv(args); msg != "" {
		fmt.Fprintf(stderr, "%s: %s\n", toolName, msg)
		return contract.ExitUsage, true
	}
	if err := fs.Parse(args); err != nil {
		if err.Error() == "flag: help requested" {
			fmt.Fprint(stdout, usageText(fs, header))
			return contract.ExitOK, true
		}
		fmt.Fprintf(stderr, "%s: %s\n", toolName, flagError(err))
		return contract.ExitUsage, true
	}
	if o.help {
		fmt.Fprint(stdout, usageText(fs, header))
		return contract.ExitOK, true
	}
	if o.version {
		fmt.Fprintf(stdout, "%s %s\n", toolName, buildinfo.Read(version))
		return contract.ExitOK, true
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q: every input is a flag (see --help)\n", toolName, fs.Arg(0))
		return contract.ExitUsage, true
	}
	return 0, false
}

// flagError turns the flag package's messages into one line naming the flag and value.
func flagError(err error) string {
	msg := err.Error()
	msg = strings.Replace(msg, "for flag -", "for flag --", 1)
	msg = strings.Replace(msg, "flag provided but not defined: -", "unknown flag: --", 1)
	msg = strings.Replace(msg, "flag needs an argument: -", "flag needs a value: --", 1)
	return msg + " (see --help)"
}
