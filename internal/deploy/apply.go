package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/throttle"
	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/google/uuid"
)

// Options tune Apply and Destroy. The zero value is usable.
type Options struct {
	// Parallel bounds concurrent file uploads; default 8.
	Parallel int
	// LockTimeout is how long to wait for a lock held by someone else
	// before failing; zero fails at once.
	LockTimeout time.Duration
	// LockPoll is the interval between lock attempts; default 2s.
	LockPoll time.Duration
	// ForceLock takes over a lock held by someone else.
	ForceLock bool
	// EndpointTimeout bounds the wait for a serving endpoint to become
	// ready; default 20m.
	EndpointTimeout time.Duration
	// Progress receives one line per step; nil discards them.
	Progress io.Writer
	// Now is the clock; default time.Now.
	Now func() time.Time
	// User is the deploying identity written into the lock and given
	// ownership of resources; default the bundle's current user.
	User string
	// NewID returns lock ids and state lineages; default random UUIDs.
	NewID func() string
	// Refresh reads every deployed resource first (PlanResult.Refresh) and
	// puts back the ones changed or deleted in the workspace.
	Refresh bool
}

func (o Options) withDefaults(b *bundle.Bundle) Options {
	if o.Parallel <= 0 {
		o.Parallel = 8
	}
	if o.LockPoll <= 0 {
		o.LockPoll = 2 * time.Second
	}
	if o.EndpointTimeout <= 0 {
		o.EndpointTimeout = 20 * time.Minute
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.User == "" {
		o.User = b.CurrentUser.UserName
	}
	if o.NewID == nil {
		o.NewID = func() string { return uuid.NewString() }
	}
	return o
}

// Result is what Apply did.
type Result struct {
	// Plan is the plan that was applied.
	Plan *PlanResult
	// Changed is true when anything was uploaded, deleted or changed.
	Changed bool
	// JobIDs are the job ids by resource key.
	JobIDs map[string]int64
	// JobURLs are <host>/jobs/<id> by resource key.
	JobURLs map[string]string
	// Endpoints are the serving endpoint names by resource key.
	Endpoints map[string]string
	// Uploaded and Deleted count files.
	Uploaded, Deleted int
	// ArtifactsUploaded counts the built files uploaded.
	ArtifactsUploaded int
}

// deployer holds what one Apply or Destroy works with.
type deployer struct {
	w    *databricks.WorkspaceClient
	fs   workspaceFS
	b    *bundle.Bundle
	opts Options
	st   *remoteState
	lock *locker

	// mu guards st.resources while jobs are applied in parallel, and
	// serialises writes of resources.json and progress lines.
	mu sync.Mutex
	// outMu serialises progress lines.
	outMu sync.Mutex
	// renamed maps the old full names of the Unity Catalog objects this
	// deploy renamed to the new ones (guarded by mu): what they hold moved
	// with them.
	renamed map[string]string
}

func newDeployer(w *databricks.WorkspaceClient, fs workspaceFS, b *bundle.Bundle, opts Options) (*deployer, error) {
	if b.Workspace.StatePath == "" || b.Workspace.FilePath == "" || b.Workspace.RootPath == "" {
		return nil, fmt.Errorf("bundle %q target %q has no workspace root, file or state path; set workspace.root_path", b.Name, b.Target)
	}
	opts = opts.withDefaults(b)
	if opts.User == "" {
		return nil, errors.New("the deploying user is unknown; look up the current user before deploying")
	}
	return &deployer{w: w, fs: fs, b: b, opts: opts, lock: &locker{
		fs: fs, statePath: b.Workspace.StatePath, id: opts.NewID(), user: opts.User, now: opts.Now, sleep: throttle.Sleep,
	}}, nil
}

func (d *deployer) progress(format string, args ...any) {
	d.outMu.Lock()
	defer d.outMu.Unlock()
	fmt.Fprintf(d.opts.Progress, format+"\n", args...)
}

// withLock runs fn holding the deploy lock and releases it afterwards,
// whatever fn returned and even when ctx was cancelled. during runs while
// the lock is read back (see locker.acquire).
func (d *deployer) withLock(ctx context.Context, during, fn func(context.Context) error) (err error) {
	defer func() {
		if rerr := d.lock.release(ctx); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}()
	if err := d.lock.acquire(ctx, d.opts.ForceLock, d.opts.LockTimeout, d.opts.LockPoll, during); err != nil {
		return err
	}
	return fn(ctx)
}

// applyFiles is Apply over files already hashed; see Apply.
//
// It first reads the state without the lock (probe). When that proves the
// bundle is deployed as it is, it stops there: a no-change deploy takes one
// round trip. Otherwise it takes the lock, reads the state again under it
// and plans and applies from what it read then.
func applyFiles(ctx context.Context, w *databricks.WorkspaceClient, b *bundle.Bundle, files []localFile, opts Options) (*Result, error) {
	d, err := newDeployer(w, sdkFS{w}, b, opts)
	if err != nil {
		return nil, err
	}
	return d.apply(ctx, files, d.startProbe(ctx))
}

// apply is applyFiles with the probe's reads already sent.
func (d *deployer) apply(ctx context.Context, files []localFile, reads probeReads) (*Result, error) {
	b := d.b
	res := &Result{JobIDs: map[string]int64{}, JobURLs: map[string]string{}, Endpoints: map[string]string{}}
	probed, ok, err := d.probe(ctx, files, reads)
	if err != nil {
		return res, err
	}
	if ok {
		res.Plan = probed
		d.st = probed.st
		return d.finish(res, nil)
	}
	var st *remoteState
	readUnderLock := func(ctx context.Context) error {
		var err error
		st, err = readState(ctx, d.fs, b.Workspace.StatePath)
		return err
	}
	err = d.withLock(ctx, readUnderLock, func(ctx context.Context) error {
		if probed != nil && st.sameFiles(probed.st) {
			// Nobody wrote the state since the probe: its plan stands.
			return d.applyLocked(ctx, probed.st, files, res, probed)
		}
		return d.applyLocked(ctx, st, files, res, nil)
	})
	return d.finish(res, err)
}

// applyLocked plans against st, read under the lock, and applies the plan.
// planned, when not nil, is the plan already made against the same state.
func (d *deployer) applyLocked(ctx context.Context, st *remoteState, files []localFile, res *Result, planned *PlanResult) error {
	b := d.b
	d.st = st
	if st.resources.Lineage == "" {
		st.resources.Lineage = d.opts.NewID()
	}
	if err := d.adoptPending(ctx); err != nil {
		return err
	}
	foreign, err := adoptForeignFiles(ctx, d.w, b.Workspace.FilePath, st, d.progress)
	if err != nil {
		return err
	}
	plan := planned
	if plan == nil {
		if plan, err = computePlan(b, files, st, d.opts.User); err != nil {
			return err
		}
	}
	if d.opts.Refresh {
		if err := plan.Refresh(ctx, d.w); err != nil {
			return err
		}
		plan.recreateMissing()
	}
	res.Plan = plan
	res.Changed = plan.Changed()
	switch {
	case res.Changed:
		metadataWritten, err := d.syncAndApply(ctx, plan, res)
		if err != nil {
			return err
		}
		if !metadataWritten {
			if err := d.writeMetadata(ctx); err != nil {
				return err
			}
		}
		return d.lastWrite(ctx)
	case foreign:
		// Nothing to upload, but the snapshot is the CLI's: record
		// brickci's so that the next deploy needs no export.
		if err := d.syncFiles(ctx, plan, res); err != nil {
			return err
		}
		return d.lastWrite(ctx)
	case !st.finished():
		// Nothing changes, but deployment.json does not record this
		// resources.json (written by an earlier brickci, or a deploy
		// stopped after its last resource change): record it, so that
		// the next no-change deploy needs no lock. It finishes a deploy,
		// so it counts as one.
		d.st.deployment.Seq++
		return d.lastWrite(ctx)
	}
	return nil
}

// lastWrite writes deployment.json, the last write of a deploy, while the
// lock is read for its release.
func (d *deployer) lastWrite(ctx context.Context) error {
	return d.lock.readWhile(ctx, func(ctx context.Context) error {
		return writeDeployment(ctx, d.fs, d.b.Workspace.StatePath, d.st)
	})
}

// finish fills in the resource ids a deploy knows and reports its outcome.
func (d *deployer) finish(res *Result, err error) (*Result, error) {
	b := d.b
	if d.st != nil {
		for k := range b.Jobs {
			if e, ok := d.st.resources.State[addr("jobs", k)]; ok && e.ID != "" {
				id, _ := strconv.ParseInt(e.ID, 10, 64)
				res.JobIDs[k] = id
				res.JobURLs[k] = strings.TrimRight(d.w.Config.Host, "/") + "/jobs/" + e.ID
			}
		}
		for k := range b.ServingEndpoints {
			if e, ok := d.st.resources.State[addr("model_serving_endpoints", k)]; ok {
				res.Endpoints[k] = e.ID
			}
		}
	}
	if err != nil {
		return res, err
	}
	if !res.Changed {
		d.progress("no changes: bundle %s is up to date on target %s", b.Name, b.Target)
		return res, nil
	}
	d.progress("deployed bundle %s to target %s", b.Name, b.Target)
	return res, nil
}

// probeReads waits for the reads startProbe sent and returns the state, the
// error reading it and the error reading deploy.lock (nil when a lock was
// read). It returns a nil state and error when the probe was skipped.
type probeReads func() (st *remoteState, stErr, lockErr error)

// startProbe sends the probe's reads of resources.json, deployment.json
// and deploy.lock, all at once, unless --force-lock or --refresh skip the
// probe.
func (d *deployer) startProbe(ctx context.Context) probeReads {
	if d.opts.ForceLock || d.opts.Refresh {
		return func() (*remoteState, error, error) { return nil, nil, nil }
	}
	var (
		wg      sync.WaitGroup
		st      *remoteState
		stErr   error
		lockErr error
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		_, lockErr = d.lock.read(ctx)
	}()
	go func() {
		defer wg.Done()
		st, stErr = readState(ctx, d.fs, d.b.Workspace.StatePath)
	}()
	return func() (*remoteState, error, error) {
		wg.Wait()
		return st, stErr, lockErr
	}
}

// probe waits for the reads of startProbe (resources.json, deployment.json
// and deploy.lock, read at once without taking the lock) and reports
// whether they prove the bundle is deployed as it is, with the plan that
// says so; a plan with changes comes back too, for the deploy to reuse.
// They prove it when
//
//   - no deploy holds the lock,
//   - deployment.json records the lineage and serial of the resources.json
//     read (st.finished): the state is what a finished deploy left, never a
//     deploy's partial state, whatever the order in which the three reads
//     were served, and
//   - the plan against that state changes nothing and there is nothing to
//     adopt (no pending create, no snapshot written by the CLI).
//
// Every writer of the state holds the lock and writes deployment.json
// last, and every write of resources.json raises its serial, so a state
// read half-way through another deploy has a serial deployment.json does
// not record, and a deploy running when the lock was read is seen. A
// deploy that starts after the reads is ordered after this one, as if this
// one had taken and released the lock first. docs/reliability.md states
// the guarantee. A probe that proves nothing costs the deploy one round
// trip; --force-lock and --refresh skip it.
func (d *deployer) probe(ctx context.Context, files []localFile, reads probeReads) (*PlanResult, bool, error) {
	st, stErr, lockErr := reads()
	switch {
	case st == nil && stErr == nil:
		return nil, false, nil // skipped
	case ctx.Err() != nil:
		return nil, false, ctx.Err()
	case stErr != nil:
		// Let the deploy under the lock read again and report it.
		return nil, false, nil
	case !isNotFound(lockErr), !st.exists, !st.finished(), len(st.resources.Pending) > 0, foreignSnapshot(st.deployment):
		return nil, false, nil
	}
	plan, err := computePlan(d.b, files, st, d.opts.User)
	if err != nil {
		return nil, false, err
	}
	// A plan with changes is handed on: if the state read under the lock
	// is the same, the deploy applies it without planning again.
	return plan, !plan.Changed(), nil
}

// syncAndApply uploads files while it applies jobs and serving endpoints:
// neither needs the other (a job names its notebooks by path, which the
// workspace checks only when the job runs), so a first deploy's job,
// endpoint and permission calls overlap its uploads. When the plan creates
// and deletes no job, metadata.json (which records job ids) is known
// already and is written at the same time too; metadataWritten says so.
// The first error stops everything; deployment.json is still written only
// after all of it has finished.
func (d *deployer) syncAndApply(ctx context.Context, plan *PlanResult, res *Result) (metadataWritten bool, err error) {
	var metadata []byte
	if jobIDsKept(plan) {
		if metadata, err = d.metadataBytes(); err != nil {
			return false, err
		}
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	side := func(fn func() error) <-chan error {
		done := make(chan error, 1)
		go func() {
			err := fn()
			if err != nil {
				cancel()
			}
			done <- err
		}()
		return done
	}
	filesDone := side(func() error {
		if err := d.syncFiles(ctx, plan, res); err != nil {
			return err
		}
		// Jobs name built artifacts by path, as they name notebooks: the
		// workspace resolves them only when a job runs.
		return d.syncArtifacts(ctx, plan, res)
	})
	metadataDone := side(func() error {
		if metadata == nil {
			return nil
		}
		return d.writeMetadataBytes(ctx, metadata)
	})
	err = d.applyResources(ctx, plan)
	if err != nil {
		cancel()
	}
	var errs []error
	for _, e := range []error{<-filesDone, <-metadataDone, err} {
		// A part stopped only because another failed says nothing new.
		if e == nil || (parent.Err() == nil && errors.Is(e, context.Canceled)) {
			continue
		}
		errs = append(errs, e)
	}
	return metadata != nil, errors.Join(errs...)
}

// jobIDsKept reports whether applying plan leaves the job ids as they are.
func jobIDsKept(plan *PlanResult) bool {
	for _, r := range plan.Resources {
		if r.Kind == KindJob && (r.Action == Create || r.Action == Delete) {
			return false
		}
	}
	return true
}

// syncFiles uploads added and changed files in parallel, deletes removed
// ones and prepares the new snapshot. deployment.json is written last, once
// everything else is applied, so that an interrupted deploy is redone.
func (d *deployer) syncFiles(ctx context.Context, plan *PlanResult, res *Result) error {
	byRel := make(map[string]localFile, len(plan.files))
	for _, f := range plan.files {
		byRel[f.Rel] = f
	}
	upload := make([]localFile, 0, len(plan.Files.Added)+len(plan.Files.Changed))
	for _, rel := range append(append([]string{}, plan.Files.Added...), plan.Files.Changed...) {
		upload = append(upload, byRel[rel])
	}
	if err := d.mkdirs(ctx, upload); err != nil {
		return err
	}
	if err := d.uploadAll(ctx, upload); err != nil {
		return err
	}
	res.Uploaded = len(upload)
	old := map[string]StateFile{}
	for _, f := range d.st.deployment.Files {
		old[f.LocalPath] = f
	}
	for _, rel := range plan.Files.Deleted {
		remote := remoteOf(d.b.Workspace.FilePath, old[rel])
		if err := d.fs.remove(ctx, remote, false); err != nil {
			return fmt.Errorf("failed to delete %q: %w", remote, err)
		}
		res.Deleted++
	}
	if len(upload) > 0 || res.Deleted > 0 {
		d.progress("files: uploaded %d, deleted %d, unchanged %d", len(upload), res.Deleted, plan.Files.Unchanged)
	}
	ds := &d.st.deployment
	ds.Version = deploymentVersion
	ds.Seq++
	ds.CLIVersion = writerVersion()
	ds.Timestamp = d.opts.Now().UTC()
	if ds.ID == "" {
		ds.ID = d.opts.NewID()
	}
	ds.Files = make([]StateFile, 0, len(plan.files))
	for _, f := range plan.files {
		ds.Files = append(ds.Files, StateFile{LocalPath: f.Rel, IsNotebook: f.Notebook, Remote: f.Remote, SHA256: f.Hash})
	}
	return nil
}

// mkdirs creates the parent directories of uploads that are not known to
// exist, one request per deepest directory (mkdirs creates the parents).
func (d *deployer) mkdirs(ctx context.Context, upload []localFile) error {
	known := map[string]bool{}
	for _, f := range d.st.deployment.Files {
		for dir := path.Dir(remoteOf(d.b.Workspace.FilePath, f)); dir != "/" && dir != "."; dir = path.Dir(dir) {
			known[dir] = true
		}
	}
	need := map[string]bool{}
	for _, f := range upload {
		if dir := path.Dir(f.Remote); !known[dir] {
			need[dir] = true
		}
	}
	sorted := slices.Sorted(maps.Keys(need))
	dirs := sorted[:0:0]
	for i, dir := range sorted {
		// Sorted order puts a/b/c right after a/b; skip a/b when a deeper
		// directory below it is created anyway.
		if i+1 < len(sorted) && strings.HasPrefix(sorted[i+1], dir+"/") {
			continue
		}
		dirs = append(dirs, dir)
	}
	// mkdirs is idempotent and creates missing parents, so directories
	// sharing a parent can be created concurrently.
	return forEachParallel(ctx, d.opts.Parallel, dirs, func(ctx context.Context, dir string) error {
		if err := d.fs.mkdirs(ctx, dir); err != nil {
			return fmt.Errorf("failed to create directory %q: %w", dir, err)
		}
		return nil
	})
}

// uploadAll uploads files with at most Options.Parallel in flight and stops
// at the first error.
func (d *deployer) uploadAll(ctx context.Context, upload []localFile) error {
	return forEachParallel(ctx, d.opts.Parallel, upload, d.upload)
}

// forEachParallel calls fn for every item with at most limit calls in
// flight. It stops starting new calls at the first error, which it returns
// once the calls in flight have finished.
func forEachParallel[T any](ctx context.Context, limit int, items []T, fn func(context.Context, T) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, max(limit, 1))
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for _, item := range items {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func(item T) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, item); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
					cancel()
				}
				mu.Unlock()
			}
		}(item)
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

