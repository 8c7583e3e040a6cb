// Package valkeyclient is the validator's Valkey client toolkit, shared by the checks, watch and
// probe: explicit client options, error classes (Problem, Classify, Healable), Retry, node
// roles, prefix SCAN and DEL helpers, and the cluster hash slot.
package valkeyclient
