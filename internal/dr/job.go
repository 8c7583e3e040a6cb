package dr

// This file is what every real-account procedure does before and after its phases: the
// defaults, cdk.json read once, who and why with the evidence signer, the run started with
// the metadata every procedure records; at the end the bundle sealed and archived.

import (
	"context"
	"path/filepath"
	"strings"
	"time"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/exec"
	"github.com/valkey-dr/valkey-dr/internal/dr/kit"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
)

// job is one real-account procedure: the common inputs with their defaults, cdk.json, the
// outside world, and what the deploying procedures (activate, failback) add.
type job struct {
	Common
	d Deps
	// file is cdk.json, read once (Common.CDKJSON or on the first selection).
	file *drcontext.File
	// validator, approval, local, allowReplacement and kit are the deploy's inputs (activate,
	// failback); zero for route and teardown.
	validator, approval     string
	local, allowReplacement bool
	kit                     *drkit.Kit
	// route is how a switch this run makes is read (noRecheck from the verb's options).
	route routeOptions
	// signer and prov are the evidence's, once who and why were checked.
	signer evidence.Signer
	prov   *evidence.Provenance
}

// prepare fills the defaults of c and d (approval is cdk deploy's policy, "" broadening).
// Nothing touches AWS or the disk; a bad input is a usage error.
func prepare(c Common, approval string, d Deps) (*job, error) {
	d.defaults()
	abs, err := procedure.AbsRepo(c.Repo)
	if err != nil {
		return nil, err
	}
	c.Repo = abs
	if c.EvidenceRoot == "" {
		c.EvidenceRoot = filepath.Join(c.Repo, "evidence")
	}
	if c.WorkRoot == "" {
		c.WorkRoot = filepath.Join(c.Repo, ".build", "dr")
	}
	if approval == "" {
		approval = drexec.ApprovalBroadening
	}
	if err := drexec.CheckApproval(approval); err != nil {
		return nil, procedure.Usagef("%v", err)
	}
	if strings.TrimSpace(c.Environment) == "" {
		return nil, procedure.Usagef("ENV is required (an environment of cdk.json, e.g. ENV=prod): a DR procedure never picks one for you")
	}
	return &job{Common: c, d: d, file: c.CDKJSON, approval: approval}, nil
}

// prepareDeploy is prepare for the procedures that deploy and validate (activate, failback):
// the job carries their deploy inputs and reads a switch it makes as they asked.
func prepareDeploy(c Common, o DeployOptions, d Deps) (*job, error) {
	j, err := prepare(c, o.Approval, d)
	if err != nil {
		return nil, err
	}
	j.validator, j.local, j.allowReplacement = o.Validator, o.Local, o.AllowReplacement
	j.route.noRecheck = o.NoRecheck
	return j, nil
}

// config selects one synth request from cdk.json (read on the first call when drctl did not);
// a problem is a usage error listing every problem, before anything touches AWS.
func (j *job) config(req drcontext.Request) (*drcontext.Config, error) {
	if j.file == nil {
		f, err := drcontext.OpenFile(filepath.Join(j.Repo, drcontext.FileName))
		if err != nil {
			return nil, procedure.Usagef("%v\nNothing was run.", err)
		}
		j.file = f
	}
	req.Environment = j.Environment
	cfg, err := j.file.Select(req)
	if err != nil {
		return nil, procedure.Usagef("%v\nNothing was run.", err)
	}
	return cfg, nil
}

// load is the Config of one stack of the environment.
func (j *job) load(region string, mode drcontext.DrMode, hold bool) (*drcontext.Config, error) {
	return j.config(drcontext.Request{Region: region, DrMode: mode, HoldPrimaryRouting: hold})
}

// loadDR is load of the environment's DR side: the drMode of its drPosture (the runbook's
// stateless unless cdk.json says standby; docs/design.md, "Warm standby").
func (j *job) loadDR(region string) (*drcontext.Config, error) {
	return j.config(drcontext.Request{Region: region, DRPosture: true})
}