func (d *deployer) upload(ctx context.Context, f localFile) error {
	data, err := os.ReadFile(f.Abs)
	if err != nil {
		return fmt.Errorf("failed to read %q: %w", f.Abs, err)
	}
	err = d.fs.write(ctx, f.Remote, data, f.Lang, true)
	if isNotFound(err) {
		// The parent was deleted behind our back since the last deploy.
		if err := d.fs.mkdirs(ctx, path.Dir(f.Remote)); err != nil {
			return fmt.Errorf("failed to create directory %q: %w", path.Dir(f.Remote), err)
		}
		err = d.fs.write(ctx, f.Remote, data, f.Lang, true)
	}
	if err != nil {
		return fmt.Errorf("failed to upload %q to %q: %w", f.Rel, f.Remote, err)
	}
	return nil
}

func (d *deployer) saveResources(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := writeResources(ctx, d.fs, d.b.Workspace.StatePath, &d.st.resources); err != nil {
		return err
	}
	d.st.resourcesExist = true
	return nil
}

// adoptPending finds resources whose create was sent by an interrupted
// deploy but whose id never reached state, by the name they were created
// with (a job also by this target's deployment stamp), and records them.
func (d *deployer) adoptPending(ctx context.Context) error {
	orphanScan := d.recoverOverwritten()
	if len(d.st.resources.Pending) == 0 && !orphanScan {
		return nil
	}
	var unresolved []string
	for _, a := range d.st.resources.Pending {
		if e, ok := d.st.resources.State[a]; ok && e.ID != "" {
			continue
		}
		t, _, ok := splitAddr(a)
		if !ok {
			continue
		}
		// The bundle's name for the key, or, when the key is gone from
		// the bundle, the name it was created with: adopted, the resource
		// is then deleted by the plan like any the bundle dropped.
		name := d.desiredName(a)
		if name == "" {
			name = d.st.resources.PendingNames[a]
		}
		if name == "" {
			if _, ok := t.(orphanType); ok {
				// Recorded by an older brickci without names: look for
				// every resource of this deployment that state does not know.
				orphanScan = true
				continue
			}
			// Nothing else to find it by: keep asking until its key is
			// back or it is deleted by hand.
			unresolved = append(unresolved, a)
			d.progress("warning: %s was being created by an interrupted deploy and its name is not recorded; delete it by hand if it exists", a)
			continue
		}
		id, err := t.find(ctx, d, name)
		if err != nil {
			return fmt.Errorf("failed to look for %s %q created by an interrupted deploy: %w", words(t), name, err)
		}
		if id != "" {
			d.st.resources.State[a] = ResourceEntry{ID: id, State: map[string]any{}}
			d.progress("adopted %s created by an interrupted deploy", t.label(name, id))
		}
	}
	if orphanScan {
		for _, t := range types {
			if o, ok := t.(orphanType); ok {
				if err := d.adoptOrphans(ctx, t, o); err != nil {
					return err
				}
			}
		}
	}
	d.st.resources.Pending = unresolved
	d.st.resources.PendingNames = nil
	return d.saveResources(ctx)
}

