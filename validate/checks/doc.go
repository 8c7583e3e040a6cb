// Package checks is the validator's ordered table of checks (runbook step 4 and more), the
// runner that gives each its deadline and fills the shared result fields, and the error
// classification that decides what is retried and what to tell the operator to fix.
package checks
