package contract

// The on-demand validation request of the health canary (issue 11): what `validate
// --via-function` and drctl send with Lambda Invoke, and the record of where the checks ran
// that the canary puts in report.json (options "ranIn"). Declared once: the caller never
// re-declares the canary's request.

// CanaryModeValidate is the request mode of an on-demand validation; an event without a mode
// (the EventBridge schedule) runs the health check.
const CanaryModeValidate = "validate"

// Check selections of a CanaryValidateRequest: the validator's whole table (reader and session
// lifecycle included) or the rows the schedule runs.
const (
	CanaryChecksAll    = "all"
	CanaryChecksCanary = "canary"
)

// OptionRanIn is the report.json options key that says where the checks ran.
const OptionRanIn = "ranIn"

// Where the checks ran (RanIn.Where).
const (
	RanInLambda = "lambda"
	RanInLocal  = "local"
)

// CanaryValidateRequest is the event of an on-demand validation.
type CanaryValidateRequest struct {
	// Mode must be CanaryModeValidate.
	Mode string `json:"mode"`
	// RunID is the caller's run id (lower-case letters and digits, 8-32); "" lets the canary
	// pick one. It is part of every key the run writes.
	RunID string `json:"runId,omitempty"`
	// Checks is CanaryChecksAll (default) or CanaryChecksCanary.
	Checks string `json:"checks,omitempty"`
	// DNSNames are Route 53 names that must resolve to the endpoint (the dns-names check):
	// inside the VPC is where a private hosted zone answers.
	DNSNames []string `json:"dnsNames,omitempty"`
}

// RanIn is where the checks ran: a validation is evidence only if the auditor can tell it ran
// next to the cache (inside the VPC) or from which host.
type RanIn struct {
	// Where is RanInLambda or RanInLocal.
	Where        string `json:"where"`
	FunctionName string `json:"functionName,omitempty"`
	FunctionArn  string `json:"functionArn,omitempty"`
	RequestID    string `json:"requestId,omitempty"`
	LogGroup     string `json:"logGroup,omitempty"`
	LogStream    string `json:"logStream,omitempty"`
	Region       string `json:"region,omitempty"`
	// Host is the machine of a local run.
	Host string `json:"host,omitempty"`
}