// An orphanType can list every resource of the deployment in the
// workspace, by the stamp a deploy gives it (a job's
// deployment.metadata_file_path).
type orphanType interface {
	orphans(ctx context.Context, d *deployer) (names map[string]string, err error)
}

// recoverOverwritten detects a resources.json older than the one the last
// finished deploy recorded in deployment.json: a write of a deploy whose
// lock was taken over (--force-lock) that reached the workspace after the
// newer deploy's writes. The serial then continues from the recorded one,
// so it only rises, and every bundle resource state does not know is
// looked for by name before anything is created, and every resource of
// the deployment state does not know is found (the result: true), so that
// neither a duplicate nor an orphan comes of the lost writes.
func (d *deployer) recoverOverwritten() bool {
	r, rs := d.st.deployment.Resources, &d.st.resources
	if r == nil || !d.st.resourcesExist || r.Lineage != rs.Lineage || rs.Serial >= r.Serial {
		return false
	}
	d.progress("warning: %s (serial %d) is older than the state the last deploy recorded (serial %d): a deploy whose lock was taken over wrote it late; looking up the bundle's resources by name instead of creating them again",
		resourcesFile, rs.Serial, r.Serial)
	rs.Serial = r.Serial
	for _, a := range byType(slices.Collect(maps.Keys(resourcesOf(d.b)))) {
		if e, ok := rs.State[a]; !ok || e.ID == "" {
			rs.Pending = append(rs.Pending, a)
		}
	}
	return true
}

