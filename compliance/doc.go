// Package compliance holds our synth-time rules (VDR-000 ...) for what cdk-nag cannot see:
// ElastiCache Serverless, the cache's security group, Route 53 TTLs and record ownership,
// termination protection, whether CloudWatch can publish to the alarm topics (notify.go), and
// static stability of the stack deployed on the night (staticstability.go). Package gate puts them, the cdk-nag packs and the suppressions on the
// app; a violation fails `cdk synth`.
//
// The rules are plain Go over the synthesized template (what CloudFormation will receive, after
// tags, overrides and escape hatches) and need no jsii, so the same functions run in three
// places: inside `cdk synth` as a CDK validation plugin (package gate), in `make check` over
// cdk.out (where the cross-stack rule sees the primary and DR stacks of an environment
// together), and in unit tests that take milliseconds.
//
// Why a Go validation plugin rather than Guard rules or Aspects (docs/design.md left it
// open; both were tried):
//   - Guard rules through CDK's CloudFormationValidatePlugin do run offline (the Guard
//     evaluator ships as WebAssembly inside aws-cdk-lib), but a Guard rule sees one template
//     only: not termination protection (it lives in the cloud assembly manifest), not whether
//     the environment is production, not the other stack of the environment. Its report has
//     no separate fix line, and testing a rule needs a full synth through jsii (there is no
//     cfn-guard binary here).
//   - Aspects see the construct tree, but reading L1 properties back through jsii is awkward
//     (struct-typed properties come back as untyped values, tokens unresolved), they run
//     before later escape hatches, and their errors surface as "Annotation::error-annotation"
//     without a rule id or fix of their own.
//   - A plugin (awscdk.IPolicyValidationPlugin, implemented in Go) gets the final templates and
//     the app; CDK prints each violation in its validation report with the rule's description,
//     the construct path CDK infers from the logical id, and a "Suggested fix" line, writes it
//     to cdk.out/validation-report.json, and fails the synth.
package compliance
