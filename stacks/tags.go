package stacks

import (
	"maps"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// tagAll tags every resource of stack with tags, in key order so that templates are stable.
func tagAll(stack awscdk.Stack, tags map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		awscdk.Tags_Of(stack).Add(jsii.String(k), jsii.String(tags[k]), nil)
	}
}