// adoptOrphans records every resource of type t stamped with this
// deployment that state does not know, under a key the bundle does not
// use, so that the plan deletes it: such a resource can only have been
// created by a deploy interrupted before it recorded the id.
func (d *deployer) adoptOrphans(ctx context.Context, t resourceType, o orphanType) error {
	known := map[string]bool{}
	for a, e := range d.st.resources.State {
		if strings.HasPrefix(a, "resources."+t.group()+".") {
			known[e.ID] = true
		}
	}
	found, err := o.orphans(ctx, d)
	if err != nil {
		return fmt.Errorf("failed to look for %ss created by an interrupted deploy: %w", words(t), err)
	}
	for _, id := range slices.Sorted(maps.Keys(found)) {
		if known[id] {
			continue
		}
		d.st.resources.State[addr(t.group(), "brickci_orphan_"+id)] = ResourceEntry{ID: id, State: map[string]any{}}
		d.progress("found %s left by an interrupted deploy; it is deleted", t.label(found[id], id))
	}
	return nil
}

// desiredName is the name the bundle gives the resource at a, or "" when
// the bundle has no such key.
func (d *deployer) desiredName(a string) string {
	t, _, ok := splitAddr(a)
	r := resourcesOf(d.b)[a]
	if !ok || r == nil {
		return ""
	}
	return t.name(r.Config)
}