// checkEvidence checks who and why and picks the signer (evidence.Prepare), once: a refusal
// is a usage error (exit 2), before anything touches AWS or the disk.
func (j *job) checkEvidence(ctx context.Context, cfg *drcontext.Config) error {
	if j.signer != nil {
		return nil
	}
	key := j.SigningKeyFile
	if key == "" {
		key = filepath.Join(j.WorkRoot, "evidence-ed25519.key")
	}
	signer, prov, err := evidence.Prepare(ctx, cfg, evidence.Setup{Who: j.Who, LocalKeyPath: key, Stdout: j.d.Stdout, Signer: j.d.Signer})
	if err != nil {
		return procedure.Usagef("%v", err)
	}
	j.signer, j.prov = signer, prov
	return nil
}

// start is the prologue every procedure shares once its Configs are selected: who and why
// and the signer (checkEvidence), then the run on the stack of cfg: its evidence bundle and
// work directory, and the metadata every procedure records (environment, region, account,
// stack, cache, run, kit) plus the procedure's own.
func (j *job) start(ctx context.Context, kind, title string, cfg *drcontext.Config, meta map[string]any) (*procedure.Run, error) {
	if err := j.checkEvidence(ctx, cfg); err != nil {
		return nil, err
	}
	s, err := procedure.Start(procedure.Config{Kind: kind, Repo: j.Repo, Name: cfg.EnvironmentName + "-" + cfg.Region, Title: title,
		EvidenceRoot: j.EvidenceRoot, WorkRoot: j.WorkRoot, Runner: j.d.Runner, Stdout: j.d.Stdout, Stderr: j.d.Stderr, Now: j.d.Now,
		Signer: j.signer, Provenance: j.prov})
	if err != nil {
		return nil, err
	}
	for k, v := range map[string]any{"environment": cfg.EnvironmentName, "region": cfg.Region, "account": cfg.Env.Account,
		"stack": cfg.StackID(), "cacheName": cfg.CacheName()} {
		s.Meta[k] = v
	}
	for k, v := range meta {
		s.Meta[k] = v
	}
	run := map[string]any{}
	for k, v := range j.Run {
		run[k] = v
	}
	if len(run) == 0 {
		run["note"] = "no approver/run URL given (not started by a pipeline): the change record carries the approval"
	}
	s.Meta["run"] = run
	if j.kit != nil {
		s.Meta["kit"] = kitMeta(j.kit)
	}
	return s, nil
}

// seal is the epilogue: the bundle sealed whatever runErr is (Finish), then archived. The
// error is the sealing's.
func (j *job) seal(ctx context.Context, s *procedure.Run, cfg *drcontext.Config, runErr error, readme string) (*Result, error) {
	sealed, err := s.Finish(ctx, runErr, readme)
	j.archive(ctx, s, cfg, sealed)
	return &Result{Evidence: sealed, Run: s}, err
}

// ArchiveFunc uploads a sealed bundle; Deps.Archive replaces the real S3 upload in tests.
type ArchiveFunc func(ctx context.Context, region string, r evidence.ArchiveRequest, now time.Time) (*evidence.ArchiveReceipt, error)

// archive uploads the sealed tarball and its signature to the environment's evidence bucket
// and prints the version ids and retention date. A failure does not change the procedure's
// outcome (the DR work is done and the bundle is sealed locally) but is printed as ARCHIVE
// FAILED with the command that retries it: unarchived evidence is a gap to close.
func (j *job) archive(ctx context.Context, s *procedure.Run, cfg *drcontext.Config, sealed *evidence.Sealed) {

	if sealed == nil || j.NoArchive {
		if sealed != nil {
			s.Printf("archive: skipped (--no-archive): archive later with `drctl archive --env %s %s`", cfg.EnvironmentName, sealed.Tarball)
		}
		return
	}
	up := j.d.Archive
	if up == nil {
		up = evidence.UploadToS3
	}
	now := j.d.Now()
	req := evidence.ArchiveRequestFor(cfg, s.Kind, sealed, now)
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	rec, err := up(actx, cfg.EvidenceRegion(), req, now)
	if err != nil {
		s.Printf("\nARCHIVE FAILED: %s\n    the bundle is sealed locally; retry: drctl archive --env %s %s", credentialsHint(err, "s3:PutObject on the evidence bucket"), cfg.EnvironmentName, sealed.Tarball)
		return
	}
	evidence.PrintReceipt(s.Stdout, rec, req.ReceiptPath)
}