// applyResources creates, updates and replaces the bundle's resources
// level by level in dependency order, each level in parallel (bounded by
// Options.Parallel) with state written after it, then deletes the
// resources the bundle dropped, those that use others first, recording
// state after each.
func (d *deployer) applyResources(ctx context.Context, plan *PlanResult) error {
	refreshed := plan.driftedAddrs()
	changes := map[string]ResourceChange{}
	var creates []string
	for _, r := range plan.Resources {
		a := addrOf(r)
		if r.Action == Delete {
			continue
		}
		changes[a] = r
		if r.Action == Create {
			creates = append(creates, a)
		}
	}
	if len(creates) > 0 {
		// Record the intent first so that a create whose answer is lost is
		// adopted by the next deploy rather than duplicated, with the name
		// to find it by even if the bundle drops its key meanwhile.
		d.st.resources.Pending = creates
		d.st.resources.PendingNames = map[string]string{}
		for _, a := range creates {
			if name := d.desiredName(a); name != "" {
				d.st.resources.PendingNames[a] = name
			}
		}
		if err := d.saveResources(ctx); err != nil {
			return err
		}
	}
	ids := map[string]string{}
	for _, a := range plan.graph.order {
		if e, ok := d.st.resources.State[a]; ok && e.ID != "" {
			ids[a] = e.ID
		}
	}
	// Resources that need no resource still to be made go together: each
	// level is applied in parallel, and state is written once per level.
	// A create whose id is not yet written is in Pending, so an
	// interruption is adopted by the next deploy rather than duplicated.
	for _, level := range plan.graph.levels() {
		var dirty atomic.Bool
		err := forEachParallel(ctx, d.opts.Parallel, level, func(ctx context.Context, a string) error {
			c, err := d.applyOne(ctx, a, plan.graph.res[a], changes[a], ids, refreshed[a])
			if c {
				dirty.Store(true)
			}
			return err
		})
		if dirty.Load() {
			if serr := d.saveResources(ctx); serr != nil && err == nil {
				err = serr
			}
		}
		if err != nil {
			return err
		}
	}
	var deletes []string
	for _, r := range plan.Resources {
		if r.Action == Delete {
			deletes = append(deletes, addrOf(r))
		}
	}
	for _, a := range byType(deletes) {
		if err := d.deleteOne(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// deleteOne deletes the resource recorded at a and forgets it.
func (d *deployer) deleteOne(ctx context.Context, a string) error {
	t, key, _ := splitAddr(a)
	id := d.st.resources.State[a].ID
	if err := t.remove(ctx, d, id); err != nil && !isNotFound(err) {
		return fmt.Errorf("failed to delete %s: %w", t.label(key, id), err)
	}
	delete(d.st.resources.State, a)
	delete(d.st.resources.State, permAddr(a))
	delete(d.st.resources.State, grantAddr(a))
	if err := d.saveResources(ctx); err != nil {
		return err
	}
	d.progress("deleted %s", t.label(key, id))
	return nil
}

// applyOne creates, updates or replaces one resource and sets its
// permissions and grants, recording the result in state. dirty is true
// when state moved and is not yet written.
func (d *deployer) applyOne(ctx context.Context, a string, r *bundle.Resource, rc ResourceChange, ids map[string]string, refreshed bool) (dirty bool, err error) {
	t, key, _ := splitAddr(a)
	what := words(t)
	d.mu.Lock()
	req, norm, err := t.desired(d.b, r, ids)
	entry := d.st.resources.State[a]
	if _, ok := t.(caseless); ok && entry.ID != "" {
		// Renaming its schema moved it.
		entry.ID = movedWith(d.renamed, entry.ID)
	}
	d.mu.Unlock()
	if err != nil {
		return false, err
	}
	record := func(e ResourceEntry, save bool) error {
		d.mu.Lock()
		d.st.resources.State[a] = e
		d.st.resources.donePending(a)
		d.mu.Unlock()
		if save {
			return d.saveResources(ctx)
		}
		return nil
	}
	// A resource whose settings use an id made in this deploy is updated
	// even if planned as unchanged.
	var drift []FieldChange
	diffValues("", entry.State, norm, &drift)
	var remote any
	switch {
	case rc.Action == Create || entry.ID == "" || rc.Replace || t.replaces(entry.ID, entry.State, norm):
		if entry.ID != "" {
			remove := t.remove
			if rr, ok := t.(replaceRemover); ok {
				remove = rr.removeToReplace
			}
			if err := remove(ctx, d, entry.ID); err != nil && !isNotFound(err) {
				return false, fmt.Errorf("failed to delete %s to create it again: %w", t.label(key, entry.ID), err)
			}
			// Until the new one's id is recorded it is a pending create,
			// so that a deploy interrupted after the create adopts it
			// rather than failing on its name or duplicating it.
			d.mu.Lock()
			delete(d.st.resources.State, a)
			delete(d.st.resources.State, permAddr(a))
			delete(d.st.resources.State, grantAddr(a))
			if !slices.Contains(d.st.resources.Pending, a) {
				d.st.resources.Pending = append(d.st.resources.Pending, a)
			}
			if name := d.desiredName(a); name != "" {
				if d.st.resources.PendingNames == nil {
					d.st.resources.PendingNames = map[string]string{}
				}
				d.st.resources.PendingNames[a] = name
			}
			d.mu.Unlock()
			if err := d.saveResources(ctx); err != nil {
				return false, err
			}
			d.progress("deleted %s: a field that cannot be updated changed, so it is created again", t.label(key, entry.ID))
		}
		id, rem, err := t.create(ctx, d, req)
		if err != nil {
			return false, fmt.Errorf("failed to create %s %q: %w", what, key, err)
		}
		remote = rem
		entry = ResourceEntry{ID: id, State: norm, DependsOn: dependsOn(r.Config)}
		if wt, ok := t.(waitType); ok {
			if err := record(ResourceEntry{ID: id, State: map[string]any{}}, true); err != nil {
				return false, err
			}
			d.progress("created %s; waiting until it is ready", t.label(key, id))
			if remote, err = wt.wait(ctx, d, id); err != nil {
				return false, err
			}
			if err := record(entry, true); err != nil {
				return false, err
			}
		} else {
			if err := record(entry, false); err != nil {
				return false, err
			}
			dirty = true
			d.progress("created %s", t.label(key, id))
		}
	case len(drift) > 0 || refreshed || artifactChanged(rc):
		newID, rem, err := t.update(ctx, d, entry.ID, entry.State, norm, req)
		if isNotFound(err) {
			return false, fmt.Errorf("failed to update %s %q: %s %s recorded in state no longer exists; deploy with --refresh to create it again, or delete it from %s/%s: %w", what, key, what, entry.ID, d.b.Workspace.StatePath, resourcesFile, err)
		}
		if err != nil {
			return false, fmt.Errorf("failed to update %s %q (id %s): %w", what, key, entry.ID, err)
		}
		remote = rem
		if _, ok := t.(caseless); ok && newID != "" && !sameName(newID, entry.ID) {
			d.mu.Lock()
			if d.renamed == nil {
				d.renamed = map[string]string{}
			}
			d.renamed[entry.ID] = newID
			d.mu.Unlock()
		}
		if newID != "" {
			entry.ID = newID // renamed; its grants and permissions follow it
		}
		entry.State, entry.DependsOn = norm, dependsOn(r.Config)
		if err := record(entry, false); err != nil {
			return false, err
		}
		dirty = true
		d.progress("updated %s", t.label(key, entry.ID))
	}
	d.mu.Lock()
	ids[a] = entry.ID
	d.mu.Unlock()
	if at, ok := t.(aclType); ok {
		if err := d.applyACL(ctx, a, at, entry.ID, remote, r.Permissions); err != nil {
			return dirty, fmt.Errorf("failed to set permissions of %s %q: %w", what, key, err)
		}
	}
	if gt, ok := t.(grantType); ok {
		if err := d.applyGrants(ctx, a, gt.securable(), entry.ID, r.Grants); err != nil {
			return dirty, fmt.Errorf("failed to set grants of %s %q: %w", what, key, err)
		}
	}
	return dirty, nil
}

// A replaceRemover deletes a resource that is replaced in its own way: an
// experiment frees its name first.
type replaceRemover interface {
	removeToReplace(ctx context.Context, d *deployer, id string) error
}

// applyACL sets a resource's access control list when it differs from the
// one recorded in state. A resource whose permissions were removed from the
// bundle is reset to the deployer's ownership alone.
func (d *deployer) applyACL(ctx context.Context, a string, at aclType, id string, remote any, perms []bundle.Permission) error {
	pa := permAddr(a)
	d.mu.Lock()
	old, had := d.st.resources.State[pa]
	d.mu.Unlock()
	desired := acl(perms, d.opts.User, at.ownerLevel())
	if desired == nil && !had {
		return nil
	}
	objectID := at.objectID(id, old.ID, remote)
	if objectID == "" {
		var err error
		if objectID, err = at.lookupObjectID(ctx, d, id); err != nil {
			return err
		}
	}
	removed := desired == nil
	if removed {
		desired = []iam.AccessControlRequest{deployerEntry(d.opts.User, at.ownerLevel())}
	}
	want := aclState(objectID, desired)
	norm, err := normalise(want)
	if err != nil {
		return err
	}
	if had && fmt.Sprint(old.State[permsKey]) == fmt.Sprint(norm[permsKey]) && old.State["object_id"] == objectID {
		return nil
	}
	if _, err := d.w.Permissions.Set(ctx, iam.SetObjectPermissions{RequestObjectType: at.objectType(), RequestObjectId: path.Base(objectID), AccessControlList: desired}); err != nil {
		return err
	}
	d.mu.Lock()
	if removed {
		delete(d.st.resources.State, pa)
	} else {
		d.st.resources.State[pa] = ResourceEntry{ID: objectID, State: norm, DependsOn: permDependsOn(a)}
	}
	d.mu.Unlock()
	return d.saveResources(ctx)
}

func removeString(l []string, s string) []string {
	out := l[:0]
	for _, x := range l {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}
